"""The course corpus: offline, deterministic English text for modules 2-5.

Used by notebooks 02 (word vectors), 04 (language models) and 05 (RNN LM).
Both parts ship inside the gensim wheel (``gensim/test/test_data/``), so
nothing is downloaded at run time:

- ``lee_sentences()``: the Lee news corpus (``lee_background.cor``), 300
  Australian news stories, about 60k tokens — small, for quick demos;
- ``wiki_sentences()``: 206 English Wikipedia articles (Anarchism, Autism,
  Albedo, Algorithm, ...; ``enwiki-latest-pages-articles1.xml-...-shortened.bz2``),
  about 486k tokens after the wiki markup is removed. Wikipedia text is
  licensed CC BY-SA 3.0 by its authors.
- ``course_sentences()``: both together, about 546k tokens — the corpus that
  word vectors and language models are trained on.

Tokenised sentences are cached as a gzipped text file under
``$COURSE_CACHE`` (default ``~/.cache/classic-neural-nlp``) because removing
the wiki markup takes a few seconds.
"""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import os
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


WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
_CACHE_VERSION = 1


def cache_dir() -> Path:
    """Folder for derived data (``$COURSE_CACHE`` or ``~/.cache/classic-neural-nlp``)."""
    path = Path(os.environ.get("COURSE_CACHE", Path.home() / ".cache" / "classic-neural-nlp"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read_cached(name: str, build) -> list[list[str]]:
    path = cache_dir() / f"{name}-v{_CACHE_VERSION}.txt.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [line.split() for line in f.read().splitlines()]
    sentences = build()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        f.write("\n".join(" ".join(s) for s in sentences))
    tmp.replace(path)  # atomic: concurrent notebooks never read half a file
    return sentences


def _build_wiki() -> list[list[str]]:
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    sentences = []
    with bz2.open(gensim_data_path(WIKI_FILE)) as f:
        for _title, text, _pageid in extract_pages(f):
            for line in filter_wiki(text).splitlines():
                for sent in _SENTENCE_END.split(line):
                    tokens = tokenize(sent)
                    if len(tokens) >= 3:
                        sentences.append(tokens)
    return sentences


def wiki_sentences() -> list[list[str]]:
    """206 English Wikipedia articles as tokenised sentences (about 486k tokens), in file order."""
    return _read_cached("wiki", _build_wiki)


def course_sentences() -> list[list[str]]:
    """The course corpus: Wikipedia articles then Lee news stories (about 546k tokens)."""
    return wiki_sentences() + lee_sentences()
