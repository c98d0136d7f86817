"""The API reference documents every public callable: its Parameters, what it Returns
(or Yields), and, for the clients' operations, what it Raises (Google-style sections,
rendered by mkdocstrings).

What the reference shows is what is checked: the functions and classes of the public
modules' ``__all__``, and the public methods of those classes, inherited ones included
(a method is checked once, where it is defined). Properties show as attributes (their
docstring says what they are), and dunder methods other than ``__init__`` are not shown.
A class's constructor is documented where the reference shows it, merged into the
class: its arguments in the class's docstring or in ``__init__``'s, and the fields of a
class whose ``__init__`` attrs or dataclasses write, in its ``Attributes:`` section. Every
argument is named, and only arguments are: a renamed one is found.
"""

from __future__ import annotations

from pathlib import Path

import griffe
import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = (
    "kakaocert_async",
    "kakaocert_async.barocert",
    "kakaocert_async.sandbox",
    "kakaocert_async.arq",
)
CLIENTS = (
    "kakaocert_async.Client",
    "kakaocert_async.BoundClient",
    "kakaocert_async.barocert.Client",
    "kakaocert_async.barocert.BoundClient",
)
NOTHING = ("None", "NoReturn", "Never")
GENERATED_INIT = ("attrs.", "attr.", "dataclass", "define", "frozen", "mutable")


@pytest.fixture(scope="module")
def package() -> griffe.Module:
    loaded = griffe.load("kakaocert_async", search_paths=[str(ROOT)], docstring_parser="google")
    assert isinstance(loaded, griffe.Module)
    return loaded


def _resolved(obj: griffe.Object | griffe.Alias) -> griffe.Object:
    target = obj.final_target if isinstance(obj, griffe.Alias) else obj
    assert isinstance(target, griffe.Object)
    return target


def _ours(obj: griffe.Object, of: griffe.Object) -> bool:
    """Written in the package of ``of`` (not a base class's from elsewhere)."""
    return obj.package is of.package


def _public(
    package: griffe.Module, modules: tuple[str, ...] = PUBLIC_MODULES
) -> list[tuple[str, griffe.Object]]:
    """Every public function and class of the public modules' ``__all__``, and the public
    methods of those classes (inherited ones too): as the reference shows them."""
    found: list[tuple[str, griffe.Object]] = []
    for module_path in modules:
        module = package if module_path == package.path else package[module_path[16:]]
        for name in module.exports or []:
            target = _resolved(module[str(name)])
            path = f"{module_path}.{name}"
            if not (target.is_function or target.is_class):
                continue
            found.append((path, target))
            if not target.is_class:
                continue
            for method_name, member in target.all_members.items():
                method = _resolved(member)
                shown = method.is_function and _ours(method, target)
                if method_name.startswith("_") or not shown:
                    continue
                found.append((f"{path}.{method_name}", method))
    return found


def _parsed(obj: griffe.Object) -> list[griffe.DocstringSection]:
    if obj.docstring is None:
        return []
    return obj.docstring.parse("google", warnings=False)


def _sections(obj: griffe.Object) -> set[str]:
    return {section.kind.value for section in _parsed(obj)}


def _documented(obj: griffe.Object) -> list[str]:
    return [
        item.name.lstrip("*")
        for section in _parsed(obj)
        if section.kind is griffe.DocstringSectionKind.parameters
        for item in section.value
    ]


def _parameters(function: griffe.Function) -> list[str]:
    return [p.name for p in function.parameters if p.name not in ("self", "cls")]


def _init(cls: griffe.Class) -> griffe.Function | None:
    """The ``__init__`` written in the package for ``cls`` (its own or inherited), if any."""
    member = cls.all_members.get("__init__")
    if member is None:
        return None
    init = _resolved(member)
    return init if isinstance(init, griffe.Function) and _ours(init, cls) else None


