"""The course corpus: small, offline, deterministic text for modules 2-5.

Used by notebooks 02 (word vectors), 04 (language models) and 05 (RNN LM).
The default corpus is the Lee news corpus that ships inside the gensim wheel
(``gensim/test/test_data/lee_background.cor``: 300 Australian news stories,
about 60k tokens), so nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def gensim_data_path(name: str) -> Path:
    """Path of a file in gensim's bundled test data, found without importing gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "gensim is not installed; run `make lab` (or `pip install gensim==4.4.0`) "
            "to get the course's offline data sets"
        )
    path = Path(spec.submodule_search_locations[0]) / "test" / "test_data" / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not in gensim's test data ({path.parent})")
    return path


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens: letters (with an inner apostrophe) or digit runs."""
    return _TOKEN.findall(text.lower())


def lee_documents() -> list[str]:
    """The 300 documents of the Lee corpus, one string each, in file order."""
    text = gensim_data_path("lee_background.cor").read_text(encoding="utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def lee_sentences() -> list[list[str]]:
    """The Lee corpus split into sentences of lower-case tokens (empty ones dropped).

    Returns a list of sentences, each a list of str tokens, in document order.
    """
    sentences = []
    for doc in lee_documents():
        for sent in _SENTENCE_END.split(doc):
            tokens = tokenize(sent)
            if tokens:
                sentences.append(tokens)
    return sentences
