"""The compiled E/M kernel against its NumPy reference and a direct computation."""

import importlib.metadata
import os
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

import sklearn_bernoulli_mix
from sklearn_bernoulli_mix import BernoulliMixture, _blocks, _fast

needs_kernel = pytest.mark.skipif(
    not _fast.HAVE_KERNEL, reason="the compiled kernel is not built"
)


def _ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or bool(
        os.environ.get("SKLEARN_BERNOULLI_MIX_REQUIRE_KERNEL")
    )


def test_compiled_kernel_in_use_in_ci():
    """In CI the installed package must carry the compiled kernel."""
    if not _ci():
        pytest.skip("set CI=true to require the compiled kernel")
    assert _fast.HAVE_KERNEL, (
        f"sklearn_bernoulli_mix imported from {sklearn_bernoulli_mix.__file__} has "
        "no compiled _kernels module: the tests are not running against the "
        "built package."
    )
    assert _fast._kernels.openmp_enabled()


def test_version_matches_metadata():
    assert sklearn_bernoulli_mix.__version__ == importlib.metadata.version(
        "sklearn-bernoulli-mix"
    )


def _params(n_components, n_features, rng, dtype=np.float64, separated=False):
    if separated:
        means = np.where(rng.random((n_components, n_features)) < 0.5, 0.01, 0.99)
    else:
        means = rng.uniform(0.05, 0.95, (n_components, n_features))
    weights = rng.dirichlet(np.ones(n_components))
    log_p, log_q = np.log(means), np.log1p(-means)
    log_odds_t = (log_p - log_q).T.astype(dtype)
    bias = (np.log(weights) + log_q.sum(axis=1)).astype(dtype)
    return log_odds_t, bias, log_q.astype(dtype), weights, means


def _sample(n, weights, means, rng):
    z = rng.choice(len(weights), size=n, p=weights)
    return (rng.random((n, means.shape[1])) < means[z]).astype(np.float64)


def _direct(X, weights, means, sample_weight=None):
    """Statistics written out from the definitions, in float64."""
    X = np.asarray(X, dtype=np.float64)
    observed = ~np.isnan(X)
    filled = np.where(observed, X, 0.0)
    log_lik_k = (
        filled @ np.log(means).T
        + (observed.astype(float) - filled) @ np.log1p(-means).T
        + np.log(weights)
    )
    norm = logsumexp(log_lik_k, axis=1)
    resp = np.exp(log_lik_k - norm[:, None])
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    resp *= w[:, None]
    missing_k = resp.T @ (~observed).astype(float)
    return resp.sum(axis=0), resp.T @ filled, missing_k, float(w @ norm)


def _assert_stats_close(got, want, rtol):
    nk, xk, missing_k, log_lik = got
    np.testing.assert_allclose(nk, want[0], rtol=rtol, atol=rtol * nk.sum())
    np.testing.assert_allclose(xk, want[1], rtol=rtol, atol=rtol * nk.sum())
    if want[2] is None or not np.any(want[2]):
        assert missing_k is None or not np.any(missing_k)
    else:
        np.testing.assert_allclose(missing_k, want[2], rtol=rtol, atol=rtol * nk.sum())
    np.testing.assert_allclose(log_lik, want[3], rtol=rtol)


def test_reference_matches_direct_computation():
    rng = np.random.default_rng(0)
    log_odds_t, bias, log_q, weights, means = _params(4, 9, rng)
    X = _sample(700, weights, means, rng)
    X[rng.random(X.shape) < 0.1] = np.nan
    sw = rng.uniform(0.2, 3, X.shape[0])
    got = _fast.bernoulli_stats_numpy(X, log_odds_t, bias, log_q, sw, True)
    _assert_stats_close(got, _direct(X, weights, means, sw), 1e-12)
    got = _fast.bernoulli_stats_numpy(
        sp.csr_matrix(X), log_odds_t, bias, log_q, sw, True
    )
    _assert_stats_close(got, _direct(X, weights, means, sw), 1e-12)


