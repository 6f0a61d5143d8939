"""`customer360 report`: the static HTML report of the published demo warehouse, rendered in
headless Chromium (every plot image decodes, no JavaScript error, a non-blank screenshot);
sections whose marts are missing say "not built" instead of failing.

Chromium is not a Python dependency: scripts/test.sh installs the Debian package in CI
(as root, when missing). Without it these browser tests fail in CI (``CI`` set) and are
skipped elsewhere.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pytest
from conftest import BuiltWarehouse
from matplotlib.image import imread
from typer.testing import CliRunner

from customer360.report import REPORT_FILE, ReportResult, build_report, write_report
from customer360.settings import Settings

EXPECTED_PLOTS = {
    # prediction section (customer360.report.prediction, issue 17)
    "churn-gains",
    "churn-calibration",
    "clv-holdout-by-frequency",
    "clv-intervals",
    "identity-cluster-sizes",
    "identity-links-per-type",
    "identity-excluded",
    "identity-merges-splits",
    "clv-distribution",
    "clv-deciles",
    "churn-segments",
    "journey-funnel",
    "journey-lifecycle",
    "attribution-by-channel",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def published(published_demo: Settings) -> Settings:
    """The demo build published to a private path, reports going to a private folder
    (conftest's session fixture, shared with test_privacy)."""
    return published_demo


@pytest.fixture(scope="module")
def report(published: Settings) -> ReportResult:
    return write_report(published)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "chromium is not installed (scripts/test.sh installs it in CI)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_chromium(page: Path, tmp_path: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,4000",
        *mode,
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


def body_data(dom: str) -> dict[str, str]:
    """data-* attributes of <body> from Chromium's --dump-dom output."""
    match = re.search(r"<body([^>]*)>", dom)
    assert match, "no <body> in the dumped DOM"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(1)))
    return {k: v.replace("&quot;", '"') for k, v in attrs.items()}


