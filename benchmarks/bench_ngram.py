"""course_lib.ngram against nltk.lm: fit a trigram model and score perplexity on the same text.

Peer: nltk.lm 3.10 (``padded_everygram_pipeline`` + ``fit`` + ``perplexity``), the library whose
conventions course_lib.ngram follows. Both models see the same ≥100k training tokens (the first
sentences of the course corpus's training split) and score the same test n-grams
(``ngrams(pad_both_ends(s, 3), 3)`` of the test split); ours runs with ``nltk_padding=True`` so the
n-grams are identical, and the script fails unless the perplexities agree to 1e-9 relative.

1. Laplace (add-one) trigram: fit + perplexity of the whole test split. Target: ≥ 20× faster.
2. Kneser–Ney trigram (``kneser-ney-nltk`` vs ``KneserNeyInterpolated``, D = 0.75): NLTK rescans the
   counts for every query, so only the first few hundred test trigrams are scored. Vocabulary cutoff 2
   for both, so that ``<UNK>`` has training counts: with cutoff 1 NLTK's Kneser–Ney gives unknown words
   probability 0 and the perplexity is infinite.

Times are CPU (process) seconds, the best of ``REPEATS`` runs for ours and of two for NLTK's Laplace
model (one for its slow Kneser–Ney); wall seconds are printed too, since on a shared machine wall time
is noisy. Run: ``python benchmarks/bench_ngram.py``.
"""

from __future__ import annotations

import time

import numpy as np
from nltk.lm import KneserNeyInterpolated, Laplace, Vocabulary
from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
from nltk.util import ngrams

from course_lib.corpus import course_sentences
from course_lib.ngram import NGramLM, split_corpus

ORDER, MIN_TOKENS, REPEATS, KN_TRIGRAMS = 3, 100_000, 3, 300


def timed(fn):
    """(result, cpu seconds, wall seconds) of fn()."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def nltk_run(cls, train, test_ngrams, cutoff=1, **kwargs):
    lm = cls(ORDER, vocabulary=Vocabulary(unk_cutoff=cutoff), **kwargs)
    lm.fit(*padded_everygram_pipeline(ORDER, train))
    return lm.perplexity(test_ngrams)


def ours_run(smoothing, train, test_sentences, first=None, cutoff=1, **kwargs):
    lm = NGramLM(ORDER, smoothing, nltk_padding=True, unk_cutoff=cutoff, **kwargs).fit(train)
    if first is None:
        return lm.perplexity(test_sentences)
    grams = lm.ngram_ids(test_sentences)[:first]
    return float(np.exp(-np.mean(np.log(lm._prob_ids(grams[:, :-1], grams[:, -1])))))


def report(name, peer, ours):
    (p_peer, cpu_peer, wall_peer), (p_ours, cpu_ours, wall_ours) = peer, ours
    rel = abs(p_peer - p_ours) / p_peer
    assert rel < 1e-9, f"{name}: perplexities differ: nltk {p_peer!r}, ours {p_ours!r}"
    print(f"{name}\n  perplexity: nltk.lm {p_peer:.6f}   course_lib {p_ours:.6f}   (relative difference {rel:.1e})")
    print(f"  nltk.lm     {cpu_peer:8.3f} s CPU  {wall_peer:8.3f} s wall")
    print(f"  course_lib  {cpu_ours:8.3f} s CPU  {wall_ours:8.3f} s wall")
    print(f"  speed-up: {cpu_peer / cpu_ours:.1f}x (CPU), {wall_peer / wall_ours:.1f}x (wall)\n")
    return cpu_peer / cpu_ours


def main():
    train_all, _, test = split_corpus(course_sentences())
    train, tokens = [], 0
    for sentence in train_all:
        if tokens >= MIN_TOKENS:
            break
        train.append(sentence)
        tokens += len(sentence)
    test_ngrams = [g for s in test for g in ngrams(pad_both_ends(s, ORDER), ORDER)]
    print(f"training text: {len(train)} sentences, {tokens} tokens; test: {len(test)} sentences, "
          f"{len(test_ngrams)} trigrams\n")

    peer = min((timed(lambda: nltk_run(Laplace, train, test_ngrams)) for _ in range(2)), key=lambda r: r[1])
    ours = min((timed(lambda: ours_run("laplace", train, test)) for _ in range(REPEATS)), key=lambda r: r[1])
    ratio = report(f"Laplace trigram: fit + perplexity of {len(test_ngrams)} test trigrams", peer, ours)

    kn_ngrams = test_ngrams[:KN_TRIGRAMS]
    peer = timed(lambda: nltk_run(KneserNeyInterpolated, train, kn_ngrams, cutoff=2, discount=0.75))
    ours = min((timed(lambda: ours_run("kneser-ney-nltk", train, test, first=KN_TRIGRAMS, cutoff=2, discount=0.75))
                for _ in range(REPEATS)), key=lambda r: r[1])
    report(f"Kneser-Ney trigram (NLTK's variant): fit + perplexity of the first {KN_TRIGRAMS} test trigrams",
           peer, ours)
    print(f"RATIO (Laplace trigram, CPU time): course_lib is {ratio:.1f}x faster than nltk.lm "
          f"(target >= 20x): {'PASS' if ratio >= 20 else 'FAIL'}")


if __name__ == "__main__":
    main()
