"""MkDocs hook: the API reference names no private module, not even on hover.

mkdocstrings titles a cross-reference, and a name in a signature, with the path
where the object is defined (``kakaocert_async._errors.APIError``), which is
private: users import it from ``kakaocert_async``. After each page is rendered,
a title naming a private module becomes the public path the link leads to
(its anchor), or is dropped when there is no such link (a private helper in a
default value, a type variable).
"""

from __future__ import annotations

import re
from typing import Any

_PRIVATE = re.compile(r"\bkakaocert_async(?:\.\w+)*\._\w")
_TAG = re.compile(r"<(?:a|span)\b[^>]*>")
_TITLE = re.compile(r'\s+title="([^"]*)"')
_ANCHOR = re.compile(r'\bhref="[^"#]*#(kakaocert_async[\w.]*)"')


def public_titles(html: str) -> str:
    """``html`` with every title naming a private module made public, or dropped."""

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        title = _TITLE.search(text)
        if title is None or not _PRIVATE.search(title.group(1)):
            return text
        anchor = _ANCHOR.search(text)
        if anchor is not None and not _PRIVATE.search(anchor.group(1)):
            return text[: title.start()] + f' title="{anchor.group(1)}"' + text[title.end() :]
        return text[: title.start()] + text[title.end() :]

    return _TAG.sub(tag, html)


def on_post_page(output: str, page: Any, config: Any) -> str:
    return public_titles(output)
