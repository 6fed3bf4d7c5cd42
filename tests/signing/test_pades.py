"""PAdES signatures of PDF renditions: judged by pyHanko's validator and poppler's pdfsig, the
stamps found on the page by pdftoppm and pdftotext, and docgen's own PDF check.

Real files throughout: LibreOffice makes the PDFs, the test PKI signs them, the registry keeps the
records. Each attack is a test that must fail the check: a byte changed, something appended
after the last signature, a revoked certificate, another CA, a record that does not match.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning
from pades_support import (
    PERSON_PASSPHRASE,
    SIGNED_AT,
    YEAR,
    build_pdf_workspace,
    copy_workspace,
    doc_id,
    needs_poppler,
    needs_soffice,
    nss_trusting,
    pdfsig,
    pdftotext_words,
)
from PIL import Image, ImageDraw

from docgen.core.errors import ValidationError
from docgen.core.workspace import Workspace
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.crl import build_crl, revoked_entry
from docgen.signing.pades import field_name, sign_pdf
from docgen.signing.pdf_layout import find_signature_lines
from docgen.signing.pdf_sign import (
    LetterPdf,
    letter_pdfs,
    pades_setup,
    sign_letter_pdfs,
)
from docgen.signing.revocation_state import read_revocation_state
from docgen.signing.signer import Signer, load_signer
from docgen.signing.stamp import beijing_time
from docgen.signing.x509util import RevocationReason
from docgen.verify.pdf_check import PdfVerdict, check_signed_pdf

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.generic import NameObject, StreamObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.status import SignatureCoverageLevel

pytestmark = [needs_soffice, pytest.mark.slow]

ZR = doc_id("ZR-P001-P002")  # 张明远 (P001, 甲方) × 李卫东 (P002, 乙方)
LJ = doc_id("LJ-P004-P005")  # 马俊峰 (P004, 甲方) × 宋佳琪 (P005, 乙方)


@pytest.fixture(scope="module")
def pdf_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pades") / "ws"
    build_pdf_workspace(root)
    return root


@pytest.fixture
def ws(pdf_template: Path, tmp_path: Path) -> Workspace:
    return copy_workspace(pdf_template, tmp_path / "ws")


def _signer(ws: Workspace, person_id: str) -> Signer:
    with open_registry(ws) as registry:
        state = read_revocation_state(registry, load_ca_certificate(ws.keys_dir))
    return load_signer(ws.keys_dir, person_id, PERSON_PASSPHRASE, now=SIGNED_AT, registered=state)


def _letter(ws: Workspace, wanted: str) -> LetterPdf:
    with open_registry(ws) as registry:
        return letter_pdfs(registry, [wanted])[wanted]


def _pdf_path(ws: Workspace, letter: LetterPdf) -> Path:
    assert letter.rendition is not None
    return ws.year_dir(YEAR) / letter.rendition["path"]


def _sign(ws: Workspace, wanted: str, *people: str, at: datetime = SIGNED_AT) -> Path:
    """``people`` sign the PDF of ``wanted`` in this order, as ``docgen sign`` does: files
    written, records appended."""
    for person in people:
        letter = _letter(ws, wanted)
        with open_registry(ws) as registry:
            setup = pades_setup(ws.keys_dir, registry, now=at)
        batch = sign_letter_pdfs(
            ws.year_dir(YEAR), [letter], _signer(ws, person), setup,
            now=at, signing_time=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )  # fmt: skip
        assert batch.signed == [wanted]
        for path, data in batch.writes:
            path.write_bytes(data)
        with open_registry(ws) as registry:
            registry.append(batch.records, now=at)
    return _pdf_path(ws, _letter(ws, wanted))


def _check(
    ws: Workspace,
    wanted: str,
    data: bytes | None = None,
    *,
    ca: x509.Certificate | None = None,
    crls: tuple[x509.CertificateRevocationList, ...] = (),
    letter: LetterPdf | None = None,
) -> PdfVerdict:
    letter = letter or _letter(ws, wanted)
    if data is None:
        data = _pdf_path(ws, letter).read_bytes()
    return check_signed_pdf(
        data,
        document=letter.document,
        rendition=letter.rendition,
        pdf_signatures=letter.signatures,
        ca_cert=ca or load_ca_certificate(ws.keys_dir),
        crls=crls,
    )


def _pyhanko_statuses(pdf: bytes, ca: x509.Certificate) -> list[Any]:
    """pyHanko's own validation, set up here independently of docgen: the CA as the only trust
    root, revocation information required (hard-fail), the CRL taken from the PDF's DSS."""
    root = asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf))
    dss = DocumentSecurityStore.read_dss(reader)
    statuses = []
    for embedded in reader.embedded_signatures:
        context = dss.as_validation_context(
            {
                "trust_roots": [root],
                "allow_fetching": False,
                "revocation_mode": "hard-fail",
                "moment": SIGNED_AT,
            }
        )
        statuses.append((str(embedded.field_name), validate_pdf_signature(embedded, context)))
    return statuses


