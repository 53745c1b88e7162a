"""Threads, processes, serialisation and cloning.

A fitted estimator is read-only at prediction time, so predictions from
several threads must equal the serial ones; model selection with
``n_jobs=2`` must give the same search as ``n_jobs=1``; pickle and joblib
round-trips must predict identically; and ``clone`` must give an unfitted
estimator (keeping fitted-estimator *components* fitted).
"""

import io
import pickle
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KernelDensity
from sklearn.utils.validation import check_is_fitted

from sklearn_bernoulli_mix import BernoulliMixture, FixedComponentMixture

RNG = np.random.default_rng(0)
MEANS = np.array([[0.9, 0.8, 0.1, 0.2, 0.7], [0.1, 0.2, 0.9, 0.7, 0.3]])
Z = RNG.integers(0, 2, 400)
X_BIN = (RNG.random((400, 5)) < MEANS[Z]).astype(np.float64)
X_REAL = np.concatenate([RNG.normal(0, 1, (200, 2)), RNG.normal(3, 1, (200, 2))])
KDE_A = KernelDensity(bandwidth=0.8).fit(RNG.normal(0, 1, (100, 2)))
KDE_B = KernelDensity(bandwidth=0.8).fit(RNG.normal(3, 1, (100, 2)))
GM = GaussianMixture(1, random_state=0).fit(RNG.normal(1.5, 2, (100, 2)))


def _log_density_of_first_column(X):
    return stats.norm(1, 1).logpdf(X[:, 0]) + stats.norm(0, 5).logpdf(X[:, 1])


# name -> (factory, training data); every form of component is represented.
CONFIGS = {
    "bernoulli-mixture": (lambda: BernoulliMixture(2, random_state=0), X_BIN),
    "bernoulli-mixture-nan": (
        lambda: BernoulliMixture(2, random_state=0),
        np.where(RNG.random(X_BIN.shape) < 0.1, np.nan, X_BIN),
    ),
    "fixed-bernoulli": (lambda: FixedComponentMixture(MEANS), X_BIN),
    "fixed-scipy": (
        lambda: FixedComponentMixture([stats.norm(0, 1), stats.norm(3, 1)]),
        X_REAL,
    ),
    "fixed-estimators": (
        lambda: FixedComponentMixture([KDE_A, KDE_B, GM]),
        X_REAL,
    ),
    "fixed-callable": (
        lambda: FixedComponentMixture([stats.norm(0, 1), _log_density_of_first_column]),
        X_REAL,
    ),
    "fixed-precomputed": (
        lambda: FixedComponentMixture("precomputed"),
        np.column_stack([KDE_A.score_samples(X_REAL), KDE_B.score_samples(X_REAL)]),
    ),
}
PREDICTIONS = ["predict", "predict_proba", "score_samples"]


def fitted(name):
    factory, X = CONFIGS[name]
    return factory().fit(X), X


def predictions(est, X):
    out = {m: getattr(est, m)(X) for m in PREDICTIONS}
    out["score"] = np.array(est.score(X))
    out["bic"] = np.array(est.bic(X))
    return out


def assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONFIGS))
def test_predict_from_threads_equals_serial(name):
    est, X = fitted(name)
    chunks = [X[i::7] for i in range(7)] + [X] * 3
    serial = [predictions(est, chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        # Every chunk twice, interleaved, so several threads share one input.
        futures = [pool.submit(predictions, est, c) for c in chunks + chunks[::-1]]
        threaded = [f.result() for f in futures]
    for got, expected in zip(threaded, serial + serial[::-1]):
        assert_identical(got, expected)


@pytest.mark.parametrize(
    "name", ["bernoulli-mixture", "fixed-bernoulli", "fixed-estimators"]
)
def test_fits_in_threads_equal_serial_fits(name):
    factory, X = CONFIGS[name]
    subsets = [X[i::3] for i in range(3)] * 2

    def fit_and_report(Xs):
        est = factory().fit(Xs)
        return est.weights_.copy(), getattr(est, "means_", None), est.predict_proba(Xs)

    serial = [fit_and_report(Xs) for Xs in subsets]
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = list(pool.map(fit_and_report, subsets))
    for got, expected in zip(threaded, serial):
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


# ---------------------------------------------------------------------------
# Processes: GridSearchCV with joblib
# ---------------------------------------------------------------------------

SEARCHES = {
    "bernoulli-mixture": {"n_components": [1, 2, 3], "alpha": [0.0, 0.1]},
    "fixed-bernoulli": {"init_params": ["uniform", "random"], "tol": [1e-4, 1e-8]},
    "fixed-estimators": {"weights_init": [None, [0.2, 0.3, 0.5]]},
    "fixed-scipy": {"init_params": ["uniform", "random"]},
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_grid_search_with_two_processes_equals_serial(name):
    factory, X = CONFIGS[name]
    est = factory().set_params(random_state=0)
    cv = KFold(3, shuffle=True, random_state=0)
    searches = {}
    for n_jobs in (1, 2):
        searches[n_jobs] = GridSearchCV(est, SEARCHES[name], cv=cv, n_jobs=n_jobs).fit(
            X
        )
    serial, parallel = searches[1], searches[2]
    assert serial.best_params_ == parallel.best_params_
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert np.all(np.isfinite(parallel.cv_results_["mean_test_score"]))
    # The refitted best estimator predicts like a direct fit of those params.
    direct = clone(est).set_params(**parallel.best_params_).fit(X)
    assert_identical(predictions(parallel.best_estimator_, X), predictions(direct, X))
    # The score used is the mean log-likelihood of the held-out rows.
    train, test = next(cv.split(X))
    one = clone(est).set_params(**parallel.best_params_).fit(X[train])
    best = parallel.best_index_
    np.testing.assert_allclose(
        parallel.cv_results_["split0_test_score"][best],
        np.mean(one.score_samples(X[test])),
        rtol=1e-12,
    )


def test_grid_search_threading_backend():
    factory, X = CONFIGS["bernoulli-mixture"]
    grid = {"n_components": [1, 2, 3]}
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = GridSearchCV(factory(), grid, cv=3).fit(X)
    serial = GridSearchCV(factory(), grid, cv=3, n_jobs=1).fit(X)
    np.testing.assert_array_equal(
        threaded.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert threaded.best_params_ == serial.best_params_


# ---------------------------------------------------------------------------
# Serialisation
# ---------------------------------------------------------------------------

# Every configuration pickles: the callable component is a module-level
# function, pickled by reference like any scikit-learn callable parameter.
PICKLABLE = list(CONFIGS)
CANNOT_SAMPLE = ("fixed-precomputed", "fixed-callable")


def _joblib_round_trip(est, compress):
    buffer = io.BytesIO()
    joblib.dump(est, buffer, compress=compress)
    buffer.seek(0)
    return joblib.load(buffer)


ROUND_TRIPS = {
    "pickle": lambda est: pickle.loads(pickle.dumps(est)),
    "pickle-protocol-2": lambda est: pickle.loads(pickle.dumps(est, protocol=2)),
    "joblib": lambda est: _joblib_round_trip(est, 0),
    "joblib-compressed": lambda est: _joblib_round_trip(est, 3),
}


@pytest.mark.parametrize("trip", list(ROUND_TRIPS))
@pytest.mark.parametrize("name", PICKLABLE)
def test_round_trip_predicts_identically(name, trip):
    est, X = fitted(name)
    loaded = ROUND_TRIPS[trip](est)
    assert loaded is not est
    assert_identical(predictions(loaded, X), predictions(est, X))
    for attr in ("weights_", "means_", "weights_covariance_", "lower_bounds_"):
        if hasattr(est, attr):
            np.testing.assert_array_equal(getattr(loaded, attr), getattr(est, attr))
    # Samples drawn with the same seed agree too (where sampling is possible).
    if name not in CANNOT_SAMPLE:
        a, b = est.sample(25, random_state=3), loaded.sample(25, random_state=3)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("name", PICKLABLE)
def test_unfitted_round_trip_then_fit_equals_fit(name):
    factory, X = CONFIGS[name]
    loaded = pickle.loads(pickle.dumps(factory()))
    with pytest.raises(NotFittedError):
        loaded.predict(X)
    assert_identical(predictions(loaded.fit(X), X), predictions(factory().fit(X), X))


# ---------------------------------------------------------------------------
# clone
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONFIGS))
def test_clone_of_fitted_estimator_is_unfitted(name):
    est, X = fitted(name)
    expected = predictions(est, X)
    copy = clone(est)
    assert type(copy) is type(est)
    for method in [*PREDICTIONS, "score", "bic", "aic"]:
        with pytest.raises(NotFittedError):
            getattr(copy, method)(X)
    with pytest.raises(NotFittedError):
        copy.sample(3)
    for attr in ("weights_", "means_", "converged_", "n_features_in_", "lower_bounds_"):
        assert not hasattr(copy, attr)
    # The original is untouched, and fitting the clone gives the same model.
    assert_identical(predictions(est, X), expected)
    assert_identical(predictions(copy.fit(X), X), expected)


def test_clone_keeps_estimator_components_fitted():
    est, X = fitted("fixed-estimators")
    copy = clone(est)
    with pytest.raises(NotFittedError):
        copy.predict(X)
    assert len(copy.components) == 3
    for original, kept in zip(est.components, copy.components):
        check_is_fitted(kept)  # still fitted: they are known likelihoods
        np.testing.assert_array_equal(kept.score_samples(X), original.score_samples(X))
    # A deep clone of the parameters elsewhere must not unfit them either.
    nested = clone(clone(copy))
    for kept in nested.components:
        check_is_fitted(kept)
    np.testing.assert_array_equal(nested.fit(X).weights_, est.weights_)


def test_clone_does_not_share_mutable_parameters():
    weights_init = np.array([0.25, 0.75])
    est = BernoulliMixture(2, weights_init=weights_init, means_init=MEANS).fit(X_BIN)
    copy = clone(est)
    assert not np.shares_memory(copy.weights_init, weights_init)
    copy.weights_init[0] = 0.5
    assert weights_init[0] == 0.25
