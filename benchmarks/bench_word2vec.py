"""Our torch skip-gram trainer against gensim's Word2Vec: words per second and WordSim-353 Spearman.

Same corpus (course_lib.corpus.course_sentences, ~535k tokens), same settings, one thread
each: skip-gram, dim 100, window 5, 5 noise words, 5 epochs, subsampling 1e-3, learning rate
0.025 -> 1e-4, min_count 5 (gensim's defaults with sg=1).  Only training is timed (the
vocabulary is built before the clock starts, for both).  Words per second = corpus tokens x
epochs / seconds, gensim's own measure.  CPU seconds are printed too: the machines this runs
on are often shared, and wall time then says more about the neighbours than about the code.

Ours runs twice: with its default (8 consecutive shuffled pairs share their 5 noise words)
and with word2vec's per-pair noise words (group_size=1).

Target (issue 3): at least half of gensim's words/s, Spearman within 0.05 of gensim's.
Run: python benchmarks/bench_word2vec.py   (about 1-2 minutes on one core)
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before numpy: one BLAS thread for gensim too

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from course_lib import evaluate, word2vec  # noqa: E402
from course_lib.corpus import course_sentences  # noqa: E402
from course_lib.text import Vocab  # noqa: E402

SETTINGS = dict(dim=100, window=5, negative=5, epochs=5, sample=1e-3, alpha=0.025, min_alpha=1e-4, min_count=5)


def run_gensim(sentences):
    from gensim.models import Word2Vec

    s = SETTINGS
    model = Word2Vec(vector_size=s["dim"], window=s["window"], negative=s["negative"], sample=s["sample"],
                     alpha=s["alpha"], min_alpha=s["min_alpha"], min_count=s["min_count"], sg=1, hs=0,
                     workers=1, seed=0)
    model.build_vocab(sentences)
    wall, cpu = time.perf_counter(), time.process_time()
    model.train(sentences, total_examples=len(sentences), epochs=s["epochs"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    vocab = Vocab(list(model.wv.index_to_key))
    return model.wv.vectors, vocab, wall, cpu


def run_ours(sentences, group_size):
    s = SETTINGS
    r = word2vec.train_word2vec(sentences, model="skipgram", batch_size=4096, group_size=group_size, seed=0,
                                device="cpu", threads=1, progress=False, **s)
    return r["W_in"], r["vocab"], r["seconds"], r["cpu_seconds"]


def main() -> None:
    torch.set_num_threads(1)
    sentences = course_sentences()
    tokens = sum(len(s) for s in sentences)
    wordsim = evaluate.load_wordsim353()
    runs = {"gensim Word2Vec (sg=1, workers=1)": run_gensim(sentences),
            "ours, torch, group_size=8 (default)": run_ours(sentences, 8),
            "ours, torch, group_size=1 (per-pair noise)": run_ours(sentences, 1)}
    common = evaluate.pairs_in_vocab(wordsim, *(v for _, v, _, _ in runs.values()))
    print(f"corpus: {tokens:,} tokens; settings: {SETTINGS}; WordSim-353 pairs covered: {len(common)} of 353")
    print("| trainer | wall s | CPU s | words/s (wall) | words/s (CPU) | WordSim-353 Spearman |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = {}
    for name, (E, vocab, wall, cpu) in runs.items():
        rho = evaluate.evaluate_similarity(E, vocab, common)["spearman"]
        words = tokens * SETTINGS["epochs"]
        rows[name] = (words / wall, words / cpu, rho)
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {words / wall:,.0f} | {words / cpu:,.0f} | {rho:.3f} |")
    g_wall, g_cpu, g_rho = rows["gensim Word2Vec (sg=1, workers=1)"]
    for name, (w, c, rho) in rows.items():
        if name.startswith("ours"):
            verdict = "meets" if c / g_cpu >= 0.5 and rho >= g_rho - 0.05 else "misses"
            print(f"{name}: words/s ratio ours/gensim = {w / g_wall:.2f} (wall), {c / g_cpu:.2f} (CPU); "
                  f"Spearman {rho:.3f} vs {g_rho:.3f} (difference {rho - g_rho:+.3f}) -> {verdict} the target "
                  f"(ratio >= 0.5, Spearman within 0.05)")
    print(f"numpy {np.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
