import Foundation
import PNNCore

/// Tables of the Marsaglia–Tsang ziggurat for the standard normal distribution
/// (128 layers of equal area, tail beyond r handled exactly). About 99% of draws cost one
/// 64-bit random number, a multiply and a compare, which keeps batched read noise cheap.
struct NormalZiggurat: Sendable {
    static let layerCount = 128
    /// Start of the tail.
    static let r = 3.442619855899
    /// Area of every layer.
    static let area = 9.91256303526217e-3
    /// Layer edges: x[0] = area/f(r) (base layer incl. tail), x[1] = r, …, x[128] = 0.
    let x: [Double]
    /// f(x[i]) = exp(−x[i]²/2).
    let f: [Double]

    static let shared = NormalZiggurat()

    private init() {
        var x = [Double](repeating: 0, count: Self.layerCount + 1)
        x[0] = Self.area / exp(-0.5 * Self.r * Self.r)
        x[1] = Self.r
        for i in 1..<Self.layerCount {
            let y = exp(-0.5 * x[i] * x[i]) + Self.area / x[i]
            x[i + 1] = y >= 1 ? 0 : (-2 * log(y)).squareRoot()
        }
        x[Self.layerCount] = 0
        self.x = x
        self.f = x.map { exp(-0.5 * $0 * $0) }
    }
}

extension SeededRandom {
    /// Fills `buffer` with standard normal draws (ziggurat method). Consumes one value of
    /// this stream, which seeds a local copy of the generator (its steps inline across modules).
    mutating func fillStandardNormal(_ buffer: UnsafeMutableBufferPointer<Double>) {
        var local = SeededRandom(seed: next())
        let table = NormalZiggurat.shared
        table.x.withUnsafeBufferPointer { x in
            table.f.withUnsafeBufferPointer { f in
                for k in buffer.indices { buffer[k] = local.zigguratNormal(x: x, f: f) }
            }
        }
    }
}

extension SeededRandom {
    @inline(__always)
    mutating func zigguratNormal(x: UnsafeBufferPointer<Double>, f: UnsafeBufferPointer<Double>) -> Double {
        while true {
            let bits = next()
            let layer = Int(bits & 127)
            // The top 53 bits (independent of the layer bits) give u in [−1, 1).
            let u = Double(Int64(bitPattern: bits) >> 11) * 0x1p-52
            let candidate = u * x[layer]
            if abs(candidate) < x[layer + 1] { return candidate }
            if layer == 0 {
                // Tail beyond r (Marsaglia 1964).
                var a: Double
                var b: Double
                repeat {
                    a = -log(1 - uniform()) / NormalZiggurat.r
                    b = -log(1 - uniform())
                } while b + b < a * a
                return u < 0 ? -(NormalZiggurat.r + a) : NormalZiggurat.r + a
            }
            let y = f[layer] + uniform() * (f[layer + 1] - f[layer])
            if y < exp(-0.5 * candidate * candidate) { return candidate }
        }
    }
}

/// Converter arithmetic that vectorises on baseline x86-64 (no SSE4.1 rounding instruction).
enum Converter {
    /// 1.5·2⁵²: adding and subtracting it rounds to the nearest integer (ties to even)
    /// for |x| < 2⁵¹ in the default rounding mode.
    static let roundingMagic = 6_755_399_441_055_744.0

    /// Rounds to the nearest of ±`levels` steps of `step`, saturating at the ends, in place.
    /// `clipped[i]` is set to whether value i lay beyond ±levels·step (it was clipped).
    static func quantise(
        _ values: UnsafeMutableBufferPointer<Double>, step: Double, levels: Int, clipped: UnsafeMutableBufferPointer<Bool>
    ) {
        let inverse = 1 / step
        let limit = Double(levels)
        let magic = roundingMagic
        for i in values.indices {
            var q = values[i] * inverse
            clipped[i] = q > limit || q < -limit
            q = q > limit ? limit : (q < -limit ? -limit : q)
            values[i] = ((q + magic) - magic) * step
        }
    }

    /// Clips to ±`fullScale` in place (an ADC that saturates without quantising);
    /// `clipped[i]` is set to whether value i was clipped.
    static func clip(_ values: UnsafeMutableBufferPointer<Double>, fullScale: Double, clipped: UnsafeMutableBufferPointer<Bool>) {
        for i in values.indices {
            let x = values[i]
            clipped[i] = x > fullScale || x < -fullScale
            values[i] = x > fullScale ? fullScale : (x < -fullScale ? -fullScale : x)
        }
    }

    /// DAC: writes the quantised `input` (batch × width; `step == nil` copies it) into
    /// `output` and returns each row's Σ V² of the values written.
    static func dac(_ input: Matrix, step: Double?, levels: Int, into output: inout Matrix) -> [Double] {
        precondition(output.rows == input.rows && output.cols == input.cols)
        let width = input.cols
        let batch = input.rows
        var sums = [Double](repeating: 0, count: batch)
        let inverse = SIMD4<Double>(repeating: 1 / (step ?? 1))
        let scale = SIMD4<Double>(repeating: step ?? 1)
        let low = SIMD4<Double>(repeating: -Double(levels))
        let high = SIMD4<Double>(repeating: Double(levels))
        let magic = SIMD4<Double>(repeating: roundingMagic)
        let quantising = step != nil
        input.storage.withUnsafeBufferPointer { vBuffer in
            output.storage.withUnsafeMutableBufferPointer { oBuffer in
                guard let v = vBuffer.baseAddress, let o = oBuffer.baseAddress else { return }
                let raw = UnsafeRawPointer(v)
                let rawOut = UnsafeMutableRawPointer(o)
                let stride = MemoryLayout<Double>.stride
                for b in 0..<batch {
                    var acc = SIMD4<Double>()
                    var i = b * width
                    let end = i + width
                    while i + 4 <= end {
                        var q = raw.loadUnaligned(fromByteOffset: i * stride, as: SIMD4<Double>.self)
                        if quantising {
                            q *= inverse
                            q = q.replacing(with: high, where: q .> high).replacing(with: low, where: q .< low)
                            q = ((q + magic) - magic) * scale
                        }
                        acc += q * q
                        rawOut.storeBytes(of: q, toByteOffset: i * stride, as: SIMD4<Double>.self)
                        i += 4
                    }
                    var sum = acc.sum()
                    while i < end {
                        var q = SIMD4<Double>(v[i], 0, 0, 0)
                        if quantising {
                            q *= inverse
                            q = q.replacing(with: high, where: q .> high).replacing(with: low, where: q .< low)
                            q = ((q + magic) - magic) * scale
                        }
                        sum += q[0] * q[0]
                        o[i] = q[0]
                        i += 1
                    }
                    sums[b] = sum
                }
            }
        }
        return sums
    }
}
