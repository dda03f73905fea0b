#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An asynchronous, bidirectional byte link to a board (serial port, pty, in-memory pair).
///
/// Reads return whatever has arrived (at least one byte) or throw ``TransportError/timeout(_:)``;
/// once the other side is gone every call throws ``TransportError/closed(_:)``.
public protocol Transport: Sendable {
    /// Send all of `bytes`, waiting while the link's buffer is full.
    func write(_ bytes: [UInt8]) async throws(TransportError)
    /// Wait up to `timeout` for data and return between 1 and `maxCount` bytes.
    func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8]
    /// Close this end; later calls throw ``TransportError/closed(_:)``. Idempotent.
    func close() async
    /// A short human-readable name for the link, e.g. `serial /dev/ttyUSB0 @ 115200`.
    var description: String { get }
}

/// Why a byte link operation failed. Each message is one line a user can act on.
public enum TransportError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The device path does not exist.
    case notFound(path: String)
    /// The user may not open the device.
    case permissionDenied(path: String)
    /// Another program (or another link in this one) holds the device.
    case busy(path: String)
    /// The link is gone; the associated text says why (e.g. "device unplugged").
    case closed(String)
    /// No data arrived within the given time.
    case timeout(Duration)
    /// A fault-injection specification string could not be parsed.
    case invalidFaultSpec(String)
    /// The waiting task was cancelled.
    case cancelled
    /// The operating system has no termios constant for this baud rate.
    case unsupportedBaud(Int)
    /// Any other failing system call, with its errno.
    case system(operation: String, path: String, errno: Int32)
    /// A USB device selector was not `VID:PID[:SERIAL]` with hexadecimal IDs.
    case invalidUsbSelector(String)
    /// No connected USB device matches the selector.
    case usbDeviceNotFound(String)
    /// A libusb call failed; `message` is libusb's own explanation.
    case usb(operation: String, message: String)
    /// A libserialport call failed; `message` is libserialport's own explanation.
    case serialPort(operation: String, path: String, message: String)
    /// The path is not a serial port (a regular file, `/dev/null`, a folder).
    case notASerialPort(path: String)
    /// pnnlab refuses to touch `path`; `reason` says why (e.g. it would replace a user's file).
    case refused(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let path): "port \(path) does not exist"
        case .permissionDenied(let path):
            "permission denied on \(path): add yourself to the dialout group"
        case .busy(let path): "port \(path) is busy (opened by another program)"
        case .closed(let why): "link closed: \(why)"
        case .timeout(let d): "timed out after \(Self.milliseconds(d)) waiting for data"
        case .invalidFaultSpec(let why): "invalid fault spec: \(why)"
        case .cancelled: "operation cancelled"
        case .unsupportedBaud(let b): "baud rate \(b) is not supported by this system's serial driver"
        case .system(let op, let path, let code):
            "\(op) on \(path) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .invalidUsbSelector(let text):
            "bad USB device selector '\(text)': expected VID:PID[:SERIAL] in hex, e.g. 1209:0001:PNN0001"
        case .usbDeviceNotFound(let sel): "no USB device matches \(sel) (is it plugged in?)"
        case .usb(let op, let message): "USB \(op) failed: \(message)"
        case .serialPort(let op, let path, let message): "\(op) on \(path) failed: \(message)"
        case .notASerialPort(let path): "\(path) is not a serial port (nor a terminal or pty)"
        case .refused(let path, let reason): "refusing \(path): \(reason)"
        }
    }

    static func milliseconds(_ d: Duration) -> String {
        let us = d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000
        if us % 1000 == 0 { return "\(us / 1000) ms" }
        return "\(Double(us) / 1000) ms"
    }
}

/// How long a write may make no progress at all (the peer reads nothing) before it fails
/// with ``TransportError/timeout(_:)`` instead of blocking for ever.
let writeStallLimit: Duration = .seconds(10)
