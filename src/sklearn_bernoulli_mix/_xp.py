"""The Array API path: fitting and predicting in the namespace and on the device of X.

With ``sklearn.config_context(array_api_dispatch=True)``, an input that is
an Array API array other than a NumPy array (a PyTorch tensor, a CuPy
array, an ``array_api_strict`` array...) is fitted and scored here: the
namespace ``xp`` and the device come from the input (``array_api_compat``),
every block of the EM iterations and of the predictions is computed with
``xp`` on that device, and the fitted array attributes are arrays of ``xp``.
The NumPy implementation of the families (``_bernoulli.py``,
``_categorical.py``) stays the reference; the block maths here are the same
formulas, written with the functions of the standard only (``matmul``,
``exp``, ``log``, ``max``, ``sum``, ``where``).

Initialisations run on NumPy: the rows they see (every row up to
``init_sample_size``, a random subset beyond) are copied to the host, and the
starting parameters are moved to the device. Sparse and Dask inputs are not
part of this path.
"""

import copy

import numpy as np
from sklearn import get_config
from sklearn.utils.validation import check_is_fitted

from ._blocks import Stats, add_stats, row_blocks, zero_likelihood_error
from ._dask import draw_rows
from ._validation import check_sample_weight

try:  # an optional dependency: only Array API input needs it
    import array_api_compat
except ImportError:  # pragma: no cover - exercised without the package
    array_api_compat = None

# A block of the Array API path holds about this many entries of X: large
# blocks keep an accelerator busy, and the temporaries of a block
# (n_components x rows) stay small next to X.
XP_BLOCK_ENTRIES = 1 << 25


# --------------------------------------------------------------------------
# Namespaces, devices and transfers
# --------------------------------------------------------------------------


def namespace_of(X):
    """``(xp, device)`` of an Array API input under dispatch, else None.

    None (the NumPy path) for NumPy arrays, lists, pandas and scipy.sparse
    input, and whenever ``array_api_dispatch`` is off, in which case
    validation converts X to NumPy as scikit-learn does.
    """
    if isinstance(X, np.ndarray) or not get_config().get("array_api_dispatch"):
        return None
    if not is_xp_array(X):
        return None
    if array_api_compat is None:
        raise ImportError(
            "Array API input with array_api_dispatch=True needs the "
            "array-api-compat package: pip install array-api-compat."
        )
    if array_api_compat.is_dask_array(X):
        return None
    if str(getattr(X, "layout", "torch.strided")) != "torch.strided" or getattr(
        X, "is_sparse", False
    ):
        raise TypeError(
            "Sparse Array API arrays are not supported: give a dense array of "
            "the same library, or a scipy.sparse matrix (fitted on NumPy)."
        )
    xp = array_api_compat.array_namespace(X)
    if array_api_compat.is_numpy_namespace(xp):
        return None
    return xp, array_api_compat.device(X)


def array_namespace(a):
    """The Array API namespace of ``a`` (``array_api_compat``)."""
    return array_api_compat.array_namespace(a)


def device(a):
    """The device of ``a`` (``array_api_compat``)."""
    return array_api_compat.device(a)


def is_xp_array(a):
    """True for an array of an Array API namespace other than NumPy."""
    return not isinstance(a, np.ndarray | np.generic) and (
        hasattr(a, "__array_namespace__") or _is_known_array(a)
    )


def _is_known_array(X):
    return array_api_compat is not None and (
        array_api_compat.is_torch_array(X) or array_api_compat.is_cupy_array(X)
    )


def check_not_combined(X):
    """Reject a Dask array whose chunks are not NumPy arrays or scipy.sparse matrices."""
    meta = getattr(X, "_meta", None)
    if meta is None or isinstance(meta, np.ndarray) or hasattr(meta, "tocsr"):
        return
    raise TypeError(
        "A Dask array whose chunks are not NumPy arrays (chunks of "
        f"{type(meta).__module__}.{type(meta).__name__}) is not supported: "
        "Dask input is fitted chunk by chunk with NumPy, and Array API input "
        "in memory. Give one or the other."
    )


