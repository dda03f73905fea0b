import Foundation
import Testing

@testable import PNNStore

@Suite("Float64 blobs")
struct BlobCodingTests {
    @Test func blobsAreLittleEndianFloat64() {
        #expect(Array(BlobCoding.encode([1.0])) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        #expect(BlobCoding.encode([1, 2, 3]).count == 24)
    }

    @Test func decodingRestoresEveryBit() throws {
        let decoded = try #require(BlobCoding.decode(BlobCoding.encode(awkwardValues)))
        #expect(decoded.map(\.bitPattern) == awkwardValues.map(\.bitPattern))
        #expect(BlobCoding.decode(Data()) == [])
    }

    @Test func aBlobThatIsNotWholeFloat64sIsRejected() {
        #expect(BlobCoding.decode(Data([1, 2, 3])) == nil)
    }
}
