import Foundation
import Testing

@testable import PNNStore

@Suite("npz writer: NPY arrays in a stored ZIP")
struct NPZArchiveTests {
    @Test func npyHeaderIsAlignedAndDescribesTheArray() throws {
        let npy = NPYArray.matrix([1, 2, 3, 4, 5, 6], rows: 2, cols: 3).npy()
        #expect(Array(npy.prefix(8)) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix("\n"))
        #expect(npy.count == 10 + headerLength + 48)
        // Little-endian float64 1.0 opens the data.
        #expect(Array(npy[(10 + headerLength)..<(18 + headerLength)]) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
    }

    @Test func textArraysAreFixedWidthUTF32() {
        let npy = NPYArray.strings(["G+", "G−[1]"]).npy()
        let text = String(decoding: npy, as: UTF8.self)
        #expect(text.contains("'descr': '<U5'") && text.contains("'shape': (2,)"))
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        #expect(npy.count == 10 + headerLength + 2 * 5 * 4)
        // "G−[1]" as UTF-32LE: the minus sign U+2212 is one code unit.
        let data = Array(npy.suffix(20))
        #expect(data[4..<8] == [0x12, 0x22, 0, 0])
        #expect(String(decoding: NPYArray.text("x").npy(), as: UTF8.self).contains("'shape': ()"))
    }

    @Test func archiveIsAZipWithOneStoredMemberPerArray() throws {
        var archive = NPZArchive()
        try archive.add("a_uS", .float64([1, 2]))
        try archive.add("b", .int64([3]))
        #expect(throws: NPZError.duplicateName("b")) { try archive.add("b", .int64([4])) }
        let data = try archive.data()
        #expect(Array(data.prefix(4)) == [0x50, 0x4B, 0x03, 0x04])
        let end = data.suffix(22)
        #expect(Array(end.prefix(4)) == [0x50, 0x4B, 0x05, 0x06])
        #expect(end[end.startIndex + 10] == 2)  // two entries
        let names = String(decoding: data, as: UTF8.self)
        #expect(names.contains("a_uS.npy") && names.contains("b.npy"))
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Data()) == 0)
    }
}
