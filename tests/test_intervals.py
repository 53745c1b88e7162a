"""Profile-likelihood, Wald and bootstrap intervals of the mixing weights."""

import numpy as np
import pytest
from scipy import optimize, stats

from sklearn_bernoulli_mix import FixedComponentMixture

# Two factories make red (1) and blue (0) marbles, 80% and 30% red.
FACTORIES = [[0.8], [0.3]]
RED = np.array([0.8, 0.3])


def bag(n_red, n_blue):
    return np.array([[1]] * n_red + [[0]] * n_blue)


def reference_profile_bounds_1d(n_red, n_blue, level=0.95):
    """Interval of factory 1's weight by root finding on the binomial log-lik.

    With two components the weight of factory 1 fixes everything, so the
    profile log-likelihood is the log-likelihood itself.
    """

    def log_lik(w):
        p_red = w * RED[0] + (1 - w) * RED[1]
        return n_red * np.log(p_red) + n_blue * np.log1p(-p_red)

    res = optimize.minimize_scalar(
        lambda w: -log_lik(w), bounds=(0, 1), method="bounded", options={"xatol": 1e-12}
    )
    w_hat = res.x
    best = max(log_lik(w_hat), log_lik(0.0), log_lik(1.0))
    w_hat = [w_hat, 0.0, 1.0][np.argmax([log_lik(w_hat), log_lik(0.0), log_lik(1.0)])]
    cut = best - stats.chi2.ppf(level, 1) / 2

    def excess(w):
        return log_lik(w) - cut

    lower = 0.0 if excess(0.0) >= 0 else optimize.brentq(excess, 0.0, w_hat, xtol=1e-13)
    upper = 1.0 if excess(1.0) >= 0 else optimize.brentq(excess, w_hat, 1.0, xtol=1e-13)
    return lower, upper


@pytest.mark.parametrize(
    "n_red, n_blue",
    [(60, 40), (25, 75), (31, 69), (79, 21), (500, 500), (3, 2), (90, 10)],
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_profile_matches_independent_root_finding_two_factories(n_red, n_blue, level):
    mix = FixedComponentMixture(components=FACTORIES).fit(bag(n_red, n_blue))
    bounds = mix.weights_interval(level=level)
    lower, upper = reference_profile_bounds_1d(n_red, n_blue, level)
    np.testing.assert_allclose(bounds[0], [lower, upper], atol=1e-7)
    # The weights sum to one, so factory 2's interval mirrors factory 1's.
    np.testing.assert_allclose(bounds[1], [1 - upper, 1 - lower], atol=1e-7)
    assert np.all(bounds >= 0) and np.all(bounds <= 1)
    assert np.all(bounds[:, 0] <= mix.weights_ + 1e-9)
    assert np.all(mix.weights_ <= bounds[:, 1] + 1e-9)


def test_profile_three_components_matches_nested_scalar_optimisation():
    # Three normal components; the profile of w_k at t maximises over the
    # split s of the remaining 1 - t between the two others (1-D, bounded).
    rng = np.random.RandomState(3)
    comps = [stats.norm(-2, 1), stats.norm(0, 1), stats.norm(1.5, 1)]
    truth = np.array([0.05, 0.55, 0.4])
    z = rng.choice(3, size=300, p=truth)
    X = np.array([comps[k].rvs(random_state=rng) for k in z]).reshape(-1, 1)
    dens = np.column_stack([c.pdf(X[:, 0]) for c in comps])
    mix = FixedComponentMixture(components=comps).fit(X)
    bounds = mix.weights_interval(level=0.95)

    def total(w):
        return np.sum(np.log(dens @ w))

    best = -optimize.minimize(
        lambda v: (
            -total(np.append(v, 1 - v.sum()))
            if v.min() >= 0 and v.sum() <= 1
            else np.inf
        ),
        mix.weights_[:2],
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 5000},
    ).fun
    best = max(best, total(mix.weights_))
    cut = best - stats.chi2.ppf(0.95, 1) / 2
    for k in range(3):
        i, j = np.delete(np.arange(3), k)

        def profile(t, k=k, i=i, j=j):
            def neg(s):
                w = np.zeros(3)
                w[k], w[i], w[j] = t, (1 - t) * s, (1 - t) * (1 - s)
                return -total(w)

            res = optimize.minimize_scalar(
                neg, bounds=(0, 1), method="bounded", options={"xatol": 1e-12}
            )
            return -min(res.fun, neg(0.0), neg(1.0)) - cut

        w_k = mix.weights_[k]
        lower = 0.0 if profile(0.0) >= 0 else optimize.brentq(profile, 0.0, w_k)
        upper = 1.0 if profile(1.0) >= 0 else optimize.brentq(profile, w_k, 1.0)
        np.testing.assert_allclose(bounds[k], [lower, upper], atol=1e-6)


