import Synchronization

/// A byte link that plays the device from a script, for driver tests without hardware
/// (DESIGN.md "Testing drivers without hardware"; PyMeasure's `expected_protocol`): each
/// ``Exchange`` names the exact frame the host must send next and the frames the device
/// answers with. The first request that differs from the script — or any request after the
/// script's end — fails the exchange: the error names the step and shows the expected and
/// received bytes, the write throws, and the link is closed so the host stops. Call
/// ``verify()`` at the end of the test: it throws that error, or
/// ``ScriptError/unused(step:of:note:)`` if an exchange was never reached.
///
/// Frames are compared as wire bytes (COBS-encoded, up to the 0x00 delimiter), whatever
/// the host's write sizes. A lone 0x00 (an empty frame, which hosts send to flush a
/// receiver) is ignored. Replies become readable as soon as their request has matched, in
/// script order; they are delivered whole, each followed by its delimiter. A script may
/// also hang up after its last exchange (a recorded unplug: reads then throw
/// ``TransportError/closed(_:)``).
public final class ScriptedTransport: Transport, Sendable {
    /// One step of the script: the host's request and the device's answers.
    public struct Exchange: Sendable, Equatable {
        /// A short name for messages (e.g. `identify`, `probe 2 of 3`).
        public var note: String
        /// Wire bytes of the one frame the host must send (the trailing 0x00 may be omitted).
        public var request: [UInt8]
        /// Wire bytes of the frames the device sends back once the request matched (none:
        /// the reply is lost). Delimiters are added where missing.
        public var replies: [[UInt8]]

        public init(_ note: String = "", request: [UInt8], replies: [[UInt8]]) {
            self.note = note
            self.request = ScriptedTransport.withoutDelimiter(request)
            self.replies = replies
        }
    }

    private struct State {
        var exchanges: [Exchange]
        var next = 0
        var partial: [UInt8] = []
        var inbox: [UInt8] = []
        var failure: ScriptError?
        var closed = false
        var hangUp: String?
    }

    private let state: Mutex<State>
    private let describe: @Sendable ([UInt8]) -> String
    public let description: String

    /// A link that expects `exchanges` in order. `describe` renders one frame's wire bytes
    /// in messages (PNNLink's `Script.describe` decodes them); the default is hex.
    /// `unsolicited` frames are readable at once, before any request (a board that talks
    /// first). With `hangUp`, the link closes with that reason once the last exchange has
    /// matched and its replies have been read.
    public init(
        _ exchanges: [Exchange], description: String = "scripted link", unsolicited: [[UInt8]] = [],
        hangUp: String? = nil, describe: @escaping @Sendable ([UInt8]) -> String = ScriptedTransport.hex
    ) {
        var initial = State(exchanges: exchanges)
        initial.hangUp = hangUp
        for frame in unsolicited {
            initial.inbox += frame
            if frame.last != 0 { initial.inbox.append(0) }
        }
        self.state = Mutex(initial)
        self.describe = describe
        self.description = description
    }

    /// Exchanges whose request has not arrived yet.
    public var remaining: Int { state.withLock { $0.exchanges.count - $0.next } }

    /// The first mismatch, if any.
    public var failure: ScriptError? { state.withLock { $0.failure } }

