import CSerialPort

#if canImport(Glibc)
    import Glibc
#endif

/// How a serial port is attached to the machine, as libserialport reports it.
public enum SerialTransportKind: String, Codable, Sendable {
    /// A USB-serial adapter or a USB CDC-ACM board.
    case usb
    /// A port on the mainboard (or anything libserialport does not classify).
    case native
    /// A Bluetooth serial link (rfcomm).
    case bluetooth
}

/// One serial port and what libserialport knows about it (USB IDs and strings for USB ports).
public struct SerialPortInfo: Codable, Sendable, Equatable {
    /// Device path, e.g. `/dev/ttyUSB0`.
    public var path: String
    /// How the port is attached.
    public var transport: SerialTransportKind
    /// USB vendor ID (USB ports only).
    public var vendorID: UInt16?
    /// USB product ID (USB ports only).
    public var productID: UInt16?
    /// USB serial-number string, if the device has one.
    public var serialNumber: String?
    /// libserialport's description (the USB product string for USB ports).
    public var description: String?
    /// USB manufacturer string.
    public var manufacturer: String?
    /// USB product string.
    public var product: String?
    /// USB bus number.
    public var bus: Int?
    /// USB device address on the bus.
    public var address: Int?

    /// `"0403:6001"` for USB ports, nil otherwise.
    public var vidpid: String? {
        guard let v = vendorID, let p = productID else { return nil }
        return UsbSelector.hex4(v) + ":" + UsbSelector.hex4(p)
    }

    enum CodingKeys: String, CodingKey {
        case path, transport, vendorID = "vid", productID = "pid", serialNumber = "serial", description
        case manufacturer, product, bus, address, vidpid
    }

    public init(
        path: String, transport: SerialTransportKind, vendorID: UInt16? = nil, productID: UInt16? = nil,
        serialNumber: String? = nil, description: String? = nil, manufacturer: String? = nil,
        product: String? = nil, bus: Int? = nil, address: Int? = nil
    ) {
        self.path = path
        self.transport = transport
        self.vendorID = vendorID
        self.productID = productID
        self.serialNumber = serialNumber
        self.description = description
        self.manufacturer = manufacturer
        self.product = product
        self.bus = bus
        self.address = address
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            path: try c.decode(String.self, forKey: .path),
            transport: try c.decode(SerialTransportKind.self, forKey: .transport),
            vendorID: try c.decodeIfPresent(UInt16.self, forKey: .vendorID),
            productID: try c.decodeIfPresent(UInt16.self, forKey: .productID),
            serialNumber: try c.decodeIfPresent(String.self, forKey: .serialNumber),
            description: try c.decodeIfPresent(String.self, forKey: .description),
            manufacturer: try c.decodeIfPresent(String.self, forKey: .manufacturer),
            product: try c.decodeIfPresent(String.self, forKey: .product),
            bus: try c.decodeIfPresent(Int.self, forKey: .bus),
            address: try c.decodeIfPresent(Int.self, forKey: .address))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(transport, forKey: .transport)
        try c.encode(vendorID, forKey: .vendorID)
        try c.encode(productID, forKey: .productID)
        try c.encode(serialNumber, forKey: .serialNumber)
        try c.encode(description, forKey: .description)
        try c.encode(manufacturer, forKey: .manufacturer)
        try c.encode(product, forKey: .product)
        try c.encode(bus, forKey: .bus)
        try c.encode(address, forKey: .address)
        try c.encode(vidpid, forKey: .vidpid)
    }
}

/// Serial port enumeration through libserialport.
public enum SerialPorts {
    /// Every serial port libserialport can see, sorted by path.
    public static func list() throws(TransportError) -> [SerialPortInfo] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let rc = sp_list_ports(&list)
        guard rc == SP_OK, let list else {
            throw .serialPort(operation: "listing serial ports", path: "/sys/class/tty", message: lastErrorMessage())
        }
        defer { sp_free_port_list(list) }
        var out: [SerialPortInfo] = []
        var i = 0
        while let port = list[i] {
            out.append(info(of: port))
            i += 1
        }
        return out.sorted { $0.path < $1.path }
    }

    /// What libserialport knows about `path`, or nil if it does not accept the path as a port
    /// (for example a pseudo-terminal, which has no `/sys/class/tty` entry).
    public static func info(path: String) -> SerialPortInfo? {
        var port: OpaquePointer?
        guard sp_get_port_by_name(path, &port) == SP_OK, let port else { return nil }
        defer { sp_free_port(port) }
        return info(of: port)
    }

    static func info(of port: OpaquePointer) -> SerialPortInfo {
        func str(_ p: UnsafeMutablePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
        let path = str(sp_get_port_name(port)) ?? "?"
        var info: SerialPortInfo
        switch sp_get_port_transport(port) {
        case SP_TRANSPORT_USB:
            info = SerialPortInfo(path: path, transport: .usb)
            var vid: Int32 = 0
            var pid: Int32 = 0
            if sp_get_port_usb_vid_pid(port, &vid, &pid) == SP_OK {
                info.vendorID = UInt16(truncatingIfNeeded: vid)
                info.productID = UInt16(truncatingIfNeeded: pid)
            }
            var bus: Int32 = 0
            var address: Int32 = 0
            if sp_get_port_usb_bus_address(port, &bus, &address) == SP_OK {
                info.bus = Int(bus)
                info.address = Int(address)
            }
            info.serialNumber = str(sp_get_port_usb_serial(port))
            info.manufacturer = str(sp_get_port_usb_manufacturer(port))
            info.product = str(sp_get_port_usb_product(port))
        case SP_TRANSPORT_BLUETOOTH:
            info = SerialPortInfo(path: path, transport: .bluetooth)
        default:
            info = SerialPortInfo(path: path, transport: .native)
        }
        info.description = str(sp_get_port_description(port))
        return info
    }

    /// libserialport's message for the last failure, as one line.
    static func lastErrorMessage() -> String {
        guard let m = sp_last_error_message() else { return "unknown libserialport error" }
        defer { sp_free_error_message(m) }
        let text = String(cString: m).split(separator: "\n").first.map(String.init) ?? ""
        return text.isEmpty ? "unknown libserialport error" : text
    }
}
