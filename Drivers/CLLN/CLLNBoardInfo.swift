import PNNCore
import PNNLink
import PNNWire

/// The CLLN family descriptor carried in the hello reply: network size, the physics facts a
/// host may know (rails, gate range, longest learning interval), the safe source and output
/// windows, buffer sizes and the size and CRC-32 of the topology pages. The host derives its
/// `SubstrateDescriptor` from it, so host-side checks use exactly the ranges the board declared.
public struct CLLNBoardInfo: Sendable, Equatable, Codable {
    public var nodes: Int
    public var edges: Int
    /// Trainable edges (= device parameters, gate voltages).
    public var trainable: Int
    /// Input (source) channels.
    public var inputs: Int
    /// Outputs O (each differential or single-ended).
    public var outputs: Int
    /// Rails V+ and V−, volts.
    public var vPlus: Double
    public var vMinus: Double
    /// Gate voltages are bounded to [0, gateMax] V; programmed with resolution gateStep V.
    public var gateMax: Double
    public var gateStep: Double
    /// Source voltage window (board DAC), V.
    public var inputLow: Double
    public var inputHigh: Double
    /// Output window (clamp targets, labels), volts of O.
    public var outputLow: Double
    public var outputHigh: Double
    /// Longest single learning interval, seconds.
    public var maxLearn: Double
    /// Most source vectors in one `measure`.
    public var maxBatch: Int
    /// Largest dataset the board stores, bytes.
    public var maxDatasetBytes: Int
    /// Size and CRC-32 of the binary topology read with `topology`.
    public var topologyBytes: Int
    public var topologyCRC: UInt32

    public init(
        nodes: Int, edges: Int, trainable: Int, inputs: Int, outputs: Int, vPlus: Double, vMinus: Double,
        gateMax: Double, gateStep: Double, inputLow: Double, inputHigh: Double, outputLow: Double,
        outputHigh: Double, maxLearn: Double, maxBatch: Int, maxDatasetBytes: Int, topologyBytes: Int,
        topologyCRC: UInt32
    ) {
        self.nodes = nodes
        self.edges = edges
        self.trainable = trainable
        self.inputs = inputs
        self.outputs = outputs
        self.vPlus = vPlus
        self.vMinus = vMinus
        self.gateMax = gateMax
        self.gateStep = gateStep
        self.inputLow = inputLow
        self.inputHigh = inputHigh
        self.outputLow = outputLow
        self.outputHigh = outputHigh
        self.maxLearn = maxLearn
        self.maxBatch = maxBatch
        self.maxDatasetBytes = maxDatasetBytes
        self.topologyBytes = topologyBytes
        self.topologyCRC = topologyCRC
    }

    /// Hello descriptor bytes (96 bytes).
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        for n in [nodes, edges, trainable, inputs, outputs] { w.u16(UInt16(clamping: n)) }
        w.f64s([vPlus, vMinus, gateMax, gateStep, inputLow, inputHigh, outputLow, outputHigh, maxLearn])
        w.u16(UInt16(clamping: maxBatch))
        w.u32(UInt32(clamping: maxDatasetBytes))
        w.u32(UInt32(clamping: topologyBytes))
        w.u32(topologyCRC)
        return w.bytes
    }

    /// Parses and sanity-checks hello descriptor bytes.
    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> CLLNBoardInfo {
        var r = PayloadReader(bytes)
        let counts = [
            try r.u16("nodes"), try r.u16("edges"), try r.u16("trainable"), try r.u16("inputs"), try r.u16("outputs"),
        ].map { Int($0) }
        let v = try r.f64s(9, field: "physics")
        let info = CLLNBoardInfo(
            nodes: counts[0], edges: counts[1], trainable: counts[2], inputs: counts[3], outputs: counts[4],
            vPlus: v[0], vMinus: v[1], gateMax: v[2], gateStep: v[3], inputLow: v[4], inputHigh: v[5],
            outputLow: v[6], outputHigh: v[7], maxLearn: v[8], maxBatch: Int(try r.u16("maxBatch")),
            maxDatasetBytes: Int(try r.u32("maxDatasetBytes")), topologyBytes: Int(try r.u32("topologyBytes")),
            topologyCRC: try r.u32("topologyCRC"))
        try r.expectEnd()
        guard info.nodes >= 2, info.edges >= 1, info.trainable <= info.edges, info.inputs >= 1, info.outputs >= 1,
            info.maxBatch >= 1, info.topologyBytes > 0, v.allSatisfy(\.isFinite), info.gateMax > 0,
            info.gateStep >= 0, info.inputHigh > info.inputLow, info.outputHigh > info.outputLow, info.maxLearn > 0
        else { throw .invalidValue(field: "descriptor", reason: "inconsistent network size or ranges") }
        return info
    }

    /// The substrate descriptor a host builds for this board: parameters are the gate
    /// voltages of the trainable edges (G0, G1, …), inputs the source channels, outputs O.
    public func substrateDescriptor(identity: DeviceIdentity, capabilities: Capabilities) -> SubstrateDescriptor {
        SubstrateDescriptor(
            identity: identity,
            parameters: ParameterSpace(
                count: trainable, lower: 0, upper: gateMax, resolution: gateStep, unit: .volt,
                naming: .indexed(prefix: "G")),
            inputs: ChannelSpace(count: inputs, lower: inputLow, upper: inputHigh, resolution: 0, unit: .volt),
            outputs: ChannelSpace(count: outputs, lower: outputLow, upper: outputHigh, resolution: 0, unit: .volt),
            capabilities: capabilities, maxBatch: maxBatch)
    }
}

/// Maps the hello's 32 capability bits to `Capabilities`: the scheme every family shares
/// (``HelloCapabilityBits``; bit 31 = emulator, same as the crossbar).
public typealias CLLNCapabilityBits = HelloCapabilityBits
