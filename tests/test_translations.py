"""The Chinese edition (issue 17): notebooks/zh/ is generated from the English lectures and i18n/zh/*.md.

- every Markdown cell of every lecture has a translation whose fingerprint matches the English
  text now (a changed English cell fails here, named), and no translation is left over;
- notebooks/zh/NN_*.ipynb is what ``python i18n/build.py`` writes from them: code cells identical
  to the English edition's, Markdown from the store;
- a translation keeps its cell's formulas, inline code and measured numbers exactly;
- the drift check itself is tried on a temporary copy with one English cell changed.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter

import nbformat
import pytest

from conftest import REPO
from prose_numbers import MATH, prose_numbers

sys.path.insert(0, str(REPO / "i18n"))
import build as zh  # noqa: E402

LECTURES = zh.lectures()
TRANSLATED = [p for p in LECTURES if (zh.STORE / (p.stem + ".md")).exists()]
ASSIGNMENTS = zh.assignments()
_MATH = re.compile(MATH, re.S)
_CODE = re.compile(r"`[^`\n]+`")


def test_every_lecture_has_a_chinese_edition():
    missing = [p.name for p in LECTURES if p not in TRANSLATED]
    assert not missing, f"lectures without i18n/zh/<name>.md: {missing}"


@pytest.mark.parametrize("english", TRANSLATED + ASSIGNMENTS, ids=[p.stem for p in TRANSLATED + ASSIGNMENTS])
def test_translation_is_current(english):
    found = zh.problems(english)
    assert not found, "\n".join(found) + "\n(python i18n/build.py stale shows the English text of each)"


@pytest.mark.parametrize("english", TRANSLATED, ids=[p.stem for p in TRANSLATED])
def test_chinese_notebook_is_generated_and_its_code_is_the_english_code(english):
    target = zh.OUT / english.name
    assert target.exists(), f"{target.relative_to(REPO)} is missing: run `make translations`"
    assert target.read_text(encoding="utf-8") == zh.render(zh.chinese_notebook(english)), \
        f"{target.relative_to(REPO)} is not what i18n/build.py generates: run `make translations`"
    en, cn = (nbformat.read(str(p), as_version=4) for p in (english, target))
    assert [c.cell_type for c in en.cells] == [c.cell_type for c in cn.cells]
    for a, b in zip(en.cells, cn.cells):
        if a.cell_type == "code":
            assert a.source == b.source and a.metadata == b.metadata and b.outputs == []
        else:
            assert a.id == b.id


@pytest.mark.parametrize("solution", ASSIGNMENTS, ids=[p.stem for p in ASSIGNMENTS])
def test_assignment_cells_are_bilingual_and_current(solution):
    """Each instruction cell of solutions/<ID> is its English text, the Chinese mark and the stored translation;
    the released notebook (make release) carries the same cells, and a student's written answer is left alone."""
    assert solution.read_text(encoding="utf-8") == zh.render(zh.bilingual_assignment(solution)), \
        f"{solution.relative_to(REPO)}'s Chinese text is not the stored one: run `make translations`"
    nb = nbformat.read(str(solution), as_version=4)
    release = REPO / "notebooks" / "assignments" / solution.parent.name / solution.name
    released = {c.id: c.source for c in nbformat.read(str(release), as_version=4).cells}
    for cell in nb.cells:
        if zh.translatable(cell):
            assert zh.ZH_MARK in cell.source and zh.CJK.search(cell.source.split(zh.ZH_MARK)[1]), cell.id
            assert released.get(cell.id) == cell.source, f"{release.name} cell {cell.id}: run `make release`"
        elif cell.cell_type == "markdown":
            assert zh.ZH_MARK not in cell.source


@pytest.mark.parametrize("english", TRANSLATED + ASSIGNMENTS, ids=[p.stem for p in TRANSLATED + ASSIGNMENTS])
def test_translation_keeps_formulas_code_and_numbers(english):
    en = nbformat.read(str(english), as_version=4)
    blocks = zh.read_store(zh.STORE / (english.stem + ".md"))
    bad = []
    for i, cell in enumerate(en.cells):
        if not zh.translatable(cell) or cell.id not in blocks or blocks[cell.id][1].strip() == zh.SAME:
            continue
        cell = nbformat.v4.new_markdown_cell(zh.english_part(cell.source))
        text = blocks[en.cells[i].id][1]
        for what, pattern in (("formulas", _MATH), ("inline code", _CODE)):
            a, b = Counter(pattern.findall(cell.source)), Counter(pattern.findall(text))
            if a != b:
                bad.append(f"cell {i} ({en.cells[i].id}) {what}: only in English {sorted((a - b).elements())[:5]}, "
                           f"only in Chinese {sorted((b - a).elements())[:5]}")
        one = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(cell.source)])
        two = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
        a = Counter(n.lstrip("~") for _, n in prose_numbers(one))
        b = Counter(n.lstrip("~") for _, n in prose_numbers(two))
        if a != b:
            bad.append(f"cell {i} ({en.cells[i].id}) numbers: only in English {sorted((a - b).elements())}, "
                       f"only in Chinese {sorted((b - a).elements())}")
    assert not bad, f"{english.name}:\n" + "\n".join(bad)


def test_the_drift_check_names_a_changed_english_cell(tmp_path):
    english = TRANSLATED[0] if TRANSLATED else LECTURES[0]
    store = tmp_path / "zh"
    store.mkdir()
    copy = tmp_path / english.name
    shutil.copy(english, copy)
    if english in TRANSLATED:
        shutil.copy(zh.STORE / (english.stem + ".md"), store / (english.stem + ".md"))
        assert zh.problems(copy, store) == []
    else:                                           # before any translation exists: a translated skeleton
        nb = nbformat.read(str(copy), as_version=4)
        (store / (english.stem + ".md")).write_text("".join(
            f"<!-- cell {c.id} · en {zh.fingerprint(c.source)} -->\n译文\n" for c in nb.cells
            if c.cell_type == "markdown"), encoding="utf-8")
        assert zh.problems(copy, store) == []
    nb = nbformat.read(str(copy), as_version=4)
    k, cell = next((k, c) for k, c in enumerate(nb.cells) if c.cell_type == "markdown" and k > 0)
    cell.source += "\n\nOne more English sentence."
    nbformat.write(nb, str(copy))
    (found,) = zh.problems(copy, store)
    assert f"cell {k} ({cell.id}" in found and "changed since it was translated" in found
    # a block left in English and a block for a cell that is gone are named too
    text = (store / (english.stem + ".md")).read_text(encoding="utf-8")
    text += f"\n<!-- cell gone-1 · en {'0' * 12} -->\n旧的\n"
    (store / (english.stem + ".md")).write_text(text, encoding="utf-8")
    assert any("gone-1" in line and "no longer has" in line for line in zh.problems(copy, store))
