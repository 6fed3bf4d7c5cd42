"""LibreOffice as the converter of letters to PDF/A-2b: the process, its profile, its fonts.

A cold ``soffice`` takes seconds to start (a new profile more), and converts a letter in a
fraction of that. So a :class:`Converter` lives as long as a worker process, with its own
profile directory (two LibreOffice processes never share one: the second would hand its work to
the first and exit), and converts letters in batches: one ``soffice --headless --convert-to``
over a batch of files, started once per batch. The letters' bytes are written by the caller's
process into the converter's own folder under plain numbered names, so LibreOffice reads exactly
the bytes that were checked, and no file name reaches its command line.

Fonts: ``fonts.conf`` beside this module maps the fonts the letters ask for to Noto CJK SC when
they are missing; LibreOffice runs with ``FONTCONFIG_FILE`` naming a file that includes the
system's configuration and then that one. :func:`font_uses` asks fontconfig, with and without
those rules, which face each configured font becomes.

A batch that runs past its time is killed with its whole process group; LibreOffice ending on a
signal or with an error, or a PDF that did not appear, is a :class:`LibreOfficeError` naming the
letter. Nothing here writes outside the converter's folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from docgen.core.errors import DocgenError

PDF_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
INSTALL_COMMAND = "apt install libreoffice-writer-nogui fonts-noto-cjk"
SYSTEM_FONTCONFIG = "/etc/fonts/fonts.conf"

# A batch may take START_SECONDS plus SECONDS_PER_LETTER for each letter (measured on a loaded
# 2-core machine: a start ≈ 5 s, a letter ≈ 0.5 s; these leave room for a busy one).
START_SECONDS = 120.0
SECONDS_PER_LETTER = 15.0


class LibreOfficeError(DocgenError):
    """LibreOffice could not convert a letter: not installed, timed out, crashed, no output."""


class LibreOfficeMissingError(LibreOfficeError):
    """No ``soffice`` on PATH."""

    def __init__(self) -> None:
        super().__init__(
            "未找到 LibreOffice(soffice),无法生成文书的 PDF 副本",
            hint=f"请安装:{INSTALL_COMMAND};装好后运行 docgen pdf --year 年度",
        )


def find_soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found is not None:
            return found
    return None


def _package_fonts_conf() -> Path:
    path = Path(str(resources.files("docgen.letters").joinpath("fonts.conf")))
    if not path.is_file():
        raise LibreOfficeError(
            f"docgen 的字体配置文件 {path} 不存在", hint="请重新安装 docgen(pip install .)"
        )
    return path


def _system_fontconfig() -> str:
    """The configuration fontconfig would read without docgen: the user's, or the system's."""
    return os.environ.get("FONTCONFIG_FILE") or SYSTEM_FONTCONFIG


def write_fontconfig(directory: Path) -> Path:
    """A fontconfig file in ``directory`` that reads the system's configuration and then
    docgen's font rules (``fonts.conf``); returns its path."""
    path = directory / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        "<fontconfig>\n"
        f'  <include ignore_missing="yes">{escape(_system_fontconfig())}</include>\n'
        f"  <include>{escape(str(_package_fonts_conf()))}</include>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True, slots=True)
class FontUse:
    """What fontconfig makes of one font the letters ask for."""

    requested: str
    installed: bool  # the system has a face of that family
    used: str  # the family LibreOffice gets with docgen's rules ("" if fontconfig says nothing)

    @property
    def substituted(self) -> bool:
        return not self.installed


