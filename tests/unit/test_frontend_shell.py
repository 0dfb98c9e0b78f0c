"""The service worker keeps every file the cockpit page needs, so the page opens offline whole."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def precached() -> set[str]:
    source = (FRONTEND / "sw.js").read_text()
    shell = re.search(r"const SHELL = \[(.*?)\];", source, re.S)
    assert shell is not None, "sw.js has no SHELL list"
    return set(re.findall(r"'([^']+)'", shell.group(1)))


def test_every_script_style_and_icon_of_the_page_is_precached() -> None:
    served = {
        f"/static/{p.relative_to(FRONTEND).as_posix()}"
        for p in FRONTEND.rglob("*")
        if p.suffix in {".js", ".css", ".svg", ".png"} and p.name != "sw.js"
    }
    assert served - precached() == set(), "add them to SHELL in frontend/sw.js"
    assert {"/", "/manifest.webmanifest"} <= precached()


def test_every_precached_static_file_exists() -> None:
    missing = {
        url
        for url in precached()
        if url.startswith("/static/") and not (FRONTEND / url.removeprefix("/static/")).is_file()
    }
    assert missing == set()


def test_every_module_the_page_imports_is_precached() -> None:
    imports = {
        f"/static/{name}"
        for path in FRONTEND.glob("*.js")
        for name in re.findall(r"from '\./([\w.-]+\.js)'", path.read_text())
    }
    assert imports and imports <= precached()


def test_frontend_modules_import_one_way() -> None:
    """As import-linter does for the Python packages: no module imports one that imports it."""
    graph = {
        path.name: set(re.findall(r"from '\./([\w.-]+\.js)'", path.read_text()))
        for path in FRONTEND.glob("*.js")
    }
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        for target in sorted(graph.get(name, ())):
            if target in trail:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif len(trail) < len(graph):
                visit(target, [*trail, target])

    for name in sorted(graph):
        visit(name, [name])
    assert cycles == []


def test_the_page_preloads_every_module_it_imports() -> None:
    """Without modulepreload the browser finds modules import by import: a round trip a level."""
    page = (FRONTEND / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/([\w.-]+\.js)">', page))
    imported = {
        name
        for path in FRONTEND.glob("*.js")
        for name in re.findall(r"from '\./([\w.-]+\.js)'", path.read_text())
    }
    assert imported - preloaded == set()


class _Marked(HTMLParser):
    """The elements of the page marked data-i18n that hold another element (i18n.js replaces
    their text whole, so a child would be lost)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, bool]] = []
        self.wrapping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if any(marked for _, marked in self.open):
            self.wrapping.append(f"<{tag}> inside <{self.open[-1][0]}> at line {self.getpos()[0]}")
        if tag not in VOID:
            self.open.append((tag, "data-i18n" in dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if any(marked for _, marked in self.open):
            self.wrapping.append(f"<{tag}/> inside <{self.open[-1][0]}> at line {self.getpos()[0]}")

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


def test_every_translated_element_of_the_page_holds_text_only() -> None:
    page = _Marked()
    page.feed((FRONTEND / "index.html").read_text())
    assert page.wrapping == []


def test_the_service_worker_keeps_the_language_catalogues_for_offline_use() -> None:
    source = (FRONTEND / "sw.js").read_text()
    assert "/static/i18n.js" in precached()
    assert "isCatalogue(url.pathname)" in source
