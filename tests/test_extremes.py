"""Extreme inputs: huge log-likelihoods, boundary probabilities and weights,
degenerate components and a million rows in bounded memory.

Every expected value is computed here, independently of the package, in log
space with numpy/scipy.
"""

import time
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    FixedComponentMixture,
    NonIdentifiableWarning,
)

EPS = np.finfo(np.float64).eps


def component_log_lik(X, probs):
    """log p(x_i | k) of 0/1 rows (NaN skipped), entry by entry in log space."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    out = np.empty((X.shape[0], probs.shape[0]))
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(probs), np.log1p(-probs)
    for k in range(probs.shape[0]):
        per_entry = np.where(X == 1, log_p[k], log_q[k])
        per_entry[np.isnan(X)] = 0.0
        out[:, k] = per_entry.sum(axis=1)
    return out


def log_posterior(log_lik, weights):
    with np.errstate(divide="ignore"):
        weighted = log_lik + np.log(weights)
    log_norm = logsumexp(weighted, axis=1)
    return weighted - log_norm[:, None], log_norm


def assert_matches_log_space(est, X, log_lik, weights, *, rtol=1e-10):
    """predict_proba, score_samples and predict against the log-space reference."""
    log_resp, log_norm = log_posterior(log_lik, weights)
    proba = est.predict_proba(X)
    ss = est.score_samples(X)
    assert np.all(np.isfinite(proba)) and np.all(np.isfinite(ss))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ss, log_norm, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(proba, np.exp(log_resp), rtol=1e-8, atol=1e-12)
    # In log space too, wherever the posterior is representable.
    shown = log_resp > -700
    np.testing.assert_allclose(np.log(proba[shown]), log_resp[shown], rtol=0, atol=1e-8)
    clear = np.sort(log_resp, axis=1)
    clear = clear[:, -1] - clear[:, -2] > 1e-6 if log_resp.shape[1] > 1 else slice(None)
    np.testing.assert_array_equal(est.predict(X)[clear], log_resp.argmax(axis=1)[clear])


# ---------------------------------------------------------------------------
# 10,000 features: log-likelihoods far below the underflow of exp
# ---------------------------------------------------------------------------

N_WIDE, D_WIDE = 40, 10_000


def wide_problem(spread):
    """Components close to each other (spread small) or far apart."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0.05, 0.95, size=D_WIDE)
    probs = np.clip(base + rng.uniform(-spread, spread, size=(3, D_WIDE)), 0.01, 0.99)
    z = rng.integers(0, 3, N_WIDE)
    X = (rng.random((N_WIDE, D_WIDE)) < probs[z]).astype(np.float64)
    return X, probs


@pytest.mark.parametrize("spread", [0.002, 0.05])
@pytest.mark.parametrize("sparse", [False, True])
def test_ten_thousand_features_fixed_components(spread, sparse):
    X, probs = wide_problem(spread)
    log_lik = component_log_lik(X, probs)
    # The point of the test: every likelihood underflows in linear space.
    assert log_lik.max() < -5000
    assert np.all(np.exp(log_lik) == 0)
    Xin = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = FixedComponentMixture(probs).fit(Xin)
        assert np.all(np.isfinite(est.weights_))
        assert_matches_log_space(est, Xin, log_lik, est.weights_)
    if spread < 0.01:
        # Close components: posteriors are not all 0/1, so the test compares
        # real numbers and not only which component wins.
        proba = est.predict_proba(Xin)
        assert np.any((proba > 1e-3) & (proba < 1 - 1e-3))
    # The fitted weights maximise the likelihood: no vertex does better.
    final = np.mean(log_posterior(log_lik, est.weights_)[1])
    for vertex in np.eye(3):
        assert np.mean(log_posterior(log_lik, vertex)[1]) <= final + est.gap_bound_


@pytest.mark.parametrize("sparse", [False, True])
def test_ten_thousand_features_bernoulli_mixture(sparse):
    X, probs = wide_problem(0.05)
    Xin = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BernoulliMixture(
            3,
            means_init=np.clip(probs + 0.01, 0, 1),
            weights_init=np.full(3, 1 / 3),
            max_iter=5,
            tol=0,
        ).fit(Xin)
        assert np.all(np.isfinite(est.means_)) and np.all(np.isfinite(est.weights_))
        assert np.all(np.isfinite(est.lower_bounds_))
        log_lik = component_log_lik(X, est.means_)
        assert log_lik.max() < -745  # exp() of it underflows to 0
        assert_matches_log_space(est, Xin, log_lik, est.weights_)
        # The mean log-likelihood is that of the final parameters' mixture,
        # around -6,000 to -7,000 per row, and EM did not lose any of it.
        lb = np.asarray(est.lower_bounds_)
        assert np.all(np.diff(lb) >= -1e-10 * np.abs(lb[:-1]))
        assert np.mean(log_posterior(log_lik, est.weights_)[1]) >= lb[-1] - 1e-6


