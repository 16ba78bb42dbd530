"""Time to 99 % exact match on the dates task: our decoder against the PyTorch tutorial's design.

Both models share everything (data, bidirectional GRU encoder, sizes, additive attention,
Adam with linear decay, batch 64, one CPU thread) except the decoder's layout:

- ours (course_lib.seq2seq, Luong et al. 2015): s_t = GRU(E y_{t-1}, s_{t-1}), then attend with
  s_t, so teacher forcing runs the GRU over all target steps in one call and attends for all
  steps at once;
- the peer, the layout of PyTorch's tutorial "NLP From Scratch: Translation with a Sequence to
  Sequence Network and Attention" (AttnDecoderRNN with Bahdanau attention): attend with
  s_{t-1}, feed [E y_{t-1}; c_t] into the GRU, one Python-level step per target token.

Each is trained until the greedy exact match on the 1,000 validation pairs reaches 99 %
(checked every 25 steps, at most 400 steps); the test exact match at that point is printed
too.  Prints wall and CPU seconds and the ratio ours / peer.  Run: python benchmarks/bench_seq2seq.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_lib import dates  # noqa: E402
from course_lib import seq2seq as s2s  # noqa: E402

TARGET, STEPS, EVAL_EVERY = 0.99, 400, 25


class TutorialDecoder(nn.Module):
    """The peer: Bahdanau's layout, one target step at a time (the state s_{t-1} is the query)."""

    def __init__(self, vocab_size, d_emb, d_s, d_h, d_a):
        super().__init__()
        self.cell_kind = "gru"
        self.embedding = nn.Embedding(vocab_size, d_emb, padding_idx=s2s.PAD_ID)
        self.attention = s2s.AdditiveAttention(d_s, d_h, d_a)
        self.cell = nn.GRUCell(d_emb + d_h, d_s)
        self.out = nn.Linear(d_s, vocab_size)

    def forward(self, y_prev, state, memory):
        s, logits, alphas = state[0], [], []
        for t in range(y_prev.shape[1]):
            c, alpha = self.attention(s, memory["H"], memory["mask"], memory["K"])
            s = self.cell(torch.cat([self.embedding(y_prev[:, t]), c], dim=-1), s)
            logits.append(self.out(s))
            alphas.append(alpha)
        return torch.stack(logits, 1), s.unsqueeze(0), torch.stack(alphas, 1)


def make_model(kind: str, src_size: int, tgt_size: int) -> s2s.Seq2Seq:
    model = s2s.Seq2Seq(src_size, tgt_size, d_emb=32, hidden=64, attention="additive", d_a=32, seed=0)
    if kind == "peer":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model.decoder = TutorialDecoder(tgt_size, 32, 128, 128, 32)
    return model


def main() -> None:
    splits = dates.make_splits(20000, 1000, 2000, seed=0, max_dates=2)
    src_vocab = s2s.Vocab.from_texts([s for s, _ in splits["train"]], s2s.tokenize_words)
    tgt_vocab = s2s.Vocab("0123456789- ")
    print(f"dates task: 1-2 dates per input, {len(splits['train'])} training pairs; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, 1 thread")
    results = {}
    for kind in ("ours", "peer"):
        model = make_model(kind, len(src_vocab), len(tgt_vocab))
        history = s2s.train_seq2seq(model, splits["train"], splits["val"], src_vocab, tgt_vocab, steps=STEPS,
                                    eval_every=EVAL_EVERY, target=TARGET, progress=False)
        last = history["eval"][-1]
        test = s2s.evaluate(model, splits["test"], src_vocab, tgt_vocab)["exact"]
        reached = history["time_to_target"] is not None
        results[kind] = last
        print(f"{kind:>4}: {'reached' if reached else 'did NOT reach'} {TARGET:.0%} validation exact match after "
              f"{last['step']} steps, {last['wall']:.1f} s wall ({last['cpu']:.1f} s CPU); "
              f"validation {last['exact']:.2%}, test {test:.2%}")
    ours, peer = results["ours"], results["peer"]
    print(f"time to {TARGET:.0%}, ours / peer: {ours['wall'] / peer['wall']:.2f} (wall), "
          f"{ours['cpu'] / peer['cpu']:.2f} (CPU); steps {ours['step']} / {peer['step']}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - start:.0f} s")
