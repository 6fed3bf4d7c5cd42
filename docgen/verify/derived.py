"""The files an archive derives from its verified content: manifest, checksums, index, VERIFY.txt.

Every one of them is a pure function of the letters' verified registry records, the trust anchors
and the checkpoint. The archive builder writes them; ``docgen verify`` derives them again and
requires identical bytes, so that none of them can be edited unnoticed even though none is signed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from docgen.core.errors import DocgenError
from docgen.registry.note import parse_checkpoint, parse_note, parse_verifier_key
from docgen.verify.log import LOG_NAME
from docgen.verify.verify_sh import ScriptFacts, render_verify_sh

if TYPE_CHECKING:
    from docgen.verify.model import LetterReport, PdfInfo

ARCHIVE_FORMAT = "docgen-archive-v1"
CA_NAME = "ca.pem"
CRL_NAME = "crl.pem"
VKEY_NAME = "registry.vkey"
REGISTRY_PUB_NAME = "registry-pub.pem"
CHECKPOINT_NAME = "checkpoint.txt"
WITNESSES_NAME = "witnesses.json"  # docgen.registry.witness_archive.MEMBER_NAME
MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
INDEX_NAME = "索引.txt"
VERIFY_NAME = "VERIFY.txt"
SCRIPT_NAME = "verify.sh"
PROOF_SUFFIX = ".proof.json"

DERIVED_NAMES = frozenset(
    {REGISTRY_PUB_NAME, MANIFEST_NAME, SUMS_NAME, INDEX_NAME, VERIFY_NAME, SCRIPT_NAME}
)
COMMAND_PREFIX = "  $ "
PARTY_LABELS = {"superior": "甲方", "subordinate": "乙方"}
STATUS_LABELS = {
    "verified": "已签齐",
    "incomplete": "签名不全",
    "voided": "已作废",
    "failed": "验证失败",
}


@dataclass(frozen=True)
class ArchiveAnchors:
    """The exact bytes of the anchors and checkpoint that go into an archive."""

    ca_pem: bytes
    crl: bytes
    vkey: bytes
    checkpoint: bytes


CRLS_DIR = "crls"


@dataclass(frozen=True)
class CrlFile:
    """One registered CRL as the archive holds it for openssl: ``crls/crl-<number>.pem``, made
    from the DER of its ``crl`` entry in ``log/entries.jsonl``."""

    index: int  # of its entry in the log
    number: int
    pem: bytes

    @property
    def name(self) -> str:
        return f"{CRLS_DIR}/crl-{self.number}.pem"


def crl_in_force(crls: Sequence[CrlFile], index: int) -> CrlFile | None:
    """The CRL in force for an entry at ``index``: the last one registered before it."""
    found = [c for c in crls if c.index < index]
    return max(found, key=lambda c: c.index) if found else None


@dataclass(frozen=True)
class Volume:
    """Which part of a year an archive file holds, when the year is packed in several: volume
    ``number`` of ``count`` holds the year's letters (in the order of their paths) from
    ``(number - 1) * per_volume`` on, at most ``per_volume`` of them."""

    number: int  # 1-based
    count: int
    letters_in_year: int
    per_volume: int = 0  # 0: not said (an archive made before volumes said it)

    def file_name(self, year: int | str) -> str:
        """The name ``docgen archive`` gives this volume's file (``archive-2027-part01-of12``)."""
        return f"archive-{year}{volume_suffix(self.number, self.count)}"

    def data(self) -> dict[str, int]:
        return {
            "number": self.number,
            "of": self.count,
            "letters_in_year": self.letters_in_year,
            "letters_per_volume": self.per_volume,
        }


def volume_suffix(number: int, count: int) -> str:
    """What volume ``number`` of ``count`` adds to the archive's file name: ``-part01-of12``."""
    width = max(2, len(str(count)))
    return f"-part{number:0{width}d}-of{count:0{width}d}"


def volume_from_manifest(manifest: object) -> Volume | None:
    """The ``volume`` an archive's manifest.json declares, if any, as declared: whether it is
    right is checked by deriving the archive's files again from it (and the letters held)."""
    if not isinstance(manifest, dict):
        return None
    data = manifest.get("volume")
    if not isinstance(data, dict):
        return None
    number, count, total = data.get("number"), data.get("of"), data.get("letters_in_year")
    per = data.get("letters_per_volume", 0)
    if not all(type(x) is int for x in (number, count, total, per)):
        return None
    assert isinstance(number, int) and isinstance(count, int) and isinstance(total, int)
    assert isinstance(per, int)
    return Volume(number, count, total, per)


