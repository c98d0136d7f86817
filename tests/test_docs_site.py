"""The documentation site's own machinery: README sections reach the site, docstrings'
reST reads as Markdown, and README links lead where the site has what they name.
(CI builds the site with ``mkdocs build --strict``, which fails on any broken link.)"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import griffe
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_hooks_{name}", DOCS / "_hooks" / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _included_regions() -> dict[str, list[str]]:
    """README region -> the docs pages that include it."""
    pages: dict[str, list[str]] = {}
    for page in DOCS.rglob("*.md"):
        for name in re.findall(r'README\.md"\s+start="<!-- docs:([\w-]+) -->"', page.read_text()):
            pages.setdefault(name, []).append(str(page.relative_to(DOCS)))
    return pages


SITE = "https://kakaocert-async.github.io/kakaocert-async/"


def test_every_readme_section_is_in_the_site_once() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    starts = re.findall(r"^<!-- docs:([\w-]+) -->$", readme, re.M)
    ends = re.findall(r"^<!-- /docs:([\w-]+) -->$", readme, re.M)
    assert starts == ends  # balanced, in order, none nested
    assert len(set(starts)) == len(starts)
    included = _included_regions()
    assert sorted(included) == sorted(starts)
    assert all(len(pages) == 1 for pages in included.values()), included
    # Outside its included sections, the README only points: each paragraph links to
    # the site's page that has the whole of it.
    outside = re.sub(r"<!-- docs:([\w-]+) -->.*?<!-- /docs:\1 -->", "", readme, flags=re.S)
    paragraphs = [p for p in re.split(r"\n\s*\n", outside) if p.strip()]
    pointers = [p for p in paragraphs if not p.lstrip().startswith("#")]
    assert pointers
    assert [p for p in pointers if SITE not in p] == []


def test_the_readme_is_short_and_its_links_work_off_the_repository() -> None:
    """The README is shown on the package index too, where a relative link breaks."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 400
    prose = re.sub(r"^```.*?^```", "", readme, flags=re.S | re.M)
    targets = re.findall(r"\]\(([^)\s]+)\)", prose)
    assert targets
    headings = {
        re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", prose, re.M)
    }
    relative = [t for t in targets if "://" not in t and t.lstrip("#") not in headings]
    assert relative == []
    for target in targets:  # a link into the site names a page the site builds
        if target.startswith(SITE):
            page = target[len(SITE) :].partition("#")[0].rstrip("/")
            assert (DOCS / f"{page}.md").exists() or (DOCS / page / "index.md").exists(), target


@pytest.fixture(scope="module")
def package() -> griffe.Module:
    extension = _hook("docstrings.py").SphinxRoles()
    loaded = griffe.load(
        "kakaocert_async",
        search_paths=[str(ROOT)],
        extensions=griffe.load_extensions(extension),
    )
    assert isinstance(loaded, griffe.Module)
    return loaded


def _doc(package: griffe.Module, path: str) -> str:
    docstring = package[path].docstring
    assert docstring is not None
    return str(docstring.value)


def test_roles_link_to_documented_names_and_are_code_otherwise(package: griffe.Module) -> None:
    sandbox = _doc(package, "sandbox._sandbox.Sandbox")
    # Documented where the reference shows them: under the public module.
    assert "[`barocert_client`][kakaocert_async.sandbox.Sandbox.barocert_client]" in sandbox
    assert "[`Settings`][kakaocert_async.sandbox.Settings]" in sandbox
    assert ":meth:" not in sandbox
    assert ":class:" not in sandbox
    client = _doc(package, "_client.Client")
    assert "[`API_URL`][kakaocert_async.API_URL]" in client
    assert "[`http_backend`][kakaocert_async.Client.http_backend]" in client
    verify = _doc(package, "_client.Client.verify")
    assert "[`SignState.SIGNED`][kakaocert_async.SignState.SIGNED]" in verify
    # ~ shows the last name only.
    errors = _doc(package, "_errors")
    assert "[`is_transient`][kakaocert_async.KakaocertError.is_transient]" in errors
    # A private name is not in the reference: plain code, not a link that cannot resolve.
    app = _doc(package, "sandbox._app")
    assert "[`Service`][kakaocert_async.sandbox.Service]" in app
    assert "`_guard`" in app
    assert "[`_guard`]" not in app
    assert "][kakaocert_async.sandbox._" not in app


def test_examples_and_literal_blocks_read_as_markdown(package: griffe.Module) -> None:
    client = _doc(package, "_client.Client")
    fenced = re.search(r"```pycon\n(.*?)\n *```", client, re.S)
    assert fenced is not None
    assert fenced.group(1).strip().startswith(">>> import asyncio")
    assert "'SIGNED'" in fenced.group(1)
    errors = _doc(package, "_errors")
    assert "the\nofficial SDKs do.\n" in errors  # "do. ::" shows "do."
    plugin = _doc(package, "sandbox.pytest_plugin")
    assert "is enough:\n" in plugin  # "enough::" shows "enough:"


def _page(src_uri: str) -> Any:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri))


