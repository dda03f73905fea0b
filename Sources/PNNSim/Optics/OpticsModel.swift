import CBLAS
import Foundation
import PNNCore

/// The optics twin's noiseless physics as a differentiable model: what physics-aware
/// training differentiates through while the twin does the forward pass, and what in-silico
/// training and the digital ceiling run on.
///
/// Per input row x (values in [−1, 1]) and trainable grey levels θ:
///
///     g = 127.5·(x + 1) + θ            (overlay: on the same macro-pixel; side by side: θ on its own)
///     φ = LUT(g mod 256)               (the twin's table, linear between grey levels)
///     ψ = F·φ                          (fringing: each phase mixes with its grid neighbours, weight κ)
///     C = e^{iψ}·T                     (T the twin's transmission matrix, macro-pixels × ROI pixels)
///     y = bin(s·|C|²) + offset         (s = DN per unit intensity at the camera's exposure and gain)
///
/// At grey levels the twin can show (integer θ, inputs on the 1/127.5 grid) `forward` is
/// the twin's `idealOutputs` (settled SLM, camera without noise, saturation or
/// quantisation). Between them the grey levels are continuous: the LUT is interpolated
/// linearly, the segment from 255 to 256 joining LUT[255] to LUT[0] + 2π (grey 256 shows
/// as 0, and a phase is only defined modulo 2π), so θ outside 0…255 wraps as the overlay's
/// addition modulo 256 does. Binary-amplitude inputs (side by side only) are a 0/1 mask
/// with flat phase: their ∂x is 0 (a step has no slope), their macro-pixels keep the phase
/// the liquid crystal holds there for the fringing of their neighbours.
///
/// The vector–Jacobian product is analytic, the transpose of each step:
/// ∂I = s·v/b² on every pixel of a bin, ∂C = 2·∂I·C, ∂E = ∂C·Tᴴ, ∂ψ = Im(∂E·e^{−iψ})… written
/// out as ∂ψ = −∂E_re·sin ψ + ∂E_im·cos ψ, ∂φ = Fᵀ·∂ψ, ∂g = LUT′(g)·∂φ, then ∂θ (summed over
/// rows) and ∂x = 127.5·∂g on the input macro-pixels.
///
/// The model is a snapshot: the medium as it was when the model was made (the twin's
/// medium decorrelates slowly as simulated time passes; training measures on the twin).
public struct OpticsModel: SubstrateModel {
    /// The twin's settings (geometry, layout, input mode, camera).
    public let config: OpticsConfig
    /// Grey → phase, 256 entries, rad (the SLM's current table).
    public let lut: [Double]
    /// Fringing weight κ (0: none) and the grid it acts on.
    public let crosstalk: Double
    public let gridWidth: Int
    /// The medium, macro-pixels × ROI pixels.
    public let medium: TransmissionMatrix
    /// Phase the liquid crystal holds on each macro-pixel (used only for binary-amplitude inputs).
    let heldPhase: [Double]
    /// DN per unit intensity, and the black level.
    public let scale: Double
    public let offset: Double
    /// Feature of each ROI pixel (−1: outside every whole bin).
    let featureOfPixel: [Int]
    let binArea: Double

    /// The model of the twin in `physics` as it is now.
    public init(physics: OpticsPhysics) {
        let c = physics.config
        config = c
        lut = physics.slm.lut
        crosstalk = physics.slm.crosstalk
        gridWidth = physics.slm.gridWidth
        medium = physics.medium
        heldPhase = physics.slm.grey.map { physics.slm.lut[Int($0)] }
        let cam = physics.camera
        scale = cam.dnPerElectron * c.quantumEfficiency * c.photonFlux * c.exposure
        offset = c.offset
        let b = max(c.binning, 1)
        let w = c.resolvedROIWidth
        let fw = w / b
        let fh = c.resolvedROIHeight / b
        var map = [Int](repeating: -1, count: c.roiPixels)
        for p in map.indices {
            let (py, px) = (p / w, p % w)
            if px / b < fw && py / b < fh { map[p] = (py / b) * fw + px / b }
        }
        featureOfPixel = map
        binArea = Double(b * b)
    }

