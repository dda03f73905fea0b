import Foundation
import PNNCore

/// `pnnbench` — the figures behind `make bench` (docs/benchmarks.md) and `make results`
/// (docs/results.md). Every speed figure is printed beside a baseline measured in the
/// same run, so the ratio means something on any machine.
@main
enum PNNBench {
    static func main() async {
        let args = CommandLine.arguments.dropFirst()
        var output: String?
        var results = false
        var clln = false
        var ringCeiling = false
        var quick = false
        var opticsFigures: String?
        var mnist1dCSV: String?
        var peakMemoryChild: [String]?
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--output": output = it.next()
            case "--results": results = true
            case "--results-clln": clln = true
            case "--ring-ceiling": ringCeiling = true
            case "--quick": quick = true
            case "--optics-figures": opticsFigures = it.next()
            case "--mnist1d-csv": mnist1dCSV = it.next()
            case "--peak-memory-child": peakMemoryChild = (0..<4).compactMap { _ in it.next() }
            default:
                FileHandle.standardError.write(
                    Data(
                        "pnnbench: unknown argument \(a); use [--results | --results-clln | --ring-ceiling | --optics-figures DIR | --mnist1d-csv FILE] [--quick] [--output FILE]\n"
                            .utf8))
                exit(64)
            }
        }
        if let peakMemoryChild {
            // One figure of the peak-memory bench (MemoryBench.swift), in its own process.
            do {
                try await PeakMemoryChild.run(peakMemoryChild)
                return
            } catch {
                FileHandle.standardError.write(Data("pnnbench: \(error)\n".utf8))
                exit(1)
            }
        }
        if let mnist1dCSV {
            // scripts/check_mnist1d.py compares this file with the PyPI reference generator.
            do {
                try MNIST1DExport.write(to: mnist1dCSV)
                return
            } catch {
                FileHandle.standardError.write(Data("pnnbench: \(error)\n".utf8))
                exit(1)
            }
        }
        if let opticsFigures {
            do {
                try await OpticsFigures.write(to: opticsFigures)
                FileHandle.standardError.write(Data("wrote the optics figures to \(opticsFigures)\n".utf8))
                return
            } catch {
                FileHandle.standardError.write(Data("pnnbench: \(error)\n".utf8))
                exit(1)
            }
        }
        do {
            let markdown: String
            if ringCeiling {
                markdown = try await RingCeilingBench.run(quick: quick)
            } else if clln {
                markdown = try await CLLNResults.run(quick: quick)
            } else if results {
                markdown = try await ResultsTables.run(quick: quick)
            } else {
                var report = BenchReport()
                // PNNBENCH_ONLY=forward,jacobian,store,wire,link,hosts,clln,optics,remote,entropy,memory runs a subset (for profiling).
                let only = ProcessInfo.processInfo.environment["PNNBENCH_ONLY"].map {
                    Set($0.split(separator: ",").map(String.init))
                }
                func wanted(_ name: String) -> Bool { only?.contains(name) ?? true }
                if wanted("forward") { try forwardBenchmarks(into: &report, quick: quick) }
                if wanted("jacobian") { try await jacobianBenchmarks(into: &report) }
                if wanted("store") { try runStoreBenchmarks(into: &report) }
                if wanted("wire") { try wireBenchmarks(into: &report, quick: quick) }
                if wanted("link") { try await linkBenchmarks(into: &report, quick: quick) }
                if wanted("hosts") { try await hostsBenchmarks(into: &report, quick: quick) }
                if wanted("clln") { try await cllnBenchmarks(into: &report, quick: quick) }
                if wanted("optics") { try await opticsBenchmarks(into: &report, quick: quick) }
                if wanted("remote") { try await remoteBenchmarks(into: &report, quick: quick) }
                if wanted("entropy") { try await entropyBenchmarks(into: &report, quick: quick) }
                if wanted("memory") { try await memoryBenchmarks(into: &report, quick: quick) }
                markdown = BenchDocument.render(report)
            }
            if let output {
                var text = markdown
                if clln {
                    // The CLLN section replaces everything after its marker in an existing document.
                    let marker = "<!-- clln results: make results-clln -->"
                    let existing = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                    let head = existing.components(separatedBy: marker)[0]
                    text = (head.isEmpty ? "" : head) + marker + "\n\n" + markdown
                }
                try text.write(toFile: output, atomically: true, encoding: .utf8)
                FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
            } else {
                print(markdown)
            }
        } catch {
            FileHandle.standardError.write(Data("pnnbench: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// The Markdown page `make bench` writes.
enum BenchDocument {
    static func render(_ report: BenchReport) -> String {
        """
        # Benchmarks

        Produced by `make bench` (`.build/release/pnnbench --output docs/benchmarks.md`) on
        \(machine()). Every figure is measured beside a baseline in the same run; compare
        ratios, not absolute numbers, across machines.

        \(report.markdown)
        \(LinkBenchNotes.markdown)## What each figure is

        - **crossbar forward**: `CrossbarPhysics.forward` on a 1024-row × 64-output differential
          twin (1024 × 128 physical devices) with every default non-ideality on (DAC/ADC
          quantisation, read noise, drift, stuck devices), against a raw `cblas_dgemm` of the
          same shape in the same run. Goal: ≥ 80 % of raw FLOP/s at batch ≥ 256.
        - **FD Jacobian per parameter**: wall time of a central-difference Jacobian streamed
          through the twin's probe API (program-and-verify, measure a 32-sample batch, restore),
          divided by the number of parameters.
        - **store**: recording measurement blocks one transaction per step, loading a whole run
          back, against the baselines named in the table.
        - **link**: see `Sources/pnnbench/LinkBench*.swift` — an emulated crossbar served by
          `WireServer` on a pty (host: `CrossbarBoard` over `SerialLink` on the slave path) or on
          an in-memory link with injected faults; raw pty bytes are the same-run baseline.
        - **wire**: PNNWire's codec (slicing-by-8 CRC-16/CRC-32, COBS with `memchr` runs, frames
          encoded in one buffer, the frame decoder) against the byte-at-a-time codec it replaced,
          kept in `Sources/pnnbench/WireBench.swift` as the same-run baseline.
        - **hosts**: pnnlab's host against `scripts/pyhost.py` (Python + pyserial, written from
          docs/protocol.md), both pinging the same `pnnlab emulate crossbar` child process on a
          pty: median stop-and-wait round trip and pipelined requests/s at window 8; then the
          CPU (getrusage) of pnnlab's process with an idle link attached, beside the same
          process with the link closed.
        - **CLLN 300 / 1500 vs numpy**: the twin's graph, gates, sources and clamp are written
          to a JSON file that `scripts/numpy_newton.py` solves by a dense numpy Newton (same edge
          law, same warm-started gate-change / floating / free / clamped sequence; its output
          is checked against the twin's), with one OpenBLAS thread and with numpy's default;
          the faster is the baseline. BLAS threading: \(BLASThreads.summary) (set
          `OPENBLAS_NUM_THREADS` to keep OpenBLAS's own threading).

        Python baselines: `make bench` installs numpy and pyserial with
        `scripts/install-deps.sh --with-bench`. Parts of the bench run alone with
        `PNNBENCH_ONLY=forward,jacobian,store,wire,link,hosts,clln` (and
        `PNNBENCH_LINK=throughput,pipelining,faults,training,safety` inside `link`).
        """
    }

    static func machine() -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let mem = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        return String(format: "%d cores, %.0f GiB", cores, mem)
    }
}
