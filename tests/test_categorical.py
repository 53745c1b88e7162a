"""Tests for CategoricalMixture against independent computations written here."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    CategoricalMixture,
    FixedComponentMixture,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def simulate(seed=0, n=600, n_categories=(2, 3, 4, 3, 5, 2), n_classes=3):
    rng = np.random.RandomState(seed)
    weights = rng.dirichlet(np.full(n_classes, 4.0))
    probs = [rng.dirichlet(np.full(c, 0.7), size=n_classes) for c in n_categories]
    z = rng.choice(n_classes, size=n, p=weights)
    X = np.empty((n, len(n_categories)))
    for j, p in enumerate(probs):
        u = rng.random_sample(n)
        X[:, j] = (u[:, None] > np.cumsum(p[z], axis=1)[:, :-1]).sum(axis=1)
    return X, weights, probs, z


def random_start(seed, n_classes, n_categories):
    rng = np.random.RandomState(seed)
    weights = rng.dirichlet(np.full(n_classes, 3.0))
    probs = [rng.dirichlet(np.full(c, 3.0), size=n_classes) for c in n_categories]
    return weights, probs


def reference_em(X, weights, probs, alpha, n_iter, sample_weight=None):
    """Textbook EM for polytomous LCA, item by item, NaN = missing answer."""
    n, n_items = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    weights = np.array(weights, float)
    probs = [np.array(p, float) for p in probs]
    lower_bounds = []
    for _ in range(n_iter):
        log_joint = np.tile(np.log(weights), (n, 1))
        for j in range(n_items):
            seen = ~np.isnan(X[:, j])
            codes = X[seen, j].astype(int)
            log_joint[seen] += np.log(probs[j][:, codes]).T
        log_norm = logsumexp(log_joint, axis=1)
        lower_bounds.append(float(sw @ log_norm / sw.sum()))
        resp = np.exp(log_joint - log_norm[:, None]) * sw[:, None]
        weights = resp.sum(axis=0) / resp.sum()
        for j in range(n_items):
            c = probs[j].shape[1]
            counts = np.zeros((len(weights), c))
            for category in range(c):
                counts[:, category] = resp[X[:, j] == category].sum(axis=0)
            probs[j] = (counts + alpha) / (
                counts.sum(axis=1, keepdims=True) + c * alpha
            )
    return lower_bounds, weights, probs


def fit(est, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, **kw)


@pytest.mark.parametrize("missing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_matches_textbook_em(missing, weighted, alpha):
    n_categories = (2, 3, 4, 3, 5, 2)
    X, _, _, _ = simulate(seed=1, n=300, n_categories=n_categories)
    rng = np.random.RandomState(2)
    X[rng.random_sample(X.shape) < missing] = np.nan
    sw = rng.randint(0, 4, X.shape[0]).astype(float) if weighted else None
    w0, p0 = random_start(3, 3, n_categories)
    lb, w, p = reference_em(X, w0, p0, alpha, 50, sw)
    est = fit(
        CategoricalMixture(
            3,
            weights_init=w0,
            category_probs_init=p0,
            alpha=alpha,
            tol=0,
            max_iter=50,
            n_categories=n_categories,
        ),
        X,
        sample_weight=sw,
    )
    np.testing.assert_allclose(est.lower_bounds_, lb, rtol=0, atol=1e-8)
    np.testing.assert_allclose(est.weights_, w, rtol=0, atol=1e-8)
    for got, want in zip(est.category_probs_, p):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    # Predictions against the same independent computation.
    log_joint = np.tile(np.log(est.weights_), (X.shape[0], 1))
    for j, probs in enumerate(est.category_probs_):
        seen = ~np.isnan(X[:, j])
        log_joint[seen] += np.log(probs[:, X[seen, j].astype(int)]).T
    log_norm = logsumexp(log_joint, axis=1)
    np.testing.assert_allclose(est.score_samples(X), log_norm, rtol=1e-12)
    np.testing.assert_allclose(
        est.predict_proba(X), np.exp(log_joint - log_norm[:, None]), atol=1e-12
    )


@pytest.mark.parametrize("missing", [0.0, 0.1])
def test_binary_items_follow_the_bernoulli_path(missing):
    rng = np.random.RandomState(0)
    X = (rng.random_sample((400, 7)) < rng.uniform(0.2, 0.8, 7)).astype(float)
    X[rng.random_sample(X.shape) < missing] = np.nan
    means0 = rng.uniform(0.2, 0.8, (3, 7))
    w0 = rng.dirichlet(np.ones(3))
    common = dict(weights_init=w0, tol=0, max_iter=40, alpha=0.05)
    bern = fit(BernoulliMixture(3, means_init=means0, binarize=None, **common), X)
    cat = fit(
        CategoricalMixture(
            3, category_probs_init=[np.c_[1 - m, m] for m in means0.T], **common
        ),
        X,
    )
    for j in range(7):
        np.testing.assert_allclose(
            cat.category_probs_[j][:, 1], bern.means_[:, j], rtol=0, atol=1e-10
        )
    np.testing.assert_allclose(cat.lower_bounds_, bern.lower_bounds_, atol=1e-10)
    np.testing.assert_allclose(cat.score_samples(X), bern.score_samples(X), atol=1e-10)
    assert cat._n_parameters() == bern._n_parameters()


def test_recovers_ground_truth():
    n_categories = (2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 5)
    rng = np.random.RandomState(7)
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    # Well-separated classes: each favours one category of every item.
    probs = []
    for c in n_categories:
        p = rng.dirichlet(np.full(c, 0.3), size=4)
        probs.append(0.8 * p + 0.2 / c)
    z = rng.choice(4, size=20_000, p=weights)
    X = np.empty((z.size, len(n_categories)))
    for j, p in enumerate(probs):
        u = rng.random_sample(z.size)
        X[:, j] = (u[:, None] > np.cumsum(p[z], axis=1)[:, :-1]).sum(axis=1)
    est = fit(CategoricalMixture(4, n_init=3, random_state=0, max_iter=500), X)
    cost = np.array(
        [
            [
                sum(
                    np.abs(est.category_probs_[j][a] - probs[j][b]).sum()
                    for j in range(12)
                )
                for b in range(4)
            ]
            for a in range(4)
        ]
    )
    rows, cols = linear_sum_assignment(cost)
    order = rows[np.argsort(cols)]
    np.testing.assert_allclose(est.weights_[order], weights, atol=0.015)
    # Five binomial standard errors of each probability within its class.
    n_class = z.size * weights[:, None]
    for j in range(12):
        p = probs[j]
        bound = 5 * np.sqrt(p * (1 - p) / n_class) + 0.01
        assert np.all(np.abs(est.category_probs_[j][order] - p) < bound), j


def test_weights_equal_repeated_rows_and_pandas_categories():
    pd = pytest.importorskip("pandas")
    X, _, _, _ = simulate(seed=4, n=200)
    sw = np.random.RandomState(0).randint(0, 3, 200)
    start = random_start(5, 3, (2, 3, 4, 3, 5, 2))
    common = dict(weights_init=start[0], category_probs_init=start[1], tol=0)
    weighted = fit(CategoricalMixture(3, max_iter=30, **common), X, sample_weight=sw)
    repeated = fit(CategoricalMixture(3, max_iter=30, **common), np.repeat(X, sw, 0))
    np.testing.assert_allclose(
        weighted.lower_bounds_, repeated.lower_bounds_, atol=1e-10
    )
    # The same answers as labelled pandas categories.
    labels = [np.array(list("abcde"))[:c] for c in (2, 3, 4, 3, 5, 2)]
    frame = pd.DataFrame(
        {
            f"q{j}": pd.Categorical.from_codes(X[:, j].astype(int), labels[j])
            for j in range(6)
        }
    )
    from_frame = fit(
        CategoricalMixture(3, max_iter=30, **common), frame, sample_weight=sw
    )
    np.testing.assert_allclose(
        from_frame.lower_bounds_, weighted.lower_bounds_, atol=1e-12
    )
    assert list(from_frame.feature_names_in_) == [f"q{j}" for j in range(6)]
    assert [list(c) for c in from_frame.categories_] == [list(c) for c in labels]
    np.testing.assert_allclose(
        from_frame.predict_proba(frame), weighted.predict_proba(X)
    )
    # A category fit never saw is an error that names it.
    bad = frame.copy()
    bad["q0"] = pd.Categorical(["z"] + ["a"] * 199)
    with pytest.raises(ValueError, match="never saw: 'z'"):
        from_frame.predict(bad)


def test_missing_rows_and_items():
    X, _, _, _ = simulate(seed=5, n=300)
    X[0] = np.nan
    est = fit(CategoricalMixture(2, random_state=0, alpha=0.1), X)
    assert est.score_samples(X[:1])[0] == 0.0
    np.testing.assert_allclose(est.predict_proba(X[:1])[0], est.weights_)


def test_predicting_an_unseen_category_is_an_error():
    X, _, _, _ = simulate(seed=6, n=100)
    est = fit(CategoricalMixture(2, random_state=0), X)
    bad = X[:3].copy()
    bad[1, 4] = est.n_categories_[4]
    with pytest.raises(ValueError, match="category 5 of item 4 .row 1"):
        est.predict(bad)
    wide = fit(
        CategoricalMixture(2, random_state=0, n_categories=[3, 4, 5, 4, 6, 3]), X
    )
    assert np.all(np.isfinite(wide.score_samples(bad)))
    assert all(p.min() > 0 for p in wide.category_probs_)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.5, 1.0], [1.0, 0.0]]), "whole numbers"),
        (np.array([[-1.0, 1.0], [1.0, 0.0]]), "Negative values in data"),
    ],
)
def test_bad_codes(X, match):
    with pytest.raises(ValueError, match=match):
        CategoricalMixture(1).fit(X)


def test_sparse_input_is_refused():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="does not take sparse input"):
        CategoricalMixture(1).fit(sp.csr_matrix(np.eye(3)))


def test_bad_parameters():
    X, _, _, _ = simulate(seed=8, n=50)
    with pytest.raises(ValueError, match="n_categories gives 2 categories"):
        CategoricalMixture(1, n_categories=2).fit(X)
    with pytest.raises(ValueError, match="one entry per item"):
        CategoricalMixture(1, n_categories=[2, 3]).fit(X)
    with pytest.raises(ValueError, match="has 2 arrays, but X has 6 items"):
        CategoricalMixture(2, category_probs_init=[np.full((2, 2), 0.5)] * 2).fit(X)
    with pytest.raises(ValueError, match=r"must sum to 1"):
        CategoricalMixture(
            2, category_probs_init=[np.full((2, c), 0.4) for c in (2, 3, 4, 3, 5, 2)]
        ).fit(X)


def test_failed_fit_leaves_the_model_as_it_was():
    X, _, _, _ = simulate(seed=9, n=120)
    est = fit(CategoricalMixture(2, random_state=0), X)
    before = {k: pickle.dumps(v) for k, v in vars(est).items()}
    proba = est.predict_proba(X)
    with pytest.raises(ValueError):
        est.set_params(n_components=5).fit(X[:3, :3])
    est.set_params(n_components=2)
    assert {k: pickle.dumps(v) for k, v in vars(est).items()} == before
    np.testing.assert_array_equal(est.predict_proba(X), proba)


def test_min_categories_and_alpha_keep_probabilities_positive():
    X, _, _, _ = simulate(seed=10, n=60)
    est = fit(CategoricalMixture(2, min_categories=6, alpha=0.01, random_state=0), X)
    assert np.all(est.n_categories_ == 6)
    assert all(p.shape == (2, 6) and p.min() > 0 for p in est.category_probs_)


def test_sample_draws_from_the_model():
    X, _, _, _ = simulate(seed=11, n=500)
    est = fit(CategoricalMixture(2, random_state=0), X)
    Xs, ys = est.sample(40_000, random_state=1)
    for j, probs in enumerate(est.category_probs_):
        for k in range(2):
            freq = np.bincount(Xs[ys == k, j].astype(int), minlength=probs.shape[1])
            np.testing.assert_allclose(freq / freq.sum(), probs[k], atol=0.02)


def test_every_init_reaches_a_finite_fit_and_warm_start_continues():
    X, _, _, _ = simulate(seed=12, n=300)
    for init in ["kmeans", "k-means++", "random", "random_from_data", "random_params"]:
        est = fit(CategoricalMixture(3, init_params=init, random_state=0), X)
        assert np.isfinite(est.lower_bound_)
    warm = fit(
        CategoricalMixture(3, max_iter=5, tol=0, warm_start=True, random_state=0), X
    )
    first = warm.lower_bounds_[-1]
    fit(warm, X)
    assert warm.lower_bounds_[0] >= first - 1e-12


def test_partial_fit_approaches_the_batch_fit():
    X, _, _, _ = simulate(seed=13, n=20_000)
    batch = fit(CategoricalMixture(3, n_init=3, random_state=0, tol=1e-6), X)
    online = CategoricalMixture(3, n_init=3, random_state=0)
    rng = np.random.RandomState(0)
    for _ in range(3):
        for part in np.array_split(X[rng.permutation(len(X))], 40):
            online.partial_fit(part)
    assert online.score(X) > batch.score(X) * 1.005
    assert online.converged_ is False and online.n_iter_ == 120


def test_component_of_a_fixed_mixture_and_pipeline_and_search():
    X, _, _, _ = simulate(seed=14, n=400)
    a = fit(CategoricalMixture(2, random_state=0), X[:200])
    b = fit(CategoricalMixture(3, random_state=0), X[200:])
    fixed = FixedComponentMixture([a, b]).fit(X)
    expected = np.c_[a.score_samples(X), b.score_samples(X)]
    np.testing.assert_allclose(
        fixed.score_samples(X), logsumexp(expected + np.log(fixed.weights_), axis=1)
    )
    pipe = make_pipeline(FunctionTransformer(), CategoricalMixture(2, random_state=0))
    assert np.isfinite(pipe.fit(X).score(X))
    search = GridSearchCV(
        CategoricalMixture(random_state=0), {"n_components": [1, 2, 3]}, cv=3
    ).fit(X)
    assert search.best_params_["n_components"] in (2, 3)
    assert clone(search.best_estimator_).get_params()["n_components"] in (2, 3)


def test_unfitted_prediction():
    with pytest.raises(NotFittedError):
        CategoricalMixture().predict([[0, 1]])
