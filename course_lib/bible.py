"""Verse-aligned English–Spanish pairs / 平行语料 from Debian's public-domain Bibles (module 8's real data).

The World English Bible (Debian package ``sword-text-web``, SWORD module ``engWEB2015eb``)
and the Reina-Valera 1909 (``sword-text-sparv``, ``spaRV1909eb``), both in the public
domain, are read with SWORD's command-line reader ``diatheke`` (package ``diatheke``).
Every verse has the same reference (book, chapter, verse) in both, so verses pair up
without any sentence alignment: that is what makes a Bible the classic first parallel
corpus (Resnik, Olsen & Diab 1999).  The two translations are independent and 100 years
apart, so a pair is a free translation, not a gloss: no model can reach BLEU 100 on it.

``make data`` installs the three packages where apt-get exists; ``available()`` says
whether they are here, and notebook 09 skips its training politely when they are not.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np

__all__ = ["ENGLISH", "SPANISH", "BOOKS", "available", "parse_osis", "read_module", "verse_pairs", "split_pairs"]

ENGLISH, SPANISH = "engWEB2015eb", "spaRV1909eb"

# The 66 books as diatheke names them in both modules (KJV versification; the WEB's
# deuterocanonical books have no Spanish counterpart here and are left out).
BOOKS = (
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "I Samuel",
    "II Samuel", "I Kings", "II Kings", "I Chronicles", "II Chronicles", "Ezra", "Nehemiah", "Esther", "Job",
    "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon", "Isaiah", "Jeremiah", "Lamentations", "Ezekiel",
    "Daniel", "Hosea", "Joel", "Amos", "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai",
    "Zechariah", "Malachi", "Matthew", "Mark", "Luke", "John", "Acts", "Romans", "I Corinthians",
    "II Corinthians", "Galatians", "Ephesians", "Philippians", "Colossians", "I Thessalonians",
    "II Thessalonians", "I Timothy", "II Timothy", "Titus", "Philemon", "Hebrews", "James", "I Peter",
    "II Peter", "I John", "II John", "III John", "Jude", "Revelation of John",
)

# "Psalms 23:1: text"; diatheke may put a stale heading ("A praise psalm by David.  ") in front.
_REFERENCE = re.compile(r"(?:^|\s)(" + "|".join(sorted(map(re.escape, BOOKS), key=len, reverse=True))
                        + r") (\d+):(\d+): (.*)$")
_TITLE = re.compile(r"<title\b.*?</title>")
_TAG = re.compile(r"<[^>]*>")


def available() -> bool:
    """True when diatheke and both modules are installed (``make data``)."""
    if shutil.which("diatheke") is None:
        return False
    try:
        modules = subprocess.run(["diatheke", "-b", "system", "-k", "modulelist"], capture_output=True,
                                 text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return ENGLISH in modules and SPANISH in modules


def parse_osis(lines) -> dict:
    """{(book, chapter, verse): text} from diatheke's OSIS output, one verse per line.

    Headings (<title>) are dropped, every other tag is removed, and two adjacent words
    (``<w>God</w><w>created</w>``, a quirk of the WEB module) are kept apart by a space.
    Lines without a reference and empty verses are skipped.
    """
    verses = {}
    for line in lines:
        line = _TITLE.sub(" ", line).replace("</w><w", "</w> <w")
        match = _REFERENCE.search(_TAG.sub("", line).rstrip("\n"))
        if match:
            text = " ".join(match.group(4).split())
            if text:
                verses[(match.group(1), int(match.group(2)), int(match.group(3)))] = text
    return verses


def read_module(module: str) -> dict:
    """Every verse of ``module`` (ENGLISH or SPANISH), Genesis to Revelation: {(book, chapter, verse): text}."""
    if not available():
        raise RuntimeError("diatheke or the Bible modules are missing: run `make data` (needs apt-get)")
    out = subprocess.run(["diatheke", "-b", module, "-f", "OSIS", "-k", "Gen 1:1-Rev 22:21"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return parse_osis(out.splitlines())


def verse_pairs(english: dict, spanish: dict, tokenize, max_tokens: int = 20) -> list[tuple]:
    """(reference, english, spanish) for the verses both have, each side at most ``max_tokens`` tokens.

    In canonical order (Genesis 1:1 first).
    """
    order = {book: i for i, book in enumerate(BOOKS)}
    keys = sorted((k for k in english if k in spanish and k[0] in order), key=lambda k: (order[k[0]], k[1], k[2]))
    return [(k, english[k], spanish[k]) for k in keys
            if len(tokenize(english[k])) <= max_tokens and len(tokenize(spanish[k])) <= max_tokens]


def split_pairs(pairs, n_test: int, n_val: int, seed: int = 0) -> tuple[list, list, list]:
    """Train, validation and test lists drawn at random (seeded) from ``pairs``, disjoint."""
    if n_test + n_val >= len(pairs):
        raise ValueError(f"asked for {n_test} test and {n_val} validation pairs out of {len(pairs)}")
    order = np.random.default_rng(seed).permutation(len(pairs))
    test = [pairs[i] for i in sorted(order[:n_test])]
    val = [pairs[i] for i in sorted(order[n_test: n_test + n_val])]
    train = [pairs[i] for i in sorted(order[n_test + n_val:])]
    return train, val, test
