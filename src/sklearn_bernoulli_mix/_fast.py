"""Fused E and M statistics of a Bernoulli mixture over a whole X.

One pass over the rows computes, for the current parameters, the E-step
(per-component log-likelihoods, row log-sum-exp, responsibilities) and the
M-step sufficient statistics while each block of rows is in cache:

- ``nk[k] = sum_i w_i r_ik``, the weighted responsibility sums;
- ``xk[k, j] = sum_i w_i r_ik x_ij`` over the observed entries;
- ``missing_k[k, j] = sum_i w_i r_ik [x_ij is NaN]`` (``None`` when X has no
  NaN);
- ``log_lik = sum_i w_i log sum_k exp(bias_k + sum_j ...)``.

:func:`bernoulli_stats` (dense X) and :func:`bernoulli_stats_csr` (CSR X)
run the compiled kernel (``_kernels``) when it is built, else the NumPy
reference :func:`bernoulli_stats_numpy`, which has the same signature and
arithmetic and is what the tests compare the kernel with.

The parameters are given in the computation dtype (float64 or float32, the
dtype of ``log_odds_t``): ``log_odds_t[j, k] = log p_kj - log(1 - p_kj)``,
``bias[k] = log w_k + sum_j log(1 - p_kj)`` and ``log_q[k, j] = log(1 -
p_kj)``. Dense X may be float64, float32 (NaN = missing), or bool, uint8,
int8 (0/1); it is read as it is and never copied: the float temporaries are
one block of rows at a time. Responsibilities below the smallest normal
number of the computation dtype are set to exactly 0, since products with
subnormal numbers are slow on x86 and probabilities that small carry no
information.

With ``n_threads > 1`` the rows are split into chunks of a fixed size (set
by the number of features and the dtype only), each chunk's sums are
computed by one thread, and the chunk sums are added in chunk order: the
result is the same whatever the number of threads.
"""

import os

import numpy as np
import scipy.sparse as sp

try:
    from . import _kernels
except ImportError:  # the package was not built (source tree on sys.path)
    _kernels = None

# SKLEARN_BERNOULLI_MIX_NO_KERNEL=1 runs the NumPy reference instead of the
# compiled kernel (to test and time the fallback).
if os.environ.get("SKLEARN_BERNOULLI_MIX_NO_KERNEL", "") not in ("", "0"):
    _kernels = None

#: True when the compiled kernel is importable.
HAVE_KERNEL = _kernels is not None

#: dtypes of a dense X that are read as they are.
DENSE_DTYPES = tuple(
    np.dtype(t) for t in (np.float64, np.float32, np.uint8, np.int8, np.bool_)
)

# Rows per block of the NumPy reference aim at this many entries of X.
_REF_BLOCK_ENTRIES = 1 << 16


def default_n_threads():
    """Threads the kernel may use: the OpenMP limit (set by threadpoolctl).

    1 when the kernel is not built or was built without OpenMP.
    """
    if _kernels is None or not _kernels.openmp_enabled():
        return 1
    return max(1, int(_kernels.openmp_max_threads()))


def _check_params(log_odds_t, bias, log_q, n_features):
    log_odds_t = np.asarray(log_odds_t)
    if log_odds_t.dtype not in (np.float64, np.float32):
        raise TypeError(
            f"log_odds_t must be float64 or float32, got {log_odds_t.dtype}; its "
            "dtype is the dtype of the computation."
        )
    dtype = log_odds_t.dtype
    if log_odds_t.ndim != 2 or log_odds_t.shape[0] != n_features:
        raise ValueError(
            f"log_odds_t must have shape (n_features, n_components) = "
            f"({n_features}, K), got {log_odds_t.shape}."
        )
    n_components = log_odds_t.shape[1]
    bias = np.ascontiguousarray(bias, dtype=dtype)
    log_q = np.ascontiguousarray(log_q, dtype=dtype)
    if bias.shape != (n_components,):
        raise ValueError(f"bias must have shape ({n_components},), got {bias.shape}.")
    if log_q.shape != (n_components, n_features):
        raise ValueError(
            f"log_q must have shape ({n_components}, {n_features}), got {log_q.shape}."
        )
    return log_odds_t, bias, log_q


def _check_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), got {sample_weight.shape}."
        )
    return sample_weight


def _check_dense(X):
    if sp.issparse(X) or not isinstance(X, np.ndarray) or X.ndim != 2:
        raise TypeError(
            "X must be a 2-d numpy array; use bernoulli_stats_csr for CSR input."
        )
    if X.dtype not in DENSE_DTYPES:
        raise TypeError(
            f"X has dtype {X.dtype}; the kernel reads float64, float32, bool, uint8 "
            "or int8. Convert X to one of these."
        )
    return X


def _check_csr(X):
    if not sp.issparse(X) or X.format != "csr":
        raise TypeError("X must be a scipy.sparse CSR matrix or array.")
    if X.dtype not in (np.float64, np.float32):
        raise TypeError(f"CSR X must be float64 or float32, got {X.dtype}.")
    return X


