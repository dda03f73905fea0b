import Foundation
import PNNCore
import PNNSim
import Testing

/// The matrix–vector product and its peripherals: Ohm + Kirchhoff, DAC/ADC, dead columns, read noise.
@Suite struct CrossbarForwardTests {
    @Test func idealForwardEqualsVoltagesTimesConductanceDifference() throws {
        var config = CrossbarConfig.ideal
        config.rows = 7
        config.outputs = 4
        var physics = try CrossbarPhysics(config: config)
        let g = physics.trueConductances()
        let v = TestSupport.inputs(batch: 9, rows: 7)
        let y = physics.forward(v)
        #expect(y.rows == 9 && y.cols == 4)
        for b in 0..<9 {
            for j in 0..<4 {
                var expected = 0.0
                var scale = 0.0
                for i in 0..<7 {
                    let plus = g[(i * 4 + j) * 2], minus = g[(i * 4 + j) * 2 + 1]
                    expected += v[b, i] * (plus - minus)
                    scale += abs(v[b, i]) * (plus + minus)
                }
                #expect(abs(y[b, j] - expected) <= 1e-9 * scale, "output \(j) of vector \(b)")
            }
        }
    }

    @Test func idealProgrammingIsExactAndForwardFollowsTargets() throws {
        var physics = try CrossbarPhysics(config: .ideal)
        let targets = (0..<physics.deviceCount).map { 1 + 0.5 * Double($0) }
        let readBack = physics.program(targets)
        #expect(readBack == targets)
        #expect(physics.trueConductances() == targets)
        let y = physics.forward(Matrix([[0.1, 0, 0, 0, 0]]))
        // Output 0 uses devices 0 (G+ = 1 µS) and 1 (G− = 1.5 µS) of row 0.
        #expect(abs(y[0, 0] - 0.1 * (1 - 1.5)) < 1e-12)
    }

    @Test func deadAdcColumnReadsZero() throws {
        var config = CrossbarConfig.ideal
        config.deadColumns = [1]
        var physics = try CrossbarPhysics(config: config)
        let g = physics.trueConductances()
        let v = TestSupport.inputs(batch: 6, rows: config.rows)
        let columns = physics.forwardPhysicalColumns(v)
        let y = physics.forward(v)
        for b in 0..<6 {
            #expect(columns[b, 1] == 0)
            #expect(columns[b, 0] != 0)
            let iPlus = (0..<config.rows).reduce(0.0) { $0 + v[b, $1] * g[$1 * config.physicalColumns] }
            #expect(abs(y[b, 0] - iPlus) < 1e-12, "a dead G− column leaves output 0 = I(G+)")
        }
    }

    @Test func everyAdcCanFail() throws {
        var config = CrossbarConfig.ideal
        config.adcFailureRate = 1
        var physics = try CrossbarPhysics(config: config)
        #expect(physics.deadColumns == Array(0..<config.physicalColumns))
        #expect(physics.forward(TestSupport.inputs(batch: 4, rows: config.rows)).storage.allSatisfy { $0 == 0 })
    }

    @Test func outputsAreMultiplesOfTheAdcStep() throws {
        var physics = try CrossbarPhysics(config: CrossbarConfig(rows: 8, outputs: 4))
        let step = try #require(physics.config.adcStep)
        #expect(abs(step - 0.3 * 25 * 8 / 2 / 511) < 1e-12)
        let v = TestSupport.inputs(batch: 32, rows: 8)
        let columns = physics.forwardPhysicalColumns(v)
        let y = physics.forward(v)
        #expect(columns.storage.allSatisfy { TestSupport.isMultiple($0, of: step) })
        #expect(y.storage.allSatisfy { TestSupport.isMultiple($0, of: step) })
        #expect(y.storage.contains { $0 != 0 })
        #expect(physics.descriptor.outputs.resolution == step)
    }

    @Test func adcSaturatesAtFullScale() throws {
        var config = CrossbarConfig.ideal
        config.adcBits = 10
        config.fullScale = 1
        var physics = try CrossbarPhysics(config: config)
        let high = physics.forwardPhysicalColumns(Matrix(rows: 1, cols: config.rows, repeating: 0.3))
        let low = physics.forwardPhysicalColumns(Matrix(rows: 1, cols: config.rows, repeating: -0.3))
        #expect(high.storage.allSatisfy { $0 == 1 })
        #expect(low.storage.allSatisfy { $0 == -1 })
    }

