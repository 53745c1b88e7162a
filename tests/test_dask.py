"""Tests of fitting and predicting on Dask arrays.

The reference for every Dask fit is the in-memory fit of the same data from
the same start (itself tested against textbook EM in test_bernoulli.py and
test_fixed.py): both run the same iterations, and only the order in which the
per-chunk statistics are added differs, so they agree to 1e-10. Most cases
run on a real two-process ``dask.distributed.LocalCluster``; a few use the
synchronous scheduler.
"""

import logging
import subprocess
import sys
import textwrap
import warnings
from collections import Counter
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    CategoricalMixture,
    FixedComponentMixture,
)

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ATOL = 1e-10


@pytest.fixture(scope="module")
def client():
    """A real cluster of two single-threaded worker processes."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

ROW_CHUNKS = (400, 1, 0, 599, 500)  # uneven, one single row, one empty


def simulate(seed=0, n_samples=1500, n_features=12, n_components=3):
    rng = np.random.RandomState(seed)
    means = np.where(
        rng.random_sample((n_components, n_features)) < 0.5,
        rng.uniform(0.05, 0.2, (n_components, n_features)),
        rng.uniform(0.8, 0.95, (n_components, n_features)),
    )
    weights = rng.dirichlet(np.full(n_components, 5.0))
    y = rng.choice(n_components, size=n_samples, p=weights)
    X = (rng.random_sample((n_samples, n_features)) < means[y]).astype(np.float64)
    return X, weights, means


def to_dask(X, fmt="dense", chunks=(ROW_CHUNKS, (5, 7))):
    Xd = da.from_array(X, chunks=chunks)
    if fmt == "sparse":
        Xd = Xd.map_blocks(sp.csr_matrix, meta=sp.csr_matrix((0, 0)))
    return Xd


def start(n_components, n_features, seed=1):
    rng = np.random.RandomState(seed)
    return {
        "means_init": rng.uniform(0.2, 0.8, (n_components, n_features)),
        "weights_init": rng.dirichlet(np.ones(n_components)),
    }


def assert_same_fit(dask_fit, numpy_fit, attributes):
    assert dask_fit.n_iter_ == numpy_fit.n_iter_
    assert dask_fit.converged_ == numpy_fit.converged_
    np.testing.assert_allclose(
        dask_fit.lower_bounds_, numpy_fit.lower_bounds_, rtol=0, atol=ATOL
    )
    for name in attributes:
        np.testing.assert_allclose(
            getattr(dask_fit, name), getattr(numpy_fit, name), rtol=0, atol=ATOL
        )


# --------------------------------------------------------------------------
# Fits on the cluster equal the in-memory fits
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, weighting, missing",
    [
        ("dense", None, 0.05),
        ("dense", "dask", 0.0),
        ("sparse", "numpy", 0.05),
    ],
)
def test_bernoulli_fit_equals_numpy_fit(client, fmt, weighting, missing):
    X, _, _ = simulate()
    rng = np.random.RandomState(2)
    X[rng.random_sample(X.shape) < missing] = np.nan
    sw = rng.randint(0, 4, X.shape[0]).astype(float) if weighting else None
    # tol=0 runs exactly max_iter iterations: a few keep the test fast, as
    # each one is a round trip to the cluster.
    params = dict(n_components=3, tol=0, max_iter=8, alpha=0.05, **start(3, 12))
    numpy_fit = BernoulliMixture(**params).fit(X, sample_weight=sw)

    Xd = to_dask(X, fmt)
    sw_arg = da.from_array(sw, chunks=(Xd.chunks[0],)) if weighting == "dask" else sw
    with distributed.get_task_stream(client) as tasks:
        dask_fit = BernoulliMixture(**params).fit(Xd, sample_weight=sw_arg)
    assert_same_fit(dask_fit, numpy_fit, ["weights_", "means_"])
    assert dask_fit.n_features_in_ == 12
    # The chunks were processed by both worker processes, not the client.
    workers = {t["worker"] for t in tasks.data if "_stats_chunk" in str(t["key"])}
    assert len(workers) == 2


@pytest.mark.parametrize("weighting", [None, "dask"])
def test_categorical_fit_equals_numpy_fit(client, weighting):
    rng = np.random.RandomState(8)
    n_categories = [2, 3, 4, 5, 3]
    X = np.column_stack([rng.randint(0, c, 1500) for c in n_categories]).astype(float)
    z = rng.randint(0, 2, 1500)
    X[z == 1, :3] = 0  # some structure between the classes
    X[rng.random_sample(X.shape) < 0.05] = np.nan
    sw = rng.randint(0, 4, X.shape[0]).astype(float) if weighting else None
    start_rng = np.random.RandomState(1)
    params = dict(
        n_components=3,
        tol=0,
        max_iter=8,
        alpha=0.05,
        weights_init=start_rng.dirichlet(np.ones(3)),
        category_probs_init=[start_rng.dirichlet(np.ones(c), 3) for c in n_categories],
    )
    numpy_fit = CategoricalMixture(**params).fit(X, sample_weight=sw)
    Xd = da.from_array(X, chunks=(ROW_CHUNKS, 5))
    sw_arg = da.from_array(sw, chunks=(Xd.chunks[0],)) if weighting else None
    with distributed.get_task_stream(client) as tasks:
        dask_fit = CategoricalMixture(**params).fit(Xd, sample_weight=sw_arg)
    assert dask_fit.n_iter_ == numpy_fit.n_iter_
    np.testing.assert_allclose(
        dask_fit.lower_bounds_, numpy_fit.lower_bounds_, rtol=0, atol=ATOL
    )
    np.testing.assert_allclose(dask_fit.weights_, numpy_fit.weights_, atol=ATOL)
    for a, b in zip(dask_fit.category_probs_, numpy_fit.category_probs_):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)
    np.testing.assert_array_equal(dask_fit.n_categories_, numpy_fit.n_categories_)
    workers = {t["worker"] for t in tasks.data if "_stats_chunk" in str(t["key"])}
    assert len(workers) == 2
    np.testing.assert_allclose(
        dask_fit.predict_proba(Xd).compute(), numpy_fit.predict_proba(X), atol=1e-10
    )


def test_categorical_init_on_dask_learns_categories(synchronous):
    rng = np.random.RandomState(9)
    X = np.column_stack([rng.randint(0, c, 800) for c in (2, 4, 3)]).astype(float)
    fit = CategoricalMixture(2, random_state=0).fit(da.from_array(X, chunks=300))
    np.testing.assert_array_equal(fit.n_categories_, [2, 4, 3])
    assert np.isfinite(fit.lower_bound_)
    bad = X.copy()
    bad[5, 1] = 0.5
    with pytest.raises(ValueError, match="whole numbers"):
        CategoricalMixture(2).fit(da.from_array(bad, chunks=300))


def test_each_chunk_is_validated_once_per_fit(synchronous, monkeypatch):
    X, _, _ = simulate(seed=10, n_samples=600)
    calls = []
    original = BernoulliMixture._validate_block

    def counting(self, block):
        calls.append(block.shape[0])
        return original(self, block)

    monkeypatch.setattr(BernoulliMixture, "_validate_block", counting)
    BernoulliMixture(2, tol=0, max_iter=5, **start(2, 12)).fit(
        da.from_array(X, chunks=(200, 12))
    )
    assert sorted(calls) == [200, 200, 200]


@pytest.mark.parametrize("solver", ["em", "sqp"])
def test_fixed_bernoulli_components_equal_numpy_fit(client, solver):
    X, weights, means = simulate(seed=3, n_samples=2000)
    sw = np.random.RandomState(4).randint(1, 4, X.shape[0]).astype(float)
    params = dict(components=means, solver=solver, tol=1e-9)
    numpy_fit = FixedComponentMixture(**params).fit(X, sample_weight=sw)
    Xd = to_dask(X, "sparse", chunks=((700, 1, 1299), (12,)))
    dask_fit = FixedComponentMixture(**params).fit(
        Xd, sample_weight=da.from_array(sw, chunks=(Xd.chunks[0],))
    )
    assert_same_fit(
        dask_fit,
        numpy_fit,
        ["weights_", "weights_stderr_", "weights_covariance_", "gap_bound_"],
    )
    assert dask_fit.n_components_ == 3
    assert dask_fit.converged_


def test_fixed_scipy_and_precomputed_components_equal_numpy_fit(client):
    rng = np.random.RandomState(5)
    components = [stats.norm(-1, 1), stats.norm(1, 1), stats.t(3)]
    X = np.concatenate([rng.normal(-1, 1, (600, 2)), rng.normal(1, 1, (400, 2))])
    params = dict(
        components=components,
        solver="em",
        init_params="random",
        random_state=0,
        max_iter=6,
    )
    numpy_fit = FixedComponentMixture(**params).fit(X)
    dask_fit = FixedComponentMixture(**params).fit(da.from_array(X, chunks=(333, 1)))
    assert_same_fit(dask_fit, numpy_fit, ["weights_", "weights_stderr_"])

    log_lik = np.column_stack([c.logpdf(X).sum(axis=1) for c in components])
    numpy_fit = FixedComponentMixture("precomputed", solver="em", max_iter=6).fit(
        log_lik
    )
    dask_fit = FixedComponentMixture("precomputed", solver="em", max_iter=6).fit(
        da.from_array(log_lik, chunks=(250, 3))
    )
    assert_same_fit(dask_fit, numpy_fit, ["weights_", "weights_stderr_"])


# --------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    X, _, means = simulate(seed=6)
    return (
        X,
        BernoulliMixture(n_components=3, random_state=0).fit(X),
        FixedComponentMixture(means).fit(X),
    )


@pytest.mark.parametrize("fmt", ["dense", "sparse"])
def test_predictions_on_cluster_equal_numpy(client, fitted, fmt):
    X, bernoulli, fixed = fitted
    Xd = to_dask(X, fmt)
    lazy, expected = [], []
    for est in (bernoulli, fixed):
        for method in ("predict", "predict_proba", "score_samples"):
            result = getattr(est, method)(Xd)
            assert isinstance(result, da.Array)
            assert result.chunks[0] == Xd.chunks[0]
            lazy.append(result)
            expected.append(getattr(est, method)(X))
    for computed, wanted in zip(dask.compute(*lazy), expected):
        assert computed.shape == wanted.shape
        assert computed.dtype == wanted.dtype
        np.testing.assert_allclose(computed, wanted, rtol=1e-12)
    score = fixed.score(Xd)
    assert type(score) is float
    assert score == pytest.approx(fixed.score(X), rel=1e-12)
    assert bernoulli.bic(Xd) == pytest.approx(bernoulli.bic(X), rel=1e-12)


def test_predictions_are_lazy(fitted, synchronous):
    X, bernoulli, _ = fitted
    reads = Counter()

    def read(block, block_info=None):
        reads[block_info[0]["chunk-location"]] += 1
        return block

    Xd = da.from_array(X, chunks=(500, 12)).map_blocks(read, meta=np.empty((0, 0)))
    results = [
        bernoulli.predict(Xd),
        bernoulli.predict_proba(Xd),
        bernoulli.score_samples(Xd),
    ]
    assert not reads  # nothing computed yet
    assert results[1].shape == (X.shape[0], 3)
    np.testing.assert_array_equal(results[0].compute(), bernoulli.predict(X))
    assert sum(reads.values()) == 3


def test_fit_predict_on_dask_returns_dask(synchronous):
    X, _, _ = simulate(seed=7)
    labels = BernoulliMixture(n_components=3, **start(3, 12)).fit_predict(to_dask(X))
    assert isinstance(labels, da.Array)
    expected = BernoulliMixture(n_components=3, **start(3, 12)).fit_predict(X)
    np.testing.assert_array_equal(labels.compute(), expected)


def test_predictions_accept_unknown_row_chunks(fitted, synchronous):
    X, bernoulli, _ = fitted
    Xd = da.from_array(X, chunks=(500, 12))
    keep = Xd[Xd[:, 0] >= 0]  # every row, but the chunk sizes become unknown
    assert np.isnan(keep.chunks[0][0])
    np.testing.assert_allclose(
        bernoulli.score_samples(keep).compute(), bernoulli.score_samples(X)
    )


# --------------------------------------------------------------------------
# Initialisation on a sample of rows
# --------------------------------------------------------------------------


def test_init_draws_a_bounded_sample_of_rows(monkeypatch, synchronous):
    from sklearn_bernoulli_mix import _dask

    X, true_weights, true_means = simulate(seed=8, n_samples=30000, n_features=10)
    drawn = []
    original = _dask.sample_rows

    def recording(X, sw_blocks, rows):
        drawn.append(rows.copy())
        return original(X, sw_blocks, rows)

    monkeypatch.setattr(_dask, "sample_rows", recording)
    Xd = da.from_array(X, chunks=(4000, 10))
    est = BernoulliMixture(n_components=3, n_init=2, random_state=0).fit(Xd)
    assert [len(rows) for rows in drawn] == [10_000, 10_000]
    assert all(np.all(np.diff(rows) > 0) for rows in drawn)  # distinct, sorted
    assert not np.array_equal(drawn[0], drawn[1])  # a new sample per start
    cost = np.abs(est.means_[:, None] - true_means[None]).sum(axis=2)
    order = np.argmin(cost, axis=0)
    np.testing.assert_allclose(est.means_[order], true_means, atol=0.03)

    # The same random_state gives the same sample and the same fit.
    again = BernoulliMixture(n_components=3, n_init=2, random_state=0).fit(Xd)
    np.testing.assert_array_equal(drawn[2], drawn[0])
    np.testing.assert_array_equal(again.means_, est.means_)

    # With both starting arrays, nothing is drawn.
    drawn.clear()
    BernoulliMixture(n_components=3, **start(3, 10)).fit(Xd)
    assert drawn == []


@pytest.mark.parametrize("init_params", ["k-means++", "random", "random_from_data"])
def test_every_init_params_runs_on_a_sample(init_params, synchronous):
    X, _, _ = simulate(seed=9)
    est = BernoulliMixture(n_components=3, init_params=init_params, random_state=0)
    est.fit(to_dask(X, "sparse"), sample_weight=np.full(X.shape[0], 2.0))
    assert est.means_.shape == (3, 12) and np.isfinite(est.lower_bound_)


def test_sampled_rows_are_uniform():
    from sklearn_bernoulli_mix._dask import draw_rows

    rng = np.random.RandomState(0)
    counts = Counter(tuple(draw_rows(6, 3, rng)) for _ in range(20000))
    assert set(counts) == set(combinations(range(6), 3))
    # 20 subsets, 1000 draws expected each: a chi-square test at the 1e-4 level.
    chi2 = sum((c - 1000) ** 2 / 1000 for c in counts.values())
    assert stats.chi2.sf(chi2, df=19) > 1e-4


# --------------------------------------------------------------------------
# Storage backends and dtypes
# --------------------------------------------------------------------------


def test_fit_from_zarr_and_h5py(tmp_path, synchronous):
    zarr = pytest.importorskip("zarr")
    h5py = pytest.importorskip("h5py")
    X, _, _ = simulate(seed=10)
    X8 = X.astype(np.uint8)
    params = dict(n_components=3, max_iter=30, **start(3, 12))
    numpy_fit = BernoulliMixture(**params).fit(X8)

    z = zarr.open_array(
        str(tmp_path / "X.zarr"), mode="w", shape=X8.shape, chunks=(400, 12), dtype="u1"
    )
    z[:] = X8
    zarr_fit = BernoulliMixture(**params).fit(da.from_zarr(str(tmp_path / "X.zarr")))
    assert_same_fit(zarr_fit, numpy_fit, ["weights_", "means_"])

    with h5py.File(tmp_path / "X.h5", "w") as f:
        f.create_dataset("X", data=X8, chunks=(300, 12))
    with h5py.File(tmp_path / "X.h5", "r") as f:
        h5_fit = BernoulliMixture(**params).fit(da.from_array(f["X"], chunks=(300, 12)))
    assert_same_fit(h5_fit, numpy_fit, ["weights_", "means_"])


def test_float32_dask_fit_runs_in_float32(synchronous):
    X, _, _ = simulate(seed=11)
    params = dict(n_components=3, max_iter=20, **start(3, 12))
    numpy_fit = BernoulliMixture(**params).fit(X.astype(np.float32))
    dask_fit = BernoulliMixture(**params).fit(to_dask(X.astype(np.float32)))
    assert dask_fit.means_.dtype == np.float64
    np.testing.assert_allclose(dask_fit.means_, numpy_fit.means_, atol=1e-5)


def test_feature_chunks_are_merged_up_to_the_limit(synchronous):
    X, _, _ = simulate(seed=12)
    params = dict(n_components=3, max_iter=10, **start(3, 12))
    by_features = da.from_array(X, chunks=(500, 3))
    numpy_fit = BernoulliMixture(**params).fit(X)
    assert_same_fit(BernoulliMixture(**params).fit(by_features), numpy_fit, ["means_"])
    # Merged blocks of 500 x 12 float64 = 47 KiB exceed twice a 16 KiB setting;
    # 341 rows of 96 bytes fit in 32 KiB.
    with dask.config.set({"array.chunk-size": "16KiB"}):
        with pytest.raises(ValueError, match=r"X.rechunk\(\{0: 341, 1: -1\}\)"):
            BernoulliMixture(**params).fit(by_features)
        # Whole rows in each chunk need no merging, whatever the setting.
        BernoulliMixture(**params).fit(da.from_array(X, chunks=(500, 12)))


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def test_feature_chunks_too_large_to_merge_are_rejected():
    # Never computed: 200,000 rows x 100,000 features per merged block.
    X = da.zeros((400_000, 100_000), chunks=(200_000, 50_000))
    for est in (BernoulliMixture(), FixedComponentMixture(np.full((2, 100_000), 0.5))):
        with pytest.raises(ValueError, match="chunked along the features"):
            est.fit(X)


def test_unknown_chunk_sizes_are_rejected(synchronous):
    X, _, _ = simulate(seed=13)
    Xd = da.from_array(X, chunks=(500, 12))
    unknown = Xd[Xd[:, 0] >= 0]
    with pytest.raises(ValueError, match=r"unknown chunk sizes.*compute_chunk_sizes"):
        BernoulliMixture(n_components=2).fit(unknown)
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        FixedComponentMixture(np.full((2, 12), 0.5)).fit(unknown)
    unknown.compute_chunk_sizes()
    BernoulliMixture(n_components=2, max_iter=5).fit(unknown)


def test_sample_weight_must_match_the_row_chunks(synchronous):
    X, _, _ = simulate(seed=14)
    Xd = da.from_array(X, chunks=(500, 12))
    misaligned = da.ones(X.shape[0], chunks=300)
    with pytest.raises(ValueError, match="do not match the row chunks"):
        BernoulliMixture(n_components=2).fit(Xd, sample_weight=misaligned)
    with pytest.raises(ValueError, match="do not match the row chunks"):
        FixedComponentMixture(np.full((2, 12), 0.5)).fit(Xd, sample_weight=misaligned)
    with pytest.raises(ValueError, match=r"expected \(1500,\)"):
        BernoulliMixture(n_components=2).fit(Xd, sample_weight=da.ones(10, chunks=5))
    with pytest.raises(ValueError, match=r"expected \(1500,\)"):
        BernoulliMixture(n_components=2).fit(Xd, sample_weight=np.ones(10))
    negative = -da.ones(X.shape[0], chunks=500)
    with pytest.raises(ValueError, match="Negative values in sample_weight"):
        BernoulliMixture(n_components=2, **start(2, 12)).fit(Xd, sample_weight=negative)
    zeros = da.zeros(X.shape[0], chunks=500)
    with pytest.raises(ValueError, match="at least one non-zero"):
        BernoulliMixture(n_components=2, **start(2, 12)).fit(Xd, sample_weight=zeros)


def test_other_input_errors(fitted, synchronous):
    X, bernoulli, _ = fitted
    with pytest.raises(ValueError, match="2-D Dask array"):
        BernoulliMixture().fit(da.ones(10, chunks=5))
    with pytest.raises(ValueError, match="X has 5 features.*expecting 12"):
        bernoulli.predict(da.ones((10, 5), chunks=5))
    with pytest.raises(NotFittedError):
        BernoulliMixture().predict(da.ones((10, 5), chunks=5))
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        BernoulliMixture(n_components=3).fit(da.ones((2, 4), chunks=1))
    non_binary = da.from_array(np.full((20, 3), 0.5), chunks=10)
    with pytest.raises(ValueError, match="only 0 and 1"):
        BernoulliMixture(binarize=None).fit(non_binary)
    # A row that no component can explain is named by its index in X.
    X_bad = np.zeros((30, 2))
    X_bad[[10, 11]] = 1.0
    with pytest.raises(ValueError, match=r"Row\(s\) 10, 11 of X"):
        FixedComponentMixture([[0.0, 0.0], [0.0, 1.0]]).fit(
            da.from_array(X_bad, chunks=10)
        )


# --------------------------------------------------------------------------
# Dask is optional
# --------------------------------------------------------------------------


def test_nothing_imports_dask_and_all_works_without_it():
    # In a fresh interpreter where any import of dask fails, as if it were
    # not installed: importing, fitting, predicting and partial_fit all work.
    code = """
        import sys
        sys.modules["dask"] = None
        import numpy as np
        from sklearn_bernoulli_mix import (
            BernoulliMixture,
            CategoricalMixture,
            FixedComponentMixture,
        )
        X = (np.random.RandomState(0).random_sample((200, 4)) < 0.5) * 1.0
        mix = BernoulliMixture(2, random_state=0).fit(X)
        mix.predict(X), mix.score(X), mix.predict_proba(X), mix.partial_fit(X)
        fixed = FixedComponentMixture([[0.5] * 4, [0.2] * 4])
        fixed.fit(X).predict_proba(X), fixed.partial_fit(X).score(X)
        cat = CategoricalMixture(2, random_state=0).fit(X)
        cat.predict(X), cat.partial_fit(X).score(X)
        assert sys.modules["dask"] is None
        loaded = sorted(m for m in sys.modules if m.startswith("dask."))
        assert not loaded, loaded
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_convergence_warning_on_dask_input():
    # ConvergenceWarning is filtered in this module; make sure it is raised.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BernoulliMixture(n_components=2, max_iter=1, **start(2, 12)).fit(
            da.from_array(simulate()[0], chunks=500)
        )
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
