import CUSB
import Foundation
import Synchronization

/// libusb completion callback: routes the transfer back to its backend.
private let transferDone: libusb_transfer_cb_fn = { transfer in
    guard let transfer, let user = transfer.pointee.user_data else { return }
    Unmanaged<LibusbBulkBackend>.fromOpaque(user).takeUnretainedValue().completed(transfer)
}

/// Asynchronous libusb bulk transfers on one claimed interface, with an event thread running
/// `libusb_handle_events_timeout_completed`.
///
/// Sendability: the libusb pointers are immutable and freed only in ``shutdown()`` after
/// every transfer has completed and the event thread has stopped; all mutable state
/// (in-flight transfers, kept as addresses) lives in a `Mutex`.
final class LibusbBulkBackend: UsbBulkBackend, @unchecked Sendable {
    private enum Kind { case input(Int), output(Int) }
    private struct State {
        var sink: (any UsbTransferSink)?
        var inFlight: [UInt: Kind] = [:]
        var inTransfers: [Int: UInt] = [:]
        var shuttingDown = false
        var running = true
        var done = false
    }
    private let state = Mutex(State())
    private let ctx: OpaquePointer
    private let handle: OpaquePointer
    private let interface: Int32
    private let endpointIn: UInt8
    private let endpointOut: UInt8
    private let stopped = DispatchSemaphore(value: 0)

    init(ctx: OpaquePointer, handle: OpaquePointer, interface: Int32, endpointIn: UInt8, endpointOut: UInt8) {
        self.ctx = ctx
        self.handle = handle
        self.interface = interface
        self.endpointIn = endpointIn
        self.endpointOut = endpointOut
    }

    func start(sink: any UsbTransferSink) {
        state.withLock { $0.sink = sink }
        let thread = Thread { [self] in
            while state.withLock({ $0.running }) {
                var tv = timeval(tv_sec: 0, tv_usec: 100_000)
                _ = libusb_handle_events_timeout_completed(ctx, &tv, nil)
            }
            stopped.signal()
        }
        thread.name = "pnnlab.usb.events"
        thread.start()
    }

    private static func address(_ t: UnsafeMutablePointer<libusb_transfer>) -> UInt { UInt(bitPattern: t) }

    private func submit(_ t: UnsafeMutablePointer<libusb_transfer>, kind: Kind) -> UsbTransferStatus? {
        let ok = state.withLock { s in
            guard !s.shuttingDown else { return false }
            s.inFlight[Self.address(t)] = kind
            return true
        }
        guard ok else { return .cancelled }
        let rc = libusb_submit_transfer(t)
        if rc == 0 { return nil }
        state.withLock { _ = $0.inFlight.removeValue(forKey: Self.address(t)) }
        return rc == LIBUSB_ERROR_NO_DEVICE.rawValue ? .noDevice : .failed(UsbDevices.message(rc))
    }

    func submitIn(slot: Int, length: Int) -> UsbTransferStatus? {
        let existing = state.withLock { $0.inTransfers[slot] }
        let t: UnsafeMutablePointer<libusb_transfer>
        if let existing, let old = UnsafeMutablePointer<libusb_transfer>(bitPattern: existing) {
            t = old
        } else {
            guard let fresh = libusb_alloc_transfer(0), let buffer = malloc(length) else { return .failed("out of memory") }
            t = fresh
            t.pointee.buffer = buffer.assumingMemoryBound(to: UInt8.self)
            t.pointee.length = Int32(length)
            state.withLock { $0.inTransfers[slot] = Self.address(t) }
        }
        t.pointee.dev_handle = handle
        t.pointee.endpoint = endpointIn
        t.pointee.type = UInt8(LIBUSB_TRANSFER_TYPE_BULK.rawValue)
        t.pointee.timeout = 0
        t.pointee.callback = transferDone
        t.pointee.user_data = Unmanaged.passUnretained(self).toOpaque()
        return submit(t, kind: .input(slot))
    }

    func submitOut(id: Int, bytes: [UInt8], timeout: Duration) -> UsbTransferStatus? {
        guard let t = libusb_alloc_transfer(0), let buffer = malloc(max(bytes.count, 1)) else { return .failed("out of memory") }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        t.pointee.dev_handle = handle
        t.pointee.endpoint = endpointOut
        t.pointee.type = UInt8(LIBUSB_TRANSFER_TYPE_BULK.rawValue)
        t.pointee.timeout = UInt32(
            max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        t.pointee.buffer = buffer.assumingMemoryBound(to: UInt8.self)
        t.pointee.length = Int32(bytes.count)
        t.pointee.callback = transferDone
        t.pointee.user_data = Unmanaged.passUnretained(self).toOpaque()
        let failure = submit(t, kind: .output(id))
        if failure != nil {
            free(t.pointee.buffer)
            libusb_free_transfer(t)
        }
        return failure
    }

    /// Called by libusb on the event thread.
    fileprivate func completed(_ t: UnsafeMutablePointer<libusb_transfer>) {
        let (kind, sink) = state.withLock { s in (s.inFlight.removeValue(forKey: Self.address(t)), s.sink) }
        let status: UsbTransferStatus =
            switch t.pointee.status {
            case LIBUSB_TRANSFER_COMPLETED: .completed
            case LIBUSB_TRANSFER_TIMED_OUT: .timedOut
            case LIBUSB_TRANSFER_CANCELLED: .cancelled
            case LIBUSB_TRANSFER_NO_DEVICE: .noDevice
            case LIBUSB_TRANSFER_STALL: .failed("endpoint stalled")
            case LIBUSB_TRANSFER_OVERFLOW: .failed("device sent more data than requested")
            default: .failed("transfer error")
            }
        let count = Int(t.pointee.actual_length)
        switch kind {
        case .input(let slot):
            let bytes = Array(UnsafeBufferPointer(start: t.pointee.buffer, count: count))
            sink?.inCompleted(slot: slot, status: status, bytes: bytes)
        case .output(let id):
            free(t.pointee.buffer)
            libusb_free_transfer(t)
            sink?.outCompleted(id: id, status: status, count: count)
        case nil: break
        }
    }

    func shutdown() {
        let pending = state.withLock { s -> [UInt]? in
            if s.shuttingDown { return nil }
            s.shuttingDown = true
            return Array(s.inFlight.keys)
        }
        guard let pending else { return }
        for a in pending { if let t = UnsafeMutablePointer<libusb_transfer>(bitPattern: a) { _ = libusb_cancel_transfer(t) } }
        let deadline = ContinuousClock.now + .seconds(2)
        while !state.withLock({ $0.inFlight.isEmpty }) && ContinuousClock.now < deadline { usleep(2_000) }
        state.withLock { $0.running = false }
        stopped.wait()
        let (leftovers, ins) = state.withLock { s in (s.inFlight.count, Array(s.inTransfers.values)) }
        // A transfer libusb never finished must not be freed; leak it (and the context) then.
        guard leftovers == 0 else { return }
        for a in ins {
            if let t = UnsafeMutablePointer<libusb_transfer>(bitPattern: a) {
                free(t.pointee.buffer)
                libusb_free_transfer(t)
            }
        }
        _ = libusb_release_interface(handle, interface)
        libusb_close(handle)
        libusb_exit(ctx)
        state.withLock {
            $0.inTransfers = [:]
            $0.sink = nil
            $0.done = true
        }
    }
}
