import Foundation

/// An SVG of one or more arrays of values drawn as coloured cells (a crossbar's G+ and G−
/// conductances), sharing one colour scale shown as a bar with nice ticks, with marked cells
/// (stuck devices) crossed out and a caption.
public struct HeatMapChart: Sendable {
    /// One array: `values` row-major, `rows × cols`, and the cells to mark.
    public struct Panel: Sendable {
        public var name: String
        public var rows: Int
        public var cols: Int
        public var values: [Double]
        public var marked: Set<Int>

        public init(name: String, rows: Int, cols: Int, values: [Double], marked: Set<Int> = []) {
            precondition(values.count == rows * cols, "panel \(name): \(values.count) values for \(rows)×\(cols)")
            self.name = name
            self.rows = rows
            self.cols = cols
            self.values = values
            self.marked = marked
        }
    }

    public var title: String
    /// The quantity and unit of the colour scale, e.g. "G (µS)".
    public var scaleTitle: String
    public var panels: [Panel] = []
    /// Fixed colour range (e.g. the device window); nil: the values' range.
    public var limits: ClosedRange<Double>?
    /// What a marked cell means (written in the caption when any cell is marked).
    public var markMeaning = "marked"
    public var caption: [String] = []
    /// Axis titles of the panels.
    public var rowTitle = "row (input line)"
    public var columnTitle = "column (output)"

    public init(title: String, scaleTitle: String) {
        self.title = title
        self.scaleTitle = scaleTitle
    }

