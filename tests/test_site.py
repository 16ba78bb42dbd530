"""The course as a website (make site, site/build.py), opened in headless Chromium with the network refused.

- every lecture page, in English and in Chinese, shows every figure its run drew (loaded, non-zero size), its
  formulas as MathML laid out by the browser (none left as LaTeX), and no error output;
- the English/中文 switch is on every page and lands on the same page in the other language; clicked on
  each lecture, both ways, it lands on the same lecture;
- the site's own search (its search box, then its search page) finds lecture 04 for "perplexity" in English
  and for "困惑度" in Chinese;
- nothing is requested from anywhere but the local server (every other request is aborted and recorded), and
  no page names a remote script, style sheet, font or image;
- the assignment pages are instructions only: no code cell, so no test, hidden or visible.

Screenshots go to artifacts/screenshots/site_*.png.

Which site: ``_site/`` when ``make site`` left a fresh one (its build-info.json has the sources' digest of
now and every lecture executed there); otherwise the test builds one into a temporary folder with
site/build.py, to keep ``make test`` short: the English lectures as tests/test_notebooks.py ran them in this
session (its EXECUTED, which it fills before this file runs in ``make test``; executed here when it did
not run), and each Chinese lecture with the English run's outputs, cell by cell. That is the same run: a
Chinese notebook's code cells are the English ones byte for byte (i18n/build.py writes them;
tests/test_translations.py checks it, and this test checks it again before it copies). ``make site``
itself always executes both languages.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import json
import re
import threading
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
pytest.importorskip("myst_nb", reason="the site's book tool is not installed (make site-setup)")

from conftest import REPO  # noqa: E402
from jupyterlab_browser import chromium_available, chromium_page, looks_like_error  # noqa: E402

SCREENSHOTS = REPO / "artifacts" / "screenshots"
_spec = importlib.util.spec_from_file_location("site_build", REPO / "site" / "build.py")
site_build = importlib.util.module_from_spec(_spec)     # not "build": tests/test_translations.py imports i18n's
_spec.loader.exec_module(site_build)

LECTURES = [p.stem for p in site_build.lectures("en")]
PAGES = [(lang, stem) for lang in ("en", "zh") for stem in LECTURES]
SEARCHES = [("en", "perplexity", "04_language_models"), ("zh", "困惑度", "04_language_models")]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not chromium_available(), reason="/usr/bin/chromium is not installed "
                       "(apt-get install -y chromium); browser tests need it"),
]


# ------------------------------------------------------------------ the site

def fresh_site() -> Path | None:
    """_site/ when make site built it from the sources as they are now, executing every lecture."""
    info_file = REPO / "_site" / "build-info.json"
    if not info_file.exists():
        return None
    info = json.loads(info_file.read_text())
    everything = sorted(site_build.label(p) for p in site_build.lectures("en") + site_build.lectures("zh"))
    fresh = info.get("sources") == site_build.sources_digest() and info.get("executed_here") == everything
    return REPO / "_site" if fresh else None


def with_outputs_of(english, chinese):
    """The Chinese notebook with the English run's outputs (their code cells are the same, checked here)."""
    assert [c.cell_type for c in english.cells] == [c.cell_type for c in chinese.cells]
    for a, b in zip(english.cells, chinese.cells):
        if a.cell_type == "code":
            assert a.source == b.source, f"a Chinese code cell differs from the English one: {b.source[:80]!r}"
            b.outputs, b.execution_count = a.outputs, a.execution_count
    return chinese


def executed_english() -> dict:
    """{English lecture path: its executed notebook}: tests/test_notebooks.py's runs where it made them."""
    import test_notebooks

    done = {p: nb for p, nb in test_notebooks.EXECUTED.items() if p in site_build.lectures("en")}
    missing = [p for p in site_build.lectures("en") if p not in done]
    if missing:
        print(f"\nexecuting {len(missing)} English lectures for the site (tests/test_notebooks.py did not run them)")
        ran, _ = site_build.execute_all(missing, jobs=2, executed_dir=None)
        done.update({p: nb for p, nb in ran.items() if not site_build.missing_data(nbformat.read(str(p), 4))})
    return done


