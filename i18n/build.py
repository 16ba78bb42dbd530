"""The Chinese edition / 中文版: notebooks/zh/NN_*.ipynb, generated from the English lectures plus stored translations.

One source of code: a Chinese notebook is its English notebook with every Markdown cell replaced by
its translation; code cells, outputs (none are committed) and metadata are copied as they are.

Stored translations live in i18n/zh/NN_name.md, one block per Markdown cell of the English notebook,
in the notebook's order::

    <!-- cell nb05-003 · en 3f2a9c1b7d20 -->
    中文 Markdown of that cell …

``en`` is a fingerprint of the English text the block translates (the first 12 hex digits of its
SHA-256). When an author changes an English cell, its fingerprint no longer matches, and the check
names the notebook and the cell; the translation is then updated and the marker's fingerprint
replaced by the new one (``python i18n/build.py stale`` prints both texts' fingerprints and the
English text now).

    python i18n/build.py            regenerate notebooks/zh/ and list stale or missing cells (exit 1 if any)
    python i18n/build.py check      only list them
    python i18n/build.py stale      list them with the current English text of each
    python i18n/build.py skeleton 05_rnn_bptt   write i18n/zh/05_rnn_bptt.md with the English text to translate

The assignments are bilingual in one notebook instead: each Markdown cell of solutions/<ID>/<ID>.ipynb
is its English text, the line ``<!-- 中文 -->`` and the Chinese text of i18n/zh/<ID>.md, which the
build writes into the cell (the fingerprint covers the English part only). ``make translations`` runs
the build and then ``make release``'s generation, so the released notebooks carry both languages and
nbgrader grades the one notebook as before.

tests/test_translations.py fails on a stale or missing cell.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from autograder.release import GRADED_NOTE_ID  # noqa: E402  (the cell the release writes, already bilingual)

ENGLISH = REPO / "notebooks"
STORE = REPO / "i18n" / "zh"
OUT = REPO / "notebooks" / "zh"
MARKER = re.compile(r"^<!-- cell (\S+) · en ([0-9a-f]{12}) -->$", re.M)
SAME = "<!-- same as English -->"          # a block that is rightly left as it is (formulas only)
CJK = re.compile(r"[\u4e00-\u9fff]")


ZH_MARK = "<!-- 中文 -->"                  # in a bilingual assignment cell: English above, Chinese below
SOLUTIONS = REPO / "solutions"


def english_part(text: str) -> str:
    """The English text of a cell: all of a lecture's, the part above ZH_MARK of a bilingual assignment's."""
    return text.split("\n\n" + ZH_MARK, 1)[0] if ZH_MARK in text else text


def bilingual(english: str, chinese: str) -> str:
    """An assignment cell's source: the English text, ZH_MARK, a rule (a line across the cell), the Chinese text."""
    return f"{english}\n\n{ZH_MARK}\n\n---\n\n{chinese}"


def translatable(cell) -> bool:
    """A Markdown cell of the course's text: not a student's written answer (an nbgrader solution or graded
    cell), nor a cell the release writes itself (already bilingual)."""
    grading = cell.get("metadata", {}).get("nbgrader", {})
    return (cell.cell_type == "markdown" and not (grading.get("solution") or grading.get("grade"))
            and grading.get("grade_id") != GRADED_NOTE_ID)


def assignments() -> list[Path]:
    return sorted(SOLUTIONS.glob("*/*.ipynb"))


