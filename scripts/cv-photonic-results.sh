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
            python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["test_accuracy"])')
        accs+=("$acc")
    done
    python3 - "$label" "${accs[@]}" <<'PY'
import statistics, sys
label, accs = sys.argv[1], [float(a) for a in sys.argv[2:]]
sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
cells = " ".join(f"{100 * a:.1f}" for a in accs)
print(f"| {label} | {len(accs)} | {100 * statistics.mean(accs):.1f}% ± {100 * sd:.1f}% | {cells} |")
PY
}
echo "| twin | seeds | test accuracy | per seed (%) |"
echo "|---|---|---|---|"
row "1000 shots/read (default), T = 0.9"
row "100 shots/read, T = 0.9" --shots 100
row "10 shots/read, T = 0.9" --shots 10
row "exact means (--ideal: no shot noise, no loss)" --ideal