@pytest.fixture(scope="module")
def links() -> ModuleType:
    hook = _hook("links.py")
    config = {"repo_url": "https://github.com/o/r", "config_file_path": str(ROOT / "mkdocs.yml")}
    hook.on_config(config)
    files = SimpleNamespace(
        documentation_pages=lambda: [
            SimpleNamespace(src_uri=str(page.relative_to(DOCS)), content_string=page.read_text())
            for page in DOCS.rglob("*.md")
        ]
    )
    hook.on_files(files, config)
    return hook


def test_readme_links_lead_where_the_site_has_them(links: ModuleType) -> None:
    rewrite = links.on_page_markdown
    # A README anchor from a docs page: the page that includes that section.
    assert rewrite("[x](../README.md#testing-your-code)", _page("cli.md"), {}, None) == (
        "[x](quickstart.md#testing-your-code)"
    )
    # An anchor of the README inside an included section, not on this page.
    assert rewrite("[T](#testing-your-code)\n", _page("index.md"), {}, None) == (
        "[T](quickstart.md#testing-your-code)\n"
    )
    # ... but a page's own heading wins.
    own = "## Testing your code\n\n[T](#testing-your-code)\n"
    assert rewrite(own, _page("cli.md"), {}, None) == own
    # Files of the repository outside docs/ are linked in the repository.
    assert rewrite("[w](../../examples/worker.py)", _page("overview/x.md"), {}, None) == (
        "[w](https://github.com/o/r/blob/main/examples/worker.py)"
    )
    assert rewrite("[c](../CHANGELOG.md)", _page("index.md"), {}, None) == "[c](changelog.md)"
    # Code is left alone, and so are links the hook cannot place.
    code = "```python\nx = y[0](../examples/a.py)\n```\n"
    assert rewrite(code, _page("index.md"), {}, None) == code
    assert rewrite("[n](#nowhere)", _page("index.md"), {}, None) == "[n](#nowhere)"


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


def _mkdocs_config() -> dict[str, Any]:
    # mkdocs.yml holds no custom tags: the safe loader reads it.
    config: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return config


def test_every_page_is_in_the_nav_once() -> None:
    pages = _nav_pages(_mkdocs_config()["nav"])
    on_disk = sorted(
        str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md") if "_hooks" not in page.parts
    )
    assert sorted(pages) == on_disk
    assert len(set(pages)) == len(pages)


def _nav_labels(nav: object) -> list[str]:
    if isinstance(nav, list):
        return [label for item in nav for label in _nav_labels(item)]
    if isinstance(nav, dict):
        return [label for key, value in nav.items() for label in [key, *_nav_labels(value)]]
    return []


def test_no_two_nav_entries_share_a_label() -> None:
    labels = _nav_labels(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    assert len(labels) > 10
    assert sorted(label for label in set(labels) if labels.count(label) > 1) == []


def test_the_strict_build_ci_runs_fails_on_a_page_left_out_of_the_nav(tmp_path: Path) -> None:
    # The very command of .ci/run, on a copy of the site with one page more: it must
    # fail (mkdocs' --quiet once hid exactly this).
    command = next(
        line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "mkdocs build" in line
    )
    assert "--quiet" not in command
    assert "-q" not in command.split()
    shutil.copytree(ROOT, tmp_path / "site", ignore=shutil.ignore_patterns(".*", "site"))
    (tmp_path / "site" / "docs" / "orphan.md").write_text("# Left out\n", encoding="utf-8")
    built = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "out")],
        cwd=tmp_path / "site",
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode != 0
    assert "orphan.md" in built.stderr


def test_the_reference_names_no_private_module_even_on_hover() -> None:
    """``mkdocs build`` then ``grep -r 'kakaocert_async._[a-z]' site/reference`` finds
    nothing: titles that mkdocstrings gives by the defining module are made public."""
    titles = _hook("titles.py").public_titles
    linked = (
        '<a class="autorefs autorefs-internal" title="APIError (kakaocert_async._errors.APIError)"'
        ' href="#kakaocert_async.APIError">APIError</a>'
    )
    assert titles(linked) == (
        '<a class="autorefs autorefs-internal" title="kakaocert_async.APIError"'
        ' href="#kakaocert_async.APIError">APIError</a>'
    )
    unlinked = '<span title="kakaocert_async._models.wire">wire</span>'
    assert titles(unlinked) == "<span>wire</span>"
    public = '<span title="kakaocert_async.barocert.Client">Client</span>'
    assert titles(public) == public
    assert titles("<code>kakaocert_async.__all__</code>") == "<code>kakaocert_async.__all__</code>"


def test_every_public_module_has_a_reference_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python", "#"))
    reference = next(item["Reference"] for item in config["nav"] if "Reference" in item)
    api = next(item["API"] for item in reference if isinstance(item, dict) and "API" in item)
    pages = {name: page for entry in api for name, page in entry.items()}
    modules = ("kakaocert_async", "kakaocert_async.barocert", "kakaocert_async.sandbox")
    assert set(pages) == {*modules, "kakaocert_async.arq"}
    for name, page in pages.items():
        assert f"::: {name}\n" in (DOCS / page).read_text()
    hooks = [Path(hook).name for hook in config["hooks"]]
    assert "titles.py" in hooks
    assert "show_bases: false" in (ROOT / "mkdocs.yml").read_text()
