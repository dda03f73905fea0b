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
# ROWS=header,default,100,10,ideal (default: all) picks rows, e.g. to run them in parallel.
rows=${ROWS:-header,default,100,10,ideal}
if [[ ,$rows, == *,header,* ]]; then
    echo "| twin | seeds | test accuracy | digital ceiling | per seed (%) |"
    echo "|---|---|---|---|---|"
fi
if [[ ,$rows, == *,default,* ]]; then row "1000 shots/read (default), T = 0.9"; fi
if [[ ,$rows, == *,100,* ]]; then row "100 shots/read, T = 0.9" --shots 100; fi
if [[ ,$rows, == *,10,* ]]; then row "10 shots/read, T = 0.9" --shots 10; fi
if [[ ,$rows, == *,ideal,* ]]; then row "exact means (--ideal: no shot noise, no loss)" --ideal; fi
