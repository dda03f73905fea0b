import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Proof that this process is the one recording a run: an advisory lock (`flock`, exclusive)
/// on `<store>-locks/run-N.lock`, held from the moment the run is created or resumed until
/// its status leaves `running`.
///
/// The kernel drops the lock when the process dies in any way (SIGKILL, a crash, a power cut
/// takes the whole machine down), so a run stored as `running` whose lock nobody holds was
/// left by a dead process: readers report it as `interrupted`, with no daemon and no
/// timeout. The lock file holds the holder's process id as text, for messages only; the lock
/// itself is the truth. On release the file is removed while still locked, and a taker
/// checks that the file it locked is still the one at the path, so two processes can never
/// both believe they hold a run.
final class RunLease: Sendable {
    /// The run this lease is for.
    let runID: Int64
    /// The lock file.
    let path: String
    private let descriptor: Mutex<Int32?>

    private init(runID: Int64, path: String, descriptor: Int32) {
        self.runID = runID
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    deinit { release() }

    /// The folder holding a store's lock files: `<store>-locks`, beside `-wal` and `-shm`.
    static func folder(store: String) -> String { store + "-locks" }

    /// The lock file of run `runID` in the store at `store`.
    static func lockPath(store: String, runID: Int64) -> String { folder(store: store) + "/run-\(runID).lock" }

    /// Takes the lease on run `runID`, creating the lock folder and file as needed.
    /// Throws `.runBusy` when a live process holds it.
    static func acquire(store: String, runID: Int64) throws(StoreError) -> RunLease {
        let path = lockPath(store: store, runID: runID)
        let folder = Self.folder(store: store)
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw .cannotOpen(path: store, reason: "cannot create the lock folder \(folder): \(Self.errorText())")
        }
        // A reader probing the lock holds it shared for a few microseconds; a few short
        // retries tell that apart from a live holder.
        var busyTries = 0
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 {
                if errno == EINTR { continue }
                throw .cannotOpen(path: store, reason: "cannot create the lock file \(path): \(Self.errorText())")
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let error = errno
                close(fd)
                if error == EINTR { continue }
                guard error == EWOULDBLOCK else {
                    throw .database(path: store, detail: "cannot lock \(path): \(String(cString: strerror(error)))")
                }
                busyTries += 1
                if busyTries < 5 {
                    usleep(10_000)
                    continue
                }
                throw .runBusy(id: runID, pid: holderPID(path: path))
            }
            // The previous holder may have removed the file between our open and our lock:
            // then we locked an orphan and must start over on the file now at the path.
            var locked = stat()
            var current = stat()
            if fstat(fd, &locked) != 0 || stat(path, &current) != 0 || locked.st_ino != current.st_ino
                || locked.st_dev != current.st_dev
            {
                close(fd)
                continue
            }
            let text = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            return RunLease(runID: runID, path: path, descriptor: fd)
        }
    }

    /// Whether a live process (this one included) holds the lease on run `runID`.
    static func isHeld(store: String, runID: Int64) -> Bool {
        let fd = open(lockPath(store: store, runID: runID), O_RDONLY | O_CLOEXEC)
        if fd < 0 { return false }  // no file: nobody holds it
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// The process id written by the holder, if readable.
    static func holderPID(path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Gives the lease up (idempotent): removes the file while still holding it, then unlocks.
    func release() {
        descriptor.withLock { fd in
            guard let open = fd else { return }
            unlink(path)
            close(open)
            fd = nil
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
