import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Owns one non-blocking file descriptor and runs every blocking `poll` on dedicated
/// dispatch queues (one for reads, one for writes), never on a Swift concurrency thread.
/// A wait lasts its whole timeout (an idle link costs no CPU); ``close()`` wakes it through
/// a ``CloseSignal``. The descriptor is closed only after both queues have drained, so it is
/// never reused under a running poll.
final class FDChannel: Sendable {
    let fd: Int32
    let path: String
    private struct State {
        var closing = false
        var fdClosed = false
        /// Reads and writes handed to the queues and not finished: while one is pending, a
        /// new call queues behind it rather than taking the fast path, so bytes keep their order.
        var queuedReads = 0
        var queuedWrites = 0
        /// Inline reads (``readNow(maxCount:wait:)``) running now, and when the last one
        /// ended: a background ``waitReadable(timeout:)`` holds off meanwhile, so it does not
        /// wake (and hop) for bytes an inline reader is about to take.
        var inlineReads = 0
        var lastInlineRead: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let readWorker: BlockingWorker
    private let writeWorker: BlockingWorker
    private let closeSignal = CloseSignal()
    /// The buffer every `read(2)` lands in; each read returns an array of exactly the bytes
    /// read (a tty gives at most 4 KiB per read: a fresh 64 KiB array per read cost more
    /// than the read, and page faults in the emulator's profile).
    private let scratch = Mutex(ReadScratch())

