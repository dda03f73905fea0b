import Testing

@testable import PNNTransport

@Suite(.serialized) struct PtyTests {
    static func payload(_ n: Int, seed: UInt64) -> [UInt8] {
        var x = seed
        return (0..<n).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: x >> 33)
        }
    }

    /// Index of the first byte where `a` and `b` differ (or the shorter length), nil when equal.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        if a == b { return nil }
        return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    }

    /// Send `data` from `src` to `dst` concurrently; return the bytes read and MB/s.
    static func transfer(_ data: [UInt8], from src: some Transport, to dst: some Transport) async throws
        -> ([UInt8], Double)
    {
        let clock = ContinuousClock()
        let start = clock.now
        async let sent: Void = src.write(data)
        // Generous idle time: the writer is a child task on Swift's cooperative pool, which has
        // one thread per core (2 here); in the full suite CPU-bound tests (calibrations, optics,
        // digital ceilings) can hold both threads for tens of seconds before it first runs.
        let got = await readAll(dst, count: data.count, idle: .seconds(180))
        if got.count < data.count {
            await src.close()  // unblock the writer instead of waiting on it for ever
            await dst.close()
        }
        try? await sent
        let s = (clock.now - start) / .seconds(1)
        return (got, Double(data.count) / 1e6 / s)
    }

    @Test func megabyteBothWays() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
        let up = Self.payload(1 << 20, seed: 1)
        let (got1, rate1) = try await Self.transfer(up, from: serial, to: pty.master)
        // Compare without handing two 1 MiB arrays to #expect: its diff of a mismatch is quadratic.
        #expect(Self.firstDifference(got1, up) == nil, "serial→master: \(got1.count) of \(up.count) bytes")
        let down = Self.payload(1 << 20, seed: 2)
        let (got2, rate2) = try await Self.transfer(down, from: pty.master, to: serial)
        #expect(Self.firstDifference(got2, down) == nil, "master→serial: \(got2.count) of \(down.count) bytes")
        print("pty throughput: serial→master \(rate1) MB/s, master→serial \(rate2) MB/s")
        await serial.close()
        await pty.close()
    }

    @Test func readTimeout() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath)
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: TransportError.timeout(.milliseconds(100))) {
            _ = try await serial.read(maxCount: 16, timeout: .milliseconds(100))
        }
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(100) && elapsed < .seconds(5))
        await serial.close()
        await pty.close()
    }

    @Test func exclusiveSecondOpenIsBusy() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath)
        #expect(throws: TransportError.busy(path: pty.slavePath)) {
            _ = try PosixSerialLink.open(path: pty.slavePath)
        }
        await serial.close()
        // After closing, the port can be opened again.
        let again = try PosixSerialLink.open(path: pty.slavePath)
        await again.close()
        await pty.close()
    }

    @Test func missingPortIsNotFound() {
        #expect(throws: TransportError.notFound(path: "/dev/nonexistent-tty")) {
            _ = try PosixSerialLink.open(path: "/dev/nonexistent-tty")
        }
    }

    @Test func closingMasterClosesSerialSide() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath)
        try await pty.master.write([1, 2, 3])
        #expect(await readAll(serial, count: 3) == [1, 2, 3])
        await pty.close()
        await #expect(throws: TransportError.closed("device unplugged")) {
            _ = try await serial.read(maxCount: 16, timeout: .seconds(1))
        }
        await serial.close()
    }

    @Test func closedLinkRefusesIO() async throws {
        let pty = try PtyPair.open()
        await pty.master.close()
        await #expect(throws: TransportError.closed("closed locally")) { try await pty.master.write([1]) }
        await pty.close()
    }

    /// A read waits its whole timeout without slicing (an idle link costs no CPU), yet a
    /// close from another task ends it at once — on both the termios and the libserialport path.
    @Test func closeEndsALongReadAtOnce() async throws {
        let pty = try PtyPair.open()
        let links: [any Transport] = [
            try PosixSerialLink.open(path: pty.slavePath, exclusive: false),
            try SerialLink.open(path: pty.slavePath, exclusive: false),
            pty.master,
        ]
        for link in links {
            let started = ContinuousClock.now
            async let outcome: TransportError? = {
                do throws(TransportError) {
                    _ = try await link.read(maxCount: 16, timeout: .seconds(60))
                    return nil
                } catch {
                    return error
                }
            }()
            try await Task.sleep(for: .milliseconds(100))
            await link.close()
            let error = await outcome
            #expect(error == .closed("closed locally"), "\(link.description)")
            #expect(ContinuousClock.now - started < .seconds(10), "\(link.description)")
        }
        await pty.close()
    }
}
