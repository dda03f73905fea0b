/// Faults a ``MemoryLink`` injects into each direction, per byte: loss, a single flipped
/// bit, duplication, and a fixed delivery delay per written chunk.
public struct FaultSpec: Sendable, Equatable, CustomStringConvertible {
    /// Probability that a byte is lost.
    public var drop: Double
    /// Probability that one random bit of a byte is inverted.
    public var flip: Double
    /// Probability that a byte is delivered twice.
    public var duplicate: Double
    /// Time between a write and the data becoming readable.
    public var delay: Duration

    /// A perfect link.
    public static let none = FaultSpec()

    /// The longest delivery delay `delay-ms` accepts: one minute, far beyond any link timeout.
    public static let maximumDelayMilliseconds = 60_000.0

    /// Create a spec; probabilities are clamped to [0, 1].
    public init(drop: Double = 0, flip: Double = 0, duplicate: Double = 0, delay: Duration = .zero) {
        self.drop = min(max(drop, 0), 1)
        self.flip = min(max(flip, 0), 1)
        self.duplicate = min(max(duplicate, 0), 1)
        self.delay = delay
    }

    /// Parse `"drop=1e-3,flip=1e-3,dup=0,delay-ms=2"`; keys may be omitted, an empty
    /// string or `"none"` is a perfect link.
    public init(parsing text: String) throws(TransportError) {
        self.init()
        let trimmed = text.trimmingSpaces
        if trimmed.isEmpty || trimmed == "none" { return }
        var seen: Set<String> = []
        for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .invalidFaultSpec("'\(item)' is not key=value (keys: drop, flip, dup, delay-ms)")
            }
            let key = String(parts[0]).trimmingSpaces
            let raw = String(parts[1]).trimmingSpaces
            guard seen.insert(key).inserted else { throw .invalidFaultSpec("'\(key)' given twice") }
            guard let value = Double(raw), value.isFinite else {
                throw .invalidFaultSpec("'\(raw)' is not a number (for \(key))")
            }
            switch key {
            case "drop", "flip", "dup":
                guard (0...1).contains(value) else {
                    throw .invalidFaultSpec("\(key)=\(raw) is not a probability between 0 and 1")
                }
                if key == "drop" { drop = value } else if key == "flip" { flip = value } else { duplicate = value }
            case "delay-ms":
                guard value >= 0 else { throw .invalidFaultSpec("delay-ms=\(raw) is negative") }
                guard value <= Self.maximumDelayMilliseconds else {
                    throw .invalidFaultSpec(
                        "delay-ms=\(raw) is longer than \(Int(Self.maximumDelayMilliseconds)) ms (one minute)")
                }
                delay = .microseconds(Int64((value * 1000).rounded()))
            default:
                throw .invalidFaultSpec("unknown key '\(key)' (keys: drop, flip, dup, delay-ms)")
            }
        }
    }

    public var description: String {
        "drop=\(drop),flip=\(flip),dup=\(duplicate),delay-ms=\(TransportError.milliseconds(delay).dropLast(3))"
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
