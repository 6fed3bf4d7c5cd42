"""A person's handwritten signature image, drawn once, shown in their PDF stamps (optional).

The image comes from a browser canvas or a file, so it is untrusted: it must be a real PNG of at
most :data:`MAX_BYTES` and :data:`MAX_WIDTH` × :data:`MAX_HEIGHT` pixels — the size is read from
the header before anything is decompressed, so a small file claiming a huge picture is refused
unread. It is normalised to grayscale with alpha (ink on transparent ground: a white or coloured
background becomes transparent), trimmed to the ink, saved without metadata to
``keys/people/<id>/signature.png`` (where :func:`docgen.signing.stamp.signature_image` reads it)
and its SHA-256 is registered as a ``handwriting`` entry, so the picture a stamp carries can be
matched to the registry.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, UnidentifiedImageError

from docgen.core.errors import DocgenError, Location
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.registry import Registry
from docgen.signing import keyring
from docgen.signing.keyfiles import PUBLIC_FILE_MODE, person_paths, write_atomic
from docgen.signing.stamp import SIGNATURE_IMAGE
from docgen.signing.x509util import iso_z

MAX_BYTES = 200 * 1024
MAX_WIDTH = 1200
MAX_HEIGHT = 600
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_INK_THRESHOLD = 16  # alpha at or below this is ground, not ink
_MARGIN = 4


class HandwritingError(DocgenError):
    """The image is not an acceptable handwritten signature."""


def _refuse(message: str) -> HandwritingError:
    return HandwritingError(
        message,
        hint=f"请提供 PNG 图片(不超过 {MAX_BYTES // 1024} KB、{MAX_WIDTH}×{MAX_HEIGHT} 像素),"
        "白色或透明底、深色笔迹",
    )


def _open(png: bytes) -> Image.Image:
    if len(png) > MAX_BYTES:
        raise _refuse(f"图片过大({len(png) // 1024} KB),上限 {MAX_BYTES // 1024} KB")
    if not png.startswith(_PNG_MAGIC):
        raise _refuse("不是 PNG 图片")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(png), formats=["PNG"])
            width, height = image.size
            if width > MAX_WIDTH or height > MAX_HEIGHT or width < 1 or height < 1:
                raise _refuse(f"图片尺寸为 {width}×{height} 像素,上限 {MAX_WIDTH}×{MAX_HEIGHT}")
            image.load()
    except HandwritingError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _refuse(f"图片像素过多,上限 {MAX_WIDTH}×{MAX_HEIGHT} 像素") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _refuse(f"PNG 图片已损坏,无法读取({type(exc).__name__})") from exc
    return image


def normalise(png: bytes) -> bytes:
    """The validated image as grayscale + alpha ink on transparent ground, trimmed, as PNG."""
    image = _open(png)
    rgba = image.convert("RGBA")
    gray = rgba.convert("L")
    alpha = rgba.getchannel("A")
    # Ink is what is dark and opaque: a white (or light) ground becomes transparent.
    darkness = ImageChops.invert(gray)
    ink = ImageChops.multiply(alpha, darkness)
    box = ink.point(lambda v: 255 if v > _INK_THRESHOLD else 0).getbbox()
    if box is None:
        raise _refuse("图片是空白的,没有笔迹")
    left, top, right, bottom = box
    box = (
        max(0, left - _MARGIN), max(0, top - _MARGIN),
        min(rgba.width, right + _MARGIN), min(rgba.height, bottom + _MARGIN),
    )  # fmt: skip
    out = Image.merge("LA", (gray.crop(box), ink.crop(box)))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def handwriting_record(person_id: str, sha256: str, now: datetime) -> dict[str, Any]:
    """The registry's ``handwriting`` record: whose image, its SHA-256, when it was set."""
    return {"type": "handwriting", "person": person_id, "sha256": sha256, "set_at": iso_z(now)}


def save_handwriting(ws: Workspace, person_id: str, png: bytes, *, now: datetime) -> Path:
    """Validate and normalise ``png``, store it as the person's stamp image (atomically) and
    register its SHA-256. Refused, with nothing written, for anything but a small real PNG with
    ink on it, or a person without a certificate. Takes the workspace lock."""
    data = normalise(png)
    paths = person_paths(ws.keys_dir, person_id)
    target = paths.directory / SIGNATURE_IMAGE
    with workspace_lock(ws.root):
        if not paths.cert.exists():
            raise HandwritingError(
                f"人员 {person_id} 还没有签名证书,不能设置手写签名",
                location=Location(file=str(paths.cert)),
                hint=f"请先签发证书:docgen keys issue --person {person_id}",
            )
        # Registered before it is put in place: the stamp never shows an unregistered image.
        record = handwriting_record(person_id, hashlib.sha256(data).hexdigest(), now)
        keyring.register(ws, [record], now)
        write_atomic(target, data, PUBLIC_FILE_MODE)
    return target


def unregistered_image(registry: Registry, people_dir: Path, person_id: str) -> str | None:
    """Why the person's stamp image may not be used (``None``: no image, or the one registered
    last for them): an image put in place by hand, or replaced, is not the person's accountable
    signature. For the PDF signing path to call before it stamps."""
    path = people_dir / person_id / SIGNATURE_IMAGE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    latest = None
    for entry in registry.entries(type="handwriting"):
        if entry.record.get("person") == person_id:
            latest = entry.record.get("sha256")
    if latest is None:
        return f"手写签名图片 {path} 未记入登记簿"
    if hashlib.sha256(data).hexdigest() != latest:
        return f"手写签名图片 {path} 与登记簿中最近登记的不一致(被替换或改动)"
    return None
