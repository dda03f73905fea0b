import CameraDriver
import Foundation
import OpticsDriver
import PNNCore
import PNNDevices
import PNNLink
import PNNRuns
import PNNSim
import PNNStore
import PNNTraining
import PNNTransport
import PNNWire
import Testing

/// The optics rig over two real ptys, served as `pnnlab emulate optics` serves it (an SLM and
/// a camera on one simulated bench): every frame must show the pattern meant for it, fully
/// settled, with the hardware trigger line and with software sync; without any sync frames
/// of blended patterns appear (so the check can fail).
@Suite(.serialized) struct OpticsRigTests {
    /// `pnnlab emulate optics` in-process: one pty per board.
    struct Emulated {
        let bench: OpticsBench
        let hosts: [PtyEmulatorHost]
        let serving: [Task<Void, Never>]

        init(seed: UInt64, words: [String]) throws {
            let options = try FamilyOptionValues(
                parsing: words, declared: OpticsFamily.emulatorOptions, context: "the optics emulator")
            let settings = EmulatorSettings(seed: seed, options: options)
            let boards = try OpticsFamily.emulators(settings)
            #expect(boards.map(\.role) == ["slm", "camera"])
            bench = try #require((boards[0].endpoint as? SLMEmulator)?.bench)
            hosts = try boards.map { try PtyEmulatorHost(endpoint: $0.endpoint) }
            serving = hosts.map { host in Task { await host.run() } }
        }

        func stop() async {
            for s in serving { s.cancel() }
            for h in hosts { await h.stop() }
        }
    }

    /// Opens both boards, composes the rig, measures random patterns for about `seconds`.
    func run(lineWired: Bool, sync: RigSync?, seconds: Double, minimumPairs: Int) async throws -> (
        wrong: Int, pairs: Int, perSecond: Double, simulatedPerSecond: Double, chosen: RigSync
    ) {
        var words = ["--width", "16", "--height", "16", "--camera-width", "32", "--camera-height", "16"]
        if !lineWired { words.append("--no-trigger-line") }
        let emulated = try Emulated(seed: 11, words: words)
        let slmBoard = try await DeviceCatalog.connect(.serial(path: emulated.hosts[0].path, baud: 115_200))
        let cameraBoard = try await DeviceCatalog.connect(.serial(path: emulated.hosts[1].path, baud: 115_200))
        let slm = try #require(slmBoard.substrate as? SLMDevice)
        let camera = try #require(cameraBoard.substrate as? CameraDevice)
        let rig = try OpticsRig(slm: slm, camera: camera, inputs: 128, parameters: 64, binning: 2, sync: sync)
        _ = try await rig.setParameters((0..<64).map { Double(($0 * 37) % 256) })
        var rng = SeededRandom(seed: 5)
        let clock = ContinuousClock()
        let t0 = clock.now
        let sim0 = emulated.bench.now()
        var features: Matrix?
        var measured = 0
        repeat {
            var x = Matrix(rows: 25, cols: 128)
            for r in 0..<25 { for c in 0..<128 { x[r, c] = 2 * rng.uniform() - 1 } }
            features = try await rig.measure(x)
            measured += 25
        } while (clock.now - t0).seconds < seconds || measured < minimumPairs
        let elapsed = (clock.now - t0).seconds
        let simulated = emulated.bench.now() - sim0
        #expect(features?.cols == 16 * 8)
        #expect(features?.storage.allSatisfy { $0.isFinite && $0 >= 0 } == true)
        let shown = await rig.shownCRCs
        let seen = emulated.bench.exposures
        #expect(seen.count == shown.count, "one exposure per pattern")
        let settled = 1 - exp(-4.0) - 1e-9
        var wrong = 0
        for (s, e) in zip(shown, seen) where e.patternCRC != s || e.settledAtStart < settled { wrong += 1 }
        let pairs = await rig.pairs
        try await rig.enterSafeState()
        await slmBoard.connection.close()
        await cameraBoard.connection.close()
        await emulated.stop()
        return (wrong, pairs, Double(pairs) / elapsed, Double(pairs) / simulated, rig.sync)
    }

    @Test func hardwareTriggerLineGivesNoWrongFrames() async throws {
        let r = try await run(lineWired: true, sync: nil, seconds: 3, minimumPairs: 200)
        #expect(r.chosen == .hardware)
        #expect(r.wrong == 0, "\(r.wrong) of \(r.pairs) frames saw another or an unsettled pattern")
        // Simulated time: one pattern per settle time (18 ms) plus exposure and readout at most.
        #expect(r.simulatedPerSecond < 1 / 0.018 && r.simulatedPerSecond > 0.5 / 0.020)
        print(
            "rig sync hardware: \(r.pairs) pattern/frame pairs, \(r.wrong) wrong, \(String(format: "%.0f", r.perSecond)) pairs/s wall, "
                + "\(String(format: "%.1f", r.simulatedPerSecond)) pairs/s of simulated time (settle limit 55.6/s)")
    }

    @Test func softwareSyncGivesNoWrongFrames() async throws {
        let r = try await run(lineWired: false, sync: nil, seconds: 3, minimumPairs: 200)
        #expect(r.chosen == .software)
        #expect(r.wrong == 0, "\(r.wrong) of \(r.pairs) frames saw another or an unsettled pattern")
        print(
            "rig sync software: \(r.pairs) pattern/frame pairs, \(r.wrong) wrong, \(String(format: "%.0f", r.perSecond)) pairs/s wall, "
                + "\(String(format: "%.1f", r.simulatedPerSecond)) pairs/s of simulated time (settle limit 55.6/s)")
    }

