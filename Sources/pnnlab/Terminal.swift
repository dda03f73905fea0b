import Foundation

/// Where progress goes: a redrawn bar on a terminal, plain lines otherwise.
enum Terminal {
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Formats seconds as `m:ss` or `h:mm:ss`.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--:--" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) }
    return String(format: "%d:%02d", s / 60, s % 60)
}

/// Formats a rate like `12.3k`.
func formatCount(_ x: Double) -> String {
    if x >= 1e6 { return String(format: "%.1fM", x / 1e6) }
    if x >= 1e3 { return String(format: "%.1fk", x / 1e3) }
    return String(format: "%.0f", x)
}

/// Percentage with one decimal, or `–`.
func formatPercent(_ x: Double?) -> String {
    guard let x else { return "–" }
    return String(format: "%.1f%%", 100 * x)
}
