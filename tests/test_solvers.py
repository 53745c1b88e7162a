"""Tests of the mixing-weight solvers in sklearn_bernoulli_mix._solvers.

Each solver is iterated on small problems until its certified gap is tiny,
and checked against an independent optimiser (SLSQP on the simplex), against
the others, and against its own certificate at every iterate.
"""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import norm

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
