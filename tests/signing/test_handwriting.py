"""The handwritten signature image (#19): untrusted input, validated, normalised, registered.

Refused with nothing written: not a PNG, too many bytes, too many pixels (also a header that
claims a huge picture in a small file), a truncated PNG, a blank picture, a person without a
certificate. Accepted: ink on white becomes grayscale + alpha, trimmed, where the stamp reads it,
and its SHA-256 is in the registry.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.signing.stamp import SIGNATURE_IMAGE, signature_image
from tests.helpers import CliOutcome, run_docgen
from tests.signed_year import build_workspace
from tests.signing.keys_workspace import env

NOW = "2027-01-06T09:00:00+00:00"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("handwriting") / "ws"
    build_workspace(root, sign=False)
    return root


def handwriting(root: Path, person: str, png: Path) -> CliOutcome:
    with env(DOCGEN_NOW=NOW):
        return run_docgen("keys", "handwriting", "--person", person, str(png), "-w", str(root))


def drawn(size: tuple[int, int] = (600, 200), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).line([(100, 150), (200, 60), (300, 140), (420, 70)], fill="black",
                               width=6)  # fmt: skip
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_header() -> bytes:
    """A tiny file whose header claims 60000 × 60000 pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + _chunk(b"IEND", b""))  # fmt: skip


def _registered(root: Path) -> list[dict[str, str]]:
    with open_registry(find_workspace(root)) as registry:
        return [e.record for e in registry.entries(type="handwriting")]


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("jpeg", lambda: Image.new("RGB", (10, 10)).tobytes() + b"JFIF", "不是 PNG"),
        ("large", lambda: drawn() + b"\x00" * (200 * 1024), "图片过大"),
        ("wide", lambda: drawn((1300, 100)), "上限 1200×600"),
        ("bomb", huge_header, "上限 1200×600"),
        ("truncated", lambda: drawn()[:300], "已损坏"),
        ("blank", lambda: drawn((50, 50))[:0] + _blank(), "空白"),
    ],
)
def test_bad_images_are_refused_and_nothing_is_written(
    root: Path, tmp_path: Path, name: str, make: object, reason: str
) -> None:
    assert callable(make)
    png = tmp_path / f"{name}.png"
    png.write_bytes(make())
    target = find_workspace(root).keys_dir / "people" / "P003" / SIGNATURE_IMAGE
    before = _registered(root)
    out = handwriting(root, "P003", png)
    assert out.code == 1, out.text
    assert reason in out.err
    assert not target.exists()
    assert _registered(root) == before


def _blank() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 100), (255, 255, 255, 255)).save(out, format="PNG")
    return out.getvalue()


def test_a_drawn_signature_is_normalised_stored_and_registered(root: Path, tmp_path: Path) -> None:
    png = tmp_path / "sig.png"
    png.write_bytes(drawn())
    out = handwriting(root, "P001", png)
    assert out.code == 0, out.text
    ws = find_workspace(root)
    stored = ws.keys_dir / "people" / "P001" / SIGNATURE_IMAGE
    with Image.open(stored) as image:
        assert image.mode == "LA"
        assert image.width < 600 and image.height < 200  # trimmed to the ink
        alpha = image.getchannel("A")
        assert alpha.getpixel((0, 0)) == 0  # the white ground became transparent
        assert alpha.getextrema()[1] == 255  # the ink is opaque
    records = [r for r in _registered(root) if r["person"] == "P001"]
    assert records[-1]["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert signature_image(ws.keys_dir / "people", "P001") is not None  # what the stamp uses


def test_nobody_without_a_certificate(root: Path, tmp_path: Path) -> None:
    png = tmp_path / "sig.png"
    png.write_bytes(drawn())
    out = handwriting(root, "P999", png)
    assert out.code == 1 and "还没有签名证书" in out.err


def test_an_image_put_in_place_by_hand_is_named(root: Path, tmp_path: Path) -> None:
    from docgen.signing.handwriting import unregistered_image

    ws = find_workspace(root)
    people = ws.keys_dir / "people"
    png = tmp_path / "sig.png"
    png.write_bytes(drawn())
    assert handwriting(root, "P002", png).code == 0
    with open_registry(ws) as registry:
        assert unregistered_image(registry, people, "P002") is None
        assert unregistered_image(registry, people, "P005") is None  # no image at all
        (people / "P005" / SIGNATURE_IMAGE).write_bytes(drawn())
        assert "未记入登记簿" in str(unregistered_image(registry, people, "P005"))
        (people / "P002" / SIGNATURE_IMAGE).write_bytes(drawn((500, 200)))
        assert "不一致" in str(unregistered_image(registry, people, "P002"))
