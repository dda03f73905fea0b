import PNNCore
import PNNTransport
import PNNWire

extension WireServer {
    /// How the emulated board behaves on the wire.
    public struct Options: Sendable {
        /// Time the board is busy per request (requests queue behind each other).
        public var serviceTime: Duration
        /// Extra delay before each reply leaves (cable, USB frames, UART): does not occupy the board.
        public var latency: Duration
        /// Frame size limits.
        public var limits: FrameLimits
        /// Replies remembered for retransmissions.
        public var dedupCapacity: Int
        /// Header version written on outgoing frames (only changed to test version mismatch).
        public var headerVersion: UInt8
        /// When this returns false the line settings do not match (e.g. wrong baud): every
        /// byte received is answered with line noise instead of frames.
        public var lineMatches: @Sendable () -> Bool
        /// Reads and discards everything, answering nothing (a board that is off or hung).
        public var silent = false
        /// Answers each damaged frame with a damage notice (§8). Off only to emulate a
        /// device of an earlier revision of the protocol.
        public var damageNotices = true
        /// On a ``DirectTransport``, while requests keep coming, waits for the next one on
        /// the server's own thread (up to 5 ms, then it parks as usual), so a ping is read,
        /// answered and written with no thread hand-off. For a server with a process of its
        /// own (`pnnlab emulate`): the wait holds a thread of the shared pool.
        public var inlineReads = false

        public init(
            serviceTime: Duration = .zero, latency: Duration = .zero, limits: FrameLimits = .standard,
            dedupCapacity: Int = 32, headerVersion: UInt8 = PNNWireVersion.protocolVersion,
            lineMatches: @escaping @Sendable () -> Bool = { true }
        ) {
            self.serviceTime = serviceTime
            self.latency = latency
            self.limits = limits
            self.dedupCapacity = dedupCapacity
            self.headerVersion = headerVersion
            self.lineMatches = lineMatches
        }
    }

    /// Counters of the device side.
    public struct Statistics: Sendable, Equatable {
        /// Requests executed (de-duplicated retransmissions not included).
        public var executed = 0
        /// Retransmissions answered from the cache.
        public var deduplicated = 0
        /// Error replies sent.
        public var errorReplies = 0
        /// Stream frames pushed.
        public var streamFrames = 0
        /// Hellos answered.
        public var sessions = 0
        /// Frames with flag reply, error or stream received from the host: not requests,
        /// dropped without a reply (§3).
        public var notRequests = 0
        /// Requests answered `preempted` (dropped from the queue or stopped by a safe state or hello).
        public var preempted = 0
        /// Damage notices sent (§8): one per damaged frame received.
        public var damageNotices = 0
        /// Frame decoder counters (rejected frames, bytes discarded…).
        public var decoder = FrameDecoder.Statistics()
    }
}
