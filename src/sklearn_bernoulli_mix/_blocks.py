"""Row blocks, the one sufficient-statistics type, and helpers shared by every family.

A block is a slice of rows. A family (see ``_bernoulli.py``) turns one block
and the current parameters into :class:`Stats`; whatever runs the blocks (in
memory, on Dask workers, one mini-batch of a stream) adds them up, so memory
beyond X stays O(block rows x n_components + n_components x n_features).
"""

import numpy as np
import scipy.sparse as sp

# Rows per block aim at about this many entries of X (a few hundred KiB), so
# that a block read by the E-step is still in cache for the M-step product.
_BLOCK_ENTRIES = 1 << 15

#: Rows an initialisation sees at most: k-means (and its ++ seeding) on large
#: in-memory data, and every start on Dask data, use a random subset of
#: ``init_sample_size`` rows.
INIT_SAMPLE_ROWS = 10_000
#: ...and at least this many rows per component (never more than X has).
INIT_SAMPLE_ROWS_PER_COMPONENT = 100


def init_sample_size(n_samples, n_components):
    """Rows an initialisation draws from ``n_samples`` (the one rule)."""
    return int(
        min(
            n_samples,
            max(INIT_SAMPLE_ROWS, INIT_SAMPLE_ROWS_PER_COMPONENT * n_components),
        )
    )


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


class Stats:
    """Sufficient statistics of a set of rows: named arrays that add and scale.

    Every statistic a family needs (responsibility sums, ``resp.T @ X``,
    counts of missing entries, the log-likelihood sum, the total sample
    weight) is one named part. Sums of blocks, of Dask chunks and the
    stepwise averages of ``partial_fit`` are all ``+`` and ``*`` on this
    type. A part that is absent (e.g. no missing values in a block) counts
    as zero, so it costs nothing where it does not occur. A part whose name
    starts with ``max_`` combines by maximum instead of sum (e.g. the
    largest category code a scan has seen).
    """

    __slots__ = ("parts",)

    def __init__(self, **parts):
        self.parts = {k: v for k, v in parts.items() if v is not None}

    def __getitem__(self, name):
        return self.parts[name]

    def get(self, name, default=None):
        """The part ``name``, or ``default`` when it is absent (zero)."""
        return self.parts.get(name, default)

    def __add__(self, other):
        if other is None or (isinstance(other, int) and other == 0):
            return self
        parts = dict(self.parts)
        for name, value in other.parts.items():
            if name not in parts:
                parts[name] = value
            elif name.startswith("max_"):
                parts[name] = np.maximum(parts[name], value)
            else:
                parts[name] = parts[name] + value
        return Stats(**parts)

    __radd__ = __add__

    def __mul__(self, factor):
        return Stats(**{k: v * factor for k, v in self.parts.items()})

    __rmul__ = __mul__

    @property
    def log_lik(self):
        """Weighted sum of the log-likelihoods of the rows (0 when absent)."""
        return float(self.parts.get("log_lik", 0.0))

    @property
    def weight(self):
        """Total sample weight of the rows (0 when absent)."""
        return float(self.parts.get("weight", 0.0))


def add_stats(*parts):
    """Sum of Stats, skipping None (an empty chunk); None when all are None."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def mixing_weights(nk):
    """Weights from responsibility sums, with a floor for empty components.

    The floor keeps an empty component finite without biasing the others;
    it is relative to the total so that tiny sample weights are not swamped.
    """
    tiny = 10 * np.finfo(np.float64).eps * nk.sum()
    nk = np.maximum(nk, tiny)
    return nk / nk.sum(), tiny


def log_normalize_t(joint):
    """Column-wise log-sum-exp of a (n_components, rows) array, in place.

    ``joint`` holds ``log w_k + log p(x | k)``; it is turned into the
    responsibilities and ``log p(x)`` (rows,) is returned. Responsibilities
    below the smallest normal number of the dtype are flushed to exactly
    zero: they carry no information, and products with subnormal numbers
    are many times slower on x86.
    """
    top = joint.max(axis=0)
    joint -= top
    floor = np.log(np.finfo(joint.dtype).tiny)
    np.copyto(joint, -np.inf, where=joint < floor)
    np.exp(joint, out=joint)
    total = joint.sum(axis=0)
    joint /= total
    log_norm = np.log(total)
    log_norm += top
    return log_norm


def zero_likelihood_error(rows, offset=0, where="X"):
    """The error for rows that no component can explain."""
    shown = ", ".join(str(int(r) + offset) for r in rows[:10])
    more = "" if len(rows) <= 10 else f" and {len(rows) - 10} more"
    return ValueError(
        f"Row(s) {shown}{more} of {where} have zero likelihood under every "
        "component, so no mixture of these components can explain them. Check "
        "the data or add a component that gives these rows positive likelihood."
    )


def has_nan(X):
    """True when X (dense or sparse) stores any NaN; scanned block-wise."""
    if sp.issparse(X):
        return bool(np.isnan(X.data).any())
    return any(np.isnan(X[rows]).any() for rows in row_blocks(X))


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
