#!/usr/bin/env bash
# Create .venv with Python 3.11 and install customer360 with its pinned dependencies.
# Re-installs only when pyproject.toml changed since the last install.
#   --spark  also the Spark extras (dbt-spark, pyspark: `pip install -e '.[dev,spark]'`) and,
#            when `java` is missing, a Java runtime from the system's packages (apt-get,
#            needs root); for `dbt build --target spark` (docs/architecture.md)
set -euo pipefail
cd "$(dirname "$0")/.."

extras="dev"
for arg in "$@"; do
  case "$arg" in
    --spark) extras="dev,spark" ;;
    *) echo "usage: bash scripts/bootstrap.sh [--spark]" >&2; exit 2 ;;
  esac
done

if [[ "$extras" == *spark* ]] && ! command -v java >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1 || [[ "$(id -u)" != 0 ]]; then
    echo "Spark needs a Java runtime (17 or newer) on PATH: install one (e.g. apt-get install openjdk-17-jre-headless) and re-run" >&2
    exit 1
  fi
  echo "installing a Java runtime for Spark (apt-get, ~1 min)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  jre="$(apt-cache show openjdk-17-jre-headless >/dev/null 2>&1 && echo openjdk-17-jre-headless || echo default-jre-headless)"
  apt-get install -y -qq --no-install-recommends "$jre" >/dev/null
fi

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
hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
want="$hash $extras"
have="$(cat "$stamp" 2>/dev/null || true)"
# an install with the Spark extras also serves a plain bootstrap
if [[ "$have" != "$want" && "$have" != "$hash dev,spark" ]]; then
  echo "installing customer360 and its pinned dependencies into .venv (first time: ~2 min)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # (this machine's pip config lists local indexes that may not exist: drop that noise)
  .venv/bin/python -m pip install --quiet -e ".[$extras]" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
fi
