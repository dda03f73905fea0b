import Foundation
import Testing

@testable import PNNTransport

#if canImport(Glibc)
    import Glibc
#endif

/// Opening something that is not a serial port is named as such, and a terminal pnnlab
/// made raw gets its settings back (issue 11).
@Suite(.serialized) struct HostilePortTests {
    @Test func nullDeviceFileAndFolderAreNotSerialPorts() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-port-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/plain"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        for path in ["/dev/null", file, dir] {
            #expect(throws: TransportError.notASerialPort(path: path)) { try PosixSerialLink.open(path: path) }
            #expect(throws: TransportError.notASerialPort(path: path)) { _ = try SerialLink.open(path: path) }
        }
        #expect(
            TransportError.notASerialPort(path: "/dev/null").description
                == "/dev/null is not a serial port (nor a terminal or pty)")
    }

    /// A cooked terminal (echo, canonical, 38400 baud) is raw at 115200 while the link is
    /// open and exactly as before once it is closed.
    @Test func closingTheLinkRestoresTheTerminal() async throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        try #require(openpty(&master, &slave, nil, nil, nil) == 0)
        defer {
            close(master)
            close(slave)
        }
        let path = String(cString: ttyname(slave))
        var before = termios()
        tcgetattr(slave, &before)
        try #require(before.c_lflag & tcflag_t(ECHO | ICANON) != 0)

        let link = try PosixSerialLink.open(path: path, baud: 115_200)
        var during = termios()
        tcgetattr(slave, &during)
        #expect(during.c_lflag & tcflag_t(ECHO | ICANON) == 0, "raw while open")
        #expect(cfgetispeed(&during) == speed_t(B115200))
        #expect(TerminalRestore.isRemembered(link.channel.fd))

        await link.close()
        var after = termios()
        tcgetattr(slave, &after)
        #expect(after.c_lflag == before.c_lflag)
        #expect(after.c_iflag == before.c_iflag)
        #expect(after.c_oflag == before.c_oflag)
        #expect(after.c_cflag == before.c_cflag)
        #expect(cfgetispeed(&after) == cfgetispeed(&before))
        // Unless a test running alongside has opened a port on the same descriptor number since.
        let fd = link.channel.fd
        #expect(!TerminalRestore.isRemembered(fd) || fcntl(fd, F_GETFD) >= 0)
    }
}
