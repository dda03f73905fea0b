import Foundation
import PNNRuns
import PNNTraining

/// A small self-contained SVG chart for the experiment figures and `pnnlab plot`: line/scatter
/// series with optional vertical error bars, horizontal reference lines, linear or log10 axes,
/// title, axis titles, a legend to the right of the plot (never over the data) and a caption
/// under it that says what the error bars are and what was left out.
///
/// Ticks come from `ChartTicks`: 1/2/5 × 10ᵏ steps, no "-0", log axes labelled at no more than
/// six decades with superscript exponents (10⁻²). Non-finite points, non-positive ones on a log
/// axis, and on a log y axis the values below `logFloor` × the largest (a numerical floor such
/// as 10⁻²⁸ from exact convergence, not a measurement) are not drawn; the caption counts them.
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

    /// A horizontal line across the plot at `y` (e.g. the digital ceiling), named in the legend.
    public struct ReferenceLine: Sendable {
        public var name: String
        public var y: Double
        public var color: String

        public init(name: String, y: Double, color: String) {
            self.name = name
            self.y = y
            self.color = color
        }
    }

    public var title: String
    public var xTitle: String
    public var yTitle: String
    public var logX = false
    public var logY = false
    public var series: [Series] = []
    public var referenceLines: [ReferenceLine] = []
    /// What the error bars show (e.g. "± standard error over 5 seeds"); written in the
    /// caption whenever a series has error bars.
    public var errorBars: String?
    /// Further caption lines under the plot.
    public var caption: [String] = []
    /// Fixed y range (e.g. 0…1 for accuracies); nil: from the data.
    public var yLimits: ClosedRange<Double>?
    /// On a log y axis, values below this fraction of the largest value are a numerical floor
    /// and are not drawn.
    public var logFloor = 1e-12

    let plotWidth = 460.0
    let plotHeight = 300.0
    let left = 86.0
    let top = 40.0
    let bottom = 52.0

    public init(title: String, xTitle: String, yTitle: String, logX: Bool = false, logY: Bool = false) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.logX = logX
        self.logY = logY
    }

    func usable(_ v: Double, log: Bool) -> Bool { v.isFinite && (!log || v > 0) }
    func t(_ v: Double, log: Bool) -> Double { log ? log10(v) : v }

    /// The y values below the floor of a log axis (nil: no floor applies).
    var yFloor: Double? {
        guard logY else { return nil }
        let top = series.flatMap(\.y).filter { $0.isFinite && $0 > 0 }.max()
        return top.map { $0 * logFloor }
    }

    /// Axis range in axis units and its ticks: log axes snap to decades, linear ones to nice steps.
    func axis(_ values: [Double], log: Bool, limits: ClosedRange<Double>? = nil) -> (Double, Double, [ChartTicks.Tick]) {
        if log {
            let v = values.filter { usable($0, log: true) }.map { log10($0) }
            let lo = Int((v.min() ?? 0).rounded(.down))
            let hi = max(Int((v.max() ?? 1).rounded(.up)), lo + 1)
            return (Double(lo), Double(hi), ChartTicks.logDecades(lo, hi))
        }
        if let limits {
            let step = ChartTicks.niceStep(span: limits.upperBound - limits.lowerBound)
            return (limits.lowerBound, limits.upperBound, ChartTicks.linear(limits.lowerBound, limits.upperBound, step: step))
        }
        let v = values.filter(\.isFinite)
        let r = ChartTicks.niceRange(v.min() ?? 0, v.max() ?? 1)
        return (r.lo, r.hi, ChartTicks.linear(r.lo, r.hi, step: r.step))
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Splits `text` into lines of at most `width` characters at spaces.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// The caption lines: the error bars, points below the log floor, then `caption`.
    public var captionLines: [String] {
        var lines: [String] = []
        if series.contains(where: { $0.yError != nil }) {
            lines.append("Error bars: " + (errorBars ?? "± the uncertainty given with each point"))
        }
        if let floor = yFloor {
            let hidden = series.reduce(0) { n, s in n + s.y.filter { $0.isFinite && $0 > 0 && $0 < floor }.count }
            if hidden > 0 {
                lines.append(
                    "\(hidden) point\(hidden == 1 ? "" : "s") below \(ChartTicks.compact(floor)) (10⁻¹² of the largest: a numerical floor) not drawn."
                )
            }
        }
        return lines + caption
    }

    /// The SVG document.
    public func render() -> String {
        let floor = yFloor
        func drawable(_ s: Series, _ i: Int) -> Bool {
            usable(s.x[i], log: logX) && usable(s.y[i], log: logY) && (floor.map { s.y[i] >= $0 } ?? true)
        }
        let xs = series.flatMap { s in s.x.indices.filter { drawable(s, $0) }.map { s.x[$0] } }
        var ys = series.flatMap { s in
            s.y.indices.filter { drawable(s, $0) }.flatMap { i -> [Double] in
                guard let e = s.yError?[i], e.isFinite, e > 0 else { return [s.y[i]] }
                return logY ? [s.y[i], s.y[i] + e] : [s.y[i] - e, s.y[i] + e]
            }
        }
        ys += referenceLines.map(\.y).filter { usable($0, log: logY) }
        let (x0, x1, xTicks) = axis(xs, log: logX)
        let (y0, y1, yTicks) = axis(ys, log: logY, limits: logY ? nil : yLimits)
        // A series drawn as error bars only gets a vertical bar as its key.
        let legend: [(name: String, color: String, line: Bool, marker: Bool, dashed: Bool, bar: Bool)] =
            series.filter { !$0.name.isEmpty }.map {
                ($0.name, $0.color, $0.line, $0.markers, false, !$0.line && !$0.markers && $0.yError != nil)
            }
            + referenceLines.map { ($0.name, $0.color, true, false, true, false) }
        let legendWidth = legend.isEmpty ? 0 : 44 + 6.6 * Double(legend.map(\.name.count).max() ?? 0)
        let width = left + plotWidth + 20 + legendWidth
        let captionText = captionLines.flatMap { Self.wrap($0, width: Int((width - 30) / 6.4)) }
        let height = top + plotHeight + bottom + 16 * Double(captionText.count) + (captionText.isEmpty ? 0 : 6)
        let (pw, ph) = (plotWidth, plotHeight)
        func px(_ v: Double) -> Double { left + (t(v, log: logX) - x0) / (x1 - x0) * pw }
        func py(_ v: Double) -> Double { top + ph - (t(v, log: logY) - y0) / (y1 - y0) * ph }
        func n(_ v: Double) -> String { String(format: "%.2f", v) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(n(left + pw / 2))" y="22" text-anchor="middle" font-size="14">\(Self.escape(title))</text>
            <rect x="\(n(left))" y="\(n(top))" width="\(n(pw))" height="\(n(ph))" fill="none" stroke="black"/>

            """
        for tick in xTicks {
            let x = left + (tick.position - x0) / (x1 - x0) * pw
            let length = tick.label == nil ? 3.0 : 5.0
            out += "<line x1=\"\(n(x))\" y1=\"\(n(top + ph))\" x2=\"\(n(x))\" y2=\"\(n(top + ph + length))\" stroke=\"black\"/>"
            if let label = tick.label {
                out += "<text class=\"tick\" x=\"\(n(x))\" y=\"\(n(top + ph + 18))\" text-anchor=\"middle\">\(label)</text>"
            }
            out += "\n"
        }
        for tick in yTicks {
            let y = top + ph - (tick.position - y0) / (y1 - y0) * ph
            let length = tick.label == nil ? 3.0 : 5.0
            out += "<line x1=\"\(n(left - length))\" y1=\"\(n(y))\" x2=\"\(n(left))\" y2=\"\(n(y))\" stroke=\"black\"/>"
            if let label = tick.label {
                out += "<text class=\"tick\" x=\"\(n(left - 8))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(label)</text>"
            }
            out += "\n"
        }
        out += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(top + ph + 40))\" text-anchor=\"middle\">\(Self.escape(xTitle))</text>\n"
        out +=
            "<text transform=\"translate(18 \(n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yTitle))</text>\n"
        // Markers on the frame stay whole; nothing is drawn outside it (over the legend or ticks).
        out += "<clipPath id=\"plot\"><rect x=\"\(n(left - 4))\" y=\"\(n(top - 4))\" width=\"\(n(pw + 8))\" "
        out += "height=\"\(n(ph + 8))\"/></clipPath>\n<g clip-path=\"url(#plot)\">\n"
        for r in referenceLines where usable(r.y, log: logY) {
            out += "<line class=\"reference\" x1=\"\(n(left))\" y1=\"\(n(py(r.y)))\" x2=\"\(n(left + pw))\" y2=\"\(n(py(r.y)))\" "
            out += "stroke=\"\(r.color)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
        }
        for s in series {
            let idx = s.x.indices.filter { drawable(s, $0) }
            if s.line, idx.count > 1 {
                let pts = idx.map { "\(n(px(s.x[$0]))),\(n(py(s.y[$0])))" }.joined(separator: " ")
                out += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\"/>\n"
            }
            for i in idx {
                if let e = s.yError?[i], e.isFinite, e > 0 {
                    // On a log axis an error bar reaching zero or below is drawn down to the frame.
                    let lo = logY && s.y[i] - e <= 0 ? pow(10, y0) : s.y[i] - e
                    out += "<line class=\"errorbar\" x1=\"\(n(px(s.x[i])))\" y1=\"\(n(py(lo)))\" x2=\"\(n(px(s.x[i])))\" "
                    out += "y2=\"\(n(py(s.y[i] + e)))\" stroke=\"\(s.color)\"/>"
                }
                if s.markers { out += "<circle cx=\"\(n(px(s.x[i])))\" cy=\"\(n(py(s.y[i])))\" r=\"3\" fill=\"\(s.color)\"/>\n" }
            }
        }
        out += "</g>\n"
        let lx = left + pw + 20
        for (k, entry) in legend.enumerated() {
            let ly = top + 10 + Double(k) * 18
            if entry.line {
                out +=
                    "<line x1=\"\(n(lx))\" y1=\"\(n(ly - 4))\" x2=\"\(n(lx + 24))\" y2=\"\(n(ly - 4))\" stroke=\"\(entry.color)\" "
                out += "stroke-width=\"1.5\"\(entry.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            }
            if entry.bar {
                out += "<line x1=\"\(n(lx + 12))\" y1=\"\(n(ly - 11))\" x2=\"\(n(lx + 12))\" y2=\"\(n(ly + 3))\" "
                out += "stroke=\"\(entry.color)\" stroke-width=\"1.5\"/>"
            }
            if entry.marker {
                out += "<circle class=\"key\" cx=\"\(n(lx + 12))\" cy=\"\(n(ly - 4))\" r=\"3\" fill=\"\(entry.color)\"/>"
            }
            out += "<text class=\"legend\" x=\"\(n(lx + 30))\" y=\"\(n(ly))\">\(Self.escape(entry.name))</text>\n"
        }
        for (k, line) in captionText.enumerated() {
            let y = top + ph + bottom + 8 + Double(k) * 16
            out += "<text class=\"caption\" x=\"14\" y=\"\(n(y))\" font-size=\"11\">\(Self.escape(line))</text>\n"
        }
        return out + "</svg>\n"
    }
}
