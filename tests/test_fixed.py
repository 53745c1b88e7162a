"""Tests of FixedComponentMixture against answers known independently of the code.

The reference values are computed here, in the tests: the closed form of the
two-factory marble problem from the seed text, a plain EM written in numpy,
hand-written Bernoulli / scipy log-likelihoods and the observed information
of the free proportions.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neighbors import KernelDensity
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Binarizer, FunctionTransformer
from threadpoolctl import threadpool_limits

from sklearn_bernoulli_mix import (
    FixedComponentMixture,
    InvalidParameterError,
    NonIdentifiableWarning,
)

FACTORIES = [[0.8], [0.3]]


# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------


def marbles(n_red, n_blue):
    """A bag of marbles as a one-feature 0/1 matrix (1 = red)."""
    return np.array([[1.0]] * n_red + [[0.0]] * n_blue).reshape(-1, 1)


def closed_form_weight(r):
    """MLE of P(factory 1) for red fraction r, factories 80% and 30% red."""
    return float(np.clip((r - 0.3) / 0.5, 0, 1))


def closed_form_loglik(r, w):
    """Mean log-likelihood of weight w for a bag with red fraction r."""
    return r * np.log(0.8 * w + 0.3 * (1 - w)) + (1 - r) * np.log(
        0.2 * w + 0.7 * (1 - w)
    )


def bernoulli_loglik(X, probs):
    """log p(x_i | k) for 0/1 rows, written with scipy.stats.bernoulli."""
    X = np.asarray(X)
    probs = np.asarray(probs, dtype=float)
    with np.errstate(divide="ignore"):
        return stats.bernoulli.logpmf(X[:, None, :], probs[None, :, :]).sum(axis=2)


def mixture_log_density(log_lik, weights):
    with np.errstate(divide="ignore"):
        return logsumexp(log_lik + np.log(weights), axis=1)


def mean_loglik(log_lik, weights, freq=None):
    dens = mixture_log_density(log_lik, weights)
    if freq is None:
        return float(dens.mean())
    return float(freq @ dens)


def reference_em(log_lik, n_iter=20000, freq=None):
    """Plain EM on the mixing weights, run until the dual gap is ~1e-15.

    Returns the weights and the optimal mean log-likelihood. The optimum is
    certified here as well: by Jensen, f* - f(w) <= log(max_k g_k).
    """
    n, k = log_lik.shape
    freq = np.full(n, 1 / n) if freq is None else freq
    shift = log_lik.max(axis=1, keepdims=True)
    lik = np.exp(log_lik - shift)
    w = np.full(k, 1 / k)
    for _ in range(n_iter):
        g = lik.T @ (freq / (lik @ w))
        if np.log(g.max()) < 1e-15:
            break
        w = w * g
        w /= w.sum()
    g = lik.T @ (freq / (lik @ w))
    assert np.log(g.max()) < 1e-13, "the reference EM did not converge"
    return w, mean_loglik(log_lik, w, freq)


def reference_covariance(log_lik, weights, counts=None):
    """Inverse observed information of the free proportions, last one dropped."""
    n, k = log_lik.shape
    counts = np.ones(n) if counts is None else counts
    lik = np.exp(log_lik - log_lik.max(axis=1, keepdims=True))
    mix = lik @ weights
    d = (lik[:, :-1] - lik[:, [-1]]) / mix[:, None]
    info = (d * counts[:, None]).T @ d
    inv = np.linalg.inv(info)
    jac = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))])
    return jac @ inv @ jac.T


def fit_quiet(estimator, X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, **kwargs)


@pytest.fixture(scope="module", autouse=True)
def _single_thread_blas():
    # The matrices here are small: BLAS threads only add contention.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def five_component_data():
    rng = np.random.default_rng(12345)
    probs = rng.uniform(0.1, 0.9, size=(5, 20))
    weights = np.array([0.35, 0.25, 0.2, 0.15, 0.05])
    z = rng.choice(5, size=20000, p=weights)
    X = (rng.random((20000, 20)) < probs[z]).astype(np.float64)
    log_lik = bernoulli_loglik(X, probs)
    w_star, f_star = reference_em(log_lik)
    return {
        "X": X,
        "probs": probs,
        "weights": weights,
        "log_lik": log_lik,
        "w_star": w_star,
        "f_star": f_star,
    }


@pytest.fixture(scope="module")
def fitted_five(five_component_data):
    d = five_component_data
    return FixedComponentMixture(d["probs"]).fit(d["X"])


# --------------------------------------------------------------------------
# 1. The seed's two marble factories: closed form
# --------------------------------------------------------------------------


def _closed_form_tolerances(r, w, gap_bound):
    """How far the weight (and its stderr) may be from the closed form.

    The certificate bounds the log-likelihood gap, not the weight error, so
    the weight tolerance follows from the shape of f near its maximum:

    - at a vertex (w* = 0 or 1) f has a slope s along the simplex and, by
      concavity, f* - f(w) >= |s| |w - w*|;
    - inside, log(max_k g_k) >= log(1 + min(w) |f'(w)|) and
      |f'(w)| ~ I |w - w*| with I = 0.25 / (r (1 - r)) the curvature of f.

    Far from the vertices both give less than 1e-6, the floor used.
    """
    if w in (0.0, 1.0):
        slope = 0.5 * (r - 0.3) / 0.21 if w == 0 else 0.5 * (r - 0.8) / 0.16
        return max(1e-6, gap_bound / abs(slope) + 1e-12), None
    curvature = 0.25 / (r * (1 - r))
    w_err = 1.5 * np.expm1(gap_bound) / (min(w, 1 - w) * curvature)
    # d log(se) / dw = -0.5 (2r - 1) / (r (1 - r)), at most 1 / (r (1 - r))
    return max(1e-6, w_err), 1e-6 + w_err / (r * (1 - r))


def _check_closed_form(X, tol=1e-8):
    n = X.shape[0]
    r = X.mean()
    assert r not in (0.3, 0.8), "exact boundary: see test_exact_boundary"
    mix = FixedComponentMixture(FACTORIES, tol=tol, max_iter=200_000).fit(X)
    w = closed_form_weight(r)
    assert mix.converged_
    assert mix.gap_bound_ <= tol
    w_atol, se_rtol = _closed_form_tolerances(r, w, mix.gap_bound_)
    np.testing.assert_allclose(mix.weights_, [w, 1 - w], atol=w_atol)
    f_star = closed_form_loglik(r, w)
    assert f_star - mix.score(X) <= mix.gap_bound_ + 1e-14
    assert abs(mix.score(X) - f_star) <= tol + 1e-14
    if 0.3 < r < 0.8:
        se = np.sqrt(r * (1 - r) / n) / 0.5
        np.testing.assert_allclose(mix.weights_stderr_, [se, se], rtol=se_rtol)
    return mix


@pytest.mark.parametrize("n_red", [0, 1, 2, 4, 5, 6, 7, 9, 10])
def test_closed_form_ten_marbles(n_red):
    _check_closed_form(marbles(n_red, 10 - n_red))


@pytest.mark.parametrize("n", [100, 1000, 100_000])
@pytest.mark.parametrize("true_w", [0.0, 0.25, 0.6, 0.9, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_simulated(n, true_w, seed):
    rng = np.random.default_rng(1000 * seed + int(100 * true_w) + n)
    factory = rng.random(n) < true_w
    red = rng.random(n) < np.where(factory, 0.8, 0.3)
    _check_closed_form(red.astype(np.float64).reshape(-1, 1))


@pytest.mark.parametrize(
    "n_red, n_blue, expected",
    [(0, 50, 0.0), (20, 80, 0.0), (9, 1, 1.0), (50, 0, 1.0), (29, 71, 0.0)],
)
def test_closed_form_boundary_weights_are_exact_zero_or_one(n_red, n_blue, expected):
    X = marbles(n_red, n_blue)
    mix = FixedComponentMixture(FACTORIES, max_iter=100_000).fit(X)
    assert mix.converged_
    assert mix.gap_bound_ <= mix.tol
    np.testing.assert_allclose(mix.weights_, [expected, 1 - expected], atol=1e-6)
    assert np.all(mix.weights_ >= 0)
    assert mix.weights_.sum() == pytest.approx(1, abs=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 150), st.integers(0, 150))
def test_closed_form_any_bag(n_red, n_blue):
    n = n_red + n_blue
    assume(n > 0 and 10 * n_red != 3 * n and 10 * n_red != 8 * n)
    _check_closed_form(marbles(n_red, n_blue))


@pytest.mark.parametrize("n_red", [3, 8])
def test_exact_boundary_bound_stays_honest(n_red):
    # r = 0.3 or 0.8 exactly: the optimum is at a vertex where the gradient
    # vanishes, EM is sublinear there; whatever is returned, the certificate
    # must bound the true gap and the weights must approach the vertex.
    X = marbles(n_red, 10 - n_red)
    r = n_red / 10
    w = closed_form_weight(r)
    mix = fit_quiet(FixedComponentMixture(FACTORIES), X)
    f_star = closed_form_loglik(r, w)
    assert 0 <= f_star - mix.score(X) <= mix.gap_bound_ + 1e-15
    assert mix.converged_ == (mix.gap_bound_ <= mix.tol)
    np.testing.assert_allclose(mix.weights_, [w, 1 - w], atol=1e-2)


def test_seed_posterior_of_each_colour():
    X = marbles(60, 40)
    mix = FixedComponentMixture(FACTORIES).fit(X)
    np.testing.assert_allclose(mix.weights_, [0.6, 0.4], atol=1e-7)
    w = mix.weights_[0]
    red = 0.8 * w / (0.8 * w + 0.3 * (1 - w))
    blue = 0.2 * w / (0.2 * w + 0.7 * (1 - w))
    np.testing.assert_allclose(
        mix.predict_proba([[1], [0]]), [[red, 1 - red], [blue, 1 - blue]], rtol=1e-12
    )
    np.testing.assert_array_equal(mix.predict([[1], [0]]), [0, 1])


# --------------------------------------------------------------------------
# 2. n components: recovery, monotonicity, the certificate, references
# --------------------------------------------------------------------------


def test_recovers_known_weights_within_four_stderr(five_component_data, fitted_five):
    d = five_component_data
    mix = fitted_five
    assert mix.converged_
    assert mix.n_components_ == 5
    assert mix.weights_.sum() == pytest.approx(1, abs=1e-12)
    assert np.all(mix.weights_stderr_ > 0)
    assert np.all(np.abs(mix.weights_ - d["weights"]) < 4 * mix.weights_stderr_)


def test_weights_match_reference_optimum(five_component_data, fitted_five):
    d = five_component_data
    mix = fitted_five
    np.testing.assert_allclose(mix.weights_, d["w_star"], atol=1e-6)
    assert d["f_star"] - mix.score(d["X"]) <= mix.gap_bound_ + 1e-12
    assert d["f_star"] - mix.score(d["X"]) <= mix.tol + 1e-12


def test_covariance_matches_observed_information(five_component_data, fitted_five):
    d = five_component_data
    mix = fitted_five
    ref = reference_covariance(d["log_lik"], mix.weights_)
    np.testing.assert_allclose(mix.weights_covariance_, ref, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(mix.weights_covariance_.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(mix.weights_stderr_, np.sqrt(np.diag(ref)), rtol=1e-6)


def test_lower_bounds_never_decrease(five_component_data):
    d = five_component_data
    mix = FixedComponentMixture(d["probs"], tol=1e-13, max_iter=10_000).fit(d["X"])
    lbs = np.asarray(mix.lower_bounds_)
    assert len(lbs) == mix.n_iter_
    assert np.all(np.diff(lbs) >= -1e-13)
    assert mix.lower_bound_ == lbs[-1]
    # the first value is the log-likelihood of the uniform starting weights
    assert lbs[0] == pytest.approx(
        mean_loglik(d["log_lik"], np.full(5, 0.2)), abs=1e-10
    )
    # and the last is that of the weights at the start of the last iteration,
    # never better than the returned weights
    assert mix.score(d["X"]) >= mix.lower_bound_ - 1e-13


@pytest.mark.parametrize("solver", ["em", "squarem", "sqp"])
def test_certificate_bounds_true_gap_at_every_iteration(five_component_data, solver):
    d = five_component_data
    X, log_lik, f_star = d["X"], d["log_lik"], d["f_star"]
    full = FixedComponentMixture(
        d["probs"], solver=solver, tol=1e-12, max_iter=10_000
    ).fit(X)
    n_total = full.n_iter_
    assert n_total >= (10 if solver == "em" else 2)
    lik = np.exp(log_lik - log_lik.max(axis=1, keepdims=True))
    previous_weights = np.full(5, 0.2)
    for t in range(1, n_total + 1):
        mix = fit_quiet(
            FixedComponentMixture(d["probs"], solver=solver, tol=1e-12, max_iter=t),
            X,
        )
        assert mix.n_iter_ == t
        # lower_bounds_[t] is the log-likelihood of the weights after t updates
        score = mix.score(X)
        if t < n_total:
            assert score == pytest.approx(full.lower_bounds_[t], abs=1e-12)
        assert mix.lower_bounds_ == pytest.approx(full.lower_bounds_[:t], abs=1e-12)
        # gap_bound_ bounds the gap of the weights at the start of iteration t,
        # hence also of the (never worse) returned weights
        assert mix.gap_bound_ >= f_star - mix.lower_bound_ - 1e-12
        assert mix.gap_bound_ >= f_star - score - 1e-12
        assert mix.gap_bound_ >= 0
        # and it is log(max_k g_k) at those weights, computed independently
        g = lik.T @ (1 / (lik @ previous_weights)) / lik.shape[0]
        assert mix.gap_bound_ == pytest.approx(np.log(g.max()), rel=1e-8, abs=1e-14)
        assert mix.lower_bound_ == pytest.approx(
            mean_loglik(log_lik, previous_weights), abs=1e-10
        )
        previous_weights = mix.weights_
        assert mix.converged_ == (t == n_total)


def test_score_samples_and_predict_proba_match_hand_computation(
    five_component_data, fitted_five
):
    d = five_component_data
    mix = fitted_five
    X = d["X"][:500]
    joint = d["log_lik"][:500] + np.log(mix.weights_)
    log_dens = logsumexp(joint, axis=1)
    np.testing.assert_allclose(mix.score_samples(X), log_dens, rtol=1e-12)
    np.testing.assert_allclose(
        mix.predict_proba(X), np.exp(joint - log_dens[:, None]), rtol=1e-10, atol=1e-15
    )
    np.testing.assert_array_equal(mix.predict(X), joint.argmax(axis=1))
    assert mix.score(X) == pytest.approx(log_dens.mean(), rel=1e-12)


def test_bic_aic(five_component_data, fitted_five):
    X = five_component_data["X"][:1000]
    mix = fitted_five
    total = mix.score_samples(X).sum()
    assert mix.bic(X) == pytest.approx(-2 * total + 4 * np.log(1000), rel=1e-12)
    assert mix.aic(X) == pytest.approx(-2 * total + 8, rel=1e-12)


def test_fit_predict_equals_fit_then_predict(five_component_data):
    d = five_component_data
    X = d["X"][:2000]
    labels = FixedComponentMixture(d["probs"]).fit_predict(X)
    np.testing.assert_array_equal(
        labels, FixedComponentMixture(d["probs"]).fit(X).predict(X)
    )


@pytest.mark.parametrize("init", ["uniform", "random", "weights_init"])
def test_every_start_reaches_the_same_optimum(five_component_data, init):
    d = five_component_data
    params = {"random_state": 3}
    if init == "weights_init":
        params["weights_init"] = np.array([0.01, 0.01, 0.01, 0.01, 0.96])
    else:
        params["init_params"] = init
    mix = FixedComponentMixture(d["probs"], max_iter=10_000, **params).fit(d["X"])
    np.testing.assert_allclose(mix.weights_, d["w_star"], atol=1e-6)


# --------------------------------------------------------------------------
# 3. sample_weight, order, pipelines, search, pickling, clone
# --------------------------------------------------------------------------


def _sw_cases():
    rng = np.random.default_rng(7)
    # few binary features: identical rows get collapsed
    P3 = np.array([[0.9, 0.1, 0.6], [0.2, 0.7, 0.5], [0.5, 0.5, 0.1]])
    z = rng.choice(3, 300, p=[0.5, 0.3, 0.2])
    X3 = (rng.random((300, 3)) < P3[z]).astype(float)
    # many binary features: no collapsing
    P30 = rng.uniform(0.1, 0.9, (3, 60))
    z = rng.choice(3, 300, p=[0.5, 0.3, 0.2])
    X30 = (rng.random((300, 60)) < P30[z]).astype(float)
    # continuous data with scipy components
    Xn = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(2, 1, (100, 2))])
    dists = [stats.norm(0, 1), stats.norm(2, 1)]
    return [("collapsed", P3, X3), ("uncollapsed", P30, X30), ("normal", dists, Xn)]


@pytest.mark.parametrize(
    "name, components, X", _sw_cases(), ids=["collapsed", "uncollapsed", "normal"]
)
def test_integer_sample_weight_equals_repeated_rows(name, components, X):
    rng = np.random.default_rng(11)
    sw = rng.integers(0, 4, size=X.shape[0])
    kw = {"tol": 1e-12, "max_iter": 10_000}
    weighted = FixedComponentMixture(components, **kw).fit(X, sample_weight=sw)
    repeated = FixedComponentMixture(components, **kw).fit(np.repeat(X, sw, axis=0))
    np.testing.assert_allclose(weighted.weights_, repeated.weights_, atol=1e-10)
    np.testing.assert_allclose(
        weighted.weights_stderr_, repeated.weights_stderr_, rtol=0, atol=1e-10
    )
    assert weighted.n_iter_ == repeated.n_iter_
    assert weighted.lower_bound_ == pytest.approx(repeated.lower_bound_, abs=1e-10)


@pytest.mark.parametrize(
    "name, components, X", _sw_cases(), ids=["collapsed", "uncollapsed", "normal"]
)
def test_shuffling_rows_does_not_matter(name, components, X):
    perm = np.random.default_rng(5).permutation(X.shape[0])
    kw = {"tol": 1e-12, "max_iter": 10_000}
    a = FixedComponentMixture(components, **kw).fit(X)
    b = FixedComponentMixture(components, **kw).fit(X[perm])
    np.testing.assert_allclose(a.weights_, b.weights_, atol=1e-10)
    np.testing.assert_allclose(a.weights_stderr_, b.weights_stderr_, rtol=1e-8)
    assert a.lower_bound_ == pytest.approx(b.lower_bound_, abs=1e-10)
    np.testing.assert_allclose(a.score_samples(X[perm]), a.score_samples(X)[perm])


def test_scaled_sample_weight_scales_information():
    # frequency weights: doubling every weight is doubling the data, so the
    # weights stay and the standard errors shrink by sqrt(2)
    X = marbles(60, 40)
    a = FixedComponentMixture(FACTORIES).fit(X)
    b = FixedComponentMixture(FACTORIES).fit(X, sample_weight=np.full(100, 2.0))
    np.testing.assert_allclose(a.weights_, b.weights_, atol=1e-10)
    np.testing.assert_allclose(a.weights_stderr_ / np.sqrt(2), b.weights_stderr_)


def test_zero_sample_weight_drops_row():
    X = marbles(60, 40)
    extra = np.vstack([X, marbles(30, 0)])
    sw = np.r_[np.ones(100), np.zeros(30)]
    a = FixedComponentMixture(FACTORIES).fit(X)
    b = FixedComponentMixture(FACTORIES).fit(extra, sample_weight=sw)
    np.testing.assert_allclose(a.weights_, b.weights_, atol=1e-10)
    np.testing.assert_allclose(a.weights_stderr_, b.weights_stderr_, rtol=1e-8)


def test_pipeline_with_transformer():
    rng = np.random.default_rng(2)
    probs = np.array([[0.9, 0.8, 0.1], [0.1, 0.3, 0.7]])
    z = rng.choice(2, 400, p=[0.3, 0.7])
    Xb = (rng.random((400, 3)) < probs[z]).astype(float)
    Xc = Xb + rng.uniform(-0.4, 0.4, size=Xb.shape)  # binarised back at 0.5
    pipe = make_pipeline(Binarizer(threshold=0.5), FixedComponentMixture(probs))
    pipe.fit(Xc)
    direct = FixedComponentMixture(probs).fit(Xb)
    np.testing.assert_allclose(pipe[-1].weights_, direct.weights_, atol=1e-12)
    assert pipe.score(Xc) == pytest.approx(direct.score(Xb), rel=1e-12)
    np.testing.assert_allclose(pipe.predict_proba(Xc), direct.predict_proba(Xb))
    np.testing.assert_allclose(pipe.score_samples(Xc), direct.score_samples(Xb))

    pipe2 = make_pipeline(
        FunctionTransformer(lambda A: A[:, :1]), FixedComponentMixture(FACTORIES)
    ).fit(np.hstack([marbles(60, 40), np.zeros((100, 1))]))
    np.testing.assert_allclose(pipe2[-1].weights_, [0.6, 0.4], atol=1e-7)


def test_grid_search_over_init_params_scores_mean_loglik():
    rng = np.random.default_rng(4)
    X = (rng.random((300, 1)) < 0.55).astype(float)
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(
        FixedComponentMixture(FACTORIES),
        {"init_params": ["uniform", "random"], "random_state": [0, 1]},
        cv=cv,
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    np.testing.assert_allclose(scores, scores[0], atol=1e-8)
    expected = []
    for train, test in cv.split(X):
        mix = FixedComponentMixture(FACTORIES).fit(X[train])
        w = closed_form_weight(X[train].mean())
        np.testing.assert_allclose(mix.weights_[0], w, atol=1e-6)
        r_test = X[test].mean()
        expected.append(closed_form_loglik(r_test, w))
    assert scores[0] == pytest.approx(np.mean(expected), abs=1e-7)
    np.testing.assert_allclose(
        search.best_estimator_.weights_[0], closed_form_weight(X.mean()), atol=1e-6
    )


def test_grid_search_over_weights_init():
    X = marbles(60, 40)
    search = GridSearchCV(
        FixedComponentMixture(FACTORIES),
        {"weights_init": [None, [0.5, 0.5], [0.99, 0.01], np.array([0.1, 0.9])]},
        cv=KFold(4, shuffle=True, random_state=0),
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    np.testing.assert_allclose(scores, scores[0], atol=1e-8)
    np.testing.assert_allclose(search.best_estimator_.weights_, [0.6, 0.4], atol=1e-7)


@pytest.mark.parametrize(
    "components",
    [
        FACTORIES,
        np.array(FACTORIES),
        [stats.bernoulli(0.8), stats.bernoulli(0.3)],
    ],
    ids=["list", "array", "scipy"],
)
def test_pickle_round_trip(components):
    X = marbles(70, 30)
    mix = FixedComponentMixture(components).fit(X)
    back = pickle.loads(pickle.dumps(mix))
    np.testing.assert_array_equal(back.weights_, mix.weights_)
    np.testing.assert_array_equal(back.weights_stderr_, mix.weights_stderr_)
    Xt = np.array([[1.0], [0.0], [1.0]])
    np.testing.assert_array_equal(back.predict_proba(Xt), mix.predict_proba(Xt))
    np.testing.assert_array_equal(back.score_samples(Xt), mix.score_samples(Xt))
    np.testing.assert_allclose(mix.weights_, [0.8, 0.2], atol=1e-7)


def test_clone_keeps_components_and_drops_fit():
    probs = np.array(FACTORIES)
    mix = FixedComponentMixture(probs, weights_init=[0.3, 0.7], tol=1e-9).fit(
        marbles(6, 4)
    )
    new = clone(mix)
    assert new.components is probs
    assert new.get_params()["tol"] == 1e-9
    np.testing.assert_array_equal(new.weights_init, [0.3, 0.7])
    assert not hasattr(new, "weights_")
    np.testing.assert_allclose(new.fit(marbles(6, 4)).weights_, mix.weights_)


# --------------------------------------------------------------------------
# 4. Component forms
# --------------------------------------------------------------------------


def _binary_data(seed=0, n=500, n_features=6):
    rng = np.random.default_rng(seed)
    probs = rng.uniform(0.05, 0.95, (3, n_features))
    z = rng.choice(3, n, p=[0.2, 0.5, 0.3])
    X = (rng.random((n, n_features)) < probs[z]).astype(float)
    return X, probs


@pytest.mark.parametrize(
    "to_sparse",
    [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array],
    ids=["csr_matrix", "csc_matrix", "csr_array", "csc_array"],
)
@pytest.mark.parametrize("n_features", [6, 60])
def test_sparse_equals_dense(to_sparse, n_features):
    X, probs = _binary_data(n_features=n_features)
    dense = FixedComponentMixture(probs, tol=1e-12).fit(X)
    sparse = FixedComponentMixture(probs, tol=1e-12).fit(to_sparse(X))
    np.testing.assert_allclose(sparse.weights_, dense.weights_, atol=1e-12)
    np.testing.assert_allclose(sparse.weights_stderr_, dense.weights_stderr_, rtol=1e-9)
    np.testing.assert_allclose(
        sparse.predict_proba(to_sparse(X[:50])), dense.predict_proba(X[:50]), atol=1e-12
    )
    np.testing.assert_allclose(
        dense.score_samples(to_sparse(X[:50])), dense.score_samples(X[:50]), rtol=1e-12
    )
    # and both agree with the hand-written likelihood fed as precomputed
    pre = FixedComponentMixture("precomputed", tol=1e-12).fit(
        bernoulli_loglik(X, probs)
    )
    np.testing.assert_allclose(dense.weights_, pre.weights_, atol=1e-10)


def _check_against_precomputed(components, X, log_lik, rtol=1e-10):
    kw = {"tol": 1e-12, "max_iter": 100_000}
    mix = FixedComponentMixture(components, **kw).fit(X)
    pre = FixedComponentMixture("precomputed", **kw).fit(log_lik)
    w_ref, f_ref = reference_em(log_lik)
    np.testing.assert_allclose(mix.weights_, w_ref, atol=1e-7)
    np.testing.assert_allclose(mix.weights_, pre.weights_, atol=1e-10)
    np.testing.assert_allclose(mix.weights_stderr_, pre.weights_stderr_, rtol=1e-7)
    np.testing.assert_allclose(
        mix.score_samples(X), mixture_log_density(log_lik, mix.weights_), rtol=rtol
    )
    np.testing.assert_allclose(
        pre.score_samples(log_lik),
        mixture_log_density(log_lik, mix.weights_),
        rtol=rtol,
    )
    assert mix.score(X) == pytest.approx(f_ref, abs=1e-10)
    return mix


def test_univariate_normal_applied_to_every_feature():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (300, 3)), rng.normal([2, 2, 2], 1.5, (200, 3))])
    comps = [stats.norm(0, 1), stats.norm(2, 1.5)]
    log_lik = np.column_stack([c.logpdf(X).sum(axis=1) for c in comps])
    mix = _check_against_precomputed(comps, X, log_lik)
    assert mix.n_features_in_ == 3
    assert np.all(np.abs(mix.weights_ - [0.6, 0.4]) < 4 * mix.weights_stderr_)


def test_student_t_components():
    rng = np.random.default_rng(2)
    comps = [stats.t(df=3, loc=0), stats.t(df=3, loc=4, scale=2)]
    X = np.concatenate(
        [
            comps[0].rvs((150, 2), random_state=rng),
            comps[1].rvs((350, 2), random_state=rng),
        ]
    )
    log_lik = np.column_stack([c.logpdf(X).sum(axis=1) for c in comps])
    mix = _check_against_precomputed(comps, X, log_lik)
    assert np.all(np.abs(mix.weights_ - [0.3, 0.7]) < 4 * mix.weights_stderr_)


def test_discrete_poisson_components_use_logpmf():
    rng = np.random.default_rng(3)
    comps = [stats.poisson(2), stats.poisson(6), stats.poisson(12)]
    X = np.concatenate(
        [c.rvs((m, 4), random_state=rng) for c, m in zip(comps, (500, 300, 200))]
    ).astype(float)
    log_lik = np.column_stack([c.logpmf(X).sum(axis=1) for c in comps])
    mix = _check_against_precomputed(comps, X, log_lik)
    assert np.all(np.abs(mix.weights_ - [0.5, 0.3, 0.2]) < 4 * mix.weights_stderr_)
    # a non-integer count has zero probability under every Poisson component
    with pytest.raises(ValueError, match="zero likelihood"):
        mix.predict_proba(np.array([[1.5, 2, 3, 4]]))


def test_multivariate_normal_applied_to_rows():
    rng = np.random.default_rng(4)
    cov_a = np.array([[1.0, 0.8], [0.8, 1.0]])
    cov_b = np.array([[1.0, -0.5], [-0.5, 2.0]])
    comps = [
        stats.multivariate_normal([0, 0], cov_a),
        stats.multivariate_normal([1, 1], cov_b),
    ]
    X = np.concatenate(
        [comps[0].rvs(400, random_state=rng), comps[1].rvs(600, random_state=rng)]
    )
    log_lik = np.column_stack([c.logpdf(X) for c in comps])
    # the correlation matters: treating the features independently would differ
    indep = np.column_stack(
        [
            stats.norm([0, 0], 1).logpdf(X).sum(axis=1),
            stats.norm([1, 1], 1).logpdf(X).sum(axis=1),
        ]
    )
    assert not np.allclose(log_lik, indep)
    mix = _check_against_precomputed(comps, X, log_lik)
    assert np.all(np.abs(mix.weights_ - [0.4, 0.6]) < 4 * mix.weights_stderr_)
    # a single row
    assert mix.score_samples(X[:1]).shape == (1,)
    np.testing.assert_allclose(mix.predict_proba(X[:1]).sum(), 1)


@pytest.fixture(scope="module")
def fitted_estimators():
    rng = np.random.default_rng(5)
    A = rng.normal([0, 0], 1, (300, 2))
    B = rng.normal([3, 1], [0.5, 2], (300, 2))
    gm_a = GaussianMixture(2, random_state=0).fit(A)
    gm_b = GaussianMixture(1, random_state=0).fit(B)
    kde_a = KernelDensity(bandwidth=0.5).fit(A)
    X = np.concatenate(
        [rng.normal([0, 0], 1, (250, 2)), rng.normal([3, 1], [0.5, 2], (150, 2))]
    )
    return {"gm_a": gm_a, "gm_b": gm_b, "kde_a": kde_a, "X": X}


@pytest.mark.parametrize("first", ["gm_a", "kde_a"])
def test_fitted_estimators_as_components(fitted_estimators, first):
    d = fitted_estimators
    comps = [d[first], d["gm_b"]]
    means_before = d["gm_b"].means_.copy()
    X = d["X"]
    log_lik = np.column_stack([c.score_samples(X) for c in comps])
    mix = _check_against_precomputed(comps, X, log_lik, rtol=1e-9)
    assert np.all(np.abs(mix.weights_ - [0.625, 0.375]) < 4 * mix.weights_stderr_)
    # the components are used, not refit
    np.testing.assert_array_equal(d["gm_b"].means_, means_before)
    assert mix.components[1] is d["gm_b"]


def test_fitted_estimators_survive_clone_grid_search_and_cv(fitted_estimators):
    d = fitted_estimators
    X = d["X"]
    mix = FixedComponentMixture([d["gm_a"], d["gm_b"]])
    cloned = clone(mix)
    assert cloned.components[0] is d["gm_a"]
    cloned.fit(X)  # no NotFittedError

    cv = KFold(4, shuffle=True, random_state=0)
    scores = cross_val_score(mix, X, cv=cv)
    expected = [clone(mix).fit(X[train]).score(X[test]) for train, test in cv.split(X)]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)

    search = GridSearchCV(mix, {"init_params": ["uniform", "random"]}, cv=cv).fit(X)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], np.mean(expected))
    assert search.best_estimator_.components[1] is d["gm_b"]


def test_frozen_estimators_as_components_and_searched_over(fitted_estimators):
    d = fitted_estimators
    X = d["X"]
    frozen = [FrozenEstimator(d["gm_a"]), FrozenEstimator(d["gm_b"])]
    frozen_kde = [FrozenEstimator(d["kde_a"]), FrozenEstimator(d["gm_b"])]
    mix = FixedComponentMixture(frozen).fit(X)
    plain = FixedComponentMixture([d["gm_a"], d["gm_b"]]).fit(X)
    np.testing.assert_allclose(mix.weights_, plain.weights_, atol=1e-10)
    np.testing.assert_allclose(mix.predict_proba(X), plain.predict_proba(X), atol=1e-10)

    # the grid's parameter values are cloned by scikit-learn: FrozenEstimator
    # keeps them fitted
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(
        FixedComponentMixture(frozen), {"components": [frozen, frozen_kde]}, cv=cv
    ).fit(X)
    manual = [
        cross_val_score(FixedComponentMixture(c), X, cv=cv).mean()
        for c in (frozen, frozen_kde)
    ]
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], manual, rtol=1e-12
    )
    assert search.best_index_ == int(np.argmax(manual))


@pytest.mark.parametrize(
    "unfitted",
    [GaussianMixture(1), KernelDensity(), FrozenEstimator(GaussianMixture(1))],
)
def test_unfitted_estimator_component_names_frozen_estimator(
    fitted_estimators, unfitted
):
    d = fitted_estimators
    with pytest.raises(NotFittedError, match="FrozenEstimator"):
        FixedComponentMixture([unfitted, d["gm_b"]]).fit(d["X"])


def test_callables_as_components():
    rng = np.random.default_rng(6)
    X = np.concatenate([rng.laplace(0, 1, (300, 2)), rng.laplace(3, 1, (100, 2))])

    def laplace_at(loc):
        return lambda A: -np.abs(A - loc).sum(axis=1) - A.shape[1] * np.log(2)

    comps = [laplace_at(0.0), laplace_at(3.0)]
    log_lik = np.column_stack(
        [stats.laplace(loc).logpdf(X).sum(axis=1) for loc in (0, 3)]
    )
    mix = _check_against_precomputed(comps, X, log_lik)
    assert np.all(np.abs(mix.weights_ - [0.75, 0.25]) < 4 * mix.weights_stderr_)


def test_precomputed_allows_minus_inf():
    with np.errstate(divide="ignore"):
        L = np.log(
            np.array([[0.5, 0.0], [0.1, 0.3], [0.2, 0.2], [0.0, 0.4], [0.6, 0.1]])
        )
    mix = FixedComponentMixture("precomputed", tol=1e-13, max_iter=10_000).fit(L)
    w_ref, f_ref = reference_em(L)
    np.testing.assert_allclose(mix.weights_, w_ref, atol=1e-9)
    assert mix.score(L) == pytest.approx(f_ref, abs=1e-12)
    resp = mix.predict_proba(L)
    np.testing.assert_array_equal(resp[0], [1.0, 0.0])
    np.testing.assert_array_equal(resp[3], [0.0, 1.0])
    np.testing.assert_allclose(resp.sum(axis=1), 1)
    with pytest.raises(ValueError, match="3 features.*expecting 2"):
        mix.predict_proba(np.zeros((2, 3)))


def test_signal_on_background_recovers_fraction():
    rng = np.random.default_rng(8)
    n, fraction = 5000, 0.15
    signal = stats.norm(5.0, 0.4)
    background = stats.expon(scale=4.0)
    is_signal = rng.random(n) < fraction
    x = np.where(
        is_signal,
        signal.rvs(n, random_state=rng),
        background.rvs(n, random_state=rng),
    ).reshape(-1, 1)
    mix = FixedComponentMixture([signal, background]).fit(x)
    assert abs(mix.weights_[0] - fraction) < 4 * mix.weights_stderr_[0]
    # the standard error is the one of the independent observed information
    log_lik = np.column_stack([signal.logpdf(x[:, 0]), background.logpdf(x[:, 0])])
    ref = reference_covariance(log_lik, mix.weights_)
    np.testing.assert_allclose(mix.weights_stderr_, np.sqrt(np.diag(ref)), rtol=1e-6)
    # a background-only region (negative x is impossible for the exponential
    # but possible for the normal) is attributed to the signal
    np.testing.assert_allclose(mix.predict_proba([[-0.5]]), [[1.0, 0.0]])


# --------------------------------------------------------------------------
# 5. Collapsing identical binary rows changes nothing
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "probs",
    [
        [[0.9, 0.2, 0.6, 0.5], [0.1, 0.7, 0.5, 0.3], [0.5, 0.5, 0.05, 0.9]],
        # exact 0 and 1 rule some rows out for some components
        [[1.0, 0.2, 0.6, 0.5], [0.1, 0.7, 0.0, 0.3], [0.5, 0.5, 0.05, 1.0]],
    ],
    ids=["interior", "exact-0-1"],
)
def test_collapsed_rows_match_precomputed(probs):
    probs = np.array(probs)
    rng = np.random.default_rng(9)
    z = rng.choice(3, 3000, p=[0.5, 0.3, 0.2])
    X = (rng.random((3000, 4)) < probs[z]).astype(float)
    assert np.unique(X, axis=0).shape[0] <= 16  # collapsing applies
    log_lik = bernoulli_loglik(X, probs)
    kw = {"tol": 1e-13, "max_iter": 100_000}
    mix = FixedComponentMixture(probs, **kw).fit(X)
    pre = FixedComponentMixture("precomputed", **kw).fit(log_lik)
    w_ref, f_ref = reference_em(log_lik)
    np.testing.assert_allclose(mix.weights_, w_ref, atol=1e-9)
    np.testing.assert_allclose(mix.weights_, pre.weights_, atol=1e-10)
    np.testing.assert_allclose(mix.weights_stderr_, pre.weights_stderr_, rtol=1e-8)
    np.testing.assert_allclose(
        mix.weights_stderr_,
        np.sqrt(np.diag(reference_covariance(log_lik, w_ref))),
        rtol=1e-6,
    )
    assert mix.lower_bound_ == pytest.approx(pre.lower_bound_, abs=1e-12)
    assert mix.score(X) == pytest.approx(f_ref, abs=1e-12)
    np.testing.assert_allclose(
        mix.score_samples(X), mixture_log_density(log_lik, mix.weights_), rtol=1e-12
    )
    # and the first 63 rows, too few to collapse
    np.testing.assert_allclose(
        FixedComponentMixture(probs, **kw).fit(X[:63]).weights_,
        FixedComponentMixture("precomputed", **kw).fit(log_lik[:63]).weights_,
        atol=1e-10,
    )


# --------------------------------------------------------------------------
# 6. sample()
# --------------------------------------------------------------------------


def test_sample_bernoulli_counts_and_means(five_component_data, fitted_five):
    probs = five_component_data["probs"]
    mix = fitted_five
    n = 20000
    X, y = mix.sample(n, random_state=0)
    assert X.shape == (n, 20) and y.shape == (n,)
    assert set(np.unique(X)) <= {0.0, 1.0}
    assert np.all(np.diff(y) >= 0)  # grouped by component
    counts = np.bincount(y, minlength=5)
    w = mix.weights_
    assert np.all(np.abs(counts - n * w) < 4 * np.sqrt(n * w * (1 - w)))
    for k in range(5):
        means = X[y == k].mean(axis=0)
        se = np.sqrt(probs[k] * (1 - probs[k]) / counts[k])
        assert np.all(np.abs(means - probs[k]) < 4.5 * se)
    X2, y2 = mix.sample(n, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_sample_scipy_components_shapes_and_means():
    comps = [stats.norm(-3, 1), stats.poisson(4)]
    X = np.concatenate([np.full((30, 3), -3.0), np.full((70, 3), 4.0)])
    mix = FixedComponentMixture(comps).fit(X)
    Xs, y = mix.sample(4000, random_state=1)
    assert Xs.shape == (4000, 3)
    assert np.mean(y == 0) == pytest.approx(
        mix.weights_[0], abs=4 * np.sqrt(0.25 / 4000)
    )
    np.testing.assert_allclose(Xs[y == 0].mean(axis=0), -3, atol=0.15)
    np.testing.assert_allclose(Xs[y == 1].mean(axis=0), 4, atol=0.2)
    np.testing.assert_array_equal(Xs[y == 1], np.round(Xs[y == 1]))

    mv = [stats.multivariate_normal([0, 0]), stats.multivariate_normal([5, 5])]
    mix = FixedComponentMixture(mv).fit(np.array([[0.0, 0.0], [5.0, 5.0]]))
    for n in (1, 2, 500):
        Xs, y = mix.sample(n, random_state=2)
        assert Xs.shape == (n, 2) and y.shape == (n,)


@pytest.mark.parametrize("kind", ["precomputed", "callable"])
def test_sample_unavailable_raises(kind):
    if kind == "precomputed":
        mix = FixedComponentMixture("precomputed").fit(np.log([[0.5, 0.2], [0.1, 0.3]]))
    else:
        mix = FixedComponentMixture(
            [lambda A: stats.norm.logpdf(A).sum(axis=1), stats.norm(1, 1)]
        ).fit(np.array([[0.0], [1.0], [-1.0]]))
    with pytest.raises(ValueError, match="cannot draw samples"):
        mix.sample(10, random_state=0)


def test_sample_bad_n_samples():
    mix = FixedComponentMixture(FACTORIES).fit(marbles(5, 5))
    with pytest.raises(ValueError, match="at least one sample"):
        mix.sample(0)
    with pytest.raises(TypeError):
        mix.sample(2.5)
    with pytest.raises(NotFittedError):
        FixedComponentMixture(FACTORIES).sample(3)


def test_sample_reproducible_with_estimator_components(fitted_estimators):
    # GaussianMixture.sample takes no random_state: the mixture's seed must
    # still make the draw reproducible and components must not share noise.
    rng = np.random.default_rng(0)
    A = rng.normal(0, 1, (200, 2))
    gm_a = GaussianMixture(1).fit(A)  # random_state=None
    gm_b = GaussianMixture(1).fit(A + 10)
    X = np.vstack([A, A + 10])
    mix = FixedComponentMixture([gm_a, gm_b]).fit(X)
    X1, y1 = mix.sample(200, random_state=0)
    X2, y2 = mix.sample(200, random_state=0)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(X1, X2)


# --------------------------------------------------------------------------
# 7. Non-identifiable weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "components, X",
    [
        ([[0.5, 0.2], [0.5, 0.2]], np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 5)),
        # three factories, one colour: only the overall red rate is seen
        ([[0.8], [0.5], [0.3]], marbles(55, 45)),
        ([stats.norm(0, 1), stats.norm(0, 1)], np.linspace(-2, 2, 30).reshape(-1, 1)),
    ],
    ids=["identical", "one-colour-three-factories", "identical-normal"],
)
def test_non_identifiable_warns_and_gives_nan_stderr(components, X):
    with pytest.warns(NonIdentifiableWarning):
        mix = FixedComponentMixture(components).fit(X)
    assert np.all(np.isfinite(mix.weights_))
    assert mix.weights_.sum() == pytest.approx(1)
    assert np.all(np.isnan(mix.weights_stderr_))
    assert np.all(np.isnan(mix.weights_covariance_))


def test_one_colour_three_factories_matches_red_rate():
    with pytest.warns(NonIdentifiableWarning):
        mix = FixedComponentMixture([[0.8], [0.5], [0.3]]).fit(marbles(55, 45))
    assert mix.weights_ @ [0.8, 0.5, 0.3] == pytest.approx(0.55, abs=1e-7)


def test_single_component():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mix = FixedComponentMixture([[0.4, 0.6]]).fit(np.array([[1, 0], [0, 1]]))
    np.testing.assert_array_equal(mix.weights_, [1.0])
    np.testing.assert_array_equal(mix.weights_stderr_, [0.0])


def test_identifiable_data_does_not_warn(five_component_data):
    d = five_component_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FixedComponentMixture(d["probs"]).fit(d["X"][:3000])


# --------------------------------------------------------------------------
# 8. Bad input
# --------------------------------------------------------------------------

X1 = marbles(6, 4)


def _fit(components, X=X1, **params):
    sample_weight = params.pop("sample_weight", None)
    return lambda: FixedComponentMixture(components, **params).fit(
        X, sample_weight=sample_weight
    )


def _nan_component(A):
    return np.full(A.shape[0], np.nan)


def _raising_component(A):
    raise RuntimeError("boom")


BAD_INPUT = [
    ("components-None", _fit(None), ValueError, "components=None"),
    ("components-int", _fit(42), TypeError, "not supported"),
    ("components-bad-string", _fit("foo"), ValueError, "Unknown components='foo'"),
    ("components-single-dist", _fit(stats.norm()), TypeError, "single"),
    ("components-empty", _fit([]), ValueError, "empty"),
    ("components-strings", _fit([["a"], ["b"]]), TypeError, "components"),
    ("components-mixed", _fit([stats.norm(), 0.3]), TypeError, "mixes"),
    ("components-1d", _fit([0.8, 0.3]), ValueError, "2-D"),
    ("prob-above-1", _fit([[0.8], [1.3]]), ValueError, r"\[0, 1\]"),
    ("prob-below-0", _fit([[-0.1], [0.3]]), ValueError, r"\[0, 1\]"),
    ("prob-nan", _fit([[np.nan], [0.3]]), ValueError, "NaN"),
    ("X-not-binary", _fit(FACTORIES, X=[[0.5], [1.0]]), ValueError, "Binarizer"),
    ("X-wrong-features", _fit(FACTORIES, X=np.ones((5, 2))), ValueError, "features"),
    (
        "zero-likelihood-row",
        _fit([[1.0], [1.0]], X=[[1.0], [0.0], [1.0]]),
        ValueError,
        r"Row\(s\) 1 of X have zero likelihood",
    ),
    (
        "zero-likelihood-row-precomputed",
        _fit("precomputed", X=[[0.0, 0.0], [-np.inf, -np.inf]]),
        ValueError,
        r"Row\(s\) 1 of X",
    ),
    (
        "weights-init-negative",
        _fit(FACTORIES, weights_init=[-0.1, 1.1]),
        ValueError,
        "non-negative",
    ),
    (
        "weights-init-sum",
        _fit(FACTORIES, weights_init=[0.5, 0.6]),
        ValueError,
        "sum to 1",
    ),
    ("weights-init-length", _fit(FACTORIES, weights_init=[1.0]), ValueError, "shape"),
    (
        "weights-init-nan",
        _fit(FACTORIES, weights_init=[np.nan, 1.0]),
        ValueError,
        "NaN",
    ),
    (
        "weights-init-kills-row",
        _fit([[1.0], [0.0]], weights_init=[1.0, 0.0]),
        ValueError,
        "starting weights give zero likelihood",
    ),
    (
        "sample-weight-negative",
        _fit(FACTORIES, sample_weight=[1] * 9 + [-1]),
        ValueError,
        "Negative",
    ),
    (
        "sample-weight-nan",
        _fit(FACTORIES, sample_weight=[1.0] * 9 + [np.nan]),
        ValueError,
        "NaN",
    ),
    (
        "sample-weight-zero",
        _fit(FACTORIES, sample_weight=np.zeros(10)),
        ValueError,
        "zero",
    ),
    (
        "sample-weight-length",
        _fit(FACTORIES, sample_weight=np.ones(3)),
        ValueError,
        "shape",
    ),
    (
        "component-nan",
        _fit([_nan_component, stats.norm()]),
        ValueError,
        r"NaN or \+inf",
    ),
    (
        "component-raises",
        _fit([_raising_component, stats.norm()]),
        ValueError,
        "could not evaluate.*boom",
    ),
    (
        "component-bad-shape",
        _fit([lambda A: np.zeros(3), stats.norm()]),
        ValueError,
        "shape",
    ),
    ("precomputed-nan", _fit("precomputed", X=[[0.0, np.nan]]), ValueError, "NaN"),
    ("precomputed-inf", _fit("precomputed", X=[[0.0, np.inf]]), ValueError, r"\+inf"),
    (
        "max-iter-0",
        _fit(FACTORIES, max_iter=0),
        InvalidParameterError,
        r"'max_iter' parameter.*int in the range \[1, inf\]",
    ),
    (
        "max-iter-float",
        _fit(FACTORIES, max_iter=2.5),
        InvalidParameterError,
        "'max_iter'",
    ),
    (
        "tol-negative",
        _fit(FACTORIES, tol=-1),
        InvalidParameterError,
        r"'tol'.*\[0, inf\]",
    ),
    (
        "init-params",
        _fit(FACTORIES, init_params="foo"),
        InvalidParameterError,
        r"'init_params'.*'uniform', 'random'.*Got 'foo'",
    ),
    (
        "solver",
        _fit(FACTORIES, solver="foo"),
        InvalidParameterError,
        r"'solver'.*'em'.*Got 'foo'",
    ),
    (
        "random-state",
        _fit(FACTORIES, random_state="seed"),
        InvalidParameterError,
        "'random_state'",
    ),
    (
        "predict-before-fit",
        lambda: FixedComponentMixture(FACTORIES).predict(X1),
        NotFittedError,
        "not fitted",
    ),
    ("X-1d", _fit(FACTORIES, X=np.array([1.0, 0.0, 1.0])), ValueError, "2D"),
    (
        "X-nan-distributions",
        _fit([stats.norm(), stats.norm(1)], X=[[1.0], [np.nan]]),
        ValueError,
        "NaN",
    ),
    (
        "X-inf",
        _fit([stats.norm(), stats.norm(1)], X=[[1.0], [np.inf]]),
        ValueError,
        "infinity",
    ),
    ("X-strings", _fit(FACTORIES, X=[["red"], ["blue"]]), ValueError, "red"),
    ("X-empty", _fit(FACTORIES, X=np.empty((0, 1))), ValueError, "0 sample"),
    (
        "sparse-X-scipy-components",
        _fit([stats.norm(), stats.norm(1)], X=sp.csr_matrix(np.eye(3))),
        TypeError,
        "[Ss]parse",
    ),
]


@pytest.mark.parametrize(
    "action, exc, match", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input(action, exc, match):
    with pytest.raises(exc, match=match):
        action()


def test_invalid_parameter_error_is_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_wrong_number_of_features_at_predict():
    X = np.arange(10.0).reshape(5, 2) / 4
    mix = FixedComponentMixture([stats.norm(), stats.norm(2)]).fit(X)
    with pytest.raises(ValueError, match="features"):
        mix.predict_proba(np.ones((5, 3)))
    mix = FixedComponentMixture(FACTORIES).fit(X1)
    with pytest.raises(ValueError, match="features"):
        mix.score_samples(np.ones((5, 2)))
    with pytest.raises(ValueError, match="Binarizer"):
        mix.predict([[0.5]])


def test_zero_likelihood_rows_all_named_also_when_collapsed():
    # rows 7 and 50 are identical and both impossible. 100 rows of 3 binary
    # features get collapsed to distinct patterns, 63 rows do not: the
    # message should name every impossible row either way.
    probs = np.array([[1.0, 0.1, 0.5], [1.0, 0.7, 0.5]])
    rng = np.random.default_rng(0)
    X = (rng.random((100, 3)) < 0.5).astype(float)
    X[:, 0] = 1
    X[[7, 50]] = [0.0, 1.0, 0.0]
    for n in (63, 100):
        with pytest.raises(ValueError, match=r"Row\(s\) 7, 50 of X"):
            FixedComponentMixture(probs).fit(X[:n])


def test_caller_arrays_are_not_modified():
    rng = np.random.default_rng(10)
    X = (rng.random((200, 3)) < 0.5).astype(float)
    probs = np.array([[0.9, 0.2, 0.5], [0.1, 0.6, 0.4]])
    weights_init = np.array([0.25, 0.75])
    sample_weight = rng.uniform(0.5, 2, 200)
    copies = [a.copy() for a in (X, probs, weights_init, sample_weight)]
    Xs = sp.csr_matrix(X)
    Xs_data = Xs.data.copy()
    mix = FixedComponentMixture(probs, weights_init=weights_init)
    mix.fit(X, sample_weight=sample_weight)
    mix.fit(Xs, sample_weight=sample_weight)
    mix.predict_proba(X)
    for orig, copy in zip((X, probs, weights_init, sample_weight), copies):
        np.testing.assert_array_equal(orig, copy)
    np.testing.assert_array_equal(Xs.data, Xs_data)
    assert mix.weights_init is weights_init
    assert mix.components is probs
    # the log-likelihood matrix given as precomputed is not modified either
    with np.errstate(divide="ignore"):
        L = np.log(np.array([[0.5, 0.0], [0.2, 0.3]]))
    L_copy = L.copy()
    FixedComponentMixture("precomputed").fit(L)
    np.testing.assert_array_equal(L, L_copy)


def test_feature_names_from_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"red": [1, 0, 1, 1, 0]})
    mix = FixedComponentMixture(FACTORIES).fit(df)
    np.testing.assert_array_equal(mix.feature_names_in_, ["red"])
    with pytest.warns(UserWarning, match="feature names"):
        plain = mix.score_samples(df.to_numpy())
    np.testing.assert_allclose(mix.score_samples(df), plain)
    with pytest.raises(ValueError, match="feature names"):
        mix.score_samples(pd.DataFrame({"blue": [1, 0]}))


# --------------------------------------------------------------------------
# 9. Too few iterations
# --------------------------------------------------------------------------


def test_convergence_warning_reports_remaining_bound(five_component_data):
    d = five_component_data
    with pytest.warns(ConvergenceWarning, match="max_iter=3") as record:
        mix = FixedComponentMixture(d["probs"], max_iter=3).fit(d["X"])
    assert not mix.converged_
    assert mix.n_iter_ == 3
    assert mix.gap_bound_ > mix.tol
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert len(messages) == 1
    found = re.search(r"up to ([0-9.eE+-]+) per sample", messages[0])
    assert found, messages[0]
    assert float(found.group(1)) == pytest.approx(mix.gap_bound_, rel=5e-3)
    # the reported bound is honest
    assert d["f_star"] - mix.score(d["X"]) <= float(found.group(1)) * 1.005


def test_no_warning_when_converged():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mix = FixedComponentMixture(FACTORIES).fit(marbles(60, 40))
    assert mix.converged_ and mix.n_iter_ < mix.max_iter


def test_verbose_prints_iterations(capsys):
    FixedComponentMixture(FACTORIES, verbose=1, verbose_interval=1, tol=1e-12).fit(
        marbles(60, 40)
    )
    out = capsys.readouterr().out
    assert "Iteration 1" in out and "converged" in out


@pytest.mark.parametrize("red", [0, 2, 3, 5, 9])
def test_every_solver_reaches_the_closed_form(red):
    """em, squarem and sqp all certify the seed's closed-form optimum."""
    X = np.array([[1]] * red + [[0]] * (10 - red))
    r = red / 10
    expected = np.clip((r - 0.3) / 0.5, 0, 1)
    f_star = mean_loglik(
        np.log(np.array([[0.8, 0.3], [0.2, 0.7]]))[[0] * red + [1] * (10 - red)],
        np.array([expected, 1 - expected]),
    )
    for solver in ("em", "squarem", "sqp"):
        mix = fit_quiet(
            FixedComponentMixture([[0.8], [0.3]], solver=solver, max_iter=100_000), X
        )
        assert f_star - mix.score(X) <= mix.gap_bound_ + 1e-15
        assert mix.gap_bound_ <= mix.tol or solver == "em"
        if solver == "sqp":
            assert mix.converged_
            # mix-SQP's active set gives exact zeros on the boundary.
            if expected in (0.0, 1.0):
                assert set(mix.weights_) == {0.0, 1.0}
            np.testing.assert_allclose(mix.weights_[0], expected, atol=1e-6)
