import CPty
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A pseudo-terminal in raw mode: the master end as a ``FileDescriptorLink`` (held by an
/// emulator or a test) and the slave path, which programs open like a serial port.
///
/// The pair keeps its own slave descriptor open until ``close()`` so that the master does
/// not see a hang-up between one client closing the slave and the next opening it.
public final class PtyPair: Sendable {
    /// The master end: bytes written here are read from the slave path and vice versa.
    public let master: FileDescriptorLink
    /// The slave device path, e.g. `/dev/pts/7`.
    public let slavePath: String
    private let slaveFD: Mutex<Int32>

    private init(master: FileDescriptorLink, slavePath: String, slaveFD: Int32) {
        self.master = master
        self.slavePath = slavePath
        self.slaveFD = Mutex(slaveFD)
    }

    /// Open a new pty (via `openpty`), raw (`cfmakeraw`), both ends close-on-exec.
    public static func open() throws(TransportError) -> PtyPair {
        var m: Int32 = -1
        var s: Int32 = -1
        var t = termios()
        cfmakeraw(&t)
        guard openpty(&m, &s, nil, &t, nil) == 0 else {
            throw .system(operation: "openpty", path: "/dev/ptmx", errno: errno)
        }
        _ = fcntl(s, F_SETFD, FD_CLOEXEC)
        var name = [CChar](repeating: 0, count: 256)
        let rc = ttyname_r(s, &name, name.count)
        guard rc == 0 else {
            _ = Glibc.close(m)
            _ = Glibc.close(s)
            throw .system(operation: "ttyname_r", path: "pty", errno: rc)
        }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return PtyPair(master: FileDescriptorLink(fd: m, name: "pty master of \(path)"), slavePath: path, slaveFD: s)
    }

    /// Close the master (clients of the slave then see `.closed`) and the pair's slave fd.
    public func close() async {
        await master.close()
        closeSlave()
    }

    private func closeSlave() {
        slaveFD.withLock { fd in
            if fd >= 0 { _ = Glibc.close(fd) }
            fd = -1
        }
    }

    deinit { closeSlave() }
}

/// A serial port (or any tty, including a pty slave) driven through termios: raw 8N1, no
/// flow control, non-blocking I/O with `poll`-based timeouts on dedicated threads.
public final class PosixSerialLink: DirectTransport {
    let channel: FDChannel
    /// The device path this link opened.
    public let path: String
    /// The configured baud rate.
    public let baud: Int
    public let description: String

    private init(channel: FDChannel, path: String, baud: Int) {
        self.channel = channel
        self.path = path
        self.baud = baud
        description = "serial \(path) @ \(baud) (termios)"
    }

    /// Open `path` read/write as raw 8N1 at `baud`. With `exclusive` (the default) the port
    /// is locked with `TIOCEXCL` and `flock`, so another opener gets ``TransportError/busy(path:)``.
    /// A path that is no terminal throws ``TransportError/notASerialPort(path:)``. The port's
    /// previous line settings are restored when the link closes or the process exits.
    public static func open(
        path: String, baud: Int = 115_200, flowControl: FlowControl = .none, exclusive: Bool = true
    ) throws(TransportError) -> PosixSerialLink {
        guard let speed = speedConstant(baud) else { throw .unsupportedBaud(baud) }
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw mapOpenError(errno, path: path) }
        func fail(_ op: String, _ e: Int32) -> TransportError {
            TerminalRestore.close(fd)
            return .system(operation: op, path: path, errno: e)
        }
        // /dev/null, a regular file or a pipe: say so before any terminal ioctl fails.
        guard isatty(fd) == 1 else {
            _ = Glibc.close(fd)
            throw .notASerialPort(path: path)
        }
        var original = termios()
        if tcgetattr(fd, &original) != 0 { throw fail("tcgetattr", errno) }
        if exclusive {
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let e = errno
                _ = Glibc.close(fd)
                throw (e == EWOULDBLOCK || e == EAGAIN) ? .busy(path: path) : .system(operation: "flock", path: path, errno: e)
            }
            if ioctl(fd, UInt(TIOCEXCL)) != 0 { throw fail("ioctl(TIOCEXCL)", errno) }
        }
        // From here on, closing the link (or exiting) puts the port back as it was.
        TerminalRestore.remember(fd, settings: original, exclusive: exclusive)
        var t = original
        cfmakeraw(&t)
        t.c_cflag |= tcflag_t(CLOCAL | CREAD)
        t.c_cflag &= ~(tcflag_t(CSTOPB) | tcflag_t(PARENB) | tcflag_t(CRTSCTS))
        t.c_cflag = (t.c_cflag & ~tcflag_t(CSIZE)) | tcflag_t(CS8)
        t.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        switch flowControl {
        case .none: break
        case .hardware: t.c_cflag |= tcflag_t(CRTSCTS)
        case .software: t.c_iflag |= tcflag_t(IXON | IXOFF)
        }
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        if cfsetspeed(&t, speed) != 0 { throw fail("cfsetspeed", errno) }
        if tcsetattr(fd, TCSANOW, &t) != 0 { throw fail("tcsetattr", errno) }
        _ = tcflush(fd, TCIOFLUSH)
        return PosixSerialLink(channel: FDChannel(fd: fd, path: path), path: path, baud: baud)
    }

    static func mapOpenError(_ e: Int32, path: String) -> TransportError {
        switch e {
        case ENOENT, ENXIO, ENODEV: .notFound(path: path)
        case EACCES, EPERM: .permissionDenied(path: path)
        case EBUSY: .busy(path: path)
        case EISDIR: .notASerialPort(path: path)
        default: .system(operation: "open", path: path, errno: e)
        }
    }

    static func speedConstant(_ baud: Int) -> speed_t? {
        let table: [Int: Int32] = [
            1200: B1200, 2400: B2400, 4800: B4800, 9600: B9600, 19200: B19200, 38400: B38400,
            57600: B57600, 115_200: B115200, 230_400: B230400, 460_800: B460800, 500_000: B500000,
            576_000: B576000, 921_600: B921600, 1_000_000: B1000000, 1_500_000: B1500000,
            2_000_000: B2000000, 3_000_000: B3000000, 4_000_000: B4000000,
        ]
        return table[baud].map { speed_t($0) }
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        try await channel.write(bytes)
    }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        try await channel.read(maxCount: maxCount, timeout: timeout)
    }

    public func close() async { await channel.close() }

    public func writeNow(_ bytes: [UInt8]) throws(TransportError) -> Int { try channel.writeNow(bytes) }

    public func readNow(maxCount: Int, wait: Duration) throws(TransportError) -> [UInt8] {
        try channel.readNow(maxCount: maxCount, wait: wait)
    }

    public func waitReadable(timeout: Duration) async throws(TransportError) {
        try await channel.waitReadable(timeout: timeout)
    }
}
