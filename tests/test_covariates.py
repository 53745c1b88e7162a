"""Covariates on class membership (latent class regression), for both learned families.

Reference computations are written here: the responsibilities and the
log-likelihood from the fitted parameters, the multinomial-logit M-step
against scikit-learn's LogisticRegression on responsibility-weighted rows,
and the observed information against finite differences.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_bernoulli_mix import BernoulliMixture, CategoricalMixture
from sklearn_bernoulli_mix._covariates import (
    log_prior,
    newton_m_step,
    observed_information,
    with_intercept,
)
from sklearn_bernoulli_mix._validation import NonIdentifiableWarning

COEF = np.array([[0.0, 0.0], [1.0, -0.6], [-0.8, 0.7]])
INTERCEPT = np.array([0.0, 0.3, -0.2])
MEANS = np.array(
    [
        [0.9, 0.9, 0.85, 0.1, 0.15, 0.1],
        [0.1, 0.15, 0.9, 0.9, 0.85, 0.1],
        [0.1, 0.1, 0.15, 0.1, 0.9, 0.9],
    ]
)
# Three items with three categories, three classes.
CAT_PROBS = [
    np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]),
    np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.2, 0.7, 0.1]]),
    np.array([[0.1, 0.1, 0.8], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]]),
    np.array([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]),
]


def _softmax(eta):
    return np.exp(eta - logsumexp(eta, axis=1, keepdims=True))


def _classes(rng, Z):
    prior = _softmax(Z @ COEF.T + INTERCEPT)
    return (prior.cumsum(axis=1) > rng.random_sample((Z.shape[0], 1))).argmax(axis=1)


def simulate(family, seed, n=2000):
    """Items then two covariates (columns -2, -1), and the true classes."""
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, 2))
    y = _classes(rng, Z)
    if family == "bernoulli":
        items = (rng.random_sample((n, MEANS.shape[1])) < MEANS[y]).astype(float)
    else:
        items = np.column_stack(
            [
                (p[y].cumsum(axis=1) > rng.random_sample((n, 1))).argmax(axis=1)
                for p in CAT_PROBS
            ]
        ).astype(float)
    return np.hstack([items, Z]), y


def make(family, **params):
    if family == "bernoulli":
        return BernoulliMixture(**params)
    return CategoricalMixture(**params)


def true_start(family):
    """The true parameters as a start, so the fitted classes keep their labels."""
    if family == "bernoulli":
        return {"means_init": MEANS}
    return {"category_probs_init": CAT_PROBS}


def item_log_lik(model, items):
    """log p(x_i | k) (n, K) written from the fitted parameters; NaN is missing."""
    if isinstance(model, BernoulliMixture):
        p = model.means_
        observed = ~np.isnan(items)
        x = np.where(observed, items, 0)
        terms = x[:, None, :] * np.log(p) + (1 - x[:, None, :]) * np.log1p(-p)
        return np.where(observed[:, None, :], terms, 0).sum(axis=2)
    out = np.zeros((items.shape[0], model.weights_.shape[0]))
    for j, p in enumerate(model.category_probs_):
        seen = ~np.isnan(items[:, j])
        out[seen] += np.log(p[:, items[seen, j].astype(int)]).T
    return out


FAMILIES = ["bernoulli", "categorical"]


@pytest.mark.parametrize("family", FAMILIES)
def test_known_coefficients_recovered_within_three_standard_errors(family):
    X, _ = simulate(family, seed=1)
    model = make(
        family,
        n_components=3,
        covariates=[-2, -1],
        alpha=0.0,
        tol=1e-10,
        max_iter=2000,
        random_state=0,
        **true_start(family),
    ).fit(X)
    assert model.coef_.shape == (3, 2)
    assert model.intercept_.shape == (3,)
    assert model.n_covariates_ == 2
    np.testing.assert_array_equal(model.coef_[0], 0)
    assert model.intercept_[0] == 0
    assert np.all(model.coef_stderr_[1:] > 0)
    assert np.all(model.intercept_stderr_[1:] > 0)
    z_coef = (model.coef_[1:] - COEF[1:]) / model.coef_stderr_[1:]
    z_icpt = (model.intercept_[1:] - INTERCEPT[1:]) / model.intercept_stderr_[1:]
    assert np.all(np.abs(z_coef) < 3), z_coef
    assert np.all(np.abs(z_icpt) < 3), z_icpt
    # The standard errors are of the size a sample of 2000 gives (not 0, not huge).
    assert np.all(model.coef_stderr_[1:] < 0.2)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_likelihood_never_decreases(family, seed):
    X, _ = simulate(family, seed=seed, n=600)
    sw = np.random.RandomState(seed).randint(1, 4, size=X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make(
            family,
            n_components=3,
            covariates=[-2, -1],
            alpha=0.0,
            tol=0.0,
            max_iter=60,
            init_params="random",
            random_state=seed,
        ).fit(X, sample_weight=sw)
    bounds = np.array(model.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:])), np.diff(bounds)
    # and it went somewhere: the random start is far from the optimum.
    assert bounds[-1] > bounds[0] + 0.1


@pytest.mark.parametrize("family", FAMILIES)
def test_all_zero_covariate_gives_the_model_without_covariates(family):
    X, _ = simulate(family, seed=3, n=800)
    items = X[:, :-2]
    with_zero = np.hstack([items, np.zeros((items.shape[0], 1))])
    params = dict(n_components=3, tol=0.0, max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = make(family, **params).fit(items)
        with pytest.warns(NonIdentifiableWarning, match=r"coef_\[1, 0\]"):
            cov = make(family, covariates=[-1], **params).fit(with_zero)
    np.testing.assert_allclose(
        cov.lower_bounds_, plain.lower_bounds_, rtol=0, atol=1e-8
    )
    np.testing.assert_allclose(cov.weights_, plain.weights_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(
        np.concatenate(np.atleast_1d(getattr(cov, cov._probs_attr)), axis=None),
        np.concatenate(np.atleast_1d(getattr(plain, plain._probs_attr)), axis=None),
        rtol=0,
        atol=1e-8,
    )
    np.testing.assert_allclose(cov.coef_, 0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        cov.intercept_, np.log(plain.weights_ / plain.weights_[0]), atol=1e-8
    )
    assert np.all(np.isnan(cov.coef_stderr_[1:]))
    assert np.all(np.isfinite(cov.intercept_stderr_))
    np.testing.assert_allclose(
        cov.score_samples(with_zero), plain.score_samples(items), atol=1e-8
    )
    # One more free parameter per non-reference class (the zero slopes).
    assert cov._n_parameters() == plain._n_parameters() + 2


@pytest.mark.parametrize("family", FAMILIES)
def test_posteriors_and_likelihood_match_an_independent_computation(family):
    X, _ = simulate(family, seed=4, n=500)
    X[::7, 0] = np.nan  # missing items are allowed
    model = make(family, n_components=3, covariates=[-2, -1], random_state=0).fit(X)
    items, Z = X[:, :-2], X[:, -2:]
    prior = _softmax(Z @ model.coef_.T + model.intercept_)
    joint = item_log_lik(model, items) + np.log(prior)
    log_norm = logsumexp(joint, axis=1)
    np.testing.assert_allclose(model.score_samples(X), log_norm, rtol=1e-10)
    np.testing.assert_allclose(
        model.predict_proba(X), np.exp(joint - log_norm[:, None]), atol=1e-10
    )
    np.testing.assert_array_equal(model.predict(X), joint.argmax(axis=1))
    assert model.score(X) == pytest.approx(log_norm.mean(), rel=1e-12)
    np.testing.assert_allclose(model.weights_, prior.mean(axis=0), rtol=1e-10)
    n_params = model._family.n_parameters(3) + 2 * 2
    assert model.bic(X) == pytest.approx(
        -2 * log_norm.sum() + n_params * np.log(X.shape[0]), rel=1e-10
    )
    assert model.aic(X) == pytest.approx(-2 * log_norm.sum() + 2 * n_params, rel=1e-10)
    # The training log-likelihood is the last lower bound's neighbour.
    assert model.score(X) >= model.lower_bounds_[-1] - 1e-9


def test_newton_m_step_matches_logistic_regression():
    rng = np.random.RandomState(0)
    n, K = 300, 3
    Z = rng.normal(size=(n, 2))
    resp = rng.dirichlet(np.ones(K), size=n)
    sw = rng.randint(1, 4, size=n).astype(float)
    Z1 = with_intercept(Z)
    beta = newton_m_step(Z1, np.zeros((K, 3)), resp, sw)
    for _ in range(5):  # a few M-steps, each of a few Newton steps
        beta = newton_m_step(Z1, beta, resp, sw)
    # Reference: the multinomial logit fitted to every (row, class) pair
    # weighted by sw_i * r_ik, without penalty.
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)
    ref.fit(
        np.repeat(Z, K, axis=0),
        np.tile(np.arange(K), n),
        sample_weight=(sw[:, None] * resp).ravel(),
    )
    np.testing.assert_allclose(beta[:, 1:], ref.coef_ - ref.coef_[0], atol=1e-5)
    np.testing.assert_allclose(
        beta[:, 0], ref.intercept_ - ref.intercept_[0], atol=1e-5
    )
    assert np.all(beta[0] == 0)


def _hessian(f, theta, h=1e-4):
    """Central finite-difference Hessian of f at theta."""
    n = theta.size
    eye = np.eye(n) * h
    out = np.empty((n, n))
    for a in range(n):
        for b in range(a, n):
            out[a, b] = out[b, a] = (
                f(theta + eye[a] + eye[b])
                - f(theta + eye[a] - eye[b])
                - f(theta - eye[a] + eye[b])
                + f(theta - eye[a] - eye[b])
            ) / (4 * h * h)
    return out


def test_conditional_information_matches_finite_differences():
    """The information in the coefficients alone, item probabilities fixed."""
    X, _ = simulate("bernoulli", seed=5, n=400)
    model = BernoulliMixture(n_components=3, covariates=[-2, -1], random_state=0)
    model.fit(X)
    Z1 = with_intercept(X[:, -2:])
    ll_items = item_log_lik(model, X[:, :-2])

    def log_lik(theta):
        beta = np.vstack([np.zeros(3), theta.reshape(2, 3)])
        return logsumexp(ll_items + log_prior(Z1, beta), axis=1).sum()

    beta = np.column_stack([model.intercept_, model.coef_])
    numeric = _hessian(log_lik, beta[1:].ravel())
    resp = model.predict_proba(X)
    info = observed_information(Z1, beta, resp, np.ones(X.shape[0]))
    np.testing.assert_allclose(info, -numeric, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("family", FAMILIES)
def test_standard_errors_match_the_inverse_numerical_hessian(family):
    """Standard errors of the coefficients with the item parameters estimated.

    The observed-data log-likelihood is written here in the coefficients
    and the logits of the item probabilities (Bernoulli: log odds of 1;
    categorical: log odds against category 0), its Hessian taken by finite
    differences, and the coefficients' block of its inverse compared.
    """
    X, _ = simulate(family, seed=5, n=400)
    X[::11, 1] = np.nan
    sw = np.random.RandomState(1).randint(1, 3, size=X.shape[0]).astype(float)
    model = make(
        family, n_components=3, covariates=[-2, -1], alpha=0.0, random_state=0
    ).fit(X, sample_weight=sw)
    items, Z1 = X[:, :-2], with_intercept(X[:, -2:])
    beta = np.column_stack([model.intercept_, model.coef_])
    if family == "bernoulli":
        logits = np.log(model.means_) - np.log1p(-model.means_)
        shapes = [logits.shape]
        pieces = [logits.ravel()]
    else:
        pieces, shapes = [], []
        for p in model.category_probs_:
            logit = np.log(p[:, 1:]) - np.log(p[:, :1])
            pieces.append(logit.ravel())
            shapes.append(logit.shape)
    theta0 = np.concatenate([beta[1:].ravel()] + pieces)

    def log_lik(theta):
        b = np.vstack([np.zeros(3), theta[:6].reshape(2, 3)])
        rest = theta[6:]
        if family == "bernoulli":
            a = rest.reshape(shapes[0])
            trial = BernoulliMixture()
            trial.means_ = 1 / (1 + np.exp(-a))
        else:
            trial = CategoricalMixture()
            trial.category_probs_ = []
            trial.weights_ = np.ones(3)
            for shape in shapes:
                size = shape[0] * shape[1]
                logit = np.hstack([np.zeros((3, 1)), rest[:size].reshape(shape)])
                rest = rest[size:]
                trial.category_probs_.append(_softmax(logit))
        joint = item_log_lik(trial, items) + log_prior(Z1, b)
        return sw @ logsumexp(joint, axis=1)

    cov = np.linalg.inv(-_hessian(log_lik, theta0))
    se = np.sqrt(np.diag(cov)[:6]).reshape(2, 3)
    np.testing.assert_allclose(model.intercept_stderr_[1:], se[:, 0], rtol=2e-3)
    np.testing.assert_allclose(model.coef_stderr_[1:], se[:, 1:], rtol=2e-3)
    # Holding the item probabilities fixed gives smaller errors.
    resp = model.predict_proba(X)
    fixed = observed_information(Z1, beta, resp, sw)
    se_fixed = np.sqrt(np.diag(np.linalg.inv(fixed))).reshape(2, 3)
    assert np.all(se_fixed <= se * (1 + 1e-6))


@pytest.mark.parametrize("family", FAMILIES)
def test_integer_sample_weight_is_repeated_rows(family):
    X, _ = simulate(family, seed=6, n=300)
    sw = np.random.RandomState(0).randint(0, 3, size=X.shape[0])
    params = dict(
        n_components=3,
        covariates=[-2, -1],
        tol=0.0,
        max_iter=30,
        init_params="random_params",
        random_state=0,
        **true_start(family),
    )
    params["weights_init"] = np.full(3, 1 / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = make(family, **params).fit(X, sample_weight=sw)
        repeated = make(family, **params).fit(np.repeat(X, sw, axis=0))
    np.testing.assert_allclose(weighted.lower_bound_, repeated.lower_bound_, rtol=1e-10)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-8)
    np.testing.assert_allclose(weighted.coef_stderr_, repeated.coef_stderr_, rtol=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_column_names_masks_and_indices_agree(family):
    pd = pytest.importorskip("pandas")
    X, _ = simulate(family, seed=7, n=300)
    n_items = X.shape[1] - 2
    columns = [f"item{j}" for j in range(n_items)] + ["age", "income"]
    # Covariates first in the frame: the items are the columns not named.
    order = [n_items, 0, 1, n_items + 1] + list(range(2, n_items))
    frame = pd.DataFrame(X[:, order], columns=[columns[j] for j in order])
    base = dict(n_components=3, random_state=0)
    by_name = make(family, covariates=["age", "income"], **base).fit(frame)
    mask = np.zeros(X.shape[1], dtype=bool)
    mask[[0, 3]] = True
    by_mask = make(family, covariates=mask, **base).fit(frame.to_numpy())
    by_index = make(family, covariates=[3, 0], **base).fit(frame.to_numpy())
    assert by_name.n_features_in_ == X.shape[1]
    assert list(by_name.feature_names_in_) == list(frame.columns)
    for other in (by_mask, by_index):
        np.testing.assert_allclose(other.coef_, by_name.coef_, atol=1e-12)
        np.testing.assert_allclose(
            other.predict_proba(frame.to_numpy()), by_name.predict_proba(frame)
        )
    with pytest.raises(ValueError, match="feature names"):
        by_name.predict_proba(frame[frame.columns[::-1]])


@pytest.mark.parametrize("family", FAMILIES)
def test_pipeline_grid_search_and_cross_val_score(family):
    X, _ = simulate(family, seed=8, n=400)
    pipe = Pipeline(
        [
            ("identity", FunctionTransformer()),
            ("mix", make(family, covariates=[-2, -1], random_state=0)),
        ]
    )
    search = GridSearchCV(pipe, {"mix__n_components": [1, 3]}, cv=3).fit(X)
    assert search.best_params_ == {"mix__n_components": 3}
    scores = cross_val_score(clone(pipe).set_params(mix__n_components=3), X, cv=3)
    assert np.all(np.isfinite(scores))
    assert search.best_estimator_.predict_proba(X).shape == (X.shape[0], 3)


def test_one_class_model_with_covariates():
    X, _ = simulate("bernoulli", seed=9, n=200)
    model = BernoulliMixture(n_components=1, covariates=[-2, -1]).fit(X)
    np.testing.assert_array_equal(model.coef_, 0)
    np.testing.assert_array_equal(model.weights_, [1.0])
    plain = BernoulliMixture(n_components=1).fit(X[:, :-2])
    np.testing.assert_allclose(model.means_, plain.means_, atol=1e-12)


def test_refit_without_covariates_forgets_them():
    X, _ = simulate("bernoulli", seed=10, n=200)
    model = BernoulliMixture(n_components=2, covariates=[-2, -1], random_state=0)
    model.fit(X)
    model.set_params(covariates=None).fit(X[:, :-2])
    assert not hasattr(model, "coef_")
    assert model.n_features_in_ == X.shape[1] - 2
    model.sample(5)  # defined again


@pytest.mark.parametrize("family", FAMILIES)
def test_warm_start_continues_with_covariates(family):
    X, _ = simulate(family, seed=11, n=400)
    params = dict(n_components=3, covariates=[-2, -1], tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = make(family, max_iter=20, **params).fit(X)
        warm = make(family, max_iter=10, warm_start=True, **params).fit(X).fit(X)
    np.testing.assert_allclose(warm.coef_, once.coef_, atol=1e-10)
    np.testing.assert_allclose(warm.lower_bound_, once.lower_bound_, rtol=1e-12)


class TestBadInput:
    X, _ = simulate("bernoulli", seed=12, n=100)

    def fit(self, covariates, X=None, **params):
        return BernoulliMixture(n_components=2, covariates=covariates, **params).fit(
            self.X if X is None else X
        )

    def test_missing_covariate(self):
        X = self.X.copy()
        X[5, -1] = np.nan
        with pytest.raises(ValueError, match="missing or infinite.*row 5"):
            self.fit([-2, -1], X)
        assert np.isnan(X[5, -1])  # the user's array is unchanged

    def test_missing_covariate_at_prediction(self):
        model = self.fit([-2, -1])
        X = self.X.copy()
        X[3, -2] = np.inf
        with pytest.raises(ValueError, match="column 6.*row 3"):
            model.predict(X)

    def test_non_numeric_covariate(self):
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(self.X[:, :-1], columns=[f"c{j}" for j in range(7)])
        frame["region"] = "north"
        with pytest.raises(TypeError, match="must be numeric"):
            self.fit(["c6", "region"], frame)

    @pytest.mark.parametrize(
        "covariates, error, match",
        [
            ([8], ValueError, "column 8, but X has 8 columns"),
            ([], ValueError, "selects no column"),
            (list(range(8)), ValueError, "leaving no item"),
            ([1, 1], ValueError, "twice"),
            (np.ones(3, dtype=bool), ValueError, "one entry per column"),
            (["age"], ValueError, "pandas DataFrame"),
            ([0, "age"], TypeError, "a mix"),
            ([0.5], TypeError, "array-like of ints"),
        ],
    )
    def test_bad_selection(self, covariates, error, match):
        with pytest.raises(error, match=match):
            self.fit(covariates)

    def test_bool_parameter_rejected(self):
        with pytest.raises(ValueError, match="'covariates' parameter"):
            self.fit(True)

    def test_unknown_name(self):
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(self.X, columns=[f"c{j}" for j in range(8)])
        with pytest.raises(ValueError, match=r"\['age'\]"):
            self.fit(["age"], frame)

    def test_wrong_number_of_columns_at_prediction(self):
        model = self.fit([-2, -1])
        with pytest.raises(ValueError, match="8 features"):
            model.predict(self.X[:, :-1])

    def test_partial_fit_and_sample_say_not_supported(self):
        with pytest.raises(ValueError, match="partial_fit does not support"):
            BernoulliMixture(n_components=2, covariates=[-1]).partial_fit(self.X)
        model = self.fit([-2, -1])
        with pytest.raises(ValueError, match="partial_fit does not support"):
            model.set_params(covariates=None).partial_fit(self.X[:, :-2])
        with pytest.raises(ValueError, match="sample is not defined"):
            model.sample(3)

    def test_dask_fit_says_not_supported(self):
        da = pytest.importorskip("dask.array")
        with pytest.raises(ValueError, match="Dask"):
            self.fit([-2, -1], da.from_array(self.X, chunks=50))

    def test_dask_prediction_works(self):
        da = pytest.importorskip("dask.array")
        model = self.fit([-2, -1], random_state=0)
        lazy = model.predict_proba(da.from_array(self.X, chunks=(30, 8)))
        np.testing.assert_allclose(lazy.compute(), model.predict_proba(self.X))

    def test_failed_fit_keeps_the_fitted_model(self):
        model = self.fit([-2, -1], random_state=0)
        coef = model.coef_.copy()
        X = self.X.copy()
        X[0, -1] = np.nan
        with pytest.raises(ValueError):
            model.fit(X)
        np.testing.assert_array_equal(model.coef_, coef)
        assert model.n_features_in_ == 8


def test_sparse_and_float32_input_with_covariates():
    sparse = pytest.importorskip("scipy.sparse")
    X, _ = simulate("bernoulli", seed=13, n=400)
    params = dict(n_components=3, covariates=[-2, -1], random_state=0)
    dense = BernoulliMixture(**params).fit(X)
    from_sparse = BernoulliMixture(**params).fit(sparse.csr_matrix(X))
    np.testing.assert_allclose(from_sparse.coef_, dense.coef_, atol=1e-10)
    np.testing.assert_allclose(
        from_sparse.predict_proba(sparse.csr_matrix(X)),
        dense.predict_proba(X),
        atol=1e-10,
    )
    single = BernoulliMixture(**params).fit(X.astype(np.float32))
    assert single.coef_.dtype == np.float64
    np.testing.assert_allclose(single.coef_, dense.coef_, atol=0.02)


def test_pandas_category_items_with_numeric_covariates():
    pd = pytest.importorskip("pandas")
    X, _ = simulate("categorical", seed=14, n=400)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d", "z1", "z2"])
    labels = np.array(["no", "maybe", "yes"])
    for name in "abcd":
        frame[name] = pd.Categorical(
            labels[frame[name].astype(int)], categories=list(labels)
        )
    params = dict(n_components=3, random_state=0)
    by_name = CategoricalMixture(covariates=["z1", "z2"], **params).fit(frame)
    codes = CategoricalMixture(covariates=[4, 5], **params).fit(X)
    assert list(by_name.categories_[0]) == list(labels)
    np.testing.assert_allclose(by_name.coef_, codes.coef_, atol=1e-12)
    np.testing.assert_allclose(by_name.predict_proba(frame), codes.predict_proba(X))