# --- signing in either order: every validator says valid, the document unmodified ---


@pytest.mark.parametrize("order", [("P001", "P002"), ("P002", "P001")], ids=["甲先", "乙先"])
def test_both_orders_validate_in_pyhanko_and_docgen(ws: Workspace, order: tuple[str, str]) -> None:
    pdf = _sign(ws, ZR, *order)
    data = pdf.read_bytes()
    statuses = _pyhanko_statuses(data, load_ca_certificate(ws.keys_dir))
    parties = {"P001": "superior", "P002": "subordinate"}
    assert [name for name, _ in statuses] == [field_name(parties[p]) for p in order]
    for _name, status in statuses:
        assert status.intact and status.valid and status.trusted and not status.revoked
        assert status.bottom_line
        assert status.revocation_details is None
    # The last signature covers the whole file: nothing follows it, not even the DSS.
    assert statuses[-1][1].coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert statuses[0][1].coverage == SignatureCoverageLevel.ENTIRE_REVISION
    verdict = _check(ws, ZR)
    assert verdict.ok and verdict.complete, verdict.detail
    assert "2 个签名均有效" in verdict.detail


def test_pdf_starts_with_the_registered_rendition(ws: Workspace) -> None:
    rendition = _letter(ws, ZR).rendition
    assert rendition is not None
    data = _sign(ws, ZR, "P001", "P002").read_bytes()
    size = rendition["pdf_size"]
    assert hashlib.sha256(data[:size]).hexdigest() == rendition["pdf_sha256"]


def test_dss_holds_the_ca_certificate_and_the_crl(ws: Workspace) -> None:
    data = _sign(ws, ZR, "P001").read_bytes()
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(data)))
    ca_der = load_ca_certificate(ws.keys_dir).public_bytes(serialization.Encoding.DER)
    assert ca_der in [c.dump() for c in dss.load_certs()]
    crl_der = (ws.keys_dir / "ca" / "crl.der").read_bytes()
    assert [ref.get_object().data for ref in dss.crls] == [crl_der]


@needs_poppler
def test_pdfsig_reports_both_signatures_valid_and_the_document_whole(
    ws: Workspace, tmp_path: Path
) -> None:
    pdf = _sign(ws, ZR, "P002", "P001")
    nss = nss_trusting(ws.keys_dir / "ca" / "ca.pem", tmp_path / "nss")
    report = pdfsig(pdf, nss)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report
    assert "Signer Certificate Common Name: 李卫东" in report
    assert "Signer Certificate Common Name: 张明远" in report
    # The second signature covers the whole file: nothing was added after it.
    last = report.rsplit("Signature #2:", 1)[1]
    assert "Total document signed" in last and "Not total document signed" not in last
    if nss is not None:  # with the CA in NSS's database, pdfsig trusts the chain
        assert report.count("Certificate Validation: Certificate is Trusted.") == 2, report


@needs_poppler
def test_a_changed_byte_is_reported_by_pyhanko_pdfsig_and_docgen(ws: Workspace) -> None:
    pdf = _sign(ws, ZR, "P001", "P002")
    data = bytearray(pdf.read_bytes())
    data[_inside_a_long_stream(bytes(data))] ^= 0x01

    pdf.write_bytes(bytes(data))
    statuses = _pyhanko_statuses(bytes(data), load_ca_certificate(ws.keys_dir))
    assert all(not status.intact for _name, status in statuses)
    report = pdfsig(pdf)
    assert "Signature Validation: Signature is Valid." not in report, report
    verdict = _check(ws, ZR)
    assert not verdict.ok
    assert "PDF 文件与登记的不一致" in verdict.detail


def _inside_a_long_stream(data: bytes) -> int:
    """An offset inside compressed stream data LibreOffice wrote (a font or page content),
    which both signatures cover and which a reader does not need to parse the file."""
    at = data.find(b"stream")
    while at >= 0:
        end = data.find(b"endstream", at)
        if end - at > 4000:
            return at + 2000
        at = data.find(b"stream", end + 9)
    raise AssertionError("no long stream in the PDF")


