"""Tests of BernoulliMixture against independent reference computations.

Every numerical expectation here is computed in this file, from first
principles (entry-by-entry Bernoulli log-likelihoods, logsumexp, textbook EM
updates) or from data simulated with known parameters; none of the package's
own helpers is used to compute an expected value.
"""

import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Binarizer

import sklearn_bernoulli_mix._engine as engine_module
from sklearn_bernoulli_mix import (
    BernoulliMixture,
    InvalidParameterError,
    NonIdentifiableWarning,
)

EPS64 = np.finfo(np.float64).eps
SPARSE_FORMATS = ["csr", "csc", "coo", "csr_array"]


# --------------------------------------------------------------------------
# Helpers: data generation, format conversion, the reference EM
# --------------------------------------------------------------------------


def separated_means(rng, n_components, n_features, low=(0.05, 0.15), high=None):
    """Random success probabilities, each either low or high (well separated)."""
    if high is None:
        high = (1 - low[1], 1 - low[0])
    is_high = rng.random_sample((n_components, n_features)) < 0.5
    return np.where(
        is_high,
        rng.uniform(*high, size=(n_components, n_features)),
        rng.uniform(*low, size=(n_components, n_features)),
    )


def sample_mixture(rng, weights, means, n_samples):
    """Draw labels from the weights, then independent Bernoulli features."""
    y = rng.choice(len(weights), size=n_samples, p=weights)
    X = (rng.random_sample((n_samples, means.shape[1])) < means[y]).astype(np.float64)
    return X, y


def with_missing(rng, X, rate):
    """A copy of X with a fraction ``rate`` of entries set to NaN at random."""
    X = X.copy()
    X[rng.random_sample(X.shape) < rate] = np.nan
    return X


def to_format(X, fmt):
    """Dense X in the requested format; NaN entries are stored explicitly."""
    if fmt == "dense":
        return X
    if fmt == "csr_array":
        return sp.csr_array(X)
    out = sp.csr_matrix(X).asformat(fmt)
    if np.isnan(X).any():
        assert np.isnan(out.data).sum() == np.isnan(X).sum()
    return out


def joint_log_lik(X, weights, means):
    """log w_k + sum_j [x_ij log p_kj + (1 - x_ij) log(1 - p_kj)], observed j only.

    Computed entry by entry (an n x K x D array) with plain np.log; NaN
    entries of X are masked out.
    """
    X = np.asarray(X, dtype=np.float64)
    observed = ~np.isnan(X)
    x = np.where(observed, X, 0.0)[:, None, :]
    p = np.asarray(means, dtype=np.float64)[None, :, :]
    per_entry = x * np.log(p) + (1.0 - x) * np.log(1.0 - p)
    per_entry = np.where(observed[:, None, :], per_entry, 0.0)
    return per_entry.sum(axis=2) + np.log(np.asarray(weights, dtype=np.float64))


def reference_score_samples(X, weights, means):
    return logsumexp(joint_log_lik(X, weights, means), axis=1)


def reference_predict_proba(X, weights, means):
    joint = joint_log_lik(X, weights, means)
    return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))


