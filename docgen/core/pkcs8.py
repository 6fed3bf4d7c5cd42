"""Private keys encrypted with scrypt: PKCS#8 ``EncryptedPrivateKeyInfo`` with PBES2 (RFC 8018),
the scrypt KDF (RFC 7914 §7) and AES-256-CBC — the structure ``openssl pkcs8 -topk8 -scrypt``
writes.

Why this module: cryptography's ``BestAvailableEncryption`` writes PBES2 with PBKDF2-HMAC-SHA256
at 2,048 iterations (≈ 840 guesses per second per core for a stolen key file) and has no way to
choose scrypt or its parameters. The structure is therefore built here with asn1crypto (which
has no name for the scrypt OID, so ``ScryptParams`` is declared below) and encrypted with
cryptography's scrypt and AES. Reading decodes the same structure (so the cost parameters are
checked *before* any memory is spent on them, and the result does not depend on which PKCS#8
reader the installed cryptography has); files in any other PKCS#8 form — the PBKDF2 files docgen
wrote before — are left to cryptography's ``load_pem_private_key``, which also reads these
scrypt files (cryptography 51 does; a test compares the two).

Every key file docgen writes (personal keys, the CA key, the registry key) uses
:data:`SCRYPT_DEFAULT`; what a file uses is told by :func:`inspect_pem`, so ``docgen keys
check`` can name the keys still protected by the old, weak KDF.

OpenSSL 3.0–3.4 cannot decrypt :data:`SCRYPT_DEFAULT` files: its PKCS#8 decoder allows scrypt
32 MiB of memory (``SCRYPT_MAX_MEM``), enough for ``N = 2^14, r = 8`` (its own default) and no
more; the structure itself is the one it reads (tested with those parameters).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from asn1crypto import algos, core, keys, pem
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"  # id-scrypt, RFC 7914 §7
PEM_LABEL = "ENCRYPTED PRIVATE KEY"
_SALT_BYTES = 16
_AES_KEY_BYTES = 32
_BLOCK = 16


@dataclass(frozen=True, order=True)
class ScryptCost:
    """scrypt's cost parameters: CPU/memory cost ``n`` (a power of two), block size ``r``,
    parallelism ``p``. Memory used is ``128 · r · n`` bytes."""

    n: int
    r: int
    p: int

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * self.n

    @property
    def work(self) -> int:
        return self.n * self.r * self.p

    def at_least(self, other: ScryptCost) -> bool:
        """Every parameter at least ``other``'s: no cheaper to attack."""
        return self.n >= other.n and self.r >= other.r and self.p >= other.p

    def label(self) -> str:
        exponent = self.n.bit_length() - 1
        n = f"2^{exponent}" if self.n == 1 << exponent else str(self.n)
        return f"scrypt(N={n},r={self.r},p={self.p})"


SCRYPT_DEFAULT = ScryptCost(n=2**17, r=8, p=1)
"""The KDF of every key file docgen writes: 128 MiB and ≈ 0.5 s per guess on one core of the
machine this was measured on — the same again for every unlock. The one place to change it."""

_new_key_cost = SCRYPT_DEFAULT  # what this process writes: the default but in scrypt_cost()

# A file asking for more than this is refused before decrypting: no key docgen wrote needs it,
# and scrypt with a forged N would take the machine's memory (N = 2^30 asks for 128 GiB).
MAX_SCRYPT_MEMORY = 1 << 30
MAX_SCRYPT_WORK = 1 << 24  # n · r · p; 16 × the default (≈ 8 s here)
MAX_PBKDF2_ITERATIONS = 10_000_000


class ScryptParams(core.Sequence):  # type: ignore[misc]
    """``scrypt-params`` of RFC 7914 §7.1."""

    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


class KdfKind(Enum):
    SCRYPT = "scrypt"
    PBKDF2 = "pbkdf2"
    UNENCRYPTED = "unencrypted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Protection:
    """How a PEM private key file is protected, as read from its header (no passphrase needed)."""

    kind: KdfKind
    scrypt: ScryptCost | None = None
    iterations: int | None = None  # PBKDF2
    detail: str = ""  # UNKNOWN: what was found

    def is_current(self, standard: ScryptCost | None = None) -> bool:
        """scrypt with every parameter at least ``standard`` (default: what new keys get,
        :data:`SCRYPT_DEFAULT`)."""
        wanted = _new_key_cost if standard is None else standard
        return (
            self.kind is KdfKind.SCRYPT and self.scrypt is not None and self.scrypt.at_least(wanted)
        )

    def label(self) -> str:
        if self.kind is KdfKind.SCRYPT and self.scrypt is not None:
            return self.scrypt.label()
        if self.kind is KdfKind.PBKDF2:
            return f"PBKDF2({self.iterations} 次迭代)"
        if self.kind is KdfKind.UNENCRYPTED:
            return "未加密"
        return f"无法识别的格式({self.detail})" if self.detail else "无法识别的格式"