def to_numpy(a):
    """A NumPy copy of an array of any namespace and device (DLPack)."""
    if isinstance(a, np.ndarray):
        return a
    try:
        # A copy to the host when the array is on another device (the
        # ``device`` argument of the 2023.12 standard, NumPy >= 2.1).
        return np.from_dlpack(a, device="cpu")
    except (BufferError, TypeError, ValueError, RuntimeError):
        pass
    try:
        return np.from_dlpack(a)
    except (BufferError, TypeError, ValueError, RuntimeError):
        return np.asarray(array_api_compat.to_device(a, "cpu"))


def on_host(value):
    """A user-given parameter with its Array API arrays copied to NumPy.

    Starting parameters (``weights_init``, ``means_init``, a list of
    ``category_probs_init``) may be arrays of the input's library; they are
    validated on the host like any array-like.
    """
    if is_xp_array(value):
        return to_numpy(value)
    if isinstance(value, list | tuple) and any(is_xp_array(v) for v in value):
        return [to_numpy(v) if is_xp_array(v) else v for v in value]
    return value


def float_dtype(xp, device):
    """float64 where the device has it (for statistics and parameters), else float32."""
    dtypes = xp.__array_namespace_info__().dtypes(device=device, kind="real floating")
    return dtypes.get("float64", xp.float32)


def host_dtype(xp_dtype):
    """The NumPy dtype of the same name as an ``xp`` floating dtype."""
    return np.float32 if "float32" in str(xp_dtype) else np.float64


def fitted_namespace(estimator):
    """Namespace of the fitted ``weights_``, or None when they are NumPy."""
    weights = getattr(estimator, "weights_", None)
    if weights is None or isinstance(weights, np.ndarray):
        return None
    return array_api_compat.array_namespace(weights)


def check_fitted_for(estimator, xp, method):
    """Raise when X is not of the namespace of the fitted parameters.

    A model fitted on NumPy predicts on any input; one fitted on Array API
    arrays predicts on arrays of the same library only (as scikit-learn's
    ``check_same_namespace``).
    """
    fitted = fitted_namespace(estimator)
    if fitted is None or fitted is xp:
        return
    name = "NumPy" if xp is None else xp.__name__
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the "
        f"same namespace as the fitted attributes: the model was fitted on "
        f"arrays of {fitted.__name__}, and got {name} input. Predict with arrays "
        "of the library of the fit under "
        "sklearn.config_context(array_api_dispatch=True), or refit."
    )


def sample_weight_on(xp, device, sample_weight, n_samples):
    """Validated frequency weights: ``(on the device in float64, on the host)``."""
    if is_xp_array(sample_weight):
        sample_weight = to_numpy(sample_weight)
    host = check_sample_weight(sample_weight, n_samples)
    return xp.asarray(host, dtype=float_dtype(xp, device), device=device), host


# --------------------------------------------------------------------------
# Validation in the namespace
# --------------------------------------------------------------------------


def validate_floats(estimator, X, reset, xp, *, float32=True, finite="allow-nan"):
    """scikit-learn's validation of an Array API X (it stays in ``xp``)."""
    from sklearn.utils.validation import validate_data

    dtypes = [xp.float64, xp.float32] if float32 else [xp.float64]
    device = array_api_compat.device(X)
    available = xp.__array_namespace_info__().dtypes(
        device=device, kind="real floating"
    )
    dtypes = [d for d in dtypes if d in available.values()] or [xp.float32]
    return validate_data(
        estimator, X, reset=reset, dtype=dtypes, ensure_all_finite=finite
    )


def _all_binary(xp, X):
    """True when X holds only 0, 1 and NaN (checked block by block on the device)."""
    for rows in row_blocks(X, block_entries=XP_BLOCK_ENTRIES):
        block = X[rows, ...]
        if not bool(xp.all((block == 0) | (block == 1) | xp.isnan(block))):
            return False
    return True


def has_nan_xp(xp, X):
    """True when X stores any NaN (checked block by block on the device)."""
    return any(
        bool(xp.any(xp.isnan(X[rows, ...])))
        for rows in row_blocks(X, block_entries=XP_BLOCK_ENTRIES)
    )


def check_binary_xp(xp, X, check_binary):
    """``check_binary`` on the device; the host copy only names a bad value."""
    if not _all_binary(xp, X):
        check_binary(to_numpy(X))


