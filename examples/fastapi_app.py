"""A FastAPI service that requests, tracks and verifies KakaoCert e-signatures, and checks
a person's identity (본인인증).

One ``Client`` is created in the app's lifespan and shared by every request.
With ``KAKAOCERT_LINK_ID``, ``KAKAOCERT_SECRET_KEY``, ``KAKAOCERT_CLIENT_CODE`` and
``KAKAOCERT_CALL_CENTER`` (the number shown in the KakaoTalk message) set, it
talks to the real service (``KAKAOCERT_API_URL`` / ``KAKAOCERT_AUTH_URL`` point it
elsewhere); without them, to an in-process sandbox whose receiver signs 10 s
after each request.

Run it (needs ``pip install 'kakaocert-async[sandbox]' fastapi uvicorn``)::

    python examples/fastapi_app.py                  # http://127.0.0.1:8000/docs

and try it::

    curl -s localhost:8000/signatures -H 'content-type: application/json' -d '{
      "receiver_name": "홍길동", "receiver_hp": "01012341234",
      "receiver_birthday": "19900108", "tms_title": "약관 동의", "token": "동의합니다"}'
    curl -N localhost:8000/signatures/RECEIPT_ID/events     # Server-Sent Events
    curl -s -X POST localhost:8000/signatures/RECEIPT_ID/verify

    curl -s localhost:8000/identity-checks -H 'content-type: application/json' -d '{
      "receiver_name": "홍길동", "receiver_hp": "01012341234", "receiver_birthday": "19900108"}'
    curl -s -X POST 'localhost:8000/identity-checks/RECEIPT_ID/verify?wait=30'

Routes:

- ``POST /signatures``: request a signature (JSON body) -> 201 ``{"receipt_id", "tx_id"}``.
- ``GET /signatures/{id}``: its state.
- ``POST /signatures/{id}/verify``: verify it, once -> ``{"receipt_id", "signed_data"}``.
- ``GET /signatures/{id}/events``: an ``event: state`` per change of state, ending
  with ``signed`` or ``expired`` (or an ``event: timeout`` / ``event: error``).
- ``POST /identity-checks``: ask the person to prove who they are, by signing a
  one-time token this app makes -> 201 ``{"receipt_id"}``.
- ``GET /identity-checks/{id}``: its state.
- ``POST /identity-checks/{id}/verify?wait=S``: wait up to ``S`` seconds for the
  signature, then verify it, once -> ``{"receipt_id", "verified", "token",
  "signed_data"}``; 409 if it expired.

Errors: a bad field is 422 naming it (as FastAPI's own validation errors do); the
service's refusals are 502 with its code (404 and 409 pass through: unknown
receipt, not signed, already verified); a lost verify answer is 504 and must not
be retried; a service that cannot be reached is 503, one that does not answer 504.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import attrs
from attrs import AttrsInstance
from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict

from kakaocert_async import (
    APIError,
    Client,
    ESignRequest,
    ESignStatus,
    KakaocertError,
    MalformedResponse,
    RequestNotSent,
    ServiceUnreachable,
    SignState,
    SignTimeout,
    TransportError,
    ValidationError,
    VerifyAuthReceipt,
    VerifyAuthRequest,
    VerifyOutcomeUnknown,
)
from kakaocert_async.sandbox import DEFAULT_SIGN_AFTER, Sandbox

SANDBOX_SIGN_AFTER = 10.0
SANDBOX_CALL_CENTER = "1600-0000"


CREDENTIALS = ("KAKAOCERT_LINK_ID", "KAKAOCERT_SECRET_KEY", "KAKAOCERT_CLIENT_CODE")


@contextlib.asynccontextmanager
async def connect(
    *, sandbox: Sandbox | None = None, sign_after: float | None = DEFAULT_SIGN_AFTER
) -> AsyncIterator[tuple[Client, str, Sandbox | None]]:
    """``(client, client_code, sandbox)``: the real service's (sandbox ``None``) when the
    ``KAKAOCERT_*`` credentials are set and no ``sandbox`` is given, else the sandbox's
    (``sandbox``, or a new in-process one signing ``sign_after`` seconds after a request)."""
    values = [os.environ.get(name, "") for name in CREDENTIALS]
    if sandbox is None and all(values):
        async with Client.from_env() as client:  # reads the same variables, names a bad one
            yield client, values[2], None
        return
    if sandbox is None and any(values):
        raise SystemExit(f"set all of {', '.join(CREDENTIALS)}, or none for the sandbox")
    sandbox = sandbox or Sandbox(sign_after=sign_after)
    async with sandbox, sandbox.client() as client:
        yield client, sandbox.client_code, sandbox


@dataclass(frozen=True)
class Backend:
    """What the routes share: the client, as whom it calls, and the sandbox if any."""

    client: Client
    client_code: str
    call_center: str
    sandbox: Sandbox | None = None
    nonces: dict[str, str] = field(default_factory=dict)
    """The one-time token of each identity check, by receipt id (use your database)."""


@contextlib.asynccontextmanager
async def open_backend(sandbox: Sandbox | None = None) -> AsyncIterator[Backend]:
    """The real service if the credentials are set, else ``sandbox`` (or a new one)."""
    async with connect(sandbox=sandbox, sign_after=SANDBOX_SIGN_AFTER) as (client, code, box):
        call_center = SANDBOX_CALL_CENTER
        if box is None:
            call_center = os.environ.get("KAKAOCERT_CALL_CENTER", "")
            if not call_center:
                raise SystemExit("set KAKAOCERT_CALL_CENTER: the number shown in the message")
        yield Backend(client, code, call_center, box)


def create_app(sandbox: Sandbox | None = None) -> FastAPI:
    """The app; ``sandbox`` (for tests) is used instead of the environment's service."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_backend(sandbox) as backend:
            app.state.backend = backend
            yield

    app = FastAPI(title="KakaoCert e-signatures and identity checks", lifespan=lifespan)
    app.add_exception_handler(KakaocertError, kakaocert_error)  # type: ignore[arg-type]
    app.add_api_route("/signatures", request_signature, methods=["POST"], status_code=201)
    app.add_api_route("/signatures/{receipt_id}", signature_state, methods=["GET"])
    app.add_api_route("/signatures/{receipt_id}/verify", verify_signature, methods=["POST"])
    app.add_api_route("/signatures/{receipt_id}/events", signature_events, methods=["GET"])
    app.add_api_route("/identity-checks", request_identity_check, methods=["POST"], status_code=201)
    app.add_api_route("/identity-checks/{receipt_id}", identity_check_state, methods=["GET"])
    app.add_api_route(
        "/identity-checks/{receipt_id}/verify", verify_identity_check, methods=["POST"]
    )
    return app


