"""Logs and spans for the people who run it (``_telemetry``): a record per exchange,
answered or not, and per retry; ``KAKAOCERT_LOG``; OpenTelemetry spans per operation and
wait, the App to App signature masked; nothing of OpenTelemetry when it is absent."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from kakaocert_async import APIError, Client, SignTimeout, ValidationError, _telemetry, barocert
from kakaocert_async.sandbox import Sandbox
from kakaocert_async.sandbox._faults import Fault
from tests._served import ROOT, served_sandbox
from tests._support import make_request
from tests.barocert._requests import make_request as make_barocert_request

pytest.importorskip("opentelemetry.sdk")
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

BACKENDS = ["aiohttp", "httpx"]
FIELDS = (
    "kakaocert_call",
    "kakaocert_generation",
    "kakaocert_attempt",
    "kakaocert_status",
    "kakaocert_failure",
    "kakaocert_elapsed_ms",
    "kakaocert_bytes_sent",
    "kakaocert_bytes_received",
)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    with served_sandbox(sign_after=None) as served:
        yield served


@pytest.fixture
def sandbox(served: tuple[Sandbox, str]) -> Iterator[Sandbox]:
    sandbox = served[0]
    yield sandbox
    sandbox.faults.clear()


@pytest.fixture(params=BACKENDS)
async def client(
    request: pytest.FixtureRequest, served: tuple[Sandbox, str]
) -> AsyncIterator[Client]:
    sandbox, url = served
    http = httpx.AsyncClient() if request.param == "httpx" else None
    async with Client(
        sandbox.link_id,
        sandbox.secret_key,
        base_url=url,
        auth_url=url,
        http_client=http,
        timeout=0.5,
    ) as client:
        assert client._backend.name == request.param
        yield client
    if http is not None:
        await http.aclose()


@pytest.fixture(params=BACKENDS)
async def baro(
    request: pytest.FixtureRequest, served: tuple[Sandbox, str]
) -> AsyncIterator[barocert.Client]:
    sandbox, url = served
    http = httpx.AsyncClient() if request.param == "httpx" else None
    async with barocert.Client(
        sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, http_client=http
    ) as client:
        yield client
    if http is not None:
        await http.aclose()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """An SDK tracer provider, set globally for the test (the API allows one per process:
    its private guard is reset around the test), exporting to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    saved = trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE._done
    trace._TRACER_PROVIDER_SET_ONCE._done = False
    trace.set_tracer_provider(provider)
    yield exporter
    trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE._done = saved


def exchanges(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if hasattr(record, "kakaocert_bytes_sent")]


# Logs ------------------------------------------------------------------------------


async def test_one_record_per_exchange_with_its_facts(
    client: Client, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "kakaocert_async")
    receipt = await client.request_esign(sandbox.client_code, make_request())
    await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    records = exchanges(caplog)
    assert [record.kakaocert_call for record in records] == ["time", "token", "request", "state"]
    for record in records:
        for field in FIELDS:
            assert hasattr(record, field), field
        assert record.kakaocert_generation == "2.x"
        assert record.kakaocert_attempt == 1
        assert record.kakaocert_status == 200
        assert record.kakaocert_failure is None
        assert record.kakaocert_bytes_received > 0
        assert record.levelno == logging.DEBUG
    request, state = records[2], records[3]
    assert request.kakaocert_bytes_sent > 0
    assert state.kakaocert_bytes_sent == 0
    message = state.getMessage()
    assert message.startswith(f"GET /SignToken/Status/{receipt.receipt_id} [2.x state, attempt 1]")
    assert f"HTTP 200, 0 bytes sent, {state.kakaocert_bytes_received} received" in message


