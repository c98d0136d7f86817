"""The emulated services: tokens, receipts and every rule the real ones enforce (no HTTP).

:class:`Service` is KakaoCert 2.x (e-sign, identity verification, CMS) and
:class:`BarocertService` Barocert (identity, sign, multi-sign, CMS, and login). Both
serve the kinds of receipt of the SDK's own table (``_kinds``, ``barocert._kinds``:
paths, models, token scope), and share one implementation of what is alike: tokens,
receipts and their life, the control calls; each adds its generation's headers,
signatures and answers. Tokens of one generation are unknown to the other.

Each protocol call takes the request as data (a :class:`Call`) and returns the
JSON-ready answer or raises :class:`Rejected`. Lookups are dictionary hits; nothing
scans all receipts or tokens. One lock per service makes every call atomic, so a
server thread and a test thread can share it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import secrets
import threading
import urllib.parse
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

import attrs

from kakaocert_async import _auth, _kinds, _signing, _validation, _wire
from kakaocert_async._errors import ValidationError
from kakaocert_async._kinds import AnyKind
from kakaocert_async._models import RequestBase, SignState, StatusBase
from kakaocert_async._wire import KST
from kakaocert_async.barocert import _crypto
from kakaocert_async.barocert import _kinds as barocert_kinds
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.barocert._errors import VERIFY_WINDOW
from kakaocert_async.barocert._models import Kind, State, Status

from . import _checks, _receipts
from ._checks import Headers
from ._receipts import Receipt, kst
from ._rejections import Rejected, Rejection
from ._settings import Settings

StatusT = TypeVar("StatusT")


def endpoints(kind: AnyKind) -> tuple[str, str, str]:
    """The names of a kind's request, status and verify endpoints in stats and fault
    targets: ``<kind>.request`` ... (``identity.verify``, ``barocert.sign.status``), but
    e-sign's, the first served, keep the bare names they always had (``request``,
    ``status``, ``verify``)."""
    prefix = "" if kind is _kinds.ESIGN else f"{kind.name}."
    return (f"{prefix}request", f"{prefix}status", f"{prefix}verify")


ENDPOINTS = (
    "time",
    "token",
    *(name for kind in _kinds.KINDS for name in endpoints(kind)),
    "barocert.token",
    *(name for kind in barocert_kinds.KINDS for name in endpoints(kind)),
    "barocert.login.verify",
)
"""The protocol's endpoints, as named in stats and fault targets: ``time``, ``token``,
e-sign's ``request``, ``status`` and ``verify``, then ``identity.request`` ...
``cms.verify``, then Barocert's ``barocert.token``, ``barocert.identity.request`` ...
``barocert.cms.verify`` and ``barocert.login.verify`` (see :func:`endpoints`)."""
COUNTERS = (*ENDPOINTS, "control", "other")
"""Every counter in :attr:`Service.stats`: ``other`` is unknown paths and wrong methods."""


class Call(NamedTuple):
    """One protocol call, as data: what the services' handlers take."""

    headers: Headers
    body: bytes = b""
    path: str = ""
    """The path as sent, percent-encoding kept (Barocert signs it)."""
    client_ip: str = ""
    client_code: str = ""
    """Barocert's, from the path (a 2.x call's is its token's)."""
    receipt_id: str = ""
    """From the path; a login verify's transaction id, as sent."""
    signature: str | None = None
    """A 2.x verify's App to App signature: the rest of the path, as sent."""


@attrs.define(slots=True)
class Token:
    """A session token as issued (the sandbox's record of it)."""

    link_id: str
    client_code: str
    """The client code it is for; empty for a Barocert token, which is per LinkID."""
    ip: str | None
    """The only IP it may be used from; ``None``: any (``x-lh-forwarded: *``)."""
    expires_at: float
    scope: tuple[str, ...]
    """As asked for, in order (a token's few scopes are searched in a blink)."""


