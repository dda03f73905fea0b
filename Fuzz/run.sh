#!/usr/bin/env bash
# make fuzz: build the PNNWire libFuzzer target and run it for FUZZ_SECONDS (default 60).
set -euo pipefail
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
OUT=.build/fuzz
mkdir -p "$OUT/corpus"
cp -n Fuzz/corpus/* "$OUT/corpus/" 2>/dev/null || true
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name PNNWireFuzz \
  Sources/PNNWire/*.swift Fuzz/PNNWireFuzz.swift -o "$OUT/pnnwire-fuzz"
"$OUT/pnnwire-fuzz" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -artifact_prefix="$OUT/" "$OUT/corpus"
