"""Block-wise E and M statistics of a Bernoulli mixture (dense, sparse, missing).

A block is a slice of rows. The functions here take one block and the
current parameters and return sufficient statistics; the estimators sum them
over blocks, so memory beyond X stays O(block rows x n_components +
n_components x n_features). The same functions serve any engine that can map
over row blocks and add up the results.
"""

import numpy as np
import scipy.sparse as sp

from . import _fast

# Rows per block aim at about this many entries of X (a few hundred KiB), so
# that a block read by the E-step is still in cache for the M-step product.
_BLOCK_ENTRIES = 1 << 15


def row_blocks(X, n_components=1, block_entries=_BLOCK_ENTRIES):
    """Yield slices covering the rows of X in blocks of similar size.

    A dense block holds about ``block_entries`` entries of X. A sparse block
    is sized by its dense temporaries (rows x n_components) and its stored
    entries, since its rows are cheap to hold but each block costs a few
    sparse-product calls.
    """
    n_rows, n_features = X.shape
    if sp.issparse(X):
        per_row = max(n_components, X.nnz / max(n_rows, 1), 1)
        # Sparse rows are cheap to hold; fewer, larger blocks save the fixed
        # cost of slicing and of each sparse product call.
        block_entries *= 64
    else:
        per_row = max(n_features, n_components, 1)
    size = max(64, int(block_entries // per_row))
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))


class BernoulliParams:
    """Per-iteration logarithms of the parameters, computed once, used per block.

    Attributes are cast to the computation dtype of X.
    """

    def __init__(self, weights, means, dtype):
        with np.errstate(divide="ignore"):
            self.log_weights = np.log(weights).astype(dtype)
        log_p = np.log(means)
        log_q = np.log1p(-means)
        self.log_q = log_q.astype(dtype)
        self.log_odds_t = np.ascontiguousarray((log_p - log_q).T, dtype=dtype)
        self.log_q_sum = log_q.sum(axis=1).astype(dtype)
        # E-step bias of a complete row: sum_j log(1 - p_kj) + log(w_k).
        self.bias = (log_q.sum(axis=1) + self.log_weights).astype(dtype)


def split_missing(Xb):
    """Return (X with NaN set to 0, missing indicator or None) for a block."""
    if sp.issparse(Xb):
        nan = np.isnan(Xb.data)
        if not nan.any():
            return Xb, None
        missing = Xb.copy()
        missing.data = nan.astype(Xb.dtype)
        missing.eliminate_zeros()
        filled = Xb.copy()
        filled.data = np.where(nan, 0, filled.data).astype(Xb.dtype)
        filled.eliminate_zeros()
        return filled, missing
    nan = np.isnan(Xb)
    if not nan.any():
        return Xb, None
    return np.where(nan, 0, Xb).astype(Xb.dtype, copy=False), nan.astype(Xb.dtype)


def block_log_prob(Xb, params):
    """Per-component log-likelihood of a block of rows; NaN entries are skipped.

    Returns ``(log_prob, filled, missing)``: ``filled`` is the block with
    NaN replaced by 0 and ``missing`` the 0/1 indicator of NaN (``None`` when
    the block has none), for reuse by the M-step statistics.
    """
    filled, missing = split_missing(Xb)
    log_prob = np.asarray(filled @ params.log_odds_t)
    log_prob += params.log_q_sum
    if missing is not None:
        # Missing entries contribute nothing: remove the log(1 - p) they got.
        log_prob -= np.asarray(missing @ params.log_q.T)
    return log_prob, filled, missing


def log_normalize(weighted):
    """Row-wise log-sum-exp; returns ``(log_norm, resp)`` with resp = exp(w - norm)."""
    row_max = weighted.max(axis=1, keepdims=True)
    resp = weighted - row_max
    np.exp(resp, out=resp)
    total = resp.sum(axis=1, keepdims=True)
    resp /= total
    _fast.flush_subnormal(resp)
    log_norm = (np.log(total) + row_max)[:, 0]
    return log_norm, resp


def block_e_step(Xb, params, may_have_missing=True):
    """Return ``(log_norm, resp, filled, missing)`` for a block of rows.

    ``may_have_missing=False`` skips the NaN scan when the caller already
    knows X has none.
    """
    if may_have_missing:
        filled, missing = split_missing(Xb)
    else:
        filled, missing = Xb, None
    weighted = np.asarray(filled @ params.log_odds_t)
    weighted += params.bias
    if missing is not None:
        weighted -= np.asarray(missing @ params.log_q.T)
    log_norm, resp = log_normalize(weighted)
    return log_norm, resp, filled, missing


