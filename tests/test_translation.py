"""Tests for module 8's real-data pieces: course_lib.bible, course_lib.ibm1, course_lib.bleu.

Oracles: diatheke's OSIS lines copied by hand from the two modules (with the WEB's quirks:
adjacent <w> tags, a stale heading in front of the reference, Strong's numbers); verse counts
read off with grep; NLTK's IBMModel1 and a loop-by-loop EM written here from Koehn's
pseudo-code (Statistical Machine Translation, 2010, fig. 4.3); sacrebleu and NLTK's corpus_bleu.
"""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest
from collections import defaultdict

from course_lib import bible, ibm1
from course_lib.bleu import bleu_counts, corpus_bleu, ngrams
from course_lib.seq2seq import tokenize_words


# ---------------------------------------------------------------- bible
OSIS = [
    'Genesis 1:1: <w savlm="strong:H0430">In</w> <w>the</w> <w>beginning</w>, <w>God</w><w>created</w> '
    '<w>the</w> <w>heavens</w> <w>and</w> <w>the</w> <w>earth</w>.',
    'A praise psalm by David.  Proverbs 1:1: <w>The</w> <w>proverbs</w> <w>of</w> <w>Solomon</w>, '
    '<milestone type="line"/>',
    '<title canonical="true" type="psalm">A Psalm by David.</title> <lg sID="gen1"/> <l level="1" sID="g2"/>'
    'Psalms 23:1: <w>Yahweh</w> <w>is</w> <w>my</w> <w>shepherd</w>; <milestone type="line"/>',
    'Revelation of John 22:21: <w>La</w> <w>gracia</w> <w lemma="G5547">Jesucristo</w>.   <milestone type="line"/>',
    'I John 1:1: <w>Lo</w> <w>que</w>',
    'Tobit 6:18: <w>deuterocanonical</w>',
    'Job 1:2: <milestone type="line"/>',
    '(engWEB2015eb)',
]


def test_parse_osis_reads_references_and_strips_markup():
    verses = bible.parse_osis(OSIS)
    assert verses[("Genesis", 1, 1)] == "In the beginning, God created the heavens and the earth."
    assert verses[("Proverbs", 1, 1)] == "The proverbs of Solomon,"           # stale heading dropped
    assert verses[("Psalms", 23, 1)] == "Yahweh is my shepherd;"               # <title> dropped
    assert verses[("Revelation of John", 22, 21)] == "La gracia Jesucristo."
    assert verses[("I John", 1, 1)] == "Lo que"                                # not "John" with an "I " heading
    assert len(verses) == 5                    # Tobit is no book of the 66, Job 1:2 empty, the module line


def test_verse_pairs_filter_by_length_and_keep_canonical_order():
    en = {("John", 11, 35): "Jesus wept.", ("Genesis", 1, 1): "In the beginning.", ("Jude", 1, 1): "a b c d e f",
          ("Ruth", 1, 1): "only here"}
    es = {("John", 11, 35): "Y lloró Jesús.", ("Genesis", 1, 1): "EN el principio.", ("Jude", 1, 1): "a b"}
    pairs = bible.verse_pairs(en, es, tokenize_words, max_tokens=4)
    assert [k for k, _, _ in pairs] == [("Genesis", 1, 1), ("John", 11, 35)]    # Jude too long, Ruth unpaired
    assert pairs[1][1:] == ("Jesus wept.", "Y lloró Jesús.")


def test_split_pairs_is_disjoint_complete_and_seeded():
    pairs = list(range(50))
    train, val, test = bible.split_pairs(pairs, 10, 5, seed=3)
    assert (len(train), len(val), len(test)) == (35, 5, 10)
    assert sorted(train + val + test) == pairs
    assert bible.split_pairs(pairs, 10, 5, seed=3) == (train, val, test)
    assert bible.split_pairs(pairs, 10, 5, seed=4)[2] != test
    with pytest.raises(ValueError, match="out of 50"):
        bible.split_pairs(pairs, 40, 10)


