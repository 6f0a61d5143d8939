"""Closed by default: what the pipeline writes is readable by its own user only.

Everything that can hold personal data — the build DB, its WAL and spill folder, the
raw-count state, dbt's ``target/`` and ``logs/``, ``reports/`` (GX data docs show sample
failing values), subject-access exports, the audit log, the key files — is created with
mode 0600 (folders 0700), whatever the caller's umask: :func:`restrict_umask` sets the
process umask (inherited by dbt) before anything is written, and :func:`secure_outputs`
fixes the modes of files an older run (or another tool) left open. With ``C360_GROUP``
set, the group gets read access (0640 / 0750) and files are given that group.

The published analyst file is the exception: 0444, in a folder others may traverse.
"""

from __future__ import annotations

import contextlib
import grp
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from customer360.settings import Settings

GROUP_ENV = "C360_GROUP"


def group_id() -> int | None:
    name = os.environ.get(GROUP_ENV, "").strip()
    if not name:
        return None
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError as exc:
        raise RuntimeError(f"{GROUP_ENV}={name!r} is not a group on this machine") from exc


def file_mode() -> int:
    return 0o640 if group_id() is not None else 0o600


def dir_mode() -> int:
    return 0o750 if group_id() is not None else 0o700


def restrict_umask() -> int:
    """Set the process umask to 077 (027 with ``C360_GROUP``); return the old one."""
    return os.umask(0o027 if group_id() is not None else 0o077)


def _secure(path: Path, gid: int | None) -> None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        return
    mode = dir_mode() if stat.S_ISDIR(st.st_mode) else file_mode()
    with contextlib.suppress(PermissionError):
        if gid is not None and st.st_gid != gid:
            os.chown(path, -1, gid)
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)


def secure_tree(root: Path) -> None:
    """Restrict ``root`` and everything below it."""
    gid = group_id()
    if not root.exists():
        return
    _secure(root, gid)
    if root.is_dir():
        for dirpath, dirnames, filenames in os.walk(root):
            for name in (*dirnames, *filenames):
                _secure(Path(dirpath) / name, gid)


def restricted_paths(settings: Settings) -> list[Path]:
    """Every place the pipeline writes that can hold personal data (for the settings)."""
    from customer360.audit_log import head_path
    from customer360.privacy import audit_log_path
    from customer360.raw_contract_check import raw_counts_path

    build = settings.build_db
    audit = audit_log_path(settings)
    return [
        build,
        build.with_name(build.name + ".wal"),
        build.with_name(build.name + ".tmp"),
        build.with_name(build.name + ".lock"),
        raw_counts_path(settings),
        settings.dbt_target_path,
        settings.dbt_log_path,
        settings.reports_dir,
        audit,
        head_path(audit),
    ]


def secure_outputs(settings: Settings, extra: Iterable[Path] = ()) -> None:
    """Restrict every output that can hold personal data; the published file stays 0444."""
    for path in (*restricted_paths(settings), *extra):
        secure_tree(path)
    warehouse = settings.published_db.parent
    if warehouse.exists() and warehouse != settings.build_db.parent:
        return
    # the shared warehouse folder: others may reach the published file, list nothing else
    with contextlib.suppress(FileNotFoundError, PermissionError):
        os.chmod(warehouse, 0o711 if group_id() is None else 0o751)
