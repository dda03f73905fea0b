import PNNWire

/// One check of the protocol conformance suite (`pnnlab conformance PORT`).
public struct ConformanceCheck: Sendable {
    /// Short name shown in the report.
    public var name: String
    /// What the spec requires (docs/protocol.md section).
    public var requirement: String
    /// Runs the check; returns a detail line, throws ``ConformanceFailure`` when the device is wrong.
    public var run: @Sendable (ConformanceContext) async throws -> String

    public init(name: String, requirement: String, run: @escaping @Sendable (ConformanceContext) async throws -> String) {
        self.name = name
        self.requirement = requirement
        self.run = run
    }
}

/// A device behaviour that contradicts docs/protocol.md.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The outcome of one check.
public struct ConformanceResult: Sendable, Codable, Equatable {
    public var name: String
    public var requirement: String
    public var passed: Bool
    public var detail: String
}

/// What a check may use: the session, the device's hello, and raw-frame helpers for
/// sending deliberately damaged or hand-numbered frames.
public final class ConformanceContext: Sendable {
    /// The session with the device (handshake done).
    public let client: WireClient
    /// The device's hello.
    public let hello: HelloReply
    let unmatched: AsyncStream<Frame>
    private let iterator: UnmatchedBuffer

    init(client: WireClient, hello: HelloReply, unmatched: AsyncStream<Frame>) {
        self.client = client
        self.hello = hello
        self.unmatched = unmatched
        self.iterator = UnmatchedBuffer(unmatched)
    }

    /// Sends `frame` as is (valid encoding), bypassing the request tracker.
    public func sendRaw(_ frame: Frame) async {
        var out = COBS.encode(frame.rawBytes)
        out.append(0)
        await client.sendRaw(out)
    }

    /// Sends raw frame bytes (header, payload, CRC), COBS-encoded and delimited.
    public func sendRawBytes(_ raw: [UInt8]) async {
        var out = COBS.encode(raw)
        out.append(0)
        await client.sendRaw(out)
    }

    /// The next reply that matched no tracked request, or nil after `timeout` seconds.
    public func nextUnmatched(timeout: Double) async -> Frame? {
        await iterator.next(timeout: timeout)
    }

    /// Fails unless a ping still gets its echo (the device recovered).
    public func expectAlive(_ after: String) async throws {
        let payload: [UInt8] = [0xA5, 0x00, 0x5A]
        let echo: [UInt8]
        do {
            echo = try await client.request(.ping, payload: payload, retry: .idempotent)
        } catch {
            throw ConformanceFailure("no ping echo after \(after): \(error)")
        }
        guard echo == payload else { throw ConformanceFailure("wrong ping echo after \(after)") }
    }

    /// Fails if any unmatched reply arrives within `timeout` (a rejected frame must get no answer).
    public func expectSilence(_ what: String, timeout: Double = 0.15) async throws {
        if let f = await nextUnmatched(timeout: timeout) {
            throw ConformanceFailure("device answered \(what) (\(f)); rejected frames must be ignored")
        }
    }

    /// Expects an error reply with `code` to `type`.
    public func expectError(_ code: WireErrorCode, type: FrameType, payload: [UInt8] = []) async throws -> String {
        do {
            _ = try await client.request(type, payload: payload, retry: .idempotent)
        } catch .device(_, let reply) {
            guard reply.code == code else { throw ConformanceFailure("expected error \(code), got \(reply)") }
            return "error \(code): \(reply.message)"
        } catch {
            throw ConformanceFailure("expected error \(code), got \(error)")
        }
        throw ConformanceFailure("expected error \(code), got a normal reply")
    }
}

/// Serialises reads of the unmatched-frame stream with a timeout.
actor UnmatchedBuffer {
    private var frames: [Frame] = []
    private var waiter: CheckedContinuation<Frame?, Never>?
    private var waiterID = 0
    private var task: Task<Void, Never>?

    init(_ stream: AsyncStream<Frame>) {
        let s = stream
        task = nil
        Task { await self.start(s) }
    }

    private func start(_ stream: AsyncStream<Frame>) {
        task = Task {
            for await f in stream { self.push(f) }
        }
    }

    private func push(_ f: Frame) {
        if let w = waiter {
            waiter = nil
            w.resume(returning: f)
        } else {
            frames.append(f)
        }
    }

    private func timeout(_ id: Int) {
        if id == waiterID, let w = waiter {
            waiter = nil
            w.resume(returning: nil)
        }
    }

    func next(timeout seconds: Double) async -> Frame? {
        if !frames.isEmpty { return frames.removeFirst() }
        waiterID += 1
        let id = waiterID
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            self.timeout(id)
        }
        // A cancelled check stops waiting at once (as if the time were up).
        let f = await withTaskCancellationHandler {
            await withCheckedContinuation { waiter = $0 }
        } onCancel: {
            Task { await self.timeout(id) }
        }
        timer.cancel()
        return f
    }
}

/// Runs the wire-level checks every device must pass, then its family's checks.
public enum ConformanceSuite {
    /// Runs every check against the device on `client` (which must not be in use elsewhere).
    public static func run(
        client: WireClient, familyChecks: [ConformanceCheck], family: String, schemaHash: UInt32
    ) async -> [ConformanceResult] {
        var results: [ConformanceResult] = []
        let hello: HelloReply
        do {
            hello = try await client.handshake(family: family, schemaHash: schemaHash)
            results.append(
                ConformanceResult(
                    name: "hello", requirement: "§7", passed: true,
                    detail:
                        "protocol 1, \(hello.family)/\(hello.model) \(hello.serial), schema 0x\(String(hello.schemaHash, radix: 16))"
                ))
        } catch {
            results.append(ConformanceResult(name: "hello", requirement: "§7", passed: false, detail: error.description))
            return results
        }
        let context = ConformanceContext(client: client, hello: hello, unmatched: await client.observeUnmatched())
        for check in WireChecks.all + familyChecks {
            do {
                let detail = try await check.run(context)
                results.append(ConformanceResult(name: check.name, requirement: check.requirement, passed: true, detail: detail))
            } catch {
                results.append(
                    ConformanceResult(name: check.name, requirement: check.requirement, passed: false, detail: "\(error)"))
            }
        }
        return results
    }
}
