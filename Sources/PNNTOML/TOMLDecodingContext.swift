/// The state shared by every container of one decoding run: the options, and which keys of
/// which tables the decoded types asked for, so that keys nobody asked for can be refused.
final class TOMLDecodingContext {
    let userInfo: [CodingUserInfoKey: any Sendable]
    let allowsNonFinite: Bool
    let rejectsUnknownKeys: Bool

    /// One table opened as a keyed container.
    private struct TableUse {
        var codingPath: [any CodingKey]
        var keys: [String]
        /// Keys the type asked about (decoded, looked up, or listed through `allKeys`).
        var asked: Set<String> = []
        /// Keys the type's `CodingKeys` declare, when they are `CaseIterable`.
        var declared: Set<String> = []
    }

    private var tables: [String: TableUse] = [:]
    private var order: [String] = []

    init(userInfo: [CodingUserInfoKey: any Sendable], allowsNonFinite: Bool, rejectsUnknownKeys: Bool) {
        self.userInfo = userInfo
        self.allowsNonFinite = allowsNonFinite
        self.rejectsUnknownKeys = rejectsUnknownKeys
    }

    /// Note that the table at `codingPath` (written `path`) was opened with `Key`.
    func opened<Key: CodingKey>(
        _ table: [String: TOMLValue], at path: String, codingPath: [any CodingKey], keyedBy: Key.Type
    ) {
        if tables[path] == nil {
            tables[path] = TableUse(codingPath: codingPath, keys: table.keys.sorted())
            order.append(path)
        }
        tables[path]?.declared.formUnion(Self.declaredKeys(Key.self))
    }

    /// Note that the type asked for `key` in the table at `path`.
    func asked(_ key: String, at path: String) {
        tables[path]?.asked.insert(key)
    }

    /// Note that the type listed every key of the table at `path` (it takes them all).
    func askedAll(at path: String) {
        guard let keys = tables[path]?.keys else { return }
        tables[path]?.asked.formUnion(keys)
    }

    /// The first key (tables in the order opened, keys sorted) that the decoded types never
    /// asked for, with a similar known key as a suggestion; `nil` if there is none.
    func firstUnknownKey() -> TOMLDecodingError? {
        guard rejectsUnknownKeys else { return nil }
        for path in order {
            guard let use = tables[path] else { continue }
            for key in use.keys where !use.asked.contains(key) {
                let known = use.asked.union(use.declared).subtracting(use.keys)
                return .unknownKey(
                    path: TOMLDecoder.path(use.codingPath + [TOMLCodingKey(stringValue: key)]),
                    suggestion: Self.closest(to: key, among: known).map(TOMLSyntax.key))
            }
        }
        return nil
    }

    /// The string values of `Key`'s cases, if it lists them (`CaseIterable`).
    private static func declaredKeys<Key: CodingKey>(_ type: Key.Type) -> [String] {
        guard let iterable = type as? any CaseIterable.Type else { return [] }
        return caseKeys(iterable)
    }

    private static func caseKeys<C: CaseIterable>(_ type: C.Type) -> [String] {
        C.allCases.compactMap { ($0 as? any CodingKey)?.stringValue }
    }

    /// The candidate nearest to `key` by edit distance (a swap of neighbours counts once),
    /// if it is at most 2 edits away and fewer edits than `key` has characters.
    static func closest(to key: String, among candidates: Set<String>) -> String? {
        var best: (distance: Int, name: String)?
        for candidate in candidates.sorted() where abs(candidate.count - key.count) <= 2 {
            let d = editDistance(key, candidate)
            guard d <= 2, d < key.count else { continue }
            if best == nil || d < best!.distance { best = (d, candidate) }
        }
        return best?.name
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    /// adjacent characters (case matters: `Rows` is one edit from `rows`).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var rows = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { rows[i][0] = i }
        for j in 0...y.count { rows[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var d = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d = min(d, rows[i - 2][j - 2] + 1) }
                rows[i][j] = d
            }
        }
        return rows[x.count][y.count]
    }
}
