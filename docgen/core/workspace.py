"""A workspace: ``docgen.toml``, a roster, ``keys/``, ``output/`` and the registry."""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from docgen.core.errors import Location, UsageError, ValidationError
from docgen.core.glossary import INSTITUTION_DEFAULT

CONFIG_NAME = "docgen.toml"
_T = TypeVar("_T")

# Where personal certificates say their CRL is published (cRLDistributionPoints). The default is
# the office machine itself, where docgen's signing page serves keys/ca/crl.der: it never names
# somebody else's server, and a relying party elsewhere that cannot reach it gets no answer, not
# a wrong one (a CRL only counts when the CA signed it). An institution that publishes its CRL on
# its intranet sets its own address before issuing certificates.
# Port 8470 is `docgen serve`'s default (docgen/cli/serve_cmd.py); it serves the CRL there.
DEFAULT_CRL_URL = "http://127.0.0.1:8470/crl.der"


def default_policy_oid(institution: str) -> str:
    """The certificate policy OID an institution gets unless docgen.toml names one: 2.25 and a
    UUID as a decimal integer (ITU-T X.667: anyone may make such an OID without registering it),
    the UUID derived with uuid5 from the institution's name, so the same name always gives the
    same OID and two institutions never share one."""
    name = f"urn:docgen:certificate-policy:{institution.strip()}"
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, name).int}"


@dataclass(frozen=True)
class Fonts:
    title: str = "方正小标宋简体"
    body: str = "仿宋_GB2312"
    heading: str = "黑体"
    subheading: str = "楷体_GB2312"
    page_number: str = "宋体"


@dataclass(frozen=True)
class PairingOptions:
    committee_members_with_secretary: bool = True
    discipline_head_with_secretary: bool = True
    public_commitment_at_department_tier: bool = True


# The signing deadline (年初) when docgen.toml says none: 31 January, the end of the first month.
# 10.3 "年初与班子成员面对面签订", 11.2 "年初与分管部门负责人签订", 9.5–9.7 "及时组织签订":
# 年初 is the beginning of the year, which a quarter's end (31 March) would stretch to a quarter of
# it; an institution whose 县委 hands its tasks down later sets its own day.
DEFAULT_SIGNING_DEADLINE = "01-31"
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


@dataclass(frozen=True)
class SigningOptions:
    deadline: str = DEFAULT_SIGNING_DEADLINE  # MM-DD, in the letters' own year, Beijing time
    configured: bool = False  # whether docgen.toml set it (status says which applies)

    def deadline_for(self, year: int) -> date:
        """The last day (inclusive) on which a letter of ``year`` is signed in time."""
        month, day = (int(part) for part in self.deadline.split("-"))
        return date(year, month, day)

    @property
    def describe(self) -> str:
        """Where the deadline comes from, in Chinese, for ``status`` and ``duties``."""
        month, day = (int(part) for part in self.deadline.split("-"))
        source = (
            f"docgen.toml [signing] deadline = \"{self.deadline}\""
            if self.configured
            else f"docgen.toml 未设置 [signing] deadline,按默认 \"{DEFAULT_SIGNING_DEADLINE}\""
        )
        return f"每年{month}月{day}日({source};第十条第3项、第十一条第2项“年初”签订)"


def _check_deadline(value: object, path: Path) -> SigningOptions:
    match = _MONTH_DAY.fullmatch(value) if isinstance(value, str) else None
    problem = "格式不对"
    if match and isinstance(value, str):
        month, day = int(match.group(1)), int(match.group(2))
        try:
            date(2027, month, day)  # a day every year has: 02-29 is refused
        except ValueError:
            problem = "不是每年都有的日期"
        else:
            return SigningOptions(deadline=value, configured=True)
    raise ValidationError(
        f"签订截止日“{value}”{problem}",
        location=Location(file=str(path), field="[signing] deadline"),
        hint=f"应写成 \"MM-DD\",例如 deadline = \"{DEFAULT_SIGNING_DEADLINE}\"(当年1月31日)",
    )


