import Foundation
import PNNCore
import PNNStore
import Testing

@testable import PNNExperiments
@testable import PNNRuns

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite("Chart ticks: nice steps, no -0, superscript exponents")
struct ChartTickTests {
    @Test func linearTicksAreNiceAndHaveNoNegativeZero() {
        let r = ChartTicks.niceRange(-0.93, 1.07)
        #expect(r.step == 0.5)
        #expect(r.lo == -1 && r.hi == 1.5)
        let labels = ChartTicks.linear(r.lo, r.hi, step: r.step).compactMap(\.label)
        #expect(labels == ["−1.0", "−0.5", "0", "0.5", "1.0", "1.5"])
        // Accumulated rounding would give 0.30000000000000004 and a "-0" from -1e-17.
        let tenths = ChartTicks.linear(-0.3, 0.3, step: 0.1).compactMap(\.label)
        #expect(tenths == ["−0.3", "−0.2", "−0.1", "0", "0.1", "0.2", "0.3"])
        #expect(!tenths.contains("-0") && !tenths.contains("−0"))
        #expect(ChartTicks.label(-1e-17, step: 0.1) == "0")
        #expect(ChartTicks.label(-0.0, step: 1) == "0")
    }

    @Test func stepsAreOneTwoOrFiveTimesAPowerOfTen() {
        for span in [0.0031, 0.7, 1, 3.3, 47, 950, 12_345] {
            let step = ChartTicks.niceStep(span: span)
            let mantissa = step / pow(10, floor(log10(step)))
            #expect([1.0, 2, 5].contains { abs($0 - mantissa) < 1e-9 }, "step \(step) for span \(span)")
            let count = span / step
            #expect(count >= 2 && count <= 10, "\(count) intervals for span \(span)")
        }
    }

    @Test func exponentsAreSuperscripts() {
        #expect(ChartTicks.power(-2) == "10⁻²")
        #expect(ChartTicks.power(12) == "10¹²")
        #expect(ChartTicks.power(0) == "1")
        #expect(ChartTicks.superscript(-30) == "⁻³⁰")
        // Very small or very large linear ticks use m×10ᵏ, never 1e-4.
        #expect(ChartTicks.label(3e-4, step: 1e-4) == "3×10⁻⁴")
        #expect(ChartTicks.label(1e-4, step: 1e-4) == "10⁻⁴")
        #expect(ChartTicks.label(2.5e6, step: 5e5) == "2.5×10⁶")
        #expect(ChartTicks.compact(1.5e-6) == "1.5×10⁻⁶")
        #expect(ChartTicks.compact(0.25) == "0.25")
    }

    @Test func logAxesLabelAtMostSixDecades() {
        let ticks = ChartTicks.logDecades(-28, 0)
        #expect(ticks.count == 29)  // a tick at every decade
        let labelled = ticks.compactMap(\.label)
        #expect(labelled.count <= 6 && labelled.count >= 3, "\(labelled)")
        #expect(labelled.contains("1") && labelled.allSatisfy { $0 == "1" || $0.hasPrefix("10") })
        #expect(ChartTicks.logDecades(-3, 1).compactMap(\.label) == ["10⁻³", "10⁻²", "10⁻¹", "1", "10¹"])
        // A short log axis gets 2× and 5× ticks too.
        #expect(ChartTicks.logDecades(-5, -4).compactMap(\.label) == ["10⁻⁵", "2×10⁻⁵", "5×10⁻⁵", "10⁻⁴"])
        #expect(ChartTicks.logDecades(-2, 0).compactMap(\.label) == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"])
    }
}

@Suite("Charts: legend clear of the data, floors not drawn, error bars explained")
struct ChartLayoutTests {
    @Test func legendSitsRightOfThePlotArea() throws {
        var c = ExperimentChart(title: "t", xTitle: "x", yTitle: "y")
        c.series = [.init(name: "a long series name", x: [0, 1, 2], y: [0, 1, 4], color: "#000")]
        let svg = c.render()
        let legendX = try #require(Self.attribute("x", ofFirst: "class=\"legend\"", in: svg))
        #expect(legendX > 86 + 460, "legend at x = \(legendX), inside the plot")
    }

