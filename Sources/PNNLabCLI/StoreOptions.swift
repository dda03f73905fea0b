import ArgumentParser
import Foundation
import PNNStore

/// `--store PATH`, shared by every command that reads or writes runs.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Run store file (default: $PNNLAB_STORE or ./pnnlab.sqlite).")
    var store: String?

    var path: String { store ?? RunStore.defaultPath(environment: ProcessInfo.processInfo.environment) }

    func open() throws -> RunStore { try RunStore(path: path) }
}