    @Test func dacQuantisesInputs() throws {
        var config = CrossbarConfig.ideal
        config.dacBits = 8
        var physics = try CrossbarPhysics(config: config)
        let step = try #require(config.dacStep)
        #expect(abs(step - 0.3 / 127) < 1e-15)
        let g00 = physics.trueConductances()[0]
        var v = Matrix(rows: 1, cols: config.rows)
        v[0, 0] = 0.1234
        let current = physics.forwardPhysicalColumns(v)[0, 0]
        let quantised = (0.1234 / step).rounded() * step
        #expect(abs(current - quantised * g00) < 1e-12)
        #expect(abs(current - 0.1234 * g00) > 1e-6, "the DAC changed the voltage")
    }

    @Test func singleDeviceReadNoiseIsTwoPercent() throws {
        var physics = try CrossbarPhysics(config: CrossbarConfig(rows: 4, outputs: 2))
        let d = try #require(TestSupport.healthyDevices(physics).first)
        let reads = (0..<4000).map { _ in physics.read(device: d) }
        let (mean, std) = TestSupport.meanAndStd(reads)
        #expect(abs(mean - physics.trueConductances()[d]) < 0.01 * mean)
        #expect(abs(std / mean - 0.02) <= 0.15 * 0.02, "relative read noise \(std / mean)")
    }

    /// Column noise has σ = readNoise·√(Σᵢ Vᵢ²Gᵢ²) exactly, ≈ readNoise·√(ΣV²·mean G²) in mean field.
    @Test(arguments: [true, false])
    func batchedReadNoiseMatchesItsModel(exact: Bool) throws {
        var config = CrossbarConfig.ideal
        config.rows = 6
        config.readNoise = 0.02
        config.exactReadNoise = exact
        var physics = try CrossbarPhysics(config: config)
        let g = physics.trueConductances()
        let vector = [0.3, -0.1, 0.2, 0.05, -0.25, 0.15]
        let batch = Matrix(rows: 4000, cols: 6, storage: (0..<4000).flatMap { _ in vector })
        let column0 = physics.forwardPhysicalColumns(batch).column(0)
        let gColumn = (0..<6).map { g[$0 * config.physicalColumns] }
        let sumV2G2 = zip(vector, gColumn).reduce(0) { $0 + $1.0 * $1.0 * $1.1 * $1.1 }
        let meanField = vector.reduce(0) { $0 + $1 * $1 } * gColumn.reduce(0) { $0 + $1 * $1 } / 6
        let expected = 0.02 * (exact ? sumV2G2 : meanField).squareRoot()
        let (mean, std) = TestSupport.meanAndStd(column0)
        #expect(abs(mean - zip(vector, gColumn).reduce(0) { $0 + $1.0 * $1.1 }) < 4 * expected / 60)
        #expect(abs(std / expected - 1) < 0.06, "noise σ \(std) µA, model \(expected) µA")
    }

    /// The batched read noise is Gaussian: moments, tails, and the empirical CDF of ~420 000
    /// draws against Φ (a generator error of 1% of the probability mass would show).
    @Test func batchedReadNoiseIsGaussian() throws {
        var config = CrossbarConfig.ideal
        config.readNoise = 0.02
        config.exactReadNoise = true
        var physics = try CrossbarPhysics(config: config)
        let vector = [0.3, -0.2, 0.1, 0.25, -0.05]
        let n = 70000
        let g = physics.trueConductances()
        let readings = physics.forwardPhysicalColumns(Matrix(rows: n, cols: 5, storage: (0..<n).flatMap { _ in vector }))
        var z: [Double] = []
        for c in 0..<config.physicalColumns {
            let column = (0..<5).map { g[$0 * config.physicalColumns + c] }
            let mean = zip(vector, column).reduce(0) { $0 + $1.0 * $1.1 }
            let sigma = 0.02 * zip(vector, column).reduce(0) { $0 + $1.0 * $1.0 * $1.1 * $1.1 }.squareRoot()
            z += readings.column(c).map { ($0 - mean) / sigma }
        }
        let count = Double(z.count)
        let m2 = z.reduce(0) { $0 + $1 * $1 } / count
        let skew = z.reduce(0) { $0 + $1 * $1 * $1 } / count
        let kurtosis = z.reduce(0) { $0 + $1 * $1 * $1 * $1 } / count
        #expect(abs(m2 - 1) < 0.01)
        #expect(abs(skew) < 0.02)
        #expect(abs(kurtosis - 3) < 0.05, "kurtosis \(kurtosis)")
        #expect(abs(Double(z.filter { abs($0) > 3 }.count) / count - 0.0027) < 0.0005, "3σ tails")
        z.sort()
        var worst = 0.0
        for x in stride(from: -3.0, through: 3.0, by: 0.25) {
            var lo = 0
            var hi = z.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if z[mid] < x { lo = mid + 1 } else { hi = mid }
            }
            worst = max(worst, abs(Double(lo) / count - 0.5 * erfc(-x / 2.0.squareRoot())))
        }
        #expect(worst < 0.003, "largest CDF deviation from Φ: \(worst)")
    }
}
