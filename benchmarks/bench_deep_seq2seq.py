"""Deep encoder–decoder on the dates task: the slides' "2 to 4 + 4" against one layer each.

The slides (seed 003, "Bi-Deep RNNs", NMT) write "2 to 4 + 4": a bidirectional encoder of 2 to 4
layers and a decoder of 4, the depths Britz et al. (2017, "Massive Exploration of Neural Machine
Translation Architectures", EMNLP) explored for translation.  Here every model has notebook 08's
sizes and training (embeddings 32, GRUs of 64 per direction so d_h = d_s = 128, additive attention
with d_a = 32, Adam 0.01 decaying to 0, clipping at 1, batches of 64, the same 300 steps, one CPU
thread, seed 0) and differs only in the depths (enc_layers, dec_layers); the models without
attention are trained too, since depth might widen the bottleneck.  Prints the test exact match and
per-character accuracy (greedy, 2,000 test pairs), the parameter count and the training time.
Run: python benchmarks/bench_deep_seq2seq.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_lib import dates  # noqa: E402
from course_lib import seq2seq as s2s  # noqa: E402

MODEL = dict(d_emb=32, hidden=64, d_a=32, seed=0)
TRAIN = dict(steps=300, batch_size=64, lr=1e-2, eval_every=300, seed=0, progress=False)
RUNS = [("additive", 1, 1), ("additive", 2, 4), ("additive", 4, 4), (None, 1, 1), (None, 2, 4)]


def main() -> None:
    splits = dates.make_splits(n_train=20000, n_val=1000, n_test=2000, seed=0, max_dates=2)
    src_vocab = s2s.Vocab.from_texts([s for s, _ in splits["train"]], s2s.tokenize_words)
    tgt_vocab = s2s.Vocab("0123456789- ")
    print(f"dates task, {len(splits['train'])} training pairs, {TRAIN['steps']} steps; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, 1 thread")
    print(f"{'attention':>9} {'encoder':>7} {'decoder':>7} {'parameters':>10} {'test exact':>10} {'per char':>8} "
          f"{'wall s':>6} {'CPU s':>6}")
    for attention, enc_layers, dec_layers in RUNS:
        model = s2s.Seq2Seq(len(src_vocab), len(tgt_vocab), attention=attention, enc_layers=enc_layers,
                            dec_layers=dec_layers, **MODEL)
        history = s2s.train_seq2seq(model, splits["train"], splits["val"], src_vocab, tgt_vocab, **TRAIN)
        test = s2s.evaluate(model, splits["test"], src_vocab, tgt_vocab)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"{attention or 'none':>9} {enc_layers:>7} {dec_layers:>7} {n_params:>10,} {test['exact']:>10.2%} "
              f"{test['char']:>8.2%} {history['wall']:>6.0f} {history['cpu']:>6.0f}", flush=True)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - start:.0f} s")