    @Test func aNumericalFloorIsNotDrawnOnALogAxis() {
        var c = ExperimentChart(title: "t", xTitle: "x", yTitle: "E (V²)", logY: true)
        c.series = [.init(name: "E", x: [1, 2, 3, 4], y: [1e-2, 1e-4, 1e-28, 1e-5], color: "#000")]
        let svg = c.render()
        #expect(svg.components(separatedBy: "<circle cx").count - 1 == 3)
        #expect(svg.contains("1 point below"))
        #expect(!svg.contains(">10⁻²⁸<"))
        let labels = Self.tickLabels(svg)
        #expect(labels.count <= 12)
    }

    @Test func errorBarsAreExplainedInTheCaption() {
        var c = ExperimentChart(title: "t", xTitle: "x", yTitle: "y")
        c.series = [.init(name: "s", x: [1, 2], y: [0.5, 0.6], yError: [0.1, 0.05], color: "#000")]
        c.errorBars = "± standard error over 5 seeds."
        let svg = c.render()
        #expect(svg.contains("Error bars: ± standard error over 5 seeds."))
        #expect(svg.components(separatedBy: "class=\"errorbar\"").count - 1 == 2)
    }

    @Test func ringFiguresExplainTheirErrorBars() {
        let summaries = [RingMethod.overclamping, .standardClamping].flatMap { m in
            [5.0, 10].map { e in
                RingSummary(
                    method: m, radiusMillivolts: e, accuracy: 0.8, accuracyError: 0.05, hingeLoss: 1e-4, hingeLossError: 1e-5,
                    runs: 4)
            }
        }
        let ring = RingResult(config: .standard(quick: true), runs: [], summaries: summaries, wallSeconds: 0)
        for svg in [ExperimentFigures.ringAccuracy(ring), ExperimentFigures.ringHinge(ring)] {
            #expect(svg.contains("Error bars: ± standard error of the mean over 4 seeds per point."))
        }
    }

    static func attribute(_ name: String, ofFirst marker: String, in svg: String) -> Double? {
        guard let line = svg.split(separator: "\n").first(where: { $0.contains(marker) }),
            let range = line.range(of: marker)
        else { return nil }
        let tail = line[range.upperBound...]
        guard let a = tail.range(of: " \(name)=\"") else { return nil }
        return Double(tail[a.upperBound...].prefix { $0 != "\"" })
    }

    static func tickLabels(_ svg: String) -> [String] {
        svg.components(separatedBy: "class=\"tick\"").dropFirst().compactMap { part in
            guard let open = part.firstIndex(of: ">"), let close = part.firstIndex(of: "<") else { return nil }
            return String(part[part.index(after: open)..<close])
        }
    }
}

