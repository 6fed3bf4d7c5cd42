"""A signer's own account: first activation with the code and a PIN of their own, the optional
handwritten signature, and bringing in signatures made on another computer.

Activation calls :func:`docgen.signing.activation.activate` (the code opens the pending key, the
PIN re-encrypts it: the clerk never learns the PIN); the handwriting is
:func:`docgen.signing.handwriting.save_handwriting`; uploads go to
:func:`docgen.signing.signature_import.import_signatures` from a private temporary folder
(:func:`private_copies`), never under the names the browser sent.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from docgen.core.errors import DocgenError, Location
from docgen.roster.names import resolve_person
from docgen.signing.activation import activate
from docgen.signing.handwriting import save_handwriting
from docgen.signing.pdf_import import MAX_PDF_BYTES
from docgen.signing.signature_import import ImportOutcome, import_signatures
from docgen.web.auth_routes import field, secret_field, web_passphrase
from docgen.web.pages import now, render, roster, workspace
from docgen.web.security import read_form, require_signer, set_session_cookie, start_session
from docgen.web.signer_routes import SIGNING_QUEUE

MAX_HANDWRITING = 512 * 1024  # the PNG as a data: URL
MAX_SIGNATURE = 256 * 1024  # a detached CAdES .p7s is a few KiB
MAX_SIGNED_PDF = MAX_PDF_BYTES  # a signed PDF (%PDF-): the limit sign import itself applies
MAX_FILES = 20
_PNG_URL = "data:image/png;base64,"


async def activate_page(request: Request) -> Response:
    person = request.query_params.get("person", "")
    return render(request, "activate.html", {"person": person, "error": "", "hint": ""})


async def activate_submit(request: Request) -> Response:
    form = await read_form(request)
    typed = field(form, "person")
    code = field(form, "code")
    pin, again = secret_field(form, "pin"), secret_field(form, "pin2")
    ws = workspace(request)
    try:
        person = resolve_person(roster(request), typed, Location(field="人员编号或姓名"))
        if pin != again:
            raise DocgenError("两次输入的 PIN 不一致", hint="请重新输入,两次输入同一个 PIN")
        await run_in_threadpool(
            activate, ws, person.id, code, web_passphrase(pin), now=now(request)
        )
    except DocgenError as exc:
        return render(
            request,
            "activate.html",
            {"person": typed, "error": exc.message, "hint": exc.hint or ""},
            status=400,
        )
    session = start_session(request, f"signer:{person.id}")
    response = RedirectResponse("/sign?activated=1", status_code=303)
    set_session_cookie(response, request, session)
    return response


async def handwriting_page(request: Request) -> Response:
    require_signer(request)
    return render(request, "handwriting.html", {"error": "", "saved": False})


def _png_of(value: str) -> bytes:
    if not value.startswith(_PNG_URL) or len(value) > MAX_HANDWRITING:
        raise DocgenError("手写签名图片无效或过大", hint="请在方框内重新书写后保存")
    try:
        return base64.b64decode(value[len(_PNG_URL) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DocgenError("手写签名图片无效", hint="请在方框内重新书写后保存") from exc


async def handwriting_submit(request: Request) -> Response:
    form = await read_form(request)
    _session, person_id = require_signer(request)
    try:
        png = _png_of(field(form, "png"))
        await run_in_threadpool(
            save_handwriting, workspace(request), person_id, png, now=now(request)
        )
    except DocgenError as exc:
        return render(
            request, "handwriting.html", {"error": exc.message, "saved": False}, status=400
        )
    return render(request, "handwriting.html", {"error": "", "saved": True})


@contextmanager
def private_copies(contents: Sequence[bytes], suffix: str) -> Iterator[list[Path]]:
    """``contents`` written to a new private folder (0700, files 0600) under random names, and
    the folder removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="docgen-upload-"))
    try:
        paths = []
        for data in contents:
            path = folder / f"{secrets.token_hex(12)}{suffix}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            paths.append(path)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def upload_page(request: Request) -> Response:
    require_signer(request)
    return render(request, "upload.html", {"error": "", "results": ()})


def _import(
    request: Request, person_id: str, named: list[tuple[str, bytes]]
) -> list[tuple[str, ImportOutcome]]:
    """``sign import`` of the uploaded files, taking only ``person_id``'s own signatures."""
    with private_copies([data for _name, data in named], ".p7s") as paths, SIGNING_QUEUE:
        outcomes = import_signatures(
            workspace(request), paths, now=now(request), only_signer=person_id
        )
    return [(name, outcome) for (name, _data), outcome in zip(named, outcomes, strict=True)]


async def upload_submit(request: Request) -> Response:
    form = await read_form(request, files=True)
    _session, person_id = require_signer(request)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    error = ""
    if not uploads or all(not f.filename for f in uploads):
        error = "请选择要上传的签名文件(.p7s)或签名的 PDF"
    elif len(uploads) > MAX_FILES:
        error = f"一次最多上传 {MAX_FILES} 个文件"
    if error:
        return render(request, "upload.html", {"error": error, "results": ()}, status=400)
    named: list[tuple[str, bytes]] = []
    for upload in uploads:
        head = await upload.read(5)
        limit = MAX_SIGNED_PDF if head == b"%PDF-" else MAX_SIGNATURE
        data = head + await upload.read(limit + 1 - len(head))
        await upload.close()
        if len(data) > limit:
            return render(
                request,
                "upload.html",
                {"error": f"文件“{upload.filename}”过大,不是签名文件或签名的 PDF", "results": ()},
                status=413,
            )
        named.append((upload.filename or "(无名)", data))
    try:
        results = await run_in_threadpool(_import, request, person_id, named)
    except DocgenError as exc:
        return render(request, "upload.html", {"error": exc.message, "results": ()}, status=400)
    status = 200 if all(outcome.accepted for _name, outcome in results) else 422
    return render(request, "upload.html", {"error": "", "results": results}, status=status)


ROUTES: list[BaseRoute] = [
    Route("/activate", activate_page, methods=["GET"]),
    Route("/activate", activate_submit, methods=["POST"]),
    Route("/me/handwriting", handwriting_page, methods=["GET"]),
    Route("/me/handwriting", handwriting_submit, methods=["POST"]),
    Route("/me/upload", upload_page, methods=["GET"]),
    Route("/me/upload", upload_submit, methods=["POST"]),
]
