"""``verify.sh``: an archive checked with bash, awk and openssl alone, from the log itself.

The script trusts nothing the archive lists about itself (manifest.json, SHA256SUMS, VERIFY.txt
are unsigned and can be rewritten together). What it trusts is the checkpoint, whose Ed25519
signature it checks with the registry's public key, and through it the log: it recomputes the
RFC 9162 root of ``log/entries.jsonl`` with ``openssl dgst -sha256`` (leaf = SHA-256(0x00‖entry),
node = SHA-256(0x01‖left‖right), the last node of an odd level carried up — the same tree as the
RFC's split at the largest power of two) and requires the checkpoint's root and size. From the
log's entries it then takes, with awk, the letters of the year (of this volume), their
signatures, voids and CRLs, and requires for every letter its file with the registered SHA-256,
for every registered signature its ``.p7s`` with the registered SHA-256, valid at its recording
time against the CRL in force then (``openssl cms -verify -crl_check -attime``, the CA and that
CRL in ``-CAfile``), by the registered certificate, not revoked by any earlier CRL or revocation
entry; and both signatures of every letter not voided.

Hashing one file per leaf and per node with one openssl process per batch of files keeps it to
a few seconds for a county's year; the measured times are in VERIFY.txt.

The only facts written into the script are the year, the root certificate's fingerprint and, for
one volume of several, which volume it is; everything else is read from the archive's files.
"""

from __future__ import annotations

from dataclasses import dataclass

from docgen.verify.log import LOG_NAME


@dataclass(frozen=True)
class ScriptFacts:
    year: int | None
    ca_fingerprint: str
    volume: int = 1
    volumes: int = 1
    per_volume: int = 0  # letters per volume; 0: the whole year in one archive
    ca_name: str = "ca.pem"
    crl_name: str = "crl.pem"
    sums_name: str = "SHA256SUMS"
    checkpoint_name: str = "checkpoint.txt"
    public_key_name: str = "registry-pub.pem"
    pdfs: bool = False  # the archive carries signed PDF renditions: their hashes are checked


# awk over the log, one pass: the year's letters (latest document entry of each id), their
# signatures (a signer's first, kept if it signs the latest bytes), voids, this CA's CRLs and
# the revocation entries. The log is canonical JSON (the registry writes nothing else, and docgen
# verify refuses a log that is not), so a field is found by its key: a string value never holds
# an unescaped quote, so '"path":"' can only be the key itself.
_AWK_FUNCS = r"""
function str(key,   i, rest, j) {
  i = index($0, "\"" key "\":\"")
  if (i == 0) return ""
  rest = substr($0, i + length(key) + 4)
  j = index(rest, "\"")
  return j ? substr(rest, 1, j - 1) : ""
}
function num(key,   i, rest) {
  i = index($0, "\"" key "\":")
  if (i == 0) return ""
  rest = substr($0, i + length(key) + 3)
  if (match(rest, /^[0-9]+/)) return substr(rest, 1, RLENGTH)
  return ""
}
function compact(t) { gsub(/[-T:Z]/, "", t); return t }
function epoch(t,   y, m, d, days) {
  y = substr(t, 1, 4) + 0; m = substr(t, 6, 2) + 0; d = substr(t, 9, 2) + 0
  if (m <= 2) { y = y - 1; m = m + 12 }
  days = 365 * y + int(y / 4) - int(y / 100) + int(y / 400)
  days = days + int((153 * (m - 3) + 2) / 5) + d - 719469
  return days * 86400 + substr(t, 12, 2) * 3600 + substr(t, 15, 2) * 60 + substr(t, 18, 2)
}
function serial(s) { s = toupper(s); sub(/^0+/, "", s); return s }
"""