def block_m_stats(resp, filled, missing, sample_weight):
    """Sufficient statistics of one block given its responsibilities.

    Returns ``(nk, xk, missing_k)``: the weighted responsibility sums
    (n_components,), ``resp.T @ X`` (n_components, n_features) and, when the
    block has missing entries, ``resp.T @ missing`` (else ``None``).
    """
    if sample_weight is not None:
        resp = resp * sample_weight[:, None]
    nk = resp.sum(axis=0, dtype=np.float64)
    if sp.issparse(filled):
        xk = np.asarray(filled.T @ resp).T
        missing_k = None if missing is None else np.asarray(missing.T @ resp).T
    else:
        xk = resp.T @ filled
        missing_k = None if missing is None else resp.T @ missing
    return nk, xk, missing_k


class BernoulliStats:
    """Running sums of the sufficient statistics over blocks."""

    def __init__(self, n_components, n_features):
        self.nk = np.zeros(n_components)
        self.xk = np.zeros((n_components, n_features))
        self.missing_k = None
        self.log_lik = 0.0

    def add(self, nk, xk, missing_k, log_lik=0.0):
        self.nk += nk
        self.xk += xk
        if missing_k is not None:
            if self.missing_k is None:
                self.missing_k = np.zeros_like(self.xk)
            self.missing_k += missing_k
        self.log_lik += log_lik


def bernoulli_pass(X, sample_weight, params, *, has_missing=True, unit_weight=False):
    """One fused E and M pass over X: statistics and log-likelihood sum.

    Each block is read once: its responsibilities are computed and
    immediately turned into sufficient statistics while the block is hot.
    ``has_missing=False`` and ``unit_weight=True`` (all sample weights 1)
    let the caller skip per-block work it knows is unneeded.
    """
    n_rows, n_features = X.shape
    stats = BernoulliStats(params.log_weights.shape[0], n_features)
    if _fast.HAVE_KERNEL and _kernel_input(X):
        stats.add(*_fast_stats(X, params, sample_weight, has_missing, unit_weight))
        return stats
    dense = not sp.issparse(X)
    for rows in row_blocks(X, params.bias.shape[0]):
        sw = sample_weight[rows]
        if dense:
            stats.add(
                *_dense_block_stats(X[rows], params, sw, has_missing, unit_weight)
            )
            continue
        log_norm, resp, filled, missing = block_e_step(X[rows], params, has_missing)
        nk, xk, missing_k = block_m_stats(
            resp, filled, missing, None if unit_weight else sw
        )
        stats.add(nk, xk, missing_k, float(sw @ log_norm))
    return stats


def compute_dtype(X):
    """The float dtype EM runs in for X: its own if floating, else float64."""
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _kernel_input(X):
    """True when the compiled kernel reads X as it is (dense or CSR)."""
    if sp.issparse(X):
        return X.format == "csr" and X.dtype in (np.float32, np.float64)
    return isinstance(X, np.ndarray) and X.dtype in _fast.DENSE_DTYPES


def _fast_stats(X, params, sample_weight, has_missing, unit_weight):
    """``(nk, xk, missing_k, log_lik)`` of X from the compiled kernel."""
    stats = _fast.bernoulli_stats_csr if sp.issparse(X) else _fast.bernoulli_stats
    return stats(
        X,
        params.log_odds_t,
        params.bias,
        params.log_q,
        None if unit_weight else sample_weight,
        has_missing,
        _fast.default_n_threads(),
    )


def _dense_block_stats(Xb, params, sample_weight, may_have_missing, unit_weight):
    """Fused E and M statistics of a dense block, components along axis 0.

    The same arithmetic as :func:`block_e_step` and :func:`block_m_stats`,
    laid out as (n_components, rows) so that the row-wise log-sum-exp runs
    over contiguous rows instead of many short rows of n_components.
    """
    filled, missing = split_missing(Xb) if may_have_missing else (Xb, None)
    resp = params.log_odds_t.T @ filled.T
    resp += params.bias[:, None]
    if missing is not None:
        resp -= params.log_q @ missing.T
    top = resp.max(axis=0)
    resp -= top
    np.exp(resp, out=resp)
    total = resp.sum(axis=0)
    resp /= total
    _fast.flush_subnormal(resp)
    log_norm = np.log(total)
    log_norm += top
    if not unit_weight:
        resp *= sample_weight
    nk = resp.sum(axis=1, dtype=np.float64)
    xk = resp @ filled
    missing_k = None if missing is None else resp @ missing
    return nk, xk, missing_k, float(sample_weight @ log_norm)


