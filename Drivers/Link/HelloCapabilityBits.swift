import PNNCore
import PNNWire

extension HelloReply {
    /// Capability bit 31, the same in every family: the board is an emulator, not hardware
    /// (docs/protocol.md §13.1, §14.1). Hardware sends 0.
    public static let emulatorBit: UInt32 = 1 << 31

    /// Whether the board says it is an emulator (capability bit 31).
    public var isEmulator: Bool { capabilities & Self.emulatorBit != 0 }
}

/// Maps the hello's 32 capability bits to `Capabilities`, for every family: bits 0–30 are
/// the PNNCore capability bits one for one, bit 31 (``HelloReply/emulatorBit``) marks an
/// emulator.
public enum HelloCapabilityBits {
    /// Bit 31: the board is an emulator, not hardware.
    public static let emulatorBit = HelloReply.emulatorBit

    /// Hello bits for `capabilities`.
    public static func encode(_ capabilities: Capabilities, emulator: Bool) -> UInt32 {
        (capabilities.rawValue & ~emulatorBit) | (emulator ? emulatorBit : 0)
    }

    /// Capabilities and the emulator flag from hello bits.
    public static func decode(_ bits: UInt32) -> (Capabilities, emulator: Bool) {
        (Capabilities(rawValue: bits & ~emulatorBit), bits & emulatorBit != 0)
    }
}
