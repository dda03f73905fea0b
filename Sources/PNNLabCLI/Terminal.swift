import Foundation

/// Where progress goes: a redrawn bar on a terminal, plain lines otherwise.
enum Terminal {
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    /// Width of the terminal stderr writes to: the kernel's window size (`TIOCGWINSZ`), else
    /// `$COLUMNS`, else 80. Asked anew each time, so a resized window is followed.
    static func stderrColumns(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        var size = winsize()
        let fromKernel = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 ? Int(size.ws_col) : 0
        return columns(kernel: fromKernel, environment: environment)
    }

    /// The width rule alone: a positive kernel width wins, then a positive `$COLUMNS`, then 80.
    static func columns(kernel: Int, environment: [String: String]) -> Int {
        if kernel > 0 { return kernel }
        if let text = environment["COLUMNS"], let c = Int(text.trimmingCharacters(in: .whitespaces)), c > 0 { return c }
        return 80
    }

    /// Writes to stderr with write(2), ignoring failures: after SIGHUP the terminal is gone
    /// and `FileHandle.write` would trap on EIO, and a lost message must never stop a run on
    /// its way to a safe state.
    static func writeError(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes = bytes.dropFirst(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
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

/// A loss with four significant digits (`0.0625`, `1.56e-06`): losses in V² are tiny.
func formatLoss(_ x: Double) -> String { String(format: "%.4g", x) }

/// Percentage with one decimal, or `–`.
func formatPercent(_ x: Double?) -> String {
    guard let x else { return "–" }
    return String(format: "%.1f%%", 100 * x)
}