async def test_a_timeout_and_a_reset_are_recorded_and_so_are_the_retries(
    client: Client, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    receipt = await client.request_esign(sandbox.client_code, make_request())
    caplog.set_level(logging.DEBUG, "kakaocert_async")
    sandbox.faults.add(Fault(action="delay", seconds=2, endpoints={"status"}, times=1))
    sandbox.faults.add(Fault(action="drop", endpoints={"status"}, every=2, times=1))
    await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    records = exchanges(caplog)
    assert [(r.kakaocert_attempt, r.kakaocert_status) for r in records] == [
        (1, None),
        (2, None),
        (3, 200),
    ]
    timeout, reset = records[0], records[1]
    assert timeout.kakaocert_failure == "timeout"
    assert timeout.kakaocert_progress == "sent"
    assert "timeout when sent" in timeout.getMessage()
    assert reset.kakaocert_failure not in (None, "timeout")  # the library's error class
    assert reset.kakaocert_progress in ("sent", "partly_answered")
    retries = [record for record in caplog.records if hasattr(record, "kakaocert_wait_s")]
    assert [(r.kakaocert_attempt, r.levelno) for r in retries] == [
        (2, logging.INFO),
        (3, logging.INFO),
    ]
    assert retries[0].kakaocert_error == "TransportError"
    assert retries[0].kakaocert_call == "state"
    assert "trying again in" in retries[0].getMessage()


async def test_no_secret_nor_personal_data_in_any_record(
    client: Client, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "kakaocert_async")
    receipt = await client.request_esign(sandbox.client_code, make_request(), app_to_app=True)
    await sandbox.sign(receipt.receipt_id)
    signature = sandbox.signature(receipt.receipt_id)
    await client.verify_esign(sandbox.client_code, receipt.receipt_id, signature)
    secrets = [sandbox.secret_key, signature, "01012341234", "19900108", "홍길동", "전자서명 원문"]
    assert exchanges(caplog)
    for record in caplog.records:
        shown = record.getMessage() + repr(record.__dict__)
        for secret in secrets:
            assert secret not in shown
    assert any("/<signature>" in record.getMessage() for record in caplog.records)


def test_kakaocert_log_must_be_info_or_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_telemetry, "_log_read", False)
    with pytest.raises(ValidationError, match="KAKAOCERT_LOG: must be info or debug"):
        _telemetry.log_from_env({"KAKAOCERT_LOG": "verbose"})
    _telemetry.log_from_env({})  # unset: nothing to do
    assert _telemetry._log_read


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    environ.pop("KAKAOCERT_LOG", None)
    environ.update(env)
    return subprocess.run(  # noqa: S603 -- this interpreter, our code
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


CALL_SANDBOX = """
    import asyncio
    from kakaocert_async.sandbox import Sandbox
    from tests._support import make_request

    async def main():
        async with Sandbox() as sandbox, sandbox.client() as client:
            receipt = await client.request_esign(sandbox.client_code, make_request())
            await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
            print("done")

    asyncio.run(main())
"""


@pytest.mark.parametrize(("value", "shown"), [("debug", True), ("info", False), ("", False)])
def test_kakaocert_log_prints_the_records_on_stderr(value: str, shown: bool) -> None:
    done = run(CALL_SANDBOX, KAKAOCERT_LOG=value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    assert ("[2.x state, attempt 1]: HTTP 200" in done.stderr) is shown
    assert ("DEBUG kakaocert_async: POST /SignToken/Request" in done.stderr) is shown


def test_kakaocert_log_does_not_double_the_applications_logging() -> None:
    code = "import logging, sys; logging.basicConfig(stream=sys.stdout, level=logging.DEBUG)\n"
    done = run(code + textwrap.dedent(CALL_SANDBOX), KAKAOCERT_LOG="debug")
    assert done.returncode == 0, done.stderr
    assert "[2.x state, attempt 1]" in done.stdout
    assert "[2.x state, attempt 1]" not in done.stderr


def test_a_bad_kakaocert_log_is_refused_when_a_client_is_made() -> None:
    done = run(CALL_SANDBOX, KAKAOCERT_LOG="loud")
    assert done.returncode == 1
    assert "KAKAOCERT_LOG: must be info or debug (or unset), got 'loud'" in done.stderr


# Spans ---------------------------------------------------------------------------


def by_name(exported: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in exported if span.name == name]


async def test_a_span_per_operation(
    client: Client, sandbox: Sandbox, spans: InMemorySpanExporter
) -> None:
    receipt = await client.request_esign(sandbox.client_code, make_request())
    await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    await sandbox.sign(receipt.receipt_id)
    await client.verify_esign(sandbox.client_code, receipt.receipt_id)
    names = [span.name for span in spans.get_finished_spans()]
    assert names == [
        "kakaocert_async request",
        "kakaocert_async state",
        "kakaocert_async verify",
    ]
    request, state, verify = spans.get_finished_spans()
    assert state.kind is trace.SpanKind.CLIENT
    assert dict(state.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": state.attributes["server.port"],  # type: ignore[index]
        "kakaocert.operation": "state",
        "kakaocert.generation": "2.x",
        "kakaocert.client_code": sandbox.client_code,
        "kakaocert.kind": "esign",
        "url.template": "/SignToken/Status/{receipt_id}",
        "kakaocert.receipt_id": receipt.receipt_id,
        "http.response.status_code": 200,
        "kakaocert.attempts": 1,
    }
    assert request.attributes["url.template"] == "/SignToken/Request"  # type: ignore[index]
    assert request.attributes["http.request.method"] == "POST"  # type: ignore[index]
    assert verify.attributes["kakaocert.receipt_id"] == receipt.receipt_id  # type: ignore[index]
    assert verify.status.is_ok


async def test_an_error_span_and_a_retry_event(
    client: Client, sandbox: Sandbox, spans: InMemorySpanExporter
) -> None:
    receipt = await client.request_esign(sandbox.client_code, make_request())
    sandbox.faults.add(Fault(action="error", status=503, endpoints={"status"}, times=1))
    await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    state = by_name(spans.get_finished_spans(), "kakaocert_async state")[0]
    assert [event.name for event in state.events] == ["retry"]
    assert state.attributes["kakaocert.attempts"] == 2  # type: ignore[index]
    with pytest.raises(ValidationError):
        await client.verify_esign(sandbox.client_code, receipt.receipt_id, "bad/../signature")
    sandbox.faults.add(Fault(action="error", status=400, body="json", endpoints={"verify"}))
    with pytest.raises(APIError) as raised:
        await client.verify_esign(sandbox.client_code, receipt.receipt_id)
    verify = by_name(spans.get_finished_spans(), "kakaocert_async verify")[0]
    assert verify.status.status_code is trace.StatusCode.ERROR
    assert verify.attributes["error.type"] == type(raised.value).__qualname__  # type: ignore[index]


async def test_await_signed_is_one_span_with_each_poll_beneath(
    client: Client, sandbox: Sandbox, spans: InMemorySpanExporter
) -> None:
    receipt = await client.request_esign(sandbox.client_code, make_request())
    polls = 0
    async for status in client.watch_state(sandbox.client_code, receipt, interval=0.05):
        polls += 1
        if polls == 2:
            await sandbox.sign(receipt.receipt_id)
        last = status
    assert last.state.name == "SIGNED"
    exported = spans.get_finished_spans()
    (wait,) = by_name(exported, "kakaocert_async wait")
    reads = by_name(exported, "kakaocert_async state")
    assert len(reads) == polls >= 3
    assert all(
        read.parent is not None and read.parent.span_id == wait.context.span_id for read in reads
    )
    assert wait.attributes["kakaocert.receipt_id"] == receipt.receipt_id  # type: ignore[index]
    assert wait.attributes["kakaocert.states_read"] == polls  # type: ignore[index]

    spans.clear()
    other = await client.request_esign(sandbox.client_code, make_request())
    with pytest.raises(SignTimeout) as raised:
        await client.await_signed(sandbox.client_code, other, timeout=0.1, interval=0.05)
    (wait,) = by_name(spans.get_finished_spans(), "kakaocert_async wait")
    assert wait.attributes["error.type"] == "SignTimeout" == type(raised.value).__name__  # type: ignore[index]


async def test_barocert_spans(
    baro: barocert.Client, sandbox: Sandbox, spans: InMemorySpanExporter
) -> None:
    receipt = await baro.request_sign(
        sandbox.client_code, make_barocert_request(barocert.Kind.SIGN)
    )
    sandbox.barocert.sign(receipt.receipt_id)
    await baro.await_completed(sandbox.client_code, receipt, interval=0.05)
    await baro.verify_sign(sandbox.client_code, receipt.receipt_id)
    exported = spans.get_finished_spans()
    names = [span.name for span in exported]
    assert names[0] == "kakaocert_async request"
    assert names[-1] == "kakaocert_async verify"
    (wait,) = by_name(exported, "kakaocert_async wait")
    read = by_name(exported, "kakaocert_async state")[0]
    assert read.parent is not None
    assert read.parent.span_id == wait.context.span_id
    assert read.attributes["kakaocert.generation"] == "barocert"  # type: ignore[index]
    assert read.attributes["url.template"] == "/KAKAO/Sign/{client_code}/{receipt_id}"  # type: ignore[index]


async def test_the_signature_is_masked_in_an_instrumentations_url(
    client: Client, sandbox: Sandbox, spans: InMemorySpanExporter
) -> None:
    instrumentor: Any
    if client._backend.name == "aiohttp":
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

        instrumentor = AioHttpClientInstrumentor()
    else:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=trace.get_tracer_provider())
    try:
        receipt = await client.request_esign(sandbox.client_code, make_request(), app_to_app=True)
        await sandbox.sign(receipt.receipt_id)
        signature = sandbox.signature(receipt.receipt_id)
        await client.verify_esign(sandbox.client_code, receipt.receipt_id, signature)
    finally:
        instrumentor.uninstrument()
    exported = spans.get_finished_spans()
    verify = by_name(exported, "kakaocert_async verify")[0]
    beneath = [
        span for span in exported if span.parent and span.parent.span_id == verify.context.span_id
    ]
    assert beneath, [span.name for span in exported]
    urls = [
        str(span.attributes.get("url.full") or span.attributes.get("http.url")) for span in beneath
    ]  # type: ignore[union-attr]
    assert all(
        url.endswith(f"/SignToken/Verify/{receipt.receipt_id}/<signature>") for url in urls
    ), urls
    for span in exported:
        assert signature not in repr(dict(span.attributes or {}))
    assert verify.attributes["url.template"] == "/SignToken/Verify/{receipt_id}/{signature}"  # type: ignore[index]


def test_no_tracer_provider_no_span() -> None:
    done = run(
        """
        import opentelemetry.trace
        from kakaocert_async import _telemetry
        assert _telemetry._tracer() is None
        with _telemetry.operation("state", generation="2.x", method="GET", api_url="http://h",
                                  path="/x", label="GET /x", client_code="1", traced=None):
            pass
        print("ok")
        """
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_a_provider_set_later_or_named_in_the_environment_is_found() -> None:
    """Before looking in the environment, _tracer() reads OpenTelemetry's private
    ``_TRACER_PROVIDER`` (None until a provider is set): this pins what it relies on."""
    later = run(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from kakaocert_async import _telemetry
        assert trace._TRACER_PROVIDER is None
        assert _telemetry._tracer() is None
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        assert trace._TRACER_PROVIDER is provider
        assert _telemetry._tracer() is _telemetry._tracer() is not None
        print("ok")
        """
    )
    assert later.stdout.strip() == "ok", later.stderr
    named = run(
        """
        from opentelemetry import trace
        from kakaocert_async import _telemetry
        assert trace._TRACER_PROVIDER is None
        assert _telemetry._tracer() is not None
        print(type(trace.get_tracer_provider()).__name__)
        """,
        OTEL_PYTHON_TRACER_PROVIDER="sdk_tracer_provider",
    )
    assert named.stdout.strip() == "TracerProvider", named.stderr


def test_works_without_opentelemetry() -> None:
    done = run(
        """
        import sys
        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "opentelemetry":
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Blocker())
        import asyncio
        from kakaocert_async.sandbox import Sandbox
        from tests._support import make_request

        async def main():
            async with Sandbox(sign_after=0.05) as sandbox, sandbox.client() as client:
                receipt = await client.request_esign(sandbox.client_code, make_request())
                status = await client.await_signed(sandbox.client_code, receipt, interval=0.05)
                print(status.state.name)

        asyncio.run(main())
        print([name for name in sys.modules if name.startswith("opentelemetry")] or "none")
        """,
        KAKAOCERT_LOG="debug",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["SIGNED", "none"]
    assert "[2.x state, attempt 1]: HTTP 200" in done.stderr