def _append_update(pdf: bytes) -> bytes:
    """An incremental update as an editor would save it: a word drawn on the last page and the
    document's title changed."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    last = writer.root["/Pages"]["/Count"] - 1
    drawing = StreamObject(stream_data=b"BT /Helv 24 Tf 100 150 Td (VOID) Tj ET")
    writer.add_stream_to_page(last, writer.add_object(drawing))
    info = writer.trailer.raw_get("/Info")
    info.get_object()[NameObject("/Title")] = TextStringObject("改过的标题")
    writer.mark_update(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@needs_poppler
def test_an_update_appended_after_the_last_signature_fails(ws: Workspace) -> None:
    pdf = _sign(ws, ZR, "P001", "P002")
    edited = _append_update(pdf.read_bytes())
    pdf.write_bytes(edited)
    statuses = _pyhanko_statuses(edited, load_ca_certificate(ws.keys_dir))
    assert statuses[-1][1].coverage != SignatureCoverageLevel.ENTIRE_FILE
    assert "Not total document signed" in pdfsig(pdf).rsplit("Signature #2:", 1)[1]
    verdict = _check(ws, ZR)
    assert not verdict.ok and "不一致" in verdict.detail
    # Even with the registry's last record rewritten to the edited file, the coverage fails.
    letter = _letter(ws, ZR)
    forged = (*letter.signatures[:-1], {**letter.signatures[-1], "pdf_sha256": _sha(edited)})
    verdict = _check(ws, ZR, letter=LetterPdf(ZR, letter.document, letter.rendition, forged))
    assert not verdict.ok
    assert "签名之后 PDF 除了后续签名还有其他改动" in verdict.detail, verdict.detail


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_update_between_the_signatures_fails(ws: Workspace) -> None:
    """The first signer's PDF edited, then signed by the second as if nothing happened (the
    registry bypassed): pyHanko's difference analysis sees more than a new signature."""
    pdf = _sign(ws, ZR, "P001")
    edited = _append_update(pdf.read_bytes())
    letter = _letter(ws, ZR)
    with open_registry(ws) as registry:
        setup = pades_setup(ws.keys_dir, registry, now=SIGNED_AT)
    second = sign_pdf(
        edited, _signer(ws, "P002"), letter.document, setup, now=SIGNED_AT, where=str(pdf)
    ).data
    records = (
        *letter.signatures,
        {
            **letter.signatures[0],
            "signer": "P002",
            "party": "subordinate",
            "previous_pdf_sha256": letter.signatures[0]["pdf_sha256"],
            "pdf_sha256": _sha(second),
            "cert_fingerprint": _signer(ws, "P002").fingerprint,
            "field": field_name("subordinate"),
        },
    )
    verdict = _check(
        ws, ZR, second, letter=LetterPdf(ZR, letter.document, letter.rendition, records)
    )
    assert not verdict.ok
    assert "甲方 P001" in verdict.detail, verdict.detail


# --- whose signature, which CA, revoked or not ---


def test_verified_against_another_ca_fails(ws: Workspace, tmp_path: Path) -> None:
    _sign(ws, ZR, "P001", "P002")
    other = build_pdf_workspace_ca_only(tmp_path / "other")
    verdict = _check(ws, ZR, ca=other)
    assert not verdict.ok
    assert "不能验证到本单位根证书" in verdict.detail


def build_pdf_workspace_ca_only(root: Path) -> x509.Certificate:
    from pades_support import CA_PASSPHRASE, INSTITUTION, ISSUED_AT

    from docgen.signing.ca import init_ca

    root.mkdir(parents=True)
    return init_ca(root, institution=INSTITUTION, passphrase=CA_PASSPHRASE, now=ISSUED_AT).cert


def _revoking_crl(ws: Workspace, person_id: str, at: datetime) -> x509.CertificateRevocationList:
    from pades_support import CA_PASSPHRASE

    ca_cert = load_ca_certificate(ws.keys_dir)
    ca_key = load_ca_key(ws.keys_dir, CA_PASSPHRASE, ca_cert)
    serial = _signer(ws, person_id).cert.serial_number
    entry = revoked_entry(serial, at, RevocationReason.KEY_COMPROMISE)
    return build_crl(ca_cert, ca_key, entries=[entry], number=99, now=at, days=30)