# (n_samples, n_features, n_components): one block, several blocks and
# chunks, and every tile width of the kernel (components 1 to 40).
SHAPES = [
    (50, 1, 1),
    (300, 7, 3),
    (2_100, 100, 10),
    (999, 33, 17),
    (20_000, 12, 2),
    (1_500, 64, 40),
]


@needs_kernel
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["f64", "f32", "uint8", "bool", "int8", "fortran"])
@pytest.mark.parametrize("weighted", [False, True])
def test_dense_kernel_matches_reference(shape, kind, weighted):
    n, d, k = shape
    rng = np.random.default_rng(n + d + k)
    log_odds_t, bias, log_q, weights, means = _params(k, d, rng)
    X = _sample(n, weights, means, rng)
    X = {
        "f64": X,
        "f32": X.astype(np.float32),
        "uint8": X.astype(np.uint8),
        "bool": X.astype(bool),
        "int8": X.astype(np.int8),
        "fortran": np.asfortranarray(X),
    }[kind]
    sw = rng.uniform(0.2, 3, n) if weighted else None
    got = _fast.bernoulli_stats(X, log_odds_t, bias, log_q, sw, False, 2)
    want = _fast.bernoulli_stats_numpy(X, log_odds_t, bias, log_q, sw, False)
    _assert_stats_close(got, want, 1e-10)
    assert got[2] is None


@needs_kernel
@pytest.mark.parametrize("shape", SHAPES)
def test_dense_kernel_missing_and_float32(shape):
    n, d, k = shape
    rng = np.random.default_rng(7 * n + d)
    log_odds_t, bias, log_q, weights, means = _params(k, d, rng)
    X = _sample(n, weights, means, rng)
    X[rng.random(X.shape) < 0.15] = np.nan
    sw = rng.uniform(0.2, 3, n)
    want = _fast.bernoulli_stats_numpy(X, log_odds_t, bias, log_q, sw, True)
    got = _fast.bernoulli_stats(X, log_odds_t, bias, log_q, sw, True, 2)
    _assert_stats_close(got, want, 1e-10)
    # A strided view is read in place.
    wide = np.zeros((n, 2 * d))
    wide[:, ::2] = X
    got = _fast.bernoulli_stats(wide[:, ::2], log_odds_t, bias, log_q, sw, True, 1)
    _assert_stats_close(got, want, 1e-10)
    # float32 computation against the float64 result.
    got32 = _fast.bernoulli_stats(
        X.astype(np.float32),
        log_odds_t.astype(np.float32),
        bias.astype(np.float32),
        log_q.astype(np.float32),
        sw,
        True,
        2,
    )
    _assert_stats_close(got32, want, 2e-4)


