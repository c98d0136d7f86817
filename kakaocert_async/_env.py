"""The environment variables that configure a client, read in one place for the SDK and the CLI.

``KAKAOCERT_LINK_ID``, ``KAKAOCERT_SECRET_KEY``, ``KAKAOCERT_CLIENT_CODE``,
``KAKAOCERT_API_URL`` and ``KAKAOCERT_AUTH_URL`` for KakaoCert 2.x; the same
roles under ``BAROCERT_`` for Barocert, whose credentials fall back to their
``KAKAOCERT_`` twins (a partner has one LinkID and SecretKey). ``Client.from_env()``
and every command of ``kakaocert-async`` read them through :class:`Environment`,
so a missing or bad variable is named the same way everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from . import _validation
from ._errors import ValidationError
from ._secret import Secret

C = TypeVar("C")

TRY_THE_SANDBOX = (
    "to try without credentials, run `kakaocert-async sandbox` and paste the export lines it prints"
)
"""The next step for someone with no credentials, named by every missing-credentials error."""

# Every variable's role: the client's argument it gives (to name the variable when the
# client refuses its value), and what a credential is (to name it when it is missing).
ROLES = {
    "LINK_ID": ("link_id", "LinkID"),
    "SECRET_KEY": ("secret_key", "SecretKey"),
    "CLIENT_CODE": ("client_code", "12-digit client code"),
    "API_URL": ("base_url", ""),
    "AUTH_URL": ("auth_url", ""),
}
CREDENTIALS = ("LINK_ID", "SECRET_KEY", "CLIENT_CODE")


@attrs.frozen(kw_only=True)
class Variables:
    """The environment variables one generation of the service reads, and its default URLs.

    A credential variable that is unset or empty falls back to the one of
    ``fallback`` (Barocert's to KakaoCert 2.x's: a partner has one LinkID and
    SecretKey); the URLs never do, as each generation has its own hosts.
    """

    prefix: str
    """``KAKAOCERT_`` or ``BAROCERT_``: every name is the prefix and the role."""
    api_url: str
    """The API's URL when ``{prefix}API_URL`` is unset."""
    auth_url: str
    """The auth service's URL when ``{prefix}AUTH_URL`` is unset."""
    fallback: Variables | None = None
    """Where an unset credential is read instead."""

    def name(self, role: str) -> str:
        return self.prefix + role

    def value(self, env: Mapping[str, str], role: str) -> str:
        """The value of ``role`` (``LINK_ID``, ``API_URL``, ...), or ``""``."""
        value = env.get(self.name(role), "").strip()
        if not value and self.fallback is not None and role in CREDENTIALS:
            value = self.fallback.value(env, role)
        return value

    def described(self, role: str) -> str:
        """The variable's name, with its fallback's in parentheses (a credential's)."""
        if self.fallback is None or role not in CREDENTIALS:
            return self.name(role)
        return f"{self.name(role)} (or {self.fallback.described(role)})"


@attrs.frozen(kw_only=True)
class Environment:
    """Where and as whom to call, as the environment says (:meth:`from_env`)."""

    link_id: str
    secret_key: Secret[str]
    client_code: str | None
    """``None`` when unset and not required."""
    api_url: str
    auth_url: str
    variables: Variables

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | Secret[Mapping[str, str]] | None = None,
        *,
        variables: Variables,
        client_code_required: bool = True,
    ) -> Environment:
        """Read the credentials and URLs (``os.environ`` unless ``environ`` is given).

        A :class:`ValidationError` names every credential that is missing (and says
        how to try the SDK without any), or a client code that is not 12 digits.
        """
        source = hidden(environ)  # its repr would show the SecretKey: never a local
        del environ
        roles = CREDENTIALS if client_code_required else CREDENTIALS[:2]
        values, secret_key, missing = _read(source.reveal(), variables, roles)
        if missing:
            raise _missing(variables, missing, roles)
        client_code = values["CLIENT_CODE"] or None
        if client_code is not None:
            _validation.check_client_code(client_code, variables.described("CLIENT_CODE"))
        if bool(values["API_URL"]) != bool(values["AUTH_URL"]):
            raise _one_url_only(variables, values)
        return cls(
            link_id=values["LINK_ID"],
            secret_key=secret_key,
            client_code=client_code,
            api_url=values["API_URL"] or variables.api_url,
            auth_url=values["AUTH_URL"] or variables.auth_url,
            variables=variables,
        )

    def client(self, factory: Callable[..., C], **options: Any) -> C:
        """``factory(link_id, secret_key, base_url=..., auth_url=..., client_code=...,
        **options)``: a client of this environment. A value the client refuses is
        named by its variable (``KAKAOCERT_SECRET_KEY: must be ...``)."""
        try:
            return factory(
                self.link_id,
                self.secret_key.reveal(),
                base_url=self.api_url,
                auth_url=self.auth_url,
                client_code=self.client_code,
                **options,
            )
        except ValidationError as exc:
            role = next((role for role, (arg, _) in ROLES.items() if arg == exc.field), None)
            if role is None:
                raise
            rule = exc.message.removeprefix(f"{exc.field}: ")
            raise ValidationError(self.variables.described(role), rule) from None


def _one_url_only(variables: Variables, values: Mapping[str, str]) -> ValidationError:
    """Only one of the two URLs set: the other would go to the real service, unseen."""
    given, other = ("API_URL", "AUTH_URL") if values["API_URL"] else ("AUTH_URL", "API_URL")
    real = variables.api_url if other == "API_URL" else variables.auth_url
    return ValidationError(
        variables.name(other),
        f"is not set while {variables.name(given)} is, so its calls would go to the real"
        f" service ({real}) while the others go to {values[given]}: set both (`kakaocert-async"
        " sandbox` prints both) or neither",
    )


def hidden(
    environ: Mapping[str, str] | Secret[Mapping[str, str]] | None,
) -> Secret[Mapping[str, str]]:
    """The environment to read (``os.environ`` unless given), kept where no repr shows it."""
    if isinstance(environ, Secret):
        return environ
    return Secret(os.environ if environ is None else environ)


def _read(
    env: Mapping[str, str], variables: Variables, roles: tuple[str, ...]
) -> tuple[dict[str, str], Secret[str], list[str]]:
    """The values of every role but the SecretKey's, the SecretKey, and those of ``roles``
    that are unset."""
    values = {role: variables.value(env, role) for role in ROLES}
    missing = [role for role in roles if not values[role]]
    return values, Secret(values.pop("SECRET_KEY")), missing


def _missing(variables: Variables, missing: list[str], roles: tuple[str, ...]) -> ValidationError:
    names = [variables.described(role) for role in missing]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if names[1:] else names[0]
    verb = "are" if names[1:] else "is"
    what = [ROLES[role][1] for role in roles]
    wanted = ", ".join(what[:-1]) + " and " + what[-1]
    message = f"{listed} {verb} not set (the partner's {wanted}); {TRY_THE_SANDBOX}"
    error = ValidationError(variables.name(missing[0]), message)
    # The field is the first variable missing; the message names them all.
    error.message = message
    error.args = (message,)
    return error
