import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Tells a pseudo-terminal apart from a later one that got the same `/dev/pts/N` number.
///
/// The kernel recycles pty numbers, so a path (or an emulator's `--link` symlink left
/// behind by a killed emulator) that led to the emulator's pty may later lead to a new
/// terminal of another program. The guard records the pty (device number and the change
/// time set when it was allocated) and, for a symlink, the link itself at the first open.
/// A later open that finds another pty behind the same, unchanged path is refused with
/// ``LinkError/portReplaced(port:)``. A link re-made by a restarted emulator is followed to
/// its new pty, and paths that are not ptys are never refused: a USB serial adapter's node
/// is re-created on every replug and must be reopened.
final class PtyIdentityGuard: Sendable {
    private struct Node: Equatable {
        var device: UInt64
        var inode: UInt64
        var changedSeconds: Int
        var changedNanoseconds: Int

        init(_ st: stat) {
            device = UInt64(st.st_rdev) ^ (UInt64(st.st_dev) << 1)
            inode = UInt64(st.st_ino)
            changedSeconds = Int(st.st_ctim.tv_sec)
            changedNanoseconds = Int(st.st_ctim.tv_nsec)
        }
    }
    private struct Identity: Equatable {
        /// The symlink at the path (nil when the path is the device itself).
        var link: Node?
        var pty: Node
    }
    private let first = Mutex<Identity?>(nil)
    private let checked = Atomic<Bool>(false)

    /// Throws when `path` now leads, through the same path, to another pty than the first
    /// call saw.
    func check(_ path: String) throws(LinkError) {
        let now = Self.identity(path)
        if !checked.exchange(true, ordering: .acquiringAndReleasing) {
            first.withLock { $0 = now }
            return
        }
        guard let now, let before = first.withLock({ $0 }) else { return }
        if now.pty != before.pty && now.link == before.link { throw .portReplaced(port: path) }
    }

    /// Unix 98 pty slaves have majors 136–143.
    private static func identity(_ path: String) -> Identity? {
        var target = stat()
        guard stat(path, &target) == 0, target.st_mode & S_IFMT == S_IFCHR else { return nil }
        let rdev = UInt64(target.st_rdev)
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff)
        guard (136...143).contains(major) else { return nil }
        var link = stat()
        let isLink = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
        return Identity(link: isLink ? Node(link) : nil, pty: Node(target))
    }
}
