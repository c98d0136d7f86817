"""Griffe extension: the package's reST-flavoured docstrings, rendered as Markdown.

The docstrings are written for ``help()`` and IDEs, in the reST conventions
Python's own use: roles (``:class:`Sandbox```, ``:meth:`~Client.aclose```),
``::`` before a literal block, ``>>>`` examples. mkdocstrings renders Markdown,
where a role is literal text and a ``>>>`` line a quote. This extension rewrites
each docstring as it is loaded, leaving the sources as they are:

- a role becomes a cross-reference to the object's page in the API reference
  when that object is documented there (exported by ``__all__`` of a public
  module, or a public member of such a class), else inline code: the reference
  documents public names only, and a link to a private one could not resolve;
- a paragraph ending ``::`` ends ``:`` (or nothing after a space), as reST
  shows it; its indented block stays code;
- a run of ``>>>`` lines and their output becomes a ``pycon`` code block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import griffe

PUBLIC_MODULES = (
    "kakaocert_async",
    "kakaocert_async.sandbox",
    "kakaocert_async.barocert",
    "kakaocert_async.arq",
)

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|exc|mod|obj|const):`(?P<target>[^`]+)`")
_PROMPT = re.compile(r"^(?P<indent>\s*)>>> ")
_FENCE = re.compile(r"^\s*(```|~~~)")


class SphinxRoles(griffe.Extension):
    """Rewrites reST roles, ``::`` and ``>>>`` examples in every docstring of the package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path != PUBLIC_MODULES[0]:
            return
        public = _public_paths(pkg)
        for obj in _walk(pkg):
            docstring = obj.docstring
            if docstring is not None:
                docstring.value = _markdown(docstring.value, obj, public)


def _public_paths(pkg: griffe.Module) -> dict[str, str]:
    """Canonical path -> the path the API reference documents it under."""
    public: dict[str, str] = {}
    inherited: list[tuple[str, str]] = []
    for module_path in PUBLIC_MODULES:
        module = pkg if module_path == pkg.path else pkg[module_path.removeprefix(pkg.path + ".")]
        public[module.path] = module.path
        for name in module.exports or ():
            member = module.members.get(str(name))
            if member is None:
                continue
            shown = f"{module.path}.{name}"
            target = member.final_target if isinstance(member, griffe.Alias) else member
            public.setdefault(target.path, shown)
            if not target.is_class:
                continue
            for child_name, child in target.all_members.items():
                if child_name.startswith("_"):
                    continue
                public.setdefault(f"{target.path}.{child_name}", f"{shown}.{child_name}")
                child_target = child.final_target if isinstance(child, griffe.Alias) else child
                inherited.append((child_target.path, f"{shown}.{child_name}"))
    # A member where it is defined, if that class is not documented itself: under the
    # first documented class that inherits it.
    for path, shown in inherited:
        public.setdefault(path, shown)
    return public


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)  # type: ignore[arg-type]


def _resolve(target: str, scope: griffe.Object, public: dict[str, str]) -> str | None:
    """The documented path of ``target`` as written in ``scope``'s docstring, if any."""
    if target in public:
        return public[target]
    head, _, rest = target.partition(".")
    base = _inherited(head, scope)
    if base is None:
        try:
            base = scope.resolve(head)
        except (griffe.NameResolutionError, KeyError, ValueError):
            return None
    path = f"{base}.{rest}" if rest else base
    if path in public:
        return public[path]
    try:  # a name imported into a private module from where it is defined
        found = scope.modules_collection[path]
    except (KeyError, ValueError):
        return None
    final = found.final_target if isinstance(found, griffe.Alias) else found
    return public.get(final.path)


def _inherited(name: str, scope: griffe.Object) -> str | None:
    """``name`` as a member of the class ``scope`` is in (or is), inherited ones included:
    griffe's own resolution sees only a class's own members."""
    obj: griffe.Object | None = scope
    while obj is not None and not obj.is_class:
        obj = obj.parent
    if obj is None or name not in obj.all_members:
        return None
    return f"{obj.path}.{name}"


def _role(match: re.Match[str], scope: griffe.Object, public: dict[str, str]) -> str:
    target = match["target"].strip()
    short = target.startswith("~")
    target = target.lstrip("~.!")
    text = target.rsplit(".", 1)[-1] if short else target
    shown = _resolve(target.removesuffix("()"), scope, public)
    return f"`{text}`" if shown is None else f"[`{text}`][{shown}]"


def _markdown(text: str, scope: griffe.Object, public: dict[str, str]) -> str:
    text = _ROLE.sub(lambda match: _role(match, scope, public), text)
    return "\n".join(_blocks(text.split("\n")))


def _blocks(lines: list[str]) -> Iterator[str]:
    """``::`` paragraphs end ``:``; ``>>>`` runs are fenced (outside existing fences)."""
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        prompt = None if in_fence else _PROMPT.match(line)
        if prompt is None:
            if not in_fence and line.rstrip().endswith("::"):
                # reST: "text::" shows "text:"; a "::" after a space shows nothing.
                before = line.rstrip()[:-2]
                line = before.rstrip() if before[-1:] in ("", " ") else f"{before}:"
            yield line
            i += 1
            continue
        indent = prompt["indent"]
        yield f"{indent}```pycon"
        while i < len(lines) and lines[i].strip():
            yield lines[i]
            i += 1
        yield f"{indent}```"
