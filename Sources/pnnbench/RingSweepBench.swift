import Foundation
import PNNExperiments

/// `pnnbench --ring-sweep [--quick]`: overclamping on the 83 mV ring over η, L0 and the
/// starting gates (`RingSweepExperiment`), then the best three with 4 s of learning, as the
/// markdown table of docs/results.md ("Overclamping vs standard clamping on the ring").
enum RingSweepBench {
    static func run(quick: Bool) async throws -> String {
        let etas = quick ? [0.25, 1] : [0.05, 0.1, 0.25, 0.5, 1]
        let levels = quick ? [0.435] : [0.2, 0.435, 0.8]
        let starts: [RingStart] = quick ? [.uniform, .perturbed] : RingStart.allCases
        var grid = starts.flatMap { s in
            levels.flatMap { l in etas.map { RingSweepSetting(eta: $0, level: l, start: s, learnSeconds: 1) } }
        }
        var base = RingConfig()
        if quick { base.rotations = [0, 1] }
        // PNNBENCH_RING_SWEEP="start,eta,L0;…" and PNNBENCH_RING_ROTATIONS="0,3": a hand-picked subset.
        let env = ProcessInfo.processInfo.environment
        if let picked = env["PNNBENCH_RING_SWEEP"] {
            grid = picked.split(separator: ";").compactMap { item in
                let f = item.split(separator: ",").map(String.init)
                guard f.count == 3, let start = RingStart(rawValue: f[0]), let eta = Double(f[1]), let level = Double(f[2])
                else { return nil }
                return RingSweepSetting(eta: eta, level: level, start: start, learnSeconds: 1)
            }
        }
        if let r = env["PNNBENCH_RING_ROTATIONS"] { base.rotations = r.split(separator: ",").compactMap { Int($0) } }
        let started = Date()
        let (rows, longer) = try await RingSweepExperiment.run(
            grid: grid, retry: env["PNNBENCH_RING_SWEEP"] != nil ? 0 : (quick ? 1 : 3), longerSeconds: quick ? [2] : [4],
            base: base)
        func g(_ x: Double) -> String { String(format: "%.3g", x) }
        func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) + "%" }
        var lines = [
            "| start | L0 | η | learning | mean accuracy | hinge loss | per rotation |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows + longer {
            lines.append(
                "| \(r.setting.start.rawValue) | \(g(r.setting.level)) V | \(g(r.setting.eta)) | \(g(r.setting.learnSeconds)) s | "
                    + "\(pct(r.accuracy)) ± \(pct(r.accuracyError)) | \(g(r.hingeLoss)) V² | "
                    + r.perRotation.map { String(format: "%.0f", 100 * $0) }.joined(separator: ", ") + " |")
        }
        lines.append("")
        lines.append(
            "ε = 83 mV, rotations \(base.rotations.map(String.init).joined(separator: ", ")); wall \(String(format: "%.0f", Date().timeIntervalSince(started))) s."
        )
        return lines.joined(separator: "\n") + "\n"
    }
}