@dataclass(frozen=True)
class DerivedFiles:
    derived: dict[str, bytes]  # name -> bytes of each derived file
    expected_names: frozenset[str]  # every member the archive must hold, except manifest.json


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _colon_hex(hex_text: str) -> str:
    upper = hex_text.upper()
    return ":".join(upper[i : i + 2] for i in range(0, len(upper), 2))


def _epoch(iso: str) -> int:
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(moment.timestamp())


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True)
class _Facts:
    year: int | None
    institution: str
    ca_fingerprint: str
    origin: str
    size: int | None
    root_b64: str
    volume: Volume | None = None
    crls: tuple[CrlFile, ...] = ()
    pdfs: bool = False  # some letter carries its signed PDF rendition
    witnesses: bool = False  # the archive carries witnesses.json

    @property
    def archive_name(self) -> str:
        """The archive's file name without ``.zip``, as ``docgen archive`` writes it."""
        year = self.year if self.year is not None else "____"
        return f"archive-{year}" if self.volume is None else self.volume.file_name(year)


def _facts(
    letters: Sequence[LetterReport],
    anchors: ArchiveAnchors,
    volume: Volume | None = None,
    crls: tuple[CrlFile, ...] = (),
) -> _Facts:
    ca = x509.load_pem_x509_certificate(anchors.ca_pem)
    orgs = ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    institution = str(orgs[0].value) if orgs else ca.subject.rfc4514_string()
    ca_fp = _sha(ca.public_bytes(serialization.Encoding.DER))
    try:
        note = parse_note(anchors.checkpoint)
        cp = parse_checkpoint(note.text)
        origin, size, root = cp.origin, cp.size, note.text.split("\n")[2]
    except DocgenError:
        origin, size, root = "(检查点无法解析)", None, ""
    years = sorted({letter.year for letter in letters if letter.year is not None})
    return _Facts(
        years[0] if years else None, institution, ca_fp, origin, size, root, volume, crls,
        pdfs=any(letter.pdf is not None for letter in letters),
    )  # fmt: skip


def _script_facts(facts: _Facts) -> ScriptFacts:
    volume = facts.volume
    return ScriptFacts(
        year=facts.year,
        ca_fingerprint=facts.ca_fingerprint,
        volume=1 if volume is None else volume.number,
        volumes=1 if volume is None else volume.count,
        per_volume=0 if volume is None else volume.per_volume,
        ca_name=CA_NAME,
        crl_name=CRL_NAME,
        sums_name=SUMS_NAME,
        checkpoint_name=CHECKPOINT_NAME,
        public_key_name=REGISTRY_PUB_NAME,
        pdfs=facts.pdfs,
    )


def _letter_data(letter: LetterReport) -> dict[str, Any]:
    return {
        "doc_id": letter.doc_id,
        "kind": letter.kind,
        "title": letter.title,
        "path": letter.path,
        "proof": letter.path + PROOF_SUFFIX,
        "sha256": letter.sha256,
        "registry_index": letter.registry_index,
        "recorded_at": letter.recorded_at,
        "status": letter.status.value,
        "parties": [
            {"party": p.party, "id": p.id, "name": p.name, "title": p.title}
            for p in letter.parties
        ],
        "signatures": [
            {
                "signer": s.signer,
                "name": s.name,
                "party": s.party,
                "path": s.path,
                "p7s_sha256": s.p7s_sha256,
                "cert_fingerprint": s.cert_fingerprint,
                "cert_serial": s.cert_serial,
                "signing_time": s.signing_time,
                "recorded_at": s.recorded_at,
                "registry_index": s.registry_index,
            }
            for s in letter.signatures
        ],
        "missing": [p.id for p in letter.missing] if letter.void is None else [],
        "void": None
        if letter.void is None
        else {
            "reason": letter.void.reason,
            "replaced_by": letter.void.replaced_by,
            "recorded_at": letter.void.recorded_at,
            "registry_index": letter.void.registry_index,
        },
        # only for a letter with a PDF: archives without PDFs keep their bytes
        **({} if letter.pdf is None else {"pdf": _pdf_data(letter.pdf)}),
    }