@pytest.fixture(scope="module")
def site_root(tmp_path_factory) -> Path:
    if root := fresh_site():
        print(f"\nusing {root} (fresh: built by make site from the sources as they are)")
        return root
    tmp = tmp_path_factory.mktemp("site")
    given = tmp / "executed"
    (given / "zh").mkdir(parents=True)
    start = time.perf_counter()
    for path, nb in executed_english().items():
        nbformat.write(nb, str(given / path.name))
        zh_path = REPO / "notebooks" / "zh" / path.name
        nbformat.write(with_outputs_of(nb, nbformat.read(str(zh_path), as_version=4)), str(given / "zh" / path.name))
    info = site_build.build(tmp / "_site", jobs=2, executed_dir=given)
    print(f"site for the test: {time.perf_counter() - start:.0f} s ({info['seconds']})")
    return tmp / "_site"


class LocalOnly:
    """A static server for the site on 127.0.0.1, and the record of every request that went elsewhere."""

    def __init__(self, root: Path):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root))
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.external: list[str] = []
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def route(self, route):
        if route.request.url.startswith(self.base):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()


@pytest.fixture(scope="module")
def browser(site_root):
    """(page, server): one headless Chromium page whose requests may only go to the local server."""
    server = LocalOnly(site_root)
    try:
        with chromium_page() as page:
            page.route("**/*", server.route)
            yield page, server
    finally:
        server.server.shutdown()


def visit(browser, path: str):
    page, server = browser
    before = len(server.external)
    page.goto(server.base + path, wait_until="load", timeout=60_000)
    assert page.url.startswith(server.base + path.split("?")[0]), f"{path}: landed on {page.url}"
    assert server.external[before:] == [], f"{path} asked for: {server.external[before:]}"
    return page


def shot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"site_{name}.png"), full_page=full_page)


# ------------------------------------------------------------------ lecture pages

_PAGE_JS = r"""
() => {
  const article = document.querySelector('article') || document.body;
  const outputs = [...article.querySelectorAll('.cell_output')];
  const images = [...article.querySelectorAll('.cell_output img')].map(i => ({
    src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}));
  const maths = [...article.querySelectorAll('math')];
  return {
    images,
    maths: maths.length,
    maths_laid_out: maths.filter(m => m instanceof MathMLElement && m.getBoundingClientRect().width > 0).length,
    fallbacks: article.querySelectorAll('.math-fallback').length,
    struck: article.querySelectorAll('s, del, strike').length,
    tables: article.querySelectorAll('.cell_output table').length,
    tracebacks: article.querySelectorAll('.output.traceback, .output.error').length,
    stderr: [...article.querySelectorAll('.output.stderr')].map(o => o.innerText),
    outputs: outputs.length,
    lang: document.documentElement.lang,
    title: (article.querySelector('h1') || {}).innerText || '',
  };
}
"""


def built_notebook(site_root: Path, lang: str, stem: str):
    """The notebook the page was built from (the download button's copy in _sources/)."""
    return nbformat.read(str(site_root / lang / "_sources" / "lectures" / f"{stem}.ipynb"), as_version=4)