def test_report_reads_the_published_analyst_layer(report: ReportResult, published: Settings):
    assert report.path == published.reports_dir / REPORT_FILE
    assert report.source_db == published.published_db  # the published file, not the build DB
    assert report.schema == "analyst"
    assert {p.key for p in report.plots} == EXPECTED_PLOTS
    assert report.missing == []
    page = report.path.read_text()
    assert "not built" not in page
    # the overview names the build that was published
    con = duckdb.connect(str(published.published_db), read_only=True)
    try:
        build_id, customers = con.execute(
            "select build_id, (select count(*) from analyst.dim_customer) from _publish"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert build_id in page
    assert f"{customers:,}" in page


def test_report_is_one_self_contained_file(report: ReportResult) -> None:
    page = report.path.read_text()
    # no external resource: no stylesheet links, no remote or file URLs in src/href
    assert "<link" not in page
    assert not re.search(r"""(src|href)=["'](https?:|file:|//)""", page)
    sources = re.findall(r'<img class="plot" data-plot="([^"]+)"[^>]*src="([^"]+)"', page)
    assert {key for key, _ in sources} == EXPECTED_PLOTS
    for key, src in sources:
        assert src.startswith("data:image/png;base64,"), key
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png.startswith(PNG_MAGIC), key


def test_report_renders_in_headless_chromium(report: ReportResult, tmp_path: Path) -> None:
    dom = run_chromium(report.path, tmp_path, "--dump-dom").stdout
    data = body_data(dom)
    assert "plots-loaded" in data, "the page's load handler did not run"
    assert json.loads(data["js-errors"]) == []
    assert json.loads(data["plots-broken"]) == []
    assert int(data["plots-expected"]) == len(EXPECTED_PLOTS)
    assert int(data["plots-loaded"]) == len(EXPECTED_PLOTS)

    shot = tmp_path / "report.png"
    run_chromium(report.path, tmp_path, f"--screenshot={shot}")
    assert shot.read_bytes().startswith(PNG_MAGIC)
    pixels = imread(shot)
    assert pixels.shape[:2] == (4000, 1280)
    rgb = pixels[..., :3].reshape(-1, 3)
    assert rgb.std() > 0.05, "the screenshot is blank"
    colours = np.unique((rgb[::7] * 255).astype(np.uint8), axis=0)
    assert len(colours) > 50, "the screenshot shows no plots (too few colours)"


def test_a_broken_plot_is_caught_by_the_page_check(report: ReportResult, tmp_path: Path) -> None:
    """Negative control for the browser check: corrupt one image and the marker says so."""
    page = report.path.read_text()
    broken = re.sub(
        r'(data-plot="clv-deciles"[^>]*src="data:image/png;base64,)[^"]{64}',
        r"\1" + "A" * 64,
        page,
        count=1,
    )
    assert broken != page
    target = tmp_path / "broken.html"
    target.write_text(broken)
    data = body_data(run_chromium(target, tmp_path, "--dump-dom").stdout)
    assert int(data["plots-loaded"]) == len(EXPECTED_PLOTS) - 1
    assert json.loads(data["plots-broken"]) == ["clv-deciles"]
    assert any("clv-deciles" in e for e in json.loads(data["js-errors"]))


def test_sections_of_missing_marts_say_not_built(published: Settings, tmp_path: Path) -> None:
    """A warehouse with only dim_customer: the identity cluster plot is drawn, every other
    plot says which table is not built; an empty file gives a report without plots."""
    partial = tmp_path / "partial.duckdb"
    con = duckdb.connect(str(partial))
    try:
        con.execute(f"attach '{published.published_db}' as pub (read_only)")
        con.execute("create schema analyst")
        con.execute("create table analyst.dim_customer as select * from pub.analyst.dim_customer")
    finally:
        con.close()
    result = build_report(partial, tmp_path / "partial.html")
    assert [p.key for p in result.plots] == ["identity-cluster-sizes"]
    reasons = {m.key: m.reason for m in result.missing}
    assert set(reasons) == EXPECTED_PLOTS - {"identity-cluster-sizes"}
    assert reasons["clv-distribution"] == "not built: analyst.customer_clv"
    assert reasons["identity-merges-splits"] == "not built: analyst.customer_id_history"
    page = result.path.read_text()
    assert page.count('class="missing"') == len(reasons)

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    nothing = build_report(empty, tmp_path / "empty.html")
    assert nothing.plots == [] and nothing.schema is None
    assert len(nothing.missing) == len(EXPECTED_PLOTS)
    assert all(m.reason.startswith("not built") for m in nothing.missing)


def test_cli_report_command(published: Settings, tmp_path: Path) -> None:
    from customer360.cli import app

    out = tmp_path / "cli.html"
    result = CliRunner().invoke(
        app, ["report", "--db", str(published.published_db), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and out.read_text().count('<img class="plot"') == len(EXPECTED_PLOTS)

    missing = CliRunner().invoke(app, ["report", "--db", str(tmp_path / "nope.duckdb")])
    assert missing.exit_code == 2
    assert "nope.duckdb" in missing.output


def test_demo_ends_with_dbt_docs_and_the_report(
    demo_warehouse: BuiltWarehouse, published: Settings, tmp_path: Path
) -> None:
    """The demo's last steps (pipeline.write_docs_and_report) on a copy of the demo build:
    `dbt docs generate` writes the docs site with the catalog of the built models and the
    exposures, then the report of the published file is written."""
    from rich.console import Console

    from customer360.pipeline import RunReport, write_docs_and_report

    copy = tmp_path / demo_warehouse.db.name
    shutil.copyfile(demo_warehouse.db, copy)
    settings = dataclasses.replace(
        published,
        build_db=copy,
        dbt_target_path=tmp_path / "target",
        dbt_log_path=tmp_path / "logs",
        reports_dir=tmp_path / "reports",
    )
    run = RunReport()
    assert write_docs_and_report(settings, Console(quiet=True), run)
    assert {"dbt docs generate", "report"} <= set(run.timings)
    assert (settings.dbt_target_path / "index.html").stat().st_size > 0
    catalog = json.loads((settings.dbt_target_path / "catalog.json").read_text())
    assert "model.customer360.dim_customer" in catalog["nodes"]
    manifest = json.loads((settings.dbt_target_path / "manifest.json").read_text())
    exposures = manifest["exposures"]
    assert "exposure.customer360.customer360_report" in exposures
    report_deps = exposures["exposure.customer360.customer360_report"]["depends_on"]["nodes"]
    assert "model.customer360.analyst__customer_clv" in report_deps
    assert "analysis.customer360.cohort_retention" in manifest["nodes"]
    page = (settings.reports_dir / REPORT_FILE).read_text()
    assert page.count('<img class="plot"') == len(EXPECTED_PLOTS)
