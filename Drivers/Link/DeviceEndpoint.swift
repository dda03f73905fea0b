import PNNWire

/// The device side of one family: what an emulator (or a test double of firmware) must
/// provide to be served by a ``WireServer``. The server does framing, CRCs, the hello,
/// pings, de-duplication and pacing; the endpoint only executes family commands.
public protocol DeviceEndpoint: Actor {
    /// The hello reply: identity, schema hash, capability bits, family descriptor.
    nonisolated var hello: HelloReply { get }

    /// Executes one family command (types 0x40–0xFF, or `bulkChunk`) and returns the reply
    /// payload, or throws the error reply. `push` sends device-initiated stream frames.
    func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8]

    /// A new session began (a hello arrived): stop streams, forget per-session state.
    func sessionReset() async

    /// Family commands that preempt everything (docs/protocol.md §6.1): the safe-state
    /// command. When one arrives the server stops the running command (its task is
    /// cancelled: `handle` must stop at its next safe point and throw `preempted`), answers
    /// queued requests with `preempted`, drops unsent stream frames and runs it next.
    nonisolated var preemptingCommands: Set<FrameType> { get }
}

extension DeviceEndpoint {
    /// No preempting command (a family without a safe state).
    public nonisolated var preemptingCommands: Set<FrameType> { [] }
}

/// Sends device-pushed stream frames (type `streamData`, flag `stream`) and device-pushed
/// bulk chunks (type `bulkChunk`, flags `bulk | stream`, docs/protocol.md §11) through the
/// server that handed it out, numbering each stream's frames.
public struct StreamPusher: Sendable {
    let send: @Sendable (UInt8, [UInt8]) async -> Void
    let sendBulk: @Sendable (BulkChunk) async -> Void

    /// A pusher that hands each stream frame to `send` and each bulk chunk to `bulk`
    /// (servers, tests; chunks are dropped by default).
    public init(
        send: @escaping @Sendable (UInt8, [UInt8]) async -> Void, bulk: @escaping @Sendable (BulkChunk) async -> Void = { _ in }
    ) {
        self.send = send
        self.sendBulk = bulk
    }

    /// Pushes one chunk of a device → host bulk transfer (§11).
    public func push(chunk: BulkChunk) async {
        await sendBulk(chunk)
    }

    /// Pushes `data` on stream `streamID`.
    public func push(streamID: UInt8, data: [UInt8]) async {
        await send(streamID, data)
    }
}

/// An emulated board holding a fault its options armed (`pnnlab emulate crossbar
/// --break-adc-on-signal 0,1`), injected when `pnnlab emulate` receives SIGUSR1 — how a test
/// or a person breaks an emulated board mid-run. There is deliberately no wire command for
/// it: a host must never be able to damage a real board.
public protocol ArmedFault: DeviceEndpoint {
    /// Injects the armed fault and disarms it: a sentence saying what broke, or nil when
    /// nothing is armed (never armed, or already injected).
    func injectArmedFault() async -> String?
}
