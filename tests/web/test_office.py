"""The office's pages (办公室) through the real application: 年度进度 with names and filters, its
.xlsx and printable page, a letter, void with its confirmation step, reissue, unlocking a signer.

Every state-changing form is also posted without its CSRF token (refused, nothing changed), and
each page is opened by the wrong role (403) and by nobody (sent to the login page).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient
from web_support import Clock, client_for, csrf_of, login_signer, login_staff, page_csrf

from docgen.core.workspace import Workspace
from docgen.records.progress import ProgressFilter, year_progress
from docgen.records.status import year_status
from docgen.registry import open_registry
from docgen.signing.sign import sign_as
from tests.helpers import run_docgen
from tests.signed_year import PERSON_PASSPHRASE, SIGNED_AT, YEAR

PAGES = (
    "/office",
    "/office/print",
    "/office/progress.xlsx",
    "/office/letter/2027-ZR-P001-P002",
    "/office/reissue",
)


def office(ws: Workspace, clock: Clock | None = None) -> TestClient:
    client = client_for(ws, clock)
    response = login_staff(client, "office")
    assert response.status_code == 303  # type: ignore[attr-defined]
    return client


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    rows = body.split("<tr")[2:]  # [0]: before the table's first row, [1]: its header
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + row)).strip() for row in rows]


def _registry_types(ws: Workspace) -> list[str]:
    with open_registry(ws) as registry:
        return [str(e.record["type"]) for e in registry.entries()]


def test_progress_lists_departments_people_by_name_and_updates_after_signing(
    web_ws: Workspace,
) -> None:
    client = office(web_ws)
    page = client.get("/office")
    assert page.status_code == 200
    people = _rows(page.text, "people")
    assert any(row.startswith("院领导 张明远 P001") and "0 6 0" in row for row in people), people
    assert any("第一检察部" in row and "郭志强" in row for row in people)
    letters = _rows(page.text, "letters")
    assert len(letters) == 11 and all("未签" in row for row in letters)
    assert 'href="/office/letter/2027-ZR-P001-P002"' in page.text

    sign_as(web_ws, "P002", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT)
    page = client.get("/office")
    letters = {row.split()[0]: row for row in _rows(page.text, "letters")}
    assert "待签" in letters["2027-ZR-P001-P002"] and "张明远" in letters["2027-ZR-P001-P002"]
    assert "未签" in letters["2027-ZR-P001-P003"]
    people = _rows(page.text, "people")
    assert any("李卫东 P002" in row and " 4 0 0" in row for row in people), people


def test_progress_page_never_shows_a_stale_reading(web_ws: Workspace) -> None:
    """The page keeps its reading of the year between views; a file deleted from the year
    folder, a signature or a roster edit made elsewhere must show on the very next view."""
    client = office(web_ws)
    assert not any("文件缺失" in row for row in _rows(client.get("/office").text, "letters"))
    sign_as(web_ws, "P007", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT)
    letters = {row.split()[0]: row for row in _rows(client.get("/office").text, "letters")}
    assert "待签" in letters["2027-LJ-P006-P007"]
    signature = next(web_ws.year_dir(YEAR).rglob("2027-LJ-P006-P007_*.docx.P007.p7s"))
    signature.unlink()
    letters = {row.split()[0]: row for row in _rows(client.get("/office").text, "letters")}
    assert "文件缺失" in letters["2027-LJ-P006-P007"]
    roster = web_ws.roster_path.read_text(encoding="utf-8")
    web_ws.roster_path.write_text(roster.replace("袁梦瑶", "袁梦遥"), encoding="utf-8")
    people = _rows(client.get("/office").text, "people")
    assert any("袁梦遥" in row for row in people) and not any("袁梦瑶" in r for r in people)


def test_many_people_are_shown_per_department_until_one_is_chosen(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docgen.records.progress as progress_module

    monkeypatch.setattr(progress_module, "PEOPLE_LISTED", 3)
    client = office(web_ws)
    page = client.get("/office")
    assert 'id="people"' not in page.text
    rows = _rows(page.text, "departments")
    assert [row.split()[:2] for row in rows] == [
        ["院领导", "3"],
        ["办公室", "2"],
        ["第一检察部", "3"],
    ]
    assert sum(int(row.split()[3]) for row in rows) == 2 * 11  # every letter waits for both
    page = client.get("/office", params={"department": "第一检察部"})
    assert len(_rows(page.text, "people")) == 3


def test_late_and_overdue_letters_against_the_signing_deadline(web_ws: Workspace) -> None:
    """Judged on the server's day as ``docgen status`` judges them (deadline 01-31)."""
    clock = Clock()  # 2027-01-07: before the deadline, nothing is overdue
    client = office(web_ws, clock)
    page = client.get("/office")
    assert '逾期未签 <strong class="">0</strong>' in page.text
    after = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)
    for person in ("P001", "P002"):
        sign_as(web_ws, person, PERSON_PASSPHRASE, year=YEAR, now=after)
    clock.moment = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)
    client = office(web_ws, clock)  # the old session idled out meanwhile
    overdue = client.get("/office", params={"timing": "overdue"})
    ids = sorted(row.split()[0] for row in _rows(overdue.text, "letters"))
    late = client.get("/office", params={"timing": "late"})
    late_ids = sorted(row.split()[0] for row in _rows(late.text, "letters"))
    assert late_ids == ["2027-CN-P001-P002", "2027-ZR-P001-P002"]
    assert all("逾期补签" in row for row in _rows(late.text, "letters"))
    assert len(ids) == 9 and not set(ids) & set(late_ids)
    status = year_status(web_ws, YEAR, as_of=clock.moment.date())
    assert (status.late, status.overdue) == (2, 9)  # what docgen status --as-of says
    book = load_workbook(io.BytesIO(client.get("/office/progress.xlsx").content))
    timing = {row[0]: row[7] for row in book["文书"].iter_rows(min_row=2, values_only=True)}
    assert timing["2027-ZR-P001-P002"] == "逾期补签" and timing["2027-ZR-P001-P003"] == "逾期未签"
    assert client.get("/office", params={"timing": "soon"}).status_code == 400