class KeyFormatError(ValueError):
    """The file is not an encrypted key this module can decrypt; the message says why (Chinese)."""


class WrongPassphrase(ValueError):
    """The passphrase does not decrypt the key (or the encrypted data was altered)."""


@contextmanager
def scrypt_cost(cost: ScryptCost) -> Iterator[None]:
    """Within the block, this process writes new key files with ``cost`` instead of the default.

    For worker processes that write keys for a parent (they must use the parent's cost) and for
    measurements; nothing in docgen's own commands lowers it.
    """
    global _new_key_cost
    saved = _new_key_cost
    _new_key_cost = cost
    try:
        yield
    finally:
        _new_key_cost = saved


def new_key_cost() -> ScryptCost:
    """The scrypt cost new key files get in this process (:data:`SCRYPT_DEFAULT` but inside
    :func:`scrypt_cost`)."""
    return _new_key_cost


def _derive(secret: bytes, salt: bytes, cost: ScryptCost) -> bytes:
    kdf = Scrypt(salt=salt, length=_AES_KEY_BYTES, n=cost.n, r=cost.r, p=cost.p)
    return kdf.derive(secret)


def encrypt_pem(key: PrivateKeyTypes, secret: bytes, cost: ScryptCost | None = None) -> bytes:
    """``key`` as a PEM ``ENCRYPTED PRIVATE KEY``: PBES2, scrypt (``cost``, default
    :data:`SCRYPT_DEFAULT`), AES-256-CBC, random 16-byte salt and IV."""
    cost = _new_key_cost if cost is None else cost
    plain = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt, iv = os.urandom(_SALT_BYTES), os.urandom(_BLOCK)
    padder = padding.PKCS7(_BLOCK * 8).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_derive(secret, salt, cost)), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    scheme = algos.EncryptionAlgorithm(
        {
            "algorithm": "pbes2",
            "parameters": {
                "key_derivation_func": {
                    "algorithm": SCRYPT_OID,
                    "parameters": ScryptParams(
                        {
                            "salt": salt,
                            "cost_parameter": cost.n,
                            "block_size": cost.r,
                            "parallelization_parameter": cost.p,
                        }
                    ),
                },
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
            },
        }
    )
    info = keys.EncryptedPrivateKeyInfo(
        {"encryption_algorithm": scheme, "encrypted_data": encrypted}
    )
    armored: bytes = pem.armor(PEM_LABEL, info.dump())
    return armored


# ---------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class _Scrypted:
    cost: ScryptCost
    salt: bytes
    iv: bytes
    encrypted: bytes


def _unarmor(data: bytes) -> tuple[str, bool, bytes]:
    """The PEM label, whether it has the legacy ``Proc-Type: 4,ENCRYPTED`` header, the DER."""
    try:
        label, headers, der = pem.unarmor(data.strip())
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("不是 PEM 格式") from exc
    legacy = "ENCRYPTED" in str(headers.get("Proc-Type", ""))
    return str(label), legacy, bytes(der)


def _scrypt_cost(params: ScryptParams) -> ScryptCost:
    cost = ScryptCost(
        n=int(params["cost_parameter"].native),
        r=int(params["block_size"].native),
        p=int(params["parallelization_parameter"].native),
    )
    if cost.n < 2 or cost.n & (cost.n - 1) or cost.r < 1 or cost.p < 1:
        raise KeyFormatError(f"scrypt 参数无效(N={cost.n},r={cost.r},p={cost.p})")
    length = params["key_length"].native
    if length is not None and length != _AES_KEY_BYTES:
        raise KeyFormatError(f"scrypt 输出长度 {length} 与 AES-256 不符")
    return cost


