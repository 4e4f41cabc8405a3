#!/usr/bin/env bash
# Creates benchmarks/.ft-venv with freqtrade 2026.9 (the version the parity references come from).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.ft-venv"
if [ ! -x "$venv/bin/freqtrade" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q "freqtrade==2026.9"
fi
"$venv/bin/freqtrade" --version
