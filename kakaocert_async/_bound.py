"""A client's operations, for any client code or bound to one: :func:`operation` and :class:`Bound`.

Every operation of a client takes the client code (이용기관코드) first; most code
uses one throughout, and ``client.for_client(code)`` binds it. The operation is
written once, as a method of the client marked :func:`operation`: read from a
client, it takes the client code; read from a client bound to one (a
:class:`Bound`), it does not. Types follow, for mypy and IDEs alike::

    client.request_esign(code, request)       # (client_code, request, app_to_app=False)
    client.for_client(code).request_esign(request)   # (request, app_to_app=False)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

P = ParamSpec("P")
R = TypeVar("R")


class Bound:
    """A client bound to one client code, which its operations no longer take."""

    _bound_code: str

    @property
    def client_code(self) -> str:
        """The client code (이용기관코드) every operation is made for."""
        return self._bound_code

    def __repr__(self) -> str:
        shown = super().__repr__()  # the client's
        return f"{shown[:-1]} client_code={self.__dict__.get('_bound_code')!r}>"


class operation(Generic[P, R]):
    """Marks a client method whose first argument is the client code (see the module)."""

    __slots__ = ("__dict__", "func")

    def __init__(self, func: Callable[Concatenate[Any, str, P], R]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    @overload
    def __get__(self, client: None, owner: type[Any]) -> operation[P, R]: ...
    @overload
    def __get__(self, client: Bound, owner: type[Any]) -> Callable[P, R]: ...
    @overload
    def __get__(self, client: object, owner: type[Any]) -> Callable[Concatenate[str, P], R]: ...
    def __get__(self, client: object, owner: type[Any]) -> Any:
        if client is None:
            return self
        if isinstance(client, Bound):
            return functools.partial(self.func, client, client.client_code)
        return functools.partial(self.func, client)
