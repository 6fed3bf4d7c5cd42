"""``docgen demo``: a fictional county procuratorate taken through the whole year's pipeline.

The CA and every person get a passphrase of their own, made at run time and written to
``演示口令.txt`` in the workspace (mode 0600, :mod:`docgen.demo.keys`) so that the user can go on
signing by hand; the demo says where the file is and never prints a passphrase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from docgen.core.glossary import LetterKind
from docgen.core.progress import ProgressFactory, no_progress
from docgen.core.workspace import Workspace, find_workspace
from docgen.demo.keys import DemoSecrets, hand_out, issue_keys, make_secrets, signing_chunk
from docgen.demo.ledger import demo_activities
from docgen.demo.signing_plan import YearPlan, year_plan
from docgen.duties.engine import duties_in_workspace
from docgen.duties.report import reports_in_workspace
from docgen.letters.generate import generate
from docgen.letters.rendition import RenditionResult, make_renditions
from docgen.letters.soffice import INSTALL_COMMAND, find_soffice
from docgen.letters.workspace_init import init_workspace
from docgen.records.status import year_status
from docgen.registry import open_registry
from docgen.registry.clock import registry_clock
from docgen.roster.example import demo_roster_yaml
from docgen.roster.load import load_roster
from docgen.signing.ca import init_ca
from docgen.signing.crl import CRL_DAYS_DEFAULT
from docgen.signing.keyring import publish_crl
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_everyone
from docgen.verify.archive import build_archive, workspace_trust
from docgen.verify.model import LetterStatus
from docgen.verify.paths import verify_paths

Say = Callable[[str], None]


@dataclass
class DemoResult:
    workspace: Path
    year: int
    letters: dict[LetterKind, int] = field(default_factory=dict)
    certificates: int = 0
    signatures: int = 0
    pdfs: int = 0  # PDF renditions made (0: LibreOffice absent, or the demo asked for none)
    pdf_signatures: int = 0
    registry_size: int = 0
    activities: int = 0
    verified: int = 0
    artefacts: dict[str, Path] = field(default_factory=dict)


SERVE_PORT = 8470  # docgen serve's default port (docgen/cli/serve_cmd.py)


def setup_keys(
    ws: Workspace, passphrase: Passphrase | DemoSecrets, *, now: datetime, jobs: int | None = None
) -> int:
    """Create the CA and every person's certificate, and record them in the registry.

    ``passphrase``: the demo's own (:func:`docgen.demo.keys.make_secrets`, one per person), or one
    for the CA and everyone (test workspaces). Keys are issued in ``jobs`` worker processes.
    """
    roster = load_roster(ws.roster_path)
    if isinstance(passphrase, DemoSecrets):
        ca_secret, people = passphrase.ca, [(p.id, passphrase.person(p.id)) for p in roster.people]
    else:
        ca_secret, people = passphrase, [(p.id, passphrase) for p in roster.people]
    ca = init_ca(ws.keys_dir, institution=ws.config.institution, passphrase=ca_secret, now=now)
    records = issue_keys(ws, roster, ca_secret, people, now=now, jobs=jobs)
    with open_registry(ws) as registry:  # the first CRL too: signing refuses an unregistered one
        registry.append([*ca.records, *records], now=now)
    return len(records)


def run_demo(
    directory: Path,
    *,
    now: datetime,
    say: Say,
    progress: ProgressFactory = no_progress,
    pdf: bool = True,
) -> DemoResult:
    """The demo plays a whole fictional year (letters generated on 4 January, signed through
    January, two people late, :mod:`docgen.demo.signing_plan`), so its registry is stamped with
    the year's simulated times (the fixed clock), never the live one."""
    with registry_clock(live=False):
        return _run_demo(directory, now=now, say=say, progress=progress, pdf=pdf)


