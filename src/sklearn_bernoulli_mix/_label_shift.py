"""Re-estimating the class priors of a fitted classifier under label shift."""

import warnings

import numpy as np
from scipy.special import log_softmax, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._fixed import FixedComponentMixture
from ._intervals import _WeightsIntervalMixin
from ._validation import (
    ARRAY_LIKE,
    NONE,
    Interval,
    Options,
    check_sample_weight,
    validate_params,
)

# BCTS works on log-probabilities floored at log(1e-12): trees and forests
# give exact zeros, and a validation sample whose class got probability 0
# would otherwise dominate the log-loss (and drive the temperature to its
# bound).
_LOG_FLOOR = np.log(1e-12)

# BCTS keeps the temperature in [1 / _MAX_TEMPERATURE, _MAX_TEMPERATURE]: on
# validation data that the classifier separates perfectly, the log-loss has
# no minimum (it falls towards zero with the temperature).
_MAX_TEMPERATURE = 100.0

# Attributes from which the classes' training frequencies can be read, in
# the order tried: GaussianNB and DummyClassifier, the discriminant analyses,
# the naive Bayes classifiers that count.
_PRIOR_ATTRIBUTES = ("class_prior_", "priors_", "class_count_")


def _final_step(estimator):
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _training_priors(estimator):
    """The classifier's training class frequencies when it records them."""
    final = _final_step(estimator)
    for name in _PRIOR_ATTRIBUTES:
        value = getattr(final, name, None)
        if value is None:
            continue
        value = np.asarray(value, dtype=np.float64)
        if value.ndim == 1 and np.all(np.isfinite(value)) and value.sum() > 0:
            return value / value.sum(), f"{type(final).__name__}.{name}"
    return None, None


def _bcts_objective(params, z, y_index, w):
    """Weighted log-loss of ``softmax(a z + b)``, its gradient and Hessian.

    ``params = (a, b_1, ..., b_{K-1})`` with ``b_0 = 0``. The logits are
    linear in the parameters and the log-loss is convex in the logits, so
    the objective is convex: Newton's method finds its minimum.
    """
    n, n_classes = z.shape
    a, bias = params[0], np.concatenate([[0.0], params[1:]])
    log_p = log_softmax(a * z + bias, axis=1)
    rows = np.arange(n)
    value = -float(w @ log_p[rows, y_index])
    p = np.exp(log_p)
    resid = p.copy()
    resid[rows, y_index] -= 1.0
    wp = w[:, None] * p
    pz = np.einsum("ik,ik->i", p, z)
    grad = np.concatenate(
        [[float(w @ np.einsum("ik,ik->i", resid, z))], (w @ resid)[1:]]
    )
    # Hessian sum_i w_i D_i' (diag(p_i) - p_i p_i') D_i, with D_i = [z_i, e_1..].
    hess = np.empty((n_classes, n_classes))
    hess[0, 0] = float(w @ (np.einsum("ik,ik->i", p, z * z) - pz * pz))
    cross = (wp * (z - pz[:, None])).sum(axis=0)[1:]
    hess[0, 1:] = hess[1:, 0] = cross
    hess[1:, 1:] = np.diag(wp.sum(axis=0)[1:]) - wp[:, 1:].T @ p[:, 1:]
    return value, grad, hess