    public var parameterCount: Int { config.parameters }
    public var inputCount: Int { config.inputs }
    public var outputCount: Int { config.features }
    /// False for binary-amplitude inputs (a 0/1 mask is a step: ∂x = 0).
    public var inputsDifferentiable: Bool { config.inputMode != .binary }

    // MARK: Pieces

    /// φ(g) and dφ/dg for a continuous grey level (any real g; wraps modulo 256).
    @inline(__always) func phase(_ g: Double) -> (phi: Double, slope: Double) {
        var w = g.truncatingRemainder(dividingBy: 256)
        if w < 0 { w += 256 }
        var k = Int(w)
        if k > 255 { k = 255 }
        let f = w - Double(k)
        let lo = lut[k]
        let hi = k == 255 ? lut[0] + 2 * .pi : lut[k + 1]
        return (lo + f * (hi - lo), hi - lo)
    }

    /// Grid neighbours of macro-pixel i (as `PhaseSLM.fringed` counts them).
    func neighbours(_ i: Int, of n: Int) -> [Int] {
        let (r, c) = (i / gridWidth, i % gridWidth)
        var out: [Int] = []
        if c > 0 { out.append(i - 1) }
        if c + 1 < gridWidth, i + 1 < n { out.append(i + 1) }
        if r > 0 { out.append(i - gridWidth) }
        if i + gridWidth < n { out.append(i + gridWidth) }
        return out
    }

    /// Whether macro-pixel i carries a binary amplitude input.
    @inline(__always) func isAmplitude(_ i: Int) -> Bool { config.inputMode == .binary && i < config.inputs }

    /// One batch's state on the SLM: continuous grey levels, their LUT slopes, the fringed
    /// phases and the complex fields (interleaved), rows × macro-pixels.
    struct Fields {
        var slope: [Double]
        var psi: [Double]
        var field: [Double]
    }

    func fields(theta: [Double], inputs: Matrix) -> Fields {
        precondition(theta.count == parameterCount, "the optics model takes \(parameterCount) grey levels")
        precondition(
            inputs.cols == inputCount, "inputs have \(inputs.cols) lines, the input region has \(inputCount) macro-pixels")
        let n = config.macroPixels
        let rows = inputs.rows
        var grey = [Double](repeating: 0, count: n)
        var phi = [Double](repeating: 0, count: n)
        var out = Fields(
            slope: [Double](repeating: 0, count: rows * n), psi: [Double](repeating: 0, count: rows * n),
            field: [Double](repeating: 0, count: 2 * rows * n))
        let nb = crosstalk > 0 ? (0..<n).map { neighbours($0, of: n) } : []
        for r in 0..<rows {
            for i in 0..<n { grey[i] = 0 }
            for i in 0..<config.inputs { grey[i] = 127.5 * (inputs[r, i] + 1) }
            for j in 0..<config.parameters { grey[config.macroPixel(ofParameter: j)] += theta[j] }
            for i in 0..<n {
                if isAmplitude(i) {
                    phi[i] = heldPhase[i]
                } else {
                    let p = phase(grey[i])
                    phi[i] = p.phi
                    out.slope[r * n + i] = p.slope
                }
            }
            for i in 0..<n {
                var psi = phi[i]
                if crosstalk > 0 {
                    psi = (1 - Double(nb[i].count) * crosstalk) * phi[i]
                    for j in nb[i] { psi += crosstalk * phi[j] }
                }
                out.psi[r * n + i] = psi
                if isAmplitude(i) {
                    out.field[2 * (r * n + i)] = inputs[r, i] >= 0 ? 1 : 0
                } else {
                    out.field[2 * (r * n + i)] = cos(psi)
                    out.field[2 * (r * n + i) + 1] = sin(psi)
                }
            }
        }
        return out
    }

    // MARK: SubstrateModel

    public func forward(theta: [Double], inputs: Matrix) -> Matrix {
        let f = fields(theta: theta, inputs: inputs)
        return features(intensities: medium.intensities(f.field, rows: inputs.rows), rows: inputs.rows)
    }

