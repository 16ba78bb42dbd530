"""BLEU / 双语评估替补 (Papineni et al. 2002): how many of an output's n-grams a reference translation has.

For a corpus of outputs (hypotheses) and one reference each, with n = 1..4:

    p_n  = Σ_sentences Σ_ngrams min(count in output, count in reference)  /  Σ_sentences number of output n-grams
    BP   = 1 if c > r else exp(1 − r / c)        c, r: total output and reference lengths (brevity penalty)
    BLEU = 100 · BP · exp(¼ Σ_n log p_n)

Counts are clipped by the reference ("the the the" earns one "the" against a reference with
one) and summed over the whole corpus before dividing: corpus BLEU is not the mean of
sentence BLEUs.  The brevity penalty is what stops a system from printing only the words it
is sure of.  BLEU depends on the tokenization, so two numbers compare only when computed
on the same tokens: here both sides are token lists already (``sacrebleu`` with
``tokenize="none"`` gives the same number; notebook 09 and tests/test_bleu.py check it).
"""

from __future__ import annotations

import math
from collections import Counter

__all__ = ["ngrams", "bleu_counts", "corpus_bleu"]


def ngrams(tokens, n: int) -> Counter:
    """Counts of the n-grams (tuples) of ``tokens``."""
    return Counter(tuple(tokens[i: i + n]) for i in range(len(tokens) - n + 1))


def bleu_counts(hypotheses, references, max_n: int = 4) -> dict:
    """Clipped matches and totals per order, and the lengths: "matches", "totals" (lists of max_n), "c", "r".

    Args:
        hypotheses, references: lists of token lists, one reference per hypothesis.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"expected one reference per hypothesis, got {len(hypotheses)} hypotheses "
                         f"and {len(references)} references")
    matches, totals = [0] * max_n, [0] * max_n
    for hyp, ref in zip(hypotheses, references):
        for n in range(1, max_n + 1):
            h, r = ngrams(hyp, n), ngrams(ref, n)
            matches[n - 1] += sum(min(k, r[g]) for g, k in h.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    return {"matches": matches, "totals": totals, "c": sum(map(len, hypotheses)), "r": sum(map(len, references))}


def corpus_bleu(hypotheses, references, max_n: int = 4) -> dict:
    """Corpus BLEU on token lists: "bleu" (0-100), "precisions" (p_n in %), "bp", "ratio" (c / r).

    BLEU is 0 when some order has no match at all (no smoothing).
    """
    counts = bleu_counts(hypotheses, references, max_n)
    c, r = counts["c"], counts["r"]
    precisions = [m / t if t else 0.0 for m, t in zip(counts["matches"], counts["totals"])]
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c else 0.0)
    bleu = 100 * bp * math.exp(sum(math.log(p) for p in precisions) / max_n) if min(precisions) > 0 else 0.0
    return {"bleu": bleu, "precisions": [100 * p for p in precisions], "bp": bp, "ratio": c / r if r else 0.0}
