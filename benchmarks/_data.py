"""Benchmark data sets and their shared starting parameters, cached on disk.

Every data set is generated once (deterministically, from a fixed seed) and
saved under ``benchmarks/results/data/`` so that each benchmark child process
loads exactly the same arrays and the same starting weights and means.
"""

import os

import numpy as np
import scipy.sparse as sp

SEED = 20240601

# name -> (n_samples, n_features, n_components); digits is fixed by sklearn.
FULL = {
    "digits": (1797, 64, 10),
    "dense": (200_000, 100, 10),
    "sparse": (100_000, 2_000, 20),
    "missing": (200_000, 100, 10),
    "converged": (200_000, 100, 10),
}
QUICK = {
    "digits": (1797, 64, 10),
    "dense": (20_000, 100, 10),
    "sparse": (10_000, 2_000, 20),
    "missing": (20_000, 100, 10),
    "converged": (20_000, 100, 10),
}
SPARSE_DENSITY = 0.01
MISSING_FRACTION = 0.10
DESCRIPTION = {
    "digits": "load_digits, X > 7 (binarised)",
    "dense": "simulated Bernoulli mixture, dense",
    "sparse": f"simulated Bernoulli mixture, CSR, {SPARSE_DENSITY:.0%} density",
    "missing": f"the dense set with {MISSING_FRACTION:.0%} of entries NaN",
    "converged": "the dense set, started from its EM fixed point (extreme posteriors)",
}
CONVERGED_ITERATIONS = 60


def _simulate_dense(n, d, k, rng):
    weights = rng.dirichlet(np.full(k, 5.0))
    means = rng.beta(0.6, 0.6, size=(k, d))
    z = rng.choice(k, size=n, p=weights)
    X = np.empty((n, d))
    for start in range(0, n, 10_000):
        stop = min(start + 10_000, n)
        X[start:stop] = rng.random((stop - start, d)) < means[z[start:stop]]
    return X


def _simulate_sparse(n, d, k, rng):
    weights = rng.dirichlet(np.full(k, 5.0))
    # Beta(a, b) with mean SPARSE_DENSITY and a long right tail, so that each
    # component has a few characteristic features.
    a = 0.3
    means = rng.beta(a, a * (1 - SPARSE_DENSITY) / SPARSE_DENSITY, size=(k, d))
    z = rng.choice(k, size=n, p=weights)
    blocks = []
    for start in range(0, n, 5_000):
        stop = min(start + 5_000, n)
        block = rng.random((stop - start, d), dtype=np.float32) < means[z[start:stop]]
        blocks.append(sp.csr_matrix(block, dtype=np.float64))
    X = sp.vstack(blocks, format="csr")
    X.sort_indices()
    return X


def _initial_params(X, k, rng):
    """Uniform weights; means = half the column mean plus half a random row.

    NaN entries of the chosen rows are replaced by the column mean. Means are
    kept inside [1e-3, 1 - 1e-3] so every method accepts them.
    """
    n = X.shape[0]
    rows = rng.choice(n, size=k, replace=False)
    if sp.issparse(X):
        col_mean = np.asarray(X.mean(axis=0)).ravel()
        picked = X[rows].toarray()
    else:
        col_mean = np.nanmean(X, axis=0)
        picked = X[rows]
        picked = np.where(np.isnan(picked), col_mean, picked)
    means = 0.5 * col_mean + 0.5 * picked
    means = np.clip(means, 1e-3, 1 - 1e-3)
    weights = np.full(k, 1.0 / k)
    return weights, means


