import PNNCore
import PNNDevices

/// Help text generated from the registry, so no command names a family.
enum FamilyHelp {
    /// Each family's emulator options, for `pnnlab emulate --help`.
    static func emulatorOptions() -> String {
        var lines = ["Family options:"]
        for family in FamilyRegistry.standard.families {
            let options = family.emulatorOptions
            if !family.hasLink {
                lines.append("  \(family.family): twin only, no emulator")
                continue
            }
            if options.isEmpty {
                lines.append("  \(family.family): none")
                continue
            }
            lines.append("  \(family.family):")
            for o in options { lines.append("    \(o.usage)  \(o.help)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Every `sim:` twin with its summary and options, for `pnnlab train --help` and the top level.
    static func twins() -> String {
        var lines = ["Twins (DEVICE = sim:…):"]
        for (_, entry) in FamilyRegistry.standard.twins {
            lines.append("  \(entry.name): \(entry.summary)")
            for o in entry.options { lines.append("    \(o.usage)  \(o.help)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Twin names, comma-separated.
    static var twinNames: String { FamilyRegistry.standard.twinNames.joined(separator: ", ") }
}

extension FamilyHelp {
    /// Each family's calibration procedure and its options, for `pnnlab calibrate --help`.
    static func calibrationProcedures() -> String {
        var lines = ["Procedures:"]
        for family in FamilyRegistry.standard.families {
            guard let p = family.calibration else {
                lines.append("  \(family.family): none yet")
                continue
            }
            lines.append("  \(family.family): \(p.name) v\(p.version) — \(p.summary)")
            for o in p.options { lines.append("    \(o.usage)  \(o.help)") }
        }
        return lines.joined(separator: "\n")
    }
}
