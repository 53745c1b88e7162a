"""Latent class model for polytomous items: a mixture of independent categorical distributions."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from ._blocks import Stats, log_normalize_t, mixing_weights
from ._engine import InMemoryData
from ._inference import categorical_standard_errors
from ._learned import _LearnedMixture
from ._validation import (
    ARRAY_LIKE,
    BOOLEAN,
    COLUMNS,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
)
from ._xp import (
    XPCategoricalFamily,
    array_namespace,
    device,
    to_numpy,
    validate_floats,
)


class CategoricalParams:
    """Per-iteration logarithms of the parameters, computed once, used per block."""

    def __init__(self, weights, probs, dtype):
        self.n_components = len(weights)
        with np.errstate(divide="ignore"):
            self.log_weights = np.log(weights).astype(dtype)
            # (n_components, total categories): item j at offsets[j]:offsets[j+1].
            self.log_probs = np.ascontiguousarray(
                np.log(np.concatenate(probs, axis=1)), dtype=dtype
            )


class CategoricalFamily:
    """Independent categorical items given the component.

    Parameters are ``(weights, probs)``: mixing weights (n_components,) and a
    list over items of (n_components, n_categories[j]) category
    probabilities, each row summing to one. ``alpha`` is the symmetric
    Dirichlet(1 + alpha) prior of the M-step per item and component.

    A block of integer-coded rows is expanded to its one-hot coding (one
    block at a time, never all of X), so that the E-step and the M-step
    statistics are two matrix products, as for Bernoulli items.
    """

    def __init__(self, n_categories, *, alpha=0.0, dtype=np.float64):
        self.n_categories = np.asarray(n_categories, dtype=np.intp)
        self.offsets = np.concatenate([[0], np.cumsum(self.n_categories)])
        self.alpha = float(alpha)
        self.dtype = np.dtype(dtype)
        self.clip_eps = float(np.finfo(self.dtype).eps)

    @property
    def n_features(self):
        return self.n_categories.shape[0]

    # ------------------------------------------------------------ identity

    def for_prediction(self):
        return self

    def in_namespace(self, xp, device):
        """The same family computing with the Array API namespace ``xp`` on ``device``."""
        return XPCategoricalFamily(self, xp, device)

    def same_shape(self, other):
        return isinstance(other, CategoricalFamily) and np.array_equal(
            other.n_categories, self.n_categories
        )

    def describe(self):
        return f"{self.n_features} items with n_categories={self.n_categories.tolist()}"

    def n_parameters(self, n_components):
        return n_components - 1 + n_components * int((self.n_categories - 1).sum())

    # ---------------------------------------------------------- parameters

    def _split(self, flat):
        return [flat[:, a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def check_probs(self, probs, n_components, name):
        """Validate a list over items of (n_components, n_categories[j]) arrays."""
        if isinstance(probs, np.ndarray) or not hasattr(probs, "__len__"):
            raise TypeError(
                f"{name} must be a list with one array of shape (n_components, "
                "n_categories[j]) per item, like category_probs_; got "
                f"{type(probs).__name__}."
            )
        if len(probs) != self.n_features:
            raise ValueError(
                f"{name} has {len(probs)} arrays, but X has {self.n_features} "
                "items: give one (n_components, n_categories[j]) array per item."
            )
        out = []
        for j, (p, c) in enumerate(zip(probs, self.n_categories)):
            p = np.asarray(p)
            if p.dtype.kind not in "biuf":
                raise TypeError(f"{name}[{j}] must be numeric; got dtype {p.dtype}.")
            p = np.array(p, dtype=np.float64)
            if p.shape != (n_components, c):
                raise ValueError(
                    f"{name}[{j}] must have shape ({n_components}, {c}) (components "
                    f"x categories of item {j}); got shape {p.shape}."
                )
            if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
                raise ValueError(f"{name}[{j}] must hold probabilities in [0, 1].")
            if np.any(np.abs(p.sum(axis=1) - 1) > 1e-6):
                raise ValueError(
                    f"Each row of {name}[{j}] must sum to 1 (the probabilities "
                    f"of the categories of item {j} in one component); got sums "
                    f"{np.round(p.sum(axis=1), 6).tolist()}."
                )
            out.append(p)
        return out

    def clip(self, weights, probs):
        """Probabilities at least eps (then renormalised), so no log is -inf."""
        out = []
        for p in probs:
            p = np.maximum(np.asarray(p, dtype=np.float64), self.clip_eps)
            out.append(p / p.sum(axis=1, keepdims=True))
        return np.asarray(weights, dtype=np.float64), out

    def as_float64(self, probs):
        return [np.asarray(p, dtype=np.float64) for p in probs]

    def random_params(self, n_components, rng):
        """Equal weights and uniform random category probabilities (as poLCA)."""
        probs = []
        for c in self.n_categories:
            p = rng.uniform(size=(n_components, c))
            probs.append(p / p.sum(axis=1, keepdims=True))
        return self.clip(np.full(n_components, 1 / n_components), probs)

    def prepare(self, params):
        weights, probs = params
        return CategoricalParams(weights, probs, self.dtype)

    # --------------------------------------------------------------- blocks

    def one_hot(self, Xb):
        """One-hot coding (rows, total categories) of a block; NaN gives zeros."""
        n_rows = Xb.shape[0]
        out = np.zeros((n_rows, self.offsets[-1]), dtype=self.dtype)
        observed = ~np.isnan(Xb)
        rows, items = np.nonzero(observed)
        columns = self.offsets[items] + Xb[rows, items].astype(np.intp)
        out[rows, columns] = 1
        return out

    def log_prob(self, Xb, prepared):
        return self.one_hot(Xb) @ prepared.log_probs.T

    def block_stats(self, Xb, sw, prepared, *, has_missing=True, unit_weight=False):
        """E-step and M statistics of one block: ``nk`` and category counts."""
        onehot = self.one_hot(Xb)
        resp = prepared.log_probs @ onehot.T
        resp += prepared.log_weights[:, None]
        log_norm = log_normalize_t(resp)
        sw = sw.astype(self.dtype, copy=False)
        if not unit_weight:
            resp *= sw
        return Stats(
            nk=resp.sum(axis=1, dtype=np.float64),
            counts=(resp @ onehot).astype(np.float64, copy=False),
            log_lik=float(sw.astype(np.float64) @ log_norm),
            weight=float(sw.sum(dtype=np.float64)),
        )

    def resp_stats(self, Xb, resp, sw):
        resp_t = np.ascontiguousarray((resp * sw[:, None]).T, dtype=self.dtype)
        return Stats(
            nk=resp_t.sum(axis=1, dtype=np.float64),
            counts=(resp_t @ self.one_hot(Xb)).astype(np.float64, copy=False),
            weight=float(np.sum(sw, dtype=np.float64)),
        )

    def m_step(self, stats, smoothing=0.0):
        """Weights and category probabilities from summed statistics.

        ``probs[j][k, c] = (n_kjc + a) / (n_kj + C_j a)`` with ``a = alpha +
        smoothing``, where ``n_kjc`` is the responsibility of component
        ``k`` summed over the rows answering ``c`` to item ``j`` and
        ``n_kj`` its sum over the rows that answered item ``j`` (missing
        answers count nowhere): the posterior mode under a symmetric
        Dirichlet(1 + a) prior. An item no row of a component answered gets
        uniform probabilities there.
        """
        weights, tiny = mixing_weights(stats["nk"])
        a = self.alpha + smoothing
        probs = []
        for counts, c in zip(self._split(stats["counts"]), self.n_categories):
            observed = counts.sum(axis=1, keepdims=True)
            p = (counts + a) / np.maximum(observed + c * a, tiny)
            p = np.where(observed + c * a > tiny, p, 1.0 / c)
            probs.append(p)
        return self.clip(weights, probs)

    def map_probs(self, probs, value):
        return [np.full(tuple(p.shape), value) for p in probs]

    def parameter_names(self, n_components):
        names = [f"log(weights[{k}]/weights[0])" for k in range(1, n_components)]
        for k in range(n_components):
            for j, c in enumerate(self.n_categories):
                names += [
                    f"log(category_probs[{j}][{k}, {i}]/category_probs[{j}][{k}, 0])"
                    for i in range(1, c)
                ]
        return names

    def standard_errors(self, X, sample_weight, weights, probs, method):
        result = categorical_standard_errors(
            X,
            sample_weight,
            weights,
            probs,
            method=method,
            alpha=self.alpha,
            clip_eps=self.clip_eps,
        )
        result.probs_stderr = result.category_probs_stderr
        return result

    def indicators(self, Xb):
        """``(one-hot answers, observed)`` (rows, total categories), float64."""
        observed = np.repeat((~np.isnan(Xb)).astype(np.float64), self.n_categories, 1)
        return self.one_hot(Xb).astype(np.float64), observed

    def indicator_probs(self, probs):
        """Category probabilities (n_components, total categories) of ``indicators``."""
        return np.concatenate(probs, axis=1).astype(np.float64)

    @property
    def indicator_offsets(self):
        """Start of each item's columns in ``indicators`` (and the end)."""
        return self.offsets

    def kmeans_view(self, Xb):
        """One-hot rows for k-means; a missing item gets its column means."""
        onehot = self.one_hot(Xb)
        missing = np.isnan(Xb)
        if missing.any():
            for j in np.flatnonzero(missing.any(axis=0)):
                seen = ~missing[:, j]
                sl = slice(self.offsets[j], self.offsets[j + 1])
                fill = (
                    onehot[seen, sl].mean(axis=0)
                    if seen.any()
                    else np.full(self.n_categories[j], 1.0 / self.n_categories[j])
                )
                onehot[np.flatnonzero(~seen), sl] = fill
        return onehot

    def sample(self, probs, k, n, rng):
        out = np.empty((n, self.n_features))
        for j, p in enumerate(probs):
            cumulative = np.cumsum(p[k])
            cumulative[-1] = 1.0
            out[:, j] = np.searchsorted(cumulative, rng.random_sample(n), side="right")
        return out


