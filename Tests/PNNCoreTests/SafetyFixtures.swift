import PNNCore

/// A small device description for safety tests: four parameters with different ranges
/// (named like a 1×2 differential crossbar), three input channels in [−0.5, 0.5] V, two
/// outputs, and at most `maxBatch` input vectors per measurement.
enum SafetyFixtures {
    static func descriptor(maxBatch: Int = 4) -> SubstrateDescriptor {
        SubstrateDescriptor(
            identity: DeviceIdentity(family: "test", model: "recorder", serial: "rec-1", firmware: "0"),
            parameters: ParameterSpace(
                lower: [0, 0, -1, 10], upper: [1, 1, 1, 20], resolution: [0.01, 0.01, 0.01, 0.1], unit: .microsiemens,
                naming: .differentialCrossbar(rows: 1, cols: 2)),
            inputs: ChannelSpace(count: 3, lower: -0.5, upper: 0.5, resolution: 0.001, unit: .volt),
            outputs: ChannelSpace(count: 2, lower: -1e-3, upper: 1e-3, resolution: 1e-9, unit: .ampere),
            capabilities: [.resettable], maxBatch: maxBatch)
    }

    static let safeParameters: [Double] = [0.5, 1, -1, 15]

    /// `rows` distinct in-range input vectors.
    static func inputs(rows: Int) -> Matrix {
        Matrix(rows: rows, cols: 3, storage: (0..<rows).flatMap { r in [0.01 * Double(r), -0.02 * Double(r), 0.3] })
    }
}
