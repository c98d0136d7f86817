"""Proxies and TLS on the default path: a real authenticating proxy, a server with its own CA.

The proxy is Debian's ``tinyproxy`` (``BasicAuth``, CONNECT) on loopback, started
with its own configuration; the service is the sandbox served by uvicorn, over
plain HTTP and over TLS with a certificate of a CA made here. Every case runs on
both generations and both ways to the wire: aiohttp (the default), and the httpx
client the SDK makes itself for respx's mocks.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kakaocert_async import (
    APIError,
    Client,
    KakaocertError,
    Progress,
    RequestNotSent,
    ValidationError,
    _transports,
)
from kakaocert_async import barocert as bc
from kakaocert_async._secret import Secret
from kakaocert_async._transports import Proxy
from kakaocert_async.sandbox import Sandbox
from tests._support import SECRET_KEY, make_request
from tests.barocert._requests import make_request as barocert_request

REQUIRED = "KAKAOCERT_REQUIRE_TINYPROXY"
"""Set (as CI does) to fail, rather than skip, when ``tinyproxy`` is missing."""
LOGIN, PASSWORD = "kakao", "pa.ss-1"
ENCODED = "pa%2Ess%2D1"
"""The password percent-encoded, as a URL may carry it (the proxy wants it decoded)."""
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
GENERATIONS = {
    "2.x": (Client, lambda c, s: c.request_esign(s.client_code, make_request())),
    "barocert": (
        bc.Client,
        lambda c, s: c.request_sign(s.client_code, barocert_request(bc.Kind.SIGN)),
    ),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Tinyproxy:
    """One ``tinyproxy`` on loopback asking for ``LOGIN`` and ``PASSWORD``; its log, read
    by :meth:`seen`, says what it was asked."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.log = directory / "tinyproxy.log"
        config = directory / "tinyproxy.conf"
        config.write_text(
            f"Port {self.port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 100\n"
            f'LogFile "{self.log}"\nLogLevel Connect\nBasicAuth {LOGIN} {PASSWORD}\n'
        )
        self.process = subprocess.Popen(  # noqa: S603 -- a fixed program
            ["tinyproxy", "-d", "-c", str(config)],  # noqa: S607
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tinyproxy did not start")
            time.sleep(0.01)

    def url(self, password: str = ENCODED) -> str:
        return f"http://{LOGIN}:{password}@127.0.0.1:{self.port}"

    def seen(self, target: str) -> int:
        """Requests for ``target`` (a URL, or ``host:port`` for a CONNECT) the proxy saw."""
        # (Each line is written, unbuffered, as a request is read: before it is answered.)
        lines = self.log.read_text(errors="replace").splitlines()
        return sum(1 for line in lines if "Request (file descriptor" in line and target in line)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tinyproxy]:
    if shutil.which("tinyproxy") is None:
        if os.environ.get(REQUIRED):
            pytest.fail("tinyproxy is not installed (apt-get install tinyproxy)")
        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy)")
    server = Tinyproxy(tmp_path_factory.mktemp("tinyproxy"))
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def _certificate(subject: str, key: Any, issuer: tuple[x509.Name, Any] | None) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    signer_name, signer_key = issuer or (name, key)
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    )
    if issuer is None:
        unused = ("content_commitment", "key_encipherment", "data_encipherment")
        usage = dict.fromkeys((*unused, "key_agreement", "encipher_only", "decipher_only"), False)
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage),
            critical=True,
        )
    else:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A CA of its own (``ca.pem``) and a server certificate and key it issued for 127.0.0.1."""
    directory = tmp_path_factory.mktemp("ca")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority = _certificate("kakaocert-async test CA", ca_key, None)
    server = _certificate("localhost", key, (authority.subject, ca_key))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    paths[0].write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def plain() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        yield sandbox, url


@pytest.fixture(scope="module")
def secure(ca: tuple[Path, Path, Path]) -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(sign_after=None)
    _, certificate, key = ca
    with sandbox.serve_in_thread(ssl_certfile=str(certificate), ssl_keyfile=str(key)) as url:
        yield sandbox, url.replace("http://", "https://")


@pytest.fixture(autouse=True)
def _no_proxy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@contextlib.contextmanager
def _backend(name: str) -> Iterator[None]:
    """aiohttp, or the httpx client the SDK makes for respx's mocks, here on the network:
    the backend is told respx is active (respx itself cannot pass a call through a proxy)."""
    with contextlib.ExitStack() as stack:
        if name == "httpx":
            stack.enter_context(
                mock.patch.object(_transports, "respx_is_active", return_value=True)
            )
        yield


async def _call(generation: str, backend: str, served: tuple[Sandbox, str], **options: Any) -> Any:
    """The generation's request, made by a new client with ``options`` on ``backend``."""
    cls, call = GENERATIONS[generation]
    sandbox, url = served
    with _backend(backend):
        async with cls(
            sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, **options
        ) as client:
            assert client.http_backend == backend
            return await call(client, sandbox)


both = pytest.mark.parametrize(
    ("generation", "backend"), [(g, b) for g in GENERATIONS for b in ("aiohttp", "httpx")]
)


@both
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
async def test_the_credentials_of_a_proxy_in_the_environment_are_sent(
    proxy: Tinyproxy, plain: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch,
    generation: str, backend: str, variable: str,
) -> None:  # fmt: skip
    monkeypatch.setenv(variable, proxy.url())
    before = proxy.seen(plain[1])
    assert (await _call(generation, backend, plain)).receipt_id
    assert proxy.seen(plain[1]) == before + 3  # the clock, the token and the request
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert (await _call(generation, backend, plain)).receipt_id
    assert proxy.seen(plain[1]) == before + 3  # straight to the service


