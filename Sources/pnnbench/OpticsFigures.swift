import Foundation
import OpticsDriver
import PNNCalibration
import PNNCore
import PNNExperiments
import PNNSim

/// `pnnbench --optics-figures DIR`: the optics figures of docs/results.md — a speckle frame
/// of the default twin, the LUT calibration against the hidden table, the settle fit.
enum OpticsFigures {
    static func write(to dir: String) async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let twin = try OpticsTwin(config: OpticsConfig())
        let truth = await twin.exportState()
        let document = try JSONDecoder().decode(OpticsStateDocument.self, from: truth)

        // A speckle frame: inputs alternating ±0.5 (a stripe pattern on the input region).
        let n = twin.descriptor.inputs.count
        let x = Matrix(rows: 1, cols: n, storage: (0..<n).map { $0 % 2 == 0 ? 0.5 : -0.5 })
        let frame = try await twin.frames(x)[0]
        try speckleSVG(frame).write(toFile: "\(dir)/optics-speckle.svg", atomically: true, encoding: .utf8)

        let lut = OpticsLUTCalibration()
        let lutProfile = try await lut.run(on: twin) { _, _, _ in }
        let l = try lutProfile.payload(OpticsLUTResult.self, for: lutProfile.identity)
        var lutChart = ExperimentChart(
            title: "SLM LUT from two interfering regions", xTitle: "grey level", yTitle: "phase φ(g) − φ(0), rad")
        lutChart.series.append(
            .init(
                name: "hidden LUT", x: (0..<256).map(Double.init), y: document.slm.lut.map { $0 - document.slm.lut[0] },
                color: "#888888", markers: false))
        lutChart.series.append(
            .init(name: "calibrated", x: l.greys.map(Double.init), y: l.phasesRad, color: "#1f77b4", line: false))
        try lutChart.render().write(toFile: "\(dir)/optics-lut.svg", atomically: true, encoding: .utf8)

        let settle = OpticsSettleCalibration()
        let settleProfile = try await settle.run(on: twin) { _, _, _ in }
        let s = try settleProfile.payload(OpticsSettleResult.self, for: settleProfile.identity)
        let f = OpticsSettleCalibration.fit(s.delaysSeconds, s.response)
        let t = (0...200).map { s.delaysSeconds.last! * Double($0) / 200 }
        var settleChart = ExperimentChart(
            title: String(format: "SLM step response: settle t0 + 4b = %.2f ms", 1000 * s.settleTimeSeconds),
            xTitle: "delay after the pattern change, ms", yTitle: "progress to the new pattern")
        settleChart.series.append(
            .init(name: "measured", x: s.delaysSeconds.map { 1000 * $0 }, y: s.response, color: "#1f77b4", line: false))
        settleChart.series.append(
            .init(
                name: "fit c − a·e^{−(t−t0)/b}", x: t.map { 1000 * $0 },
                y: t.map { f.c - f.a * ($0 < f.t0 ? 1 : exp(-($0 - f.t0) / f.b)) }, color: "#d62728", markers: false))
        try settleChart.render().write(toFile: "\(dir)/optics-settle.svg", atomically: true, encoding: .utf8)
    }

    /// A grey-scale image of a ROI frame (DN), one rectangle per pixel.
    static func speckleSVG(_ frame: CameraFrame) -> String {
        let cell = 8
        let top = frame.pixels.max() ?? 1
        let bottom = frame.pixels.min() ?? 0
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(frame.width * cell)" height="\(frame.height * cell + 20)">
            <text x="4" y="14" font-family="sans-serif" font-size="12">speckle frame \(frame.id), \(frame.width)×\(frame.height) pixels, \(Int(bottom))–\(Int(top)) DN</text>

            """
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                let v = (frame.pixels[y * frame.width + x] - bottom) / max(top - bottom, 1)
                let g = Int((255 * v.squareRoot()).rounded())
                out +=
                    "<rect x=\"\(x * cell)\" y=\"\(20 + y * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(g),\(g),\(g))\"/>\n"
            }
        }
        return out + "</svg>\n"
    }
}
