import Foundation
import Testing

/// One result schema: for one run, `train --json`, `runs --json`, `show --json` and the JSON
/// export agree, every key is snake_case and times are ISO-8601 (issue 9).
@Suite("one result schema (real binary)", .serialized)
struct ResultSchemaTests {
    static let agreed = ["run", "status", "train_accuracy", "test_accuracy", "final_loss", "digital_ceiling"]

    /// Every object key in `value`, recursively.
    static func keys(_ value: Any) -> [String] {
        if let o = value as? [String: Any] { return o.keys + o.values.flatMap(keys) }
        if let a = value as? [Any] { return a.flatMap(keys) }
        return []
    }

    /// snake_case: lower-case words joined by `_`; a later word may be a unit (`g_max_uS`,
    /// `v_read_max_V`); `_0` is a position (an enum case's unnamed value in a stored graph).
    static func isSnakeCase(_ key: String) -> Bool {
        if key.hasPrefix("_") { return key.dropFirst().allSatisfy(\.isNumber) && key.count > 1 }
        let words = key.split(separator: "_", omittingEmptySubsequences: false)
        guard let first = words.first, !first.isEmpty, first.allSatisfy({ $0.isLowercase || $0.isNumber }) else {
            return false
        }
        return words.dropFirst().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber } }
            && !words.dropFirst().contains { w in w.count > 2 && w.first!.isLowercase && w.contains(where: \.isUppercase) }
    }

    /// Same value, where two nulls agree and numbers are compared exactly.
    static func same(_ a: Any?, _ b: Any?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (is NSNull, is NSNull): true
        case (let x as NSNumber, let y as NSNumber): x == y
        case (let x as String, let y as String): x == y
        default: false
        }
    }

    /// Runs train, runs, show and export on one store and checks that they agree.
    func checkAgreement(store: String, trainArgs: [String]) async throws -> [String: Any] {
        let train = try await CLI.run(trainArgs + ["--json", "--store", store])
        #expect(train.status == 0, "stderr: \(train.stderr)")
        let t = try #require(CLI.json(train.stdout), "stdout: \(train.stdout)")

        let runs = try await CLI.run(["runs", "--json", "--store", store])
        #expect(runs.status == 0, "stderr: \(runs.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        let r = try #require(list.first)

        let show = try await CLI.run(["show", "1", "--json", "--store", store])
        #expect(show.status == 0, "stderr: \(show.stderr)")
        let s = try #require(CLI.json(show.stdout), "stdout: \(show.stdout)")

        let export = try await CLI.run(["export", "1", "--format", "json", "--store", store])
        #expect(export.status == 0, "stderr: \(export.stderr)")
        let e = try #require(try JSONSerialization.jsonObject(with: Data(export.stdout.utf8)) as? [String: Any])
        let summary = try #require((e["run"] as? [String: Any])?["summary"] as? [String: Any])

        for key in Self.agreed {
            #expect(t.keys.contains(key), "train --json lacks \(key)")
            for (name, other) in [("runs", r), ("show", s), ("export summary", summary)] {
                #expect(other.keys.contains(key), "\(name) lacks \(key)")
                #expect(Self.same(t[key], other[key]), "\(key): train \(t[key] ?? "–") vs \(name) \(other[key] ?? "–")")
            }
        }
        #expect(Set(t.keys) == Set(r.keys) && Set(t.keys) == Set(summary.keys), "the same keys everywhere")
        for (name, object) in [("train", t as Any), ("runs", list as Any), ("show", s as Any), ("export", e as Any)] {
            let bad = Self.keys(object).filter { !Self.isSnakeCase($0) }
            #expect(bad.isEmpty, "\(name) has keys that are not snake_case: \(Set(bad).sorted())")
        }
        let iso = ISO8601DateFormatter()
        for key in ["created_at", "updated_at"] {
            for (name, object) in [("train", t), ("runs", r), ("show", s), ("export summary", summary)] {
                #expect((object[key] as? String).flatMap(iso.date(from:)) != nil, "\(name) \(key): \(object[key] ?? "–")")
            }
            #expect(((e["run"] as? [String: Any])?[key] as? String).flatMap(iso.date(from:)) != nil, "export run.\(key)")
        }
        #expect(t["final_loss"] is NSNumber, "a finished run has a final loss")
        #expect((s["settings"] as? [String: Any])?.isEmpty == false, "show --json has the settings")
        let evaluations = try #require(s["evaluations"] as? [[String: Any]])
        #expect(!evaluations.isEmpty)
        #expect(Self.same(evaluations.last?["eval_loss"], t["final_loss"]), "final_loss is the last evaluation loss")
        let steps = try #require(e["steps"] as? [[String: Any]])
        #expect(steps.allSatisfy { $0["batch_loss"] != nil && $0["eval_loss"] != nil && $0["loss"] == nil })
        let exportedEvaluations = steps.filter { $0["eval_loss"] is NSNumber }
        #expect(Self.same(exportedEvaluations.last?["eval_loss"], t["final_loss"]), "the export carries the evaluation loss")
        return t
    }

    @Test func crossbarRunReadsTheSameEverywhere() async throws {
        let store = CLI.tempStore()
        let t = try await checkAgreement(
            store: store, trainArgs: ["train", "sim:crossbar", "--task", "iris", "--epochs", "3"])
        #expect(t["kind"] as? String == "jacobian")
        #expect(t["test_accuracy"] is NSNumber && t["train_accuracy"] is NSNumber)
        #expect(t["epochs"] as? Int == 3)
        let ceiling = try #require(t["digital_ceiling"] as? Double, "a Jacobian run has a digital ceiling")
        #expect(ceiling > 0.8 && ceiling <= 1)

        let show = try await CLI.run(["show", "1", "--store", store])
        #expect(show.status == 0)
        #expect(show.stdout.contains("trainer.batch_size"), "show prints the settings: \(show.stdout)")
        let percent = String(format: "%.1f%%", 100 * ceiling)
        #expect(show.stdout.contains("digital ceiling  \(percent)"), "show prints the ceiling: \(show.stdout)")
        let runs = try await CLI.run(["runs", "--store", store])
        #expect(runs.stdout.contains("ceiling") && runs.stdout.contains(percent), "runs lists the ceiling: \(runs.stdout)")
        #expect(show.stdout.contains("eval loss"), "show prints the per-epoch table: \(show.stdout)")

        let csv = try await CLI.run(["export", "1", "--format", "csv", "--store", store])
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("step,epoch,batch_loss,eval_loss,") == true)
        let evaluated = lines.dropFirst().filter { $0.split(separator: ",")[3] != "nan" }
        #expect(evaluated.count == 3, "one evaluation loss per epoch: \(evaluated)")
    }

    @Test func cllnRunReportsTrainAccuracyLikeEveryRun() async throws {
        let store = CLI.tempStore()
        let t = try await checkAgreement(
            store: store, trainArgs: ["train", "sim:clln", "--task", "ring", "--method", "overclamp", "--periods", "5"])
        #expect(t["kind"] as? String == "contrastive")
        #expect(t["train_accuracy"] is NSNumber, "the ring is a classification task")
        #expect(t["test_accuracy"] is NSNull)
        #expect(t["digital_ceiling"] is NSNull, "contrastive runs have no held-out split, hence no ceiling")
        #expect(t["loss_unit"] as? String == "V^2")
        #expect(t["accuracy"] == nil)
        #expect(t["epochs"] as? Int == 5)

        let show = try await CLI.run(["show", "1", "--store", store])
        #expect(show.status == 0)
        #expect(show.stdout.contains("schedule.periods"), "show prints the schedule: \(show.stdout)")
        #expect(show.stdout.contains("period") && show.stdout.contains("error (V²)"), "period table: \(show.stdout)")
    }
}