@dataclass(frozen=True)
class Config:
    institution: str = INSTITUTION_DEFAULT
    registry_name: str = "qingcheng.jcy.example/docgen"
    default_year: int = 2027
    roster: str = "roster.yaml"
    certificate_days: int = 730
    signing_time_tolerance_seconds: int = 600
    crl_url: str = DEFAULT_CRL_URL
    certificate_policy_oid: str = ""  # empty: default_policy_oid(institution)
    fonts: Fonts = field(default_factory=Fonts)
    pairing: PairingOptions = field(default_factory=PairingOptions)
    signing: SigningOptions = field(default_factory=SigningOptions)

    @property
    def policy_oid(self) -> str:
        """The certificate policy OID written into personal certificates."""
        return self.certificate_policy_oid or default_policy_oid(self.institution)


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: Config

    @property
    def roster_path(self) -> Path:
        return self.root / self.config.roster

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def registry_path(self) -> Path:
        return self.root / "registry.db"

    def year_dir(self, year: int) -> Path:
        return self.output_dir / str(year)


def _section(data: dict[str, object], name: str, path: Path) -> dict[str, object]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ValidationError(
            f"[{name}] 应为一个表(section)", location=Location(file=str(path), field=name)
        )
    return value


def _typed(data: dict[str, object], key: str, default: _T, path: Path) -> _T:
    value = data.get(key, default)
    if type(value) is not type(default):
        raise ValidationError(
            f"取值类型不对,应为 {type(default).__name__}",
            location=Location(file=str(path), field=key),
            hint="请按 docgen init 生成的示例修改",
        )
    return value


def load_config(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"配置文件格式错误:{exc}", location=Location(file=str(path))) from exc
    base = Config()
    fonts_data = _section(data, "fonts", path)
    pairing_data = _section(data, "pairing", path)
    fonts = Fonts(**{k: _typed(fonts_data, k, v, path) for k, v in vars(Fonts()).items()})
    pairing = PairingOptions(
        **{k: _typed(pairing_data, k, v, path) for k, v in vars(PairingOptions()).items()}
    )
    scalars = {
        k: _typed(data, k, getattr(base, k), path)
        for k in (
            "institution",
            "registry_name",
            "default_year",
            "roster",
            "certificate_days",
            "signing_time_tolerance_seconds",
            "crl_url",
        )
    }
    _check_crl_url(str(scalars["crl_url"]), path)
    policy = data.get("certificate_policy_oid")
    if policy is not None:
        scalars["certificate_policy_oid"] = _check_oid(policy, path)
    deadline = _section(data, "signing", path).get("deadline")
    signing = SigningOptions() if deadline is None else _check_deadline(deadline, path)
    return Config(fonts=fonts, pairing=pairing, signing=signing, **scalars)


def _check_crl_url(value: str, path: Path) -> None:
    """An http(s) URL with a host, printable ASCII only (it goes into every certificate)."""
    problem = None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        problem = "不是有效的网址"
    else:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "不是 http:// 或 https:// 网址"
        elif not all("!" <= ch <= "~" for ch in value):
            problem = "含有空格、中文或其他非 ASCII 字符(中文域名请写成 xn-- 形式)"
    if problem is not None:
        raise ValidationError(
            f"吊销列表发布地址“{value}”{problem}",
            location=Location(file=str(path), field="crl_url"),
            hint="它会写进每张个人证书,只能是网址,不能是文件路径;"
            f"例如 crl_url = \"{DEFAULT_CRL_URL}\"",
        )


