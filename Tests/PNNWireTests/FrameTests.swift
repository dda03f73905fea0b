import PNNCore
import Testing

@testable import PNNWire

@Suite struct FrameTests {
    @Test func everyTypeAndFlagCombinationRoundTrips() throws {
        for t in 0...255 {
            for f in 0..<32 {
                let frame = Frame(
                    type: FrameType(rawValue: UInt8(t)), seq: UInt16(truncatingIfNeeded: t * 257 + f),
                    flags: FrameFlags(rawValue: UInt8(f)), payload: [UInt8(f), 0, UInt8(t)])
                let bytes = try frame.encoded()
                #expect(bytes.last == 0 && !bytes.dropLast().contains(0))
                #expect(try Frame.decode(wire: bytes) == frame)
                #expect(frame.rawBytes.count == Frame.headerSize + 3 + (f & 1 == 1 ? 4 : 2))
            }
        }
    }

    @Test func headerLayout() {
        let raw = Frame(type: .ping, seq: 0x1234, flags: [.reply, .retransmission], payload: [0xAA]).rawBytes
        #expect(Array(raw[0..<6]) == [0x01, 0x02, 0x34, 0x12, 0x12, 0xAA])
        let crc = CRC16.checksum(Array(raw[0..<6]))
        #expect(raw[6] == UInt8(crc & 0xFF) && raw[7] == UInt8(crc >> 8))
    }

    @Test func encoderRefusesOversizeAndReservedFlags() {
        let big = Frame(type: .ping, seq: 1, payload: [UInt8](repeating: 1, count: 4090))
        #expect(throws: FrameError.oversize(length: 4097, limit: 4096)) { try big.encoded() }
        var bulk = big
        bulk.flags = .bulk
        #expect((try? bulk.encoded()) != nil)
        let bad = Frame(type: .ping, seq: 1, flags: FrameFlags(rawValue: 0x20))
        #expect(throws: FrameError.reservedFlags(0x20)) { try bad.encoded() }
    }

    @Test func decodeRejectsEachKindOfDamage() throws {
        let good = Frame(type: .ping, seq: 7, payload: [1, 2, 3]).rawBytes
        var crcBad = good
        crcBad[5] ^= 0x01
        #expect(throws: FrameError.self) { try Frame.decode(raw: crcBad) }
        #expect(throws: FrameError.tooShort(length: 6, minimum: 7)) { try Frame.decode(raw: Array(good[0..<6])) }
        // A CRC-valid frame of version 2.
        var v2 = Array(good.dropLast(2))
        v2[0] = 2
        let crc = CRC16.checksum(v2)
        v2 += [UInt8(crc & 0xFF), UInt8(crc >> 8)]
        #expect(throws: FrameError.unsupportedVersion(2)) { try Frame.decode(raw: v2) }
        var decoder = FrameDecoder()
        #expect(decoder.feed(COBS.encode(v2) + [0]).isEmpty)
        #expect(decoder.statistics.versionErrors == 1 && decoder.statistics.lastForeignVersion == 2)
    }

    @Test func randomFramesRoundTripThroughDecoder() throws {
        var rng = SeededRandom(seed: 10)
        var decoder = FrameDecoder()
        var sent: [Frame] = []
        var stream: [UInt8] = []
        for _ in 0..<10_000 {
            let f = rng.frame()
            sent.append(f)
            stream += wire(f)
        }
        var received: [Frame] = []
        var i = 0
        while i < stream.count {
            let n = min(rng.int(1..<2000), stream.count - i)
            received += decoder.feed(Array(stream[i..<(i + n)]))
            i += n
        }
        #expect(received == sent)
        #expect(decoder.statistics.framesRejected == 0)
        #expect(decoder.statistics.bytesReceived == stream.count)
    }

    @Test func randomGarbageNeverYieldsInvalidFrames() async {
        var rng = SeededRandom(seed: 11)
        for round in 0..<3000 {
            // Seconds of CPU in a debug build: let the suites running alongside (real-time
            // deadlines over ptys) have the cooperative pool's threads now and then.
            if round % 50 == 0 { await Task.yield() }
            let n = rng.int(0..<600)
            // Mix plain noise with noise rich in delimiters and version bytes.
            let data = (0..<n).map { _ in round % 2 == 0 ? rng.byte() : [0, 1, 2, rng.byte()][rng.int(0..<4)] }
            var decoder = FrameDecoder()
            var i = 0
            while i < data.count {
                let k = min(rng.int(1..<64), data.count - i)
                for f in decoder.feed(Array(data[i..<(i + k)])) {
                    #expect((try? Frame.decode(wire: wire(f))) == f)
                }
                i += k
            }
            data.withUnsafeBytes { pnnwireFuzzOneInput($0) }
        }
    }

