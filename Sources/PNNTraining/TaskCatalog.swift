import PNNCore

/// The classification tasks `pnnlab train --task` knows.
public enum TaskName: String, Sendable, Codable, CaseIterable {
    case iris, digits, xor, moons

    /// Encoding used when the config names none.
    public var defaultEncoding: FeatureEncoding {
        switch self {
        case .iris, .xor: return .quadratic
        case .digits: return .linear
        case .moons: return .fourier
        }
    }

    /// The full data set (generated tasks are seeded).
    public func load(seed: UInt64) throws(DatasetError) -> Dataset {
        switch self {
        case .iris: return try BundledData.iris()
        case .digits: return try BundledData.digits()
        case .xor: return SyntheticData.xor(seed: seed)
        case .moons: return SyntheticData.moons(seed: seed)
        }
    }
}

/// A task made ready for a device: split, encoder fitted on the training part, inputs
/// encoded to volts.
public struct PreparedTask: Sendable {
    public var name: TaskName
    public var train: Dataset
    public var test: Dataset
    public var encoder: InputEncoder
    /// Training inputs in volts (train.count × encoder.inputCount).
    public var trainInputs: Matrix
    /// Test inputs in volts.
    public var testInputs: Matrix

    /// Split with `seed`, fit the encoder, encode with peak voltage `amplitude`.
    public init(_ name: TaskName, config: TrainerConfig, amplitude: Double, seed: UInt64) throws(DatasetError) {
        let data = try name.load(seed: seed)
        let (train, test) = data.stratifiedSplit(testFraction: config.testFraction, seed: seed)
        let encoder = InputEncoder(
            fitting: train, encoding: config.encoding ?? name.defaultEncoding, amplitude: amplitude, seed: seed)
        self.name = name
        self.train = train
        self.test = test
        self.encoder = encoder
        self.trainInputs = encoder.encode(train.features)
        self.testInputs = encoder.encode(test.features)
    }

    public var classCount: Int { train.classCount }
}

extension PreparedTask {
    /// The same task with inputs re-encoded at a new peak voltage (once the device's safe
    /// input range is known).
    public func rescaled(amplitude: Double) -> PreparedTask {
        var out = self
        out.encoder.amplitude = amplitude
        out.trainInputs = out.encoder.encode(train.features)
        out.testInputs = out.encoder.encode(test.features)
        return out
    }
}
