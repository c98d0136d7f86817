"""The /_sandbox control routes over HTTP, and unknown paths and methods."""

from __future__ import annotations

from pathlib import Path

from kakaocert_async.sandbox import COUNTERS, Rejection, Sandbox, _rejections
from tests.sandbox._raw import Raw, assert_refused


async def test_sign_open_and_expire_over_http(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    first = (await raw.receipt(token))["receiptId"]
    second = (await raw.receipt(token))["receiptId"]

    opened = await raw.http.post(f"/_sandbox/receipts/{first}/open")
    assert opened.status_code == 200
    assert opened.json()["viewDT"] is not None
    assert opened.json()["state"] == 0
    signed = await raw.http.post(f"/_sandbox/receipts/{first}/sign")
    assert signed.json()["state"] == 1
    expired = await raw.http.post(f"/_sandbox/receipts/{second}/expire")
    assert expired.json()["state"] == 2

    state = await raw.http.get(f"/_sandbox/receipts/{first}")
    assert state.json()["receiptID"] == first
    assert state.json()["completeDT"] is not None

    assert_refused(
        await raw.http.post(f"/_sandbox/receipts/{second}/sign"), Rejection.STATE_CONFLICT
    )
    assert_refused(await raw.http.post(f"/_sandbox/receipts/{first}/explode"), Rejection.NOT_FOUND)
    assert_refused(
        await raw.http.post("/_sandbox/receipts/000000000000000009/sign"), Rejection.RECEIPT_UNKNOWN
    )


async def test_the_app_to_app_signature_over_http(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    app = (await raw.receipt(token, isAppUseYN=True))["receiptId"]
    talk = (await raw.receipt(token))["receiptId"]
    response = await raw.http.get(f"/_sandbox/receipts/{app}/signature")
    assert response.json() == {"receiptID": app, "signature": sandbox.signature(app)}
    assert_refused(
        await raw.http.get(f"/_sandbox/receipts/{talk}/signature"), Rejection.STATE_CONFLICT
    )


async def test_stats_count_every_arrival_and_reset(raw: Raw, sandbox: Sandbox) -> None:
    await raw.http.get("/Time")
    await raw.token(key=b"wrong")  # refused, still counted
    await raw.http.get("/SignToken/Status/1")  # refused, still counted
    await raw.http.get("/nowhere")
    await raw.http.get("/SignToken/Request")  # wrong method
    await raw.http.get("/SignDirectDebit/Verify/1")  # refused, still counted
    await raw.http.post("/SignIdentity/Request", content=b"{}")  # refused, still counted
    response = await raw.http.get("/_sandbox/stats")
    assert response.json() == {
        **dict.fromkeys(COUNTERS, 0),
        "time": 1,
        "token": 1,
        "status": 1,
        "identity.request": 1,
        "cms.verify": 1,
        "control": 1,
        "other": 2,
    }
    reset = await raw.http.delete("/_sandbox/stats")
    assert reset.json()["time"] == 0
    assert sandbox.stats["control"] == 0
    assert sandbox.stats["time"] == 0


async def test_faults_over_http(raw: Raw, sandbox: Sandbox) -> None:
    added = await raw.http.post(
        "/_sandbox/faults",
        json={"action": "error", "endpoints": ["time"], "every": 2, "body": "json", "status": 500},
    )
    assert added.status_code == 200, added.text
    fault_id = added.json()["id"]
    assert [(await raw.http.get("/Time")).status_code for _ in range(4)] == [200, 500, 200, 500]
    listing = (await raw.http.get("/_sandbox/faults")).json()["faults"]
    assert listing[0]["id"] == fault_id
    assert listing[0]["arrivals"] == 4
    assert listing[0]["struck"] == 2
    assert (await raw.http.delete(f"/_sandbox/faults/{fault_id}")).json() == {"faults": []}
    assert_refused(await raw.http.delete(f"/_sandbox/faults/{fault_id}"), Rejection.NOT_FOUND)

    await raw.http.post("/_sandbox/faults", json={"action": "drop", "endpoints": ["verify"]})
    assert len(sandbox.faults) == 1
    assert (await raw.http.delete("/_sandbox/faults")).json() == {"faults": []}
    assert len(sandbox.faults) == 0


async def test_bad_fault_requests_are_refused(raw: Raw) -> None:
    for body in (b"{", b"[]", b'{"action": "explode"}', b'{"action": "error", "every": "x"}'):
        response = await raw.http.post("/_sandbox/faults", content=body)
        assert_refused(response, Rejection.CONTROL_INVALID)


async def test_settings_over_http(raw: Raw, sandbox: Sandbox) -> None:
    body = (await raw.http.get("/_sandbox/settings")).json()
    assert body["linkID"] == sandbox.link_id
    assert body["clientCode"] == sandbox.client_code
    assert body["signAfter"] is None
    assert "secret" not in str(body).lower()


async def test_unknown_paths_and_methods_answer_error_json(raw: Raw) -> None:
    assert_refused(await raw.http.get("/SignToken/Nothing"), Rejection.NOT_FOUND)
    response = await raw.http.delete("/SignToken/Request")
    assert_refused(response, Rejection.METHOD_NOT_ALLOWED)
    assert "POST" in response.headers["allow"]
    # No redirects for a trailing slash.
    assert_refused(await raw.http.get("/Time/"), Rejection.NOT_FOUND)


def test_the_error_table_is_documented_in_both_places() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text("utf-8")
    module_doc = _rejections.__doc__ or ""
    codes = [r.code for r in Rejection]
    assert len(set(codes)) == len(codes)
    for rejection in Rejection:
        assert -99999999 <= rejection.code <= -10000000  # negative, 8 digits
        status = "5xx" if rejection is Rejection.INJECTED_FAULT else str(rejection.http_status)
        assert f"| `{rejection.name}` | `{rejection.code}` | {status} |" in docs, rejection
        assert f"| {rejection.text} |" in docs, rejection
        row = f"{rejection.name:<25}{rejection.code}  {status}"
        assert row in module_doc, rejection


async def test_verify_arrivals_are_counted_per_receipt(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    signed = (await raw.receipt(token))["receiptId"]
    pending = (await raw.receipt(token))["receiptId"]
    untouched = (await raw.receipt(token))["receiptId"]
    await sandbox.sign(signed)

    assert (await raw.verify(token, signed)).status_code == 200
    assert_refused(await raw.verify(token, signed), Rejection.ALREADY_VERIFIED)
    assert_refused(await raw.verify(token, pending), Rejection.NOT_SIGNED)
    # Refused before any rule of verify (a bad token): it reached the receipt all the same.
    assert_refused(await raw.verify("not-a-token", pending), Rejection.TOKEN_UNKNOWN)
    await raw.verify(token, "000000000000000009")  # no such receipt: counted nowhere

    assert sandbox.verify_count(signed) == 2
    assert sandbox.verify_count(pending) == 2
    assert sandbox.verify_count(untouched) == 0
    assert sandbox.verify_counts == {signed: 2, pending: 2}
    assert sandbox.stats["verify"] == 5

    response = await raw.http.get(f"/_sandbox/receipts/{signed}/verifies")
    assert response.json() == {"receiptID": signed, "verifies": 2}
    response = await raw.http.get(f"/_sandbox/receipts/{untouched}/verifies")
    assert response.json() == {"receiptID": untouched, "verifies": 0}
    assert_refused(
        await raw.http.get("/_sandbox/receipts/000000000000000009/verifies"),
        Rejection.RECEIPT_UNKNOWN,
    )
    await raw.http.delete("/_sandbox/stats")  # the endpoint counters reset; these do not
    assert sandbox.verify_count(signed) == 2
