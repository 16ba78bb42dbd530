"""Verified checks for ps8_seq2seq_attention: each graded function against course_lib.attention.

* ``attention_scores``: the three score functions (additive, dot, general) in turn, on random shapes
  of 1 to 6 (S = 1 in trial 0; d_s != d_h allowed for additive and general; in trial 2, a general one,
  d_s != d_h, both at least 2, so that W_a and its transpose cannot be confused).
* ``masked_softmax``: trial 0 has scores around 1000 and a score of 1e6 on every padded position (a
  stable softmax over the real positions only is required); padded positions must be exactly 0
  (``pad_nonzero`` counts the ones that are not); trial 1 has no padding.
* ``context_vector``: weights from a masked softmax (zeros included), and arbitrary real weights.
* ``decoder_step``: o, s and alpha for the three kinds, random masks (padding anywhere, at least one
  real position), random biases.
* ``greedy_decode``: ids and alphas for the three kinds; trial 3 makes </s> win at once (no ids, one row
  of alphas), trial 4 makes a non-</s> token win every time (``max_len`` stops it), trial 5 passes other
  ids for <s> and </s> (neither 1 nor 2; redrawn until the decoding stops at </s> after at least one id
  and the default ids would decode differently, together and each alone: <s> = 1, </s> = 2) and another
  ``max_len``.  No step is a near-tie: the two most probable tokens are at least 1e-4 apart (redrawn
  otherwise), so rounding cannot change an argmax.
* The three quiz answers: the letter (stripped, lower case) as code points.

Masks travel as 0/1 floats and become bool in the snippets.  ``course_lib.seq2seq`` (the torch model of
the ungraded demo, whose training cell the verified grader skips) has no numpy attention and stays importable.
"""

import numpy as np

import course_lib.attention as ref
from autograder.parts import Part

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else stays importable.
# Siblings: _scores and attention_step ((A1)-(A3) at once) in numpy; seq2seq's masked_softmax and attention
# modules in torch.  The rest of seq2seq stays: Seq2Seq without attention (make_attention(None)), the
# encoder, and the export to numpy (decoder_params_numpy, encode_numpy) that the notebook's last cells use.
GRADED = {
    "course_lib.attention": ("attention_scores", "_scores", "masked_softmax", "context_vector", "attention_step",
                             "decoder_step", "greedy_decode"),
    "course_lib.seq2seq": ("masked_softmax", "_Attention", "AdditiveAttention", "MultiplicativeAttention"),
}

KINDS = ref.KINDS                      # ("additive", "dot", "general")
ANSWERS = {"q1": "b", "q2": "c", "q3": "a"}

_DEC_PARAMS = ("E", "U", "W", "b_s", "V", "b_o")

# Shared by the snippets: the kind, the attention parameters (keys "a_<name>"), the decoder's
# parameters and the mask (0/1 floats -> bool), from the arrays the sandbox received.
_UNPACK = (
    "import numpy as _np\n"
    '_kind = ("additive", "dot", "general")[int(inputs["kind"])] if "kind" in inputs else None\n'
    '_att = {_k[2:]: inputs[_k] for _k in inputs if _k.startswith("a_")}\n'
    '_params = {_k: inputs[_k] for _k in ("E", "U", "W", "b_s", "V", "b_o") if _k in inputs}\n'
    '_params["attention"] = _att\n'
    '_mask = _np.asarray(inputs["mask"]) > 0.5 if "mask" in inputs else None\n'
)


def _dims(rng, n, low=1, high=7):
    return [int(v) for v in rng.integers(low, high, size=n)]


def _mask(rng, S, all_real=False):
    """0/1 float mask of length S with at least one real position (padding anywhere)."""
    if all_real:
        return np.ones(S)
    mask = rng.random(S) < 0.6
    mask[int(rng.integers(S))] = True
    return mask.astype(float)


def _attention(rng, kind, d_s, d_h):
    """Attention parameters of ``kind`` under keys "a_<name>" (d_a from 1 to 6)."""
    p = ref.init_attention(kind, d_s, d_h, int(rng.integers(1, 7)), rng)
    return {f"a_{k}": v for k, v in p.items()}