@Suite("Run plots: every kind from a stored run")
struct RunPlotTests {
    /// A store with one recorded Jacobian run on a 2×2 differential crossbar geometry.
    static func store() throws -> (RunStore, Int64) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plot-\(UUID().uuidString).sqlite").path
        let store = try RunStore(path: path)
        let id = try store.createRun(
            RunRecord(
                deviceName: "board-1", identity: DeviceIdentity(family: "crossbar", model: "m", serial: "S1", firmware: "1"),
                task: "iris", method: "gauss-newton", seed: 1, configJSON: "{}", digitalCeiling: 0.9))
        for s in 1...6 {
            let evaluated = s % 2 == 0
            try store.appendStep(
                StepRecord(
                    runID: id, step: s, epoch: (s + 1) / 2, loss: 1.0 / Double(s),
                    trainAccuracy: evaluated ? 0.5 + 0.05 * Double(s) : nil,
                    testAccuracy: evaluated ? 0.4 + 0.05 * Double(s) : nil, measurements: 100, cumulativeMeasurements: 100 * s,
                    wallSeconds: 0.1, parameters: (0..<8).map { 5 + Double($0 + s) }, checkpointJSON: "{}"),
                measurements: s == 1
                    ? [MeasurementBlock(kind: "jacobian", rows: 3, cols: 8, values: (0..<24).map { sin(Double($0 * $0)) })] : [])
        }
        return (store, id)
    }

    @Test func lossAndAccuracyChartsCarryTheirSeriesAndTheCeiling() async throws {
        let (store, id) = try Self.store()
        let loss = try await RunPlots.render(.loss, runID: id, store: store)
        #expect(loss.hasPrefix("<svg") && loss.hasSuffix("</svg>\n"))
        #expect(loss.contains("batch loss (before the step)") && loss.contains("loss (nats)"))
        let accuracy = try await RunPlots.render(.accuracy, runID: id, store: store)
        #expect(accuracy.contains(">train<") && accuracy.contains(">test<"))
        #expect(accuracy.contains("digital ceiling 0.900") && accuracy.contains("class=\"reference\""))
        let byMeasurements = try await RunPlots.render(.accuracyMeasurements, runID: id, store: store)
        #expect(byMeasurements.contains("cumulative measurements") && byMeasurements.contains(">10²<"))
        let lossByMeasurements = try await RunPlots.render(.lossMeasurements, runID: id, store: store)
        #expect(lossByMeasurements.contains("cumulative measurements"))
        for svg in [loss, accuracy, byMeasurements, lossByMeasurements] {
            let labels = ChartLayoutTests.tickLabels(svg)
            #expect(!labels.isEmpty && !labels.contains("-0") && !labels.contains("−0"))
            #expect(labels.allSatisfy { !$0.contains("e") && !$0.contains("-") }, "\(labels)")
            #expect(!svg.contains("nan"))
            try Self.wellFormed(svg)
        }
    }

    @Test func jacobianChartShowsTheSingularValues() async throws {
        let (store, id) = try Self.store()
        let svg = try await RunPlots.render(.jacobian, runID: id, store: store)
        #expect(svg.contains("step 1 (3×8)"))
        #expect(svg.components(separatedBy: "<circle cx").count - 1 >= 3)
        try Self.wellFormed(svg)
    }

    @Test func kindsTheRunCannotHaveAreRefusedInWords() async throws {
        let (store, id) = try Self.store()
        await #expect(throws: PlotError.self) { try await RunPlots.render(.errors, runID: id, store: store) }
        do {
            _ = try await RunPlots.render(.conductance, runID: id, store: store)
            Issue.record("a board never attached has no recorded geometry")
        } catch let e as PlotError {
            #expect("\(e)".contains("geometry is not recorded"))
        }
    }

    @Test func conductanceMapMarksStuckDevices() throws {
        let step = StepRecord(
            runID: 1, step: 3, epoch: 1, loss: 0, trainAccuracy: nil, testAccuracy: nil, measurements: 0,
            cumulativeMeasurements: 0, wallSeconds: 0, parameters: (0..<12).map { Double($0) }, checkpointJSON: "{}")
        let space = ParameterSpace(count: 12, lower: 0, upper: 20, resolution: 0.1, unit: .microsiemens)
        let svg = RunPlots.conductanceMap(
            runID: 1, step: step, rows: 3, cols: 2, space: space, stuck: [1, 4], stuckSource: "test"
        ).render()
        #expect(svg.contains("G+ array") && svg.contains("G− array") && svg.contains("G (µS)"))
        #expect(svg.components(separatedBy: "class=\"mark\"").count - 1 == 2)
        #expect(svg.contains("stuck device, from test: 2 cells."))
        try Self.wellFormed(svg)
    }

    @Test func calibrationChartDrawsWindowsAndStuckDevices() throws {
        let svg = RunPlots.calibrationChart(
            id: 4, serial: "S1", gMin: [1, 1.2, 5, 0.9], gMax: [20, 19, 5, 21], left: [10, 9, 5, 11], stuck: [2]
        ).render()
        #expect(svg.contains("window Gmin…Gmax") && svg.contains("stuck (level)"))
        #expect(svg.contains("Error bars: each device's fitted window"))
        #expect(svg.components(separatedBy: "class=\"errorbar\"").count - 1 == 3)
        try Self.wellFormed(svg)
    }

    /// Parses the SVG as XML (Foundation's parser): a malformed document fails the test.
    static func wellFormed(_ svg: String) throws {
        #if canImport(FoundationXML)
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        #endif
    }
}