def test_progress_is_docgen_status_regrouped(web_ws: Workspace) -> None:
    """The page's model adds up to what ``docgen status`` reads: no second implementation."""
    sign_as(web_ws, "P006", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT)
    progress = year_progress(web_ws, YEAR)
    status = year_status(web_ws, YEAR)
    assert {s.doc_id: s.label for s in progress.letters} == {
        s.doc_id: s.label for s in status.letters
    }
    todo = {t.person_id: len(t.waiting) for t in status.todo}
    for department in progress.departments:
        for person in department.people:
            assert person.waiting == todo.get(person.person_id, 0), person
    assert sum(d.signed for d in progress.departments) == 4  # P006 is a party to 4 letters


def test_filters_narrow_the_letters_and_people(web_ws: Workspace) -> None:
    sign_as(web_ws, "P004", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT)
    client = office(web_ws)
    page = client.get("/office", params={"state": "待签"})
    ids = [row.split()[0] for row in _rows(page.text, "letters")]
    assert sorted(ids) == ["2027-CN-P001-P004", "2027-LJ-P004-P005", "2027-ZR-P001-P004"]
    page = client.get("/office", params={"department": "办公室"})
    people = _rows(page.text, "people")
    assert len(people) == 2 and "马俊峰" in people[0] and "宋佳琪" in people[1], people
    ids = [row.split()[0] for row in _rows(page.text, "letters")]
    assert "2027-LJ-P006-P007" not in ids and "2027-LJ-P004-P005" in ids
    page = client.get("/office", params={"person": "袁梦瑶", "kind": "integrity_pledge"})
    assert [row.split()[0] for row in _rows(page.text, "letters")] == ["2027-LJ-P006-P008"]
    bad = client.get("/office", params={"state": "<script>"})
    assert bad.status_code == 400 and "<script>" not in bad.text and "状态" in bad.text


