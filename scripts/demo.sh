#!/usr/bin/env bash
# make demo: an emulated crossbar board on a pseudo-terminal, attached and trained on Iris
# over the serial link exactly as a USB board would be.
set -euo pipefail
BIN=${BIN:-.build/release/pnnlab}
OUT=${OUT:-out}
STORE=$OUT/demo.sqlite
PORT=$OUT/crossbar.port
mkdir -p "$OUT"
rm -f "$STORE" "$STORE-wal" "$STORE-shm" "$PORT"

"$BIN" emulate crossbar --seed 1 --link "$PORT" >"$OUT/emulator.out" 2>"$OUT/emulator.log" &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -e "$PORT" ] && break; sleep 0.05; done
[ -e "$PORT" ] || { echo "demo: the emulator did not start (see $OUT/emulator.log)" >&2; exit 1; }
echo "== emulated crossbar board on $(head -1 "$OUT/emulator.out") (link $PORT)"

echo "== pnnlab attach $PORT"
"$BIN" attach "$PORT" --store "$STORE"
echo
echo "== pnnlab train crossbar-1 --task iris --method gauss-newton (over the serial link)"
"$BIN" train crossbar-1 --task iris --method gauss-newton --seed 1 --store "$STORE"
echo
"$BIN" runs --store "$STORE"
