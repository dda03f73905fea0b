#!/usr/bin/env bash
# Unplug soak (part of `make bench`): train Iris on an emulated board over a pty, kill the
# emulator mid-training N times (default 20), restart it on the same --link path, and
# continue with --resume each time. Checks that every committed step survives unchanged.
# Prints a markdown section on stdout.
set -euo pipefail
BIN=${BIN:-.build/release/pnnlab}
N=${UNPLUGS:-20}
DIR=$(mktemp -d)
STORE=$DIR/runs.sqlite
LINK=$DIR/board
EMU=
trap '{ [ -n "$EMU" ] && kill -9 $EMU && wait $EMU; } 2>/dev/null; rm -rf "$DIR"' EXIT

start_emulator() {
  rm -f "$LINK"
  "$BIN" emulate crossbar --seed 1 --link "$LINK" >/dev/null 2>&1 &
  EMU=$!
  for _ in $(seq 200); do [ -e "$LINK" ] && return 0; sleep 0.02; done
  echo "emulator did not start" >&2; exit 1
}
steps_digest() {  # digest of the first $1 committed steps
  "$BIN" export 1 --format json --store "$STORE" | python3 -c 'import json,sys,hashlib; s=json.load(sys.stdin)["steps"][:int(sys.argv[1])]; print(hashlib.md5(json.dumps(s,sort_keys=True).encode()).hexdigest())' "$1"
}
steps_count() { "$BIN" show 1 --json --store "$STORE" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("steps",0))' 2>/dev/null || echo 0; }

resumed=0; lost=0; changed=0; start=$(date +%s.%N)
before=0; digest=none
check_kept() {  # the steps committed before the last unplug are still there, unchanged
  local now; now=$(steps_count)
  [ "$now" -ge "$before" ] || lost=$((lost + before - now))
  [ "$before" -eq 0 ] || [ "$(steps_digest "$before")" = "$digest" ] || changed=$((changed + 1))
}
start_emulator
args=(train "$LINK" --task iris --method gauss-newton --epochs 150 --seed 1 --reconnect-grace 0.2 --store "$STORE")
for i in $(seq "$N"); do
  "$BIN" "${args[@]}" >/dev/null 2>"$DIR/train.err" &
  TRAIN=$!
  sleep 0.$((4 + RANDOM % 5))
  { kill -9 "$EMU"; wait "$EMU"; } 2>/dev/null || true
  status=0; wait "$TRAIN" || status=$?
  check_kept
  if [ "$status" -eq 0 ]; then break; fi   # finished before the unplug
  grep -q -- "--resume 1" "$DIR/train.err" || { echo "unplug $i: no resume hint: $(cat "$DIR/train.err")" >&2; exit 1; }
  before=$(steps_count); digest=$(steps_digest "$before")
  start_emulator
  args=(train "$LINK" --resume 1 --reconnect-grace 0.2 --store "$STORE")
  resumed=$((resumed + 1))
done
"$BIN" "${args[@]}" >/dev/null 2>"$DIR/train.err" || { echo "final resume failed: $(cat "$DIR/train.err")" >&2; exit 1; }
check_kept
final=$("$BIN" show 1 --json --store "$STORE" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("status"), d.get("steps",0), "steps")')
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
verdict=PASS; { [ "$lost" -eq 0 ] && [ "$changed" -eq 0 ] && [ "$resumed" -eq "$N" ]; } || verdict=FAIL
cat <<MD

## Unplug soak (scripts/unplug-soak.sh, run by \`make bench\`)

Emulator killed with SIGKILL mid-training $N times and restarted on the same \`--link\`
path; each time the run stopped with its committed steps and a \`--resume\` hint, and
\`pnnlab train --resume 1\` continued it.

| figure | value |
|---|---|
| unplugs, each followed by --resume | $resumed of $N |
| committed steps lost | $lost |
| committed steps changed by a later resume | $changed |
| final run status, steps | $final |
| wall time | $elapsed s |
| verdict (target: $N resumes, 0 lost) | **$verdict** |
MD