def _fc_families(name: str, env: Mapping[str, str]) -> list[str] | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    done = subprocess.run(
        [fc_match, "-f", "%{family}", name],
        env=dict(env),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        return None
    text = done.stdout.decode("utf-8", errors="replace")
    return [family.strip() for family in text.split(",") if family.strip()]


def font_uses(names: Sequence[str], workdir: Path) -> list[FontUse] | None:
    """For each font name, whether it is installed and which family replaces it under docgen's
    rules; None when fontconfig's ``fc-match`` is not available to say."""
    system_env = dict(os.environ)
    ours = dict(os.environ, FONTCONFIG_FILE=str(write_fontconfig(workdir)))
    uses: list[FontUse] = []
    for name in dict.fromkeys(names):
        plain, mapped = _fc_families(name, system_env), _fc_families(name, ours)
        if plain is None or mapped is None:
            return None
        uses.append(FontUse(name, name in plain, mapped[0] if mapped else ""))
    return uses


def _tail(data: bytes, lines: int = 3) -> str:
    """The last lines LibreOffice wrote, less its warning about Java (always there)."""
    text = [
        line.strip()
        for line in data.decode("utf-8", errors="replace").splitlines()
        if line.strip() and "javaldx" not in line
    ]
    return " / ".join(text[-lines:])


def _how_it_ended(code: int) -> str:
    """A process's exit status in words. ``soffice`` is a launcher: when LibreOffice itself dies
    on a signal, it exits with 128 + the signal's number."""
    number = -code if code < 0 else code - 128 if 128 < code < 128 + 65 else 0
    if number:
        try:
            return f"被信号 {signal.Signals(number).name} 终止,退出码 {code}"
        except ValueError:
            pass
    return f"退出码 {code}"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill LibreOffice and whatever it started (it runs in a session of its own)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


class Converter:
    """LibreOffice with a profile of its own in ``workdir`` (created if missing), converting
    batches of .docx to PDF/A-2b. One per worker process; ``workdir`` is the caller's to remove.
    """

    def __init__(
        self,
        soffice: str,
        workdir: Path,
        *,
        start_seconds: float = START_SECONDS,
        seconds_per_letter: float = SECONDS_PER_LETTER,
    ) -> None:
        self.soffice = soffice
        self.workdir = workdir
        self.start_seconds = start_seconds
        self.seconds_per_letter = seconds_per_letter
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "tmp").mkdir(exist_ok=True)
        self._env = dict(
            os.environ,
            FONTCONFIG_FILE=str(write_fontconfig(workdir)),
            HOME=str(workdir),  # nothing of LibreOffice's lands in the user's home
            TMPDIR=str(workdir / "tmp"),
        )
        self._profile = (workdir / "profile").resolve().as_uri()

    def convert(self, letters: Sequence[tuple[str, bytes]]) -> list[bytes]:
        """PDF bytes of each ``(label, docx bytes)``, in order, from one LibreOffice process.
        ``label`` (the letter's path) names it in an error."""
        if not letters:
            return []
        source, target = self.workdir / "in", self.workdir / "out"
        for folder in (source, target):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
        names = [f"{number:06d}" for number in range(len(letters))]
        for name, (_label, data) in zip(names, letters, strict=True):
            (source / f"{name}.docx").write_bytes(data)
        try:
            self._run([str(source / f"{name}.docx") for name in names], target, len(letters))
            pdfs: list[bytes] = []
            for name, (label, _data) in zip(names, letters, strict=True):
                pdfs.append(self._output(target / f"{name}.pdf", label))
            return pdfs
        finally:
            for folder in (source, target):
                shutil.rmtree(folder, ignore_errors=True)

    def _run(self, files: list[str], target: Path, count: int) -> None:
        timeout = self.start_seconds + self.seconds_per_letter * count
        command = [
            self.soffice,
            f"-env:UserInstallation={self._profile}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nologo",
            "--nodefault",
            "--convert-to",
            PDF_FILTER,
            "--outdir",
            str(target),
            *files,
        ]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._env,
                cwd=self.workdir,
                start_new_session=True,
            )
        except OSError as exc:
            raise LibreOfficeError(
                f"无法启动 LibreOffice({self.soffice}):{exc.strerror or exc}",
                hint=f"请确认 LibreOffice 安装完好:{INSTALL_COMMAND}",
            ) from exc
        try:
            _out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise LibreOfficeError(
                f"LibreOffice 转换 {count} 份文书超过 {timeout:g} 秒仍未完成,已终止",
                hint="本批文书均未生成 PDF;机器繁忙时可用 --jobs 减少并行进程后重新运行 docgen pdf",
            ) from None
        except BaseException:
            _kill_group(process)
            raise
        if process.returncode != 0:
            how = _how_it_ended(process.returncode)
            said = _tail(err)
            raise LibreOfficeError(
                f"LibreOffice 转换 {count} 份文书时异常退出({how})" + (f":{said}" if said else ""),
                hint="本批文书均未生成 PDF;请重新运行 docgen pdf,仍失败时用 soffice 打开文书查看",
            )

    @staticmethod
    def _output(path: Path, label: str) -> bytes:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise LibreOfficeError(
                f"LibreOffice 没有生成 {label} 的 PDF",
                hint="本批文书均未生成 PDF;请用 soffice 打开该文书看能否正常显示,再运行 docgen pdf",
            ) from None
        if not data.startswith(b"%PDF-"):
            raise LibreOfficeError(
                f"LibreOffice 为 {label} 生成的文件不是 PDF",
                hint="本批文书均未生成 PDF;请重新运行 docgen pdf",
            )
        return data
