public enum PNNSimVersion { public static let string = "0.1.0" }