def _att_of(inp):
    return {k[2:]: v for k, v in inp.items() if k.startswith("a_")}


def _kind_of(inp):
    return KINDS[int(inp["kind"])]


def _bool_mask(inp):
    return np.asarray(inp["mask"]) > 0.5


# --------------------------------------------------------------------------
# attention_scores
# --------------------------------------------------------------------------

def _scores_inputs(rng, trial):
    kind = KINDS[trial % 3]
    S, d_h = _dims(rng, 2)
    if trial == 0:
        S = 1
    if kind == "dot":                    # d >= 2: a score scaled by 1/sqrt(d) differs from the slides'
        d_h = max(d_h, 2)
    d_s = d_h if kind == "dot" else int(rng.integers(1, 7))
    if trial == 2:                       # general, d_s != d_h, both >= 2
        d_h, d_s = (int(v) for v in rng.choice(np.arange(2, 7), size=2, replace=False))
    return {"kind": np.array(KINDS.index(kind)), "s": rng.normal(size=d_s), "H": rng.normal(size=(S, d_h)),
            **_attention(rng, kind, d_s, d_h)}


_SCORES_CALL = _UNPACK + 'outputs = {"e": attention_scores(inputs["s"], inputs["H"], _att, _kind)}'


# --------------------------------------------------------------------------
# masked_softmax
# --------------------------------------------------------------------------

def _softmax_inputs(rng, trial):
    S = int(rng.integers(2, 10)) if trial != 1 else int(rng.integers(1, 8))
    mask = _mask(rng, S, all_real=trial == 1)
    if trial == 0:                       # large scores; a huge one on every padded position (at least one)
        mask = np.zeros(S)
        mask[rng.permutation(S)[: int(rng.integers(1, S))]] = 1.0
        e = 1000.0 + rng.normal(scale=3.0, size=S)
        e[mask == 0] = 1e6
    else:
        e = rng.normal(scale=10.0, size=S)
    return {"e": e, "mask": mask}


def _softmax_expected(inp):
    return {"alpha": ref.masked_softmax(inp["e"], _bool_mask(inp)), "pad_nonzero": np.array(0.0)}


_SOFTMAX_CALL = _UNPACK + (
    '_alpha = _np.asarray(masked_softmax(inputs["e"].copy(), _mask.copy()))\n'
    '_alpha = _alpha if _alpha.dtype.kind == "f" else _alpha.astype(float)   # float32 stays float32\n'
    'outputs = {"alpha": _alpha,\n'
    '           "pad_nonzero": _np.count_nonzero(_alpha[~_mask]) if _alpha.shape == _mask.shape else -1}'
)


# --------------------------------------------------------------------------
# context_vector
# --------------------------------------------------------------------------

def _context_inputs(rng, trial):
    S, d_h = _dims(rng, 2, 1, 8)
    if trial == 2:
        alpha = rng.normal(size=S)
    else:
        alpha = ref.masked_softmax(rng.normal(size=S), _mask(rng, S) > 0.5)
    return {"alpha": alpha, "H": rng.normal(size=(S, d_h))}


_CONTEXT_CALL = 'outputs = {"c": context_vector(inputs["alpha"], inputs["H"])}'


# --------------------------------------------------------------------------
# decoder_step and greedy_decode
# --------------------------------------------------------------------------

def _decoder(rng, kind, vocab, d_emb, d_s, d_h):
    """A random decoder of ``kind`` (init_decoder, with random biases), as flat arrays."""
    p = ref.init_decoder(vocab, d_emb, d_s, d_h, kind, d_a=int(rng.integers(1, 6)), rng=rng)
    p["b_s"], p["b_o"] = rng.normal(size=d_s), rng.normal(size=vocab)
    att = p.pop("attention")
    return {"kind": np.array(KINDS.index(kind)), **p, **{f"a_{k}": v for k, v in att.items()}}


def _dec_params(inp):
    return dict({k: inp[k] for k in _DEC_PARAMS}, attention=_att_of(inp))


