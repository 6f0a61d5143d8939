#!/usr/bin/env bash
# The test suite, in two lanes (README, "Tests"):
#   bash scripts/test.sh          the whole suite (CI): ruff, dbt parse, sqlfluff on every model
#                                 and test, then pytest on real dbt builds (the dbt unit tests run
#                                 inside those builds); prints the 25 slowest tests
#   bash scripts/test.sh --fast   no warehouse build: ruff, dbt parse, sqlfluff on the SQL files
#                                 changed since main, the dbt unit tests (their parent models built
#                                 --empty into a scratch DuckDB), and the tests not marked
#                                 `warehouse` (pytest -m "not warehouse")
# Further arguments go to pytest; C360_TEST_WORKERS=1 runs the whole suite in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=false
if [[ "${1:-}" == "--fast" ]]; then
  fast=true
  shift
fi
bash scripts/bootstrap.sh
export GX_ANALYTICS_ENABLED=false
source .venv/bin/activate
started=$SECONDS
step() { echo "== $1 (at $((SECONDS - started)) s)"; }

step "ruff"
ruff check python benchmarks models
ruff format --check python benchmarks models

if $fast; then
  # one scratch project state for parse and the unit tests, so that the build reuses the
  # parse (dbt's partial parsing); never the warehouse files under warehouse/
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  in_scratch() {
    env C360_DATA_DIR="$scratch/data" C360_RAW_PATH="$scratch/data/raw" \
      C360_BUILD_DB="$scratch/unit.duckdb" DBT_TARGET_PATH="$scratch/target" \
      DBT_LOG_PATH="$scratch/logs" \
      C360_HMAC_KEY="${C360_HMAC_KEY:-customer360-fast-lane-test-key-not-a-secret}" \
      C360_DB_ENCRYPTION=off "$@"  # a throwaway scratch DB (docs/privacy.md)
  }
  step "dbt parse (deprecations are errors)"
  in_scratch dbt parse --quiet --warn-error-options '{"error": ["Deprecations"]}'
else
  step "dbt parse (deprecations are errors)"
  C360_BUILD_DB=":memory:" dbt parse --quiet --warn-error-options '{"error": ["Deprecations"]}'
fi

lint=(models tests)
if $fast; then
  # the SQL changed since the branch left main (committed or not); everything when there
  # is no main to compare with. The whole suite always lints every file.
  if base="$(git merge-base HEAD main 2>/dev/null)"; then
    mapfile -t lint < <(
      { git diff --name-only "$base" -- models tests; git ls-files --others --exclude-standard -- models tests; } \
        | grep '\.sql$' | sort -u | while read -r f; do [[ -f "$f" ]] && echo "$f"; done || true
    )
  fi
fi
if ((${#lint[@]})); then
  step "sqlfluff on ${#lint[@]} path(s) (dbt templater, offline: target lint is an in-memory DuckDB)"
  sqlfluff lint "${lint[@]}" --processes 2 2>&1 | { grep -v "resource_tracker\|warnings.warn" || true; }
else
  step "sqlfluff: no SQL file changed since main"
fi

if $fast; then
  step "dbt unit tests (parents built --empty from a 50-person export into a scratch DuckDB)"
  in_scratch customer360 generate --people 50 --seed 1 --out "$scratch/data" >/dev/null
  in_scratch dbt build --quiet --empty --select "+test_type:unit" --exclude "test_type:data"
  step "pytest: tests not marked warehouse"
  python -m pytest -m "not warehouse" --durations=10 "$@"
  step "fast lane passed"
  exit 0
fi

if ! command -v chromium >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  step "installing chromium (test_report.py renders the HTML report headless)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
fi
# two workers (pytest-xdist), each taking whole test modules (--dist loadfile: a module's
# fixtures are built once, on one worker): most of a test's time is one dbt build, which
# keeps about 1.2 of the 2 cores busy, so two at a time take 0.64x the wall time (README)
workers="${C360_TEST_WORKERS:-2}"
step "pytest on $workers workers (real dbt builds; the 25 slowest tests listed at the end)"
if [[ "$workers" == "1" ]]; then
  exec python -m pytest --durations=25 "$@"
fi
exec python -m pytest -n "$workers" --dist loadfile --durations=25 "$@"