def backend(request: Request) -> Backend:
    shared: Backend = request.app.state.backend
    return shared


Shared = Annotated[Backend, Depends(backend)]


# The models ---------------------------------------------------------------------


class SignatureRequest(BaseModel):
    """What to ask the receiver to sign. Types are checked here, the service's limits
    by ``ESignRequest`` (one source of truth); both answer 422 naming the field."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "receiver_name": "홍길동",
                    "receiver_hp": "01012341234",
                    "receiver_birthday": "19900108",
                    "tms_title": "약관 동의",
                    "token": "위 약관에 동의합니다.",
                }
            ]
        },
    )

    receiver_name: str
    receiver_hp: str
    receiver_birthday: str
    tms_title: str
    token: str
    expires_in: int = 300
    tms_message: str | None = None
    payload: str | None = None
    allow_simple_regist: bool = False
    verify_name: bool = True
    app_to_app: bool = False

    def to_esign(self, call_center: str) -> ESignRequest:
        """The SDK's request; raises its ``ValidationError`` naming the field."""
        return ESignRequest(
            call_center_num=call_center,
            **self.model_dump(exclude={"app_to_app"}),
        )


class IdentityCheck(BaseModel):
    """Who should prove their identity; the text they sign is a one-time token this app
    makes (``VerifyAuthRequest`` checks the service's limits)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "receiver_name": "홍길동",
                    "receiver_hp": "01012341234",
                    "receiver_birthday": "19900108",
                }
            ]
        },
    )

    receiver_name: str
    receiver_hp: str
    receiver_birthday: str
    tms_title: str = "본인인증"
    expires_in: int = 300
    payload: str | None = None

    def to_verify_auth(self, call_center: str, token: str) -> VerifyAuthRequest:
        """The SDK's request; raises its ``ValidationError`` naming the field."""
        return VerifyAuthRequest(
            call_center_num=call_center,
            token=token,
            allow_simple_regist=False,
            verify_name=True,  # the name must be the verified real name
            **self.model_dump(),
        )


class VerifyBody(BaseModel):
    """App to App only: the signature your app got from KakaoTalk."""

    model_config = ConfigDict(extra="forbid")

    signature: str | None = None


def as_json(model: AttrsInstance) -> dict[str, Any]:
    """An attrs model as JSON-ready data: its field names, ISO 8601 times, state names."""

    def value(_: object, __: object, item: Any) -> Any:
        if isinstance(item, dt.datetime):
            return item.isoformat()
        if isinstance(item, SignState):
            return item.name.lower()
        return item

    return attrs.asdict(model, value_serializer=value)


# The routes ---------------------------------------------------------------------


async def request_signature(body: SignatureRequest, shared: Shared) -> dict[str, Any]:
    """Ask the receiver to sign ``token``; the receipt id names the request from then on."""
    receipt = await shared.client.request_esign(
        shared.client_code, body.to_esign(shared.call_center), app_to_app=body.app_to_app
    )
    return as_json(receipt)


async def signature_state(receipt_id: str, shared: Shared) -> dict[str, Any]:
    """The state of a request: ``pending``, ``signed`` or ``expired``, and its times."""
    return as_json(await shared.client.get_esign_state(shared.client_code, receipt_id))


async def verify_signature(
    receipt_id: str, shared: Shared, body: Annotated[VerifyBody | None, Body()] = None
) -> dict[str, Any]:
    """Verify a signed request and return its signed data. The service answers this
    once per receipt: store the result before anything else."""
    signature = body.signature if body is not None else None
    verification = await shared.client.verify_esign(shared.client_code, receipt_id, signature)
    return as_json(verification)


