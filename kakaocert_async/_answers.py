"""What the service's answers mean: the body of a 200, or the error of any other.

The sender (``_http``) hands back what came (a :class:`~kakaocert_async._http.Reply`)
and knows nothing of the protocol; here an answer is read as the service's. A
200 whose body could not be read is a :class:`MalformedResponse`; any other
status an :class:`APIError`, with the service's code and message when the body
is its error JSON, and a hint from ``_hints``, given the facts by the caller who
knows them: which call, of which generation of the API. The session's calls and
the auth service's two (``_auth.Linkhub``) read their answers here.
"""

from __future__ import annotations

import http.client

from . import _wire
from ._errors import CLIENT_ERROR_CODE, APIError, MalformedResponse
from ._hints import Call, Generation, hint_for
from ._http import Reply

_EXCERPT_CHARS = 160


def body_of(
    reply: Reply, label: str, call: Call, generation: Generation, *, base_url: str
) -> bytes:
    """The body of ``reply`` if it is a readable 200; else raise what it means.

    ``label`` names the call in the messages (``"GET /SignToken/Status/…"``);
    ``call`` and ``generation`` say which it is, for the hint; ``base_url`` is the
    configured URL the call went to (the API's, or the auth service's).
    """
    if reply.status == 200:
        if reply.unreadable is None:
            return reply.body
        raise MalformedResponse(f"{label}: {reply.unreadable}", http_status=200)
    refusal = api_error(reply, label, call, generation, base_url=base_url)
    # The answer stays out of this frame's locals (error trackers record them): under a
    # wrong status it may be a token's or a verify's.
    del reply
    raise refusal


def api_error(
    reply: Reply, label: str, call: Call, generation: Generation, *, base_url: str
) -> APIError:
    """The :class:`APIError` of an answer other than a 200: the service's code and
    message if the body is its error JSON (with a hint from ``_hints`` when the
    refusal is one a caller causes), else the status and what the body was.

    A page that is not JSON (a gateway's HTML) is quoted, shortened; JSON that is
    not an error is described by its keys only, and broken JSON by its size: a
    success answer under the wrong status (or cut short) could hold a session
    token or signed data, which no message may show.
    """
    status, body = reply.status, reply.body
    if reply.unreadable is not None:
        detail = f"with an unreadable body ({reply.unreadable})"
    else:
        try:
            data = _wire.loads(body)
        except _wire.WireError:
            if body.lstrip()[:1] in (b"{", b"["):
                # Broken JSON: perhaps part of a token's or a verify's answer.
                detail = f"with a broken JSON body ({len(body)} bytes)"
            else:
                detail = f"without an error body: {_excerpt(body)}"
        else:
            try:
                answer = _wire.structure(data, _wire.ErrorBody)
            except _wire.WireError:
                detail = f"without an error body: {_json_shape(data)}"
            else:
                return APIError(
                    answer.message,
                    code=answer.code,
                    http_status=status,
                    retry_after=reply.retry_after,
                    hint=hint_for(call, generation, status, answer.code),
                )
    return APIError(
        f"{label}: HTTP {status} {http.client.responses.get(status, '')} {detail}",
        code=CLIENT_ERROR_CODE,
        http_status=status,
        retry_after=reply.retry_after,
        hint=_not_the_service(status, call, generation, base_url),
    )


def _not_the_service(status: int, call: Call, generation: Generation, base_url: str) -> str | None:
    """For a 404 or 405 without the service's error body: no KakaoCert route answered,
    so the URL is likely another web server's. Names the URL and where it was set."""
    if status not in (404, 405):
        return None
    role = "AUTH_URL" if call in ("time", "token") else "API_URL"
    variable = ("KAKAOCERT_" if generation == "2.x" else "BAROCERT_") + role
    argument = "auth_url" if role == "AUTH_URL" else "base_url"
    return (
        f"no {'Linkhub auth service' if role == 'AUTH_URL' else 'KakaoCert API'} answered"
        f" this path at {base_url}: check the client's {argument} (or {variable})"
    )


def _json_shape(data: object) -> str:
    if isinstance(data, dict):
        keys = ", ".join(repr(key)[:40] for key in list(data)[:10])
        return f"a JSON object with keys {keys or '(none)'}"
    return f"a JSON {type(data).__name__}"


def _excerpt(body: bytes) -> str:
    if not body:
        return "(empty)"
    text = " ".join(body[: _EXCERPT_CHARS * 4].decode("utf-8", "replace").split())
    return repr(text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else ""))
