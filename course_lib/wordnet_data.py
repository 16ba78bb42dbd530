"""WordNet / 词网 data, offline: NLTK's reader on Debian's WordNet 3.0 files.

``load()`` returns NLTK's WordNet reader without any download:
1. an NLTK ``wordnet`` corpus already on ``nltk.data.path`` is used as it is;
2. otherwise an NLTK-readable copy of Debian's ``wordnet-base`` + ``wordnet-sense-index``
   files (/usr/share/wordnet) is built once under ``course_lib.corpus.cache_dir()``
   (``nltk_data/corpora/wordnet``).  NLTK needs real files (it refuses symlinks that leave
   its data root) and a ``lexnames`` file that Debian does not ship: ``LEXNAMES`` holds its
   45 lines (file number, name, syntactic category), from the lexnames(5WN) manual page;
3. otherwise it raises ``WordNetNotFound``, naming the fix.

Kept apart from ``course_lib.wordnet`` (the hypernym-graph algorithms that problem set
ps3 asks students to write), so that the grader can block those while the data loads.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from course_lib.corpus import cache_dir

__all__ = ["LEXNAMES", "DEBIAN_DIR", "WordNetNotFound", "build_nltk_copy", "load"]

DEBIAN_DIR = Path("/usr/share/wordnet")
_REQUIRED = [f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")] + \
            [f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")]
_OPTIONAL = ["index.sense", "cntlist.rev"]     # lemma_from_key() and Lemma.count() need them

# lexnames(5WN): lexicographer file number, file name, syntactic category
# (1 noun, 2 verb, 3 adjective, 4 adverb).
LEXNAMES = [
    (0, "adj.all", 3), (1, "adj.pert", 3), (2, "adv.all", 4), (3, "noun.Tops", 1), (4, "noun.act", 1),
    (5, "noun.animal", 1), (6, "noun.artifact", 1), (7, "noun.attribute", 1), (8, "noun.body", 1),
    (9, "noun.cognition", 1), (10, "noun.communication", 1), (11, "noun.event", 1), (12, "noun.feeling", 1),
    (13, "noun.food", 1), (14, "noun.group", 1), (15, "noun.location", 1), (16, "noun.motive", 1),
    (17, "noun.object", 1), (18, "noun.person", 1), (19, "noun.phenomenon", 1), (20, "noun.plant", 1),
    (21, "noun.possession", 1), (22, "noun.process", 1), (23, "noun.quantity", 1), (24, "noun.relation", 1),
    (25, "noun.shape", 1), (26, "noun.state", 1), (27, "noun.substance", 1), (28, "noun.time", 1),
    (29, "verb.body", 2), (30, "verb.change", 2), (31, "verb.cognition", 2), (32, "verb.communication", 2),
    (33, "verb.competition", 2), (34, "verb.consumption", 2), (35, "verb.contact", 2), (36, "verb.creation", 2),
    (37, "verb.emotion", 2), (38, "verb.motion", 2), (39, "verb.perception", 2), (40, "verb.possession", 2),
    (41, "verb.social", 2), (42, "verb.stative", 2), (43, "verb.weather", 2), (44, "adj.ppl", 3),
]

FIX = ("WordNet data not found. Install Debian's WordNet 3.0 packages with\n"
       "    sudo apt-get install wordnet-base wordnet-sense-index\n"
       "(`make setup` does this), or, where there is a network, run\n"
       "    python -c \"import nltk; nltk.download('wordnet')\"")


class WordNetNotFound(FileNotFoundError):
    """Neither an NLTK wordnet corpus nor Debian's WordNet files were found."""


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

def build_nltk_copy(source=DEBIAN_DIR, root=None) -> Path:
    """Copy Debian's WordNet files into ``<root>/corpora/wordnet`` with a ``lexnames`` file.

    Args:
        source: folder holding data.noun, index.noun, noun.exc, ... (Debian: /usr/share/wordnet).
        root: an NLTK data root; default ``cache_dir() / "nltk_data"``.

    Returns:
        ``root`` (put it on ``nltk.data.path``).  The copy is built in a temporary folder and
        renamed into place, so a reader never sees half of it; an existing copy is kept.
    """
    source = Path(source)
    root = Path(root) if root is not None else cache_dir() / "nltk_data"
    target = root / "corpora" / "wordnet"
    if (target / "lexnames").exists():
        return root
    missing = [name for name in _REQUIRED if not (source / name).is_file()]
    if missing:
        raise WordNetNotFound(f"{source} lacks {missing[:4]}{' ...' if len(missing) > 4 else ''}.\n{FIX}")
    tmp = target.parent / f".wordnet-tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for name in _REQUIRED + [n for n in _OPTIONAL if (source / n).is_file()]:
        shutil.copyfile(source / name, tmp / name)        # a real copy: NLTK refuses outside symlinks
    (tmp / "lexnames").write_text("".join(f"{n:02d}\t{name}\t{cat}\n" for n, name, cat in LEXNAMES))
    try:
        os.replace(tmp, target)
    except OSError:                                       # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _nltk_has_wordnet() -> bool:
    import nltk

    try:
        nltk.data.find("corpora/wordnet")
        return True
    except LookupError:
        return False


def load(source=DEBIAN_DIR, root=None):
    """NLTK's WordNet reader, offline (see the module docstring for the order of attempts).

    Args:
        source: Debian's WordNet folder, used when NLTK has no wordnet corpus.
        root: where to build the NLTK copy (default ``cache_dir() / "nltk_data"``).

    Returns:
        ``nltk.corpus.wordnet``, loaded (``wn.synsets("car")`` etc.).  The first call in a
        process reads the index files (a few seconds).

    Raises:
        WordNetNotFound: with the commands that install the data.
    """
    import nltk

    if not _nltk_has_wordnet():
        root = Path(root) if root is not None else cache_dir() / "nltk_data"
        if not (root / "corpora" / "wordnet" / "lexnames").exists():
            if not (Path(source) / "data.noun").is_file():
                raise WordNetNotFound(FIX)
            build_nltk_copy(source, root)
        if str(root) not in nltk.data.path:
            nltk.data.path.insert(0, str(root))
    from nltk.corpus import wordnet

    wordnet.ensure_loaded()
    return wordnet
