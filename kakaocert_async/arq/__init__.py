"""Waiting on a worker fleet: await, verify once and store each receipt as an arq job on Redis.

One process can await a few thousand signatures; a service that sends more, or
that deploys while requests are outstanding (a wait lasts up to 1,000 s), needs
the waiting to live in a fleet of worker processes that survives restarts. This
module runs it on `arq <https://arq-docs.helpmanual.io>`_, with Redis holding the
queue and one record per receipt (``pip install 'kakaocert-async[arq]'``)::

    # shared by the web app and the workers
    receipts = ReceiptQueue()  # e-signatures; ReceiptQueue(kind=KINDS): every 2.x kind

    # the web app: after request_esign
    await receipts.enqueue(redis, client_code, receipt)  # idempotent
    record = await receipts.record(redis, client_code, receipt)  # how far it got

    # the worker module: ``arq yourapp.worker.WorkerSettings``
    receipts = ReceiptQueue(client=make_client, store=save_signed_data)
    WorkerSettings = receipts.settings(redis_settings=outage_tolerant(RedisSettings()))

Every kind with a receipt to wait on is served: KakaoCert 2.x's e-sign, identity
and CMS (:data:`KINDS`, a worker's client a :class:`~kakaocert_async.Client`), and
Barocert's identity, sign, multi-sign and CMS (:data:`BAROCERT_KINDS`, a
:class:`~kakaocert_async.barocert.Client`). A queue serves kinds of one generation;
a worker serving both runs a queue of each.

A receipt's record moves through these stages, each step an atomic
compare-and-set in Redis (a Lua script), so two workers can never both start a
verify of one receipt::

    waiting ──> verifying ──> verified ──> stored        (the store callback returned)
       │            │    └──> outcome-unknown              (verify_dt set, answer never kept)
       │            └───────> waiting                      (the verify never went through)
       ├──> expired, refused                               (Barocert: the receiver declined)
       └──> failed                                         (refused; enqueue again to retry)

- **waiting**: a job awaits the signature, in slices of ``wait_slice`` seconds
  (between slices the job goes back to the queue, so a dead worker's receipts
  are picked up by another one within arq's in-progress timeout: the job
  timeout plus 10 s). A sweeper (a cron job) enqueues again any open receipt
  whose job arq dropped.
- **verifying**: one worker owns the receipt, with a lease of ``verify_lease``
  seconds, and sends the one verify. A worker that finds a receipt verifying
  after the lease ran out (its owner died, or lost the answer) never verifies
  on sight: it reads the state. ``verify_dt`` set means the verify went through
  and its answer is gone: the record becomes **outcome-unknown**, with that
  ``verify_dt``, and is reported. ``verify_dt`` unset means the verify never went
  through (the service sets it on every verify it answers), so the receipt goes
  back to **waiting** and is verified then.
- **verified**: the signed data is held in the record, then handed to the store
  callback. If the store raises (or takes over ``store_timeout``), the data stays
  in the record and the job is retried with backoff, ``store_attempts`` times in
  all; after that it stays there, listed by :meth:`ReceiptQueue.needs_attention`,
  until an enqueue tries again. It is deleted from Redis once the store returned.
- **stored**: the job acknowledges (ends) only now.

The store callback is never called by two workers at once, and twice with the
same data only when a worker was killed (or the store timed out) after it
committed and before the record said so. Make it idempotent by receipt id (an
upsert); it is never called with different data.
"""

from __future__ import annotations

INSTALL_HINT = "pip install 'kakaocert-async[arq]'"

try:
    import arq  # noqa: F401
    import redis  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover -- tested in a subprocess
    if (exc.name or "").partition(".")[0] not in {"arq", "redis", "click"}:
        raise
    raise ImportError(
        f"kakaocert_async.arq needs arq and redis ({exc}): {INSTALL_HINT}", name=exc.name
    ) from exc

# After the check above, so that a missing extra is said plainly.
from kakaocert_async._kinds import CMS, ESIGN, IDENTITY, KINDS, ReceiptKind  # noqa: E402
from kakaocert_async._public import publish  # noqa: E402
from kakaocert_async.barocert._kinds import CMS as BAROCERT_CMS  # noqa: E402
from kakaocert_async.barocert._kinds import IDENTITY as BAROCERT_IDENTITY  # noqa: E402
from kakaocert_async.barocert._kinds import KINDS as BAROCERT_KINDS  # noqa: E402
from kakaocert_async.barocert._kinds import MULTI_SIGN as BAROCERT_MULTI_SIGN  # noqa: E402
from kakaocert_async.barocert._kinds import SIGN as BAROCERT_SIGN  # noqa: E402

from ._job import Signed, StoreFailed  # noqa: E402
from ._queue import ReceiptQueue, outage_tolerant  # noqa: E402
from ._records import Record, Stage  # noqa: E402

__all__ = [
    "BAROCERT_CMS",
    "BAROCERT_IDENTITY",
    "BAROCERT_KINDS",
    "BAROCERT_MULTI_SIGN",
    "BAROCERT_SIGN",
    "CMS",
    "ESIGN",
    "IDENTITY",
    "INSTALL_HINT",
    "KINDS",
    "ReceiptKind",
    "ReceiptQueue",
    "Record",
    "Signed",
    "Stage",
    "StoreFailed",
    "outage_tolerant",
]

# Public classes and functions named as imported, not by their private module (_public).
publish(globals(), __all__)
