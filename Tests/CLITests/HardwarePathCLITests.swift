import Foundation
import PNNStore
import Testing

/// The user's path with no hardware: `pnnlab emulate` in one process serving a pty,
/// `pnnlab attach`, `train`, `conformance` in others.
@Suite("Hardware path through a pty, two processes", .serialized)
struct HardwarePathCLITests {
    @Test("emulate, attach, train Iris over the link by registered name, conformance 100%, clean stop")
    func attachTrainConformance() async throws {
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/runs.sqlite"
        let emulator = try await EmulatorProcess(link: dir + "/board")
        #expect(emulator.ptyPath.hasPrefix("/dev/pts/"))

        let attach = try await CLI.run(["attach", emulator.link, "--json", "--store", store])
        #expect(attach.status == 0, "\(attach.stderr)")
        let a = try #require(CLI.json(attach.stdout))
        #expect(a["name"] as? String == "crossbar-1")
        #expect(a["serial"] as? String == "EMU-1")
        #expect(a["emulator"] as? Bool == true)
        #expect(a["inputs"] as? Int == 16)
        let health = try #require(a["health"] as? [String: Any])
        #expect((health["round_trip_ms"] as? Double ?? 0) > 0)
        #expect((health["stream_bytes_per_s"] as? Double ?? 0) > 0)
        #expect(health["stream_frames_lost"] as? Int == 0)
        #expect((health["counters"] as? [String: Any])?["violations"] as? Int == 0)

        let recording = dir + "/attach.pnnrec"
        let again = try await CLI.run(["attach", emulator.link, "--json", "--store", store, "--record", recording])
        #expect(CLI.json(again.stdout)?["name"] as? String == "crossbar-1", "same board, same name")
        // --record wrote the sessions (hello, health check), frames both ways, in the documented format.
        let text = try String(contentsOfFile: recording, encoding: .utf8)
        #expect(text.hasPrefix("# pnnlab session recording v1"))
        #expect(text.split(separator: "\n").count > 20, "recording:\n\(text.prefix(400))")
        let twin = try await CLI.run(["train", "sim:crossbar", "--task", "xor", "--record", recording, "--store", store])
        #expect(twin.status != 0 && twin.stderr.contains("no link"), "\(twin.stderr)")

        let train = try await CLI.run(["train", "crossbar-1", "--task", "iris", "--epochs", "6", "--json", "--store", store])
        #expect(train.status == 0, "\(train.stderr)")
        let t = try #require(CLI.json(train.stdout))
        #expect(t["status"] as? String == "completed")
        #expect((t["test_accuracy"] as? Double ?? 0) >= 0.85)

        let conf = try await CLI.run(["conformance", emulator.link, "--json"])
        #expect(conf.status == 0, "\(conf.stdout)\(conf.stderr)")
        let c = try #require(CLI.json(conf.stdout))
        #expect(c["passed"] as? Int == c["total"] as? Int)
        #expect((c["total"] as? Int ?? 0) >= 20)

        #expect(await emulator.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: emulator.link), "the link is removed on SIGTERM")
    }

    @Test("unplugged twice mid-training and replugged: the run reconnects and completes, steps contiguous")
    func unplugAndReconnect() async throws {
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/runs.sqlite"
        var emulator = try await EmulatorProcess(link: dir + "/board")
        let training = try CLI.start(["train", emulator.link, "--task", "iris", "--epochs", "10", "--json", "--store", store])
        for _ in 0..<2 {
            _ = try await CLI.waitFor(timeout: 60) {
                ((try? String(contentsOf: training.err, encoding: .utf8)) ?? "").contains("step")
            }
            try await Task.sleep(for: .microseconds(700_000))
            await emulator.unplug()
            try await Task.sleep(for: .microseconds(300_000))
            emulator = try await EmulatorProcess(link: dir + "/board")
        }
        _ = try await CLI.waitFor(timeout: 240) { !training.process.isRunning }
        let r = training.finish()
        await emulator.stop()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("reconnected to"), "\(r.stderr)")
        #expect(CLI.json(r.stdout)?["status"] as? String == "completed")
        let s = try RunStore(path: store)
        let steps = try s.steps(runID: 1)
        #expect(steps.map(\.step) == Array(1...max(steps.count, 1)))
    }

    @Test("the board stays away: the run stops with a resume hint, and --resume finishes it without losing a step")
    func unplugThenResume() async throws {
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/runs.sqlite"
        let emulator = try await EmulatorProcess(link: dir + "/board")
        let training = try CLI.start([
            "train", emulator.link, "--task", "iris", "--epochs", "8", "--reconnect-grace", "0.5", "--store", store,
        ])
        _ = try await CLI.waitFor(timeout: 60) {
            ((try? String(contentsOf: training.err, encoding: .utf8)) ?? "").contains("step 8/")
        }
        await emulator.unplug()
        _ = try await CLI.waitFor(timeout: 60) { !training.process.isRunning }
        let first = training.finish()
        #expect(first.status != 0)
        #expect(first.stderr.contains("--resume 1"), "\(first.stderr)")
        let committed = try RunStore(path: store).steps(runID: 1)
        #expect(!committed.isEmpty)

        let back = try await EmulatorProcess(link: dir + "/board")
        defer { back.terminate() }
        let resumed = try await CLI.run(["train", back.link, "--resume", "1", "--json", "--store", store])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(CLI.json(resumed.stdout)?["status"] as? String == "completed")
        let after = try RunStore(path: store).steps(runID: 1)
        for (old, new) in zip(committed, after) {
            #expect(old.step == new.step && old.loss == new.loss, "committed steps are never changed")
        }
        #expect(after.count > committed.count)
    }
}
