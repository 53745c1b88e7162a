"""Standard errors of the learned mixtures against independent computations.

The references here are written from the model's definition only: the
observed-data log-likelihood in the logit parameterisation, differentiated
by finite differences (per-row scores and the Hessian), the binomial
standard errors of a one-class model, and the coverage of Wald intervals on
simulated data.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logsumexp

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    NonIdentifiableWarning,
    bernoulli_standard_errors,
    categorical_standard_errors,
    standard_errors,
)
from sklearn_bernoulli_mix._inference import (
    _bernoulli_blocks,
    _categorical_blocks,
    _information,
    _Layout,
    _Parameterisation,
)

# -- the reference log-likelihoods, written from the model -----------------


def _softmax(z):
    return np.exp(z - logsumexp(z))


def bernoulli_row_loglik(theta, X, n_components):
    """log p(x_i) in the documented order: weight logits, then logit(means)."""
    d = X.shape[1]
    w = _softmax(np.concatenate([[0.0], theta[: n_components - 1]]))
    p = expit(theta[n_components - 1 :].reshape(n_components, d))
    seen = ~np.isnan(X)
    x = np.where(seen, X, 0.0)
    log_f = np.stack(
        [
            (seen * (x * np.log(p[k]) + (1 - x) * np.log1p(-p[k]))).sum(axis=1)
            for k in range(n_components)
        ],
        axis=1,
    )
    return logsumexp(log_f + np.log(w), axis=1)


def categorical_unpack(theta, n_categories, n_components):
    w = _softmax(np.concatenate([[0.0], theta[: n_components - 1]]))
    pos = n_components - 1
    probs = [np.empty((n_components, c)) for c in n_categories]
    for k in range(n_components):
        for j, c in enumerate(n_categories):
            probs[j][k] = _softmax(np.concatenate([[0.0], theta[pos : pos + c - 1]]))
            pos += c - 1
    return w, probs


def categorical_pack(w, probs):
    theta = list(np.log(w[1:] / w[0]))
    for k in range(w.shape[0]):
        for p in probs:
            theta += list(np.log(p[k, 1:] / p[k, 0]))
    return np.array(theta)


def categorical_row_loglik(theta, X, n_categories, n_components):
    w, probs = categorical_unpack(theta, n_categories, n_components)
    log_f = np.zeros((X.shape[0], n_components))
    for j, p in enumerate(probs):
        seen = ~np.isnan(X[:, j])
        codes = np.where(seen, X[:, j], 0).astype(int)
        log_f += np.where(seen[:, None], np.log(p[:, codes].T), 0.0)
    return logsumexp(log_f + np.log(w), axis=1)


def fd_scores(row_loglik, theta, h=1e-6):
    """Per-row scores by central differences, shape (n_samples, n_params)."""
    cols = []
    for a in range(theta.size):
        e = np.zeros(theta.size)
        e[a] = h
        cols.append((row_loglik(theta + e) - row_loglik(theta - e)) / (2 * h))
    return np.stack(cols, axis=1)


def fd_hessian(loglik, theta, h=1e-4):
    """Hessian of a scalar function by four-point central differences."""
    n = theta.size
    hess = np.empty((n, n))
    eye = np.eye(n) * h
    for a in range(n):
        for b in range(a, n):
            hess[a, b] = hess[b, a] = (
                loglik(theta + eye[a] + eye[b])
                - loglik(theta + eye[a] - eye[b])
                - loglik(theta - eye[a] + eye[b])
                + loglik(theta - eye[a] - eye[b])
            ) / (4 * h * h)
    return hess


def rel_err(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def bernoulli_theta(w, means):
    return np.concatenate([np.log(w[1:] / w[0]), np.log(means / (1 - means)).ravel()])


def simulate_bernoulli(rng, n, w, means, missing=0.0):
    z = rng.choice(w.size, size=n, p=w)
    X = (rng.random_sample((n, means.shape[1])) < means[z]).astype(float)
    if missing:
        X[rng.random_sample(X.shape) < missing] = np.nan
    return X


TRUE_W = np.array([0.6, 0.4])
TRUE_MEANS = np.array([[0.85, 0.8, 0.2, 0.25, 0.7], [0.15, 0.3, 0.75, 0.8, 0.4]])


# -- Bernoulli -------------------------------------------------------------


@pytest.mark.parametrize("missing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
def test_bernoulli_information_is_the_exact_hessian(missing, weighted):
    # At arbitrary parameters (not an optimum): the analytic information is
    # minus the Hessian of the observed-data log-likelihood.
    rng = np.random.RandomState(0)
    X = simulate_bernoulli(rng, 150, TRUE_W, TRUE_MEANS, missing)
    sw = rng.randint(1, 4, X.shape[0]).astype(float) if weighted else np.ones(150)
    K, d = 3, X.shape[1]
    w = np.array([0.5, 0.3, 0.2])
    means = rng.uniform(0.2, 0.8, (K, d))
    theta = bernoulli_theta(w, means)
    hess = fd_hessian(lambda t: sw @ bernoulli_row_loglik(t, X, K), theta)
    layout = _Layout(np.full(d, 2))
    probs = np.empty((K, 2 * d))
    probs[:, 0::2], probs[:, 1::2] = 1 - means, means
    param = _Parameterisation(layout, K, 0, np.zeros((K, d), dtype=int))
    stats = _information(_bernoulli_blocks(X, layout, 32), sw, w, probs, param)
    assert rel_err(stats.information, -hess) < 1e-4
    scores = fd_scores(lambda t: bernoulli_row_loglik(t, X, K), theta)
    assert rel_err(stats.opg, (scores * sw[:, None]).T @ scores) < 1e-6
    assert rel_err(stats.score, sw @ scores) < 1e-6


def _fit_mle(X, sw, K=2, alpha=0.0):
    return BernoulliMixture(
        n_components=K,
        alpha=alpha,
        tol=1e-12,
        max_iter=20000,
        weights_init=TRUE_W,
        means_init=TRUE_MEANS,
    ).fit(X, sample_weight=sw)


@pytest.mark.parametrize("missing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
def test_bernoulli_covariances_at_the_mle(missing, weighted):
    rng = np.random.RandomState(1)
    X = simulate_bernoulli(rng, 400, TRUE_W, TRUE_MEANS, missing)
    sw = rng.randint(1, 4, X.shape[0]).astype(float) if weighted else None
    swv = np.ones(X.shape[0]) if sw is None else sw
    mix = _fit_mle(X, sw)
    theta = bernoulli_theta(mix.weights_, mix.means_)
    hess = fd_hessian(lambda t: swv @ bernoulli_row_loglik(t, X, 2), theta)
    scores = fd_scores(lambda t: bernoulli_row_loglik(t, X, 2), theta)
    opg = (scores * swv[:, None]).T @ scores
    inv_h = np.linalg.inv(-hess)
    expected = {
        "hessian": inv_h,
        "opg": np.linalg.inv(opg),
        "sandwich": inv_h @ opg @ inv_h,
    }
    for method, cov in expected.items():
        res = bernoulli_standard_errors(X, sw, mix.weights_, mix.means_, method=method)
        assert rel_err(res.covariance, cov) < 1e-4, method
        # Delta method, computed here from the covariance of the logits.
        w, p = mix.weights_, mix.means_
        var_w1 = (w[0] * w[1]) ** 2 * cov[0, 0]
        np.testing.assert_allclose(res.weights_stderr, np.sqrt(var_w1), rtol=1e-4)
        dp = (p * (1 - p)).ravel()
        np.testing.assert_allclose(
            res.means_stderr.ravel(), dp * np.sqrt(np.diag(cov)[1:]), rtol=1e-4
        )
    assert len(res.parameter_names) == res.covariance.shape[0] == 1 + 2 * 5
    assert res.parameter_names[0] == "log(weights[1]/weights[0])"
    assert res.parameter_names[1 + 5 + 2] == "logit(means[1, 2])"


def test_bernoulli_alpha_uses_the_log_posterior_curvature():
    rng = np.random.RandomState(2)
    X = simulate_bernoulli(rng, 300, TRUE_W, TRUE_MEANS, 0.1)
    alpha = 2.0
    mix = _fit_mle(X, None, alpha=alpha)
    theta = bernoulli_theta(mix.weights_, mix.means_)

    def log_posterior(t):
        p = expit(t[1:])
        return bernoulli_row_loglik(t, X, 2).sum() + alpha * np.sum(
            np.log(p) + np.log1p(-p)
        )

    hess = fd_hessian(log_posterior, theta)
    res = bernoulli_standard_errors(X, None, mix.weights_, mix.means_, alpha=alpha)
    assert rel_err(res.covariance, np.linalg.inv(-hess)) < 1e-4


def test_one_class_gives_binomial_standard_errors():
    rng = np.random.RandomState(3)
    X = (rng.random_sample((500, 4)) < [0.1, 0.4, 0.6, 0.95]).astype(float)
    X[rng.random_sample(X.shape) < 0.2] = np.nan
    sw = rng.randint(1, 5, 500).astype(float)
    seen = ~np.isnan(X)
    n_j = sw @ seen
    p = (sw @ np.nan_to_num(X)) / n_j
    binomial = np.sqrt(p * (1 - p) / n_j)
    for method in ("hessian", "sandwich"):
        res = bernoulli_standard_errors(X, sw, [1.0], p[None, :], method=method)
        np.testing.assert_allclose(res.means_stderr[0], binomial, rtol=1e-10)
        np.testing.assert_array_equal(res.weights_stderr, [0.0])
    # The outer product of scores is not diagonal across items (their
    # empirical correlation); for one item alone it is the binomial too.
    res = bernoulli_standard_errors(X[:, :1], sw, [1.0], p[None, :1], method="opg")
    np.testing.assert_allclose(res.means_stderr[0], binomial[:1], rtol=1e-10)
    # The same as a fitted one-class model, through the estimator.
    mix = BernoulliMixture(alpha=0).fit(X, sample_weight=sw)
    res = standard_errors(mix, X, sw)
    np.testing.assert_allclose(res.means_stderr[0], np.sqrt(p * (1 - p) / n_j))


def test_sparse_input_matches_dense():
    rng = np.random.RandomState(4)
    X = simulate_bernoulli(rng, 300, TRUE_W, TRUE_MEANS)
    mix = _fit_mle(X, None)
    dense = bernoulli_standard_errors(X, None, mix.weights_, mix.means_)
    sparse = bernoulli_standard_errors(sp.csr_matrix(X), None, mix.weights_, mix.means_)
    np.testing.assert_allclose(sparse.covariance, dense.covariance, rtol=1e-12)
    np.testing.assert_allclose(sparse.means_stderr, dense.means_stderr, rtol=1e-12)


def test_probability_errors_do_not_depend_on_the_class_order():
    rng = np.random.RandomState(5)
    X = simulate_bernoulli(rng, 300, TRUE_W, TRUE_MEANS)
    mix = _fit_mle(X, None)
    res = bernoulli_standard_errors(X, None, mix.weights_, mix.means_)
    flipped = bernoulli_standard_errors(X, None, mix.weights_[::-1], mix.means_[::-1])
    np.testing.assert_allclose(flipped.means_stderr, res.means_stderr[::-1])
    np.testing.assert_allclose(flipped.weights_stderr, res.weights_stderr[::-1])
    # Flipping the coding of an item flips the sign of its logit only.
    X2 = X.copy()
    X2[:, 1] = 1 - X2[:, 1]
    means2 = mix.means_.copy()
    means2[:, 1] = 1 - means2[:, 1]
    res2 = bernoulli_standard_errors(X2, None, mix.weights_, means2)
    np.testing.assert_allclose(res2.means_stderr, res.means_stderr, rtol=1e-10)


def test_boundary_parameters_get_nan_and_a_warning_naming_them():
    rng = np.random.RandomState(6)
    means = TRUE_MEANS.copy()
    means[0, 4] = 1.0  # item 4 is always 1 in class 0
    X = simulate_bernoulli(rng, 400, TRUE_W, means)
    mix = BernoulliMixture(
        2, alpha=0, tol=1e-10, max_iter=5000, weights_init=TRUE_W, means_init=means
    ).fit(X)
    assert mix.means_[0, 4] > 1 - 1e-6
    with pytest.warns(NonIdentifiableWarning, match=r"boundary.*means_\[0, 4\]"):
        res = standard_errors(mix, X)
    assert np.isnan(res.means_stderr[0, 4])
    finite = np.ones_like(res.means_stderr, dtype=bool)
    finite[0, 4] = False
    assert np.all(np.isfinite(res.means_stderr[finite]))
    assert np.all(np.isfinite(res.weights_stderr))
    # The others are those of the model with that probability held fixed:
    # the reference drops the parameter from the finite-difference Hessian.
    theta = bernoulli_theta(mix.weights_, mix.means_)
    free = np.delete(np.arange(theta.size), 1 + 4)

    def loglik(t_free):
        t = theta.copy()
        t[free] = t_free
        return bernoulli_row_loglik(t, X, 2).sum()

    cov = np.linalg.inv(-fd_hessian(loglik, theta[free]))
    got = res.covariance[np.ix_(free, free)]
    assert rel_err(got, cov) < 1e-4
    assert np.all(np.isnan(res.covariance[1 + 4]))


def test_empty_class_gets_nan():
    rng = np.random.RandomState(7)
    X = simulate_bernoulli(rng, 300, TRUE_W, TRUE_MEANS)
    weights = np.array([0.6, 0.4, 0.0])
    means = np.vstack([TRUE_MEANS, [0.5] * 5])
    with pytest.warns(NonIdentifiableWarning, match=r"weights_\[2\]"):
        res = bernoulli_standard_errors(X, None, weights, means)
    assert np.isnan(res.weights_stderr[2])
    assert np.all(np.isnan(res.means_stderr[2]))
    assert np.all(np.isfinite(res.weights_stderr[:2]))
    assert np.all(np.isfinite(res.means_stderr[:2]))


def test_non_identified_model_gets_nan_and_a_warning():
    # Two identical classes: their split is not identified by the data.
    rng = np.random.RandomState(8)
    X = (rng.random_sample((300, 4)) < 0.5).astype(float)
    p = np.nanmean(X, axis=0)
    with pytest.warns(NonIdentifiableWarning, match="singular"):
        res = bernoulli_standard_errors(X, None, [0.5, 0.5], np.vstack([p, p]))
    assert np.all(np.isnan(res.weights_stderr))


def test_well_identified_model_warns_nothing():
    rng = np.random.RandomState(9)
    X = simulate_bernoulli(rng, 400, TRUE_W, TRUE_MEANS)
    mix = _fit_mle(X, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = standard_errors(mix, X, method="sandwich")
    assert np.all(np.isfinite(res.covariance))


def test_wald_intervals_cover_the_truth():
    # 400 data sets from a well-identified 2-class model, each fitted from
    # the truth (to avoid label switching); the 95% interval of every
    # parameter covers the true value about 95% of the time.
    rng = np.random.RandomState(10)
    truth = np.concatenate([TRUE_W, TRUE_MEANS.ravel()])
    covered = []
    for _ in range(400):
        X = simulate_bernoulli(rng, 400, TRUE_W, TRUE_MEANS)
        mix = BernoulliMixture(
            2,
            alpha=0,
            tol=1e-8,
            max_iter=2000,
            weights_init=TRUE_W,
            means_init=TRUE_MEANS,
        ).fit(X)
        res = bernoulli_standard_errors(X, None, mix.weights_, mix.means_)
        est = np.concatenate([mix.weights_, mix.means_.ravel()])
        se = np.concatenate([res.weights_stderr, res.means_stderr.ravel()])
        covered.append(np.abs(est - truth) <= 1.96 * se)
    coverage = np.mean(covered, axis=0)
    assert 0.93 <= coverage.mean() <= 0.97, coverage
    assert np.all((coverage >= 0.9) & (coverage <= 0.99)), coverage


# -- categorical -----------------------------------------------------------

N_CATEGORIES = [3, 2, 4]
CAT_W = np.array([0.55, 0.45])
CAT_PROBS = [
    np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
    np.array([[0.8, 0.2], [0.3, 0.7]]),
    np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.1, 0.3, 0.5]]),
]


def simulate_categorical(rng, n, w, probs, missing=0.0):
    z = rng.choice(w.size, size=n, p=w)
    X = np.empty((n, len(probs)))
    for j, p in enumerate(probs):
        cum = np.cumsum(p[z], axis=1)
        X[:, j] = (rng.random_sample((n, 1)) > cum).sum(axis=1)
    if missing:
        X[rng.random_sample(X.shape) < missing] = np.nan
    return X


def categorical_em(X, sw, w, probs, n_iter=3000):
    """Plain EM for the categorical mixture, written for the test."""
    probs = [p.copy() for p in probs]
    for _ in range(n_iter):
        log_f = np.zeros((X.shape[0], w.size))
        for j, p in enumerate(probs):
            seen = ~np.isnan(X[:, j])
            codes = np.where(seen, X[:, j], 0).astype(int)
            log_f += np.where(seen[:, None], np.log(p[:, codes].T), 0.0)
        joint = log_f + np.log(w)
        r = np.exp(joint - logsumexp(joint, axis=1, keepdims=True)) * sw[:, None]
        w = r.sum(axis=0) / sw.sum()
        for j, p in enumerate(probs):
            seen = ~np.isnan(X[:, j])
            for c in range(p.shape[1]):
                p[:, c] = r[seen & (X[:, j] == c)].sum(axis=0)
            p /= p.sum(axis=1, keepdims=True)
    return w, probs


@pytest.mark.parametrize("missing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
def test_categorical_information_is_the_exact_hessian(missing, weighted):
    rng = np.random.RandomState(11)
    X = simulate_categorical(rng, 150, CAT_W, CAT_PROBS, missing)
    sw = rng.randint(1, 4, 150).astype(float) if weighted else np.ones(150)
    K = 3
    w = np.array([0.3, 0.5, 0.2])
    probs = [rng.dirichlet(np.ones(c) * 3, size=K) for c in N_CATEGORIES]
    theta = categorical_pack(w, probs)
    row = lambda t: categorical_row_loglik(t, X, N_CATEGORIES, K)  # noqa: E731
    hess = fd_hessian(lambda t: sw @ row(t), theta)
    layout = _Layout(N_CATEGORIES)
    param = _Parameterisation(layout, K, 0, np.zeros((K, 3), dtype=int))
    stats = _information(
        _categorical_blocks(X, layout, 40), sw, w, np.hstack(probs), param
    )
    assert rel_err(stats.information, -hess) < 1e-4
    scores = fd_scores(row, theta)
    assert rel_err(stats.opg, (scores * sw[:, None]).T @ scores) < 1e-6


@pytest.mark.parametrize("missing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
def test_categorical_covariances_at_the_mle(missing, weighted):
    rng = np.random.RandomState(12)
    X = simulate_categorical(rng, 500, CAT_W, CAT_PROBS, missing)
    sw = rng.randint(1, 4, 500).astype(float) if weighted else None
    swv = np.ones(500) if sw is None else sw
    w, probs = categorical_em(X, swv, CAT_W, CAT_PROBS)
    theta = categorical_pack(w, probs)
    row = lambda t: categorical_row_loglik(t, X, N_CATEGORIES, 2)  # noqa: E731
    hess = fd_hessian(lambda t: swv @ row(t), theta)
    scores = fd_scores(row, theta)
    opg = (scores * swv[:, None]).T @ scores
    inv_h = np.linalg.inv(-hess)
    expected = {
        "hessian": inv_h,
        "opg": np.linalg.inv(opg),
        "sandwich": inv_h @ opg @ inv_h,
    }
    # The sandwich multiplies two finite-difference inverses, so its
    # reference carries about twice their error (1.2e-4 seen on older numpy).
    tolerance = {"hessian": 1e-4, "opg": 1e-4, "sandwich": 3e-4}
    for method, cov in expected.items():
        res = categorical_standard_errors(X, sw, w, probs, method=method)
        assert rel_err(res.covariance, cov) < tolerance[method], method
        # Delta method for the categories of item 2 in class 1.
        p = probs[2][1]
        pos = 1 + (2 + 1 + 3) + 2 + 1
        jac = -np.outer(p, p[1:])
        jac[1:, :] += np.diag(p[1:])
        se = np.sqrt(np.diag(jac @ cov[pos : pos + 3, pos : pos + 3] @ jac.T))
        np.testing.assert_allclose(res.category_probs_stderr[2][1], se, rtol=1e-4)
    assert (
        res.parameter_names[1] == "log(category_probs[0][0, 1]/category_probs[0][0, 0])"
    )


def test_categorical_one_class_closed_form():
    rng = np.random.RandomState(13)
    X = simulate_categorical(rng, 400, np.array([1.0]), [p[:1] for p in CAT_PROBS])
    X[rng.random_sample(X.shape) < 0.1] = np.nan
    probs = []
    for j, c in enumerate(N_CATEGORIES):
        seen = ~np.isnan(X[:, j])
        counts = np.bincount(X[seen, j].astype(int), minlength=c)
        probs.append((counts / seen.sum())[None, :])
    res = categorical_standard_errors(X, None, [1.0], probs)
    for j, p in enumerate(probs):
        n_j = (~np.isnan(X[:, j])).sum()
        np.testing.assert_allclose(
            res.category_probs_stderr[j], np.sqrt(p * (1 - p) / n_j), rtol=1e-10
        )


def test_two_category_items_match_the_bernoulli_family():
    rng = np.random.RandomState(14)
    X = simulate_bernoulli(rng, 300, TRUE_W, TRUE_MEANS, 0.1)
    sw = rng.randint(1, 3, 300).astype(float)
    mix = _fit_mle(X, sw)
    probs = [np.column_stack([1 - m, m]) for m in mix.means_.T]
    for method in ("hessian", "opg", "sandwich"):
        b = bernoulli_standard_errors(
            X, sw, mix.weights_, mix.means_, method=method, alpha=0.5
        )
        c = categorical_standard_errors(
            X, sw, mix.weights_, probs, method=method, alpha=0.5
        )
        np.testing.assert_allclose(c.covariance, b.covariance, rtol=1e-10)
        np.testing.assert_allclose(
            np.column_stack([s[:, 1] for s in c.category_probs_stderr]),
            b.means_stderr,
            rtol=1e-10,
        )


def test_rare_category_loses_only_its_own_error():
    rng = np.random.RandomState(15)
    probs = [p.copy() for p in CAT_PROBS]
    X = simulate_categorical(rng, 500, CAT_W, probs)
    # Category 0 of item 0 never appears: its probability is 0 in both
    # classes, yet the other categories keep finite errors.
    X[X[:, 0] == 0, 0] = 1
    w, probs = categorical_em(
        X,
        np.ones(500),
        CAT_W,
        [np.array([[1e-12, 0.6, 0.4], [1e-12, 0.3, 0.7]]), *CAT_PROBS[1:]],
    )
    with pytest.warns(NonIdentifiableWarning, match=r"category_probs_\[0\]\[0, 0\]"):
        res = categorical_standard_errors(X, None, w, probs)
    assert np.all(np.isnan(res.category_probs_stderr[0][:, 0]))
    assert np.all(np.isfinite(res.category_probs_stderr[0][:, 1:]))
    assert np.all(np.isfinite(res.category_probs_stderr[1]))
    # The documented logits of item 0 use category 0 as reference: infinite.
    assert np.isnan(res.covariance[1, 1])


def test_bad_inputs_are_rejected():
    X = np.array([[0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="method"):
        bernoulli_standard_errors(X, None, [1.0], [[0.5, 0.5]], method="bfgs")
    with pytest.raises(ValueError, match="0 and 1"):
        bernoulli_standard_errors(X * 2, None, [1.0], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="shape"):
        bernoulli_standard_errors(X, None, [1.0], [[0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="code >= 2"):
        categorical_standard_errors(
            np.array([[2.0]]), None, [1.0], [np.array([[0.5, 0.5]])]
        )
    with pytest.raises(ValueError, match="integer"):
        categorical_standard_errors(
            np.array([[0.5]]), None, [1.0], [np.array([[0.5, 0.5]])]
        )
    with pytest.raises(TypeError, match="list"):
        categorical_standard_errors(
            np.array([[0.0]]), None, [1.0], np.array([[0.5, 0.5]])
        )
    with pytest.raises(TypeError, match="means_"):
        standard_errors(object(), X)
    before = X.copy()
    with pytest.warns(NonIdentifiableWarning):
        bernoulli_standard_errors(X, None, [1.0], [[0.5, 1.0]])
    np.testing.assert_array_equal(X, before)
