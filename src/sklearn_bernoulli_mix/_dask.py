"""Fitting and predicting on Dask arrays, chunk by chunk.

Dask is optional: this module never imports it at import time, and
:func:`is_dask_array` recognises a Dask array without importing Dask. The
estimators call into this module only when they are given a Dask array.

How a fit runs on a Dask array ``X`` (chunked along rows):

- :class:`DaskData` is the Dask side of the execution seam of
  ``_engine.py``: every EM iteration maps the family's block function over
  the row chunks, each chunk giving its :class:`~._blocks.Stats` of size
  ``n_components x n_features``;
- every chunk is validated once per fit (a first pass); the iterations then
  only convert each chunk to the computation dtype;
- a tree reduction adds those statistics up on the workers, and only the sum
  travels to the client, which runs the M-step on it: X is never gathered;
- the initialisation draws a random subset of ``init_sample_size`` rows
  (``_blocks.py``, the same rule as in memory; with the estimator's
  ``random_state``) and runs the estimator's own ``init_params`` on it; with
  both the weights and the component parameters given nothing is drawn.

This module imports nothing from the estimator modules: the estimators hand
it the functions that validate and convert a chunk.

The iterations are those of the in-memory fit, so from the same start the
result agrees with it up to the order in which the statistics are summed.
"""

import sys

import numpy as np
import scipy.sparse as sp

from ._blocks import Stats, add_stats, zero_likelihood_error
from ._solvers import check_explained
from ._validation import check_sample_weight

#: Partial sums combined by one task of the tree reduction.
SPLIT_EVERY = 16


# --------------------------------------------------------------------------
# Recognising and preparing Dask input
# --------------------------------------------------------------------------


def is_dask_array(obj):
    """True when ``obj`` is a ``dask.array.Array``; never imports Dask.

    A Dask array can only exist once Dask has been imported, so when it is
    absent from ``sys.modules`` the answer is False at no cost.
    """
    if "dask" not in sys.modules:
        return False
    return any(
        cls.__name__ == "Array" and cls.__module__.startswith("dask.array")
        for cls in type(obj).__mro__
    )


def merged_chunk_limit():
    """Largest block, in bytes, that merging feature chunks may create.

    Twice Dask's ``array.chunk-size`` setting (128 MiB by default, so
    256 MiB); raise that setting with ``dask.config.set`` to allow more.
    """
    import dask
    from dask.utils import parse_bytes

    return 2 * parse_bytes(dask.config.get("array.chunk-size"))


def _has_unknown(sizes):
    return any(isinstance(s, float) and np.isnan(s) for s in sizes)


def _unknown_chunks_error(what, axis):
    return ValueError(
        f"{what} has unknown chunk sizes along {axis} (NaN in {what}.chunks), "
        "as happens after boolean indexing or reading from a DataFrame. "
        f"Call {what}.compute_chunk_sizes() (or give lengths=True when "
        "converting from a Dask DataFrame) first."
    )


