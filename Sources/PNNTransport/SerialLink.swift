import CSerialPort

#if canImport(Glibc)
    import Glibc
#endif

/// Serial flow control.
public enum FlowControl: String, Codable, Sendable, CaseIterable {
    /// No flow control (what pnnlab boards use).
    case none
    /// RTS/CTS hardware handshake.
    case hardware
    /// XON/XOFF in-band flow control.
    case software
}

/// Which code path drives a serial port's I/O.
public enum SerialLinkKind: String, Codable, Sendable {
    /// libserialport (ports with a `/sys/class/tty` entry and modem lines).
    case libserialport
    /// Plain termios (pseudo-terminals and anything libserialport refuses).
    case termios
}

/// Opens serial ports: through libserialport when it accepts the port, otherwise through
/// termios (``PosixSerialLink``). Both paths behave the same above the ``Transport``:
/// raw 8N1, the same errors, `flock` + `TIOCEXCL` exclusivity, `.closed("device unplugged")`
/// when the port vanishes. ``Transport/description`` names the path taken, e.g.
/// `serial /dev/ttyUSB0 @ 115200 (libserialport)` or `serial /dev/pts/3 @ 115200 (termios)`.
public enum SerialLink {
    /// Open `path` at `baud`, 8N1. With `exclusive` a second open of the same port, from this
    /// or another process, throws ``TransportError/busy(path:)``.
    public static func open(
        path: String, baud: Int = 115_200, flowControl: FlowControl = .none, exclusive: Bool = true
    ) throws(TransportError) -> any Transport {
        if access(path, F_OK) != 0 { throw PosixSerialLink.mapOpenError(errno, path: path) }
        if let link = try LibSerialPortLink.open(path: path, baud: baud, flowControl: flowControl, exclusive: exclusive) {
            return link
        }
        return try PosixSerialLink.open(path: path, baud: baud, flowControl: flowControl, exclusive: exclusive)
    }

    /// The path ``open(path:baud:flowControl:exclusive:)`` will try first for `path`:
    /// libserialport if it knows the port, termios otherwise. (A port libserialport knows may
    /// still fall back to termios if it refuses to open it.)
    public static func preferredKind(path: String) -> SerialLinkKind {
        SerialPorts.info(path: path) == nil ? .termios : .libserialport
    }
}

/// A serial port driven through libserialport: libserialport opens and configures it and
/// does the reads and writes; waits are `poll`s on its descriptor on dedicated queues.
final class LibSerialPortLink: Transport {
    let channel: SerialPortChannel
    let description: String

    private init(channel: SerialPortChannel, path: String, baud: Int) {
        self.channel = channel
        description = "serial \(path) @ \(baud) (libserialport)"
    }

    /// Open through libserialport, or return nil when libserialport refuses the port in a
    /// way termios may not (no sysfs entry, no modem lines); real failures throw.
    static func open(path: String, baud: Int, flowControl: FlowControl, exclusive: Bool) throws(TransportError)
        -> LibSerialPortLink?
    {
        var handle: OpaquePointer?
        guard sp_get_port_by_name(path, &handle) == SP_OK, let port = handle else { return nil }
        if sp_open(port, SP_MODE_READ_WRITE) != SP_OK {
            let e = sp_last_error_code()
            sp_free_port(port)
            switch e {
            case EACCES, EPERM: throw .permissionDenied(path: path)
            case ENOENT, ENODEV, ENXIO: throw .notFound(path: path)
            case EBUSY: throw .busy(path: path)
            default: return nil
            }
        }
        func fail(_ error: TransportError) -> TransportError {
            sp_close(port)
            sp_free_port(port)
            return error
        }
        var fd: Int32 = -1
        _ = withUnsafeMutablePointer(to: &fd) { sp_get_port_handle(port, UnsafeMutableRawPointer($0)) }
        guard fd >= 0 else { throw fail(.serialPort(operation: "sp_get_port_handle", path: path, message: "no descriptor")) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        if exclusive {
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let e = errno
                throw fail(
                    (e == EWOULDBLOCK || e == EAGAIN) ? .busy(path: path) : .system(operation: "flock", path: path, errno: e))
            }
            _ = ioctl(fd, UInt(TIOCEXCL))
        }
        if sp_set_baudrate(port, Int32(baud)) != SP_OK { throw fail(.unsupportedBaud(baud)) }
        let flow: sp_flowcontrol =
            switch flowControl {
            case .none: SP_FLOWCONTROL_NONE
            case .hardware: SP_FLOWCONTROL_RTSCTS
            case .software: SP_FLOWCONTROL_XONXOFF
            }
        guard sp_set_bits(port, 8) == SP_OK, sp_set_parity(port, SP_PARITY_NONE) == SP_OK,
            sp_set_stopbits(port, 1) == SP_OK, sp_set_flowcontrol(port, flow) == SP_OK
        else {
            throw fail(.serialPort(operation: "configuring 8N1", path: path, message: SerialPorts.lastErrorMessage()))
        }
        _ = sp_flush(port, SP_BUF_BOTH)
        return LibSerialPortLink(channel: SerialPortChannel(port: port, fd: fd, path: path), path: path, baud: baud)
    }

    func write(_ bytes: [UInt8]) async throws(TransportError) { try await channel.write(bytes) }

    func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        try await channel.read(maxCount: maxCount, timeout: timeout)
    }

    func close() async { await channel.close() }
}
