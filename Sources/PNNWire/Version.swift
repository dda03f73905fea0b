/// Wire protocol codec (frames, COBS, CRC) — see docs/protocol.md.
public enum PNNWireVersion { public static let protocolVersion: UInt8 = 1 }
