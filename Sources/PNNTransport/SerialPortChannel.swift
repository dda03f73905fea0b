import CSerialPort
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Owns one open libserialport port. Reads and writes use `sp_nonblocking_read/write`; the
/// waits between them are `poll`s on the port's descriptor for the whole timeout, run on
/// dedicated dispatch queues (never on a Swift concurrency thread), woken by a
/// ``CloseSignal`` on close. ``close()`` waits for both queues to drain, then `sp_close` +
/// `sp_free_port`, so the port is never freed under a call.
final class SerialPortChannel: Sendable {
    private struct State {
        /// The `sp_port` pointer's address (0 once freed), kept as an integer so the state is Sendable.
        var port: UInt
        var closing = false
        /// Reads and writes handed to the queues and not finished: while one is pending, a
        /// new call queues behind it rather than taking the fast path, so bytes keep their order.
        var queuedReads = 0
        var queuedWrites = 0
    }
    private let state: Mutex<State>
    private let fd: Int32
    private let path: String
    private let readWorker: BlockingWorker
    private let writeWorker: BlockingWorker
    private let closeSignal = CloseSignal()

    init(port: OpaquePointer, fd: Int32, path: String) {
        state = Mutex(State(port: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(port)))))
        self.fd = fd
        self.path = path
        readWorker = BlockingWorker(name: "pnnlab.serialport.read")
        writeWorker = BlockingWorker(name: "pnnlab.serialport.write")
    }

    deinit {
        release()
        readWorker.finish()
        writeWorker.finish()
    }

    private func release() {
        state.withLock { s in
            if let p = OpaquePointer(bitPattern: s.port) {
                sp_close(p)
                sp_free_port(p)
            }
            s.port = 0
            s.closing = true
        }
    }

    func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        precondition(maxCount > 0, "maxCount must be positive")
        // Fast path: bytes already waiting are read on the caller's thread, with no queue hop.
        let now: Result<[UInt8], TransportError>? = state.withLock { s in
            guard !s.closing, s.queuedReads == 0, let p = OpaquePointer(bitPattern: s.port) else { return nil }
            var out = [UInt8](repeating: 0, count: maxCount)
            let n = out.withUnsafeMutableBytes { sp_nonblocking_read(p, $0.baseAddress, maxCount) }
            if n.rawValue > 0 {
                out.removeLast(maxCount - Int(n.rawValue))
                return .success(out)
            }
            if n.rawValue < 0 { return .failure(failure("read")) }
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
            guard !s.closing, let p = OpaquePointer(bitPattern: s.port) else { return .failure(.closed("closed locally")) }
            var written = 0
            if s.queuedWrites == 0 {
                let n = bytes.withUnsafeBytes { sp_nonblocking_write(p, $0.baseAddress, $0.count) }
                if n.rawValue > 0 {
                    written = Int(n.rawValue)
                } else if n.rawValue < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    return .failure(failure("write"))
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
                    self.release()
                    cont.resume()
                }
            }
        }
        // Every job of this port has run: the threads may go.
        readWorker.finish()
        writeWorker.finish()
    }

    private var isOpen: Bool { state.withLock { !$0.closing && $0.port != 0 } }

    /// Run `body` on the open port, or report that the link was closed.
    private func withPort<T: Sendable>(_ body: (OpaquePointer) -> T) -> T? {
        state.withLock { s in
            guard !s.closing, let p = OpaquePointer(bitPattern: s.port) else { return nil }
            return body(p)
        }
    }

    private func failure(_ operation: String) -> TransportError {
        let e = sp_last_error_code()
        if e == EIO || e == ENXIO || e == ENODEV || e == EPIPE { return .closed("device unplugged") }
        return .system(operation: operation, path: path, errno: e)
    }

    private func blockingRead(maxCount: Int, timeout: Duration) -> Result<[UInt8], TransportError> {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let remaining = deadline - clock.now
            let ms = max(0, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            // The descriptor stays valid during the poll: close() frees the port only after
            // this queue has drained. The lock is not held, so writes proceed meanwhile.
            guard isOpen else { return .failure(.closed("closed locally")) }
            switch closeSignal.wait(on: fd, events: Int16(POLLIN), milliseconds: ms) {
            case .closed: return .failure(.closed("closed locally"))
            case .failed(let e): return .failure(.system(operation: "poll", path: path, errno: e))
            case .timedOut: break
            case .ready(let revents):
                if revents & Int16(POLLIN) != 0 {
                    var out = [UInt8](repeating: 0, count: maxCount)
                    let n = withPort { p in out.withUnsafeMutableBytes { sp_nonblocking_read(p, $0.baseAddress, maxCount) } }
                    guard let n else { return .failure(.closed("closed locally")) }
                    if n.rawValue > 0 {
                        out.removeLast(maxCount - Int(n.rawValue))
                        return .success(out)
                    }
                    if n.rawValue < 0 { return .failure(failure("read")) }
                    if revents & Int16(POLLHUP) != 0 { return .failure(.closed("device unplugged")) }
                } else if revents & Int16(POLLHUP | POLLERR) != 0 {
                    return .failure(.closed("device unplugged"))
                } else if revents & Int16(POLLNVAL) != 0 {
                    return .failure(.closed("closed locally"))
                }
            }
            if clock.now >= deadline { return .failure(.timeout(timeout)) }
        }
    }

    private func blockingWrite(_ bytes: [UInt8], from start: Int) -> Result<Void, TransportError> {
        var offset = start
        let clock = ContinuousClock()
        var lastProgress = clock.now
        while offset < bytes.count {
            let n = withPort { p in
                bytes.withUnsafeBytes { buf in sp_nonblocking_write(p, buf.baseAddress! + offset, buf.count - offset) }
            }
            guard let n else { return .failure(.closed("closed locally")) }
            // libserialport reports EAGAIN/EINTR as a failed write: it only means "not now".
            if n.rawValue < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                return .failure(failure("write"))
            }
            if n.rawValue > 0 {
                offset += Int(n.rawValue)
                lastProgress = clock.now
                continue
            }
            guard isOpen else { return .failure(.closed("closed locally")) }
            // Nobody is draining the other end: give up rather than hang for ever.
            if clock.now - lastProgress > writeStallLimit { return .failure(.timeout(writeStallLimit)) }
            let stalled = writeStallLimit - (clock.now - lastProgress)
            let left = stalled.components.seconds * 1000 + stalled.components.attoseconds / 1_000_000_000_000_000 + 1
            switch closeSignal.wait(on: fd, events: Int16(POLLOUT), milliseconds: left) {
            case .closed: return .failure(.closed("closed locally"))
            case .ready(let revents):
                if revents & Int16(POLLHUP | POLLERR) != 0, revents & Int16(POLLOUT) == 0 {
                    return .failure(.closed("device unplugged"))
                }
            case .timedOut, .failed: break
            }
        }
        return .success(())
    }
}
