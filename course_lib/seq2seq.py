"""Sequence to sequence / 序列到序列: an RNN encoder–decoder / 编码器–解码器, with and without attention.

Used by notebooks/08_seq2seq_attention.ipynb, the assignment ps8_seq2seq_attention
(for the trained model its numpy decoder runs on) and benchmarks/bench_seq2seq.py.
torch, batched, device-agnostic (``device=None`` picks CUDA when there is one).
``course_lib.attention`` is the numpy reference of one attention step and one
decoder step; tests/test_attention.py shows that the modules here agree with it.

The model (the symbols of course_lib.attention)
-----------------------------------------------
Encoder / 编码器: embedding + bidirectional GRU (or LSTM, or tanh RNN) over the source
x_1..x_S; h_i = [→h_i; ←h_i] (d_h = 2 × hidden); the final state / 最终状态
h_T = [→h_S; ←h_1] is the fixed-length summary of the whole input.

Decoder / 解码器, at every step t = 1..T, with y_0 = <s> and
s_0 = tanh(W_init h_T + b_init) (Luong et al. 2015's global attention, without their
extra tanh layer before the output softmax):

    s_t      = cell(x_t, s_{t-1})          x_t = E y_{t-1} with attention,
                                           x_t = [E y_{t-1}; h_T] without (Cho et al. 2014)
    c_t, α_t = attend(s_t, H)              with attention / 注意力 (A1)-(A3)
    c_t      = h_T for every t             without attention: the bottleneck / 瓶颈
    o_t      = softmax(V [s_t; c_t] + b_o)

cell is a GRU, an LSTM or the tanh RNN of module 5 (then U, W, b_s are the
cell's weight_ih, weight_hh, bias_ih + bias_hh).  Deep (stacked) RNNs / 深层RNN:
``enc_layers`` bidirectional layers, each reading the concatenated states of the
one below, and ``dec_layers`` decoder layers; H, h_T and the s_t that attends are
the top layer's, and every decoder layer starts from the same s_0.  Because c_t is not fed back
into the cell, teacher forcing runs the decoder's recurrence over all T steps
in one call and attends for all t at once; Bahdanau et al. (2015) attend with
s_{t-1} and feed c_t into the cell, which forces a Python loop over t.

Attention scores (``AdditiveAttention``, ``MultiplicativeAttention``)::

    additive / 加性 (Bahdanau)          e_{t,i} = vᵀ tanh(W s_t + U h_i)
    dot / 点积 (Luong)                  e_{t,i} = s_tᵀ h_i
    general / 双线性 (Luong)            e_{t,i} = s_tᵀ W_a h_i
    α_t = softmax over the real (non-padding) source positions; α_{t,i} = 0 on padding.

Training uses teacher forcing / 教师强制 (the true y_{t-1} is fed in, one
cross-entropy per target token, padding ignored); inference uses greedy
decoding / 贪心解码 or beam search / 束搜索.  Metrics: exact match / 完全匹配
(the whole output right) and per-character accuracy / 字符准确率.

Shapes: B batch, S source length, T target length, d_h = 2 × hidden
(encoder states), d_s decoder state, |V| vocabulary size.
Token ids: 0 <pad>, 1 <s>, 2 </s>, 3 <unk>, then the tokens in sorted order
(characters with ``tokenize_chars``, the targets; lower-cased words, single digits
and symbols with ``tokenize_words``, the sources of the dates task).

With cell="rnn" and attention, one decoder step is exactly
``course_lib.attention.decoder_step``; ``decoder_params_numpy`` and ``encode_numpy``
export what it needs.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

__all__ = [
    "PAD", "SOS", "EOS", "UNK", "PAD_ID", "SOS_ID", "EOS_ID", "UNK_ID", "tokenize_chars", "tokenize_words", "Vocab",
    "default_device", "set_threads", "batch_sources", "batch_targets", "masked_softmax", "AdditiveAttention",
    "MultiplicativeAttention", "make_attention", "Encoder", "Decoder", "Seq2Seq", "exact_match", "char_accuracy",
    "accuracy_by_length", "train_seq2seq", "evaluate", "translate", "replace_unknowns", "plot_alignment", "cjk_font",
    "decoder_params_numpy", "encode_numpy",
]

PAD, SOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
PAD_ID, SOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


def default_device(device=None) -> torch.device:
    """``device`` as a torch.device; None means CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def set_threads(n: int | None):
    """Temporarily use ``n`` torch CPU threads (None: leave as is).

    One thread is both faster and bitwise reproducible for these small
    matrices on a 2-core machine shared with other work.
    """
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


