"""Tests for course_lib.glove: the weighting f, J's hand-written gradients (finite differences,
torch.autograd), the torch batch gradients, AdaGrad against torch.optim.Adagrad, and the trainer."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import glove
from course_lib.gradcheck import check_gradient


def random_problem(rng, V=6, d=3, N=10):
    params = {"W": rng.normal(size=(V, d)), "W_tilde": rng.normal(size=(V, d)),
              "b": rng.normal(size=V), "b_tilde": rng.normal(size=V)}
    i, j = rng.integers(0, V, N), rng.integers(0, V, N)
    X = rng.uniform(0.2, 150.0, N)
    return params, i, j, X


def test_weighting_function():
    np.testing.assert_allclose(glove.glove_weight([0.0, 50.0, 100.0, 400.0]), [0.0, 0.5 ** 0.75, 1.0, 1.0])
    np.testing.assert_allclose(glove.glove_weight(5.0, x_max=10.0, alpha=1.0), 0.5)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31))
def test_gradients_finite_differences(seed):
    params, i, j, X = random_problem(np.random.default_rng(seed))
    loss, grads = glove.glove_loss_and_grads(params, i, j, X)
    for name in glove.PARAM_NAMES:
        def f(value, name=name):
            return glove.glove_loss_and_grads(dict(params, **{name: value}), i, j, X)[0]
        # centred differences carry ~1e-9 absolute error: small entries need a looser relative bound;
        # test_loss_and_gradients_against_autograd below is the tight check
        check_gradient(f, params[name], grads[name], tol=1e-5)


def test_loss_and_gradients_against_autograd():
    params, i, j, X = random_problem(np.random.default_rng(7))
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    ti, tj = torch.tensor(i), torch.tensor(j)
    e = (t["W"][ti] * t["W_tilde"][tj]).sum(1) + t["b"][ti] + t["b_tilde"][tj] - torch.log(torch.tensor(X))
    J = (torch.tensor(glove.glove_weight(X)) * e ** 2).sum()
    J.backward()
    loss, grads = glove.glove_loss_and_grads(params, i, j, X)
    np.testing.assert_allclose(loss, J.item(), rtol=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], t[k].grad.numpy(), rtol=1e-10, atol=1e-12)
    # the torch batch version gives the same numbers
    loss_t, grads_t = glove.glove_grads_torch({k: torch.tensor(v) for k, v in params.items()}, ti, tj,
                                              torch.log(torch.tensor(X)), torch.tensor(glove.glove_weight(X)))
    np.testing.assert_allclose(loss_t.item(), loss, rtol=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads_t[k].numpy(), grads[k], rtol=1e-10, atol=1e-12)


def test_adagrad_step_is_torch_adagrad():
    rng = np.random.default_rng(3)
    p0, g1, g2 = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    mine, G = torch.tensor(p0), torch.zeros(4, 2, dtype=torch.float64)
    ref = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.Adagrad([ref], lr=0.05)
    for g in (g1, g2):
        glove.adagrad_step(mine, torch.tensor(g), G, lr=0.05)
        ref.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), rtol=1e-12)
    # numpy arrays work too
    p, Gn = p0.copy(), np.zeros_like(p0)
    glove.adagrad_step(p, g1, Gn, lr=0.05)
    glove.adagrad_step(p, g2, Gn, lr=0.05)
    np.testing.assert_allclose(p, mine.numpy(), rtol=1e-12)


def small_cooccurrence(seed=0, V=12):
    rng = np.random.default_rng(seed)
    A = rng.poisson(3.0, size=(V, V)) * (rng.random((V, V)) < 0.5)
    return (A + A.T).astype(float)


def test_one_full_batch_epoch_is_one_adagrad_step():
    M = small_cooccurrence()
    r = glove.train_glove(M, dim=4, epochs=1, lr=0.1, batch_size=10_000, seed=5, progress=False, device="cpu")
    # redo it in numpy from the same initial values
    gen = torch.Generator().manual_seed(5)
    V = M.shape[0]
    init = {"W": ((torch.rand(V, 4, generator=gen) - 0.5) / 4).numpy().astype(np.float64),
            "W_tilde": ((torch.rand(V, 4, generator=gen) - 0.5) / 4).numpy().astype(np.float64),
            "b": np.zeros(V), "b_tilde": np.zeros(V)}
    i, j = np.nonzero(M)
    loss, grads = glove.glove_loss_and_grads(init, i, j, M[i, j])
    for k in glove.PARAM_NAMES:
        expected = init[k] - 0.1 * grads[k] / (np.abs(grads[k]) + 1e-10)     # first AdaGrad step: ±lr
        np.testing.assert_allclose(r["params"][k], expected, atol=1e-5)
    np.testing.assert_allclose(r["history"][0], loss, rtol=1e-5)
    np.testing.assert_allclose(r["vectors"], r["params"]["W"] + r["params"]["W_tilde"])


def test_training_lowers_the_loss_deterministically_dense_or_sparse():
    M = small_cooccurrence(1)
    kw = dict(dim=5, epochs=30, lr=0.1, batch_size=16, seed=0, progress=False, device="cpu")
    r = glove.train_glove(M, **kw)
    assert r["history"][-1] < 0.2 * r["history"][0]
    assert r["nonzeros"] == np.count_nonzero(M)
    r2 = glove.train_glove(sp.csr_matrix(M), **kw)
    np.testing.assert_array_equal(r["vectors"], r2["vectors"])


def test_errors():
    params, i, j, X = random_problem(np.random.default_rng(0))
    with pytest.raises(ValueError, match="nonzero"):
        glove.glove_loss_and_grads(params, i, j, np.zeros_like(X))
    with pytest.raises(ValueError, match="equal shapes"):
        glove.glove_loss_and_grads(params, i, j[:-1], X)
    with pytest.raises(ValueError, match="W, W_tilde"):
        glove.glove_loss_and_grads(dict(params, b=np.zeros(2)), i, j, X)
    with pytest.raises(ValueError, match="square"):
        glove.train_glove(np.ones((3, 4)), progress=False)