def binarize_xp(xp, X, threshold):
    """Values above ``threshold`` become 1, the rest 0, NaN stays NaN.

    X itself when it is already binary and the threshold keeps it so (no
    copy, as in the NumPy path).
    """
    if 0 <= threshold < 1 and _all_binary(xp, X):
        return X
    return xp.where(xp.isnan(X), X, xp.astype(X > threshold, X.dtype))


# --------------------------------------------------------------------------
# Data and the block maths shared by the families
# --------------------------------------------------------------------------


class XPData:
    """Rows of an Array API array on its device, run block by block there.

    The data object of the execution seam (``_engine.py``) for Array API
    input: the same three calls as :class:`~._engine.InMemoryData`.
    """

    def __init__(self, X, sample_weight, sample_weight_host, *, has_missing):
        self.X = X
        self.xp = array_api_compat.array_namespace(X)
        self.device = array_api_compat.device(X)
        self.sample_weight = sample_weight
        self.sample_weight_host = sample_weight_host
        self.has_missing = has_missing
        self.n_samples, self.n_features = X.shape
        self.dtype = np.dtype(host_dtype(X.dtype))
        self.unit_weight = bool(np.all(sample_weight_host == 1))

    def total(self, family, prepared):
        """Statistics of every row under ``prepared`` parameters."""
        X, sw = self.X, self.sample_weight
        stats = add_stats(
            *(
                family.block_stats(
                    X[rows, ...],
                    sw[rows],
                    prepared,
                    has_missing=self.has_missing,
                    unit_weight=self.unit_weight,
                )
                for rows in row_blocks(
                    X, prepared.n_components, block_entries=XP_BLOCK_ENTRIES
                )
            )
        )
        # One check per pass (not per block): a row that no component
        # explains makes the total log-likelihood NaN or -inf.
        if not np.isfinite(stats.log_lik):
            raise ValueError(
                "A row has zero likelihood under every component; this happens "
                "only with probabilities of exactly 0 or 1."
            )
        return stats

    def scan(self, scan_block):
        """Sum of ``scan_block(X_block, weight_block)``, parts brought to the host."""
        parts = []
        for rows in row_blocks(self.X, block_entries=XP_BLOCK_ENTRIES):
            stats = scan_block(self.X[rows, ...], self.sample_weight[rows])
            stats.parts = {k: to_numpy(v) for k, v in stats.parts.items()}
            parts.append(stats)
        return add_stats(*parts)

    def init_rows(self, size, random_state):
        """Rows for an initialisation, copied to the host.

        Every row when there are at most ``size``; otherwise ``size`` rows
        drawn at random (as for Dask data).
        """
        if self.n_samples <= size:
            return to_numpy(self.X), self.sample_weight_host
        rows = draw_rows(self.n_samples, size, random_state)
        taken = self.xp.take(self.X, self.xp.asarray(rows, device=self.device), axis=0)
        return to_numpy(taken), self.sample_weight_host[rows]


def scalar(xp, value, like):
    """A 0-d array of ``like``'s dtype and device."""
    return xp.asarray(value, dtype=like.dtype, device=array_api_compat.device(like))


def log_normalize_t(xp, joint):
    """Column-wise log-sum-exp of (n_components, rows): ``(resp, log p(x))``.

    Responsibilities below the smallest normal number of the dtype are
    flushed to zero, as in the NumPy ``log_normalize_t``.
    """
    top = xp.max(joint, axis=0)
    shifted = joint - top
    floor = float(np.log(np.finfo(host_dtype(joint.dtype)).tiny))
    resp = xp.where(shifted < floor, scalar(xp, 0.0, joint), xp.exp(shifted))
    total = xp.sum(resp, axis=0)
    return resp / total, xp.log(total) + top


_EPS64 = float(np.finfo(np.float64).eps)


def mixing_weights(xp, nk):
    """Weights from responsibility sums with the floor of the NumPy path."""
    tiny = 10 * _EPS64 * float(xp.sum(nk))
    nk = xp.clip(nk, min=tiny)
    return nk / xp.sum(nk), tiny


