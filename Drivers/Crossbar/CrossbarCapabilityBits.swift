import PNNCore

/// Maps the hello's 32 capability bits to `Capabilities`: bits 0–30 are the PNNCore
/// capability bits one for one, bit 31 marks an emulator.
public enum CrossbarCapabilityBits {
    /// Bit 31: the board is an emulator, not hardware.
    public static let emulatorBit: UInt32 = 1 << 31

    /// Hello bits for `capabilities`.
    public static func encode(_ capabilities: Capabilities, emulator: Bool) -> UInt32 {
        (capabilities.rawValue & ~emulatorBit) | (emulator ? emulatorBit : 0)
    }

    /// Capabilities and the emulator flag from hello bits.
    public static func decode(_ bits: UInt32) -> (Capabilities, emulator: Bool) {
        (Capabilities(rawValue: bits & ~emulatorBit), bits & emulatorBit != 0)
    }
}
