import Foundation
import PNNCore
import PNNTraining
import Testing

/// The IDX reader against hostile files: every malformed header is refused before any
/// allocation for the data, and truncated or over-long data is refused.
@Suite struct IDXReaderTests {
    static func file(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-idx-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func header(type: UInt8 = 0x08, _ dims: [UInt32]) -> [UInt8] {
        var out: [UInt8] = [0, 0, type, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24), UInt8((d >> 16) & 0xFF), UInt8((d >> 8) & 0xFF), UInt8(d & 0xFF)] }
        return out
    }

    static func reason(_ bytes: [UInt8]) throws -> String {
        let path = try file(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try IDXReader.read(path: path, dataset: "test")
            return "accepted"
        } catch {
            return error.description
        }
    }

    @Test func readsAWellFormedFile() throws {
        let path = try Self.file(Self.header([2, 3, 2]) + Array(0..<12))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try IDXReader.read(path: path, dataset: "test")
        #expect(a.dimensions == [2, 3, 2] && a.itemSize == 6 && a.bytes == Array(0..<12))
    }

    @Test func refusesHostileHeadersAndData() throws {
        #expect(try Self.reason([]).contains("truncated"))
        #expect(try Self.reason([0, 0, 8]).contains("truncated"))
        #expect(try Self.reason([1, 2, 8, 1, 0, 0, 0, 1, 7]).contains("not an IDX file"))
        #expect(try Self.reason(Self.header(type: 0x0D, [1]) + [0, 0, 0, 0]).contains("not unsigned byte"))
        #expect(try Self.reason([0, 0, 8, 0]).contains("0 dimensions"))
        #expect(try Self.reason([0, 0, 8, 9] + Array(repeating: 1, count: 36)).contains("9 dimensions"))
        #expect(try Self.reason(Self.header([3, 0])).contains("size 0"))
        #expect(try Self.reason([0, 0, 8, 2, 0, 0, 0, 2]).contains("truncated inside the header"))
        // Huge sizes are refused from the header alone (no 4 GiB allocation is attempted).
        #expect(try Self.reason(Self.header([0x7FFF_FFFF, 28, 28])).contains("refusing to allocate"))
        #expect(try Self.reason(Self.header([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF])).contains("refusing"))
        #expect(try Self.reason(Self.header([10]) + Array(repeating: 1, count: 7)).contains("holds 7"))
        #expect(try Self.reason(Self.header([4]) + Array(repeating: 1, count: 5)).contains("trailing data"))
    }

    @Test func refusesMissingFilesAndDirectories() {
        #expect(throws: DatasetError.self) { try IDXReader.read(path: "/nonexistent/idx", dataset: "test") }
        #expect(throws: DatasetError.self) { try IDXReader.read(path: NSTemporaryDirectory(), dataset: "test") }
    }

    @Test func absentPackageIsOneClearLine() {
        do {
            _ = try FashionMNIST.load(directory: "/nonexistent/fashion-mnist")
            Issue.record("loaded from a missing directory")
        } catch {
            #expect(error.description.contains("apt-get install dataset-fashion-mnist"))
            #expect(!error.description.contains("\n"))
        }
    }

    static let debian = FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: debian), "needs Debian's dataset-fashion-mnist"))
    func readsDebiansGzipFilesAndRefusesATruncatedOne() throws {
        let labels = try IDXReader.read(path: Self.debian, dataset: "fashion-mnist")
        #expect(labels.dimensions == [10_000])
        #expect(labels.bytes.allSatisfy { $0 < 10 })
        #expect(Set(labels.bytes).count == 10)
        let gz = try Data(contentsOf: URL(fileURLWithPath: Self.debian))
        let cut = try Self.file(Array(gz.prefix(gz.count / 2)))
        defer { try? FileManager.default.removeItem(atPath: cut) }
        #expect(throws: DatasetError.self) { try IDXReader.read(path: cut, dataset: "fashion-mnist") }
    }
}
