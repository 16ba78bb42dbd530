"""make site: the course as a static website, every lecture executed, in English and Chinese (runs in make's
process; the kernels and sphinx-build are its children).

    python site/build.py                    execute every lecture in both languages, build _site/
    python site/build.py --executed DIR     take DIR/NN_*.ipynb and DIR/zh/NN_*.ipynb as executed (others run)
    python site/build.py --out DIR --jobs N --work DIR

The pipeline, one step per function below:

1. ``execute_all``: each lecture (notebooks/NN_*.ipynb, notebooks/zh/NN_*.ipynb) in a fresh python3 kernel,
   as tests/test_notebooks.py runs them (nbclient, the notebook's folder as working directory, NLTK_DATA as
   the Makefile sets it) but without MPLBACKEND, so figures are drawn inline; at most ``--jobs`` at a time
   (a lecture that gives torch every core, notebook 09, runs alone), one progress line per notebook. A lecture whose Debian data is missing (the Bibles of notebook 09) is
   published unexecuted, with a note saying so. Any error stops the build, every failing notebook named.
2. ``write_sources``: per language a source tree: the home page (site/<lang>/index.md with the table of
   lectures), lectures/NN_*.ipynb (executed; an ipywidgets view becomes a sentence, since a static page
   has no kernel), assignments/<ID>.md (the Markdown cells of the released notebook, in that language:
   instructions only, never a code cell, so no test of any kind and no solution), glossary.md (README.md's
   *Glossary / 术语表*) and, for Chinese, search_words.txt (the glossary's terms, jieba's user dictionary).
3. ``sphinx``: sphinx-build (site/conf.py) on both trees at once into OUT/en and OUT/zh; OUT/index.html
   links the two, OUT/build-info.json records what was built from what (tests/test_site.py reuses a fresh one).

It prints the time of each part: notebook execution and the book tool.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

SITE = Path(__file__).resolve().parent
REPO = SITE.parent
sys.path.insert(0, str(REPO))
from course_lib import bible  # noqa: E402

SLUG = "nlp-course/classic-neural-nlp"
COLAB = f"https://colab.research.google.com/github/{SLUG}/blob/main/"
BINDER = f"https://mybinder.org/v2/gh/{SLUG}/main?urlpath=lab/tree/notebooks"
LANGUAGES = {"en": "en", "zh": "zh_CN"}          # site folder -> Sphinx language
ZH_MARK = "<!-- 中文 -->"                         # in an assignment's cell: English above, Chinese below (i18n/build.py)
WIDGET = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = {"en": "(An interactive widget: run this notebook in JupyterLab, Binder or Colab to use it.)",
               "zh": "（交互控件：在 JupyterLab、Binder 或 Colab 中运行本笔记本即可使用。）"}
PROGRESS_NOTE = {"en": "(A progress bar: it moves while the cell runs.)", "zh": "（进度条：单元运行时显示进度。）"}
UNEXECUTED_NOTE = {"en": "> **Shown without outputs**: this site was built where {what} are not installed "
                         "(`make setup` installs them with apt-get).",
                   "zh": "> **本页没有输出**：构建本网站的机器上没有安装{what}（`make setup` 会用 apt-get 安装）。"}
TIMEOUT_S = 600


# ------------------------------------------------------------------ what there is

def lectures(lang: str) -> list[Path]:
    folder = REPO / "notebooks" / ("zh" if lang == "zh" else "")
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def releases() -> list[Path]:
    return sorted((REPO / "notebooks" / "assignments").glob("*/*.ipynb"))


def label(path: Path) -> str:
    """en/04_language_models or zh/04_language_models."""
    return f"{'zh' if path.parent.name == 'zh' else 'en'}/{path.stem}"


def missing_data(nb) -> str | None:
    """What Debian data a lecture reads that this machine lacks (the Bibles of notebook 09), or None."""
    reads_bibles = any("bible" in c.source for c in nb.cells if c.cell_type == "code")
    return "the two Bibles" if reads_bibles and not bible.available() else None


def title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "?"


def sources_digest() -> str:
    """A digest of everything the site is built from: lectures, releases, course_lib, site/, the glossary."""
    h = hashlib.sha256(glossary_table().encode())
    files = [*lectures("en"), *lectures("zh"), *releases(), *sorted((REPO / "course_lib").glob("*.py")),
             *sorted(p for p in SITE.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
             REPO / "autograder" / "mathml.py"]
    for f in files:
        h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


# ------------------------------------------------------------------ 1. execute

def kernel_env() -> dict[str, str]:
    """The kernel's environment: the caller's, NLTK_DATA as the Makefile sets it, no MPLBACKEND (inline figures)."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.setdefault("NLTK_DATA", str(REPO / ".nltk_data"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def execute(path: Path):
    """The notebook at ``path`` executed in a fresh python3 kernel, its folder the working directory."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", extra_arguments=["--log-level=ERROR"],
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_env())
    return nb


def execute_all(paths: list[Path], jobs: int, executed_dir: Path | None) -> tuple[dict, float]:
    """{path: executed notebook} for every lecture, taken from ``executed_dir`` where it holds one; seconds spent."""
    done, todo = {}, []
    for path in paths:
        given = executed_dir / path.relative_to(REPO / "notebooks") if executed_dir else None
        nb = nbformat.read(str(path), as_version=4)
        if given and given.exists():
            done[path] = nbformat.read(str(given), as_version=4)
        elif what := missing_data(nb):
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(UNEXECUTED_NOTE[lang_of(path)].format(what=what)))
            done[path] = nb
            print(f"  {label(path):32s} not executed: {what} are missing", flush=True)
        else:
            todo.append(path)
    if executed_dir:
        print(f"  {len(done)} executed notebooks taken from {executed_dir}", flush=True)
    # A lecture that sets torch to as many threads as there are slots runs alone (two of notebook 09 at once on
    # 2 cores made a 90 s lecture time out at 600 s); the others run ``jobs`` at a time, longest first.
    alone = [p for p in todo if torch_threads(p) >= jobs > 1]
    together = sorted((p for p in todo if p not in alone), key=lambda p: (p.name[:2] not in LONGEST, p.name, label(p)))
    start = time.perf_counter()
    failures, count = [], iter(range(1, len(todo) + 1))
    for batch, slots in [*[([p], 1) for p in alone], (together, jobs)]:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, slots)) as pool:
            futures = {pool.submit(_timed, execute, p): p for p in batch}
            for future in concurrent.futures.as_completed(futures):
                path, k = futures[future], next(count)
                try:
                    nb, seconds = future.result()
                except Exception as error:                  # nbclient's CellExecutionError names the cell
                    failures.append(f"{label(path)}: {str(error)[-1500:]}")
                    print(f"  [{k:2d}/{len(todo)}] {label(path):32s} FAILED", flush=True)
                    continue
                done[path] = nb
                print(f"  [{k:2d}/{len(todo)}] {label(path):32s} {seconds:6.1f} s"
                      f"{'  (alone: it uses every core)' if path in alone else ''}", flush=True)
    if failures:
        raise SystemExit("site: these lectures fail, so no site is built:\n" + "\n".join(failures))
    return done, time.perf_counter() - start


LONGEST = {"02", "07", "08"}                          # make bench's longest lectures after 09


def torch_threads(path: Path) -> int:
    """The most threads a lecture gives torch (torch.set_num_threads(n)); 1 when it sets none."""
    code = "\n".join(c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code")
    return max([1, *(int(n) for n in re.findall(r"torch\.set_num_threads\((\d+)\)", code))])


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def lang_of(path: Path) -> str:
    return "zh" if path.parent.name == "zh" else "en"


# ------------------------------------------------------------------ 2. sources

def for_the_web(nb, lang: str):
    """A copy of an executed notebook fit for a static page: each widget view becomes a sentence saying what it
    is (a tqdm bar's saved text is its first state, 0 %, and its saved widget state lags behind the run), the
    widgets' saved state is dropped, and a Markdown result's angle brackets are text (see ``literal_tags``)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if WIDGET in data:
                del data[WIDGET]
                data["text/plain"] = (PROGRESS_NOTE if "%|" in data.get("text/plain", "") else WIDGET_NOTE)[lang]
            if "text/markdown" in data:
                data["text/markdown"] = literal_tags(data["text/markdown"])
    return nb


def literal_tags(markdown: str) -> str:
    """``<s>``, ``</s>`` and ``<unk>`` in a printed table are tokens, not HTML: outside code spans each ``<``
    becomes ``&lt;`` (an unclosed ``<s>`` struck through the rest of lecture 04's page)."""
    parts = re.split(r"(`[^`\n]*`)", markdown)
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in parts)


