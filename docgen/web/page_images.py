"""Every page of a letter's PDF as a PNG, made by ``pdftoppm`` and kept per PDF SHA-256.

A signer reads the letter as it is registered: the pages are drawn from the PDF rendition
itself (after signing, from the signed PDF with its stamps), never re-typed. The images are
kept under ``serve/pages/<sha256>/`` in the workspace, so a PDF is drawn once however often it
is opened; a PDF with other bytes (signed since) gets its own folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from docgen.core.errors import DocgenError, Location
from docgen.core.workspace import Workspace

RESOLUTION = 110  # dpi: an A4 page 910 px wide, sharp on a screen, small on disk
TIMEOUT = 120
_PAGE = re.compile(r"^page-(\d+)\.png$")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class PageImagesError(DocgenError):
    """The pages of a PDF could not be drawn."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def pages_dir(ws: Workspace) -> Path:
    return ws.root / "serve" / "pages"


def page_images(ws: Workspace, pdf: Path) -> tuple[str, list[Path]]:
    """The SHA-256 of ``pdf`` and its pages as PNG files, in page order (drawn on first use)."""
    sha = _sha256(pdf)
    target = pages_dir(ws) / sha
    with _lock_for(sha):
        if not target.is_dir():
            _draw(pdf, target)
    pages = sorted(
        (p for p in target.iterdir() if _PAGE.match(p.name)),
        key=lambda p: int(_PAGE.match(p.name).group(1)),  # type: ignore[union-attr]
    )
    return sha, pages


def _draw(pdf: Path, target: Path) -> None:
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise PageImagesError(
            "本机未安装 pdftoppm,无法显示文书页面",
            hint="请安装 poppler-utils(apt-get install poppler-utils),或下载文书文件阅读",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".draw-", dir=target.parent))
    try:
        try:
            subprocess.run(
                [tool, "-r", str(RESOLUTION), "-png", str(pdf), str(work / "page")],
                check=True,
                capture_output=True,
                timeout=TIMEOUT,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise PageImagesError(
                "PDF 页面无法显示(pdftoppm 出错)",
                location=Location(file=str(pdf)),
                hint="请下载文书文件阅读,并告知办公室",
            ) from exc
        # pdftoppm pads page numbers to the page count's width: page-01.png, page-1.png …
        for item in work.iterdir():
            found = re.match(r"^page-0*(\d+)\.png$", item.name)
            if found:
                item.rename(work / f"page-{int(found.group(1))}.png")
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
