import PNNSim
import Testing

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
        #expect(file.twin?.readNoise == 0.05 && file.twin?.deadColumns == [3])
        #expect(file.twin?.gMax == CrossbarConfig().gMax)
    }

    @Test(arguments: [
        ("[trainer]\nbatch_sise = 3\n", "trainer.batch_sise"),
        ("[twin]\nreed_noise = 0.1\n", "twin.reed_noise"),
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
            task: .moons, method: .spsa, seed: 42, device: "sim:crossbar", trainer: trainer, twin: CrossbarConfig())
        #expect(try RunPlan.from(json: plan.json()) == plan)
    }
}
