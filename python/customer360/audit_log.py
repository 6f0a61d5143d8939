"""The tamper-evident access log: one JSON line per CLI access to personal data.

Each entry carries its sequence number, the build it read (build DB, its modification
time, the dbt invocation), ``prev_hash`` (the previous entry's ``entry_hash``) and
``entry_hash``: HMAC-SHA256 over the canonical JSON of everything else, keyed with a
sub-key of the database key (``keys.derived_key("audit-log")``). So an entry that is
removed, changed, inserted or moved breaks the chain, and nobody without the restricted
key can write a chain that verifies. ``<log>.head`` holds the last sequence number and
hash (MACed too), so cutting entries off the end is detected as well.
:func:`verify` checks all of it (``customer360 audit verify``).

Appends take an exclusive ``flock`` on the log, so concurrent commands chain correctly.
The log and its head are created mode 0600 (see :mod:`customer360.permissions`).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customer360.keys import ROLE_PRIVACY_OFFICER, derived_key

GENESIS = "0" * 64
KEY_PURPOSE = "audit-log"


def _canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != "entry_hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def head_path(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def _head_record(key: bytes, seq: int, entry_hash: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "entry_hash": entry_hash,
        "mac": _mac(key, f"head|{seq}|{entry_hash}".encode()),
    }


def _last_entry(fd: int) -> dict[str, Any] | None:
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    chunk = min(size, 65536)
    while True:
        os.lseek(fd, size - chunk, os.SEEK_SET)
        data = os.read(fd, chunk)
        lines = [x for x in data.splitlines() if x.strip()]
        if len(lines) >= 2 or chunk == size:
            return json.loads(lines[-1]) if lines else None
        chunk = min(size, chunk * 4)


def append(path: Path, fields: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """Append one chained entry; return it (with ``seq``, ``prev_hash``, ``entry_hash``)."""
    key = key if key is not None else derived_key(KEY_PURPOSE, ROLE_PRIVACY_OFFICER)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        last = _last_entry(fd)
        entry = dict(fields)
        entry["seq"] = int(last["seq"]) + 1 if last else 1
        entry["prev_hash"] = str(last["entry_hash"]) if last else GENESIS
        entry["entry_hash"] = _mac(key, _canonical(entry))
        os.write(fd, json.dumps(entry, sort_keys=True).encode() + b"\n")
        os.fsync(fd)
        head = head_path(path)
        tmp = head.with_name(head.name + f".tmp-{os.getpid()}")
        hfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(hfd, "w") as f:
            json.dump(_head_record(key, entry["seq"], entry["entry_hash"]), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, head)
        return entry
    finally:
        os.close(fd)  # releases the flock


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class VerifyResult:
    path: Path
    entries: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(path: Path, key: bytes | None = None) -> VerifyResult:
    """Check every entry's MAC, the sequence numbers, the chain and the head."""
    key = key if key is not None else derived_key(KEY_PURPOSE, ROLE_PRIVACY_OFFICER)
    result = VerifyResult(path, 0)
    if not path.exists():
        result.problems.append(f"no audit log at {path}")
        return result
    prev_hash, prev_seq = GENESIS, 0
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            result.problems.append(f"line {lineno}: not JSON")
            continue
        result.entries += 1
        seq = entry.get("seq")
        if entry.get("entry_hash") != _mac(key, _canonical(entry)):
            result.problems.append(f"line {lineno} (seq {seq}): entry changed (MAC mismatch)")
        if seq != prev_seq + 1:
            result.problems.append(
                f"line {lineno}: seq {seq} follows seq {prev_seq} (entry removed or reordered)"
            )
        if entry.get("prev_hash") != prev_hash:
            result.problems.append(
                f"line {lineno} (seq {seq}): prev_hash does not match the entry before it "
                "(entry removed, inserted or reordered)"
            )
        prev_hash = str(entry.get("entry_hash"))
        prev_seq = seq if isinstance(seq, int) else prev_seq + 1
    head = head_path(path)
    try:
        record = json.loads(head.read_text())
    except (OSError, ValueError):
        result.problems.append(f"head file {head} is missing or unreadable")
        return result
    expected = _head_record(key, int(record.get("seq", -1)), str(record.get("entry_hash")))
    if record.get("mac") != expected["mac"]:
        result.problems.append(f"head file {head} changed (MAC mismatch)")
    elif record["seq"] != prev_seq or record["entry_hash"] != prev_hash:
        result.problems.append(
            f"the log ends at seq {prev_seq} but its head says seq {record['seq']}: "
            "entries were cut off the end"
        )
    return result
