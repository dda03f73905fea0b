import Foundation
import PNNTOML
import Testing

/// A fresh directory for one test.
private func scratch() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnntoml-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// The error reading `path` raises, or nil if it reads.
private func failure(_ path: String, maxBytes: Int = TOML.maxFileBytes) -> TOMLFileError? {
    do {
        _ = try TOML.readFile(atPath: path, maxBytes: maxBytes)
        return nil
    } catch {
        return error
    }
}

@Suite("TOML files: bounded reading")
struct TOMLFileTests {
    @Test func aSmallFileIsRead() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.toml").path
        try "epochs = 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TOML.readFile(atPath: path) == "epochs = 3\n")
        #expect(try TOML.parse(TOML.readFile(atPath: path)) == ["epochs": .integer(3)])
    }

    @Test func theLimitIsOneMebibyteAndExactlyTheLimitIsRead() throws {
        #expect(TOML.maxFileBytes == 1 << 20)
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("pad.toml").path
        // A comment line padding the file to exactly 1 MiB.
        let text = "# " + String(repeating: "x", count: (1 << 20) - 3) + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TOML.readFile(atPath: path).utf8.count == 1 << 20)
        try (text + "a = 1\n").write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(failure(path))
        #expect(error == .tooLarge(path: path, limit: 1 << 20))
        #expect(
            error.description
                == "cannot read \(path): it is larger than 1 MiB, the most a TOML file may hold here (is it the right file?)")
    }

    @Test func aLargeFileIsRefusedWithoutReadingIt() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.toml").path
        // A sparse 1 GiB file: reading it all would take a gigabyte of memory.
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()
        #expect(failure(path) == .tooLarge(path: path, limit: 1 << 20))
    }

    @Test func anEndlessDeviceStopsAtTheLimit() throws {
        guard FileManager.default.fileExists(atPath: "/dev/zero") else { return }
        #expect(failure("/dev/zero", maxBytes: 4096) == .tooLarge(path: "/dev/zero", limit: 4096))
        #expect(TOMLFileError.tooLarge(path: "x", limit: 4096).reason.hasPrefix("it is larger than 4 KiB"))
    }

    @Test func missingFilesAndDirectoriesAreNamed() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.toml").path
        #expect(failure(missing) == .unreadable(path: missing, reason: "no such file"))
        #expect(failure(missing)?.description == "cannot read \(missing): no such file")
        #expect(failure(dir.path) == .unreadable(path: dir.path, reason: "it is a directory, not a file"))
    }

    @Test func binaryFilesAreRefused() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("blob.toml").path
        try Data([0x61, 0x20, 0x3D, 0x20, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(failure(path) == .notUTF8(path: path))
        #expect(failure(path)?.reason == "it is not UTF-8 text")
    }
}
