"""Choosing the number of classes: criteria, BLRT, residuals and reports."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    _selection,
    bivariate_residuals,
    bootstrap_lrt,
    plot_criteria,
    select_n_components,
    standard_errors,
    summary,
    summary_frames,
)

W3 = np.array([0.4, 0.35, 0.25])
M3 = np.array(
    [
        [0.85, 0.85, 0.85, 0.15, 0.15, 0.15],
        [0.15, 0.15, 0.85, 0.85, 0.85, 0.15],
        [0.85, 0.15, 0.15, 0.15, 0.85, 0.85],
    ]
)


def simulate(rng, n, w=W3, means=M3):
    z = rng.choice(w.size, size=n, p=w)
    return (rng.random_sample((n, means.shape[1])) < means[z]).astype(float), z


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X, _ = simulate(rng, 500)
    X[rng.random_sample(X.shape) < 0.05] = np.nan
    sw = rng.randint(1, 4, X.shape[0]).astype(float)
    mix = BernoulliMixture(3, n_init=3, random_state=0).fit(X, sample_weight=sw)
    return mix, X, sw


def reference_log_lik(mix, X):
    """Row log-likelihoods written from the model, NaN entries skipped."""
    seen = ~np.isnan(X)
    x = np.where(seen, X, 0)
    log_f = np.stack(
        [
            (seen * (x * np.log(m) + (1 - x) * np.log1p(-m))).sum(axis=1)
            for m in mix.means_
        ],
        axis=1,
    )
    joint = log_f + np.log(mix.weights_)
    return logsumexp(joint, axis=1), np.exp(joint - logsumexp(joint, axis=1)[:, None])


@pytest.mark.parametrize("weighted", [False, True])
def test_criteria_match_their_formulas(fitted, weighted):
    mix, X, sw = fitted
    sw = sw if weighted else None
    weights = np.ones(X.shape[0]) if sw is None else sw
    log_lik_rows, resp = reference_log_lik(mix, X)
    log_lik = weights @ log_lik_rows
    n = weights.sum()
    p = 3 * 6 + 2
    np.testing.assert_allclose(mix.aic(X, sw), -2 * log_lik + 2 * p)
    np.testing.assert_allclose(mix.bic(X, sw), -2 * log_lik + p * np.log(n))
    np.testing.assert_allclose(
        mix.sabic(X, sw), -2 * log_lik + p * np.log((n + 2) / 24)
    )
    np.testing.assert_allclose(mix.caic(X, sw), -2 * log_lik + p * (np.log(n) + 1))
    ent = -(weights[:, None] * resp * np.log(resp)).sum()
    np.testing.assert_allclose(mix.entropy(X, sw), 1 - ent / (n * np.log(3)))
    labels = resp.argmax(axis=1)
    expected = [
        np.average(resp[labels == k, k], weights=weights[labels == k]) for k in range(3)
    ]
    np.testing.assert_allclose(mix.average_posterior(X, sw), expected)


def test_integer_weights_are_repeated_rows(fitted):
    mix, X, sw = fitted
    repeated = np.repeat(X, sw.astype(int), axis=0)
    for name in ("aic", "bic", "sabic", "caic", "entropy", "average_posterior"):
        np.testing.assert_allclose(
            getattr(mix, name)(X, sample_weight=sw),
            getattr(mix, name)(repeated),
            err_msg=name,
        )


def test_entropy_limits():
    X = np.array([[1.0, 1.0], [0.0, 0.0]] * 50)
    one = BernoulliMixture(1).fit(X)
    assert np.isnan(one.entropy(X))
    sharp = BernoulliMixture(
        2, alpha=0, weights_init=[0.5, 0.5], means_init=[[1.0, 1.0], [0.0, 0.0]]
    ).fit(X)
    assert sharp.entropy(X) > 0.999
    np.testing.assert_allclose(sharp.average_posterior(X), [1.0, 1.0])


def test_blrt_rejects_too_few_classes_and_not_the_true_number():
    est = BernoulliMixture(init_params="random_from_data", tol=1e-4, max_iter=200)
    reject_2, reject_3 = 0, 0
    for rep in range(20):
        rng = np.random.RandomState(rep)
        X, _ = simulate(rng, 400)
        two_three = bootstrap_lrt(
            est, X, n_components=3, n_bootstrap=39, n_init=4, random_state=rep
        )
        three_four = bootstrap_lrt(
            est, X, n_components=4, n_bootstrap=39, n_init=4, random_state=rep
        )
        reject_2 += two_three.p_value < 0.05
        reject_3 += three_four.p_value < 0.05
    assert reject_2 >= 18
    assert reject_3 <= 4


def test_blrt_result_is_consistent():
    rng = np.random.RandomState(1)
    X, _ = simulate(rng, 300)
    est = BernoulliMixture(n_components=3, init_params="random_from_data")
    res = bootstrap_lrt(est, X, n_bootstrap=9, n_init=2, random_state=0)
    assert res.n_components == 3 and res.null_distribution.shape == (9,)
    np.testing.assert_allclose(
        res.statistic,
        2 * (res.log_likelihood_alternative - res.log_likelihood_null),
    )
    exceed = np.sum(res.null_distribution >= res.statistic)
    assert res.p_value == (1 + exceed) / 10
    np.testing.assert_allclose(
        res.p_value_stderr, np.sqrt(res.p_value * (1 - res.p_value) / 9)
    )
    assert np.all(res.null_distribution >= 0)
    assert 0 <= res.n_unconverged <= 2 * 9
    # Same seed, same answer, also with parallel refits.
    again = bootstrap_lrt(est, X, n_bootstrap=9, n_init=2, random_state=0, n_jobs=2)
    np.testing.assert_allclose(again.null_distribution, res.null_distribution)
    assert est.get_params()["n_components"] == 3 and not hasattr(est, "weights_")


def test_blrt_bad_input():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="n_components must be >= 2"):
        bootstrap_lrt(BernoulliMixture(), X)
    with pytest.raises(TypeError, match="n_bootstrap"):
        bootstrap_lrt(BernoulliMixture(2), X, n_bootstrap=1.5)


def test_select_n_components_table():
    rng = np.random.RandomState(2)
    X, _ = simulate(rng, 600)
    est = BernoulliMixture(init_params="random_from_data", n_init=3)
    table, fits = select_n_components(
        est,
        X,
        range(1, 5),
        blrt=True,
        n_bootstrap=19,
        random_state=0,
        return_estimators=True,
    )
    assert list(table.index) == [1, 2, 3, 4]
    assert int(table["bic"].idxmin()) == 3
    for k, row in table.iterrows():
        fit = fits[k]
        log_lik = fit.score_samples(X).sum()
        np.testing.assert_allclose(row["log_likelihood"], log_lik)
        assert row["n_parameters"] == k * 6 + k - 1
        np.testing.assert_allclose(row["bic"], fit.bic(X))
        np.testing.assert_allclose(row["sabic"], fit.sabic(X))
        np.testing.assert_allclose(row["caic"], fit.caic(X))
        np.testing.assert_allclose(row["aic"], fit.aic(X))
        np.testing.assert_allclose(row["smallest_class"], fit.weights_.min())
        if k > 1:
            np.testing.assert_allclose(row["entropy"], fit.entropy(X))
    assert np.isnan(table.loc[1, "blrt_p_value"])
    assert table.loc[2, "blrt_p_value"] == table.loc[3, "blrt_p_value"] == 0.05
    assert table.loc[4, "blrt_p_value"] > 0.05


def test_select_n_components_without_pandas(monkeypatch):
    rng = np.random.RandomState(3)
    X, _ = simulate(rng, 200)

    def no_pandas():
        raise ImportError("No module named 'pandas'")

    monkeypatch.setattr(_selection, "_import_pandas", no_pandas)
    table = select_n_components(BernoulliMixture(), X, [2, 1], random_state=0)
    assert isinstance(table, dict)
    np.testing.assert_array_equal(table["n_components"], [1, 2])
    np.testing.assert_array_equal(table["n_parameters"], [6, 13])


def test_select_n_components_bad_input():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="empty"):
        select_n_components(BernoulliMixture(), X, [])
    with pytest.raises(ValueError, match="repeated"):
        select_n_components(BernoulliMixture(), X, [1, 1])
    with pytest.raises(ValueError, match="sample_weight"):
        select_n_components(
            BernoulliMixture(), X, [1, 2], blrt=True, sample_weight=np.ones(10)
        )


def test_plot_criteria():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    table = {
        "n_components": np.array([1, 2, 3]),
        "aic": np.array([3.0, 1.0, 2.0]),
        "bic": np.array([3.0, 2.0, 1.0]),
    }
    ax = plot_criteria(table, criteria=("aic", "bic"))
    lines = ax.get_lines()
    assert len(lines) == 4  # a curve and its minimum for each criterion
    np.testing.assert_array_equal(lines[1].get_xdata(), [2])
    np.testing.assert_array_equal(lines[3].get_xdata(), [3])


# -- bivariate residuals ---------------------------------------------------


def reference_bvr(weights, probs, X, j, m):
    """Pearson X^2 / df of items j, m, with loops over categories."""
    both = ~np.isnan(X[:, j]) & ~np.isnan(X[:, m])
    n = both.sum()
    cj, cm = probs[j].shape[1], probs[m].shape[1]
    stat = 0.0
    for a in range(cj):
        for b in range(cm):
            observed = np.sum(both & (X[:, j] == a) & (X[:, m] == b))
            expected = n * np.sum(weights * probs[j][:, a] * probs[m][:, b])
            stat += (observed - expected) ** 2 / expected
    return stat / ((cj - 1) * (cm - 1))


def test_bivariate_residuals_formula_and_local_dependence():
    rng = np.random.RandomState(4)
    X, z = simulate(rng, 2000)
    mix = BernoulliMixture(3, alpha=0, tol=1e-8, weights_init=W3, means_init=M3).fit(X)
    bvr = bivariate_residuals(mix, X)
    assert np.all(np.isnan(np.diag(bvr)))
    np.testing.assert_allclose(bvr, bvr.T)
    off = bvr[~np.eye(6, dtype=bool)]
    # Under the model the residuals are chi-square(1)-sized or smaller.
    assert off.mean() < 1.5 and off.max() < 6
    probs = [np.column_stack([1 - m, m]) for m in mix.means_.T]
    np.testing.assert_allclose(bvr[0, 1], reference_bvr(mix.weights_, probs, X, 0, 1))

    # With twelve items pinning the classes, item 5 copies item 4 for 70% of
    # the members of class 0.
    means = np.hstack([M3, M3[:, ::-1]])
    X, z = simulate(rng, 2000, W3, means)
    copy = (rng.random_sample(2000) < 0.7) & (z == 0)
    X[copy, 5] = X[copy, 4]
    mixd = BernoulliMixture(3, alpha=0, weights_init=W3, means_init=means).fit(X)
    bvr_d = bivariate_residuals(mixd, X)
    assert bvr_d[4, 5] > 20
    others = bvr_d.copy()
    others[[4, 5], [5, 4]] = np.nan
    assert np.nanmax(others) < 6


class _CategoricalFit:
    """A fitted categorical mixture as the residuals see one."""

    def __init__(self, weights, category_probs):
        self.weights_ = weights
        self.category_probs_ = category_probs

    def __sklearn_is_fitted__(self):
        return True


def test_bivariate_residuals_of_a_categorical_model():
    rng = np.random.RandomState(5)
    weights = np.array([0.6, 0.4])
    probs = [
        np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
        np.array([[0.8, 0.2], [0.3, 0.7]]),
        np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.1, 0.3, 0.5]]),
    ]
    z = rng.choice(2, size=800, p=weights)
    X = np.column_stack(
        [(rng.random_sample((800, 1)) > np.cumsum(p[z], axis=1)).sum(1) for p in probs]
    ).astype(float)
    X[rng.random_sample(X.shape) < 0.1] = np.nan
    bvr = bivariate_residuals(_CategoricalFit(weights, probs), X)
    for j, m in [(0, 1), (0, 2), (1, 2)]:
        np.testing.assert_allclose(bvr[j, m], reference_bvr(weights, probs, X, j, m))
    # Two-category items give the Bernoulli model's residuals.
    Xb = (rng.random_sample((300, 3)) < 0.4).astype(float)
    mix = BernoulliMixture(2, random_state=0).fit(Xb)
    as_cat = _CategoricalFit(
        mix.weights_, [np.column_stack([1 - m, m]) for m in mix.means_.T]
    )
    np.testing.assert_allclose(
        bivariate_residuals(as_cat, Xb), bivariate_residuals(mix, Xb)
    )


def test_bivariate_residuals_bad_input():
    mix = BernoulliMixture().fit(np.eye(3))
    with pytest.raises(TypeError, match="means_"):
        bivariate_residuals(_CategoricalFit.__new__(_CategoricalFit), np.eye(3))
    with pytest.raises(ValueError, match="features"):
        bivariate_residuals(mix, np.eye(4))


# -- reports ---------------------------------------------------------------


def test_summary_frames_hold_the_parameters_and_errors(fitted):
    mix, X, sw = fitted
    frames = summary_frames(mix, X, sample_weight=sw)
    se = standard_errors(mix, X, sw)
    np.testing.assert_allclose(frames["classes"]["weight"], mix.weights_)
    np.testing.assert_allclose(frames["classes"]["stderr"], se.weights_stderr)
    np.testing.assert_allclose(
        frames["classes"]["average_posterior"], mix.average_posterior(X, sw)
    )
    items = frames["items"]
    np.testing.assert_allclose(items["probability"].to_numpy(), mix.means_.ravel())
    np.testing.assert_allclose(items["stderr"].to_numpy(), se.means_stderr.ravel())
    fit = frames["fit"].iloc[0]
    np.testing.assert_allclose(fit["bic"], mix.bic(X, sw))
    np.testing.assert_allclose(fit["sabic"], mix.sabic(X, sw))
    np.testing.assert_allclose(fit["entropy"], mix.entropy(X, sw))
    assert fit["n"] == sw.sum()


def test_summary_keeps_the_item_order():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(6)
    X, _ = simulate(rng, 300)
    names = ["zeta", "alpha", "mu", "beta", "omega", "kappa"]
    mix = BernoulliMixture(3, n_init=2, random_state=0).fit(
        pd.DataFrame(X, columns=names)
    )
    lines = summary(mix).splitlines()
    rows = [
        line.split()[0]
        for line in lines
        if line.split()[:1] and line.split()[0] in names
    ]
    assert rows == names
    frames = summary_frames(mix)
    assert list(frames["items"].index.get_level_values("item")[:6]) == names


def test_summary_text(fitted):
    mix, X, sw = fitted
    text = summary(mix, X, sample_weight=sw)
    assert f"BIC             {mix.bic(X, sw):.3f}" in text
    assert f"{mix.means_[1, 2]:.4f} (" in text
    # Without data: no criteria; the standard errors are those of the fit.
    bare = summary(mix)
    assert "BIC" not in bare
    assert ("standard errors" in bare) == bool(np.isfinite(mix.means_stderr_).any())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary(mix, X, se_method=None)


class _CategoricalModel(_CategoricalFit):
    """A fitted categorical mixture with the predictions the reports use."""

    alpha = 0.0

    def _log_joint(self, X):
        X = np.asarray(X, dtype=float)
        log_f = np.zeros((X.shape[0], self.weights_.size))
        for j, p in enumerate(self.category_probs_):
            seen = ~np.isnan(X[:, j])
            codes = np.where(seen, X[:, j], 0).astype(int)
            log_f += np.where(seen[:, None], np.log(p[:, codes].T), 0.0)
        return log_f + np.log(self.weights_)

    def score_samples(self, X):
        return logsumexp(self._log_joint(X), axis=1)

    def predict_proba(self, X):
        joint = self._log_joint(X)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

    def _n_parameters(self):
        return (
            self.weights_.size
            - 1
            + sum(p.shape[0] * (p.shape[1] - 1) for p in self.category_probs_)
        )


def test_reports_of_a_categorical_model():
    from sklearn_bernoulli_mix import categorical_standard_errors

    rng = np.random.RandomState(7)
    weights = np.array([0.6, 0.4])
    probs = [
        np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
        np.array([[0.8, 0.2], [0.3, 0.7]]),
        np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7]]),
    ]
    z = rng.choice(2, size=600, p=weights)
    X = np.column_stack(
        [(rng.random_sample((600, 1)) > np.cumsum(p[z], axis=1)).sum(1) for p in probs]
    ).astype(float)
    model = _CategoricalModel(weights, probs)
    se = standard_errors(model, X)
    direct = categorical_standard_errors(X, None, weights, probs)
    for a, b in zip(se.category_probs_stderr, direct.category_probs_stderr):
        np.testing.assert_allclose(a, b)
    frames = summary_frames(model, X)
    items = frames["items"]
    assert len(items) == 2 * (3 + 2 + 3)  # every category of every item
    np.testing.assert_allclose(
        items.loc[(1, "item 2", 2), "probability"], probs[2][1, 2]
    )
    np.testing.assert_allclose(
        items.loc[(1, "item 2", 2), "stderr"], se.category_probs_stderr[2][1, 2]
    )
    ll = model.score_samples(X).sum()
    np.testing.assert_allclose(frames["fit"].loc[0, "bic"], -2 * ll + 11 * np.log(600))
    text = summary(model, X)
    assert "_CategoricalModel, 2 classes, 3 items" in text
    assert "P(item = 1 | class)" not in text