@pytest.mark.skipif(not bible.available(), reason="diatheke and the Bible modules are not installed (make data)")
def test_the_installed_modules_have_the_hand_counted_verses():
    en, es = bible.read_module(bible.ENGLISH), bible.read_module(bible.SPANISH)
    # grep -c over diatheke's output: 31,102 KJV verses; a few are empty in one module
    assert 31_000 < len(es) <= 31_102 and 31_000 < len(en) <= 31_102
    assert en[("John", 11, 35)] == "Jesus wept."
    assert es[("John", 11, 35)] == "Y lloró Jesús."
    assert en[("Genesis", 1, 1)] == "In the beginning, God created the heavens and the earth."
    assert es[("Revelation of John", 22, 21)] == "La gracia de nuestro Señor Jesucristo sea con todos vosotros. Amén."
    assert not any("<" in t or ">" in t for t in list(en.values()) + list(es.values()))


# ---------------------------------------------------------------- IBM Model 1
def _koehn_em(pairs, iterations):
    """Koehn (2010), fig. 4.3, loop by loop, with NULL added to every source sentence."""
    target_words = {f for _, fs in pairs for f in fs}
    t = defaultdict(lambda: 1.0 / len(target_words))
    for _ in range(iterations):
        count, total = defaultdict(float), defaultdict(float)
        for es, fs in pairs:
            es = [None] + list(es)
            for f in fs:
                s_total = sum(t[(f, e)] for e in es)
                for e in es:
                    count[(f, e)] += t[(f, e)] / s_total
                    total[e] += t[(f, e)] / s_total
        t = defaultdict(float, {(f, e): c / total[e] for (f, e), c in count.items()})
    return t


def _random_corpus(seed, repeats):
    rng = random.Random(seed)
    src, tgt = [f"e{i}" for i in range(7)], [f"f{i}" for i in range(8)]
    pairs = []
    for _ in range(12):
        e = rng.sample(src, rng.randint(1, 4))
        f = [rng.choice(tgt) for _ in range(rng.randint(1, 5))] if repeats else rng.sample(tgt, rng.randint(1, 5))
        pairs.append((e, f))
    return pairs


