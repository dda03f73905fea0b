import Dispatch
import Synchronization

/// How one USB transfer ended (libusb's `LIBUSB_TRANSFER_*`, reduced to what the queue needs).
enum UsbTransferStatus: Sendable, Equatable {
    case completed
    case timedOut
    case cancelled
    case noDevice
    case failed(String)
}

/// Receives transfer completions from a backend (on the backend's event thread).
protocol UsbTransferSink: AnyObject, Sendable {
    func inCompleted(slot: Int, status: UsbTransferStatus, bytes: [UInt8])
    func outCompleted(id: Int, status: UsbTransferStatus, count: Int)
}

/// The USB side of a ``UsbBulkLink``: submits asynchronous bulk transfers and reports their
/// completions to the sink. The libusb implementation is `LibusbBulkBackend`; tests use an
/// in-memory one. Submit calls return nil when queued, or the status that prevented it.
protocol UsbBulkBackend: AnyObject, Sendable {
    /// Set the completion sink; called once, before any submit.
    func start(sink: any UsbTransferSink)
    /// Queue a bulk IN transfer of up to `length` bytes for IN slot `slot`.
    func submitIn(slot: Int, length: Int) -> UsbTransferStatus?
    /// Queue a bulk OUT transfer of `bytes`, identified by `id` in its completion.
    func submitOut(id: Int, bytes: [UInt8], timeout: Duration) -> UsbTransferStatus?
    /// Cancel everything in flight, wait for the cancellations, free all resources. Blocking,
    /// idempotent, never called on the event thread.
    func shutdown()
}

/// The transfer-queue logic: keeps `queuedTransfers` IN transfers in flight, collects their
/// bytes in a buffer that `read` awaits, and turns write calls into OUT transfers. A slot
/// whose data would push the buffer past `highWater` is parked until reads drain it.
final class UsbTransferEngine: UsbTransferSink {
    private struct State {
        var inbound: [UInt8] = []
        var closedReason: String?
        var closing = false
        var parked: [Int] = []
        var nextID = 0
        var readers: [Int: CheckedContinuation<Void, Never>] = [:]
        var writers: [Int: CheckedContinuation<Result<Int, TransportError>, Never>] = [:]
    }
    private let state = Mutex(State())
    let backend: any UsbBulkBackend
    let queuedTransfers: Int
    let transferSize: Int
    let highWater: Int
    let writeTimeout: Duration

    init(
        backend: any UsbBulkBackend, queuedTransfers: Int, transferSize: Int = 16_384, highWater: Int = 1 << 20,
        writeTimeout: Duration = .seconds(5)
    ) {
        self.backend = backend
        self.queuedTransfers = max(1, queuedTransfers)
        self.transferSize = transferSize
        self.highWater = highWater
        self.writeTimeout = writeTimeout
    }

    /// Attach to the backend and queue the IN transfers.
    func start() {
        backend.start(sink: self)
        for slot in 0..<queuedTransfers { submit(slot: slot) }
    }

    private func submit(slot: Int) {
        if let failure = backend.submitIn(slot: slot, length: transferSize) { handle(failure) }
    }

    private func handle(_ status: UsbTransferStatus) {
        switch status {
        case .completed, .timedOut, .cancelled: break
        case .noDevice: fail("device unplugged")
        case .failed(let why): fail("USB transfer failed: \(why)")
        }
    }

    /// Mark the link closed for `reason` and wake everything waiting.
    private func fail(_ reason: String) {
        let (readers, writers) = state.withLock { s in
            if s.closedReason == nil { s.closedReason = reason }
            let r = Array(s.readers.values)
            let w = Array(s.writers.values)
            s.readers = [:]
            s.writers = [:]
            return (r, w)
        }
        for r in readers { r.resume() }
        for w in writers { w.resume(returning: .failure(.closed(reason))) }
    }

    func inCompleted(slot: Int, status: UsbTransferStatus, bytes: [UInt8]) {
        switch status {
        case .completed, .timedOut:
            let (resubmit, readers) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                if s.closing || s.closedReason != nil { return (false, []) }
                s.inbound += bytes
                let r = bytes.isEmpty ? [] : Array(s.readers.values)
                if !bytes.isEmpty { s.readers = [:] }
                if s.inbound.count >= highWater {
                    s.parked.append(slot)
                    return (false, r)
                }
                return (true, r)
            }
            for r in readers { r.resume() }
            if resubmit { submit(slot: slot) }
        case .cancelled: break
        case .noDevice, .failed: handle(status)
        }
    }

    func outCompleted(id: Int, status: UsbTransferStatus, count: Int) {
        let writer = state.withLock { $0.writers.removeValue(forKey: id) }
        let result: Result<Int, TransportError> =
            switch status {
            case .completed: .success(count)
            case .timedOut: .failure(.timeout(writeTimeout))
            case .cancelled: .failure(.closed("closed locally"))
            case .noDevice: .failure(.closed("device unplugged"))
            case .failed(let why): .failure(.closed("USB transfer failed: \(why)"))
            }
        writer?.resume(returning: result)
        if status == .noDevice { fail("device unplugged") }
    }

    func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        precondition(maxCount > 0, "maxCount must be positive")
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let (result, resubmit) = state.withLock { s -> (Result<[UInt8], TransportError>?, [Int]) in
                if !s.inbound.isEmpty {
                    let n = min(maxCount, s.inbound.count)
                    let out = Array(s.inbound.prefix(n))
                    s.inbound.removeFirst(n)
                    var slots: [Int] = []
                    if s.inbound.count < highWater, s.closedReason == nil {
                        slots = s.parked
                        s.parked = []
                    }
                    return (.success(out), slots)
                }
                if let why = s.closedReason { return (.failure(.closed(why)), []) }
                return (nil, [])
            }
            for slot in resubmit { submit(slot: slot) }
            if let result { return try result.get() }
            if clock.now >= deadline { throw .timeout(timeout) }
            await waitForData(until: deadline)
            if Task.isCancelled { throw .cancelled }
        }
    }

    private func waitForData(until deadline: ContinuousClock.Instant) async {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            let waiting = state.withLock { s in
                guard s.inbound.isEmpty, s.closedReason == nil else { return false }
                s.readers[id] = cont
                return true
            }
            guard waiting else { return cont.resume() }
            Task { [self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                state.withLock { $0.readers.removeValue(forKey: id) }?.resume()
            }
        }
    }

    func write(_ bytes: [UInt8]) async throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            let chunk = Array(bytes[offset..<min(bytes.count, offset + 65_536)])
            let result: Result<Int, TransportError> = await withCheckedContinuation { cont in
                let id: Int? = state.withLock { s in
                    guard s.closedReason == nil else { return nil }
                    s.nextID += 1
                    s.writers[s.nextID] = cont
                    return s.nextID
                }
                guard let id else {
                    return cont.resume(returning: .failure(.closed(state.withLock { $0.closedReason } ?? "closed")))
                }
                if let failure = backend.submitOut(id: id, bytes: chunk, timeout: writeTimeout) {
                    outCompleted(id: id, status: failure, count: 0)
                    handle(failure)
                }
            }
            let n = try result.get()
            offset += max(n, 0)
            if n == 0 { throw .closed("USB device accepted no data") }
        }
    }

    /// Close: wake waiters with `.closed("closed locally")`, then cancel and free every
    /// transfer on a dispatch thread. Idempotent.
    func close() async {
        let first = state.withLock { s in
            let f = !s.closing
            s.closing = true
            return f
        }
        guard first else { return }
        fail("closed locally")
        let backend = self.backend
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                backend.shutdown()
                cont.resume()
            }
        }
    }
}
