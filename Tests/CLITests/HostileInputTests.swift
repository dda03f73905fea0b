import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11, point 1: hostile input never crashes pnnlab or passes silently — each case is
/// one line on stderr and a non-zero exit (or correct behaviour), run on the real binary.
@Suite("Hostile input: one clear line, never a crash", .serialized)
struct HostileInputTests {
    /// Runs pnnlab and checks for exactly one `pnnlab: …` line containing `phrase`.
    @discardableResult
    func expectOneLine(
        _ args: [String], contains phrase: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CLI.Result {
        let r = try await CLI.run(args, timeout: timeout)
        Self.check(r, contains: phrase, sourceLocation: sourceLocation)
        return r
    }

    static func check(_ r: CLI.Result, contains phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status > 0 && r.status < 128, "exit status \(r.status)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("pnnlab: "), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(phrase), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Backtrace"), sourceLocation: sourceLocation)
    }

    /// Runs `script` under /bin/sh with `$0` = the pnnlab binary (for redirections).
    func shell(_ script: String, _ args: [String] = [], timeout: Double = 60) async throws -> CLI.Result {
        let p = try CLI.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", script, CLI.binary.path] + args)
        try await p.wait(timeout: timeout)
        return p.finish()
    }

    /// A store holding one short completed crossbar run (run 1).
    static func storeWithRun() async throws -> String {
        let store = CLI.tempStore()
        let r = try await CLI.run(["train", "sim:crossbar", "--task", "iris", "--epochs", "1", "--store", store, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return store
    }

    // MARK: Numbers

    @Test func faultSpecNumbersAreRefused() async throws {
        for spec in ["delay-ms=1e300", "delay-ms=nan", "delay-ms=inf", "delay-ms=-1", "drop=nan", "flip=-inf", "dup=1e300"] {
            try await expectOneLine(["emulate", "clln", "--faults", spec], contains: "invalid fault spec")
        }
        try await expectOneLine(["emulate", "clln", "--faults", "delay-ms=1e300"], contains: "longer than 60000 ms")
    }

    @Test func reconnectGraceIsValidatedByEveryCommandThatTakesIt() async throws {
        for command in [["train", "sim:crossbar", "--task", "iris"], ["calibrate", "sim:clln"]] {
            for value in ["nan", "inf", "1e300", "-1"] {
                try await expectOneLine(
                    command + ["--reconnect-grace=\(value)", "--store", CLI.tempStore()], contains: "--reconnect-grace")
            }
        }
    }

    @Test func initialGateNaNIsRefused() async throws {
        try await expectOneLine(
            [
                "train", "sim:clln", "--task", "two-task", "--method", "coupled", "--initial-gate", "nan", "--store",
                CLI.tempStore(),
            ],
            contains: "--initial-gate")
    }

    // MARK: Twin states

    /// A sim:clln state exported by pnnlab, as a JSON object to make hostile.
    static func cllnState() async throws -> [String: Any] {
        let file = EmulatorProcess.tempDir() + "/clln.json"
        let r = try await CLI.run(["twin", "export", "sim:clln", "-o", file])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
    }

    static func write(_ object: [String: Any]) throws -> String {
        let file = EmulatorProcess.tempDir() + "/state.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
        return file
    }

    func trainCLLN(state file: String) -> [String] {
        [
            "train", "sim:clln", "--twin-state", file, "--task", "two-task", "--method", "coupled", "--periods", "2", "--store",
            CLI.tempStore(),
        ]
    }

    @Test func hostileCLLNStatesAreRefusedBeforeAllocating() async throws {
        let base = try await Self.cllnState()
        var lr = base
        lr["learningRates"] = (base["learningRates"] as! [Double]).enumerated().map { $0.offset == 0 ? 1e300 : $0.element }
        try await expectOneLine(trainCLLN(state: try Self.write(lr)), contains: "A0 must be in [0, 1000000.0]")
        var bias = base
        bias["biases"] = (base["biases"] as! [Double]).enumerated().map { $0.offset == 3 ? -1e300 : $0.element }
        try await expectOneLine(trainCLLN(state: try Self.write(bias)), contains: "|B| ≤ 1000.0")
        var physics = base
        var constants = base["physics"] as! [String: Any]
        constants["s"] = 1e300
        physics["physics"] = constants
        try await expectOneLine(trainCLLN(state: try Self.write(physics)), contains: "beyond the physical limit")

        // 2^62 nodes (a segfault before) and 10^6 nodes (8 TB of Jacobian): refused at once.
        for nodes in [1 << 62, 1_000_000] {
            var huge = base
            var topology = base["topology"] as! [String: Any]
            topology["nodeCount"] = nodes
            huge["topology"] = topology
            let started = Date()
            try await expectOneLine(trainCLLN(state: try Self.write(huge)), contains: "at most 1000")
            #expect(Date().timeIntervalSince(started) < 30)
        }
    }

    /// A 10^4-node chain ran > 90 s per period and kept running after SIGTERM; now it is
    /// refused in well under a second of simulation.
    @Test func tenThousandNodeChainIsRefusedQuickly() async throws {
        let base = try await Self.cllnState()
        let n = 10_000
        var chain = base
        let edges = (0..<(n - 1)).map { ["a": $0, "b": $0 + 1, "trainable": true] as [String: Any] }
        var topology = base["topology"] as! [String: Any]
        topology["nodeCount"] = n
        topology["edges"] = edges
        topology["inputNodes"] = [0, 1, 2, 3, 4, 5]
        topology["outputs"] = [["plus": n - 1, "minus": n - 2]]
        chain["topology"] = topology
        chain["gates"] = Array(repeating: 3.0, count: n - 1)
        chain["learningRates"] = Array(repeating: 2000.0, count: n - 1)
        chain["biases"] = Array(repeating: 0.0, count: n - 1)
        let started = Date()
        try await expectOneLine(
            trainCLLN(state: try Self.write(chain)), contains: "10000 nodes is more than the simulator handles")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func hostileCrossbarStatesAreRefused() async throws {
        let file = EmulatorProcess.tempDir() + "/xb.json"
        let r = try await CLI.run(["twin", "export", "sim:crossbar", "-o", file])
        #expect(r.status == 0, "\(r.stderr)")
        let base = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        let cases: [(String, Any, String)] = [
            ("rows", 1 << 62, "at most 4096 rows"), ("outputs", 1 << 40, "at most 2048 outputs"),
            ("g_max_uS", 1e300, "at most 10000 µS"), ("max_pulses", 1 << 62, "at most 100000"),
            ("pulse_time_s", 1e300, "at most 1.0 s"),
        ]
        for (key, value, phrase) in cases {
            var doc = base
            var config = base["config"] as! [String: Any]
            config[key] = value
            doc["config"] = config
            try await expectOneLine(
                [
                    "train", "sim:crossbar", "--task", "iris", "--epochs", "1", "--twin-state", try Self.write(doc), "--store",
                    CLI.tempStore(),
                ],
                contains: phrase)
        }
        var clock = base
        clock["clock_s"] = -1e300
        try await expectOneLine(
            [
                "train", "sim:crossbar", "--task", "iris", "--epochs", "1", "--twin-state", try Self.write(clock), "--store",
                CLI.tempStore(),
            ],
            contains: "clock_s")
    }

    // MARK: Writes

    @Test func writesToAFullDeviceFail() async throws {
        let store = try await Self.storeWithRun()
        for command in ["runs", "runs --json", "show 1 --json", "show 1", "export 1", "export 1 --format json"] {
            let r = try await shell("exec \"$0\" \(command) --store \"$1\" > /dev/full", [store])
            Self.check(r, contains: "could not write to standard output: no space left on device")
        }
        let r = try await CLI.run(["export", "1", "--store", store, "-o", "/dev/full"])
        Self.check(r, contains: "could not write /dev/full: no space left on device")
        // The device is written in place, never replaced by a file.
        var info = stat()
        #expect(stat("/dev/full", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
    }

    @Test func closedStdoutIsOneLine() async throws {
        let store = try await Self.storeWithRun()
        let r = try await shell("exec \"$0\" export 1 --store \"$1\" >&-", [store])
        Self.check(r, contains: "could not write to standard output: it is closed")
        // The store was not written through descriptor 1.
        #expect(try await CLI.run(["runs", "--store", store]).status == 0)
    }

    @Test func exportToAFolderOrNowhere() async throws {
        let store = try await Self.storeWithRun()
        let dir = EmulatorProcess.tempDir()
        try await expectOneLine(["export", "1", "--store", store, "-o", dir], contains: "is a directory")
        try await expectOneLine(
            ["export", "1", "--store", store, "-o", dir + "/no/such/x.csv"], contains: "folder does not exist")
        try await expectOneLine(["export", "1", "--store", store, "-o", ""], contains: "file name is empty")
    }

    /// A full file system (a 64 kB tmpfs in a private mount namespace): the export fails
    /// with one line, an existing file keeps its contents, `> file` is left empty, and no
    /// temporary file is left behind.
    @Test func failedExportLeavesNoPartialFile() async throws {
        let store = try await Self.storeWithRun()
        // Enough steps that the JSON export outgrows 64 kB.
        let big = try await CLI.run(["train", "sim:crossbar", "--task", "iris", "--epochs", "30", "--store", store, "--json"])
        #expect(big.status == 0)
        let dir = EmulatorProcess.tempDir()
        let script = """
            mount -t tmpfs -o size=64k tmpfs "$2" || exit 99
            echo old > "$2/keep.json"
            "$0" export 2 --format json --store "$1" -o "$2/keep.json"; a=$?
            "$0" export 2 --format json --store "$1" > "$2/out.json"; b=$?
            echo "status $a $b" >&2
            echo "keep $(cat "$2/keep.json")" >&2
            echo "out $(wc -c < "$2/out.json")" >&2
            echo "files $(ls -A "$2" | tr '\\n' ' ')" >&2
            """
        let p = try CLI.launch(
            URL(fileURLWithPath: "/usr/bin/unshare"), ["-m", "/bin/sh", "-c", script, CLI.binary.path, store, dir])
        try await p.wait(timeout: 120)
        let r = p.finish()
        try #require(r.status == 0, "needs root and unshare -m for a private tmpfs: \(r.stderr)")
        #expect(r.stderr.contains("pnnlab: could not write \(dir)/keep.json: no space left on device"), "\(r.stderr)")
        #expect(r.stderr.contains("pnnlab: could not write to standard output: no space left on device"), "\(r.stderr)")
        #expect(r.stderr.contains("status 1 1"), "\(r.stderr)")
        #expect(r.stderr.contains("keep old"), "\(r.stderr)")
        #expect(r.stderr.contains("out 0"), "\(r.stderr)")
        #expect(
            r.stderr.contains("files keep.json out.json \n") || r.stderr.contains("files out.json keep.json \n"), "\(r.stderr)")
    }

    // MARK: Links and ports

    @Test func emulateLinkNeverReplacesAUsersFile() async throws {
        let dir = EmulatorProcess.tempDir()
        let mine = dir + "/mine.txt"
        try "precious\n".write(toFile: mine, atomically: true, encoding: .utf8)
        try await expectOneLine(["emulate", "clln", "--link", mine], contains: "is not a link to a pty")
        #expect(try String(contentsOfFile: mine, encoding: .utf8) == "precious\n")

        let foreign = dir + "/foreign"
        try FileManager.default.createSymbolicLink(atPath: foreign, withDestinationPath: mine)
        try await expectOneLine(["emulate", "clln", "--link", foreign], contains: "symlink to something other than a pty")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: foreign) == mine)
    }

    @Test func emulateRemovesOnlyItsOwnLink() async throws {
        let dir = EmulatorProcess.tempDir()
        // Its own link goes away on exit.
        let own = dir + "/board"
        let first = try await EmulatorProcess(link: own)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: own).hasPrefix("/dev/pts/"))
        #expect(await first.stop() == 0)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: own)) == nil)

        // A link the user replaced while it ran survives its exit.
        let replaced = dir + "/replaced"
        let second = try await EmulatorProcess(link: replaced)
        try FileManager.default.removeItem(atPath: replaced)
        try "user data\n".write(toFile: replaced, atomically: true, encoding: .utf8)
        #expect(await second.stop() == 0)
        #expect(try String(contentsOfFile: replaced, encoding: .utf8) == "user data\n")
    }

    @Test func attachingSomethingThatIsNotAPort() async throws {
        let dir = EmulatorProcess.tempDir()
        let file = dir + "/plain"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        for path in ["/dev/null", file, dir] {
            try await expectOneLine(["attach", path, "--store", CLI.tempStore()], contains: "\(path) is not a serial port")
        }
    }

    /// `attach` on a terminal (a pty in cooked mode with echo, as /dev/tty would be) puts
    /// its line settings back when it gives up.
    @Test func attachRestoresTheTerminal() async throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        try #require(openpty(&master, &slave, nil, nil, nil) == 0)
        defer {
            close(master)
            close(slave)
        }
        let path = String(cString: ttyname(slave))
        var before = termios()
        tcgetattr(slave, &before)
        try #require(before.c_lflag & tcflag_t(ECHO | ICANON) != 0, "a fresh pty is cooked")
        let r = try await CLI.run(["attach", path, "--store", CLI.tempStore()], timeout: 60)
        Self.check(r, contains: "nothing answered")
        var after = termios()
        tcgetattr(slave, &after)
        #expect(after.c_lflag == before.c_lflag)
        #expect(after.c_iflag == before.c_iflag)
        #expect(after.c_oflag == before.c_oflag)
        #expect(after.c_cflag == before.c_cflag)
        #expect(cfgetispeed(&after) == cfgetispeed(&before))
    }

    // MARK: Store

    @Test func emptyStorePath() async throws {
        try await expectOneLine(["runs", "--store", ""], contains: "the store path is empty")
    }

    @Test func damagedStoreRowIsNamedNotDumped() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { return }
        let store = try await Self.storeWithRun()
        let edit = try CLI.launch(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), [store, "UPDATE run SET created_at = 'yesterday'"])
        try await edit.wait(timeout: 30)
        for command in [["runs"], ["show", "1"], ["export", "1"]] {
            let r = try await expectOneLine(command + ["--store", store], contains: "column \"created_at\" holds \"yesterday\"")
            #expect(r.stderr.count < 200, "\(r.stderr)")
        }
    }

    /// A store this user may read but not write: listing, showing and exporting work (and
    /// leave no -shm/-wal files), recording is one line.
    @Test func readOnlyStoreStillReads() async throws {
        let store = try await Self.storeWithRun()
        let folder = URL(fileURLWithPath: store).deletingLastPathComponent().path
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: store)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        func run(_ args: [String]) async throws -> CLI.Result {
            if getuid() != 0 { return try await CLI.run(args) }
            // Root may write anything: read as nobody, the way another user would.
            let p = try CLI.launch(
                URL(fileURLWithPath: "/usr/bin/setpriv"),
                ["--reuid=65534", "--regid=65534", "--clear-groups", "--", CLI.binary.path] + args)
            try await p.wait(timeout: 120)
            return p.finish()
        }
        let runs = try await run(["runs", "--store", store])
        #expect(runs.status == 0 && runs.stdout.contains("completed"), "\(runs.stderr)")
        let show = try await run(["show", "1", "--json", "--store", store])
        #expect(show.status == 0 && show.stdout.contains("\"status\""), "\(show.stderr)")
        let export = try await run(["export", "1", "--store", store])
        #expect(export.status == 0 && export.stdout.hasPrefix("step"), "\(export.stderr)")
        let train = try await run(["train", "sim:crossbar", "--task", "iris", "--epochs", "1", "--store", store])
        Self.check(train, contains: "read-only")
        let companions = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix("-shm") }
        #expect(companions.isEmpty, "\(companions)")
    }
}
