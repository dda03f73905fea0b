import CUSB

#if canImport(Glibc)
    import Glibc
#endif

/// One USB device as libusb enumerates it, with its strings (from sysfs, or from the device
/// when sysfs has none) and the bulk endpoints of its first vendor-class interface.
public struct UsbDeviceInfo: Codable, Sendable, Equatable {
    /// USB vendor ID.
    public var vendorID: UInt16
    /// USB product ID.
    public var productID: UInt16
    /// Bus number.
    public var bus: Int
    /// Device address on the bus.
    public var address: Int
    /// Serial-number string, when readable.
    public var serialNumber: String?
    /// Manufacturer string, when readable.
    public var manufacturer: String?
    /// Product string, when readable.
    public var product: String?
    /// Number of the vendor-class (0xFF) interface that has bulk endpoints, if any.
    public var bulkInterface: Int?
    /// Bulk IN endpoint address (e.g. 0x81) of that interface.
    public var bulkIn: UInt8?
    /// Bulk OUT endpoint address (e.g. 0x01) of that interface.
    public var bulkOut: UInt8?

    /// `"1209:0001"`.
    public var vidpid: String { UsbSelector.hex4(vendorID) + ":" + UsbSelector.hex4(productID) }

    enum CodingKeys: String, CodingKey {
        case vendorID = "vid", productID = "pid", bus, address, serialNumber = "serial", manufacturer, product
        case bulkInterface = "bulk_interface", bulkIn = "bulk_in", bulkOut = "bulk_out"
    }

    public init(vendorID: UInt16, productID: UInt16, bus: Int, address: Int) {
        self.vendorID = vendorID
        self.productID = productID
        self.bus = bus
        self.address = address
    }
}

/// Chooses a USB device by `VID:PID[:SERIAL]` (IDs in hex), e.g. `1209:0001:PNN0001`.
public struct UsbSelector: Sendable, Equatable, CustomStringConvertible {
    /// Vendor ID to match.
    public var vendorID: UInt16
    /// Product ID to match.
    public var productID: UInt16
    /// Serial number to match; nil matches any.
    public var serialNumber: String?

    public init(vendorID: UInt16, productID: UInt16, serialNumber: String? = nil) {
        self.vendorID = vendorID
        self.productID = productID
        self.serialNumber = serialNumber
    }

    /// Parse `VID:PID` or `VID:PID:SERIAL`; throws ``TransportError/invalidUsbSelector(_:)``.
    public init(parsing text: String) throws(TransportError) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        func hex(_ s: Substring) -> UInt16? {
            guard (1...4).contains(s.count), s.allSatisfy(\.isHexDigit) else { return nil }
            return UInt16(s, radix: 16)
        }
        guard parts.count >= 2, let v = hex(parts[0]), let p = hex(parts[1]) else { throw .invalidUsbSelector(text) }
        if parts.count == 3, parts[2].isEmpty { throw .invalidUsbSelector(text) }
        self.init(vendorID: v, productID: p, serialNumber: parts.count == 3 ? String(parts[2]) : nil)
    }

    /// Whether `device` is the one this selector names.
    public func matches(_ device: UsbDeviceInfo) -> Bool {
        device.vendorID == vendorID && device.productID == productID
            && (serialNumber == nil || device.serialNumber == serialNumber)
    }

    public var description: String {
        UsbSelector.hex4(vendorID) + ":" + UsbSelector.hex4(productID) + (serialNumber.map { ":" + $0 } ?? "")
    }

    static func hex4(_ x: UInt16) -> String {
        let s = String(x, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }
}

