import Foundation
import PNNRuns
import PNNTraining

/// A small self-contained SVG chart for the experiment figures: line/scatter series with
/// optional vertical error bars, linear or log10 axes, title, axis titles and legend.
/// Non-finite points (and non-positive ones on a log axis) are skipped.
public struct ExperimentChart: Sendable {
    /// One plotted series.
    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var yError: [Double]?
        public var color: String
        public var line: Bool
        public var markers: Bool

        public init(
            name: String, x: [Double], y: [Double], yError: [Double]? = nil, color: String, line: Bool = true,
            markers: Bool = true
        ) {
            self.name = name
            self.x = x
            self.y = y
            self.yError = yError
            self.color = color
            self.line = line
            self.markers = markers
        }
    }

    public var title: String
    public var xTitle: String
    public var yTitle: String
    public var logX = false
    public var logY = false
    public var series: [Series] = []
    let width = 560.0
    let height = 400.0
    let left = 80.0
    let right = 20.0
    let top = 40.0
    let bottom = 60.0

    public init(title: String, xTitle: String, yTitle: String, logX: Bool = false, logY: Bool = false) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.logX = logX
        self.logY = logY
    }

    func usable(_ v: Double, log: Bool) -> Bool { v.isFinite && (!log || v > 0) }
    func t(_ v: Double, log: Bool) -> Double { log ? log10(v) : v }

    /// Axis range in transformed units, padded; log axes snap to decades.
    func range(_ values: [Double], log: Bool) -> (Double, Double) {
        let v = values.filter { usable($0, log: log) }.map { t($0, log: log) }
        guard var lo = v.min(), var hi = v.max() else { return (0, 1) }
        if log {
            lo = lo.rounded(.down)
            hi = max(hi.rounded(.up), lo + 1)
        } else {
            if hi - lo < 1e-12 { (lo, hi) = (lo - 1, hi + 1) }
            let pad = 0.05 * (hi - lo)
            (lo, hi) = (lo - pad, hi + pad)
        }
        return (lo, hi)
    }

    func ticks(_ r: (Double, Double), log: Bool) -> [(Double, String)] {
        if log { return stride(from: r.0, through: r.1 + 1e-9, by: 1).map { ($0, "1e\(Int($0.rounded()))") } }
        let span = r.1 - r.0
        let raw = span / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        return stride(from: (r.0 / step).rounded(.up) * step, through: r.1, by: step).map { ($0, String(format: "%g", $0)) }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The SVG document.
    public func render() -> String {
        let xs = series.flatMap(\.x)
        let ys = series.flatMap { s in
            s.y.indices.flatMap { i -> [Double] in
                guard let e = s.yError?[i], e.isFinite else { return [s.y[i]] }
                return [s.y[i] - e, s.y[i] + e]
            }
        }
        let xr = range(xs, log: logX)
        let yr = range(ys.filter { !logY || $0 > 0 }, log: logY)
        let pw = width - left - right
        let ph = height - top - bottom
        func px(_ v: Double) -> Double { left + (t(v, log: logX) - xr.0) / (xr.1 - xr.0) * pw }
        func py(_ v: Double) -> Double { top + ph - (t(v, log: logY) - yr.0) / (yr.1 - yr.0) * ph }
        func n(_ v: Double) -> String { String(format: "%.2f", v) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(n(width / 2))" y="22" text-anchor="middle" font-size="14">\(Self.escape(title))</text>
            <rect x="\(n(left))" y="\(n(top))" width="\(n(pw))" height="\(n(ph))" fill="none" stroke="black"/>

            """
        for (v, label) in ticks(xr, log: logX) {
            let x = left + (v - xr.0) / (xr.1 - xr.0) * pw
            out += "<line x1=\"\(n(x))\" y1=\"\(n(top + ph))\" x2=\"\(n(x))\" y2=\"\(n(top + ph + 5))\" stroke=\"black\"/>"
            out += "<text x=\"\(n(x))\" y=\"\(n(top + ph + 18))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        for (v, label) in ticks(yr, log: logY) {
            let y = top + ph - (v - yr.0) / (yr.1 - yr.0) * ph
            out += "<line x1=\"\(n(left - 5))\" y1=\"\(n(y))\" x2=\"\(n(left))\" y2=\"\(n(y))\" stroke=\"black\"/>"
            out += "<text x=\"\(n(left - 8))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
        }
        out += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(height - 15))\" text-anchor=\"middle\">\(Self.escape(xTitle))</text>\n"
        out +=
            "<text transform=\"translate(18 \(n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yTitle))</text>\n"
        for (k, s) in series.enumerated() {
            let idx = s.x.indices.filter { usable(s.x[$0], log: logX) && usable(s.y[$0], log: logY) }
            if s.line, idx.count > 1 {
                let pts = idx.map { "\(n(px(s.x[$0]))),\(n(py(s.y[$0])))" }.joined(separator: " ")
                out += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\"/>\n"
            }
            for i in idx {
                if let e = s.yError?[i], e.isFinite, e > 0 {
                    let lo = logY ? max(s.y[i] - e, s.y[i] * 1e-3) : s.y[i] - e
                    out += "<line x1=\"\(n(px(s.x[i])))\" y1=\"\(n(py(lo)))\" x2=\"\(n(px(s.x[i])))\" "
                    out += "y2=\"\(n(py(s.y[i] + e)))\" stroke=\"\(s.color)\"/>"
                }
                if s.markers { out += "<circle cx=\"\(n(px(s.x[i])))\" cy=\"\(n(py(s.y[i])))\" r=\"3\" fill=\"\(s.color)\"/>\n" }
            }
            let ly = top + 14 + Double(k) * 16
            out += "<rect x=\"\(n(left + 10))\" y=\"\(n(ly - 9))\" width=\"12\" height=\"10\" fill=\"\(s.color)\"/>"
            out += "<text x=\"\(n(left + 28))\" y=\"\(n(ly))\">\(Self.escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }
}
