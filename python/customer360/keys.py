"""The two secrets of the restricted area, and who may use them (docs/privacy.md).

* the **HMAC key** (``C360_HMAC_KEY`` or the file ``C360_HMAC_KEY_FILE``) makes the
  analyst pseudonyms and the erasure suppressions;
* the **database key** (``C360_DB_KEY`` or the file ``C360_DB_KEY_FILE``) encrypts the
  build DB (DuckDB database encryption, AES-GCM). Without it the build DB cannot be
  opened at all: every command that reads personal data needs it.

Both must be strong (:data:`MIN_KEY_CHARS` characters, :data:`MIN_DISTINCT_CHARS`
distinct ones: ``openssl rand -hex 32`` is fine; a short or repetitive key is refused).
Only ``customer360 demo`` generates local key files (``.c360/hmac.key``,
``.c360/db.key``, mode 0600): :func:`enable_demo_keys` is called by the demo command and
by nothing else, and no environment variable switches it on.

Roles (enforced by these keys and by file modes, see :mod:`customer360.permissions`):
the **pipeline operator** holds both keys and builds; the **privacy officer** holds both
keys and runs subject access, explain, erase and rotate-key; the **analyst** holds neither
and reads only the published file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from customer360.settings import PROJECT_DIR

HMAC_KEY_ENV = "C360_HMAC_KEY"
HMAC_KEY_FILE_ENV = "C360_HMAC_KEY_FILE"
DB_KEY_ENV = "C360_DB_KEY"
DB_KEY_FILE_ENV = "C360_DB_KEY_FILE"
#: ``off`` builds an unencrypted build DB (throwaway builds, the unit-test suite); anything
#: else (the default) requires the database key
DB_ENCRYPTION_ENV = "C360_DB_ENCRYPTION"
DEMO_KEY_DIR = PROJECT_DIR / ".c360"

MIN_KEY_CHARS = 32
MIN_DISTINCT_CHARS = 10

ROLE_OPERATOR = "pipeline operator"
ROLE_PRIVACY_OFFICER = "privacy officer"
ROLE_ANALYST = "analyst"

_demo_keys = False  # set only by enable_demo_keys() (the demo command)


class PrivacyError(RuntimeError):
    """A clear, user-facing privacy error (unknown subject, missing build, ...)."""


class PrivacyKeyError(PrivacyError):
    """A key is missing, too weak or unreadable; the message names the role that needs it."""


def check_key_strength(value: str, name: str) -> None:
    """Refuse keys that are short or repetitive (a 1-character key, ``aaaa…``)."""
    if len(value) < MIN_KEY_CHARS:
        raise PrivacyKeyError(
            f"{name} is too weak: {len(value)} characters, at least {MIN_KEY_CHARS} needed "
            "(e.g. `openssl rand -hex 32`)"
        )
    distinct = len(set(value))
    if distinct < MIN_DISTINCT_CHARS:
        raise PrivacyKeyError(
            f"{name} is too weak: only {distinct} distinct characters, at least "
            f"{MIN_DISTINCT_CHARS} needed (e.g. `openssl rand -hex 32`)"
        )


def _read_key_file(path: Path, name: str) -> str:
    try:
        st = path.stat()
        value = path.read_text().strip()
    except OSError as exc:
        raise PrivacyKeyError(f"cannot read the key file {path} ({name}): {exc.strerror}") from exc
    if st.st_mode & stat.S_IRWXO:
        raise PrivacyKeyError(
            f"key file {path} ({name}) is accessible to other users (mode "
            f"{stat.S_IMODE(st.st_mode):o}): `chmod 600 {path}`"
        )
    return value


def _load(env: str, file_env: str, what: str, role: str, purpose: str) -> bytes:
    value = os.environ.get(env, "").strip()
    source = env
    if not value and os.environ.get(file_env, "").strip():
        path = Path(os.environ[file_env].strip())
        value, source = _read_key_file(path, file_env), f"{file_env} ({path})"
    if not value:
        raise PrivacyKeyError(
            f"no {what}: set {env} (or {file_env}) to a secret, e.g. `openssl rand -hex 32`, "
            f"kept out of git; {purpose}. This needs the {role} role. Only `customer360 "
            "demo` generates local demo keys."
        )
    check_key_strength(value, source)
    return value.encode("utf-8")


def load_hmac_key(role: str = ROLE_OPERATOR) -> bytes:
    """The pseudonymisation key (``C360_HMAC_KEY`` / ``C360_HMAC_KEY_FILE``)."""
    return _load(
        HMAC_KEY_ENV,
        HMAC_KEY_FILE_ENV,
        "HMAC key",
        role,
        "pseudonymised analyst keys and erasure suppressions are HMAC-SHA256 with it",
    )


def encryption_enabled() -> bool:
    return os.environ.get(DB_ENCRYPTION_ENV, "").strip().lower() not in {"off", "0", "false"}


def load_db_key(role: str = ROLE_OPERATOR) -> str | None:
    """The build DB's encryption key, or None when encryption is switched off
    (``C360_DB_ENCRYPTION=off``). Raises when encryption is on and there is no key."""
    if not encryption_enabled():
        return None
    return _load(
        DB_KEY_ENV,
        DB_KEY_FILE_ENV,
        "database key",
        role,
        "the build DB (raw personal data) is encrypted with it",
    ).decode("utf-8")


def derived_key(purpose: str, role: str = ROLE_PRIVACY_OFFICER) -> bytes:
    """A sub-key for ``purpose`` (e.g. the audit-log MAC), derived from the database key
    (or, with encryption off, from the HMAC key)."""
    db_key = load_db_key(role)
    base = db_key.encode("utf-8") if db_key is not None else load_hmac_key(role)
    return hmac.new(base, f"customer360:{purpose}".encode(), hashlib.sha256).digest()


def ensure_key_file(path: Path) -> Path:
    """Create a random key file (mode 0600, folder 0700) unless it exists."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return path


def enable_demo_keys(key_dir: Path | None = None) -> dict[str, Path]:
    """For ``customer360 demo`` only: use (creating them once) local key files for every
    key that is not configured, by pointing ``C360_*_KEY_FILE`` of this process (and so
    of its dbt subprocesses) at them. Returns the demo key files in use."""
    global _demo_keys
    _demo_keys = True
    key_dir = key_dir or DEMO_KEY_DIR
    used: dict[str, Path] = {}
    for env, file_env, name in (
        (HMAC_KEY_ENV, HMAC_KEY_FILE_ENV, "hmac.key"),
        (DB_KEY_ENV, DB_KEY_FILE_ENV, "db.key"),
    ):
        if os.environ.get(env, "").strip() or os.environ.get(file_env, "").strip():
            continue
        path = ensure_key_file(key_dir / name)
        os.environ[file_env] = str(path)
        used[file_env] = path
    return used


def demo_keys_enabled() -> bool:
    return _demo_keys
