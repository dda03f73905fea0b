import ArgumentParser
import Foundation
import PNNExperiments
import PNNRuns
import PNNStore
import PNNTraining

/// `pnnlab analyze limit-cycle RUN...` — steady-state figures of alternating-task runs.
struct Analyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse stored runs.",
        subcommands: [LimitCycle.self])

    /// Ē and D of two-task runs, D and Ē against τ across runs, cycle plots.
    struct LimitCycle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "limit-cycle",
            abstract: "Combined error Ē and cycle span D = ||G(τ/2) − G(τ)|| in steady state (seed 002, appendix A).",
            discussion: """
                Give one run per period τ (e.g. pnnlab train sim:clln --task two-task --method coupled --tau T). \
                Writes SVG plots into --out: the task errors over time per run, the cycle in G-space for \
                2-edge networks, and D and Ē against τ when several runs are given.
                """)

        @Argument(help: "Run numbers (contrastive runs with two tasks).")
        var runs: [Int64]

        @Option(help: "Steady state: average over the last N recorded periods.")
        var periods: Int = 3

        @Option(help: "Directory for the SVG plots.")
        var out: String = "."

        @Flag(help: "Print one JSON object instead of a table.")
        var json = false

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if runs.isEmpty { throw ValidationError("give at least one run number") }
            if periods < 1 { throw ValidationError("--periods must be at least 1") }
        }

        func run() async throws {
            let store = try storeOptions.open()
            var rows: [(ContrastiveRun, LimitCycleSummary)] = []
            for id in runs {
                let run = try ContrastiveRun.load(runID: id, store: store)
                guard run.plan.schedule.periodSeconds > 0, (try? ContrastiveTasks.points(run.plan.task).count) == 2 else {
                    throw CLIError("run \(id) does not alternate two tasks; limit cycles need a two-task run")
                }
                guard
                    let s = LimitCycleAnalysis.summarize(run.records, tau: run.plan.schedule.periodSeconds, lastPeriods: periods)
                else {
                    throw CLIError("run \(id) has no complete recorded period yet")
                }
                rows.append((run, s))
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var files: [String] = []
            for (run, _) in rows {
                files.append(try write(LimitCyclePlots.errors(run), "errors-run\(run.runID).svg"))
                if let cycle = LimitCyclePlots.cycle(run) { files.append(try write(cycle, "cycle-run\(run.runID).svg")) }
            }
            let sorted = rows.sorted { $0.1.tau < $1.1.tau }
            var fit: (slope: Double, intercept: Double, r2: Double)?
            if sorted.count >= 2 {
                let taus = sorted.map(\.1.tau)
                fit = LimitCycleAnalysis.fitLogLogSlope(x: taus, y: sorted.map(\.1.span))
                files.append(try write(LimitCyclePlots.spanVersusTau(sorted.map(\.1)), "span-vs-tau.svg"))
                files.append(try write(LimitCyclePlots.errorVersusTau(sorted.map(\.1)), "error-vs-tau.svg"))
            }
            if json {
                let object: [String: Any] = [
                    "runs": sorted.map { run, s in
                        [
                            "run": run.runID, "tau_s": s.tau, "combined_error_v2": s.combinedError, "span_v": s.span,
                            "span_spread_v": s.spanSpread, "periods_used": s.periodsUsed,
                            "method": run.plan.schedule.method.rawValue,
                            "task": run.plan.task.name.rawValue,
                        ] as [String: Any]
                    },
                    "loglog_slope": fit.map { $0.slope as Any } ?? NSNull(), "files": files,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            var table = "run  τ            Ē (V²)       D (V)       spread (V)  periods\n"
            for (run, s) in sorted {
                table += String(
                    format: "%-4lld %-12@ %-12.4g %-11.4g %-11.3g %d\n", run.runID, formatSeconds(s.tau) as NSString,
                    s.combinedError, s.span, s.spanSpread, s.periodsUsed)
            }
            print(table, terminator: "")
            if let fit { print(String(format: "log-log slope of D against τ: %.3f (r² %.3f)", fit.slope, fit.r2)) }
            for f in files { print("wrote \(f)") }
        }

        func write(_ svg: String, _ name: String) throws -> String {
            let path = (out as NSString).appendingPathComponent(name)
            do {
                try svg.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("cannot write \(path): \(error.localizedDescription)")
            }
            return path
        }
    }
}
