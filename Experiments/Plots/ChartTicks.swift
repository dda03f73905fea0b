import Foundation

/// Axis ticks and their labels for the SVG charts: "nice" linear steps (1, 2 or 5 × 10ᵏ),
/// log axes labelled at a few decades only, exponents written with superscripts (10⁻²,
/// 2.5×10⁻³) and never a "-0".
public enum ChartTicks {
    /// One tick: where it sits (in axis units: log10 of the value on a log axis) and its label
    /// (nil: an unlabelled minor tick).
    public struct Tick: Sendable, Equatable {
        public var position: Double
        public var label: String?

        public init(position: Double, label: String?) {
            self.position = position
            self.label = label
        }
    }

    /// The nice step (1, 2 or 5 × 10ᵏ) giving about `target` intervals over `span`.
    public static func niceStep(span: Double, target: Int = 5) -> Double {
        guard span.isFinite, span > 0 else { return 1 }
        let raw = span / Double(max(target, 1))
        let magnitude = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * magnitude
    }

    /// A linear axis range widened to whole steps around `lo…hi`, with its step.
    public static func niceRange(_ lo: Double, _ hi: Double, target: Int = 5) -> (lo: Double, hi: Double, step: Double) {
        var (a, b) = (lo, hi)
        if !(b - a > 1e-12 * max(abs(a), abs(b), 1e-300)) {
            let pad = a == 0 ? 1 : abs(a) * 0.1
            (a, b) = (a - pad, b + pad)
        }
        // Of the nice steps for target … target + 2 intervals, the one wasting least of the axis.
        var best: (lo: Double, hi: Double, step: Double)?
        for t in target...(target + 2) {
            let step = niceStep(span: b - a, target: t)
            let candidate = ((a / step).rounded(.down) * step, (b / step).rounded(.up) * step, step)
            if best == nil || candidate.1 - candidate.0 < best!.hi - best!.lo - 1e-9 * step { best = candidate }
        }
        return best!
    }

    /// Ticks at every multiple of `step` inside `lo…hi`, labelled with the digits the step needs.
    /// Positions are integer multiples of the step (no accumulated rounding).
    public static func linear(_ lo: Double, _ hi: Double, step: Double) -> [Tick] {
        guard step > 0, lo.isFinite, hi.isFinite, hi >= lo else { return [] }
        let first = Int((lo / step - 1e-9).rounded(.up))
        let last = Int((hi / step + 1e-9).rounded(.down))
        guard last >= first, last - first <= 1000 else { return [] }
        let largest = max(abs(lo), abs(hi))
        return (first...last).map { i in
            let v = i == 0 ? 0 : Double(i) * step
            return Tick(position: v, label: label(v, step: step, largest: largest))
        }
    }

    /// The label of `value` on an axis ticked every `step`: plain decimals with as many
    /// digits as the step needs, or `m×10ᵏ` when the numbers are very large or very small.
    /// Zero (and anything that rounds to it) is "0", never "-0".
    public static func label(_ value: Double, step: Double, largest: Double? = nil) -> String {
        let stepExponent = Int(floor(log10(step) + 1e-9))
        if abs(value) < step * 1e-6 { return "0" }
        let top = largest ?? abs(value)
        if top >= 1e5 || stepExponent <= -4 {
            let e = Int(floor(log10(abs(value)) + 1e-9))
            let mantissa = value / pow(10, Double(e))
            let digits = max(0, min(e - stepExponent, 6))
            var m = String(format: "%.\(digits)f", mantissa)
            if m == "1" { return power(e) }
            if m == "-1" { return "−" + power(e) }
            m = m.replacingOccurrences(of: "-", with: "−")
            return m + "×" + power(e)
        }
        let digits = max(0, -stepExponent)
        let text = String(format: "%.\(digits)f", value)
        return text.hasPrefix("-") ? "−" + text.dropFirst() : text
    }

    /// Ticks of a log10 axis spanning decades `lo…hi` (exponents): every decade gets a tick,
    /// but at most `maxLabels` are labelled (every k-th decade, k = 1, 2, 5, 10…).
    public static func logDecades(_ lo: Int, _ hi: Int, maxLabels: Int = 6) -> [Tick] {
        guard hi >= lo else { return [] }
        let count = hi - lo + 1
        var every = 1
        for k in [1, 2, 3, 5, 10, 20, 50, 100] {
            every = k
            if (count + k - 1) / k <= maxLabels { break }
        }
        var ticks = (lo...hi).map { e in
            Tick(position: Double(e), label: e.isMultiple(of: every) ? power(e) : nil)
        }
        // Two decades or fewer: also 2 and 5 × 10ᵏ, labelled, so the axis can be read.
        // Between 0.01 and 100 they are all written as plain numbers (0.02, 0.1, 50).
        if hi - lo <= 2 {
            let plain = abs(lo) <= 2 && abs(hi) <= 2
            if plain { ticks = ticks.map { Tick(position: $0.position, label: compact(pow(10, $0.position))) } }
            for e in lo..<hi {
                for m in [2, 5] {
                    let v = Double(m) * pow(10, Double(e))
                    ticks.append(Tick(position: log10(v), label: plain ? compact(v) : "\(m)×" + power(e)))
                }
            }
            ticks.sort { $0.position < $1.position }
        }
        return ticks
    }

    /// `10` with the exponent in superscript digits: `power(-2)` is "10⁻²", `power(0)` "1".
    public static func power(_ exponent: Int) -> String {
        exponent == 0 ? "1" : "10" + superscript(exponent)
    }

    /// An integer in Unicode superscript digits, with a superscript minus.
    public static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let body = String(String(abs(n)).map { digits[Int(String($0))!] })
        return n < 0 ? "⁻" + body : body
    }

    /// A number for captions and legends: 3 significant digits, `m×10ᵏ` outside 10⁻³…10⁵.
    public static func compact(_ v: Double, significant: Int = 3) -> String {
        guard v.isFinite else { return v.isNaN ? "n/a" : (v > 0 ? "∞" : "−∞") }
        if v == 0 { return "0" }
        let e = Int(floor(log10(abs(v))))
        if e < -3 || e >= 5 {
            let m = v / pow(10, Double(e))
            let text = String(format: "%.\(max(significant - 1, 0))g", m)
            return (text == "1" ? "" : text.replacingOccurrences(of: "-", with: "−") + "×") + power(e)
        }
        let text = String(format: "%.\(significant)g", v)
        return text.hasPrefix("-") ? "−" + text.dropFirst() : text
    }
}
