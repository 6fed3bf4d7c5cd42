"""The 纪检组's pages through the real application: 核验 by upload (a letter's files, a year
archive) and by 核验码, the 登记簿 (checkpoint, self-audit, a pasted checkpoint replayed — a
forked registry caught), the CA certificate and CRL at the distribution point, 职责 and 报告.

The attacks first: a letter changed after signing, a signature file of another letter, a stray
file, an archive with a member changed, an oversized upload, a checkpoint from a fork, a POST
without its CSRF token, another role. Each must fail loudly; the honest case must pass.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient
from web_support import STAFF_PASSWORD, Clock, client_for, csrf_of, login_signer, login_staff

from docgen.core.workspace import Workspace
from docgen.records.letter_code import letter_code, payload_of, workspace_identity
from docgen.registry import open_registry
from docgen.signing.keyfiles import ca_paths
from docgen.verify.archive import build_archive
from docgen.web.logins import set_password
from docgen.web.security import MAX_BODY
from tests.signed_year import SIGNED_AT, YEAR, copy_workspace, letters_of, rewrite_zip

AUDITOR_PASSWORD = STAFF_PASSWORD + "-纪检"


@pytest.fixture(scope="module")
def audit_ws(signed_year: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A copy of the signed year (read by most tests of this module), with the staff logins."""
    ws = copy_workspace(signed_year, tmp_path_factory.mktemp("audit") / "ws")
    set_password(ws, "office", STAFF_PASSWORD)
    set_password(ws, "auditor", AUDITOR_PASSWORD)
    return ws