def fingerprint(text: str) -> str:
    """First 12 hex digits of the SHA-256 of an English Markdown cell."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def lectures() -> list[Path]:
    return sorted(ENGLISH.glob("[0-9][0-9]_*.ipynb"))


def read_store(path: Path) -> dict[str, tuple[str, str]]:
    """{cell id: (fingerprint, Chinese text)} of one stored translation file."""
    text = path.read_text(encoding="utf-8")
    marks = list(MARKER.finditer(text))
    blocks = {}
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        if m.group(1) in blocks:
            raise ValueError(f"{path.name}: cell {m.group(1)} appears twice")
        blocks[m.group(1)] = (m.group(2), text[m.end():end].strip("\n"))
    return blocks


def problems(english: Path, store_dir: Path = STORE) -> list[str]:
    """What keeps ``english`` from a current Chinese edition: one line per stale, missing or orphan cell."""
    nb = nbformat.read(str(english), as_version=4)
    store = store_dir / (english.stem + ".md")
    if not store.exists():
        return [f"{english.name}: no translation file i18n/zh/{store.name} (python i18n/build.py skeleton {english.stem})"]
    blocks = read_store(store)
    out = []
    ids = set()
    for i, cell in enumerate(nb.cells):
        if not translatable(cell):
            continue
        ids.add(cell.id)
        source = english_part(cell.source)
        first = source.strip().splitlines()[0][:60] if source.strip() else ""
        where = f"{english.name} cell {i} ({cell.id}, \"{first}\")"
        if cell.id not in blocks:
            out.append(f"{where}: no translation")
            continue
        stored, zh = blocks[cell.id]
        if stored != fingerprint(source):
            out.append(f"{where}: the English text changed since it was translated "
                       f"(stored en {stored}, now {fingerprint(source)})")
        elif not zh.strip():
            out.append(f"{where}: empty translation")
        elif zh.strip() != SAME and (zh.strip() == source.strip() or not CJK.search(zh)):
            out.append(f"{where}: not translated yet (the block is the English text)")
    for cell_id in blocks:
        if cell_id not in ids:
            out.append(f"{english.name}: i18n/zh/{store.name} translates cell {cell_id}, which the notebook no longer has")
    return out


def chinese_notebook(english: Path, store_dir: Path = STORE):
    """The Chinese edition of ``english`` as a notebook object (Markdown from the store, the rest copied)."""
    nb = nbformat.read(str(english), as_version=4)
    blocks = read_store(store_dir / (english.stem + ".md"))
    zh = copy.deepcopy(nb)
    for cell in zh.cells:
        if translatable(cell):
            text = blocks[cell.id][1]
            cell.source = cell.source if text.strip() == SAME else text
    zh.metadata["language"] = "zh-CN"
    zh.metadata["translated_from"] = f"notebooks/{english.name}"
    return zh


def render(nb) -> str:
    """The notebook as nbformat writes it (the committed form)."""
    return nbformat.writes(nb) + "\n"


def bilingual_assignment(solution: Path, store_dir: Path = STORE):
    """The solution notebook with each Markdown cell made bilingual from the store (code cells untouched)."""
    nb = nbformat.read(str(solution), as_version=4)
    blocks = read_store(store_dir / (solution.stem + ".md"))
    for cell in nb.cells:
        if translatable(cell):
            english, chinese = english_part(cell.source), blocks[cell.id][1]
            cell.source = english if chinese.strip() == SAME else bilingual(english, chinese)
    return nb


def build(store_dir: Path = STORE, out_dir: Path = OUT) -> list[str]:
    """Write every Chinese notebook whose translation is complete, and make every assignment whose translation
    is complete bilingual; return the problems of the others."""
    out_dir.mkdir(parents=True, exist_ok=True)
    found = []
    for solution in assignments():
        issues = problems(solution, store_dir)
        found += issues
        if not issues:
            text = render(bilingual_assignment(solution, store_dir))
            if solution.read_text(encoding="utf-8") != text:
                solution.write_text(text, encoding="utf-8")
                print(f"wrote {solution.relative_to(REPO)} (bilingual Markdown)")
    for english in lectures():
        issues = problems(english, store_dir)
        found += issues
        if not issues:
            text = render(chinese_notebook(english, store_dir))
            target = out_dir / english.name
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
                print(f"wrote {target.relative_to(REPO)}")
    return found


def skeleton(stem: str) -> Path:
    """i18n/zh/<stem>.md with one block per Markdown cell, holding the English text to translate."""
    english = ENGLISH / f"{stem}.ipynb"
    if not english.exists():
        english = SOLUTIONS / stem / f"{stem}.ipynb"
    if not english.exists():
        raise SystemExit(f"no lecture notebooks/{stem}.ipynb nor solutions/{stem}/{stem}.ipynb; they are: "
                         f"{', '.join(p.stem for p in lectures() + assignments())}")
    nb = nbformat.read(str(english), as_version=4)
    blocks = [f"<!-- cell {c.id} · en {fingerprint(english_part(c.source))} -->\n{english_part(c.source)}\n"
              for c in nb.cells if translatable(c)]
    STORE.mkdir(parents=True, exist_ok=True)
    path = STORE / f"{stem}.md"
    if path.exists():
        raise SystemExit(f"{path.relative_to(REPO)} exists; edit it (python i18n/build.py stale lists what changed)")
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    if command == "skeleton" and len(argv) == 2:
        print(f"wrote {skeleton(argv[1]).relative_to(REPO)}: translate every block, keep the marker lines")
        return 0
    if command not in ("build", "check", "stale"):
        print("usage: python i18n/build.py [build | check | stale | skeleton NN_name]", file=sys.stderr)
        return 2
    found = build() if command == "build" else [p for e in lectures() + assignments() for p in problems(e)]
    for line in found:
        print(line)
        if command == "stale" and "(" in line and " cell " in line:
            nb_name, index = line.split(" cell ")[0], int(line.split(" cell ")[1].split()[0])
            path = ENGLISH / nb_name
            path = path if path.exists() else SOLUTIONS / Path(nb_name).stem / nb_name
            cell = nbformat.read(str(path), as_version=4).cells[index]
            print("    English now:", json.dumps(english_part(cell.source), ensure_ascii=False)[:2000])
    if found:
        print(f"{len(found)} cell(s) to translate or update; see i18n/build.py's docstring", file=sys.stderr)
        return 1
    print("the Chinese edition is current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
