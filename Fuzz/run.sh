#!/usr/bin/env bash
# make fuzz: build the libFuzzer targets (PNNWire: the wire codec; PNNTOML: the config
# reader; PNNSim: the twin-state importers) into .build/fuzz and run each for FUZZ_SECONDS
# (default 60). FUZZ_TARGETS picks them (default "wire toml twin-state"). Exits non-zero on
# a crash, sanitizer report or broken invariant.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-swiftc}
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-wire toml twin-state}
OUT=.build/fuzz
mkdir -p "$OUT"
SANITIZE=fuzzer,address
# Address sanitizer if this toolchain links it, else the fuzzer alone.
# (The probe is a fuzz target itself: -parse-as-library allows no top-level code.)
if ! echo '@_cdecl("LLVMFuzzerTestOneInput") public func probe(_ d: UnsafePointer<UInt8>?, _ n: Int) -> CInt { 0 }' \
  >"$OUT/probe.swift" ||
  ! "$SWIFTC" -sanitize=fuzzer,address -parse-as-library "$OUT/probe.swift" -o "$OUT/probe" >/dev/null 2>&1; then
  SANITIZE=fuzzer
fi
# The Swift runtime's backtracer would catch the trap before libFuzzer and hang; let
# libFuzzer report it and write the crash input.
export SWIFT_BACKTRACE=enable=no
SWIFTFLAGS=(-sanitize="$SANITIZE" -parse-as-library -O -g -swift-version 6 -enable-upcoming-feature ExistentialAny)
quiet() { grep -v "ld.gold: warning: Cannot export local symbol" || true; }
for target in $TARGETS; do
  # deps: modules the target's sources import, built first (instrumented) as static
  # libraries and linked after the target's objects (links).
  deps="" links=""
  case "$target" in
  wire) module=PNNWire seeds=Fuzz/corpus ;;
  toml) module=PNNTOML seeds=Fuzz/corpus-toml ;;
  twin-state) module=PNNSim seeds=Fuzz/corpus-twin-state deps="PNNCore" links="-lopenblas -llapacke" ;;
  *) echo "fuzz: unknown target '$target' (wire, toml, twin-state)" >&2; exit 2 ;;
  esac
  BIN=$OUT/$(echo "$module" | tr '[:upper:]' '[:lower:]')-fuzz
  mkdir -p "$OUT/corpus-$target" "$OUT/modules"
  rm -f "$BIN"
  for dep in $deps; do
    rm -f "$OUT/lib$dep.a"
    find "Sources/$dep" -name '*.swift' -print0 | xargs -0 "$SWIFTC" "${SWIFTFLAGS[@]}" -module-name "$dep" \
      -I Sources/CBLAS -emit-module -emit-module-path "$OUT/modules/$dep.swiftmodule" \
      -emit-library -static -o "$OUT/lib$dep.a" 2>&1 | quiet
    [ -f "$OUT/lib$dep.a" ] || { echo "fuzz: building $dep for $target failed" >&2; exit 1; }
    links="-l$dep $links"
  done
  # shellcheck disable=SC2086 # $links is a list of linker flags
  find "Sources/$module" -name '*.swift' -print0 | xargs -0 "$SWIFTC" "${SWIFTFLAGS[@]}" -module-name "${module}Fuzz" \
    -I Sources/CBLAS -I "$OUT/modules" Fuzz/${module}Fuzz/main.swift -L "$OUT" $links -o "$BIN" 2>&1 | quiet
  [ -x "$BIN" ] || { echo "fuzz: building $target failed" >&2; exit 1; }
  echo "fuzz: $BIN (-sanitize=$SANITIZE), ${SECONDS_TO_RUN}s, seeds $seeds"
  "$BIN" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/$target-" "$OUT/corpus-$target" "$seeds"
done
