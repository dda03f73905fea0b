import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a session recording: every frame crossing a link, both ways, with the time it
/// crossed. A user who hits a bug attaches the file; CI replays committed ones
/// (``SessionReplay``). One recorder serves every session of a connection (each reconnect
/// opens a new session in the same file). Each line is flushed as it is written, so a
/// crash loses nothing.
///
/// The format (docs/protocol.md, "Session recordings") is text, one event per line:
///
///     # pnnlab session recording v1
///     # started 2025-01-31T09:12:44Z
///     0.000183 open serial /dev/ttyUSB0 @ 115200
///     0.005602 > 00
///     0.005666 > 03 01 01 01 01 03 01 06 09 70 6E 6E 6C 61 62 15 0E 00
///     0.006817 < 03 01 01 01 08 02 01 95 AF 69 90 … 00
///     0.912007 close
///
/// Lines starting with `#` are comments; the first must be `# pnnlab session recording v1`.
/// Every other line is `SECONDS KIND [DATA]`: seconds since the recording started
/// (monotonic, microseconds), then `open DESCRIPTION` (a session began: the port was
/// opened), `>` (host → device) or `<` (device → host) with the hex bytes of one frame as on
/// the wire including its 0x00 delimiter (a lone `00` is a host flushing the receiver;
/// bytes left without a delimiter when a session ends are written without one), `close`
/// (the host closed the link) or `end REASON` (the link failed, e.g. unplugged).
/// A frame's time is when its delimiter crossed. Replay proves content, not timing.
public final class SessionRecorder: Sendable {
    /// The first line of every recording.
    public static let magic = "# pnnlab session recording v1"

    private struct File: ~Copyable {
        var handle: OpaquePointer?
    }

    private let file: Mutex<File>
    private let start = ContinuousClock.now
    /// Where the recording goes.
    public let path: String

    /// Creates (or truncates) the file at `path` and writes the header.
    public init(path: String) throws(RecordingError) {
        guard let f = fopen(path, "w") else {
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        self.path = path
        self.file = Mutex(File(handle: OpaquePointer(f)))
        write(Self.magic + "\n# started " + Self.utcNow() + "\n")
    }

    deinit {
        file.withLock { f in
            if let h = f.handle { fclose(UnsafeMutablePointer(h)) }
            f.handle = nil
        }
    }

    /// Seconds since the recording started.
    var elapsed: Double { (ContinuousClock.now - start).seconds }

    /// Appends one event line.
    func event(_ kind: String, _ data: String = "") {
        let t = elapsed
        let micros = Int((t * 1e6).rounded())
        let frac = String(micros % 1_000_000)
        let time = "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
        write(time + " " + kind + (data.isEmpty ? "" : " " + data) + "\n")
    }

    private func write(_ line: String) {
        file.withLock { f in
            guard let h = f.handle else { return }
            let p = UnsafeMutablePointer<FILE>(h)
            fputs(line, p)
            fflush(p)
        }
    }

    private static func utcNow() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Wraps a link and writes every frame crossing it to a ``SessionRecorder``, unchanged.
/// Frames are cut at their 0x00 delimiters, whatever the sizes of the writes and reads.
public final class RecordingTransport: Transport, Sendable {
    private let base: any Transport
    private let recorder: SessionRecorder
    private let partial = Mutex<(sent: [UInt8], received: [UInt8], ended: Bool)>(([], [], false))
    public var description: String { base.description }

    /// Records a new session on `base` (writes its `open` line).
    public init(_ base: any Transport, recorder: SessionRecorder) {
        self.base = base
        self.recorder = recorder
        recorder.event("open", base.description)
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        let frames = partial.withLock { Self.cut(bytes, &$0.sent) }
        for f in frames { recorder.event(">", ScriptedTransport.hex(f)) }
        do {
            try await base.write(bytes)
        } catch {
            end(error)
            throw error
        }
    }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try await base.read(maxCount: maxCount, timeout: timeout)
        } catch .timeout(let d) {
            throw .timeout(d)
        } catch .cancelled {
            throw .cancelled
        } catch {
            end(error)
            throw error
        }
        let frames = partial.withLock { Self.cut(bytes, &$0.received) }
        for f in frames { recorder.event("<", ScriptedTransport.hex(f)) }
        return bytes
    }

