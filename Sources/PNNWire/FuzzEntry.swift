/// Fuzzing entry point (libFuzzer's `LLVMFuzzerTestOneInput` calls it; the lead wires it to
/// `-sanitize=fuzzer`). Feeds `data` to a `FrameDecoder` in chunks whose sizes come from
/// the data itself and checks the decoder's invariants, trapping on a violation:
/// every delivered frame re-encodes to a frame that decodes back to itself with a valid
/// CRC, and the statistics account for every delivered frame.
public func pnnwireFuzzOneInput(_ data: UnsafeRawBufferPointer) {
    var decoder = FrameDecoder()
    var delivered: [Frame] = []
    var offset = 0
    let split = data.first.map { Int($0 % 17) + 1 } ?? 1
    while offset < data.count {
        let n = min(split + offset % 7, data.count - offset)
        decoder.feed(UnsafeRawBufferPointer(rebasing: data[offset..<(offset + n)])) { delivered.append($0) }
        offset += n
    }
    precondition(decoder.statistics.framesDelivered == delivered.count, "delivered count mismatch")
    precondition(decoder.statistics.bytesReceived == data.count, "byte count mismatch")
    for frame in delivered {
        precondition(frame.flags.rawValue & FrameFlags.reservedMask == 0, "reserved flags delivered")
        guard let wire = try? frame.encoded() else { preconditionFailure("delivered frame does not re-encode") }
        guard let back = try? Frame.decode(wire: wire) else { preconditionFailure("re-encoded frame fails its CRC") }
        precondition(back == frame, "re-encoded frame differs")
    }
}
