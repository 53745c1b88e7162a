"""Fitting and predicting on Dask arrays, chunk by chunk.

Dask is optional: this module never imports it at import time, and
:func:`is_dask_array` recognises a Dask array without importing Dask. The
estimators call into this module only when they are given a Dask array.

How a fit runs on a Dask array ``X`` (chunked along rows):

- every EM iteration maps the pure block functions of ``_blocks.py`` (or the
  likelihood of the known components) over the row chunks, each chunk giving
  a handful of sufficient statistics of size ``n_components x n_features``;
- a tree reduction adds those statistics up on the workers, and only the sum
  travels to the client, which runs the M-step on it: X is never gathered;
- the initialisation draws a random subset of at most
  ``max(10_000, 100 * n_components)`` rows (with the estimator's
  ``random_state``) and runs the estimator's own ``init_params`` on it; with
  both ``weights_init`` and ``means_init`` given nothing is drawn.

The iterations are those of the in-memory fit, so from the same start the
result agrees with it up to the order in which the statistics are summed.
"""

import sys

import numpy as np
import scipy.sparse as sp

from ._blocks import BernoulliParams, BernoulliStats, bernoulli_m_step, bernoulli_pass
from ._solvers import (
    check_explained,
    covariance_from_information,
    store_weights_covariance,
)
from ._validation import (
    check_probabilities,
    check_sample_weight,
    check_weights,
    validate_params,
)

#: Rows drawn for the initialisation on Dask input: at least this many...
INIT_SAMPLE_ROWS = 10_000
#: ...and at least this many per component (never more than X has).
INIT_SAMPLE_ROWS_PER_COMPONENT = 100
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


