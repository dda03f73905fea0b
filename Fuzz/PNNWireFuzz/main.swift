// libFuzzer target over PNNWire, built by `make fuzz` (Fuzz/run.sh) with
// `swiftc -sanitize=fuzzer,address -parse-as-library`. Not part of the SwiftPM package: a
// normal build has no fuzzer runtime. Compiled in one module with Sources/PNNWire/*.swift,
// so no import; every invariant lives in `pnnwireFuzzOneInput` (Sources/PNNWire/FuzzEntry.swift).

@_cdecl("LLVMFuzzerTestOneInput")
public func pnnwireFuzzTarget(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    pnnwireFuzzOneInput(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