    /// A fixed read buffer, freed with its channel.
    struct ReadScratch: ~Copyable {
        static let size = 1 << 16
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: ReadScratch.size, alignment: 16)
        deinit { bytes.deallocate() }
    }

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        readWorker = BlockingWorker(name: "pnnlab.transport.read")
        writeWorker = BlockingWorker(name: "pnnlab.transport.write")
    }

    deinit {
        // Queued jobs retain `self`, so nothing can be in flight here.
        let mustClose = state.withLock { s in
            let m = !s.fdClosed
            s.fdClosed = true
            return m
        }
        if mustClose { TerminalRestore.close(fd) }
        readWorker.finish()
        writeWorker.finish()
    }

    private var isClosing: Bool { state.withLock { $0.closing } }

    func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        precondition(maxCount > 0, "maxCount must be positive")
        // Fast path: bytes already waiting are read on the caller's thread, with no queue hop.
        let now: Result<[UInt8], TransportError>? = state.withLock { s in
            guard !s.closing, s.queuedReads == 0 else { return nil }
            let (out, n) = readOnce(maxCount)
            if n > 0 { return .success(out) }
            // 0 is "no data yet" on a raw tty (VMIN = VTIME = 0), and EIO may only mean a pty's
            // other end is not open yet: the queued wait below tells a hang-up apart by `poll`.
            if n < 0 {
                let e = errno
                if e != EAGAIN && e != EWOULDBLOCK && e != EINTR && e != EIO {
                    return .failure(.system(operation: "read", path: path, errno: e))
                }
            }
            s.queuedReads += 1
            return nil
        }
        if let now { return try now.get() }
        let result: Result<[UInt8], TransportError> = await withCheckedContinuation { cont in
            readWorker.run {
                let r = self.blockingRead(maxCount: maxCount, timeout: timeout)
                self.state.withLock { $0.queuedReads -= 1 }
                cont.resume(returning: r)
            }
        }
        return try result.get()
    }

    func write(_ bytes: [UInt8]) async throws(TransportError) {
        if bytes.isEmpty { return }
        // Fast path: a non-blocking write on the caller's thread; what the port cannot take
        // now (or everything, while an earlier write is still queued) goes to the write queue.
        let rest: Result<Int, TransportError> = state.withLock { s in
            if s.closing { return .failure(.closed("closed locally")) }
            var written = 0
            if s.queuedWrites == 0 {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    written = n
                } else if n < 0 {
                    let e = errno
                    if e == EIO || e == EPIPE || e == ENXIO || e == ENODEV { return .failure(.closed("device unplugged")) }
                    if e != EAGAIN && e != EWOULDBLOCK && e != EINTR {
                        return .failure(.system(operation: "write", path: path, errno: e))
                    }
                }
            }
            if written < bytes.count { s.queuedWrites += 1 }
            return .success(written)
        }
        let offset = try rest.get()
        if offset == bytes.count { return }
        let result: Result<Void, TransportError> = await withCheckedContinuation { cont in
            writeWorker.run {
                let r = self.blockingWrite(bytes, from: offset)
                self.state.withLock { $0.queuedWrites -= 1 }
                cont.resume(returning: r)
            }
        }
        try result.get()
    }

    /// Writes what the port takes now, on the calling thread, never blocking: the count
    /// written (0 while an earlier write is still queued, so bytes keep their order).
    func writeNow(_ bytes: [UInt8]) throws(TransportError) -> Int {
        if bytes.isEmpty { return 0 }
        let r: Result<Int, TransportError> = state.withLock { s in
            if s.closing { return .failure(.closed("closed locally")) }
            if s.queuedWrites > 0 { return .success(0) }
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n >= 0 { return .success(n) }
            let e = errno
            if e == EIO || e == EPIPE || e == ENXIO || e == ENODEV { return .failure(.closed("device unplugged")) }
            if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return .success(0) }
            return .failure(.system(operation: "write", path: path, errno: e))
        }
        return try r.get()
    }

    /// Reads what has arrived, waiting up to `wait` on the calling thread for the first byte
    /// (a `poll` that ``close()`` interrupts); `[]` when nothing came, or while an
    /// asynchronous read is queued (it has the bytes' order).
    func readNow(maxCount: Int, wait: Duration) throws(TransportError) -> [UInt8] {
        precondition(maxCount > 0, "maxCount must be positive")
        let admitted = state.withLock { s in
            guard !s.closing, s.queuedReads == 0 else { return false }
            s.inlineReads += 1
            return true
        }
        guard admitted else {
            if isClosing { throw .closed("closed locally") }
            return []
        }
        var gotBytes = false
        defer {
            // After bytes, more inline reads are likely to follow: the background wait keeps
            // holding off for a moment. After a wait that saw nothing, it may watch at once.
            let end: ContinuousClock.Instant? = gotBytes ? ContinuousClock.now : nil
            state.withLock { s in
                s.inlineReads -= 1
                s.lastInlineRead = end
            }
        }
        var polled = false
        let deadline = ContinuousClock.now + wait
        // With a wait, bytes are usually not there yet (a reply to what was just written):
        // `poll` first, then read, saves the read that would only say EAGAIN.
        var skipRead = wait > .zero
        while true {
            if skipRead {
                skipRead = false
                guard let readable = try pollReadable(milliseconds: max(Self.milliseconds(wait), 1)) else { return [] }
                if readable { polled = true }
                continue
            }
            let (out, n) = readOnce(maxCount)
            if n > 0 {
                gotBytes = true
                return out
            }
            let e = n < 0 ? errno : 0
            if n < 0, e != EAGAIN, e != EWOULDBLOCK, e != EINTR, e != EIO {
                throw .system(operation: "read", path: path, errno: e)
            }
            // After `poll` said readable, 0 bytes or EIO is the other end gone.
            if polled, n == 0 || e == EIO { throw .closed("device unplugged") }
            let left = Self.milliseconds(deadline - ContinuousClock.now)
            if left <= 0 && polled { return [] }
            // Even without a wait, one `poll` tells "nothing yet" (0 or EIO from a raw tty)
            // from a hang-up, so an owner pumping a readable port learns that it is gone.
            let ms = wait <= .zero ? 0 : max(left, 1)
            switch try pollReadable(milliseconds: ms) {
            case nil: if wait <= .zero || ContinuousClock.now >= deadline { return [] }
            case true?: polled = true
            case false?: break
            }
        }
    }

    /// One `poll` for input: true when the port is readable, false when `poll` returned for
    /// something else, nil when the wait ran out; a hang-up, an error or a local close throws.
    private func pollReadable(milliseconds: Int64) throws(TransportError) -> Bool? {
        switch closeSignal.wait(on: fd, events: Int16(POLLIN), milliseconds: milliseconds) {
        case .closed: throw .closed("closed locally")
        case .failed(let e): throw .system(operation: "poll", path: path, errno: e)
        case .timedOut: return nil
        case .ready(let revents):
            if revents & Int16(POLLIN) != 0 { return true }
            if revents & Int16(POLLHUP | POLLERR) != 0 { throw .closed("device unplugged") }
            if revents & Int16(POLLNVAL) != 0 { throw .closed("closed locally") }
            return false
        }
    }

    /// How long after an inline read a background readiness wait keeps holding off.
    static let inlineHoldOff: Duration = .milliseconds(2)

    /// Waits (on the read thread) until bytes can be read, without reading them; throws
    /// ``TransportError/timeout(_:)`` after `timeout`, `.closed` when the port hangs up or closes.
    /// While inline reads run (or ran in the last ``inlineHoldOff``) it holds off, so a link
    /// read inline by its owner costs no wake-ups here.
    func waitReadable(timeout: Duration) async throws(TransportError) {
        let result: Result<Void, TransportError> = await withCheckedContinuation { cont in
            readWorker.run { cont.resume(returning: self.blockingWaitReadable(timeout: timeout)) }
        }
        try result.get()
    }

    private func blockingWaitReadable(timeout: Duration) -> Result<Void, TransportError> {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (closing, inline, last) = state.withLock { ($0.closing, $0.inlineReads, $0.lastInlineRead) }
            if closing { return .failure(.closed("closed locally")) }
            let now = ContinuousClock.now
            if now >= deadline { return .failure(.timeout(timeout)) }
            if inline > 0 || last.map({ now - $0 < Self.inlineHoldOff }) ?? false {
                // An inline reader is at work: sleep (close still wakes us) instead of polling,
                // in short naps so a reader that gives up is followed at once.
                if case .closed = closeSignal.wait(on: -1, events: 0, milliseconds: 1) {
                    return .failure(.closed("closed locally"))
                }
                continue
            }
            let ms = Self.milliseconds(deadline - now)
            switch closeSignal.wait(on: fd, events: Int16(POLLIN), milliseconds: max(ms, 1)) {
            case .closed: return .failure(.closed("closed locally"))
            case .failed(let e): return .failure(.system(operation: "poll", path: path, errno: e))
            case .timedOut: continue
            case .ready(let revents):
                // A hung-up tty polls readable too, but what a read gets there is the end.
                if revents & Int16(POLLHUP | POLLERR) != 0 { return .failure(.closed("device unplugged")) }
                if revents & Int16(POLLIN) != 0 {
                    // Readable; if an inline reader started meanwhile it takes the bytes.
                    let busy = state.withLock { s in
                        s.inlineReads > 0 || s.lastInlineRead.map { ContinuousClock.now - $0 < Self.inlineHoldOff } ?? false
                    }
                    if busy { continue }
                    return .success(())
                }
                if revents & Int16(POLLNVAL) != 0 { return .failure(.closed("closed locally")) }
            }
        }
    }

    func close() async {
        let first = state.withLock { s in
            let f = !s.closing
            s.closing = true
            return f
        }
        guard first else { return }
        closeSignal.fire()
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            readWorker.run {
                self.writeWorker.run {
                    let mustClose = self.state.withLock { s in
                        let m = !s.fdClosed
                        s.fdClosed = true
                        return m
                    }
                    if mustClose { TerminalRestore.close(self.fd) }
                    cont.resume()
                }
            }
        }
        // Every job of this port has run: the threads may go.
        readWorker.finish()
        writeWorker.finish()
    }

    /// One `read(2)` of up to `maxCount` bytes (at most 64 KiB) into the scratch buffer,
    /// returned as an array of exactly the bytes read: the bytes and read's result.
    private func readOnce(_ maxCount: Int) -> ([UInt8], Int) {
        var n = 0
        var e: Int32 = 0
        let out = scratch.withLock { s -> [UInt8] in
            n = Glibc.read(fd, s.bytes, min(maxCount, ReadScratch.size))
            e = errno
            guard n > 0 else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: s.bytes, count: n))
        }
        errno = e  // for the caller's checks, whatever the array's allocation did
        return (out, n)
    }

    private static func milliseconds(_ d: Duration) -> Int64 {
        let c = d.components
        return max(0, c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000)
    }

    private func blockingRead(maxCount: Int, timeout: Duration) -> Result<[UInt8], TransportError> {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if isClosing { return .failure(.closed("closed locally")) }
            let remaining = Self.milliseconds(deadline - clock.now)
            switch closeSignal.wait(on: fd, events: Int16(POLLIN), milliseconds: remaining) {
            case .closed: return .failure(.closed("closed locally"))
            case .failed(let e): return .failure(.system(operation: "poll", path: path, errno: e))
            case .timedOut: break
            case .ready(let revents):
                if revents & Int16(POLLIN) != 0 {
                    let (out, n) = readOnce(maxCount)
                    if n > 0 { return .success(out) }
                    if n == 0 { return .failure(.closed("device unplugged")) }
                    let e = errno
                    if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { continue }
                    if e == EIO || e == ENXIO || e == ENODEV { return .failure(.closed("device unplugged")) }
                    return .failure(.system(operation: "read", path: path, errno: e))
                }
                if revents & Int16(POLLHUP | POLLERR) != 0 { return .failure(.closed("device unplugged")) }
                if revents & Int16(POLLNVAL) != 0 { return .failure(.closed("closed locally")) }
            }
            if clock.now >= deadline { return .failure(.timeout(timeout)) }
        }
    }

    private func blockingWrite(_ bytes: [UInt8], from start: Int) -> Result<Void, TransportError> {
        var offset = start
        let clock = ContinuousClock()
        var lastProgress = clock.now
        while offset < bytes.count {
            if isClosing { return .failure(.closed("closed locally")) }
            let n = bytes.withUnsafeBytes { buf in
                Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
            }
            if n > 0 {
                offset += n
                lastProgress = clock.now
                continue
            }
            let e = n < 0 ? errno : EAGAIN
            if e == EINTR { continue }
            if e == EIO || e == EPIPE || e == ENXIO || e == ENODEV { return .failure(.closed("device unplugged")) }
            guard e == EAGAIN || e == EWOULDBLOCK else {
                return .failure(.system(operation: "write", path: path, errno: e))
            }
            // Nobody is draining the other end: give up rather than hang for ever.
            if clock.now - lastProgress > writeStallLimit { return .failure(.timeout(writeStallLimit)) }
            let left = Self.milliseconds(writeStallLimit - (clock.now - lastProgress)) + 1
            switch closeSignal.wait(on: fd, events: Int16(POLLOUT), milliseconds: left) {
            case .closed: return .failure(.closed("closed locally"))
            case .ready(let revents):
                if revents & Int16(POLLHUP | POLLERR) != 0, revents & Int16(POLLOUT) == 0 {
                    return .failure(.closed("device unplugged"))
                }
                if revents & Int16(POLLNVAL) != 0 { return .failure(.closed("closed locally")) }
            case .timedOut, .failed: break
            }
        }
        return .success(())
    }
}

