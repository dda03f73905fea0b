#!/usr/bin/env bash
# Iris on sim:cv-photonic with Gauss-Newton over seeds and shot counts, through `pnnlab train`;
# prints the Markdown rows of the "CV photonic twin" section of docs/results.md.
# Usage: scripts/cv-photonic-results.sh [PNNLAB_BINARY] [SEEDS...]
set -euo pipefail
bin=${1:-.build/release/pnnlab}
shift || true
seeds=${*:-1 2 3 4 5}
store=$(mktemp -d)/cv.sqlite
row() { # label, twin options...
    local label=$1
    shift
    local accs=()
    for s in $seeds; do
        local acc
        acc=$(PNNLAB_STORE=$store "$bin" train sim:cv-photonic --task iris --method gauss-newton --json --seed "$s" "$@" 2>/dev/null |
            python3 -c 'import json,sys; r = json.loads(sys.stdin.read().strip().splitlines()[-1]); print(str(r["test_accuracy"]) + ":" + str(r.get("digital_ceiling") or 0))')
        accs+=("$acc")
    done
    python3 - "$label" "${accs[@]}" <<'PY'
import statistics, sys
label = sys.argv[1]
pairs = [tuple(float(v) for v in a.split(":")) for a in sys.argv[2:]]
accs, ceilings = [p[0] for p in pairs], [p[1] for p in pairs]
sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
cells = " ".join(f"{100 * a:.1f}" for a in accs)
print(f"| {label} | {len(accs)} | {100 * statistics.mean(accs):.1f}% ± {100 * sd:.1f}% | "
      f"{100 * statistics.mean(ceilings):.1f}% | {cells} |")
PY
}
# ROWS=header,default,100,10,ideal (default: these; add multiply for the multiplier table) picks rows.
rows=${ROWS:-header,default,100,10,ideal}
if [[ ,$rows, == *,header,* ]]; then
    echo "| twin | seeds | test accuracy | digital ceiling | per seed (%) |"
    echo "|---|---|---|---|---|"
fi
if [[ ,$rows, == *,default,* ]]; then row "1000 shots/read (default), T = 0.9"; fi
if [[ ,$rows, == *,100,* ]]; then row "100 shots/read, T = 0.9" --shots 100; fi
if [[ ,$rows, == *,10,* ]]; then row "10 shots/read, T = 0.9" --shots 10; fi
if [[ ,$rows, == *,ideal,* ]]; then row "exact means (--ideal: no shot noise, no loss)" --ideal; fi
# ROWS=multiply: seed 000's analog multiplier (--task multiply, Gauss-Newton), RMS error of
# output 0 against x1*x2 on the 11 x 11 test grid over [-1, 1]^2, per shot count.
mrow() { # label, twin options...
    local label=$1
    shift
    local vals=()
    for s in $seeds; do
        vals+=("$(PNNLAB_STORE=$store "$bin" train sim:cv-photonic --task multiply --method gauss-newton --json --seed "$s" "$@" 2>/dev/null |
            python3 -c 'import json,sys; r = json.loads(sys.stdin.read().strip().splitlines()[-1]); print(r["rms_error"])')")
    done
    python3 - "$label" "${vals[@]}" <<'PY'
import statistics, sys
label, v = sys.argv[1], [float(x) for x in sys.argv[2:]]
sd = statistics.stdev(v) if len(v) > 1 else 0.0
print(f"| {label} | {len(v)} | {statistics.mean(v):.4f} ± {sd:.4f} | " + " ".join(f"{x:.4f}" for x in v) + " |")
PY
}
if [[ ,$rows, == *,multiply,* ]]; then
    echo "| multiplier twin | seeds | RMS error on the grid | per seed |"
    echo "|---|---|---|---|"
    mrow "1000 shots/read (default), T = 0.9"
    mrow "100 shots/read, T = 0.9" --shots 100
    mrow "10 shots/read, T = 0.9" --shots 10
    mrow "exact means (--ideal: no shot noise, no loss)" --ideal
fi