async def signature_events(
    receipt_id: str,
    shared: Shared,
    interval: Annotated[float, Query(ge=0.05, le=60.0)] = 2.0,
) -> StreamingResponse:
    """Server-Sent Events: ``event: state`` for the current state and each change,
    ending after ``signed`` or ``expired``."""
    # Read once before streaming, so that a bad or unknown receipt is an HTTP error.
    first = await shared.client.get_esign_state(shared.client_code, receipt_id)
    return StreamingResponse(
        state_events(shared, first, interval),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def state_events(shared: Backend, first: ESignStatus, interval: float) -> AsyncIterator[str]:
    yield sse("state", as_json(first))
    if first.is_final:
        return
    shown = first.state
    states = shared.client.watch_esign_state(
        shared.client_code, first.receipt_id, interval=interval
    )
    try:
        async with contextlib.aclosing(states):
            async for status in states:
                if status.state is shown:
                    yield ": still pending\n\n"  # a comment: keeps proxies from timing out
                    continue
                shown = status.state
                yield sse("state", as_json(status))
    except SignTimeout as exc:
        yield sse("timeout", {"receipt_id": first.receipt_id, "message": exc.message})
    except KakaocertError as exc:
        yield sse("error", {"receipt_id": first.receipt_id, **error_body(exc)})


async def request_identity_check(body: IdentityCheck, shared: Shared) -> dict[str, Any]:
    """Ask the person to verify their identity in KakaoTalk, by signing a fresh nonce."""
    token = secrets.token_urlsafe(24)  # one-time: the signature is proof for this check only
    request = body.to_verify_auth(shared.call_center, token)
    receipt = await shared.client.request_verify_auth(shared.client_code, request)
    shared.nonces[receipt.receipt_id] = token
    return as_json(receipt)


async def identity_check_state(receipt_id: str, shared: Shared) -> dict[str, Any]:
    """The state of an identity check: ``pending``, ``signed`` or ``expired``."""
    return as_json(await shared.client.get_verify_auth_state(shared.client_code, receipt_id))


async def verify_identity_check(
    receipt_id: str,
    shared: Shared,
    wait: Annotated[float, Query(ge=0.05, le=300.0)] = 30.0,
    interval: Annotated[float, Query(ge=0.05, le=60.0)] = 2.0,
) -> JSONResponse:
    """Wait (up to ``wait`` seconds) until the person has signed, then verify, once.

    A worker that only kept the receipt id rebuilds the receipt to wait for it:
    ``VerifyAuthReceipt(receipt_id=...)``. Keep ``signed_data``: it is the proof,
    and it contains the token this app made for the check.
    """
    receipt = VerifyAuthReceipt(receipt_id=receipt_id)
    status = await shared.client.await_signed(
        shared.client_code, receipt, timeout=wait, interval=interval
    )
    if status.state is SignState.EXPIRED:
        detail = {"receipt_id": receipt_id, "state": "expired", "message": "the check expired"}
        return JSONResponse({"detail": detail}, status_code=409)
    verification = await shared.client.verify_auth(shared.client_code, receipt_id)
    return JSONResponse(
        {
            **as_json(verification),
            "verified": True,
            "token": shared.nonces.pop(receipt_id, None),
        }
    )


# Errors -------------------------------------------------------------------------


def error_body(exc: KakaocertError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": type(exc).__name__, "code": exc.code, "message": exc.message}
    if isinstance(exc, APIError):
        body["http_status"] = exc.http_status
    if isinstance(exc, VerifyOutcomeUnknown):
        body["receipt_id"] = exc.receipt_id
        body["retry"] = False  # the service answers verify once: do not repeat it
    return body


def http_status(exc: KakaocertError) -> int:
    if isinstance(exc, APIError):
        # Unknown receipt, not signed yet, already verified: the caller's to fix.
        # Anything else (our credentials, the service failing) is a bad gateway.
        return exc.http_status if exc.http_status in (404, 409) else 502
    if isinstance(exc, SignTimeout):
        return 408  # still pending when the wait ended: ask again later
    if isinstance(exc, ServiceUnreachable):
        return 503  # no state could be read at all during the wait
    if isinstance(exc, VerifyOutcomeUnknown):
        return 504
    if isinstance(exc, RequestNotSent):
        return 503  # the service could not be reached; nothing was sent
    if isinstance(exc, MalformedResponse):
        return 502
    if isinstance(exc, TransportError):
        return 504
    return 500


async def kakaocert_error(request: Request, exc: KakaocertError) -> JSONResponse:
    if isinstance(exc, ValidationError):
        # The shape of FastAPI's own 422s.
        place = "path" if exc.field in request.path_params else "body"
        rule = exc.message.removeprefix(f"{exc.field}: ")
        detail = [{"loc": [place, exc.field], "msg": rule, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=422)
    return JSONResponse({"detail": error_body(exc)}, status_code=http_status(exc))


app = create_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