_AWK_MAIN = r"""{
  idx = NR - 1
  type = str("type")
  if (type == "document") {
    id = str("doc_id")
    if (num("year") == year && index(id, year "-") == 1) {
      seen[id] = 1; dpath[id] = str("path"); dsha[id] = str("sha256"); didx[id] = idx
      rest = $0; who = ""
      while (match(rest, /[{]"id":"[^"]*"/)) {
        who = who (who == "" ? "" : " ") substr(rest, RSTART + 7, RLENGTH - 8)
        rest = substr(rest, RSTART + RLENGTH)
      }
      dparties[id] = who
    }
  } else if (type == "signature") {
    id = str("doc_id"); signer = str("signer"); k = id SUBSEP signer
    if ((id in seen) && !(k in sidx)) {
      sidx[k] = idx; sdoc[k] = id; ssigner[k] = signer; sp7s[k] = str("p7s_sha256")
      sfp[k] = str("cert_fingerprint"); sdsha[k] = str("doc_sha256")
      sserial[k] = serial(str("cert_serial"))
      sat[k] = str("recorded_at")
    }
  } else if (type == "void") {
    id = str("doc_id")
    if ((id in seen) && !(id in voided)) voided[id] = idx
  } else if (type == "crl") {
    if (str("issuer_fingerprint") == ca) {
      ncrl++; cidx[ncrl] = idx; cnum[ncrl] = num("number")
      print idx "\t" num("number") "\t" str("sha256") "\t" str("next_update") > (out "/crls.tsv")
    }
  } else if (type == "revocation") {
    print idx "\t" serial(str("serial")) "\t" compact(str("revoked_at")) > (out "/revocations.tsv")
  }
}
END {
  for (id in seen) {
    printf "%s\t%s\t%s\t%s\t%s\t%s\n", dpath[id], id, didx[id], dsha[id], \
      ((id in voided) && voided[id] > didx[id]) ? "void" : "-", dparties[id] > (out "/docs.tsv")
  }
  for (k in sidx) {
    id = sdoc[k]
    if (sdsha[k] != dsha[id]) continue
    crl = "-"
    for (c = 1; c <= ncrl; c++) if (cidx[c] < sidx[k]) crl = cnum[c]
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, ssigner[k], dpath[id], \
      dpath[id] "." ssigner[k] ".p7s", sidx[k], sp7s[k], sfp[k], epoch(sat[k]), \
      compact(sat[k]), crl, sserial[k] > (out "/sigs.tsv")
  }
}
"""
_AWK_LOG = _AWK_FUNCS + _AWK_MAIN

# awk over share.tsv (this archive's letters) then the log: for each letter, the PDF rendition
# registered for its current bytes, and the PDF the chain of pdf_signature entries made of it
# (each signed the PDF the one before produced): the bytes the archived PDF must have.
_AWK_PDFS = (
    _AWK_FUNCS
    + r"""
NR == FNR { split($0, f, "\t"); want[f[2]] = f[4]; next }
{
  type = str("type")
  if (type != "rendition" && type != "pdf_signature") next
  id = str("doc_id")
  if (!(id in want)) next
  if (type == "rendition") {
    if (str("docx_sha256") == want[id]) {
      rpath[id] = str("path"); cur[id] = str("pdf_sha256"); ridx[id] = FNR - 1; nsig[id] = 0
    }
  } else if ((id in cur) && str("previous_pdf_sha256") == cur[id]) {
    cur[id] = str("pdf_sha256"); nsig[id]++
  }
}
END {
  for (id in rpath)
    printf "%s\t%s\t%s\t%s\t%s\n", rpath[id], id, ridx[id], cur[id], nsig[id] > (out "/pdfs.tsv")
}
"""
)

