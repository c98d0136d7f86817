"""MkDocs hook: links in README material lead where the site has what they name.

Pages include README sections between ``<!-- docs:NAME -->`` and
``<!-- /docs:NAME -->`` markers; include-markdown rewrites their relative links
(``docs/cli.md`` becomes ``cli.md``). What it cannot know is left to this hook,
which runs after it on each page's Markdown:

- an anchor of the README (``#barocert`` in an included section, or
  ``../README.md#barocert`` in a docs page) leads to the page that includes that
  section, and to the heading there;
- a link to a file of the repository outside ``docs/`` (``examples/worker.py``)
  leads to the file in the repository, and ``CHANGELOG.md`` to the changelog page.

The map is built from the sources (README's markers and headings, the pages'
include directives) before any page is rendered, so a README section moved to
another page needs no change here; a link it cannot place is left as it is, for
``mkdocs build --strict`` to report.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from markdown.extensions.toc import slugify

README = "README.md"
CHANGELOG_PAGE = "changelog.md"

_REGION = re.compile(r"<!-- docs:(?P<name>[\w-]+) -->(?P<body>.*?)<!-- /docs:(?P=name) -->", re.S)
_INCLUDE = re.compile(
    r'include-markdown\s+"(?P<path>[^"]*README\.md)"\s+start="<!-- docs:(?P<name>[\w-]+) -->"'
)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")

_anchors: dict[str, tuple[str, str]] = {}
"""README anchor -> (page src_uri, anchor on that page; "" for the page's top)."""
_blob_url = ""


def _slug(heading: str) -> str:
    return str(slugify(re.sub(r"[`*_]", "", heading), "-"))


def _headings(markdown: str) -> list[str]:
    """The slugs of the headings of ``markdown``, outside fenced code."""
    return [_slug(m.group(2)) for m in _HEADING.finditer(_FENCE.sub("", markdown))]


def _readme_regions(readme: str) -> dict[str, tuple[str, list[str]]]:
    """Each region: the slug of the heading just before it, and the slugs inside it."""
    regions = {}
    for match in _REGION.finditer(readme):
        before = _headings(readme[: match.start()])
        regions[match["name"]] = (before[-1] if before else "", _headings(match["body"]))
    return regions


def on_config(config: Any) -> None:
    global _blob_url
    _blob_url = f"{config['repo_url'].rstrip('/')}/blob/main/"


def on_files(files: Any, config: Any) -> None:
    root = Path(config["config_file_path"]).parent
    regions = _readme_regions((root / README).read_text(encoding="utf-8"))
    _anchors.clear()
    for file in files.documentation_pages():
        for match in _INCLUDE.finditer(file.content_string):
            heading, inside = regions.get(match["name"], ("", []))
            if heading:
                _anchors.setdefault(heading, (file.src_uri, ""))
            for slug in inside:
                _anchors.setdefault(slug, (file.src_uri, slug))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    here = page.file.src_uri
    own = set(_headings(markdown))

    def place(anchor: str, *, readme: bool = False) -> str | None:
        """Where a README ``anchor`` is (``readme``: written as ``README.md#...``)."""
        if anchor in own and not readme:
            return None
        target = _anchors.get(anchor)
        if target is None:
            return None
        src, slug = target
        path = "" if src == here else posixpath.relpath(src, posixpath.dirname(here) or ".")
        return path + (f"#{slug}" if slug else "") or "#"

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        if "://" in target or target.startswith("mailto:"):
            return match.group(0)
        path, _, anchor = target.partition("#")
        new: str | None = None
        if not path:
            new = place(anchor)
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
            if resolved.startswith("../"):
                repo_path = resolved[3:]
                if repo_path == README:
                    new = (
                        place(anchor, readme=True)
                        if anchor
                        else posixpath.relpath("index.md", posixpath.dirname(here) or ".")
                    )
                elif repo_path == "CHANGELOG.md":
                    new = posixpath.relpath(CHANGELOG_PAGE, posixpath.dirname(here) or ".")
                else:
                    new = _blob_url + repo_path + (f"#{anchor}" if anchor else "")
        return match.group(0) if new is None else f"]({new})"

    # Fenced code is left alone: a ``](...)`` there is code, not a link.
    parts = re.split(r"(^(?:```|~~~).*?^(?:```|~~~)[^\n]*$)", markdown, flags=re.M | re.S)
    return "".join(part if i % 2 else _LINK.sub(rewrite, part) for i, part in enumerate(parts))
