"""LabelShiftAdapter: target class priors from a fitted classifier's posteriors."""

import pickle

import numpy as np
import pytest
from scipy import stats
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_array

from sklearn_bernoulli_mix import FixedComponentMixture, LabelShiftAdapter

# Three classes, each a unit normal in one dimension.
MEANS = np.array([-1.0, 0.5, 2.0])
SOURCE = np.array([1 / 3, 1 / 3, 1 / 3])


class BayesClassifier(ClassifierMixin, BaseEstimator):
    """The exact posterior of the normal classes under given source priors.

    "Fitted" at construction (it learns nothing), so that the tests compare
    against known probabilities.
    """

    def __init__(self, means=tuple(MEANS), priors=tuple(SOURCE), temperature=1.0):
        self.means = means
        self.priors = priors
        self.temperature = temperature

    def fit(self, X=None, y=None):
        self.classes_ = np.arange(len(self.means))
        return self

    def predict_proba(self, X):
        X = check_array(X)
        logits = stats.norm.logpdf(X[:, [0]], loc=np.asarray(self.means)) + np.log(
            self.priors
        )
        # temperature < 1 makes the posteriors over-confident.
        return np.exp(log_softmax(logits / self.temperature, axis=1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def draw(priors, n, rng):
    y = rng.choice(len(priors), size=n, p=priors)
    return MEANS[y][:, None] + rng.normal(size=(n, 1)), y


def reference_em(proba, source, n_iter=100_000, tol=1e-14):
    """Saerens, Latinne & Decaestecker (2002), written out as in the paper."""
    priors = source.copy()
    for _ in range(n_iter):
        adjusted = proba * (priors / source)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        new = adjusted.mean(axis=0)
        if np.max(np.abs(new - priors)) < tol:
            priors = new
            break
        priors = new
    adjusted = proba * (priors / source)
    return priors, adjusted / adjusted.sum(axis=1, keepdims=True)


def test_equals_independent_em():
    rng = np.random.RandomState(0)
    X, _ = draw([0.6, 0.3, 0.1], 3000, rng)
    clf = BayesClassifier().fit()
    adapter = LabelShiftAdapter(clf, source_priors=SOURCE).fit(X)
    priors, posteriors = reference_em(clf.predict_proba(X), SOURCE)
    np.testing.assert_allclose(adapter.priors_, priors, atol=1e-7)
    np.testing.assert_allclose(adapter.predict_proba(X), posteriors, atol=1e-6)
    np.testing.assert_array_equal(adapter.predict(X), posteriors.argmax(axis=1))
    assert adapter.converged_ and adapter.gap_bound_ <= 1e-8
    # Without calibration the posteriors are used as they are.
    assert adapter.calibration_temperature_ == 1.0
    np.testing.assert_array_equal(adapter.calibration_bias_, np.zeros(3))


@pytest.mark.parametrize("solver", ["em", "squarem", "sqp"])
def test_priors_approach_truth_within_three_standard_errors(solver):
    rng = np.random.RandomState(1)
    truth = np.array([0.7, 0.2, 0.1])
    clf = BayesClassifier().fit()
    errors = []
    for n in (500, 5000, 50_000):
        X, _ = draw(truth, n, rng)
        adapter = LabelShiftAdapter(clf, source_priors=SOURCE, solver=solver).fit(X)
        error = np.abs(adapter.priors_ - truth)
        assert np.all(error <= 3 * adapter.priors_stderr_)
        # The standard errors shrink like 1 / sqrt(n).
        errors.append(adapter.priors_stderr_)
    np.testing.assert_allclose(errors[0] / errors[2], 10, rtol=0.35)


def test_no_shift_changes_nothing_beyond_noise():
    rng = np.random.RandomState(2)
    clf = BayesClassifier().fit()
    X, _ = draw(SOURCE, 20_000, rng)
    adapter = LabelShiftAdapter(clf, source_priors=SOURCE).fit(X)
    assert np.all(np.abs(adapter.priors_ - SOURCE) <= 3 * adapter.priors_stderr_)
    # Re-weighting by priors_ / SOURCE moves each log-odds by at most twice
    # the largest |log(priors_ / SOURCE)|, and a probability by at most a
    # quarter of its log-odds change.
    shift = np.max(np.abs(np.log(adapter.priors_ / SOURCE)))
    change = np.abs(adapter.predict_proba(X) - clf.predict_proba(X)).max()
    assert change <= shift / 2 + 1e-12
    assert shift < 0.1
    # Every profile interval holds the source priors.
    bounds = adapter.weights_interval()
    assert np.all((bounds[:, 0] <= SOURCE) & (SOURCE <= bounds[:, 1]))


def test_adjusted_posteriors_beat_unadjusted_under_shift():
    rng = np.random.RandomState(3)
    clf = BayesClassifier().fit()
    truth = np.array([0.8, 0.15, 0.05])
    X, y = draw(truth, 20_000, rng)
    adapter = LabelShiftAdapter(clf, source_priors=SOURCE).fit(X)
    # The true target posterior, by Bayes' rule with the true priors.
    oracle = BayesClassifier(priors=tuple(truth)).fit()

    def log_loss(p):
        return -np.mean(np.log(p[np.arange(len(y)), y]))

    assert log_loss(adapter.predict_proba(X)) < log_loss(clf.predict_proba(X))
    np.testing.assert_allclose(
        adapter.predict_proba(X), oracle.predict_proba(X), atol=0.03
    )
    assert adapter.score(X, y) > clf.score(X, y)


def test_intervals_equal_those_of_the_precomputed_mixture():
    rng = np.random.RandomState(4)
    clf = BayesClassifier().fit()
    X, _ = draw([0.9, 0.1, 0.0], 400, rng)
    adapter = LabelShiftAdapter(clf, source_priors=SOURCE).fit(X)
    log_lik = np.log(clf.predict_proba(X)) - np.log(SOURCE)
    mix = FixedComponentMixture(components="precomputed").fit(log_lik)
    np.testing.assert_allclose(adapter.priors_, mix.weights_, atol=1e-9)
    for method in ("profile", "wald"):
        np.testing.assert_allclose(
            adapter.weights_interval(method=method),
            mix.weights_interval(method=method),
            atol=1e-7,
        )
    bounds = adapter.weights_interval()
    # Class 2 is absent: its estimate may be zero and its interval starts at 0.
    assert bounds[2, 0] == 0.0
    boot = adapter.weights_interval(method="bootstrap", n_resamples=50, random_state=0)
    assert boot.shape == (3, 2) and np.all(boot[:, 0] <= boot[:, 1])


def test_sample_weight_equals_repetition():
    rng = np.random.RandomState(5)
    clf = BayesClassifier().fit()
    X, _ = draw([0.5, 0.3, 0.2], 300, rng)
    w = rng.randint(0, 4, size=300)
    a = LabelShiftAdapter(clf, source_priors=SOURCE).fit(X, sample_weight=w)
    b = LabelShiftAdapter(clf, source_priors=SOURCE).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(a.priors_, b.priors_, atol=1e-8)
    np.testing.assert_allclose(a.priors_stderr_, b.priors_stderr_, rtol=1e-6)
    np.testing.assert_allclose(a.weights_interval(), b.weights_interval(), atol=1e-7)


def test_clone_keeps_classifier_fitted_and_pipeline_last_step():
    rng = np.random.RandomState(6)
    X_s, y_s = draw(SOURCE, 1500, rng)
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_s, y_s)
    adapter = LabelShiftAdapter(clf, source_priors=SOURCE)
    copy = clone(adapter)
    assert copy.estimator is clf
    X_t, y_t = draw([0.7, 0.2, 0.1], 3000, rng)
    pipe = Pipeline([("identity", FunctionTransformer()), ("adapt", copy)])
    X_v, y_v = draw(SOURCE, 1500, rng)
    pipe.fit(X_t)
    np.testing.assert_allclose(
        pipe.predict_proba(X_t), adapter.fit(X_t).predict_proba(X_t)
    )
    # The calibration data is routed to the last step as a fit parameter.
    pipe.set_params(adapt__calibration="bcts")
    pipe.fit(X_t, adapt__calibration_data=(X_v, y_v))
    direct = LabelShiftAdapter(clf, calibration="bcts", source_priors=SOURCE)
    direct.fit(X_t, calibration_data=(X_v, y_v))
    np.testing.assert_allclose(pipe[-1].priors_, direct.priors_)
    assert pipe[-1].calibration_temperature_ == direct.calibration_temperature_
    assert pipe.score(X_t, y_t) == direct.score(X_t, y_t)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(restored.predict_proba(X_t), pipe.predict_proba(X_t))


def test_bcts_recovers_temperature_and_bias():
    # An over-confident classifier: exact logits with biases, divided by 0.4.
    rng = np.random.RandomState(7)
    bias = np.array([0.6, -0.2, -0.4])
    truth = BayesClassifier().fit()

    class Distorted(BayesClassifier):
        def predict_proba(self, X):
            logits = np.log(truth.predict_proba(X)) + bias
            return np.exp(log_softmax(logits / 0.4, axis=1))

    clf = Distorted().fit()
    X_v, y_v = draw(SOURCE, 40_000, rng)
    X_t, _ = draw([0.2, 0.2, 0.6], 5000, rng)
    adapter = LabelShiftAdapter(clf, calibration="bcts").fit(
        X_t, calibration_data=(X_v, y_v)
    )
    # Undoing the distortion: temperature 1 / 0.4 and bias -bias (centred).
    assert adapter.calibration_temperature_ == pytest.approx(2.5, rel=0.03)
    np.testing.assert_allclose(
        adapter.calibration_bias_, -(bias - bias.mean()), atol=0.04
    )
    np.testing.assert_allclose(adapter.source_priors_, np.bincount(y_v) / len(y_v))
    # With calibration the priors are right; without, they are biased.
    calibrated = np.abs(adapter.priors_ - [0.2, 0.2, 0.6]).max()
    raw = LabelShiftAdapter(clf, source_priors=SOURCE).fit(X_t)
    assert calibrated <= 3 * adapter.priors_stderr_.max()
    assert np.abs(raw.priors_ - [0.2, 0.2, 0.6]).max() > 3 * calibrated


def test_bcts_weights_and_tuple_of_three():
    rng = np.random.RandomState(8)
    clf = BayesClassifier(temperature=0.5).fit()
    X_v, y_v = draw(SOURCE, 600, rng)
    w = rng.randint(0, 3, size=600)
    X_t, _ = draw([0.3, 0.3, 0.4], 500, rng)
    a = LabelShiftAdapter(clf, calibration="bcts").fit(
        X_t, calibration_data=(X_v, y_v, w)
    )
    b = LabelShiftAdapter(clf, calibration="bcts").fit(
        X_t, calibration_data=(np.repeat(X_v, w, axis=0), np.repeat(y_v, w))
    )
    assert a.calibration_temperature_ == pytest.approx(
        b.calibration_temperature_, rel=1e-5
    )
    np.testing.assert_allclose(a.priors_, b.priors_, atol=1e-5)


def test_sklearn_calibrator_as_the_classifier():
    # A calibrated classifier of scikit-learn is wrapped like any other; the
    # source priors that make "no shift" a fixed point are its mean
    # calibrated posterior on the validation data.
    from sklearn.frozen import FrozenEstimator

    rng = np.random.RandomState(9)
    X_s, y_s = draw(SOURCE, 1000, rng)
    X_v, y_v = draw(SOURCE, 1000, rng)
    base = LogisticRegression(C=100).fit(X_s, y_s)
    calibrated = CalibratedClassifierCV(FrozenEstimator(base), method="sigmoid")
    calibrated.fit(X_v, y_v)
    source = calibrated.predict_proba(X_v).mean(axis=0)
    X_t, _ = draw([0.1, 0.3, 0.6], 2000, rng)
    adapter = LabelShiftAdapter(calibrated, source_priors=source).fit(X_t)
    priors, posteriors = reference_em(calibrated.predict_proba(X_t), source)
    np.testing.assert_allclose(adapter.priors_, priors, atol=1e-6)
    np.testing.assert_allclose(adapter.predict_proba(X_t), posteriors, atol=1e-5)
    # On the validation data itself the estimate is the source priors.
    same = LabelShiftAdapter(calibrated, source_priors=source).fit(X_v)
    np.testing.assert_allclose(same.priors_, source, atol=1e-6)


def test_source_priors_from_the_classifier():
    rng = np.random.RandomState(10)
    X_s, y_s = draw([0.5, 0.3, 0.2], 2000, rng)
    nb = GaussianNB().fit(X_s, y_s)
    adapter = LabelShiftAdapter(nb).fit(draw([0.2, 0.3, 0.5], 500, rng)[0])
    np.testing.assert_allclose(adapter.source_priors_, nb.class_prior_)
    piped = LabelShiftAdapter(
        make_pipeline(StandardScaler(), GaussianNB()).fit(X_s, y_s)
    )
    piped.fit(X_s)
    np.testing.assert_allclose(piped.source_priors_, np.bincount(y_s) / len(y_s))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def _fitted_logreg():
    rng = np.random.RandomState(11)
    X, y = draw(SOURCE, 300, rng)
    return LogisticRegression().fit(X, y), X, y


def test_source_priors_mismatch_with_classes():
    clf, X, _ = _fitted_logreg()
    with pytest.raises(ValueError, match="3 classes \\[0, 1, 2\\]"):
        LabelShiftAdapter(clf, source_priors=[0.5, 0.5]).fit(X)
    with pytest.raises(ValueError, match="sum to 1"):
        LabelShiftAdapter(clf, source_priors=[0.5, 0.5, 0.5]).fit(X)
    with pytest.raises(ValueError, match="positive"):
        LabelShiftAdapter(clf, source_priors=[0.5, 0.5, 0.0]).fit(X)
    with pytest.raises(TypeError, match="numeric"):
        LabelShiftAdapter(clf, source_priors=["a", "b", "c"]).fit(X)


def test_source_priors_required_when_unknown():
    clf, X, _ = _fitted_logreg()
    with pytest.raises(ValueError, match="does not record its training class"):
        LabelShiftAdapter(clf).fit(X)


def test_zero_likelihood_rows_are_named():
    class Hard(BayesClassifier):
        def predict_proba(self, X):
            p = super().predict_proba(X)
            p[np.asarray(X)[:, 0] > 3] = 0.0
            return p

    X = np.array([[0.0], [4.0], [1.0], [5.0]])
    with pytest.raises(ValueError, match="Row\\(s\\) 1, 3 of X get probability zero"):
        LabelShiftAdapter(Hard().fit(), source_priors=SOURCE).fit(X)
    # Rows of zero weight do not count.
    LabelShiftAdapter(Hard().fit(), source_priors=SOURCE).fit(
        X, sample_weight=[1, 0, 1, 0]
    )


def test_unfitted_or_non_probabilistic_classifier():
    _, X, y = _fitted_logreg()
    with pytest.raises(NotFittedError, match="fit it on labelled source data"):
        LabelShiftAdapter(LogisticRegression(), source_priors=SOURCE).fit(X)
    with pytest.raises(TypeError, match="predict_proba"):
        LabelShiftAdapter(LinearSVC().fit(X, y), source_priors=SOURCE).fit(X)
    with pytest.raises(NotFittedError):
        LabelShiftAdapter(LogisticRegression()).predict(X)


def test_calibration_data_errors():
    clf, X, y = _fitted_logreg()
    with pytest.raises(ValueError, match="calibration_data=\\(X_val, y_val\\)"):
        LabelShiftAdapter(clf, calibration="bcts").fit(X)
    with pytest.raises(ValueError, match="only used with calibration='bcts'"):
        LabelShiftAdapter(clf, source_priors=SOURCE).fit(X, calibration_data=(X, y))
    with pytest.raises(TypeError, match="tuple"):
        LabelShiftAdapter(clf, calibration="bcts").fit(X, calibration_data=X)
    with pytest.raises(ValueError, match="does not know"):
        LabelShiftAdapter(clf, calibration="bcts").fit(X, calibration_data=(X, y + 5))
    with pytest.raises(ValueError, match="no \\(weighted\\) sample"):
        LabelShiftAdapter(clf, calibration="bcts").fit(
            X, calibration_data=(X, np.where(y == 2, 0, y))
        )
    with pytest.raises(ValueError, match="rows but y_val has"):
        LabelShiftAdapter(clf, calibration="bcts").fit(X, calibration_data=(X[:-1], y))
    with pytest.raises(ValueError, match="calibration"):
        LabelShiftAdapter(clf, calibration="platt").fit(X)


def test_inputs_not_modified():
    clf, X, y = _fitted_logreg()
    priors = np.array(SOURCE)
    X_copy, y_copy, w = X.copy(), y.copy(), np.ones(len(X))
    LabelShiftAdapter(clf, calibration="bcts", source_priors=priors).fit(
        X, sample_weight=w, calibration_data=(X, y)
    )
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(priors, SOURCE)
    np.testing.assert_array_equal(w, 1.0)


# ---------------------------------------------------------------------------
# scikit-learn's estimator checks
# ---------------------------------------------------------------------------


class MeanLogistic(ClassifierMixin, BaseEstimator):
    """A fitted two-class classifier on the mean of any number of features.

    The estimator checks feed data of many shapes; a classifier fitted on
    one number of features would reject them all.
    """

    def __init__(self, slope=1.0):
        self.slope = slope

    def fit(self, X=None, y=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        X = check_array(X)
        p1 = 1.0 / (1.0 + np.exp(-self.slope * X.mean(axis=1)))
        return np.column_stack([1.0 - p1, p1])


UNSUPERVISED_FIT = (
    "LabelShiftAdapter.fit learns from unlabelled target data and ignores y "
    "(its classes are those of the wrapped, already fitted classifier), so the "
    "classifier checks about y and about learning from it do not apply"
)
DELEGATED_VALIDATION = (
    "X is validated by the wrapped classifier, which here accepts any number of "
    "features and records none; n_features_in_ is that of the classifier when "
    "it has one"
)
EXPECTED_FAILURES = {
    "check_classifiers_classes": UNSUPERVISED_FIT,
    "check_classifiers_train": UNSUPERVISED_FIT,
    "check_classifiers_regression_target": UNSUPERVISED_FIT,
    "check_supervised_y_no_nan": UNSUPERVISED_FIT,
    "check_supervised_y_2d": UNSUPERVISED_FIT,
    "check_n_features_in_after_fitting": DELEGATED_VALIDATION,
    "check_n_features_in": DELEGATED_VALIDATION,
}


@parametrize_with_checks(
    [
        LabelShiftAdapter(MeanLogistic().fit(), source_priors=[0.5, 0.5]),
        LabelShiftAdapter(
            MeanLogistic(slope=2.0).fit(), source_priors=[0.5, 0.5], solver="em"
        ),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_bcts_minimises_the_validation_log_loss():
    # The optimum against an independent quasi-Newton minimisation of the
    # same log-loss, with weights.
    from scipy import optimize

    from sklearn_bernoulli_mix._label_shift import fit_bcts

    rng = np.random.RandomState(12)
    n, k = 400, 4
    z = log_softmax(
        rng.normal(size=(n, k)) * 2 + 1.5 * np.eye(k)[rng.randint(0, k, n)], axis=1
    )
    y = np.array(
        [
            rng.choice(k, p=np.exp(row))
            for row in z / 0.5 - np.log(np.exp(z / 0.5).sum(1, keepdims=True))
        ]
    )
    w = rng.uniform(0.5, 2.0, size=n)

    def loss(params):
        log_p = log_softmax(params[0] * z + np.r_[0.0, params[1:]], axis=1)
        return -np.average(log_p[np.arange(n), y], weights=w)

    ref = optimize.minimize(
        loss, np.r_[1.0, np.zeros(k - 1)], method="BFGS", options={"gtol": 1e-10}
    )
    temperature, bias = fit_bcts(z, y, w)
    assert 1 / temperature == pytest.approx(ref.x[0], rel=1e-5)
    ref_bias = np.r_[0.0, ref.x[1:]]
    np.testing.assert_allclose(bias, ref_bias - ref_bias.mean(), atol=1e-5)
    assert loss(np.r_[1 / temperature, (bias - bias[0])[1:]]) <= ref.fun + 1e-10


def test_bcts_warns_at_the_temperature_bound():
    # Validation labels that are always the class the classifier finds least
    # likely: the log-loss falls as the temperature goes to infinity (it
    # would even want a negative inverse temperature), so the bound is hit.
    clf = BayesClassifier(means=(-1.0, 1.0), priors=(0.5, 0.5)).fit()
    rng = np.random.RandomState(13)
    X_v = rng.normal(size=(300, 1)) * 2
    y_v = clf.predict_proba(X_v).argmin(axis=1)
    with pytest.warns(UserWarning, match="temperature reached its bound \\(100\\)"):
        LabelShiftAdapter(clf, calibration="bcts").fit(X_v, calibration_data=(X_v, y_v))


def test_string_classes_and_feature_names():
    import pandas as pd

    rng = np.random.RandomState(14)
    names = np.array(["cat", "dog", "eel"])
    X_s, y_s = draw(SOURCE, 1500, rng)
    X_v, y_v = draw(SOURCE, 1000, rng)
    X_t, y_t = draw([0.6, 0.3, 0.1], 1000, rng)
    frame = pd.DataFrame(X_s, columns=["x"])
    clf = LogisticRegression().fit(frame, names[y_s])
    adapter = LabelShiftAdapter(clf, calibration="bcts").fit(
        pd.DataFrame(X_t, columns=["x"]),
        calibration_data=(pd.DataFrame(X_v, columns=["x"]), names[y_v]),
    )
    np.testing.assert_array_equal(adapter.classes_, names)
    np.testing.assert_array_equal(adapter.feature_names_in_, ["x"])
    assert adapter.n_features_in_ == 1
    # Labels are the classifier's, and the same as with integer classes.
    ints = LabelShiftAdapter(LogisticRegression().fit(X_s, y_s), calibration="bcts")
    ints.fit(X_t, calibration_data=(X_v, y_v))
    np.testing.assert_allclose(adapter.priors_, ints.priors_, atol=1e-6)
    assert set(adapter.predict(pd.DataFrame(X_t, columns=["x"]))) <= set(names)
