"""Sphinx configuration of the course website, one file for both languages (site/build.py runs
``sphinx-build -c site -D language=en|zh_CN`` on each language's source tree).

Sphinx + myst-nb (the engine of Jupyter Book 1) + sphinx-book-theme: every asset is in the pip
packages (the theme's Font Awesome icons, Sphinx's search), formulas are MathML written at build time
(course_site.py), and ipywidgets' JavaScript, which myst-nb loads from a CDN, is left out.
"""

import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE))                 # course_site, the local extension
sys.path.insert(0, str(SITE.parent))          # autograder.mathml, the course's LaTeX -> MathML

project = "Classic neural NLP"
author = "nlp-course"
copyright = "nlp-course, MIT licence"
language = "en"                               # zh_CN for the Chinese edition (-D language=zh_CN)

extensions = ["myst_nb", "course_site"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = [str(SITE / "_templates")]
html_static_path = [str(SITE / "_static")]
html_css_files = ["course.css"]

# Notebooks arrive executed (site/build.py); myst-nb only renders them.
nb_execution_mode = "off"
nb_ipywidgets_js = {}                         # no widget JavaScript from a CDN: widgets are static text here
nb_output_stderr = "show"
nb_render_markdown_format = "myst"            # Markdown results (the lectures' tables) with MyST's tables and maths
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "misc.highlighting_failure", "mystnb.unknown_mime_type"]

html_math_renderer = "mathml"                 # course_site: MathML, drawn by the browser; no MathJax
html_theme = "sphinx_book_theme"
html_title = "Classic neural NLP"
html_copy_source = True                       # the download button offers each executed .ipynb
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
    "use_download_button": True,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
