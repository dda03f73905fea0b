// libFuzzer target over PNNTOML, built by `make fuzz` (Fuzz/run.sh) with
// `swiftc -sanitize=fuzzer,address -parse-as-library`. Not part of the SwiftPM package.
// Compiled in one module with Sources/PNNTOML/*.swift, so no import; every invariant lives
// in `pnntomlFuzzOneInput` (Sources/PNNTOML/FuzzEntry.swift).

@_cdecl("LLVMFuzzerTestOneInput")
public func pnntomlFuzzTarget(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    pnntomlFuzzOneInput(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
