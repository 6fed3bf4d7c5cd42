"""PAdES benchmark: ms per PDF signature with the CJK stamp, without a stamp, with a naive font
load per signature, and ms to verify a signed letter's PDF; peak RSS for each N.

Usage::

    python benchmarks/bench_pades.py [--counts 100 1000] [--naive-sample 5] [--workdir DIR]

Set-up (not timed): a workspace with the demo roster, its CA and keys, one letter rendered to
PDF by LibreOffice, and the signer's key opened once — key unlocking (scrypt) is its own row in
benchmarks/bench.py and is excluded here, as the target says. Each row runs in a fresh child
process, so its peak RSS is its own and the font is loaded once in it, as in one ``docgen sign``:

* ``pades, CJK stamp`` — docgen's :func:`docgen.signing.pades.sign_pdf`: the 签名 line found in
  the text layer, the stamp (name, 职务, time, serial) in Noto Sans CJK SC prepared once per
  process, PAdES-B-LT with the CA certificate and CRL in the signature's revision. Each of the N
  signatures is the superior's first signature on the unsigned rendition (same work each time).
  The first signature of the process (font preparation, ≈1 s) is included in the mean.
* ``pades, CJK stamp, 签名 line already read`` — the same, with the lines read once before: as
  for the second party of a letter in the bulk mode (:mod:`docgen.signing.pdf_sign` keeps the
  lines of a rendition for the process), or in any run that signs one rendition twice.
* ``pades, no stamp`` — the same signature without a stamp (``visible=False``).
* ``naive: font loaded per signature`` — pyHanko's stock ``GlyphAccumulatorFactory`` on the SC
  face of the collection (saved once as an .otf: pyHanko cannot open a .ttc), which reads and
  subsets the whole font at every signature; timed on a sample.
* ``verify one letter's PDF`` — :func:`docgen.verify.pdf_check.check_signed_pdf` on a PDF both
  parties signed (pyHanko validation of both signatures, revocation required).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

YEAR = 2027
ISSUED = datetime(2027, 1, 5, 9, 0, 0, tzinfo=UTC)
SIGNED = ISSUED + timedelta(hours=1)
PASSPHRASE = b"bench-passphrase-2027"
DOC = f"{YEAR}-ZR-P001-P002"


def _passphrase() -> Any:
    from docgen.signing.passphrase import Passphrase

    return Passphrase(PASSPHRASE, "基准测试")


def setup(workdir: Path) -> Path:
    """Workspace, CA, keys (light scrypt: unlocking is not measured here), one rendition."""
    from docgen.core import pkcs8
    from docgen.core.workspace import find_workspace
    from docgen.letters.generate import generate
    from docgen.letters.workspace_init import init_workspace
    from docgen.registry import open_registry
    from docgen.roster.example import example_roster_yaml
    from docgen.roster.load import load_roster
    from docgen.signing.ca import init_ca
    from docgen.signing.certificates import issue_certificates

    root = workdir / "ws"
    institution = "庆城县人民检察院"
    init_workspace(
        root, institution=institution, year=YEAR, roster_yaml=example_roster_yaml(institution)
    )
    ws = find_workspace(root)
    with pkcs8.scrypt_cost(pkcs8.ScryptCost(n=2**6, r=8, p=1)):  # set-up only
        ca = init_ca(ws.keys_dir, institution=institution, passphrase=_passphrase(), now=ISSUED)
        issued = issue_certificates(
            ws.keys_dir, load_roster(ws.roster_path), None, institution=institution,
            ca_passphrase=_passphrase(), passphrase=_passphrase(), now=ISSUED, days=730,
        )  # fmt: skip
    with open_registry(ws) as registry:
        registry.append([*ca.records, *issued.records], now=ISSUED)
    generate(ws, YEAR, now=ISSUED)
    with open_registry(ws) as registry:
        document = next(
            e.record for e in registry.entries(type="document") if e.record["doc_id"] == DOC
        )
    docx = ws.year_dir(YEAR) / document["path"]
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            ["soffice", "--headless", f"-env:UserInstallation=file://{profile}",
             "--convert-to", "pdf", "--outdir", str(workdir), str(docx)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    (workdir / (docx.stem + ".pdf")).rename(workdir / "rendition.pdf")
    (workdir / "document.json").write_text(json.dumps(document, ensure_ascii=False))
    return root


def _context(workdir: Path) -> tuple[Any, Any, dict[str, Any], bytes]:
    from docgen.core.workspace import find_workspace
    from docgen.registry import open_registry
    from docgen.signing.pdf_sign import pades_setup
    from docgen.signing.revocation_state import read_revocation_state
    from docgen.signing.signer import load_signer

    ws = find_workspace(workdir / "ws")
    with open_registry(ws) as registry:
        pades = pades_setup(ws.keys_dir, registry, now=SIGNED)
        state = read_revocation_state(registry, pades.ca_cert)
    signers = {
        pid: load_signer(ws.keys_dir, pid, _passphrase(), now=SIGNED, registered=state)
        for pid in ("P001", "P002")
    }
    document = json.loads((workdir / "document.json").read_text())
    return pades, signers, document, (workdir / "rendition.pdf").read_bytes()


def _naive_factory(workdir: Path) -> Any:
    """pyHanko's stock font engine on the SC face saved alone as an .otf (once, not timed)."""
    from fontTools.ttLib import TTCollection
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    from docgen.signing.stamp import FONT_SIZE, find_font

    otf = workdir / "NotoSansCJKsc-Regular.otf"
    if not otf.exists():
        path, index = find_font()
        TTCollection(path).fonts[index].save(otf)
    return GlyphAccumulatorFactory(str(otf), font_size=FONT_SIZE)