def _pdf_data(pdf: PdfInfo) -> dict[str, Any]:
    return {"path": pdf.path, "sha256": pdf.sha256, "signed_by": list(pdf.signed_by)}


def content_names(letters: Sequence[LetterReport]) -> list[str]:
    """The letter files an archive holds: each .docx, its proof bundle, its registered .p7s,
    and its signed PDF rendition when it has one."""
    names: list[str] = []
    for letter in letters:
        names.append(letter.path)
        names.append(letter.path + PROOF_SUFFIX)
        names.extend(s.path for s in letter.signatures)
        if letter.pdf is not None:
            names.append(letter.pdf.path)
    return names


def registry_public_pem(vkey: bytes) -> bytes:
    verifier = parse_verifier_key(vkey.decode("utf-8").strip())
    return verifier.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def render_derived_files(
    letters: Sequence[LetterReport],
    anchors: ArchiveAnchors,
    content: Mapping[str, bytes],
    *,
    volume: Volume | None = None,
    crls: Sequence[CrlFile] = (),
) -> DerivedFiles:
    """Derive every generated member from verified letters, anchors and the content's bytes.

    ``content`` maps member names to bytes (the letters' files and ``log/entries.jsonl``);
    derived names in it are ignored, so the same call serves the builder (content only) and the
    verifier (the whole archive). ``volume``: the archive is one of several files of a year
    (manifest.json and VERIFY.txt say which). ``crls``: the registered CRLs the log holds,
    written as ``crls/crl-<number>.pem``.
    """
    ordered = sorted((x for x in letters if x.doc_id is not None), key=lambda x: x.path)
    facts = _facts(ordered, anchors, volume, tuple(crls))
    if WITNESSES_NAME in content:
        facts = dataclasses.replace(facts, witnesses=True)
    fixed = {
        CA_NAME: anchors.ca_pem,
        CRL_NAME: anchors.crl,
        VKEY_NAME: anchors.vkey,
        CHECKPOINT_NAME: anchors.checkpoint,
    }
    derived: dict[str, bytes] = {REGISTRY_PUB_NAME: registry_public_pem(anchors.vkey)}
    derived.update((crl.name, crl.pem) for crl in crls)
    derived[INDEX_NAME] = render_index(ordered, facts).encode("utf-8")
    derived[VERIFY_NAME] = render_verify_txt(ordered, facts).encode("utf-8")
    derived[SCRIPT_NAME] = render_verify_sh(_script_facts(facts)).encode("utf-8")
    names = set(content_names(ordered)) | set(fixed) | set(derived) | {SUMS_NAME, LOG_NAME}
    names |= {WITNESSES_NAME} & set(content)  # carried when witnesses were required
    hashed: dict[str, str] = {}
    for name in sorted(names - {SUMS_NAME}):
        data = derived.get(name, fixed.get(name, content.get(name)))
        if data is not None:
            hashed[name] = _sha(data)
    sums = "".join(f"{digest}  {name}\n" for name, digest in sorted(hashed.items()))
    derived[SUMS_NAME] = sums.encode("utf-8")
    hashed[SUMS_NAME] = _sha(derived[SUMS_NAME])
    manifest = {
        "format": ARCHIVE_FORMAT,
        "institution": facts.institution,
        "year": facts.year,
        "ca_sha256": facts.ca_fingerprint,
        "checkpoint": {"origin": facts.origin, "size": facts.size, "root": facts.root_b64},
        "partial": any(x.status.value == "incomplete" for x in ordered),
        **({} if volume is None else {"volume": volume.data()}),
        "counts": {
            status: sum(1 for x in ordered if x.status.value == status)
            for status in ("verified", "incomplete", "voided", "failed")
        },
        "documents": [_letter_data(x) for x in ordered],
        "files": hashed,
    }
    derived[MANIFEST_NAME] = _json_bytes(manifest)
    return DerivedFiles(derived=derived, expected_names=frozenset(names))


# ---------------------------------------------------------------------------------------------
# 索引.txt


def _party_text(letter: LetterReport, party: str) -> str:
    for p in letter.parties:
        if p.party == party:
            return f"{p.name}({p.title},{p.id})"
    return "(无)"


