import Testing

@testable import PNNTransport

/// Read exactly `count` bytes (or until a timeout), collecting what arrives.
func readAll(_ link: some Transport, count: Int, idle: Duration = .seconds(1)) async -> [UInt8] {
    var out: [UInt8] = []
    while out.count < count {
        do {
            out += try await link.read(maxCount: min(65536, count - out.count), timeout: idle)
        } catch {
            break
        }
    }
    return out
}

@Suite struct MemoryLinkTests {
    @Test func roundTrip() async throws {
        let (a, b) = MemoryLink.pair(seed: 1)
        let msg: [UInt8] = Array(0...255)
        try await a.write(msg)
        #expect(await readAll(b, count: 256) == msg)
        try await b.write([1, 2, 3])
        #expect(try await a.read(maxCount: 2, timeout: .seconds(10)) == [1, 2])
        #expect(try await a.read(maxCount: 10, timeout: .seconds(10)) == [3])
    }

    @Test func dropAll() async throws {
        let (a, b) = MemoryLink.pair(faults: FaultSpec(drop: 1), seed: 2)
        try await a.write(Array(repeating: 7, count: 1000))
        await #expect(throws: TransportError.timeout(.milliseconds(20))) {
            _ = try await b.read(maxCount: 10, timeout: .milliseconds(20))
        }
    }

    @Test func flipAll() async throws {
        let (a, b) = MemoryLink.pair(faults: FaultSpec(flip: 1), seed: 3)
        let msg = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        try await a.write(msg)
        let got = await readAll(b, count: 1000)
        #expect(got.count == 1000)
        #expect(zip(msg, got).allSatisfy { ($0 ^ $1).nonzeroBitCount == 1 })
    }

    @Test func duplicateAll() async throws {
        let (a, b) = MemoryLink.pair(faults: FaultSpec(duplicate: 1), seed: 4)
        try await a.write([1, 2, 3])
        #expect(await readAll(b, count: 6) == [1, 1, 2, 2, 3, 3])
    }

    @Test func zeroProbabilitiesArePerfect() async throws {
        let (a, b) = MemoryLink.pair(faults: try FaultSpec(parsing: "drop=0,flip=0,dup=0,delay-ms=0"), seed: 5)
        let msg = (0..<50_000).map { UInt8(truncatingIfNeeded: $0) }
        try await a.write(msg)
        #expect(await readAll(b, count: msg.count) == msg)
    }

    /// Delivery never happens before the configured delay (an upper bound would only
    /// measure how loaded the test machine is).
    @Test func delay() async throws {
        let (a, b) = MemoryLink.pair(faults: FaultSpec(delay: .milliseconds(300)), seed: 6)
        let clock = ContinuousClock()
        let start = clock.now
        try await a.write([42])
        #expect(try await b.read(maxCount: 1, timeout: .seconds(30)) == [42])
        #expect(clock.now - start >= .milliseconds(300))
    }

    @Test func dropRateStatistics() async throws {
        let (a, b) = MemoryLink.pair(faults: try FaultSpec(parsing: "drop=0.1"), seed: 7)
        try await a.write([UInt8](repeating: 1, count: 100_000))
        let got = await readAll(b, count: 100_000, idle: .seconds(1))
        // Binomial(1e5, 0.9): mean 90 000, sd ≈ 95; allow ±6 sd.
        #expect(abs(got.count - 90_000) < 600)
    }

    @Test func seededRunsAreReproducible() async throws {
        func run() async throws -> [UInt8] {
            let (a, b) = MemoryLink.pair(faults: FaultSpec(drop: 0.2, flip: 0.2, duplicate: 0.2), seed: 99)
            try await a.write(Array(0..<200))
            return await readAll(b, count: 1000, idle: .milliseconds(500))
        }
        #expect(try await run() == run())
    }

    @Test func disconnectClosesBothEnds() async throws {
        let (a, b) = MemoryLink.pair(seed: 8)
        try await a.write([1])
        await b.disconnect()
        let closed = TransportError.closed("device unplugged")
        await #expect(throws: closed) { _ = try await a.read(maxCount: 1, timeout: .milliseconds(50)) }
        await #expect(throws: closed) { _ = try await b.read(maxCount: 1, timeout: .milliseconds(50)) }
        await #expect(throws: closed) { try await a.write([1]) }
        await #expect(throws: closed) { try await b.write([1]) }
        #expect(closed.description == "link closed: device unplugged")
    }

    @Test func faultSpecParsing() throws {
        let f = try FaultSpec(parsing: "drop=1e-3,flip=1e-3,dup=0,delay-ms=2")
        #expect(f == FaultSpec(drop: 1e-3, flip: 1e-3, duplicate: 0, delay: .milliseconds(2)))
        #expect(try FaultSpec(parsing: "") == .none)
        #expect(try FaultSpec(parsing: f.description) == f)
        for bad in ["drop=2", "drop=x", "loss=0.1", "drop", "delay-ms=-1", "drop=0.1,drop=0.2"] {
            #expect(throws: TransportError.self) { try FaultSpec(parsing: bad) }
        }
        // Hostile numbers: never a trap converting to a Duration, always one line.
        for bad in [
            "delay-ms=1e300", "delay-ms=nan", "delay-ms=inf", "delay-ms=-inf", "delay-ms=60001", "drop=nan",
            "flip=-inf", "dup=-0.1", "flip=1e300",
        ] {
            #expect(throws: TransportError.self) { try FaultSpec(parsing: bad) }
        }
        #expect(try FaultSpec(parsing: "delay-ms=60000").delay == .seconds(60))
        #expect(
            throws: TransportError.invalidFaultSpec("delay-ms=1e300 is longer than 60000 ms (one minute)")
        ) { try FaultSpec(parsing: "delay-ms=1e300") }
        do {
            _ = try FaultSpec(parsing: "drop=2")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "invalid fault spec: drop=2 is not a probability between 0 and 1")
        }
    }

    @Test func messages() {
        #expect(TransportError.timeout(.milliseconds(200)).description == "timed out after 200 ms waiting for data")
        #expect(TransportError.notFound(path: "/dev/ttyUSB0").description == "port /dev/ttyUSB0 does not exist")
        #expect(
            TransportError.busy(path: "/dev/ttyUSB0").description
                == "port /dev/ttyUSB0 is busy (opened by another program)")
        #expect(
            TransportError.permissionDenied(path: "/dev/ttyUSB0").description
                == "permission denied on /dev/ttyUSB0: add yourself to the dialout group")
    }
}
