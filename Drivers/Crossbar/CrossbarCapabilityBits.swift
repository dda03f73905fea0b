import PNNLink

/// Maps the hello's 32 capability bits to `Capabilities`: the scheme every family shares
/// (``HelloCapabilityBits``; bit 31 = emulator).
public typealias CrossbarCapabilityBits = HelloCapabilityBits
