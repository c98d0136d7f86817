"""The emulated service: tokens, receipts and every rule the real one enforces (no HTTP).

The three families (e-sign, identity verification, CMS withdrawal consent) share
one implementation of each call, told apart by a :class:`ServedFamily`.

Each protocol call takes the request as data (headers, body bytes, caller's IP)
and returns the JSON-ready answer or raises :class:`Rejected`. Lookups are
dictionary hits; nothing scans all receipts or tokens. One lock makes every
call atomic, so a server thread and a test thread can share the service.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from kakaocert_async import _signing, _validation, _wire
from kakaocert_async._errors import ValidationError
from kakaocert_async._models import RequestBase, SignState, StatusBase

from . import _checks, _receipts
from ._barocert_service import ENDPOINTS as BAROCERT_ENDPOINTS
from ._checks import Headers
from ._families import ESIGN, FAMILY_ENDPOINTS, ServedFamily
from ._receipts import Receipt
from ._rejections import Rejected, Rejection
from ._settings import Settings
from ._tokens import Token, Tokens

ENDPOINTS = ("time", "token", *FAMILY_ENDPOINTS, *BAROCERT_ENDPOINTS)
"""The protocol's endpoints, as named in stats and fault targets: ``time``, ``token``,
e-sign's ``request``, ``status`` and ``verify``, then ``identity.request`` ...
``cms.verify`` (see ``_families``), then Barocert's ``barocert.*``."""
COUNTERS = (*ENDPOINTS, "control", "other")
"""Every counter in :attr:`Service.stats`: ``other`` is unknown paths and wrong methods."""


