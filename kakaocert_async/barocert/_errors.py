"""Barocert's own error: a verify the service refused because its 10 minutes had passed."""

from __future__ import annotations

import datetime as dt

from kakaocert_async._errors import APIError

VERIFY_WINDOW = 600.0
"""Seconds after the signature (``complete_dt``) within which the service answers verify."""


class VerifyTooLate(APIError):
    """The service refused a verify that came more than 10 minutes after the signature.

    The signed data of that receipt can no longer be had: ask the receiver to sign
    again. ``code``, ``http_status`` and the start of ``message`` are the service's
    refusal; ``complete_dt`` is when the receipt was completed (Korea time), and
    ``receipt_id`` names it.

    Raised only when the service refused (the client never refuses a verify by its
    own reckoning) and the receipt's state, read right after the refusal, shows it
    completed more than 10 minutes earlier (by the auth server's clock) and never
    verified.
    """

    receipt_id: str
    complete_dt: dt.datetime

    def __init__(
        self,
        message: str,
        *,
        code: int,
        http_status: int,
        receipt_id: str,
        complete_dt: dt.datetime,
    ) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: The service's refusal, and why it came too late.
            code: The service's error code.
            http_status: The HTTP status.
            receipt_id: The receipt verified.
            complete_dt: When the receipt was completed (Korea time).
        """
        super().__init__(message, code=code, http_status=http_status)
        self.receipt_id = receipt_id
        self.complete_dt = complete_dt
