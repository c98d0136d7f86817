"""The emulated Barocert Kakao service: tokens per LinkID, receipts of four kinds, logins.

Like :class:`~kakaocert_async.sandbox._service.Service` (the 2.x one, on the same
origin and settings), each protocol call takes the request as data (headers,
body bytes, the path as sent, the caller's IP) and returns the JSON-ready
answer or raises :class:`Rejected`; the control methods are what the receiver
does. One lock makes every call atomic. Tokens of one generation are unknown to
the other.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from kakaocert_async import _signing, _wire
from kakaocert_async._errors import ValidationError
from kakaocert_async._validation import path_value
from kakaocert_async.barocert import _crypto
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.barocert._errors import VERIFY_WINDOW
from kakaocert_async.barocert._models import Kind, Receipt, State, Status

from . import _barocert_checks as checks
from . import _barocert_records as records
from . import _checks
from ._checks import Headers
from ._rejections import Rejected, Rejection
from ._settings import Settings
from ._tokens import Tokens

SERVICE_ID = "BAROCERT"
LOGIN_SCOPE = "405"
KIND_SCOPE = {Kind.IDENTITY: "401", Kind.SIGN: "402", Kind.MULTI_SIGN: "403", Kind.CMS: "404"}
"""The scope each operation needs. *Assumption*: the official SDK asks for 401 to 405
and has five families (identity, sign, multi-sign, CMS, login), in that order, as
the Naver (421..424) and Pass (441..444) services line theirs up."""

ENDPOINT_PREFIX = "barocert"


def endpoint(kind: Kind | None, operation: str) -> str:
    """The name of a Barocert endpoint in stats and fault targets:
    ``barocert.token``, ``barocert.<kind>.<request|status|verify>``, ``barocert.login.verify``."""
    if kind is None:
        return f"{ENDPOINT_PREFIX}.{operation}"
    return f"{ENDPOINT_PREFIX}.{kind.name.lower()}.{operation}"


ENDPOINTS = (
    endpoint(None, "token"),
    *(endpoint(kind, op) for kind in Kind for op in ("request", "status", "verify")),
    endpoint(None, "login.verify"),
)
"""Every Barocert endpoint name (``/Time`` is shared with 2.x: ``time``)."""


class BarocertService:
    """The state and rules of the emulated Barocert Kakao service."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._key = settings.key
        try:
            self._cipher: _crypto.Cipher | None = _crypto.Cipher(self._key)
        except ValueError:
            self._cipher = None  # requests are refused, saying why
        self._lock = threading.Lock()
        self._tokens = Tokens()
        self._receipts: dict[str, records.BarocertReceipt] = {}
        self._logins: dict[str, records.Login] = {}
        self._ids = records.ReceiptIds()

    def now(self) -> float:
        return self.settings.now()

    # POST /BAROCERT/Token ------------------------------------------------------

    def grant_token(
        self, headers: Headers, body: bytes, *, path: str = "", client_ip: str
    ) -> dict[str, Any]:
        """A session token for the LinkID (``access_id`` empty: not bound to a client code).
        ``path`` goes unused: the token target always names ``/BAROCERT/Token``."""
        settings = self.settings
        now = self.now()
        link_id, forwarded, token_request = _checks.token_call(
            headers, body, settings=settings, now=now, path=_signing.BAROCERT_TOKEN_PATH
        )
        if token_request.access_id != barocert_wire.ACCESS_ID:
            raise Rejected(Rejection.BC_ACCESS_ID, field="access_id")

        with self._lock:
            session_token, token = self._tokens.issue(
                link_id=link_id,
                client_code=token_request.access_id,
                ip=None if forwarded is not None else client_ip,
                scope=token_request.scope,
                now=now,
                ttl=settings.token_ttl,
            )
        return token.grant(session_token, service_id=SERVICE_ID, client_ip=client_ip)

    def revoke_tokens(self) -> int:
        """Invalidate every Barocert session token issued so far; returns how many were live."""
        with self._lock:
            return self._tokens.revoke()

    # POST /KAKAO/<Kind>/<clientCode> -------------------------------------------

    def request(
        self,
        kind: Kind,
        headers: Headers,
        body: bytes,
        *,
        path: str,
        client_code: str,
        client_ip: str,
    ) -> dict[str, Any]:
        """Register a request; its receipt id (and, App to App, the scheme)."""
        now = self.now()
        self._signed_post(headers, body, path, KIND_SCOPE[kind], client_ip, now)
        checks.client_code(client_code)
        checks.encryption_mode(headers)
        _checks.json_content(headers)
        request = checks.request(kind, _checks.json_object(body), self._cipher)

        sign_after = self.settings.sign_after
        with self._lock:
            receipt_id = self._ids.next(now, client_code)
            receipt = records.BarocertReceipt(
                kind=kind,
                receipt_id=receipt_id,
                client_code=client_code,
                request=request,
                scheme=records.app_scheme(self._key, receipt_id) if request.app_to_app else None,
                requested_at=now,
                expires_at=now + request.expire_in,
                sign_at=None if sign_after is None else now + sign_after,
            )
            self._receipts[receipt_id] = receipt
        answer: dict[str, Any] = _wire.converter.unstructure(
            Receipt(receipt_id=receipt_id, scheme=receipt.scheme)
        )
        return answer

    # GET /KAKAO/<Kind>/<clientCode>/<receiptID> --------------------------------

    def status(
        self,
        kind: Kind,
        headers: Headers,
        body: bytes = b"",
        *,
        path: str = "",
        client_code: str,
        receipt_id: str,
        client_ip: str,
    ) -> dict[str, Any]:
        """The state of a receipt of ``kind`` and ``client_code`` (a GET: no body, and
        nothing signed, so ``body`` and ``path`` go unused)."""
        now = self.now()
        checks.version(headers, "x-pb-version", "x-bc-version")
        self._authorize(headers, KIND_SCOPE[kind], client_ip, now)
        with self._lock:
            receipt = self._own(kind, client_code, receipt_id)
            status = receipt.status(now, client_name=self.settings.client_name)
        answer: dict[str, Any] = _wire.converter.unstructure(status)
        return answer

    # POST /KAKAO/<Kind>/Verify/<clientCode>/<receiptID> ------------------------

    def verify(
        self,
        kind: Kind,
        headers: Headers,
        body: bytes,
        *,
        path: str,
        client_code: str,
        receipt_id: str,
        client_ip: str,
    ) -> dict[str, Any]:
        """The signed data of a completed receipt: once, and within 10 minutes of the
        signature (sandbox clock)."""
        now = self.now()
        self._signed_post(headers, body, path, KIND_SCOPE[kind], client_ip, now)
        if body:
            raise Rejected(Rejection.BC_VERIFY_BODY)
        with self._lock:
            receipt = self._own(kind, client_code, receipt_id)
            if receipt.verified_at is not None:
                raise Rejected(Rejection.ALREADY_VERIFIED)
            state = receipt.settle(now)
            if state is State.EXPIRED:
                raise Rejected(Rejection.RECEIPT_EXPIRED)
            if state is not State.COMPLETED:
                raise Rejected(Rejection.NOT_SIGNED, f"state {int(state)} ({state.name})")
            assert receipt.signed_at is not None
            _within_window(receipt.signed_at, now)
            receipt.verified_at = now
        return receipt.verified(self._key)

    # POST /KAKAO/Login/Verify/<clientCode>/<txID> ------------------------------

    def verify_login(
        self,
        headers: Headers,
        body: bytes,
        *,
        path: str,
        client_code: str,
        tx_id: str,
        client_ip: str,
    ) -> dict[str, Any]:
        """The signed data of a login, once, within 10 minutes of it."""
        now = self.now()
        self._signed_post(headers, body, path, LOGIN_SCOPE, client_ip, now)
        if body:
            raise Rejected(Rejection.BC_VERIFY_BODY)
        checks.client_code(client_code)
        with self._lock:
            login = self._logins.get(tx_id)
            if login is None:
                raise Rejected(Rejection.BC_LOGIN_UNKNOWN)
            if login.client_code != client_code:
                raise Rejected(Rejection.RECEIPT_OTHER_CLIENT)
            if login.verified_at is not None:
                raise Rejected(Rejection.ALREADY_VERIFIED)
            _within_window(login.signed_at, now)
            login.verified_at = now
        return login.verified(self._key)

    # Control: what the receiver does, and peeks -------------------------------

    def sign(self, receipt_id: str) -> Status:
        """The receiver signs now (the receipt must be waiting)."""
        return self._command(receipt_id, lambda r, now: r.answer(now, None), "signed")

    def refuse(self, receipt_id: str) -> Status:
        """The receiver declines now: state 3 (the receipt must be waiting)."""
        return self._command(receipt_id, lambda r, now: r.answer(now, State.REFUSED), "refused")

    def fail(self, receipt_id: str) -> Status:
        """The signature fails now: state 4 (the receipt must be waiting)."""
        return self._command(receipt_id, lambda r, now: r.answer(now, State.FAILED), "failed")

    def expire(self, receipt_id: str) -> Status:
        """The request expires now (the receipt must be waiting)."""
        return self._command(receipt_id, records.BarocertReceipt.expire, "expired")

    def open(self, receipt_id: str) -> Status:
        """The receiver opens the message now: ``viewDT`` (the receipt must be waiting)."""
        return self._command(receipt_id, records.BarocertReceipt.open, "opened")

    def state(self, receipt_id: str) -> Status:
        """The state of any receipt, without the protocol's checks."""
        now = self.now()
        with self._lock:
            receipt = self._receipt(receipt_id)
            return receipt.status(now, client_name=self.settings.client_name)

    def receipts(self, limit: int | None = None) -> list[tuple[Kind, Status]]:
        """The newest ``limit`` receipts (all if ``None``), newest first: each one's kind
        and state. For the virtual phone."""
        now = self.now()
        name = self.settings.client_name
        with self._lock:
            newest = itertools.islice(reversed(self._receipts.values()), limit)
            return [(r.kind, r.status(now, client_name=name)) for r in newest]

    def kind(self, receipt_id: str) -> Kind:
        """The kind of a receipt."""
        with self._lock:
            return self._receipt(receipt_id).kind

    def request_of(self, receipt_id: str) -> Any:
        """The request of a receipt as the sandbox decrypted it: an ``IdentityRequest``,
        ``SignRequest``, ``MultiSignRequest`` or ``CMSRequest``, in plain text."""
        with self._lock:
            return self._receipt(receipt_id).request

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
        like the examples'."""
        code = self.settings.client_code if client_code is None else client_code
        checks.client_code(code)
        if tx_id is not None:
            try:
                path_value(tx_id, "tx_id")
            except ValidationError as exc:
                raise Rejected(Rejection.CONTROL_INVALID, str(exc)) from None
        person = records.Person(name=receiver_name, phone=receiver_hp, birthday=receiver_birthday)
        now = self.now()
        with self._lock:
            if tx_id is None:
                tx_id = records.login_tx_id(self._key, len(self._logins) + 1)
            elif tx_id in self._logins:
                raise Rejected(Rejection.CONTROL_INVALID, "that txID is taken")
            self._logins[tx_id] = records.Login(
                tx_id=tx_id, client_code=code, person=person, signed_at=now
            )
        return tx_id

    def __len__(self) -> int:
        """The number of receipts."""
        return len(self._receipts)

    def _command(
        self,
        receipt_id: str,
        action: Callable[[records.BarocertReceipt, float], bool],
        done: str,
    ) -> Status:
        now = self.now()
        with self._lock:
            receipt = self._receipt(receipt_id)
            if not action(receipt, now):
                detail = f"only a waiting receipt can be {done}"
                raise Rejected(Rejection.STATE_CONFLICT, detail)
            return receipt.status(now, client_name=self.settings.client_name)

    # Checks --------------------------------------------------------------------

    def _receipt(self, receipt_id: str) -> records.BarocertReceipt:
        receipt = self._receipts.get(receipt_id)
        if receipt is None:
            raise Rejected(Rejection.RECEIPT_UNKNOWN)
        return receipt

    def _own(self, kind: Kind, client_code: str, receipt_id: str) -> records.BarocertReceipt:
        checks.client_code(client_code)
        checks.receipt_id(receipt_id)
        receipt = self._receipt(receipt_id)
        if receipt.kind is not kind:
            raise Rejected(Rejection.RECEIPT_UNKNOWN, f"a {receipt.kind.value} receipt")
        if receipt.client_code != client_code:
            raise Rejected(Rejection.RECEIPT_OTHER_CLIENT)
        return receipt

    def _signed_post(
        self, headers: Headers, body: bytes, path: str, scope: str, client_ip: str, now: float
    ) -> None:
        checks.version(headers, "x-bc-version")
        date = checks.date(headers, now, self.settings.date_tolerance)
        self._authorize(headers, scope, client_ip, now)
        signature = checks.signature(headers)
        expected = _signing.hmac_b64(self._key, _signing.barocert_target(body, date, path))
        if not _signing.same_signature(expected, signature):
            raise Rejected(Rejection.BC_HMAC_MISMATCH)

    def _authorize(self, headers: Headers, scope: str, client_ip: str, now: float) -> None:
        token = self._tokens.check(headers, client_ip, now)
        if scope not in token.scope:
            raise Rejected(Rejection.BC_SCOPE_MISSING, f"needs {scope}")


def _within_window(signed_at: float, now: float) -> None:
    late = now - signed_at - VERIFY_WINDOW
    if late > 0:
        raise Rejected(Rejection.BC_VERIFY_TOO_LATE, f"{late:.0f} s past the 10 minutes")
