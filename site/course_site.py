"""Sphinx extension of the course website (runs inside sphinx-build, started by site/build.py).

- ``mathml``: a math renderer that writes every formula as MathML when the page is built
  (``autograder.mathml.to_mathml``, the converter of the course's other HTML), so no MathJax and no
  network; a formula it cannot read is left as LaTeX in ``span.math-fallback`` (tests/test_site.py
  fails on one).
- the English/中文 switch: each page gets ``other_language_url``, the same page in the other
  language's tree (``_site/en/<page>.html`` <-> ``_site/zh/<page>.html``), used by
  ``_templates/lang-switch.html``.
- Chinese search: the glossary's terms (``search_words.txt`` beside the pages, written by build.py)
  are given to jieba as a user dictionary, so that 困惑度 is indexed as one word; and the search page's
  stemmer is named as Sphinx 9.0 ships it (``ChineseSearch`` below).
"""

from __future__ import annotations

import html
from pathlib import Path

from docutils import nodes
from sphinx.search.zh import SearchChinese

from autograder.mathml import to_mathml

LANGUAGES = {"en": ("zh", "中文"), "zh": ("en", "English")}


def language_dir(language: str) -> str:
    """The site folder of a Sphinx language code: en or zh."""
    return "zh" if language.startswith("zh") else "en"


def formula(latex: str, display: str) -> str:
    mathml = to_mathml(latex, display)
    if mathml is not None:
        return mathml
    tag = "div" if display == "block" else "span"
    return f'<{tag} class="math math-fallback">{html.escape(latex)}</{tag}>'


def visit_math(self, node):
    self.body.append(f'<span class="math notranslate nohighlight">{formula(node.astext(), "inline")}</span>')
    raise nodes.SkipNode


def visit_displaymath(self, node):
    parts = [p for p in node.astext().split("\n\n") if p.strip()] if not node.get("nowrap") else [node.astext()]
    number = f'<span class="eqno">({node["number"]})</span>' if node.get("number") else ""
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    self.body.append(number + "".join(formula(p, "block") for p in parts) + "</div>\n")
    raise nodes.SkipNode


def add_language_switch(app, pagename, templatename, context, doctree):
    here = language_dir(app.config.language)
    other, label = LANGUAGES[here]
    up = "../" * (pagename.count("/") + 1)
    context["other_language_url"] = f"{up}{other}/{pagename}.html"
    context["other_language_label"] = label
    context["other_language"] = "zh-CN" if other == "zh" else "en"


class ChineseSearch(SearchChinese):
    """Sphinx 9.0's Chinese search, whose search page then runs: it stems the Latin words of Chinese text with the
    English stemmer, whose JavaScript defines EnglishStemmer, but it asks for ChineseStemmer (named after
    ``language_name``), and the search page stops with "ChineseStemmer is not defined"."""

    language_name = "English"


def chinese_settings(app, config):
    """The Chinese tree's title, and its search dictionary."""
    if language_dir(config.language) != "zh":
        return
    config.html_title = "经典神经网络自然语言处理"
    words = Path(app.srcdir) / "search_words.txt"
    if words.exists():
        config.html_search_options = {**(config.html_search_options or {}), "dict": str(words)}


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    app.add_search_language(ChineseSearch)
    app.connect("config-inited", chinese_settings)
    app.connect("html-page-context", add_language_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