def test_a_certificate_revoked_before_signing_fails(ws: Workspace) -> None:
    _sign(ws, ZR, "P001", "P002")
    crl = _revoking_crl(ws, "P002", SIGNED_AT - timedelta(minutes=30))
    verdict = _check(ws, ZR, crls=(crl,))
    assert not verdict.ok
    assert "乙方 P002" in verdict.detail and "吊销" in verdict.detail


def test_a_revocation_after_signing_leaves_the_signature_valid(ws: Workspace) -> None:
    _sign(ws, ZR, "P001", "P002")
    crl = _revoking_crl(ws, "P002", SIGNED_AT + timedelta(minutes=30))
    verdict = _check(ws, ZR, crls=(crl,))
    assert verdict.ok, verdict.detail


def test_records_that_do_not_match_the_pdf_fail(ws: Workspace) -> None:
    _sign(ws, ZR, "P001", "P002")
    letter = _letter(ws, ZR)
    first, second = letter.signatures
    cases = {
        "其他证书": (first, {**second, "cert_fingerprint": "0" * 64}),
        "非签订方": (first, {**second, "signer": "P003"}),
        "顺序颠倒": (second, first),
        "少一个登记": (first,),
    }
    for case, records in cases.items():
        verdict = _check(ws, ZR, letter=LetterPdf(ZR, letter.document, letter.rendition, records))
        assert not verdict.ok, case
    wrong_docx = {**(letter.rendition or {}), "docx_sha256": "f" * 64}
    verdict = _check(ws, ZR, letter=LetterPdf(ZR, letter.document, wrong_docx, letter.signatures))
    assert not verdict.ok and "不是这份 .docx 的转换件" in verdict.detail


def test_no_rendition_is_said_not_passed(ws: Workspace) -> None:
    letter = _letter(ws, ZR)
    verdict = check_signed_pdf(
        None, document=letter.document, rendition=None, pdf_signatures=(),
        ca_cert=load_ca_certificate(ws.keys_dir),
    )  # fmt: skip
    assert not verdict.present and not verdict.ok
    assert "没有登记 PDF 转换件" in verdict.detail


def test_one_signature_is_valid_but_incomplete(ws: Workspace) -> None:
    _sign(ws, LJ, "P005")
    verdict = _check(ws, LJ)
    assert verdict.ok and not verdict.complete
    assert "甲方尚未签署 PDF" in verdict.detail


# --- refusals while signing ---


def test_signing_the_same_pdf_twice_is_refused(ws: Workspace) -> None:
    pdf = _sign(ws, ZR, "P001")
    letter = _letter(ws, ZR)
    with open_registry(ws) as registry:
        setup = pades_setup(ws.keys_dir, registry, now=SIGNED_AT)
    with pytest.raises(ValidationError, match="已有甲方"):
        sign_pdf(pdf.read_bytes(), _signer(ws, "P001"), letter.document, setup,
                 now=SIGNED_AT, where=str(pdf))  # fmt: skip


def test_a_pdf_changed_since_registration_is_not_signed(ws: Workspace) -> None:
    letter = _letter(ws, ZR)
    pdf = _pdf_path(ws, letter)
    pdf.write_bytes(pdf.read_bytes() + b"\n% appended\n")
    with open_registry(ws) as registry:
        setup = pades_setup(ws.keys_dir, registry, now=SIGNED_AT)
    with pytest.raises(ValidationError, match="与登记簿中的最新版本不一致"):
        sign_letter_pdfs(ws.year_dir(YEAR), [letter], _signer(ws, "P001"), setup,
                         now=SIGNED_AT, signing_time="x")  # fmt: skip


def test_a_pdf_without_a_signature_block_is_refused(ws: Workspace, tmp_path: Path) -> None:
    from pades_support import soffice_pdf

    text = tmp_path / "plain.txt"
    text.write_text("这是一份没有签名栏的文件。\n", encoding="utf-8")
    pdf = soffice_pdf(text, tmp_path).read_bytes()
    with pytest.raises(ValidationError, match="找不到“签名:____”签名栏"):
        find_signature_lines(pdf, {"superior": "张明远"}, where="plain.pdf")


def test_a_header_naming_someone_else_is_refused(ws: Workspace) -> None:
    pdf = _pdf_path(ws, _letter(ws, ZR)).read_bytes()
    with pytest.raises(ValidationError, match="不是王五,拒绝在此盖章"):
        find_signature_lines(pdf, {"superior": "王五", "subordinate": "李卫东"}, where="x.pdf")


# --- the stamp: on the party's own 签名 line, and what it says ---