def _max_code_block(Xb, sw):
    """Scan statistic: the largest code of each item among rows of positive weight."""
    if isinstance(Xb, np.ndarray):
        codes = np.where(np.isnan(Xb), -1.0, Xb)
        return Stats(max_code=codes.max(axis=0, initial=-1.0))
    xp = array_namespace(Xb)
    codes = xp.where(
        xp.isnan(Xb), xp.asarray(-1.0, dtype=Xb.dtype, device=device(Xb)), Xb
    )
    return Stats(max_code=xp.max(codes, axis=0))


class CategoricalMixture(_LearnedMixture):
    """Latent class model for polytomous items, fitted by EM.

    Each sample answers ``n_features`` items, item ``j`` with one of
    ``n_categories_[j]`` categories coded ``0 .. n_categories_[j] - 1``. A
    sample is drawn by first picking class ``k`` with probability
    ``weights_[k]``, then answering every item independently, category ``c``
    of item ``j`` with probability ``category_probs_[j][k, c]``. This is the
    latent class model of poLCA, Mplus and Latent GOLD for categorical
    indicators, beside :class:`BernoulliMixture` for 0/1 items the way
    :class:`~sklearn.naive_bayes.CategoricalNB` sits beside
    :class:`~sklearn.naive_bayes.BernoulliNB`.

    NaN marks a missing answer: it is left out of the likelihood and of the
    parameter updates (full-information maximum likelihood under missing at
    random). Items may have different numbers of categories.

    Parameters
    ----------
    n_components : int, default=1
        Number of latent classes.

    n_categories : array-like of int of shape (n_features,) or None, \
            default=None
        Number of categories of each item. ``None`` learns them from the
        data of :meth:`fit` (the largest code plus one, at least
        `min_categories`).

    min_categories : int, array-like of int of shape (n_features,) or None, \
            default=None
        Minimum number of categories of each item when `n_categories` is
        learned, as in :class:`~sklearn.naive_bayes.CategoricalNB`: for
        categories that a small training set never shows.

    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood per
        sample between two iterations.

    max_iter : int, default=100
        Maximum number of EM iterations per initialisation.

    n_init : int, default=1
        Number of initialisations; the best (highest log-likelihood) is kept.

    init_params : {"kmeans", "k-means++", "random", "random_from_data", \
            "random_params"}, default="kmeans"
        How starting posteriors are drawn: k-means labels on the one-hot
        coding of the items (on a random subset of rows when X is large),
        k-means++ seeds, random posteriors, or random rows as seeds; or
        ``"random_params"``, equal weights and uniform random category
        probabilities (poLCA's start). Starts from posteriors run their
        first M-step with one extra pseudo-count, so that no probability
        starts at exactly 0.

    weights_init : array-like of shape (n_components,), default=None
        Starting weights; replaces that part of the start.

    category_probs_init : list of array-like, default=None
        Starting category probabilities, a list shaped like
        `category_probs_`; replaces that part of the start.

    alpha : float, default=0.01
        Symmetric Dirichlet(1 + alpha) prior on the category probabilities
        of each item and class (the posterior mode is the estimate).
        ``alpha=0`` is maximum likelihood, what poLCA reports; a small
        positive value keeps every probability away from exactly 0, so that
        a category a class never showed in training does not give a new
        sample probability 0.

    se_method : {"hessian", "opg", "sandwich"} or None, default="hessian"
        How :meth:`fit` computes the standard errors of every parameter
        (`weights_stderr_`, `category_probs_stderr_`, `covariance_`):
        ``"hessian"``, the inverse observed information of the
        observed-data log-likelihood at the optimum (exact, by Louis'
        formula); ``"opg"``, the outer product of the per-row scores (what
        poLCA reports); ``"sandwich"``, the robust ``H^-1 OPG H^-1`` (Mplus'
        MLR); ``None`` skips the work (the errors are then NaN and
        `covariance_` is None). Above 2000 free parameters fit skips them
        with a warning (the covariance grows as their square); call
        :func:`~sklearn_bernoulli_mix.standard_errors` to compute them. With
        ``alpha > 0`` the Hessian is that of the log-posterior at its mode.
        Parameters on the boundary (a probability at its clip, an empty
        class) or not identified get NaN and a
        :class:`~sklearn_bernoulli_mix.NonIdentifiableWarning` naming them.
        Not computed on Dask input, by :meth:`partial_fit`, or for the item
        parameters of a model with `covariates` (whose ``coef_stderr_`` and
        ``intercept_stderr_`` fit always computes): NaN there. See
        :func:`~sklearn_bernoulli_mix.categorical_standard_errors`.
    covariates : int, str, slice, array-like of int, str or bool, or None, \
            default=None
        Columns of X that are covariates of class membership instead of
        items: column indices, a boolean mask over the columns, or column
        names when X is a pandas DataFrame, as
        :class:`~sklearn.compose.ColumnTransformer` takes them. The class
        probabilities of a row then follow a multinomial logit on its
        covariates (latent class regression), ``P(class = k | z) =
        softmax(z @ coef_.T + intercept_)[k]``; see `coef_` and the user
        guide's page on covariates. Every method takes the whole X (items
        and covariates). ``None`` is the model without covariates.

    warm_start : bool, default=False
        When True, :meth:`fit` continues from the fitted parameters.

    random_state : int, RandomState instance or None, default=None
        Seed of the initialisations.

    verbose : int, default=0
        Progress messages: 1 per initialisation, 2 per iteration, 3 a
        progress bar when tqdm is installed.

    verbose_interval : int, default=10
        Iterations between two progress messages.

    learning_decay : float, default=0.7
        Exponent of the step sizes of :meth:`partial_fit`, in (0.5, 1].

    learning_offset : float, default=10.0
        Offset of the step sizes of :meth:`partial_fit`.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Class sizes (mixing weights).

    category_probs_ : list of ndarray of shape (n_components, n_categories_[j])
        Category probabilities of each item in each class; every row sums
        to one.

    n_categories_ : ndarray of shape (n_features,)
        Number of categories of each item.

    categories_ : list of ndarray
        The categories of each item: the codes ``0 .. n_categories_[j] - 1``,
        or the categories of a pandas ``category`` column given to
        :meth:`fit` (whose codes are then the categories' positions).

    weights_stderr_ : ndarray of shape (n_components,)
        Standard errors of `weights_` (delta method from `covariance_`).

    category_probs_stderr_ : ndarray or list of ndarray, shaped like `category_probs_`
        Standard errors of `category_probs_` (delta method from `covariance_`).

    covariance_ : ndarray of shape (n_free, n_free) or None
        Covariance of the free parameters (None when not computed), in the order of
        `parameter_names_`: ``log(weights[k] / weights[0])`` for ``k >= 1``,
        then per class and item the log-ratios of the category probabilities to category 0.

    parameter_names_ : list of str
        Names of the free parameters of `covariance_`.
    coef_ : ndarray of shape (n_components, n_covariates)
        Only with `covariates`: the slopes of the multinomial logit of class
        membership. Class 0 is the reference: ``coef_[0]`` and
        ``intercept_[0]`` are 0, and ``coef_[k, j]`` is the change of the
        log odds of class ``k`` against class 0 per unit of covariate ``j``
        (the contrasts ``coef_[k] - coef_[0]`` that poLCA reports).

    intercept_ : ndarray of shape (n_components,)
        Only with `covariates`: the intercepts of the logit (``intercept_[0]
        = 0``).

    coef_stderr_ : ndarray of shape (n_components, n_covariates)
        Only with `covariates`: standard errors of `coef_` (0 for the
        reference class, NaN where the data do not identify a coefficient),
        from the inverse of the observed information of the observed-data
        log-likelihood (Louis' formula, exact) of all the parameters, so
        that they account for the item parameters being estimated too. On
        the logit scale; computed at the fitted values, which with
        ``alpha > 0`` are posterior modes.

    intercept_stderr_ : ndarray of shape (n_components,)
        Only with `covariates`: standard errors of `intercept_`, as
        `coef_stderr_`.

    n_covariates_ : int
        Only with `covariates`: the number of covariate columns.

    converged_ : bool
        True when the best initialisation converged.

    n_iter_ : int
        Number of EM iterations of the best initialisation.

    lower_bound_ : float
        Mean log-likelihood per sample at the start of the last iteration.

    lower_bounds_ : list of float
        Mean log-likelihood at the start of each iteration.

    n_features_in_ : int
        Number of items seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the items seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    BernoulliMixture : The same model for 0/1 items, also for sparse data.
    FixedComponentMixture : Mixture of known components; a fitted
        CategoricalMixture can be one of them.

    Notes
    -----
    Sparse input is not accepted: categorical items are few, and their
    codes are not sparse. A category that :meth:`fit` never saw (a code of
    ``n_categories_[j]`` or more) is an error at prediction time; fix the
    number of categories with `n_categories` (or `min_categories`) and a
    small `alpha` to give unseen categories a small probability instead.

    :meth:`fit` also accepts a row-chunked ``dask.array.Array`` (each chunk
    validated once per fit, statistics added on the workers), and
    :meth:`partial_fit` a stream of mini-batches in random order.

    With ``sklearn.config_context(array_api_dispatch=True)``, :meth:`fit` and the prediction methods also
    accept an Array API array (a PyTorch tensor or CuPy array, on a GPU
    too): EM and the predictions then run in its namespace, on its device,
    and the fitted arrays are arrays of that namespace (see
    :ref:`array_api`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import CategoricalMixture
    >>> X = np.array([[0, 2, 1], [0, 2, 1], [0, 2, 0],
    ...               [1, 0, 2], [1, 0, 2], [1, 1, 2]])
    >>> mix = CategoricalMixture(n_components=2, random_state=0).fit(X)
    >>> mix.n_categories_
    array([2, 3, 3])
    >>> mix.weights_.round(2)
    array([0.5, 0.5])
    >>> mix.predict([[0, 2, 1], [1, 0, 2]])
    array([1, 0])
    """

    _parameter_constraints = {
        "n_components": [Interval("int", 1, None)],
        "n_categories": [Interval("int", 1, None), ARRAY_LIKE, NONE],
        "min_categories": [Interval("int", 1, None), ARRAY_LIKE, NONE],
        "tol": [Interval("real", 0, None)],
        "max_iter": [Interval("int", 1, None)],
        "n_init": [Interval("int", 1, None)],
        "init_params": [
            Options(
                "kmeans", "k-means++", "random", "random_from_data", "random_params"
            )
        ],
        "weights_init": [ARRAY_LIKE, NONE],
        "category_probs_init": [ARRAY_LIKE, NONE],
        "alpha": [Interval("real", 0, None)],
        "se_method": [Options("hessian", "opg", "sandwich"), NONE],
        "covariates": [COLUMNS, NONE],
        "warm_start": [BOOLEAN],
        "random_state": [RANDOM_STATE],
        "verbose": [Interval("int", 0, None)],
        "verbose_interval": [Interval("int", 1, None)],
        "learning_decay": [Interval("real", 0.5, 1, closed="right")],
        "learning_offset": [Interval("real", 0, None)],
    }

    _probs_attr = "category_probs_"
    _probs_init_param = "category_probs_init"

    def __init__(
        self,
        n_components=1,
        *,
        n_categories=None,
        min_categories=None,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        category_probs_init=None,
        alpha=0.01,
        se_method="hessian",
        covariates=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        verbose_interval=10,
        learning_decay=0.7,
        learning_offset=10.0,
    ):
        self.n_components = n_components
        self.n_categories = n_categories
        self.min_categories = min_categories
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.category_probs_init = category_probs_init
        self.alpha = alpha
        self.se_method = se_method
        self.covariates = covariates
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = False
        # Integer-coded categories: scikit-learn's checks then feed codes.
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        tags.array_api_support = True
        return tags

    # ----------------------------------------------------------- validation

    def _validate_X(self, X, reset):
        if sp.issparse(X):
            raise TypeError(
                "CategoricalMixture does not take sparse input: give the items "
                "as a dense array of category codes (X.toarray()); categorical "
                "items are few and their codes are not sparse."
            )
        X, categories = self._codes_of_categories(X, reset)
        X = validate_data(
            self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan"
        )
        observed = ~np.isnan(X)
        with np.errstate(invalid="ignore"):
            negative = X < 0
        if negative.any():
            i, j = np.argwhere(negative)[0]
            raise ValueError(
                f"Negative values in data passed to CategoricalMixture: X must "
                f"hold category codes 0, 1, 2, ... or NaN; found {X[i, j]!r} at "
                f"row {i}, column {j}. Encode the categories first, e.g. with "
                "sklearn.preprocessing.OrdinalEncoder."
            )
        bad = observed & (X != np.floor(X))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(
                f"X must hold category codes 0, 1, 2, ... (whole numbers >= 0) or "
                f"NaN for a missing answer; found {X[i, j]!r} at row {i}, column "
                f"{j} ({int(bad.sum())} such value(s)). Encode the categories "
                "first, e.g. with sklearn.preprocessing.OrdinalEncoder."
            )
        if reset:
            self._fit_categories = categories
        elif hasattr(self, "n_categories_"):
            self._check_known_categories(X)
        return X

    def _validate_X_xp(self, X, reset, xp):
        """``_validate_X`` of an Array API X, in its namespace.

        The checks run on the device; a host copy of X is made only to name
        a bad value in the error.
        """
        X = validate_floats(self, X, reset, xp, float32=False)
        with np.errstate(invalid="ignore"):
            bad = (X < 0) | (~xp.isnan(X) & (X != xp.floor(X)))
            if not reset and hasattr(self, "n_categories_"):
                known = xp.asarray(self.n_categories_, dtype=X.dtype, device=device(X))
                bad = bad | (X >= known)
        if bool(xp.any(bad)):
            self._validate_X(to_numpy(X), reset)
        if reset:
            self._fit_categories = None
        return X

    def _codes_of_categories(self, X, reset):
        """pandas ``category`` columns replaced by their codes (NaN if missing)."""
        dtypes = getattr(X, "dtypes", None)
        if dtypes is None or not any(str(d) == "category" for d in dtypes):
            return X, None
        X = X.copy()
        known = getattr(self, "categories_", None) if not reset else None
        categories = []
        for j, name in enumerate(X.columns):
            column = X[name]
            if str(column.dtype) != "category":
                categories.append(None)
                continue
            if known is not None:
                column = column.cat.set_categories(known[j])
            codes = column.cat.codes.to_numpy().astype(np.float64)
            # A value outside the known categories is missing after
            # set_categories; tell it apart from a real NaN.
            if known is not None:
                unseen = column.isna().to_numpy() & X[name].notna().to_numpy()
                if unseen.any():
                    raise ValueError(
                        f"Column {name!r} holds a category that fit never saw: "
                        f"{X[name][unseen].iloc[0]!r}."
                    )
            codes[codes < 0] = np.nan
            X[name] = codes
            categories.append(np.asarray(column.cat.categories))
        return X, categories

    def _check_known_categories(self, X):
        n_categories = to_numpy(self.n_categories_)
        with np.errstate(invalid="ignore"):
            too_large = X >= n_categories
        if too_large.any():
            i, j = np.argwhere(too_large)[0]
            raise ValueError(
                f"X holds category {int(X[i, j])} of item {j} (row {i}), but the "
                f"model knows {n_categories[j]} categories (0 .. "
                f"{n_categories[j] - 1}) for that item. Refit with "
                "n_categories or min_categories covering every category."
            )

    def _convert_block(self, X):
        return np.asarray(X, dtype=np.float64)

    def _make_family(self, data, previous):
        dtype = data.dtype if data.dtype == np.float32 else np.float64
        n_features = data.n_features
        max_code = data.scan(_max_code_block)["max_code"]
        if previous is not None:
            n_categories = previous.n_categories
            source = "the fitted model has"
        elif self.n_categories is not None:
            n_categories = _int_array(self.n_categories, n_features, "n_categories")
            source = "n_categories gives"
        else:
            n_categories = np.maximum(max_code + 1, 1).astype(np.intp)
            if self.min_categories is not None:
                n_categories = np.maximum(
                    n_categories,
                    _int_array(self.min_categories, n_features, "min_categories"),
                )
        if np.any(max_code >= n_categories):
            j = int(np.argmax(max_code - n_categories))
            raise ValueError(
                f"X holds category {int(max_code[j])} of item {j}, but {source} "
                f"{n_categories[j]} categories (0 .. {n_categories[j] - 1}) for "
                "it. Give n_categories covering every category (and fit anew)."
            )
        return CategoricalFamily(n_categories, alpha=self.alpha, dtype=dtype)

    def _in_memory_data(self, X, sample_weight):
        return InMemoryData(X, sample_weight, has_missing=True)

    def _store(self, family, params):
        super()._store(family, params)
        self.n_categories_ = family.n_categories.copy()
        if getattr(family, "host", None) is not None:
            # Fitted on Array API arrays: every fitted array is in their namespace.
            self.n_categories_ = family.xp.asarray(
                self.n_categories_, device=family.device
            )
        fit_categories = getattr(self, "_fit_categories", None)
        self.categories_ = [
            np.arange(c)
            if fit_categories is None or fit_categories[j] is None
            else fit_categories[j]
            for j, c in enumerate(family.n_categories)
        ]

    # ------------------------------------------------------------- fitting

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the class sizes and category probabilities with EM.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Category codes ``0 .. n_categories[j] - 1`` of each item (whole
            floats accepted); NaN marks a missing answer. A pandas DataFrame
            may hold ``category`` columns, whose codes are used.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: an integer weight counts as that many copies
            of the row (e.g. the counts of a table of response patterns).

        Returns
        -------
        self : object
            The fitted mixture.
        """
        return super().fit(X, y, sample_weight=sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one mini-batch by stepwise (online) EM.

        The first call initialises the model from its batch and learns the
        numbers of categories from it (give `n_categories` when a first
        batch may not show every category); each later call makes one step
        of stepwise EM, as :meth:`BernoulliMixture.partial_fit` describes.
        Batches must come in random order (shuffled rows): stepwise EM
        averages over the stream, and sorted batches bias it towards the
        last ones. `converged_` is always False after partial_fit:
        stepwise EM has no stopping rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One mini-batch of category codes; NaN marks a missing answer.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows of the batch.

        Returns
        -------
        self : object
            The updated mixture.
        """
        return super().partial_fit(X, y, sample_weight=sample_weight)


def _int_array(value, n_features, name):
    """A per-item array of positive ints from an int or an array-like."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = np.full(n_features, int(value))
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" and not (
        arr.dtype.kind == "f" and np.all(arr == np.floor(arr))
    ):
        raise TypeError(f"{name} must hold integers; got {value!r}.")
    arr = arr.astype(np.intp)
    if arr.shape != (n_features,):
        raise ValueError(
            f"{name} must have one entry per item ({n_features}); got shape "
            f"{arr.shape}."
        )
    if np.any(arr < 1):
        raise ValueError(f"{name} must be at least 1 for every item; got {value!r}.")
    return arr
