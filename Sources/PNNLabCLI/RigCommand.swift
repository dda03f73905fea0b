import ArgumentParser
import Foundation
import PNNDevices
import PNNLink

/// `pnnlab rig` — devices made of attached devices (an optics rig: an SLM and a camera).
struct Rig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compose attached devices into one rig device.", subcommands: [RigCreate.self])

    /// Every rig family with its members and options, for help texts.
    static var known: String {
        var parts: [String] = []
        for f in FamilyRegistry.standard.families where !f.rigMembers.isEmpty {
            let members: [String] = f.rigMembers.map { "--\($0.role) \($0.family)-N" }
            let options: [String] = f.rigOptions.map { "--\($0.name)" }
            parts.append("\(f.family) (\(members.joined(separator: " ")); options \(options.joined(separator: ", ")))")
        }
        return parts.joined(separator: "; ")
    }
}

/// `pnnlab rig create NAME --ROLE DEVICE … [rig options]`.
struct RigCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Store a rig NAME made of attached devices; train and calibrate then take NAME.",
        discussion: """
            Each member is given as --ROLE DEVICE (a name from pnnlab attach); the roles say which \
            rig it is. Rigs: \(Rig.known). Example: pnnlab rig create optics-1 --slm slm-1 --camera camera-1.
            """)

    @Argument(help: "Name of the rig.")
    var name: String

    @OptionGroup var storeOptions: StoreOptions

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("--ROLE DEVICE pairs and rig options.", valueName: "members"))
    var words: [String] = []

    func run() async throws {
        let registry = FamilyRegistry.standard
        let roles = Set(registry.families.flatMap { $0.rigMembers.map(\.role) })
        var members: [String: String] = [:]
        var rest: [String] = []
        var i = 0
        while i < words.count {
            let word = words[i]
            let role = String(word.trimmingPrefix("--"))
            if word.hasPrefix("--"), roles.contains(role), i + 1 < words.count {
                members[role] = words[i + 1]
                i += 2
            } else {
                rest.append(word)
                i += 1
            }
        }
        let store = try storeOptions.open()
        let record = try DeviceCatalog.createRig(name: name, members: members, optionWords: rest, store: store)
        print("\(record.name): \(record.identity.family) rig of \(record.port.dropFirst(DeviceCatalog.rigPrefix.count))")
    }
}