def bernoulli_stats(
    X,
    log_odds_t,
    bias,
    log_q,
    sample_weight=None,
    has_missing=False,
    n_threads=1,
):
    """Fused E and M statistics of a dense X (see the module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64, float32 (NaN = missing), bool, uint8 or int8; any strides.
    log_odds_t : ndarray of shape (n_features, n_components)
        Log-odds of the success probabilities; float64 or float32, the
        dtype of the computation.
    bias : ndarray of shape (n_components,)
        ``log w_k + sum_j log(1 - p_kj)``.
    log_q : ndarray of shape (n_components, n_features)
        ``log(1 - p_kj)``, used for the missing entries.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the rows; None means all 1.
    has_missing : bool, default=False
        Whether X may hold NaN (float X only); False skips the scan.
    n_threads : int, default=1
        Threads of the compiled kernel; the result does not depend on it.

    Returns
    -------
    nk : ndarray of shape (n_components,)
    xk : ndarray of shape (n_components, n_features)
    missing_k : ndarray of shape (n_components, n_features) or None
        None when X has no NaN.
    log_lik : float
    """
    X = _check_dense(X)
    log_odds_t, bias, log_q = _check_params(log_odds_t, bias, log_q, X.shape[1])
    sample_weight = _check_weight(sample_weight, X.shape[0])
    if _kernels is None:
        return bernoulli_stats_numpy(
            X, log_odds_t, bias, log_q, sample_weight, has_missing
        )
    log_odds = np.ascontiguousarray(log_odds_t.T)
    return _kernels.dense_stats(
        X,
        log_odds,
        bias,
        log_q,
        sample_weight,
        bool(has_missing),
        max(1, int(n_threads)),
    )


def bernoulli_stats_csr(
    X,
    log_odds_t,
    bias,
    log_q,
    sample_weight=None,
    has_missing=False,
    n_threads=1,
):
    """Fused E and M statistics of a CSR X; as :func:`bernoulli_stats`.

    X is a float64 or float32 CSR matrix or array whose explicitly stored
    NaN are missing entries (implicit entries are observed zeros).
    """
    X = _check_csr(X)
    log_odds_t, bias, log_q = _check_params(log_odds_t, bias, log_q, X.shape[1])
    sample_weight = _check_weight(sample_weight, X.shape[0])
    if _kernels is None:
        return bernoulli_stats_numpy(
            X, log_odds_t, bias, log_q, sample_weight, has_missing
        )
    indptr = X.indptr.astype(np.int64, copy=False)
    indices = X.indices
    if indices.dtype not in (np.int32, np.int64):
        indices = indices.astype(np.int64)
    return _kernels.csr_stats(
        X.data,
        indices,
        indptr,
        X.shape[1],
        np.ascontiguousarray(log_odds_t.T),
        bias,
        log_q,
        sample_weight,
        bool(has_missing),
        max(1, int(n_threads)),
    )


def flush_subnormal(resp):
    """Set entries of ``resp`` below the dtype's smallest normal number to 0.

    In place; returns ``resp``.
    """
    resp[resp < np.finfo(resp.dtype).tiny] = 0
    return resp


def bernoulli_stats_numpy(
    X,
    log_odds_t,
    bias,
    log_q,
    sample_weight=None,
    has_missing=False,
    n_threads=1,
):
    """NumPy reference of :func:`bernoulli_stats` and :func:`bernoulli_stats_csr`.

    The same signature and results; ``n_threads`` is ignored. Dense X is
    read block by block (integer blocks are converted one at a time), with
    components along axis 0 so that the log-sum-exp runs over contiguous
    rows.
    """
    log_odds_t = np.asarray(log_odds_t)
    dtype = log_odds_t.dtype
    bias = np.asarray(bias, dtype=dtype)
    log_q = np.asarray(log_q, dtype=dtype)
    n_samples, n_features = X.shape
    n_components = bias.shape[0]
    nk = np.zeros(n_components)
    xk = np.zeros((n_components, n_features))
    missing_k = None
    log_lik = 0.0
    sparse = sp.issparse(X)
    floating = X.dtype.kind == "f"
    step = max(64, _REF_BLOCK_ENTRIES // max(n_features, 1))
    for start in range(0, n_samples, step):
        rows = slice(start, min(start + step, n_samples))
        Xb = X[rows]
        missing = None
        if sparse:
            filled = Xb
            if has_missing and np.isnan(Xb.data).any():
                nan = np.isnan(Xb.data)
                missing = Xb.copy()
                missing.data = nan.astype(dtype)
                missing.eliminate_zeros()
                filled = Xb.copy()
                filled.data = np.where(nan, 0, Xb.data)
                filled.eliminate_zeros()
            filled = filled.astype(dtype)
            # (K, rows): the transpose of the block's log-likelihoods.
            resp = np.asarray(filled @ log_odds_t).T.copy()
            if missing is not None:
                resp -= np.asarray(missing @ log_q.T).T
        else:
            if floating and has_missing:
                nan = np.isnan(Xb)
                if nan.any():
                    missing = nan.astype(dtype)
                    Xb = np.where(nan, 0, Xb)
            filled = Xb.astype(dtype, copy=False)
            resp = log_odds_t.T @ filled.T
            if missing is not None:
                resp -= log_q @ missing.T
        resp += bias[:, None]
        top = resp.max(axis=0)
        resp -= top
        np.exp(resp, out=resp)
        total = resp.sum(axis=0)
        resp /= total
        flush_subnormal(resp)
        log_norm = np.log(total.astype(np.float64)) + top
        if sample_weight is not None:
            sw = np.asarray(sample_weight[rows], dtype=np.float64)
            resp *= sw.astype(dtype)
            log_lik += float(sw @ log_norm)
        else:
            log_lik += float(log_norm.sum())
        nk += resp.sum(axis=1, dtype=np.float64)
        if sparse:
            xk += np.asarray(filled.T @ resp.T).T
            if missing is not None:
                if missing_k is None:
                    missing_k = np.zeros_like(xk)
                missing_k += np.asarray(missing.T @ resp.T).T
        else:
            xk += resp @ filled
            if missing is not None:
                if missing_k is None:
                    missing_k = np.zeros_like(xk)
                missing_k += resp @ missing
    return nk, xk, missing_k, log_lik