# --------------------------------------------------------------------------
# Tokens <-> ids
# --------------------------------------------------------------------------

def tokenize_chars(text: str) -> list[str]:
    """Every character is a token (the targets: "2026-11-22" → 10 tokens)."""
    return list(text)


_WORD_OR_SYMBOL = re.compile(r"[^\W\d_]+|\S")


def tokenize_words(text: str) -> list[str]:
    """Lower-cased runs of letters are tokens, every other visible character is one, spaces are dropped.

    "Sunday, NOVEMBER 22nd 2026" → ["sunday", ",", "november", "2", "2", "nd", "2", "0", "2", "6"]:
    digits stay single so that the model can copy them; "2026年11月22日" gives 2 0 2 6 年 1 1 月 2 2 日.
    """
    return _WORD_OR_SYMBOL.findall(text.lower())


class Vocab:
    """Token vocabulary: ids 0..3 are <pad>, <s>, </s>, <unk>; then the tokens, sorted.

    ``tokenize`` turns a text into tokens (``tokenize_chars`` or ``tokenize_words``).
    """

    def __init__(self, tokens, tokenize=tokenize_chars):
        self.tokenize = tokenize
        self.itos = [PAD, SOS, EOS, UNK] + sorted(set(tokens) - {PAD, SOS, EOS, UNK})
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}

    @classmethod
    def from_texts(cls, texts, tokenize=tokenize_chars) -> "Vocab":
        return cls({tok for text in texts for tok in tokenize(text)}, tokenize)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """Ids of the tokens of ``text`` (unknown ones → <unk>)."""
        return [self.stoi.get(tok, UNK_ID) for tok in self.tokenize(text)]

    def decode(self, ids, sep: str = "") -> str:
        """Text of ``ids`` joined by ``sep``, stopping at </s> and skipping <pad> and <s>."""
        out = []
        for i in (int(i) for i in ids):
            if i == EOS_ID:
                break
            if i not in (PAD_ID, SOS_ID):
                out.append(self.itos[i])
        return sep.join(out)