@needs_kernel
@pytest.mark.parametrize("shape", [(300, 7, 3), (5_000, 300, 20), (999, 33, 17)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("missing", [False, True])
def test_csr_kernel_matches_reference(shape, dtype, missing):
    n, d, k = shape
    rng = np.random.default_rng(n * d)
    log_odds_t, bias, log_q, weights, means = _params(k, d, rng)
    means = means * 0.1
    X = _sample(n, weights, means, rng)
    if missing:
        X[rng.random(X.shape) < 0.01] = np.nan
    X = sp.csr_matrix(X).astype(dtype)
    sw = rng.uniform(0.2, 3, n)
    params = (log_odds_t, bias, log_q)
    if dtype == np.float32:
        params = tuple(p.astype(np.float32) for p in params)
    want = _fast.bernoulli_stats_numpy(X, *params, sw, missing)
    got = _fast.bernoulli_stats_csr(X, *params, sw, missing, 2)
    _assert_stats_close(got, want, 1e-10 if dtype == np.float64 else 1e-4)
    # int64 indices read the same.
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    got64 = _fast.bernoulli_stats_csr(X64, *params, sw, missing, 1)
    for a, b in zip(got[:2], got64[:2]):
        np.testing.assert_array_equal(a, b)


@needs_kernel
def test_same_result_whatever_the_number_of_threads():
    rng = np.random.default_rng(3)
    log_odds_t, bias, log_q, weights, means = _params(10, 50, rng)
    X = _sample(60_000, weights, means, rng)
    X[rng.random(X.shape) < 0.05] = np.nan
    sw = rng.uniform(0.2, 3, X.shape[0])
    results = [
        _fast.bernoulli_stats(X, log_odds_t, bias, log_q, sw, True, t)
        for t in (1, 2, 3, 8)
    ]
    Xs = sp.csr_matrix(np.nan_to_num(X))
    sparse = [
        _fast.bernoulli_stats_csr(Xs, log_odds_t, bias, log_q, sw, False, t)
        for t in (1, 2, 5)
    ]
    for group in (results, sparse):
        for other in group[1:]:
            for a, b in zip(group[0], other):
                if a is None:
                    assert b is None
                else:
                    np.testing.assert_array_equal(a, b)


def _two_far_components(gap, dtype):
    """Rows that component 0 explains better than component 1 by exactly ``gap``.

    One feature, p = (1 - eps, eps) ... built so that the log-likelihood
    difference of every row is ``gap`` nats.
    """
    n_features = 4
    log_odds_t = np.zeros((n_features, 2), dtype=dtype)
    log_odds_t[:, 1] = -gap / n_features
    bias = np.zeros(2, dtype=dtype)
    log_q = np.zeros((2, n_features), dtype=dtype)
    X = np.ones((1000, n_features))
    return X.astype(dtype), log_odds_t, bias, log_q


@pytest.mark.parametrize(
    "dtype, gap",
    # exp(-gap) is subnormal in the dtype: 5e-42 (float32), 1e-313 (float64).
    [(np.float32, 95.0), (np.float64, 720.0)],
)
@pytest.mark.parametrize("impl", ["numpy", "kernel", "blocks"])
def test_subnormal_responsibilities_are_zero(dtype, gap, impl):
    if impl == "kernel" and not _fast.HAVE_KERNEL:
        pytest.skip("the compiled kernel is not built")
    X, log_odds_t, bias, log_q = _two_far_components(gap, dtype)
    assert 0 < np.exp(-gap).astype(dtype) < np.finfo(dtype).tiny
    if impl == "numpy":
        nk, xk, _, log_lik = _fast.bernoulli_stats_numpy(X, log_odds_t, bias, log_q)
    elif impl == "kernel":
        nk, xk, _, log_lik = _fast.bernoulli_stats(X, log_odds_t, bias, log_q)
    else:
        # the NumPy block function of the estimators (components x rows)
        joint = np.ascontiguousarray((X @ log_odds_t + bias).T)
        log_norm = _blocks.log_normalize_t(joint)
        resp = joint.T
        nk, log_lik = resp.sum(axis=0, dtype=np.float64), float(log_norm.sum())
        xk = resp.T @ X
    assert nk[1] == 0 and np.all(xk[1] == 0)
    assert nk[0] == X.shape[0]
    np.testing.assert_allclose(log_lik, 0.0, atol=1e-3)


def test_subnormal_flush_in_the_family_block_stats():
    """The NumPy block path of BernoulliFamily flushes far responsibilities."""
    from sklearn_bernoulli_mix._bernoulli import BernoulliFamily

    X = np.ones((1000, 4), dtype=np.float32)
    # Component 1 explains every row exp(-95) times less than component 0.
    means = np.array([[0.5] * 4, [0.5 * np.exp(-95.0 / 4)] * 4])
    family = BernoulliFamily(4, dtype=np.float32)
    prepared = family.prepare((np.array([0.5, 0.5]), means))
    stats = family.block_stats(
        X, np.ones(1000, np.float32), prepared, has_missing=False, unit_weight=True
    )
    assert stats["nk"][1] == 0 and np.all(stats["xk"][1] == 0)
    assert stats["nk"][0] == 1000


@needs_kernel
def test_kernel_converged_state_extreme_posteriors():
    """Well-separated components: posteriors 0/1 to the last bit, as the reference."""
    rng = np.random.default_rng(11)
    log_odds_t, bias, log_q, weights, means = _params(8, 200, rng, separated=True)
    X = _sample(5_000, weights, means, rng)
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-4)):
        p = (log_odds_t.astype(dtype), bias.astype(dtype), log_q.astype(dtype))
        Xd = X.astype(dtype)
        got = _fast.bernoulli_stats(Xd, *p, None, False, 2)
        want = _fast.bernoulli_stats_numpy(Xd, *p)
        _assert_stats_close(got, want, rtol)
        _assert_stats_close(got, _direct(X, weights, means), rtol)


