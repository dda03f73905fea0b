import Foundation
import PNNStore
import Testing

/// `pnnlab train` with the contrastive methods on the CLLN and resistor-network twins,
/// `pnnlab analyze limit-cycle`, pause/resume, and the bad inputs the issue names.
@Suite("contrastive training from the command line", .serialized)
struct ContrastiveCLITests {
    @Test func twoTaskCoupledRunIsStoredAndAnalysed() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:clln", "--task", "two-task", "--method", "coupled", "--tau", "0.02", "--periods", "40", "--json",
            "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let out = CLI.json(r.stdout)
        #expect(out?["status"] as? String == "completed")
        #expect(out?["mode"] as? String == "on-board")
        let steps = try RunStore(path: store).steps(runID: 1)
        #expect(steps.count == 1 + 40 * 2, "a start record and two slot ends per period")
        #expect(steps.map(\.epoch).last == 40)
        #expect(steps.last!.loss < steps.first!.loss, "training must reduce the two-task error")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-analyze-\(UUID())").path
        let a = try await CLI.run(["analyze", "limit-cycle", "1", "--json", "--out", dir, "--store", store])
        #expect(a.status == 0, "stderr: \(a.stderr)")
        let summary = CLI.json(a.stdout)
        let runs = summary?["runs"] as? [[String: Any]]
        #expect(runs?.count == 1)
        #expect((runs?.first?["span_v"] as? Double).map { $0.isFinite && $0 >= 0 } == true)
        let svgs = (try? FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".svg") }) ?? []
        #expect(!svgs.isEmpty)
    }

    @Test func symmetricNudgingReducesTheError() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:clln", "--task", "two-task", "--method", "ep", "--eta", "0.2", "--tau", "0.01", "--periods", "20",
            "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let steps = try RunStore(path: store).steps(runID: 1)
        #expect(steps.last!.loss < 0.5 * steps.first!.loss, "losses: \(steps.map(\.loss))")
    }

    @Test func overclampingClassifiesTheWideRing() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:clln", "--task", "ring", "--radius-mv", "417", "--rotation", "2", "--method", "overclamp",
            "--periods", "3000", "--record-every", "500", "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(CLI.json(r.stdout)?["train_accuracy"] as? Double == 1.0, "stdout: \(r.stdout)")
    }

    @Test func resistorNetworkLearnsWithTheHostComputedRule() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:resistor", "--task", "two-task", "--method", "coupled", "--tau", "0.002", "--periods", "100",
            "--record-every", "10", "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(CLI.json(r.stdout)?["mode"] as? String == "host-computed")
        let steps = try RunStore(path: store).steps(runID: 1)
        #expect(steps.last!.loss < 0.5 * steps.first!.loss, "losses: \(steps.map(\.loss))")
    }

    @Test func ctrlCPausesAtAPeriodAndResumeContinuesTheNumbering() async throws {
        let store = CLI.tempStore()
        let child = try CLI.start([
            "train", "sim:clln", "--task", "two-task", "--method", "coupled", "--tau", "0.01", "--periods", "3000",
            "--store", store,
        ])
        let reader = try RunStore(path: store)
        let running = try await CLI.waitFor(timeout: 120) { ((try? reader.steps(runID: 1).count) ?? 0) >= 5 }
        #expect(running, "no records committed: \(child.finish().stderr)")
        kill(child.process.processIdentifier, SIGINT)
        let exited = try await CLI.waitFor(timeout: 120) { !child.process.isRunning }
        #expect(exited)
        let r = child.finish()
        #expect(r.status == 130, "stderr: \(r.stderr)")
        #expect(try reader.run(id: 1).status == .paused)
        let before = try reader.steps(runID: 1)
        #expect(before.count % 2 == 1, "only whole periods are committed (start + 2 per period)")

        let resumed = try CLI.start(["train", "sim:clln", "--resume", "1", "--store", store])
        let more = try await CLI.waitFor(timeout: 120) { ((try? reader.steps(runID: 1).count) ?? 0) >= before.count + 4 }
        #expect(more, "resume committed nothing: \(resumed.finish().stderr)")
        kill(resumed.process.processIdentifier, SIGINT)
        _ = try await CLI.waitFor(timeout: 120) { !resumed.process.isRunning }
        let after = try reader.steps(runID: 1)
        #expect(after.map(\.step) == Array(1...after.count))
        #expect(after[before.count].epoch == before.last!.epoch + 1, "the resumed run starts at the next period")
        for (a, b) in zip(before, after) { #expect(a.parameters == b.parameters) }
    }

    @Test(arguments: [
        (["--task", "ring", "--radius-mv", "900", "--method", "coupled"], "417"),
        (["--task", "ring", "--rotation", "9", "--method", "overclamp"], "rotation"),
        (["--task", "two-task", "--method", "coupled", "--eta", "3"], "η"),
        (["--task", "spiral", "--method", "coupled"], "unknown task"),
    ])
    func badContrastiveInputIsOneClearLine(args: [String], needle: String) async throws {
        let r = try await CLI.run(["train", "sim:clln"] + args + ["--store", CLI.tempStore()])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(needle), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func aMethodNeedingClampingOnTheCrossbarIsAClearError() async throws {
        let r = try await CLI.run([
            "train", "sim:crossbar", "--task", "two-task", "--method", "coupled", "--store", CLI.tempStore(),
        ])
        #expect(r.status != 0)
        #expect(r.stderr.contains("clampable"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func graphsWithFloatingNodesOrNoPathAreRefused() async throws {
        let dir = FileManager.default.temporaryDirectory
        // Node 3 touches no edge.
        let floating = """
            {"nodeCount":4,"edges":[{"a":0,"b":1,"trainable":true},{"a":1,"b":2,"trainable":true}],
             "inputNodes":[0],"inputRoles":[{"variable":{"_0":0}}],"outputs":[{"plus":2}]}
            """
        // Output node 3 is joined only to node 2, which no input reaches.
        let noPath = """
            {"nodeCount":4,"edges":[{"a":0,"b":1,"trainable":true},{"a":2,"b":3,"trainable":true}],
             "inputNodes":[0],"inputRoles":[{"variable":{"_0":0}}],"outputs":[{"plus":3}]}
            """
        for (name, text, needle) in [("floating", floating, "node 3"), ("nopath", noPath, "path")] {
            let path = dir.appendingPathComponent("pnnlab-graph-\(name)-\(UUID()).json").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try await CLI.run([
                "train", "sim:clln", "--task", "fig2b", "--method", "coupled", "--graph", path, "--store", CLI.tempStore(),
            ])
            #expect(r.status != 0)
            #expect(r.stderr.contains(needle), "\(name): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
        }
    }
}

/// An imported twin state with a gate voltage outside [0, G_max] is refused in one line.
@Suite("imported CLLN state")
struct ImportedCLLNStateTests {
    @Test func gateOutsideItsWindowIsRefused() async throws {
        let exported = """
            {"topology":{"nodeCount":4,"edges":[{"a":0,"b":1,"trainable":true},{"a":0,"b":2,"trainable":true},
             {"a":0,"b":3,"trainable":false}],"inputNodes":[1,2,3],
             "inputRoles":[{"variable":{"_0":0}},{"positiveRail":{}},{"negativeRail":{}}],"outputs":[{"plus":0}]},
             "physics":{"s":0.0008,"thresholdVoltage":0.7,"gateMax":5,"offConductance":1e-9,"turnOnWidth":0.001,
              "fixedConductance":0.0016666,"vPlus":0.435,"vMinus":0.018,"learningRate":2000,"learningRateSpread":0.1,
              "biasScale":2,"readNoise":0,"adcStep":0,"initialGate":3},
             "gates":[3.0,7.5,0],"learningRates":[2000,2000,0],"biases":[1,-1,0],"sources":[0,0,0],
             "clamp":{"mode":0,"targets":[0],"eta":0}}
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-state-\(UUID()).json").path
        try exported.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try await CLI.run([
            "train", "sim:clln", "--task", "fig2b", "--method", "coupled", "--twin-state", path, "--store", CLI.tempStore(),
        ])
        #expect(r.status != 0)
        #expect(r.stderr.contains("edge 1") && r.stderr.contains("7.5"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
