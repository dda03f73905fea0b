import Foundation

/// Plain-text tables for human output (every listing also has `--json`).
enum Table {
    /// Two aligned columns: key, value.
    static func keyValue(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }

    /// A table with a header row; columns are left-aligned and padded.
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }
        return ([line(header), line(rule)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Helpers for JSON output through `JSONSerialization`.
enum JSONOut {
    /// A value or JSON null.
    static func nullable<T>(_ x: T?) -> Any { x.map { $0 as Any } ?? NSNull() }

    /// Print a JSON object or array, keys sorted, one line.
    static func print(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        Swift.print(String(decoding: data, as: UTF8.self))
    }

    /// ISO 8601 timestamp.
    static func date(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}
