import Foundation

/// Collects benchmark figures measured in one `make bench` run and prints them as a
/// Markdown table (each figure beside its same-run baseline, with the ratio).
struct BenchReport {
    struct Row {
        var name: String
        var value: Double
        var unit: String
        var baseline: Double?
        var baselineName: String?
        var goal: String?
    }

    private(set) var rows: [Row] = []

    mutating func add(
        _ name: String, _ value: Double, unit: String, baseline: Double? = nil, baselineName: String? = nil, goal: String? = nil
    ) {
        rows.append(Row(name: name, value: value, unit: unit, baseline: baseline, baselineName: baselineName, goal: goal))
        var line = "\(name): \(Self.format(value)) \(unit)"
        if let b = baseline, let bn = baselineName {
            line += "  (baseline \(bn): \(Self.format(b)) \(unit), ratio \(Self.format(value / b)))"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func format(_ x: Double) -> String {
        if x == 0 { return "0" }
        let a = abs(x)
        if a >= 1e6 || a < 1e-3 { return String(format: "%.3g", x) }
        if a >= 100 { return String(format: "%.0f", x) }
        return String(format: "%.3f", x)
    }

    var markdown: String {
        var out = "| figure | value | unit | same-run baseline | ratio | goal |\n|---|---|---|---|---|---|\n"
        for r in rows {
            let base = r.baseline.map { "\(r.baselineName ?? ""): \(Self.format($0))" } ?? "—"
            let ratio = r.baseline.map { Self.format(r.value / $0) } ?? "—"
            out += "| \(r.name) | \(Self.format(r.value)) | \(r.unit) | \(base) | \(ratio) | \(r.goal ?? "—") |\n"
        }
        return out
    }
}

/// Wall-clock seconds of `body`, best of `repeats`.
func bestTime(repeats: Int = 3, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return best
}
