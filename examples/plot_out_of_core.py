"""
===============================================
Data larger than memory: partial_fit and Dask
===============================================

When the rows do not fit in memory, there are two ways to fit a
:class:`~sklearn_bernoulli_mix.BernoulliMixture`:

- :meth:`~sklearn_bernoulli_mix.BernoulliMixture.partial_fit` reads one
  mini-batch at a time, from anything that gives rows: a ``numpy.memmap``, an
  HDF5 or zarr array on disk, or a generator. Each call makes one step of
  *stepwise EM*, which keeps a running average of the sufficient statistics
  with step sizes ``(learning_offset + t) ** -learning_decay``;
- :meth:`~sklearn_bernoulli_mix.BernoulliMixture.fit` on a Dask array runs
  the exact EM of the in-memory fit, each iteration one pass over the chunks,
  which are never gathered in one process.

This example writes a small data set to disk in three formats, streams it
through ``partial_fit``, fits it with Dask, and compares both with the
in-memory fit.
"""

# %%
# Data on disk
# ------------
# 40,000 rows of 30 binary features from a mixture of four components,
# written as ``uint8`` (one byte per entry) to a memmap, an HDF5 file and a
# zarr array. A real data set would be written chunk by chunk in the same
# way, never held in memory whole.
import tempfile
from pathlib import Path

import dask.array as da
import h5py
import matplotlib.pyplot as plt
import numpy as np
import zarr

from sklearn_bernoulli_mix import BernoulliMixture

rng = np.random.RandomState(0)
n_rows, n_features, n_components = 40_000, 30, 4
true_means = np.where(
    rng.random_sample((n_components, n_features)) < 0.4,
    rng.uniform(0.6, 0.95, (n_components, n_features)),
    rng.uniform(0.02, 0.3, (n_components, n_features)),
)
true_weights = np.array([0.4, 0.3, 0.2, 0.1])


def simulate(n, rng):
    labels = rng.choice(n_components, size=n, p=true_weights)
    return (rng.random_sample((n, n_features)) < true_means[labels]).astype(np.uint8)


folder = Path(tempfile.mkdtemp())
memmap = np.memmap(
    folder / "X.uint8", dtype=np.uint8, mode="w+", shape=(n_rows, n_features)
)
chunk = 5_000
with h5py.File(folder / "X.h5", "w") as h5:
    h5_data = h5.create_dataset(
        "X", shape=(n_rows, n_features), dtype="u1", chunks=(chunk, n_features)
    )
    zarr_data = zarr.open_array(
        str(folder / "X.zarr"),
        mode="w",
        shape=(n_rows, n_features),
        chunks=(chunk, n_features),
        dtype="u1",
    )
    for start in range(0, n_rows, chunk):
        rows = simulate(chunk, rng)
        memmap[start : start + chunk] = rows
        h5_data[start : start + chunk] = rows
        zarr_data[start : start + chunk] = rows
memmap.flush()
X_test = simulate(5_000, rng)  # held-out rows, to score the models

# %%
# The in-memory fit, for reference
# --------------------------------
# The data set is small enough to fit in memory here, which gives the target
# that the out-of-core fits should reach.
batch_fit = BernoulliMixture(n_components=n_components, random_state=0)
batch_fit.fit(memmap)
print(f"in-memory fit: held-out log-likelihood {batch_fit.score(X_test):.4f}")

# %%
# partial_fit over a memmap
# -------------------------
# Two passes over the rows in batches of 1,000, in a random order of batches.
# The first call initialises the model from its batch (with ``init_params``,
# k-means by default). After each call, ``lower_bound_`` holds the mean
# log-likelihood of the batch under the parameters it met, and we also score
# the held-out rows. Like EM, stepwise EM reaches a local maximum that
# depends on its start: with another first batch it may settle on a poorer
# one, and a larger first batch, or ``means_init`` from a fit on a sample,
# makes that less likely.
batch_size = 1_000
starts = np.arange(0, n_rows, batch_size)


def stream(read_batch, n_epochs=2, seed=1):
    order = np.random.RandomState(seed)
    model = BernoulliMixture(n_components=n_components, random_state=0)
    held_out = []
    for _ in range(n_epochs):
        for start in order.permutation(starts):
            model.partial_fit(read_batch(start))
            held_out.append(model.score(X_test))
    return model, held_out


