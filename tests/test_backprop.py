"""Tests of course_lib.backprop against independent oracles: torch.autograd in
float64 and centred finite differences, on random shapes."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import backprop as bp
from course_lib.gradcheck import numerical_gradient, numerical_gradient_array

torch = pytest.importorskip("torch")
F = torch.nn.functional

FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 5)
activations = st.sampled_from(sorted(bp.ACTIVATIONS))
layer_sizes = st.lists(st.integers(1, 4), min_size=2, max_size=4)

TORCH_ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=grad)


def assert_matches_finite_differences(ours, numeric):
    """Centred differences are accurate to ~1e-9 absolute; a pure relative test is noise near 0."""
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-8)


def away_from_relu_kink(z):
    """Nudge values off 0, where relu has no derivative and finite differences disagree."""
    return np.where(np.abs(z) < 1e-3, 0.5, z)


# ---------------------------------------------------------------- activations

def test_activation_table():
    assert set(bp.ACTIVATIONS) == {"sigmoid", "tanh", "relu"}
    assert bp.ACTIVATIONS["sigmoid"] == (bp.sigmoid, bp.sigmoid_prime)
    assert bp.ACTIVATIONS["tanh"] == (bp.tanh, bp.tanh_prime)
    assert bp.ACTIVATIONS["relu"] == (bp.relu, bp.relu_prime)


@FAST
@given(name=activations, n=dims, m=dims, seed=seeds)
def test_activations_and_derivatives_match_torch(name, n, m, seed):
    z = away_from_relu_kink(3 * np.random.default_rng(seed).standard_normal((n, m)))
    f, f_prime = bp.ACTIVATIONS[name]
    zt = t64(z, grad=True)
    out = TORCH_ACTIVATIONS[name](zt)
    out.sum().backward()
    np.testing.assert_allclose(f(z), out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(f_prime(z), zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_relu_prime_at_zero_is_zero():
    assert bp.relu_prime(0.0) == 0.0
    np.testing.assert_array_equal(bp.relu_prime(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


def test_sigmoid_is_stable_for_large_inputs():
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            s = bp.sigmoid(z)
            ds = bp.sigmoid_prime(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert np.all(np.isfinite(ds)) and ds[0] == 0.0 and ds[-1] == 0.0
    np.testing.assert_allclose(s, torch.sigmoid(t64(z)).numpy(), rtol=1e-12, atol=0)


# ---------------------------------------------------------------- chain rule

def test_chain_rule_keys_and_forward_values():
    out = bp.chain_rule(0.3)
    assert set(out) == {"x", "y", "z", "dz_dy", "dy_dx", "dx_dw", "dz_dw"}
    assert out["x"] == pytest.approx(np.sin(0.3))
    assert out["z"] == pytest.approx(np.sin(np.sin(np.sin(0.3))))
    # the slides' formula: ∂z/∂w = f'(y) f'(x) f'(w)
    assert out["dz_dw"] == pytest.approx(np.cos(out["y"]) * np.cos(out["x"]) * np.cos(0.3))


@FAST
@given(shape=st.lists(dims, min_size=0, max_size=2).map(tuple), seed=seeds,
       fn=st.sampled_from(["sin", "tanh", "sigmoid"]))
def test_chain_rule_matches_finite_differences_and_torch(shape, seed, fn):
    pairs = {"sin": (np.sin, np.cos, torch.sin),
             "tanh": (bp.tanh, bp.tanh_prime, torch.tanh),
             "sigmoid": (bp.sigmoid, bp.sigmoid_prime, torch.sigmoid)}
    f, f_prime, f_torch = pairs[fn]
    w = np.asarray(2 * np.random.default_rng(seed).standard_normal(shape))
    out = bp.chain_rule(w, f, f_prime)
    assert np.shape(out["dz_dw"]) == shape

    numeric = numerical_gradient(lambda v: np.sum(f(f(f(v)))), w.copy())
    assert_matches_finite_differences(out["dz_dw"], numeric)

    wt = t64(w, grad=True)
    f_torch(f_torch(f_torch(wt))).sum().backward()
    np.testing.assert_allclose(out["dz_dw"], wt.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- layer pairs

@FAST
@given(N=dims, n_in=dims, n_out=dims, seed=seeds)
def test_affine_forward_backward_match_torch_and_finite_differences(N, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    a_prev, W, b = rng.standard_normal((N, n_in)), rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    dz = rng.standard_normal((N, n_out))
    z, cache = bp.affine_forward(a_prev, W, b)
    da_prev, dW, db = bp.affine_backward(dz, cache)
    assert (z.shape, da_prev.shape, dW.shape, db.shape) == ((N, n_out), (N, n_in), (n_out, n_in), (n_out,))

    at, Wt, bt = t64(a_prev, True), t64(W, True), t64(b, True)
    zt = F.linear(at, Wt, bt)  # torch's Linear uses the same (n_out, n_in) layout
    (zt * t64(dz)).sum().backward()
    np.testing.assert_allclose(z, zt.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in [(da_prev, at.grad), (dW, Wt.grad), (db, bt.grad)]:
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)

    assert_matches_finite_differences(dW, numerical_gradient_array(lambda v: bp.affine_forward(a_prev, v, b)[0], W, dz))
    assert_matches_finite_differences(
        da_prev, numerical_gradient_array(lambda v: bp.affine_forward(v, W, b)[0], a_prev, dz))


@FAST
@given(name=activations, N=dims, n=dims, seed=seeds)
def test_activation_backward_matches_finite_differences(name, N, n, seed):
    rng = np.random.default_rng(seed)
    z = away_from_relu_kink(rng.standard_normal((N, n)))
    da = rng.standard_normal((N, n))
    a, cache = bp.activation_forward(z, name)
    assert a.shape == z.shape
    dz = bp.activation_backward(da, cache)
    numeric = numerical_gradient_array(lambda v: bp.activation_forward(v, name)[0], z, da)
    assert_matches_finite_differences(dz, numeric)


# ---------------------------------------------------------------- costs

@FAST
@given(N=dims, k=dims, seed=seeds)
def test_quadratic_cost_matches_torch(N, k, seed):
    rng = np.random.default_rng(seed)
    a, y = rng.standard_normal((N, k)), rng.standard_normal((N, k))
    C, dC_da = bp.quadratic_cost(a, y)
    at = t64(a, True)
    Ct = 0.5 * ((at - t64(y)) ** 2).sum() / N
    Ct.backward()
    assert C == pytest.approx(Ct.item(), rel=1e-12)
    np.testing.assert_allclose(dC_da, at.grad.numpy(), rtol=1e-12, atol=1e-15)


@FAST
@given(N=dims, k=st.integers(2, 6), scale=st.sampled_from([1.0, 100.0, 1000.0]), one_hot=st.booleans(), seed=seeds)
def test_softmax_cross_entropy_matches_torch(N, k, scale, one_hot, seed):
    rng = np.random.default_rng(seed)
    z = scale * rng.standard_normal((N, k))
    ids = rng.integers(0, k, size=N)
    y = np.eye(k)[ids] if one_hot else ids
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        C, dC_dz = bp.softmax_cross_entropy(z, y)
    zt = t64(z, True)
    Ct = F.cross_entropy(zt, torch.tensor(ids))
    Ct.backward()
    assert C == pytest.approx(Ct.item(), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(dC_dz, zt.grad.numpy(), rtol=1e-9, atol=1e-12)
    if scale == 1.0:
        numeric = numerical_gradient(lambda v: bp.softmax_cross_entropy(v, y)[0], z.copy())
        assert_matches_finite_differences(dC_dz, numeric)


# ---------------------------------------------------------------- BP1–BP4

def torch_network(x, y, weights, biases, activation):
    """The same network in torch; returns the cost and every z (with .grad after backward)."""
    sigma = TORCH_ACTIVATIONS[activation]
    Wt = [t64(W, True) for W in weights]
    bt = [t64(b, True) for b in biases]
    a, zs = t64(x), []
    for W, b in zip(Wt, bt):
        z = a @ W.T + b
        z.retain_grad()
        zs.append(z)
        a = sigma(z)
    C = 0.5 * ((a - t64(y)) ** 2).sum() / x.shape[0]
    C.backward()
    return C, zs, Wt, bt


@st.composite
def networks(draw):
    sizes = draw(layer_sizes)
    N = draw(dims)
    activation = draw(activations)
    rng = np.random.default_rng(draw(seeds))
    weights, biases = bp.init_params(sizes, seed=rng)
    biases = [rng.standard_normal(b.shape) for b in biases]
    x = rng.standard_normal((N, sizes[0]))
    y = rng.uniform(0, 1, size=(N, sizes[-1]))
    return x, y, weights, biases, activation


@FAST
@given(net=networks())
def test_bp1_to_bp4_match_torch_deltas(net):
    x, y, weights, biases, activation = net
    _, cache = bp.forward(x, weights, biases, activation)
    zs, acts = cache["zs"], cache["activations"]
    _, zs_t, Wt, bt = torch_network(x, y, weights, biases, activation)

    _, grad_C_a = bp.quadratic_cost(acts[-1], y)
    delta = bp.output_delta(grad_C_a, zs[-1], activation)  # BP1
    np.testing.assert_allclose(delta, zs_t[-1].grad.numpy(), rtol=1e-9, atol=1e-13)
    for l in reversed(range(len(weights))):
        if l < len(weights) - 1:
            delta = bp.hidden_delta(weights[l + 1], delta, zs[l], activation)  # BP2
            np.testing.assert_allclose(delta, zs_t[l].grad.numpy(), rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(bp.bias_gradient(delta), bt[l].grad.numpy(), rtol=1e-9, atol=1e-13)  # BP3
        np.testing.assert_allclose(bp.weight_gradient(delta, acts[l]), Wt[l].grad.numpy(), rtol=1e-9, atol=1e-13)  # BP4


@FAST
@given(net=networks())
def test_backprop_matches_torch_autograd(net):
    x, y, weights, biases, activation = net
    C, grad_weights, grad_biases = bp.backprop(x, y, weights, biases, activation)
    Ct, _, Wt, bt = torch_network(x, y, weights, biases, activation)
    assert C == pytest.approx(Ct.item(), rel=1e-12, abs=1e-15)
    for ours, theirs in zip(grad_weights + grad_biases, Wt + bt):
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-13)


@settings(max_examples=10, deadline=None)
@given(net=networks())
def test_backprop_matches_finite_differences(net):
    x, y, weights, biases, activation = net
    if activation == "relu":  # finite differences are unreliable across relu's kink
        activation = "tanh"
    _, grad_weights, grad_biases = bp.backprop(x, y, weights, biases, activation)
    cost = lambda _: bp.backprop(x, y, weights, biases, activation)[0]  # noqa: E731 (reads params in place)
    for params, grads in [(weights, grad_weights), (biases, grad_biases)]:
        for p, g in zip(params, grads):
            assert_matches_finite_differences(g, numerical_gradient(cost, p))


def test_bp_equations_on_tiny_numbers():
    # one example, 1-1 network with σ = identity-like check via sigmoid values
    z_L = np.array([[0.0]])
    assert bp.output_delta(np.array([[2.0]]), z_L)[0, 0] == pytest.approx(0.5)  # 2 · σ′(0) = 2 · 0.25
    W_next = np.array([[1.0, -2.0]])
    delta_next = np.array([[4.0]])
    z = np.zeros((1, 2))
    np.testing.assert_allclose(bp.hidden_delta(W_next, delta_next, z), [[1.0, -2.0]])  # (δ W) ⊙ 0.25
    delta = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(bp.bias_gradient(delta), [4.0, 6.0])
    a_prev = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    np.testing.assert_allclose(bp.weight_gradient(delta, a_prev), [[1.0, 3.0, 4.0], [2.0, 4.0, 6.0]])


# ---------------------------------------------------------------- network helpers

def test_init_params_shapes_and_seed():
    weights, biases = bp.init_params([2, 3, 1], seed=0)
    assert [W.shape for W in weights] == [(3, 2), (1, 3)]
    assert [b.shape for b in biases] == [(3,), (1,)]
    again, _ = bp.init_params([2, 3, 1], seed=0)
    other, _ = bp.init_params([2, 3, 1], seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(weights, again))
    assert not np.array_equal(weights[0], other[0])
    with pytest.raises(ValueError, match="at least two positive integers"):
        bp.init_params([3])


@FAST
@given(net=networks())
def test_forward_matches_torch_and_caches_every_layer(net):
    x, y, weights, biases, activation = net
    a_L, cache = bp.forward(x, weights, biases, activation)
    assert len(cache["zs"]) == len(weights) and len(cache["activations"]) == len(weights) + 1
    assert cache["activations"][0] is not None and np.array_equal(cache["activations"][0], x)
    a = t64(x)
    for W, b in zip(weights, biases):
        a = TORCH_ACTIVATIONS[activation](F.linear(a, t64(W), t64(b)))
    np.testing.assert_allclose(a_L, a.numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- error messages

def test_affine_forward_names_both_shapes():
    with pytest.raises(ValueError, match=r"affine_forward: W has shape \(3, 4\) but a_prev has 5 features; expected W of shape \(n_out, 5\)"):
        bp.affine_forward(np.zeros((2, 5)), np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match=r"b has shape \(4,\) but W has shape \(3, 5\); expected b of shape \(3,\)"):
        bp.affine_forward(np.zeros((2, 5)), np.zeros((3, 5)), np.zeros(4))
    with pytest.raises(ValueError, match=r"a_prev must have shape \(N, n_in\).*got shape \(5,\)"):
        bp.affine_forward(np.zeros(5), np.zeros((3, 5)), np.zeros(3))


def test_backward_and_cost_errors_name_both_shapes():
    _, cache = bp.affine_forward(np.zeros((2, 5)), np.zeros((3, 5)), np.zeros(3))
    with pytest.raises(ValueError, match=r"dz has shape \(2, 4\) but z had shape \(2, 3\)"):
        bp.affine_backward(np.zeros((2, 4)), cache)
    _, cache = bp.activation_forward(np.zeros((2, 3)), "tanh")
    with pytest.raises(ValueError, match=r"da has shape \(3, 2\) but z has shape \(2, 3\)"):
        bp.activation_backward(np.zeros((3, 2)), cache)
    with pytest.raises(ValueError, match=r"unknown activation 'softplus'"):
        bp.activation_forward(np.zeros(3), "softplus")
    with pytest.raises(ValueError, match=r"y has shape \(2, 1\) but a has shape \(2, 3\)"):
        bp.quadratic_cost(np.zeros((2, 3)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"y has shape \(3,\) but z has shape \(2, 4\)"):
        bp.softmax_cross_entropy(np.zeros((2, 4)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 4\)"):
        bp.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 4]))


def test_bp_equation_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"grad_C_a has shape \(2, 1\) but z_L has shape \(2, 3\)"):
        bp.output_delta(np.zeros((2, 1)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"W_next has shape \(1, 3\) but delta_next has shape \(2, 2\)"):
        bp.hidden_delta(np.zeros((1, 3)), np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"z has shape \(2, 4\) but .* need z of shape \(2, 3\)"):
        bp.hidden_delta(np.zeros((1, 3)), np.zeros((2, 1)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"delta has shape \(2, 3\) but a_prev has shape \(4, 5\)"):
        bp.weight_gradient(np.zeros((2, 3)), np.zeros((4, 5)))


def test_network_errors_name_both_shapes():
    weights, biases = bp.init_params([2, 3, 1])
    with pytest.raises(ValueError, match=r"weights\[0\] has shape \(3, 2\) but its input has 4 features"):
        bp.forward(np.zeros((5, 4)), weights, biases)
    with pytest.raises(ValueError, match=r"y has shape \(5, 2\) but the network outputs shape \(5, 1\)"):
        bp.backprop(np.zeros((5, 2)), np.zeros((5, 2)), weights, biases)
    with pytest.raises(ValueError, match=r"y has shape \(5,\) but x has shape \(5, 2\)"):
        bp.MLP([2, 3, 1]).fit(np.zeros((5, 2)), np.zeros(5), epochs=1, lr=0.1)


# ---------------------------------------------------------------- MLP

def xor_blobs(n=80, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    k = rng.integers(0, 4, size=n)
    x = centres[k] + 0.3 * rng.standard_normal((n, 2))
    y = (k >= 2).astype(float)[:, None]
    return x, y


def test_mlp_step_is_plain_gradient_descent():
    model = bp.MLP([2, 3, 1], seed=0)
    x, y = xor_blobs(8)
    W0 = [W.copy() for W in model.weights]
    C, grads = model.loss_and_grads(x, y)
    model.step(grads, lr=0.5)
    for W, W_before, dW in zip(model.weights, W0, grads[0]):
        np.testing.assert_allclose(W, W_before - 0.5 * dW)
    assert model.forward(x).shape == (8, 1)


def test_mlp_fit_learns_xor_deterministically():
    x, y = xor_blobs()
    losses = bp.MLP([2, 8, 1], "sigmoid", seed=0).fit(x, y, epochs=300, lr=3.0, batch_size=20, seed=0)
    again = bp.MLP([2, 8, 1], "sigmoid", seed=0).fit(x, y, epochs=300, lr=3.0, batch_size=20, seed=0)
    assert len(losses) == 300
    assert losses == again  # same seeds, identical numbers
    assert losses[-1] < 0.25 * losses[0]
    model = bp.MLP([2, 8, 1], "sigmoid", seed=0)
    model.fit(x, y, epochs=300, lr=3.0, batch_size=20, seed=0)
    accuracy = np.mean((model.forward(x) > 0.5) == y)
    assert accuracy >= 0.95


def test_mlp_fit_full_batch_with_progress_bar(capsys):
    x, y = xor_blobs(16)
    losses = bp.MLP([2, 4, 1], "tanh", seed=1).fit(x, y, epochs=5, lr=0.1, progress=True)
    assert len(losses) == 5 and losses[-1] < losses[0]


def torch_quadratic_cost(x, y, weights, biases, activation="sigmoid"):
    """½ Σ (aᴸ − y)² / N and its parameter gradients, by torch.autograd in float64 (an independent forward)."""
    Ws = [t64(W, grad=True) for W in weights]
    bs = [t64(b, grad=True) for b in biases]
    a = t64(x)
    for W, b in zip(Ws, bs):
        a = TORCH_ACTIVATIONS[activation](a @ W.T + b)
    C = 0.5 * ((a - t64(y)) ** 2).sum() / len(x)
    C.backward()
    return float(C.detach()), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


def test_mlp_fit_records_the_mean_cost_over_the_epoch_rows():
    """With lr = 0 the weights never move, so every epoch's loss is the cost of the initial network on the
    whole data set, whatever the shuffling, as long as each batch's mean cost is weighted by its size
    (batches of 2, 2, 2 and 1 rows here: an unweighted mean of batch means, or a sum, differs)."""
    x, y = xor_blobs(7)
    model = bp.MLP([2, 3, 1], "tanh", seed=4)
    C, _, _ = torch_quadratic_cost(x, y, model.weights, model.biases, "tanh")
    losses = model.fit(x, y, epochs=3, lr=0.0, batch_size=2, seed=1)
    np.testing.assert_allclose(losses, [C] * 3, rtol=1e-12)


def test_mlp_fit_full_batch_losses_are_the_costs_before_each_step():
    """Full-batch gradient descent replayed with torch: epoch e records the cost at the weights it
    started from (before its update), and the weights after fit are torch's after the same steps."""
    x, y = xor_blobs(9)
    model = bp.MLP([2, 4, 3, 1], "sigmoid", seed=2)
    weights = [W.copy() for W in model.weights]
    biases = [b.copy() for b in model.biases]
    lr, expected = 2.0, []
    for _ in range(4):
        C, gW, gb = torch_quadratic_cost(x, y, weights, biases)
        expected.append(C)
        weights = [W - lr * g for W, g in zip(weights, gW)]
        biases = [b - lr * g for b, g in zip(biases, gb)]
    losses = model.fit(x, y, epochs=4, lr=lr)
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    assert len(set(losses)) == 4                  # the network moved: these are four different costs
    for ours, theirs in zip(model.weights + model.biases, weights + biases):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