def has_nan(X):
    """True when X (dense or sparse) stores any NaN; scanned block-wise."""
    if sp.issparse(X):
        return bool(np.isnan(X.data).any())
    return any(np.isnan(X[rows]).any() for rows in row_blocks(X))


def bernoulli_m_step(stats, alpha, clip_eps):
    """Weights and success probabilities from the summed statistics.

    ``means = (resp.T @ x + alpha) / (observed responsibility + 2 alpha)``,
    the posterior mode under a Beta(1 + alpha, 1 + alpha) prior, clipped to
    ``[clip_eps, 1 - clip_eps]`` so that no log-probability is infinite.
    """
    # A floor on the totals keeps an empty component finite without biasing
    # the others; it is relative to the total weight so that tiny sample
    # weights are not swamped.
    tiny = 10 * np.finfo(np.float64).eps * stats.nk.sum()
    nk = np.maximum(stats.nk, tiny)
    weights = nk / nk.sum()
    observed = stats.nk[:, None]
    if stats.missing_k is not None:
        observed = observed - stats.missing_k
    observed = np.maximum(observed, tiny)
    means = (stats.xk + alpha) / (observed + 2 * alpha)
    np.clip(means, clip_eps, 1 - clip_eps, out=means)
    return weights, means


def labels_stats(X, labels, n_components, sample_weight):
    """Sufficient statistics of one-hot responsibilities given by labels."""
    stats = BernoulliStats(n_components, X.shape[1])
    for rows in row_blocks(X, n_components):
        resp = np.zeros((rows.stop - rows.start, n_components), dtype=compute_dtype(X))
        resp[np.arange(resp.shape[0]), labels[rows]] = 1
        filled, missing = split_missing(X[rows])
        stats.add(*block_m_stats(resp, filled, missing, sample_weight[rows]))
    return stats


# Random starting responsibilities are drawn this many rows at a time, so
# the stream of numbers (and the start) does not depend on how X is stored.
_RANDOM_CHUNK = 4096


def random_resp_stats(X, n_components, sample_weight, random_state):
    """Sufficient statistics of random row-normalised responsibilities."""
    stats = BernoulliStats(n_components, X.shape[1])
    for start in range(0, X.shape[0], _RANDOM_CHUNK):
        rows = slice(start, min(start + _RANDOM_CHUNK, X.shape[0]))
        resp = random_state.uniform(size=(rows.stop - rows.start, n_components))
        resp /= resp.sum(axis=1, keepdims=True)
        filled, missing = split_missing(X[rows])
        stats.add(
            *block_m_stats(
                resp.astype(compute_dtype(X)), filled, missing, sample_weight[rows]
            )
        )
    return stats


def bernoulli_log_prob(X, params):
    """Per-component log-likelihood of every row of X, block by block."""
    out = np.empty((X.shape[0], params.log_weights.shape[0]), dtype=params.log_q.dtype)
    for rows in row_blocks(X):
        out[rows] = block_log_prob(X[rows], params)[0]
    return out


def unique_binary_rows(X, max_features=52):
    """Collapse identical 0/1 rows of X when few distinct rows exist.

    Each row is read as the binary digits of an integer key (exact in
    float64 for up to 52 features). Returns ``(first, inverse)`` — the index
    of one row of each distinct pattern and, for every row, the index of its
    pattern — or ``None`` when collapsing would not halve the work or X has
    too many features or any missing value.
    """
    n_rows, n_features = X.shape
    if n_features > max_features or n_rows < 64:
        return None
    if sp.issparse(X):
        if np.isnan(X.data).any():
            return None
    powers = np.ldexp(1.0, np.arange(n_features))
    # A first look at a few thousand rows avoids sorting every row (and its
    # O(n) temporaries) when the data are not repetitive.
    head = min(n_rows, 4096)
    head_keys = np.asarray(X[:head] @ powers).ravel()
    if 2 * np.unique(head_keys).shape[0] > head:
        return None
    keys = np.empty(n_rows)
    for rows in row_blocks(X):
        block = X[rows]
        keys[rows] = np.asarray(block @ powers).ravel()
    if np.isnan(keys).any():
        return None
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if 2 * uniq.shape[0] > n_rows:
        return None
    return first, inverse.reshape(-1)
