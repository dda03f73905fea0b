import Foundation
import PNNTransport
import Testing

@testable import PNNLink

#if canImport(Glibc)
    import Glibc
#endif

/// A reconnecting run never takes over a recycled pseudo-terminal: once the emulator behind
/// a path has gone, the same path may lead to someone's shell (the kernel reuses pty
/// numbers), which must stay untouched — not made raw, not locked, not written to.
@Suite struct RecycledPtyTests {
    /// A cooked pty, as a user's terminal would be.
    struct Terminal: ~Copyable {
        let master: Int32
        let slave: Int32
        let path: String
        init() throws {
            var m: Int32 = -1
            var s: Int32 = -1
            try #require(openpty(&m, &s, nil, nil, nil) == 0)
            master = m
            slave = s
            path = String(cString: ttyname(s))
            _ = fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK)
        }
        var settings: termios {
            var t = termios()
            tcgetattr(slave, &t)
            return t
        }
        /// Bytes written to the slave side so far (read from the master).
        func pending() -> Int {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(master, &buffer, buffer.count)
            return max(n, 0)
        }
        deinit {
            close(master)
            close(slave)
        }
    }

    static func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "pnnlab-recycled-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `board` → `hop` → pty: re-pointing `hop` models the kernel handing the old pty number
    /// to a new terminal while the path the run holds (`board`) is unchanged.
    @Test func aPathThatNowLeadsToAnotherPtyIsLeftAlone() async throws {
        let dir = Self.tempDir()
        let first = try Terminal()
        let hop = dir + "/hop"
        let board = dir + "/board"
        try FileManager.default.createSymbolicLink(atPath: hop, withDestinationPath: first.path)
        try FileManager.default.createSymbolicLink(atPath: board, withDestinationPath: hop)
        let opener = LinkAddress.serial(path: board, baud: 115_200).opener
        let link = try await opener()
        await link.close()

        let shell = try Terminal()
        let before = shell.settings
        try FileManager.default.removeItem(atPath: hop)
        try FileManager.default.createSymbolicLink(atPath: hop, withDestinationPath: shell.path)
        await #expect(throws: LinkError.portReplaced(port: board)) { _ = try await opener() }
        let after = shell.settings
        #expect(after.c_lflag == before.c_lflag && after.c_iflag == before.c_iflag && after.c_cflag == before.c_cflag)
        #expect(shell.pending() == 0, "nothing was written to the other terminal")
        // The other terminal is not locked either: anyone may still open it.
        let fd = open(shell.path, O_RDWR | O_NOCTTY | O_NONBLOCK)
        #expect(fd >= 0)
        close(fd)
        #expect(LinkError.portReplaced(port: board).description.contains("another program's pseudo-terminal"))
    }

    /// A restarted emulator re-makes its `--link`: the run follows the new link to the new pty.
    @Test func aRemadeLinkIsFollowedToItsNewPty() async throws {
        let dir = Self.tempDir()
        let first = try Terminal()
        let board = dir + "/board"
        try FileManager.default.createSymbolicLink(atPath: board, withDestinationPath: first.path)
        let opener = LinkAddress.serial(path: board, baud: 115_200).opener
        await (try await opener()).close()

        let second = try Terminal()
        try FileManager.default.removeItem(atPath: board)
        try FileManager.default.createSymbolicLink(atPath: board, withDestinationPath: second.path)
        let link = try await opener()
        #expect(link.description.contains(board))
        await link.close()
    }

    /// The same pty at the same path is never refused, however often it is reopened (checked
    /// on the guard itself: opening the port would race other tests' processes for its lock).
    @Test func theSamePtyIsNeverRefused() throws {
        let terminal = try Terminal()
        let guardian = PtyIdentityGuard()
        for _ in 0..<3 { try guardian.check(terminal.path) }
        // The same through a link to it.
        let link = Self.tempDir() + "/board"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: terminal.path)
        let viaLink = PtyIdentityGuard()
        for _ in 0..<3 { try viaLink.check(link) }
    }
}
