import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Wakes a thread blocked in `poll` when its channel is closed, so reads and writes can
/// wait for as long as their timeout without slicing (an idle link then costs no CPU).
/// A pipe whose read end is polled beside the port's descriptor; ``fire()`` writes a byte,
/// which is never read, so the pipe stays readable for good.
final class CloseSignal: Sendable {
    /// What a wait on the port and the signal ended with.
    enum Wake {
        /// The port has the requested events (`revents` of the port's descriptor).
        case ready(Int16)
        /// The channel is being closed.
        case closed
        /// The timeout passed.
        case timedOut
        /// `poll` failed with this errno.
        case failed(Int32)
    }

    /// The pipe's read end (polled) and write end; -1 when no pipe could be made
    /// (descriptor exhaustion): waits then fall back to 50 ms slices.
    private let fd: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for e in ends {
                _ = fcntl(e, F_SETFD, FD_CLOEXEC)
                _ = fcntl(e, F_SETFL, fcntl(e, F_GETFL) | O_NONBLOCK)
            }
        }
        fd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if fd >= 0 { _ = close(fd) }
        if writeEnd >= 0 { _ = close(writeEnd) }
    }

    /// Makes every present and future ``wait(on:events:milliseconds:)`` return `.closed`.
    func fire() {
        guard writeEnd >= 0 else { return }
        var one: UInt8 = 1
        _ = write(writeEnd, &one, 1)
    }

    /// Waits until `port` has `events`, the signal fires, or `milliseconds` pass (retrying
    /// on `EINTR`).
    func wait(on port: Int32, events: Int16, milliseconds: Int64) -> Wake {
        let slice: Int64 = fd >= 0 ? Int64(Int32.max) : 50
        // Two pollfds on the stack: a wait on a busy link allocates nothing.
        var fds = (
            pollfd(fd: port, events: events, revents: 0), pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        )
        let count: nfds_t = fd >= 0 ? 2 : 1
        let timeout = Int32(clamping: min(max(milliseconds, 0), slice))
        let rc = withUnsafeMutableBytes(of: &fds) { raw in
            poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), count, timeout)
        }
        if rc < 0 {
            let e = errno
            return e == EINTR || e == EAGAIN ? .timedOut : .failed(e)
        }
        if fd >= 0, fds.1.revents != 0 { return .closed }
        return rc > 0 ? .ready(fds.0.revents) : .timedOut
    }
}
