import PNNCore
import Testing

@testable import PNNDevices
@testable import PNNExperiments
@testable import PNNRuns
@testable import PNNTraining

@Suite("Readouts, encoders and data sets")
struct ReadoutTests {
    @Test(arguments: [ReadoutKind.softmax, .leastSquares])
    func lossGradientMatchesFiniteDifferences(kind: ReadoutKind) {
        let readout = Readout(kind: kind, gain: 0.7, targetCurrent: 3)
        var y = Matrix([[1.0, -2, 0.5], [0.3, 0.1, -1]])
        let labels = [2, 0]
        let g = readout.gradient(y, labels: labels)
        for i in y.storage.indices {
            let h = 1e-6
            let v = y.storage[i]
            y.storage[i] = v + h
            let lp = readout.loss(y, labels: labels)
            y.storage[i] = v - h
            let lm = readout.loss(y, labels: labels)
            y.storage[i] = v
            #expect(abs((lp - lm) / (2 * h) - g[i]) < 1e-6)
        }
    }

    @Test func accuracyCountsArgmax() {
        let readout = Readout(kind: .softmax, gain: 1, targetCurrent: 1)
        let y = Matrix([[0, 1, 0], [2, 1, 0], [0, 0, 3], [1, 0, 0]])
        #expect(readout.accuracy(y, labels: [1, 0, 2, 2]) == 0.75)
    }

    @Test func bundledDataSetsLoadWithTheDocumentedShapes() throws {
        let iris = try BundledData.iris()
        #expect(iris.count == 150 && iris.featureCount == 4 && iris.classCount == 3)
        #expect(Set(iris.labels) == [0, 1, 2])
        #expect(iris.classNames == ["setosa", "versicolor", "virginica"])
        let digits = try BundledData.digits()
        #expect(digits.count == 1797 && digits.featureCount == 64)
        #expect(Set(digits.labels) == Set(0..<10))
        #expect(digits.features.storage.allSatisfy { $0 >= 0 && $0 <= 16 })
    }

    @Test func stratifiedSplitIsSeededAndKeepsClassBalance() throws {
        let iris = try BundledData.iris()
        let (a, b) = iris.stratifiedSplit(testFraction: 0.3, seed: 4)
        let (c, _) = iris.stratifiedSplit(testFraction: 0.3, seed: 4)
        let (d, _) = iris.stratifiedSplit(testFraction: 0.3, seed: 5)
        #expect(a.count == 105 && b.count == 45)
        #expect(a.labels == c.labels && a.features == c.features)
        #expect(a.features != d.features)
        for k in 0..<3 { #expect(b.labels.filter { $0 == k }.count == 15) }
    }

    @Test(arguments: FeatureEncoding.allCases)
    func encodedInputsStayInsideTheAmplitude(encoding: FeatureEncoding) throws {
        let iris = try BundledData.iris()
        let enc = InputEncoder(fitting: iris, encoding: encoding, amplitude: 0.24, seed: 1)
        let v = enc.encode(iris.features)
        #expect(v.cols == enc.inputCount)
        #expect(v.storage.allSatisfy { abs($0) <= 0.24 + 1e-12 })
        #expect(v.column(v.cols - 1).allSatisfy { $0 == 0.24 }, "bias line")
    }

    @Test func generatorsAreSeeded() {
        #expect(SyntheticData.xor(seed: 1).features == SyntheticData.xor(seed: 1).features)
        #expect(SyntheticData.moons(seed: 1).features != SyntheticData.moons(seed: 2).features)
        #expect(Set(SyntheticData.moons(seed: 3).labels) == [0, 1])
    }
}
