import Foundation
import Testing

@testable import PNNRuns
@testable import PNNTraining

/// The message `ConfigFile.parse` gives for `text`, or nil if it is accepted.
private func failure(_ text: String) -> String? {
    do {
        _ = try ConfigFile.parse(text, file: "run.toml")
        return nil
    } catch {
        return error.description
    }
}

@Suite("Run configuration files: decoding messages")
struct ConfigFileDecodingTests {
    @Test(arguments: [
        ("[trainer]\nepochs = 2.5\n", "run.toml: trainer.epochs must be a whole number, got 2.5"),
        ("[trainer]\nlearning_rate = nan\n", "run.toml: trainer.learning_rate must be a finite number, got nan"),
        ("[twin]\nread_noise = inf\n", "run.toml: twin.read_noise must be a finite number, got inf"),
        ("[trainer]\nbatch_sise = 3\n", "run.toml: unknown key trainer.batch_sise (did you mean batch_size?)"),
        ("[trainer]\nsolver = \"magic\"\n", #"run.toml: trainer.solver must be one of "damped" or "svd", got "magic""#),
    ])
    func messagesNameTheKeyInPlainWords(text: String, expected: String) throws {
        let message = try #require(failure(text))
        #expect(message.hasPrefix(expected), "\(message)")
        #expect(!message.contains("JSON") && !message.contains("NSCocoaErrorDomain"), "\(message)")
    }

    @Test func deepNestingIsASyntaxErrorWithALine() throws {
        let text = "[trainer]\nepochs = 3\nx = " + String(repeating: "[", count: 30_000) + "\n"
        let message = try #require(failure(text))
        #expect(message.hasPrefix("run.toml:3:"), "\(message)")
        #expect(message.contains("nested too deeply"), "\(message)")
    }

    @Test func anOversizedFileIsRefusedBeforeParsing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.toml").path
        try ("[trainer]\nepochs = 3\n" + String(repeating: "# padding\n", count: 110_000))
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigFile.load(path: path)
            Issue.record("a file over 1 MiB was accepted")
        } catch {
            #expect(error.description.hasPrefix("cannot read config \(path): it is larger than 1 MiB"), "\(error)")
        }
        try "[trainer]\nepochs = 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ConfigFile.load(path: path).trainer.epochs == 3)
    }
}
