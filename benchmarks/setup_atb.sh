#!/usr/bin/env bash
# Creates benchmarks/.atb-venv with atb as a user installs it (no test extras).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.atb-venv"
if [ ! -x "$venv/bin/atb" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -e "$here/.."
fi
"$venv/bin/python" -c "import atb; print('atb', atb.__version__)"