def reference_em(
    X, weights, means, alpha, n_iter, sample_weight=None, return_min_nk=False
):
    """Textbook EM for a Bernoulli mixture with a Beta(1+alpha, 1+alpha) prior.

    Returns (lower_bounds, weights, means); lower_bounds[t] is the weighted
    mean observed-data log-likelihood of the parameters entering iteration t.
    With ``return_min_nk`` also the smallest responsibility mass of any
    component over the iterations.
    """
    X = np.asarray(X, dtype=np.float64)
    n_samples = X.shape[0]
    sw = (
        np.ones(n_samples)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    observed = (~np.isnan(X)).astype(np.float64)
    x = np.where(np.isnan(X), 0.0, X)
    weights = np.array(weights, dtype=np.float64)
    means = np.clip(np.array(means, dtype=np.float64), EPS64, 1 - EPS64)
    lower_bounds = []
    min_nk = np.inf
    for _ in range(n_iter):
        joint = joint_log_lik(X, weights, means)
        log_norm = logsumexp(joint, axis=1)
        lower_bounds.append(np.sum(sw * log_norm) / np.sum(sw))
        resp = np.exp(joint - log_norm[:, None]) * sw[:, None]
        nk = resp.sum(axis=0)
        min_nk = min(min_nk, nk.min())
        weights = nk / nk.sum()
        means = (resp.T @ x + alpha) / (resp.T @ observed + 2 * alpha)
        means = np.clip(means, EPS64, 1 - EPS64)
    if return_min_nk:
        return np.array(lower_bounds), weights, means, min_nk
    return np.array(lower_bounds), weights, means


def fit_quiet(estimator, X, **fit_params):
    """Fit, ignoring only ConvergenceWarning (tol=0 runs always raise it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, **fit_params)


def match_components(estimated_means, true_means):
    """Permutation (rows of estimated, rows of true) minimising the L1 distance."""
    cost = np.abs(estimated_means[:, None, :] - true_means[None, :, :]).sum(axis=2)
    return linear_sum_assignment(cost)


def small_problem(seed=0, n_samples=200, n_features=10, n_components=3):
    rng = np.random.RandomState(seed)
    weights = np.array([0.5, 0.3, 0.2])[:n_components]
    weights = weights / weights.sum()
    means = rng.uniform(0.1, 0.9, size=(n_components, n_features))
    X, y = sample_mixture(rng, weights, means, n_samples)
    means_init = rng.uniform(0.2, 0.8, size=(n_components, n_features))
    weights_init = np.array([0.25, 0.35, 0.4])[:n_components]
    weights_init = weights_init / weights_init.sum()
    return X, y, means_init, weights_init


def three_cluster_data(seed=0, n_samples=300, n_features=20):
    """Well separated data from 3 components with weights 0.4 / 0.35 / 0.25."""
    rng = np.random.RandomState(seed)
    weights = np.array([0.4, 0.35, 0.25])
    means = separated_means(rng, 3, n_features)
    X, y = sample_mixture(rng, weights, means, n_samples)
    return X, y, weights, means


# --------------------------------------------------------------------------
# 1. Agreement with an independent textbook EM
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc", "coo"])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("missing_rate", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_reference_em(fmt, alpha, missing_rate, weighted):
    X, _, means_init, weights_init = small_problem(seed=1)
    rng = np.random.RandomState(2)
    if missing_rate:
        X = with_missing(rng, X, missing_rate)
    sample_weight = rng.randint(1, 5, size=X.shape[0]) if weighted else None
    n_iter = 50

    expected_lb, expected_w, expected_m = reference_em(
        X, weights_init, means_init, alpha, n_iter, sample_weight
    )
    mix = BernoulliMixture(
        n_components=3,
        means_init=means_init,
        weights_init=weights_init,
        alpha=alpha,
        tol=0,
        max_iter=n_iter,
    )
    with pytest.warns(ConvergenceWarning):
        mix.fit(to_format(X, fmt), sample_weight=sample_weight)

    assert mix.n_iter_ == n_iter
    assert not mix.converged_
    assert len(mix.lower_bounds_) == n_iter
    np.testing.assert_allclose(mix.lower_bounds_, expected_lb, rtol=0, atol=1e-8)
    assert mix.lower_bound_ == mix.lower_bounds_[-1]
    np.testing.assert_allclose(mix.weights_, expected_w, rtol=0, atol=1e-8)
    np.testing.assert_allclose(mix.means_, expected_m, rtol=0, atol=1e-8)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_matches_reference_em_few_distinct_rows(fmt, alpha):
    # 6 features and 500 rows: at most 64 distinct rows, so the estimator may
    # run EM on the distinct rows with their counts; results must not change.
    rng = np.random.RandomState(3)
    means = rng.uniform(0.1, 0.9, size=(3, 6))
    X, _ = sample_mixture(rng, np.array([0.5, 0.3, 0.2]), means, 500)
    sample_weight = rng.randint(0, 4, size=500)
    means_init = rng.uniform(0.2, 0.8, size=(3, 6))
    weights_init = np.array([0.3, 0.3, 0.4])
    for sw in (None, sample_weight):
        expected_lb, expected_w, expected_m = reference_em(
            X, weights_init, means_init, alpha, 50, sw
        )
        mix = fit_quiet(
            BernoulliMixture(
                3,
                means_init=means_init,
                weights_init=weights_init,
                alpha=alpha,
                tol=0,
                max_iter=50,
            ),
            to_format(X, fmt),
            sample_weight=sw,
        )
        np.testing.assert_allclose(mix.lower_bounds_, expected_lb, rtol=0, atol=1e-8)
        np.testing.assert_allclose(mix.weights_, expected_w, rtol=0, atol=1e-8)
        np.testing.assert_allclose(mix.means_, expected_m, rtol=0, atol=1e-8)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    n_samples=st.integers(1, 200),
    n_features=st.integers(1, 8),
    n_components=st.integers(1, 4),
    missing_rate=st.sampled_from([0.0, 0.3, 0.9]),
    weighted=st.booleans(),
    sparse=st.booleans(),
    alpha=st.sampled_from([0.0, 0.01, 1.0]),
    extreme_init=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_reference_em_random_shapes(
    n_samples,
    n_features,
    n_components,
    missing_rate,
    weighted,
    sparse,
    alpha,
    extreme_init,
    seed,
):
    # Small shapes (one row, one feature, one component, many repeated rows,
    # mostly missing data, starting probabilities of exactly 0 or 1).
    assume(n_components <= n_samples)
    rng = np.random.RandomState(seed)
    X = (rng.random_sample((n_samples, n_features)) < rng.uniform(0.1, 0.9)).astype(
        float
    )
    if missing_rate:
        X = with_missing(rng, X, missing_rate)
    sample_weight = rng.randint(0, 4, size=n_samples) if weighted else None
    if sample_weight is not None:
        sample_weight[0] = 1  # not all zero
    means_init = rng.uniform(0, 1, size=(n_components, n_features))
    if extreme_init:
        means_init = means_init.round()
    weights_init = rng.dirichlet(np.ones(n_components))
    weights_init /= weights_init.sum()
    n_iter = 15

    with np.errstate(all="ignore"):
        expected_lb, expected_w, expected_m, min_nk = reference_em(
            X, weights_init, means_init, alpha, n_iter, sample_weight, True
        )
    # Left out: 0/0 updates, and components emptied to a responsibility mass
    # comparable to the 10 * eps the estimator adds to it.
    assume(np.all(np.isfinite(expected_m)) and np.all(np.isfinite(expected_lb)))
    assume(min_nk > 1e-6)
    mix = fit_quiet(
        BernoulliMixture(
            n_components,
            means_init=means_init,
            weights_init=weights_init,
            alpha=alpha,
            tol=0,
            max_iter=n_iter,
        ),
        sp.csr_matrix(X) if sparse else X,
        sample_weight=sample_weight,
    )
    np.testing.assert_allclose(mix.lower_bounds_, expected_lb, rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(mix.weights_, expected_w, rtol=0, atol=1e-8)
    np.testing.assert_allclose(mix.means_, expected_m, rtol=0, atol=1e-8)


def test_first_lower_bound_is_log_likelihood_of_initial_parameters():
    X, _, means_init, weights_init = small_problem(seed=4)
    mix = fit_quiet(
        BernoulliMixture(
            3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=1
        ),
        X,
    )
    expected = reference_score_samples(X, weights_init, means_init).mean()
    assert mix.lower_bounds_[0] == pytest.approx(expected, abs=1e-10)


def test_tol_stops_on_change_of_mean_log_likelihood():
    X, _, _, _ = small_problem(seed=5, n_samples=400)
    tol = 1e-4
    mix = BernoulliMixture(3, tol=tol, max_iter=500, random_state=0, alpha=0).fit(X)
    assert mix.converged_
    changes = np.diff(mix.lower_bounds_)
    assert mix.n_iter_ == len(mix.lower_bounds_)
    assert abs(changes[-1]) < tol
    assert np.all(np.abs(changes[:-1]) >= tol)


# --------------------------------------------------------------------------
# 2. Recovery of known parameters
# --------------------------------------------------------------------------


def test_recovers_known_parameters():
    rng = np.random.RandomState(0)
    n_components, n_features, n_samples = 5, 50, 20_000
    true_weights = np.array([0.24, 0.22, 0.2, 0.18, 0.16])
    # Probabilities in [0.05, 0.1] or [0.9, 0.95]: distinct components differ
    # on about half the features, and the sampling error of every estimate
    # (sd <= 0.0053 for the smallest component) is far below the 0.02 bound.
    true_means = separated_means(rng, n_components, n_features, low=(0.05, 0.1))
    X, y = sample_mixture(rng, true_weights, true_means, n_samples)

    mix = BernoulliMixture(n_components, n_init=3, random_state=0).fit(X)
    rows, cols = match_components(mix.means_, true_means)
    assert np.abs(mix.means_[rows] - true_means[cols]).max() < 0.02
    assert np.abs(mix.weights_[rows] - true_weights[cols]).max() < 0.01

    # Stronger: the fit equals the per-component frequencies given the true
    # labels (the classes are perfectly recovered on such separated data).
    empirical = np.array([X[y == k].mean(axis=0) for k in range(n_components)])
    assert np.abs(mix.means_[rows] - empirical[cols]).max() < 2e-3
    labels = mix.predict(X)
    mapping = dict(zip(rows, cols))
    assert np.mean([mapping[label] for label in labels] == y) > 0.999


# --------------------------------------------------------------------------
# 3. Properties: monotone EM, normalised posteriors, degenerate features,
#    score_samples / score / bic / aic against formulas
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("missing_rate", [0.0, 0.2])
@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_log_likelihood_never_decreases_without_prior(fmt, missing_rate, init_params):
    X, _, _, _ = small_problem(seed=6, n_samples=300, n_features=15)
    if missing_rate:
        X = with_missing(np.random.RandomState(7), X, missing_rate)
    mix = fit_quiet(
        BernoulliMixture(
            4, alpha=0, tol=0, max_iter=150, init_params=init_params, random_state=0
        ),
        to_format(X, fmt),
    )
    assert np.all(np.diff(mix.lower_bounds_) >= -1e-12)
    # The final parameters are at least as good as those entering the last step.
    assert mix.score(X) >= mix.lower_bound_ - 1e-12


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_predict_proba_rows_sum_to_one(fmt):
    X, _, _, _ = small_problem(seed=8)
    X = with_missing(np.random.RandomState(0), X, 0.15)
    mix = BernoulliMixture(3, random_state=0).fit(to_format(X, fmt))
    proba = mix.predict_proba(to_format(X, fmt))
    assert proba.shape == (X.shape[0], 3)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(mix.predict(X), proba.argmax(axis=1))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("alpha", [0.0, 0.01])
@pytest.mark.parametrize("init_params", ["kmeans", "random_from_data"])
def test_constant_features_give_no_nan(fmt, alpha, init_params):
    X, _, _, _ = small_problem(seed=9, n_samples=150)
    X[:, 0] = 0.0
    X[:, 1] = 1.0
    X[:, 2] = 0.0
    Xf = to_format(X, fmt)
    mix = fit_quiet(
        BernoulliMixture(
            3, alpha=alpha, init_params=init_params, random_state=0, max_iter=50
        ),
        Xf,
    )
    assert np.all(np.isfinite(mix.means_))
    assert np.all(np.isfinite(mix.weights_))
    assert np.all(np.isfinite(mix.lower_bounds_))
    assert np.all((mix.means_ > 0) & (mix.means_ < 1))
    proba = mix.predict_proba(Xf)
    assert np.all(np.isfinite(proba))
    assert np.all(np.isfinite(mix.score_samples(Xf)))
    assert np.all(np.isfinite(mix.score_samples(1 - X)))  # unseen values
    if alpha == 0:
        # Maximum likelihood: a constant feature is fitted (almost) exactly.
        assert np.all(mix.means_[:, [0, 2]] < 1e-10)
        assert np.all(mix.means_[:, 1] > 1 - 1e-10)
    else:
        np.testing.assert_allclose(
            mix.means_[:, 1],
            1 - mix.means_[:, 0],
            rtol=0,
            atol=1e-12,
        )


def test_all_constant_data_gives_no_nan():
    for value in (0.0, 1.0):
        X = np.full((50, 4), value)
        mix = fit_quiet(BernoulliMixture(2, alpha=0, random_state=0), X)
        assert np.all(np.isfinite(mix.means_))
        assert np.all(np.isfinite(mix.lower_bounds_))
        np.testing.assert_allclose(mix.weights_.sum(), 1.0)
        assert np.all(np.isfinite(mix.predict_proba(X)))
        assert mix.score(X) == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_score_samples_matches_independent_computation(fmt):
    X, _, _, _ = small_problem(seed=10)
    mix = BernoulliMixture(3, random_state=0).fit(X)
    rng = np.random.RandomState(11)
    X_test = (rng.random_sample((60, X.shape[1])) < 0.5).astype(float)
    X_test = with_missing(rng, X_test, 0.2)
    X_test[0] = np.nan  # a row with nothing observed
    expected = reference_score_samples(X_test, mix.weights_, mix.means_)
    got = mix.score_samples(to_format(X_test, fmt))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    assert got[0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(
        mix.predict_proba(to_format(X_test, fmt)),
        reference_predict_proba(X_test, mix.weights_, mix.means_),
        rtol=0,
        atol=1e-12,
    )
    assert mix.score(to_format(X_test, fmt)) == pytest.approx(
        np.mean(expected), abs=1e-12
    )


def test_score_is_mean_of_score_samples():
    X, _, _, _ = small_problem(seed=12)
    mix = BernoulliMixture(3, random_state=0).fit(X)
    assert isinstance(mix.score(X), float)
    assert mix.score(X) == pytest.approx(np.mean(mix.score_samples(X)), abs=1e-12)


@pytest.mark.parametrize("n_components", [1, 3])
def test_bic_aic_formulas(n_components):
    X, _, _, _ = small_problem(seed=13)
    n_samples, n_features = X.shape
    mix = BernoulliMixture(n_components, random_state=0).fit(X)
    log_lik = reference_score_samples(X, mix.weights_, mix.means_).sum()
    n_parameters = n_components * n_features + n_components - 1
    assert mix.bic(X) == pytest.approx(
        -2 * log_lik + n_parameters * np.log(n_samples), rel=1e-12
    )
    assert mix.aic(X) == pytest.approx(-2 * log_lik + 2 * n_parameters, rel=1e-12)
    # Same on a sparse matrix and on a list of lists.
    assert mix.bic(sp.csr_matrix(X)) == pytest.approx(mix.bic(X), rel=1e-12)
    assert mix.aic(X.tolist()) == pytest.approx(mix.aic(X), rel=1e-12)


# --------------------------------------------------------------------------
# 4. Sparse input: same answers as dense, never densified
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
@pytest.mark.parametrize("init", ["given", "k-means++", "random", "random_from_data"])
@pytest.mark.parametrize("missing_rate", [0.0, 0.2])
def test_sparse_matches_dense(fmt, init, missing_rate):
    # init_params="kmeans" is left out: scikit-learn's KMeans itself may break
    # ties between equidistant binary rows differently on sparse and dense X.
    rng = np.random.RandomState(14)
    means = separated_means(rng, 3, 40, low=(0.02, 0.3))
    X, _ = sample_mixture(rng, np.array([0.5, 0.3, 0.2]), means, 300)
    if missing_rate:
        X = with_missing(rng, X, missing_rate)
    if init == "given":
        params = dict(
            means_init=rng.uniform(0.2, 0.8, size=(3, 40)),
            weights_init=np.array([0.3, 0.3, 0.4]),
        )
    else:
        params = dict(init_params=init)
    est = BernoulliMixture(3, tol=0, max_iter=40, random_state=0, **params)
    dense = fit_quiet(clone(est), X)
    sparse = fit_quiet(clone(est), to_format(X, fmt))
    np.testing.assert_allclose(sparse.means_, dense.means_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sparse.weights_, dense.weights_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        sparse.lower_bounds_, dense.lower_bounds_, rtol=0, atol=1e-10
    )
    for model in (dense, sparse):
        np.testing.assert_allclose(
            model.predict_proba(to_format(X, fmt)),
            dense.predict_proba(X),
            rtol=0,
            atol=1e-10,
        )
        np.testing.assert_allclose(
            model.score_samples(to_format(X, fmt)),
            dense.score_samples(X),
            rtol=0,
            atol=1e-10,
        )


def test_large_sparse_input_is_not_densified():
    n_samples, n_features = 20_000, 5_000
    rng = np.random.RandomState(15)
    nnz = n_samples * n_features // 1000  # 0.1% density
    # Counts (binarised by the default threshold, which only copies the
    # stored values) and a few missing values stored explicitly.
    X = sp.csr_matrix(
        (
            rng.randint(1, 4, nnz).astype(float),
            (rng.randint(0, n_samples, nnz), rng.randint(0, n_features, nnz)),
        ),
        shape=(n_samples, n_features),
    )
    X.data[rng.random_sample(X.nnz) < 0.01] = np.nan
    dense_bytes = n_samples * n_features * 8  # 800 MB
    tracemalloc.start()
    try:
        mix = fit_quiet(BernoulliMixture(3, max_iter=5, random_state=0), X)
        proba = mix.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < dense_bytes / 40, f"peak traced memory {peak / 1e6:.1f} MB"
    assert mix.means_.shape == (3, n_features)
    assert np.all(np.isfinite(mix.means_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


# --------------------------------------------------------------------------
# 5. Integer sample weights are frequency weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("missing_rate", [0.0, 0.2])
def test_integer_sample_weight_equals_repeated_rows(fmt, missing_rate):
    X, _, means_init, weights_init = small_problem(seed=16, n_samples=120)
    rng = np.random.RandomState(17)
    if missing_rate:
        X = with_missing(rng, X, missing_rate)
    sample_weight = rng.randint(0, 4, size=X.shape[0])
    repeated = np.repeat(X, sample_weight, axis=0)
    est = BernoulliMixture(
        3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=30
    )
    weighted = fit_quiet(clone(est), to_format(X, fmt), sample_weight=sample_weight)
    expanded = fit_quiet(clone(est), to_format(repeated, fmt))
    np.testing.assert_allclose(weighted.means_, expanded.means_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(weighted.weights_, expanded.weights_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        weighted.lower_bounds_, expanded.lower_bounds_, rtol=0, atol=1e-10
    )


def test_sample_weight_not_modified_and_unit_weights_are_default():
    X, _, means_init, weights_init = small_problem(seed=18)
    sample_weight = np.ones(X.shape[0])
    copy = sample_weight.copy()
    est = BernoulliMixture(
        3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=20
    )
    a = fit_quiet(clone(est), X, sample_weight=sample_weight)
    b = fit_quiet(clone(est), X)
    np.testing.assert_array_equal(sample_weight, copy)
    np.testing.assert_allclose(a.means_, b.means_, rtol=0, atol=1e-12)
    # Without the prior (alpha=0), scaling every weight leaves the fit unchanged.
    est.set_params(alpha=0)
    b = fit_quiet(clone(est), X)
    c = fit_quiet(clone(est), X, sample_weight=3.5 * sample_weight)
    np.testing.assert_allclose(c.means_, b.means_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(c.lower_bounds_, b.lower_bounds_, rtol=0, atol=1e-10)


# --------------------------------------------------------------------------
# 6. dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize(
    "n_features, missing_rate", [(10, 0.0), (10, 0.2), (5, 0.0)]
)  # 5 features: few distinct rows
def test_float32_fit_runs_in_float32(fmt, n_features, missing_rate, monkeypatch):
    X, _, means_init, weights_init = small_problem(
        seed=19, n_samples=400, n_features=n_features
    )
    if missing_rate:
        X = with_missing(np.random.RandomState(0), X, missing_rate)
    seen = []
    original = engine_module.InMemoryData.total

    def spy(data, family, params):
        seen.append((data.X.dtype, params.log_odds.dtype))
        return original(data, family, params)

    monkeypatch.setattr(engine_module.InMemoryData, "total", spy)
    est = BernoulliMixture(
        3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=30
    )
    X32 = to_format(X.astype(np.float32), fmt)
    mix32 = fit_quiet(clone(est), X32)
    assert seen and all(d == (np.float32, np.float32) for d in seen)
    seen.clear()
    mix64 = fit_quiet(clone(est), to_format(X, fmt))
    assert seen and all(d == (np.float64, np.float64) for d in seen)

    assert mix32.means_.dtype == np.float64
    assert mix32.weights_.dtype == np.float64
    assert all(isinstance(lb, float) for lb in mix32.lower_bounds_)
    np.testing.assert_allclose(mix32.means_, mix64.means_, rtol=0, atol=1e-4)
    np.testing.assert_allclose(mix32.weights_, mix64.weights_, rtol=0, atol=1e-4)
    np.testing.assert_allclose(mix32.lower_bounds_, mix64.lower_bounds_, rtol=1e-4)
    proba32 = mix32.predict_proba(X32)
    assert proba32.dtype == np.float64
    np.testing.assert_allclose(proba32, mix64.predict_proba(X), rtol=0, atol=1e-4)
    # Predictions are computed in float64 from the float64 attributes.
    np.testing.assert_allclose(
        mix32.score_samples(X32),
        reference_score_samples(X, mix32.weights_, mix32.means_),
        rtol=0,
        atol=1e-10,
    )


def test_float32_default_init_close_to_float64():
    X, _, _, _ = three_cluster_data(seed=20)
    mix64 = BernoulliMixture(3, random_state=0).fit(X)
    mix32 = BernoulliMixture(3, random_state=0).fit(X.astype(np.float32))
    rows, cols = match_components(mix32.means_, mix64.means_)
    np.testing.assert_allclose(mix32.means_[rows], mix64.means_[cols], atol=1e-4)
    np.testing.assert_allclose(mix32.weights_[rows], mix64.weights_[cols], atol=1e-4)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, bool])
def test_integer_and_bool_input(dtype):
    X, _, means_init, weights_init = small_problem(seed=21)
    est = BernoulliMixture(
        3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=20
    )
    reference = fit_quiet(clone(est), X)
    mix = fit_quiet(clone(est), X.astype(dtype))
    np.testing.assert_allclose(mix.means_, reference.means_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mix.weights_, reference.weights_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        mix.predict_proba(X.astype(dtype)), reference.predict_proba(X), atol=1e-12
    )
    sparse = fit_quiet(clone(est), sp.csr_matrix(X.astype(dtype)))
    np.testing.assert_allclose(sparse.means_, reference.means_, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------
# 7. binarize
# --------------------------------------------------------------------------


def continuous_data(seed=22, n_samples=200, n_features=8):
    rng = np.random.RandomState(seed)
    X, y, _, _ = small_problem(seed, n_samples, n_features)
    # Positive values where the binary data has 1, non-positive where 0.
    return np.where(X == 1, rng.uniform(0.01, 2, X.shape), -rng.exponential(1, X.shape))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_default_binarize_thresholds_at_zero(fmt):
    Xc = continuous_data()
    if fmt == "csr":
        Xc = np.maximum(Xc, 0)  # sparse input: non-negative values
    # random_from_data: the same start on sparse and dense input (KMeans may
    # break ties between equidistant binary rows differently on the two).
    est = BernoulliMixture(
        3, init_params="random_from_data", random_state=0, tol=0, max_iter=20
    )
    on_raw = fit_quiet(clone(est), to_format(Xc, fmt))
    on_binary = fit_quiet(clone(est), (Xc > 0).astype(float))
    np.testing.assert_allclose(on_raw.means_, on_binary.means_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        on_raw.predict_proba(to_format(Xc, fmt)),
        on_binary.predict_proba((Xc > 0).astype(float)),
        atol=1e-12,
    )


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_binarize_threshold_half(fmt):
    rng = np.random.RandomState(23)
    X = rng.uniform(0, 1, size=(200, 8))
    est = BernoulliMixture(2, binarize=0.5, random_state=0, tol=0, max_iter=20)
    on_raw = fit_quiet(clone(est), to_format(X, fmt))
    on_binary = fit_quiet(
        BernoulliMixture(2, binarize=None, random_state=0, tol=0, max_iter=20),
        (X > 0.5).astype(float),
    )
    np.testing.assert_allclose(on_raw.means_, on_binary.means_, rtol=0, atol=1e-12)
    assert on_raw.score(X) == pytest.approx(on_binary.score(X > 0.5), abs=1e-12)


def test_binarize_does_not_modify_input():
    Xc = continuous_data()
    copy = Xc.copy()
    BernoulliMixture(2, random_state=0).fit(Xc)
    np.testing.assert_array_equal(Xc, copy)
    Xs = sp.csr_matrix(np.maximum(Xc, 0))
    data = Xs.data.copy()
    BernoulliMixture(2, binarize=0.5, random_state=0).fit(Xs)
    np.testing.assert_array_equal(Xs.data, data)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_binarize_none_rejects_non_binary(fmt):
    X = np.array([[0, 1, 2], [1, 0, 0], [0, 0, 1]], dtype=float)
    with pytest.raises(ValueError, match="Binarizer"):
        BernoulliMixture(binarize=None).fit(to_format(X, fmt))
    # Binary data (and NaN) are accepted as is.
    BernoulliMixture(binarize=None).fit(to_format(np.minimum(X, 1), fmt))
    Xn = np.minimum(X, 1)
    Xn[0, 0] = np.nan
    BernoulliMixture(binarize=None).fit(to_format(Xn, fmt))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_binarize_keeps_nan_missing(fmt):
    Xc = np.abs(continuous_data(seed=24))
    Xc = with_missing(np.random.RandomState(25), Xc, 0.2)
    X_binary = np.where(np.isnan(Xc), np.nan, (Xc > 0.7).astype(float))
    _, _, means_init, weights_init = small_problem(seed=24, n_features=8)
    est = BernoulliMixture(
        3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=20
    )
    on_raw = fit_quiet(clone(est).set_params(binarize=0.7), to_format(Xc, fmt))
    expected_lb, _, expected_m = reference_em(
        X_binary, weights_init, means_init, 0.01, 20
    )
    np.testing.assert_allclose(on_raw.means_, expected_m, rtol=0, atol=1e-8)
    np.testing.assert_allclose(on_raw.lower_bounds_, expected_lb, rtol=0, atol=1e-8)
    np.testing.assert_allclose(
        on_raw.score_samples(to_format(Xc, fmt)),
        reference_score_samples(X_binary, on_raw.weights_, on_raw.means_),
        atol=1e-10,
    )


def test_sparse_negative_threshold_rejected():
    X = sp.csr_matrix(np.eye(5))
    with pytest.raises(ValueError, match="binarize"):
        BernoulliMixture(binarize=-0.5).fit(X)
    # Dense input accepts a negative threshold: 0 becomes 1.
    mix = BernoulliMixture(binarize=-0.5).fit(np.zeros((5, 2)))
    assert np.all(mix.means_ > 0.9)


# --------------------------------------------------------------------------
# 8. Initialisation, n_init, warm_start, user arrays, missing rows
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
@pytest.mark.parametrize("missing_rate", [0.0, 0.1])
def test_init_params(init_params, missing_rate):
    X, y, _, _ = three_cluster_data(seed=26)
    if missing_rate:
        X = with_missing(np.random.RandomState(27), X, missing_rate)
    mix = BernoulliMixture(
        3, init_params=init_params, n_init=3, random_state=0, max_iter=200
    ).fit(X)
    assert mix.converged_
    assert np.isfinite(mix.lower_bound_)
    assert mix.weights_.sum() == pytest.approx(1.0)
    # Separated clusters are found from every initialisation.
    labels = mix.predict(X)
    table = np.zeros((3, 3))
    np.add.at(table, (labels, y), 1)
    rows, cols = linear_sum_assignment(-table)
    assert table[rows, cols].sum() / len(y) > 0.98
    # Same random_state, same result.
    again = BernoulliMixture(
        3, init_params=init_params, n_init=3, random_state=0, max_iter=200
    ).fit(X)
    np.testing.assert_array_equal(again.means_, mix.means_)


@pytest.mark.parametrize("init_params", ["kmeans", "random", "random_from_data"])
def test_n_init_keeps_best_lower_bound(init_params):
    X, _, _, _ = small_problem(seed=28, n_samples=300, n_features=12)
    single = BernoulliMixture(4, init_params=init_params, random_state=3, n_init=1).fit(
        X
    )
    several = BernoulliMixture(
        4, init_params=init_params, random_state=3, n_init=5
    ).fit(X)
    assert several.lower_bound_ >= single.lower_bound_ - 1e-12
    assert several.lower_bound_ == several.lower_bounds_[-1]
    assert several.n_iter_ == len(several.lower_bounds_)


def test_warm_start_continues_from_previous_fit():
    X, _, _, _ = small_problem(seed=29, n_samples=300, n_features=12)
    mix = BernoulliMixture(3, warm_start=True, random_state=0, alpha=0, tol=1e-6)
    mix.fit(X)
    first_means, first_last_lb = mix.means_.copy(), mix.lower_bound_
    first_score = mix.score(X)
    mix.fit(X)
    assert mix.n_iter_ <= 2
    assert mix.lower_bounds_[0] >= first_last_lb - 1e-12
    # The first bound of the second fit is the likelihood of the first result.
    assert mix.lower_bounds_[0] == pytest.approx(first_score, abs=1e-12)
    np.testing.assert_allclose(mix.means_, first_means, atol=1e-3)


def test_warm_start_split_equals_single_run():
    X, _, means_init, weights_init = small_problem(seed=30)
    params = dict(means_init=means_init, weights_init=weights_init, tol=0)
    whole = fit_quiet(BernoulliMixture(3, max_iter=20, **params), X)
    split = BernoulliMixture(3, max_iter=10, warm_start=True, **params)
    fit_quiet(split, X)
    first_bounds = list(split.lower_bounds_)
    fit_quiet(split, X)
    np.testing.assert_allclose(split.means_, whole.means_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(split.weights_, whole.weights_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        first_bounds + split.lower_bounds_, whole.lower_bounds_, rtol=0, atol=1e-10
    )


def test_warm_start_false_restarts():
    X, _, means_init, weights_init = small_problem(seed=31)
    est = BernoulliMixture(
        3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=5
    )
    fit_quiet(est, X)
    first = est.means_.copy()
    fit_quiet(est, X)
    np.testing.assert_array_equal(est.means_, first)


def test_user_init_arrays_not_modified():
    X, _, means_init, weights_init = small_problem(seed=32)
    means_init[0, 0] = 0.0  # clipped internally, never in the user's array
    means_init[1, 1] = 1.0
    means_copy, weights_copy = means_init.copy(), weights_init.copy()
    mix = fit_quiet(
        BernoulliMixture(
            3, means_init=means_init, weights_init=weights_init, max_iter=10
        ),
        X,
    )
    np.testing.assert_array_equal(means_init, means_copy)
    np.testing.assert_array_equal(weights_init, weights_copy)
    assert mix.get_params()["means_init"] is means_init
    assert mix.get_params()["weights_init"] is weights_init
    assert not np.shares_memory(mix.means_, means_init)
    assert not np.shares_memory(mix.weights_, weights_init)


def test_init_arrays_as_lists():
    X, _, means_init, weights_init = small_problem(seed=32)
    est = BernoulliMixture(3, tol=0, max_iter=10)
    a = fit_quiet(
        clone(est).set_params(means_init=means_init, weights_init=weights_init), X
    )
    b = fit_quiet(
        clone(est).set_params(
            means_init=means_init.tolist(), weights_init=tuple(weights_init)
        ),
        X,
    )
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.weights_, b.weights_)


def test_only_means_init_is_used_as_given():
    # One component: the weights are [1], so the first bound is exactly the
    # likelihood of means_init, whatever init_params does.
    X, _, _, _ = small_problem(seed=33)
    X = with_missing(np.random.RandomState(0), X, 0.1)
    means_init = np.random.RandomState(1).uniform(0.1, 0.9, size=(1, X.shape[1]))
    for init_params in ("kmeans", "random"):
        mix = fit_quiet(
            BernoulliMixture(
                1,
                means_init=means_init,
                init_params=init_params,
                tol=0,
                max_iter=2,
                random_state=0,
            ),
            X,
        )
        expected = reference_score_samples(X, [1.0], means_init).mean()
        assert mix.lower_bounds_[0] == pytest.approx(expected, abs=1e-12)


def test_only_weights_init_is_used_as_given(monkeypatch):
    X, _, _, weights_init = small_problem(seed=33)
    seen = []
    original = engine_module.InMemoryData.total

    def spy(data, family, params):
        seen.append(np.exp(np.asarray(params.log_weights, dtype=np.float64)))
        return original(data, family, params)

    monkeypatch.setattr(engine_module.InMemoryData, "total", spy)
    mix = fit_quiet(
        BernoulliMixture(
            3, weights_init=weights_init, tol=0, max_iter=3, random_state=0
        ),
        X,
    )
    np.testing.assert_allclose(seen[0], weights_init, rtol=1e-12)
    assert np.all(np.isfinite(mix.lower_bounds_))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_rows_with_every_value_missing_get_prior(fmt):
    X, _, _, _ = small_problem(seed=34)
    X = with_missing(np.random.RandomState(35), X, 0.1)
    X[:5] = np.nan
    mix = BernoulliMixture(3, random_state=0).fit(to_format(X, fmt))
    proba = mix.predict_proba(to_format(X, fmt))
    np.testing.assert_allclose(proba[:5], np.tile(mix.weights_, (5, 1)), atol=1e-12)
    np.testing.assert_allclose(mix.score_samples(X[:5]), 0.0, atol=1e-12)
    np.testing.assert_allclose(
        mix.predict_proba(np.full((2, X.shape[1]), np.nan)),
        np.tile(mix.weights_, (2, 1)),
        atol=1e-12,
    )


def test_all_missing_rows_do_not_change_means():
    # Rows with nothing observed add to the weights only through the prior,
    # and leave the means exactly as without them (reference EM agrees).
    X, _, means_init, weights_init = small_problem(seed=36)
    X_extra = np.vstack([X, np.full((40, X.shape[1]), np.nan)])
    est = BernoulliMixture(
        3, means_init=means_init, weights_init=weights_init, tol=0, max_iter=25
    )
    mix = fit_quiet(est, X_extra)
    lb, w, m = reference_em(X_extra, weights_init, means_init, 0.01, 25)
    np.testing.assert_allclose(mix.means_, m, atol=1e-8)
    np.testing.assert_allclose(mix.weights_, w, atol=1e-8)
    np.testing.assert_allclose(mix.lower_bounds_, lb, atol=1e-8)


def test_column_entirely_missing():
    X, _, _, _ = small_problem(seed=37)
    X[:, 3] = np.nan
    for fmt in ("dense", "csr"):
        mix = BernoulliMixture(3, random_state=0).fit(to_format(X, fmt))
        assert np.all(np.isfinite(mix.means_))
        # No data: the column stays at the prior mode 1/2.
        np.testing.assert_allclose(mix.means_[:, 3], 0.5, atol=1e-8)


# --------------------------------------------------------------------------
# 9. Model selection, pipelines, pickling, sampling
# --------------------------------------------------------------------------


def test_grid_search_picks_true_number_of_components():
    X, _, _, _ = three_cluster_data(seed=38)
    search = GridSearchCV(
        BernoulliMixture(random_state=0),
        {"n_components": [2, 3, 4, 5], "init_params": ["kmeans", "k-means++"]},
    ).fit(X)
    assert search.best_params_["n_components"] == 3
    assert search.best_estimator_.means_.shape == (3, X.shape[1])


def test_bic_picks_true_number_of_components():
    X, _, _, _ = three_cluster_data(seed=39)
    bics = [
        BernoulliMixture(k, random_state=0, n_init=2).fit(X).bic(X) for k in range(1, 7)
    ]
    assert int(np.argmin(bics)) + 1 == 3


def test_pipeline_with_binarizer():
    Xc = continuous_data(seed=40)
    pipe = Pipeline(
        [
            ("bin", Binarizer()),
            ("mix", BernoulliMixture(3, binarize=None, random_state=0)),
        ]
    ).fit(Xc)
    direct = BernoulliMixture(3, binarize=None, random_state=0).fit(
        (Xc > 0).astype(float)
    )
    np.testing.assert_allclose(
        pipe.predict_proba(Xc), direct.predict_proba(Xc > 0), atol=1e-12
    )
    assert pipe.score(Xc) == pytest.approx(direct.score(Xc > 0), abs=1e-12)
    # The default estimator works in a pipeline too.
    Pipeline([("bin", Binarizer()), ("mix", BernoulliMixture())]).fit(Xc).predict(Xc)


def test_pickle_round_trip():
    X, _, _, _ = small_problem(seed=41)
    X = with_missing(np.random.RandomState(42), X, 0.1)
    mix = BernoulliMixture(3, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(mix))
    np.testing.assert_array_equal(restored.predict_proba(X), mix.predict_proba(X))
    np.testing.assert_array_equal(restored.means_, mix.means_)
    assert restored.lower_bounds_ == mix.lower_bounds_
    assert restored.get_params() == mix.get_params()


def test_sample_then_refit_recovers_parameters():
    rng = np.random.RandomState(43)
    true_means = separated_means(rng, 3, 20)
    X, _ = sample_mixture(rng, np.array([0.5, 0.3, 0.2]), true_means, 2000)
    # n_init > 1: a single KMeans start can land in a poor local optimum.
    model = BernoulliMixture(3, random_state=0, n_init=5).fit(X)
    rows, cols = match_components(model.means_, true_means)
    assert np.abs(model.means_[rows] - true_means[cols]).max() < 0.06
    X_new, y_new = model.sample(30_000, random_state=1)
    refit = BernoulliMixture(3, random_state=0, n_init=5).fit(X_new)
    rows, cols = match_components(refit.means_, model.means_)
    assert np.abs(refit.means_[rows] - model.means_[cols]).max() < 0.03
    assert np.abs(refit.weights_[rows] - model.weights_[cols]).max() < 0.015
    # Each sample's own component is also its most probable one.
    mapping = dict(zip(cols, rows))
    assert np.mean(refit.predict(X_new) == [mapping[k] for k in y_new]) > 0.999


def test_sample_output():
    X, _, _, _ = three_cluster_data(seed=44)
    mix = BernoulliMixture(3, random_state=0).fit(X)
    n_samples = 1000
    X_s, y_s = mix.sample(n_samples, random_state=5)
    assert X_s.shape == (n_samples, X.shape[1])
    assert y_s.shape == (n_samples,)
    assert set(np.unique(X_s)) <= {0.0, 1.0}
    assert np.all(np.diff(y_s) >= 0)  # grouped by component
    counts = np.bincount(y_s, minlength=3)
    assert counts.sum() == n_samples
    # The counts are the documented multinomial draw.
    expected = np.random.RandomState(5).multinomial(n_samples, mix.weights_)
    np.testing.assert_array_equal(counts, expected)
    # Reproducible with the estimator's random_state.
    a, b = mix.sample(50), mix.sample(50)
    np.testing.assert_array_equal(a[0], b[0])


def test_sample_counts_are_multinomial():
    # Over many small draws the counts have the multinomial mean and variance
    # (a rounding of n * weights would have no variance at all).
    weights = np.array([0.5, 0.3, 0.2])
    mix = BernoulliMixture(
        3, means_init=np.full((3, 2), 0.5), weights_init=weights, max_iter=1
    )
    fit_quiet(mix, np.array([[0, 1], [1, 0], [1, 1], [0, 0]] * 10, dtype=float))
    rng = np.random.RandomState(6)
    n, draws = 20, 2000
    counts = np.array(
        [
            np.bincount(mix.sample(n, random_state=rng)[1], minlength=3)
            for _ in range(draws)
        ]
    )
    np.testing.assert_array_equal(counts.sum(axis=1), n)
    w = mix.weights_
    np.testing.assert_allclose(counts.mean(axis=0), n * w, rtol=0.05)
    np.testing.assert_allclose(counts.var(axis=0), n * w * (1 - w), rtol=0.15)


def test_sample_bad_n_samples():
    mix = BernoulliMixture(2, random_state=0).fit(small_problem()[0])
    with pytest.raises(ValueError, match="n_samples"):
        mix.sample(0)
    with pytest.raises(TypeError, match="n_samples"):
        mix.sample(2.5)
    with pytest.raises(NotFittedError):
        BernoulliMixture().sample(3)


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, _, _, _ = small_problem(seed=45, n_features=4)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    mix = BernoulliMixture(2, random_state=0).fit(df)
    np.testing.assert_array_equal(mix.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_allclose(
        mix.predict_proba(df),
        reference_predict_proba(X, mix.weights_, mix.means_),
        atol=1e-12,
    )


# --------------------------------------------------------------------------
# 10. Label switching: fit_predict and predict agree up to the fitted labels
# --------------------------------------------------------------------------


def test_fit_predict_matches_predict_and_labels_match_truth():
    X, y, _, _ = three_cluster_data(seed=46)
    mix = BernoulliMixture(3, random_state=0)
    labels = mix.fit_predict(X)
    np.testing.assert_array_equal(labels, mix.predict(X))
    table = np.zeros((3, 3))
    np.add.at(table, (labels, y), 1)
    rows, cols = linear_sum_assignment(-table)
    assert table[rows, cols].sum() == len(y)


# --------------------------------------------------------------------------
# 11. Bad inputs
# --------------------------------------------------------------------------

_X_BAD = (np.random.RandomState(47).random_sample((20, 4)) < 0.5).astype(float)


@pytest.mark.parametrize(
    "params, X, sample_weight, exception, match",
    [
        pytest.param(
            dict(binarize=None),
            2 * _X_BAD,
            None,
            ValueError,
            "Binarizer",
            id="non-binary",
        ),
        pytest.param(
            dict(binarize=None),
            sp.csr_matrix(2 * _X_BAD),
            None,
            ValueError,
            "Binarizer",
            id="non-binary-sparse",
        ),
        pytest.param(
            {}, np.where(_X_BAD > 0, np.inf, 0), None, ValueError, "infinity", id="inf"
        ),
        pytest.param(
            {},
            np.where(_X_BAD > 0, -np.inf, 0),
            None,
            ValueError,
            "infinity",
            id="-inf",
        ),
        pytest.param(
            dict(n_components=21), _X_BAD, None, ValueError, "n_samples", id="K>n"
        ),
        pytest.param(
            dict(n_components=2, means_init=np.full((2, 3), 0.5)),
            _X_BAD,
            None,
            ValueError,
            "means_init must have shape",
            id="means_init-shape",
        ),
        pytest.param(
            dict(n_components=2, means_init=np.full((3, 4), 0.5)),
            _X_BAD,
            None,
            ValueError,
            "means_init must have shape",
            id="means_init-n-components",
        ),
        pytest.param(
            dict(n_components=2, means_init=np.full(4, 0.5)),
            _X_BAD,
            None,
            ValueError,
            "means_init must be 2-D",
            id="means_init-1d",
        ),
        pytest.param(
            dict(n_components=2, means_init=np.full((2, 4), 1.5)),
            _X_BAD,
            None,
            ValueError,
            r"\[0, 1\]",
            id="means_init>1",
        ),
        pytest.param(
            dict(n_components=2, means_init=np.full((2, 4), -0.1)),
            _X_BAD,
            None,
            ValueError,
            r"\[0, 1\]",
            id="means_init<0",
        ),
        pytest.param(
            dict(n_components=2, means_init=np.full((2, 4), np.nan)),
            _X_BAD,
            None,
            ValueError,
            "NaN",
            id="means_init-nan",
        ),
        pytest.param(
            dict(n_components=2, weights_init=[0.5, 0.6]),
            _X_BAD,
            None,
            ValueError,
            "sum to 1",
            id="weights_init-sum",
        ),
        pytest.param(
            dict(n_components=2, weights_init=[1.5, -0.5]),
            _X_BAD,
            None,
            ValueError,
            "non-negative",
            id="weights_init-negative",
        ),
        pytest.param(
            dict(n_components=2, weights_init=[0.2, 0.3, 0.5]),
            _X_BAD,
            None,
            ValueError,
            "shape",
            id="weights_init-length",
        ),
        pytest.param(
            {},
            _X_BAD,
            -np.ones(20),
            ValueError,
            "Negative",
            id="sample_weight-negative",
        ),
        pytest.param(
            {},
            _X_BAD,
            np.r_[np.nan, np.ones(19)],
            ValueError,
            "NaN",
            id="sample_weight-nan",
        ),
        pytest.param(
            {}, _X_BAD, np.zeros(20), ValueError, "non-zero", id="sample_weight-zero"
        ),
        pytest.param(
            {},
            _X_BAD,
            np.ones(19),
            ValueError,
            "sample_weight",
            id="sample_weight-length",
        ),
        pytest.param(
            dict(n_components=0),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'n_components'.*an int in the range \[1, inf\]",
            id="n_components=0",
        ),
        pytest.param(
            dict(n_components=2.0),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'n_components'.*an int",
            id="n_components-float",
        ),
        pytest.param(
            dict(tol=-1),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'tol'.*a float in the range \[0, inf\]",
            id="tol=-1",
        ),
        pytest.param(
            dict(init_params="foo"),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'init_params'.*'kmeans', 'k-means\+\+', 'random', 'random_from_data'",
            id="init_params=foo",
        ),
        pytest.param(
            dict(alpha=-1),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'alpha'.*a float in the range \[0, inf\]",
            id="alpha=-1",
        ),
        pytest.param(
            dict(max_iter=0),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'max_iter'.*\[1, inf\]",
            id="max_iter=0",
        ),
        pytest.param(
            dict(n_init=0),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'n_init'.*\[1, inf\]",
            id="n_init=0",
        ),
        pytest.param(
            dict(binarize="yes"),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'binarize'.*or None",
            id="binarize-str",
        ),
        pytest.param(
            dict(warm_start="yes"),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'warm_start'.*bool",
            id="warm_start-str",
        ),
        pytest.param(
            dict(random_state="seed"),
            _X_BAD,
            None,
            InvalidParameterError,
            r"'random_state'",
            id="random_state-str",
        ),
        pytest.param({}, _X_BAD[0], None, ValueError, "2D array", id="1d-X"),
        pytest.param(
            {},
            np.array([["a", "b"], ["c", "d"]]),
            None,
            ValueError,
            "could not convert",
            id="string-X",
        ),
        pytest.param({}, _X_BAD + 1j, None, ValueError, "Complex", id="complex-X"),
        pytest.param({}, np.empty((0, 4)), None, ValueError, "0 sample", id="empty-X"),
        pytest.param(
            {}, np.empty((4, 0)), None, ValueError, "0 feature", id="no-features"
        ),
        pytest.param(
            dict(binarize=-1.0),
            sp.csr_matrix(_X_BAD),
            None,
            ValueError,
            "implicit zeros",
            id="sparse-negative-threshold",
        ),
    ],
)
def test_bad_inputs(params, X, sample_weight, exception, match):
    with pytest.raises(exception, match=match):
        BernoulliMixture(**params).fit(X, sample_weight=sample_weight)


def test_invalid_parameter_error_is_value_error():
    assert issubclass(InvalidParameterError, ValueError)
    with pytest.raises(ValueError):
        BernoulliMixture(tol=-1).fit(_X_BAD)


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "score_samples", "score", "bic", "aic"]
)
def test_wrong_number_of_features_after_fit(method):
    mix = BernoulliMixture(2, random_state=0).fit(_X_BAD)
    with pytest.raises(ValueError, match="4 features"):
        getattr(mix, method)(_X_BAD[:, :3])


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "score_samples", "score", "bic", "aic"]
)
def test_not_fitted(method):
    with pytest.raises(NotFittedError):
        getattr(BernoulliMixture(2), method)(_X_BAD)


def test_predict_rejects_inf_and_non_binary():
    mix = BernoulliMixture(2, random_state=0, binarize=None).fit(_X_BAD)
    with pytest.raises(ValueError, match="Binarizer"):
        mix.predict(2 * _X_BAD)
    with pytest.raises(ValueError, match="infinity"):
        mix.predict(np.where(_X_BAD > 0, np.inf, 0))


def test_warm_start_with_changed_number_of_features():
    mix = BernoulliMixture(2, warm_start=True, random_state=0).fit(_X_BAD)
    with pytest.raises(ValueError, match="warm_start"):
        mix.fit(_X_BAD[:, :3])
    mix = BernoulliMixture(2, warm_start=True, random_state=0).fit(_X_BAD)
    mix.set_params(n_components=3)
    with pytest.raises(ValueError, match="warm_start"):
        mix.fit(_X_BAD)


def test_numpy_generator_random_state_is_accepted_or_rejected_up_front():
    # The parameter validation lists "a numpy RandomState or Generator" among
    # the valid random_state values: a Generator must then either work or be
    # refused with InvalidParameterError before fitting starts.
    X, _, _, _ = small_problem(seed=48)
    try:
        mix = BernoulliMixture(2, random_state=np.random.default_rng(0)).fit(X)
    except InvalidParameterError:
        return
    assert np.isfinite(mix.lower_bound_)
    X_s, _ = mix.sample(5)
    assert X_s.shape == (5, X.shape[1])


def test_random_state_instance_and_int_agree():
    X, _, _, _ = small_problem(seed=49)
    a = BernoulliMixture(3, random_state=7).fit(X)
    b = BernoulliMixture(3, random_state=np.random.RandomState(7)).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)


def test_verbose_output(capsys):
    X, _, _, _ = small_problem(seed=50)
    BernoulliMixture(2, random_state=0, verbose=0).fit(X)
    assert capsys.readouterr().out == ""
    mix = BernoulliMixture(
        2, random_state=0, verbose=2, verbose_interval=1, n_init=2
    ).fit(X)
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Initialization 1" in out
    assert out.count("Iteration") >= mix.n_iter_
    assert "converged" in out


# --------------------------------------------------------------------------
# 12. README example
# --------------------------------------------------------------------------


def test_readme_digits_example():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mix = BernoulliMixture(n_components=10, binarize=7.5, random_state=0).fit(
            load_digits().data
        )
    # The default tol (1e-3 per sample) stops after a dozen iterations, before
    # the maximum, where the information is not positive definite: the
    # standard errors then say so rather than report numbers.
    allowed = (ConvergenceWarning, NonIdentifiableWarning)
    unexpected = [w for w in caught if not issubclass(w.category, allowed)]
    assert not unexpected, [str(w.message) for w in unexpected]
    assert mix.weights_.shape == (10,)
    assert mix.weights_.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(mix.weights_ > 0)
    assert mix.means_.shape == (10, 64)
    assert np.all((mix.means_ > 0) & (mix.means_ < 1))
    assert np.all(np.isfinite(mix.lower_bounds_))


def test_verbose_3_shows_a_progress_bar(capsys):
    """verbose=3 draws a tqdm bar per initialisation; verbose=0 prints nothing."""
    pytest.importorskip("tqdm")
    rng = np.random.RandomState(0)
    X = (rng.rand(200, 6) < 0.5).astype(float)
    BernoulliMixture(2, n_init=2, max_iter=5, tol=0, verbose=3, random_state=0).fit(X)
    err = capsys.readouterr().err
    assert "init 0" in err and "init 1" in err
    assert "5/5" in err
    BernoulliMixture(2, max_iter=5, tol=0, random_state=0).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