def child(mode: str, count: int, workdir: Path) -> dict[str, Any]:
    from docgen.signing import stamp
    from docgen.signing.pades import sign_pdf

    pades, signers, document, pdf = _context(workdir)
    where = str(workdir / "rendition.pdf")
    times: list[float] = []
    cpu: list[float] = []  # process CPU time: what a signature costs, whatever else runs
    if mode == "verify":
        import hashlib

        from docgen.signing.pades import pdf_signature_record
        from docgen.verify.pdf_check import check_signed_pdf

        rendition = {
            "doc_id": DOC, "path": "x.pdf", "docx_sha256": document["sha256"],
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(), "pdf_size": len(pdf),
        }  # fmt: skip
        records, data = [], pdf
        for pid in ("P001", "P002"):
            signed = sign_pdf(data, signers[pid], document, pades, now=SIGNED, where=where)
            party = "superior" if pid == "P001" else "subordinate"
            records.append(pdf_signature_record(
                DOC, signers[pid], party, pdf_path="x.pdf",
                previous_sha256=hashlib.sha256(data).hexdigest(), signed=signed.data,
                field=signed.field, signing_time=SIGNED.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ))  # fmt: skip
            data = signed.data
        for _ in range(count):
            start, start_cpu = time.perf_counter(), time.process_time()
            verdict = check_signed_pdf(
                data, document=document, rendition=rendition, pdf_signatures=records,
                ca_cert=pades.ca_cert,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert verdict.ok and verdict.complete, verdict.detail
    else:
        if mode == "naive":
            factory = _naive_factory(workdir)
            original = stamp._PreparedFactory
            stamp._PreparedFactory = lambda _font, _size: factory  # type: ignore[assignment,misc]
        signer = signers["P001"]
        line = None
        if mode == "known":  # as for the second party of a letter: the lines were read once
            from docgen.signing.pdf_layout import find_signature_lines

            names = {p["party"]: p["name"] for p in document["parties"]}
            line = find_signature_lines(pdf, names, where=where)["superior"]
        for _ in range(count):
            start, start_cpu = time.perf_counter(), time.process_time()
            sign_pdf(
                pdf, signer, document, pades,
                now=SIGNED, where=where, visible=mode != "plain", line=line,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        if mode == "naive":
            stamp._PreparedFactory = original  # type: ignore[misc]
    return {
        "mode": mode,
        "count": count,
        "mean_ms": 1000 * statistics.fmean(times),
        "median_ms": 1000 * statistics.median(times),
        "first_ms": 1000 * times[0],
        "rest_mean_ms": 1000 * statistics.fmean(times[1:]) if len(times) > 1 else None,
        "rest_cpu_ms": 1000 * statistics.fmean(cpu[1:]) if len(cpu) > 1 else None,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(mode: str, count: int, workdir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(count), "--workdir", str(workdir)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{mode} × {count} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


LABELS = {
    "stamp": "pades, CJK stamp, 签名 line read from the PDF",
    "known": "pades, CJK stamp, 签名 line already read",
    "plain": "pades, no stamp",
    "naive": "naive: font loaded per signature",
    "verify": "verify one letter's PDF (2 signatures)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--naive-sample", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "COUNT"))
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        print(json.dumps(child(args.child[0], int(args.child[1]), args.workdir)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not (workdir / "rendition.pdf").exists():
            setup(workdir)
        rows = [run_child("naive", args.naive_sample, workdir)] if args.naive_sample else []
        for count in args.counts:
            modes = ("stamp", "known", "plain", "verify")
            rows += [run_child(mode, count, workdir) for mode in modes]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        "| row | N | mean ms | median ms | first ms | mean ms after the first "
        "| CPU ms after the first | peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        rest = "" if row["rest_mean_ms"] is None else f"{row['rest_mean_ms']:.1f}"
        rest_cpu = "" if row["rest_cpu_ms"] is None else f"{row['rest_cpu_ms']:.1f}"
        print(
            f"| {LABELS[row['mode']]} | {row['count']} | {row['mean_ms']:.1f} | "
            f"{row['median_ms']:.1f} | {row['first_ms']:.1f} | {rest} | {rest_cpu} | "
            f"{row['peak_rss_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
