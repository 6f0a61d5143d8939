#!/usr/bin/env bash
# The whole test suite: lint, then pytest (which builds real DuckDB files with real dbt).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export GX_ANALYTICS_ENABLED=false
source .venv/bin/activate
echo "== ruff"
ruff check python benchmarks models
ruff format --check python benchmarks models
echo "== dbt parse (deprecations are errors)"
C360_BUILD_DB=":memory:" dbt parse --quiet --warn-error-options '{"error": ["Deprecations"]}'
echo "== sqlfluff (dbt templater, offline: target lint is an in-memory DuckDB)"
sqlfluff lint models tests --processes 2 2>&1 | { grep -v "resource_tracker\|warnings.warn" || true; }
if ! command -v chromium >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing chromium (test_report.py renders the HTML report headless)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
fi
echo "== pytest"
exec python -m pytest "$@"