@needs_kernel
def test_uint8_pass_makes_no_copy_of_X():
    rng = np.random.default_rng(5)
    log_odds_t, bias, log_q, weights, means = _params(10, 100, rng)
    X = (rng.random((400_000, 100)) < 0.5).astype(np.uint8)
    _fast.bernoulli_stats(X[:1000], log_odds_t, bias, log_q, None, False, 2)
    tracemalloc.start()
    try:
        _fast.bernoulli_stats(X, log_odds_t, bias, log_q, None, False, 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.05 * X.nbytes


def test_bad_input_is_rejected():
    rng = np.random.default_rng(0)
    log_odds_t, bias, log_q, _, _ = _params(2, 3, rng)
    X = np.zeros((5, 3))
    with pytest.raises(TypeError, match="int16"):
        _fast.bernoulli_stats(X.astype(np.int16), log_odds_t, bias, log_q)
    with pytest.raises(TypeError, match="CSR"):
        _fast.bernoulli_stats(sp.csr_matrix(X), log_odds_t, bias, log_q)
    with pytest.raises(TypeError, match="CSR"):
        _fast.bernoulli_stats_csr(X, log_odds_t, bias, log_q)
    with pytest.raises(ValueError, match="log_odds_t"):
        _fast.bernoulli_stats(X[:, :2], log_odds_t, bias, log_q)
    with pytest.raises(ValueError, match="bias"):
        _fast.bernoulli_stats(X, log_odds_t, bias[:1], log_q)
    with pytest.raises(ValueError, match="sample_weight"):
        _fast.bernoulli_stats(X, log_odds_t, bias, log_q, np.ones(4))
    with pytest.raises(TypeError, match="float64 or float32"):
        _fast.bernoulli_stats(X, log_odds_t.astype(int), bias, log_q)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.uint8, np.bool_, np.int8])
def test_integer_X_fits_as_float64(dtype):
    rng = np.random.default_rng(2)
    _, _, _, weights, means = _params(3, 20, rng, separated=True)
    X = _sample(3_000, weights, means, rng)
    kwargs = dict(n_components=3, random_state=0, max_iter=30, tol=0)
    ref = BernoulliMixture(**kwargs).fit(X)
    Xi = X.astype(dtype)
    before = Xi.copy()
    est = BernoulliMixture(**kwargs).fit(Xi)
    np.testing.assert_array_equal(Xi, before)
    np.testing.assert_allclose(est.weights_, ref.weights_, rtol=1e-10)
    np.testing.assert_allclose(est.means_, ref.means_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.score(Xi), ref.score(X), rtol=1e-12)


@needs_kernel
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_uint8_fit_makes_no_float_copy_of_X():
    """A whole fit on 1,000,000 x 100 uint8 X: memory beyond X < 5% of X.nbytes."""
    import tracemalloc

    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(1_000_000, 100), dtype=np.uint8)
    start = rng.uniform(0.2, 0.8, (10, 100))
    est = BernoulliMixture(
        10,
        means_init=start,
        weights_init=np.full(10, 0.1),
        tol=0,
        max_iter=3,
        se_method=None,
        binarize=None,
    )
    tracemalloc.start()
    try:
        est.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.05 * X.nbytes, f"{peak / X.nbytes:.3f} x X.nbytes"
    ref = BernoulliMixture(**est.get_params()).fit(X[:20_000].astype(np.float64))
    small = BernoulliMixture(**est.get_params()).fit(X[:20_000])
    np.testing.assert_allclose(small.means_, ref.means_, rtol=1e-10, atol=1e-12)