class _Service(Generic[StatusT]):
    """What both generations' services share: tokens, receipts, the control calls."""

    kinds: ClassVar[tuple[AnyKind, ...]]
    """The kinds of receipt it serves (the SDK's table)."""
    COMMANDS: ClassVar[tuple[str, ...]] = ("sign", "expire", "open")
    """What the receiver can do to a waiting receipt (control)."""
    _TOKEN_PATH: ClassVar[str]
    _SERVICE_ID: ClassVar[str]
    _SCOPE_MISSING: ClassVar[Rejection]
    # What each generation does its own way, as its methods of these names:
    _check_access_id: Callable[[str], None]
    """Refuse a token request's ``access_id`` unless it is this generation's."""
    _next_id: Callable[[float, str], str]
    """A new receipt id, from the clock and the client code."""
    _app_to_app: Callable[[str], dict[str, Any]]
    """An App to App receipt's values: what KakaoTalk hands the partner's app."""
    _readable: Callable[[AnyKind, Call, float], Receipt]
    """The receipt a status or verify call may read, its headers and token checked."""
    _shown: Callable[[Any, State], dict[str, Any]]
    """The status fields this generation makes up, or shows otherwise than stored."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._key = settings.key
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, Token] = OrderedDict()
        """Session tokens in the order issued: with one TTL, also the order they expire
        (so expired ones are pruned oldest first, as new ones are issued)."""
        self._receipts: dict[str, Receipt] = {}
        self._sequence = 0

    def now(self) -> float:
        """The sandbox clock (epoch seconds).

        Returns:
            ``clock()`` plus ``clock_offset`` (:meth:`Settings.now`).
        """
        return self.settings.now()

    def server_time(self) -> str:
        """``YYYY-MM-DDTHH:MM:SS.fffZ`` by the sandbox clock (``GET /Time``).

        Returns:
            The sandbox clock's now, in UTC, to the millisecond.
        """
        return _auth.format_date(self.now())

    # The token call ----------------------------------------------------------------

    def grant_token(self, headers: Headers, body: bytes, *, client_ip: str) -> dict[str, Any]:
        """A session token: for the client code in the body (2.x), for the LinkID (Barocert).

        Args:
            headers: The token call's headers (a plain dict's names in lower case).
            body: Its body as sent: ``{"access_id": ..., "scope": [...]}``.
            client_ip: The caller's IP, which the token is bound to unless the call
                sent ``x-lh-forwarded: *``.

        Returns:
            The answer, as Linkhub's auth service gives it: ``session_token``,
                ``serviceID``, ``linkID``, ``usercode``, ``ipaddress``, ``expiration`` and
                ``scope``.

        Raises:
            Rejected: The version or date header, ``Authorization: LINKHUB`` (the LinkID,
                the HMAC), ``x-lh-forwarded``, the content type or the body is refused,
                ``access_id`` included (2.x: a 12-digit client code; Barocert: empty).
        """
        settings = self.settings
        now = self.now()
        link_id, forwarded, token_request = _checks.token_call(
            headers, body, settings=settings, now=now, path=self._TOKEN_PATH
        )
        self._check_access_id(token_request.access_id)
        expires_at = float(math.floor(now + settings.token_ttl))  # cut to whole seconds
        ip = None if forwarded is not None else client_ip
        token = Token(link_id, token_request.access_id, ip, expires_at, tuple(token_request.scope))
        session_token = secrets.token_urlsafe(32)
        with self._lock:
            tokens = self._tokens
            while tokens and next(iter(tokens.values())).expires_at <= now:
                tokens.popitem(last=False)
            tokens[session_token] = token
        return {
            "session_token": session_token,
            "serviceID": self._SERVICE_ID,
            "linkID": link_id,
            "usercode": token.client_code,
            "ipaddress": client_ip,
            "expiration": _auth.format_date(expires_at),
            "scope": list(token.scope),
        }

    def revoke_tokens(self) -> int:
        """Invalidate every session token issued so far, as the service may at any time:
        using one is then refused as unknown (401). Returns how many were live.

        Returns:
            How many tokens it revoked (expired ones not yet dropped included).
        """
        with self._lock:
            revoked = len(self._tokens)
            self._tokens.clear()
        return revoked

    def _authorize(self, headers: Headers, scope: str, client_ip: str, now: float) -> Token:
        """The token of ``Authorization: Bearer <token>``: issued here (and not revoked),
        not expired, used from its IP, with ``scope``."""
        token = self._tokens.get(_checks.bearer(headers))
        if token is None:
            raise Rejected(Rejection.TOKEN_UNKNOWN)
        if now >= token.expires_at:
            raise Rejected(Rejection.TOKEN_EXPIRED)
        if token.ip is not None and token.ip != client_ip:
            raise Rejected(Rejection.TOKEN_IP_MISMATCH)
        if scope not in token.scope:
            raise Rejected(self._SCOPE_MISSING, f"needs {scope}")
        return token

    # Receipts ----------------------------------------------------------------------

    def _add(
        self, kind: AnyKind, client_code: str, request: Any, now: float, app_to_app: bool
    ) -> dict[str, Any]:
        """A new receipt of ``kind``, stored (it expires as the request says: 2.x's
        ``Expires_in``, Barocert's ``expireIn``); the request's answer, as wire JSON: the
        kind's receipt model, from the record's values of its fields (``receipt_id``; 2.x
        App to App kinds' ``tx_id``, Barocert's ``scheme``)."""
        sign_after = self.settings.sign_after
        barocert = kind.generation == "barocert"
        expires_in = request.expire_in if barocert else request.expires_in
        with self._lock:
            receipt_id = self._next_id(now, client_code)
            receipt = Receipt(
                kind=kind,
                receipt_id=receipt_id,
                client_code=client_code,
                request=request,
                requested_at=now,
                expires_at=now + expires_in,
                sign_at=None if sign_after is None else now + sign_after,
                app_to_app=app_to_app,
                **(self._app_to_app(receipt_id) if app_to_app else {}),
            )
            self._receipts[receipt_id] = receipt
        fields = attrs.fields_dict(kind.receipt).keys() & {"receipt_id", "tx_id", "scheme"}
        answer: dict[str, Any] = _wire.converter.unstructure(
            kind.receipt(**{name: getattr(receipt, name) for name in fields})
        )
        return answer

    def _own(self, kind: AnyKind, receipt_id: str, client_code: str) -> Receipt:
        """A receipt of ``kind`` and ``client_code``, its id of the kind's generation's form:
        each kind's calls know only theirs."""
        _checks.receipt_id(kind, receipt_id)
        receipt = self._receipt(receipt_id)
        if receipt.kind is not kind:
            other = receipt.kind
            detail = f"a {other.segment} receipt" if other.generation == "barocert" else None
            raise Rejected(Rejection.RECEIPT_UNKNOWN, detail)
        if receipt.client_code != client_code:
            raise Rejected(Rejection.RECEIPT_OTHER_CLIENT)
        return receipt

    @staticmethod
    def _verifiable(receipt: Receipt, now: float) -> None:
        """A verify may consume ``receipt``: signed, and not verified before."""
        if receipt.verified_at is not None:
            raise Rejected(Rejection.ALREADY_VERIFIED)
        state = receipt.settle(now)
        if state is State.EXPIRED:
            raise Rejected(Rejection.RECEIPT_EXPIRED)
        if state is not State.COMPLETED:
            barocert = receipt.kind.generation == "barocert"
            detail = f"state {int(state)} ({state.name})" if barocert else None
            raise Rejected(Rejection.NOT_SIGNED, detail)

    def handle_status(self, kind: AnyKind, call: Call) -> dict[str, Any]:
        """The state of a receipt of ``kind`` (``GET {kind}/Status/{id}``, ``GET
        /KAKAO/<Kind>/<clientCode>/<receiptID>``), as the caller may read it.

        Args:
            kind: The kind of receipt the path names (one of :attr:`kinds`).
            call: The call: its headers, client IP and receipt id (and Barocert's client
                code), from the path.

        Returns:
            The kind's status as wire JSON (a fresh dict).

        Raises:
            Rejected: The version header or the session token (unknown, expired, another
                IP's, without the scope) is refused, the receipt id (or Barocert's client
                code) is malformed, or the receipt is unknown to ``kind`` or another
                client code's.
        """
        now = self.now()
        with self._lock:
            return self._readable(kind, call, now).status_answer(now, self._status)

    def _status(self, receipt: Receipt, now: float) -> StatusT:
        """The state of a receipt at ``now``, as its kind's status class: each field its
        request has by the same name, the receipt's own values and times, and what only
        this generation shows (:meth:`_shown`)."""
        request, cls = receipt.request, receipt.kind.status
        fields = attrs.fields_dict(cls)
        state = receipt.settle(now)
        values = {name: getattr(request, name) for name in fields if hasattr(request, name)}
        values.update(
            receipt_id=receipt.receipt_id,
            client_code=receipt.client_code,
            state=state,
            request_dt=kst(receipt.requested_at),
            reg_dt=kst(receipt.requested_at),
            expire_dt=kst(receipt.expires_at),
            view_dt=kst(receipt.viewed_at),
            complete_dt=kst(receipt.signed_at),
            verify_dt=kst(receipt.verified_at),
            app_to_app=receipt.app_to_app,
            tx_id=receipt.tx_id,
            scheme=receipt.scheme,
        )
        values.update(self._shown(request, state))
        status: StatusT = cls(**{name: value for name, value in values.items() if name in fields})
        return status

    def _receipt(self, receipt_id: str) -> Receipt:
        receipt = self._receipts.get(receipt_id)
        if receipt is None:
            raise Rejected(Rejection.RECEIPT_UNKNOWN)
        return receipt

    def _peek(self, receipt_id: str) -> Receipt:
        with self._lock:
            return self._receipt(receipt_id)

    # Control: what the receiver does, and peeks ---------------------------------------

    def sign(self, receipt_id: str) -> StatusT:
        """The receiver signs now (the receipt must be waiting).

        Args:
            receipt_id: The receipt, of any kind.

        Returns:
            Its state now, as its kind's status class.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``), or it is no longer waiting
                (``STATE_CONFLICT``).
        """
        return self._command(receipt_id, Receipt.answer, "signed")

    def expire(self, receipt_id: str) -> StatusT:
        """The request expires now (the receipt must be waiting).

        Args:
            receipt_id: The receipt, of any kind.

        Returns:
            Its state now, as its kind's status class.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``), or it is no longer waiting
                (``STATE_CONFLICT``).
        """
        return self._command(receipt_id, Receipt.expire, "expired")

    def open(self, receipt_id: str) -> StatusT:
        """The receiver opens the message now: sets ``viewDT`` (the receipt must be waiting).

        Args:
            receipt_id: The receipt, of any kind.

        Returns:
            Its state now, as its kind's status class.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``), or it is no longer waiting
                (``STATE_CONFLICT``).
        """
        return self._command(receipt_id, Receipt.open, "opened")

    def state(self, receipt_id: str) -> StatusT:
        """The state of any receipt (of any kind), without the protocol's checks.

        Args:
            receipt_id: The receipt.

        Returns:
            Its state now, as its kind's status class.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``).
        """
        now = self.now()
        with self._lock:
            return self._status(self._receipt(receipt_id), now)

    def _newest(self, limit: int | None) -> list[tuple[AnyKind, StatusT]]:
        """The newest ``limit`` receipts (all if ``None``), newest first: kind and state."""
        now = self.now()
        with self._lock:
            newest = itertools.islice(reversed(self._receipts.values()), limit)
            return [(r.kind, self._status(r, now)) for r in newest]

    def __len__(self) -> int:
        """The number of receipts."""
        return len(self._receipts)

    def _command(
        self, receipt_id: str, action: Callable[[Receipt, float], None], done: str
    ) -> StatusT:
        now = self.now()
        with self._lock:
            receipt = self._receipt(receipt_id)
            if receipt.settle(now) is not State.WAITING:
                detail = f"only a receipt still waiting for its receiver can be {done}"
                raise Rejected(Rejection.STATE_CONFLICT, detail)
            action(receipt, now)
            return self._status(receipt, now)


class Service(_Service[StatusBase]):
    """The state and rules of the emulated KakaoCert 2.x service, and the sandbox's
    arrival counts (of every endpoint, Barocert's too).

    Args:
        settings: The sandbox's settings: credentials, clock and rules.
    """

    kinds = _kinds.KINDS
    _TOKEN_PATH = _signing.TOKEN_PATH
    _SERVICE_ID = "KAKAOCERT"
    _SCOPE_MISSING = Rejection.SCOPE_MISSING

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._verifies: Counter[str] = Counter()
        """Verify arrivals per receipt id, refused ones included (never reset)."""

    # Counters ----------------------------------------------------------------------

    def count(self, endpoint: str) -> None:
        """Count one arrival at ``endpoint`` (one of :data:`COUNTERS`).

        Args:
            endpoint: The counter's name.

        Raises:
            KeyError: ``endpoint`` is not one of :data:`COUNTERS`.
        """
        with self._lock:
            self._counts[endpoint] += 1

    @property
    def stats(self) -> dict[str, int]:
        """Arrivals per endpoint so far, refused and faulted ones included."""
        with self._lock:
            return dict(self._counts)

    def reset_stats(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(COUNTERS, 0)

    def verify_arrivals(self, receipt_id: str) -> int:
        """How many verifies reached this receipt so far, refused ones included.

        Args:
            receipt_id: The receipt.

        Returns:
            The count: 0 if no verify reached it.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``).
        """
        with self._lock:
            self._receipt(receipt_id)
            return self._verifies[receipt_id]

    @property
    def verifies(self) -> dict[str, int]:
        """Verify arrivals per receipt, for every receipt a verify reached."""
        with self._lock:
            return dict(self._verifies)

    # The protocol ------------------------------------------------------------------

    def scope(self, kind: AnyKind) -> str:
        """The token scope ``kind``'s calls need: its own, e-sign's the ``required_scope``
        setting (by default e-sign's own, 310).

        Args:
            kind: A 2.x kind.

        Returns:
            The scope, e.g. ``"320"``.
        """
        return self.settings.required_scope if kind is _kinds.ESIGN else kind.scope

    def handle_request(self, kind: AnyKind, call: Call) -> dict[str, Any]:
        """``POST {kind}/Request``: its receipt id (and App to App ``tx_id``).

        Args:
            kind: The kind of request the path names (one of :attr:`kinds`).
            call: The call: its headers, body and client IP.

        Returns:
            The kind's receipt as wire JSON: its receipt id and, for an App to App
                request, KakaoTalk's transaction id.

        Raises:
            Rejected: The version or date header, the session token (unknown, expired,
                another IP's, without the scope), ``x-kc-auth`` (its LinkID, the HMAC),
                the content type or the body (a field missing, of the wrong type or out
                of its limits) is refused.
        """
        headers, body = call.headers, call.body
        now = self.now()
        _checks.version(headers, "x-lh-version")
        date = _checks.date(headers, now, self.settings.date_tolerance)
        token = self._authorize(headers, self.scope(kind), call.client_ip, now)
        link_id, signature = _checks.signed_by(headers.get("x-kc-auth"), Rejection.KC_AUTH_MISSING)
        if link_id != token.link_id:
            raise Rejected(Rejection.KC_AUTH_LINK_ID)
        expected = _signing.hmac_b64(self._key, _signing.request_target(body, date))
        if not _signing.same_signature(expected, signature):
            raise Rejected(Rejection.REQUEST_HMAC_MISMATCH)
        request, app_to_app = _checks.sign_request(_checks.json_object(headers, body), kind)
        return self._add(kind, token.client_code, request, now, app_to_app)

    def handle_verify(self, kind: AnyKind, call: Call) -> dict[str, Any]:
        """``GET {kind}/Verify/{id}[/{signature}]``: the signed data of a signed receipt,
        once; App to App needs its signature.

        Args:
            kind: The kind of receipt the path names (one of :attr:`kinds`).
            call: The call: its headers, client IP, receipt id and, App to App, the
                signature, from the path.

        Returns:
            The kind's verification as wire JSON: the receipt id and the signed data.

        Raises:
            Rejected: The version header, the session token or the receipt id is
                refused; the receipt is unknown to ``kind`` or another client code's,
                not signed, expired or verified before; or the App to App signature is
                missing, wrong, or sent where none is due (``NOT_FOUND`` for a kind
                without App to App).
        """
        signature = call.signature
        if signature is not None and not kind.app_to_app:
            raise Rejected(Rejection.NOT_FOUND, "this verify takes no signature")
        now = self.now()
        with self._lock:
            if call.receipt_id in self._receipts:  # counted before any check: the proof of once
                self._verifies[call.receipt_id] += 1
            receipt = self._readable(kind, call, now)
            self._verifiable(receipt, now)
            if receipt.signature is None:
                if signature:
                    raise Rejected(Rejection.SIGNATURE_UNEXPECTED)
            elif not signature:
                raise Rejected(Rejection.SIGNATURE_MISSING)
            elif not _signing.same_signature(receipt.signature, signature):
                raise Rejected(Rejection.SIGNATURE_MISMATCH)
            receipt.verified_at = now
        return receipt.verified(self._key)

    def request_esign(self, headers: Headers, body: bytes, *, client_ip: str) -> dict[str, Any]:
        """Register a signature request; its receipt id (and App to App ``tx_id``).

        Args:
            headers: The call's headers (a plain dict's names in lower case).
            body: The JSON body as sent.
            client_ip: The caller's IP.

        Returns:
            As :meth:`handle_request`, for e-sign.

        Raises:
            Rejected: As :meth:`handle_request`.
        """
        return self.handle_request(_kinds.ESIGN, Call(headers, body, client_ip=client_ip))

    def esign_status(self, headers: Headers, receipt_id: str, *, client_ip: str) -> dict[str, Any]:
        """The ResultESignObj of a receipt of the token's client code.

        Args:
            headers: The call's headers (a plain dict's names in lower case).
            receipt_id: The receipt id from the path.
            client_ip: The caller's IP.

        Returns:
            As :meth:`handle_status`, for e-sign.

        Raises:
            Rejected: As :meth:`handle_status`.
        """
        call = Call(headers, client_ip=client_ip, receipt_id=receipt_id)
        return self.handle_status(_kinds.ESIGN, call)

    def verify_esign(
        self, headers: Headers, receipt_id: str, signature: str | None, *, client_ip: str
    ) -> dict[str, Any]:
        """The signed data of a signed e-sign receipt, once.

        Args:
            headers: The call's headers (a plain dict's names in lower case).
            receipt_id: The receipt id from the path.
            signature: The App to App signature, the rest of the path (``None``: none).
            client_ip: The caller's IP.

        Returns:
            As :meth:`handle_verify`, for e-sign.

        Raises:
            Rejected: As :meth:`handle_verify`.
        """
        call = Call(headers, client_ip=client_ip, receipt_id=receipt_id, signature=signature)
        return self.handle_verify(_kinds.ESIGN, call)

    def _readable(self, kind: AnyKind, call: Call, now: float) -> Receipt:
        """A receipt of the token's client code (a GET: nothing signed)."""
        _checks.read_version(call.headers)
        token = self._authorize(call.headers, self.scope(kind), call.client_ip, now)
        return self._own(kind, call.receipt_id, token.client_code)

    def _check_access_id(self, access_id: str) -> None:
        try:
            _validation.check_client_code(access_id, "access_id")
        except ValidationError:
            raise Rejected(Rejection.ACCESS_ID_INVALID, field="access_id") from None

    def _next_id(self, now: float, client_code: str) -> str:
        """Shaped like the real ones: ``0`` + ``yyMMddHHmmss`` (KST) + 5 digits."""
        stamp = dt.datetime.fromtimestamp(now, tz=KST).strftime("%y%m%d%H%M%S")
        while True:
            self._sequence = self._sequence % 99999 + 1
            receipt_id = f"0{stamp}{self._sequence:05d}"
            if receipt_id not in self._receipts:
                return receipt_id

    def _app_to_app(self, receipt_id: str) -> dict[str, Any]:
        double_slash = self.settings.double_slash_signatures
        return {
            "tx_id": _receipts.tx_id(self._key, receipt_id),
            "signature": _receipts.app_signature(self._key, receipt_id, double_slash=double_slash),
        }

    # Control -----------------------------------------------------------------------

    def status(self, receipt_id: str) -> StatusBase:
        """The state of any receipt (of any kind), without the protocol's checks.

        Args:
            receipt_id: The receipt.

        Returns:
            Its state now: an ``ESignStatus``, ``VerifyAuthStatus`` or ``CMSStatus``.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``).
        """
        return self.state(receipt_id)

    def receipts(self, limit: int | None = None) -> list[tuple[str, StatusBase]]:
        """The newest ``limit`` receipts (all if ``None``), newest first: each kind's
        name (``esign``, ``identity``, ``cms``) and state. For the virtual phone.

        Args:
            limit: How many at most; ``None``: all.

        Returns:
            ``(kind name, state)`` pairs, newest first.
        """
        return [(kind.name, status) for kind, status in self._newest(limit)]

    def request_of(self, receipt_id: str) -> tuple[str, RequestBase[Any]]:
        """A receipt's kind name and its request as received, the receiver's data
        included: what the receiver's phone shows.

        Args:
            receipt_id: The receipt.

        Returns:
            ``(kind name, request)``: the request is the kind's request model.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``).
        """
        receipt = self._peek(receipt_id)
        return receipt.kind.name, receipt.request

    def signature(self, receipt_id: str) -> str:
        """The App to App signature of a receipt (what KakaoTalk gives the partner's app).

        Args:
            receipt_id: The receipt.

        Returns:
            The signature, as a verify must carry it.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``), or it is not an App to App
                one (``STATE_CONFLICT``).
        """
        receipt = self._peek(receipt_id)
        if receipt.signature is None:
            raise Rejected(Rejection.STATE_CONFLICT, "not an App to App receipt")
        return receipt.signature

    def _shown(self, request: Any, state: State) -> dict[str, Any]:
        name = self.settings.client_name
        sub_client = request.sub_client_id
        return {
            "state": SignState(state),
            "client_name": name,
            "sub_client_name": None if sub_client is None else f"{name} ({sub_client})",
            "sub_client_code": sub_client,
            # Named by identity verification's request; CMS's has no such field,
            # and its state shows the client's registered name.
            "call_center_name": getattr(request, "call_center_name", name),
        }


class BarocertService(_Service[Status]):
    """The state and rules of the emulated Barocert Kakao service: tokens per LinkID,
    receipts of four kinds, logins. Its control calls (``sign``, ``refuse``, ``fail``,
    ``expire``, ``open``, ``state``, ``receipts``, ``kind``, ``request_of``, ``login``,
    ``revoke_tokens``) are synchronous and thread-safe.

    Args:
        settings: The sandbox's settings: credentials, clock and rules. Its SecretKey is
            also the AES-256 key of the requests' encrypted fields: one that is not 32
            bytes gets every request refused (``BC_CIPHERTEXT_INVALID``), saying why.
    """

    kinds = barocert_kinds.KINDS
    COMMANDS = (*_Service.COMMANDS, "refuse", "fail")
    _TOKEN_PATH = _signing.BAROCERT_TOKEN_PATH
    _SERVICE_ID = "BAROCERT"
    _SCOPE_MISSING = Rejection.BC_SCOPE_MISSING

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        try:
            self._cipher: _crypto.Cipher | None = _crypto.Cipher(self._key)
        except ValueError:
            self._cipher = None  # requests are refused, saying why
        self._logins: dict[str, _receipts.Login] = {}

    # The protocol ------------------------------------------------------------------

    def handle_request(self, kind: AnyKind, call: Call) -> dict[str, Any]:
        """``POST /KAKAO/<Kind>/<clientCode>``: its receipt id (and, App to App, the scheme).

        Args:
            kind: The kind of request the path names (one of :attr:`kinds`).
            call: The call: its headers, body, path as sent, client IP and the path's
                client code.

        Returns:
            The kind's receipt as wire JSON: its receipt id and, App to App, the scheme.

        Raises:
            Rejected: The version or date header, the session token (unknown, expired,
                another IP's, without the scope) or ``x-bc-auth`` (the HMAC) is refused,
                the client code is malformed, ``x-bc-encryptionmode`` is not ``GCM``, or
                the content type or the body (a field not decrypting, missing, of the
                wrong type or out of its limits) is.
        """
        now = self._signed_post(call, kind.scope)
        _checks.encryption_mode(call.headers)
        data = _checks.json_object(call.headers, call.body)
        request = _checks.barocert_request(kind, data, self._cipher)
        return self._add(kind, call.client_code, request, now, request.app_to_app)

    def handle_verify(self, kind: AnyKind, call: Call) -> dict[str, Any]:
        """``POST /KAKAO/<Kind>/Verify/<clientCode>/<receiptID>``: the signed data of a
        completed receipt, once, and within 10 minutes of the signature (sandbox clock).

        Args:
            kind: The kind of receipt the path names (one of :attr:`kinds`).
            call: The call: its headers, body (which must be empty), path as sent,
                client IP, and the path's client code and receipt id.

        Returns:
            The answer as wire JSON: ``receiptID``, ``state``, the signed data
                (``signedData``, or ``multiSignedData``) and the receiver's data, encrypted
                (:func:`decrypt_personal_data` reads it).

        Raises:
            Rejected: A header, the session token or ``x-bc-auth`` is refused, a body is
                sent, the client code or receipt id is malformed, or the receipt is
                unknown to ``kind`` or another client code's, not signed, expired,
                verified before, or signed over 10 minutes ago.
        """
        now = self._signed_post(call, kind.scope, bodiless=True)
        with self._lock:
            receipt = self._own(kind, call.receipt_id, call.client_code)
            self._verifiable(receipt, now)
            return _verified(receipt, now, self._key)

    def verify_login(self, call: Call) -> dict[str, Any]:
        """``POST /KAKAO/Login/Verify/<clientCode>/<txID>``: the signed data of a login,
        once, within 10 minutes of it.

        Args:
            call: The call: its headers, body (which must be empty), path as sent,
                client IP, and the path's client code and transaction id (as sent).

        Returns:
            The answer as wire JSON: ``txID``, ``state``, ``signedData`` and the
                receiver's data, encrypted (:func:`decrypt_personal_data` reads it).

        Raises:
            Rejected: A header, the session token or ``x-bc-auth`` is refused, a body is
                sent, the client code is malformed, or the login is unknown
                (``BC_LOGIN_UNKNOWN``) or another client code's, verified before, or
                over 10 minutes old.
        """
        now = self._signed_post(call, barocert_kinds.LOGIN_SCOPE, bodiless=True)
        with self._lock:
            login = self._logins.get(urllib.parse.unquote(call.receipt_id))
            if login is None:
                raise Rejected(Rejection.BC_LOGIN_UNKNOWN)
            if login.client_code != call.client_code:
                raise Rejected(Rejection.RECEIPT_OTHER_CLIENT)
            if login.verified_at is not None:
                raise Rejected(Rejection.ALREADY_VERIFIED)
            return _verified(login, now, self._key)

    def _readable(self, kind: AnyKind, call: Call, now: float) -> Receipt:
        """A receipt of the path's client code (a GET: nothing signed)."""
        _checks.version(call.headers, "x-pb-version", "x-bc-version", barocert=True)
        self._authorize(call.headers, kind.scope, call.client_ip, now)
        _checks.client_code(call.client_code)
        return self._own(kind, call.receipt_id, call.client_code)

    def _signed_post(self, call: Call, scope: str, *, bodiless: bool = False) -> float:
        """Check a POST's version, date, token and HMAC (and, ``bodiless``, that it has no
        body, as a verify must not), then the path's client code; the sandbox clock's now."""
        headers, now = call.headers, self.now()
        _checks.version(headers, "x-bc-version", barocert=True)
        date = _checks.date(headers, now, self.settings.date_tolerance, barocert=True)
        self._authorize(headers, scope, call.client_ip, now)
        signature = _checks.barocert_signature(headers)
        target = _signing.barocert_target(call.body, date, call.path)
        if not _signing.same_signature(_signing.hmac_b64(self._key, target), signature):
            raise Rejected(Rejection.BC_HMAC_MISMATCH)
        if bodiless and call.body:
            raise Rejected(Rejection.BC_VERIFY_BODY)
        _checks.client_code(call.client_code)
        return now

    def _check_access_id(self, access_id: str) -> None:
        if access_id != barocert_wire.ACCESS_ID:
            raise Rejected(Rejection.BC_ACCESS_ID, field="access_id")

    def _next_id(self, now: float, client_code: str) -> str:
        """Shaped like the examples' (``02309110230400000010000000000003``): ``0`` +
        ``yyMMdd`` (KST) + the 12-digit client code + a 13-digit sequence."""
        self._sequence += 1
        day = dt.datetime.fromtimestamp(now, tz=KST).strftime("%y%m%d")
        return f"0{day}{client_code}{self._sequence:013d}"

    def _app_to_app(self, receipt_id: str) -> dict[str, Any]:
        return {"scheme": _receipts.app_scheme(self._key, receipt_id)}

    # Control -----------------------------------------------------------------------

    def refuse(self, receipt_id: str) -> Status:
        """The receiver declines now: state 3 (the receipt must be waiting).

        Args:
            receipt_id: The receipt, of any kind.

        Returns:
            Its state now.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``), or it is no longer waiting
                (``STATE_CONFLICT``).
        """
        return self._command(receipt_id, lambda r, now: r.answer(now, State.REFUSED), "refused")

    def fail(self, receipt_id: str) -> Status:
        """The signature fails now: state 4 (the receipt must be waiting).

        Args:
            receipt_id: The receipt, of any kind.

        Returns:
            Its state now.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``), or it is no longer waiting
                (``STATE_CONFLICT``).
        """
        return self._command(receipt_id, lambda r, now: r.answer(now, State.FAILED), "failed")

    def receipts(self, limit: int | None = None) -> list[tuple[Kind, Status]]:
        """The newest ``limit`` receipts (all if ``None``), newest first: each one's kind
        and state. For the virtual phone.

        Args:
            limit: How many at most; ``None``: all.

        Returns:
            ``(kind, state)`` pairs, newest first.
        """
        return [(Kind(kind.segment), status) for kind, status in self._newest(limit)]

    def kind(self, receipt_id: str) -> Kind:
        """The kind of a receipt.

        Args:
            receipt_id: The receipt.

        Returns:
            Its kind.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``).
        """
        return Kind(self._peek(receipt_id).kind.segment)

    def request_of(self, receipt_id: str) -> Any:
        """The request of a receipt as the sandbox decrypted it: an ``IdentityRequest``,
        ``SignRequest``, ``MultiSignRequest`` or ``CMSRequest``, in plain text.

        Args:
            receipt_id: The receipt.

        Returns:
            The request, decrypted.

        Raises:
            Rejected: No such receipt (``RECEIPT_UNKNOWN``).
        """
        return self._peek(receipt_id).request

    def login(
        self,
        client_code: str | None = None,
        *,
        tx_id: str | None = None,
        receiver_name: str = "홍길동",
        receiver_hp: str = "01012341234",
        receiver_birthday: str = "19900108",
    ) -> str:
        """A receiver logs in with KakaoTalk (App to App) now; returns the transaction id
        the partner's app receives, for ``verifyLogin`` within 10 minutes: ``tx_id`` if
        given (any text the official SDKs send: ``+``, ``/``, ``=`` included), else one
        like the examples'.

        Args:
            client_code: The client code the login is for (12 digits); by default the
                settings' ``client_code``.
            tx_id: The transaction id; by default, a new one.
            receiver_name: The name of who logs in, which the verify answers (encrypted).
            receiver_hp: Their mobile number, which the verify answers (encrypted).
            receiver_birthday: Their date of birth, ``YYYYMMDD``, which the verify
                answers (encrypted).

        Returns:
            The transaction id.

        Raises:
            Rejected: ``client_code`` is not 12 digits (``BC_CLIENT_CODE_INVALID``), or
                ``tx_id`` is not a path value or is taken (``CONTROL_INVALID``).
        """
        code = self.settings.client_code if client_code is None else client_code
        _checks.client_code(code)
        if tx_id is not None:
            try:
                _validation.path_value(tx_id, "tx_id")
            except ValidationError as exc:
                raise Rejected(Rejection.CONTROL_INVALID, str(exc)) from None
        person = _receipts.Person(name=receiver_name, phone=receiver_hp, birthday=receiver_birthday)
        now = self.now()
        with self._lock:
            if tx_id is None:
                tx_id = _receipts.login_tx_id(self._key, len(self._logins) + 1)
            elif tx_id in self._logins:
                raise Rejected(Rejection.CONTROL_INVALID, "that txID is taken")
            self._logins[tx_id] = _receipts.Login(
                tx_id=tx_id, client_code=code, person=person, signed_at=now
            )
        return tx_id

    def _shown(self, request: Any, state: State) -> dict[str, Any]:
        token_type = getattr(request, "token_type", None)
        return {
            "call_center_name": self.settings.client_name,
            "call_center_num": _receipts.CALL_CENTER_NUM,
            "req_title": request.req_title or getattr(request, "sign_title", None),
            "token_type": None if token_type is None else token_type.value,
        }


def _verified(record: Receipt | _receipts.Login, now: float, key: bytes) -> dict[str, Any]:
    """A Barocert verify of ``record`` (signed) now: its answer, within 10 minutes of the
    signature."""
    assert record.signed_at is not None
    late = now - record.signed_at - VERIFY_WINDOW
    if late > 0:
        raise Rejected(Rejection.BC_VERIFY_TOO_LATE, f"{late:.0f} s past the 10 minutes")
    record.verified_at = now
    return record.verified(key)