_PDF_STEP = r"""
# 10. PDF 副本:每份 PDF 与登记簿登记的 SHA-256 一致(转换件,及其后每个 PDF 签名登记的结果);
#     PDF 中的签名本身请按 VERIFY.txt 用 pdfsig 核对
: > "$work/pdfs.tsv"
if [ -f "$LOG" ]; then awk -v out="$work" '@AWK_PDFS@' "$work/share.tsv" "$LOG"; fi
sort "$work/pdfs.tsv" > "$work/pdfs.sorted"
cut -f1 "$work/pdfs.sorted" | while IFS= read -r p; do [ -f "$p" ] && printf '%s\0' "$p"; done \
  | xargs -0 openssl dgst -sha256 -r 2>/dev/null | split_hash > "$work/pdf-hashes.tsv"
awk -F "$TAB" '
  NR == FNR { h[$2] = $1; next }
  { print $0 "\t" (($1 in h) ? (h[$1] == $4 ? "ok" : "changed") : "missing") }' \
  "$work/pdf-hashes.tsv" "$work/pdfs.sorted" > "$work/pdf-checks.tsv"
while IFS="$TAB" read -r path id ridx want nsig state; do
  case $state in
    ok) ok "$path(PDF 副本与登记的一致,含 $nsig 个 PDF 签名)" ;;
    changed) bad "$path:PDF 副本与登记的 SHA-256 不一致(应为 $want;签名后被改动或被替换)" ;;
    *) printf '– %s\n' "$path:归档中没有这份 PDF 副本(登记簿第 $ridx 条登记了它),未核对" ;;
  esac
done < "$work/pdf-checks.tsv"
find . -name '*.pdf' -type f | sed 's|^\./||' | sort > "$work/pdf-present"
cut -f1 "$work/pdfs.sorted" | sort > "$work/pdf-wanted"
comm -23 "$work/pdf-present" "$work/pdf-wanted" | while IFS= read -r extra; do
  printf '✗ %s\n' "$extra:不是登记簿中本年度(本卷)文书登记的 PDF 副本"
done > "$work/pdf-extra"
if [ -s "$work/pdf-extra" ]; then
  cat "$work/pdf-extra"; failures=$((failures + $(wc -l < "$work/pdf-extra")))
fi
"""

