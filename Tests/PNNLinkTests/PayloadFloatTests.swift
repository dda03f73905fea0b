import PNNLink
import PNNWire
import Testing

/// Binary64 payload fields are IEEE-754 bit patterns, little-endian, byte for byte
/// (docs/protocol.md), whichever way a sequence of them is written or read.
@Suite struct PayloadFloatTests {
    @Test func binary64IsLittleEndianAndRoundTrips() throws {
        var w = PayloadWriter()
        w.f64(1.0)  // 0x3FF0_0000_0000_0000
        #expect(w.bytes == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        let values: [Double] = [-2.5, 0, -0.0, .infinity, .leastNonzeroMagnitude, .pi, -.greatestFiniteMagnitude]
        w.f64s(values)
        w.f64s(values.lazy.map { $0 * 2 })  // a sequence that is not an array
        var r = PayloadReader(w.bytes)
        #expect(try r.f64("one") == 1.0)
        let back = try r.f64s(values.count, field: "values")
        #expect(back.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(try r.f64s(values.count, field: "doubled") == values.map { $0 * 2 })
        try r.expectEnd()
        let nan = Double(nan: 0x1234, signaling: false)
        var n = PayloadWriter()
        n.f64s([nan])
        var rn = PayloadReader(n.bytes)
        #expect(try rn.f64s(1, field: "nan").first?.bitPattern == nan.bitPattern)
    }

    /// Arrays and slices go in one copy; the bytes are those of one value at a time.
    @Test func arraysAndSlicesWriteTheBytesOfOneValueAtATime() throws {
        let values = (0..<497).map { Double($0) * -1.25e-3 + 7 }
        var byValue = PayloadWriter()
        for v in values { byValue.f64(v) }
        var whole = PayloadWriter()
        whole.u8(0xAB)  // an odd offset before the values
        whole.f64s(values)
        #expect(whole.bytes == [0xAB] + byValue.bytes)
        var slice = PayloadWriter()
        slice.f64s(values[3..<400])
        var sliceByValue = PayloadWriter()
        for v in values[3..<400] { sliceByValue.f64(v) }
        #expect(slice.bytes == sliceByValue.bytes)
        #expect(slice.bytes.count == 8 * 397)
        var r = PayloadReader(whole.bytes)
        #expect(try r.u8("mark") == 0xAB)
        #expect(try r.f64s(values.count, field: "values") == values)
        try r.expectEnd()
    }
}
