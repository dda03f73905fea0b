import Foundation
import PNNStore
import Testing

/// `pnnlab serve` in one process with an emulated crossbar attached over a pty, trainers and
/// clients in others: the remote:// DEVICE across process boundaries.
@Suite("Remote devices: pnnlab serve and remote:// (loopback, three processes)", .serialized)
struct RemoteCLITests {
    /// A `pnnlab serve` child; its first stdout line is the address it listens on.
    final class ServeProcess {
        let child: CLI.Child
        let address: String

        init(_ args: [String], environment: [String: String] = [:]) async throws {
            child = try CLI.start(["serve", "--listen", "127.0.0.1:0"] + args, environment: environment)
            let child = self.child
            let up = try await CLI.waitFor(timeout: 90) {
                ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").contains("\n") || !child.process.isRunning
            }
            address =
                ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init)
                ?? ""
            if !up || address.isEmpty {
                kill(child.process.processIdentifier, SIGKILL)
                throw EmulatorProcess.EmulatorFailure(text: "pnnlab serve did not come up: \(child.finish().stderr)")
            }
        }

        func stop() async -> Int32 {
            if child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
            try? await waitForExit(child.process, timeout: 30)
            return child.process.terminationStatus
        }

        deinit { if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) } }
    }

    @Test("train Iris (Gauss–Newton) on remote://…/xbar, an emulated board served by another process")
    func trainIrisRemotely() async throws {
        let dir = EmulatorProcess.tempDir()
        let emulator = try await EmulatorProcess(link: dir + "/board")
        let server = try await ServeProcess(["--device", "xbar=" + emulator.link, "--store", dir + "/server.sqlite"])
        let device = "remote://\(server.address)/xbar"
        let train = try await CLI.run([
            "train", device, "--task", "iris", "--method", "gauss-newton", "--epochs", "3", "--json", "--store",
            dir + "/client.sqlite",
        ])
        #expect(train.status == 0, "\(train.stderr)")
        let t = try #require(CLI.json(train.stdout))
        #expect(t["status"] as? String == "completed")
        #expect((t["test_accuracy"] as? Double ?? 0) >= 0.6)
        // The lease went with the trainer: a second run gets the board at once.
        let again = try await CLI.run([
            "train", device, "--task", "xor", "--epochs", "1", "--json", "--store", dir + "/client.sqlite",
        ])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(await server.stop() == 0)
        #expect(await emulator.stop() == 0)
    }

    @Test("a trainer killed mid-run (SIGKILL): the server and board are unharmed and the next trainer completes")
    func killedClient() async throws {
        let dir = EmulatorProcess.tempDir()
        let server = try await ServeProcess(["--device", "xbar=sim:crossbar", "--store", dir + "/server.sqlite"])
        let device = "remote://\(server.address)/xbar"
        let store = dir + "/client.sqlite"
        let doomed = try CLI.start(["train", device, "--task", "iris", "--epochs", "50", "--store", store])
        // Once it has committed a step it holds the lease and is measuring.
        let training = try await CLI.waitFor(timeout: 120) {
            ((try? RunStore(path: store).runs().first?.stepCount) ?? 0) > 0
        }
        #expect(training, "\(doomed.finish().stderr)")
        let second = try await CLI.run([
            "train", device, "--task", "xor", "--epochs", "1", "--store", dir + "/other.sqlite",
        ])
        #expect(second.status != 0 && second.stderr.contains("write lease"), "\(second.stderr)")
        kill(doomed.process.processIdentifier, SIGKILL)
        try await waitForExit(doomed.process, timeout: 10)
        #expect(server.child.process.isRunning)
        let next = try await CLI.run(["train", device, "--task", "xor", "--epochs", "2", "--json", "--store", store])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(CLI.json(next.stdout)?["status"] as? String == "completed")
        #expect(await server.stop() == 0)
    }

    @Test("serve on a non-loopback address without a token refuses to start")
    func tokenRequired() async throws {
        let refused = try await CLI.run(["serve", "--listen", "0.0.0.0:0", "--device", "sim:crossbar"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("access token"), "\(refused.stderr)")
        let withToken = try await ServeProcess(
            ["--device", "sim:crossbar", "--store", EmulatorProcess.tempDir() + "/s.sqlite"],
            environment: ["PNNLAB_TOKEN": "s3cret"])
        let port = withToken.address.split(separator: ":").last.map(String.init) ?? ""
        let noToken = try await CLI.run(
            ["train", "remote://127.0.0.1:\(port)/sim:crossbar", "--task", "xor", "--epochs", "1"],
            environment: ["PNNLAB_TOKEN": ""])
        #expect(noToken.status != 0 && noToken.stderr.contains("access token"), "\(noToken.stderr)")
        #expect(await withToken.stop() == 0)
    }
}