_HEAD = r"""#!/usr/bin/env bash
# 不依赖 docgen 的归档核对脚本:检查点签名、登记簿条目(重新计算默克尔树根)、文书齐全、
# 吊销列表、每个数字签名(按登记时有效的吊销列表)。
# 用法:在解压后的归档目录中运行 bash verify.sh;全部通过时退出码为 0。
set -u
cd "$(dirname "$0")" || exit 2
export LC_ALL=C
YEAR=@YEAR@
CA_FINGERPRINT=@CA_FINGERPRINT@
VOLUME=@VOLUME@
VOLUMES=@VOLUMES@
PER_VOLUME=@PER_VOLUME@
LOG=@LOG@
failures=0
ok()  { printf '✓ %s\n' "$1"; }
bad() { printf '✗ %s\n' "$1"; failures=$((failures + 1)); }
command -v openssl >/dev/null 2>&1 || { echo "需要 openssl,请先安装"; exit 2; }
command -v awk >/dev/null 2>&1 || { echo "需要 awk"; exit 2; }
if command -v sha256sum >/dev/null 2>&1; then
  sums() { sha256sum -c --quiet "$1"; }
elif command -v shasum >/dev/null 2>&1; then
  sums() { shasum -a 256 -c --quiet "$1"; }
else
  echo "需要 sha256sum 或 shasum"; exit 2
fi
# 临时文件:树的每个叶和节点各写一个小文件,内存盘(/dev/shm)上快得多。
if [ -d /dev/shm ] && [ -w /dev/shm ]; then work=$(mktemp -d /dev/shm/docgen.XXXXXX); fi
[ -n "${work:-}" ] || work=$(mktemp -d 2>/dev/null || mktemp -d -t docgen)
trap 'rm -rf "$work"' EXIT
TAB=$(printf '\t')

# SHA-256(hex) of files 0..$2-1 in $work/b, one openssl process per batch, appended to $1.
BATCH=2000
i=0; while [ $i -lt $BATCH ]; do printf '%08d\n' $i; i=$((i + 1)); done > "$work/names"
mkdir "$work/b"
hash_batch() {
  ( cd "$work/b" && head -n "$2" "$work/names" | xargs openssl dgst -sha256 -r ) \
    | awk '{print $1}' >> "$1"
}

# RFC 9162 root (hex) of the entries of file $1, one per line.
log_root() {
  local line h left k=0 n=0 count f
  : > "$work/level"
  while IFS= read -r line || [ -n "$line" ]; do
    printf -v f '%08d' $k; printf '\0%s' "$line" > "$work/b/$f"
    k=$((k + 1)); n=$((n + 1))
    if [ $k -ge $BATCH ]; then hash_batch "$work/level" $k; k=0; fi
  done < "$1"
  if [ $k -gt 0 ]; then hash_batch "$work/level" $k; fi
  if [ $n -eq 0 ]; then printf '' | openssl dgst -sha256 -r | awk '{print $1}'; return; fi
  count=$n
  while [ "$count" -gt 1 ]; do
    sed 's/../\\x&/g' "$work/level" > "$work/escaped"
    : > "$work/next"
    k=0; left=""; count=0
    while IFS= read -r h; do
      if [ -z "$left" ]; then left=$h; continue; fi
      printf -v f '%08d' $k; printf "\\x01$left$h" > "$work/b/$f"
      left=""; k=$((k + 1)); count=$((count + 1))
      if [ $k -ge $BATCH ]; then hash_batch "$work/next" $k; k=0; fi
    done < "$work/escaped"
    if [ $k -gt 0 ]; then hash_batch "$work/next" $k; fi
    if [ -n "$left" ]; then
      printf '%s\n' "$left" | sed 's/\\x//g' >> "$work/next"; count=$((count + 1))
    fi
    mv "$work/next" "$work/level"
  done
  cat "$work/level"
}

# "<hash> *<file>" (openssl dgst -r) as "<hash><TAB><file>".
split_hash() { awk '{ h = $1; print h "\t" substr($0, length(h) + 3) }'; }
"""

