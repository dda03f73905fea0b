/// A `TOMLValue` can be decoded, so a type may keep part of a document free-form
/// (`var extra: [String: TOMLValue]`). From the TOML decoder the value is taken as is;
/// from other decoders (e.g. JSON) it is reconstructed by trying, in order, boolean,
/// integer, float, string, array and table.
extension TOMLValue: Decodable {
    public init(from decoder: any Decoder) throws {
        if let toml = decoder as? TOMLValueDecoder {
            self = toml.value
            return
        }
        if let single = try? decoder.singleValueContainer() {
            if let b = try? single.decode(Bool.self) {
                self = .bool(b)
                return
            }
            if let n = try? single.decode(Int64.self) {
                self = .integer(n)
                return
            }
            if let x = try? single.decode(Double.self) {
                self = .float(x)
                return
            }
            if let s = try? single.decode(String.self) {
                self = .string(s)
                return
            }
        }
        if var array = try? decoder.unkeyedContainer() {
            var elements: [TOMLValue] = []
            while !array.isAtEnd { elements.append(try array.decode(TOMLValue.self)) }
            self = .array(elements)
            return
        }
        let table = try decoder.container(keyedBy: TOMLCodingKey.self)
        var entries: [String: TOMLValue] = [:]
        for key in table.allKeys { entries[key.stringValue] = try table.decode(TOMLValue.self, forKey: key) }
        self = .table(entries)
    }
}