    /// Binned features of ROI intensities (rows × ROI pixels), DN.
    func features(intensities: [Double], rows: Int) -> Matrix {
        let m = config.roiPixels
        var y = Matrix(rows: rows, cols: outputCount)
        for r in 0..<rows {
            for p in 0..<m where featureOfPixel[p] >= 0 {
                y.storage[r * outputCount + featureOfPixel[p]] += intensities[r * m + p]
            }
        }
        let s = scale / binArea
        for i in y.storage.indices { y.storage[i] = s * y.storage[i] + offset }
        return y
    }

    public func vjp(theta: [Double], inputs: Matrix, cotangent: Matrix) -> (theta: [Double], inputs: Matrix) {
        precondition(cotangent.rows == inputs.rows && cotangent.cols == outputCount, "one cotangent per output per row")
        let rows = inputs.rows
        let n = config.macroPixels
        let m = config.roiPixels
        let f = fields(theta: theta, inputs: inputs)
        let c = medium.propagate(f.field, rows: rows)
        // ∂C = 2·∂I·C with ∂I = s·v/b² on the pixels of each bin.
        let s = scale / binArea
        var gc = [Double](repeating: 0, count: 2 * rows * m)
        for r in 0..<rows {
            for p in 0..<m where featureOfPixel[p] >= 0 {
                let gi = 2 * s * cotangent.storage[r * outputCount + featureOfPixel[p]]
                let k = 2 * (r * m + p)
                gc[k] = gi * c[k]
                gc[k + 1] = gi * c[k + 1]
            }
        }
        let ge = medium.adjoint(gc, rows: rows)
        var gTheta = [Double](repeating: 0, count: parameterCount)
        var gx = Matrix(rows: rows, cols: inputCount)
        var gpsi = [Double](repeating: 0, count: n)
        var gphi = [Double](repeating: 0, count: n)
        let nb = crosstalk > 0 ? (0..<n).map { neighbours($0, of: n) } : []
        for r in 0..<rows {
            for i in 0..<n {
                let k = r * n + i
                gpsi[i] = isAmplitude(i) ? 0 : -ge[2 * k] * sin(f.psi[k]) + ge[2 * k + 1] * cos(f.psi[k])
                gphi[i] = 0
            }
            for i in 0..<n {
                if crosstalk > 0 {
                    gphi[i] += (1 - Double(nb[i].count) * crosstalk) * gpsi[i]
                    for j in nb[i] { gphi[j] += crosstalk * gpsi[i] }
                } else {
                    gphi[i] += gpsi[i]
                }
            }
            for j in 0..<config.parameters {
                let i = config.macroPixel(ofParameter: j)
                gTheta[j] += f.slope[r * n + i] * gphi[i]
            }
            for i in 0..<config.inputs where !isAmplitude(i) {
                gx[r, i] = 127.5 * f.slope[r * n + i] * gphi[i]
            }
        }
        return (gTheta, gx)
    }
}

extension TransmissionMatrix {
    /// The adjoint of `propagate`: G·Tᴴ for `rows` camera-side gradients G (rows × pixels,
    /// interleaved complex), rows × sources. With G = ∂L/∂Re C + i·∂L/∂Im C for C = E·T, the
    /// result is ∂L/∂Re E + i·∂L/∂Im E.
    public func adjoint(_ g: [Double], rows: Int) -> [Double] {
        precondition(g.count == 2 * rows * pixels, "one complex value per pixel per row")
        var out = [Double](repeating: 0, count: 2 * rows * sources)
        guard rows > 0, pixels > 0, sources > 0 else { return out }
        BLASThreads.configure()
        var alpha: (Double, Double) = (1, 0)
        var beta: (Double, Double) = (0, 0)
        g.withUnsafeBufferPointer { a in
            entries.withUnsafeBufferPointer { t in
                out.withUnsafeMutableBufferPointer { c in
                    withUnsafePointer(to: &alpha) { al in
                        withUnsafePointer(to: &beta) { be in
                            cblas_zgemm(
                                CblasRowMajor, CblasNoTrans, CblasConjTrans, Int32(rows), Int32(sources), Int32(pixels),
                                UnsafeRawPointer(al), UnsafeRawPointer(a.baseAddress!), Int32(pixels),
                                UnsafeRawPointer(t.baseAddress!), Int32(pixels), UnsafeRawPointer(be),
                                UnsafeMutableRawPointer(c.baseAddress!), Int32(sources))
                        }
                    }
                }
            }
        }
        return out
    }
}