_BODY = r"""
# 1. 校验和(清单本身没有签名,只能发现无意的损坏;下面的核对不依赖它)
if sums @SUMS@; then ok '所有文件与 @SUMS@ 一致'; else bad '有文件与 @SUMS@ 不一致'; fi

# 2. 根证书
ca_fp=$(openssl x509 -in @CA@ -noout -fingerprint -sha256 | sed 's/^[^=]*=//' | tr -d ':\n' \
  | tr 'ABCDEF' 'abcdef')
if [ "$ca_fp" = "$CA_FINGERPRINT" ]; then ok "根证书指纹 $CA_FINGERPRINT"
else bad "根证书指纹与归档记录的不一致($ca_fp)"; fi

# 3. 检查点签名
awk '/^$/{exit} {print}' @CHECKPOINT@ > "$work/checkpoint.body"
tail -n 1 @CHECKPOINT@ | awk '{print $3}' | openssl base64 -d -A | tail -c +5 \
  > "$work/checkpoint.sig"
if openssl pkeyutl -verify -pubin -inkey @PUB@ -rawin -in "$work/checkpoint.body" \
     -sigfile "$work/checkpoint.sig" >/dev/null 2>&1; then ok '检查点签名有效'
else bad '检查点签名无效'; fi
size=$(sed -n 2p "$work/checkpoint.body")
root=$(sed -n 3p "$work/checkpoint.body" | openssl base64 -d -A | od -An -tx1 | tr -d ' \n')

# 4. 登记簿条目:逐条计算叶哈希,逐级计算节点哈希,与检查点的根哈希比较
if [ ! -f "$LOG" ]; then
  bad "归档中缺少登记簿条目 $LOG,无法证明文书齐全"
else
  lines=$(wc -l < "$LOG" | tr -d ' ')
  computed=$(log_root "$LOG")
  if [ "$lines" != "$size" ]; then
    bad "$LOG 有 $lines 条,检查点记录的是 $size 条:条目被删除或增加"
  elif [ "$computed" != "$root" ]; then
    bad "$LOG 重新计算的根哈希 $computed 与检查点的 $root 不符:条目被改动、删除、增加或调换了顺序"
  else
    ok "登记簿条目 $size 条,重新计算的根哈希与检查点一致"
  fi
fi

# 5. 从登记簿条目中取出本年度的文书、签名、作废和本单位根证书的吊销列表
: > "$work/crls.tsv"; : > "$work/revocations.tsv"; : > "$work/docs.tsv"; : > "$work/sigs.tsv"
if [ -f "$LOG" ]; then
  awk -v year="$YEAR" -v ca="$CA_FINGERPRINT" -v out="$work" '@AWK@' "$LOG"
fi

# 6. 吊销列表:每一份都由根证书签发、与登记的一致、编号逐次增大;列出其中吊销的证书
: > "$work/revoked.tsv"
cat "$work/revocations.tsv" >> "$work/revoked.tsv"
newest=0
while IFS="$TAB" read -r cidx cnum csha cnext; do
  file="crls/crl-$cnum.pem"
  if [ ! -f "$file" ]; then bad "缺少吊销列表 $file(登记簿第 $cidx 条)"; continue; fi
  if ! openssl crl -in "$file" -CAfile @CA@ -noout 2>&1 | grep -q 'verify OK'; then
    bad "$file 不是根证书签发的"; continue
  fi
  sha=$(openssl crl -in "$file" -outform DER | openssl dgst -sha256 -r | awk '{print $1}')
  if [ "$sha" != "$csha" ]; then bad "$file 与登记簿第 $cidx 条登记的吊销列表不一致"; continue; fi
  if [ "$cnum" -le "$newest" ]; then
    bad "登记簿第 $cidx 条吊销列表的编号 $cnum 不大于此前的 $newest(编号倒退)"
  fi
  [ "$cnum" -gt "$newest" ] && newest=$cnum
  cat @CA@ "$file" > "$work/ca-crl-$cnum.pem"
  openssl crl -in "$file" -noout -text | awk -v i="$cidx" '
    $1 == "Serial" && $2 == "Number:" { s = toupper($3); sub(/^0+/, "", s); next }
    s != "" && $1 == "Revocation" && $2 == "Date:" {
      m = (index("JanFebMarAprMayJunJulAugSepOctNovDec", $3) + 2) / 3
      t = $5; gsub(":", "", t)
      printf "%s\t%s\t%04d%02d%02d%s\n", i, s, $6, m, $4, t
      s = ""
    }' >> "$work/revoked.tsv"
  ok "吊销列表 $file(第 $cnum 号,登记簿第 $cidx 条)由根证书签发,与登记的一致"
done < "$work/crls.tsv"
if [ "$newest" -eq 0 ]; then bad '登记簿条目中没有本单位根证书的吊销列表'; fi
current=$(openssl crl -in @CRL@ -noout -crlnumber 2>/dev/null | sed 's/^[^=]*=//')
if [ -n "$current" ] && [ $((current)) -lt "$newest" ]; then
  bad "@CRL@ 是第 $((current)) 号吊销列表,早于登记簿中最新的第 $newest 号:已过时"
fi

# 7. 文书齐全:本年度(本卷)每一份登记的文书都在,内容与登记的一致
sort "$work/docs.tsv" > "$work/docs.sorted"
if [ "$PER_VOLUME" -gt 0 ]; then
  awk -v a=$(((VOLUME - 1) * PER_VOLUME + 1)) -v b=$((VOLUME * PER_VOLUME)) \
    'NR >= a && NR <= b' "$work/docs.sorted" > "$work/share.tsv"
else
  cp "$work/docs.sorted" "$work/share.tsv"
fi
expected=$(wc -l < "$work/share.tsv" | tr -d ' ')
cut -f1 "$work/share.tsv" | while IFS= read -r p; do [ -f "$p" ] && printf '%s\0' "$p"; done \
  | xargs -0 openssl dgst -sha256 -r 2>/dev/null | split_hash > "$work/doc-hashes.tsv"
missing=0
while IFS="$TAB" read -r want path; do
  bad "$path:文件内容与登记的 SHA-256 不一致(应为 $want)"
done < <(awk -F "$TAB" '
  NR == FNR { h[$2] = $1; next }
  ($1 in h) && h[$1] != $4 { print $4 "\t" $1 }' \
  "$work/doc-hashes.tsv" "$work/share.tsv")
while IFS="$TAB" read -r path id idx dsha state parties; do
  if [ ! -f "$path" ]; then
    bad "缺少文书 $id:$path(登记簿第 $idx 条登记了这份文书)"; missing=$((missing + 1))
  fi
done < "$work/share.tsv"
find . -name '*.docx' -type f | sed 's|^\./||' | sort > "$work/present"
cut -f1 "$work/share.tsv" | sort > "$work/wanted"
comm -23 "$work/present" "$work/wanted" | while IFS= read -r extra; do
  printf '✗ %s\n' "$extra:不在登记簿中本年度(本卷)的文书之列"
done > "$work/extra"
if [ -s "$work/extra" ]; then
  cat "$work/extra"; failures=$((failures + $(wc -l < "$work/extra")))
fi
if [ "$missing" -eq 0 ]; then
  if [ "$VOLUMES" -gt 1 ]; then
    ok "本卷(第 $VOLUME 卷,共 $VOLUMES 卷)应有的 $expected 份文书齐全"
  else
    ok "登记簿中 $YEAR 年度的 $expected 份文书齐全"
  fi
fi

# 8. 数字签名:按登记时有效的吊销列表逐个核对
awk -F "$TAB" 'NR == FNR { want[$2] = 1; next } ($1 in want)' "$work/share.tsv" "$work/sigs.tsv" \
  | sort -t "$TAB" -k4,4 > "$work/share-sigs.tsv"
cut -f4 "$work/share-sigs.tsv" | while IFS= read -r p; do [ -f "$p" ] && printf '%s\0' "$p"; done \
  | xargs -0 openssl dgst -sha256 -r 2>/dev/null | split_hash > "$work/sig-hashes.tsv"
awk -F "$TAB" '
  NR == FNR { h[$2] = $1; next }
  { print $0 "\t" (($4 in h) ? (h[$4] == $6 ? "ok" : "changed") : "missing") }' \
  "$work/sig-hashes.tsv" "$work/share-sigs.tsv" > "$work/checks.tsv"
# Serials revoked by some registered CRL or revocation entry: " S1 S2 … " (the few that are).
revoked_serials=" $(cut -f2 "$work/revoked.tsv" | tr '\n' ' ')"
while IFS="$TAB" read -r id signer doc sig sidx p7s want attime recorded crl serial state; do
  case $state in
    missing) bad "$sig:登记簿第 $sidx 条登记了 $signer 的签名,但签名文件不存在"; continue ;;
    changed) bad "$sig:签名文件与登记的 SHA-256 不一致(被替换或改动)"; continue ;;
  esac
  if [ "$crl" = "-" ] || [ ! -f "$work/ca-crl-$crl.pem" ]; then
    bad "$sig:登记该签名之前没有可用的登记的吊销列表,无法判断当时证书是否已吊销"; continue
  fi
  rm -f "$work/signer.pem"
  if ! openssl cms -verify -binary -inform DER -content "$doc" -in "$sig" \
       -CAfile "$work/ca-crl-$crl.pem" -crl_check -purpose any -attime "$attime" \
       -out /dev/null -signer "$work/signer.pem" 2>"$work/err"; then
    bad "$sig:签名无效($(grep -m 1 -o 'Verify error:.*' "$work/err" || head -n 1 "$work/err"))"
    continue
  fi
  # The signer's certificate is the registered one when their SHA-256 agree (then its serial
  # is the registered one too): the PEM's base64 decoded and hashed.
  fp=$(sed '1d;$d' "$work/signer.pem" | openssl base64 -d | openssl dgst -sha256 -r)
  if [ "${fp%% *}" != "$want" ]; then bad "$sig:签名证书不是登记的签订人的证书"; continue; fi
  case $revoked_serials in
    *" $serial "*)
      hit=$(awk -F "$TAB" -v s="$serial" -v i="$sidx" -v t="$recorded" \
        '$2 == s && $1 + 0 < i + 0 && $3 <= t { print $3; exit }' "$work/revoked.tsv")
      if [ -n "$hit" ]; then bad "$sig:证书在登记该签名之前已被吊销($hit)"; continue; fi ;;
  esac
  ok "$sig"
done < "$work/checks.tsv"

# 9. 签名齐全:未作废的文书须双方都已签名,签名人须是文书的签订方
awk -F "$TAB" '
  NR == FNR { has[$1 SUBSEP $2] = 1; signed[$1] = signed[$1] " " $2; next }
  {
    n = split($6, who, " ")
    for (j = 1; j <= n; j++) { party[$2 SUBSEP who[j]] = 1
      if ($5 != "void" && !(($2 SUBSEP who[j]) in has)) print $2 "\t尚缺 " who[j] " 的签名" }
    m = split(signed[$2], by, " ")
    for (j = 1; j <= m; j++)
      if (!(($2 SUBSEP by[j]) in party)) print $2 "\t" by[j] " 不是本文书的签订方,却登记了签名"
  }' "$work/sigs.tsv" "$work/share.tsv" > "$work/unsigned.tsv"
while IFS="$TAB" read -r id what; do bad "$id:$what"; done < "$work/unsigned.tsv"
"""

