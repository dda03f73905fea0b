import Foundation
import Testing

@testable import PNNTransport

/// The inline path of descriptor links (``DirectTransport``): reads and writes on the
/// caller's thread, and a background readiness wait that leaves inline readers their bytes.
@Suite(.serialized) struct DirectTransportTests {
    /// Runs a blocking inline read on a thread of its own: on the cooperative pool (one thread
    /// per core) it would hold a thread that a CPU-bound test running in parallel may hold the
    /// other of, and the test's own sleep and close could not run until that test ended.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    @Test func inlineWriteAndReadMoveBytesInOrder() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
        let bytes: [UInt8] = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(try pty.master.writeNow(bytes) == bytes.count)
        var got: [UInt8] = []
        while got.count < bytes.count {
            let chunk = try serial.readNow(maxCount: 64, wait: .seconds(2))
            #expect(!chunk.isEmpty, "no bytes within 2 s")
            if chunk.isEmpty { break }
            got += chunk
        }
        #expect(got == bytes)
        #expect(try serial.readNow(maxCount: 64, wait: .zero).isEmpty)
        await serial.close()
        await pty.close()
    }

    @Test func inlineReadWaitsItsTimeThenReturnsNothing() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try serial.readNow(maxCount: 16, wait: .milliseconds(30)).isEmpty)
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(29) && elapsed < .seconds(3), "waited \(elapsed)")
        await serial.close()
        await pty.close()
    }

    @Test func closeWakesAnInlineRead() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
        let clock = ContinuousClock()
        let start = clock.now
        let reader = Task {
            await Self.onOwnThread { () -> TransportError? in
                do throws(TransportError) {
                    _ = try serial.readNow(maxCount: 16, wait: .seconds(20))
                    return nil
                } catch { return error }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        await serial.close()
        let error = await reader.value
        #expect(error == .closed("closed locally"))
        #expect(clock.now - start < .seconds(10))
        await pty.close()
    }

    @Test func readinessWaitSeesBytesAndTimesOut() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
        await #expect(throws: TransportError.timeout(.milliseconds(50))) {
            try await serial.waitReadable(timeout: .milliseconds(50))
        }
        let waiter = Task { () -> TransportError? in
            do throws(TransportError) {
                try await serial.waitReadable(timeout: .seconds(20))
                return nil
            } catch { return error }
        }
        try await Task.sleep(for: .milliseconds(20))
        try await pty.master.write([1, 2, 3])
        #expect(await waiter.value == nil)
        // Readiness does not consume: the bytes are still there for the owner.
        #expect(try serial.readNow(maxCount: 16, wait: .seconds(1)) == [1, 2, 3])
        await serial.close()
        await pty.close()
    }

    @Test func readinessWaitLeavesAnInlineReaderItsBytes() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
        // The owner reads inline; a background wait meanwhile must neither fire for those
        // bytes nor take them, and ends with a timeout since nothing else arrives.
        let waiter = Task { () -> TransportError? in
            do throws(TransportError) {
                try await serial.waitReadable(timeout: .milliseconds(300))
                return nil
            } catch { return error }
        }
        let reader = Task {
            await Self.onOwnThread { () -> [UInt8]? in
                do throws(TransportError) {
                    return try serial.readNow(maxCount: 16, wait: .seconds(5))
                } catch { return nil }
            }
        }
        try await Task.sleep(for: .milliseconds(30))
        try await pty.master.write([9, 8, 7])
        #expect(await reader.value == [9, 8, 7])
        #expect(await waiter.value == .timeout(.milliseconds(300)))
        await serial.close()
        await pty.close()
    }

    @Test func hangUpEndsInlineReadsAndWaits() async throws {
        let pty = try PtyPair.open()
        let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
        await pty.close()
        var readError: TransportError?
        do throws(TransportError) {
            _ = try serial.readNow(maxCount: 16, wait: .seconds(2))
        } catch {
            readError = error
        }
        #expect(readError == .closed("device unplugged"))
        var waitError: TransportError?
        do throws(TransportError) {
            try await serial.waitReadable(timeout: .seconds(2))
        } catch {
            waitError = error
        }
        #expect(waitError == .closed("device unplugged"))
        await serial.close()
    }
}