def _run_demo(
    directory: Path,
    *,
    now: datetime,
    say: Say,
    progress: ProgressFactory = no_progress,
    pdf: bool = True,
) -> DemoResult:
    """The whole chain in ``directory``. ``pdf``: make and sign each letter's PDF rendition
    where LibreOffice is installed (``docgen demo`` passes False under ``DOCGEN_PDF=0``)."""
    year = now.year
    init_workspace(
        directory, institution="庆城县人民检察院", year=year, roster_yaml=demo_roster_yaml()
    )
    ws = find_workspace(directory)
    result = DemoResult(workspace=ws.root, year=year)
    say(f"1. 已建立工作目录 {ws.root}(虚构的县检察院名册:{ws.roster_path.name})")

    plan = year_plan(load_roster(ws.roster_path), year, now)
    generated = generate(ws, year, now=plan.generated_at, progress=progress)
    result.letters = generated.per_kind()
    say(
        f"2. 已生成 {year} 年度文书 {sum(result.letters.values())} 份:"
        + ",".join(f"{kind.title} {n} 份" for kind, n in result.letters.items())
    )
    for note in generated.notes:
        say(f"   提示:{note}")
    _renditions(ws, result, now=plan.generated_at, say=say, progress=progress, wanted=pdf)

    roster = load_roster(ws.roster_path)
    secrets = make_secrets(ws, roster)
    result.certificates = setup_keys(ws, secrets, now=plan.generated_at)
    result.artefacts["演示口令(权限 600)"] = secrets.path
    say(
        f"3. 已建立单位根证书,并为 {result.certificates} 人签发个人证书;根证书和每个人的私钥"
        f"各有自己的随机口令,保存在 {secrets.path}(权限 600,口令不在屏幕上显示)"
    )

    for signing_round in plan.rounds:
        result.signatures += sign_everyone(
            ws,
            secrets.person,
            year=year,
            now=signing_round.moment,
            progress=progress,
            chunk_size=signing_chunk(len(roster.people)),
            people=signing_round.people,
        )
    say(f"4. 全部签订方已签名:共 {result.signatures} 个签名(每份文书双方各 1 个)")
    _say_deadline(ws, year, plan, say)
    if result.pdfs:
        with open_registry(ws) as registry:
            result.pdf_signatures = sum(1 for _ in registry.entries(type="pdf_signature"))
        say(
            f"   PDF 副本已由双方签署:共 {result.pdf_signatures} 个 PAdES 签名,签章在各自的"
            "“签名:”一栏,显示姓名、职务、签名时间和证书序列号"
        )

    # The simulated year began in January; its first CRL lasts 180 days. A fresh one as of today
    # keeps the demo workspace usable afterwards (serve, sign and reissue refuse an expired CRL).
    publish_crl(ws, ca_passphrase=secrets.ca, now=now, days=CRL_DAYS_DEFAULT)
    say(f"   已按今天({now.date().isoformat()})发布新的吊销列表并记入登记簿")

    with open_registry(ws) as registry:
        result.registry_size = registry.size()
        audit = registry.audit()
    say(
        f"5. 登记簿共 {result.registry_size} 条记录,审计"
        + ("通过" if audit.ok else f"未通过:{audit.problems}")
    )
    result.artefacts["文书目录"] = ws.year_dir(year)
    result.artefacts["清单"] = ws.year_dir(year) / "manifest.json"

    today = now.date()
    records = [r for r in demo_activities(roster, year) if r["date"] <= today.isoformat()]
    with open_registry(ws) as registry:
        registry.append(records, now=now)
    result.activities = len(records)
    _roster, duties = duties_in_workspace(ws, year, today)
    say(
        f"6. 已记入工作台账 {len(records)} 项活动(截至 {today.isoformat()});职责完成情况:"
        f"已完成 {duties.count('done')} 项,未到期 {duties.count('due')} 项,"
        f"逾期 {duties.count('overdue')} 项(演示名册中有意留下几项未完成)"
    )

    with open_registry(ws) as registry:  # the year proved complete against the registry's log
        verified = verify_paths(
            [ws.year_dir(year)], workspace_trust(ws), registry=registry, workspace=ws
        )
    result.verified = verified.count(LetterStatus.VERIFIED)
    say(f"7. 逐份核验:{verified.summary()}")

    archive = build_archive(ws, year)
    result.artefacts["年度档案包"] = archive.path
    say(f"8. 已生成年度档案包 {archive.path}(含 VERIFY.txt,可只用 openssl 核对)")

    reports = reports_in_workspace(ws, year, issued=today)
    for report in reports:
        result.artefacts[f"{report.kind.label}(报{report.recipient})"] = report.path
    say(f"9. 已生成年度报告初稿 {len(reports)} 份(【待填写】处由办公室补写)")

    sheets = hand_out(ws, roster, secrets, now=now, url=f"http://127.0.0.1:{SERVE_PORT}")
    result.artefacts["激活单(权限 600)"] = sheets
    say(
        f"10. 已为每人打印激活单 {sheets}(权限 600):各人用激活码首次登录签署页面"
        f"(docgen serve {ws.root})或运行 docgen keys activate --person 编号,设置本人 PIN"
    )
    return result


def _say_deadline(ws: Workspace, year: int, plan: YearPlan, say: Say) -> None:
    """When the rounds were, and which letters were signed after the deadline (年初)."""
    if len(plan.rounds) == 1:
        return
    status = year_status(ws, year, listed=0, as_of=plan.rounds[-1].moment.date())
    deadline = ws.config.signing.deadline_for(year)
    say(
        "   签署时间:" + "、".join(r.label for r in plan.rounds)
        + f";签订截止日 {deadline.month}月{deadline.day}日(年初),"
        f"其后补签的文书 {status.late} 份(docgen status 中标为“逾期补签”)"
    )


def _renditions(
    ws: Workspace,
    result: DemoResult,
    *,
    now: datetime,
    say: Say,
    progress: ProgressFactory,
    wanted: bool,
) -> None:
    """Each letter's PDF/A rendition (signed with the letters in step 4), or one line saying
    why there is none and how to make them later."""
    year = result.year
    later = f"docgen pdf --year {year},再由各人 docgen sign --as 工号 签署 PDF"
    if not wanted:
        say(f"   未生成 PDF 副本(DOCGEN_PDF=0);需要时运行 {later}")
        return
    if find_soffice() is None:
        say(
            "   提示:未找到 LibreOffice,本次演示没有生成和签署文书的 PDF 副本。"
            f"安装:{INSTALL_COMMAND};装好后运行 {later}"
        )
        return
    made: RenditionResult = make_renditions(ws, year, now=now, progress=progress)
    result.pdfs = made.made
    fonts = "、".join(made.fonts) or "无"
    say(f"   已生成 PDF/A 副本 {made.made} 份并登记(嵌入字体:{fonts})")
    if made.substituted:
        pairs = ",".join(f"{use.requested}→{use.used or '(无)'}" for use in made.substituted)
        say(f"   注意:本机未安装所配置的字体,PDF 中以相近字体代替:{pairs}")