@pytest.fixture(scope="module")
def archive_zip(audit_ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("archive") / f"archive-{YEAR}.zip"
    return build_archive(audit_ws, YEAR, output=target, jobs=1).path


@pytest.fixture
def auditor(audit_ws: Workspace) -> Iterator[TestClient]:
    client = client_for(audit_ws, Clock(SIGNED_AT))
    assert login_staff(client, "auditor", AUDITOR_PASSWORD).status_code == 303  # type: ignore[attr-defined]
    yield client


def _token(client: TestClient, path: str = "/audit/verify") -> str:
    return csrf_of(client.get(path).text)


def _files_of(letter: Path) -> list[tuple[str, bytes]]:
    return [
        (p.name, p.read_bytes())
        for p in sorted(letter.parent.iterdir())
        if p.name.startswith(letter.name)
    ]


def _upload(client: TestClient, files: list[tuple[str, bytes]]) -> object:
    return client.post(
        "/audit/verify/files",
        data={"csrf": _token(client)},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )


def _leftovers() -> set[str]:
    import tempfile

    return {p.name for p in Path(tempfile.gettempdir()).glob("docgen-upload-*")}


def test_uploaded_letter_with_its_files_passes_the_checklist(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    before = _leftovers()
    response = _upload(auditor, _files_of(letters_of(audit_ws)[0]))
    assert response.status_code == 200  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "✓ 核验通过" in text and "验证通过" in text
    for number in range(1, 8):
        assert f'value="{number}"' in text  # the numbered steps of docgen verify
    assert "tmp" not in text.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert _leftovers() == before  # the private folder is gone


def test_letter_changed_after_signing_is_reported_failed(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    files = _files_of(letters_of(audit_ws)[0])
    changed = []
    for name, data in files:
        if name.endswith(".docx"):
            flipped = bytearray(data)
            flipped[len(flipped) // 2] ^= 1
            data = bytes(flipped)
        changed.append((name, data))
    text = _upload(auditor, changed).text  # type: ignore[attr-defined]
    assert "✗ 核验未通过" in text and "验证失败" in text
    assert "文件在登记后被改动过" in text


def test_signature_of_another_letter_fails(auditor: TestClient, audit_ws: Workspace) -> None:
    first, second = letters_of(audit_ws)[:2]
    files = [f for f in _files_of(first) if not f[0].endswith(".p7s")]
    signer_file = next(
        p
        for p in second.parent.iterdir()
        if p.name.startswith(second.name) and p.name.endswith(".p7s")
    )
    signer = signer_file.name[len(second.name) + 1 : -len(".p7s")]
    files.append((f"{first.name}.{signer}.p7s", signer_file.read_bytes()))
    text = _upload(auditor, files).text  # type: ignore[attr-defined]
    assert "✗ 核验未通过" in text


def test_a_stray_file_is_reported_not_checked(auditor: TestClient, audit_ws: Workspace) -> None:
    files = [*_files_of(letters_of(audit_ws)[0]), ("备注.txt", b"hello")]
    text = _upload(auditor, files).text  # type: ignore[attr-defined]
    assert "✗ 核验未通过" in text and "未核验的文件" in text and "备注.txt" in text


def test_signature_file_named_with_a_path_is_refused(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    letter = letters_of(audit_ws)[0]
    files = [*_files_of(letter), (f"{letter.name}.../../x.p7s", b"0")]
    text = _upload(auditor, files).text  # type: ignore[attr-defined]
    assert "✗ 核验未通过" in text


def test_upload_over_the_limits(auditor: TestClient, audit_ws: Workspace) -> None:
    letter = letters_of(audit_ws)[0]
    big_signature = [*_files_of(letter)[:1], (f"{letter.name}.P009.p7s", b"0" * (1024 * 1024 + 1))]
    text = _upload(auditor, big_signature).text  # type: ignore[attr-defined]
    assert "拒绝的文件" in text and "文件过大" in text and "✗ 核验未通过" in text
    huge = auditor.post(
        "/audit/verify/files",
        data={"csrf": _token(auditor)},
        files=[("files", ("big.zip", b"0" * (MAX_BODY + 1), "application/zip"))],
    )
    assert huge.status_code == 413 and "过大" in huge.text
    assert _upload(auditor, []).status_code == 400  # type: ignore[attr-defined]


def test_year_archive_upload_passes_and_a_changed_member_fails(
    auditor: TestClient, archive_zip: Path, tmp_path: Path
) -> None:
    good = _upload(auditor, [(archive_zip.name, archive_zip.read_bytes())])
    assert "✓ 核验通过" in good.text  # type: ignore[attr-defined]
    import zipfile

    with zipfile.ZipFile(archive_zip) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".docx"))
        data = bytearray(archive.read(member))
    data[len(data) // 2] ^= 1
    bad = tmp_path / "changed.zip"
    rewrite_zip(archive_zip, bad, {member: bytes(data)})
    text = _upload(auditor, [(bad.name, bad.read_bytes())]).text  # type: ignore[attr-defined]
    assert "✗ 核验未通过" in text


def test_code_finds_the_record_and_proof_and_verifies_the_letter(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    code = letter_code(workspace_identity(audit_ws), "2027-ZR-P001-P002")
    response = auditor.post(
        "/audit/verify/code", data={"csrf": _token(auditor), "code": code.lower()}
    )
    assert response.status_code == 200
    text = response.text
    assert "✓ 登记簿中的文书核验通过" in text and code in text
    assert "张明远" in text and "李卫东" in text and "签名时间" in text
    assert "docgen-letter-proof-v1" in text and "inclusion_proof" in text
    assert "请核对纸面文书" in text  # a code only finds the letter
    scanned = payload_of(workspace_identity(audit_ws), "2027-ZR-P001-P002")
    by_qr = auditor.post("/audit/verify/code", data={"csrf": _token(auditor), "code": scanned})
    assert (
        "二维码对应的文书:2027-ZR-P001-P002" in by_qr.text
        and "✓ 登记簿中的文书核验通过" in by_qr.text
    )


def test_code_of_a_changed_letter_fails_and_bad_codes_are_refused(
    audit_ws: Workspace, tmp_path: Path
) -> None:
    ws = copy_workspace(audit_ws.root, tmp_path / "ws")
    letter = next(p for p in letters_of(ws) if "2027-ZR-P001-P003" in p.name)
    data = bytearray(letter.read_bytes())
    data[len(data) // 2] ^= 1
    letter.write_bytes(bytes(data))
    client = client_for(ws, Clock(SIGNED_AT))
    login_staff(client, "auditor", AUDITOR_PASSWORD)
    code = letter_code(workspace_identity(ws), "2027-ZR-P001-P003")
    text = client.post("/audit/verify/code", data={"csrf": _token(client), "code": code}).text
    assert "✗ 登记簿中的文书核验未通过" in text and "文件在登记后被改动过" in text
    unknown = client.post(
        "/audit/verify/code", data={"csrf": _token(client), "code": "0000-0000-0000"}
    )
    assert unknown.status_code == 404 and "没有核验码为" in unknown.text
    garbage = client.post("/audit/verify/code", data={"csrf": _token(client), "code": "<b>x</b>"})
    assert garbage.status_code == 400 and "<b>x</b>" not in garbage.text


def test_registry_page_shows_the_checkpoint_and_audits(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    page = auditor.get("/audit/registry")
    with open_registry(audit_ws) as registry:
        note, size = registry.checkpoint().decode(), registry.size()
    assert page.status_code == 200
    assert f'<td id="size">{size}</td>' in page.text
    assert note.splitlines()[2] in page.text  # the root hash line
    assert "无(本登记簿的检查点尚无见证人联署)" in page.text
    audited = auditor.post("/audit/registry", data={"csrf": csrf_of(page.text), "action": "audit"})
    assert "✓ 登记簿审计通过" in audited.text and f"{size} 条记录" in audited.text


def test_pasted_checkpoint_consistent_and_a_fork_caught(
    audit_ws: Workspace, tmp_path: Path
) -> None:
    honest = copy_workspace(audit_ws.root, tmp_path / "honest")
    fork = copy_workspace(audit_ws.root, tmp_path / "fork")
    later = SIGNED_AT.replace(day=20)
    with open_registry(honest) as registry:
        registry.append([{"type": "activity", "activity_id": "A-honest", "kind": "x"}], now=later)
        pinned = registry.checkpoint().decode()
    with open_registry(fork) as registry:  # the same key, another history
        registry.append([{"type": "activity", "activity_id": "A-fork", "kind": "y"}], now=later)
    client = client_for(honest, Clock(later))
    login_staff(client, "auditor", AUDITOR_PASSWORD)
    token = csrf_of(client.get("/audit/registry").text)
    ok = client.post(
        "/audit/registry",
        data={"csrf": token, "action": "consistency", "checkpoint": pinned.replace("\n", "\r\n")},
    )
    assert 'id="replay"' in ok.text and "✓ 一致" in ok.text
    forked = client_for(fork, Clock(later))
    login_staff(forked, "auditor", AUDITOR_PASSWORD)
    token = csrf_of(forked.get("/audit/registry").text)
    caught = forked.post(
        "/audit/registry", data={"csrf": token, "action": "consistency", "checkpoint": pinned}
    )
    assert "✗ 不一致" in caught.text
    junk = forked.post(
        "/audit/registry", data={"csrf": token, "action": "consistency", "checkpoint": "hello"}
    )
    assert junk.status_code == 400 and "格式错误" in junk.text


def test_ca_and_crl_downloadable_at_the_distribution_point(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    page = auditor.get("/audit/registry").text
    crl_path = urlsplit(audit_ws.config.crl_url).path
    assert f'href="{crl_path}"' in page
    anonymous = client_for(audit_ws)
    paths = ca_paths(audit_ws.keys_dir)
    assert anonymous.get("/ca.pem").content == paths.cert.read_bytes()
    assert anonymous.get(crl_path).content == (paths.directory / "crl.der").read_bytes()


def test_duties_table_xlsx_and_reports(audit_ws: Workspace, tmp_path: Path) -> None:
    ws = copy_workspace(audit_ws.root, tmp_path / "ws")
    client = client_for(ws, Clock(SIGNED_AT))
    login_staff(client, "auditor", AUDITOR_PASSWORD)
    page = client.get("/audit/duties")
    assert page.status_code == 200 and 'id="duties"' in page.text and "尚未起草报告" in page.text
    xlsx = client.get("/audit/duties.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    drafted = client.post("/audit/reports", data={"csrf": csrf_of(page.text)})
    assert drafted.status_code == 200 and 'id="written"' in drafted.text
    names = sorted(p.name for p in (ws.year_dir(YEAR) / "reports").glob("*.docx"))
    assert names and all(name in drafted.text for name in names)
    from urllib.parse import quote

    download = client.get(f"/audit/reports/{quote(names[0])}")
    assert download.content == (ws.year_dir(YEAR) / "reports" / names[0]).read_bytes()
    assert client.get("/audit/reports/..%2F..%2Fdocgen.toml").status_code == 404
    assert client.get("/audit/reports/nope.docx").status_code == 404


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/audit/verify/code", {"code": "0000-0000-0000"}),
        ("/audit/registry", {"action": "audit"}),
        ("/audit/reports", {}),
    ],
)
def test_posts_without_csrf_are_refused(
    auditor: TestClient, path: str, data: dict[str, str]
) -> None:
    for sent in (data, {**data, "csrf": "forged"}):
        response = auditor.post(path, data=sent)
        assert response.status_code == 403 and "CSRF" in response.text


def test_upload_without_csrf_is_refused(auditor: TestClient, audit_ws: Workspace) -> None:
    before = _leftovers()
    response = auditor.post(
        "/audit/verify/files",
        files=[
            ("files", (n, d, "application/octet-stream"))
            for n, d in _files_of(letters_of(audit_ws)[0])
        ],
    )
    assert response.status_code == 403 and _leftovers() == before


AUDIT_PAGES = ("/audit", "/audit/verify", "/audit/registry", "/audit/duties", "/audit/duties.xlsx")


def test_audit_pages_need_the_auditor_login(audit_ws: Workspace) -> None:
    nobody = client_for(audit_ws)
    for path in AUDIT_PAGES:
        response = nobody.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    office = client_for(audit_ws)
    login_staff(office, "office")
    signer = client_for(audit_ws)
    login_signer(signer, "P003")
    for client in (office, signer):
        for path in AUDIT_PAGES:
            assert client.get(path).status_code == 403, path


def test_audit_pages_carry_the_security_headers(auditor: TestClient) -> None:
    for path in AUDIT_PAGES:
        headers = auditor.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff"


def test_nothing_is_left_in_the_temp_folder(tmp_path: Path) -> None:
    """The helper above looks where uploads go: make sure it can see a leftover."""
    import tempfile

    probe = Path(tempfile.mkdtemp(prefix="docgen-upload-"))
    try:
        assert probe.name in _leftovers()
    finally:
        shutil.rmtree(probe)


# A letter uploaded without its .proof.json (new-user report, item 1): the server has the
# registry, so it finds the letter by its SHA-256 (else by the doc id its name starts with) and
# checks it with the registry's own proof bundle — the untouched letter passes, a changed one
# fails as changed, a changed and renamed one is named as not in the registry.


def _docx_alone(letter: Path, change: bool = False, name: str | None = None) -> tuple[str, bytes]:
    data = bytearray(letter.read_bytes())
    if change:
        data[len(data) // 2] ^= 1
    return (name or letter.name, bytes(data))


def test_untouched_letter_uploaded_alone_passes_with_the_registry_proof(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    letter = letters_of(audit_ws)[0]
    text = _upload(auditor, [_docx_alone(letter)]).text  # type: ignore[attr-defined]
    assert "✓ 核验通过" in text and "验证通过" in text
    assert "不存在" not in text
    assert "登记簿中的证明" in text  # says where the proof came from


def test_untouched_letter_renamed_is_found_by_its_hash(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    letter = letters_of(audit_ws)[0]
    text = _upload(auditor, [_docx_alone(letter, name="扫描件.docx")]).text  # type: ignore[attr-defined]
    assert "✓ 核验通过" in text


def test_changed_letter_uploaded_alone_fails_as_changed(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    letter = letters_of(audit_ws)[0]
    text = _upload(auditor, [_docx_alone(letter, change=True)]).text  # type: ignore[attr-defined]
    assert "✗ 核验未通过" in text
    assert "文件在登记后被改动过" in text and letter.name in text
    assert "proof.json 不存在" not in text


def test_changed_and_renamed_letter_alone_is_not_in_the_registry(
    auditor: TestClient, audit_ws: Workspace
) -> None:
    letter = letters_of(audit_ws)[0]
    upload = _docx_alone(letter, change=True, name="责任书.docx")
    text = _upload(auditor, [upload]).text  # type: ignore[attr-defined]
    assert "✗ 核验未通过" in text
    assert "登记簿中没有这份文件" in text and "责任书.docx" in text