def _add_parts(*parts):
    """Add tuples of statistics element-wise; None stands for 'nothing'."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    total = list(parts[0])
    for part in parts[1:]:
        for i, value in enumerate(part):
            if value is None:
                continue
            total[i] = value if total[i] is None else total[i] + value
    return tuple(total)


def map_reduce(chunk_function, X_blocks, sw_blocks, *args):
    """``sum_c chunk_function(X_c, sw_c, *args, row_offset_c)``, computed by Dask.

    ``X_blocks`` are the delayed row chunks, ``args`` small objects shared by
    every chunk (each enters the graph once). The partial sums are combined
    by a tree of ``SPLIT_EVERY``-way additions, and only the final tuple is
    returned to the client.
    """
    import dask

    shared = [dask.delayed(a) for a in args]
    parts = []
    for i, (block, offset) in enumerate(X_blocks):
        sw = None if sw_blocks is None else sw_blocks[i]
        parts.append(dask.delayed(chunk_function)(block, sw, *shared, offset))
    while len(parts) > 1:
        parts = [
            dask.delayed(_add_parts)(*parts[i : i + SPLIT_EVERY])
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


def init_sample_size(n_samples, n_components):
    """Rows drawn for the initialisation on Dask input."""
    return int(
        min(
            n_samples,
            max(INIT_SAMPLE_ROWS, INIT_SAMPLE_ROWS_PER_COMPONENT * n_components),
        )
    )


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
# BernoulliMixture
# --------------------------------------------------------------------------


def _computation_dtype(X):
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _block_validator(estimator, n_features, **attributes):
    """An unfitted copy of the estimator that validates blocks as fit would."""
    from sklearn.base import clone

    validator = clone(estimator)
    validator.n_features_in_ = n_features
    for name, value in attributes.items():
        setattr(validator, name, value)
    return validator


def _bernoulli_chunk(Xb, swb, validator, weights, means, dtype, row_offset):
    """Sufficient statistics of one chunk: (nk, xk, missing_k, log_lik, weight)."""
    if Xb.shape[0] == 0:
        return None
    Xb = validator._validate_X(Xb, reset=False)
    n_rows = Xb.shape[0]
    if swb is None:
        sw = np.ones(n_rows, dtype=dtype)
        weight = float(n_rows)
    else:
        sw64 = _check_chunk_weight(swb, n_rows)
        weight = float(sw64.sum())
        sw = sw64.astype(dtype)
    stats = bernoulli_pass(
        Xb,
        sw,
        BernoulliParams(weights, means, dtype),
        has_missing=True,
        unit_weight=swb is None,
    )
    return stats.nk, stats.xk, stats.missing_k, float(stats.log_lik), weight


def _begin_fit(estimator, X):
    """Common checks of a Dask fit; returns the prepared X and n_features."""
    X = prepare_dask_array(X)
    n_samples, n_features = X.shape
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    estimator.n_features_in_ = n_features
    return X, n_samples, n_features


def fit_bernoulli(estimator, X, sample_weight=None):
    """:meth:`BernoulliMixture.fit` on a Dask array; see the module docstring."""

    validate_params(estimator, estimator._parameter_constraints)
    warm = estimator.warm_start and hasattr(estimator, "converged_")
    previous_n_features = getattr(estimator, "n_features_in_", None)
    n_components = estimator.n_components
    X, n_samples, n_features = _begin_fit(estimator, X)
    if n_samples < n_components:
        raise ValueError(
            "Expected n_samples >= n_components but got n_components = "
            f"{n_components}, n_samples = {n_samples}."
        )
    if warm and (
        previous_n_features != n_features or estimator.means_.shape[0] != n_components
    ):
        raise ValueError(
            "warm_start=True continues from the previous fit, which had "
            f"{previous_n_features} features and {estimator.means_.shape[0]} "
            f"components; got {n_features} features and n_components="
            f"{n_components}. Set warm_start=False to start anew."
        )
    sw_blocks = dask_sample_weight_blocks(sample_weight, X)
    weights_init = means_init = None
    if estimator.weights_init is not None:
        weights_init = check_weights(estimator.weights_init, n_components)
    if estimator.means_init is not None:
        means_init = check_probabilities(
            estimator.means_init, "means_init", shape=(n_components, n_features)
        )
    dtype = _computation_dtype(X)
    clip_eps = float(np.finfo(dtype).eps)
    alpha = float(estimator.alpha)
    validator = _block_validator(estimator, n_features)
    blocks = _delayed_blocks(X)

    def initialize(random_state):
        weights, means = weights_init, means_init
        if weights is None or means is None:
            size = init_sample_size(n_samples, n_components)
            rows = draw_rows(n_samples, size, random_state)
            X_init, sw_init = sample_rows(X, sw_blocks, rows)
            X_init = validator._validate_X(X_init, reset=False)
            sw_init = check_sample_weight(sw_init, X_init.shape[0])
            stats = estimator._initial_stats(X_init, sw_init, random_state)
            w_resp, m_resp = bernoulli_m_step(stats, alpha, clip_eps)
            weights = w_resp if weights is None else weights
            means = m_resp if means is None else means
        return weights, np.clip(means, clip_eps, 1 - clip_eps)

    def step(params):
        weights, means = params
        total = map_reduce(
            _bernoulli_chunk, blocks, sw_blocks, validator, weights, means, dtype
        )
        nk, xk, missing_k, log_lik, total_weight = total
        if not total_weight > 0:
            raise ValueError(
                "Sample weights must contain at least one non-zero number; "
                "all weights are zero."
            )
        stats = BernoulliStats(n_components, n_features)
        stats.add(nk, xk, missing_k)
        return (
            bernoulli_m_step(stats, alpha, clip_eps),
            log_lik / total_weight,
            None,
        )

    from ._bernoulli import run_bernoulli_em

    return run_bernoulli_em(estimator, initialize, step, warm)


# --------------------------------------------------------------------------
# FixedComponentMixture
# --------------------------------------------------------------------------


def _chunk_likelihood(Xb, swb, validator, row_offset):
    """Validated chunk -> (lik scaled by row maxima, row maxima, weights)."""
    from ._em import _zero_likelihood_error

    Xb = validator._validate_X(Xb, reset=False)
    log_lik = validator._components.log_likelihood(Xb)
    row_max = log_lik.max(axis=1)
    impossible = np.flatnonzero(~np.isfinite(row_max))
    if impossible.size:
        raise _zero_likelihood_error(impossible, offset=row_offset)
    lik = np.exp(log_lik - row_max[:, None])
    n_rows = Xb.shape[0]
    sw = np.ones(n_rows) if swb is None else _check_chunk_weight(swb, n_rows)
    return lik, row_max, sw


def _fixed_chunk(Xb, swb, validator, weights, row_offset):
    """EM statistics of one chunk: (lik.T @ (w / mix), sum w log p, sum w)."""
    if Xb.shape[0] == 0:
        return None
    lik, row_max, sw = _chunk_likelihood(Xb, swb, validator, row_offset)
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
        log_lik = float(sw[seen] @ (np.log(mix[seen]) + row_max[seen]))
    return lik.T @ ratio, log_lik, float(sw.sum())


def _information_chunk(Xb, swb, validator, weights, ref, row_offset):
    """Observed information of the free proportions from one chunk."""
    if Xb.shape[0] == 0:
        return None
    lik, _, sw = _chunk_likelihood(Xb, swb, validator, row_offset)
    free = np.delete(np.arange(lik.shape[1]), ref)
    mix = lik @ weights
    seen = sw > 0
    d = (lik[seen][:, free] - lik[seen][:, [ref]]) / mix[seen][:, None]
    return ((d * sw[seen][:, None]).T @ d,)


def fit_fixed(estimator, X, sample_weight=None):
    """:meth:`FixedComponentMixture.fit` on a Dask array, by EM.

    Each iteration is one pass over the chunks (the component
    log-likelihoods are recomputed chunk by chunk, never stored), and one
    more pass gives the observed information for the standard errors.
    Whatever ``solver`` says, Dask input is fitted with the EM update.
    """

    validate_params(estimator, estimator._parameter_constraints)
    estimator._components = components = estimator._resolve()
    X, n_samples, n_features = _begin_fit(estimator, X)
    if components.kind == "precomputed":
        n_components = n_features
    else:
        n_components = components.n_components
    if components.kind == "bernoulli" and n_features != components.n_features:
        raise ValueError(
            f"X has {n_features} features, but the Bernoulli components have "
            f"{components.n_features} (components has shape "
            f"{components.probs.shape})."
        )
    estimator.n_components_ = n_components
    sw_blocks = dask_sample_weight_blocks(sample_weight, X)
    validator = _block_validator(
        estimator, n_features, _components=components, n_components_=n_components
    )
    blocks = _delayed_blocks(X)

    def initialize(random_state):
        if estimator.weights_init is not None:
            return check_weights(estimator.weights_init, n_components)
        if estimator.init_params == "random":
            return random_state.dirichlet(np.ones(n_components))
        return np.full(n_components, 1 / n_components)

    def step(weights):
        g, log_lik, total_weight = map_reduce(
            _fixed_chunk, blocks, sw_blocks, validator, weights
        )
        if not total_weight > 0:
            raise ValueError(
                "Sample weights must contain at least one non-zero number; "
                "all weights are zero."
            )
        g = g / total_weight
        new_weights = weights * g
        new_weights /= new_weights.sum()
        return new_weights, log_lik / total_weight, float(np.log(g.max()))

    from ._fixed import run_fixed_em

    weights, bound = run_fixed_em(estimator, initialize, step)
    estimator.weights_ = weights
    estimator.gap_bound_ = bound
    if n_components == 1:
        cov, identifiable = np.zeros((1, 1)), True
    else:
        ref = int(np.argmax(weights))
        (info,) = map_reduce(
            _information_chunk, blocks, sw_blocks, validator, weights, ref
        )
        cov, identifiable = covariance_from_information(info, ref, n_components)
    store_weights_covariance(estimator, cov, identifiable)
    return estimator


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