@both
async def test_an_explicit_proxy_with_credentials_takes_every_request(
    proxy: Tinyproxy, plain: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch,
    generation: str, backend: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("NO_PROXY", "*")  # for the environment's proxies only
    before = proxy.seen(plain[1])
    assert (await _call(generation, backend, plain, proxy=proxy.url())).receipt_id
    assert proxy.seen(plain[1]) >= before + 3


@both
@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("password", [None, "wrong-pw.42"])
async def test_a_proxy_refusing_its_credentials_is_a_clear_error_that_never_shows_them(
    proxy: Tinyproxy, plain: tuple[Sandbox, str], secure: tuple[Sandbox, str],
    ca: tuple[Path, Path, Path], generation: str, backend: str, scheme: str, password: str | None,
) -> None:  # fmt: skip
    served = plain if scheme == "http" else secure
    arrived = sum(served[0].stats.values())
    url = proxy.url(password) if password else f"http://127.0.0.1:{proxy.port}"
    with pytest.raises(KakaocertError) as caught:
        await _call(generation, backend, served, proxy=url, tls=ca[0])
    error = caught.value
    # tinyproxy answers 407 to a request without credentials, 401 to wrong ones.
    refusal = "407" if password is None else "401"
    if scheme == "http":  # the proxy's own answer to the request
        assert isinstance(error, APIError)
        assert error.http_status == int(refusal)
    else:  # its answer to the CONNECT: nothing went further
        assert isinstance(error, RequestNotSent), repr(error)
        assert refusal in str(error)
        assert not error.answer_lost
    assert sum(served[0].stats.values()) == arrived
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    shown = " ".join(f"{e!s} {e!r} {e.args!r} {traceback.format_exception(e)}" for e in chain)
    if password is not None:
        assert password not in shown
        assert base64.b64encode(f"{LOGIN}:{password}".encode()).decode() not in shown


@both
async def test_https_through_the_proxy_with_its_ca(
    proxy: Tinyproxy, secure: tuple[Sandbox, str], ca: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch, generation: str, backend: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())
    target = f"CONNECT {secure[1].removeprefix('https://')} "
    before = proxy.seen(target)
    assert (await _call(generation, backend, secure, tls=ca[0])).receipt_id
    assert proxy.seen(target) > before


@both
@pytest.mark.parametrize("form", ["path", "str", "SSLContext"])
async def test_a_server_of_its_own_ca_is_trusted_with_tls(
    secure: tuple[Sandbox, str], ca: tuple[Path, Path, Path], generation: str, backend: str,
    form: str,
) -> None:  # fmt: skip
    tls: Any = {"path": ca[0], "str": str(ca[0])}.get(form) or ssl.create_default_context(
        cafile=ca[0]
    )
    assert (await _call(generation, backend, secure, tls=tls)).receipt_id


@both
async def test_a_server_of_an_unknown_ca_is_refused_and_nothing_is_sent(
    secure: tuple[Sandbox, str], generation: str, backend: str
) -> None:
    arrived = sum(secure[0].stats.values())
    with pytest.raises(RequestNotSent, match="CERTIFICATE_VERIFY_FAILED"):
        await _call(generation, backend, secure)
    assert sum(secure[0].stats.values()) == arrived


@pytest.mark.parametrize("cls", [Client, bc.Client])
async def test_proxy_and_tls_are_checked_before_any_io(
    cls: Any, ca: tuple[Path, Path, Path]
) -> None:
    bad = {
        "proxy": ["proxy.internal:3128", f"http://{LOGIN}:{PASSWORD}@:3128", "ftp://proxy", 3128],
        "tls": [ca[0].parent / "absent.pem", ca[2], True],  # no file; a key, not certificates
    }
    for name, values in bad.items():
        for value in values:
            with pytest.raises(ValidationError) as caught:
                cls("LINK", SECRET_KEY, **{name: value})
            assert caught.value.field == name
            assert PASSWORD not in str(caught.value)
    environ = {"KAKAOCERT_LINK_ID": "LINK", "KAKAOCERT_SECRET_KEY": SECRET_KEY}
    async with httpx.AsyncClient() as http_client:
        with pytest.raises(ValidationError, match="tls: cannot go with http_client"):
            cls.from_env(environ, tls=ca[0], http_client=http_client)
    with pytest.raises(ValidationError, match="proxy: cannot go with http_client or transport"):
        cls.from_env(environ, proxy="http://proxy:3128", transport=httpx.MockTransport(print))
    shown = repr(Proxy(Secret(f"http://{LOGIN}:{ENCODED}@proxy:3128")))
    assert shown == f"<Proxy http://proxy:3128 (login '{LOGIN}', password <secret>)>"


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
async def test_a_connect_the_proxy_refuses_sent_nothing(
    proxy: Tinyproxy, secure: tuple[Sandbox, str], ca: tuple[Path, Path, Path], backend: str
) -> None:
    """A verify whose CONNECT is refused (a rotated proxy password, say) was not sent,
    on your own httpx client too: the CONNECT's exchange is not the request's."""
    tls = ssl.create_default_context(cafile=ca[0])
    url = proxy.url("wrong-pw.42")
    sender: _transports.Backend
    if backend == "aiohttp":
        sender = _transports.AiohttpBackend(
            max_connections=1, connect_timeout=5, proxy=Proxy(Secret(url)), tls=tls
        )
    else:
        client = httpx.AsyncClient(proxy=url, verify=tls)
        sender = _transports.HttpxBackend(client=client, owned=True)
    attempt = _transports.Attempt()
    try:
        with pytest.raises(_transports.ExchangeFailed, match="401") as caught:
            await sender.exchange("GET", f"{secure[1]}/Time", {}, None, attempt)
    finally:
        await sender.aclose()
    assert caught.value.progress is attempt.progress is Progress.NOT_SENT
