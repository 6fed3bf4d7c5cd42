"""The signers' pages through the real application: login, 待我签署, a letter, signing with the
PIN, 面对面签订, and what must be refused (wrong PIN, lock after 5, another person's letter,
signing without 「我已阅读全文」, a changed letter file).

Each test works on its own copy of a small unsigned year (8 people, 11 letters) and checks the
registry itself, not only the page: a page that says 已签署 while the registry has no signature
would be the worst bug here.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from web_support import (
    PIN,
    Clock,
    client_for,
    csrf_of,
    login_signer,
    login_staff,
    page_csrf,
)

from docgen.core.workspace import Workspace
from docgen.records.reading import awaiting
from docgen.records.state import letters_state
from docgen.registry import open_registry
from docgen.web import lockout
from tests.signed_year import YEAR

P001_LETTER = "2027-ZR-P001-P002"  # 张明远 (P001) and 李卫东 (P002)
NOT_P001 = "2027-ZR-P002-P006"  # a letter of P002's in which P001 is no party


def signatures(ws: Workspace, doc_id: str) -> set[str]:
    with open_registry(ws) as registry:
        return set(letters_state(registry, [doc_id], YEAR).letters[doc_id].signatures)


def letter_path(ws: Workspace, doc_id: str) -> Path:
    with open_registry(ws) as registry:
        record = letters_state(registry, [doc_id], YEAR).letters[doc_id].record
    return ws.year_dir(YEAR) / str(record["path"])


def registry_types(ws: Workspace) -> list[str]:
    with open_registry(ws) as registry:
        return [str(e.record["type"]) for e in registry.entries()]


def sign_form(client, doc_id: str, *, pin: str = PIN, read: bool = True):  # type: ignore[no-untyped-def]
    token = page_csrf(client, f"/sign/{doc_id}")
    data = {"csrf": token, "pin": pin}
    if read:
        data["read"] = "yes"
    return client.post(f"/sign/{doc_id}", data=data)


def test_login_shows_my_waiting_letters_with_names(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    assert client.get("/").headers["location"] == "/login"
    response = login_signer(client, "张明远")  # by name as well as by id
    assert response.status_code == 303 and response.headers["location"] == "/sign"
    page = client.get("/sign")
    assert page.status_code == 200
    expected = awaiting(web_ws, "P001", YEAR).waiting
    listed = re.findall(r'href="/sign/([^"]+)"', page.text)
    assert listed == [line.doc_id for line in expected] and len(listed) == 6
    assert "李卫东" in page.text and "张明远(P001)" in page.text  # the other party, and me


def test_signing_one_letter_registers_its_signature(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    page = client.get(f"/sign/{P001_LETTER}")
    assert page.status_code == 200
    assert "我已阅读全文" in page.text and 'type="password"' in page.text
    # no PDF in this year: the page says so and offers the registered .docx, no re-typed text
    assert "还没有 PDF 版本" in page.text
    docx = client.get(f"/letter/{P001_LETTER}/letter.docx")
    registered = letter_path(web_ws, P001_LETTER)
    assert docx.status_code == 200 and docx.content == registered.read_bytes()

    response = sign_form(client, P001_LETTER)
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign/{P001_LETTER}?signed=1"
    assert signatures(web_ws, P001_LETTER) == {"P001"}
    assert registered.with_name(f"{registered.name}.P001.p7s").is_file()
    done = client.get(response.headers["location"])
    assert "签署完成,已记入登记簿" in done.text and "已签署" in done.text
    listed = client.get("/sign").text
    assert f'href="/sign/{P001_LETTER}"' in listed.split("我已签署")[1]  # moved to 我已签署
    # signing again: nothing to sign, no form, no second signature
    again = client.get(f"/sign/{P001_LETTER}")
    assert 'name="pin"' not in again.text and "您已于" in again.text
    assert registry_types(web_ws).count("signature") == 1


def test_signing_needs_the_read_box_ticked(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    response = sign_form(client, P001_LETTER, read=False)
    assert response.status_code == 400
    assert "请先阅读全文" in response.text
    assert signatures(web_ws, P001_LETTER) == set()


def test_wrong_pin_at_signing_signs_nothing_and_counts(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    response = sign_form(client, P001_LETTER, pin="not-my-pin-123")
    assert response.status_code == 401
    assert "PIN不正确,还可再试 4 次" in response.text
    assert "not-my-pin-123" not in response.text  # never echoed
    assert signatures(web_ws, P001_LETTER) == set()
    assert lockout.attempts(web_ws, "person:P001").failures == 1


def test_wrong_pin_at_login_then_wait_then_lock_after_five(web_ws: Workspace) -> None:
    clock = Clock()
    client = client_for(web_ws, clock)
    first = login_signer(client, "P002", "wrong-pin-0")
    assert first.status_code == 401 and "还可再试 4 次" in first.text
    too_soon = login_signer(client, "P002", PIN)  # right PIN, but within the wait: not checked
    assert too_soon.status_code == 403 and "秒后重试" in too_soon.text
    for attempt in range(1, 5):
        clock.advance(seconds=2**attempt)
        response = login_signer(client, "P002", f"wrong-pin-{attempt}")
    assert response.status_code == 403 and "账户已锁定" in response.text
    clock.advance(minutes=10)
    locked = login_signer(client, "P002", PIN)  # the right PIN no longer opens it
    assert locked.status_code == 403 and "已锁定" in locked.text
    # the lock is in the workspace, private, and survives a restart of the server
    state = web_ws.root / "serve" / "attempts.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    restarted = client_for(web_ws, clock)
    assert login_signer(restarted, "P002", PIN).status_code == 403
    assert lockout.locked_people(web_ws) == ["P002"]

    lockout.unlock(web_ws, "P002", by="office", now=clock())
    unlocked = [e for e in _entries(web_ws) if e["type"] == "signer_unlock"]
    assert unlocked == [
        {
            **unlocked[0],
            "person": "P002",
            "by": "office",
            "failures": 5,
        }
    ]
    assert login_signer(restarted, "P002", PIN).status_code == 303


def _entries(ws: Workspace) -> list[dict[str, object]]:
    with open_registry(ws) as registry:
        return [e.record for e in registry.entries()]


def test_another_persons_letter_is_refused(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    token = page_csrf(client, "/sign")
    for path in (
        f"/sign/{NOT_P001}",
        f"/letter/{NOT_P001}/letter.docx",
        f"/letter/{NOT_P001}/page/1.png",
        "/sign/2027-ZR-P999-P998",  # no such letter: the same refusal
    ):
        assert client.get(path).status_code == 403, path
    response = client.post(f"/sign/{NOT_P001}", data={"csrf": token, "read": "yes", "pin": PIN})
    assert response.status_code == 403
    assert signatures(web_ws, NOT_P001) == set()
    # a signer cannot open the office's face-to-face page
    assert client.get("/f2f").status_code == 403


def test_a_changed_letter_file_is_not_shown_or_signed(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    token = page_csrf(client, "/sign")
    path = letter_path(web_ws, P001_LETTER)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    page = client.get(f"/sign/{P001_LETTER}")
    assert page.status_code == 400 and "已被改动" in page.text
    response = client.post(f"/sign/{P001_LETTER}", data={"csrf": token, "read": "yes", "pin": PIN})
    assert response.status_code in (400, 403) and "已被改动" in response.text
    assert signatures(web_ws, P001_LETTER) == set()


def test_face_to_face_both_parties_sign_in_turn(web_ws: Workspace) -> None:
    clock = Clock()
    client = client_for(web_ws, clock)
    assert login_staff(client, "office").status_code == 303
    found = client.get("/f2f", params={"person": "李卫东"})
    assert found.status_code == 200 and f'href="/f2f/{P001_LETTER}"' in found.text
    page = client.get(f"/f2f/{P001_LETTER}")
    assert page.status_code == 200
    assert "张明远签署" in page.text and "李卫东签署" in page.text
    token = csrf_of(page.text)

    wrong = client.post(
        f"/f2f/{P001_LETTER}",
        data={"csrf": token, "person": "P002", "read": "yes", "pin": "someone-elses"},
    )
    assert wrong.status_code == 401 and signatures(web_ws, P001_LETTER) == set()
    assert lockout.attempts(web_ws, "person:P002").failures == 1

    clock.advance(seconds=1)  # the wait after P002's wrong PIN
    for person in ("P001", "P002"):
        response = client.post(
            f"/f2f/{P001_LETTER}",
            data={"csrf": token, "person": person, "read": "yes", "pin": PIN},
        )
        assert response.status_code == 303, response.text[:300]
    assert signatures(web_ws, P001_LETTER) == {"P001", "P002"}
    done = client.get(f"/f2f/{P001_LETTER}?signed=P002")
    assert "双方均已签署" in done.text and done.text.count('<span class="ok">已签署</span>') == 2
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d,登记于", done.text)) == 2
    assert 'name="pin"' not in done.text

    # someone who is no party of this letter cannot be signed in through it
    outsider = client.post(
        f"/f2f/{P001_LETTER}", data={"csrf": token, "person": "P005", "read": "yes", "pin": PIN}
    )
    assert outsider.status_code == 403


def test_staff_login_and_roles_are_separate(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    wrong = login_staff(client, "office", "not-the-password")
    assert wrong.status_code == 401 and "口令不正确" in wrong.text
    clock_free = client_for(web_ws, Clock())
    assert login_staff(clock_free, "auditor", "wrong-again").status_code == 401
    fresh = client_for(web_ws)
    assert login_staff(fresh, "office", "办公室口令-2027-test").status_code == 403  # must wait
    office = client_for(web_ws, Clock(Clock().moment.replace(hour=23)))
    assert login_staff(office, "office").status_code == 303
    assert office.get("/sign").status_code == 403  # the clerk has no letters to sign


def test_signer_letter_pages_need_login(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    for path in ("/sign", f"/sign/{P001_LETTER}", "/f2f", "/me/handwriting"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_no_pin_in_the_pages_or_the_workspace(web_ws: Workspace, tmp_path: Path) -> None:
    client = client_for(web_ws)
    secret = "secret-pin-should-vanish"
    response = login_signer(client, "P001", secret)
    assert secret not in response.text
    for path in web_ws.root.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".toml", ".db", ".txt"):
            assert secret.encode() not in path.read_bytes(), path


def test_parallel_guesses_do_not_outrun_the_lock(web_ws: Workspace) -> None:
    """Twenty wrong PINs sent at the same moment: each must be checked after the one before has
    been counted, so all but the first meet the wait — not twenty guesses against a lock of 5."""
    import threading

    client = client_for(web_ws)
    token = page_csrf(client, "/login")
    statuses: list[int] = []

    def guess(number: int) -> None:
        data = {"csrf": token, "person": "P004", "pin": f"parallel-guess-{number}"}
        statuses.append(client.post("/login", data=data).status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] + [403] * 19
    assert lockout.attempts(web_ws, "person:P004").failures == 1