def split_languages(source: str) -> dict[str, str]:
    """An assignment cell's text per language: English above ZH_MARK, Chinese below its rule; both otherwise."""
    if ZH_MARK not in source:
        return {"en": source, "zh": source}
    english, chinese = source.split("\n\n" + ZH_MARK, 1)
    return {"en": english, "zh": re.sub(r"^\s*---\s*\n", "", chinese.strip("\n")).strip("\n")}


def instructions(nb) -> list:
    """The Markdown cells of a released assignment that are instructions: not a student's written answer."""
    return [c for c in nb.cells if c.cell_type == "markdown"
            and not c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def assignment_page(release: Path, lang: str) -> str:
    aid = release.stem
    where = f"notebooks/assignments/{aid}/{aid}.ipynb"
    note = {
        "en": f":::{{note}}\nThe instructions only. To solve it, open `{where}` in `make lab` "
              f"(or [on Colab]({COLAB}{where}), or [on Binder]({BINDER})): its code cells, with the visible "
              "tests, are there.\n:::",
        "zh": f":::{{note}}\n这里只有作业说明。做作业请在 `make lab` 中打开 `{where}`（或[在 Colab 上打开]({COLAB}{where})、"
              f"[在 Binder 上打开]({BINDER})）：代码单元和可见测试都在那里。\n:::",
    }[lang]
    cells = [split_languages(c.source)[lang] for c in instructions(nbformat.read(str(release), as_version=4))]
    return "\n\n".join([cells[0], note, *cells[1:]]) + "\n"


def glossary_table() -> str:
    """README.md's *Glossary / 术语表*: its text up to the next section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Glossary / 术语表\n", 1)[1]
    return re.split(r"\n## ", section, maxsplit=1)[0].strip()


def glossary_page(lang: str) -> str:
    heading = {"en": "# Glossary / 术语表", "zh": "# 术语表 / Glossary"}[lang]
    return f"{heading}\n\n{glossary_table()}\n"


def glossary_terms() -> list[str]:
    """The Chinese terms of the glossary (second column), one per entry, for jieba's dictionary."""
    terms = []
    for row in glossary_table().splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.search(r"[\u4e00-\u9fff]", cells[1]):
            terms += [t.strip() for t in re.split(r"[,，/、;；()（）]", cells[1]) if re.search(r"[\u4e00-\u9fff]", t)]
    return sorted(set(terms))


def lecture_table(lang: str, notebooks: dict) -> str:
    head = {"en": "| # | Lecture | Open the notebook |\n|---|---|---|",
            "zh": "| # | 讲次 | 打开笔记本 |\n|---|---|---|"}[lang]
    rows = []
    for path in lectures(lang):
        nb_path = path.relative_to(REPO).as_posix()
        rows.append(f"| {int(path.name[:2])} | [{title(notebooks[path])}](lectures/{path.stem}.ipynb) "
                    f"| [Colab]({COLAB}{nb_path}) |")
    return "\n".join([head, *rows])


def write_sources(lang: str, notebooks: dict, tree: Path) -> None:
    if tree.exists():
        shutil.rmtree(tree)
    (tree / "lectures").mkdir(parents=True)
    (tree / "assignments").mkdir()
    home = (SITE / lang / "index.md").read_text(encoding="utf-8")
    home = home.replace("<!-- lectures -->", lecture_table(lang, notebooks)).replace("{binder}", BINDER)
    (tree / "index.md").write_text(home, encoding="utf-8")
    for path in lectures(lang):
        nbformat.write(for_the_web(notebooks[path], lang), str(tree / "lectures" / path.name))
    for release in releases():
        (tree / "assignments" / f"{release.stem}.md").write_text(assignment_page(release, lang), encoding="utf-8")
    (tree / "glossary.md").write_text(glossary_page(lang), encoding="utf-8")
    if lang == "zh":
        (tree / "search_words.txt").write_text("".join(f"{t} 100000 n\n" for t in glossary_terms()),
                                               encoding="utf-8")


# ------------------------------------------------------------------ 3. sphinx

def sphinx(work: Path, out: Path) -> float:
    """sphinx-build both languages at once; seconds spent. Warnings are printed; an error stops the build."""
    start = time.perf_counter()
    runs = {}
    for lang, code in LANGUAGES.items():
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-c", str(SITE), "-D", f"language={code}",
               "-d", str(work / "doctrees" / lang), str(work / lang), str(work / "html" / lang)]
        log = open(work / f"sphinx-{lang}.log", "w+", encoding="utf-8")
        runs[lang] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=kernel_env()), log)
    failed = []
    for lang, (proc, log) in runs.items():
        proc.wait()
        log.seek(0)
        text = log.read()
        log.close()
        if text.strip():
            print(f"  sphinx ({lang}) says:\n" + "\n".join("    " + line for line in text.strip().splitlines()[-40:]))
        if proc.returncode:
            failed.append(lang)
    if failed:
        raise SystemExit(f"site: sphinx-build failed for {', '.join(failed)} (logs in {work})")
    for lang in LANGUAGES:        # myst-nb writes a jupyter_execute/ beside its output: the site takes only the pages
        shutil.move(work / "html" / lang, out / lang)
    return time.perf_counter() - start


