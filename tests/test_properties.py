"""Property-based tests: invariants that must hold on every small random problem.

A problem is a 0/1 matrix X (1..40 rows, 1..6 features) stored as float32,
float64, int64 or bool, dense or CSR, with or without NaN as missing values
(BernoulliMixture only) and with or without integer sample weights, plus a
number of components (1..4, at most the number of rows) and a starting
point. Every expected value is computed here from the fitted parameters with
plain numpy/scipy, never with the package's own helpers.

The example budget comes from a hypothesis profile, chosen with the
environment variable ``SBM_HYPOTHESIS_PROFILE`` ("properties", the default,
sized to keep this file well under a minute on two busy cores, or
"properties-thorough"). The profile is applied per test here, so it does not
change the settings of other test files.
"""

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    FixedComponentMixture,
    NonIdentifiableWarning,
)

settings.register_profile(
    "properties",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "properties-thorough", parent=settings.get_profile("properties"), derandomize=False
)
PROFILE = settings.get_profile(os.environ.get("SBM_HYPOTHESIS_PROFILE", "properties"))
SCALE = 10 if PROFILE.derandomize is False else 1


def examples(n):
    """The profile with ``n`` examples (times 10 in the thorough profile)."""
    return settings(PROFILE, max_examples=n * SCALE, deadline=None)


DTYPES = ["float32", "float64", "int64", "bool"]
N_ITER = 15  # fixed number of EM iterations where two fits are compared


@dataclass
class Problem:
    X: object  # what is passed to the estimator (dense array or CSR)
    dense: np.ndarray  # the same values as a float64 dense array (NaN = missing)
    dtype: str
    sparse: bool
    sample_weight: object  # None or an int64 array
    n_components: int
    means_init: np.ndarray
    weights_init: np.ndarray
    components: np.ndarray  # known Bernoulli components for FixedComponentMixture
    seed: int

    @property
    def computes_in_float32(self):
        return self.dtype == "float32"

    @property
    def freq(self):
        sw = (
            np.ones(len(self.dense))
            if self.sample_weight is None
            else self.sample_weight
        )
        return sw / sw.sum()


@st.composite
def problems(draw, *, allow_nan):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 6))
    k = draw(st.integers(1, min(4, n)))
    dtype = draw(st.sampled_from(DTYPES))
    sparse = draw(st.booleans())
    dense = draw(hnp.arrays(np.bool_, (n, d))).astype(np.float64)
    if allow_nan and dtype.startswith("float") and draw(st.booleans()):
        dense[draw(hnp.arrays(np.bool_, (n, d)))] = np.nan
    X = dense.astype(dtype)
    if sparse:
        X = sp.csr_matrix(X)
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3)))
        if not sample_weight.any():
            sample_weight[draw(st.integers(0, n - 1))] = draw(st.integers(1, 3))
    prob = st.floats(0.02, 0.98)
    means_init = draw(hnp.arrays(np.float64, (k, d), elements=prob))
    raw = draw(hnp.arrays(np.float64, k, elements=st.floats(0.1, 1.0)))
    components = draw(hnp.arrays(np.float64, (k, d), elements=prob))
    return Problem(
        X=X,
        dense=dense,
        dtype=dtype,
        sparse=sparse,
        sample_weight=sample_weight,
        n_components=k,
        means_init=means_init,
        weights_init=raw / raw.sum(),
        components=components,
        seed=draw(st.integers(0, 2**31 - 1)),
    )


# ---------------------------------------------------------------------------
# Independent computations
# ---------------------------------------------------------------------------


def component_log_lik(dense, means):
    """log p(x_i | k): sum over observed j of log p_kj (x=1) or log(1-p_kj) (x=0)."""
    x = dense[:, None, :]
    per_entry = np.where(x == 1, np.log(means)[None], np.log1p(-means)[None])
    return np.where(np.isnan(x), 0.0, per_entry).sum(axis=2)


def mixture_log_lik(log_lik, weights):
    with np.errstate(divide="ignore"):
        weighted = log_lik + np.log(weights)
    return logsumexp(weighted, axis=1), weighted


def posterior(log_lik, weights):
    log_norm, weighted = mixture_log_lik(log_lik, weights)
    return np.exp(weighted - log_norm[:, None])