def render_index(letters: Sequence[LetterReport], facts: _Facts) -> str:
    year = facts.year if facts.year is not None else "____"
    count = {s: sum(1 for x in letters if x.status.value == s) for s in STATUS_LABELS}
    lines = [
        f"{facts.institution} {year} 年度党风廉政建设责任书、承诺书归档索引",
        "",
        f"共 {len(letters)} 份:已签齐 {count['verified']} 份,签名不全 {count['incomplete']} 份,"
        f"已作废 {count['voided']} 份。",
        f"登记簿:{facts.origin},检查点大小 {facts.size},根哈希 {facts.root_b64}",
        f"根证书 SHA-256 指纹:{_colon_hex(facts.ca_fingerprint)}",
        "时间均为协调世界时(UTC,北京时间减 8 小时)。",
        "",
    ]
    for number, letter in enumerate(letters, start=1):
        label = STATUS_LABELS.get(letter.status.value, letter.status.value)
        lines.append(f"{number}. {letter.doc_id} 《{letter.title}》【{label}】")
        lines.append(f"   甲方:{_party_text(letter, 'superior')}")
        lines.append(f"   乙方:{_party_text(letter, 'subordinate')}")
        lines.append(f"   文件:{letter.path}")
        lines.append(f"   SHA-256:{letter.sha256}")
        lines.append(f"   登记:登记簿第 {letter.registry_index} 条,{letter.recorded_at}")
        for sig in letter.signatures:
            lines.append(
                f"   签名:{sig.name}({sig.signer},{PARTY_LABELS.get(sig.party, sig.party)})"
                f" 签名时间 {sig.signing_time},登记时间 {sig.recorded_at}"
                f"(登记簿第 {sig.registry_index} 条),证书序列号 {sig.cert_serial}"
            )
            lines.append(f"         证书指纹 {sig.cert_fingerprint}")
        if letter.void is not None:
            replaced = f",由 {letter.void.replaced_by} 替代" if letter.void.replaced_by else ""
            lines.append(
                f"   作废:{letter.void.reason}{replaced}(登记簿第 {letter.void.registry_index} 条,"
                f"{letter.void.recorded_at})"
            )
        elif letter.missing:
            lines.append(
                "   尚缺签名:" + "、".join(f"{p.name}({p.id})" for p in letter.missing)
            )
        lines.append("")
    incomplete = [x for x in letters if x.status.value == "incomplete"]
    if incomplete:
        lines.append("未签齐的文书(本归档为不完整归档):")
        for letter in incomplete:
            who = "、".join(f"{p.name}({p.id})" for p in letter.missing)
            lines.append(f"  {letter.doc_id} 《{letter.title}》 尚缺:{who}")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# VERIFY.txt


def _ca_with_crl(crl: CrlFile) -> str:
    """The file the commands below give ``-CAfile``: the root certificate and one CRL."""
    return f"ca-crl-{crl.number}.pem"


def _signature_commands(letter: LetterReport, crls: Sequence[CrlFile]) -> list[tuple[str, str]]:
    """(command, signer label) for each signature, checked at the registry's recording time
    against the CRL in force then (without one, against the root certificate alone: docgen and
    verify.sh refuse such a signature)."""
    out = []
    for sig in letter.signatures:
        in_force = crl_in_force(crls, sig.registry_index)
        trust = f"{CA_NAME}" if in_force is None else f"{_ca_with_crl(in_force)} -crl_check"
        command = (
            "openssl cms -verify -binary -inform DER"
            f" -content {shlex.quote(letter.path)} -in {shlex.quote(sig.path)}"
            f" -CAfile {trust} -purpose any -attime {_epoch(sig.recorded_at)} -out /dev/null"
        )
        out.append((command, f"{sig.name}({sig.signer})"))
    return out


# verify.sh as measured on a two-core Linux computer (bash 5.2, OpenSSL 3.0, mawk, /dev/shm):
# the demo's archive (59 letters, 118 signatures, 350 entries) 3.3 s of CPU, 9 s on a busy
# machine; the tree of 4·10⁵ entries alone 74 s of CPU (181 s busy); one signature ≈ 25 ms.
SCRIPT_TIMING = (
    "  verify.sh 重新计算默克尔树时,每个叶和节点写一个小文件,每 2000 个文件调用一次 openssl;",
    "  每个签名调用三次 openssl。实测(双核电脑):演示年度(59 份文书、118 个签名、约 350 条",
    "  登记条目)用时约 4 秒(电脑繁忙时约 10 秒);10 万份文书的年度约有 40 万条登记条目,",
    "  分 20 卷,每卷都带全部登记条目:每卷重新计算默克尔树约 1.5–3 分钟,核对本卷 1 万个签名",
    "  约 4–8 分钟,每卷合计约 6–11 分钟,全年 20 卷约 2–4 小时。",
)


