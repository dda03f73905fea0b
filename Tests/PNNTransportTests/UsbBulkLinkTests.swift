// UsbBulkLink's transfer queue against an in-memory backend: the queue logic (ordering,
// cancellation, short and zero-length transfers) driven deterministically, one layer alone.
// The libusb bulk path end to end runs under umockdev in Tests/CameraTests/UsbBedTests.swift:
// Tests/TestBeds/usb-urb-bed.c answers USBDEVFS_SUBMITURB / REAPURB / DISCARDURB from the
// camera emulator, so a real libusb session grabs frames with no hardware.
import Dispatch
import Synchronization
import Testing

@testable import PNNTransport

/// A fake USB device: IN transfers wait for device data, OUT transfers land in `received`.
/// Completions are delivered asynchronously on a serial queue, like libusb's event thread.
final class MemoryUsbBackend: UsbBulkBackend {
    struct State {
        var sink: (any UsbTransferSink)?
        var pendingIn: [(slot: Int, length: Int)] = []
        var outbox: [UInt8] = []
        var received: [UInt8] = []
        var unplugged = false
        var shutDown = false
        var maxInFlight = 0
        var freed = false
    }
    let state = Mutex(State())
    let events = DispatchQueue(label: "memory-usb-events")

    func start(sink: any UsbTransferSink) { state.withLock { $0.sink = sink } }

    func submitIn(slot: Int, length: Int) -> UsbTransferStatus? {
        let refused: UsbTransferStatus? = state.withLock { s in
            if s.unplugged { return .noDevice }
            if s.shutDown { return .cancelled }
            s.pendingIn.append((slot, length))
            s.maxInFlight = max(s.maxInFlight, s.pendingIn.count)
            return nil
        }
        if refused == nil { pump() }
        return refused
    }

    func submitOut(id: Int, bytes: [UInt8], timeout: Duration) -> UsbTransferStatus? {
        let sink: (any UsbTransferSink)? = state.withLock { s in
            if s.unplugged { return nil }
            s.received += bytes
            return s.sink
        }
        guard let sink else { return .noDevice }
        events.async { sink.outCompleted(id: id, status: .completed, count: bytes.count) }
        return nil
    }

    /// The device sends `bytes` to the host.
    func deviceSend(_ bytes: [UInt8]) {
        state.withLock { $0.outbox += bytes }
        pump()
    }

    /// Complete pending IN transfers with queued device data, in order: completions are
    /// queued while the lock is held, as libusb completes one endpoint's transfers in order.
    private func pump() {
        state.withLock { s in
            guard let sink = s.sink else { return }
            while !s.outbox.isEmpty, !s.pendingIn.isEmpty {
                let t = s.pendingIn.removeFirst()
                let n = min(t.length, s.outbox.count)
                let bytes = Array(s.outbox.prefix(n))
                s.outbox.removeFirst(n)
                events.async { sink.inCompleted(slot: t.slot, status: .completed, bytes: bytes) }
            }
        }
    }

    func unplug() {
        let (sink, slots) = state.withLock { s in
            s.unplugged = true
            let slots = s.pendingIn.map(\.slot)
            s.pendingIn = []
            return (s.sink, slots)
        }
        for slot in slots { events.async { sink?.inCompleted(slot: slot, status: .noDevice, bytes: []) } }
    }

    func shutdown() {
        let (sink, slots) = state.withLock { s in
            s.shutDown = true
            let slots = s.pendingIn.map(\.slot)
            s.pendingIn = []
            return (s.sink, slots)
        }
        for slot in slots { events.sync { sink?.inCompleted(slot: slot, status: .cancelled, bytes: []) } }
        events.sync {}
        state.withLock {
            $0.freed = true
            $0.sink = nil
        }
    }
}

@Suite struct UsbBulkLinkTests {
    static func makeLink(queued: Int = 4, transferSize: Int = 64) -> (UsbBulkLink, MemoryUsbBackend) {
        let backend = MemoryUsbBackend()
        let engine = UsbTransferEngine(backend: backend, queuedTransfers: queued, transferSize: transferSize)
        return (UsbBulkLink(engine: engine, description: "usb memory"), backend)
    }

    static func readExactly(_ link: UsbBulkLink, _ n: Int) async throws -> [UInt8] {
        var got: [UInt8] = []
        while got.count < n { got += try await link.read(maxCount: n - got.count, timeout: .seconds(2)) }
        return got
    }

    @Test func bytesBothWaysWithSeveralTransfersInFlight() async throws {
        let (link, backend) = Self.makeLink(queued: 4, transferSize: 64)
        #expect(backend.state.withLock { $0.pendingIn.count } == 4)
        let payload = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        backend.deviceSend(payload)
        #expect(try await Self.readExactly(link, payload.count) == payload)
        #expect(backend.state.withLock { $0.maxInFlight } == 4)
        #expect(backend.state.withLock { $0.pendingIn.count } == 4, "every slot is resubmitted")
        let up = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        try await link.write(up)
        #expect(backend.state.withLock { $0.received } == up)
        await link.close()
        #expect(backend.state.withLock { $0.freed })
    }

    @Test func readTimesOutWhenTheDeviceIsSilent() async throws {
        let (link, _) = Self.makeLink()
        await #expect(throws: TransportError.timeout(.milliseconds(50))) {
            _ = try await link.read(maxCount: 8, timeout: .milliseconds(50))
        }
        await link.close()
    }

    @Test func unplugMidStreamGivesClosed() async throws {
        let (link, backend) = Self.makeLink()
        backend.deviceSend([1, 2, 3])
        #expect(try await Self.readExactly(link, 3) == [1, 2, 3])
        let pending = Task { () async -> Result<[UInt8], TransportError> in
            do throws(TransportError) { return .success(try await link.read(maxCount: 8, timeout: .seconds(5))) } catch {
                return .failure(error)
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        backend.unplug()
        #expect(await pending.value == .failure(.closed("device unplugged")))
        await #expect(throws: TransportError.closed("device unplugged")) { try await link.write([9]) }
        await link.close()
        #expect(backend.state.withLock { $0.freed })
    }

    @Test func closeFreesAndLaterCallsThrowClosed() async throws {
        let (link, backend) = Self.makeLink()
        await link.close()
        await link.close()
        #expect(backend.state.withLock { $0.freed && $0.pendingIn.isEmpty })
        await #expect(throws: TransportError.closed("closed locally")) {
            _ = try await link.read(maxCount: 1, timeout: .seconds(1))
        }
    }

    @Test func openingAMissingDeviceSaysSo() {
        let sel = UsbSelector(vendorID: 0xFFFE, productID: 0xFFFD, serialNumber: "NOPE")
        #expect(throws: TransportError.usbDeviceNotFound("fffe:fffd:NOPE")) { _ = try UsbBulkLink.open(sel) }
    }
}
