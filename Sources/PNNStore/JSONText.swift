import Foundation

/// A minimal streaming JSON writer for exports: numbers in Swift's shortest round-trip
/// form (a parsed value is bit-identical to the stored Float64), non-finite numbers as
/// `null` (JSON has no NaN or infinity), and already-encoded JSON text embedded verbatim.
struct JSONText {
    private(set) var text = ""
    private var needsComma = [false]

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    mutating func beginObject() { separate(); text += "{"; needsComma.append(false) }
    mutating func endObject() { needsComma.removeLast(); text += "}" }
    mutating func beginArray() { separate(); text += "["; needsComma.append(false) }
    mutating func endArray() { needsComma.removeLast(); text += "]" }

    /// Writes `"name":` inside an object; the next value call writes the value.
    mutating func key(_ name: String) {
        separate()
        text += Self.quoted(name) + ":"
        needsComma[needsComma.count - 1] = false
    }

    mutating func value(_ string: String?) { separate(); text += string.map(Self.quoted) ?? "null" }
    mutating func value(_ int: Int) { separate(); text += String(int) }
    mutating func value(_ int: Int64) { separate(); text += String(int) }
    mutating func value(_ int: UInt64) { separate(); text += String(int) }
    mutating func value(_ x: Double?) { separate(); text += Self.number(x) }

    /// `values` as a JSON array of numbers.
    mutating func array(_ values: [Double]) {
        separate()
        text += "["
        text.reserveCapacity(text.utf8.count + values.count * 20)
        for (i, x) in values.enumerated() {
            if i > 0 { text += "," }
            text += Self.number(x)
        }
        text += "]"
        needsComma[needsComma.count - 1] = true
    }

    /// Embeds `json` if it is valid JSON, otherwise writes it as a string.
    mutating func raw(_ json: String?) {
        guard let json else { return value(nil as String?) }
        if (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])) != nil {
            separate()
            text += json
        } else {
            value(json)
        }
    }

    static func number(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "null" }
        return "\(x)"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
