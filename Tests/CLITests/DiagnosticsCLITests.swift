import Foundation
import Testing

/// `--verbose` / `PNNLAB_LOG`: swift-log diagnostics on stderr, off by default.
@Suite("diagnostics (--verbose)")
struct DiagnosticsCLITests {
    @Test func verboseWritesStoreAndLinkDiagnosticsOnlyWhenAsked() async throws {
        let store = CLI.tempStore()
        let quiet = try await CLI.run(["train", "sim:crossbar", "--task", "xor", "--epochs", "1", "--store", store])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("pnnlab.store"))
        let loud = try await CLI.run(["runs", "--verbose", "--store", store])
        #expect(loud.status == 0 && loud.stderr.contains("pnnlab.store") && loud.stderr.contains("opened run store"))
        let env = try await CLI.run(["show", "1", "--store", store], environment: ["PNNLAB_LOG": "debug"])
        #expect(env.status == 0 && env.stderr.contains("pnnlab.store"))
    }
}