def test_export_xlsx_holds_the_filtered_rows_and_is_reproducible(web_ws: Workspace) -> None:
    client = office(web_ws)
    response = client.get("/office/progress.xlsx", params={"department": "第一检察部"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    book = load_workbook(io.BytesIO(response.content))
    people = [row for row in book["人员"].iter_rows(values_only=True)]
    assert people[0] == ("部门", "编号", "姓名", "职务", "已签", "待签", "已作废")
    assert [row[2] for row in people[1:]] == ["郭志强", "许文博", "袁梦瑶"]
    letters = [row[0] for row in book["文书"].iter_rows(min_row=2, values_only=True)]
    assert sorted(letters) == sorted(
        s.doc_id
        for s in year_progress(web_ws, YEAR, ProgressFilter(department="第一检察部")).letters
    )
    again = client.get("/office/progress.xlsx", params={"department": "第一检察部"})
    assert again.content == response.content


def test_print_page_lists_every_matching_letter(web_ws: Workspace) -> None:
    client = office(web_ws)
    page = client.get("/office/print")
    assert page.status_code == 200
    assert page.text.count('<td class="mono">2027-') == 11
    assert "签订情况" in page.text


def test_void_needs_a_reason_and_a_confirmation_then_is_registered(web_ws: Workspace) -> None:
    client = office(web_ws)
    doc = "2027-LJ-P006-P008"
    token = page_csrf(client, f"/office/letter/{doc}")
    before = _registry_types(web_ws)

    empty = client.post("/office/void", data={"csrf": token, "doc_id": doc, "reason": "  "})
    assert empty.status_code == 400 and "作废必须说明原因" in empty.text
    confirm = client.post("/office/void", data={"csrf": token, "doc_id": doc, "reason": "人员调离"})
    assert confirm.status_code == 200 and "确认作废" in confirm.text and "人员调离" in confirm.text
    assert _registry_types(web_ws) == before  # step one changes nothing

    unconfirmed = client.post(
        "/office/void/confirm", data={"csrf": token, "doc_id": doc, "reason": "人员调离"}
    )
    assert unconfirmed.status_code == 400 and _registry_types(web_ws) == before
    done = client.post(
        "/office/void/confirm",
        data={"csrf": csrf_of(confirm.text), "doc_id": doc, "reason": "人员调离", "confirm": "yes"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/office/letter/{doc}?voided=1"
    assert _registry_types(web_ws) == [*before, "void"]
    with open_registry(web_ws) as registry:
        void = next(registry.entries(type="void", doc_id=doc)).record
    assert void["reason"] == "人员调离"
    page = client.get(done.headers["location"])
    assert "已作废(原因:人员调离)" in page.text
    result = run_docgen("status", "--workspace", str(web_ws.root))
    assert "已作废(人员调离)" in result.out  # the CLI reads the same registry

    again = client.post(
        "/office/void/confirm",
        data={"csrf": token, "doc_id": doc, "reason": "再次", "confirm": "yes"},
    )
    assert again.status_code == 400 and "已于此前作废" in again.text


def test_reissue_after_void_issues_a_new_revision(web_ws: Workspace) -> None:
    clock = Clock()
    client = office(web_ws, clock)
    doc = "2027-LJ-P006-P007"
    token = page_csrf(client, f"/office/letter/{doc}")
    client.post(
        "/office/void/confirm",
        data={"csrf": token, "doc_id": doc, "reason": "内容有误", "confirm": "yes"},
    )
    page = client.get("/office/reissue")
    assert page.status_code == 200 and 'name="confirm"' in page.text
    refused = client.post("/office/reissue", data={"csrf": token, "year": str(YEAR)})
    assert refused.status_code == 400
    clock.advance(minutes=5)
    done = client.post("/office/reissue", data={"csrf": token, "year": str(YEAR), "confirm": "yes"})
    assert done.status_code == 200, done.text[:500]
    assert f"{doc}-R2" in done.text
    progress = year_progress(web_ws, YEAR)
    labels = {s.doc_id: s.label for s in progress.letters}
    assert labels[doc] == "已作废" and labels[f"{doc}-R2"] == "未签"


def test_unlock_a_locked_signer_is_logged_in_the_registry(web_ws: Workspace) -> None:
    clock = Clock()
    signer = client_for(web_ws, clock)
    for _ in range(5):
        login_signer(signer, "P005", "wrong-pin")
        clock.advance(seconds=30)
    locked = login_signer(signer, "P005")
    assert locked.status_code == 403  # type: ignore[attr-defined]

    client = office(web_ws, clock)
    page = client.get("/office")
    assert 'id="locked"' in page.text and "宋佳琪" in page.text
    token = csrf_of(page.text)
    assert client.post("/office/unlock", data={"person": "P005"}).status_code == 403
    done = client.post("/office/unlock", data={"csrf": token, "person": "P005"})
    assert done.status_code == 303
    with open_registry(web_ws) as registry:
        record = next(registry.entries(type="signer_unlock")).record
    assert record["person"] == "P005" and record["by"] == "办公室"
    assert "已解锁 宋佳琪" in client.get(done.headers["location"]).text
    clock.advance(seconds=30)
    assert login_signer(signer, "P005").status_code == 303  # type: ignore[attr-defined]
    again = client.post("/office/unlock", data={"csrf": token, "person": "P005"})
    assert again.status_code == 400 and "没有被锁定" in again.text


def test_letter_page_and_its_registered_file(web_ws: Workspace) -> None:
    client = office(web_ws)
    doc = "2027-ZR-P001-P002"
    page = client.get(f"/office/letter/{doc}")
    assert page.status_code == 200 and "张明远" in page.text and "李卫东" in page.text
    assert f'href="/f2f/{doc}"' in page.text  # not signed yet: open it for face-to-face signing
    docx = client.get(f"/office/letter/{doc}/file/docx")
    registered = next(web_ws.year_dir(YEAR).rglob(f"{doc}_*.docx"))
    assert docx.status_code == 200 and docx.content == registered.read_bytes()
    assert client.get(f"/office/letter/{doc}/file/pdf").status_code == 404  # no rendition
    assert client.get(f"/office/letter/{doc}/file/p7s").status_code == 404
    assert client.get("/office/letter/2027-ZR-P009-P010").status_code == 404
    assert client.get("/office/letter/..%2F..%2Fdocgen.toml/file/docx").status_code == 404


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/office/void", {"doc_id": "2027-ZR-P001-P002", "reason": "x"}),
        ("/office/void/confirm", {"doc_id": "2027-ZR-P001-P002", "reason": "x", "confirm": "yes"}),
        ("/office/reissue", {"year": str(YEAR), "confirm": "yes"}),
        ("/office/unlock", {"person": "P005"}),
    ],
)
def test_posts_without_csrf_are_refused_and_change_nothing(
    web_ws: Workspace, path: str, data: dict[str, str]
) -> None:
    client = office(web_ws)
    before = _registry_types(web_ws)
    for token in (None, "forged-token"):
        sent = data if token is None else {**data, "csrf": token}
        response = client.post(path, data=sent)
        assert response.status_code == 403 and "CSRF" in response.text
    assert _registry_types(web_ws) == before


def test_office_pages_need_the_office_login(web_ws: Workspace) -> None:
    nobody = client_for(web_ws)
    for path in PAGES:
        response = nobody.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    signer = client_for(web_ws)
    login_signer(signer, "P001")
    auditor = client_for(web_ws)
    login_staff(auditor, "auditor", "办公室口令-2027-test-纪检")
    for client in (signer, auditor):
        for path in PAGES:
            assert client.get(path).status_code == 403, path


def test_office_session_idles_out(web_ws: Workspace) -> None:
    clock = Clock()
    client = office(web_ws, clock)
    assert client.get("/office").status_code == 200
    clock.advance(minutes=14)
    assert client.get("/office").status_code == 200  # activity restarts the idle clock
    clock.moment += timedelta(minutes=16)
    response = client.get("/office")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_office_pages_carry_the_security_headers(web_ws: Workspace) -> None:
    client = office(web_ws)
    for path in PAGES:
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