@pytest.mark.parametrize("seed", range(5))
def test_ibm1_agrees_with_nltk(seed):
    from nltk.translate import AlignedSent, IBMModel1
    pairs = _random_corpus(seed, repeats=False)          # NLTK counts a repeated target word once per sentence
    ours = ibm1.train_ibm1(pairs, iterations=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = IBMModel1([AlignedSent(f, e) for e, f in pairs], 4)
    for (f, e), p in ours.table.items():
        assert math.isclose(p, max(theirs.translation_table[f][e], 0.0), abs_tol=1e-11), (f, e)


@pytest.mark.parametrize("seed", range(5))
def test_ibm1_agrees_with_koehns_em_also_with_repeated_words(seed):
    pairs = _random_corpus(seed, repeats=True)
    ours = ibm1.train_ibm1(pairs, iterations=3)
    theirs = _koehn_em(pairs, 3)
    assert set(ours.table) == set(theirs)
    for key, p in theirs.items():
        assert math.isclose(ours.table[key], p, rel_tol=1e-12), key


def test_ibm1_by_hand_and_its_likelihood_rises():
    # das haus / the house, das buch / the book: after one iteration, by hand
    pairs = [(["the", "house"], ["das", "haus"]), (["the", "book"], ["das", "buch"])]
    model = ibm1.train_ibm1(pairs, iterations=1)
    # uniform t = 1/3 (3 target words); every δ = 1/3 (3 source words with NULL);
    # count(das, the) = 2/3 of total(the) = 4/3; count(haus, house) = 1/3 of 2/3; count(das, NULL) = 2/3 of 4/3
    assert math.isclose(model.t("das", "the"), 0.5)
    assert math.isclose(model.t("haus", "house"), 0.5)
    assert math.isclose(model.t("das", None), 0.5) and math.isclose(model.t("haus", None), 0.25)
    assert model.t("buch", "house") == 0.0
    model = ibm1.train_ibm1(pairs, iterations=10)
    assert np.all(np.diff(model.log_likelihood) > 0)
    assert model.best("the") == "das" and model.best("book") == "buch"
    assert math.isclose(model.log_likelihood[0], 2 * 2 * math.log(3 * (1 / 3)) - 2 * 2 * math.log(3))
    for e in model.source_words:                          # each t(. | e) is a distribution
        assert math.isclose(sum(p for (f, e2), p in model.table.items() if e2 == e), 1.0)


def test_word_by_word_keeps_order_and_copies_unknown_words():
    model = ibm1.train_ibm1([(["the", "house"], ["das", "haus"]), (["the", "book"], ["das", "buch"])], 10)
    assert model.translate_words(["the", "book", "Zzz"]) == ["das", "buch", "Zzz"]
    assert model.translate_words(["Zzz", "the"], copy_unknown=False) == ["das"]
    with pytest.raises(ValueError, match="pair 1"):
        ibm1.train_ibm1([(["a"], ["b"]), ([], ["c"])])


# ---------------------------------------------------------------- BLEU
def test_bleu_by_hand():
    # Papineni et al.'s clipping: "the the the the the the the" against "the cat is on the mat": p_1 = 2/7
    c = bleu_counts([["the"] * 7], [["the", "cat", "is", "on", "the", "mat"]], max_n=1)
    assert c["matches"] == [2] and c["totals"] == [7]
    assert ngrams(["a", "b", "a", "b"], 2) == {("a", "b"): 2, ("b", "a"): 1}
    hyp, ref = ["a", "b", "c", "d"], ["a", "b", "c", "d", "e", "f", "g", "h"]
    out = corpus_bleu([hyp], [ref])
    assert math.isclose(out["bp"], math.exp(1 - 8 / 4)) and out["precisions"] == [100.0] * 4
    assert math.isclose(out["bleu"], 100 * math.exp(-1))
    assert corpus_bleu([["x", "y"]], [["y", "x"]])["bleu"] == 0.0          # no bigram matches


@pytest.mark.parametrize("seed", range(5))
def test_bleu_agrees_with_sacrebleu_and_nltk(seed):
    import sacrebleu
    from nltk.translate.bleu_score import corpus_bleu as nltk_bleu
    rng = random.Random(seed)
    words = "a b c d".split()
    hyps = [[rng.choice(words) for _ in range(rng.randint(4, 14))] for _ in range(40)]
    refs = [[rng.choice(words) for _ in range(rng.randint(4, 14))] for _ in range(40)]
    ours = corpus_bleu(hyps, refs)
    theirs = sacrebleu.corpus_bleu([" ".join(h) for h in hyps], [[" ".join(r) for r in refs]],
                                   tokenize="none", force=True)
    assert ours["bleu"] > 0
    assert math.isclose(ours["bleu"], theirs.score, rel_tol=1e-9)
    assert np.allclose(ours["precisions"], theirs.precisions) and math.isclose(ours["bp"], theirs.bp)
    assert math.isclose(ours["bleu"], 100 * nltk_bleu([[r] for r in refs], hyps), rel_tol=1e-9)


# ---------------------------------------------------------------- <unk> replacement through attention
def test_replace_unknowns_uses_the_most_attended_source_word():
    from course_lib.seq2seq import UNK, replace_unknowns
    source = ["jesus", "wept", "."]
    alpha = np.array([[0.1, 0.8, 0.1],        # y_1 = "y" (kept)
                      [0.2, 0.7, 0.1],        # <unk> looks at "wept"
                      [0.6, 0.3, 0.1],        # <unk> looks at "jesus": copied
                      [0.0, 0.1, 0.9],
                      [0.3, 0.3, 0.4]])       # the </s> row is ignored
    out = replace_unknowns(["y", UNK, UNK, "."], alpha, source, {"wept": "lloró"}.get)
    assert out == ["y", "lloró", None, "."]
    out = replace_unknowns(["y", UNK, UNK, "."], alpha, source, lambda e: {"wept": "lloró"}.get(e, e))
    assert out == ["y", "lloró", "jesus", "."]
    with pytest.raises(ValueError, match=r"expected shape \(>= 4, 2\)"):
        replace_unknowns(["y", UNK, UNK, "."], alpha, source[:2], str)
