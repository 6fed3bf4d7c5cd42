"""The office's and the 纪检组's logins: a password each, its scrypt hash in ``docgen.toml``.

``docgen serve set-password --role office`` writes, in the ``[serve]`` table::

    office_password = "scrypt$16384$8$1$<salt b64>$<hash b64>"

The hash is scrypt (RFC 7914) with a random 16-byte salt; the password itself is written
nowhere. A role without a hash cannot log in (the page says how to set one). Signers have no
password here: their PIN opens their own private key (:mod:`docgen.signing.keyfiles`).
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import tomllib
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from docgen.core.errors import Location, UsageError, ValidationError
from docgen.core.workspace import CONFIG_NAME, Workspace, atomic_write, toml_string

ROLE_NAMES = {"office": "办公室", "auditor": "纪检组"}
MIN_PASSWORD = 8
_N, _R, _P = 2**14, 8, 1
_KEY_RE = re.compile(r"^\s*(office|auditor)_password\s*=")


@dataclass(frozen=True)
class ServeSettings:
    hashes: dict[str, str]


def _field(role: str) -> str:
    return f"{role}_password"


def _check_role(role: str) -> None:
    if role not in ROLE_NAMES:
        raise UsageError(f"未知的角色“{role}”", hint="角色只能是 office(办公室)或 auditor(纪检组)")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = Scrypt(salt=salt, length=32, n=_N, r=_R, p=_P).derive(password.encode("utf-8"))
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if n > 2**20 or r > 16 or p > 4:  # not written by us: refuse an expensive hash
        return False
    digest = Scrypt(salt=salt, length=len(expected), n=n, r=r, p=p).derive(password.encode("utf-8"))
    return hmac.compare_digest(digest, expected)


def read_settings(ws: Workspace) -> ServeSettings:
    path = ws.root / CONFIG_NAME
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    serve = data.get("serve", {})
    if not isinstance(serve, dict):
        raise ValidationError(
            "[serve] 应为一个表", location=Location(file=str(path), field="serve")
        )
    hashes = {
        role: str(serve[_field(role)])
        for role in ROLE_NAMES
        if isinstance(serve.get(_field(role)), str)
    }
    return ServeSettings(hashes=hashes)


def check_login(ws: Workspace, role: str, password: str) -> bool:
    """True when ``password`` is the one set for ``role``; a role with none set is refused."""
    _check_role(role)
    stored = read_settings(ws).hashes.get(role)
    if stored is None:
        raise ValidationError(
            f"尚未设置{ROLE_NAMES[role]}的登录口令",
            hint=f"请在办公室电脑上运行 docgen serve set-password --role {role}",
        )
    return password_matches(password, stored)


def set_password(ws: Workspace, role: str, password: str) -> None:
    """Store the scrypt hash of ``role``'s new password in docgen.toml's ``[serve]`` table;
    the rest of the file is kept as it is, line for line."""
    _check_role(role)
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"口令太短,至少 {MIN_PASSWORD} 个字符", hint="请换一个更长的口令")
    path = ws.root / CONFIG_NAME
    lines = path.read_text(encoding="utf-8").splitlines()
    line = f"{_field(role)} = {toml_string(hash_password(password))}"
    section = next((i for i, text in enumerate(lines) if text.strip() == "[serve]"), None)
    if section is None:
        lines += ["", "[serve]", line]
    else:
        end = next(
            (i for i in range(section + 1, len(lines)) if lines[i].strip().startswith("[")),
            len(lines),
        )
        found = next(
            (
                i
                for i in range(section + 1, end)
                if (m := _KEY_RE.match(lines[i])) is not None and m.group(1) == role
            ),
            None,
        )
        if found is None:
            lines.insert(section + 1, line)
        else:
            lines[found] = line
    mode = path.stat().st_mode & 0o777
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"), mode=mode)
    tomllib.loads(path.read_text(encoding="utf-8"))  # still valid TOML
