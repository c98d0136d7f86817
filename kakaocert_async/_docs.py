"""The models' field docs where ``help()`` shows them: attribute docstrings, into class docstrings.

Each field of a model is documented once, by the string under it in the source
(as PEP 257 calls an attribute docstring): IDEs and mkdocstrings read those.
Python keeps no such string at run time, so :func:`document` reads them from the
module's source, the first time a class's docstring is read, and appends them to
it as an ``Attributes:`` section, inherited fields included, in the order of the
constructor: that is what ``help(ESignRequest)`` prints. Without the source (a
frozen application) or without docstrings (``python -OO``) the classes keep their
docstrings as they are.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from typing import Any

import attrs


def field_docs(cls: type[Any]) -> dict[str, str]:
    """Field name -> its attribute docstring, for every attrs field of ``cls`` that has
    one (declared in ``cls`` or in a base class)."""
    found: dict[str, str] = {}
    for owner in reversed(cls.__mro__):
        found.update(_class_docs(owner.__module__, owner.__qualname__))
    return {field.name: found[field.name] for field in attrs.fields(cls) if field.name in found}


def document(*classes: type[Any]) -> None:
    """Append an ``Attributes:`` section, made of the fields' attribute docstrings, to the
    docstring of each class, when it is first read (importing costs nothing)."""
    for cls in classes:
        if cls.__doc__:
            # type.__doc__ calls the __get__ of what the class's __dict__ holds for it.
            cls.__doc__ = _WithAttributes(cls, cls.__doc__)  # type: ignore[assignment]


class _WithAttributes:
    """A class docstring that grows its ``Attributes:`` section when first read."""

    __slots__ = ("_cls", "_doc", "_whole")

    def __init__(self, cls: type[Any], doc: str) -> None:
        self._cls = cls
        self._doc = doc
        self._whole: str | None = None

    def __get__(self, instance: object, owner: type[Any] | None = None) -> str:
        if self._whole is None:
            self._whole = _with_attributes(self._doc, field_docs(self._cls))
        return self._whole


def _with_attributes(doc: str, docs: dict[str, str]) -> str:
    if not docs:
        return doc
    lines = ["Attributes:"]
    for name, text in docs.items():
        first, *rest = text.splitlines()
        lines.append(f"    {name}: {first}")
        lines.extend(f"        {line}" if line else "" for line in rest)
    return inspect.cleandoc(doc) + "\n\n" + "\n".join(lines) + "\n"


def _class_docs(module: str, qualname: str) -> dict[str, str]:
    return _module_docs(module).get(qualname, {})


@functools.cache
def _module_docs(module: str) -> dict[str, dict[str, str]]:
    """Class qualname -> {attribute: docstring} for the top-level classes of ``module``."""
    try:
        source = inspect.getsource(sys.modules[module])
    except (KeyError, OSError, TypeError):
        return {}
    classes: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs: dict[str, str] = {}
        for statement, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
        classes[node.name] = docs
    return classes
