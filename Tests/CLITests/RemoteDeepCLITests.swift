import Foundation
import PNNStore
import Testing

/// A deep PNN whose units sit on two `pnnlab serve` processes (seed 003, Fig. 4C: one unit
/// per site), trained by PIB's parallel variant from a third process.
@Suite("Remote units: a cascade across two pnnlab serve processes", .serialized)
struct RemoteDeepCLITests {
    @Test("train digits --layers 12,10 --method pib --parallel with unit 1 on one server and unit 2 on another")
    func twoServersOneCascade() async throws {
        let dir = EmulatorProcess.tempDir()
        // Digits encode to 64 features + a bias line; unit 2 takes 12 features + a bias line.
        let first = try await RemoteCLITests.ServeProcess([
            "--device", "u1=sim:crossbar --rows 65 --outputs 12", "--seed", "11", "--store", dir + "/a.sqlite",
        ])
        let second = try await RemoteCLITests.ServeProcess([
            "--device", "u2=sim:crossbar --rows 13 --outputs 10", "--seed", "12", "--store", dir + "/b.sqlite",
        ])
        let units = "remote://\(first.address)/u1,remote://\(second.address)/u2"
        let store = dir + "/client.sqlite"
        let train = try await CLI.run([
            "train", units, "--task", "digits", "--layers", "12,10", "--method", "pib", "--parallel", "--epochs", "3",
            "--json", "--store", store,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        let t = try #require(CLI.json(train.stdout))
        #expect(t["status"] as? String == "completed")
        #expect(t["device"] as? String == units)
        let perUnit = t["unit_measurements"] as? [Int] ?? []
        #expect(perUnit.count == 2 && perUnit.allSatisfy { $0 > 0 }, "measurements per unit: \(perUnit)")
        #expect((t["test_accuracy"] as? Double ?? 0) > 0.5, "ten classes: chance is 10 %")
        #expect(t["digital_ceiling"] as? Double != nil)
        // One unit per device: the same server twice is refused with the reason.
        let twice = try await CLI.run([
            "train", "remote://\(first.address)/u1,remote://\(first.address)/u1", "--task", "digits", "--layers", "12,10",
            "--method", "pib", "--store", store,
        ])
        #expect(twice.status != 0)
        #expect(twice.stderr.contains("each unit needs its own device"), "\(twice.stderr)")
        let short = try await CLI.run([
            "train", "remote://\(first.address)/u1,remote://\(second.address)/u2", "--task", "digits", "--layers",
            "12,8,10", "--method", "pib", "--store", store,
        ])
        #expect(short.status != 0)
        #expect(short.stderr.contains("give one per unit"), "\(short.stderr)")
        #expect(await first.stop() == 0)
        #expect(await second.stop() == 0)
    }
}
