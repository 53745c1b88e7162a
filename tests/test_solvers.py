"""Tests of the mixing-weight solvers in sklearn_bernoulli_mix._solvers.

Each solver is iterated on small problems until its certified gap is tiny,
and checked against an independent optimiser (SLSQP on the simplex), against
the others, and against its own certificate at every iterate.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import norm

from sklearn_bernoulli_mix import NonIdentifiableWarning
from sklearn_bernoulli_mix._solvers import (
    em_step,
    low_rank_factor,
    sqp_step,
    squarem_step,
)

TOL = 1e-11


def _scaled(log_lik):
    """Divide each row of the likelihood matrix by its maximum."""
    return np.exp(log_lik - log_lik.max(axis=1, keepdims=True))


def _random(seed, n=120, m=5):
    rng = np.random.default_rng(seed)
    return _scaled(rng.normal(scale=2.0, size=(n, m))), rng.dirichlet(np.ones(n))


def _overlapping(seed, n=150):
    # Bernoulli components with nearly equal success probabilities: the
    # likelihood is flat along their difference.
    rng = np.random.default_rng(seed)
    probs = np.array([0.30, 0.32, 0.35, 0.70])
    X = rng.random((n, 6)) < 0.4
    log_lik = X @ np.log(probs[None, :].repeat(6, 0)) + (~X) @ np.log(
        1 - probs[None, :].repeat(6, 0)
    )
    return _scaled(log_lik), np.full(n, 1 / n)


def _dominated(seed, n=100):
    # Column 3 is half of column 0: its g is half of column 0's, at most 1/2
    # at the optimum, so its optimal weight is exactly zero.
    lik, freq = _random(seed, n=n, m=4)
    lik[:, 3] = 0.5 * lik[:, 0]
    return lik, freq


def _single(seed):
    lik, freq = _random(seed, m=1)
    return lik, freq


def _identical(seed):
    lik, freq = _random(seed, m=4)
    lik[:, 2] = lik[:, 1]
    return lik, freq


def _normal_means(seed, n=300, m=12):
    # The benchmark problem in small: most grid weights are exactly zero.
    rng = np.random.default_rng(seed)
    z = np.concatenate([rng.normal(size=n // 2), rng.standard_t(4, size=n - n // 2)])
    sd = np.r_[0.0, np.logspace(-1, np.log10(2 * np.sqrt(np.max(z**2) - 1)), m - 1)]
    return _scaled(norm.logpdf(z[:, None], 0, np.sqrt(1 + sd**2))), np.full(n, 1 / n)


PROBLEMS = {
    "random": _random,
    "overlapping": _overlapping,
    "dominated": _dominated,
    "single": _single,
    "identical": _identical,
    "normal_means": _normal_means,
}


def _log_lik(lik, freq, w):
    return float(freq @ np.log(lik @ w))


def _reference(lik, freq):
    """Independent optimum: SLSQP on the simplex, polished by EM."""
    m = lik.shape[1]

    def objective(w):
        mix = np.maximum(lik @ w, 1e-300)
        return -freq @ np.log(mix), -lik.T @ (freq / mix)

    result = minimize(
        objective,
        np.full(m, 1 / m),
        jac=True,
        method="SLSQP",
        bounds=[(0, 1)] * m,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    w = np.clip(result.x, 0, None)
    w /= w.sum()
    return w


def _run(step, lik, freq, start, max_iter=5000, **kwargs):
    """Iterate ``step``; return the final weights and per-iterate records."""
    x = start
    log_liks, gaps, points = [], [], []
    for _ in range(max_iter):
        points.append(x / x.sum())
        x, log_lik, gap = step(lik, freq, x, **kwargs)
        log_liks.append(log_lik)
        gaps.append(gap)
        if gap <= TOL:
            break
    return x / x.sum(), np.array(log_liks), np.array(gaps), points


SOLVERS = {"em": em_step, "squarem": squarem_step, "sqp": sqp_step}


@pytest.fixture(
    scope="module",
    params=[(name, seed) for name in PROBLEMS for seed in (0, 1)],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def solved(request):
    name, seed = request.param
    lik, freq = PROBLEMS[name](seed)
    m = lik.shape[1]
    runs = {}
    for solver, step in SOLVERS.items():
        # EM only gets close to optimal weights that are exactly zero, and
        # slowly: it is the sanity reference, not the subject.
        runs[solver] = _run(
            step,
            lik,
            freq,
            np.full(m, 1 / m),
            max_iter=20000 if solver == "em" else 5000,
        )
    return name, lik, freq, runs


def test_solvers_agree_with_independent_optimum(solved):
    name, lik, freq, runs = solved
    reference = _log_lik(lik, freq, _reference(lik, freq))
    best = max(reference, *(_log_lik(lik, freq, r[0]) for r in runs.values()))
    for solver in ("squarem", "sqp"):
        w, _, gaps, _ = runs[solver]
        assert gaps[-1] <= TOL, (solver, gaps[-1])
        assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-12
        assert best - _log_lik(lik, freq, w) <= 1e-10, solver
    # SLSQP is accurate to about its tolerance, not to the certificate.
    assert best - reference <= 1e-8
    # EM agrees too: it converges on every problem but the normal-means one,
    # where optimal weights at zero without strict complementarity make it
    # sublinear (20000 iterations leave it near 1e-6); there it agrees within
    # the gap it certified.
    w_em, _, gaps_em, _ = runs["em"]
    assert best - _log_lik(lik, freq, w_em) <= max(gaps_em[-1], 1e-10)
    if name != "normal_means":
        assert gaps_em[-1] <= TOL


def test_gap_bound_is_never_below_the_true_gap(solved):
    name, lik, freq, runs = solved
    best = max(_log_lik(lik, freq, r[0]) for r in runs.values())
    for solver, (_, log_liks, gaps, points) in runs.items():
        true_gap = best - np.array([_log_lik(lik, freq, p) for p in points])
        assert np.all(gaps >= true_gap - 1e-13), solver
        # The reported log-likelihood is that of the incoming point.
        assert np.allclose(log_liks, best - true_gap, rtol=0, atol=1e-13)


def test_log_likelihood_never_decreases(solved):
    name, lik, freq, runs = solved
    for solver in ("em", "squarem", "sqp"):
        log_liks = runs[solver][1]
        assert np.all(np.diff(log_liks) >= -1e-14), solver


def test_sqp_exact_zeros_and_kkt(solved):
    name, lik, freq, runs = solved
    w = runs["sqp"][0]
    g = lik.T @ (freq / (lik @ w))
    # KKT of the simplex problem: g_k = 1 on the support, g_k <= 1 off it.
    assert np.all(g <= 1 + 1e-9)
    assert np.allclose(g[w > 0], 1, atol=1e-9)
    if name == "dominated":
        assert w[3] == 0.0
    if name == "normal_means":
        # Most of the grid is not needed; those weights are exactly zero,
        # and each of them satisfies g_k < 1.
        assert np.sum(w == 0) >= lik.shape[1] // 2
    # Every weight the certificate says is not needed (g_k clearly below 1)
    # is exactly zero.
    assert np.all(w[g < 1 - 1e-6] == 0)


def test_squarem_weights_stay_on_simplex(solved):
    name, lik, freq, runs = solved
    for p in runs["squarem"][3]:
        assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12


@pytest.mark.parametrize("step", [squarem_step, sqp_step], ids=["squarem", "sqp"])
def test_zero_start_weight_is_revived(step):
    # EM never revives a zero weight; both accelerated solvers must, when the
    # likelihood asks for the component.
    lik, freq = _random(3, m=4)
    reference = _log_lik(lik, freq, _reference(lik, freq))
    start = np.array([0.0, 1 / 3, 1 / 3, 1 / 3])
    assert em_step(lik, freq, start)[0][0] == 0
    w, log_liks, gaps, _ = _run(step, lik, freq, start)
    assert gaps[-1] <= TOL
    assert w[0] > 0
    assert reference - _log_lik(lik, freq, w) <= 1e-8
    assert np.all(np.diff(log_liks) >= -1e-14)


def test_sqp_unnormalised_start():
    lik, freq = _random(4)
    m = lik.shape[1]
    w1 = _run(sqp_step, lik, freq, np.full(m, 1 / m))[0]
    w2 = _run(sqp_step, lik, freq, np.full(m, 5.0))[0]
    assert abs(_log_lik(lik, freq, w1) - _log_lik(lik, freq, w2)) <= 1e-12


def test_zero_frequency_rows():
    # A row that counts for nothing may get zero likelihood from the weights
    # (here after sqp sets a weight to zero); it must not produce NaN.
    lik, freq = _dominated(5)
    lik = np.vstack([lik, [0.0, 0.0, 0.0, 1.0]])
    freq = np.append(freq, 0.0)
    for step in (squarem_step, sqp_step):
        w, log_liks, gaps, _ = _run(step, lik, freq, np.full(4, 0.25))
        assert np.all(np.isfinite(log_liks)) and gaps[-1] <= TOL
        assert np.all(np.isfinite(w))


def test_low_rank_factor():
    lik, freq = _normal_means(0, n=400, m=30)
    columns, coef = low_rank_factor(lik)
    assert columns.size < lik.shape[1]
    assert np.allclose(coef[:, columns], np.eye(columns.size))
    assert np.abs(lik[:, columns] @ coef - lik).max() < 1e-7
    # The factor only changes the quadratic model: same certified optimum.
    m = lik.shape[1]
    w_exact = _run(sqp_step, lik, freq, np.full(m, 1 / m))[0]
    w_low, _, gaps, _ = _run(
        sqp_step, lik, freq, np.full(m, 1 / m), factor=(columns, coef)
    )
    assert gaps[-1] <= TOL
    assert abs(_log_lik(lik, freq, w_exact) - _log_lik(lik, freq, w_low)) <= 1e-10


def test_low_rank_factor_full_rank():
    lik, _ = _random(6, m=6)
    columns, coef = low_rank_factor(lik)
    assert columns.size == 6
    assert np.allclose(lik[:, columns] @ coef, lik)


# ---------------------------------------------------------------------------
# Many components: the Hessian kept as a factor, covariance on the support
# ---------------------------------------------------------------------------


def _grid_of_bernoulli(n_components, seed=0, n_rows=200, n_features=5):
    """Many Bernoulli components on few binary rows (at most 2**5 patterns)."""
    rng = np.random.default_rng(seed)
    probs = rng.random((n_components, n_features))
    truth = probs[rng.integers(0, n_components, n_rows)]
    X = (rng.random((n_rows, n_features)) < truth).astype(float)
    return probs, X


def _mean_log_lik(probs, X, weights):
    log_lik = X @ np.log(probs).T + (1 - X) @ np.log1p(-probs).T
    top = log_lik.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(log_lik - top) @ weights) + top[:, 0]))


def _loop(step, lik, freq, tol=1e-10, max_iter=200):
    x = np.full(lik.shape[1], 1 / lik.shape[1])
    for _ in range(max_iter):
        x, _, gap = step(lik, freq, x)
        if gap <= tol:
            break
    w = np.clip(x, 0, None)
    return w / w.sum(), gap


def test_factored_hessian_reaches_the_dense_optimum(monkeypatch):
    import sklearn_bernoulli_mix._solvers as solvers

    probs, X = _grid_of_bernoulli(150)
    patterns, counts = np.unique(X, axis=0, return_counts=True)
    log_lik = patterns @ np.log(probs).T + (1 - patterns) @ np.log1p(-probs).T
    lik, freq = _scaled(log_lik), counts / counts.sum()
    w_factored, gap_factored = _loop(sqp_step, lik, freq)
    monkeypatch.setattr(solvers, "_FACTORED_MIN_ROWS_COMPONENTS", 10**9)
    monkeypatch.setattr(solvers, "_FACTORED_MIN_COMPONENTS", 10**9)
    w_dense, gap_dense = _loop(sqp_step, lik, freq)
    assert gap_factored <= 1e-10 and gap_dense <= 1e-10
    # The maximum is not unique (150 components, 32 patterns): compare the
    # objective, and the fitted distribution of the rows (lik @ w is unique).
    f_factored = freq @ np.log(lik @ w_factored)
    f_dense = freq @ np.log(lik @ w_dense)
    assert abs(f_factored - f_dense) <= 2e-10
    np.testing.assert_allclose(lik @ w_factored, lik @ w_dense, rtol=1e-4)


def test_sqp_on_ten_thousand_components_never_forms_the_dense_hessian(monkeypatch):
    import sklearn_bernoulli_mix._solvers as solvers
    from sklearn_bernoulli_mix import FixedComponentMixture

    def refuse(*args, **kwargs):
        raise AssertionError("the dense active-set QP ran")

    eigh_sizes = []
    real_eigh = np.linalg.eigh

    def recording_eigh(a, *args, **kwargs):
        eigh_sizes.append(a.shape[0])
        return real_eigh(a, *args, **kwargs)

    monkeypatch.setattr(solvers, "_nonnegative_qp", refuse)
    monkeypatch.setattr(solvers.np.linalg, "eigh", recording_eigh)
    probs, X = _grid_of_bernoulli(10_000)
    with warnings.catch_warnings():
        # 33 components of nonzero weight on 32 distinct rows: the weights
        # of the support are not identifiable, which is warned about.
        warnings.simplefilter("ignore", NonIdentifiableWarning)
        mix = FixedComponentMixture(probs, solver="sqp").fit(X)
    assert mix.converged_ and mix.gap_bound_ <= mix.tol
    # The certificate: no weights do better by more than the gap. Check it
    # against EM iterated from the sqp answer, which can only go up.
    w = mix.weights_
    ours = _mean_log_lik(probs, X, w)
    np.testing.assert_allclose(mix.lower_bound_, ours, rtol=0, atol=1e-8)
    patterns, counts = np.unique(X, axis=0, return_counts=True)
    log_lik = patterns @ np.log(probs).T + (1 - patterns) @ np.log1p(-probs).T
    lik, freq = _scaled(log_lik), counts / counts.sum()
    x = np.full(probs.shape[0], 1 / probs.shape[0])
    for _ in range(300):
        x = em_step(lik, freq, x)[0]
    assert _mean_log_lik(probs, X, x) <= ours + mix.tol
    # Standard errors only on the support, which has at most ~33 members.
    support = np.flatnonzero(w > 0)
    assert support.size <= 2 * 32
    assert max(eigh_sizes, default=0) < support.size
    zero = np.flatnonzero(w == 0)
    np.testing.assert_array_equal(mix.weights_stderr_[zero], 0.0)


def test_covariance_on_the_support_matches_an_independent_computation():
    from sklearn_bernoulli_mix import FixedComponentMixture

    # 200 candidate components on 32 distinct rows: more components than
    # rows, so the covariance is that of the weights on the support.
    probs, X = _grid_of_bernoulli(200, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonIdentifiableWarning)
        mix = FixedComponentMixture(probs, solver="sqp").fit(X)
    support = np.flatnonzero(mix.weights_ > 0)
    assert 1 < support.size < 32
    # Inverse observed information of the support's free proportions (the
    # last one dropped), summed over the rows of X, in the test's own terms.
    p = probs[support]
    lik = np.exp(X @ np.log(p).T + (1 - X) @ np.log1p(-p).T)
    w = mix.weights_[support]
    d = (lik[:, :-1] - lik[:, [-1]]) / (lik @ w)[:, None]
    inv = np.linalg.inv(d.T @ d)
    jac = np.vstack([np.eye(support.size - 1), -np.ones((1, support.size - 1))])
    expected = np.zeros((200, 200))
    expected[np.ix_(support, support)] = jac @ inv @ jac.T
    scale = np.abs(expected).max()
    np.testing.assert_allclose(
        mix.weights_covariance_, expected, rtol=1e-6, atol=1e-9 * scale
    )
    np.testing.assert_allclose(
        mix.weights_stderr_, np.sqrt(np.diag(expected)), rtol=1e-5, atol=1e-9
    )


def test_few_components_keep_the_full_information_at_the_boundary():
    from sklearn_bernoulli_mix import FixedComponentMixture

    # 28% red is below both factories' rates: the weight of Factory 1 is 0.
    # With two components the information of the free proportion counts
    # every marble: d_i = (lik_i0 - lik_i1) / lik_i1 at weights (0, 1).
    bag = np.array([[1]] * 280 + [[0]] * 720, dtype=float)
    mix = FixedComponentMixture([[0.8], [0.3]], solver="sqp").fit(bag)
    assert mix.weights_[0] == 0.0
    red = bag[:, 0]
    d = np.where(red == 1, 0.8 / 0.3 - 1, 0.2 / 0.7 - 1)
    se = 1 / np.sqrt(np.sum(d * d))
    np.testing.assert_allclose(mix.weights_stderr_, [se, se], rtol=1e-6)


def test_more_free_weights_than_rows_is_singular_without_eigh(monkeypatch):
    import sklearn_bernoulli_mix._solvers as solvers

    def refuse(*args, **kwargs):
        raise AssertionError("eigh ran on an information matrix known singular")

    monkeypatch.setattr(solvers.np.linalg, "eigh", refuse)
    lik, _ = _random(0, n=5, m=40)
    weights = np.full(40, 1 / 40)
    cov, identifiable = solvers.weights_covariance(lik, np.ones(5), weights)
    assert not identifiable and np.all(np.isnan(cov))


def test_many_rows_and_components_use_the_internal_low_rank_factor(monkeypatch):
    import sklearn_bernoulli_mix._solvers as solvers

    # The normal-means problem on a fine grid of 260 scales: many rows and
    # a likelihood matrix of small numerical rank.
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.standard_normal(600), 3 * rng.standard_t(4, 200)])
    sd = np.r_[0.0, np.logspace(-1, np.log10(2 * np.sqrt(np.max(z**2))), 259)]
    lik = _scaled(norm.logpdf(z[:, None], 0.0, np.sqrt(1 + sd**2)))
    freq = np.full(z.size, 1 / z.size)
    calls = []
    real = solvers.low_rank_factor

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(solvers, "low_rank_factor", counting)
    w_factored, gap = _loop(sqp_step, lik, freq, tol=1e-9)
    assert calls and gap <= 1e-9
    monkeypatch.setattr(solvers, "_FACTORED_MIN_COMPONENTS", 10**9)
    w_dense, gap_dense = _loop(sqp_step, lik, freq, tol=1e-9)
    assert gap_dense <= 1e-9
    assert abs(freq @ np.log(lik @ w_factored) - freq @ np.log(lik @ w_dense)) <= 2e-9


def test_factored_path_with_identical_components_reaches_the_same_maximum():
    from sklearn_bernoulli_mix import FixedComponentMixture

    # 10 distinct components, each repeated 12 times: 120 components, whose
    # factored Hessian is singular along every repeat. The maximum is that
    # of the 10 distinct ones, and the repeats share each one's weight.
    probs, X = _grid_of_bernoulli(10, seed=5)
    repeated = np.repeat(probs, 12, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonIdentifiableWarning)
        many = FixedComponentMixture(repeated, solver="sqp").fit(X)
    few = FixedComponentMixture(probs, solver="sqp").fit(X)
    assert many.converged_ and few.converged_
    assert abs(many.lower_bound_ - few.lower_bound_) <= 2 * many.tol
    np.testing.assert_allclose(
        many.weights_.reshape(10, 12).sum(axis=1), few.weights_, atol=1e-4
    )