def render_verify_txt(letters: Sequence[LetterReport], facts: _Facts) -> str:
    year = facts.year if facts.year is not None else "____"
    signatures = sum(len(x.signatures) for x in letters)
    example = next((x for x in letters if x.signatures), None)
    used = sorted(
        {
            crl.number: crl
            for letter in letters
            for sig in letter.signatures
            if (crl := crl_in_force(facts.crls, sig.registry_index)) is not None
        }.values(),
        key=lambda c: c.number,
    )
    p = COMMAND_PREFIX
    volume = facts.volume
    lines = [
        f"{facts.institution} {year} 年度党风廉政建设责任书、承诺书归档包 验证说明",
        "=" * 40,
        "",
        *(
            []
            if volume is None
            else [
                f"{year} 年度共有文书 {volume.letters_in_year} 份,按文件路径排序后分"
                f" {volume.count} 卷归档,本卷为第 {volume.number} 卷"
                f"({facts.archive_name}.zip);全年的核对须逐卷进行,"
                f"{volume.count} 卷缺一不可。",
                f"用 docgen verify 一次给出全部 {volume.count} 卷"
                f"(如 docgen verify archive-{year}-part*.zip),还会核对各卷齐全、没有重复。",
            ]
        ),
        f"本归档包共有文书 {len(letters)} 份、签名文件 {signatures} 个。每份文书(.docx)旁边有:",
        "  <文书>.<人员编号>.p7s   签订人的数字签名(CAdES 分离式签名,DER 编码);",
        "  <文书>.proof.json        登记簿证明文件(登记条目、包含证明、签名检查点)。",
        *(_PDF_FILE_LINES if facts.pdfs else ()),
        "其他文件:",
        f"  {CA_NAME}            本单位根证书(所有个人签名证书都由它签发);",
        f"  {CRL_NAME}           归档时最新的证书吊销列表(由根证书签发);",
        f"  {CRLS_DIR}/crl-<编号>.pem  登记簿中登记过的每一份吊销列表(取自登记簿条目);",
        f"  {VKEY_NAME}      登记簿验证公钥(C2SP 格式);{REGISTRY_PUB_NAME} 是同一公钥的 PEM 形式;",
        f"  {CHECKPOINT_NAME}     登记簿签名检查点(登记簿名称、条目数、默克尔树根哈希、签名);",
        f"  {LOG_NAME}  登记簿中直到该检查点的全部 {facts.size} 条登记条目,每行一条,",
        "                           与登记簿计算哈希时的字节完全相同;",
        f"  {INDEX_NAME}          全部文书的索引:谁与谁签订、何时签名、是否作废;",
        f"  {MANIFEST_NAME}     机读清单(每个文件的 SHA-256,每份文书的登记信息);",
        f"  {SUMS_NAME}        供 sha256sum -c 使用的校验和;",
        f"  {SCRIPT_NAME}          自动执行下面第一部分全部核对的脚本(bash + awk + openssl)。",
        *(_WITNESS_LINES if facts.witnesses else ()),
        "",
        "哪些文件可信:只有检查点带有登记簿的签名。清单、校验和、索引和本说明都没有签名,改写归档的人",
        "可以把它们一起改写(例如删掉一份文书后重写清单和校验和)。所以下面的核对以检查点为根:",
        "先验证检查点的签名,再用登记簿条目重新计算默克尔树根哈希、与检查点比较,证明这些条目正是",
        "登记簿当时的全部内容;然后要求登记簿中本年度登记的每一份文书都在归档中、内容与登记的一致,",
        "每一个登记的签名都有效。verify.sh 本身也在归档中:怀疑归档被整体改写时,请用 docgen verify",
        "核对(它会重新生成 verify.sh 并逐字节比较),或使用自己保存的可信的 verify.sh。",
        "",
        "以下命令都在解压后的归档目录中执行(行首的“$”是提示符,不要输入)。",
        "时间均为协调世界时(UTC)。-attime 后面的数字是登记簿记录该签名的时间(Unix 时间),",
        "因为证书有效期只有两年,多年后核对时必须按当时的时间判断证书和吊销列表是否有效。",
        "",
        "第一部分 不用 docgen,只用 sha256sum、awk 和 openssl 核对",
        "-" * 40,
        "",
        "第一步 解压(不要用会执行文件的工具):",
        f"    unzip {facts.archive_name}.zip -d {facts.archive_name}"
        f"    然后 cd {facts.archive_name}",
        "",
        "第二步 核对每个文件与校验和一致(只能发现无意的损坏,见上文):",
        f"{p}sha256sum -c --quiet {SUMS_NAME}",
        "  → 没有任何输出、退出码为 0 即全部一致;如有“FAILED”,该文件已被改动。",
        "  (macOS 上可用 shasum -a 256 -c SHA256SUMS。)",
        "",
        "第三步 核对根证书是本单位的根证书:",
        f"{p}openssl x509 -in {CA_NAME} -noout -nameopt utf8 -subject -fingerprint -sha256",
        f"  → 指纹应为 {_colon_hex(facts.ca_fingerprint)}",
        "  请把这个指纹与单位公布或存档的根证书指纹逐字核对;指纹不同,则整个归档不可信。",
        "",
        "第四步 核对登记簿检查点的签名(Ed25519):",
        f"{p}awk '/^$/{{exit}} {{print}}' {CHECKPOINT_NAME} > checkpoint.body",
        f"{p}tail -n 1 {CHECKPOINT_NAME} | awk '{{print $3}}' | openssl base64 -d -A | tail -c +5"
        " > checkpoint.sig",
        f"{p}openssl pkeyutl -verify -pubin -inkey {REGISTRY_PUB_NAME} -rawin -in checkpoint.body"
        " -sigfile checkpoint.sig",
        "  → 应显示“Signature Verified Successfully”。",
        f"  检查点记录:登记簿“{facts.origin}”共 {facts.size} 条,根哈希 {facts.root_b64}。",
        f"  请把 {REGISTRY_PUB_NAME} 与单位交给纪检组保存的登记簿公钥核对。",
        "",
        "第五步 用登记簿条目证明文书齐全(由 verify.sh 完成):",
        f"  {LOG_NAME} 的行数应等于检查点记录的条目数。每行的叶哈希为 SHA-256(0x00 ‖ 该行),",
        "  相邻两个哈希的节点哈希为 SHA-256(0x01 ‖ 左 ‖ 右),每一层最后落单的哈希原样升入上一层,",
        "  直到剩下一个,即根哈希(RFC 9162 第 2.1 节),应与检查点的根哈希相同。例如第一行的叶哈希:",
        f"{p}head -n 1 {LOG_NAME} | tr -d '\\n' | {{ printf '\\0'; cat; }} | openssl dgst -sha256",
        "  根哈希相同,就证明这些条目正是登记簿当时的全部条目,没有删除、增加、改动或调换顺序。",
        f"  其中 \"type\":\"document\" 且 \"year\":{year} 的每一条是本年度登记的一份文书"
        "(同一编号登记多次的以最后一次为准);",
        "  它的 \"path\" 所指的文件必须在归档中,SHA-256 必须等于它的 \"sha256\"。",
        *(
            []
            if volume is None
            else ["  分卷时,这些文书按路径排序后依次分卷,每卷核对属于本卷的部分。"]
        ),
        *SCRIPT_TIMING,
        "",
        "第六步 核对吊销列表:登记簿中每一份吊销列表都有一个 crls/crl-<编号>.pem,都应由根证书签发:",
        *[f"{p}openssl crl -in {crl.name} -CAfile {CA_NAME} -noout" for crl in facts.crls],
        "  → 每条都应显示“verify OK”。",
        f"{p}openssl crl -in {CRL_NAME} -noout -crlnumber -nextupdate",
        "  → 编号(crlNumber)不应小于 crls/ 中最大的编号;下次更新时间(nextUpdate)已过的,",
        "    说明此后的吊销情况未知,请向办公室索取最新的吊销列表。",
        "  每个签名都按登记该签名之前登记簿中最新的那一份吊销列表(登记时有效的吊销列表)判断:",
        "  证书不得在其中,且这份吊销列表在登记签名时不得已过期。吊销时间晚于签名登记时间的,",
        "  签名在吊销前已经登记,仍然有效。",
        "",
        "第七步 逐个核对数字签名(签名是否针对这份文件、证书是否由根证书签发、登记时是否有效、",
        "  登记时是否已被吊销):先把根证书和每一份要用到的吊销列表合成一个文件:",
        *[f"{p}cat {CA_NAME} {crl.name} > {_ca_with_crl(crl)}" for crl in used],
        "  然后每个签名一条命令,全部命令见本文末尾的附录。例如:",
    ]
    if example is not None:
        command, who = _signature_commands(example, facts.crls)[0]
        lines.append(f"    {command}")
        lines.append(
            f"  → 应显示“CMS Verification successful”(这是 {who} 对 {example.doc_id} 的签名)。"
        )
    else:
        lines.append("    (本归档中没有签名文件)")
    lines += [
        "",
        "第八步 核对签名人是约定的签订方:取出签名证书,比较指纹与索引中该签名的“证书指纹”:",
    ]
    if example is not None:
        sig = example.signatures[0]
        lines += [
            f"    openssl cms -verify -binary -inform DER -content {shlex.quote(example.path)}"
            f" -in {shlex.quote(sig.path)} -CAfile {CA_NAME} -purpose any"
            f" -attime {_epoch(sig.recorded_at)} -out /dev/null -signer signer.pem",
            "    openssl x509 -in signer.pem -noout -nameopt utf8"
            " -subject -serial -fingerprint -sha256",
            f"  → 主题中 UID 应为 {sig.signer},指纹(去掉冒号、转小写)应为 {sig.cert_fingerprint}。",
        ]
    lines += [
        "",
        "一键执行第二至第八步(包括第五步的默克尔树计算和文书齐全核对):",
        f"{p}bash {SCRIPT_NAME}",
        "  → 最后一行为“全部核对通过”且退出码为 0;缺少的文书逐份列出编号和路径。",
        "",
        "第二部分 用 docgen 核对(包括每份文书的默克尔树包含证明)",
        "-" * 40,
        "",
        f"    docgen verify {facts.archive_name}.zip",
        "  对每份文书逐项列出:1 文件哈希与登记一致;2 登记条目包含在已签名的检查点中;",
        "  3 数字签名有效;4 签名人为约定的签订方;5 证书由本单位根证书签发;",
        "  6 登记签名时证书未吊销(按登记时有效的吊销列表);7 签名齐全。",
        "  另外用登记簿条目重新计算根哈希、核对本年度登记的文书全部在归档中,核对登记的吊销列表,",
        "  并核对清单、校验和、索引、本说明和 verify.sh 与归档内容逐字节一致。",
        "  最后一行汇总,全部通过时退出码为 0。",
        "  默认使用归档内的根证书、吊销列表和验证公钥;可用 --ca、--crl、--verifier-key",
        "  指定单位另行保存的原件,此时归档内的根证书和验证公钥必须与之相同,",
        "  指定的吊销列表早于登记簿中最新的吊销列表时报告“已过时”。",
        "  在能访问登记簿的工作目录中加 --online,还会核对登记簿中的条目未被改动、",
        "  登记簿当前状态是归档检查点的延续。",
        "",
        "作废的文书:因人员变动等原因作废的文书仍保存在归档中,索引中标为【已作废】,",
        "它的登记和已有签名照常核对,但不要求签名齐全,也不计入“验证通过”。",
    ]
    if any(x.status.value == "incomplete" for x in letters):
        lines += [
            "",
            "注意:本归档为不完整归档(--partial),有文书尚未签齐,清单见索引末尾。",
        ]
    if facts.pdfs:
        lines += _pdf_part(letters)
    lines += ["", "附录 逐个签名的核对命令", "-" * 40, ""]
    for letter in letters:
        for command, who in _signature_commands(letter, facts.crls):
            lines.append(f"# {letter.doc_id} {who}")
            lines.append(f"{p}{command}")
    if facts.pdfs:
        lines += ["", "PDF 副本的签名(先按第三部分建立 ../nssdb):", ""]
        for letter in letters:
            if letter.pdf is not None:
                lines.append(f"# {letter.doc_id} PDF 副本")
                lines.append(f"{p}{_pdfsig_command(letter.pdf.path)}")
    lines.append("")
    return "\n".join(lines)