CHOOSER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Classic neural NLP / 经典神经网络自然语言处理</title>
<meta http-equiv="refresh" content="0; url=en/index.html"></head>
<body><p><a href="en/index.html">Classic neural NLP (English)</a> ·
<a href="zh/index.html" hreflang="zh-CN">经典神经网络自然语言处理（中文）</a></p></body></html>
"""


def build(out: Path, jobs: int = 2, executed_dir: Path | None = None, work: Path | None = None) -> dict:
    """Build the whole site into ``out``; returns what build-info.json records (times in seconds)."""
    started = time.perf_counter()
    digest = sources_digest()
    paths = lectures("en") + lectures("zh")
    print(f"site: executing {len(paths)} lectures (English and Chinese), {jobs} at a time", flush=True)
    notebooks, executing = execute_all(paths, jobs, executed_dir)
    with tempfile.TemporaryDirectory(prefix="site-") as tmp:
        work = Path(work or tmp)
        for lang in LANGUAGES:
            write_sources(lang, notebooks, work / lang)
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        print("site: building the pages with Sphinx (myst-nb, sphinx-book-theme), both languages at once", flush=True)
        book = sphinx(work, out)
    (out / "index.html").write_text(CHOOSER, encoding="utf-8")
    (out / ".nojekyll").write_text("")                    # GitHub Pages: serve _static/ as it is
    info = {"sources": digest, "executed_here": sorted(label(p) for p in paths if p not in _given(paths, executed_dir)),
            "seconds": {"execution": round(executing, 1), "book_tool": round(book, 1),
                        "total": round(time.perf_counter() - started, 1)}}
    (out / "build-info.json").write_text(json.dumps(info, indent=1))
    return info


def _given(paths: list[Path], executed_dir: Path | None) -> set[Path]:
    if not executed_dir:
        return set()
    return {p for p in paths if (executed_dir / p.relative_to(REPO / "notebooks")).exists()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "_site")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    parser.add_argument("--executed", type=Path, help="take executed notebooks from DIR (DIR/NN_*.ipynb, DIR/zh/...)")
    parser.add_argument("--work", type=Path, help="keep the Sphinx source trees and logs in DIR")
    args = parser.parse_args(argv)
    info = build(args.out.resolve(), args.jobs, args.executed, args.work)
    s = info["seconds"]
    print(f"site: built in {s['total']:.0f} s: notebook execution {s['execution']:.0f} s, "
          f"book tool (Sphinx) {s['book_tool']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
