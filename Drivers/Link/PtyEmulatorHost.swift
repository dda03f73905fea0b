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
    /// The symlink this host made (device and inode), so ``stop()`` removes only its own.
    private let madeLink: LinkIdentity?

    /// Identifies one directory entry: a symlink replaced by someone else has another inode.
    struct LinkIdentity: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// Opens a pty, makes `link` point at it (replacing only an earlier emulator's link to a
    /// pty, atomically; see ``makeLink(_:to:)``), and
    /// prepares a server for `endpoint`; call ``run()``.
    public init(
        endpoint: any DeviceEndpoint, options: WireServer.Options = .init(), link: String? = nil,
        faults: FaultSpec = .none, seed: UInt64 = 1, baud: Int? = 115_200
    ) throws(TransportError) {
        let pty = try PtyPair.open()
        let path = pty.slavePath
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        var made: LinkIdentity?
        if let link {
            do throws(TransportError) {
                made = try Self.makeLink(link, to: path)
            } catch {
                if fd >= 0 { Glibc.close(fd) }
                throw error
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
        self.madeLink = made
        self.watchFD = fd
        self.server = WireServer(endpoint: endpoint, transport: transport, options: serverOptions)
    }

    /// Serves until the task is cancelled.
    public func run() async {
        await server.run()
    }

    /// The server's counters.
    public func statistics() async -> WireServer.Statistics { await server.statistics }

    /// Removes the symlink (only if it is still the one this host made, pointing at this
    /// pty) and closes the pty.
    public func stop() async {
        if let link, let made = madeLink, Self.symlinkIdentity(link) == made, Self.symlinkTarget(link) == path {
            unlink(link)
        }
        if watchFD >= 0 { Glibc.close(watchFD) }
        await pty.close()
    }

    /// Makes `link` a symlink to `target`, replacing only an earlier emulator's link (a
    /// symlink to a pty under /dev/pts, live or stale): a regular file, a folder or any
    /// other symlink at `link` is the user's and is refused, never replaced.
    static func makeLink(_ link: String, to target: String) throws(TransportError) -> LinkIdentity {
        var info = stat()
        if lstat(link, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFLNK else {
                throw .refused(path: link, reason: "it exists and is not a link to a pty; choose another --link path")
            }
            guard let old = symlinkTarget(link), old.hasPrefix("/dev/pts/") else {
                throw .refused(
                    path: link, reason: "it is a symlink to something other than a pty; choose another --link path")
            }
        }
        let tmp = link + ".new-\(getpid())"
        unlink(tmp)
        guard symlink(target, tmp) == 0 else { throw .system(operation: "symlink", path: link, errno: errno) }
        guard rename(tmp, link) == 0 else {
            let e = errno
            unlink(tmp)
            throw .system(operation: "symlink", path: link, errno: e)
        }
        guard let identity = symlinkIdentity(link) else { throw .system(operation: "lstat", path: link, errno: errno) }
        return identity
    }

    /// Device and inode of the symlink at `path` itself, or nil when there is none.
    static func symlinkIdentity(_ path: String) -> LinkIdentity? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return nil }
        return LinkIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Where the symlink at `path` points, or nil.
    static func symlinkTarget(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
