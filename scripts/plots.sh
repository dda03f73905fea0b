#!/usr/bin/env bash
# make plots: one SVG of every `pnnlab plot` kind, from runs trained here on the twins, into
# docs/plots/ (see docs/plots.md). Deterministic: fixed seeds; only wall times differ.
set -euo pipefail
BIN=${BIN:-.build/release/pnnlab}
OUT=${OUT:-docs/plots}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STORE=$WORK/pnnlab.sqlite
mkdir -p "$OUT"

# 1: a Gauss-Newton Iris run on a crossbar twin with 5 % stuck devices, Jacobians recorded.
cat >"$WORK/crossbar.toml" <<'TOML'
[trainer]
epochs = 8
record_jacobians = true
[twin]
stuck_fraction = 0.05
TOML
"$BIN" train sim:crossbar --task iris --method gauss-newton --seed 3 --config "$WORK/crossbar.toml" --store "$STORE" >/dev/null
# 2–4: the 2+1-edge CLLN network alternating the Fig. 2C tasks at three periods τ.
for tau in 0.02 0.05 0.2; do
    "$BIN" train sim:clln --graph two-plus-one --task fig2c --method coupled --tau "$tau" --periods 30 --seed 1 \
        --store "$STORE" >/dev/null
done
# 5: a regression run (the seed-000 analog multiplier); 6: a parallel PIB cascade on digits.
"$BIN" train sim:cv-photonic --task multiply --method gauss-newton --seed 1 --store "$STORE" >/dev/null
"$BIN" train sim:crossbar --task digits --layers 32,10 --method pib --parallel --seed 1 --store "$STORE" >/dev/null
# Calibration 1: the crossbar twin's device windows.
"$BIN" calibrate sim:crossbar --seed 3 --store "$STORE" >/dev/null

for kind in loss loss-measurements accuracy accuracy-measurements conductance jacobian; do
    "$BIN" plot 1 --kind "$kind" -o "$OUT/crossbar-$kind.svg" --store "$STORE"
done
for kind in errors cycle loss; do
    "$BIN" plot 3 --kind "$kind" -o "$OUT/clln-$kind.svg" --store "$STORE"
done
"$BIN" plot 5 --kind regression -o "$OUT/cv-photonic-regression.svg" --store "$STORE"
"$BIN" plot 6 --kind information-plane -o "$OUT/deep-information-plane.svg" --store "$STORE"
"$BIN" plot --calibration 1 -o "$OUT/calibration.svg" --store "$STORE"
# The multi-run CLLN charts of `pnnlab analyze limit-cycle` (D and Ē against τ).
"$BIN" analyze limit-cycle 2 3 4 --out "$WORK/analyze" --store "$STORE" >/dev/null
cp "$WORK/analyze/span-vs-tau.svg" "$OUT/clln-span-vs-tau.svg"
cp "$WORK/analyze/error-vs-tau.svg" "$OUT/clln-error-vs-tau.svg"
ls "$OUT"
