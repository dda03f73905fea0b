import Foundation
import PNNCore

/// How raw features become the feature vector that is put on the device's input lines.
public enum FeatureEncoding: String, Sendable, Codable, CaseIterable {
    /// Standardised features as they are.
    case linear
    /// Standardised features, their squares (minus one) and pairwise products: lets a
    /// single linear crossbar layer draw quadratic class boundaries (XOR, Iris's overlap).
    case quadratic
    /// 32 seeded random Fourier features cos(ω·z + b) (an RBF-kernel approximation).
    case fourier
}

/// Maps raw features to input voltages: standardise with training-set statistics,
/// expand (`FeatureEncoding`), scale into the device's safe input range, and append one
/// constant bias line. Fitted on the training split only, and `Codable` so a resumed
/// run uses exactly the same mapping.
public struct InputEncoder: Sendable, Codable, Equatable {
    public var encoding: FeatureEncoding
    public var mean: [Double]
    public var scale: [Double]
    /// Peak voltage used for features and the bias line (a fraction of the safe range).
    public var amplitude: Double
    /// A standardised feature of ±`clipSigma` maps to ±amplitude; larger values clip.
    public var clipSigma: Double
    /// Random Fourier feature frequencies and phases (only for `.fourier`).
    public var fourierOmega: [Double]
    public var fourierPhase: [Double]

    public static let fourierFeatureCount = 32

    /// Fit on `train`; `amplitude` is the peak input voltage to use.
    public init(fitting train: Dataset, encoding: FeatureEncoding, amplitude: Double, clipSigma: Double = 3, seed: UInt64) {
        let n = Double(max(train.count, 1))
        let d = train.featureCount
        var mean = Array(repeating: 0.0, count: d)
        var sq = Array(repeating: 0.0, count: d)
        for r in 0..<train.count {
            for c in 0..<d {
                let v = train.features[r, c]
                mean[c] += v
                sq[c] += v * v
            }
        }
        for c in 0..<d {
            mean[c] /= n
            let variance = max(sq[c] / n - mean[c] * mean[c], 0)
            sq[c] = variance > 1e-12 ? variance.squareRoot() : 1
        }
        self.encoding = encoding
        self.mean = mean
        self.scale = sq
        self.amplitude = amplitude
        self.clipSigma = clipSigma
        var omega: [Double] = []
        var phase: [Double] = []
        if encoding == .fourier {
            var rng = SeededRandom.derived(seed: seed, stream: 0xF0_0F)
            for _ in 0..<(Self.fourierFeatureCount * d) { omega.append(rng.normal() * 0.7) }
            for _ in 0..<Self.fourierFeatureCount { phase.append(rng.uniform() * 2 * .pi) }
        }
        self.fourierOmega = omega
        self.fourierPhase = phase
    }

    /// Number of input lines the encoded vectors need, bias line included.
    public var inputCount: Int { featureCount + 1 }

    /// Encoded features per sample (bias line excluded).
    public var featureCount: Int {
        let d = mean.count
        switch encoding {
        case .linear: return d
        case .quadratic: return d + d + d * (d - 1) / 2
        case .fourier: return Self.fourierFeatureCount
        }
    }

    /// Encode a batch of raw feature rows into input voltages (batch × `inputCount`).
    public func encode(_ features: Matrix) -> Matrix {
        let d = mean.count
        var out = Matrix(rows: features.rows, cols: inputCount)
        var z = Array(repeating: 0.0, count: d)
        for r in 0..<features.rows {
            for c in 0..<d { z[c] = (features[r, c] - mean[c]) / scale[c] }
            let expanded = expand(z)
            for (c, v) in expanded.enumerated() {
                out[r, c] = amplitude * min(max(v / clipSigma, -1), 1)
            }
            out[r, inputCount - 1] = amplitude
        }
        return out
    }

    private func expand(_ z: [Double]) -> [Double] {
        switch encoding {
        case .linear:
            return z
        case .quadratic:
            var out = z
            for v in z { out.append(v * v - 1) }
            for i in 0..<z.count { for j in (i + 1)..<z.count { out.append(z[i] * z[j]) } }
            return out
        case .fourier:
            let d = z.count
            return (0..<Self.fourierFeatureCount).map { k in
                var s = fourierPhase[k]
                for c in 0..<d { s += fourierOmega[k * d + c] * z[c] }
                return clipSigma * cos(s)
            }
        }
    }
}
