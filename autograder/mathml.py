"""Maths in the course's HTML without a network: LaTeX turned into MathML when the page is written.

nbconvert's HTML (nbgrader's feedback, formgrader's submission view, any
export) leaves ``$...$`` for MathJax, which it loads from a CDN: offline, a
student sees raw LaTeX.  ``nbgrader_config.py`` replaces nbconvert's
``markdown2html`` filter with this one, which renders the same markdown but
writes each formula as MathML (``latex2mathml``, pure Python), drawn by the
browser itself.  A formula latex2mathml cannot read is left as it was, for
MathJax where it loads.
"""

from __future__ import annotations

import html
import re

from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath


# latex2mathml writes the text of \text{...} and \texttt{...} as it is: ``\texttt{<s>}`` became an HTML <s> element
# (struck-through text to the end of the page). Any "<" that does not open one of its MathML tags is text.
_NOT_A_TAG = re.compile(r"<(?!/?(?:math|m[a-z]+|semantics|annotation(?:-xml)?|none)[\s>/])")


def to_mathml(latex: str, display: str) -> str | None:
    try:
        mathml = convert(html.unescape(latex).strip(), display=display)
    except Exception:  # latex2mathml raises its own exceptions for unsupported commands
        return None
    return _NOT_A_TAG.sub("&lt;", mathml)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with formulas as MathML."""

    def inline_math(self, body: str) -> str:
        return to_mathml(body, "inline") or super().inline_math(body)

    def block_math(self, body: str) -> str:
        return to_mathml(body, "block") or super().block_math(body)

    def latex_environment(self, name: str, body: str) -> str:
        return to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block") or super().latex_environment(name, body)


@pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's ``HTMLExporter.markdown2html``, writing MathML."""
    cell = context.get("cell", {})
    path = context.get("resources", {}).get("metadata", {}).get("path", "")
    renderer = MathMLRenderer(escape=False, attachments=cell.get("attachments", {}), path=path,
                              anchor_link_text="¶")
    return MarkdownWithMath(renderer=renderer).render(source)