def _step_inputs(rng, trial):
    kind = KINDS[trial % 3]
    S, d_emb, d_h = _dims(rng, 3)
    vocab = int(rng.integers(2, 8))
    d_s = d_h if kind == "dot" else int(rng.integers(1, 7))
    return {**_decoder(rng, kind, vocab, d_emb, d_s, d_h), "y_prev": np.array(int(rng.integers(vocab))),
            "s_prev": np.tanh(rng.normal(size=d_s)), "H": rng.normal(size=(S, d_h)),
            "mask": _mask(rng, S, all_real=trial == 3)}


def _step_expected(inp):
    o, s, alpha = ref.decoder_step(int(inp["y_prev"]), inp["s_prev"], inp["H"], _dec_params(inp), _kind_of(inp),
                                   _bool_mask(inp))
    return {"o": o, "s": s, "alpha": alpha}


_STEP_CALL = _UNPACK + (
    '_o, _s, _alpha = decoder_step(int(inputs["y_prev"]), inputs["s_prev"], inputs["H"], _params, _kind, _mask)\n'
    'outputs = {"o": _o, "s": _s, "alpha": _alpha}'
)


def _greedy_inputs(rng, trial):
    # Redrawn while some step is a near-tie (the two most probable tokens less than 1e-4 apart), where
    # rounding, in float32 above all, could change the argmax; trial 5 also until the default ids
    # (<s> 1, </s> 2) would give another answer, together and each alone (about 1 draw in 12 of trial 5
    # qualifies: 400 draws leave a chance of ~1e-15 to fall through).
    for _ in range(400):
        inp = _greedy_draw(rng, trial)
        ids, alphas = _greedy_ref(inp)
        if _top_two_gap(inp, ids, len(alphas)) < 1e-4:
            continue
        if trial != 5:
            return inp
        defaults = ({"sos": np.array(1), "eos": np.array(2)}, {"sos": np.array(1)}, {"eos": np.array(2)})
        if len(alphas) > len(ids) >= 1 and all((ids, alphas.shape) != _greedy_shape(dict(inp, **d))
                                               for d in defaults):
            return inp
    return inp


def _greedy_shape(inp):
    ids, alphas = _greedy_ref(inp)
    return ids, alphas.shape


def _top_two_gap(inp, ids, steps):
    """The smallest gap between the two most probable tokens over the steps of the reference decoding."""
    s, gap = inp["s0"], np.inf
    for y in ([int(inp["sos"])] + list(ids))[:steps]:
        o, s, _ = ref.decoder_step(y, s, inp["H"], _dec_params(inp), _kind_of(inp), _bool_mask(inp))
        top = np.sort(o)[-2:]
        gap = min(gap, top[1] - top[0])
    return gap


def _greedy_draw(rng, trial):
    kind = KINDS[trial % 3]
    S, d_h = _dims(rng, 2, 2, 7)
    d_s = d_h if kind == "dot" else int(rng.integers(2, 7))
    vocab, sos, eos, max_len = 6, 1, 2, 8
    if trial == 5:                       # other ids for <s> and </s>, another max_len
        vocab = int(rng.integers(5, 9))
        others = [i for i in range(vocab) if i not in (1, 2)]
        sos, eos = (int(v) for v in rng.choice(others, size=2, replace=False))
        max_len = int(rng.integers(3, 12))
    inp = _decoder(rng, kind, vocab, 3, d_s, d_h)
    inp["V"] = 4.0 * inp["V"]            # confident outputs, as in the notebook's hidden test
    if trial == 3:                       # </s> wins at the first step
        inp["b_o"][eos] += 50.0
    elif trial == 4:                     # a token other than </s> always wins: max_len stops the decoding
        inp["b_o"][(eos + 1) % vocab] += 50.0
    inp.update({"H": rng.normal(size=(S, d_h)), "s0": np.tanh(rng.normal(size=d_s)), "mask": _mask(rng, S),
                "sos": np.array(sos), "eos": np.array(eos), "max_len": np.array(max_len)})
    return inp


def _greedy_ref(inp):
    return ref.greedy_decode(inp["H"], inp["s0"], _dec_params(inp), _kind_of(inp), _bool_mask(inp),
                             sos=int(inp["sos"]), eos=int(inp["eos"]), max_len=int(inp["max_len"]))


