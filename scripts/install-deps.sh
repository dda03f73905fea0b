#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages pnnlab builds and tests against, if missing.
# Usage: scripts/install-deps.sh [--with-test-beds | --with-python | --with-bench]
# --with-python: python3 and python3-venv (make python creates .venv; make test runs pytest in it).
# --with-bench also installs the Python modules of the bench baselines (numpy, pyserial:
# scripts/pyhost.py and scripts/numpy_newton.py) with pip.
set -euo pipefail

if [ "${1:-}" = "--with-bench" ]; then
  "$0"
  python=${PYTHON:-python3}
  command -v "$python" >/dev/null 2>&1 || { echo "pnnlab: make bench needs $python (the Python baselines)" >&2; exit 1; }
  "$python" -c 'import numpy, serial' 2>/dev/null && exit 0
  echo "installing Python modules for the bench baselines: numpy pyserial" >&2
  "$python" -m pip install --quiet numpy pyserial || {
    echo "pnnlab: pip could not install numpy and pyserial for $python; install them (e.g. apt-get install python3-numpy python3-serial) and run make bench again" >&2
    exit 1
  }
  exit 0
fi

packages=(pkg-config libserialport-dev libusb-1.0-0-dev libopenblas-dev liblapacke-dev libsqlite3-dev zlib1g-dev
  dataset-fashion-mnist)  # dataset-fashion-mnist: IDX files under /usr/share/datasets/fashion-mnist
if [ "${1:-}" = "--with-python" ]; then
  packages=(python3 python3-venv)
fi
if [ "${1:-}" = "--with-test-beds" ]; then
  packages+=(umockdev libumockdev-dev gcc)  # gcc: cc builds Tests/TestBeds/serial-bed.c
  packages+=(python3 python3-venv)          # make test's pytest suite runs in a venv
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "pnnlab: missing system packages (${missing[*]}) and no apt-get to install them; install the equivalents by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "pnnlab: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
