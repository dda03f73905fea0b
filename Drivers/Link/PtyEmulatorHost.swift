import PNNTransport
import PNNWire

#if canImport(Glibc)
    import Glibc
#endif

/// Serves an emulated board on a new pseudo-terminal, the way `pnnlab emulate` does:
/// programs open the pty's slave path (or the `link` symlink to it) exactly like a USB
/// serial port. Line settings are watched: when the host sets a baud rate other than the
/// board's, the emulator answers with line noise, as a real UART would.
public final class PtyEmulatorHost: Sendable {
    /// The pty slave path programs open, e.g. `/dev/pts/4`.
    public let path: String
    /// The stable symlink to `path`, if one was asked for.
    public let link: String?
    private let pty: PtyPair
    private let server: WireServer
    private let watchFD: Int32

    /// Opens a pty, makes `link` point at it (replacing an old link atomically), and
    /// prepares a server for `endpoint`; call ``run()``.
    public init(
        endpoint: any DeviceEndpoint, options: WireServer.Options = .init(), link: String? = nil,
        faults: FaultSpec = .none, seed: UInt64 = 1, baud: Int? = 115_200
    ) throws(TransportError) {
        let pty = try PtyPair.open()
        let path = pty.slavePath
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        if let link {
            let tmp = link + ".new-\(getpid())"
            unlink(tmp)
            guard symlink(path, tmp) == 0, rename(tmp, link) == 0 else {
                let e = errno
                if fd >= 0 { Glibc.close(fd) }
                throw .system(operation: "symlink", path: link, errno: e)
            }
        }
        var serverOptions = options
        if let baud, fd >= 0, let expected = Self.speed(for: baud) {
            let otherwise = options.lineMatches
            serverOptions.lineMatches = {
                var t = termios()
                guard tcgetattr(fd, &t) == 0 else { return otherwise() }
                return cfgetispeed(&t) == expected && otherwise()
            }
        }
        let transport: any Transport =
            faults == .none ? pty.master : FaultInjectingTransport(pty.master, faults: faults, seed: seed)
        self.pty = pty
        self.path = path
        self.link = link
        self.watchFD = fd
        self.server = WireServer(endpoint: endpoint, transport: transport, options: serverOptions)
    }

    /// Serves until the task is cancelled.
    public func run() async {
        await server.run()
    }

    /// The server's counters.
    public func statistics() async -> WireServer.Statistics { await server.statistics }

    /// Removes the symlink (if it still points at this pty) and closes the pty.
    public func stop() async {
        if let link {
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink(link, &buf, buf.count - 1)
            if n > 0, String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == path { unlink(link) }
        }
        if watchFD >= 0 { Glibc.close(watchFD) }
        await pty.close()
    }

    static func speed(for baud: Int) -> speed_t? {
        let table: [Int: speed_t] = [
            9600: speed_t(B9600), 19200: speed_t(B19200), 38400: speed_t(B38400), 57600: speed_t(B57600),
            115_200: speed_t(B115200), 230_400: speed_t(B230400), 460_800: speed_t(B460800),
            921_600: speed_t(B921600), 1_000_000: speed_t(B1000000), 2_000_000: speed_t(B2000000),
        ]
        return table[baud]
    }
}

/// Serves an emulated board on an already-open file descriptor (e.g. the pty master a
/// umockdev test bed hands over as fd 3).
public enum DescriptorEmulatorHost {
    /// Serves `endpoint` on `fd` until the task is cancelled or the descriptor closes.
    public static func serve(endpoint: any DeviceEndpoint, fd: Int32, options: WireServer.Options = .init()) async {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let link = FileDescriptorLink(fd: fd, name: "fd \(fd)")
        await WireServer(endpoint: endpoint, transport: link, options: options).run()
    }
}
