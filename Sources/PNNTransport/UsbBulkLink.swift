import CUSB

/// A ``Transport`` over the bulk IN/OUT endpoints of a USB device's vendor-class interface,
/// with asynchronous libusb transfers: `queuedTransfers` IN transfers stay queued, an event
/// thread completes them into a buffer that ``read(maxCount:timeout:)`` awaits, writes are
/// OUT transfers. Unplugging gives ``TransportError/closed(_:)`` with "device unplugged";
/// ``close()`` cancels and frees every transfer before it returns.
public final class UsbBulkLink: Transport {
    let engine: UsbTransferEngine
    public let description: String

    init(engine: UsbTransferEngine, description: String) {
        self.engine = engine
        self.description = description
        engine.start()
    }

    /// Open the first device matching `selector`, claim its vendor-class bulk interface
    /// (detaching a kernel driver if needed) and queue `queuedTransfers` IN transfers.
    public static func open(_ selector: UsbSelector, queuedTransfers: Int = 4) throws(TransportError) -> UsbBulkLink {
        var ctxHandle: OpaquePointer?
        let rc = libusb_init(&ctxHandle)
        guard rc == 0, let ctx = ctxHandle else { throw .usb(operation: "libusb_init", message: UsbDevices.message(rc)) }
        func fail(_ e: TransportError, _ handle: OpaquePointer? = nil) -> TransportError {
            if let handle { libusb_close(handle) }
            libusb_exit(ctx)
            return e
        }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = libusb_get_device_list(ctx, &list)
        guard n >= 0, let list else {
            throw fail(.usb(operation: "listing devices", message: UsbDevices.message(Int32(truncatingIfNeeded: n))))
        }
        var found: (OpaquePointer, UsbDeviceInfo)?
        for i in 0..<n {
            if let dev = list[i], let info = UsbDevices.describe(dev), selector.matches(info) {
                found = (dev, info)
                break
            }
        }
        var handle: OpaquePointer?
        let openRC = found.map { libusb_open($0.0, &handle) } ?? 0
        libusb_free_device_list(list, 1)
        guard let (_, info) = found else { throw fail(.usbDeviceNotFound(selector.description)) }
        let name = "usb:\(selector)"
        guard openRC == 0, let handle else {
            switch openRC {
            case LIBUSB_ERROR_ACCESS.rawValue: throw fail(.permissionDenied(path: name))
            case LIBUSB_ERROR_NO_DEVICE.rawValue: throw fail(.usbDeviceNotFound(selector.description))
            default: throw fail(.usb(operation: "opening \(name)", message: UsbDevices.message(openRC)))
            }
        }
        guard let iface = info.bulkInterface, let epIn = info.bulkIn, let epOut = info.bulkOut else {
            throw fail(.usb(operation: "opening \(name)", message: "the device has no vendor-class bulk interface"), handle)
        }
        _ = libusb_set_auto_detach_kernel_driver(handle, 1)
        let claim = libusb_claim_interface(handle, Int32(iface))
        if claim != 0 {
            throw fail(
                claim == LIBUSB_ERROR_BUSY.rawValue
                    ? .busy(path: name) : .usb(operation: "claiming interface \(iface)", message: UsbDevices.message(claim)),
                handle)
        }
        let backend = LibusbBulkBackend(
            ctx: ctx, handle: handle, interface: Int32(iface), endpointIn: epIn, endpointOut: epOut)
        let engine = UsbTransferEngine(backend: backend, queuedTransfers: queuedTransfers)
        return UsbBulkLink(
            engine: engine,
            description: "usb \(info.vidpid) bus \(info.bus) addr \(info.address) (libusb, \(queuedTransfers) IN transfers)")
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) { try await engine.write(bytes) }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        try await engine.read(maxCount: maxCount, timeout: timeout)
    }

    public func close() async { await engine.close() }
}