def _is_client_operation(path: str, obj: griffe.Object) -> bool:
    """A call of a client to the service (an ``@operation``), or one that builds a client."""
    if not any(path.startswith(client + ".") for client in CLIENTS):
        return False
    decorators = {str(d.value) for d in getattr(obj, "decorators", ())}
    return "operation" in decorators or obj.name in ("from_env", "for_client", "with_options")


def _params_gaps(names: list[str], documented: list[str]) -> list[str]:
    if not names:
        return [f"Parameters: not in the signature: {documented}"] if documented else []
    if not documented:
        return ["Parameters"]
    gaps = []
    if undocumented := [n for n in names if n not in documented]:
        gaps.append(f"Parameters: undocumented {undocumented}")
    if unknown := [n for n in documented if n not in names]:
        gaps.append(f"Parameters: not in the signature: {unknown}")
    return gaps


def _missing(path: str, obj: griffe.Object) -> list[str]:
    if isinstance(obj, griffe.Class):
        init = _init(obj)
        if init is None:  # attrs or a dataclass writes it: its fields are its arguments
            decorators = " ".join(str(d.value) for d in obj.decorators)
            generated = any(word in decorators for word in GENERATED_INIT)
            if generated and not {"attributes", "parameters"} & _sections(obj):
                return ["Attributes"]
            return []
        # The arguments may be told by the class, by __init__, or by a base class that
        # has the same __init__ (a BoundClient's are its Client's).
        documented = _documented(init)
        for cls in [obj, *obj.mro()]:
            documented += _documented(cls)
            if cls is init.parent:
                break
        return _params_gaps(_parameters(init), documented)
    assert isinstance(obj, griffe.Function)
    missing = _params_gaps(_parameters(obj), _documented(obj))
    sections = _sections(obj)
    returns = obj.returns is not None and str(obj.returns) not in NOTHING
    if returns and not {"returns", "yields"} & sections:
        missing.append("Returns")
    if _is_client_operation(path, obj) and "raises" not in sections:
        missing.append("Raises")
    return missing


def _gaps(package: griffe.Module, module: str) -> dict[str, list[str]]:
    seen: set[str] = set()
    gaps = {}
    for path, obj in _public(package, (module,)):
        if obj.path in seen:  # inherited (BoundClient's operations are Client's)
            continue
        seen.add(obj.path)
        if missing := _missing(path, obj):
            gaps[path] = missing
    return gaps


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_callable_documents_its_parameters_returns_and_raises(
    package: griffe.Module, module: str
) -> None:
    assert _gaps(package, module) == {}


def test_the_check_finds_what_is_missing(package: griffe.Module) -> None:
    public = dict(_public(package))
    # Inherited methods and a client's operations are walked; private names are not.
    assert "kakaocert_async.Client.aclose" in public
    assert "kakaocert_async.barocert.Client.verify_identity" in public
    assert not [path for path in public if "._" in path]

    code = '''
import attrs

def bare(a, *, b): return a

def half(a, b) -> int:
    """Half.

    Args:
        a: One.
        c: Not there.
    """

@attrs.frozen
class Model:
    """No fields said."""
    x: int

class Error(Exception):
    def __init__(self, message: str, *, code: int) -> None:
        """Made.

        Args:
            message: Said.
            code: Coded.
        """
'''
    with griffe.temporary_visited_module(code, docstring_parser="google") as module:
        assert _missing("m.bare", module["bare"]) == ["Parameters"]
        assert _missing("m.half", module["half"]) == [
            "Parameters: undocumented ['b']",
            "Parameters: not in the signature: ['c']",
            "Returns",
        ]
        assert _missing("m.Model", module["Model"]) == ["Attributes"]
        assert _missing("m.Error", module["Error"]) == []
        module["Error.__init__"].docstring = None
        assert _missing("m.Error", module["Error"]) == ["Parameters"]
    operation = public["kakaocert_async.Client.request"]
    assert _is_client_operation("kakaocert_async.Client.request", operation)
    aclose = public["kakaocert_async.Client.aclose"]
    assert not _is_client_operation("kakaocert_async.Client.aclose", aclose)