def _pad(seqs, device) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), PAD_ID, dtype=torch.long)
    for b, s in enumerate(seqs):
        out[b, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out.to(device)


def batch_sources(texts, vocab: Vocab, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Source ids (B, S) padded with <pad>, and the lengths (B,) (on the CPU, as packing wants)."""
    seqs = [vocab.encode(t) for t in texts]
    if not seqs or any(len(s) == 0 for s in seqs):
        raise ValueError("batch_sources: expected a non-empty list of texts with at least one token each")
    return _pad(seqs, default_device(device)), torch.tensor([len(s) for s in seqs])


def batch_targets(texts, vocab: Vocab, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder inputs "<s> y_1..y_T" and outputs "y_1..y_T </s>", both (B, T + 1), padded."""
    seqs = [vocab.encode(t) for t in texts]
    device = default_device(device)
    return _pad([[SOS_ID] + s for s in seqs], device), _pad([s + [EOS_ID] for s in seqs], device)


# --------------------------------------------------------------------------
# Attention: (A1) scores, (A2) masked softmax, (A3) context
# --------------------------------------------------------------------------

def masked_softmax(e: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(A2) softmax of e (..., S) over the positions where ``mask`` (..., S) is True; exactly 0 elsewhere."""
    return e.masked_fill(~mask, float("-inf")).softmax(dim=-1)


class _Attention(nn.Module):
    """Shared forward pass: scores from ``keys`` and ``scores``, then (A2) and (A3)."""

    def keys(self, H: torch.Tensor) -> torch.Tensor:
        """What the scores need from H (B, S, d_h), computed once per source sentence."""
        raise NotImplementedError

    def scores(self, s: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        """(A1) e (B, T, S) from the queries s (B, T, d_s) and the keys K."""
        raise NotImplementedError

    def forward(self, s, H, mask, K=None):
        """Attention for a batch, for one decoder state or for T of them at once.

        Args:
            s: decoder states (B, d_s), or (B, T, d_s) for T steps.
            H: encoder states (B, S, d_h).
            mask: bool (B, S), True at real positions (every row needs one).
            K: ``self.keys(H)``, when already computed.

        Returns:
            c: contexts (B, d_h) or (B, T, d_h).
            alpha: weights (B, S) or (B, T, S); they sum to 1 over the real positions, 0 on padding.
        """
        if s.dim() not in (2, 3) or H.dim() != 3 or mask.shape != H.shape[:2] or s.shape[0] != H.shape[0]:
            raise ValueError(f"attention: expected s (B, d_s) or (B, T, d_s), H (B, S, d_h), mask (B, S), "
                             f"got s {tuple(s.shape)}, H {tuple(H.shape)}, mask {tuple(mask.shape)}")
        one_step = s.dim() == 2
        s = s.unsqueeze(1) if one_step else s
        K = self.keys(H) if K is None else K
        alpha = masked_softmax(self.scores(s, K), mask.unsqueeze(1))      # (A1), (A2): (B, T, S)
        c = torch.bmm(alpha, H)                                            # (A3) Σ_i α_i h_i: (B, T, d_h)
        return (c.squeeze(1), alpha.squeeze(1)) if one_step else (c, alpha)


class AdditiveAttention(_Attention):
    """Bahdanau's additive attention / 加性注意力: e_i = vᵀ tanh(W s + U h_i).

    W: Linear(d_s → d_a), U: Linear(d_h → d_a), v: Linear(d_a → 1), none with a bias
    (their weights are course_lib.attention's W (d_a, d_s), U (d_a, d_h), v (d_a,)).
    """

    def __init__(self, d_s: int, d_h: int, d_a: int):
        super().__init__()
        self.W = nn.Linear(d_s, d_a, bias=False)
        self.U = nn.Linear(d_h, d_a, bias=False)
        self.v = nn.Linear(d_a, 1, bias=False)

    def keys(self, H):
        return self.U(H)                                           # U h_i for all i, (B, S, d_a)

    def scores(self, s, K):
        return self.v(torch.tanh(self.W(s).unsqueeze(2) + K.unsqueeze(1))).squeeze(-1)   # (B, T, S, d_a) → (B, T, S)


class MultiplicativeAttention(_Attention):
    """Luong's multiplicative attention / 乘性注意力: "dot" e_i = sᵀ h_i, "general" e_i = sᵀ W_a h_i.

    "general" has W_a: Linear(d_h → d_s) without bias (weight = course_lib.attention's W_a (d_s, d_h));
    "dot" has no parameters and needs d_s = d_h.
    """

    def __init__(self, d_s: int, d_h: int, kind: str = "general"):
        super().__init__()
        if kind not in ("dot", "general"):
            raise ValueError(f"kind: expected 'dot' or 'general', got {kind!r}")
        if kind == "dot" and d_s != d_h:
            raise ValueError(f"dot attention needs d_s = d_h, got d_s = {d_s}, d_h = {d_h}")
        self.kind = kind
        self.W_a = nn.Linear(d_h, d_s, bias=False) if kind == "general" else None

    def keys(self, H):
        return H if self.W_a is None else self.W_a(H)              # h_i or W_a h_i, (B, S, d_s)

    def scores(self, s, K):
        return torch.bmm(s, K.transpose(1, 2))                    # s_tᵀ (W_a) h_i: (B, T, S)


def make_attention(kind: str | None, d_s: int, d_h: int, d_a: int = 64):
    """"additive", "dot", "general", or None (no attention)."""
    if kind is None:
        return None
    if kind == "additive":
        return AdditiveAttention(d_s, d_h, d_a)
    if kind in ("dot", "general"):
        return MultiplicativeAttention(d_s, d_h, kind)
    raise ValueError(f"attention: expected 'additive', 'dot', 'general' or None, got {kind!r}")


# --------------------------------------------------------------------------
# Encoder and decoder
# --------------------------------------------------------------------------

_RNNS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}
class Encoder(nn.Module):
    """Embedding + bidirectional recurrent network / 双向循环网络 over the padded source."""

    def __init__(self, vocab_size: int, d_emb: int, hidden: int, cell: str = "gru", layers: int = 1):
        super().__init__()
        if cell not in _RNNS:
            raise ValueError(f"cell: expected one of {list(_RNNS)}, got {cell!r}")
        self.embedding = nn.Embedding(vocab_size, d_emb, padding_idx=PAD_ID)
        self.rnn = _RNNS[cell](d_emb, hidden, num_layers=layers, batch_first=True, bidirectional=True)

    def forward(self, src, lengths):
        """src (B, S) ids, lengths (B,) → H (B, S, 2·hidden) (zeros on padding) and h_T (B, 2·hidden).

        h_T = [→h at the last real position; ←h at position 1] of the top layer: the fixed-length summary.
        """
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, final = self.rnn(packed)
        H, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        h_n = final[0] if isinstance(final, tuple) else final     # LSTM: (h_n, c_n)
        return H, torch.cat([h_n[-2], h_n[-1]], dim=-1)          # top layer: forward, backward


class Decoder(nn.Module):
    """The recurrence over the target, then attention (or the fixed h_T), then the output layer."""

    def __init__(self, vocab_size: int, d_emb: int, d_s: int, d_h: int, attention=None, cell: str = "gru",
                 layers: int = 1):
        super().__init__()
        if cell not in _RNNS:
            raise ValueError(f"cell: expected one of {list(_RNNS)}, got {cell!r}")
        self.cell_kind = cell
        self.layers = layers
        self.attention = attention
        self.embedding = nn.Embedding(vocab_size, d_emb, padding_idx=PAD_ID)        # E
        d_in = d_emb if attention is not None else d_emb + d_h                       # x_t
        self.rnn = _RNNS[cell](d_in, d_s, num_layers=layers, batch_first=True)       # U, W, b_s (for "rnn")
        self.out = nn.Linear(d_s + d_h, vocab_size)                                  # V, b_o

    def forward(self, y_prev, state, memory):
        """T steps for a batch (T = 1 when decoding one token at a time).

        Args:
            y_prev: previous tokens y_0..y_{T-1} (B, T).
            state: s_0 (layers, B, d_s) before the first of them, or (h, c) for an LSTM.
            memory: from ``Seq2Seq.encode``: "H" (B, S, d_h), "mask" (B, S), "K", "h_T" (B, d_h).

        Returns:
            logits (B, T, |V|), the state after step T, alpha (B, T, S) or None without attention.
        """
        x = self.embedding(y_prev)
        if self.attention is None:
            h_T = memory["h_T"].unsqueeze(1).expand(-1, y_prev.shape[1], -1)
            x = torch.cat([x, h_T], dim=-1)
        s, state = self.rnn(x, state)                                   # top layer's s_1..s_T: (B, T, d_s)
        if self.attention is None:
            c, alpha = h_T, None
        else:
            c, alpha = self.attention(s, memory["H"], memory["mask"], memory["K"])  # (B, T, d_h), (B, T, S)
        return self.out(torch.cat([s, c], dim=-1)), state, alpha


class Seq2Seq(nn.Module):
    """Encoder–decoder with optional attention.

    Args:
        src_vocab, tgt_vocab: sizes |V_src|, |V_tgt|.
        d_emb: embedding size (source and target).
        hidden: encoder hidden size per direction (d_h = 2 × hidden).
        d_s: decoder state size (defaults to d_h, which "dot" attention needs).
        attention: "additive", "dot", "general" or None (context = h_T at every step).
        cell: "gru", "lstm" or "rnn" (tanh), for both encoder and decoder.
        d_a: size of the additive attention's hidden layer.
        enc_layers, dec_layers: depths of the encoder (bidirectional layers) and the decoder.
        seed: seed of the parameter initialisation (the global torch RNG is left untouched).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_emb: int = 32, hidden: int = 64, d_s: int | None = None,
                 attention: str | None = "general", cell: str = "gru", d_a: int = 32, seed: int = 0,
                 enc_layers: int = 1, dec_layers: int = 1):
        super().__init__()
        if enc_layers < 1 or dec_layers < 1:
            raise ValueError(f"enc_layers, dec_layers: expected positive integers, got {enc_layers}, {dec_layers}")
        d_h = 2 * hidden
        d_s = d_h if d_s is None else d_s
        self.config = {"src_vocab": src_vocab, "tgt_vocab": tgt_vocab, "d_emb": d_emb, "hidden": hidden,
                       "d_s": d_s, "attention": attention, "cell": cell, "d_a": d_a, "seed": seed,
                       "enc_layers": enc_layers, "dec_layers": dec_layers}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.encoder = Encoder(src_vocab, d_emb, hidden, cell, enc_layers)
            self.init_state = nn.Linear(d_h, d_s)                                    # W_init, b_init
            self.decoder = Decoder(tgt_vocab, d_emb, d_s, d_h, make_attention(attention, d_s, d_h, d_a), cell,
                                   dec_layers)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode(self, src, lengths) -> dict:
        """Encoder states and the decoder's start: "H", "mask", "K", "h_T", "state" (s_0 as (dec_layers, B, d_s))."""
        if src.dim() != 2 or lengths.shape != (src.shape[0],):
            raise ValueError(f"expected src (B, S) and lengths (B,), got {tuple(src.shape)} and {tuple(lengths.shape)}")
        if int(lengths.min()) < 1 or int(lengths.max()) > src.shape[1]:
            raise ValueError(f"lengths must lie in [1, S = {src.shape[1]}], "
                             f"got [{int(lengths.min())}, {int(lengths.max())}]")
        H, h_T = self.encoder(src, lengths)
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < lengths.to(src.device)[:, None]
        s0 = torch.tanh(self.init_state(h_T)).unsqueeze(0).repeat(self.decoder.layers, 1, 1)
        state = (s0, torch.zeros_like(s0)) if self.decoder.cell_kind == "lstm" else s0
        attention = self.decoder.attention
        return {"H": H, "mask": mask, "h_T": h_T, "state": state,
                "K": None if attention is None else attention.keys(H)}

    def forward(self, src, lengths, tgt_in):
        """Teacher forcing / 教师强制: logits (B, T, |V_tgt|) and weights (B, T, S) (None without attention).

        tgt_in (B, T) holds "<s> y_1 .. y_{T-1}": step t sees the TRUE previous token.
        """
        memory = self.encode(src, lengths)
        logits, _, alphas = self.decoder(tgt_in, memory["state"], memory)
        return logits, alphas

    def loss(self, src, lengths, tgt_in, tgt_out) -> torch.Tensor:
        """Mean cross-entropy per target token (padding ignored)."""
        logits, _ = self(src, lengths, tgt_in)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=PAD_ID)

    @torch.no_grad()
    def greedy(self, src, lengths, max_len: int = 40):
        """Greedy decoding / 贪心解码: y_t = argmax o_t, fed back as the next input.

        Returns:
            ids: list of B lists of output ids (</s> excluded).
            alphas: (B, T, S) weights of every step run (None without attention).
        """
        memory = self.encode(src, lengths)
        state = memory["state"]
        y = torch.full((src.shape[0], 1), SOS_ID, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        steps, alphas = [], []
        for _ in range(max_len):
            logits, state, alpha = self.decoder(y, state, memory)
            y = logits[:, -1].argmax(-1).masked_fill(done, PAD_ID).unsqueeze(1)
            steps.append(y)
            alphas.append(alpha)
            done |= y[:, 0] == EOS_ID
            if bool(done.all()):
                break
        out = torch.cat(steps, 1).tolist()
        ids = [row[: row.index(EOS_ID)] if EOS_ID in row else row for row in out]
        return ids, (None if alphas[0] is None else torch.cat(alphas, 1))

    @torch.no_grad()
    def beam_search(self, src, lengths, beam_size: int = 4, max_len: int = 40):
        """Beam search / 束搜索: keep the ``beam_size`` most probable prefixes (total log-probability).

        At every step each prefix is extended by every token; a candidate ending in </s> that
        ranks among the ``beam_size`` best of the step is set aside as finished, and the best
        ``beam_size`` other candidates go on.  The search stops when the best finished output is
        more probable than every running prefix (log-probabilities only fall as a prefix grows)
        or after ``max_len`` steps.  With beam_size = 1 this is greedy decoding.

        Returns:
            ids: list of B lists of output ids (</s> excluded).
            scores: list of B total log-probabilities (of the ids and the final </s>).
        """
        if beam_size < 1:
            raise ValueError(f"beam_size: expected a positive integer, got {beam_size}")
        memory = self.encode(src, lengths)
        results, scores = [], []
        for b in range(src.shape[0]):
            one = {k: _select(v, b, dim=1 if k == "state" else 0) for k, v in memory.items()}
            ids, score = self._beam_one(one, beam_size, max_len)
            results.append(ids)
            scores.append(score)
        return results, scores

    def _beam_one(self, memory, beam_size, max_len):
        """Beam search for one source sentence; ``memory`` has batch size 1."""
        device = memory["H"].device
        prefixes, logp, state = [[]], torch.zeros(1, device=device, dtype=memory["H"].dtype), memory["state"]
        best = None                                                # (log-prob, ids) of the best finished output
        for _ in range(max_len):
            k = len(prefixes)
            mem = {key: None if v is None else v.expand(k, *v.shape[1:])
                   for key, v in memory.items() if key != "state"}
            y = torch.tensor([[p[-1] if p else SOS_ID] for p in prefixes], device=device)
            logits, state, _ = self.decoder(y, state, mem)
            total = (logp[:, None] + logits[:, -1].log_softmax(-1)).reshape(-1)
            candidates = total.topk(min(2 * beam_size, total.numel()))   # at most k of them end in </s>
            keep, new_prefixes, new_logp = [], [], []
            for rank, (value, index) in enumerate(zip(candidates.values.tolist(), candidates.indices.tolist())):
                parent, token = divmod(index, logits.shape[-1])
                if token == EOS_ID:
                    if rank < beam_size and (best is None or value > best[0]):
                        best = (value, prefixes[parent])
                elif len(keep) < beam_size:
                    keep.append(parent)
                    new_prefixes.append(prefixes[parent] + [token])
                    new_logp.append(value)
            if not keep or (best is not None and best[0] >= new_logp[0]):
                break
            index = torch.tensor(keep, device=device)
            state = tuple(s[:, index] for s in state) if isinstance(state, tuple) else state[:, index]
            prefixes, logp = new_prefixes, torch.tensor(new_logp, device=device, dtype=logp.dtype)
        if best is None:                                           # max_len reached without </s>
            best = (float(logp[0]), prefixes[0])
        return best[1], best[0]


def _select(value, b, dim=0):
    """Item ``b`` of a batch, keeping the batch axis (size 1); tuples (LSTM states) element-wise."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(_select(v, b, dim) for v in value)
    return value.narrow(dim, b, 1)


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

def exact_match(predictions, targets) -> float:
    """Fraction of outputs equal to their target, character for character."""
    if len(predictions) != len(targets) or not targets:
        raise ValueError(f"expected two non-empty lists of the same length, got {len(predictions)} and {len(targets)}")
    return float(np.mean([p == t for p, t in zip(predictions, targets)]))


def char_accuracy(predictions, targets) -> float:
    """Per-character accuracy: for each pair, the fraction of positions i with pred[i] == target[i],
    out of max(len(pred), len(target)) (so a missing or extra character counts as wrong); mean over pairs."""
    if len(predictions) != len(targets) or not targets:
        raise ValueError(f"expected two non-empty lists of the same length, got {len(predictions)} and {len(targets)}")
    scores = []
    for p, t in zip(predictions, targets):
        width = max(len(p), len(t))
        scores.append(1.0 if width == 0 else sum(a == b for a, b in zip(p, t)) / width)
    return float(np.mean(scores))


def accuracy_by_length(sources, predictions, targets, edges=(0, 10, 15, 20, 30, 45, 60, 1000)) -> list[dict]:
    """Exact match and per-character accuracy for source lengths in [edges[i], edges[i+1]).

    Returns one dict per non-empty bin: "bin" ("a-b"), "n", "exact", "char".
    """
    lengths = np.array([len(s) for s in sources])
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        idx = np.flatnonzero((lengths >= lo) & (lengths < hi))
        if len(idx):
            p, t = [predictions[i] for i in idx], [targets[i] for i in idx]
            rows.append({"bin": f"{lo}-{hi - 1}", "n": len(idx), "exact": exact_match(p, t),
                         "char": char_accuracy(p, t)})
    return rows


# --------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------

def translate(model: Seq2Seq, texts, src_vocab: Vocab, tgt_vocab: Vocab, beam_size: int = 1,
              max_len: int = 40, batch_size: int = 512, sep: str = ""):
    """Outputs for ``texts`` (greedy when beam_size = 1), and the attention weights.

    ``sep`` joins the output tokens: "" for characters, " " for words.

    Returns:
        predictions: list of strings.
        alphas: list of (T_b, S_b) numpy arrays, one per text, trimmed to its output (+ </s>) and
            its source length (None entries without attention or with beam search).
    """
    model.eval()
    predictions, alphas = [], []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start: start + batch_size])
        src, lengths = batch_sources(chunk, src_vocab, model.device)
        if beam_size == 1:
            ids, att = model.greedy(src, lengths, max_len)
        else:
            ids, _ = model.beam_search(src, lengths, beam_size, max_len)
            att = None
        for b, row in enumerate(ids):
            predictions.append(tgt_vocab.decode(row, sep))
            alphas.append(None if att is None else att[b, : len(row) + 1, : int(lengths[b])].cpu().numpy())
    return predictions, alphas


def replace_unknowns(output_tokens, alpha, source_tokens, translate_word) -> list:
    """Attention as alignment / 注意力即对齐: each output <unk> becomes the translation of the source word it attends to most.

    Luong et al. (2015, *Addressing the Rare Word Problem in Neural Machine Translation*)
    post-process a word-level model this way; with attention, the alignment comes for free.

    Args:
        output_tokens: T output tokens (</s> excluded).
        alpha: weights (T', S) from ``translate``, T' >= T (row j: output token j), S = len(source_tokens).
        source_tokens: the S source tokens.
        translate_word: source word → target word (e.g. a word-by-word dictionary, which may copy).
    """
    alpha = np.asarray(alpha)
    if alpha.ndim != 2 or alpha.shape[0] < len(output_tokens) or alpha.shape[1] != len(source_tokens):
        raise ValueError(f"alpha: expected shape (>= {len(output_tokens)}, {len(source_tokens)}), got {alpha.shape}")
    return [translate_word(source_tokens[int(np.argmax(alpha[j]))]) if tok == UNK else tok
            for j, tok in enumerate(output_tokens)]


def evaluate(model: Seq2Seq, pairs, src_vocab: Vocab, tgt_vocab: Vocab, beam_size: int = 1) -> dict:
    """"exact", "char" and "predictions" on (source, target) ``pairs``."""
    sources = [s for s, _ in pairs]
    targets = [t for _, t in pairs]
    max_len = max(len(t) for t in targets) + 5
    predictions, _ = translate(model, sources, src_vocab, tgt_vocab, beam_size, max_len)
    return {"exact": exact_match(predictions, targets), "char": char_accuracy(predictions, targets),
            "predictions": predictions}


def train_seq2seq(model: Seq2Seq, train_pairs, val_pairs, src_vocab: Vocab, tgt_vocab: Vocab, steps: int = 2000,
                  batch_size: int = 64, lr: float = 1e-2, decay: bool = True, clip: float = 1.0,
                  eval_every: int = 100, target: float | None = None, seed: int = 0, threads: int | None = 1,
                  progress: bool = True, desc: str = "seq2seq") -> dict:
    """Train with teacher forcing and Adam; evaluate greedy exact match on ``val_pairs`` every ``eval_every`` steps.

    Batches are drawn from reshuffled passes over ``train_pairs`` by a numpy Generator seeded with
    ``seed``; together with the model's own seed and ``threads=1`` (one CPU thread, see
    ``set_threads``) a run is bitwise reproducible on a given machine.

    Args:
        lr, decay: Adam's step size, decayed linearly to 0 at ``steps`` when ``decay``.
        clip: bound on the global gradient norm / 梯度裁剪.
        target: stop at the first evaluation whose validation exact match is >= target (None: run all steps).

    Returns:
        dict with "loss" (per step), "eval" (list of dicts: step, exact, char, wall, cpu seconds),
        "wall", "cpu" (seconds in total), "time_to_target" (wall seconds at the first evaluation
        reaching ``target``, or None) and "steps" (steps run).
    """
    if not train_pairs or not val_pairs:
        raise ValueError(f"expected non-empty train and validation pairs, got {len(train_pairs)} and {len(val_pairs)}")
    device = model.device
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1.0 - i / steps if decay else 1.0)
    history = {"loss": [], "eval": [], "time_to_target": None}
    order, position = rng.permutation(len(train_pairs)), 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with set_threads(threads):
        bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress)
        for step in bar:
            if position + batch_size > len(order):
                order, position = rng.permutation(len(train_pairs)), 0
            batch = [train_pairs[i] for i in order[position: position + batch_size]]
            position += batch_size
            model.train()
            src, lengths = batch_sources([s for s, _ in batch], src_vocab, device)
            tgt_in, tgt_out = batch_targets([t for _, t in batch], tgt_vocab, device)
            loss = model.loss(src, lengths, tgt_in, tgt_out)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            schedule.step()
            history["loss"].append(loss.item())
            if step % eval_every == 0 or step == steps:
                scores = evaluate(model, val_pairs, src_vocab, tgt_vocab)
                history["eval"].append({"step": step, "exact": scores["exact"], "char": scores["char"],
                                        "wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0})
                bar.set_postfix(loss=f"{loss.item():.3f}", val_exact=f"{scores['exact']:.3f}")
                if target is not None and scores["exact"] >= target:
                    history["time_to_target"] = history["eval"][-1]["wall"]
                    break
        bar.close()
    history["wall"], history["cpu"] = time.perf_counter() - wall0, time.process_time() - cpu0
    history["steps"] = len(history["loss"])
    return history


_CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "SimHei",
              "Microsoft YaHei", "PingFang SC", "Heiti SC")
_PINYIN = {"年": "nian", "月": "yue", "日": "ri", "星期一": "xingqiyi", "星期二": "xingqier", "星期三": "xingqisan",
           "星期四": "xingqisi", "星期五": "xingqiwu", "星期六": "xingqiliu", "星期日": "xingqiri"}


def cjk_font() -> str | None:
    """The name of an installed font with Chinese characters (None if there is none).

    Fonts installed after matplotlib built its font cache are found on disk and registered.
    """
    from matplotlib import font_manager

    def known():
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in _CJK_FONTS if name in names), None)

    if known() is None:
        for path in font_manager.findSystemFonts():
            if any(key in path.lower() for key in ("wqy", "cjk", "sourcehan", "simhei", "msyh", "pingfang")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
    return known()


def plot_alignment(alpha, source_tokens, output_tokens, ax=None, title: str | None = None):
    """Heatmap of soft alignments / 软对齐 in the style of Rush et al. (2015), Figure 1 (ABS).

    Column j is the distribution over the input while output token j was generated, so every
    column sums to 1; the input runs down the side, the output along the top.  Chinese labels
    use an installed CJK font, or are written in pinyin when there is none.

    Args:
        alpha: weights (T, S): one row per output token, one column per input token.
        source_tokens: S labels;  output_tokens: T labels.
        ax: matplotlib Axes (a new figure if None).
        title: title above the output labels.

    Returns:
        the Axes.
    """
    import matplotlib.pyplot as plt

    alpha = np.asarray(alpha)
    if alpha.shape != (len(output_tokens), len(source_tokens)):
        raise ValueError(f"alpha: expected shape (T, S) = ({len(output_tokens)}, {len(source_tokens)}), "
                         f"got {alpha.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.32 * len(output_tokens) + 1.5, 0.32 * len(source_tokens) + 1.2))
    font = cjk_font()

    def label(text):
        if font is None and any(ord(ch) > 0x2E7F for ch in text):
            return _PINYIN.get(text, "?")
        return text

    ax.imshow(alpha.T, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(output_tokens)), [label(t) for t in output_tokens])
    ax.set_yticks(range(len(source_tokens)), [label(t) for t in source_tokens])
    ax.xaxis.tick_top()
    ax.yaxis.tick_right()
    ax.tick_params(length=0)
    if title:
        ax.set_title(title if font else "".join(label(ch) for ch in title), fontsize=9, pad=24)
    if font:
        for text in [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.title]:
            text.set_fontfamily(font)
            text.set_fontweight(500)           # CJK fonts often come in one weight only
    return ax


# --------------------------------------------------------------------------
# Export to the numpy reference (course_lib.attention)
# --------------------------------------------------------------------------

def decoder_params_numpy(model: Seq2Seq) -> dict:
    """The decoder of a cell="rnn" model as course_lib.attention's params (float64 numpy).

    E, U (d_s, d_emb + d_h), W (d_s, d_s), b_s = b_ih + b_hh, V (|V|, d_s + d_h), b_o, and "attention"
    (additive: W, U, v; general: W_a; dot: {}).
    """
    dec = model.decoder
    if dec.cell_kind != "rnn" or dec.attention is None or dec.layers != 1:
        raise ValueError(f"expected a model with cell='rnn', attention and one decoder layer, got "
                         f"cell={dec.cell_kind!r}, attention={model.config['attention']!r}, dec_layers={dec.layers}")

    def np64(t):
        return t.detach().cpu().double().numpy()

    att = dec.attention
    if isinstance(att, AdditiveAttention):
        attention = {"W": np64(att.W.weight), "U": np64(att.U.weight), "v": np64(att.v.weight[0])}
    elif att.W_a is not None:
        attention = {"W_a": np64(att.W_a.weight)}
    else:
        attention = {}
    rnn = dec.rnn
    return {"E": np64(dec.embedding.weight), "U": np64(rnn.weight_ih_l0), "W": np64(rnn.weight_hh_l0),
            "b_s": np64(rnn.bias_ih_l0 + rnn.bias_hh_l0), "V": np64(dec.out.weight), "b_o": np64(dec.out.bias),
            "attention": attention}


@torch.no_grad()
def encode_numpy(model: Seq2Seq, text: str, src_vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """Encoder states H (S, d_h) and the decoder's initial state s_0 (d_s,) of one text, as float64 numpy."""
    model.eval()
    src, lengths = batch_sources([text], src_vocab, model.device)
    memory = model.encode(src, lengths)
    return memory["H"][0].cpu().double().numpy(), memory["state"][0, 0].cpu().double().numpy()
