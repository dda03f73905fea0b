import Foundation
import Testing

/// `pnnlab plot` and `pnnlab export --format npz` through the real binary: files written whole,
/// bad input refused in one line with a non-zero exit and nothing left behind.
@Suite("pnnlab plot and npz export")
struct PlotCLITests {
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-plot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func everyKindOfACrossbarRunIsWrittenAndBadInputIsOneLine() async throws {
        let dir = try Self.folder()
        let store = dir.appendingPathComponent("s.sqlite").path
        let config = dir.appendingPathComponent("run.toml")
        try "[trainer]\nepochs = 2\nrecord_jacobians = true\n[twin]\nstuck_fraction = 0.2\n".write(
            to: config, atomically: true, encoding: .utf8)
        let train = try await CLI.run([
            "train", "sim:crossbar", "--task", "iris", "--method", "gauss-newton", "--config", config.path, "--store", store,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        let expected: [String: [String]] = [
            "loss": ["loss (nats)", "batch loss"], "loss-measurements": ["cumulative measurements"],
            "accuracy": [">test<", "digital ceiling"], "accuracy-measurements": ["cumulative measurements", ">test<"],
            "conductance": ["G+ array", "G− array", "stuck device"], "jacobian": ["singular value", "step 1 "],
        ]
        for (kind, needles) in expected {
            let file = dir.appendingPathComponent("\(kind).svg").path
            let r = try await CLI.run(["plot", "1", "--kind", kind, "-o", file, "--store", store])
            #expect(r.status == 0, "\(kind): \(r.stderr)")
            let svg = try String(contentsOfFile: file, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"), "\(kind)")
            for n in needles { #expect(svg.contains(n), "\(kind) lacks \(n)") }
        }
        // Bad input: one line on stderr, exit status not 0, no file.
        let cases: [([String], String)] = [
            (["plot", "7", "--store", store], "run 7 does not exist"),
            (["plot", "1", "--kind", "errors", "--store", store], "no errors plot for run 1"),
            (["plot", "1", "--kind", "nope", "--store", store], "unknown plot kind 'nope'"),
            (["plot", "--calibration", "3", "--store", store], "no stored calibration has id 3"),
            (
                ["plot", "1", "-o", dir.appendingPathComponent("no/such/folder.svg").path, "--store", store],
                "folder does not exist"
            ),
        ]
        for (args, message) in cases {
            var withOutput = args
            if !args.contains("-o") { withOutput += ["-o", dir.appendingPathComponent("bad.svg").path] }
            let r = try await CLI.run(withOutput)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.svg").path))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".part-") }
        #expect(leftovers.isEmpty)

        // npz: needs -o; written whole.
        let noOutput = try await CLI.run(["export", "1", "--format", "npz", "--store", store])
        #expect(noOutput.status != 0 && noOutput.stderr.contains("give -o FILE.npz"))
        let npz = dir.appendingPathComponent("run.npz").path
        let export = try await CLI.run(["export", "1", "--format", "npz", "-o", npz, "--store", store])
        #expect(export.status == 0, "\(export.stderr)")
        let unknown = try await CLI.run([
            "export", "9", "--format", "npz", "-o", dir.appendingPathComponent("bad.npz").path, "--store", store,
        ])
        #expect(unknown.status != 0 && unknown.stderr.contains("run 9 does not exist"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.npz").path))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: npz))
        #expect(Array(bytes.prefix(4)) == [0x50, 0x4B, 0x03, 0x04])
        #expect(String(decoding: bytes, as: UTF8.self).contains("batch_outputs_train_sample_id.npy"))
    }

    @Test func contrastiveRunsDrawTheirTaskErrors() async throws {
        let dir = try Self.folder()
        let store = dir.appendingPathComponent("s.sqlite").path
        let train = try await CLI.run([
            "train", "sim:clln", "--task", "two-task", "--method", "coupled", "--periods", "3", "--store", store,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        let file = dir.appendingPathComponent("errors.svg").path
        let r = try await CLI.run(["plot", "1", "-o", file, "--store", store])  // default kind for a contrastive run
        #expect(r.status == 0, "\(r.stderr)")
        let svg = try String(contentsOfFile: file, encoding: .utf8)
        #expect(svg.contains("task errors") && svg.contains("E (V²)") && svg.contains("E alpha"))
        let conductance = try await CLI.run(["plot", "1", "--kind", "conductance", "--store", store])
        #expect(conductance.status != 0 && conductance.stderr.contains("not a differential crossbar"))
    }
}

/// The information plane of PIB runs (seed 003): one point per hidden-unit epoch.
@Suite("pnnlab plot --kind information-plane")
struct InformationPlanePlotTests {
    @Test func cascadeAndParallelPIBRunsDrawEveryHiddenUnitsEpochs() async throws {
        let dir = try PlotCLITests.folder()
        let store = dir.appendingPathComponent("s.sqlite").path
        let config = dir.appendingPathComponent("small.toml")
        try "[trainer]\nsubset = 240\n".write(to: config, atomically: true, encoding: .utf8)
        for extra in [[], ["--parallel"]] {
            let train = try await CLI.run(
                [
                    "train", "sim:crossbar", "--task", "digits", "--layers", "8,6,10", "--method", "pib", "--epochs", "2",
                    "--config", config.path, "--store", store,
                ] + extra)
            #expect(train.status == 0, "\(train.stderr)")
        }
        for run in ["1", "2"] {
            let file = dir.appendingPathComponent("ip\(run).svg").path
            let r = try await CLI.run(["plot", run, "--kind", "information-plane", "-o", file, "--store", store])
            #expect(r.status == 0, "\(r.stderr)")
            let svg = try String(contentsOfFile: file, encoding: .utf8)
            #expect(svg.contains("I(X;Z) (bits)") && svg.contains("I(Y;Z) (bits)"))
            // Two hidden units, two epochs each (in parallel or in cascade); the output unit has none.
            #expect(svg.contains("unit 1 (2 epochs)") && svg.contains("unit 2 (2 epochs)"), "run \(run)")
            #expect(!svg.contains("unit 3"))
        }
        let xor = try await CLI.run(["train", "sim:crossbar", "--task", "xor", "--epochs", "1", "--store", store])
        #expect(xor.status == 0)
        let refused = try await CLI.run(["plot", "3", "--kind", "information-plane", "--store", store])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("no information-plane plot for run 3"), "\(refused.stderr)")
    }
}