    /// Throws the first mismatch, or ``ScriptError/unused(step:of:note:)`` if the host did
    /// not send every scripted request, or ``ScriptError/partialFrame(bytes:)`` if it left a
    /// frame without its delimiter.
    public func verify() throws(ScriptError) {
        let s = state.withLock { $0 }
        if let failure = s.failure { throw failure }
        if s.next < s.exchanges.count {
            throw .unused(step: s.next + 1, of: s.exchanges.count, note: s.exchanges[s.next].note)
        }
        if !s.partial.isEmpty { throw .partialFrame(bytes: s.partial) }
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        let describe = self.describe
        let outcome: TransportError? = state.withLock { s in
            if let f = s.failure { return .closed(f.description) }
            if s.closed { return .closed("closed by host") }
            if s.inbox.isEmpty, s.next == s.exchanges.count, let why = s.hangUp { return .closed(why) }
            for b in bytes {
                guard b == 0 else {
                    s.partial.append(b)
                    continue
                }
                let frame = s.partial
                s.partial.removeAll()
                if frame.isEmpty { continue }
                let step = s.next
                guard step < s.exchanges.count else {
                    s.failure = .unexpected(step: step + 1, got: frame, detail: describe(frame))
                    break
                }
                let exchange = s.exchanges[step]
                guard frame == exchange.request else {
                    s.failure = .mismatch(
                        step: step + 1, of: s.exchanges.count, note: exchange.note, expected: exchange.request,
                        got: frame, detail: "expected \(describe(exchange.request)), got \(describe(frame))")
                    break
                }
                s.next += 1
                for reply in exchange.replies {
                    s.inbox += reply
                    if reply.last != 0 { s.inbox.append(0) }
                }
            }
            if let f = s.failure {
                s.inbox.removeAll()
                return .closed(f.description)
            }
            return nil
        }
        if let outcome { throw outcome }
    }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        precondition(maxCount > 0, "maxCount must be positive")
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let result: Result<[UInt8], TransportError> = state.withLock { s in
                if let f = s.failure { return .failure(.closed(f.description)) }
                if s.closed { return .failure(.closed("closed by host")) }
                if s.inbox.isEmpty, s.next == s.exchanges.count, let why = s.hangUp { return .failure(.closed(why)) }
                let n = min(maxCount, s.inbox.count)
                defer { s.inbox.removeFirst(n) }
                return .success(Array(s.inbox.prefix(n)))
            }
            let got = try result.get()
            if !got.isEmpty { return got }
            let now = clock.now
            if now >= deadline { throw .timeout(timeout) }
            do {
                try await Task.sleep(for: min(.microseconds(500), deadline - now))
            } catch {
                throw .cancelled
            }
        }
    }

    public func close() async {
        state.withLock { $0.closed = true }
    }

    /// Space-separated upper-case hex, the notation of docs/protocol.md.
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { b in
            let s = String(b, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: " ")
    }

    /// Parses space-separated hex (`"04 01 40 03 01 03 91 8C 00"`, as printed in
    /// docs/protocol.md; `|` separators are ignored). Returns nil on anything else.
    public static func bytes(hex text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "|" }) {
            guard token.count == 2, let b = UInt8(token, radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }

    static func withoutDelimiter(_ bytes: [UInt8]) -> [UInt8] {
        bytes.last == 0 ? Array(bytes.dropLast()) : bytes
    }
}

/// Why a scripted exchange failed. Messages name the step and show both byte strings.
public enum ScriptError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The host sent another frame than step `step` expects.
    case mismatch(step: Int, of: Int, note: String, expected: [UInt8], got: [UInt8], detail: String)
    /// The host sent a frame after the last scripted exchange.
    case unexpected(step: Int, got: [UInt8], detail: String)
    /// The test ended before the host sent the request of step `step`.
    case unused(step: Int, of: Int, note: String)
    /// The host left bytes without a frame delimiter.
    case partialFrame(bytes: [UInt8])

    public var description: String {
        switch self {
        case .mismatch(let step, let of, let note, let expected, let got, let detail):
            let at =
                zip(expected, got).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(expected.count, got.count)
            return "scripted exchange \(step) of \(of)\(note.isEmpty ? "" : " (\(note))"): the host sent another request "
                + "(\(detail)); first difference at byte \(at)\n"
                + "  expected: \(ScriptedTransport.hex(expected)) 00\n"
                + "  got:      \(ScriptedTransport.hex(got)) 00"
        case .unexpected(let step, let got, let detail):
            return "scripted exchange \(step): the script has ended but the host sent \(detail)\n"
                + "  got: \(ScriptedTransport.hex(got)) 00"
        case .unused(let step, let of, let note):
            return "scripted exchange \(step) of \(of)\(note.isEmpty ? "" : " (\(note))") was never reached: "
                + "the host stopped after \(step - 1) exchange\(step == 2 ? "" : "s")"
        case .partialFrame(let bytes):
            return "the host left \(bytes.count) bytes without a frame delimiter: \(ScriptedTransport.hex(bytes))"
        }
    }
}