def snapshot(obj):
    """Bitwise picture of an array or CSR matrix, with its flags."""
    if obj is None:
        return None
    if sp.issparse(obj):
        return (
            obj.shape,
            obj.has_sorted_indices,
            *map(snapshot, (obj.data, obj.indices, obj.indptr)),
        )
    flags = tuple(
        obj.flags[f] for f in ("C_CONTIGUOUS", "F_CONTIGUOUS", "OWNDATA", "WRITEABLE")
    )
    return (obj.dtype.str, obj.shape, obj.strides, obj.tobytes(order="A"), flags)


def rows(X, index):
    return X[index] if not sp.issparse(X) else X[index].tocsr()


def stack(X, times):
    return (
        sp.vstack([X] * times).tocsr()
        if sp.issparse(X)
        else np.concatenate([X] * times)
    )


def quiet(fn, *args, **kwargs):
    """Call ``fn`` turning numerical RuntimeWarnings into errors.

    Convergence warnings are expected (fixed iteration counts, tol=0), so
    are k-means notes about duplicate points and non-identifiable weights.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", NonIdentifiableWarning)
        return fn(*args, **kwargs)


def lb_tol(problem, value):
    """Relative slack on a mean log-likelihood: 1e-10, or float32 round-off."""
    rel = 1e-10 if not problem.computes_in_float32 else 64 * np.finfo(np.float32).eps
    return rel * max(1.0, abs(value))


def param_tol(problem):
    return (
        {"rtol": 1e-7, "atol": 1e-9}
        if not problem.computes_in_float32
        else {"rtol": 1e-3, "atol": 1e-4}
    )


def bm(problem, **kw):
    params = dict(
        n_components=problem.n_components,
        means_init=problem.means_init,
        weights_init=problem.weights_init,
        alpha=0.0,
        binarize=None,
        tol=0.0,
        max_iter=N_ITER,
        random_state=problem.seed,
    )
    params.update(kw)
    return BernoulliMixture(**params)


def fcm(problem, **kw):
    params = dict(
        components=problem.components,
        weights_init=problem.weights_init,
        tol=0.0,
        max_iter=N_ITER,
    )
    params.update(kw)
    return FixedComponentMixture(**params)


def check_predictions(problem, est, weights, log_lik_components):
    """Outputs finite and equal to the independent mixture computation."""
    X = problem.X
    before = snapshot(X)
    expected_ss, _ = mixture_log_lik(log_lik_components, weights)
    expected_resp = posterior(log_lik_components, weights)

    resp = quiet(est.predict_proba, X)
    ss = quiet(est.score_samples, X)
    score = quiet(est.score, X)
    labels = quiet(est.predict, X)
    bic, aic = quiet(est.bic, X), quiet(est.aic, X)
    assert snapshot(X) == before, "a prediction method modified X"

    n = problem.dense.shape[0]
    assert resp.shape == (n, problem.n_components) and ss.shape == (n,)
    for value in (resp, ss, score, bic, aic):
        assert np.all(np.isfinite(value))
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ss, expected_ss, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(resp, expected_resp, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(score, expected_ss.mean(), rtol=1e-10, atol=1e-10)
    # predict is the argmax wherever the posterior has a clear winner.
    top2 = np.sort(expected_resp, axis=1)[:, -2:] if problem.n_components > 1 else None
    clear = np.ones(n, bool) if top2 is None else top2[:, 1] - top2[:, 0] > 1e-9
    np.testing.assert_array_equal(labels[clear], expected_resp.argmax(axis=1)[clear])
    return expected_ss


def check_lower_bounds(problem, est, expected_ss):
    """EM never decreases the log-likelihood, and the fit ends at least as high."""
    lb = np.asarray(est.lower_bounds_)
    assert np.all(np.isfinite(lb)) and len(lb) == est.n_iter_
    for previous, current in zip(lb[:-1], lb[1:]):
        assert current >= previous - lb_tol(problem, previous), lb
    final = float(problem.freq @ expected_ss)
    assert final >= lb[-1] - lb_tol(problem, lb[-1])
    assert est.lower_bound_ == lb[-1]


def identical_groups(columns):
    """Group labels of the identical rows of ``columns`` (one row a component)."""
    _, labels = np.unique(np.asarray(columns), axis=0, return_inverse=True)
    return labels.reshape(-1)


def grouped(values, labels, weights=None):
    """Sum (or, with ``weights``, the weighted mean) of ``values`` per group."""
    n_groups = labels.max() + 1
    if weights is None:
        out = np.zeros((n_groups, *np.shape(values)[1:]))
        np.add.at(out, labels, values)
        return out
    total = grouped(weights, labels)
    sums = grouped(weights[:, None] * values, labels)
    return sums / np.maximum(total, 1e-300)[:, None]


def assert_same_fit(problem, a, b, attrs):
    """Two fits agree on what the data identify.

    The log-likelihood path and the mixture density at every training row
    are always identified. Components that are identical (the same known
    component, or the same starting parameters of a learned one, which EM
    keeps identical) can share their weight in any proportion: their weights
    are compared summed per group, and the means per group. The weights of
    known components are compared only as far as the likelihood matrix
    identifies them (tolerance scaled by its condition number).
    """
    tol = param_tol(problem)
    for attr in attrs:
        x, y = np.asarray(getattr(a, attr)), np.asarray(getattr(b, attr))
        if attr == "lower_bounds_":
            # FixedComponentMixture stops early, even with tol=0, once its
            # certificate proves the optimum; compare the common iterations.
            n = min(len(x), len(y))
            np.testing.assert_allclose(x[:n], y[:n], **tol)
        elif attr == "weights_" and hasattr(a, "means_"):
            labels = identical_groups(problem.means_init)
            np.testing.assert_allclose(grouped(x, labels), grouped(y, labels), **tol)
        elif attr == "weights_":
            labels = identical_groups(problem.components)
            lik = np.exp(component_log_lik(problem.dense, problem.components))
            groups = grouped(lik.T, labels).T / np.bincount(labels)
            wx, wy = grouped(x, labels), grouped(y, labels)
            # The mixture density at the rows is identified whatever the rank.
            np.testing.assert_allclose(groups @ wx, groups @ wy, **tol)
            scale = np.linalg.cond(groups) if groups.shape[0] >= groups.shape[1] else 0
            if np.isfinite(scale) and 0 < scale < 1e6:
                np.testing.assert_allclose(
                    wx, wy, rtol=tol["rtol"] * scale, atol=tol["atol"] * scale
                )
        elif attr == "means_":
            labels = identical_groups(problem.means_init)
            wa, wb = np.asarray(a.weights_), np.asarray(b.weights_)
            np.testing.assert_allclose(
                grouped(x, labels, wa), grouped(y, labels, wb), **tol
            )
        else:
            np.testing.assert_allclose(x, y, **tol)


def identified_weights(weights, components):
    """Weights summed over groups of identical components."""
    _, group = np.unique(np.asarray(components), axis=0, return_inverse=True)
    return np.bincount(np.ravel(group), weights=weights)


def assert_bitwise_equal(a, b, attrs):
    for attr in attrs:
        x, y = np.asarray(getattr(a, attr)), np.asarray(getattr(b, attr))
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), attr


def fit(est, problem, X=None, sample_weight="same"):
    X = problem.X if X is None else X
    sw = problem.sample_weight if isinstance(sample_weight, str) else sample_weight
    before, before_sw = snapshot(X), snapshot(sw)
    quiet(est.fit, X, sample_weight=sw)
    assert snapshot(X) == before, "fit modified X"
    assert snapshot(sw) == before_sw, "fit modified sample_weight"
    return est


# ---------------------------------------------------------------------------
# BernoulliMixture
# ---------------------------------------------------------------------------


@examples(100)
@given(problem=problems(allow_nan=True))
def test_bernoulli_mixture_outputs_match_independent_computation(problem):
    est = fit(bm(problem, tol=1e-10, max_iter=50), problem)
    assert np.all(np.isfinite(est.weights_)) and np.all(np.isfinite(est.means_))
    assert np.all((est.means_ > 0) & (est.means_ < 1))
    np.testing.assert_allclose(est.weights_.sum(), 1.0, rtol=0, atol=1e-12)
    log_lik = component_log_lik(problem.dense, est.means_)
    expected_ss = check_predictions(problem, est, est.weights_, log_lik)
    check_lower_bounds(problem, est, expected_ss)
    n = len(problem.dense)
    n_params = problem.n_components * problem.dense.shape[1] + problem.n_components - 1
    np.testing.assert_allclose(
        est.bic(problem.X),
        -2 * expected_ss.sum() + n_params * np.log(n),
        rtol=1e-10,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        est.aic(problem.X), -2 * expected_ss.sum() + 2 * n_params, rtol=1e-10, atol=1e-9
    )


@examples(60)
@given(problem=problems(allow_nan=True), data=st.data())
def test_bernoulli_mixture_row_order_and_duplication_do_not_matter(problem, data):
    n = len(problem.dense)
    perm = np.asarray(data.draw(st.permutations(range(n))), dtype=np.intp)
    sw = problem.sample_weight
    base = fit(bm(problem), problem)
    permuted = fit(
        bm(problem), problem, rows(problem.X, perm), None if sw is None else sw[perm]
    )
    doubled = fit(
        bm(problem),
        problem,
        stack(problem.X, 2),
        None if sw is None else np.tile(sw, 2),
    )
    for other in (permuted, doubled):
        assert_same_fit(problem, base, other, ["weights_", "means_", "lower_bounds_"])
        assert other.n_iter_ == base.n_iter_


@examples(50)
@given(problem=problems(allow_nan=True))
def test_bernoulli_mixture_sparse_equals_dense(problem):
    dense_X = problem.X.toarray() if problem.sparse else problem.X
    sparse_X = problem.X if problem.sparse else sp.csr_matrix(problem.X)
    a = fit(bm(problem), problem, dense_X)
    b = fit(bm(problem), problem, sparse_X)
    assert_same_fit(problem, a, b, ["weights_", "means_", "lower_bounds_"])
    for method in ("predict_proba", "score_samples"):
        np.testing.assert_allclose(
            quiet(getattr(a, method), sparse_X),
            quiet(getattr(a, method), dense_X),
            rtol=1e-12,
            atol=1e-12,
        )


@examples(40)
@given(problem=problems(allow_nan=True))
def test_bernoulli_mixture_integer_weights_equal_repeated_rows(problem):
    sw = problem.sample_weight
    if sw is None:
        sw = np.arange(len(problem.dense)) % 3  # 0, 1, 2, 0, ...
    if sw.sum() < problem.n_components:  # the repeated X needs enough rows
        sw = sw.copy()
        sw[: problem.n_components] += 1
    weighted = fit(bm(problem), problem, sample_weight=sw)
    repeated = fit(
        bm(problem), problem, rows(problem.X, np.repeat(np.arange(len(sw)), sw)), None
    )
    assert_same_fit(
        problem, weighted, repeated, ["weights_", "means_", "lower_bounds_"]
    )


@examples(30)
@given(
    problem=problems(allow_nan=True),
    init=st.sampled_from(["kmeans", "k-means++", "random", "random_from_data"]),
)
def test_bernoulli_mixture_same_random_state_is_bitwise_identical(problem, init):
    def make():
        return bm(
            problem, means_init=None, weights_init=None, init_params=init, n_init=2
        )

    a, b = fit(make(), problem), fit(make(), problem)
    assert_bitwise_equal(a, b, ["weights_", "means_", "lower_bounds_", "n_iter_"])
    assert (
        quiet(a.predict_proba, problem.X).tobytes()
        == quiet(b.predict_proba, problem.X).tobytes()
    )
    assert quiet(a.sample, 7)[0].tobytes() == quiet(b.sample, 7)[0].tobytes()


# ---------------------------------------------------------------------------
# FixedComponentMixture (Bernoulli components known)
# ---------------------------------------------------------------------------


def mean_log_lik(problem, weights):
    log_lik = component_log_lik(problem.dense, problem.components)
    return float(problem.freq @ mixture_log_lik(log_lik, weights)[0])


@examples(100)
@given(problem=problems(allow_nan=False))
def test_fixed_mixture_outputs_match_independent_computation(problem):
    est = fit(fcm(problem, tol=1e-10, max_iter=200), problem)
    assert np.all(np.isfinite(est.weights_)) and np.all(est.weights_ >= 0)
    np.testing.assert_allclose(est.weights_.sum(), 1.0, rtol=0, atol=1e-12)
    log_lik = component_log_lik(problem.dense, problem.components)
    expected_ss = check_predictions(problem, est, est.weights_, log_lik)
    check_lower_bounds(problem, est, expected_ss)
    # The certificate: no point of the simplex beats the fit by more than
    # gap_bound_ (checked at every vertex and the uniform weights).
    final = mean_log_lik(problem, est.weights_)
    k = problem.n_components
    for other in [*np.eye(k), np.full(k, 1 / k)]:
        assert mean_log_lik(problem, other) <= final + est.gap_bound_ + 1e-12


@examples(40)
@given(problem=problems(allow_nan=False))
def test_fixed_mixture_precomputed_equals_bernoulli(problem):
    log_lik = component_log_lik(problem.dense, problem.components)
    a = fit(fcm(problem), problem)
    b = fit(fcm(problem, components="precomputed"), problem, log_lik)
    assert_same_fit(problem, a, b, ["lower_bounds_"])
    # Identical components share their weight in a way that is not
    # identified (rounding decides it); only the group sums are.
    np.testing.assert_allclose(
        identified_weights(a.weights_, problem.components),
        identified_weights(b.weights_, problem.components),
        **param_tol(problem),
    )
    np.testing.assert_allclose(
        quiet(a.score_samples, problem.X),
        quiet(b.score_samples, log_lik),
        rtol=1e-10,
        atol=1e-10,
    )


@examples(60)
@given(problem=problems(allow_nan=False), data=st.data())
def test_fixed_mixture_row_order_and_duplication_do_not_matter(problem, data):
    n = len(problem.dense)
    perm = np.asarray(data.draw(st.permutations(range(n))), dtype=np.intp)
    sw = problem.sample_weight
    base = fit(fcm(problem), problem)
    permuted = fit(
        fcm(problem), problem, rows(problem.X, perm), None if sw is None else sw[perm]
    )
    doubled = fit(
        fcm(problem),
        problem,
        stack(problem.X, 2),
        None if sw is None else np.tile(sw, 2),
    )
    for other in (permuted, doubled):
        assert_same_fit(problem, base, other, ["lower_bounds_"])
        # The weights are not always identified (identical components, or
        # more components than distinct rows): compare the fitted mixture's
        # likelihood of each row, which is.
        np.testing.assert_allclose(
            quiet(other.score_samples, problem.X),
            quiet(base.score_samples, problem.X),
            **param_tol(problem),
        )


@examples(50)
@given(problem=problems(allow_nan=False))
def test_fixed_mixture_sparse_equals_dense_and_weights_equal_repeats(problem):
    dense_X = problem.X.toarray() if problem.sparse else problem.X
    sparse_X = problem.X if problem.sparse else sp.csr_matrix(problem.X)
    a = fit(fcm(problem), problem, dense_X)
    b = fit(fcm(problem), problem, sparse_X)
    assert_same_fit(problem, a, b, ["weights_", "lower_bounds_"])
    np.testing.assert_allclose(
        quiet(a.predict_proba, sparse_X),
        quiet(a.predict_proba, dense_X),
        rtol=1e-12,
        atol=1e-12,
    )
    if problem.sample_weight is not None:
        sw = problem.sample_weight
        repeated = fit(
            fcm(problem),
            problem,
            rows(problem.X, np.repeat(np.arange(len(sw)), sw)),
            None,
        )
        assert_same_fit(problem, a, repeated, ["weights_", "lower_bounds_"])


@examples(30)
@given(problem=problems(allow_nan=False))
def test_fixed_mixture_same_random_state_is_bitwise_identical(problem):
    def make():
        return fcm(
            problem, weights_init=None, init_params="random", random_state=problem.seed
        )

    a, b = fit(make(), problem), fit(make(), problem)
    assert_bitwise_equal(
        a, b, ["weights_", "lower_bounds_", "n_iter_", "weights_covariance_"]
    )
    assert (
        quiet(a.predict_proba, problem.X).tobytes()
        == quiet(b.predict_proba, problem.X).tobytes()
    )
    assert quiet(a.sample, 7)[0].tobytes() == quiet(b.sample, 7)[0].tobytes()


def test_profile_is_applied():
    # Guards against the budget silently becoming hypothesis' default (100).
    assert PROFILE.deadline is None
    assert examples(5).max_examples == 5 * SCALE


@pytest.mark.parametrize("allow_nan", [False, True])
def test_strategy_draws_every_kind_of_problem(allow_nan):
    """The strategy reaches every dtype, both layouts, NaN and weights."""
    seen = set()

    @settings(max_examples=100, derandomize=True, database=None, deadline=None)
    @given(problem=problems(allow_nan=allow_nan))
    def collect(problem):
        seen.add(("dtype", problem.dtype))
        seen.add(("sparse", problem.sparse))
        seen.add(("weights", problem.sample_weight is not None))
        seen.add(("nan", bool(np.isnan(problem.dense).any())))
        assert 1 <= problem.n_components <= min(4, len(problem.dense))
        assert 1 <= len(problem.dense) <= 40 and 1 <= problem.dense.shape[1] <= 6

    collect()
    expected = {("dtype", d) for d in DTYPES} | {
        (k, v) for k in ("sparse", "weights") for v in (False, True)
    }
    expected |= {("nan", False)} | ({("nan", True)} if allow_nan else set())
    assert expected <= seen