online, held_out = stream(lambda start: memmap[start : start + batch_size])
print(f"partial_fit (memmap): held-out log-likelihood {held_out[-1]:.4f}")

# %%
# The same batches from HDF5 and zarr
# -----------------------------------
# Slicing an h5py dataset or a zarr array reads only that slice from disk;
# the same batches give exactly the same model.
with h5py.File(folder / "X.h5", "r") as h5:
    from_h5, _ = stream(lambda start: h5["X"][start : start + batch_size])
from_zarr, _ = stream(lambda start: zarr_data[start : start + batch_size])
print(
    "HDF5 and zarr give the memmap's model:",
    np.array_equal(from_h5.means_, online.means_),
    np.array_equal(from_zarr.means_, online.means_),
)

# %%
# A generator of batches
# ----------------------
# A true stream, where every batch is new: here a generator that simulates
# rows on the fly, 80 batches in all.


def new_batches(n_batches, rng):
    for _ in range(n_batches):
        yield simulate(batch_size, rng)


from_stream = BernoulliMixture(n_components=n_components, random_state=0)
stream_scores = []
for batch in new_batches(80, np.random.RandomState(1)):
    from_stream.partial_fit(batch)
    stream_scores.append(from_stream.score(X_test))
print(f"partial_fit (generator): held-out log-likelihood {stream_scores[-1]:.4f}")

# %%
# Dask: the exact EM, chunk by chunk
# ----------------------------------
# :func:`dask.array.from_zarr` reads the zarr array lazily; each EM iteration
# maps the E-step over its chunks and adds up the statistics, so only the
# parameters travel between the workers and the client. The same code runs
# on a cluster once a ``dask.distributed.Client`` is created. From the same
# start (``weights_init`` and ``means_init``) the result is that of the
# in-memory fit to rounding; without them the initialisation runs on a random
# sample of the rows.
X_dask = da.from_zarr(str(folder / "X.zarr"))
start = dict(weights_init=batch_fit.weights_, means_init=online.means_)
dask_fit = BernoulliMixture(n_components=n_components, **start).fit(X_dask)
same_start = BernoulliMixture(n_components=n_components, **start).fit(memmap)
print(
    f"Dask fit in {dask_fit.n_iter_} iterations; largest difference from the "
    f"in-memory fit: {np.abs(dask_fit.means_ - same_start.means_).max():.1e}"
)
labels = dask_fit.predict(X_dask)  # a lazy Dask array, chunked like X_dask
print(type(labels).__name__, labels.chunks[0][:3], "...")

# %%
# Convergence of stepwise EM
# --------------------------
# The per-batch log-likelihood is noisy (each batch is a different sample),
# but its running mean settles on the in-memory fit's (left). On held-out
# rows, the gap to the in-memory fit falls from 0.1 to about 0.001 nats per
# row within the first pass, then wanders at that level as the step size
# slowly shrinks (right); the dips are where the two cross.
target = batch_fit.score(X_test)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
n_calls = np.arange(1, len(held_out) + 1)
left.plot(n_calls, online.lower_bounds_, ".", ms=3, alpha=0.5, label="one batch")
window = 10
running = np.convolve(online.lower_bounds_, np.ones(window) / window, mode="valid")
left.plot(n_calls[window - 1 :], running, label=f"mean of {window} batches")
left.axhline(target, color="k", ls="--", label="in-memory fit (held out)")
left.set_xlabel("partial_fit calls (batches of 1,000 rows)")
left.set_ylabel("mean log-likelihood per row")
left.set_title("Batch log-likelihood (memmap)")
left.legend(loc="lower right", fontsize="small")

right.semilogy(n_calls, np.abs(target - np.array(held_out)), label="memmap")
right.semilogy(
    np.arange(1, 81), np.abs(target - np.array(stream_scores)), label="generator"
)
right.set_xlabel("partial_fit calls (batches of 1,000 rows)")
right.set_ylabel("|in-memory fit - partial_fit|")
right.set_title("Held-out log-likelihood gap")
right.legend(fontsize="small")
fig.tight_layout()
plt.show()