_PDF_FILE_LINES = (
    "  <文书>.pdf               由登记的 .docx 转换的 PDF/A 副本,签订双方各加了一个带可见签章的",
    "                           PDF 数字签名(PAdES);便于阅读和打印,正式文本仍是 .docx 及 .p7s。",
)
NSS_DIR = "../nssdb"
_WITNESS_LINES = (
    f"  {WITNESSES_NAME}     见证方的副署:归档时要求的每个见证方(如市院、县纪委)最近副署的",
    "                           检查点(登记簿签名行之后是见证方的副署行,C2SP cosignature/v1),",
    "                           以及从本归档检查点到该检查点的一致性证明。见证方只副署它核对过、",
    "                           是它上次副署的检查点的延续的检查点,所以登记簿一方改写历史或回滚后",
    "                           无法取得副署。",
    "                           核对:docgen verify 本归档包 --witness <见证方公钥>;见证方公钥必须",
    "                           向见证方本人索取,不能取自归档包。",
)


def _pdfsig_command(path: str) -> str:
    return f"pdfsig -nssdir sql:{NSS_DIR} {shlex.quote(path)}"


def _pdf_part(letters: Sequence[LetterReport]) -> list[str]:
    """Part three of VERIFY.txt: the signed PDF renditions, checked with poppler's pdfsig
    against an NSS database trusting the archive's CA (the commands are run literally by
    tests/demo/test_demo_pdf.py), or in a PDF reader that trusts it."""
    p = COMMAND_PREFIX
    with_pdf = [x for x in letters if x.pdf is not None]
    example = with_pdf[0].pdf if with_pdf else None
    lines = [
        "",
        "第三部分 核对 PDF 副本上的签名",
        "-" * 40,
        "",
        f"本归档包中有 {len(with_pdf)} 份文书附有 PDF 副本(与 .docx 同名,扩展名 .pdf)。每份 PDF",
        "由登记的 .docx 转换而成并在登记簿中登记;签订双方签名时各在 PDF 上加一个数字签名(PAdES),",
        "签章显示在各自的“签名:”一栏,写明姓名、职务、签名时间和证书序列号。",
        "verify.sh 第 10 项核对每份 PDF 与登记簿登记的 SHA-256 一致;docgen verify 还核对 PDF 中的",
        "每个签名有效、是约定的签订方、签章在该签订方的签名栏上、签名后未被改动。",
        "",
        "用 poppler-utils 的 pdfsig 核对 PDF 中的签名(Debian/Ubuntu:",
        "apt install poppler-utils libnss3-tools)。先在归档目录之外建立一个只信任本单位根证书的",
        "NSS 证书库(只需一次):",
        f"{p}mkdir -p {NSS_DIR}",
        f"{p}certutil -N -d sql:{NSS_DIR} --empty-password",
        f"{p}certutil -A -d sql:{NSS_DIR} -n docgen-ca -t C,C,C -i {CA_NAME}",
        "然后逐份核对(全部命令见附录末尾),例如:",
    ]
    if example is not None:
        lines.append(f"    {_pdfsig_command(example.path)}")
    lines += [
        "  → 每个签名(Signature #1、#2)都应显示“Signature Validation: Signature is Valid.”,",
        "    “Signer Certificate Common Name”是签订人的姓名;最后一个签名应显示",
        "    “Total document signed”(签名覆盖整个文件,签名后没有追加任何内容);在证书有效期内",
        "    还应显示“Certificate Validation: Certificate is Trusted.”。",
        "  pdfsig 只能按今天的时间判断证书:个人证书有效期两年,过期后显示“Certificate has",
        "  Expired”,这不表示签名无效;签名时证书是否有效、是否已吊销,以第一部分和 docgen verify",
        "  为准。",
        "",
        "也可以用任何能把本单位根证书设为可信的 PDF 阅读器查看:例如 Adobe Acrobat Reader 中,",
        "“编辑 → 首选项 → 签名 → 身份与可信证书 → 更多 → 可信证书 → 导入”选择 ca.pem,",
        "勾选“将此证书用作可信的根证书”;再打开 PDF,签名面板中两个签名都显示“签名有效”,",
        "且“自签名以来文档未被修改”。",
    ]
    return lines