    public func close() async {
        if finish() { recorder.event("close") }
        await base.close()
    }

    /// Writes what is left without a delimiter; true the first time the session ends.
    private func finish() -> Bool {
        let (sent, received, first) = partial.withLock { p in
            defer {
                p.sent.removeAll()
                p.received.removeAll()
                p.ended = true
            }
            return (p.sent, p.received, !p.ended)
        }
        if !sent.isEmpty { recorder.event(">", ScriptedTransport.hex(sent)) }
        if !received.isEmpty { recorder.event("<", ScriptedTransport.hex(received)) }
        return first
    }

    private func end(_ error: TransportError) {
        guard finish() else { return }
        if case .closed(let why) = error {
            recorder.event("end", why)
        } else {
            recorder.event("end", error.description)
        }
    }

    /// Complete frames (with their delimiter) in `pending + bytes`; the rest stays pending.
    static func cut(_ bytes: [UInt8], _ pending: inout [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for b in bytes {
            pending.append(b)
            if b == 0 {
                frames.append(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        return frames
    }
}

/// A parsed session recording (format: ``SessionRecorder``).
public struct SessionRecording: Sendable, Equatable {
    /// One line of the recording.
    public struct Event: Sendable, Equatable {
        /// What happened.
        public enum Kind: Sendable, Equatable {
            /// A session began on a link with this description.
            case open(String)
            /// The host sent these wire bytes (one frame).
            case sent([UInt8])
            /// The device sent these wire bytes (one frame).
            case received([UInt8])
            /// The host closed the link.
            case close
            /// The link failed for this reason.
            case end(String)
        }
        /// Seconds since the recording started.
        public var time: Double
        public var kind: Kind
        /// Line number in the file (1-based), for messages.
        public var line: Int
    }

    /// Events grouped by session (each starting with `open`), in order.
    public var sessions: [[Event]]

    /// Parses a recording's text.
    public init(text: String, path: String = "recording") throws(RecordingError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == SessionRecorder.magic else {
            throw .malformed(path: path, line: 1, reason: "not a pnnlab session recording (expected '\(SessionRecorder.magic)')")
        }
        var sessions: [[Event]] = []
        for (i, line) in lines.enumerated() where !line.hasPrefix("#") && !line.isEmpty {
            let number = i + 1
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count >= 2, let time = Double(fields[0]), time >= 0 else {
                throw .malformed(path: path, line: number, reason: "expected 'SECONDS KIND [DATA]'")
            }
            let data = fields.count == 3 ? fields[2] : ""
            let kind: Event.Kind
            switch fields[1] {
            case "open": kind = .open(data)
            case "close": kind = .close
            case "end": kind = .end(data)
            case ">", "<":
                guard let bytes = ScriptedTransport.bytes(hex: data), !bytes.isEmpty else {
                    throw .malformed(path: path, line: number, reason: "expected hex bytes of one frame")
                }
                kind = fields[1] == ">" ? .sent(bytes) : .received(bytes)
            default:
                throw .malformed(path: path, line: number, reason: "unknown event '\(fields[1])'")
            }
            if case .open = kind {
                sessions.append([])
            } else if sessions.isEmpty {
                throw .malformed(path: path, line: number, reason: "an event before the first 'open'")
            }
            sessions[sessions.count - 1].append(Event(time: time, kind: kind, line: number))
        }
        self.sessions = sessions
    }

    /// Reads and parses the recording at `path`.
    public init(path: String) throws(RecordingError) {
        guard let f = fopen(path, "r") else {
            throw .cannotRead(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n == 0 { break }
            bytes += buffer.prefix(n)
        }
        try self.init(text: String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Session `index` as a script: each host frame becomes an exchange whose replies are
    /// the device frames recorded after it (before the next host frame); device frames
    /// before the first host frame are unsolicited; a recorded `end` hangs up.
    public func script(session index: Int, path: String) -> ScriptedTransport {
        var exchanges: [ScriptedTransport.Exchange] = []
        var unsolicited: [[UInt8]] = []
        var description = "replay of \(path)"
        var hangUp: String?
        for event in sessions[index] {
            switch event.kind {
            case .open(let d):
                description = "replay of \(d) from \(path)"
            case .sent(let bytes):
                let frame = bytes.last == 0 ? Array(bytes.dropLast()) : bytes
                if frame.isEmpty { continue }  // a lone delimiter: not a frame
                exchanges.append(
                    ScriptedTransport.Exchange("\(path):\(event.line), t = \(event.time) s", request: frame, replies: []))
            case .received(let bytes):
                if exchanges.isEmpty {
                    unsolicited.append(bytes)
                } else {
                    exchanges[exchanges.count - 1].replies.append(bytes)
                }
            case .close:
                break
            case .end(let why):
                hangUp = why
            }
        }
        return ScriptedTransport(exchanges, description: description, unsolicited: unsolicited, hangUp: hangUp)
    }
}

/// Serves a recorded session back: each session the host opens is the next recorded one;
/// the host's frames are checked against the recorded ones (a difference fails with the
/// recording's line) and the recorded device frames are returned. Replay proves that the
/// host sends the same bytes and handles the recorded answers — content, not timing: the
/// answers come at once, so timeouts, retries and pacing of the original are not repeated.
public final class SessionReplay: Sendable {
    /// The recording served.
    public let recording: SessionRecording
    /// Where it came from, for messages.
    public let path: String
    private let opened = Mutex<[ScriptedTransport]>([])

    /// Serves `recording`.
    public init(_ recording: SessionRecording, path: String = "recording") {
        self.recording = recording
        self.path = path
    }

    /// Serves the recording at `path`.
    public convenience init(path: String) throws(RecordingError) {
        self.init(try SessionRecording(path: path), path: path)
    }

    /// The next recorded session, as a link. Throws ``RecordingError/noMoreSessions(path:recorded:)``
    /// once every session was handed out.
    public func open() throws(RecordingError) -> ScriptedTransport {
        let result: Result<ScriptedTransport, RecordingError> = opened.withLock { list in
            guard list.count < recording.sessions.count else {
                return .failure(.noMoreSessions(path: path, recorded: recording.sessions.count))
            }
            let link = recording.script(session: list.count, path: path)
            list.append(link)
            return .success(link)
        }
        return try result.get()
    }

    /// Throws the first difference between the host and the recording (including a recorded
    /// frame the host never sent), or ``RecordingError/unreplayed(path:session:of:)`` if a
    /// recorded session was never opened.
    public func verify() throws(RecordingError) {
        let links = opened.withLock { $0 }
        for (i, link) in links.enumerated() {
            do {
                try link.verify()
            } catch {
                throw .differs(path: path, session: i + 1, error)
            }
        }
        if links.count < recording.sessions.count {
            throw .unreplayed(path: path, session: links.count + 1, of: recording.sessions.count)
        }
    }
}

/// Why a session recording could not be written, read or replayed.
public enum RecordingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The recording file cannot be created or written.
    case cannotWrite(path: String, reason: String)
    /// The recording file cannot be opened.
    case cannotRead(path: String, reason: String)
    /// A line is not in the recording format.
    case malformed(path: String, line: Int, reason: String)
    /// The host opened the link more often than the recording did.
    case noMoreSessions(path: String, recorded: Int)
    /// The host's frames differ from the recording's.
    case differs(path: String, session: Int, ScriptError)
    /// A recorded session was never opened.
    case unreplayed(path: String, session: Int, of: Int)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): "cannot write the session recording \(path): \(reason)"
        case .cannotRead(let path, let reason): "cannot read the session recording \(path): \(reason)"
        case .malformed(let path, let line, let reason): "\(path):\(line): \(reason)"
        case .noMoreSessions(let path, let recorded):
            "the host opened the link again, but \(path) recorded only \(recorded) session\(recorded == 1 ? "" : "s")"
        case .differs(let path, let session, let error): "replay of \(path), session \(session): \(error)"
        case .unreplayed(let path, let session, let of):
            "replay of \(path): session \(session) of \(of) was never opened by the host"
        }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