def prepare_dask_array(X, *, allow_unknown_rows=False):
    """Check a 2-D Dask array and give it a single chunk along the features.

    Rechunking rule: a Dask array chunked along the features is rechunked to
    one feature chunk (``X.rechunk({1: -1})``, row chunks unchanged) when the
    largest merged block, ``max(row chunk) * n_features * itemsize`` bytes,
    is at most :func:`merged_chunk_limit`. Larger blocks, and feature chunks
    of unknown size, are rejected with a ValueError that says how to rechunk
    by rows first. The limit is not applied to chunks holding scipy.sparse
    matrices, whose size depends on their stored entries, not their shape.
    """
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D Dask array of shape (n_samples, n_features), got a "
            f"{X.ndim}-D one of shape {X.shape}."
        )
    row_chunks, feature_chunks = X.chunks
    if _has_unknown(feature_chunks):
        raise _unknown_chunks_error("X", "the features")
    if _has_unknown(row_chunks):
        if not allow_unknown_rows or len(feature_chunks) > 1:
            raise _unknown_chunks_error("X", "the rows")
    elif X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}).")
    if len(feature_chunks) > 1:
        if not sp.issparse(getattr(X, "_meta", None)):
            largest = max(row_chunks) * X.shape[1] * X.dtype.itemsize
            limit = merged_chunk_limit()
            if largest > limit:
                from dask.utils import format_bytes

                rows = max(1, limit // max(1, X.shape[1] * X.dtype.itemsize))
                raise ValueError(
                    f"X is chunked along the features ({len(feature_chunks)} "
                    "feature chunks), but the mixtures need whole rows in each "
                    "chunk, and merging the feature chunks would make blocks of "
                    f"{format_bytes(largest)} ({max(row_chunks)} rows x "
                    f"{X.shape[1]} features), more than the limit of "
                    f"{format_bytes(limit)} (twice dask's 'array.chunk-size'). "
                    f"Rechunk X to whole rows first, e.g. "
                    f"X.rechunk({{0: {rows}, 1: -1}}), or raise "
                    "'array.chunk-size' with dask.config.set."
                )
        X = X.rechunk({1: -1})
    return X


def dask_sample_weight_blocks(sample_weight, X):
    """Per-chunk sample weights aligned with the row chunks of X, or None.

    A Dask ``sample_weight`` must have exactly the row chunks of X (each
    chunk is checked on its worker: finite and non-negative). Weights in
    memory are validated here; all ones become None (the unweighted path),
    any other is split like X (each piece enters the graph of every pass:
    8 bytes a row, next to the row of X it weighs).
    """
    if sample_weight is None:
        return None
    n_samples = X.shape[0]
    if is_dask_array(sample_weight):
        if sample_weight.ndim != 1:
            raise ValueError(
                f"Sample weights must be a 1D array, got a Dask array of shape "
                f"{sample_weight.shape}."
            )
        if _has_unknown(sample_weight.chunks[0]):
            raise _unknown_chunks_error("sample_weight", "the rows")
        if sample_weight.shape[0] != n_samples:
            raise ValueError(
                f"sample_weight.shape == ({sample_weight.shape[0]},), expected "
                f"({n_samples},): pass one weight per row of X."
            )
        if tuple(sample_weight.chunks[0]) != tuple(X.chunks[0]):
            raise ValueError(
                "The chunks of sample_weight do not match the row chunks of X: "
                f"sample_weight.chunks[0] = {_short(sample_weight.chunks[0])}, "
                f"X.chunks[0] = {_short(X.chunks[0])}. Rechunk it with "
                "sample_weight.rechunk((X.chunks[0],))."
            )
        return list(sample_weight.to_delayed().ravel())
    sw = check_sample_weight(sample_weight, n_samples)
    if np.all(sw == 1):
        return None
    import dask

    offsets = _row_offsets(X)
    return [
        dask.delayed(sw[start:stop]) for start, stop in zip(offsets[:-1], offsets[1:])
    ]


def _short(chunks, limit=6):
    chunks = tuple(int(c) if not np.isnan(c) else c for c in chunks)
    if len(chunks) <= limit:
        return str(chunks)
    return str(chunks[:limit])[:-1] + f", ... ({len(chunks)} chunks)"


def _check_chunk_weight(sw, n_rows):
    sw = np.asarray(sw, dtype=np.float64).reshape(-1)
    if sw.shape[0] != n_rows:  # pragma: no cover - chunks are checked up front
        raise ValueError("sample_weight chunk does not match the chunk of X.")
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity; use finite weights.")
    if np.any(sw < 0):
        raise ValueError("Negative values in sample_weight are not allowed.")
    return sw


def _row_offsets(X):
    return np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.int64)


# --------------------------------------------------------------------------
# Mapping over chunks and reducing
# --------------------------------------------------------------------------


