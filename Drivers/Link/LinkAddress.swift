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

    /// A reusable opener for ``LinkConnection``. For a pseudo-terminal (an emulator's pty,
    /// or a `--link` to one) it remembers which pty the first open found and refuses a
    /// later one at the same path: pty numbers are recycled, so after the emulator has gone
    /// `/dev/pts/3` may be someone's shell, which a reconnecting run must never make raw,
    /// lock or write hellos into. Real serial ports are re-created on replug and reopened.
    public var opener: LinkConnection.Opener {
        let address = self
        let guardian = PtyIdentityGuard()
        return { () async throws(LinkError) -> any Transport in
            if case .serial(let path, _) = address { try guardian.check(path) }
            return try await address.open()
        }
    }
}