/// USB device enumeration through libusb.
public enum UsbDevices {
    /// Every USB device libusb can see, sorted by bus and address.
    public static func list() throws(TransportError) -> [UsbDeviceInfo] {
        var ctx: OpaquePointer?
        let rc = libusb_init(&ctx)
        guard rc == 0 else { throw .usb(operation: "libusb_init", message: UsbDevices.message(rc)) }
        defer { libusb_exit(ctx) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = libusb_get_device_list(ctx, &list)
        guard n >= 0, let list else {
            throw .usb(operation: "listing devices", message: UsbDevices.message(Int32(truncatingIfNeeded: n)))
        }
        defer { libusb_free_device_list(list, 1) }
        var out: [UsbDeviceInfo] = []
        for i in 0..<n {
            if let dev = list[i], let info = describe(dev) { out.append(info) }
        }
        return out.sorted { ($0.bus, $0.address) < ($1.bus, $1.address) }
    }

    /// The device's description, or nil if libusb cannot read its device descriptor.
    static func describe(_ dev: OpaquePointer) -> UsbDeviceInfo? {
        var d = libusb_device_descriptor()
        guard libusb_get_device_descriptor(dev, &d) == 0 else { return nil }
        var info = UsbDeviceInfo(
            vendorID: d.idVendor, productID: d.idProduct, bus: Int(libusb_get_bus_number(dev)),
            address: Int(libusb_get_device_address(dev)))
        if let dir = sysfsDirectory(dev) {
            info.serialNumber = readLine("\(dir)/serial")
            info.manufacturer = readLine("\(dir)/manufacturer")
            info.product = readLine("\(dir)/product")
        }
        if info.serialNumber == nil && info.product == nil {
            readStrings(dev, d, into: &info)
        }
        findBulkInterface(dev, into: &info)
        return info
    }

    /// `/sys/bus/usb/devices/B-P.P.P` for a device behind a hub port (nil for root hubs).
    static func sysfsDirectory(_ dev: OpaquePointer) -> String? {
        var ports = [UInt8](repeating: 0, count: 8)
        let n = libusb_get_port_numbers(dev, &ports, Int32(ports.count))
        guard n > 0 else { return nil }
        return "/sys/bus/usb/devices/\(libusb_get_bus_number(dev))-"
            + ports.prefix(Int(n)).map { String($0) }.joined(separator: ".")
    }

    static func readLine(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 256)
        guard fgets(&buf, Int32(buf.count), f) != nil else { return nil }
        let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let line = s.hasSuffix("\n") ? String(s.dropLast()) : s
        return line.isEmpty ? nil : line
    }

    /// Read the string descriptors from the device itself (needs permission to open it).
    static func readStrings(_ dev: OpaquePointer, _ d: libusb_device_descriptor, into info: inout UsbDeviceInfo) {
        var handle: OpaquePointer?
        guard libusb_open(dev, &handle) == 0, let handle else { return }
        defer { libusb_close(handle) }
        func string(_ index: UInt8) -> String? {
            guard index != 0 else { return nil }
            var buf = [UInt8](repeating: 0, count: 256)
            let n = libusb_get_string_descriptor_ascii(handle, index, &buf, Int32(buf.count))
            return n > 0 ? String(decoding: buf.prefix(Int(n)), as: UTF8.self) : nil
        }
        info.serialNumber = string(d.iSerialNumber)
        info.manufacturer = string(d.iManufacturer)
        info.product = string(d.iProduct)
    }

    static func findBulkInterface(_ dev: OpaquePointer, into info: inout UsbDeviceInfo) {
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        if libusb_get_active_config_descriptor(dev, &config) != 0 {
            guard libusb_get_config_descriptor(dev, 0, &config) == 0 else { return }
        }
        guard let config else { return }
        defer { libusb_free_config_descriptor(config) }
        for i in 0..<Int(config.pointee.bNumInterfaces) {
            let iface = config.pointee.interface[i]
            for a in 0..<Int(iface.num_altsetting) {
                let alt = iface.altsetting[a]
                guard alt.bInterfaceClass == UInt8(LIBUSB_CLASS_VENDOR_SPEC.rawValue) else { continue }
                var bulkIn: UInt8?
                var bulkOut: UInt8?
                for e in 0..<Int(alt.bNumEndpoints) {
                    let ep = alt.endpoint[e]
                    guard ep.bmAttributes & 0x03 == UInt8(LIBUSB_TRANSFER_TYPE_BULK.rawValue) else { continue }
                    if ep.bEndpointAddress & 0x80 != 0 {
                        bulkIn = bulkIn ?? ep.bEndpointAddress
                    } else {
                        bulkOut = bulkOut ?? ep.bEndpointAddress
                    }
                }
                if let bulkIn, let bulkOut {
                    info.bulkInterface = Int(alt.bInterfaceNumber)
                    info.bulkIn = bulkIn
                    info.bulkOut = bulkOut
                    return
                }
            }
        }
    }

    /// libusb's explanation of an error code.
    static func message(_ code: Int32) -> String {
        guard let s = libusb_strerror(code) else { return "libusb error \(code)" }
        return String(cString: s)
    }
}
