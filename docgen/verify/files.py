"""Reading one letter's files: the ``.docx``, its proof bundle and its ``.p7s`` signatures, from
disk or from an archive held in memory, each within its size limit and never trusted (a file that
cannot be read becomes a ``Blob`` saying why, for the checklist to report). Also where a letter
found in a directory is (``LetterOnDisk``, small enough to hold 10⁵ of them), and which names are
safe relative paths.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from docgen.verify.model import (
    MAX_LETTER_BYTES,
    MAX_PROOF_BYTES,
    MAX_SIGNATURE_BYTES,
    PDF_SUFFIX,
    PROOF_SUFFIX,
    SIGNATURE_SUFFIX,
    Blob,
    LetterFiles,
)


def read_blob(path: str | Path, shown: str, limit: int, what: str) -> Blob:
    """A file's bytes, or why they cannot be had. The file is opened once (without blocking,
    so a FIFO put in a letter's place cannot hang the run) and judged by ``fstat`` of what was
    opened: one path lookup per file, and no window between the check and the read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return Blob(shown, None, "不存在")
    except OSError as exc:
        return Blob(shown, None, f"无法读取({exc.strerror})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Blob(shown, None, "不是普通文件")
        if info.st_size > limit:
            return Blob(shown, None, f"过大({info.st_size} 字节,{what}上限 {limit} 字节)")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return Blob(shown, None, f"无法读取({exc.strerror})")
    finally:
        os.close(fd)
    if len(data) > limit:
        return Blob(shown, None, f"过大({what}上限 {limit} 字节)")
    return Blob(shown, data)


def letter_files_from_disk(
    docx: Path, shown: str | None = None, siblings: Sequence[str] | None = None
) -> LetterFiles:
    """The letter, its proof bundle and every ``<letter>.<signer>.p7s`` next to it.

    ``siblings`` — the names of the files in the letter's directory, when the caller has listed
    it already (listing a directory of 10⁵ letters once per letter would be quadratic).
    """
    label = shown if shown is not None else str(docx)
    prefix = docx.name + "."
    signatures: list[tuple[str, Blob]] = []
    if siblings is None:
        siblings = sorted(c.name for c in docx.parent.iterdir()) if docx.parent.is_dir() else []
    folder = os.fspath(docx.parent)  # joined as strings: cheaper than a Path per file
    for name in siblings:
        if name.startswith(prefix) and name.endswith(SIGNATURE_SUFFIX):
            signer = name[len(prefix) : -len(SIGNATURE_SUFFIX)]
            if signer:
                signatures.append(
                    (
                        signer,
                        read_blob(
                            os.path.join(folder, name),
                            f"{label}.{signer}{SIGNATURE_SUFFIX}",
                            MAX_SIGNATURE_BYTES,
                            "签名文件",
                        ),
                    )
                )
    pdf_path = os.path.join(folder, docx.stem + PDF_SUFFIX)
    pdf = (
        read_blob(pdf_path, label[: -len(docx.suffix)] + PDF_SUFFIX, MAX_LETTER_BYTES, "PDF 文件")
        if docx.suffix and os.path.isfile(pdf_path)  # one stat; ``siblings`` may be a long list
        else None
    )
    return LetterFiles(
        path=label,
        pdf=pdf,
        docx=read_blob(docx, label, MAX_LETTER_BYTES, "文书文件"),
        proof=read_blob(
            os.path.join(folder, docx.name + PROOF_SUFFIX),
            label + PROOF_SUFFIX,
            MAX_PROOF_BYTES,
            "证明文件",
        ),
        signatures=tuple(signatures),
    )


def letter_files_from_members(members: Mapping[str, bytes], path: str) -> LetterFiles:
    """The same, from files held in memory (an archive)."""

    def blob(name: str, limit: int, what: str) -> Blob:
        data = members.get(name)
        if data is None:
            return Blob(name, None, "不存在")
        if len(data) > limit:
            return Blob(name, None, f"过大({len(data)} 字节,{what}上限 {limit} 字节)")
        return Blob(name, data)

    prefix = path + "."
    signatures = tuple(
        (name[len(prefix) : -len(SIGNATURE_SUFFIX)], blob(name, MAX_SIGNATURE_BYTES, "签名文件"))
        for name in sorted(members)
        if name.startswith(prefix)
        and name.endswith(SIGNATURE_SUFFIX)
        and "/" not in name[len(prefix) :]
        and len(name) > len(prefix) + len(SIGNATURE_SUFFIX)
    )
    stem, dot, _suffix = path.rpartition(".")
    pdf_name = stem + PDF_SUFFIX if dot else ""
    return LetterFiles(
        path=path,
        pdf=blob(pdf_name, MAX_LETTER_BYTES, "PDF 文件") if pdf_name in members else None,
        docx=blob(path, MAX_LETTER_BYTES, "文书文件"),
        proof=blob(path + PROOF_SUFFIX, MAX_PROOF_BYTES, "证明文件"),
        signatures=signatures,
    )


def safe_relative(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    if plain_relative(name):
        return True  # the parts are the "/"-separated names, all ordinary
    parts = PurePosixPath(name).parts
    return all(part not in ("", ".", "..") for part in parts) and not name.endswith("/")


class LetterOnDisk:
    """Where one letter of a directory is, and the signature files found beside it.

    A year folder holds 10⁵ letters with long names (two bytes a character in Chinese), so the
    parts that recur are kept once: the folder and the shown prefix are shared by the letters of
    a folder, and each file beside the letter is kept as what follows the letter's name (the
    signer part, shared by all letters of a signer). ``docx``, ``shown`` and ``signature_names``
    give back exactly what was passed in.
    """

    __slots__ = ("_folder", "_name", "_shown", "_tails", "_whole")

    def __init__(
        self,
        docx: str,
        shown: str,
        signature_names: Sequence[str],
        shared: dict[str, str] | None = None,
    ) -> None:
        table: dict[str, str] = {} if shared is None else shared
        slash = docx.rfind("/")
        folder, name = (".", docx) if slash < 0 else (docx[:slash], docx[slash + 1 :])
        if not name or child(folder, name) != docx:  # not a form ``child`` writes: keep it whole
            folder, name = docx, ""
        whole = 0
        if name and shown.endswith(name):
            shown = shown[: len(shown) - len(name)]
        else:
            whole |= 1
        if name and all(sibling.startswith(name) for sibling in signature_names):
            tails = tuple(table.setdefault(t, t) for t in (x[len(name) :] for x in signature_names))
        else:
            tails, whole = tuple(signature_names), whole | 2
        self._folder = table.setdefault(folder, folder)
        self._name = name
        self._shown = table.setdefault(shown, shown)
        self._tails = tails
        self._whole = whole

    @property
    def docx(self) -> str:
        return child(self._folder, self._name) if self._name else self._folder

    @property
    def shown(self) -> str:
        return self._shown if self._whole & 1 else self._shown + self._name

    @property
    def signature_names(self) -> tuple[str, ...]:
        if self._whole & 2:
            return self._tails
        return tuple(self._name + tail for tail in self._tails)

    def _key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.docx, self.shown, self.signature_names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LetterOnDisk) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"LetterOnDisk({self.docx!r}, {self.shown!r}, {self.signature_names!r})"

    def __reduce__(self) -> tuple[type[LetterOnDisk], tuple[str, str, tuple[str, ...]]]:
        return (LetterOnDisk, self._key())

    def files(self) -> LetterFiles:
        return letter_files_from_disk(Path(self.docx), self.shown, self.signature_names)


def child(folder: str, name: str) -> str:
    """``str(Path(folder) / name)`` for a normalised ``folder`` and a plain file ``name``."""
    if folder == ".":
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


def plain_relative(name: str) -> bool:
    """True when ``name`` is relative and its "/"-separated parts are all ordinary names, so
    ``PurePosixPath(name).parts == tuple(name.split("/"))`` (nothing for pathlib to collapse)."""
    return not name.startswith("/") and all(part not in ("", ".", "..") for part in name.split("/"))