# ---------------------------------------------------------------------------
# Probabilities at the edge of float64
# ---------------------------------------------------------------------------

EDGE = np.array(
    [
        [1e-300, 1 - 1e-16, 0.5, 1e-300],
        [0.5, 0.5, 1 - 1e-16, 0.3],
        [0.2, 1e-300, 0.7, 1 - 1e-16],
    ]
)


def edge_data():
    rng = np.random.default_rng(2)
    X = (rng.random((60, 4)) < 0.5).astype(np.float64)
    # Rows that only the 1e-300 and 1 - 1e-16 entries can explain, barely.
    X[:3] = [[1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 1]]
    return X


@pytest.mark.parametrize("sparse", [False, True])
def test_component_probabilities_1e_300_and_one_minus_1e_16(sparse):
    assert 1 - 1e-16 < 1.0  # the value really is below one
    X = edge_data()
    log_lik = component_log_lik(X, EDGE)
    assert log_lik.min() < -1000 and np.all(np.isfinite(log_lik))
    Xin = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = FixedComponentMixture(EDGE).fit(Xin)
        assert np.all(np.isfinite(est.weights_))
        np.testing.assert_allclose(est.weights_.sum(), 1.0, atol=1e-12)
        # A log-likelihood of -690 and one of -36.7 stay exact enough that
        # posteriors of order 1e-290 come out right in log space.
        assert_matches_log_space(est, Xin, log_lik, est.weights_, rtol=1e-12)
        for w in ([1 / 3] * 3, [0.98, 0.01, 0.01]):
            est.weights_ = np.array(w)
            assert_matches_log_space(est, Xin, log_lik, est.weights_, rtol=1e-12)


def test_bernoulli_mixture_starting_at_extreme_probabilities():
    X = edge_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BernoulliMixture(3, means_init=EDGE, alpha=0.0, max_iter=20).fit(X)
    assert np.all((est.means_ >= EPS) & (est.means_ <= 1 - EPS))
    lb = np.asarray(est.lower_bounds_)
    assert np.all(np.isfinite(lb))
    assert np.all(np.diff(lb) >= -1e-10 * np.abs(lb[:-1]))
    assert_matches_log_space(est, X, component_log_lik(X, est.means_), est.weights_)


