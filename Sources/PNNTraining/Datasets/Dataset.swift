import PNNCore

/// A labelled classification data set: one row of raw features per sample, one class
/// index per sample.
public struct Dataset: Sendable {
    public var name: String
    /// Raw features, one row per sample (unscaled; `InputEncoder` maps them to volts).
    public var features: Matrix
    /// Class index per sample, in `0..<classCount`.
    public var labels: [Int]
    public var classCount: Int
    public var classNames: [String]
    /// Regression tasks (`TaskName.isRegression`): the target value per sample (labels are
    /// then all 0, one "class"); nil for classification.
    public var targets: [Double]? = nil

    public init(name: String, features: Matrix, labels: [Int], classCount: Int, classNames: [String]? = nil) {
        precondition(features.rows == labels.count, "one label per sample")
        self.name = name
        self.features = features
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames ?? (0..<classCount).map { "class \($0)" }
    }

    public var count: Int { labels.count }
    public var featureCount: Int { features.cols }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        var out = Dataset(
            name: name, features: features.rows(at: indices), labels: indices.map { labels[$0] },
            classCount: classCount, classNames: classNames)
        out.targets = targets.map { t in indices.map { t[$0] } }
        return out
    }

    /// A seeded stratified split: `testFraction` of every class goes to the test set.
    public func stratifiedSplit(testFraction: Double, seed: UInt64) -> (train: Dataset, test: Dataset) {
        var rng = SeededRandom.derived(seed: seed, stream: 0x5_911)
        var train: [Int] = []
        var test: [Int] = []
        for c in 0..<classCount {
            var members = labels.indices.filter { labels[$0] == c }
            members.shuffle(using: &rng)
            let nTest = Int((Double(members.count) * testFraction).rounded())
            test += members.prefix(nTest)
            train += members.dropFirst(nTest)
        }
        train.shuffle(using: &rng)
        test.shuffle(using: &rng)
        return (subset(train), subset(test))
    }
}

/// Errors reading a data set, phrased for the user.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case malformedCSV(dataset: String, line: Int, reason: String)
    /// A data set read from files that are missing, unreadable or malformed.
    case unavailable(dataset: String, reason: String)

    public var description: String {
        switch self {
        case .malformedCSV(let dataset, let line, let reason):
            return "data set \(dataset), line \(line): \(reason)"
        case .unavailable(let dataset, let reason):
            return "data set \(dataset): \(reason)"
        }
    }
}

/// The data sets shipped inside the binary (see the attribution in each source file).
public enum BundledData {
    /// Fisher's Iris: 150 samples, 4 features, 3 classes.
    public static func iris() throws(DatasetError) -> Dataset {
        let lines = irisCSV.split(whereSeparator: \.isNewline)
        let header = lines.first.map { $0.split(separator: ",").map(String.init) } ?? []
        let names = header.count > 2 ? Array(header.dropFirst(2)) : nil
        let (features, labels) = try parseRows(lines.dropFirst(), name: "iris", featureCount: 4, firstLine: 2)
        return Dataset(name: "iris", features: features, labels: labels, classCount: 3, classNames: names)
    }

    /// 8×8 handwritten digits: 1797 samples, 64 pixels (0–16), 10 classes.
    public static func digits() throws(DatasetError) -> Dataset {
        let lines = digitsCSV.split { $0.isNewline || $0 == ";" }
        let (features, labels) = try parseRows(lines[...], name: "digits", featureCount: 64, firstLine: 1)
        return Dataset(name: "digits", features: features, labels: labels, classCount: 10, classNames: (0..<10).map(String.init))
    }

    static func parseRows(_ lines: ArraySlice<Substring>, name: String, featureCount: Int, firstLine: Int) throws(DatasetError)
        -> (Matrix, [Int])
    {
        var values: [Double] = []
        var labels: [Int] = []
        values.reserveCapacity(lines.count * featureCount)
        for (offset, line) in lines.enumerated() {
            let fields = line.split(separator: ",")
            guard fields.count == featureCount + 1 else {
                throw .malformedCSV(
                    dataset: name, line: firstLine + offset, reason: "expected \(featureCount + 1) fields, found \(fields.count)")
            }
            for f in fields.prefix(featureCount) {
                guard let v = Double(f.trimmingCharacters(in: .whitespaces)) else {
                    throw .malformedCSV(dataset: name, line: firstLine + offset, reason: "'\(f)' is not a number")
                }
                values.append(v)
            }
            guard let label = Int(fields[featureCount].trimmingCharacters(in: .whitespaces)) else {
                throw .malformedCSV(
                    dataset: name, line: firstLine + offset, reason: "label '\(fields[featureCount])' is not an integer")
            }
            labels.append(label)
        }
        return (Matrix(rows: labels.count, cols: featureCount, storage: values), labels)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> Substring {
        var s = self[...]
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}

extension Set where Element == Character {
    fileprivate static var whitespaces: Set<Character> { [" ", "\t", "\r"] }
}
