import ArgumentParser
import Foundation
import PNNRuns
import PNNStore

/// `pnnlab profiles` — list stored calibration profiles (stale ones flagged); `profiles show
/// ID` prints one in full.
struct Profiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List stored calibration profiles, newest first; stale ones are flagged.",
        discussion: """
            A profile is stale when it is older than --max-age-days, a newer profile of the same \
            device exists, the family's procedure has a newer version, or the device trained \
            since it was measured. `pnnlab profiles show ID` prints one profile in full; a twin \
            built from one: `pnnlab train sim:crossbar --profile ID …`.
            """,
        subcommands: [ProfilesList.self, ProfilesShow.self], defaultSubcommand: ProfilesList.self)
}

/// `pnnlab profiles [list]`.
struct ProfilesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List stored calibration profiles.")

    @Option(help: "Only profiles of the device with this serial.")
    var serial: String?

    @Option(help: "Only profiles of this family.")
    var family: String?

    @OptionGroup var age: ProfileAgeOptions

    @Flag(help: "Print a JSON array (one object per profile).")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let store = try storeOptions.open()
        let profiles = try ProfileListing.list(
            store: store, serial: serial, family: family, maxAgeDays: age.maxAgeDays)
        if json {
            try Output.printJSON(profiles)
            return
        }
        if profiles.isEmpty {
            try Output.print("no calibration profiles in \(storeOptions.path) (`pnnlab calibrate DEVICE` makes one)")
            return
        }
        let rows = profiles.map { p -> [String] in
            [
                "\(p.calibrationId)", p.family, p.serial,
                p.deviceNames.joined(separator: ",").isEmpty
                    ? "–" : p.deviceNames.joined(separator: ","),
                "\(p.procedure) v\(p.procedureVersion)", shortDate(p.createdAt), String(format: "%.1f", p.ageDays),
                p.stale ? "stale: " + p.staleReasons.joined(separator: "; ") : "current",
            ]
        }
        try Output.print(
            Table.render(
                header: ["id", "family", "serial", "names", "procedure", "measured", "age (days)", "status"], rows: rows))
    }
}

/// `pnnlab profiles show ID`.
struct ProfilesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print one calibration profile.")

    @Argument(help: "The profile's id (from `pnnlab profiles`).")
    var id: Int64

    @OptionGroup var age: ProfileAgeOptions

    @Flag(help: "Print JSON: the listing's fields under `summary` and the family's result under `result`.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let store = try storeOptions.open()
        let detail = try ProfileListing.show(id: id, store: store, maxAgeDays: age.maxAgeDays)
        if json {
            try Output.printJSON(detail)
            return
        }
        let s = detail.summary
        var rows: [(String, String)] = [
            ("profile", "\(s.calibrationId)"), ("family", s.family), ("model", s.model), ("serial", s.serial),
            ("names", s.deviceNames.isEmpty ? "–" : s.deviceNames.joined(separator: ", ")),
            ("procedure", "\(s.procedure) version \(s.procedureVersion)"), ("measured", JSONOut.date(s.createdAt)),
            ("age", String(format: "%.1f days", s.ageDays)),
            ("status", s.stale ? "stale" : "current"),
        ]
        rows += s.staleReasons.map { ("  because", $0) }
        rows += s.figures.keys.sorted().map { ($0, String(format: "%.6g", s.figures[$0]!)) }
        try Output.print(Table.keyValue(rows))
    }
}

/// `--max-age-days`, shared by the profile listings.
struct ProfileAgeOptions: ParsableArguments {
    @Option(help: "A profile older than this many days is stale (default 30).")
    var maxAgeDays: Double = ProfileListing.defaultMaxAgeDays
}