    @Test func withoutSyncFramesSeeUnsettledPatterns() async throws {
        let r = try await run(lineWired: false, sync: .unsynchronised, seconds: 0, minimumPairs: 50)
        #expect(r.wrong == r.pairs, "every frame exposed right after the change sees a blend")
    }

    @Test func rigStoredByNameTrainsWithReadoutOverLinks() async throws {
        let emulated = try Emulated(
            seed: 13, words: ["--width", "16", "--height", "16", "--camera-width", "32", "--camera-height", "16"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID()).sqlite").path
        let store = try RunStore(path: path)
        var names: [String] = []
        for host in emulated.hosts {
            let connected = try await DeviceCatalog.connect(.serial(path: host.path, baud: 115_200))
            names.append(try DeviceCatalog.register(connected, name: nil, store: store))
            await connected.connection.close()
        }
        #expect(names == ["slm-1", "camera-1"])
        // Members are checked: a camera is not an SLM, unknown roles name the known rigs.
        #expect(throws: RigError.self) {
            try DeviceCatalog.createRig(
                name: "bad", members: ["slm": "camera-1", "camera": "slm-1"], optionWords: [], store: store)
        }
        #expect(throws: RigError.self) {
            try DeviceCatalog.createRig(name: "bad", members: ["dmd": "slm-1"], optionWords: [], store: store)
        }
        let record = try DeviceCatalog.createRig(
            name: "optics-1", members: ["slm": "slm-1", "camera": "camera-1"], optionWords: ["--binning", "2"], store: store)
        #expect(record.identity.family == "optics")
        #expect(record.port == "rig:slm=slm-1,camera=camera-1")

        var config = TrainerConfig()
        config.subset = 150
        let plan = RunPlan(task: .digits, method: .readout, seed: 2, device: "optics-1", trainer: config)
        let opened = try await plan.open(store: store)
        let rig = try #require(opened.substrate as? OpticsRig)
        #expect(rig.sync == .hardware)
        #expect(rig.inputs >= 64, "the input region is sized to the task's encoded inputs (\(rig.inputs))")
        #expect(rig.layout == .overlay, "a rig created without --layout overlays")
        #expect(opened.substrate.descriptor.parameters.count == rig.inputs)
        #expect(opened.substrate.descriptor.outputs.count == 16 * 8)
        let trainer = try Trainer(substrate: opened.substrate, method: plan.method, config: plan.trainer, task: opened.task)
        var session = try await TrainingSession.start(plan: plan, trainer: trainer, store: store)
        let outcome = try await session.run(observer: nil, pauseRequested: { false })
        #expect(outcome.stop == .completed)
        let accuracy = try #require(outcome.testAccuracy)
        #expect(accuracy > 0.5, "digits readout on speckle features: \(accuracy)")
        #expect(await rig.pairs == outcome.measurements)
        try await rig.enterSafeState()
        await emulated.stop()
    }

    /// The overlay rig's patterns, as the SLM emulator received them, against patterns
    /// composed by hand: (input grey + trainable grey) mod 256 on the input macro-pixels,
    /// grey 0 on the rest of the SLM; and a side-by-side rig, for contrast.
    @Test func overlayRigShowsInputPlusTrainableGreyModulo256() async throws {
        let emulated = try Emulated(
            seed: 19, words: ["--width", "16", "--height", "16", "--camera-width", "32", "--camera-height", "16"])
        let slmBoard = try await DeviceCatalog.connect(.serial(path: emulated.hosts[0].path, baud: 115_200))
        let cameraBoard = try await DeviceCatalog.connect(.serial(path: emulated.hosts[1].path, baud: 115_200))
        let slm = try #require(slmBoard.substrate as? SLMDevice)
        let camera = try #require(cameraBoard.substrate as? CameraDevice)
        #expect(throws: OpticsRigError.self) {
            try OpticsRig(slm: slm, camera: camera, inputs: 8, parameters: 9, binning: 4, layout: .overlay)
        }
        let grey: [Double] = [0, 255, 200, 1, 128, 77, 250, 9]
        var x = Matrix(rows: 3, cols: 10)
        for r in 0..<3 { for c in 0..<10 { x[r, c] = Double((r * 7 + c * 5) % 11) / 5 - 1 } }
        var expected: [UInt32] = []
        for layout in [OpticsLayout.overlay, .sideBySide] {
            let rig = try OpticsRig(slm: slm, camera: camera, inputs: 10, parameters: 8, binning: 4, layout: layout)
            _ = try await rig.setParameters(grey)
            let out = try await rig.measure(x)
            #expect(out.rows == 3 && out.cols == 8 * 4)
            for r in 0..<3 {
                var pattern = [UInt8](repeating: 0, count: 256)
                for c in 0..<10 { pattern[c] = UInt8(min(max((127.5 * (x[r, c] + 1)).rounded(), 0), 255)) }
                for (j, g) in grey.enumerated() {
                    let k = layout == .overlay ? j : 10 + j
                    pattern[k] = UInt8((Int(pattern[k]) * (layout == .overlay ? 1 : 0) + Int(g)) % 256)
                }
                expected.append(CRC32.checksum(pattern))
            }
        }
        let seen = emulated.bench.exposures.map(\.patternCRC)
        #expect(seen == expected)
        #expect(Set(expected).count == 6, "the six patterns differ")
        try await slm.enterSafeState()
        await slmBoard.connection.close()
        await cameraBoard.connection.close()
        await emulated.stop()
    }
}