def _build(name, sizes):
    rng = np.random.default_rng(SEED)
    n, d, k = sizes[name]
    if name == "digits":
        from sklearn.datasets import load_digits

        X = (load_digits().data > 7).astype(np.float64)
    elif name == "dense":
        X = _simulate_dense(n, d, k, rng)
    elif name == "sparse":
        X = _simulate_sparse(n, d, k, rng)
    elif name == "missing":
        X = load(name="dense", quick=sizes is QUICK)[0].copy()
        mask_rng = np.random.default_rng(SEED + 1)
        for start in range(0, n, 10_000):
            stop = min(start + 10_000, n)
            X[start:stop][mask_rng.random((stop - start, d)) < MISSING_FRACTION] = (
                np.nan
            )
    elif name == "converged":
        X, weights, means = load(name="dense", quick=sizes is QUICK)
        weights, means = _em_iterations(X, weights, means, CONVERGED_ITERATIONS)
        return X, weights, means
    else:
        raise ValueError(f"unknown data set {name!r}")
    if name == "missing":
        # Same start as the complete dense set, so the two runs are comparable.
        weights, means = load(name="dense", quick=sizes is QUICK)[1:]
    else:
        weights, means = _initial_params(X, k, np.random.default_rng(SEED + 2))
    return X, weights, means


def _em_iterations(X, weights, means, n_iter):
    """Plain float64 EM from (weights, means): the start of the converged set."""
    for _ in range(n_iter):
        means = np.clip(means, 1e-6, 1 - 1e-6)
        log_p, log_q = np.log(means), np.log1p(-means)
        L = X @ (log_p - log_q).T + (np.log(weights) + log_q.sum(axis=1))
        L -= L.max(axis=1, keepdims=True)
        np.exp(L, out=L)
        L /= L.sum(axis=1, keepdims=True)
        nk = L.sum(axis=0)
        weights = nk / nk.sum()
        means = (L.T @ X) / np.maximum(nk[:, None], 1e-300)
    return weights, np.clip(means, 1e-3, 1 - 1e-3)


def cache_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "results", "data")


def _paths(name, quick):
    stem = os.path.join(cache_dir(), f"{name}{'-quick' if quick else ''}")
    return stem + (".npz" if name == "sparse" else ".npy"), stem + "-init.npz"


def load(name, quick=False):
    """Return ``(X, weights_init, means_init)``, building the cache if needed."""
    x_path, init_path = _paths(name, quick)
    if not (os.path.exists(x_path) and os.path.exists(init_path)):
        os.makedirs(cache_dir(), exist_ok=True)
        X, weights, means = _build(name, QUICK if quick else FULL)
        tmp = x_path + ".tmp" + os.path.splitext(x_path)[1]
        if sp.issparse(X):
            sp.save_npz(tmp, X, compressed=False)
        else:
            np.save(tmp, X)
        os.replace(tmp, x_path)
        np.savez(init_path, weights=weights, means=means)
    if name == "sparse":
        X = sp.load_npz(x_path).tocsr()
    else:
        X = np.load(x_path)
    init = np.load(init_path)
    return X, init["weights"], init["means"]


def n_components(name, quick=False):
    return (QUICK if quick else FULL)[name][2]


def mean_log_likelihood(X, weights, means, clip=1e-15):
    """Mean log-likelihood per sample of a Bernoulli mixture, NaN = missing.

    The common yardstick for every Bernoulli method: evaluated here in
    float64 from the parameters each method returns, with the success
    probabilities clipped to ``[clip, 1 - clip]``.
    """
    weights = np.asarray(weights, dtype=np.float64)
    means = np.clip(np.asarray(means, dtype=np.float64), clip, 1 - clip)
    log_p, log_q = np.log(means), np.log1p(-means)
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
    total = 0.0
    n = X.shape[0]
    for start in range(0, n, 20_000):
        block = X[start : min(start + 20_000, n)]
        if sp.issparse(block):
            block = block.toarray()
        block = np.asarray(block, dtype=np.float64)
        observed = ~np.isnan(block)
        filled = np.where(observed, block, 0.0)
        lp = filled @ (log_p - log_q).T + observed.astype(np.float64) @ log_q.T
        lp += log_w
        mx = lp.max(axis=1, keepdims=True)
        total += float((np.log(np.exp(lp - mx).sum(axis=1)) + mx[:, 0]).sum())
    return total / n
