"""Multivariate Bernoulli mixture whose weights and success probabilities are learned."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from . import _fast
from ._blocks import (
    Stats,
    has_nan,
    log_normalize_t,
    mixing_weights,
    row_blocks,
    split_missing,
    unique_binary_rows,
)
from ._engine import InMemoryData
from ._inference import bernoulli_standard_errors
from ._learned import _LearnedMixture
from ._validation import (
    ARRAY_LIKE,
    BOOLEAN,
    COLUMNS,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_binary,
    check_probabilities,
    sum_duplicates,
)
from ._xp import XPBernoulliFamily, binarize_xp, check_binary_xp, validate_floats


class BernoulliParams:
    """Per-iteration logarithms of the parameters, computed once, used per block.

    Attributes are cast to the computation dtype.
    """

    def __init__(self, weights, means, dtype):
        means = np.asarray(means, dtype=np.float64)
        self.n_components = means.shape[0]
        with np.errstate(divide="ignore"):
            self.log_weights = np.log(weights).astype(dtype)
            log_p = np.log(means)
            log_q = np.log1p(-means)
        # Exact 0 and 1 (known components may have them) rule rows out; finite
        # stand-ins keep 0 * log(0) out of the products, and the rows they
        # rule out are set to -inf afterwards.
        self.exact = bool(np.any(means == 0) or np.any(means == 1))
        if self.exact:
            self.never_one = (means == 0).astype(dtype)
            self.never_zero = (means == 1).astype(dtype)
            log_p = np.where(means > 0, log_p, 0.0)
            log_q = np.where(means < 1, log_q, 0.0)
        self.log_q = log_q.astype(dtype)
        # (n_components, n_features): the E product is log_odds @ X.T.
        self.log_odds = np.ascontiguousarray(log_p - log_q, dtype=dtype)
        self.log_q_sum = log_q.sum(axis=1).astype(dtype)
        # The compiled kernel's layout: (n_features, n_components) log-odds and
        # the E-step bias of a complete row, sum_j log(1 - p_kj) + log(w_k).
        self.log_odds_t = np.ascontiguousarray(self.log_odds.T)
        self.bias = self.log_q_sum + self.log_weights


def _joint_t(filled, missing, params, bias):
    """``bias_k + sum_j log p(x_ij | k)`` laid out (n_components, rows).

    The one place the Bernoulli log-likelihood is written. NaN entries
    (``missing``) contribute nothing. The (components, rows) layout makes the
    row-wise log-sum-exp run over contiguous rows instead of many short rows
    of n_components.
    """
    if sp.issparse(filled):
        joint = np.asarray(filled @ params.log_odds.T).T.copy()
    else:
        joint = params.log_odds @ filled.T
    joint += bias[:, None]
    if missing is not None:
        # Missing entries contribute nothing: remove the log(1 - p) they got.
        joint -= np.asarray(missing @ params.log_q.T).T
    if params.exact:
        # (1 - x) @ M.T == M.sum(1) - x @ M.T on the observed 0/1 entries.
        ruled = np.asarray(filled @ (params.never_one - params.never_zero).T).T
        observed_zero = params.never_zero.sum(axis=1)[:, None]
        if missing is not None:
            observed_zero = observed_zero - np.asarray(missing @ params.never_zero.T).T
        ruled = ruled + observed_zero
        joint[ruled > 0.5] = -np.inf
    return joint


class BernoulliFamily:
    """Independent Bernoulli features given the component (a latent class model).

    Parameters are ``(weights, means)``: mixing weights (n_components,) and
    success probabilities (n_components, n_features). ``alpha`` is the
    symmetric Beta(1 + alpha, 1 + alpha) prior of the M-step; probabilities
    are clipped to ``[eps, 1 - eps]`` of the computation ``dtype``.
    """

    def __init__(self, n_features, *, alpha=0.0, dtype=np.float64):
        self.n_features = int(n_features)
        self.alpha = float(alpha)
        self.dtype = np.dtype(dtype)
        self.clip_eps = float(np.finfo(self.dtype).eps)

    # ------------------------------------------------------------ identity

    def for_prediction(self):
        """The same family computing in float64."""
        if self.dtype == np.float64:
            return self
        return BernoulliFamily(self.n_features, alpha=self.alpha)

    def in_namespace(self, xp, device):
        """The same family computing with the Array API namespace ``xp`` on ``device``."""
        return XPBernoulliFamily(self, xp, device)

    def same_shape(self, other):
        return isinstance(other, BernoulliFamily) and other.n_features == (
            self.n_features
        )

    def describe(self):
        return f"{self.n_features} features"

    def n_parameters(self, n_components):
        return n_components * self.n_features + n_components - 1

    # ---------------------------------------------------------- parameters

    def check_probs(self, probs, n_components, name):
        return check_probabilities(probs, name, shape=(n_components, self.n_features))

    def clip(self, weights, means):
        return np.asarray(weights, dtype=np.float64), np.clip(
            means, self.clip_eps, 1 - self.clip_eps
        )

    def as_float64(self, means):
        return np.asarray(means, dtype=np.float64)

    def random_params(self, n_components, rng):
        """Equal weights and uniform random probabilities (poLCA's start)."""
        means = rng.uniform(size=(n_components, self.n_features))
        return self.clip(np.full(n_components, 1 / n_components), means)

    def prepare(self, params):
        weights, means = params
        return BernoulliParams(weights, means, self.dtype)

    # --------------------------------------------------------------- blocks

    def whole_stats(self, X, sw, prepared, *, has_missing=True, unit_weight=False):
        """The statistics of every row of X from the compiled kernel.

        The kernel runs the same fused pass as :meth:`block_stats` over all
        the rows (its own blocks, its own threads). Returns None where it
        does not apply (no compiled kernel, another dtype or format, exact
        0/1 probabilities), and the caller then runs the blocks.
        """
        if not _fast.HAVE_KERNEL or prepared.exact:
            return None
        if sp.issparse(X):
            if X.format != "csr" or X.dtype != self.dtype:
                return None
            kernel = _fast.bernoulli_stats_csr
        elif isinstance(X, np.ndarray) and (
            X.dtype == self.dtype
            or (self.dtype == np.float64 and X.dtype in _fast.DENSE_DTYPES)
        ):
            kernel = _fast.bernoulli_stats
        else:
            return None
        nk, xk, missing_k, log_lik = kernel(
            X,
            prepared.log_odds_t,
            prepared.bias,
            prepared.log_q,
            None if unit_weight else sw,
            has_missing,
            _fast.default_n_threads(),
        )
        return Stats(
            nk=nk,
            xk=xk,
            missing_k=missing_k,
            log_lik=float(log_lik),
            weight=float(np.sum(sw, dtype=np.float64)),
        )

    def log_prob(self, Xb, prepared):
        """Per-component log-likelihood (rows, n_components) of a block."""
        filled, missing = split_missing(Xb)
        log_prob = _joint_t(filled, missing, prepared, prepared.log_q_sum).T
        if missing is not None:
            # A row with nothing observed has likelihood exactly 1 under every
            # component (the sums above leave rounding there).
            empty = np.asarray(missing.sum(axis=1)).ravel() == Xb.shape[1]
            if empty.any():
                log_prob = np.array(log_prob)
                log_prob[empty] = 0.0
        return log_prob

    def block_stats(self, Xb, sw, prepared, *, has_missing=True, unit_weight=False):
        """Fused E-step and M statistics of one block of rows.

        Each block is read once: its responsibilities are computed and
        immediately turned into sufficient statistics while it is in cache.
        """
        filled, missing = split_missing(Xb) if has_missing else (Xb, None)
        if filled.dtype != self.dtype:
            filled = filled.astype(self.dtype)
        resp = _joint_t(
            filled, missing, prepared, prepared.log_q_sum + prepared.log_weights
        )
        log_norm = log_normalize_t(resp)
        impossible = ~np.isfinite(log_norm)
        if impossible.any():
            raise ValueError(
                "A row has zero likelihood under every component; this happens "
                "only with probabilities of exactly 0 or 1."
            )
        sw = sw.astype(self.dtype, copy=False)
        if not unit_weight:
            resp *= sw
        return Stats(
            nk=resp.sum(axis=1, dtype=np.float64),
            xk=_product_t(resp, filled),
            missing_k=None if missing is None else _product_t(resp, missing),
            log_lik=float(sw.astype(np.float64) @ log_norm),
            weight=float(sw.sum(dtype=np.float64)),
        )

    def resp_stats(self, Xb, resp, sw):
        """Statistics of given responsibilities (rows, n_components)."""
        filled, missing = split_missing(Xb)
        resp_t = np.ascontiguousarray((resp * sw[:, None]).T, dtype=self.dtype)
        if filled.dtype != self.dtype:
            filled = filled.astype(self.dtype)
        return Stats(
            nk=resp_t.sum(axis=1, dtype=np.float64),
            xk=_product_t(resp_t, filled),
            missing_k=None if missing is None else _product_t(resp_t, missing),
            weight=float(np.sum(sw, dtype=np.float64)),
        )

    def m_step(self, stats, smoothing=0.0):
        """Weights and success probabilities from summed statistics.

        ``means = (resp.T @ x + a) / (observed responsibility + 2 a)`` with
        ``a = alpha + smoothing``: the posterior mode under a Beta(1 + a,
        1 + a) prior, clipped to ``[eps, 1 - eps]`` so that no
        log-probability is infinite.
        """
        nk_raw = stats["nk"]
        weights, tiny = mixing_weights(nk_raw)
        observed = nk_raw[:, None]
        missing_k = stats.get("missing_k")
        if missing_k is not None:
            observed = observed - missing_k
        observed = np.maximum(observed, tiny)
        a = self.alpha + smoothing
        if a > 0:
            means = (stats["xk"] + a) / (observed + 2 * a)
        else:
            means = stats["xk"] / observed
        np.clip(means, self.clip_eps, 1 - self.clip_eps, out=means)
        return weights, means

    def map_probs(self, means, value):
        return np.full(tuple(means.shape), value)

    def parameter_names(self, n_components):
        return [f"log(weights[{k}]/weights[0])" for k in range(1, n_components)] + [
            f"logit(means[{k}, {j}])"
            for k in range(n_components)
            for j in range(self.n_features)
        ]

    def standard_errors(self, X, sample_weight, weights, means, method):
        result = bernoulli_standard_errors(
            X,
            sample_weight,
            weights,
            means,
            method=method,
            alpha=self.alpha,
            clip_eps=self.clip_eps,
        )
        result.probs_stderr = result.means_stderr
        return result

    def indicators(self, Xb):
        """``(answers, observed)`` (rows, 2 n_features) as category indicators.

        Item ``j`` is a two-category item at columns ``2j`` (answer 0) and
        ``2j + 1`` (answer 1); a missing answer has zeros in both and
        ``observed`` 0. The coding of the standard errors (see
        ``indicator_probs``).
        """
        X = Xb.toarray() if sp.issparse(Xb) else np.asarray(Xb)
        X = X.astype(np.float64)
        nan = np.isnan(X)
        x = np.where(nan, 0.0, X)
        answers = np.empty((X.shape[0], 2 * X.shape[1]))
        answers[:, 0::2] = (1 - x) * ~nan
        answers[:, 1::2] = x
        return answers, np.repeat((~nan).astype(np.float64), 2, axis=1)

    def indicator_probs(self, means):
        """Category probabilities (n_components, 2 n_features) of ``indicators``."""
        means = np.asarray(means, dtype=np.float64)
        out = np.empty((means.shape[0], 2 * means.shape[1]))
        out[:, 0::2] = 1 - means
        out[:, 1::2] = means
        return out

    @property
    def indicator_offsets(self):
        """Start of each item's columns in ``indicators`` (and the end)."""
        return 2 * np.arange(self.n_features + 1)

    def kmeans_view(self, Xb):
        """Rows for k-means: NaN replaced by the column mean of the rows."""
        return _fill_missing(Xb)

    def sample(self, means, k, n, rng):
        return (rng.random_sample((n, means.shape[1])) < means[k]).astype(np.float64)


def _product_t(resp_t, X):
    """``resp_t @ X`` (n_components, n_features) in float64, dense or sparse X."""
    if sp.issparse(X):
        return np.asarray(X.T @ resp_t.T).T.astype(np.float64, copy=False)
    return (resp_t @ X).astype(np.float64, copy=False)


def bernoulli_log_likelihood(X, probs):
    """Log-likelihood (n_samples, n_components) of 0/1 rows (NaN = missing).

    Exact 0 and 1 probabilities are allowed and give ``-inf`` to the rows
    they rule out.
    """
    family = BernoulliFamily(probs.shape[1])
    prepared = family.prepare((np.ones(probs.shape[0]), probs))
    out = np.empty((X.shape[0], probs.shape[0]))
    for rows in row_blocks(X, probs.shape[0]):
        out[rows] = family.log_prob(X[rows], prepared)
    return out


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


class BernoulliMixture(_LearnedMixture):
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
        0, as in :class:`~sklearn.naive_bayes.BernoulliNB`, whose default is
        the same 0.0: raw counts silently become "at least once"; set the
        threshold that answers your question. NaN stays missing. ``None``
        means X must already hold only 0 and 1 (and NaN for missing values).

    se_method : {"hessian", "opg", "sandwich"} or None, default="hessian"
        How :meth:`fit` computes the standard errors of every parameter
        (`weights_stderr_`, `means_stderr_`, `covariance_`):
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
        :func:`~sklearn_bernoulli_mix.bernoulli_standard_errors`.
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

    weights_stderr_ : ndarray of shape (n_components,)
        Standard errors of `weights_` (delta method from `covariance_`).

    means_stderr_ : ndarray or list of ndarray, shaped (n_components, n_features)
        Standard errors of `means_` (delta method from `covariance_`).

    covariance_ : ndarray of shape (n_free, n_free) or None
        Covariance of the free parameters (None when not computed), in the order of
        `parameter_names_`: ``log(weights[k] / weights[0])`` for ``k >= 1``,
        then per class and item the logits of the success probabilities.

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

    With ``sklearn.config_context(array_api_dispatch=True)``, :meth:`fit` and the prediction methods also
    accept an Array API array (a PyTorch tensor or CuPy array, on a GPU
    too): EM and the predictions then run in its namespace, on its device,
    and the fitted arrays are arrays of that namespace (see
    :ref:`array_api`).

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
        "init_params": [
            Options(
                "kmeans", "k-means++", "random", "random_from_data", "random_params"
            )
        ],
        "weights_init": [ARRAY_LIKE, NONE],
        "means_init": [ARRAY_LIKE, NONE],
        "alpha": [Interval("real", 0, None)],
        "binarize": [Interval("real", None, None), NONE],
        "se_method": [Options("hessian", "opg", "sandwich"), NONE],
        "covariates": [COLUMNS, NONE],
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
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.alpha = alpha
        self.binarize = binarize
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
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        tags.array_api_support = True
        return tags

    _probs_attr = "means_"
    _probs_init_param = "means_init"

    def _validate_X(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr"],
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
        )
        X = sum_duplicates(X)
        if self.binarize is None:
            check_binary(X)
            return X
        return _binarize(X, self.binarize)

    def _validate_fit_X(self, X):
        """``_validate_X`` for fit: bool, uint8 and int8 X stay as they are.

        The compiled kernel reads such X directly (EM runs in float64), so
        fit makes no float copy of it; predictions convert block by block.
        """
        if not (
            _fast.HAVE_KERNEL
            and isinstance(X, np.ndarray)
            and X.dtype in (np.bool_, np.uint8, np.int8)
        ):
            return self._validate_X(X, reset=True)
        X = validate_data(self, X, reset=True, dtype=[X.dtype])
        if self.binarize is None:
            check_binary(X)
            return X
        return _binarize(X, self.binarize)

    def _validate_X_xp(self, X, reset, xp):
        """``_validate_X`` of an Array API X, in its namespace."""
        X = validate_floats(self, X, reset, xp)
        if self.binarize is None:
            check_binary_xp(xp, X, check_binary)
            return X
        return binarize_xp(xp, X, self.binarize)

    def _convert_block(self, X):
        """A Dask chunk already validated in this fit: cast and binarize only."""
        if sp.issparse(X):
            X = sp.csr_matrix(X)
            if X.dtype not in (np.float32, np.float64):
                X = X.astype(np.float64)
        else:
            X = np.asarray(X)
            if X.dtype not in (np.float32, np.float64):
                X = X.astype(np.float64)
        return X if self.binarize is None else _binarize(X, self.binarize)

    def _make_family(self, data, previous):
        # Integer X (kept as it is for the kernel) computes in float64.
        dtype = data.dtype if np.dtype(data.dtype).kind == "f" else np.float64
        return BernoulliFamily(data.n_features, alpha=self.alpha, dtype=dtype)

    def _in_memory_data(self, X, sample_weight):
        # EM runs on the distinct rows with their total weight when that
        # halves the work; the initialisation always sees every row.
        collapsed = unique_binary_rows(X)
        if collapsed is None:
            return _BernoulliData(X, sample_weight, has_missing=has_nan(X))
        first, inverse = collapsed
        counts = np.bincount(inverse, weights=sample_weight, minlength=first.size)
        data = _BernoulliData(X[first], counts, has_missing=False)
        data.init_X, data.init_weight = X, sample_weight
        data.n_samples = X.shape[0]
        return data

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
        return super().fit(X, y, sample_weight=sample_weight)

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
        :meth:`fit` after partial_fit starts anew. The batches must come in
        random order (shuffle the rows first): each step moves the running
        average towards its batch, so batches sorted by group, answer or
        time bias the fit. Each call sets the
        attributes that :meth:`fit` sets: `lower_bound_` is the mean
        log-likelihood of the batch under the incoming parameters,
        `lower_bounds_` lists it for every call, `n_iter_` counts the calls
        and `converged_` is always False (stepwise EM has no stopping rule:
        judge it by `lower_bounds_` levelling off, or by a held-out score).

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
        return super().partial_fit(X, y, sample_weight=sample_weight)


class _BernoulliData(InMemoryData):
    """In-memory rows, possibly collapsed to distinct rows for the EM passes."""

    def __init__(self, X, sample_weight, *, has_missing=True):
        super().__init__(X, sample_weight, has_missing=has_missing)
        self.init_X, self.init_weight = X, sample_weight

    def init_rows(self, size, random_state):
        return self.init_X, self.init_weight


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
