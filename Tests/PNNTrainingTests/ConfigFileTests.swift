import Foundation
import PNNCore
import PNNSim
import Testing

@testable import PNNDevices
@testable import PNNExperiments
@testable import PNNRuns
@testable import PNNTraining

@Suite("Run configuration files")
struct ConfigFileTests {
    @Test func trainerAndTwinTablesOverlayTheDefaults() throws {
        let file = try ConfigFile.parse(
            """
            task = "digits"
            seed = 7
            [trainer]
            batch_size = 64
            solver = "svd"
            encoding = "linear"
            [twin]
            read_noise = 0.05
            dead_columns = [3]
            """, file: "run.toml")
        #expect(file.task == "digits" && file.seed == 7)
        #expect(file.trainer.batchSize == 64 && file.trainer.solver == .svd && file.trainer.encoding == .linear)
        #expect(file.trainer.damping == TrainerConfig().damping)
        #expect(file.twin?["read_noise"] == .number(0.05) && file.twin?["dead_columns"] == .array([.number(3)]))
    }

    /// A `[twin]` table only overlays what it names: the twin is still sized to the task
    /// (the README's example once shrank it to 5 input lines).
    @Test func aTwinTableKeepsTheTwinSizedToTheTask() async throws {
        let file = try ConfigFile.parse("[twin]\nread_noise = 0.05\n", file: "run.toml")
        let plan = RunPlan(task: .iris, method: .gaussNewton, seed: 3, device: "sim:crossbar")
        let opened = try await plan.open(configTwin: file.twin)
        let probe = try PreparedTask(.iris, config: plan.trainer, amplitude: 1, seed: 3)
        #expect(opened.substrate.descriptor.inputs.count == probe.encoder.inputCount)
        #expect(opened.device.twin?.config["read_noise"] == .number(0.05))
        #expect(opened.device.twin?.family == "crossbar" && opened.device.twin?.name == "sim:crossbar")
        // The recorded settings rebuild the same twin on resume.
        var resumed = plan
        resumed.twin = opened.device.twin
        let again = try await resumed.open()
        #expect(again.substrate.descriptor == opened.substrate.descriptor)
    }

    @Test func anUnknownTwinKeyIsNamedWhenTheTwinIsBuilt() async throws {
        let file = try ConfigFile.parse("[twin]\nreed_noise = 0.1\n", file: "run.toml")
        let plan = RunPlan(task: .iris, method: .gaussNewton, seed: 3, device: "sim:crossbar")
        await #expect(throws: TwinError.unknownSetting(twin: "sim:crossbar", key: "reed_noise")) {
            _ = try await plan.open(configTwin: file.twin)
        }
    }

    @Test(arguments: [
        ("[trainer]\nbatch_sise = 3\n", "trainer.batch_sise"),
        ("colour = 1\n", "unknown key colour"),
        ("[trainer]\nsolver = \"magic\"\n", "solver"),
        ("[trainer]\nbatch_size = \"many\"\n", "batch_size"),
    ])
    func mistakesAreNamed(text: String, fragment: String) {
        do {
            _ = try ConfigFile.parse(text, file: "run.toml")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(error.description.hasPrefix("run.toml"))
        }
    }

    @Test func runPlanRoundTripsThroughJSON() throws {
        var trainer = TrainerConfig()
        trainer.epochs = 3
        let plan = RunPlan(
            task: .moons, method: .spsa, seed: 42, device: "sim:crossbar", trainer: trainer,
            twin: TwinSpec(family: "crossbar", name: "sim:crossbar", config: try JSONValue(encoding: CrossbarConfig())))
        #expect(try RunPlan.from(json: plan.json()) == plan)
    }
}

/// `twin export` then `--twin-state`: the run starts from exactly the exported state.
@Suite("Twin state export and import")
struct TwinStateTests {
    @Test(arguments: ["sim:crossbar", "sim:clln"])
    func anExportedStateIsTheStateARunStartsFrom(name: String) async throws {
        let exported = try await DeviceCatalog.exportTwin(name, twin: .init(seed: 9))
        let opened = try await DeviceCatalog.open(name, twin: .init(seed: 1, state: exported))
        let (_, entry) = try #require(FamilyRegistry.standard.twin(named: name))
        let again = try await entry.exportState(opened.substrate)
        #expect(try JSONValue(parsing: again) == JSONValue(parsing: exported))
        // A different seed gives a different twin, so the comparison above can fail.
        let other = try await DeviceCatalog.exportTwin(name, twin: .init(seed: 10))
        #expect(try JSONValue(parsing: other) != JSONValue(parsing: exported))
    }

    @Test func aStateFileIsRefusedForABoardAndAnUnknownTwin() async throws {
        await #expect(throws: DeviceError.self) {
            _ = try await DeviceCatalog.open("/dev/ttyUSB9", twin: .init(seed: 1, state: Data("{}".utf8)))
        }
        await #expect(throws: DeviceError.unknownTwin(name: "sim:teapot", known: FamilyRegistry.standard.twinNames)) {
            _ = try await DeviceCatalog.exportTwin("sim:teapot", twin: .init(seed: 1))
        }
    }
}