# ---------------------------------------------------------------------------
# Constant features, identical components, weights at zero, one component
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.01])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
def test_feature_constant_across_all_rows(alpha, dtype, sparse):
    rng = np.random.default_rng(3)
    X = (rng.random((50, 5)) < 0.5).astype(dtype)
    X[:, 0] = 1  # always one
    X[:, 3] = 0  # always zero
    Xin = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BernoulliMixture(2, alpha=alpha, random_state=0, max_iter=50).fit(Xin)
    eps = np.finfo(dtype).eps
    assert np.all(np.isfinite(est.means_)) and np.all(np.isfinite(est.weights_))
    if alpha == 0:
        # The maximum likelihood estimate is 1 (0), clipped to 1 - eps (eps).
        np.testing.assert_allclose(est.means_[:, 0], 1 - eps, rtol=0, atol=4 * eps)
        np.testing.assert_allclose(est.means_[:, 3], eps, rtol=0, atol=4 * eps)
    else:
        # (n_k + alpha) / (n_k + 2 alpha) with n_k = weight_k * n_samples.
        nk = est.weights_ * X.shape[0]
        np.testing.assert_allclose(
            est.means_[:, 0], (nk + alpha) / (nk + 2 * alpha), rtol=1e-4
        )
        np.testing.assert_allclose(
            est.means_[:, 3], alpha / (nk + 2 * alpha), rtol=1e-4
        )
    lb = np.asarray(est.lower_bounds_)
    assert np.all(np.isfinite(lb))
    slack = 1e-10 if dtype == np.float64 else 1e-5
    assert np.all(np.diff(lb) >= -slack * np.abs(lb[:-1]))
    # A new row breaking both constants is unlikely, not impossible.
    new = np.array([[0, 1, 0, 1, 1], [1, 0, 1, 0, 0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert_matches_log_space(
            est, new, component_log_lik(new, est.means_), est.weights_
        )
        assert_matches_log_space(
            est, Xin, component_log_lik(X, est.means_), est.weights_
        )


@pytest.mark.parametrize(
    "components, X",
    [
        (
            [[0.3, 0.6], [0.3, 0.6]],
            np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 5, dtype=float),
        ),
        (
            [stats.norm(1, 2), stats.norm(1, 2)],
            np.random.default_rng(4).normal(size=(30, 2)),
        ),
        (
            [[0.3, 0.6], [0.3, 0.6], [0.8, 0.1]],
            np.array([[1, 0], [0, 1], [1, 1]] * 5, dtype=float),
        ),
    ],
    ids=["bernoulli", "scipy", "two-of-three-identical"],
)
def test_identical_components_are_not_identifiable(components, X):
    with pytest.warns(NonIdentifiableWarning, match="not identifiable"):
        est = FixedComponentMixture(components).fit(X)
    assert np.all(np.isfinite(est.weights_)) and np.all(est.weights_ >= 0)
    np.testing.assert_allclose(est.weights_.sum(), 1.0, atol=1e-12)
    assert np.all(np.isnan(est.weights_stderr_))
    assert np.all(np.isnan(est.weights_covariance_))
    if isinstance(components[0], list):
        log_lik = component_log_lik(X, components)
    else:
        log_lik = np.column_stack([c.logpdf(X).sum(axis=1) for c in components])
    assert_matches_log_space(est, X, log_lik, est.weights_)
    # Identical components share the posterior in the ratio of their weights.
    proba = est.predict_proba(X)
    np.testing.assert_allclose(
        proba[:, 0] * est.weights_[1],
        proba[:, 1] * est.weights_[0],
        rtol=1e-12,
        atol=1e-15,
    )


def test_bernoulli_mixture_identical_starting_components_stay_finite():
    rng = np.random.default_rng(5)
    X = (rng.random((40, 3)) < 0.4).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = BernoulliMixture(
            2, means_init=np.full((2, 3), 0.4), weights_init=[0.3, 0.7], alpha=0.0
        ).fit(X)
    # Identical components get identical responsibilities: EM cannot split them.
    np.testing.assert_allclose(est.means_[0], est.means_[1], rtol=1e-12)
    np.testing.assert_allclose(est.means_[0], X.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(est.weights_, [0.3, 0.7], rtol=1e-9)
    np.testing.assert_allclose(
        est.predict_proba(X), np.tile([0.3, 0.7], (40, 1)), rtol=1e-9
    )


def exact_optimum_problem():
    """Rows (1, 0) and (0, 1) half and half; components A, B and C = (0.5, 0.5).

    The mean log-likelihood of weights (a, b, c) is
    0.5 log(0.81 a + 0.01 b + 0.25 c) + 0.5 log(0.01 a + 0.81 b + 0.25 c),
    maximised at a = b = 1/2, c = 0 exactly (moving weight to C lowers both
    terms below 0.41), with value log(0.41).
    """
    components = [[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]]
    X = np.array([[1.0, 0.0]] * 50 + [[0.0, 1.0]] * 50)
    return components, X, np.array([0.5, 0.5, 0.0]), np.log(0.41)


@pytest.mark.parametrize("tol", [1e-6, 1e-8, 1e-10])
def test_weight_whose_optimum_is_exactly_zero(tol):
    components, X, w_opt, best = exact_optimum_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = FixedComponentMixture(components, tol=tol, max_iter=100_000).fit(X)
    assert est.converged_
    assert 0 <= est.weights_[2] < 10 * tol
    np.testing.assert_allclose(est.weights_, w_opt, atol=10 * tol)
    log_lik = component_log_lik(X, components)
    final = np.mean(log_posterior(log_lik, est.weights_)[1])
    # The certificate holds: the true gap is at most gap_bound_ <= tol.
    assert est.gap_bound_ <= tol
    assert best - est.lower_bound_ <= est.gap_bound_ + 1e-15
    assert best - final <= est.gap_bound_ + 1e-15
    assert final <= best + 1e-15
    # And at every point of a grid on the simplex nothing beats the fit by more.
    grid = [
        (a, b, 1 - a - b)
        for a in np.linspace(0, 1, 21)
        for b in np.linspace(0, 1 - a, 21)
    ]
    for w in grid:
        w = np.clip(w, 0, 1)
        assert np.mean(log_posterior(log_lik, w)[1]) <= final + est.gap_bound_ + 1e-15


def test_one_component_bernoulli_mixture_is_column_means():
    rng = np.random.default_rng(6)
    X = (rng.random((30, 4)) < 0.3).astype(float)
    X[rng.random((30, 4)) < 0.2] = np.nan
    X[:, 2] = np.where(np.isnan(X[:, 2]), np.nan, 1.0)  # observed entries all one
    sw = rng.integers(0, 4, 30).astype(float)
    sw[0] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = BernoulliMixture(1, alpha=0.0).fit(X, sample_weight=sw)
    observed = ~np.isnan(X)
    expected = (np.nan_to_num(X) * sw[:, None]).sum(0) / (observed * sw[:, None]).sum(0)
    np.testing.assert_allclose(
        est.means_[0], np.clip(expected, EPS, 1 - EPS), rtol=1e-12
    )
    np.testing.assert_array_equal(est.weights_, [1.0])
    np.testing.assert_array_equal(est.predict_proba(X), np.ones((30, 1)))
    np.testing.assert_array_equal(est.predict(X), np.zeros(30))
    assert_matches_log_space(est, X, component_log_lik(X, est.means_), est.weights_)


def test_one_component_fixed_mixture():
    X = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NonIdentifiableWarning, nothing else
        est = FixedComponentMixture([[0.6, 0.2]]).fit(X)
    np.testing.assert_array_equal(est.weights_, [1.0])
    assert est.converged_
    np.testing.assert_array_equal(est.weights_stderr_, [0.0])
    assert_matches_log_space(est, X, component_log_lik(X, [[0.6, 0.2]]), [1.0])


def test_single_row_and_single_feature():
    X = np.array([[1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        bm = BernoulliMixture(1, alpha=0.0).fit(X)
        fcm = FixedComponentMixture([[0.7], [0.2]]).fit(X)
    # The M-step adds 10 eps to each component's weight, so 1/(1 + 10 eps).
    np.testing.assert_allclose(bm.means_, [[1 - EPS]], rtol=0, atol=16 * EPS)
    # One red marble: all weight on the redder factory.
    np.testing.assert_allclose(fcm.weights_, [1.0, 0.0], atol=1e-7)
    assert_matches_log_space(fcm, X, component_log_lik(X, [[0.7], [0.2]]), fcm.weights_)


# ---------------------------------------------------------------------------
# Sample weights at the edges of float64
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-12, 1e12, 1e300])
def test_scaling_all_sample_weights_changes_nothing(scale):
    """Frequency weights: multiplying all of them by c is c copies of the data.

    With alpha=0 (no prior measured in units of weight) and a fixed start the
    maximum likelihood fit is the same for every c.
    """
    rng = np.random.default_rng(7)
    X = (rng.random((100, 4)) < 0.4).astype(float)
    sw = rng.integers(1, 4, 100).astype(float)
    init = dict(
        means_init=[[0.6, 0.3, 0.3, 0.3], [0.3, 0.6, 0.3, 0.3]], weights_init=[0.5, 0.5]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ref = BernoulliMixture(2, alpha=0.0, **init).fit(X, sample_weight=sw)
        scaled = BernoulliMixture(2, alpha=0.0, **init).fit(X, sample_weight=sw * scale)
        fref = FixedComponentMixture([[0.2] * 4, [0.6] * 4]).fit(X, sample_weight=sw)
        fscaled = FixedComponentMixture([[0.2] * 4, [0.6] * 4]).fit(
            X, sample_weight=sw * scale
        )
    np.testing.assert_allclose(fscaled.weights_, fref.weights_, rtol=1e-9)
    np.testing.assert_allclose(
        fscaled.lower_bounds_[-1], fref.lower_bounds_[-1], rtol=1e-9
    )
    np.testing.assert_allclose(scaled.weights_, ref.weights_, rtol=1e-9)
    np.testing.assert_allclose(scaled.means_, ref.means_, rtol=1e-9)
    np.testing.assert_allclose(scaled.lower_bounds_, ref.lower_bounds_, rtol=1e-9)


def test_weight_zero_at_start_gives_no_runtime_warning():
    """A component started at weight 0 is legal (weights_init >= 0)."""
    X = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]] * 3, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BernoulliMixture(2, weights_init=[1.0, 0.0], random_state=0).fit(X)
    assert np.all(np.isfinite(est.weights_)) and np.all(np.isfinite(est.means_))
    assert np.all(np.isfinite(est.predict_proba(X)))


# ---------------------------------------------------------------------------
# A million rows in bounded memory
# ---------------------------------------------------------------------------

N_BIG, D_BIG, K_BIG = 10**6, 20, 3
# Peak traced memory beyond X itself (and beyond the returned arrays of
# shape (n,) or (n, n_components)) as a fraction of X.nbytes. A block-wise
# EM needs O(n_components x n_features) plus per-block buffers; the O(n)
# bookkeeping it cannot avoid (one weight per row, one (n, n_components)
# array of starting responsibilities) is about 0.2 x X.nbytes here.
MEMORY_BOUND = 0.25


def big_data(n=N_BIG, d=D_BIG, k=K_BIG, seed=8):
    """0/1 rows of a latent class model, generated in blocks (little memory)."""
    rng = np.random.default_rng(seed)
    means = rng.choice([0.1, 0.3, 0.7, 0.9], size=(k, d))
    z = rng.integers(0, k, n)
    X = np.empty((n, d))
    for start in range(0, n, 1 << 16):
        rows = slice(start, start + (1 << 16))
        X[rows] = rng.random((z[rows].size, d)) < means[z[rows]]
    return X, means


def traced_peak(fn):
    """(result, peak traced bytes, seconds) of fn() under tracemalloc."""
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak, elapsed


@pytest.fixture(scope="module")
def big():
    X, means = big_data()
    return X, means


def _fit_big(X, **kw):
    est = BernoulliMixture(
        K_BIG, init_params="random_from_data", random_state=0, max_iter=5, tol=0, **kw
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


@pytest.fixture(scope="module")
def big_fitted(big):
    X, _ = big
    return _fit_big(X)


def test_million_rows_fit_memory(big):
    X, _ = big
    # A checksum, not a copy, shows X unchanged (a copy would double the memory).
    probe = np.random.default_rng(0).random(X.shape[1])
    checksum = (X @ probe).tobytes()
    est, peak, elapsed = traced_peak(lambda: _fit_big(X))
    assert (X @ probe).tobytes() == checksum
    assert np.all(np.isfinite(est.means_)) and np.all(np.isfinite(est.weights_))
    assert elapsed < 15
    assert peak < MEMORY_BOUND * X.nbytes, (
        f"fit on a {X.shape} float64 array traced {peak / 1e6:.0f} MB beyond X "
        f"({peak / X.nbytes:.2f} x X.nbytes; bound {MEMORY_BOUND})"
    )


@pytest.mark.parametrize("method", ["predict_proba", "score_samples", "predict"])
def test_million_rows_prediction_memory(big, big_fitted, method):
    X, _ = big
    out, peak, elapsed = traced_peak(lambda: getattr(big_fitted, method)(X))
    assert elapsed < 10
    beyond = peak - out.nbytes
    assert beyond < MEMORY_BOUND * X.nbytes, (
        f"{method} on a {X.shape} float64 array traced {beyond / 1e6:.0f} MB beyond X "
        f"and its {out.nbytes / 1e6:.0f} MB output ({beyond / X.nbytes:.2f} x X.nbytes; "
        f"bound {MEMORY_BOUND})"
    )


def test_million_rows_predictions_are_right(big, big_fitted):
    """The answers on a million rows equal the log-space reference (on a sample)."""
    X, _ = big
    rows = np.random.default_rng(9).choice(N_BIG, 2000, replace=False)
    est = big_fitted
    log_lik = component_log_lik(X[rows], est.means_)
    log_resp, log_norm = log_posterior(log_lik, est.weights_)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba[rows], np.exp(log_resp), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.score_samples(X)[rows], log_norm, rtol=1e-10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_default_init_memory_is_bounded_too():
    """The default k-means initialisation under the same bound (200,000 rows)."""
    X, _ = big_data(n=200_000)
    est = BernoulliMixture(K_BIG, random_state=0, max_iter=2, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, peak, _ = traced_peak(lambda: est.fit(X))
    assert peak < MEMORY_BOUND * X.nbytes, (
        f"fit with init_params='kmeans' traced {peak / 1e6:.0f} MB beyond X "
        f"({peak / X.nbytes:.2f} x X.nbytes; bound {MEMORY_BOUND})"
    )
