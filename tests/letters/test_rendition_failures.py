"""When LibreOffice fails: too slow, crashed, no PDF. A clear Chinese error, no process left
running, no file half-written, nothing registered for the failed batch.

Real LibreOffice throughout: the crash is a real ``soffice.bin`` killed by SIGSEGV mid-batch, the
missing PDF a truncated .docx it cannot open, the timeout a real batch given too little time.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.letters.rendition import make_renditions
from docgen.letters.soffice import Converter, LibreOfficeError, find_soffice
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from docgen.roster.example import example_roster_yaml

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_soffice() is None,
        reason="LibreOffice (soffice) 未安装:apt install libreoffice-writer-nogui fonts-noto-cjk",
    ),
]

YEAR = 2027
NOW = datetime(2027, 1, 5, 9, tzinfo=UTC)


def _soffice() -> str:
    found = find_soffice()
    assert found is not None
    return found


def _office_processes(marker: str) -> list[int]:
    """Running ``soffice.bin`` processes whose command line contains ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                command = handle.read()
        except OSError:
            continue
        if b"soffice.bin" in command and marker.encode() in command:
            found.append(int(name))
    return found


def _orphans() -> list[int]:
    """``soffice.bin`` processes of a docgen run whose folder is gone: left running by it."""
    orphans = []
    for pid in _office_processes("docgen-pdf-"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                args = handle.read().split(b"\0")
        except OSError:
            continue
        for arg in args:
            if arg.startswith(b"-env:UserInstallation=file://"):
                profile = Path(arg.split(b"file://", 1)[1].decode())
                if not profile.parent.exists():
                    orphans.append(pid)
    return orphans


@pytest.fixture
def generated(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    init_workspace(
        root, institution="庆城县人民检察院", year=YEAR, roster_yaml=example_roster_yaml()
    )
    ws = find_workspace(root)
    generate(ws, YEAR, now=NOW)
    return ws


def _sample(ws: Workspace) -> bytes:
    return sorted(ws.year_dir(YEAR).rglob("*.docx"))[0].read_bytes()


def test_a_batch_past_its_time_is_killed_and_leaves_nothing(generated: Workspace) -> None:
    with open_registry(generated) as registry:
        size = registry.size()
    with pytest.raises(LibreOfficeError) as caught:
        make_renditions(generated, YEAR, now=NOW, jobs=1, start_seconds=0.5, seconds_per_letter=0.0)
    message = caught.value.diagnostics()
    assert "LibreOffice 转换 11 份文书超过 0.5 秒仍未完成,已终止" in message
    assert "docgen pdf" in message
    year_dir = generated.year_dir(YEAR)
    assert not list(year_dir.rglob("*.pdf"))
    assert not list(year_dir.rglob("*.tmp"))
    with open_registry(generated) as registry:
        assert registry.size() == size
    assert _orphans() == []


def test_a_crashed_libreoffice_is_reported(tmp_path: Path, generated: Workspace) -> None:
    """soffice.bin dies on SIGSEGV while converting a batch (as on a bad document or a bug)."""
    converter = Converter(_soffice(), tmp_path / "worker")
    data = _sample(generated)
    converter.convert([("热身.docx", data)])  # the first start of a profile restarts once
    finished = threading.Event()
    killed: list[int] = []

    def crash() -> None:
        while not finished.is_set():
            for pid in _office_processes(str(tmp_path / "worker")):
                try:
                    os.kill(pid, signal.SIGSEGV)
                    killed.append(pid)
                except ProcessLookupError:
                    continue
            finished.wait(0.05)

    thread = threading.Thread(target=crash)
    thread.start()
    try:
        with pytest.raises(LibreOfficeError) as caught:
            converter.convert([(f"第{i}份.docx", data) for i in range(20)])
    finally:
        finished.set()
        thread.join()
    assert killed
    message = caught.value.diagnostics()
    assert "LibreOffice 转换 20 份文书时异常退出" in message
    assert "SIGSEGV" in message
    assert "本批文书均未生成 PDF" in message
    assert not list((tmp_path / "worker").glob("*/*.pdf"))
    assert _office_processes(str(tmp_path / "worker")) == []


def test_a_letter_libreoffice_cannot_open_is_named(tmp_path: Path, generated: Workspace) -> None:
    data = _sample(generated)
    converter = Converter(_soffice(), tmp_path / "worker")
    with pytest.raises(LibreOfficeError) as caught:
        converter.convert([("好的.docx", data), ("坏的.docx", data[: len(data) // 2])])
    assert "LibreOffice 没有生成 坏的.docx 的 PDF" in caught.value.diagnostics()
