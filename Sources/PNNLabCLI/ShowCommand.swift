import ArgumentParser
import Foundation
import PNNCore
import PNNRuns
import PNNStore

/// `pnnlab show RUN` — one run's result, settings and evaluations.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one run: result, settings and one row per evaluated epoch (or recorded period).")

    @Argument(help: "Run number (see `pnnlab runs`).")
    var run: Int64

    @Flag(help: "Print one JSON object: the result (as `runs --json`), `settings` and `evaluations`.")
    var json = false

    @Option(help: "Table rows at most; longer histories are thinned evenly, keeping the first and last row.")
    var rows = 40

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let store = try storeOptions.open()
        let detail = try RunDetail.load(runID: run, store: store)
        if json {
            try Output.printJSON(detail)
            return
        }
        let r = detail.result
        let record = try store.run(id: run)
        let contrastive = r.kind == .contrastive
        try Output.print(
            Table.keyValue([
                ("run", "\(r.run)"), ("status", r.status), ("device", "\(r.device) (\(record.identity.summary))"),
                ("firmware", r.firmware), ("task", r.task), ("method", r.method), ("seed", "\(r.seed)"),
                ("started", shortDate(r.createdAt)), ("updated", shortDate(r.updatedAt)),
                (contrastive ? "periods" : "epochs", "\(r.epochs)"), ("steps", "\(r.steps)"),
                ("train accuracy", formatPercent(r.trainAccuracy)), ("test accuracy", formatPercent(r.testAccuracy)),
                ("digital ceiling", ceilingText(r.digitalCeiling)),
                ("final loss", r.finalLoss.map { String(format: "%.4g", $0) + " " + r.lossUnit } ?? "–"),
                ("measurements", "\(r.measurements)"), ("wall time", String(format: "%.2f s", r.wallSeconds)),
            ]))
        try Output.print("\nsettings\n" + Table.keyValue(Self.flatten(detail.settings)))
        let evaluations = Self.thin(detail.evaluations, to: max(rows, 2))
        guard !evaluations.isEmpty else { return }
        let header =
            contrastive
            ? ["period", "step", "error (V²)", "train", "learning steps"]
            : ["epoch", "step", "eval loss (\(r.lossUnit))", "train", "test", "measurements"]
        let table = evaluations.map { e -> [String] in
            let loss = e.evalLoss.map { String(format: "%.4g", $0) } ?? "–"
            return contrastive
                ? ["\(e.index)", "\(e.step)", loss, formatPercent(e.trainAccuracy), "\(e.cumulativeMeasurements)"]
                : [
                    "\(e.index)", "\(e.step)", loss, formatPercent(e.trainAccuracy), formatPercent(e.testAccuracy),
                    "\(e.cumulativeMeasurements)",
                ]
        }
        let note =
            evaluations.count < detail.evaluations.count
            ? "\n(\(evaluations.count) of \(detail.evaluations.count) rows; --rows N or --json for more)" : ""
        try Output.print("\n" + Table.render(header: header, rows: table) + note)
    }

    /// At most `limit` rows, evenly spaced, first and last kept.
    static func thin<T>(_ rows: [T], to limit: Int) -> [T] {
        guard rows.count > limit else { return rows }
        return (0..<limit).map { rows[Int((Double($0) * Double(rows.count - 1) / Double(limit - 1)).rounded())] }
    }

    /// `trainer.batch_size  32`: nested settings as dotted keys, arrays inline.
    static func flatten(_ v: JSONValue, prefix: String = "") -> [(String, String)] {
        switch v {
        case .object(let o):
            return o.keys.sorted().flatMap { k in flatten(o[k]!, prefix: prefix.isEmpty ? k : prefix + "." + k) }
        default:
            return [(prefix, text(v))]
        }
    }

    static func text(_ v: JSONValue) -> String {
        switch v {
        case .null: "–"
        case .bool(let b): "\(b)"
        case .number(let x): x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
        case .string(let s): s
        case .array(let a):
            a.count > 8 || a.contains { if case .object = $0 { true } else { false } }
                ? "[\(a.count) \(a.count == 1 ? "item" : "items"); --json shows them]"
                : "[" + a.map(text).joined(separator: ", ") + "]"
        case .object: v.jsonString()
        }
    }
}
