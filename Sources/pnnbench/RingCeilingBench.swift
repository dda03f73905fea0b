import Foundation
import PNNExperiments

/// `pnnbench --ring-ceiling [--quick]`: the in-silico ceiling of the CLLN lab lattice on the
/// seed-002 Fig. 5 ring (`RingCeilingExperiment`), as the markdown table of docs/results.md
/// ("Overclamping vs standard clamping on the ring").
enum RingCeilingBench {
    static func run(quick: Bool) async throws -> String {
        var config = RingCeilingConfig()
        if quick {
            config.rotations = [0, 1]
            config.restarts = 2
            config.iterations = 60
        }
        let result = try await RingCeilingExperiment.run(config)
        func g(_ x: Double) -> String { String(format: "%.3g", x) }
        var lines = [
            "| ε | rotation | accuracy | hinge loss | smallest margin | best accuracy seen | gates on 0 or G_max | solves | "
                + "then overclamping \(g(config.relearnSeconds)) s: accuracy | hinge loss | accuracy, B = 0 |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in result.runs {
            lines.append(
                "| \(g(r.radiusMillivolts)) mV | \(r.rotation) | \(String(format: "%.1f", 100 * r.accuracy))% | \(g(r.hingeLoss)) V² | "
                    + "\(String(format: "%.1f", r.minimumMarginMillivolts)) mV | \(String(format: "%.1f", 100 * r.bestAccuracySeen))% | "
                    + "\(r.gatesOnALimit) of \(r.gates.count) | \(r.solves) | "
                    + "\(r.relearnedAccuracy.map { String(format: "%.1f", 100 * $0) + "%" } ?? "–") | "
                    + "\(r.relearnedHingeLoss.map { g($0) + " V²" } ?? "–") | "
                    + "\(r.relearnedAccuracyWithoutBias.map { String(format: "%.1f", 100 * $0) + "%" } ?? "–") |")
        }
        lines.append("")
        lines.append(
            "\(config.restarts) starts per split (the lab's 3 V gates, then uniform in [0, G_max]), \(config.iterations) "
                + "projected Adam steps each, forward differences of \(g(config.differenceVolts)) V; wall \(String(format: "%.1f", result.wallSeconds)) s."
        )
        return lines.joined(separator: "\n") + "\n"
    }
}