    /// Colour of `f` in 0…1 on a perceptually ordered dark-blue → yellow ramp (viridis stops).
    static func colour(_ f: Double) -> String {
        let stops: [(Double, Double, Double)] = [
            (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
        ]
        let x = min(max(f.isFinite ? f : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let u = x - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func c(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * u).rounded()) }
        return String(format: "#%02x%02x%02x", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
    }

    /// The SVG document.
    public func render() -> String {
        let all = panels.flatMap(\.values).filter(\.isFinite)
        let lo = limits?.lowerBound ?? all.min() ?? 0
        var hi = limits?.upperBound ?? all.max() ?? 1
        if hi <= lo { hi = lo + 1 }
        let maxRows = panels.map(\.rows).max() ?? 1
        let maxCols = panels.map(\.cols).max() ?? 1
        // Cells of at most 28 px, at least 2 px, each panel at most 300 px wide and tall.
        let cell = max(2, min(28, 300 / Double(max(maxRows, maxCols))))
        let (left, top) = (70.0, 56.0)
        let panelWidth = cell * Double(maxCols)
        let panelHeight = cell * Double(maxRows)
        let gap = 60.0
        let barX = left + Double(panels.count) * (panelWidth + gap)
        let width = barX + 110
        func n(_ v: Double) -> String { String(format: "%.2f", v) }
        var captionLines = caption
        let markedCount = panels.reduce(0) { $0 + $1.marked.count }
        if markedCount > 0 { captionLines.insert("× \(markMeaning): \(markedCount) cells.", at: 0) }
        let captionText = captionLines.flatMap { ExperimentChart.wrap($0, width: Int((width - 30) / 6.4)) }
        let height = max(top + panelHeight + 60, top + 240) + 16 * Double(captionText.count)
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(n(width / 2))" y="22" text-anchor="middle" font-size="14">\(ExperimentChart.escape(title))</text>

            """
        let labelEvery = max(1, Int((14 / cell).rounded(.up)))
        for (k, p) in panels.enumerated() {
            let x0 = left + Double(k) * (panelWidth + gap)
            out += "<text class=\"panel\" x=\"\(n(x0 + cell * Double(p.cols) / 2))\" y=\"\(n(top - 10))\" text-anchor=\"middle\">"
            out += "\(ExperimentChart.escape(p.name))</text>\n"
            for r in 0..<p.rows {
                for c in 0..<p.cols {
                    let v = p.values[r * p.cols + c]
                    let x = x0 + Double(c) * cell
                    let y = top + Double(r) * cell
                    out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(cell))\" height=\"\(n(cell))\" "
                    out += "fill=\"\(v.isFinite ? Self.colour((v - lo) / (hi - lo)) : "#cccccc")\"/>"
                    if p.marked.contains(r * p.cols + c) {
                        let m = cell * 0.2
                        out += "<path class=\"mark\" d=\"M\(n(x + m)) \(n(y + m))L\(n(x + cell - m)) \(n(y + cell - m))"
                        out += "M\(n(x + cell - m)) \(n(y + m))L\(n(x + m)) \(n(y + cell - m))\" stroke=\"red\" "
                        out += "stroke-width=\"\(n(max(1, cell / 10)))\"/>"
                    }
                }
                out += "\n"
            }
            out += "<rect x=\"\(n(x0))\" y=\"\(n(top))\" width=\"\(n(cell * Double(p.cols)))\" "
            out += "height=\"\(n(cell * Double(p.rows)))\" fill=\"none\" stroke=\"black\"/>\n"
            for r in stride(from: 0, to: p.rows, by: labelEvery) {
                out += "<text class=\"tick\" x=\"\(n(x0 - 4))\" y=\"\(n(top + (Double(r) + 0.5) * cell + 4))\" "
                out += "text-anchor=\"end\">\(r)</text>"
            }
            for c in stride(from: 0, to: p.cols, by: labelEvery) {
                out += "<text class=\"tick\" x=\"\(n(x0 + (Double(c) + 0.5) * cell))\" "
                out += "y=\"\(n(top + Double(p.rows) * cell + 14))\" text-anchor=\"middle\">\(c)</text>"
            }
            out += "\n<text x=\"\(n(x0 + cell * Double(p.cols) / 2))\" y=\"\(n(top + Double(p.rows) * cell + 32))\" "
            out += "text-anchor=\"middle\">\(ExperimentChart.escape(columnTitle))</text>\n"
        }
        out += "<text transform=\"translate(18 \(n(top + panelHeight / 2))) rotate(-90)\" text-anchor=\"middle\">"
        out += "\(ExperimentChart.escape(rowTitle))</text>\n"
        // Colour bar with nice ticks.
        let barHeight = max(panelHeight, 180)
        let steps = 64
        for i in 0..<steps {
            let f = (Double(i) + 0.5) / Double(steps)
            let y = top + barHeight * (1 - Double(i + 1) / Double(steps))
            out += "<rect x=\"\(n(barX))\" y=\"\(n(y))\" width=\"16\" height=\"\(n(barHeight / Double(steps) + 0.5))\" "
            out += "fill=\"\(Self.colour(f))\"/>"
        }
        out +=
            "\n<rect x=\"\(n(barX))\" y=\"\(n(top))\" width=\"16\" height=\"\(n(barHeight))\" fill=\"none\" stroke=\"black\"/>\n"
        for tick in ChartTicks.linear(lo, hi, step: ChartTicks.niceStep(span: hi - lo)) {
            let y = top + barHeight * (1 - (tick.position - lo) / (hi - lo))
            out += "<line x1=\"\(n(barX + 16))\" y1=\"\(n(y))\" x2=\"\(n(barX + 20))\" y2=\"\(n(y))\" stroke=\"black\"/>"
            out += "<text class=\"tick\" x=\"\(n(barX + 23))\" y=\"\(n(y + 4))\">\(tick.label ?? "")</text>\n"
        }
        out +=
            "<text x=\"\(n(barX + 8))\" y=\"\(n(top - 10))\" text-anchor=\"middle\">\(ExperimentChart.escape(scaleTitle))</text>\n"
        for (k, line) in captionText.enumerated() {
            let y = max(top + panelHeight + 60, top + 240) - 8 + Double(k) * 16
            out += "<text class=\"caption\" x=\"14\" y=\"\(n(y))\" font-size=\"11\">\(ExperimentChart.escape(line))</text>\n"
        }
        return out + "</svg>\n"
    }
}
