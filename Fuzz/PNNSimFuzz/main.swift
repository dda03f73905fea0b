// libFuzzer target over the twin-state importers of PNNSim (`--twin-state FILE`), built by
// `make fuzz` (Fuzz/run.sh, target twin-state) with `swiftc -sanitize=fuzzer,address
// -parse-as-library`. Not part of the SwiftPM package. Compiled in one module with
// Sources/PNNSim/**/*.swift (PNNCore is built first as its own instrumented module), so no
// import; every invariant lives in `pnnsimTwinStateFuzzOneInput` (Sources/PNNSim/FuzzEntry.swift).

@_cdecl("LLVMFuzzerTestOneInput")
public func pnnsimFuzzTarget(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    pnnsimTwinStateFuzzOneInput(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
