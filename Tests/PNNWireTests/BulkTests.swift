import PNNCore
import Testing

@testable import PNNWire

@Suite struct BulkTests {
    @Test func shuffledDuplicatedChunksReassemble() throws {
        var rng = SeededRandom(seed: 20)
        for _ in 0..<50 {
            let data = rng.bytes(rng.int(0..<20_000))
            let chunks = BulkChunk.split(data, transferID: 5, maxChunk: rng.int(1..<3000))
            #expect(chunks.allSatisfy { $0.data.count <= 3000 })
            var arrivals = chunks + chunks.filter { _ in rng.int(0..<3) == 0 }
            arrivals.shuffle(using: &rng)
            var r = try BulkReassembler(transferID: 5, total: data.count)
            for (i, c) in arrivals.enumerated() {
                // Chunks travel in frames with CRC-32.
                let f = try Frame.decode(wire: wire(c.frame(seq: UInt16(i % 65536))))
                #expect(f.flags.contains(.bulk) && f.rawBytes.count == Frame.headerSize + f.payload.count + 4)
                try r.accept(BulkChunk.decode(f.payload))
            }
            #expect(r.isComplete && r.data == data && r.missing.isEmpty)
            #expect(r.duplicates == arrivals.count - chunks.count || data.isEmpty)
        }
    }

    @Test func progressAndRefusals() throws {
        let data = [UInt8](0..<100)
        let chunks = BulkChunk.split(data, transferID: 1, maxChunk: 30)
        var r = try BulkReassembler(transferID: 1, total: 100)
        #expect(try !r.accept(chunks[3]))
        #expect(try !r.accept(chunks[1]))
        #expect(r.missing == [0..<30, 60..<90])
        #expect(r.ack == BulkAck(transferID: 1, received: 40, complete: false))
        #expect(throws: BulkError.wrongTransfer(expected: 1, got: 2)) {
            try r.accept(BulkChunk(transferID: 2, offset: 0, total: 100, data: [1]))
        }
        #expect(throws: BulkError.outOfBounds(offset: 99, count: 2, total: 100)) {
            try r.accept(BulkChunk(transferID: 1, offset: 99, total: 100, data: [1, 2]))
        }
        #expect(throws: BulkError.totalMismatch(expected: 100, got: 101)) {
            try r.accept(BulkChunk(transferID: 1, offset: 0, total: 101, data: [1]))
        }
        #expect(throws: BulkError.tooLarge(total: 1 << 30, limit: 1 << 28)) { try BulkReassembler(transferID: 1, total: 1 << 30) }
        try r.accept(chunks[0])
        #expect(try r.accept(chunks[2]))
        #expect(try BulkAck.decode(r.ack.encode()) == BulkAck(transferID: 1, received: 100, complete: true))
    }
}