class Service:
    """The state and rules of the emulated KakaoCert service."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._key = settings.key
        self._lock = threading.Lock()
        self._tokens = Tokens()
        self._receipts: dict[str, Receipt] = {}
        self._ids = _receipts.ReceiptIds()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._verifies: dict[str, int] = {}
        """Verify arrivals per receipt id, refused ones included (never reset)."""

    def now(self) -> float:
        """The sandbox clock (epoch seconds)."""
        return self.settings.now()

    # Counters ----------------------------------------------------------------

    def count(self, endpoint: str) -> None:
        """Count one arrival at ``endpoint`` (one of :data:`COUNTERS`)."""
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
        """How many verifies reached this receipt so far, refused ones included."""
        with self._lock:
            self._receipt(receipt_id)
            return self._verifies.get(receipt_id, 0)

    @property
    def verifies(self) -> dict[str, int]:
        """Verify arrivals per receipt, for every receipt a verify reached."""
        with self._lock:
            return dict(self._verifies)

    # GET /Time -----------------------------------------------------------------

    def server_time(self) -> str:
        """``YYYY-MM-DDTHH:MM:SS.fffZ`` by the sandbox clock."""
        return _checks.time_text(self.now())

    # POST /KAKAOCERT/Token -----------------------------------------------------

    def grant_token(self, headers: Headers, body: bytes, *, client_ip: str) -> dict[str, Any]:
        """A session token for the client code in the body."""
        settings = self.settings
        now = self.now()
        link_id, forwarded, token_request = _checks.token_call(
            headers, body, settings=settings, now=now, path=_signing.TOKEN_PATH
        )
        try:
            _validation.check_client_code(token_request.access_id, "access_id")
        except ValidationError:
            raise Rejected(Rejection.ACCESS_ID_INVALID, field="access_id") from None

        with self._lock:
            session_token, token = self._tokens.issue(
                link_id=link_id,
                client_code=token_request.access_id,
                ip=None if forwarded is not None else client_ip,
                scope=token_request.scope,
                now=now,
                ttl=settings.token_ttl,
            )
        return token.grant(session_token, service_id="KAKAOCERT", client_ip=client_ip)

    def revoke_tokens(self) -> int:
        """Invalidate every session token issued so far, as the service may at any
        time: using one is then refused as unknown (401). Returns how many were live."""
        with self._lock:
            return self._tokens.revoke()

    # POST {family}/Request -----------------------------------------------------

    def handle_request(
        self, served: ServedFamily, headers: Headers, body: bytes, *, client_ip: str
    ) -> dict[str, Any]:
        """Register a request of ``served``'s family; its receipt id (and App to App ``tx_id``)."""
        now = self.now()
        _checks.version(headers, "x-lh-version")
        date = _checks.date(headers, now, self.settings.date_tolerance)
        token = self._authorize(headers, client_ip, now, served)
        link_id, signature = _checks.signed_by(
            headers.get("x-kc-auth"), None, Rejection.KC_AUTH_MISSING
        )
        if link_id != token.link_id:
            raise Rejected(Rejection.KC_AUTH_LINK_ID)
        expected = _signing.hmac_b64(self._key, _signing.request_target(body, date))
        if not _signing.same_signature(expected, signature):
            raise Rejected(Rejection.REQUEST_HMAC_MISMATCH)
        _checks.json_content(headers)
        family = served.family
        request, app_to_app = _checks.sign_request(_checks.json_object(body), family)

        sign_after = self.settings.sign_after
        with self._lock:
            receipt_id = self._ids.next(now)
            while receipt_id in self._receipts:
                receipt_id = self._ids.next(now)
            receipt = Receipt(
                receipt_id=receipt_id,
                client_code=token.client_code,
                family=family,
                request=request,
                app_to_app=app_to_app,
                tx_id=_receipts.tx_id(self._key, receipt_id) if app_to_app else None,
                signature=_receipts.app_signature(
                    self._key, receipt_id, double_slash=self.settings.double_slash_signatures
                )
                if app_to_app
                else None,
                requested_at=now,
                expires_at=now + request.expires_in,
                sign_at=None if sign_after is None else now + sign_after,
            )
            self._receipts[receipt_id] = receipt
        answer: dict[str, Any] = _wire.converter.unstructure(
            family.receipt(receipt_id=receipt_id, tx_id=receipt.tx_id)
            if family.app_to_app
            else family.receipt(receipt_id=receipt_id)
        )
        return answer

    def request_esign(self, headers: Headers, body: bytes, *, client_ip: str) -> dict[str, Any]:
        """Register a signature request; its receipt id (and App to App ``tx_id``)."""
        return self.handle_request(ESIGN, headers, body, client_ip=client_ip)

    # GET {family}/Status/{id} and {family}/Verify/{id}[/{signature}] -------------

    def handle_status(
        self, served: ServedFamily, headers: Headers, receipt_id: str, *, client_ip: str
    ) -> dict[str, Any]:
        """The state of a receipt of ``served``'s family and the token's client code."""
        now = self.now()
        with self._lock:
            receipt = self._own_receipt(served, headers, receipt_id, client_ip, now)
            return receipt.status_answer(now, client_name=self.settings.client_name)

    def esign_status(self, headers: Headers, receipt_id: str, *, client_ip: str) -> dict[str, Any]:
        """The ResultESignObj of a receipt of the token's client code."""
        return self.handle_status(ESIGN, headers, receipt_id, client_ip=client_ip)

    def handle_verify(
        self,
        served: ServedFamily,
        headers: Headers,
        receipt_id: str,
        signature: str | None,
        *,
        client_ip: str,
    ) -> dict[str, Any]:
        """The signed data of a signed receipt, once; App to App needs its signature."""
        if signature is not None and not served.family.app_to_app:
            raise Rejected(Rejection.NOT_FOUND, "this verify takes no signature")
        now = self.now()
        with self._lock:
            if receipt_id in self._receipts:  # counted before any check: the proof of once
                self._verifies[receipt_id] = self._verifies.get(receipt_id, 0) + 1
            receipt = self._own_receipt(served, headers, receipt_id, client_ip, now)
            if receipt.verified_at is not None:
                raise Rejected(Rejection.ALREADY_VERIFIED)
            state = receipt.settle(now)
            if state is SignState.PENDING:
                raise Rejected(Rejection.NOT_SIGNED)
            if state is SignState.EXPIRED:
                raise Rejected(Rejection.RECEIPT_EXPIRED)
            if receipt.signature is None:
                if signature:
                    raise Rejected(Rejection.SIGNATURE_UNEXPECTED)
            elif not signature:
                raise Rejected(Rejection.SIGNATURE_MISSING)
            elif not _signing.same_signature(receipt.signature, signature):
                raise Rejected(Rejection.SIGNATURE_MISMATCH)
            receipt.verified_at = now
        verification = served.family.verification(
            receipt_id=receipt_id, signed_data=_receipts.signed_data(self._key, receipt)
        )
        answer: dict[str, Any] = _wire.converter.unstructure(verification)
        return answer

    def verify_esign(
        self, headers: Headers, receipt_id: str, signature: str | None, *, client_ip: str
    ) -> dict[str, Any]:
        """The signed data of a signed e-sign receipt, once."""
        return self.handle_verify(ESIGN, headers, receipt_id, signature, client_ip=client_ip)

    # Control: what the receiver does, and peeks -------------------------------

    def sign(self, receipt_id: str) -> StatusBase:
        """The receiver signs now (the receipt must be pending)."""
        return self._command(receipt_id, Receipt.sign, "only a pending receipt can be signed")

    def expire(self, receipt_id: str) -> StatusBase:
        """The request expires now (the receipt must be pending)."""
        return self._command(receipt_id, Receipt.expire, "only a pending receipt can expire")

    def open(self, receipt_id: str) -> StatusBase:
        """The receiver opens the message now: sets ``viewDT`` (the receipt must be pending)."""
        return self._command(receipt_id, Receipt.open, "only a pending receipt can be opened")

    def status(self, receipt_id: str) -> StatusBase:
        """The state of any receipt (of any family), without the protocol's checks."""
        now = self.now()
        with self._lock:
            return self._receipt(receipt_id).status(now, client_name=self.settings.client_name)

    def receipts(self, limit: int | None = None) -> list[tuple[str, StatusBase]]:
        """The newest ``limit`` receipts (all if ``None``), newest first: each family's
        name (``esign``, ``identity``, ``cms``) and state. For the virtual phone."""
        now = self.now()
        name = self.settings.client_name
        with self._lock:
            newest = itertools.islice(reversed(self._receipts.values()), limit)
            return [(r.family.name, r.status(now, client_name=name)) for r in newest]

    def request_of(self, receipt_id: str) -> tuple[str, RequestBase[Any]]:
        """A receipt's family name and its request as received, the receiver's data
        included: what the receiver's phone shows."""
        with self._lock:
            receipt = self._receipt(receipt_id)
            return receipt.family.name, receipt.request

    def signature(self, receipt_id: str) -> str:
        """The App to App signature of a receipt (what KakaoTalk gives the partner's app)."""
        with self._lock:
            receipt = self._receipt(receipt_id)
        if receipt.signature is None:
            raise Rejected(Rejection.STATE_CONFLICT, "not an App to App receipt")
        return receipt.signature

    def __len__(self) -> int:
        """The number of receipts."""
        return len(self._receipts)

    def _command(
        self, receipt_id: str, action: Callable[[Receipt, float], bool], refusal: str
    ) -> StatusBase:
        now = self.now()
        with self._lock:
            receipt = self._receipt(receipt_id)
            if not action(receipt, now):
                raise Rejected(Rejection.STATE_CONFLICT, refusal)
            return receipt.status(now, client_name=self.settings.client_name)

    # Checks --------------------------------------------------------------------

    def _receipt(self, receipt_id: str) -> Receipt:
        receipt = self._receipts.get(receipt_id)
        if receipt is None:
            raise Rejected(Rejection.RECEIPT_UNKNOWN)
        return receipt

    def _own_receipt(
        self, served: ServedFamily, headers: Headers, receipt_id: str, client_ip: str, now: float
    ) -> Receipt:
        _checks.read_version(headers)
        token = self._authorize(headers, client_ip, now, served)
        try:
            _validation.check_receipt_id(receipt_id)
        except ValidationError:
            raise Rejected(Rejection.RECEIPT_ID_INVALID) from None
        receipt = self._receipt(receipt_id)
        if receipt.family is not served.family:
            # Each family's calls know only its own receipts.
            raise Rejected(Rejection.RECEIPT_UNKNOWN)
        if receipt.client_code != token.client_code:
            raise Rejected(Rejection.RECEIPT_OTHER_CLIENT)
        return receipt

    def _authorize(
        self, headers: Headers, client_ip: str, now: float, served: ServedFamily
    ) -> Token:
        token = self._tokens.check(headers, client_ip, now)
        scope = served.scope or self.settings.required_scope
        if scope not in token.scope:
            raise Rejected(Rejection.SCOPE_MISSING, f"needs {scope}")
        return token