_TAIL_WHOLE = r"""
if [ "$failures" -eq 0 ]; then echo "全部核对通过"; exit 0; fi
echo "有 $failures 项核对未通过"; exit 1
"""

_TAIL_VOLUME = r"""
if [ "$failures" -eq 0 ]; then
  echo "本卷全部核对通过(全年共 $VOLUMES 卷,须逐卷核对,缺一不可)"; exit 0
fi
echo "有 $failures 项核对未通过"; exit 1
"""


def _quote_awk(program: str) -> str:
    """The awk program inside single quotes in the script (it holds none itself)."""
    assert "'" not in program
    return program.strip("\n")


def render_verify_sh(facts: ScriptFacts) -> str:
    """The script for one archive (or one volume of a year's)."""
    head = (
        _HEAD.replace("@YEAR@", str(facts.year if facts.year is not None else 0))
        .replace("@CA_FINGERPRINT@", facts.ca_fingerprint)
        .replace("@VOLUME@", str(facts.volume))
        .replace("@VOLUMES@", str(facts.volumes))
        .replace("@PER_VOLUME@", str(facts.per_volume))
        .replace("@LOG@", LOG_NAME)
    )
    body = (
        _BODY.replace("@SUMS@", facts.sums_name)
        .replace("@CA@", facts.ca_name)
        .replace("@CRL@", facts.crl_name)
        .replace("@CHECKPOINT@", facts.checkpoint_name)
        .replace("@PUB@", facts.public_key_name)
        .replace("@AWK@", _quote_awk(_AWK_LOG))
    )
    pdfs = _PDF_STEP.replace("@AWK_PDFS@", _quote_awk(_AWK_PDFS)) if facts.pdfs else ""
    return head + body + pdfs + (_TAIL_VOLUME if facts.volumes > 1 else _TAIL_WHOLE)