def test_profile_on_collapsed_bernoulli_rows_matches_expanded_precomputed():
    # The same data as Bernoulli rows (collapsed to distinct patterns) and
    # as its precomputed log-likelihood matrix (one row per sample).
    rng = np.random.RandomState(0)
    probs = np.array([[0.9, 0.2, 0.6], [0.2, 0.7, 0.5], [0.5, 0.5, 0.1]])
    z = rng.choice(3, size=400, p=[0.6, 0.4, 0.0])
    X = (rng.random_sample((400, 3)) < probs[z]).astype(float)
    a = FixedComponentMixture(components=probs).fit(X)
    log_lik = X @ np.log(probs).T + (1 - X) @ np.log1p(-probs).T
    b = FixedComponentMixture(components="precomputed").fit(log_lik)
    np.testing.assert_allclose(a.weights_interval(), b.weights_interval(), atol=1e-7)


def _coverage(true_w, n_bags, n_marbles, seed):
    rng = np.random.RandomState(seed)
    p_red = true_w * RED[0] + (1 - true_w) * RED[1]
    reds = rng.binomial(n_marbles, p_red, size=n_bags)
    profile_hits, wald_hits, wald_outside, profile_inside = 0, 0, 0, True
    for n_red in reds:
        X = np.array([[1], [0]])
        mix = FixedComponentMixture(components=FACTORIES).fit(
            X, sample_weight=[n_red, n_marbles - n_red]
        )
        prof = mix.weights_interval()[0]
        wald = mix.weights_interval(method="wald")[0]
        profile_hits += prof[0] <= true_w <= prof[1]
        wald_hits += wald[0] <= true_w <= wald[1]
        wald_outside += wald[0] < 0 or wald[1] > 1
        profile_inside &= bool(0 <= prof[0] and prof[1] <= 1)
    return profile_hits / n_bags, wald_hits / n_bags, wald_outside, profile_inside


def test_profile_coverage_interior_and_boundary(record_property):
    # 400 bags of 150 marbles each, factory 1's share 0.4 (interior) or 0
    # (the bags hold no factory-1 marbles). At the boundary the likelihood
    # ratio is 0 in about half of the bags, so the profile covers at the
    # rate 1/2 + 1/2 * 0.95 = 0.975 asymptotically.
    interior, wald_interior, _, inside = _coverage(0.4, 400, 150, seed=0)
    boundary, wald_boundary, wald_outside, inside_b = _coverage(0.0, 400, 150, seed=1)
    record_property("profile_coverage_interior", interior)
    record_property("wald_coverage_interior", wald_interior)
    record_property("profile_coverage_boundary", boundary)
    record_property("wald_coverage_boundary", wald_boundary)
    print(
        f"coverage of 0.95 intervals on 400 bags: interior profile {interior:.4f}, "
        f"Wald {wald_interior:.4f}; boundary profile {boundary:.4f}, "
        f"Wald {wald_boundary:.4f} (Wald left [0, 1] in {wald_outside} bags)"
    )
    assert 0.93 <= interior <= 0.975
    assert boundary >= 0.95
    assert inside and inside_b
    # Every bag whose estimate is exactly 0 has a Wald interval below zero.
    assert wald_outside > 0


