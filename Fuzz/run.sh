#!/usr/bin/env bash
# make fuzz: build the PNNWire libFuzzer target into .build/fuzz and run it for
# FUZZ_SECONDS (default 60). Exits non-zero on a crash, sanitizer report or broken invariant.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-swiftc}
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
OUT=.build/fuzz
BIN=$OUT/pnnwire-fuzz
mkdir -p "$OUT/corpus"
SANITIZE=fuzzer,address
# Address sanitizer if this toolchain links it, else the fuzzer alone.
if ! echo 'print(0)' >"$OUT/probe.swift" ||
  ! "$SWIFTC" -sanitize=fuzzer,address -parse-as-library "$OUT/probe.swift" -o "$OUT/probe" >/dev/null 2>&1; then
  SANITIZE=fuzzer
fi
"$SWIFTC" -sanitize="$SANITIZE" -parse-as-library -O -g -module-name PNNWireFuzz \
  -swift-version 6 -enable-upcoming-feature ExistentialAny \
  Sources/PNNWire/*.swift Fuzz/PNNWireFuzz/main.swift -o "$BIN" 2>&1 |
  grep -v "ld.gold: warning: Cannot export local symbol" || true
[ -x "$BIN" ] || { echo "fuzz: build failed" >&2; exit 1; }
echo "fuzz: $BIN (-sanitize=$SANITIZE), ${SECONDS_TO_RUN}s, seeds Fuzz/corpus"
# The Swift runtime's backtracer would catch the trap before libFuzzer and hang; let
# libFuzzer report it and write the crash input.
export SWIFT_BACKTRACE=enable=no
"$BIN" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$OUT/" "$OUT/corpus" Fuzz/corpus