/// A ``Transport`` whose owner may also do I/O on its own thread, without a hop to a read
/// or write thread: a host waiting for a reply reads it inline (``readNow(maxCount:wait:)``),
/// a writer that finds the port idle writes at once (``writeNow(_:)``), and a background
/// reader only watches for bytes (``waitReadable(timeout:)``) and lets the owner read them,
/// so every byte is read by one party, in order. Descriptor-backed links (ptys, termios
/// serial ports) conform.
public protocol DirectTransport: Transport {
    /// Writes what the port takes now, never blocking; returns the count written (0 while an
    /// earlier ``Transport/write(_:)`` is still queued, so bytes keep their order).
    func writeNow(_ bytes: [UInt8]) throws(TransportError) -> Int
    /// Reads up to `maxCount` bytes that arrived, waiting up to `wait` on the calling thread
    /// for the first; `[]` when nothing came. Throws `.closed` when the other end is gone.
    func readNow(maxCount: Int, wait: Duration) throws(TransportError) -> [UInt8]
    /// Waits until bytes can be read (without reading them); throws
    /// ``TransportError/timeout(_:)`` after `timeout`, `.closed` when the link ends.
    func waitReadable(timeout: Duration) async throws(TransportError)
}

/// A ``Transport`` over any already-open file descriptor (for example the master side of a
/// ``PtyPair``, which an emulator or a test holds). The link owns the descriptor, sets it
/// non-blocking and close-on-exec, and closes it in ``close()`` (or when released).
public final class FileDescriptorLink: DirectTransport {
    let channel: FDChannel
    public let description: String

    /// Take ownership of `fd`; `name` appears in messages and ``description``.
    public init(fd: Int32, name: String) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        channel = FDChannel(fd: fd, path: name)
        description = "fd \(fd) (\(name))"
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        try await channel.write(bytes)
    }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        try await channel.read(maxCount: maxCount, timeout: timeout)
    }

    public func close() async { await channel.close() }

    public func writeNow(_ bytes: [UInt8]) throws(TransportError) -> Int { try channel.writeNow(bytes) }

    public func readNow(maxCount: Int, wait: Duration) throws(TransportError) -> [UInt8] {
        try channel.readNow(maxCount: maxCount, wait: wait)
    }

    public func waitReadable(timeout: Duration) async throws(TransportError) {
        try await channel.waitReadable(timeout: timeout)
    }
}