def test_wald_is_estimate_plus_minus_z_stderr():
    mix = FixedComponentMixture(components=FACTORIES).fit(bag(60, 40))
    z = stats.norm.ppf(0.975)
    expected = np.column_stack(
        [mix.weights_ - z * mix.weights_stderr_, mix.weights_ + z * mix.weights_stderr_]
    )
    np.testing.assert_allclose(mix.weights_interval(method="wald"), expected)
    # The profile and Wald intervals agree in the interior for a large bag.
    big = FixedComponentMixture(components=FACTORIES).fit(bag(6000, 4000))
    np.testing.assert_allclose(
        big.weights_interval(), big.weights_interval(method="wald"), atol=2e-3
    )


def test_bootstrap_interval_reproducible_independent_of_n_jobs():
    mix = FixedComponentMixture(components=FACTORIES).fit(bag(600, 400))
    a = mix.weights_interval(method="bootstrap", n_resamples=300, random_state=0)
    b = mix.weights_interval(
        method="bootstrap", n_resamples=300, random_state=0, n_jobs=2
    )
    np.testing.assert_array_equal(a, b)
    # For 1000 marbles in the interior, the percentile interval is close to
    # the profile interval (both approximate the same sampling distribution).
    np.testing.assert_allclose(a, mix.weights_interval(), atol=0.02)
    assert a[0, 0] < mix.weights_[0] < a[0, 1]


def test_bootstrap_matches_closed_form_resampling():
    # With two components, the refitted weight of a resample is the clipped
    # moment estimate (red share - 0.3) / 0.5, so its percentiles can be
    # computed from the same multinomial draws.
    mix = FixedComponentMixture(components=FACTORIES).fit(bag(60, 40))
    got = mix.weights_interval(method="bootstrap", n_resamples=500, random_state=7)
    rng = np.random.RandomState(7)
    _, counts, _ = mix._interval_data_
    draws = rng.multinomial(100, counts / counts.sum(), size=500)
    # Rows of the collapsed problem are ordered as in _interval_data_.
    lik = mix._interval_data_[0]
    red_row = int(np.argmax(lik[:, 0] / lik[:, 1]))
    share = draws[:, red_row] / 100
    w1 = np.clip((share - 0.3) / 0.5, 0, 1)
    expected = np.quantile(w1, [0.025, 0.975])
    np.testing.assert_allclose(got[0], expected, atol=1e-7)


def test_levels_are_nested():
    mix = FixedComponentMixture(components=FACTORIES).fit(bag(40, 60))
    narrow = mix.weights_interval(level=0.8)
    wide = mix.weights_interval(level=0.99)
    assert np.all(wide[:, 0] <= narrow[:, 0]) and np.all(narrow[:, 1] <= wide[:, 1])


def test_one_component_interval_is_one():
    mix = FixedComponentMixture(components=[[0.5]]).fit(bag(3, 4))
    np.testing.assert_array_equal(mix.weights_interval(), [[1.0, 1.0]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"level": 1.0}, "level must be a number in \\(0, 1\\)"),
        ({"level": "0.9"}, "level must be"),
        ({"method": "bayes"}, "method must be one of"),
        ({"method": "bootstrap", "n_resamples": 0}, "n_resamples must be"),
        ({"method": "bootstrap", "random_state": "x"}, "random_state must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    mix = FixedComponentMixture(components=FACTORIES).fit(bag(6, 4))
    with pytest.raises(ValueError, match=match):
        mix.weights_interval(**kwargs)


def test_unfitted_and_after_partial_fit():
    from sklearn.exceptions import NotFittedError

    mix = FixedComponentMixture(components=FACTORIES)
    with pytest.raises(NotFittedError):
        mix.weights_interval()
    mix.fit(bag(6, 4))
    mix.partial_fit(bag(1, 9))
    with pytest.raises(ValueError, match="partial_fit"):
        mix.weights_interval()
    # Wald only needs the standard errors; partial_fit makes them NaN.
    assert np.all(np.isnan(mix.weights_interval(method="wald")))
    mix.fit(bag(6, 4))
    assert np.all(np.isfinite(mix.weights_interval()))