class _XPFamily:
    """A family's Array API variant: the host family plus ``xp`` and a device.

    What does not touch the data (shapes, validation of given parameters,
    the initialisation) is the host family's own (attribute lookups fall
    through to it).
    """

    def __init__(self, host, xp, device):
        self.host = host
        self.xp = xp
        self.device = device
        self.acc = float_dtype(xp, device)
        self.compute = xp.float32 if host.dtype == np.float32 else self.acc

    def __getattr__(self, name):
        return getattr(self.__dict__["host"], name)

    def for_prediction(self):
        return type(self)(self.host.for_prediction(), self.xp, self.device)

    def to_device(self, a, dtype=None):
        return self.xp.asarray(
            a if not isinstance(a, np.ndarray) else np.ascontiguousarray(a),
            dtype=self.acc if dtype is None else dtype,
            device=self.device,
        )

    def _finish(self, resp, log_norm, sw, unit_weight):
        """Weighted responsibilities and the log-likelihood of a block."""
        xp = self.xp
        if not unit_weight:
            resp = resp * xp.astype(sw, resp.dtype)
        log_lik = xp.astype(sw, self.acc) @ xp.astype(log_norm, self.acc)
        return resp, log_lik, xp.sum(sw)


class XPBernoulliParams:
    """Logarithms of the Bernoulli parameters on the device, once per iteration."""

    def __init__(self, family, weights, means):
        xp, dtype = family.xp, family.compute
        means = family.to_device(means)
        weights = family.to_device(weights)
        self.n_components = means.shape[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.log_weights = xp.astype(xp.log(weights), dtype)
            log_p = xp.log(means)
            log_q = xp.log1p(-means)
        self.exact = bool(xp.any(means == 0) | xp.any(means == 1))
        if self.exact:
            zero = scalar(xp, 0.0, means)
            self.never_one = xp.astype(means == 0, dtype)
            self.never_zero = xp.astype(means == 1, dtype)
            log_p = xp.where(means > 0, log_p, zero)
            log_q = xp.where(means < 1, log_q, zero)
        self.log_q = xp.astype(log_q, dtype)
        self.log_odds = xp.astype(log_p - log_q, dtype)
        self.log_q_sum = xp.astype(xp.sum(log_q, axis=1), dtype)


class XPBernoulliFamily(_XPFamily):
    """:class:`~._bernoulli.BernoulliFamily` computed with ``xp`` on a device."""

    def prepare(self, params):
        weights, means = params
        return XPBernoulliParams(self, weights, means)

    def clip(self, weights, means):
        eps = self.host.clip_eps
        return self.to_device(weights), self.xp.clip(
            self.to_device(means), min=eps, max=1 - eps
        )

    def as_float64(self, means):
        return self.to_device(means)

    def _split(self, Xb, has_missing=True):
        xp = self.xp
        if Xb.dtype != self.compute:
            Xb = xp.astype(Xb, self.compute)
        if not has_missing:
            return Xb, None
        nan = xp.isnan(Xb)
        return xp.where(nan, scalar(xp, 0.0, Xb), Xb), xp.astype(nan, Xb.dtype)

    def _joint_t(self, filled, missing, params, bias):
        """``bias_k + sum_j log p(x_ij | k)`` laid out (n_components, rows)."""
        xp = self.xp
        joint = params.log_odds @ filled.T + bias[:, None]
        if missing is not None:
            joint = joint - params.log_q @ missing.T
        if params.exact:
            ruled = (params.never_one - params.never_zero) @ filled.T
            observed_zero = xp.sum(params.never_zero, axis=1)[:, None]
            if missing is not None:
                observed_zero = observed_zero - params.never_zero @ missing.T
            ruled = ruled + observed_zero
            joint = xp.where(ruled > 0.5, scalar(xp, -np.inf, joint), joint)
        return joint

    def log_prob(self, Xb, prepared):
        filled, missing = self._split(Xb)
        return self._joint_t(filled, missing, prepared, prepared.log_q_sum).T

    def block_stats(self, Xb, sw, prepared, *, has_missing=True, unit_weight=False):
        xp = self.xp
        filled, missing = self._split(Xb, has_missing)
        joint = self._joint_t(
            filled, missing, prepared, prepared.log_q_sum + prepared.log_weights
        )
        resp, log_norm = log_normalize_t(xp, joint)
        resp, log_lik, weight = self._finish(resp, log_norm, sw, unit_weight)
        return Stats(
            nk=xp.sum(xp.astype(resp, self.acc), axis=1),
            xk=xp.astype(resp @ filled, self.acc),
            missing_k=None if missing is None else xp.astype(resp @ missing, self.acc),
            log_lik=log_lik,
            weight=weight,
        )

    def m_step(self, stats, smoothing=0.0):
        """The M-step of ``BernoulliFamily.m_step`` with ``xp``."""
        xp = self.xp
        nk = stats["nk"]
        weights, tiny = mixing_weights(xp, nk)
        observed = nk[:, None]
        missing_k = stats.get("missing_k")
        if missing_k is not None:
            observed = observed - missing_k
        observed = xp.clip(observed, min=tiny)
        a = self.host.alpha + smoothing
        if a > 0:
            means = (stats["xk"] + a) / (observed + 2 * a)
        else:
            means = stats["xk"] / observed
        eps = self.host.clip_eps
        return weights, xp.clip(means, min=eps, max=1 - eps)


class XPCategoricalParams:
    """Logarithms of the categorical parameters on the device."""

    def __init__(self, family, weights, probs):
        xp, dtype = family.xp, family.compute
        self.n_components = int(weights.shape[0])
        flat = xp.concat([family.to_device(p) for p in probs], axis=1)
        with np.errstate(divide="ignore"):
            self.log_weights = xp.astype(xp.log(family.to_device(weights)), dtype)
            self.log_probs = xp.astype(xp.log(flat), dtype)


class XPCategoricalFamily(_XPFamily):
    """:class:`~._categorical.CategoricalFamily` computed with ``xp`` on a device."""

    def __init__(self, host, xp, device):
        super().__init__(host, xp, device)
        n_categories = host.n_categories
        items = np.repeat(np.arange(n_categories.shape[0]), n_categories)
        codes = np.concatenate([np.arange(c) for c in n_categories])
        self.items = xp.asarray(items, device=device)
        self.codes = xp.asarray(codes.astype(np.float64), dtype=self.acc, device=device)

    def prepare(self, params):
        weights, probs = params
        return XPCategoricalParams(self, weights, probs)

    def one_hot(self, Xb):
        """One-hot coding (rows, total categories); a NaN answer gives zeros."""
        xp = self.xp
        expanded = xp.take(xp.astype(Xb, self.acc), self.items, axis=1)
        return xp.astype(expanded == self.codes, self.compute)

    def log_prob(self, Xb, prepared):
        return self.one_hot(Xb) @ prepared.log_probs.T

    def block_stats(self, Xb, sw, prepared, *, has_missing=True, unit_weight=False):
        xp = self.xp
        onehot = self.one_hot(Xb)
        joint = prepared.log_probs @ onehot.T + prepared.log_weights[:, None]
        resp, log_norm = log_normalize_t(xp, joint)
        resp, log_lik, weight = self._finish(resp, log_norm, sw, unit_weight)
        return Stats(
            nk=xp.sum(xp.astype(resp, self.acc), axis=1),
            counts=xp.astype(resp @ onehot, self.acc),
            log_lik=log_lik,
            weight=weight,
        )

    def clip(self, weights, probs):
        xp, eps = self.xp, self.host.clip_eps
        out = []
        for p in probs:
            p = xp.clip(self.to_device(p), min=eps)
            out.append(p / xp.sum(p, axis=1, keepdims=True))
        return self.to_device(weights), out

    def as_float64(self, probs):
        return [self.to_device(p) for p in probs]

    def m_step(self, stats, smoothing=0.0):
        """The M-step of ``CategoricalFamily.m_step`` with ``xp``."""
        xp = self.xp
        weights, tiny = mixing_weights(xp, stats["nk"])
        a = self.host.alpha + smoothing
        offsets = self.host.offsets
        probs = []
        for j, c in enumerate(self.host.n_categories.tolist()):
            counts = stats["counts"][:, int(offsets[j]) : int(offsets[j + 1])]
            observed = xp.sum(counts, axis=1, keepdims=True) + c * a
            p = (counts + a) / xp.clip(observed, min=tiny)
            probs.append(xp.where(observed > tiny, p, scalar(xp, 1.0 / c, p)))
        return self.clip(weights, probs)


# --------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------


def log_resp_and_norm(estimator, X, xp, want="both"):
    """Posterior log-probabilities, log p(x) or labels of validated X, in ``xp``.

    The NumPy ``_MixtureBase._log_resp_and_norm`` with ``xp``, block by
    block; rows that no component explains are all named in one error.
    """
    device = array_api_compat.device(X)
    acc = float_dtype(xp, device)
    weights = xp.asarray(estimator.weights_, dtype=acc, device=device)
    with np.errstate(divide="ignore"):
        log_weights = xp.log(weights)
    n_components = weights.shape[0]
    minus_inf = xp.asarray(-np.inf, dtype=acc, device=device)
    zero = xp.asarray(0.0, dtype=acc, device=device)
    norms, resps, labels, bad_rows = [], [], [], []
    log_prob_of = estimator._log_prob_function(xp, device)
    for rows in row_blocks(X, n_components, block_entries=XP_BLOCK_ENTRIES):
        log_prob = xp.astype(log_prob_of(X[rows, ...]), acc)
        row_max = xp.max(log_prob, axis=1, keepdims=True)
        finite = xp.isfinite(row_max[:, 0])
        weighted = xp.where(finite[:, None], log_prob - row_max, minus_inf)
        alike = xp.all(weighted == 0, axis=1)
        weighted = weighted + log_weights
        top = xp.max(weighted, axis=1, keepdims=True)
        top = xp.where(xp.isfinite(top), top, zero)
        block_norm = xp.log(xp.sum(xp.exp(weighted - top), axis=1)) + top[:, 0]
        block_norm = xp.where(alike, zero, block_norm)
        bad = ~(xp.isfinite(block_norm) & finite)
        bad_rows.append(bad)
        if want == "labels":
            labels.append(xp.argmax(weighted, axis=1))
            continue
        norms.append(block_norm + row_max[:, 0])
        if want == "both":
            resps.append(weighted - block_norm[:, None])
    bad = xp.concat(bad_rows)
    if bool(xp.any(bad)):
        raise zero_likelihood_error(np.flatnonzero(to_numpy(bad)))
    if want == "labels":
        return None, None, xp.concat(labels)
    log_norm = xp.concat(norms)
    return (xp.concat(resps, axis=0) if want == "both" else None), log_norm, None


def predict(estimator, X, xp, method):
    """A prediction method of ``_MixtureBase`` on Array API input."""
    check_is_fitted(estimator)
    check_fitted_for(estimator, xp, "bic" if method == "total" else method)
    X = estimator._validate_X_xp(X, reset=False, xp=xp)
    if method == "predict":
        return log_resp_and_norm(estimator, X, xp, "labels")[2]
    if method == "predict_proba":
        return xp.exp(log_resp_and_norm(estimator, X, xp, "both")[0])
    log_norm = log_resp_and_norm(estimator, X, xp, "norm")[1]
    if method == "score_samples":
        return log_norm
    if method == "total":
        return X.shape[0], float(xp.sum(log_norm))
    return float(xp.mean(log_norm))  # "score"


def host_copy(estimator):
    """A shallow copy of a fitted estimator with its arrays on the host (NumPy)."""
    host = copy.copy(estimator)
    for name, value in vars(estimator).items():
        if not name.endswith("_") or name.startswith("__"):
            continue
        if isinstance(value, list):
            if value and is_xp_array(value[0]):
                setattr(host, name, [to_numpy(v) for v in value])
        elif is_xp_array(value):
            setattr(host, name, to_numpy(value))
    return host


def sample(estimator, n_samples, random_state):
    """``sample`` of a model fitted on Array API arrays: drawn on the host, moved.

    The draws are those of the NumPy model with the same parameters; the
    samples and labels are then arrays of the fit's namespace and device.
    """
    xp = fitted_namespace(estimator)
    device = array_api_compat.device(estimator.weights_)
    X, y = type(estimator).sample(
        host_copy(estimator), n_samples, random_state=random_state
    )
    return xp.asarray(X, device=device), xp.asarray(y, device=device)
