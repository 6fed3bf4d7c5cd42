"""The demo's keys: the CA and every person of the fictional roster, each with a passphrase of
their own.

Each person's key is encrypted with their own activation code (:mod:`docgen.signing.activation`):
the demo signs every letter with it, then marks every key pending and prints the sheets
(``激活单.docx``), so the demo's people log in to the signing page and set a PIN of their own.

One passphrase for the CA and all 45 people, as the demo had, shows the wrong habit and makes any
one person's passphrase everyone's. Here each passphrase is random, made at run time, and written
to one file in the workspace — ``演示口令.txt``, mode 0600: the CA's, then each person's id, name
and passphrase — so that the user can go on signing by hand; the demo prints where it is, never
what is in it.

Every key is encrypted with scrypt (≈ 0.5 s and 128 MiB each, :mod:`docgen.core.pkcs8`), so the
people are shared out among worker processes (:func:`docgen.core.parallel.map_chunks`), each of
which opens the CA key once and issues its share; the certificates' registry records come back in
roster order.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docgen.core import pkcs8
from docgen.core.models import Roster
from docgen.core.parallel import default_jobs, map_chunks
from docgen.core.workspace import Workspace, atomic_write
from docgen.roster.load import load_roster
from docgen.signing.activation import (
    CODE_GROUP,
    ActivationSheet,
    mark_pending,
    new_code,
    normalize_code,
    sheet_for,
)
from docgen.signing.activation_sheet import write_sheets
from docgen.signing.certificates import issue_certificates
from docgen.signing.keyfiles import PEOPLE_DIR, load_certificate, make_private_dir, person_paths
from docgen.signing.passphrase import Passphrase
from docgen.signing.x509util import fingerprint

PASSPHRASE_FILE = "演示口令.txt"
SHEETS_FILE = "激活单.docx"
# Worker processes pay off when the scrypt work is at least this many default-cost keys
# (≈ 4 s on one core here); starting them costs about a second.
_WORKERS_FROM = 8
CA_ROW = "CA"
_SECRET_BYTES = 18  # 24 characters of URL-safe base64: 144 random bits


@dataclass(frozen=True)
class DemoSecrets:
    """The CA's passphrase and each person's, and the 0600 file that holds them."""

    ca: Passphrase
    people: dict[str, Passphrase]
    path: Path

    def person(self, person_id: str) -> Passphrase:
        return self.people[person_id]


def make_secrets(ws: Workspace, roster: Roster) -> DemoSecrets:
    """A random passphrase for the CA and for each person, written to ``演示口令.txt`` (0600)."""
    path = ws.root / PASSPHRASE_FILE
    ca = secrets.token_urlsafe(_SECRET_BYTES)
    # A person's key is encrypted with their activation code, as `keys issue` does: the demo
    # signs with it, then hands every key out for activation (hand_out).
    people = {person.id: normalize_code(new_code()) for person in roster.people}
    lines = [
        "# docgen 演示口令:根证书口令和每个人的激活码,运行演示时随机生成。",
        "# 每人首次登录签署页面(docgen serve)或运行 docgen keys activate --person 编号 时,"
        "用激活码设置本人 PIN;激活后激活码作废。激活单见同目录的 激活单.docx。",
        "# 仅供演示;正式使用时激活码只印在交给本人的激活单上,不要写在文件里。",
        "# 每行:编号<TAB>姓名<TAB>口令(根证书)或激活码(个人)",
        f"{CA_ROW}\t根证书\t{ca}",
        *(f"{person.id}\t{person.name}\t{people[person.id]}" for person in roster.people),
    ]
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o600)
    return DemoSecrets(
        ca=Passphrase(ca.encode("ascii"), f"文件 {path}(根证书)"),
        people={
            pid: Passphrase(secret.encode("ascii"), f"文件 {path}({pid})")
            for pid, secret in people.items()
        },
        path=path,
    )


@dataclass(frozen=True)
class _IssueSetup:
    keys_dir: Path
    roster_path: Path
    institution: str
    days: int
    now: datetime
    ca_passphrase: Passphrase
    cost: pkcs8.ScryptCost  # the parent's: a worker writes keys as the parent would


def _issue_worker(setup: _IssueSetup) -> tuple[_IssueSetup, Roster]:
    return setup, load_roster(setup.roster_path)


def _issue_chunk(
    state: tuple[_IssueSetup, Roster], people: Sequence[tuple[str, Passphrase]]
) -> list[dict[str, Any]]:
    setup, roster = state
    mine = dict(people)
    with pkcs8.scrypt_cost(setup.cost):
        issued = issue_certificates(
            setup.keys_dir,
            roster,
            list(mine),
            institution=setup.institution,
            ca_passphrase=setup.ca_passphrase,
            passphrase=mine.__getitem__,
            now=setup.now,
            days=setup.days,
        )
    return list(issued.records)


def issue_keys(
    ws: Workspace,
    roster: Roster,
    ca_passphrase: Passphrase,
    people: Sequence[tuple[str, Passphrase]],
    *,
    now: datetime,
    jobs: int | None = None,
) -> list[dict[str, Any]]:
    """Issue a key and certificate to each ``(person id, passphrase)``, shared among ``jobs``
    worker processes; the registry records, in the order of ``people``."""
    if not people:
        return []
    make_private_dir(ws.keys_dir / PEOPLE_DIR)  # before the workers, which would race to make it
    jobs = _jobs_for(len(people), jobs)
    setup = _IssueSetup(
        keys_dir=ws.keys_dir,
        roster_path=ws.roster_path,
        institution=ws.config.institution,
        days=ws.config.certificate_days,
        now=now,
        ca_passphrase=ca_passphrase,
        cost=pkcs8.new_key_cost(),
    )
    records: list[dict[str, Any]] = []
    share = math.ceil(len(people) / jobs)
    for chunk in map_chunks(
        _issue_worker, setup, _issue_chunk, list(people), jobs=jobs, chunk_size=share
    ):
        records.extend(chunk)
    return records


def _jobs_for(keys: int, jobs: int | None) -> int:
    """Worker processes for ``keys`` scrypt operations at this process's cost: one (this
    process) when the work would not pay for starting workers."""
    work = keys * pkcs8.new_key_cost().work
    if work < _WORKERS_FROM * pkcs8.SCRYPT_DEFAULT.work:
        return 1
    return default_jobs() if jobs is None else max(1, jobs)


def signing_chunk(people: int, jobs: int | None = None) -> int:
    """People per chunk of bulk signing (each person's key unlocked once), so that every worker
    gets one share of the unlocks — or one chunk, signed in this process, when they are cheap."""
    return max(1, math.ceil(people / _jobs_for(people, jobs)))


def hand_out(ws: Workspace, roster: Roster, demo: DemoSecrets, *, now: datetime, url: str) -> Path:
    """After the demo has signed: every person's key (encrypted with their activation code) is
    marked pending, as ``keys issue`` leaves it, and their sheets are written to
    ``激活单.docx`` (0600) in the demo directory, so each can log in to the signing page and set
    a PIN of their own. Returns the sheets' path."""
    sheets: list[ActivationSheet] = []
    for person in roster.people:
        cert = person_paths(ws.keys_dir, person.id).cert
        if not cert.exists():
            continue
        raw = demo.person(person.id).secret.decode("ascii")
        code = "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))
        mark_pending(ws, person.id, fingerprint(load_certificate(cert)), now)
        sheets.append(sheet_for(ws, person.id, code, now))
    path = ws.root / SHEETS_FILE
    write_sheets(sheets, path, institution=ws.config.institution, url=url)
    return path