def _red_regions(png: Path) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (pixels) of the stamps' red ink (border and text), in the left and the
    right half of the page."""
    image = Image.open(png).convert("RGB")
    width, height = image.size
    pixels = image.load()
    boxes = []
    for left, right in ((0, width // 2), (width // 2, width)):
        xs, ys = [], []
        for y in range(height):
            for x in range(left, right):
                r, g, b = pixels[x, y]
                if r > 120 and g < 100 and b < 100:
                    xs.append(x)
                    ys.append(y)
        if xs:
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


@needs_poppler
def test_each_stamp_is_on_its_partys_signature_line(ws: Workspace, tmp_path: Path) -> None:
    import subprocess

    pdf = _sign(ws, LJ, "P005", "P004")
    pages = len(PdfFileReader(io.BytesIO(pdf.read_bytes())).root["/Pages"]["/Kids"])
    subprocess.run(
        ["pdftoppm", "-r", "72", "-f", str(pages), "-l", str(pages), "-png", str(pdf),
         str(tmp_path / "page")],
        check=True, timeout=60,
    )  # fmt: skip
    png = next(tmp_path.glob("page*.png"))
    regions = _red_regions(png)
    assert len(regions) == 2, regions  # one stamp in each column
    # 签名 lines as poppler reads them (72 dpi: one pixel is one point, origin top left).
    lines = sorted(
        (w for w in pdftotext_words(pdf, pages) if w[0].startswith("签名")), key=lambda w: w[1]
    )
    assert len(lines) == 2
    for (x0, y0, x1, y1), (_text, lx0, ly0, lx1, ly1) in zip(regions, lines, strict=True):
        where = f"stamp {(x0, y0, x1, y1)}, line {(lx0, ly0, lx1, ly1)}"
        assert lx0 < x0 < lx1 and x1 > lx1, where  # on this column's blank, right of the label
        assert y0 < ly1 and ly0 < y1, where  # the stamp crosses the line
    (tmp_path / "look.png").write_bytes(png.read_bytes())


@needs_poppler
def test_the_stamp_says_name_title_time_and_serial(ws: Workspace) -> None:
    """poppler draws the stamp (the widget's appearance) and reads its text back."""
    pdf = _sign(ws, ZR, "P001")
    pages = len(PdfFileReader(io.BytesIO(pdf.read_bytes())).root["/Pages"]["/Kids"])
    text = " ".join(w[0] for w in pdftotext_words(pdf, pages))
    serial = format(_signer(ws, "P001").cert.serial_number, "x")
    local = SIGNED_AT + timedelta(hours=8)
    half = (len(serial) + 1) // 2
    for expected in (
        "张明远", "党组书记、检察长", f"{local.year}年{local.month}月{local.day}日",
        f"{local:%H:%M}(北京时间)", serial[:half], serial[half:],
    ):  # fmt: skip
        assert expected in text, expected
    assert beijing_time(SIGNED_AT).endswith(f"{local:%H:%M}")


def test_a_registered_handwritten_signature_is_drawn_in_the_stamp(ws: Workspace) -> None:
    image = Image.new("RGBA", (300, 120), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 90), (80, 20), (150, 100), (290, 30)], fill="navy", width=6)
    image.save(ws.keys_dir / "people" / "P002" / "signature.png")
    data = _sign(ws, ZR, "P002").read_bytes()
    assert b"/SMask" in data  # the PNG's transparency, as an image mask
    assert _check(ws, ZR).ok


def test_an_unreadable_handwritten_signature_is_refused(ws: Workspace) -> None:
    (ws.keys_dir / "people" / "P002" / "signature.png").write_bytes(b"not a png")
    with pytest.raises(ValidationError, match="手写签名图片无法读取"):
        _sign(ws, ZR, "P002")


def test_a_long_name_wrapped_in_its_column_header_is_still_that_party() -> None:
    from docgen.signing.pdf_layout import _names

    assert _names("乙方(责任人):阿依古丽·", "阿依古丽·买买提")
    assert _names("乙方（责任人）：李卫东", "李卫东")
    assert not _names("乙方(责任人):李卫东", "阿依古丽·买买提")
    assert not _names("乙方(责任人):阿", "阿依古丽·买买提")  # one character proves nothing
    assert not _names("乙方(责任人):", "阿依古丽·买买提")
    # the text layer may drop a name's spaces (seen with "{{ x }}" in the 10³ benchmark)
    assert _names("乙方（承诺人）：{{x}}", "{{ x }}")
    assert _names("甲方(责任人):Anna Li", "Anna  Li")
    assert not _names("乙方(责任人):张三", "张 四")
