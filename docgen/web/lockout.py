"""Failed PIN and password attempts: slowed down, then locked after five, until the clerk unlocks.

The count is kept in the workspace (``serve/attempts.json``, 0600 in a 0700 directory), not in
the server's memory, so restarting ``docgen serve`` does not give a guesser five more tries.
After each failure the next attempt must wait (1, 2, 4, 8 s); an attempt made sooner is refused
without being checked. The fifth failure locks the account; only :func:`unlock` — the clerk's
button on the office page — opens it again, and that is recorded in the registry
(``signer_unlock``) with who unlocked whom and when.

Keys are ``person:<id>`` for signers and ``role:office`` / ``role:auditor`` for the staff logins.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from docgen.core.errors import DocgenError, Location, ValidationError
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace, atomic_write
from docgen.registry import open_registry
from docgen.signing.keyfiles import PassphraseError

MAX_FAILURES = 5
STATE_DIR = "serve"
STATE_NAME = "attempts.json"
_lock = threading.Lock()


class AccountLocked(DocgenError):
    """Five wrong PINs: the account waits for the clerk."""


class TooSoon(DocgenError):
    """An attempt made before the wait after the previous failure was over."""


@dataclass(frozen=True)
class Attempts:
    failures: int
    last_failure: datetime | None
    locked: bool


def person_key(person_id: str) -> str:
    return f"person:{person_id}"


def role_key(role: str) -> str:
    return f"role:{role}"


def _path(ws: Workspace) -> Path:
    return ws.root / STATE_DIR / STATE_NAME


def _read(ws: Workspace) -> dict[str, dict[str, Any]]:
    path = _path(ws)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"登录失败次数记录无法读取:{exc}",
            location=Location(file=str(path)),
            hint="该文件记录锁定状态,请勿手工修改;从备份恢复,或由办公室逐一确认后删除",
        ) from exc
    if not isinstance(data, dict):
        raise ValidationError("登录失败次数记录格式不对", location=Location(file=str(path)))
    return data


def _write(ws: Workspace, data: dict[str, dict[str, Any]]) -> None:
    path = _path(ws)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path.parent, 0o700)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    atomic_write(path, text.encode("utf-8"), mode=0o600)


def attempts(ws: Workspace, key: str) -> Attempts:
    item = _read(ws).get(key, {})
    last = item.get("last_failure")
    return Attempts(
        failures=int(item.get("failures", 0)),
        last_failure=datetime.fromisoformat(last) if isinstance(last, str) else None,
        locked=bool(item.get("locked", False)),
    )


def wait_after(failures: int) -> timedelta:
    """How long the next attempt must wait after ``failures`` failures in a row."""
    return timedelta(seconds=2 ** (failures - 1)) if failures > 0 else timedelta(0)


def check_allowed(ws: Workspace, key: str, now: datetime) -> None:
    """Raise when ``key`` is locked, or when its last failure was too recent."""
    state = attempts(ws, key)
    if state.locked:
        raise AccountLocked(
            f"连续输错 {MAX_FAILURES} 次,账户已锁定",
            hint="请到办公室,由办公室人员核实身份后在「年度进度」页面解锁",
        )
    if state.last_failure is not None:
        ready = state.last_failure + wait_after(state.failures)
        if now < ready:
            seconds = max(1, int((ready - now).total_seconds() + 0.999))
            raise TooSoon(f"输入错误后须稍候再试,请 {seconds} 秒后重试")


def record_failure(ws: Workspace, key: str, now: datetime) -> int:
    """Count a failed attempt; the attempts left before the lock (0: now locked)."""
    with _lock:
        data = _read(ws)
        item = data.setdefault(key, {})
        failures = int(item.get("failures", 0)) + 1
        item["failures"] = failures
        item["last_failure"] = now.isoformat()
        if failures >= MAX_FAILURES:
            item["locked"] = True
            item["locked_at"] = now.isoformat()
        _write(ws, data)
    return max(0, MAX_FAILURES - failures)


def record_success(ws: Workspace, key: str) -> None:
    with _lock:
        data = _read(ws)
        if key in data and not data[key].get("locked"):
            del data[key]
            _write(ws, data)


def locked_people(ws: Workspace) -> list[str]:
    """The person ids whose accounts are locked, sorted."""
    return sorted(
        key.partition(":")[2]
        for key, item in _read(ws).items()
        if key.startswith("person:") and item.get("locked")
    )


def unlock(ws: Workspace, person_id: str, by: str, now: datetime) -> None:
    """Open ``person_id``'s locked account again (the clerk did, after checking who they are);
    recorded in the registry as ``signer_unlock`` with ``by`` and the time."""
    key = person_key(person_id)
    with _lock:
        data = _read(ws)
        item = data.get(key)
        if item is None or not item.get("locked"):
            raise ValidationError(
                f"{person_id} 的账户没有被锁定,无需解锁",
                hint="刷新页面查看当前被锁定的账户",
            )
        record = {
            "type": "signer_unlock",
            "person": person_id,
            "by": by,
            "failures": int(item.get("failures", 0)),
            "locked_at": str(item.get("locked_at", "")),
            "unlocked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        with workspace_lock(ws.root), open_registry(ws) as registry:
            registry.append([record], now=now)
        del data[key]
        _write(ws, data)


class WrongSecret(DocgenError):
    """A wrong PIN or password, counted: the message says how many attempts are left."""


_T = TypeVar("_T")


def guarded(ws: Workspace, key: str, now: datetime, attempt: Callable[[], _T], *, what: str) -> _T:
    """Run ``attempt`` (which raises :class:`PassphraseError` for a wrong secret) unless ``key``
    is locked or must still wait; count its failure or clear the count on success.

    Attempts on one key run one at a time, the check, the attempt and its count together: twenty
    guesses sent at once would otherwise all pass the check before the first failure counted."""
    with _key_lock(key):
        check_allowed(ws, key, now)
        try:
            result = attempt()
        except PassphraseError:
            left = record_failure(ws, key, now)
            if left == 0:
                raise AccountLocked(
                    f"{what}不正确;已连续输错 {MAX_FAILURES} 次,账户已锁定",
                    hint="请到办公室,由办公室人员核实身份后解锁",
                ) from None
            raise WrongSecret(
                f"{what}不正确,还可再试 {left} 次", hint="请注意大小写和输入法"
            ) from None
        record_success(ws, key)
        return result


_key_locks: dict[str, threading.Lock] = {}


def _key_lock(key: str) -> threading.Lock:
    with _lock:
        return _key_locks.setdefault(key, threading.Lock())
