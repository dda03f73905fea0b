import Foundation
import PNNStore
import Testing

/// `pnnlab profiles` and `profiles show`: stored calibration profiles listed newest first,
/// stale ones flagged with their reasons (age, superseded, trained since), bad input one line.
@Suite("pnnlab profiles")
struct ProfilesCLITests {
    static func profileJSON(serial: String, at date: Date, fidelity: Double) -> String {
        let stamp = ISO8601DateFormatter().string(from: date)
        return """
            {"createdAt":"\(stamp)","family":"crossbar","firmware":"1","formatVersion":2,"model":"crossbar-twin",\
            "payload":{"read_noise":0.02},"procedure":"crossbar-devices","procedureVersion":1,"serial":"\(serial)",\
            "summary":{"twin_fidelity":\(fidelity)}}
            """
    }

    /// A store with an old profile of board A, a newer one of A, and one of board B.
    static func seededStore() throws -> String {
        let path = CLI.tempStore()
        let store = try RunStore(path: path)
        let now = Date()
        for (serial, daysAgo, fidelity) in [("A-1", 45.0, 1.4), ("A-1", 2.0, 1.1), ("B-1", 1.0, 1.2)] {
            let at = now.addingTimeInterval(-daysAgo * 86_400)
            try store.saveCalibration(
                CalibrationRecord(
                    family: "crossbar", serial: serial, procedure: "crossbar-devices", version: 1, createdAt: at,
                    profileJSON: profileJSON(serial: serial, at: at, fidelity: fidelity)))
        }
        return path
    }

    @Test func listsNewestFirstAndFlagsStaleProfiles() async throws {
        let store = try Self.seededStore()
        let r = try await CLI.run(["profiles", "--json", "--store", store])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(list.map { $0["calibration_id"] as? Int } == [3, 2, 1])
        let old = try #require(list.last)
        #expect(old["stale"] as? Bool == true)
        let reasons = (old["stale_reasons"] as? [String]) ?? []
        #expect(reasons.contains { $0.contains("older than 30 days") }, "\(reasons)")
        #expect(reasons.contains { $0.contains("superseded by profile 2") }, "\(reasons)")
        #expect(list[0]["stale"] as? Bool == false && list[1]["stale"] as? Bool == false)
        #expect((list[1]["figures"] as? [String: Double])?["twin_fidelity"] == 1.1)
        #expect((list[1]["age_days"] as? Double).map { abs($0 - 2) < 0.01 } == true)
        // A shorter horizon makes the 2-day-old profile stale too; one serial only.
        let short = try await CLI.run(["profiles", "--serial", "A-1", "--max-age-days", "1", "--json", "--store", store])
        let shortList = try #require(try JSONSerialization.jsonObject(with: Data(short.stdout.utf8)) as? [[String: Any]])
        #expect(shortList.count == 2 && shortList.allSatisfy { $0["stale"] as? Bool == true })
        // The table says the same.
        let table = try await CLI.run(["profiles", "--store", store])
        #expect(table.status == 0 && table.stdout.contains("stale: ") && table.stdout.contains("current"))
    }

    @Test func showPrintsOneProfileInFull() async throws {
        let store = try Self.seededStore()
        let r = try await CLI.run(["profiles", "show", "2", "--json", "--store", store])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((detail["summary"] as? [String: Any])?["serial"] as? String == "A-1")
        #expect((detail["result"] as? [String: Any])?["read_noise"] as? Double == 0.02)
        let text = try await CLI.run(["profiles", "show", "1", "--store", store])
        #expect(text.status == 0 && text.stdout.contains("superseded by profile 2"))
    }

    @Test(arguments: [
        (["profiles", "show", "99"], "no calibration profile 99"),
        (["profiles", "--max-age-days", "nan"], "--max-age-days"),
        (["profiles", "--max-age-days", "-1"], "--max-age-days"),
        (["profiles", "show", "x"], "x"),
    ])
    func badInputIsOneLine(args: [String], fragment: String) async throws {
        let store = try Self.seededStore()
        let r = try await CLI.run(args + ["--store", store])
        #expect(r.status != 0)
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error") && r.stdout.isEmpty)
    }
}
