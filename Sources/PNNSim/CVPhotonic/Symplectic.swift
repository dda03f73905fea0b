import Foundation
import PNNCore

/// Symplectic matrices of Gaussian optical elements on N modes, in thewalrus's conventions:
/// ħ = 2 and **xxpp ordering** — a phase-space vector is (x₀ … x_{N−1}, p₀ … p_{N−1}), so
/// mode k's x quadrature is index k and its p quadrature index N + k. Every matrix is
/// 2N × 2N and satisfies S Ω Sᵀ = Ω with Ω = [[0, I], [−I, 0]].
public enum Symplectic {
    /// The symplectic form Ω = [[0, I], [−I, 0]] (xxpp ordering).
    public static func omega(modes n: Int) -> Matrix {
        var m = Matrix(rows: 2 * n, cols: 2 * n)
        for k in 0..<n {
            m[k, n + k] = 1
            m[n + k, k] = -1
        }
        return m
    }

    /// The passive (energy-conserving) symplectic of an interferometer with unitary
    /// U = re + i·im: S = [[Re U, −Im U], [Im U, Re U]].
    public static func passive(real re: Matrix, imaginary im: Matrix) -> Matrix {
        let n = re.rows
        var s = Matrix(rows: 2 * n, cols: 2 * n)
        for r in 0..<n {
            for c in 0..<n {
                s[r, c] = re[r, c]
                s[r, n + c] = -im[r, c]
                s[n + r, c] = im[r, c]
                s[n + r, n + c] = re[r, c]
            }
        }
        return s
    }

    /// A beam splitter between modes `i` and `j` with transmission angle θ and phase φ:
    /// U = [[cos θ, −e^{−iφ} sin θ], [e^{iφ} sin θ, cos θ]] on (i, j), identity elsewhere
    /// (thewalrus `symplectic.beam_splitter(theta, phi)`; θ = π/4 is 50:50).
    public static func beamSplitter(theta: Double, phi: Double, modes i: Int, _ j: Int, of n: Int) -> Matrix {
        let (re, im) = beamSplitterUnitary(theta: theta, phi: phi)
        var r = Matrix.identity(n)
        var m = Matrix(rows: n, cols: n)
        let idx = [i, j]
        for a in 0..<2 {
            for b in 0..<2 {
                r[idx[a], idx[b]] = re[a][b]
                m[idx[a], idx[b]] = im[a][b]
            }
        }
        return passive(real: r, imaginary: m)
    }

    /// Real and imaginary parts of the 2 × 2 beam-splitter unitary.
    static func beamSplitterUnitary(theta: Double, phi: Double) -> (re: [[Double]], im: [[Double]]) {
        let ct = cos(theta), st = sin(theta), cp = cos(phi), sp = sin(phi)
        return ([[ct, -cp * st], [cp * st, ct]], [[0, sp * st], [sp * st, 0]])
    }

    /// A phase shifter e^{iφ} on mode `k`: rotates (x_k, p_k) by φ (thewalrus `rotation(phi)`).
    public static func phaseShift(_ phi: Double, mode k: Int, of n: Int) -> Matrix {
        var s = Matrix.identity(2 * n)
        s[k, k] = cos(phi)
        s[k, n + k] = -sin(phi)
        s[n + k, k] = sin(phi)
        s[n + k, n + k] = cos(phi)
        return s
    }

    /// A single-mode squeezer S(r) on mode `k` along x: x → e^{−r} x, p → e^{r} p, so the
    /// vacuum's x variance becomes e^{−2r} and p variance e^{2r} (thewalrus `squeezing(r, 0)`).
    public static func squeezer(_ r: Double, mode k: Int, of n: Int) -> Matrix {
        var s = Matrix.identity(2 * n)
        s[k, k] = exp(-r)
        s[n + k, n + k] = exp(r)
        return s
    }

    /// Largest |(S Ω Sᵀ − Ω)_ij|: zero (to rounding) for a symplectic matrix.
    public static func defect(_ s: Matrix) -> Double {
        let omega = omega(modes: s.rows / 2)
        let d = s * omega * s.transposed - omega
        return d.storage.map(abs).max() ?? 0
    }
}
