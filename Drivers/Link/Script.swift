import PNNTransport
import PNNWire
import Synchronization

/// Builds ``ScriptedTransport`` exchanges from frames, for family driver tests: the hello
/// every session starts with, request → reply pairs, and a frame decoder for messages.
///
/// ```swift
/// let script = ScriptedTransport([
///     Script.hello(emulator.hello),
///     Script.exchange("identify", CrossbarCommand.identify, seq: 1, reply: status.encode()),
/// ], describe: Script.describe)
/// let board = try CrossbarBoard(connection: try await .scripted(script, family: "crossbar", schemaHash: h))
/// _ = try await board.status()
/// try script.verify()
/// ```
public enum Script {
    /// The host's hello (seq `seq`, as ``WireClient`` sends it) answered with `reply`.
    public static func hello(_ reply: HelloReply, seq: UInt16 = 0, hostName: String = "pnnlab") -> ScriptedTransport.Exchange {
        let request = (try? HelloRequest(hostName: hostName).encode()) ?? []
        return exchange(
            "hello", .hello, seq: seq, payload: request,
            replies: [Frame(type: .hello, seq: seq, flags: .reply, payload: (try? reply.encode()) ?? [])])
    }

    /// The host sends `type` with `payload` at `seq` (`flags`, e.g. `.retransmission`); the
    /// device answers with a reply frame of the same type and seq carrying `reply`.
    public static func exchange(
        _ note: String, _ type: FrameType, seq: UInt16, payload: [UInt8] = [], flags: FrameFlags = [], reply: [UInt8]
    ) -> ScriptedTransport.Exchange {
        exchange(
            note, type, seq: seq, payload: payload, flags: flags,
            replies: [Frame(type: type, seq: seq, flags: .reply, payload: reply)])
    }

    /// The host sends `type` with `payload` at `seq`; the device answers with an error reply.
    public static func exchange(
        _ note: String, _ type: FrameType, seq: UInt16, payload: [UInt8] = [], flags: FrameFlags = [], error: ErrorReply
    ) -> ScriptedTransport.Exchange {
        exchange(note, type, seq: seq, payload: payload, flags: flags, replies: [error.frame(seq: seq)])
    }

    /// The host sends `type` with `payload` at `seq`; the device answers with `replies`
    /// (none: the answer is lost; stream frames and a reply: a streaming command).
    public static func exchange(
        _ note: String, _ type: FrameType, seq: UInt16, payload: [UInt8] = [], flags: FrameFlags = [], replies: [Frame]
    ) -> ScriptedTransport.Exchange {
        ScriptedTransport.Exchange(
            note, request: wire(Frame(type: type, seq: seq, flags: flags, payload: payload)), replies: replies.map(wire))
    }

    /// A frame's wire bytes (COBS and delimiter), whatever its size or flags.
    public static func wire(_ frame: Frame) -> [UInt8] {
        COBS.encode(frame.rawBytes) + [0]
    }

    /// One frame's wire bytes as the person reading a failed test wants them: type, seq,
    /// flags and payload, or why they do not decode.
    @Sendable public static func describe(_ wire: [UInt8]) -> String {
        do {
            let f = try Frame.decode(wire: wire, limits: FrameLimits(maxControlFrame: .max, maxBulkFrame: .max))
            let payload = f.payload.isEmpty ? "empty payload" : "payload \(ScriptedTransport.hex(f.payload))"
            return "\(f.type) seq \(f.seq) flags 0x\(String(f.flags.rawValue, radix: 16)), \(payload)"
        } catch {
            return "undecodable bytes (\(error))"
        }
    }
}

extension LinkConnection {
    /// A connection over a scripted link whose first exchange is the hello (``Script/hello(_:seq:hostName:)``).
    /// Deadlines run on `clock` — by default a ``ManualClock`` nobody advances, so no request
    /// ever times out and a retransmission never surprises the script. The grace period is
    /// 0: after a mismatch the link is closed and a reconnect fails at once, naming the step.
    public static func scripted(
        _ transport: ScriptedTransport, family: String, schemaHash: UInt32,
        configuration: WireClient.Configuration = .init(), clock: LinkClock = LinkClock(ManualClock())
    ) async throws(LinkError) -> LinkConnection {
        let opened = OpenOnce()
        return try await LinkConnection(
            port: transport.description, family: family, schemaHash: schemaHash, grace: 0,
            configuration: configuration, clock: clock,
            opener: { () async throws(LinkError) -> any Transport in
                guard opened.first() else {
                    throw .transport(.closed(transport.failure?.description ?? "a scripted link cannot be reopened"))
                }
                return transport
            })
    }
}

/// True the first time only.
final class OpenOnce: Sendable {
    private let done = Mutex(false)
    func first() -> Bool {
        done.withLock { d in
            defer { d = true }
            return !d
        }
    }
}
