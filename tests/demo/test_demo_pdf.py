"""``docgen demo`` with LibreOffice: every letter's PDF carries both parties' visible PAdES
signatures, judged by independent validators (poppler's pdfsig with NSS, pyHanko's validator),
its QR code read back by a decoder, a changed byte caught by all three, and the year archive
carrying the PDFs, checked by VERIFY.txt's commands run literally and by verify.sh.

The demo runs once for the module, dated from the real clock (a few minutes ago): pdfsig judges
certificates at the machine's current time and has no option to take another. That clock read is
here, at the tests' edge; docgen is handed ``now``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.utils import CryptographyDeprecationWarning

from docgen.core.workspace import find_workspace
from docgen.demo.run import DemoResult, run_demo
from docgen.verify.archive import build_archive
from tests.helpers import run_docgen
from tests.signing.pades_support import nss_trusting, pdfsig

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.status import SignatureCoverageLevel

_TOOLS = ("soffice", "pdfsig", "pdftoppm", "zbarimg", "certutil")
pytestmark = [
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in _TOOLS),
        reason="需要 LibreOffice、poppler-utils、zbar-tools 和 libnss3-tools:"
        "apt install libreoffice-writer-nogui fonts-noto-cjk poppler-utils zbar-tools "
        "libnss3-tools",
    ),
    pytest.mark.slow,
]

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
LETTERS = 59
VALID = "Signature Validation: Signature is Valid."
TRUSTED = "Certificate Validation: Certificate is Trusted."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoResult, list[str]]]:
    said: list[str] = []
    root = tmp_path_factory.mktemp("demo-pdf") / "demo"
    result = run_demo(root, now=NOW, say=said.append, pdf=True)
    yield result, said


def _pdfs(result: DemoResult) -> list[Path]:
    return sorted(result.artefacts["文书目录"].glob("*/*.pdf"))


@pytest.fixture(scope="module")
def nss(demo: tuple[DemoResult, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    result, _ = demo
    made = nss_trusting(
        result.workspace / "keys" / "ca" / "ca.pem", tmp_path_factory.mktemp("nss") / "db"
    )
    assert made is not None
    return made


def test_the_demo_makes_and_signs_a_pdf_for_every_letter(
    demo: tuple[DemoResult, list[str]],
) -> None:
    result, said = demo
    assert result.pdfs == LETTERS
    assert result.pdf_signatures == 2 * LETTERS
    assert result.verified == LETTERS
    text = "\n".join(said)
    assert f"已生成 PDF/A 副本 {LETTERS} 份并登记" in text
    assert f"PDF 副本已由双方签署:共 {2 * LETTERS} 个 PAdES 签名" in text
    assert "未找到 LibreOffice" not in text
    pdfs = _pdfs(result)
    assert len(pdfs) == LETTERS
    for pdf in pdfs:  # beside its .docx, with exactly two signatures: 甲方 then 乙方 or back
        assert pdf.with_suffix(".docx").is_file()
        reader = PdfFileReader(io.BytesIO(pdf.read_bytes()), strict=False)
        names = sorted(str(s.field_name) for s in reader.embedded_signatures)
        assert names == ["docgen-subordinate", "docgen-superior"], pdf


def test_pdfsig_trusting_the_demo_ca_reports_every_signature_valid(
    demo: tuple[DemoResult, list[str]], nss: Path
) -> None:
    result, _ = demo
    for pdf in _pdfs(result):
        report = pdfsig(pdf, nss)
        assert report.count(VALID) == 2, report
        assert report.count(TRUSTED) == 2, report
        second = report.split("Signature #2:", 1)[1]
        assert "Total document signed" in second, report  # nothing after the 2nd signature
        assert report.count("Signature Type: ETSI.CAdES.detached") == 2


def _pyhanko(data: bytes, ca_pem: bytes) -> list[tuple[str, object]]:
    """pyHanko's verdict on each signature: the demo CA the only trust root, revocation
    required (from the CRL in the PDF's security store), at the time the signature states (the
    demo signs in rounds through January: a CRL of then is not in force today)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    root = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(ca_pem).public_bytes(serialization.Encoding.DER)
    )
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    dss = DocumentSecurityStore.read_dss(reader)
    out = []
    for embedded in sorted(reader.embedded_signatures, key=lambda s: s.signed_revision):
        context = dss.as_validation_context(
            {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail",
             "moment": embedded.self_reported_timestamp}
        )  # fmt: skip
        out.append((str(embedded.field_name), validate_pdf_signature(embedded, context)))
    return out


