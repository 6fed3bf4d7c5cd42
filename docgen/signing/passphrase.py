"""Where a private key's passphrase comes from: a file, an environment variable, or a prompt.

A passphrase is never accepted as a command-line argument (it would be visible in ``ps`` and in
shell history), never printed and never logged: :class:`Passphrase` hides its value from ``repr``.
The interactive prompt itself belongs to the CLI layer, which passes it in as a callable.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from docgen.core.errors import Location, UsageError
from docgen.registry import signing_key as registry_signing_key

PERSON_ENV = "DOCGEN_PASSPHRASE"
CA_ENV = "DOCGEN_CA_PASSPHRASE"
NEW_ENV = "DOCGEN_NEW_PASSPHRASE"  # the new passphrase of ``docgen keys passwd``
REGISTRY_ENV = registry_signing_key.PASSPHRASE_ENV  # the registry key's, when it is encrypted
MIN_NEW_LENGTH = 8
_MAX_FILE_BYTES = 4096


@dataclass(frozen=True)
class Passphrase:
    """A secret plus a description of where it came from (the description is safe to show)."""

    secret: bytes = field(repr=False)
    source: str

    def __str__(self) -> str:
        return f"口令(来自{self.source})"


def from_file(path: Path) -> Passphrase:
    """Read a passphrase from the first line of ``path`` (the trailing newline is dropped).

    A regular file must not be readable by group or others, like the key it protects.
    """
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise UsageError(
            "口令文件不存在",
            location=Location(file=str(path)),
            hint="请检查口令文件选项中的路径",
        ) from exc
    if stat.S_ISREG(info.st_mode):
        if info.st_mode & 0o077:
            raise UsageError(
                f"口令文件的权限过宽({stat.filemode(info.st_mode)}),其他用户可以读取",
                location=Location(file=str(path)),
                hint=f"请运行 chmod 600 {path}",
            )
        if info.st_size > _MAX_FILE_BYTES:
            raise UsageError("口令文件过大,不像是口令文件", location=Location(file=str(path)))
    with path.open("rb") as fh:
        raw = fh.read(_MAX_FILE_BYTES + 1)
    if len(raw) > _MAX_FILE_BYTES:
        raise UsageError("口令文件过大,不像是口令文件", location=Location(file=str(path)))
    first_line = raw.split(b"\n", 1)[0].removesuffix(b"\r")
    if not first_line:
        raise UsageError(
            "口令文件的第一行为空", location=Location(file=str(path)), hint="请在第一行写入口令"
        )
    return Passphrase(first_line, f"文件 {path}")


def from_env(name: str, environ: Mapping[str, str] | None = None) -> Passphrase | None:
    """The passphrase in environment variable ``name``, or ``None`` when it is unset or empty."""
    env = os.environ if environ is None else environ
    value = env.get(name)
    if not value:
        return None
    return Passphrase(value.encode("utf-8"), f"环境变量 {name}")


def resolve(
    *,
    file: Path | None,
    env_name: str,
    prompt: Callable[[], str] | None,
    environ: Mapping[str, str] | None = None,
    what: str = "私钥口令",
) -> Passphrase:
    """Pick the passphrase: an explicit file first, then the environment, then the prompt."""
    if file is not None:
        return from_file(file)
    found = from_env(env_name, environ)
    if found is not None:
        return found
    if prompt is None:
        raise UsageError(
            f"没有提供{what}",
            hint=f"请设置环境变量 {env_name},或用口令文件选项,或在终端中交互输入",
        )
    typed = prompt()
    if not typed:
        raise UsageError(f"{what}不能为空")
    return Passphrase(typed.encode("utf-8"), "终端输入")


def require_new_strength(passphrase: Passphrase, *, what: str = "私钥口令") -> None:
    """Refuse a passphrase too short to protect a new private key."""
    if len(passphrase.secret.decode("utf-8", errors="replace")) < MIN_NEW_LENGTH:
        raise UsageError(
            f"{what}太短(来自{passphrase.source}),至少需要 {MIN_NEW_LENGTH} 个字符",
            hint="请换一个更长的口令",
        )
