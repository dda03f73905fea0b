import Foundation
import PNNTransport
import PNNWire
import Synchronization

extension WireClient {
    /// Tunables of a session.
    public struct Configuration: Sendable {
        /// Window, deadlines and retries.
        public var tracker: RequestTracker.Configuration
        /// Largest frames accepted and sent.
        public var limits: FrameLimits
        /// Name announced in the hello.
        public var hostName: String
        /// How long the hello may take before the port is declared silent.
        public var helloTimeout: Double
        /// Sequence number of the session's first request (normally the hello); only the
        /// worked examples of docs/protocol.md start elsewhere.
        public var firstSeq: UInt16
        /// On a ``DirectTransport`` (ptys, serial ports), how long ``reply(to:)`` reads the
        /// reply on its own thread, seconds, before it parks and lets the background reader
        /// deliver it: a stop-and-wait round trip then costs no thread hand-offs. 0 turns it
        /// off (the default on a single-core machine, where the wait would hold the only
        /// thread the device side of an in-process test needs). While the device's recent
        /// round trips are longer than this (most real boards over USB), replies are not
        /// waited for inline at all: the wait would only hold a thread of the shared pool.
        public var inlineReplyWait: Double

        public init(
            tracker: RequestTracker.Configuration = .init(), limits: FrameLimits = .standard,
            hostName: String = "pnnlab", helloTimeout: Double = 0.3, firstSeq: UInt16 = 0,
            inlineReplyWait: Double? = nil
        ) {
            self.tracker = tracker
            self.limits = limits
            self.hostName = hostName
            self.helloTimeout = helloTimeout
            self.firstSeq = firstSeq
            self.inlineReplyWait = inlineReplyWait ?? (Self.cores >= 2 ? 0.002 : 0)
        }

        private static let cores: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// A request on its way; pass it to ``reply(to:)``.
    public struct Ticket: Sendable, Hashable {
        let id: UInt64
        /// The command sent.
        public let type: FrameType
    }

    /// Counters of this session.
    public struct Statistics: Sendable {
        public var requests: RequestTracker.Statistics
        public var decoder: FrameDecoder.Statistics
        public var streams: StreamTracker.Counters
        public var bytesSent = 0
        public var framesSent = 0
        /// Mean round-trip time of completed requests, seconds (first attempts included).
        public var meanRoundTrip: Double
        /// Requests submitted but not yet sent because the pipelining window is full.
        public var waitingForWindow = 0
        /// The payload size per frame recommended for the line's recent error rate
        /// (``WireClient/frameBudget``).
        public var frameBudget = 0
        /// Damage notices received from the device (§8): frames it got damaged.
        public var damageNotices = 0
    }

    /// Sizing frames for a noisy line: a frame of `s` bytes survives a line that damages
    /// each byte with probability `p` with probability ≈ e^(−p·s), so long frames on a noisy
    /// line are almost always lost. The client estimates `p` from its recent traffic (lost
    /// exchanges per byte moved) and recommends payloads of at most `target / p` bytes, so
    /// ≈ 90 % of frames arrive intact; the estimate decays as clean traffic accumulates, so
    /// the size grows back when the line recovers.
    public enum FrameBudget {
        /// −ln(0.9): the per-byte error exposure a frame may take.
        public static let target = 0.105
        /// Smallest recommended payload, bytes.
        public static let minimum = 128
        /// Traffic after which the loss history counts half, bytes.
        public static let memoryBytes = 32_768.0
    }
}