_OID = re.compile(r"([012])\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def _check_oid(value: object, path: Path) -> str:
    match = _OID.fullmatch(value) if isinstance(value, str) else None
    if isinstance(value, str) and match and (match.group(1) == "2" or int(match.group(2)) < 40):
        return value
    raise ValidationError(
        f"证书策略 OID“{value}”不是有效的对象标识符",
        location=Location(file=str(path), field="certificate_policy_oid"),
        hint="应为以点分隔的数字,例如 2.25.后接十进制数字;删去此行则按单位名称自动生成",
    )


def find_workspace(start: Path) -> Workspace:
    """Open the workspace at ``start``; it must contain ``docgen.toml``."""
    root = start.resolve()
    config_path = root / CONFIG_NAME
    if not config_path.is_file():
        raise UsageError(
            f"{root} 不是 docgen 工作目录(缺少 {CONFIG_NAME})",
            hint="请先运行 docgen init 目录名,或用 --workspace 指定工作目录",
        )
    return Workspace(root=root, config=load_config(config_path))


def config_text(institution: str, year: int) -> str:
    return f"""# docgen 工作目录配置。修改后重新运行命令即可生效。
institution = {toml_string(institution)}
# 登记簿(透明日志)名称,写入每个签名检查点的第一行
registry_name = {toml_string(_registry_name(institution))}
default_year = {year}
roster = "roster.yaml"
# 个人证书有效期(天)
certificate_days = 730
# 签名时间与登记时间允许相差的秒数
signing_time_tolerance_seconds = 600
# 个人证书中的吊销列表发布地址(cRLDistributionPoints 扩展),只能是 http:// 或 https:// 网址,
# 不能是文件路径。默认是本机签名页面发布 keys/ca/crl.der 的地址:它不指向任何别人的服务器,
# 其他电脑上的验证方访问不到时得不到答复,而不会得到错误的答复(吊销列表须有根证书的签名才算数)。
# 单位在内网发布吊销列表时,请在签发证书之前改为该地址;已签发的证书不会随之改变。
crl_url = {toml_string(DEFAULT_CRL_URL)}
# 个人证书中的证书策略 OID(certificatePolicies 扩展)。默认值由单位名称用 UUID 第 5 版(uuid5)
# 推导为 2.25.<十进制 UUID>:同一单位名称总是得到同一个 OID,不同单位不会相同,按 ITU-T X.667
# 无需向任何机构申请。单位已有登记的策略 OID 时可改为自己的;只影响此后签发的证书。
certificate_policy_oid = {toml_string(default_policy_oid(institution))}

[pairing]
# 检委会专职委员与党组书记签订责任书(第六、十一、十四条)
committee_members_with_secretary = true
# 纪检组长与党组书记签订责任书
discipline_head_with_secretary = true
# 班子成员与分管部门负责人之间也签《公开承诺书》(第9条第6项)
public_commitment_at_department_tier = true

[signing]
# 签订截止日(当年的月-日,北京时间,含当日):此日之后才签完的文书为“逾期补签”,
# 此日之后仍未签完的为“逾期未签”。依据:第十条第3项“年初与班子成员面对面签订”、
# 第十一条第2项“年初与分管部门负责人签订”、第九条第5至7项“及时组织签订”。
# 默认 1 月 31 日(年初即一年之初的第一个月);县委任务下达较晚的单位可改,例如 "03-31"。
deadline = {toml_string(DEFAULT_SIGNING_DEADLINE)}

[fonts]
# 没有方正小标宋、仿宋_GB2312 的单位可改为 黑体、仿宋、宋体
title = "方正小标宋简体"
body = "仿宋_GB2312"
heading = "黑体"
subheading = "楷体_GB2312"
page_number = "宋体"
"""


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and control characters escaped.

    JSON's string escapes are a subset of TOML's, so ``json.dumps`` gives a valid TOML string.
    """
    return json.dumps(value, ensure_ascii=False)


def _registry_name(institution: str) -> str:
    """A checkpoint key name may hold no blank and no "+" (C2SP signed-note): they are dropped."""
    name = "".join(ch for ch in institution if not (ch.isspace() or ch == "+"))
    return f"{name}/党风廉政建设登记簿"


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    atomic_write_chunks(path, (data,), mode=mode)


def atomic_write_chunks(path: Path, chunks: Iterable[bytes], *, mode: int = 0o644) -> None:
    """:func:`atomic_write` of the concatenated ``chunks``, written as they come (a large file
    is never one object in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
