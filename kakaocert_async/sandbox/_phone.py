"""The virtual phone: a page at the sandbox's root that plays the receiver.

A developer sees the receipts the sandbox holds, opens one as the receiver
would (the title, the message, the text to sign; for Barocert the decrypted
request), and signs, lets it expire or (Barocert) refuses, by hand. For App to
App it shows the signature KakaoTalk would hand the partner's app.

The page is plain HTML, CSS and JavaScript shipped in the package (``phone/``)
and served as they are: no build step. It reads and acts through the JSON
control routes under ``/_sandbox`` (``GET /_sandbox/receipts`` and
``/_sandbox/barocert/receipts`` list them, the existing ``open``, ``sign``,
``expire``, ``refuse`` and ``signature`` routes act), so it sees nothing a test
could not. It never receives the SecretKey or a session token: no route gives
them. The receiver's data is shown, as a phone would, and never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._rejections import Rejected, Rejection

Handler = Callable[[Request], Awaitable[Response]]

# Starlette adds "; charset=utf-8" to a text/ type.
_FILES = {"index.html": "text/html", "phone.css": "text/css", "phone.js": "text/javascript"}
_HEADERS = {
    # The page is the sandbox's own: no framing by other origins, nothing fetched elsewhere.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
    ),
}

DEFAULT_LIMIT = 50
"""Receipts a listing gives unless ``?limit=`` says otherwise (newest first)."""
MAX_LIMIT = 1000


def limit_of(request: Request) -> int:
    """``?limit=N`` of a listing: 1 to :data:`MAX_LIMIT`, :data:`DEFAULT_LIMIT` if absent."""
    text = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise Rejected(Rejection.CONTROL_INVALID, f"limit: a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def routes(control: Callable[[Handler], Handler]) -> list[Route]:
    """``GET /`` (the page) and its files, wrapped by the app's ``control``."""

    async def file(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if name not in _FILES:
            raise Rejected(Rejection.NOT_FOUND)
        content = (resources.files(__package__) / "phone" / name).read_bytes()
        return Response(content, media_type=_FILES[name], headers=_HEADERS)

    return [Route(path, control(file), methods=["GET"]) for path in ("/", "/_sandbox/phone/{name}")]
