import PNNTransport

/// Where a board is: a serial device path (`/dev/ttyUSB0`, a pty, a symlink made by
/// `pnnlab emulate --link`) or a USB bulk device (`usb:VID:PID[:serial]`).
public enum LinkAddress: Sendable, Equatable, CustomStringConvertible {
    /// A tty path opened at `baud`, 8N1.
    case serial(path: String, baud: Int)
    /// A USB device with a vendor-class bulk interface.
    case usb(UsbSelector)

    /// Parses a PORT argument.
    public init(parsing text: String, baud: Int = 115_200) throws(LinkError) {
        if text.hasPrefix("usb:") {
            do {
                self = .usb(try UsbSelector(parsing: String(text.dropFirst(4))))
            } catch {
                throw .transport(error)
            }
        } else {
            guard !text.isEmpty else { throw .transport(.notFound(path: "(empty port name)")) }
            self = .serial(path: text, baud: baud)
        }
    }

    /// Whether a DEVICE argument looks like a port rather than a registered name.
    public static func looksLikePort(_ text: String) -> Bool {
        text.hasPrefix("/") || text.hasPrefix("./") || text.hasPrefix("usb:")
    }

    public var description: String {
        switch self {
        case .serial(let path, _): path
        case .usb(let selector): "usb:\(selector)"
        }
    }

    /// Opens the byte link.
    public func open() async throws(LinkError) -> any Transport {
        do {
            switch self {
            case .serial(let path, let baud):
                return try SerialLink.open(path: path, baud: baud)
            case .usb(let selector):
                return try UsbBulkLink.open(selector)
            }
        } catch {
            throw .transport(error)
        }
    }

    /// A reusable opener for ``LinkConnection``.
    public var opener: LinkConnection.Opener {
        let address = self
        return { () async throws(LinkError) -> any Transport in try await address.open() }
    }
}
