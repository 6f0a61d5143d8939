#!/usr/bin/env bash
# Fresh machine -> installed .venv -> demo sources -> dbt build -> validation -> summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export GX_ANALYTICS_ENABLED=false
exec .venv/bin/customer360 demo "$@"