    /// A damaged frame of this protocol is reported in its place among the frames around it,
    /// in one pass (a device answers it with a damage notice in that place, §8).
    @Test func damageIsReportedInItsPlaceAmongTheFrames() throws {
        let first = wire(Frame(type: .ping, seq: 1, flags: [], payload: [0x11, 0x22, 0x33]))
        var damaged = wire(Frame(type: .ping, seq: 2, flags: [], payload: [0x11, 0x22, 0x33]))
        damaged[damaged.firstIndex(of: 0x22)!] = 0x23
        let last = wire(Frame(type: .ping, seq: 3, flags: [], payload: [0x44]))
        var decoder = FrameDecoder()
        var events: [String] = []
        (first + damaged + last).withUnsafeBytes { raw in
            decoder.feed(raw) {
                events.append("frame \($0.seq)")
            } damaged: {
                events.append("damaged")
            }
        }
        #expect(events == ["frame 1", "damaged", "frame 3"])
        #expect(decoder.statistics.damagedFrames == 1 && decoder.statistics.crcErrors == 1)
    }

    /// Damage bytes inside frames (never a delimiter): exactly the untouched frames arrive.
    @Test func corruptionDeliversExactlyTheUntouchedFrames() {
        var rng = SeededRandom(seed: 12)
        var stream: [UInt8] = []
        var untouched: [Frame] = []
        var damaged = 0
        for _ in 0..<6000 {
            let f = rng.frame()
            var bytes = Array(wire(f).dropLast())
            if rng.int(0..<3) == 0 {
                damaged += 1
                let at = rng.int(0..<bytes.count)
                switch rng.int(0..<3) {
                case 0: bytes[at] ^= UInt8(rng.int(1..<256))  // may become 0x00: splits the frame
                case 1: bytes.remove(at: at)
                default: bytes.insert(rng.byte(), at: at)
                }
            } else {
                untouched.append(f)
            }
            stream += bytes + [0]
        }
        var decoder = FrameDecoder()
        var got: [Frame] = []
        var i = 0
        while i < stream.count {
            let n = min(rng.int(1..<500), stream.count - i)
            got += decoder.feed(Array(stream[i..<(i + n)]))
            i += n
        }
        #expect(got == untouched)
        #expect(decoder.statistics.framesRejected >= damaged)
        #expect(damaged > 1500)
    }

    /// Garbage before a frame, a lost delimiter, a frame cut short: resynchronisation
    /// loses only the damaged frames.
    @Test func resynchronisesAfterGarbage() {
        let a = Frame(type: .ping, seq: 1, payload: [1])
        let b = Frame(type: .ping, seq: 2, payload: [2])
        let c = Frame(type: .ping, seq: 3, payload: [3])
        var decoder = FrameDecoder()
        // Start mid-frame (line noise), then a clean frame.
        #expect(decoder.feed([0x13, 0x37, 0x55] + [0] + wire(a)) == [a])
        #expect(decoder.statistics.framesRejected == 1 && decoder.statistics.bytesDiscarded == 3)
        // b loses its last two bytes: b is lost (its delimiter still ends it), c survives.
        let cut = Array(wire(b).dropLast(3)) + [0]
        #expect(decoder.feed(cut + wire(c)) == [c])
        // Idle delimiters are not errors.
        let before = decoder.statistics.framesRejected
        #expect(decoder.feed([0, 0, 0] + wire(a)) == [a])
        #expect(decoder.statistics.framesRejected == before)
    }

    @Test func oversizeIsDroppedAndCounted() {
        var decoder = FrameDecoder(limits: FrameLimits(maxControlFrame: 64, maxBulkFrame: 128))
        let long = Frame(type: .ping, seq: 1, payload: [UInt8](repeating: 9, count: 100))
        let small = Frame(type: .ping, seq: 2, payload: [1])
        let huge = [UInt8](repeating: 0x33, count: 10_000)
        #expect(decoder.feed(long.rawBytesWire + huge + [0] + wire(small)) == [small])
        #expect(decoder.statistics.oversize == 2)
        #expect(decoder.statistics.bytesDiscarded == long.rawBytesWire.count - 1 + huge.count)
    }
}

extension Frame {
    /// Wire bytes without limit checks.
    var rawBytesWire: [UInt8] { COBS.encode(rawBytes) + [0] }
}
