import PNNTransport

/// Session recordings at the link level: record every frame of a connection to a file
/// (`--record FILE`), and serve a recorded file back as the board (replay in tests and CI).
/// Format and guarantees: ``SessionRecorder`` and docs/protocol.md, "Session recordings".
/// Replay proves content (the same request bytes, the recorded answers handled), not timing.
public enum LinkRecording {
    /// `base` with every session it opens recorded to `path` (created or truncated now, so an
    /// unwritable path fails before any port is opened). Reconnects append new sessions.
    public static func opener(
        _ base: @escaping LinkConnection.Opener, recordingTo path: String
    ) throws(LinkError) -> LinkConnection.Opener {
        let recorder: SessionRecorder
        do {
            recorder = try SessionRecorder(path: path)
        } catch {
            throw .recording(error)
        }
        return { () async throws(LinkError) -> any Transport in
            RecordingTransport(try await base(), recorder: recorder)
        }
    }

    /// The recording at `path`, ready to be served: pass ``LinkReplay/opener`` to a
    /// ``LinkConnection`` and call ``LinkReplay/verify()`` at the end.
    public static func replay(path: String) throws(LinkError) -> LinkReplay {
        do {
            return LinkReplay(try SessionReplay(path: path))
        } catch {
            throw .recording(error)
        }
    }
}

/// A recorded session served back as the board (see ``LinkRecording/replay(path:)``).
public struct LinkReplay: Sendable {
    /// The underlying replay (sessions, checks).
    public let replay: SessionReplay

    public init(_ replay: SessionReplay) { self.replay = replay }

    /// Opens the next recorded session; a host that opens more sessions than were recorded
    /// gets ``LinkError/recording(_:)``.
    public var opener: LinkConnection.Opener {
        let replay = self.replay
        return { () async throws(LinkError) -> any Transport in
            do throws(RecordingError) {
                return try replay.open()
            } catch {
                throw .recording(error)
            }
        }
    }

    /// Throws the first difference between the host's frames and the recording, or a
    /// recorded session or frame the host never reached.
    public func verify() throws(LinkError) {
        do {
            try replay.verify()
        } catch {
            throw .recording(error)
        }
    }
}

extension LinkAddress {
    /// ``opener`` with every frame of every session recorded to `path`
    /// (``LinkRecording/opener(_:recordingTo:)``): what `--record FILE` uses.
    public func opener(recordingTo path: String) throws(LinkError) -> LinkConnection.Opener {
        try LinkRecording.opener(opener, recordingTo: path)
    }
}
