"""Run dbt as a subprocess (never in-process: an in-process dbtRunner keeps the DuckDB
file open, see stack notes) with the project's paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from customer360.settings import Settings


class DbtError(RuntimeError):
    """A dbt command failed; ``output`` holds what it printed."""

    def __init__(self, args: list[str], returncode: int, output: str) -> None:
        super().__init__(f"dbt {' '.join(args)} failed with exit code {returncode}")
        self.args_ = args
        self.returncode = returncode
        self.output = output


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise RuntimeError("dbt is not installed in this environment (pip install -e .)")
    return found


# dbt commands that take no --vars
_NO_VARS = frozenset({"clean", "deps", "init", "debug", "--version", "--help"})


def with_project_vars(args: list[str], settings: Settings) -> list[str]:
    """``args`` with ``--vars``: the project config's vars and the command line's
    (``settings.dbt_vars()``), under any ``--vars`` already in ``args`` (those win)."""
    from customer360.config import parse_vars, vars_json

    if not args or args[0] in _NO_VARS:
        return list(args)
    merged = settings.dbt_vars()
    out: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "--vars":
            merged.update(parse_vars(next(it, "")))
        elif arg.startswith("--vars="):
            merged.update(parse_vars(arg.split("=", 1)[1]))
        else:
            out.append(arg)
    return [*out, "--vars", vars_json(merged)] if merged else out


def run_dbt(
    args: list[str],
    settings: Settings | None = None,
    *,
    extra_env: dict[str, str] | None = None,
    echo: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args>`` in the project directory; raise DbtError on failure if ``check``."""
    settings = settings or Settings.from_env()
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    env = settings.dbt_env()
    if extra_env:
        env.update(extra_env)
    cmd = [dbt_executable(), *with_project_vars(args, settings)]
    from customer360.permissions import restrict_umask

    old_umask = restrict_umask()  # dbt's files (build DB, target/, logs/) are closed
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=settings.project_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finally:
        os.umask(old_umask)
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            sys.stdout.write(line)
            sys.stdout.flush()
    returncode = proc.wait()
    result = subprocess.CompletedProcess(cmd, returncode, "".join(lines), "")
    if check and returncode != 0:
        raise DbtError(args, returncode, result.stdout)
    return result
