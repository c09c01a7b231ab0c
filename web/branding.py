"""Logo routes: staff upload and remove a location's logo; customer pages show it.

    POST   /locations/{id}/logo   Authorization: Bearer <staff token>; multipart/form-data field
                                  `logo`, or the image as the raw body. PNG, JPEG or WebP judged by
                                  content, at most 512 KB. 200 {"logoUrl", "contentType", "size"}.
    DELETE /locations/{id}/logo   204.
    GET    /locations/{id}/logo   public; the image with its type, ETag, cached a day.

Refusals are JSON `{"error": message}`: 401 without a valid token, 403 outside the caller's
locations, 404 unknown location, 400 a branch sharing its headquarters' settings, 413 too large,
415 not an accepted image. Nothing changes on a refusal. The upload bounds its own body (after the
scope check), so the app's AGENDUM_MAX_BODY_BYTES leaves these routes to it (`LOGO_PATH_PREFIX`).
"""

from __future__ import annotations

import hashlib

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.branding import (
    MAX_LOGO_BYTES,
    ImageTooLarge,
    UnsupportedImage,
    brandable_location,
    delete_logo,
    logo_path,
    public_logo,
    set_logo,
)
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.security.accounts import authenticate

MULTIPART_OVERHEAD = 16 * 1024  # boundaries and part headers around the image
LOGO_CACHE = "public, max-age=86400"
MAX_ID = 2**31 - 1
LOGO_PATH_PREFIX = "/locations/"  # of the routes below: exempt from the app's body limit, they bound their own


class _TooLarge(Exception):
    pass


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store", **headers})


def _location_id(request: Request) -> int | None:
    text = request.path_params["location_id"]
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


async def _staff(request: Request):
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return await authenticate(token.strip())


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refusing (without reading on) one longer than `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def _uploaded_image(request: Request) -> bytes | None:
    """The image bytes of the request (multipart field `logo`, or the raw body); None when a
    multipart request has no `logo` file."""
    multipart = request.headers.get("content-type", "").lower().startswith("multipart/form-data")
    body = await _body(request, MAX_LOGO_BYTES + (MULTIPART_OVERHEAD if multipart else 0))
    if not multipart:
        return body

    async def replay() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    try:
        upload = form.get("logo")
        if upload is None or isinstance(upload, str):
            return None
        return await upload.read()
    finally:
        await form.close()


async def upload_logo(request: Request) -> Response:
    staff = await _staff(request)
    if staff is None:
        return _error(401, "Sign in as staff (Authorization: Bearer <token>).", **{"WWW-Authenticate": "Bearer"})
    location_id = _location_id(request)
    if location_id is None:
        return _error(404, "Location not found.")
    try:
        await brandable_location(staff, location_id)  # scope first: refuse before reading any upload
        if request.method == "DELETE":
            await delete_logo(staff, location_id)
            return Response(status_code=204, headers={"Cache-Control": "no-store"})
        try:
            data = await _uploaded_image(request)
        except _TooLarge:
            raise ImageTooLarge() from None
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception:  # noqa: BLE001 - a malformed multipart body (python-multipart raises several kinds)
            return _error(400, "The multipart body could not be read; send the image in the field `logo`.")
        if not data:
            return _error(400, "No image: send it as the multipart field `logo` or as the request body.")
        logo = await set_logo(staff, location_id, data)
    except NotFound as error:
        return _error(404, error.message)
    except PermissionDenied as error:
        return _error(403, error.message)
    except ImageTooLarge as error:
        return _error(413, error.message)
    except UnsupportedImage as error:
        return _error(415, error.message)
    except ValidationFailed as error:
        return _error(400, error.message)
    base = request.app.state.settings.base_url
    return JSONResponse(
        {
            "logoUrl": base + logo_path(location_id, logo.updated_at),
            "contentType": logo.content_type,
            "size": len(logo.data),
        },
        headers={"Cache-Control": "no-store"},
    )


async def serve_logo(request: Request) -> Response:
    location_id = _location_id(request)
    logo = await public_logo(location_id) if location_id is not None else None
    if logo is None:
        return _error(404, "No logo.", **{"X-Content-Type-Options": "nosniff"})
    data = bytes(logo.data)
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": LOGO_CACHE,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": "inline",
    }
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=logo.content_type, headers=headers)


def branding_routes() -> list[Route]:
    """The logo routes, for the app's route list."""
    return [
        Route("/locations/{location_id}/logo", serve_logo, methods=["GET"]),
        Route("/locations/{location_id}/logo", upload_logo, methods=["POST", "DELETE"]),
    ]
