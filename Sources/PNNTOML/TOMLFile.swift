import Foundation

/// Why a TOML file could not be read as text (before any parsing).
public enum TOMLFileError: Error, Equatable, CustomStringConvertible {
    /// The file does not exist, is a directory, or cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// The file holds more than `limit` bytes; it was not read past the limit.
    case tooLarge(path: String, limit: Int)
    /// The file is not UTF-8 text.
    case notUTF8(path: String)

    /// The file's path as given.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .tooLarge(let path, _), .notUTF8(let path): return path
        }
    }

    /// Why, without the path: `no such file`, `it is larger than 1 MiB (…)`.
    public var reason: String {
        switch self {
        case .unreadable(_, let reason): return reason
        case .tooLarge(_, let limit):
            return "it is larger than \(TOMLFileError.size(limit)), the most a TOML file may hold here "
                + "(is it the right file?)"
        case .notUTF8: return "it is not UTF-8 text"
        }
    }

    /// `cannot read run.toml: no such file`.
    public var description: String { "cannot read \(path): \(reason)" }

    /// `1 MiB`, `64 KiB`, `1000 bytes`.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }
}

extension TOML {
    /// The most bytes `readFile` reads by default: 1 MiB, far above any configuration file
    /// (pnnlab's are under 2 KiB) and small enough to parse in about a second even in a
    /// debug build (measured: 1 MiB of `key = float` lines 1.0 s, a 350 000-element array 1.3 s).
    public static let maxFileBytes = 1 << 20

    /// The text of the file at `path`, refused before parsing if it holds more than `maxBytes`
    /// bytes. The size is checked before reading where the file system knows it, and reading
    /// stops at `maxBytes + 1` bytes in any case (a pipe, `/dev/zero`, a growing file).
    public static func readFile(atPath path: String, maxBytes: Int = maxFileBytes) throws(TOMLFileError) -> String {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw .unreadable(path: path, reason: "it is a directory, not a file") }
        if let attributes = try? files.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let size = (attributes[.size] as? NSNumber)?.intValue, size > maxBytes
        {
            throw .tooLarge(path: path, limit: maxBytes)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = files.isReadableFile(atPath: path) ? "it cannot be opened" : "permission denied"
            throw .unreadable(path: path, reason: reason)
        }
        defer { try? handle.close() }
        var data = Data()
        do {
            while data.count <= maxBytes {
                guard let chunk = try handle.read(upToCount: maxBytes + 1 - data.count), !chunk.isEmpty else { break }
                data.append(chunk)
            }
        } catch {
            throw .unreadable(path: path, reason: "reading failed (\(error.localizedDescription))")
        }
        if data.count > maxBytes { throw .tooLarge(path: path, limit: maxBytes) }
        guard let text = String(data: data, encoding: .utf8) else { throw .notUTF8(path: path) }
        return text
    }
}
