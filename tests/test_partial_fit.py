"""Tests of partial_fit (stepwise EM) and of reading batches from storage.

Expected values are computed here: the textbook E-step and M-step of a
Bernoulli mixture and of mixing weights, the stepwise-EM recursion written
out by hand, simulated data with known parameters, and the batch fit.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    FixedComponentMixture,
    InvalidParameterError,
)

# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------


def simulate(seed=0, n_samples=20000, n_features=20, weights=(0.5, 0.3, 0.2)):
    """Binary rows from a mixture with well separated success probabilities."""
    rng = np.random.RandomState(seed)
    weights = np.asarray(weights)
    n_components = weights.size
    high = rng.random_sample((n_components, n_features)) < 0.5
    means = np.where(
        high,
        rng.uniform(0.8, 0.95, (n_components, n_features)),
        rng.uniform(0.05, 0.2, (n_components, n_features)),
    )
    y = rng.choice(n_components, size=n_samples, p=weights)
    X = (rng.random_sample((n_samples, n_features)) < means[y]).astype(np.float64)
    return X, weights, means


def textbook_e_step(X, weights, means, sample_weight=None):
    """Weighted sums (sum_i w_i r_ik, sum_i w_i r_ik x_i, sum_i w_i log p(x_i))."""
    X = np.asarray(X, dtype=np.float64)
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    joint = X @ np.log(means).T + (1 - X) @ np.log1p(-means).T + np.log(weights)
    log_norm = logsumexp(joint, axis=1)
    resp = np.exp(joint - log_norm[:, None]) * sw[:, None]
    return resp.sum(axis=0), resp.T @ X, float(sw @ log_norm)


def textbook_m_step(nk, xk, alpha):
    """Weights and the Beta(1 + alpha, 1 + alpha) posterior mode of the means."""
    return nk / nk.sum(), (xk + alpha) / (nk[:, None] + 2 * alpha)


def mixture_log_lik(X, weights, means):
    X = np.asarray(X, dtype=np.float64)
    joint = X @ np.log(means).T + (1 - X) @ np.log1p(-means).T + np.log(weights)
    return float(logsumexp(joint, axis=1).mean())


def match(estimated, true):
    """Permutation of the estimated components closest to the true ones."""
    cost = np.abs(estimated[:, None, :] - true[None, :, :]).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    return rows[np.argsort(cols)]


def batches_of(X, batch_size):
    for start in range(0, X.shape[0], batch_size):
        yield X[start : start + batch_size]


def stream(estimator, X, batch_size, n_epochs, seed):
    rng = np.random.RandomState(seed)
    for _ in range(n_epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            estimator.partial_fit(X[order[start : start + batch_size]])
    return estimator


@pytest.fixture(scope="module")
def simulated():
    return simulate()


# --------------------------------------------------------------------------
# Convergence on simulated data
# --------------------------------------------------------------------------


def test_bernoulli_partial_fit_reaches_batch_fit_and_true_parameters(simulated):
    X, true_weights, true_means = simulated
    batch = BernoulliMixture(n_components=3, random_state=0).fit(X)
    online = stream(BernoulliMixture(n_components=3, random_state=0), X, 500, 3, 1)

    batch_ll = mixture_log_lik(X, batch.weights_, batch.means_)
    online_ll = mixture_log_lik(X, online.weights_, online.means_)
    assert abs(online_ll - batch_ll) <= 0.005 * abs(batch_ll)
    assert online.score(X) == pytest.approx(online_ll, rel=1e-12)

    order = match(online.means_, true_means)
    np.testing.assert_allclose(online.means_[order], true_means, atol=0.05)
    np.testing.assert_allclose(online.weights_[order], true_weights, atol=0.02)
    assert online.n_iter_ == 3 * 40
    assert len(online.lower_bounds_) == 3 * 40
    assert online.converged_ is False
    # The per-batch log-likelihood ends near the batch fit's.
    assert np.mean(online.lower_bounds_[-40:]) == pytest.approx(batch_ll, rel=0.01)


@pytest.mark.parametrize("learning_decay", [0.51, 0.7, 1.0])
def test_bernoulli_partial_fit_converges_for_any_admissible_decay(
    simulated, learning_decay
):
    X, true_weights, true_means = simulated
    online = stream(
        BernoulliMixture(n_components=3, random_state=0, learning_decay=learning_decay),
        X,
        1000,
        2,
        2,
    )
    order = match(online.means_, true_means)
    np.testing.assert_allclose(online.means_[order], true_means, atol=0.06)


def test_fixed_partial_fit_converges_to_batch_weights(simulated):
    X, true_weights, true_means = simulated
    batch = FixedComponentMixture(true_means).fit(X)
    online = stream(FixedComponentMixture(true_means), X, 500, 3, 3)
    np.testing.assert_allclose(online.weights_, batch.weights_, atol=0.01)
    assert online.weights_.sum() == pytest.approx(1.0)
    # The standard errors are documented as unavailable after partial_fit.
    assert online.weights_stderr_.shape == (3,)
    assert np.all(np.isnan(online.weights_stderr_))
    assert np.all(np.isnan(online.weights_covariance_))
    assert online.n_components_ == 3 and online.n_features_in_ == X.shape[1]


# --------------------------------------------------------------------------
# The recursion, step by step
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "init_params, n_init",
    [("kmeans", 1), ("kmeans", 4), ("random", 3), ("random_from_data", 5)],
)
def test_first_call_is_one_em_step_from_init_on_the_batch(
    simulated, init_params, n_init
):
    # fit with max_iter=1 keeps, of its n_init starts, the one whose starting
    # parameters explain the data best, then makes one EM step from it.
    X, _, _ = simulated
    batch = X[:400]
    params = dict(
        n_components=3, init_params=init_params, n_init=n_init, random_state=7
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one_step = BernoulliMixture(max_iter=1, **params).fit(batch)
    online = BernoulliMixture(**params).partial_fit(batch)
    np.testing.assert_allclose(online.weights_, one_step.weights_, atol=1e-12)
    np.testing.assert_allclose(online.means_, one_step.means_, atol=1e-12)
    assert online.lower_bound_ == pytest.approx(one_step.lower_bound_, abs=1e-12)
    assert online.n_features_in_ == X.shape[1]
    assert online.n_iter_ == 1


@pytest.mark.parametrize("learning_offset, learning_decay", [(10.0, 0.7), (0, 1.0)])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_stepwise_recursion_matches_hand_computation(
    simulated, learning_offset, learning_decay, alpha
):
    X, _, _ = simulated
    rng = np.random.RandomState(4)
    means0 = rng.uniform(0.2, 0.8, (3, X.shape[1]))
    weights0 = np.array([0.2, 0.3, 0.5])
    sizes = [300, 120, 500, 1]
    batches = np.split(X[: sum(sizes)], np.cumsum(sizes)[:-1])
    weights = [None, rng.randint(0, 4, 120).astype(float), None, np.array([2.5])]
    weights[1][0] = 1.0

    est = BernoulliMixture(
        n_components=3,
        means_init=means0,
        weights_init=weights0,
        alpha=alpha,
        learning_offset=learning_offset,
        learning_decay=learning_decay,
    )
    w, m = weights0, means0
    running, total = None, 0.0
    for t, (batch, sw) in enumerate(zip(batches, weights)):
        est.partial_fit(batch, sample_weight=sw)
        sw_b = np.ones(batch.shape[0]) if sw is None else sw
        nk, xk, ll = textbook_e_step(batch, w, m, sw_b)
        s_batch = (nk / sw_b.sum(), xk / sw_b.sum())
        if running is None:
            running = s_batch
        else:
            eta = (learning_offset + t) ** (-learning_decay)
            running = tuple((1 - eta) * a + eta * b for a, b in zip(running, s_batch))
        total += sw_b.sum()
        w, m = textbook_m_step(total * running[0], total * running[1], alpha)
        m = np.clip(m, np.finfo(float).eps, 1 - np.finfo(float).eps)
        np.testing.assert_allclose(est.weights_, w, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(est.means_, m, rtol=1e-10, atol=1e-13)
        assert est.lower_bound_ == pytest.approx(ll / sw_b.sum(), rel=1e-12)
        assert est.n_iter_ == t + 1


def test_fixed_stepwise_recursion_matches_hand_computation():
    rng = np.random.RandomState(5)
    probs = np.array([[0.9, 0.2, 0.6], [0.1, 0.7, 0.5], [0.5, 0.5, 0.05]])
    X = (rng.random_sample((700, 3)) < 0.5).astype(float)
    batches = np.split(X, [250, 260, 600])
    est = FixedComponentMixture(probs, learning_offset=3.0, learning_decay=0.8)
    log_lik = X[:, None, :] * np.log(probs) + (1 - X[:, None, :]) * np.log1p(-probs)
    log_lik = log_lik.sum(axis=2)
    w = np.full(3, 1 / 3)
    running = None
    row = 0
    for t, batch in enumerate(batches):
        est.partial_fit(batch)
        ll = log_lik[row : row + batch.shape[0]]
        row += batch.shape[0]
        joint = ll + np.log(w)
        norm = logsumexp(joint, axis=1)
        mean_resp = np.exp(joint - norm[:, None]).mean(axis=0)
        ratios = np.exp(ll - norm[:, None]).mean(axis=0)
        if running is None:
            running = mean_resp
        else:
            eta = (3.0 + t) ** (-0.8)
            running = (1 - eta) * running + eta * mean_resp
        assert est.lower_bound_ == pytest.approx(norm.mean(), rel=1e-12)
        assert est.gap_bound_ == pytest.approx(np.log(ratios.max()), abs=1e-12)
        w = running / running.sum()
        np.testing.assert_allclose(est.weights_, w, rtol=1e-12)
    assert est.n_iter_ == 4 and len(est.lower_bounds_) == 4


def test_fixed_first_call_uses_weights_init_and_random_init():
    probs = [[0.8], [0.3]]
    X = np.array([[1.0]] * 6 + [[0.0]] * 4)
    est = FixedComponentMixture(probs, weights_init=[0.25, 0.75]).partial_fit(X)
    w0 = np.array([0.25, 0.75])
    lik = np.where(X == 1, [0.8, 0.3], [0.2, 0.7])
    resp = lik * w0 / (lik @ w0)[:, None]
    np.testing.assert_allclose(est.weights_, resp.mean(axis=0), rtol=1e-12)

    random = FixedComponentMixture(probs, init_params="random", random_state=3)
    w0 = np.random.RandomState(3).dirichlet(np.ones(2))
    resp = lik * w0 / (lik @ w0)[:, None]
    np.testing.assert_allclose(random.partial_fit(X).weights_, resp.mean(axis=0))


def test_partial_fit_after_fit_continues_from_fitted_parameters(simulated):
    X, _, _ = simulated
    est = BernoulliMixture(n_components=3, random_state=0, alpha=0.1).fit(X[:2000])
    w, m = est.weights_.copy(), est.means_.copy()
    batch = X[2000:2500]
    est.partial_fit(batch)
    nk, xk, _ = textbook_e_step(batch, w, m)
    w1, m1 = textbook_m_step(nk, xk, 0.1)
    np.testing.assert_allclose(est.weights_, w1, rtol=1e-10)
    np.testing.assert_allclose(est.means_, m1, rtol=1e-10)
    assert est.n_iter_ == 1 and est.lower_bounds_ == [est.lower_bound_]

    # fit after partial_fit starts anew, and so does the next partial_fit.
    est.partial_fit(X[2500:3000])
    assert est.n_iter_ == 2
    est.fit(X[:2000])
    est.partial_fit(X[3000:3500])
    assert est.n_iter_ == 1


def test_integer_sample_weight_equals_repeated_rows(simulated):
    X, _, _ = simulated
    rng = np.random.RandomState(8)
    means0 = rng.uniform(0.2, 0.8, (3, X.shape[1]))
    params = dict(n_components=3, means_init=means0, weights_init=[0.3, 0.3, 0.4])
    weighted, repeated = BernoulliMixture(**params), BernoulliMixture(**params)
    for batch in np.split(X[:900], 3):
        sw = rng.randint(0, 3, batch.shape[0])
        weighted.partial_fit(batch, sample_weight=sw)
        repeated.partial_fit(np.repeat(batch, sw, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-10)
    np.testing.assert_allclose(weighted.weights_, repeated.weights_, rtol=1e-10)


def test_sparse_batches_equal_dense_batches(simulated):
    X, _, _ = simulated
    dense = BernoulliMixture(n_components=3, init_params="random", random_state=2)
    sparse = clone(dense)
    for batch in batches_of(X[:3000], 250):
        dense.partial_fit(batch)
        sparse.partial_fit(sp.csr_matrix(batch))
    np.testing.assert_allclose(sparse.means_, dense.means_, rtol=1e-10)
    np.testing.assert_allclose(sparse.weights_, dense.weights_, rtol=1e-10)


def test_missing_values_in_batches_are_skipped():
    # A batch that is the first one with a NaN, then one without: the running
    # statistics of observed entries must treat the earlier batch as complete.
    rng = np.random.RandomState(9)
    X = (rng.random_sample((400, 5)) < 0.5).astype(float)
    X_nan = X.copy()
    X_nan[rng.random_sample(X.shape) < 0.2] = np.nan
    means0 = rng.uniform(0.2, 0.8, (2, 5))
    est = BernoulliMixture(
        n_components=2, means_init=means0, weights_init=[0.5, 0.5], alpha=0
    )
    est.partial_fit(X[:200])
    est.partial_fit(X_nan[200:])
    assert np.all(np.isfinite(est.means_))
    # By hand: the observed count of each feature replaces n_k in the means.
    w, m = np.array([0.5, 0.5]), means0
    nk1, xk1, _ = textbook_e_step(X[:200], w, m)
    w, m = textbook_m_step(nk1, xk1, 0)
    batch = X_nan[200:]
    observed = ~np.isnan(batch)
    x = np.where(observed, batch, 0)
    joint = x @ np.log(m).T + (observed - x) @ np.log1p(-m).T + np.log(w)
    resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
    eta = 11.0**-0.7
    s_n = (1 - eta) * nk1 / 200 + eta * resp.mean(axis=0)
    s_x = (1 - eta) * xk1 / 200 + eta * resp.T @ x / 200
    s_obs = (1 - eta) * nk1[:, None] / 200 + eta * resp.T @ observed / 200
    np.testing.assert_allclose(est.means_, s_x / s_obs, rtol=1e-10)
    np.testing.assert_allclose(est.weights_, s_n / s_n.sum(), rtol=1e-10)


def test_pickle_mid_stream_continues_identically(simulated):
    X, _, _ = simulated
    est = BernoulliMixture(n_components=3, random_state=0)
    for batch in batches_of(X[:1000], 250):
        est.partial_fit(batch)
    copy = pickle.loads(pickle.dumps(est))
    for batch in batches_of(X[1000:2000], 250):
        est.partial_fit(batch)
        copy.partial_fit(batch)
    assert copy.n_iter_ == est.n_iter_ == 8
    np.testing.assert_array_equal(copy.means_, est.means_)


# --------------------------------------------------------------------------
# Errors and parameters
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: BernoulliMixture(n_components=2, random_state=0),
        lambda: FixedComponentMixture([[0.5] * 4, [0.2] * 4]),
    ],
    ids=["bernoulli", "fixed"],
)
def test_changed_number_of_features_raises(make):
    X = (np.random.RandomState(0).random_sample((50, 4)) < 0.5).astype(float)
    estimator = make()
    estimator.partial_fit(X)
    with pytest.raises(ValueError, match="X has 3 features.*expecting 4 features"):
        estimator.partial_fit(X[:, :3])
    # ... also after fit.
    estimator.fit(X)
    with pytest.raises(ValueError, match="X has 5 features.*expecting 4 features"):
        estimator.partial_fit(np.hstack([X, X[:, :1]]))


def test_changed_n_components_raises():
    X = (np.random.RandomState(0).random_sample((50, 4)) < 0.5).astype(float)
    est = BernoulliMixture(n_components=2, random_state=0).partial_fit(X)
    est.set_params(n_components=3)
    with pytest.raises(ValueError, match="2 components, but n_components=3"):
        est.partial_fit(X)


def test_first_batch_smaller_than_n_components_raises():
    with pytest.raises(ValueError, match="needs at least n_components=3 rows"):
        BernoulliMixture(n_components=3).partial_fit([[0, 1], [1, 1]])
    # With both starting arrays given, any batch will do.
    est = BernoulliMixture(
        n_components=3, weights_init=[0.2, 0.3, 0.5], means_init=np.full((3, 2), 0.5)
    ).partial_fit([[0, 1]])
    assert est.means_.shape == (3, 2)


@pytest.mark.parametrize("cls", [BernoulliMixture, FixedComponentMixture])
@pytest.mark.parametrize(
    "params",
    [
        {"learning_decay": 0.5},
        {"learning_decay": 1.01},
        {"learning_decay": "0.7"},
        {"learning_offset": -1.0},
        {"learning_offset": np.nan},
    ],
)
def test_invalid_learning_parameters(cls, params):
    est = cls(**params) if cls is BernoulliMixture else cls([[0.5]], **params)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        est.partial_fit([[0.0], [1.0]])


def test_learning_parameters_are_constructor_parameters():
    for est in (BernoulliMixture(), FixedComponentMixture([[0.5]])):
        params = est.get_params()
        assert params["learning_decay"] == 0.7
        assert params["learning_offset"] == 10.0


# --------------------------------------------------------------------------
# Batches read from storage
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored():
    X, _, _ = simulate(seed=11, n_samples=3000, n_features=12)
    return X.astype(np.uint8)


def _reference_stream(X, batch_size=400):
    est = BernoulliMixture(n_components=3, random_state=0)
    for batch in batches_of(X, batch_size):
        est.partial_fit(batch)
    return est


def _check_stream(source, reference, batch_size=400):
    est = BernoulliMixture(n_components=3, random_state=0)
    for start in range(0, source.shape[0], batch_size):
        est.partial_fit(source[start : start + batch_size])
    np.testing.assert_array_equal(est.means_, reference.means_)
    np.testing.assert_array_equal(est.weights_, reference.weights_)
    assert est.n_iter_ == reference.n_iter_


def test_memmap_batches(stored, tmp_path):
    path = tmp_path / "X.uint8"
    out = np.memmap(path, dtype=np.uint8, mode="w+", shape=stored.shape)
    out[:] = stored
    out.flush()
    del out
    source = np.memmap(path, dtype=np.uint8, mode="r", shape=stored.shape)
    _check_stream(source, _reference_stream(stored))


def test_h5py_batches(stored, tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "X.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("X", data=stored, chunks=(500, stored.shape[1]))
    with h5py.File(path, "r") as f:
        _check_stream(f["X"], _reference_stream(stored))


def test_zarr_batches(stored, tmp_path):
    zarr = pytest.importorskip("zarr")
    z = zarr.open_array(
        str(tmp_path / "X.zarr"),
        mode="w",
        shape=stored.shape,
        chunks=(500, stored.shape[1]),
        dtype="u1",
    )
    z[:] = stored
    source = zarr.open_array(str(tmp_path / "X.zarr"), mode="r")
    _check_stream(source, _reference_stream(stored))


def test_generator_of_batches(stored):
    reference = _reference_stream(stored)
    est = BernoulliMixture(n_components=3, random_state=0)
    for batch in batches_of(stored, 400):
        est.partial_fit(batch)
    np.testing.assert_array_equal(est.means_, reference.means_)
    # Batches of varying sizes, from a generator of lists, work too.
    rng = np.random.RandomState(0)

    def gen():
        start = 0
        while start < stored.shape[0]:
            size = rng.randint(50, 600)
            yield stored[start : start + size].tolist()
            start += size

    est = BernoulliMixture(n_components=3, random_state=0)
    for batch in gen():
        est.partial_fit(batch)
    assert est.score(stored) == pytest.approx(reference.score(stored), rel=0.01)
