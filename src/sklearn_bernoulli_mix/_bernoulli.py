"""Multivariate Bernoulli mixture whose weights and success probabilities are learned."""

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.utils.validation import validate_data

from . import _fast
from ._blocks import (
    BernoulliParams,
    BernoulliStats,
    bernoulli_log_prob,
    bernoulli_m_step,
    bernoulli_pass,
    block_m_stats,
    compute_dtype,
    has_nan,
    labels_stats,
    random_resp_stats,
    row_blocks,
    split_missing,
    unique_binary_rows,
)
from ._dask import fit_bernoulli as _fit_dask
from ._dask import is_dask_array
from ._em import _MixtureBase, fit_em
from ._online import bernoulli_partial_fit
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
        3 shows a progress bar over the iterations of each initialisation
        when tqdm is installed (the messages of 2 otherwise).

    verbose_interval : int, default=10
        Number of iterations between two progress messages.

    learning_decay : float, default=0.7
        Exponent ``kappa`` of the step size
        ``eta_t = (learning_offset + t) ** (-kappa)`` of the stepwise EM of
        :meth:`partial_fit`, in (0.5, 1]: the step sizes then sum to
        infinity while their squares do not, so the running statistics
        converge. Smaller values forget old batches faster. Not used by
        :meth:`fit`.

    learning_offset : float, default=10.0
        Offset ``tau_0 >= 0`` of the step size of :meth:`partial_fit`:
        larger values make the early steps smaller, so that the first
        batches, seen under poor parameters, weigh less. Not used by
        :meth:`fit`.

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

    :meth:`fit` and the prediction methods also accept a
    ``dask.array.Array`` chunked along the rows, with dense or scipy.sparse
    chunks. Each EM iteration maps the E-step and the sufficient statistics
    over the chunks and adds them up on the workers: only the parameters
    travel to the client, X is never gathered, and the result is that of
    the in-memory fit from the same start. The initialisation then runs
    `init_params` on ``min(n_samples, max(10000, 100 * n_components))``
    rows drawn at random with `random_state` (a new sample for each of the
    `n_init` starts; nothing is drawn when both `weights_init` and
    `means_init` are given). Chunks along the features are merged when the
    merged chunks stay within twice Dask's ``array.chunk-size`` (256 MiB by
    default) and rejected otherwise. Predictions on a Dask array are lazy
    Dask arrays chunked like X. For a stream of mini-batches (slices of a
    np.memmap, an HDF5 or zarr array, a generator), use :meth:`partial_fit`.

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
        "learning_decay": [Interval("real", 0.5, 1, closed="right")],
        "learning_offset": [Interval("real", 0, None)],
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
        learning_decay=0.7,
        learning_offset=10.0,
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
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags

    def _validate_X(self, X, reset, keep_integer=False):
        # With the compiled kernel, ``fit`` reads bool/uint8/int8 X as it is
        # (EM then runs in float64); elsewhere X is converted to float.
        dtypes = [np.float64, np.float32]
        if (
            keep_integer
            and _fast.HAVE_KERNEL
            and isinstance(X, np.ndarray)
            and X.dtype in (np.bool_, np.uint8, np.int8)
        ):
            dtypes.append(X.dtype)
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr"],
            dtype=dtypes,
            ensure_all_finite="allow-nan",
        )
        if self.binarize is None:
            check_binary(X)
            return X
        return _binarize(X, self.binarize)

    def _initial_stats(self, X, sample_weight, random_state):
        """Sufficient statistics of the starting responsibilities.

        Never builds the (n_samples, n_components) responsibility matrix:
        one-hot starts use the chosen rows or labels, and random ones are
        drawn in fixed-size chunks of rows (the same stream of numbers as
        one draw of the whole matrix).
        """
        n_samples, n_components = X.shape[0], self.n_components
        if self.init_params in ("random_from_data", "k-means++"):
            if self.init_params == "random_from_data":
                indices = random_state.choice(
                    n_samples, size=n_components, replace=False
                )
            else:
                seeding = _kmeans_sample(X, n_components, random_state)
                _, chosen = kmeans_plusplus(
                    _fill_missing(X[seeding]),
                    n_components,
                    sample_weight=sample_weight[seeding],
                    random_state=random_state,
                )
                indices = seeding[chosen]
            stats = BernoulliStats(n_components, X.shape[1])
            filled, missing = split_missing(X[indices])
            resp = np.eye(n_components, dtype=compute_dtype(X))
            stats.add(*block_m_stats(resp, filled, missing, sample_weight[indices]))
            return stats
        if self.init_params == "kmeans":
            seeding = _kmeans_sample(X, n_components, random_state)
            kmeans = KMeans(
                n_clusters=n_components, n_init=1, random_state=random_state
            )
            kmeans.fit(_fill_missing(X[seeding]), sample_weight=sample_weight[seeding])
            centres = kmeans.cluster_centers_
            if seeding.size == n_samples:
                labels = kmeans.labels_
            else:
                labels = _nearest_centre(X, centres)
            return labels_stats(X, labels, n_components, sample_weight)
        return random_resp_stats(X, n_components, sample_weight, random_state)

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the weights and success probabilities with EM.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape \
                (n_samples, n_features)
            Training samples; NaN marks a missing value. A
            ``dask.array.Array`` is fitted chunk by chunk and never gathered
            (see Notes).

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: an integer weight counts as that many copies
            of the row. With a Dask `X` it may be a Dask array with the row
            chunks of `X`.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        if is_dask_array(X):
            return _fit_dask(self, X, sample_weight)
        validate_params(self, self._parameter_constraints)
        warm = self.warm_start and hasattr(self, "converged_")
        previous_n_features = getattr(self, "n_features_in_", None)
        X = self._validate_X(X, reset=True, keep_integer=True)
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

        dtype = compute_dtype(X)
        clip_eps = float(np.finfo(dtype).eps)
        alpha = float(self.alpha)

        def initialize(random_state):
            weights, means = weights_init, means_init
            if weights is None or means is None:
                stats = self._initial_stats(X, sample_weight, random_state)
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
        weight_em = weight_em.astype(dtype, copy=False)
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

        return run_bernoulli_em(self, initialize, step, warm)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one mini-batch by stepwise (online) EM.

        The first call initialises the model from its batch (with
        `init_params`, or `weights_init` and `means_init`; of `n_init`
        starts, the one that explains the batch best) and makes one EM step
        on it, as ``fit`` with ``max_iter=1`` would. Like EM, stepwise EM
        reaches a local maximum that depends on this start, so `n_init` > 1
        or a large first batch help. Each later call
        makes one step of stepwise EM (Cappé & Moulines, 2009; Liang &
        Klein, 2009): the running average ``s`` of the sufficient
        statistics per unit of sample weight becomes
        ``(1 - eta_t) * s + eta_t * s_batch``, where ``s_batch`` comes from
        the batch's E-step under the current parameters and
        ``eta_t = (learning_offset + t) ** (-learning_decay)``, ``t = 1, 2,
        ...`` counting the earlier updates; the parameters are then the
        M-step of ``s``. `alpha` keeps its meaning from :meth:`fit` on the
        total sample weight ``N`` seen so far:
        ``means_ = (N * s_x + alpha) / (N * s_observed + 2 * alpha)``, so
        after one pass over a data set the prior is that of :meth:`fit` on
        it (and weaker by the number of passes after several).

        Batches may be slices of a np.memmap or of an HDF5 (h5py) or zarr
        array, or the items of a generator. A call after :meth:`fit`
        continues from the fitted parameters with a new running average;
        :meth:`fit` after partial_fit starts anew. Each call sets the
        attributes that :meth:`fit` sets: `lower_bound_` is the mean
        log-likelihood of the batch under the incoming parameters,
        `lower_bounds_` lists it for every call, `n_iter_` counts the calls
        and `converged_` is always False (stepwise EM has no stopping rule).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One mini-batch; NaN marks a missing value. Every batch must have
            the features of the first.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows of the batch.

        Returns
        -------
        self : object
            The updated mixture.

        See Also
        --------
        fit : Fit on all the data at once, also on a Dask array.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_bernoulli_mix import BernoulliMixture
        >>> rng = np.random.RandomState(0)
        >>> means = np.array([[0.9, 0.9, 0.1, 0.1], [0.1, 0.2, 0.8, 0.9]])
        >>> y = rng.randint(2, size=3000)
        >>> X = (rng.random_sample((3000, 4)) < means[y]).astype(int)
        >>> mix = BernoulliMixture(n_components=2, random_state=0)
        >>> for batch in np.array_split(X, 30):
        ...     mix = mix.partial_fit(batch)
        >>> mix.means_.round(1)
        array([[0.1, 0.2, 0.8, 0.9],
               [0.9, 0.9, 0.1, 0.1]])
        >>> mix.n_iter_
        30
        """
        return bernoulli_partial_fit(self, X, sample_weight)

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


def run_bernoulli_em(estimator, initialize, step, warm):
    """Run the EM driver for a Bernoulli mixture and store its parameters.

    Shared by the in-memory and the Dask fits, which differ only in how a
    ``step`` passes over the data.
    """
    (weights, means), _ = fit_em(
        estimator,
        initialize=initialize,
        step=step,
        is_converged=lambda change, info: abs(change) < estimator.tol,
        n_init=estimator.n_init,
        warm_start_params=(estimator.weights_, estimator.means_) if warm else None,
        warm_start_lower_bound=estimator.lower_bound_ if warm else -np.inf,
        unconverged_message=lambda info: (
            "Best performing initialization did not converge. Try different "
            "init parameters, or increase max_iter, tol, or check for "
            "degenerate data."
        ),
    )
    estimator.weights_ = np.asarray(weights, dtype=np.float64)
    estimator.means_ = np.asarray(means, dtype=np.float64)
    return estimator


# Above this many rows, k-means (and its ++ seeding) runs on a random subset
# of rows: enough for a start, with time and memory that do not grow with n.
_KMEANS_MAX_ROWS = 10_000


def _kmeans_sample(X, n_components, random_state):
    """Indices of the rows k-means sees: all of them, or a random subset."""
    n_samples = X.shape[0]
    size = max(_KMEANS_MAX_ROWS, 50 * n_components)
    if n_samples <= size:
        return np.arange(n_samples)
    return np.sort(random_state.choice(n_samples, size=size, replace=False))


def _nearest_centre(X, centres):
    """Label of the nearest centre of every row, block by block."""
    labels = np.empty(X.shape[0], dtype=np.intp)
    centre_sq = (centres**2).sum(axis=1)
    for rows in row_blocks(X, centres.shape[0]):
        block = _fill_missing(X[rows])
        # |x - c|^2 up to the row's own |x|^2, which does not change the argmin.
        dist = centre_sq - 2 * np.asarray(block @ centres.T)
        labels[rows] = dist.argmin(axis=1)
    return labels


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