def test_pyhanko_reports_every_signature_valid_and_the_document_unmodified(
    demo: tuple[DemoResult, list[str]],
) -> None:
    result, _ = demo
    ca_pem = (result.workspace / "keys" / "ca" / "ca.pem").read_bytes()
    for pdf in _pdfs(result):
        statuses = _pyhanko(pdf.read_bytes(), ca_pem)
        assert len(statuses) == 2
        for n, (name, status) in enumerate(statuses):
            assert status.intact and status.valid and status.trusted, (pdf, name, status)
            assert not status.revoked
            if n == 1:
                assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE, pdf
            else:
                assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
                assert status.modification_level <= ModificationLevel.FORM_FILLING


def _inside_a_long_stream(data: bytes) -> int:
    at = data.find(b"stream")
    while at >= 0:
        end = data.find(b"endstream", at)
        if end - at > 4000:
            return at + 2000
        at = data.find(b"stream", end + 9)
    raise AssertionError("no long stream in the PDF")


def test_one_changed_byte_is_caught_by_pdfsig_pyhanko_and_docgen_verify(
    demo: tuple[DemoResult, list[str]], nss: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = demo
    pdf = _pdfs(result)[0]
    honest = pdf.read_bytes()
    data = bytearray(honest)
    data[_inside_a_long_stream(honest)] ^= 0x01
    try:
        pdf.write_bytes(bytes(data))
        assert VALID not in pdfsig(pdf, nss)
        statuses = _pyhanko(bytes(data), (result.workspace / "keys/ca/ca.pem").read_bytes())
        assert not any(status.intact for _, status in statuses)
        monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
        out = run_docgen(
            "verify", "--workspace", str(result.workspace), str(pdf.with_suffix(".docx"))
        )
        assert out.code == 1, out.text
        assert "✗ 9. PDF 转换件的签名有效、签后未被改动:PDF 文件与登记的不一致" in out.text
        assert pdf.with_suffix(".docx").name in out.text
    finally:
        pdf.write_bytes(honest)


def test_the_qr_code_on_the_rendered_page_decodes_to_the_letter(
    demo: tuple[DemoResult, list[str]], tmp_path: Path
) -> None:
    result, _ = demo
    pdf = _pdfs(result)[0]
    doc_id = pdf.stem.split("_", 1)[0]
    subprocess.run(
        ["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    page = next(tmp_path.glob("p*.png"))
    done = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    payload = done.stdout.strip()
    assert re.fullmatch(rf"DOCGEN1:[^:]+:{re.escape(doc_id)}:[^:]+", payload), payload


# --- the year archive carries the signed PDFs ---


@pytest.fixture(scope="module")
def extracted(demo: tuple[DemoResult, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    result, _ = demo
    target = tmp_path_factory.mktemp("archive") / f"archive-{NOW.year}"
    with zipfile.ZipFile(result.artefacts["年度档案包"]) as zf:
        zf.extractall(target)
    return target


def test_the_archive_carries_every_signed_pdf_as_registered(
    demo: tuple[DemoResult, list[str]], extracted: Path
) -> None:
    result, _ = demo
    archived = sorted(p.relative_to(extracted) for p in extracted.glob("*/*.pdf"))
    year_dir = result.artefacts["文书目录"]
    assert archived == [p.relative_to(year_dir) for p in _pdfs(result)]
    for rel in archived:
        assert (extracted / rel).read_bytes() == (year_dir / rel).read_bytes()
    archive_manifest = json.loads((extracted / "manifest.json").read_text(encoding="utf-8"))
    with_pdf = [d for d in archive_manifest["documents"] if "pdf" in d]
    assert len(with_pdf) == LETTERS
    assert all(len(d["pdf"]["signed_by"]) == 2 for d in with_pdf)
    assert all(str(rel) in archive_manifest["files"] for rel in archived)
    # their registry records are in the proof bundles: the rendition and both PDF signatures
    for doc in with_pdf:
        bundle = json.loads((extracted / doc["proof"]).read_text(encoding="utf-8"))
        types = [json.loads(e["entry"])["type"] for e in bundle["entries"]]
        assert types.count("rendition") == 1, types
        assert types.count("pdf_signature") == 2, types


def test_verify_sh_checks_each_pdf_against_the_registry(extracted: Path, tmp_path: Path) -> None:
    folder = tmp_path / "a"
    shutil.copytree(extracted, folder)
    done = subprocess.run(
        ["bash", "verify.sh"], cwd=folder, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    pdf_ok = [line for line in lines if line.startswith("✓") and ".pdf(" in line]
    assert len(pdf_ok) == LETTERS
    assert all(line.endswith("(PDF 副本与登记的一致,含 2 个 PDF 签名)") for line in pdf_ok)
    assert lines[-1] == "全部核对通过"
    # one changed byte in a PDF: named, and the script fails
    pdf = sorted(folder.glob("*/*.pdf"))[3]
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    done = subprocess.run(
        ["bash", "verify.sh"], cwd=folder, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 1
    rel = str(pdf.relative_to(folder))
    assert f"✗ {rel}:PDF 副本与登记的 SHA-256 不一致" in done.stdout, done.stdout


def test_verify_txt_pdf_commands_run_literally(extracted: Path, tmp_path: Path) -> None:
    """Every command of VERIFY.txt's third part and appendix (certutil, pdfsig) as written, in
    the extracted archive: each PDF's two signatures valid and trusted."""
    folder = tmp_path / "work" / extracted.name
    shutil.copytree(extracted, folder)
    text = (folder / "VERIFY.txt").read_text(encoding="utf-8")
    assert "第三部分 核对 PDF 副本上的签名" in text
    commands = [line[4:] for line in text.splitlines() if line.startswith("  $ ")]
    wanted = [c for c in commands if c.split()[0] in ("mkdir", "certutil", "pdfsig")]
    assert sum(1 for c in wanted if c.startswith("pdfsig ")) == LETTERS
    outputs = []
    for command in wanted:
        done = subprocess.run(
            ["bash", "-c", command], cwd=folder, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        outputs.append(done.stdout + done.stderr)
    joined = "\n".join(outputs)
    assert joined.count(VALID) == 2 * LETTERS
    assert joined.count(TRUSTED) == 2 * LETTERS
    assert joined.count("Total document signed") == LETTERS


def test_docgen_verify_checks_the_archive_with_its_pdfs(
    demo: tuple[DemoResult, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = demo
    archive = result.artefacts["年度档案包"]
    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    out = run_docgen("verify", str(archive))
    assert out.code == 0, out.text[-3000:]
    assert out.text.count("✓ 9. PDF 转换件的签名有效、签后未被改动") == LETTERS
    # a PDF removed from the archive: the archive no longer matches its manifest
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    gone = next(name for name in members if name.endswith(".pdf"))
    del members[gone]
    changed = tmp_path / archive.name
    with zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    out = run_docgen("verify", str(changed))
    assert out.code == 1, out.text[-3000:]
    assert f"登记了 PDF 转换件,但没有提供 PDF 文件({gone}),未核对 PDF" in out.text
    assert "manifest.json 与按已验证内容重新生成的不同" in out.text


def test_archive_volumes_carry_their_letters_pdfs(
    demo: tuple[DemoResult, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year packed in volumes: each volume carries the PDFs of its own letters, and its
    verify.sh checks them; docgen verify passes the volumes given together."""
    result, _ = demo
    ws = find_workspace(result.workspace)
    built = build_archive(ws, NOW.year, output=tmp_path / "a.zip", volume_letters=30)
    volumes = sorted(v.path for v in built.volumes)
    assert len(volumes) == 2
    pdfs = 0
    for volume in volumes:
        folder = tmp_path / volume.stem
        with zipfile.ZipFile(volume) as zf:
            zf.extractall(folder)
            names = zf.namelist()
        docx = {n[: -len(".docx")] for n in names if n.endswith(".docx")}
        pdf = {n[: -len(".pdf")] for n in names if n.endswith(".pdf")}
        assert pdf == docx  # each letter of the volume with its PDF, no other
        pdfs += len(pdf)
        done = subprocess.run(
            ["bash", "verify.sh"], cwd=folder, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert sum(1 for line in done.stdout.splitlines() if ".pdf(" in line) == len(pdf)
    assert pdfs == LETTERS
    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    out = run_docgen("verify", *map(str, volumes))
    assert out.code == 0, out.text[-3000:]