def map_reduce(chunk_function, X_blocks, sw_blocks, *args):
    """``sum_c chunk_function(X_c, sw_c, *args, row_offset_c)``, computed by Dask.

    ``X_blocks`` are the delayed row chunks, ``args`` small objects shared by
    every chunk (each enters the graph once). The partial sums are combined
    by a tree of ``SPLIT_EVERY``-way additions, and only the final
    :class:`~._blocks.Stats` is returned to the client.
    """
    import dask

    shared = [dask.delayed(a) for a in args]
    parts = []
    for i, (block, offset) in enumerate(X_blocks):
        sw = None if sw_blocks is None else sw_blocks[i]
        parts.append(dask.delayed(chunk_function)(block, sw, *shared, offset))
    while len(parts) > 1:
        parts = [
            dask.delayed(add_stats)(*parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    (total,) = dask.compute(parts[0])
    return total


def _delayed_blocks(X):
    offsets = _row_offsets(X)
    return list(zip(X.to_delayed().ravel(), offsets[:-1].tolist()))


# --------------------------------------------------------------------------
# Sampling rows for the initialisation
# --------------------------------------------------------------------------


def draw_rows(n_samples, size, random_state):
    """A uniformly random sorted subset of ``size`` row indices, in O(size) memory.

    Indices are drawn with replacement until ``size`` distinct ones are seen;
    by symmetry every subset of that size is equally likely.
    """
    if size >= n_samples:
        return np.arange(n_samples)
    chosen = np.unique(random_state.randint(0, n_samples, size=size))
    while chosen.size < size:
        extra = random_state.randint(0, n_samples, size=size - chosen.size)
        chosen = np.unique(np.concatenate([chosen, extra]))
    return chosen


def _take_rows(block, rows):
    return block[rows]


def sample_rows(X, sw_blocks, rows):
    """Compute the rows ``rows`` (sorted) of X and their weights, chunk by chunk.

    Only the selected rows of each chunk travel to the client. Returns
    ``(X_rows, sample_weight_rows or None)``; sparse chunks give a CSR matrix.
    """
    import dask

    offsets = _row_offsets(X)
    which = np.searchsorted(offsets, rows, side="right") - 1
    blocks = X.to_delayed().ravel()
    taken, weights = [], []
    for c in np.unique(which):
        local = rows[which == c] - offsets[c]
        taken.append(dask.delayed(_take_rows)(blocks[c], local))
        if sw_blocks is not None:
            weights.append(dask.delayed(_take_rows)(sw_blocks[c], local))
    taken, weights = dask.compute(taken, weights)
    if any(sp.issparse(t) for t in taken):
        X_rows = sp.vstack([sp.csr_matrix(t) for t in taken], format="csr")
    else:
        X_rows = np.concatenate([np.asarray(t) for t in taken])
    sw_rows = None if sw_blocks is None else np.concatenate(weights)
    return X_rows, sw_rows


# --------------------------------------------------------------------------
# The Dask side of the execution seam
# --------------------------------------------------------------------------


def computation_dtype(X):
    """float32 stays float32; every other dtype computes in float64."""
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _chunk_weight(swb, n_rows):
    """``(weights, is_unit)`` of one chunk: ones when no weights were given."""
    if swb is None:
        return np.ones(n_rows), True
    return _check_chunk_weight(swb, n_rows), False


def _validate_chunk(Xb, swb, validate_block, row_offset):
    """Validate one chunk (once per fit): its weight and whether it has NaN."""
    if Xb.shape[0] == 0:
        return None
    Xb = validate_block(Xb)
    sw, _ = _chunk_weight(swb, Xb.shape[0])
    data = Xb.data if sp.issparse(Xb) else Xb
    has_nan = data.dtype.kind == "f" and bool(np.isnan(data).any())
    return Stats(weight=float(sw.sum()), n_missing_chunks=int(has_nan))


def _stats_chunk(Xb, swb, convert_block, family, prepared, has_missing, row_offset):
    """The family's statistics of one (already validated) chunk."""
    if Xb.shape[0] == 0:
        return None
    Xb = convert_block(Xb)
    sw, unit = _chunk_weight(swb, Xb.shape[0])
    return family.block_stats(
        Xb, sw, prepared, has_missing=has_missing, unit_weight=unit
    )


def _scan_chunk(Xb, swb, convert_block, scan_block, row_offset):
    if Xb.shape[0] == 0:
        return None
    Xb = convert_block(Xb)
    sw, _ = _chunk_weight(swb, Xb.shape[0])
    return scan_block(Xb, sw)


class DaskData:
    """A row-chunked Dask array as data of the execution seam (see ``_engine``).

    Construction checks X and the sample weights, sets ``n_features_in_`` on
    ``owner`` (and removes ``feature_names_in_``, which a Dask array does
    not carry), and validates every chunk once with ``validate_block``.
    Later passes convert each chunk with ``convert_block`` only.
    """

    def __init__(self, X, sample_weight, *, validate_block, convert_block, owner):
        X = prepare_dask_array(X)
        self.X = X
        self.n_samples, self.n_features = X.shape
        if hasattr(owner, "feature_names_in_"):
            del owner.feature_names_in_
        owner.n_features_in_ = self.n_features
        self.dtype = computation_dtype(X)
        self.sw_blocks = dask_sample_weight_blocks(sample_weight, X)
        self.blocks = _delayed_blocks(X)
        self.convert_block = convert_block
        checked = map_reduce(
            _validate_chunk, self.blocks, self.sw_blocks, validate_block
        )
        if checked is None or not checked.weight > 0:
            raise ValueError(
                "Sample weights must contain at least one non-zero number; "
                "all weights are zero."
            )
        self.has_missing = bool(checked["n_missing_chunks"])

    def total(self, family, prepared):
        """Statistics of every chunk under ``prepared``, added on the workers."""
        return map_reduce(
            _stats_chunk,
            self.blocks,
            self.sw_blocks,
            self.convert_block,
            family,
            prepared,
            self.has_missing,
        )

    def scan(self, scan_block):
        """Sum of ``scan_block(chunk, weights)`` over the chunks."""
        return map_reduce(
            _scan_chunk, self.blocks, self.sw_blocks, self.convert_block, scan_block
        )

    def init_rows(self, size, random_state):
        """``size`` random rows (and weights) gathered for an initialisation."""
        rows = draw_rows(self.n_samples, size, random_state)
        X_rows, sw_rows = sample_rows(self.X, self.sw_blocks, rows)
        X_rows = self.convert_block(X_rows)
        return X_rows, check_sample_weight(sw_rows, X_rows.shape[0])


# --------------------------------------------------------------------------
# Known components (FixedComponentMixture)
# --------------------------------------------------------------------------


def _chunk_likelihood(Xb, swb, log_likelihood, row_offset):
    """Chunk -> (lik scaled by row maxima, row maxima, weights)."""
    log_lik = log_likelihood(Xb)
    row_max = log_lik.max(axis=1)
    impossible = np.flatnonzero(~np.isfinite(row_max))
    if impossible.size:
        raise zero_likelihood_error(impossible, offset=row_offset)
    lik = np.exp(log_lik - row_max[:, None])
    sw, _ = _chunk_weight(swb, Xb.shape[0])
    return lik, row_max, sw


def _fixed_chunk(Xb, swb, log_likelihood, weights, want_hessian, row_offset):
    """Weights statistics of one chunk: gradient, log-likelihood, Hessian.

    ``g = lik.T @ (w / mix)`` (the EM map's factor and the gradient of the
    mean log-likelihood), ``sum w log p``, ``sum w`` and, for mix-SQP, the
    Hessian ``lik.T @ diag(w / mix^2) @ lik``.
    """
    if Xb.shape[0] == 0:
        return None
    lik, row_max, sw = _chunk_likelihood(Xb, swb, log_likelihood, row_offset)
    mix = lik @ weights
    seen = sw > 0
    check_explained(
        mix,
        seen,
        weights_name="starting",
        row_name=lambda i: f"row {i + row_offset} of X",
    )
    ratio = np.zeros_like(mix)
    np.divide(sw, mix, out=ratio, where=seen)
    with np.errstate(divide="ignore"):
        scaled = float(sw[seen] @ np.log(mix[seen]))
    log_lik = scaled + float(sw[seen] @ row_max[seen])
    hessian = None
    if want_hessian:
        a = lik[seen] * (np.sqrt(sw[seen]) / mix[seen])[:, None]
        hessian = a.T @ a
    return Stats(
        g=lik.T @ ratio,
        log_lik=log_lik,
        scaled=scaled,
        weight=float(sw.sum()),
        h=hessian,
    )


def _line_chunk(Xb, swb, log_likelihood, weights, direction, steps, row_offset):
    """``sum_i w_i log1p(t (lik_i @ p) / mix_i)`` for every step ``t``."""
    if Xb.shape[0] == 0:
        return None
    lik, _, sw = _chunk_likelihood(Xb, swb, log_likelihood, row_offset)
    seen = sw > 0
    mix = (lik @ weights)[seen]
    relative = (lik[seen] @ direction) / mix
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log1p(np.multiply.outer(steps, relative)) @ sw[seen]
    return Stats(values=values, max_neg=float(np.max(-relative, initial=-np.inf)))


class DaskLikelihood:
    """The known components' likelihoods of a Dask X, never gathered.

    Offers what the weight solvers need as reductions over the chunks: the
    gradient (and Hessian) at given weights, and the change of the
    log-likelihood along a direction for a ladder of step sizes.
    """

    def __init__(self, X, sample_weight, log_likelihood, owner):
        X = prepare_dask_array(X)
        self.n_samples, self.n_features = X.shape
        if hasattr(owner, "feature_names_in_"):
            del owner.feature_names_in_
        owner.n_features_in_ = self.n_features
        self.sw_blocks = dask_sample_weight_blocks(sample_weight, X)
        self.blocks = _delayed_blocks(X)
        self.log_likelihood = log_likelihood

    def stats(self, weights, *, hessian=False):
        total = map_reduce(
            _fixed_chunk,
            self.blocks,
            self.sw_blocks,
            self.log_likelihood,
            weights,
            hessian,
        )
        if total is None or not total.weight > 0:
            raise ValueError(
                "Sample weights must contain at least one non-zero number; "
                "all weights are zero."
            )
        return total

    def line_values(self, weights, direction, steps):
        return map_reduce(
            _line_chunk,
            self.blocks,
            self.sw_blocks,
            self.log_likelihood,
            weights,
            direction,
            np.asarray(steps),
        )


# --------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------


def _apply_method(block, estimator, method):
    if block.shape[0] == 0:
        width = (estimator.weights_.shape[0],) if method == "predict_proba" else ()
        dtype = np.intp if method == "predict" else np.float64
        return np.empty((0, *width), dtype=dtype)
    return getattr(estimator, method)(block)


def dask_predict(estimator, X, method):
    """Lazy ``estimator.<method>(X)`` mapped over the row chunks of Dask X.

    ``predict``, ``predict_proba`` and ``score_samples`` return Dask arrays
    chunked like X along the rows; ``score`` computes the mean and returns a
    float. Fitting and the number of features are checked at once; the
    blocks themselves are validated when computed, by the estimator's own
    method.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    X = prepare_dask_array(X, allow_unknown_rows=True)
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {n_features} features as input."
        )
    if method == "score":
        return float(dask_predict(estimator, X, "score_samples").mean().compute())
    n_components = estimator.weights_.shape[0]
    if method == "predict_proba":
        return X.map_blocks(
            _apply_method,
            estimator,
            method,
            dtype=np.float64,
            chunks=(X.chunks[0], (n_components,)),
            meta=np.empty((0, 0), dtype=np.float64),
        )
    dtype = np.intp if method == "predict" else np.float64
    return X.map_blocks(
        _apply_method,
        estimator,
        method,
        dtype=dtype,
        drop_axis=1,
        chunks=(X.chunks[0],),
        meta=np.empty((0,), dtype=dtype),
    )