def fit_bcts(log_proba, y_index, sample_weight, *, max_iter=100, tol=1e-14):
    """Bias-corrected temperature scaling on validation log-probabilities.

    Minimises the weighted mean log-loss of
    ``log_softmax(log_proba / temperature + bias)`` over ``temperature > 0``
    and one ``bias`` per class (the first fixed at zero: adding a constant to
    every bias changes nothing). In ``a = 1 / temperature`` and the biases
    the problem is convex, and it is solved by Newton's method with a
    backtracking line search, which needs a handful of iterations where a
    first-order method struggles with the scales of ``a`` and the biases.
    ``a`` is kept in [0.01, 100], with a warning at a bound, and
    ``log_proba`` is floored at ``log(1e-12)``, so that the exact zeros of
    trees and forests have a finite log-loss.

    Returns ``(temperature, bias)``.
    """
    n_classes = log_proba.shape[1]
    z = np.maximum(log_proba, _LOG_FLOOR)
    w = sample_weight / sample_weight.sum()
    low, high = 1.0 / _MAX_TEMPERATURE, _MAX_TEMPERATURE
    params = np.zeros(n_classes)
    params[0] = 1.0
    value, grad, hess = _bcts_objective(params, z, y_index, w)
    for _ in range(max_iter):
        diag = np.diag(hess).copy()
        hess[np.diag_indices_from(hess)] += 1e-12 * max(diag.max(), 1e-300)
        try:
            step = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = -grad
        decrement = -float(grad @ step)
        if decrement / 2 <= tol:
            break
        # Stay inside the bounds on a.
        fraction = 1.0
        if params[0] + step[0] > high:
            fraction = (high - params[0]) / step[0]
        elif params[0] + step[0] < low:
            fraction = (low - params[0]) / step[0]
        improved = False
        while fraction > 1e-12:
            candidate = params + fraction * step
            new = _bcts_objective(candidate, z, y_index, w)
            if new[0] <= value - 1e-4 * fraction * decrement:
                params, (value, grad, hess) = candidate, new
                improved = True
                break
            fraction *= 0.5
        if not improved:
            break
    if params[0] <= low * (1 + 1e-9) or params[0] >= high * (1 - 1e-9):
        warnings.warn(
            f"The BCTS temperature reached its bound ({1 / params[0]:.3g}): the "
            "validation log-loss keeps falling as the temperature goes to 0 or "
            "infinity, which happens when the classifier separates the "
            "validation data perfectly (or is uninformative on it). The "
            "calibration is unreliable; use a larger validation set.",
            UserWarning,
            stacklevel=4,
        )
    bias = np.concatenate([[0.0], params[1:]])
    bias -= bias.mean()
    return float(1.0 / params[0]), bias


