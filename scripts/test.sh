#!/usr/bin/env bash
# The whole test suite: lint, then pytest (which builds real DuckDB files with real dbt).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export GX_ANALYTICS_ENABLED=false
source .venv/bin/activate
echo "== ruff"
ruff check python benchmarks
ruff format --check python benchmarks
echo "== dbt parse (deprecations are errors)"
C360_BUILD_DB=":memory:" dbt parse --quiet --warn-error-options '{"error": ["Deprecations"]}'
echo "== pytest"
exec python -m pytest "$@"
