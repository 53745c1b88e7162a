"""Multivariate Bernoulli mixture whose weights and success probabilities are learned."""

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.utils.validation import validate_data

from ._blocks import (
    BernoulliParams,
    bernoulli_log_prob,
    bernoulli_m_step,
    bernoulli_pass,
    has_nan,
    resp_stats,
    row_blocks,
    unique_binary_rows,
)
from ._em import _MixtureBase, fit_em
from ._validation import (
    ARRAY_LIKE,
    BOOLEAN,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_binary,
    check_probabilities,
    check_sample_weight,
    check_weights,
    validate_params,
)


def _is_binary(X):
    """True when every stored value of X is 0, 1 or NaN (checked block-wise)."""
    data = X.data if sp.issparse(X) else X
    if sp.issparse(X):
        return bool(np.all((data == 0) | (data == 1) | np.isnan(data)))
    for rows in row_blocks(X):
        block = data[rows]
        if not np.all((block == 0) | (block == 1) | np.isnan(block)):
            return False
    return True


def _binarize(X, threshold):
    """Map values above ``threshold`` to 1 and the rest to 0; NaN stays NaN.

    Returns X itself when it is already binary and the threshold keeps it
    so; otherwise a new array. The input is never modified.
    """
    if sp.issparse(X):
        if threshold < 0:
            raise ValueError(
                f"binarize={threshold} < 0 would turn the implicit zeros of a "
                "sparse X into ones; use a threshold >= 0 or dense input."
            )
        if 0 <= threshold < 1 and _is_binary(X):
            return X
        out = X.copy()
        out.data = np.where(np.isnan(out.data), np.nan, out.data > threshold).astype(
            X.dtype
        )
        out.eliminate_zeros()
        return out
    if 0 <= threshold < 1 and _is_binary(X):
        return X
    out = np.empty_like(X)
    for rows in row_blocks(X):
        block = X[rows]
        out[rows] = np.where(np.isnan(block), np.nan, block > threshold)
    return out


