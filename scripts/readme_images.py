"""Regenerate docs/img/signed-letter.png: the signature page of one letter the demo signed, as its
PDF shows it — both parties' stamps on their 签名 lines — and print what pdfsig says of it.

Usage: python scripts/readme_images.py [--now 2027-01-10T09:00:00+08:00] [--keep DIR]

Runs ``docgen demo`` (the library, not the CLI) in a temporary folder with PDFs on, finds the
first responsibility letter's 签名 block the way signing found it (its text layer), renders that
page with pdftoppm at 110 dpi and keeps the lower part of the page, from a little above the block.
What a PDF reader's signature panel shows cannot be captured headless; pdfsig's report (NSS,
trusting the demo CA) is printed instead, for the README. Needs LibreOffice (soffice), poppler
(pdftoppm, pdfsig) and certutil (libnss3-tools); without them it says so and does nothing.
``--now`` defaults to the clock: pdfsig judges certificates at the current time only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from docgen.demo.run import run_demo  # noqa: E402
from docgen.signing.pdf_layout import find_signature_lines  # noqa: E402

TARGET = ROOT / "docs" / "img" / "signed-letter.png"
DPI = 110
TOOLS = ("soffice", "pdftoppm", "pdfsig", "certutil")
MAX_BYTES = 300 * 1024


def _signature_page(pdf: Path, out: Path) -> Path:
    """The page with the 签名 block rendered to PNG and cut to the block and what precedes it."""
    data = pdf.read_bytes()
    lines = find_signature_lines(data, {}, where=str(pdf))
    superior = lines["superior"]
    page = superior.page + 1
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-png", "-singlefile",
         str(pdf), str(out / "page")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    image = Image.open(out / "page.png")
    scale = DPI / 72
    top_points = superior.line.y1 + 170  # the letter's last lines and the parties' headers
    bottom_points = min(superior.stamp_box().y0, lines["subordinate"].stamp_box().y0) - 30
    height_points = image.height / scale
    box = (
        0,
        max(0, round((height_points - top_points) * scale)),
        image.width,
        min(image.height, round((height_points - bottom_points) * scale)),
    )
    cropped = image.crop(box).convert("RGB")
    path = out / "signed-letter.png"
    cropped.save(path, optimize=True)
    return path


def _pdfsig_report(pdf: Path, ca_pem: Path, work: Path) -> str:
    nss = work / "nssdb"
    nss.mkdir()
    env = {**os.environ, "LANG": "C"}
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "docgen-ca", "-t", "C,C,C", "-i",
         str(ca_pem)],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    done = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", pdf.name],
        cwd=pdf.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--now", help="the demo's time (ISO 8601), default: a minute ago")
    parser.add_argument("--keep", type=Path, help="run the demo in this (new) folder, kept")
    args = parser.parse_args()
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"缺少 {'、'.join(missing)},未生成图片:apt install libreoffice-writer-nogui "
              "fonts-noto-cjk poppler-utils libnss3-tools")  # fmt: skip
        return 1
    now = (
        datetime.fromisoformat(args.now)
        if args.now
        else datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    )
    with tempfile.TemporaryDirectory(prefix="readme-images-") as tmp:
        work = Path(tmp)
        folder = args.keep or work / "demo"
        result = run_demo(folder, now=now, say=lambda _line: None, pdf=True)
        if not result.pdfs:
            print("演示没有生成 PDF 副本,未生成图片")
            return 1
        pdf = sorted((result.artefacts["文书目录"] / "党风廉政建设责任书").glob("*.pdf"))[0]
        png = _signature_page(pdf, work)
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, TARGET)
        size = TARGET.stat().st_size
        print(f"{TARGET.relative_to(ROOT)}: {pdf.name}, {size // 1024} KB")
        if size > MAX_BYTES:
            print(f"注意:图片超过 {MAX_BYTES // 1024} KB")
        print(_pdfsig_report(pdf, folder / "keys" / "ca" / "ca.pem", work))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
