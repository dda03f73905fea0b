// swift-tools-version:6.1
// pnnlab — in-situ training of physical neural networks.
// Layers import only downward: PNNCore → (PNNWire, PNNTransport, PNNSim, PNNStore,
// PNNCalibration: the generic calibration framework) → PNNLink → Drivers/<Family> →
// PNNDevices (the registry: the one place naming every family) → PNNTraining (algorithms
// over Substrate only) → PNNRuns (recording, resume, run plans) → PNNExperiments → pnnlab CLI.
// PNNTOML (the TOML reader and decoder) stands alone: it imports only the standard library and Foundation.
// PNNRemote (pnnlab serve, the remote:// DEVICE) sits above PNNDevices and plugs in through DeviceSchemes.

import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "pnnlab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pnnlab", targets: ["pnnlab"]),
        .library(name: "PNNCore", targets: ["PNNCore"]),
        .library(name: "PNNTOML", targets: ["PNNTOML"]),
        .library(name: "PNNSim", targets: ["PNNSim"]),
        .library(name: "PNNStore", targets: ["PNNStore"]),
        .library(name: "PNNTraining", targets: ["PNNTraining"]),
        .library(name: "PNNDevices", targets: ["PNNDevices"]),
        .library(name: "PNNRuns", targets: ["PNNRuns"]),
        .library(name: "PNNRemote", targets: ["PNNRemote"]),
        .library(name: "PNNExperiments", targets: ["PNNExperiments"]),
        .library(name: "PNNTransport", targets: ["PNNTransport"]),
        .library(name: "PNNWire", targets: ["PNNWire"]),
        .library(name: "PNNLink", targets: ["PNNLink"]),
        .library(name: "CrossbarDriver", targets: ["CrossbarDriver"]),
        .library(name: "PNNCalibration", targets: ["PNNCalibration"]),
        .library(name: "CLLNDriver", targets: ["CLLNDriver"]),
        .library(name: "OpticsDriver", targets: ["OpticsDriver"]),
        .library(name: "CameraDriver", targets: ["CameraDriver"]),
        .library(name: "CVPhotonicDriver", targets: ["CVPhotonicDriver"]),
        .library(name: "SpringDriver", targets: ["SpringDriver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // UnixSignals only: SIGINT/SIGTERM/SIGHUP as an AsyncSequence (pnnlab's InterruptController).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // pnnlab serve and remote:// devices (gRPC; generated code is committed, no build plugin runs).
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries, each a module map over a one-line shim header.
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(
            name: "CSerialPort", pkgConfig: "libserialport",
            providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(
            name: "CUSB", pkgConfig: "libusb-1.0",
            providers: [.apt(["libusb-1.0-0-dev"])]),
        // zlib: gzip-compressed IDX data sets (Fashion-MNIST as Debian ships it).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(name: "PNNCore", dependencies: ["CBLAS"], swiftSettings: strict),
        .target(name: "PNNTOML", swiftSettings: strict),
        .target(name: "PNNSim", dependencies: ["PNNCore", "CBLAS"], swiftSettings: strict),
        .target(name: "PNNWire", dependencies: ["PNNCore"], swiftSettings: strict),
        .target(
            name: "PNNStore",
            dependencies: [
                "PNNCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .systemLibrary(name: "CPty"),
        // A constructor that reserves closed standard streams before anything opens a file.
        .target(name: "CStartup"),
        .target(
            name: "PNNTransport", dependencies: ["PNNCore", "CSerialPort", "CUSB", "CPty"],
            swiftSettings: strict),
        // Drivers: the link session shared by every family, then one target per family.
        .target(
            name: "PNNCalibration", dependencies: ["PNNCore"], path: "Calibration", exclude: ["README.md"],
            swiftSettings: strict),
        .target(
            name: "PNNLink",
            dependencies: [
                "PNNCore", "PNNWire", "PNNTransport", "PNNCalibration", .product(name: "Logging", package: "swift-log"),
            ], path: "Drivers/Link",
            exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "CrossbarDriver",
            dependencies: ["PNNCore", "PNNSim", "PNNWire", "PNNTransport", "PNNLink", "PNNCalibration"],
            path: "Drivers/Crossbar", exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "CLLNDriver", dependencies: ["PNNCore", "PNNSim", "PNNWire", "PNNTransport", "PNNLink", "PNNCalibration"],
            path: "Drivers/CLLN", exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "CameraDriver", dependencies: ["PNNCore", "PNNSim", "PNNWire", "PNNLink"], path: "Drivers/Camera",
            exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "OpticsDriver", dependencies: ["PNNCore", "PNNSim", "PNNWire", "PNNLink", "PNNCalibration", "CameraDriver"],
            path: "Drivers/Optics", exclude: ["README.md"], swiftSettings: strict),
        // Twin-only: no command set, no emulator (seed 000's Gaussian circuits).
        .target(
            name: "CVPhotonicDriver", dependencies: ["PNNCore", "PNNSim", "PNNWire", "PNNLink"],
            path: "Drivers/CVPhotonic", exclude: ["README.md"], swiftSettings: strict),
        // Twin-only: seed 000's spring networks.
        .target(
            name: "SpringDriver", dependencies: ["PNNCore", "PNNSim", "PNNWire", "PNNLink"],
            path: "Drivers/Spring", exclude: ["README.md"], swiftSettings: strict),
        // The registry: the only code that names every family.
        .target(
            name: "PNNDevices",
            dependencies: [
                "PNNCore", "PNNStore", "PNNLink", "PNNTransport", "PNNWire", "CrossbarDriver", "CLLNDriver", "OpticsDriver",
                "CVPhotonicDriver", "SpringDriver", "CameraDriver",
            ],
            swiftSettings: strict),
        // Training algorithms: see only Substrate and its capabilities.
        .target(name: "PNNTraining", dependencies: ["PNNCore", "CZlib"], swiftSettings: strict),
        // Recording runs (store, checkpoints, resume), run plans, result types, calibration runs.
        .target(
            name: "PNNRuns",
            dependencies: ["PNNCore", "PNNTOML", "PNNStore", "PNNTraining", "PNNDevices", "PNNCalibration", "PNNLink"],
            swiftSettings: strict),
        // Seed-002 experiments, analysis and the appendix-D theory (reproductions, not the library).
        .target(
            name: "PNNExperiments", dependencies: ["PNNCore", "PNNSim", "PNNTraining", "PNNRuns"], path: "Experiments",
            swiftSettings: strict),
        // pnnlab serve (gRPC device and run server) and the remote:// device; the contract is Proto/.
        .target(
            name: "PNNRemote",
            dependencies: [
                "PNNCore", "PNNStore", "PNNDevices", "PNNRuns", "PNNTraining", "PNNCalibration",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strict),
        .target(
            name: "PNNLabCLI",
            dependencies: [
                "PNNCore", "PNNStore", "PNNTraining", "PNNTransport", "PNNWire", "PNNLink", "PNNDevices", "PNNRuns",
                "PNNExperiments", "PNNCalibration", "PNNRemote", "CBLAS", "CSerialPort", "CStartup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "pnnlab", dependencies: ["PNNLabCLI"], swiftSettings: strict),
        // The real command line with the test-only loopback family registered (CLI tests of the registry).
        .executableTarget(
            name: "pnnlab-loopback", dependencies: ["PNNLabCLI", "PNNDevices", "LoopbackFamily"],
            path: "Tests/LoopbackCLI", swiftSettings: strict),
        .executableTarget(
            name: "pnnbench",
            dependencies: [
                "PNNCore", "PNNSim", "PNNStore", "PNNTraining", "PNNWire", "PNNTransport", "PNNLink",
                "CrossbarDriver", "CLLNDriver", "CBLAS", "PNNDevices", "PNNRuns", "PNNExperiments", "OpticsDriver",
                "CameraDriver", "PNNCalibration", "PNNRemote",
            ],
            swiftSettings: strict),

        .testTarget(name: "PNNCoreTests", dependencies: ["PNNCore"], swiftSettings: strict),
        .testTarget(name: "PNNTOMLTests", dependencies: ["PNNTOML"], swiftSettings: strict),
        .testTarget(name: "PNNSimTests", dependencies: ["PNNSim"], swiftSettings: strict),
        .testTarget(name: "PNNTransportTests", dependencies: ["PNNTransport"], swiftSettings: strict),
        .testTarget(name: "PNNWireTests", dependencies: ["PNNWire"], swiftSettings: strict),
        .testTarget(name: "PNNStoreTests", dependencies: ["PNNStore"], swiftSettings: strict),
        .testTarget(
            name: "PNNTrainingTests", dependencies: ["PNNTraining", "PNNSim", "PNNRuns", "PNNDevices", "PNNExperiments"],
            swiftSettings: strict),
        .testTarget(
            name: "PNNLinkTests", dependencies: ["PNNLink", "PNNWire", "PNNTransport"], swiftSettings: strict),
        .testTarget(
            name: "CrossbarDriverTests",
            dependencies: ["CrossbarDriver", "PNNLink", "PNNSim", "PNNTransport", "PNNTraining", "PNNDevices", "PNNRuns"],
            swiftSettings: strict),
        .testTarget(
            name: "CLLNDriverTests",
            dependencies: ["CLLNDriver", "PNNLink", "PNNSim", "PNNTransport", "PNNWire"],
            swiftSettings: strict),
        // A test-only family added through the registry API alone (issue 9 acceptance).
        .target(
            name: "LoopbackFamily", dependencies: ["PNNCore", "PNNWire", "PNNLink", "PNNCalibration"],
            path: "Tests/LoopbackFamily", swiftSettings: strict),
        .testTarget(
            name: "FamilyRegistryTests",
            dependencies: [
                "LoopbackFamily", "PNNCore", "PNNLink", "PNNWire", "PNNDevices", "PNNRuns", "PNNStore", "PNNTraining",
                "PNNCalibration",
            ],
            swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["PNNStore"], swiftSettings: strict),
        .testTarget(
            name: "PNNRemoteTests",
            dependencies: [
                "PNNRemote", "PNNCore", "PNNDevices", "PNNRuns", "PNNStore", "PNNTraining", "CrossbarDriver", "PNNCalibration",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "OpticsTests",
            dependencies: [
                "PNNSim", "PNNCore", "OpticsDriver", "PNNDevices", "PNNTraining", "PNNRuns", "PNNLink", "PNNTransport",
                "PNNWire", "PNNCalibration",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CameraTests",
            dependencies: [
                "CameraDriver", "OpticsDriver", "PNNSim", "PNNCore", "PNNDevices", "PNNLink", "PNNTransport", "PNNWire",
                "PNNTraining", "PNNRuns", "PNNStore",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CVPhotonicTests",
            dependencies: [
                "CVPhotonicDriver", "SpringDriver", "PNNCore", "PNNSim", "PNNLink", "PNNDevices", "PNNTraining",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CalibrationTests",
            dependencies: [
                "PNNCalibration", "PNNSim", "PNNStore", "PNNCore", "CLLNDriver", "CrossbarDriver", "PNNDevices", "PNNRuns",
                "PNNLink", "PNNTransport",
            ],
            swiftSettings: strict),
    ]
)