def _parse(data: bytes) -> tuple[Protection, _Scrypted | None]:
    """What protects ``data``; for scrypt files also what is needed to decrypt them."""
    try:
        label, legacy, der = _unarmor(data)
    except KeyFormatError as exc:
        return Protection(KdfKind.UNKNOWN, detail=str(exc)), None
    if label != PEM_LABEL:
        if label.endswith("PRIVATE KEY") and not legacy:
            return Protection(KdfKind.UNENCRYPTED), None
        detail = label + (" 传统 PEM 加密" if legacy else "")
        return Protection(KdfKind.UNKNOWN, detail=detail), None
    try:
        info = keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        algorithm = info["encryption_algorithm"]
        if algorithm["algorithm"].dotted != "1.2.840.113549.1.5.13":  # PBES2
            return Protection(KdfKind.UNKNOWN, detail=algorithm["algorithm"].native), None
        params = algorithm["parameters"]
        kdf = params["key_derivation_func"]
        kdf_oid = kdf["algorithm"].dotted
        if kdf_oid == "1.2.840.113549.1.5.12":  # PBKDF2
            iterations = int(kdf["parameters"]["iteration_count"].native)
            return Protection(KdfKind.PBKDF2, iterations=iterations), None
        if kdf_oid != SCRYPT_OID:
            return Protection(KdfKind.UNKNOWN, detail=kdf_oid), None
        scheme = params["encryption_scheme"]
        if scheme["algorithm"].native != "aes256_cbc":
            return Protection(KdfKind.UNKNOWN, detail=str(scheme["algorithm"].native)), None
        scrypt = ScryptParams.load(kdf["parameters"].dump(), strict=True)
        cost = _scrypt_cost(scrypt)
        iv = bytes(scheme["parameters"].native)
        encrypted = bytes(info["encrypted_data"].native)
    except KeyFormatError as exc:
        return Protection(KdfKind.UNKNOWN, detail=str(exc)), None
    except (ValueError, TypeError, KeyError) as exc:
        return Protection(KdfKind.UNKNOWN, detail=f"结构无法解析:{exc}"), None
    if len(iv) != _BLOCK or not encrypted or len(encrypted) % _BLOCK:
        return Protection(KdfKind.UNKNOWN, detail="AES-256-CBC 参数或密文长度不对"), None
    salt = bytes(scrypt["salt"].native)
    return Protection(KdfKind.SCRYPT, scrypt=cost), _Scrypted(cost, salt, iv, encrypted)


def inspect_pem(data: bytes) -> Protection:
    """How the PEM key ``data`` is protected, read from its header alone."""
    return _parse(data)[0]


def excessive(protection: Protection) -> str | None:
    """Why decrypting a file with this protection would cost too much (Chinese), or None."""
    cost = protection.scrypt
    if (
        protection.kind is KdfKind.SCRYPT
        and cost is not None
        and (cost.memory_bytes > MAX_SCRYPT_MEMORY or cost.work > MAX_SCRYPT_WORK)
    ):
        return (
            f"{cost.label()} 需要 {cost.memory_bytes >> 20} MiB 内存、"
            f"{cost.work / SCRYPT_DEFAULT.work:g} 倍于标准的计算量"
        )
    if protection.kind is KdfKind.PBKDF2 and (protection.iterations or 0) > MAX_PBKDF2_ITERATIONS:
        return f"PBKDF2 迭代 {protection.iterations} 次"
    return None


def decrypt_pem(data: bytes, secret: bytes) -> PrivateKeyTypes:
    """Decrypt a PEM private key written by :func:`encrypt_pem` or any other PKCS#8 PBES2 form.

    :class:`KeyFormatError` for a file that is not an encrypted key or asks for too much work,
    :class:`WrongPassphrase` when ``secret`` does not open it.
    """
    protection, scrypted = _parse(data)
    too_much = excessive(protection)
    if too_much is not None:
        raise KeyFormatError(too_much)
    if protection.kind is KdfKind.UNENCRYPTED:
        raise KeyFormatError("私钥没有加密")
    if scrypted is None:
        if protection.kind is not KdfKind.PBKDF2:
            raise KeyFormatError(protection.label())
        try:  # the PBKDF2 files docgen wrote before: cryptography reads them
            return serialization.load_pem_private_key(data, password=secret)
        except (ValueError, TypeError) as exc:
            raise WrongPassphrase() from exc
    key = _derive(secret, scrypted.salt, scrypted.cost)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(scrypted.iv)).decryptor()
    padded = decryptor.update(scrypted.encrypted) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(_BLOCK * 8).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
        return serialization.load_der_private_key(plain, password=None)
    except ValueError as exc:  # bad padding or not a key: the wrong passphrase, or altered bytes
        raise WrongPassphrase() from exc
