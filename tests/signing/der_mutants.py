"""Mutants of a CMS signature, for the differential fuzzer of test_cades_differential.py.

A signature is read into a tree of TLVs that can be changed and written again: byte damage, tree
edits (bytes, tags, length forms, children), CMS edits (certificates, OIDs, algorithm
parameters, versions, signer identifier, encapsulated content, CRLs, signers) and edits of the
signed attributes (signingTime encodings, attributes dropped, duplicated, reordered or added,
ESS variants). :func:`fix_up` then makes a mutant consistent again as an attacker holding a key
would — signer identifier, signingCertificateV2, messageDigest, signature — so that mutants get
past the checks of the signature value and reach the verifier's fast path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from hypothesis import strategies as st

from docgen.signing.cades_sign import HASHES, der_tlv
from docgen.signing.x509util import SigningKey

# ---------------------------------------------------------------------------------------------
# DER as a tree


@dataclass
class Node:
    """One TLV; ``children`` when its contents parsed as TLVs, else the raw ``content``."""

    tag: int
    content: bytes = b""
    children: list[Node] | None = None
    form: tuple[str, int] | None = None  # ("long", length bytes) or ("indefinite", 0)

    def body(self) -> bytes:
        if self.children is None:
            return self.content
        return b"".join(child.encode() for child in self.children)

    def encode(self) -> bytes:
        body = self.body()
        if self.form is None:
            return der_tlv(self.tag, body)
        kind, count = self.form
        if kind == "indefinite":
            return bytes((self.tag, 0x80)) + body + b"\x00\x00"
        count = max(count, (len(body).bit_length() + 7) // 8, 1)
        return bytes((self.tag, 0x80 | count)) + len(body).to_bytes(count, "big") + body

    def copy(self) -> Node:
        kids = None if self.children is None else [c.copy() for c in self.children]
        return Node(self.tag, self.content, kids, self.form)


def _read(buf: bytes, pos: int, end: int) -> tuple[Node, int]:
    """The definite-length TLV at ``pos``; ValueError for anything else."""
    if pos + 2 > end:
        raise ValueError("short")
    tag, first = buf[pos], buf[pos + 1]
    if tag & 0x1F == 0x1F or first == 0x80:
        raise ValueError("not DER")
    start, size = pos + 2, first
    if first > 0x80:
        start = pos + 2 + (first & 0x7F)
        size = int.from_bytes(buf[pos + 2 : start], "big")
    stop = start + size
    if start > end or stop > end:
        raise ValueError("overrun")
    node = Node(tag, buf[start:stop])
    if tag & 0x20:
        try:
            node.children = _read_all(node.content)
        except ValueError:
            node.children = None
    return node, stop


def _read_all(buf: bytes) -> list[Node]:
    nodes, pos = [], 0
    while pos < len(buf):
        node, pos = _read(buf, pos, len(buf))
        nodes.append(node)
    return nodes


def parse(blob: bytes) -> Node:
    node, stop = _read(blob, 0, len(blob))
    if stop != len(blob):
        raise ValueError("trailing bytes")
    return node


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children or ():
        yield from walk(child)


def child(node: Node | None, index: int, tag: int) -> Node | None:
    kids = node.children if node is not None else None
    if kids is None or not -len(kids) <= index < len(kids) or kids[index].tag != tag:
        return None
    return kids[index]


def oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
SHA256, SHA512 = "2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.3"
SIGNED_DATA = "1.2.840.113549.1.7.2"


def signed_data(root: Node) -> Node | None:
    return child(child(root, 1, 0xA0), 0, 0x30)


def certificate_set(root: Node) -> Node | None:
    return next((c for c in (signed_data(root) or Node(0)).children or () if c.tag == 0xA0), None)


def first_certificate(root: Node) -> Node | None:
    return child(certificate_set(root), 0, 0x30)


def signer_info(root: Node) -> Node | None:
    return child(child(signed_data(root), -1, 0x31), 0, 0x30)


def signed_attributes(root: Node) -> Node | None:
    info = signer_info(root)
    return next((c for c in (info.children or ()) if c.tag == 0xA0), None) if info else None


def attribute(root: Node, kind: str) -> Node | None:
    """The first signed attribute of this type (a SEQUENCE of OID and SET), if there is one."""
    wanted = oid(kind)
    for attr in (signed_attributes(root) or Node(0)).children or ():
        if attr.children and len(attr.children) > 1 and attr.children[0].encode() == wanted:
            return attr
    return None


def without_signature_value(blob: bytes) -> bytes:
    """A signature without its signature value (ECDSA signs the same bytes differently)."""
    try:
        root = parse(blob)
    except ValueError:
        return blob
    value = child(signer_info(root), -1, 0x04)
    if value is not None:
        value.content = b""
    return root.encode()


# ---------------------------------------------------------------------------------------------
# made consistent again


@dataclass
class Material:
    """What an attacker has at hand: the file, certificates to swap in, keys to sign with."""

    data: bytes
    pool: list[bytes]  # certificates (DER)
    keys: list[SigningKey]

    def key_for(self, cert_der: bytes) -> SigningKey | None:
        for key in self.keys:
            spki = key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            if spki in cert_der:
                return key
        return None


def issuer_and_serial(cert: Node | None) -> tuple[bytes, bytes] | None:
    """The raw issuer Name and serial INTEGER of a certificate in the tree, if it has them."""
    tbs = child(cert, 0, 0x30)
    if tbs is None or not tbs.children:
        return None
    first = 1 if tbs.children[0].tag == 0xA0 else 0
    serial, issuer = child(tbs, first, 0x02), child(tbs, first + 2, 0x30)
    if serial is None or issuer is None:
        return None
    return issuer.encode(), serial.encode()


def _algorithm(node: Node | None, kind: Any) -> str:
    try:
        return str(kind.load(node.encode())["algorithm"].native) if node is not None else ""
    except (ValueError, TypeError, KeyError):
        return ""


def fix_up(root: Node, material: Material, data: bytes, what: frozenset[str]) -> None:
    """Make a mutant consistent again: ``sid``, ``ess``, ``digest``, ``sign`` (as in ``what``)."""
    certs, info, attrs = certificate_set(root), signer_info(root), signed_attributes(root)
    if certs is None or info is None or attrs is None or not certs.children or not info.children:
        return
    cert_der = certs.children[0].encode()
    names = issuer_and_serial(certs.children[0])
    if "sid" in what and names is not None and child(info, 1, 0x30) is not None:
        info.children[1] = Node(0x30, names[0] + names[1])
    ess = attribute(root, SIGNING_CERTIFICATE_V2)
    if "ess" in what and names is not None and ess is not None and ess.children:
        issuer_serial = der_tlv(0x30, der_tlv(0x30, der_tlv(0xA4, names[0])) + names[1])
        cert_id = der_tlv(0x04, hashlib.sha256(cert_der).digest()) + issuer_serial
        ess.children[1:] = [Node(0x31, der_tlv(0x30, der_tlv(0x30, der_tlv(0x30, cert_id))))]
    digest = _algorithm(child(info, 2, 0x30), algos.DigestAlgorithm)
    digest = digest if digest in HASHES else "sha256"
    md = attribute(root, MESSAGE_DIGEST)
    values = child(md, 1, 0x31)
    if "digest" in what and values is not None:
        # The value's tag and length form are kept: only its contents become the digest.
        value = values.children[0] if values.children else Node(0x04)
        value.children, value.content = None, hashlib.new(digest, data).digest()
        values.children = [value, *(values.children or [])[1:]]
    key, value = material.key_for(cert_der), child(info, -1, 0x04)
    if "sign" not in what or key is None or value is None:
        return
    to_be_signed = b"\x31" + attrs.encode()[1:]
    name = _algorithm(child(info, -2, 0x30), algos.SignedDigestAlgorithm)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        hash_name = name.split("_")[0] if name.endswith("_ecdsa") else "sha256"
        hash_name = hash_name if hash_name in HASHES else "sha256"
        value.content = key.sign(to_be_signed, ec.ECDSA(HASHES[hash_name]()))
    else:
        hash_name = name.split("_")[0] if name.endswith("_rsa") else digest
        hash_name = hash_name if hash_name in HASHES else "sha256"
        value.content = key.sign(to_be_signed, padding.PKCS1v15(), HASHES[hash_name]())
    value.children = None


FIXES = st.sampled_from(
    [
        frozenset({"sid", "ess", "digest", "sign"}),
        frozenset({"sign"}),
        frozenset(),
        frozenset({"sid", "ess", "sign"}),
        frozenset({"digest", "sign"}),
        frozenset({"ess", "sign"}),
    ]
)


# ---------------------------------------------------------------------------------------------
# byte damage


def byte_op(blob: bytes, op: tuple[Any, ...]) -> bytes:
    kind, at, extra = op
    at %= len(blob) + 1
    if kind == "replace" and at < len(blob):
        return blob[:at] + bytes([extra[0] if extra else 0]) + blob[at + 1 :]
    if kind == "insert":
        return blob[:at] + extra + blob[at:]
    if kind == "delete":
        return blob[:at] + blob[at + 1 + len(extra) :]
    if kind == "truncate":
        return blob[:at]
    return blob + extra


BYTE_OPS = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "append"]),
    st.integers(0, 1 << 16),
    st.binary(max_size=6),
)


# ---------------------------------------------------------------------------------------------
# tree edits


def _one_byte_tag(tag: int) -> bool:
    return tag & 0x1F != 0x1F


TLVS = st.one_of(
    st.sampled_from(
        [b"\x05\x00", b"\x02\x01\x00", b"\x30\x00", b"\x31\x00", b"\x04\x00", b"\x00\x00",
         b"\x06\x03\x55\x04\x03", b"\x17\x0d270105103000Z", b"\xa0\x00", b"\x01\x01\xff"]
    ),
    st.builds(der_tlv, st.integers(0, 0xFE).filter(_one_byte_tag), st.binary(max_size=8)),
)  # fmt: skip


def tree_op(node: Node, op: tuple[Any, ...]) -> None:
    kind, *args = op
    if kind in ("byte", "cut") and node.children is not None:
        node.children, node.content = None, node.body()  # damage its contents as raw bytes
    kids = node.children
    if kind == "byte" and node.content:
        at = args[0] % len(node.content)
        node.content = node.content[:at] + bytes([args[1]]) + node.content[at + 1 :]
    elif kind == "content":
        node.children, node.content = None, args[0]
    elif kind == "cut":
        node.content = node.content[: args[0] % (len(node.content) + 1)]
    elif kind == "tag":
        node.tag = args[0]
    elif kind == "long":
        node.form = ("long", args[0])
    elif kind == "indefinite":
        node.form = ("indefinite", 0)
    elif kind == "insert":
        if kids is None:
            try:
                node.children = kids = _read_all(node.content)
            except ValueError:
                return  # a primitive value: nothing to insert into
        kids.insert(args[0] % (len(kids) + 1), parse(args[1]))
    elif kind in ("drop", "dup", "swap", "unwrap", "wrap") and kids:
        i, j = args[0] % len(kids), args[1] % len(kids)
        if kind == "drop":
            del kids[i]
        elif kind == "dup":
            kids.insert(i, kids[i].copy())
        elif kind == "swap":
            kids[i], kids[j] = kids[j], kids[i]
        elif kind == "unwrap" and kids[i].children is not None:
            kids[i : i + 1] = kids[i].children
        elif kind == "wrap":
            kids[i] = Node(0x30 if j % 2 else 0x31, children=[kids[i]])


TAGS = [0x30, 0x31, 0x04, 0x24, 0x02, 0x06, 0xA0, 0x80, 0x17, 0x18, 0x0C, 0x13, 0x05, 0x00]
TREE_OPS = st.one_of(
    st.tuples(st.just("byte"), st.integers(0, 1 << 16), st.integers(0, 255)),
    st.tuples(st.just("content"), st.binary(max_size=24)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 16)),
    st.tuples(st.just("tag"), st.one_of(st.sampled_from(TAGS), st.integers(0, 255))),
    st.tuples(st.just("long"), st.integers(1, 5)),
    st.tuples(st.just("indefinite")),
    st.tuples(st.just("insert"), st.integers(0, 64), TLVS),
    st.tuples(
        st.sampled_from(["drop", "dup", "swap", "unwrap", "wrap"]),
        st.integers(0, 64),
        st.integers(0, 64),
    ),
)

REGIONS: dict[str, Callable[[Node], Node | None]] = {
    "all": lambda root: root,
    "signed data": signed_data,
    "signer info": signer_info,
    "signed attributes": signed_attributes,
    "signer certificate": first_certificate,
}
# The signer's certificate and the signed attributes twice as often: changes there can be made
# consistent again, and so reach the fast path.
REGION_CHOICES = [*REGIONS, "signer certificate", "signed attributes"]
TREE_EDITS = st.tuples(st.sampled_from(REGION_CHOICES), st.integers(0, 400), TREE_OPS)


def tree_edit(root: Node, edit: tuple[str, int, tuple[Any, ...]]) -> None:
    region, index, op = edit
    top = REGIONS[region](root)
    if top is not None:
        nodes = list(walk(top))
        tree_op(nodes[index % len(nodes)], op)


# ---------------------------------------------------------------------------------------------
# CMS edits


OIDS = [
    SHA256, "2.16.840.1.101.3.4.2.2", SHA512, "2.16.840.1.101.3.4.2.4", "1.3.14.3.2.26",
    "1.2.840.113549.2.5", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4",
    "1.2.840.10045.4.1", "1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13", "1.2.840.113549.1.1.5",
    "1.2.840.113549.1.1.10", "1.2.840.113549.1.7.1", SIGNED_DATA, "1.2.840.113549.1.7.3",
    CONTENT_TYPE, MESSAGE_DIGEST, SIGNING_TIME, SIGNING_CERTIFICATE_V2,
    "1.2.840.113549.1.9.16.2.12", "2.5.4.3", "0.9.2342.19200300.100.1.1", "1.3.6.1.4.1.99999.1",
]  # fmt: skip
# sha256 and messageDigest with a redundant 0x80 in an arc (not minimal), an empty OID, a lone 0x80.
ODD_OIDS = [b"\x06\x0a\x60\x86\x48\x01\x65\x03\x04\x02\x80\x01", b"\x06\x0a\x2a\x86\x48\x86\xf7"
            b"\x0d\x01\x09\x80\x04", b"\x06\x00", b"\x06\x01\x80"]  # fmt: skip
OID_VALUES = st.one_of(st.sampled_from(OIDS).map(oid), st.sampled_from(ODD_OIDS))
PARAMETERS = [b"", b"\x05\x00", b"\x05\x01\x00", b"\x30\x00", b"\x02\x01\x00", oid(SHA256)]


def _replace_oid(top: Node | None, index: int, encoded: bytes) -> None:
    oids = [n for n in walk(top) if n.tag == 0x06] if top is not None else []
    if oids:
        target = oids[index % len(oids)]
        target.children, target.content = None, encoded[2:]


def cms_op(root: Node, material: Material, op: tuple[Any, ...]) -> None:
    kind, *args = op
    info, data, certs = signer_info(root), signed_data(root), certificate_set(root)
    if kind == "certs" and certs is not None:
        certs.children = [parse(material.pool[i % len(material.pool)]) for i in args[0]]
    elif kind == "oid":
        _replace_oid(root, args[0], args[1])
    elif kind == "parameters":
        digests = child(data, 1, 0x31)
        slot = [child(info, 2, 0x30), child(info, -2, 0x30), child(digests, 0, 0x30)][args[0]]
        if slot is not None and slot.children:
            slot.children[1:] = [parse(args[1])] if args[1] else []
    elif kind == "version" and (target := child(data if args[0] else info, 0, 0x02)):
        target.content = args[1]
    elif kind == "sid" and info is not None and info.children and len(info.children) > 1:
        names = issuer_and_serial(first_certificate(root))
        if args[0] == "key identifier":
            info.children[1] = Node(0x80, bytes(20))
        elif names is not None:
            serial = int.from_bytes(names[1][2:], "big", signed=True) + 1
            info.children[1] = Node(0x30, names[0] + bytes(core.Integer(serial).dump()))
    elif kind == "encap" and (encap := child(data, 2, 0x30)) is not None and encap.children:
        inner = der_tlv(0x04, material.data) if args[0] == "content" else b""
        encap.children[1:] = [Node(0xA0, inner)]
    elif kind == "extra" and data is not None and data.children and info is not None:
        signers = data.children[-1]
        if args[0] == "crls":
            data.children.insert(-1, Node(0xA1, b""))
        elif args[0] == "unsigned attributes" and info.children is not None:
            info.children.append(Node(0xA1, EXTRA_ATTRIBUTES[0]))
        elif args[0] == "two signers" and signers.children:
            signers.children.append(signers.children[0].copy())
        elif args[0] == "no signers":
            data.children[-1] = Node(0x31, b"")
        elif args[0] == "more digests" and (digests := child(data, 1, 0x31)) is not None:
            digests.children = [*(digests.children or []), parse(der_tlv(0x30, oid(SHA512)))]


EXTRA_PARTS = ["crls", "unsigned attributes", "two signers", "no signers", "more digests"]
CMS_OPS = st.one_of(
    st.tuples(st.just("certs"), st.lists(st.integers(0, 15), max_size=4)),
    st.tuples(st.just("oid"), st.integers(0, 200), OID_VALUES),
    st.tuples(st.just("parameters"), st.integers(0, 2), st.sampled_from(PARAMETERS)),
    st.tuples(
        st.just("version"),
        st.booleans(),
        st.sampled_from([b"\x00", b"\x01", b"\x02", b"\x03", b"\x05", b"\x00\x01", b"", b"\xff"]),
    ),
    st.tuples(st.just("sid"), st.sampled_from(["key identifier", "serial + 1"])),
    st.tuples(st.just("encap"), st.sampled_from(["content", "empty"])),
    st.tuples(st.just("extra"), st.sampled_from(EXTRA_PARTS)),
)


# ---------------------------------------------------------------------------------------------
# edits of the signed attributes


EXTRA_ATTRIBUTES = [
    der_tlv(0x30, oid("1.3.6.1.4.1.99999.1") + der_tlv(0x31, b"\x0c\x01x")),
    der_tlv(0x30, oid(CONTENT_TYPE) + der_tlv(0x31, oid(SIGNED_DATA))),
    der_tlv(0x30, oid(MESSAGE_DIGEST) + der_tlv(0x31, der_tlv(0x04, bytes(32)))),
    der_tlv(0x30, oid(SIGNING_TIME) + der_tlv(0x31, b"\x17\x0d270105103000Z")),
    der_tlv(0x30, oid(SIGNING_CERTIFICATE_V2) + b"\x31\x04\x30\x02\x30\x00"),
    der_tlv(0x30, oid("1.2.840.113549.1.9.15") + b"\x31\x00"),
]


def _time(tag: int, year: int, parts: tuple[int, ...], end: str) -> bytes:
    digits = f"{year % 100:02d}" if tag == 0x17 else f"{year:04d}"
    return der_tlv(tag, (digits + "".join(f"{v:02d}" for v in parts) + end).encode())


def _time_values() -> st.SearchStrategy[bytes]:
    """signingTime values: moments as UTCTime or GeneralizedTime, odd fields, other types."""
    moment = st.datetimes()
    utc_time = st.builds(  # every two-digit year, not only those near 2000
        lambda year, m: _time(0x17, year, m.timetuple()[1:6], "Z"), st.integers(0, 99), moment
    )
    generalized = moment.map(lambda m: _time(0x18, m.year, m.timetuple()[1:6], "Z"))
    fields = st.tuples(*(st.integers(0, top) for top in (13, 32, 24, 60, 61)))
    suffix = st.sampled_from(["Z", "", "+0800", "-0000", "z", ".5Z", ".0Z", "+08"])
    odd = st.builds(_time, st.sampled_from([0x17, 0x18]), st.integers(0, 9999), fields, suffix)
    other = st.builds(
        der_tlv, st.sampled_from([0x17, 0x18, 0x13, 0x0C, 0x02, 0x04, 0x37]), st.binary(max_size=20)
    )
    return st.one_of(utc_time, generalized, odd, other)


def attribute_op(root: Node, op: tuple[Any, ...]) -> None:
    kind, *args = op
    attrs = signed_attributes(root)
    if kind == "time" and (when := attribute(root, SIGNING_TIME)) is not None:
        when.children[1:] = [Node(0x31, args[0])]  # type: ignore[index]
    elif kind == "oid":
        _replace_oid(attrs, args[0], args[1])
    elif kind == "ess" and (ess := attribute(root, SIGNING_CERTIFICATE_V2)) is not None:
        value = ess.children[1]  # type: ignore[index]
        ids = child(child(value, 0, 0x30), 0, 0x30)
        first = child(ids, 0, 0x30)
        if ids is None or ids.children is None or first is None or not first.children:
            return
        if args[0] == "explicit sha256":
            first.children.insert(0, parse(der_tlv(0x30, oid(SHA256))))
        elif args[0] == "no issuerSerial":
            first.children[1:] = []
        elif args[0] == "two ids":
            ids.children.append(first.copy())
        elif args[0] == "policies":
            child(value, 0, 0x30).children.append(parse(b"\x30\x00"))  # type: ignore[union-attr]
    elif kind == "list" and attrs is not None and attrs.children:
        kids = attrs.children
        i, j = args[1] % len(kids), args[2] % len(kids)
        if args[0] == "drop":
            del kids[i]
        elif args[0] == "dup":
            kids.insert(j, kids[i].copy())
        elif args[0] == "swap":
            kids[i], kids[j] = kids[j], kids[i]
        elif args[0] == "add":
            kids.insert(j, parse(EXTRA_ATTRIBUTES[args[1] % len(EXTRA_ATTRIBUTES)]))
        elif (values := child(kids[i], 1, 0x31)) is not None and values.children:
            if args[0] == "second value":
                values.children.append(values.children[0].copy())
            elif args[0] == "retag":
                values.children[0].tag = TAGS[args[2] % len(TAGS)]


ESS_CHANGES = ["explicit sha256", "no issuerSerial", "two ids", "policies"]
ATTRIBUTE_OPS = st.one_of(
    st.tuples(st.just("time"), _time_values()),
    st.tuples(
        st.just("list"),
        st.sampled_from(["drop", "dup", "swap", "add", "second value", "retag"]),
        st.integers(0, 8),
        st.integers(0, 8),
    ),
    st.tuples(st.just("oid"), st.integers(0, 40), OID_VALUES),
    st.tuples(st.just("ess"), st.sampled_from(ESS_CHANGES)),
)
