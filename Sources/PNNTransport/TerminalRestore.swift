import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Remembers the line settings a port had before pnnlab made it raw, and puts them back
/// when the port is closed — or, if pnnlab exits without closing it (an error, `exit`),
/// from an `atexit` handler. Attaching to `/dev/tty` by mistake thus leaves the terminal as
/// it was (echo, canonical mode, speed), not raw, and not held exclusive.
enum TerminalRestore {
    private struct Saved: Sendable {
        var settings: termios
        var exclusive: Bool
    }
    private static let saved = Mutex<[Int32: Saved]>([:])
    private static let installed = Atomic<Bool>(false)

    /// Records `settings` as what `fd` had before pnnlab changed it.
    static func remember(_ fd: Int32, settings: termios, exclusive: Bool) {
        if !installed.exchange(true, ordering: .acquiringAndReleasing) {
            atexit { TerminalRestore.restoreAll() }
        }
        saved.withLock { $0[fd] = Saved(settings: settings, exclusive: exclusive) }
    }

    /// Puts back `fd`'s recorded settings (and lifts `TIOCEXCL`), then forgets them.
    static func restore(_ fd: Int32) {
        guard let s = saved.withLock({ $0.removeValue(forKey: fd) }) else { return }
        apply(s, to: fd)
    }

    /// ``restore(_:)`` then `close`.
    static func close(_ fd: Int32) {
        restore(fd)
        _ = Glibc.close(fd)
    }

    /// Whether `fd` has settings waiting to be restored (tests).
    static func isRemembered(_ fd: Int32) -> Bool { saved.withLock { $0[fd] != nil } }

    private static func restoreAll() {
        let all = saved.withLock { s in
            defer { s = [:] }
            return s
        }
        for (fd, s) in all { apply(s, to: fd) }
    }

    private static func apply(_ s: Saved, to fd: Int32) {
        var t = s.settings
        _ = tcsetattr(fd, TCSANOW, &t)
        if s.exclusive { _ = ioctl(fd, UInt(TIOCNXCL)) }
    }
}