def _greedy_expected(inp):
    ids, alphas = _greedy_ref(inp)
    return {"ids": np.array(ids, dtype=float).reshape(-1), "alphas": alphas}


_GREEDY_CALL = _UNPACK + (
    '_ids, _alphas = greedy_decode(inputs["H"], inputs["s0"], _params, _kind, _mask, sos=int(inputs["sos"]),\n'
    '                              eos=int(inputs["eos"]), max_len=int(inputs["max_len"]))\n'
    'outputs = {"ids": _np.asarray([int(_i) for _i in _ids], dtype=float).reshape(-1), "alphas": _alphas}'
)


# --------------------------------------------------------------------------
# Quiz answers
# --------------------------------------------------------------------------

def _answer_part(q):
    return Part(f"test_answer_{q}", f"answer_{q}",
                call=f'outputs = {{"answer": [ord(c) for c in str(answer_{q}).strip().lower()]}}',
                make_inputs=lambda rng, t: {},
                expected=lambda inp: {"answer": np.array([ord(c) for c in ANSWERS[q]], dtype=float)},
                atol=0.0, rtol=0.0, trials=1, exact=True)


# Stand-ins (autograder/sealed.py): the calls a correct answer makes to the notebook's other graded
# functions, with the reference's results, so that each part's score depends on its own function alone.

def _step_calls(y_prev, s_prev, H, params, kind, mask):
    """One decoder step's calls: attention_scores, masked_softmax, context_vector (and decoder_step itself)."""
    s = np.tanh(params["U"] @ params["E"][y_prev] + params["W"] @ s_prev + params["b_s"])
    e = ref.attention_scores(s, H, params["attention"], kind)
    alpha = ref.masked_softmax(e, mask)
    c = ref.context_vector(alpha, H)
    step = ref.decoder_step(y_prev, s_prev, H, params, kind, mask)
    return step, [("attention_scores", (s, H, params["attention"], kind), e), ("masked_softmax", (e, mask), alpha),
                  ("context_vector", (alpha, H), c), ("decoder_step", (y_prev, s_prev, H, params, kind, mask), step)]


def _decoder_step_calls(inp):
    _, calls = _step_calls(int(inp["y_prev"]), inp["s_prev"], inp["H"], _dec_params(inp), _kind_of(inp), _bool_mask(inp))
    return calls[:3]


def _greedy_calls(inp):
    """greedy_decode calls decoder_step (or the attention functions) at every step of the reference's path."""
    params, kind, mask = _dec_params(inp), _kind_of(inp), _bool_mask(inp)
    s, y, calls = np.asarray(inp["s0"], dtype=float), int(inp["sos"]), []
    for _ in range(int(inp["max_len"])):
        (o, s, _), step = _step_calls(y, s, inp["H"], params, kind, mask)
        calls += step
        y = int(np.argmax(o))
        if y == int(inp["eos"]):
            break
    return calls


PARTS = [
    Part("test_attention_scores", "attention_scores", call=_SCORES_CALL, make_inputs=_scores_inputs,
         expected=lambda inp: {"e": ref.attention_scores(inp["s"], inp["H"], _att_of(inp), _kind_of(inp))},
         atol=1e-10, trials=6),
    Part("test_masked_softmax", "masked_softmax", call=_SOFTMAX_CALL, make_inputs=_softmax_inputs,
         expected=_softmax_expected, atol=1e-10, trials=4),
    Part("test_context_vector", "context_vector", call=_CONTEXT_CALL, make_inputs=_context_inputs,
         expected=lambda inp: {"c": ref.context_vector(inp["alpha"], inp["H"])}, atol=1e-10, trials=3),
    Part("test_decoder_step", "decoder_step", call=_STEP_CALL, make_inputs=_step_inputs,
         expected=_step_expected, atol=1e-10, trials=6, stand_ins=_decoder_step_calls,
         credit=(("o",), ("s",), ("alpha",))),
    Part("test_greedy_decode", "greedy_decode", call=_GREEDY_CALL, make_inputs=_greedy_inputs,
         expected=_greedy_expected, atol=1e-10, trials=6, stand_ins=_greedy_calls, credit=(("ids",), ("alphas",))),
    *(_answer_part(q) for q in ("q1", "q2", "q3")),
]
