"""Public names shown under the public module that exports them, as httpx does.

A public class or function is defined in a private module (``_errors``, ``_client``)
and exported by its package's ``__all__``; :func:`publish` sets its ``__module__``
to that package, so that reprs, tracebacks, ``help()``, pickles and the API reference
name it as users import it: ``kakaocert_async.APIError``, not
``kakaocert_async._errors.APIError``. Pickling finds a class by ``__module__`` and
``__qualname__``, which the package resolves.

A class's own annotations are evaluated first, where they were written:
``typing.get_type_hints()`` (cattrs, the command line) reads them in the namespace of
``__module__``, which no longer holds the private module's imports.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterable, MutableMapping


def publish(namespace: MutableMapping[str, object], names: Iterable[str]) -> None:
    """Show the names of ``namespace`` (a package's ``globals()``) listed in ``names`` (its
    ``__all__``) under that package, if they are classes or functions of a private module
    of this SDK.

    Args:
        namespace: The package's ``globals()``.
        names: The package's ``__all__``.
    """
    module = str(namespace["__name__"])
    for name in names:
        value = namespace[name]
        if not isinstance(value, type | types.FunctionType):
            continue
        defined_in = value.__module__.split(".")
        if defined_in[0] != "kakaocert_async" or not any(p.startswith("_") for p in defined_in):
            continue  # another library's, or already shown under a public module
        if isinstance(value, type):
            own = inspect.get_annotations(value)
            if any(isinstance(annotation, str) for annotation in own.values()):
                value.__annotations__ = inspect.get_annotations(value, eval_str=True)
        value.__module__ = module
