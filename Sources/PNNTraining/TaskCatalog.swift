import PNNCore

/// The tasks `pnnlab train --task` knows: classification, and one regression (`multiply`).
public enum TaskName: String, Sendable, Codable, CaseIterable {
    case iris, digits, xor, moons
    /// Fashion-MNIST from Debian's `dataset-fashion-mnist` (official 60 000/10 000 split).
    case fashionMNIST = "fashion-mnist"
    /// Regression, seed 000's analog multiplier: output 0 should read x₁·x₂ for x₁, x₂ in
    /// [−1, 1] (100 seeded random training points; the test split is an 11 × 11 grid).
    case multiply

    /// Whether the task is a regression (targets per sample, MSE loss, RMS error reported).
    public var isRegression: Bool { self == .multiply }

    /// Encoding used when the config names none.
    public var defaultEncoding: FeatureEncoding {
        switch self {
        case .iris, .xor: return .quadratic
        case .digits, .fashionMNIST, .multiply: return .linear
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
        case .multiply:
            let (train, test) = (SyntheticData.multiply(seed: seed), SyntheticData.multiplyGrid())
            var all = Dataset(
                name: train.name, features: Matrix.vstack([train.features, test.features]),
                labels: train.labels + test.labels, classCount: 1, classNames: train.classNames)
            all.targets = (train.targets ?? []) + (test.targets ?? [])
            return all
        case .fashionMNIST:
            let (train, test) = try FashionMNIST.load()
            return Dataset(
                name: train.name, features: Matrix.vstack([train.features, test.features]),
                labels: train.labels + test.labels, classCount: train.classCount, classNames: train.classNames)
        }
    }

    /// The training and test splits: the data set's own split when it has one
    /// (Fashion-MNIST), otherwise a seeded stratified split; `subset` keeps the first N
    /// training samples and the first ⌈N/6⌉ test samples.
    public func split(seed: UInt64, testFraction: Double, subset: Int? = nil) throws(DatasetError) -> (
        train: Dataset, test: Dataset
    ) {
        var (train, test): (Dataset, Dataset)
        if self == .fashionMNIST {
            (train, test) = try FashionMNIST.load()
        } else if self == .multiply {
            (train, test) = (SyntheticData.multiply(seed: seed), SyntheticData.multiplyGrid())
        } else {
            (train, test) = try load(seed: seed).stratifiedSplit(testFraction: testFraction, seed: seed)
        }
        if let n = subset, n > 0 {
            if n < train.count { train = train.subset(Array(0..<n)) }
            let m = (n + 5) / 6
            if m < test.count { test = test.subset(Array(0..<m)) }
        }
        return (train, test)
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
        let (train, test) = try name.split(seed: seed, testFraction: config.testFraction, subset: config.subset)
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