class LabelShiftAdapter(
    _WeightsIntervalMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator
):
    """Adapt a fitted classifier to new class proportions (label shift).

    A classifier trained where the classes have proportions ``p_s(y)`` (the
    *source*) is used where they have other, unknown proportions, while
    each class still looks the same (``p(x | y)`` unchanged). By Bayes'
    rule ``p(x | y)`` is proportional, for each ``x``, to
    ``p(y | x) / p_s(y)``: these are known component likelihoods, and
    :meth:`fit` on *unlabelled* target samples estimates the target
    proportions ``priors_`` by maximum likelihood over the simplex, as a
    :class:`FixedComponentMixture` with ``components="precomputed"``
    (the EM procedure of Saerens, Latinne & Decaestecker, 2002, solved with
    a certified optimality gap). :meth:`predict_proba` then gives the
    classifier's posteriors re-weighted to the estimated proportions.

    Parameters
    ----------
    estimator : classifier
        A fitted classifier with ``predict_proba`` and ``classes_`` (a
        :class:`~sklearn.pipeline.Pipeline` ending in one, or a
        :class:`~sklearn.calibration.CalibratedClassifierCV`). It is never
        refitted and stays fitted through :func:`~sklearn.base.clone`.
        Its probabilities should be calibrated on the source distribution
        (see `calibration`).

    source_priors : array-like of shape (n_classes,), default=None
        The class proportions of the data the classifier's probabilities
        refer to, in the order of ``estimator.classes_``. ``None`` takes
        them from the calibration data with ``calibration="bcts"``, or else
        from the classifier when it records them (``class_prior_``,
        ``priors_`` or ``class_count_``, as naive Bayes, discriminant
        analysis and dummy classifiers do); otherwise they must be given.

    calibration : {None, "bcts"}, default=None
        How the classifier's probabilities are recalibrated before the
        priors are estimated.

        - ``None``: used as they are. Right for a well-specified
          probabilistic model, or for a classifier already calibrated on
          held-out source data, e.g. with
          ``CalibratedClassifierCV(FrozenEstimator(clf), method="sigmoid")``
          (or ``"temperature"``, scikit-learn >= 1.8) fitted on a source
          validation set.
        - ``"bcts"``: bias-corrected temperature scaling (Alexandari,
          Kundaje & Shrikumar, 2020), fitted in :meth:`fit` on the labelled
          source validation data given as ``calibration_data``: the
          calibrated log-posteriors are ``log p(y | x) / T + b_y``
          renormalised, with one temperature ``T`` and one bias per class
          minimising the validation log-loss. The biases make the mean
          calibrated posterior match the validation class frequencies,
          which the EM on the priors relies on; over-confident classifiers
          (boosting, neural networks) need it most. Probabilities below
          1e-12 are raised to 1e-12 first, so that exact zeros (trees,
          forests) keep a finite log-loss.

    solver : {"sqp", "squarem", "em"}, default="sqp"
        Solver of the priors, as in :class:`FixedComponentMixture`.

    max_iter : int, default=1000
        Maximum number of solver iterations.

    tol : float, default=1e-8
        Certified gap at which the solver stops (mean log-likelihood per
        target sample), as in :class:`FixedComponentMixture`.

    Attributes
    ----------
    priors_ : ndarray of shape (n_classes,)
        Estimated class proportions of the target data.

    priors_covariance_ : ndarray of shape (n_classes, n_classes)
        Asymptotic covariance of `priors_` from the observed information,
        treating the classifier (and its calibration) as fixed.

    priors_stderr_ : ndarray of shape (n_classes,)
        Standard errors of `priors_`; near zero prefer
        :meth:`weights_interval` with ``method="profile"``.

    source_priors_ : ndarray of shape (n_classes,)
        The source class proportions used.

    calibration_temperature_ : float
        The BCTS temperature ``T`` (1.0 without calibration).

    calibration_bias_ : ndarray of shape (n_classes,)
        The BCTS biases, centred (zeros without calibration).

    converged_ : bool
        True when the certified gap reached `tol`.

    n_iter_ : int
        Number of solver iterations.

    gap_bound_ : float
        Certified bound on the gap of the mean log-likelihood at the end.

    See Also
    --------
    FixedComponentMixture : The mixture of known components fitted inside.

    Notes
    -----
    :meth:`weights_interval` gives confidence intervals of `priors_` (the
    mixing weights of the class likelihoods), by profile likelihood, Wald or
    bootstrap, with the classifier and its calibration held fixed.

    ``X`` is passed to the classifier as it is, and so is the calibration
    data; in a :class:`~sklearn.pipeline.Pipeline` that ends with this
    estimator, the earlier steps transform ``X`` but not
    ``calibration_data``, so keep the preprocessing inside the wrapped
    classifier (its own pipeline) when calibrating.

    The calibration data is a keyword of :meth:`fit`, not a constructor
    parameter: scikit-learn estimators take data only in ``fit``, and a
    ``Pipeline`` routes it there as
    ``pipe.fit(X, labelshiftadapter__calibration_data=(X_val, y_val))``.

    References
    ----------
    M. Saerens, P. Latinne and C. Decaestecker, "Adjusting the outputs of a
    classifier to new a priori probabilities: a simple procedure", Neural
    Computation 14(1), 21-41, 2002.

    A. Alexandari, A. Kundaje and A. Shrikumar, "Maximum likelihood with
    bias-corrected calibration is hard-to-beat at label shift adaptation",
    ICML 2020.

    Examples
    --------
    A classifier trained on balanced classes meets a sample with 80% of
    class 0:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_bernoulli_mix import LabelShiftAdapter
    >>> rng = np.random.RandomState(0)
    >>> y_source = np.repeat([0, 1], 500)
    >>> X_source = rng.normal(y_source[:, None], 1.0, size=(1000, 1))
    >>> clf = LogisticRegression().fit(X_source, y_source)
    >>> y_target = (rng.random_sample(2000) < 0.2).astype(int)
    >>> X_target = rng.normal(y_target[:, None], 1.0, size=(2000, 1))
    >>> adapter = LabelShiftAdapter(clf, source_priors=[0.5, 0.5]).fit(X_target)
    >>> adapter.priors_.round(2)
    array([0.79, 0.21])
    >>> adapter.weights_interval().round(2)
    array([[0.75, 0.84],
           [0.16, 0.25]])
    """

    _parameter_constraints = {
        "source_priors": [ARRAY_LIKE, NONE],
        "calibration": [Options("bcts"), NONE],
        "solver": [Options("em", "squarem", "sqp")],
        "max_iter": [Interval("int", 1, None)],
        "tol": [Interval("real", 0, None)],
    }
    _interval_weights_attr = "priors_"
    _interval_stderr_attr = "priors_stderr_"

    def __init__(
        self,
        estimator,
        *,
        source_priors=None,
        calibration=None,
        solver="sqp",
        max_iter=1000,
        tol=1e-8,
    ):
        self.estimator = estimator
        self.source_priors = source_priors
        self.calibration = calibration
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol

    def __sklearn_clone__(self):
        # The classifier is given fitted and is never refitted: a clone
        # shares it instead of cloning (and so unfitting) it.
        params = self.get_params(deep=False)
        estimator = params.pop("estimator")
        new = type(self)(
            estimator, **{k: clone(v, safe=False) for k, v in params.items()}
        )
        return new

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        try:
            inner = self.estimator.__sklearn_tags__()
            tags.input_tags = inner.input_tags
        except AttributeError:
            pass
        return tags

    @property
    def classes_(self):
        """The classes of the wrapped classifier, ndarray of shape (n_classes,)."""
        return self.estimator.classes_

    @property
    def n_features_in_(self):
        """Number of features of the wrapped classifier, when it records it."""
        return self.estimator.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names of the wrapped classifier, when it records them."""
        return self.estimator.feature_names_in_

    def _check_classifier(self):
        estimator = self.estimator
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"LabelShiftAdapter needs a classifier with predict_proba; "
                f"{type(estimator).__name__} has none. Use a probabilistic "
                "classifier, or wrap this one in "
                "sklearn.calibration.CalibratedClassifierCV."
            )
        try:
            check_is_fitted(estimator)
        except NotFittedError as exc:
            raise NotFittedError(
                f"The {type(estimator).__name__} given to LabelShiftAdapter is "
                "not fitted: fit it on labelled source data first; "
                "LabelShiftAdapter.fit only sees unlabelled target data."
            ) from exc
        if not hasattr(estimator, "classes_"):
            raise TypeError(
                f"LabelShiftAdapter needs a classifier with classes_; "
                f"{type(estimator).__name__} has none."
            )
        return np.asarray(estimator.classes_)

    def _raw_log_proba(self, X):
        proba = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        n_classes = len(self.estimator.classes_)
        if proba.ndim != 2 or proba.shape[1] != n_classes:
            raise ValueError(
                f"The classifier's predict_proba returned shape {proba.shape}; "
                f"expected (n_samples, {n_classes}), one column per class."
            )
        if not np.all(np.isfinite(proba)) or np.any(proba < 0):
            raise ValueError(
                "The classifier's predict_proba returned negative or non-finite "
                "values; they must be probabilities."
            )
        with np.errstate(divide="ignore"):
            return np.log(proba)

    def _calibrated_log_proba(self, X):
        log_proba = self._raw_log_proba(X)
        if not self._bcts_:
            return log_proba
        z = np.maximum(log_proba, _LOG_FLOOR)
        return log_softmax(
            z / self.calibration_temperature_ + self.calibration_bias_, axis=1
        )

    def _class_log_likelihood(self, X):
        """``log p(y | x) - log p_s(y)``: log p(x | y) up to a per-row term."""
        with np.errstate(divide="ignore"):
            return self._calibrated_log_proba(X) - np.log(self.source_priors_)

    def _fit_calibration(self, classes, calibration_data):
        if self.calibration is None:
            if calibration_data is not None:
                raise ValueError(
                    "calibration_data is only used with calibration='bcts'; "
                    "set calibration='bcts' or drop calibration_data."
                )
            self._bcts_ = False
            self.calibration_temperature_ = 1.0
            self.calibration_bias_ = np.zeros(len(classes))
            return None
        if calibration_data is None:
            raise ValueError(
                "calibration='bcts' fits the calibration on labelled source "
                "validation data: pass fit(X, calibration_data=(X_val, y_val)) "
                "or (X_val, y_val, sample_weight_val)."
            )
        if not isinstance(calibration_data, tuple | list) or len(
            calibration_data
        ) not in (2, 3):
            raise TypeError(
                "calibration_data must be a tuple (X_val, y_val) or "
                "(X_val, y_val, sample_weight_val)."
            )
        X_val, y_val = calibration_data[:2]
        y_val = np.asarray(y_val)
        if y_val.ndim != 1:
            raise ValueError(
                f"y_val must be 1-D, one label per row of X_val; got shape "
                f"{y_val.shape}."
            )
        unknown = ~np.isin(y_val, classes)
        if unknown.any():
            raise ValueError(
                f"y_val holds labels the classifier does not know, e.g. "
                f"{y_val[unknown][0]!r}; its classes are {classes.tolist()}."
            )
        weight_val = check_sample_weight(
            calibration_data[2] if len(calibration_data) == 3 else None,
            y_val.shape[0],
        )
        y_index = (
            np.searchsorted(classes, y_val)
            if _sorted(classes)
            else np.array([np.flatnonzero(classes == v)[0] for v in y_val])
        )
        freq = np.bincount(y_index, weights=weight_val, minlength=len(classes))
        if np.any(freq <= 0):
            missing = classes[freq <= 0]
            raise ValueError(
                f"Class(es) {missing.tolist()} have no (weighted) sample in the "
                "calibration data, so their bias cannot be fitted: give a "
                "validation set with every class."
            )
        log_proba = self._raw_log_proba(X_val)
        if log_proba.shape[0] != y_val.shape[0]:
            raise ValueError(
                f"X_val has {log_proba.shape[0]} rows but y_val has "
                f"{y_val.shape[0]} labels."
            )
        temperature, bias = fit_bcts(log_proba, y_index, weight_val)
        self._bcts_ = True
        self.calibration_temperature_ = temperature
        self.calibration_bias_ = bias
        return freq / freq.sum()

    def _resolve_source_priors(self, classes, calibration_priors):
        n_classes = len(classes)
        if self.source_priors is not None:
            priors = np.asarray(self.source_priors)
            if priors.dtype.kind not in "biuf":
                raise TypeError(
                    f"source_priors must be numeric, got dtype {priors.dtype}."
                )
            priors = np.array(priors, dtype=np.float64)
            if priors.shape != (n_classes,):
                raise ValueError(
                    f"source_priors has shape {priors.shape}, but the classifier "
                    f"has {n_classes} classes {classes.tolist()}: give one "
                    "proportion per class, in the order of estimator.classes_."
                )
            if not np.all(np.isfinite(priors)) or np.any(priors <= 0):
                raise ValueError(
                    "source_priors must be positive and finite: a class with "
                    "zero source proportion gives the classifier no information "
                    "on its likelihood."
                )
            if abs(priors.sum() - 1.0) > 1e-6:
                raise ValueError(
                    f"source_priors must sum to 1; got sum = {priors.sum():.8g}. "
                    "Divide by the sum to normalise."
                )
            return priors / priors.sum()
        if calibration_priors is not None:
            return calibration_priors
        priors, where = _training_priors(self.estimator)
        if priors is None:
            raise ValueError(
                f"source_priors=None, but {type(self.estimator).__name__} does "
                "not record its training class proportions: pass "
                "source_priors=np.bincount(y_train) / len(y_train) (in the order "
                "of classes_), or use calibration='bcts', which takes them from "
                "the calibration data."
            )
        if priors.shape != (n_classes,):
            raise ValueError(
                f"{where} has shape {priors.shape}, but the classifier has "
                f"{n_classes} classes: pass source_priors explicitly."
            )
        if np.any(priors <= 0):
            raise ValueError(
                f"{where} gives a class a zero training proportion; pass positive "
                "source_priors explicitly."
            )
        return priors

    def fit(self, X, y=None, sample_weight=None, *, calibration_data=None):
        """Estimate the class proportions of the unlabelled target samples X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Unlabelled target samples, in whatever form the classifier's
            ``predict_proba`` accepts.

        y : Ignored
            Not used: the target labels are unknown. Present for API
            consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the target samples.

        calibration_data : tuple, default=None
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``:
            labelled *source* samples not used to train the classifier, on
            which ``calibration="bcts"`` is fitted. Required with
            ``calibration="bcts"``, refused otherwise.

        Returns
        -------
        self : object
            The fitted adapter.
        """
        validate_params(self, self._parameter_constraints)
        classes = self._check_classifier()
        calibration_priors = self._fit_calibration(classes, calibration_data)
        self.source_priors_ = self._resolve_source_priors(classes, calibration_priors)
        log_lik = self._class_log_likelihood(X)
        sample_weight = check_sample_weight(sample_weight, log_lik.shape[0])
        impossible = np.flatnonzero(
            ~np.isfinite(log_lik.max(axis=1)) & (sample_weight > 0)
        )
        if impossible.size:
            shown = ", ".join(str(int(i)) for i in impossible[:10])
            raise ValueError(
                f"Row(s) {shown} of X get probability zero for every class from "
                "the classifier's predict_proba, so no class proportions explain "
                "them. Check these rows, or calibrate (calibration='bcts' keeps "
                "every probability positive)."
            )
        mixture = FixedComponentMixture(
            components="precomputed",
            solver=self.solver,
            max_iter=self.max_iter,
            tol=self.tol,
        )
        # Rows of zero weight take no part, even with zero likelihood.
        seen = sample_weight > 0
        mixture.fit(log_lik[seen], sample_weight=sample_weight[seen])
        self.priors_ = mixture.weights_
        self.priors_covariance_ = mixture.weights_covariance_
        self.priors_stderr_ = mixture.weights_stderr_
        self.converged_ = mixture.converged_
        self.n_iter_ = mixture.n_iter_
        self.gap_bound_ = mixture.gap_bound_
        self._interval_data_ = mixture._interval_data_
        return self

    def score(self, X, y, sample_weight=None):
        """Accuracy of the adjusted predictions on labelled target data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Target samples.

        y : array-like of shape (n_samples,)
            Their true labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            The share of the samples whose :meth:`predict` is their label.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def predict_log_proba(self, X):
        """Compute the log-posteriors adjusted to the estimated class proportions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, in the form the classifier accepts.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log p_t(y | x)``, proportional to
            ``p(y | x) priors_[y] / source_priors_[y]``.
        """
        check_is_fitted(self)
        with np.errstate(divide="ignore"):
            weighted = self._class_log_likelihood(X) + np.log(self.priors_)
        norm = logsumexp(weighted, axis=1)
        bad = np.flatnonzero(~np.isfinite(norm))
        if bad.size:
            shown = ", ".join(str(int(i)) for i in bad[:10])
            raise ValueError(
                f"Row(s) {shown} of X have zero likelihood under every class "
                "with positive estimated proportion; no posterior exists."
            )
        return weighted - norm[:, None]

    def predict_proba(self, X):
        """Compute the posteriors adjusted to the estimated class proportions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, in the form the classifier accepts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``p_t(y | x)``, each row summing to one, columns in the order of
            ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Predict the most probable class under the estimated proportions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, in the form the classifier accepts.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        labels = np.argmax(self.predict_log_proba(X), axis=1)
        return self.classes_[labels]


def _sorted(classes):
    try:
        return bool(np.all(classes[:-1] < classes[1:]))
    except TypeError:
        return False