def tables(nb) -> int:
    """Markdown results that are tables (the lectures print their comparisons so). A header with a "|" inside a
    cell ("P(jumped | dog)", lectures 02 and 04) has more cells than its rule: that is no table in GFM, in
    JupyterLab either, and is not counted."""
    def is_table(text: str) -> bool:
        lines = text.splitlines()
        return len(lines) > 1 and lines[1].startswith("|---") and lines[0].count("|") == lines[1].count("|")
    return sum(is_table(o.get("data", {}).get("text/markdown", ""))
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def figures(nb) -> int:
    return sum(any(k.startswith("image/") for k in o.get("data", {}))
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.parametrize("lang, stem", PAGES, ids=[f"{lang}-{stem}" for lang, stem in PAGES])
def test_lecture_page_shows_its_run(browser, site_root, lang, stem):
    page = visit(browser, f"{lang}/lectures/{stem}.html")
    page.wait_for_function("() => [...document.querySelectorAll('.cell_output img')].every(i => i.complete)",
                           timeout=30_000)
    found = page.evaluate(_PAGE_JS)
    nb = built_notebook(site_root, lang, stem)
    executed = any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    first = page.locator(".cell_output img").first
    with contextlib.suppress(Exception):
        first.scroll_into_view_if_needed(timeout=2000)
    shot(page, f"{lang}_{stem}")

    assert found["lang"] == ("zh-CN" if lang == "zh" else "en"), found["lang"]
    assert found["title"].startswith(stem[:2]), f"{stem}: the page's title is {found['title']!r}"
    if not executed:
        pytest.skip(f"{lang}/{stem} was built without outputs ({site_build.missing_data(nb) or 'not executed'})")
    broken = [i for i in found["images"] if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert not broken, f"{lang}/{stem}: figures that did not load: {broken}"
    assert len(found["images"]) >= figures(nb) > 0, \
        f"{lang}/{stem}: {len(found['images'])} figures on the page, {figures(nb)} in its run"
    assert found["maths"] > 0 and found["maths_laid_out"] == found["maths"], \
        f"{lang}/{stem}: {found['maths_laid_out']} of {found['maths']} formulas laid out as MathML"
    assert found["fallbacks"] == 0, f"{lang}/{stem}: {found['fallbacks']} formulas left as LaTeX"
    assert found["tracebacks"] == 0, f"{lang}/{stem}: {found['tracebacks']} error outputs"
    assert found["tables"] >= tables(nb), f"{lang}/{stem}: {found['tables']} tables shown, {tables(nb)} printed"
    assert found["struck"] == 0, f"{lang}/{stem}: struck-through text (a token such as <s> read as HTML)"
    errors = [t for t in found["stderr"] if looks_like_error(t)]
    assert not errors, f"{lang}/{stem}: error text in the outputs: {errors[:2]}"


@pytest.mark.parametrize("lang, stem", PAGES, ids=[f"{lang}-{stem}" for lang, stem in PAGES])
def test_the_language_switch_lands_on_the_same_lecture(browser, lang, stem):
    page = visit(browser, f"{lang}/lectures/{stem}.html")
    other = "en" if lang == "zh" else "zh"
    page.locator("#lang-switch").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/{other}/lectures/{stem}.html"), f"the switch on {lang}/{stem} went to {page.url}"
    assert page.evaluate("() => document.documentElement.lang") == ("zh-CN" if other == "zh" else "en")
    assert page.locator("article h1").first.inner_text().startswith(stem[:2])


def test_every_page_has_the_switch_to_the_same_page(site_root):
    pages = sorted(p for lang in ("en", "zh") for p in (site_root / lang).rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts)
    assert len(pages) >= 2 * (len(LECTURES) + 4), pages
    for path in pages:
        html = path.read_text(encoding="utf-8")
        m = re.search(r'<a class="[^"]*lang-switch[^"]*" id="lang-switch" href="([^"]+)"', html)
        assert m, f"{path.relative_to(site_root)} has no language switch"
        target = (path.parent / m.group(1)).resolve()
        lang = path.relative_to(site_root).parts[0]
        other = "zh" if lang == "en" else "en"
        assert target == (site_root / other / path.relative_to(site_root / lang)).resolve(), (path, m.group(1))
        assert target.exists(), f"{path.relative_to(site_root)}: the switch points at a missing page"


# ------------------------------------------------------------------ search, home, assignments, glossary

@pytest.mark.parametrize("lang, term, stem", SEARCHES, ids=[s[0] for s in SEARCHES])
def test_search_finds_the_lecture(browser, lang, term, stem):
    page = visit(browser, f"{lang}/index.html")
    page.locator(".search-button-field").first.click()
    box = page.locator("#pst-search-dialog input[name=q]")
    box.wait_for(state="visible", timeout=10_000)
    box.fill(term)
    box.press("Enter")
    page.wait_for_url("**/search.html?q=*", timeout=20_000)
    page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0"
                           " || /\\S/.test((document.querySelector('#search-results .search-summary') || {}).innerText || '')",
                           timeout=30_000)
    results = page.evaluate("() => [...document.querySelectorAll('#search-results ul.search li > a')]"
                            ".map(a => a.getAttribute('href'))")
    shot(page, f"search_{lang}")
    assert f"/{lang}/search.html" in page.url
    assert results and results[0].split("#")[0] == f"lectures/{stem}.html", \
        f"searching {term!r} in {lang}: {results[:5]}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_page_links_every_lecture_in_order(browser, lang):
    page = visit(browser, f"{lang}/index.html")
    shot(page, f"home_{lang}", full_page=True)
    links = page.evaluate("() => [...document.querySelectorAll('article a')].map(a => a.getAttribute('href'))")
    lectures = [h for h in links if h and h.startswith("lectures/") and "#" not in h]
    assert lectures == [f"lectures/{stem}.html" for stem in LECTURES], lectures
    text = page.locator("article").inner_text()
    assert "make lab" in text and "make test" in text
    assert any("mybinder.org" in (h or "") for h in links) and any("colab.research.google.com" in (h or "")
                                                                  for h in links)
    assert page.evaluate("() => document.querySelectorAll('article img').length") == 0, \
        "badges are links here, not remote images"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_assignment_pages_are_instructions_only(browser, site_root, lang):
    releases = site_build.releases()
    for release in releases:
        page = visit(browser, f"{lang}/assignments/{release.stem}.html")
        found = page.evaluate("() => ({cells: document.querySelectorAll('article .cell, article .cell_input').length,"
                              " text: document.querySelector('article').innerText})")
        assert found["cells"] == 0, f"{lang}/{release.stem}: code cells on an instructions page"
        for leak in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "YOUR CODE HERE"):
            assert leak not in found["text"], f"{lang}/{release.stem}: {leak!r} on the page"
        cjk = len(re.findall(r"[\u4e00-\u9fff]", found["text"]))
        assert (cjk > 100) if lang == "zh" else (cjk < 0.2 * len(found["text"])), (lang, release.stem, cjk)
    shot(page, f"assignment_{lang}")
    page = visit(browser, f"{lang}/glossary.html")
    assert "困惑度" in page.locator("article").inner_text() and "perplexity" in page.locator("article").inner_text()


def test_no_page_names_a_remote_resource(site_root):
    """What the browser would fetch by itself (scripts, style sheets, fonts, images, frames) is all local."""
    remote = re.compile(r"""(?:<(?:script|img|iframe|source)\b[^>]*\ssrc|<link\b[^>]*\shref)\s*=\s*["']((?:https?:)?//[^"']+)"""
                        r"""|url\(\s*["']?((?:https?:)?//[^)"']+)|@import\s+["']((?:https?:)?//[^"']+)""", re.I)
    found = []
    for path in site_root.rglob("*"):
        if path.suffix in {".html", ".css", ".js"}:
            for m in remote.finditer(path.read_text(encoding="utf-8", errors="replace")):
                found.append(f"{path.relative_to(site_root)}: {next(g for g in m.groups() if g)}")
    assert not found, found[:10]


def test_nothing_was_requested_from_outside(browser):
    page, server = browser
    page.goto(server.base, wait_until="load")          # the language chooser: it forwards to en/index.html
    page.wait_for_url("**/en/index.html", timeout=10_000)
    assert server.external == [], f"requests that left the machine (aborted): {server.external}"


def test_a_token_in_a_formula_stays_text():
    """latex2mathml writes \\texttt{<s>} as it is; the course's converter makes its "<" text (lecture 04's formulas)."""
    from autograder.mathml import to_mathml

    mathml = to_mathml(r"P(w \mid \texttt{<s>}) < 1", "inline")
    assert "<s>" not in mathml and "&lt;s>" in mathml and mathml.startswith("<math")