class BernoulliMixture(_MixtureBase):
    """Mixture of multivariate Bernoulli distributions, fitted by EM.

    Each sample is a vector of 0/1 features. It is drawn by first picking
    component ``k`` with probability ``weights_[k]``, then drawing every
    feature ``j`` independently as 1 with probability ``means_[k, j]``. Both
    the weights and the success probabilities are learned by EM. This is
    the latent class model of survey analysis and the Bernoulli mixture of
    Bishop's *Pattern Recognition and Machine Learning*, section 9.3.3.

    Dense and sparse inputs are supported (sparse input is never densified),
    and NaN entries are treated as missing at random: they are left out of
    the likelihood and of the parameter updates.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.

    tol : float, default=1e-3
        Convergence threshold: EM stops when the mean log-likelihood per
        sample changes by less than `tol` between two iterations.

    max_iter : int, default=100
        Maximum number of EM iterations per initialisation.

    n_init : int, default=1
        Number of initialisations; the one with the largest final
        log-likelihood is kept.

    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, \
            default="kmeans"
        How the starting responsibilities are chosen, as in
        :class:`~sklearn.mixture.GaussianMixture`: the labels of a k-means
        clustering, k-means++ seeds, random responsibilities, or randomly
        chosen rows of X.

    weights_init : array-like of shape (n_components,), default=None
        Starting weights; they override the ones from `init_params`. Used as
        given, never modified.

    means_init : array-like of shape (n_components, n_features), default=None
        Starting success probabilities in [0, 1]; they override the ones
        from `init_params`. Used as given, never modified.

    alpha : float, default=0.01
        Smoothing: the strength of a Beta(1 + alpha, 1 + alpha) prior on
        every success probability, so that
        ``means_ = (sum_i r_ik x_ij + alpha) / (sum_i r_ik + 2 alpha)``.
        The small default barely moves components with more than a handful
        of samples, yet keeps a feature never seen as 1 in a component from
        giving new samples a near-zero likelihood (which would dominate
        held-out scores). ``alpha=0`` gives the plain maximum likelihood
        update. Whatever `alpha`, probabilities are clipped to
        ``[eps, 1 - eps]`` (``eps`` the machine epsilon of the computation
        dtype) so no log-likelihood is ever infinite.

    binarize : float or None, default=0.0
        Threshold for turning X into 0/1: values above it become 1, the rest
        0, as in :class:`~sklearn.naive_bayes.BernoulliNB`. ``None`` means X
        must already hold only 0 and 1 (and NaN for missing values).

    warm_start : bool, default=False
        If True, each call to :meth:`fit` starts from the previous solution
        and `n_init` is ignored.

    random_state : int, RandomState instance or None, default=None
        Seed for the initialisation and for :meth:`sample`.

    verbose : int, default=0
        0 prints nothing, 1 prints the initialisations and iterations, 2 adds
        timings and the change of the log-likelihood.

    verbose_interval : int, default=10
        Number of iterations between two progress messages.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing weights (float64).

    means_ : ndarray of shape (n_components, n_features)
        Success probability of each feature in each component (float64).

    converged_ : bool
        True when the best initialisation converged.

    n_iter_ : int
        Number of EM iterations of the best initialisation.

    lower_bound_ : float
        Mean log-likelihood per sample at the start of the last iteration of
        the best initialisation.

    lower_bounds_ : list of float
        Mean log-likelihood at the start of each iteration of the best
        initialisation.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    FixedComponentMixture : Mixture of known components, learning only the
        weights.
    sklearn.mixture.GaussianMixture : Mixture of Gaussian distributions.

    Notes
    -----
    A float32 X is processed in float32 during :meth:`fit` (half the memory
    traffic); the fitted attributes are float64 and predictions are computed
    in float64 whatever the input dtype. NaN stored explicitly in a sparse
    matrix is a missing value; implicit zeros are observed zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import BernoulliMixture
    >>> X = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 1],
    ...               [0, 0, 1], [0, 0, 1], [0, 1, 1]])
    >>> mix = BernoulliMixture(n_components=2, random_state=0).fit(X)
    >>> mix.predict([[1, 1, 0], [0, 0, 1]])
    array([1, 0])
    >>> mix.weights_.round(2)
    array([0.5, 0.5])
    """

    _parameter_constraints = {
        "n_components": [Interval("int", 1, None)],
        "tol": [Interval("real", 0, None)],
        "max_iter": [Interval("int", 1, None)],
        "n_init": [Interval("int", 1, None)],
        "init_params": [Options("kmeans", "k-means++", "random", "random_from_data")],
        "weights_init": [ARRAY_LIKE, NONE],
        "means_init": [ARRAY_LIKE, NONE],
        "alpha": [Interval("real", 0, None)],
        "binarize": [Interval("real", None, None), NONE],
        "warm_start": [BOOLEAN],
        "random_state": [RANDOM_STATE],
        "verbose": [Interval("int", 0, None)],
        "verbose_interval": [Interval("int", 1, None)],
    }

    def __init__(
        self,
        n_components=1,
        *,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        alpha=0.01,
        binarize=0.0,
        warm_start=False,
        random_state=None,
        verbose=0,
        verbose_interval=10,
    ):
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.alpha = alpha
        self.binarize = binarize
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags

    def _validate_X(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr"],
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
        )
        if self.binarize is None:
            check_binary(X)
            return X
        return _binarize(X, self.binarize)

    def _initial_resp(self, X, sample_weight, random_state):
        n_samples, n_components = X.shape[0], self.n_components
        if self.init_params in ("kmeans", "k-means++"):
            X_init = _fill_missing(X)
        if self.init_params == "kmeans":
            labels = (
                KMeans(n_clusters=n_components, n_init=1, random_state=random_state)
                .fit(X_init, sample_weight=sample_weight)
                .labels_
            )
            resp = np.zeros((n_samples, n_components))
            resp[np.arange(n_samples), labels] = 1
        elif self.init_params == "k-means++":
            _, indices = kmeans_plusplus(
                X_init,
                n_components,
                sample_weight=sample_weight,
                random_state=random_state,
            )
            resp = np.zeros((n_samples, n_components))
            resp[indices, np.arange(n_components)] = 1
        elif self.init_params == "random":
            resp = random_state.uniform(size=(n_samples, n_components))
            resp /= resp.sum(axis=1, keepdims=True)
        else:  # random_from_data
            indices = random_state.choice(n_samples, size=n_components, replace=False)
            resp = np.zeros((n_samples, n_components))
            resp[indices, np.arange(n_components)] = 1
        return resp.astype(X.dtype, copy=False)

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the weights and success probabilities with EM.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples; NaN marks a missing value.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: an integer weight counts as that many copies
            of the row.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        validate_params(self, self._parameter_constraints)
        warm = self.warm_start and hasattr(self, "converged_")
        previous_n_features = getattr(self, "n_features_in_", None)
        X = self._validate_X(X, reset=True)
        n_samples, n_features = X.shape
        if n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {n_samples}."
            )
        if warm and (
            previous_n_features != n_features
            or self.means_.shape[0] != self.n_components
        ):
            raise ValueError(
                "warm_start=True continues from the previous fit, which had "
                f"{previous_n_features} features and {self.means_.shape[0]} "
                f"components; got {n_features} features and n_components="
                f"{self.n_components}. Set warm_start=False to start anew."
            )
        sample_weight = check_sample_weight(sample_weight, n_samples)
        weights_init = means_init = None
        if self.weights_init is not None:
            weights_init = check_weights(self.weights_init, self.n_components)
        if self.means_init is not None:
            means_init = check_probabilities(
                self.means_init, "means_init", shape=(self.n_components, n_features)
            )

        dtype = X.dtype
        clip_eps = float(np.finfo(dtype).eps)
        alpha = float(self.alpha)

        def initialize(random_state):
            weights, means = weights_init, means_init
            if weights is None or means is None:
                resp = self._initial_resp(X, sample_weight, random_state)
                stats = resp_stats(X, resp, sample_weight.astype(dtype))
                w_resp, m_resp = bernoulli_m_step(stats, alpha, clip_eps)
                weights = w_resp if weights is None else weights
                means = m_resp if means is None else means
            return weights, np.clip(means, clip_eps, 1 - clip_eps)

        # EM runs on the distinct rows with their total weight when that
        # halves the work; the initialisation above always sees every row.
        collapsed = unique_binary_rows(X)
        if collapsed is not None:
            first, inverse = collapsed
            X_em = X[first]
            weight_em = np.bincount(
                inverse, weights=sample_weight, minlength=first.size
            )
        else:
            X_em, weight_em = X, sample_weight
        total_weight = float(weight_em.sum())
        weight_em = weight_em.astype(dtype)
        missing = collapsed is None and has_nan(X_em)
        unit_weight = bool(np.all(weight_em == 1))

        def step(params):
            weights, means = params
            stats = bernoulli_pass(
                X_em,
                weight_em,
                BernoulliParams(weights, means, dtype),
                has_missing=missing,
                unit_weight=unit_weight,
            )
            return (
                bernoulli_m_step(stats, alpha, clip_eps),
                stats.log_lik / total_weight,
                None,
            )

        (weights, means), _ = fit_em(
            self,
            initialize=initialize,
            step=step,
            is_converged=lambda change, info: abs(change) < self.tol,
            n_init=self.n_init,
            warm_start_params=(self.weights_, self.means_) if warm else None,
            warm_start_lower_bound=self.lower_bound_ if warm else -np.inf,
            unconverged_message=lambda info: (
                "Best performing initialization did not converge. Try different "
                "init parameters, or increase max_iter, tol, or check for "
                "degenerate data."
            ),
        )
        self.weights_ = np.asarray(weights, dtype=np.float64)
        self.means_ = np.asarray(means, dtype=np.float64)
        return self

    def _estimate_log_prob(self, X):
        params = BernoulliParams(self.weights_, self.means_, np.float64)
        return bernoulli_log_prob(X, params)

    def _n_parameters(self):
        n_components, n_features = self.means_.shape
        return n_components * n_features + n_components - 1

    def _sample_component(self, k, n, rng):
        return (rng.random_sample((n, self.means_.shape[1])) < self.means_[k]).astype(
            np.float64
        )


def _fill_missing(X):
    """A copy of X for k-means seeding, NaN replaced by the column mean."""
    if sp.issparse(X):
        nan = np.isnan(X.data)
        if not nan.any():
            return X
        n_features = X.shape[1]
        observed_sum = np.bincount(
            X.indices[~nan], weights=X.data[~nan], minlength=n_features
        )
        n_observed = X.shape[0] - np.bincount(X.indices[nan], minlength=n_features)
        column_mean = np.where(
            n_observed > 0, observed_sum / np.maximum(n_observed, 1), 0.5
        )
        X = X.copy()
        X.data[nan] = column_mean[X.indices[nan]]
        return X
    nan = np.isnan(X)
    if not nan.any():
        return X
    column_mean = np.nanmean(np.where(nan.all(axis=0), 0.5, X), axis=0)
    return np.where(nan, column_mean, X).astype(X.dtype)
