"""Array API input: fits and predictions in the input's namespace equal the NumPy ones.

Every test runs with array-api-strict (on its default device and on a second
device, which catches any computation that leaves the input's device) and
with PyTorch when it is installed (on CUDA too when a GPU is present: the
device always comes from the input). The reference is the NumPy fit from the
same start.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    CategoricalMixture,
    FixedComponentMixture,
)

xps = pytest.importorskip("array_api_strict")
compat = pytest.importorskip("array_api_compat")
from sklearn_bernoulli_mix._xp import to_numpy  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional
    torch = None


def _dispatch_available():
    try:
        with sklearn.config_context(array_api_dispatch=True):
            return True
    except (RuntimeError, ImportError):  # scipy without SCIPY_ARRAY_API=1
        return False


pytestmark = [
    pytest.mark.skipif(
        not _dispatch_available(),
        reason="array_api_dispatch needs SCIPY_ARRAY_API=1 before scipy is imported",
    ),
    # Fits are compared after a fixed number of iterations.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny arrays: torch's thread pool would only fight scikit-learn's OpenMP."""
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _targets():
    targets = [
        pytest.param(xps, xps.Device("CPU_DEVICE"), id="strict"),
        pytest.param(xps, xps.Device("device1"), id="strict-device1"),
    ]
    if torch is not None:
        targets.append(pytest.param(torch, "cpu", id="torch-cpu"))
        if torch.cuda.is_available():
            targets.append(pytest.param(torch, "cuda", id="torch-cuda"))
    return targets


TARGETS = _targets()
DTYPES = [
    pytest.param(np.float64, 1e-10, id="f64"),
    pytest.param(np.float32, 1e-5, id="f32"),
]


def _to(lib, device, a):
    return lib.asarray(np.ascontiguousarray(a), device=device)


def _check_in(lib, device, a):
    """``a`` is an array of ``lib`` on ``device``."""
    assert compat.array_namespace(a) is compat.array_namespace(_to(lib, device, [0]))
    assert str(compat.device(a)) == str(compat.device(_to(lib, device, [0])))


def _close(a, b, tol):
    np.testing.assert_allclose(to_numpy(a), b, rtol=0, atol=tol)


def _binary_data(n=400, n_features=12, seed=0):
    rng = np.random.RandomState(seed)
    means = rng.uniform(0.05, 0.95, size=(3, n_features))
    y = rng.randint(3, size=n)
    X = (rng.random_sample((n, n_features)) < means[y]).astype(float)
    X[rng.random_sample(X.shape) < 0.05] = np.nan
    sw = rng.randint(0, 4, size=n).astype(float)
    return X, sw


def _compare_predictions(model, ref, X, Xd, lib, device, tol):
    """Every prediction of ``model`` on ``Xd`` equals ``ref``'s on ``X``."""
    for method in ("predict_proba", "score_samples"):
        out = getattr(model, method)(Xd)
        _check_in(lib, device, out)
        _close(out, getattr(ref, method)(X), tol * 10)
    labels = model.predict(Xd)
    _check_in(lib, device, labels)
    np.testing.assert_array_equal(to_numpy(labels), ref.predict(X))
    n = X.shape[0]
    assert model.score(Xd) == pytest.approx(ref.score(X), abs=10 * tol)
    assert model.bic(Xd) == pytest.approx(ref.bic(X), abs=10 * tol * n)
    assert model.aic(Xd) == pytest.approx(ref.aic(X), abs=10 * tol * n)


@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("lib, device", TARGETS)
def test_bernoulli_mixture_equals_numpy(lib, device, dtype, tol):
    X, sw = _binary_data()
    X = X.astype(dtype)
    params = dict(n_components=3, random_state=0, tol=1e-8, max_iter=40)
    ref = BernoulliMixture(**params).fit(X, sample_weight=sw)
    Xd = _to(lib, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        model = BernoulliMixture(**params).fit(Xd, sample_weight=_to(lib, device, sw))
        for name in ("weights_", "means_"):
            _check_in(lib, device, getattr(model, name))
        _close(model.weights_, ref.weights_, tol)
        _close(model.means_, ref.means_, tol)
        assert model.n_iter_ == ref.n_iter_
        assert model.lower_bound_ == pytest.approx(ref.lower_bound_, abs=tol)
        _compare_predictions(model, ref, X, Xd, lib, device, tol)
        sample, labels = model.sample(50, random_state=1)
        _check_in(lib, device, sample)
    ref_sample, ref_labels = ref.sample(50, random_state=1)
    np.testing.assert_array_equal(to_numpy(labels), ref_labels)
    # Identical parameters up to rounding: the same uniform draws fall on
    # the same side of every probability.
    np.testing.assert_array_equal(to_numpy(sample), ref_sample)


@pytest.mark.parametrize("lib, device", TARGETS)
@pytest.mark.parametrize("init_params", ["random", "k-means++", "random_params"])
def test_bernoulli_binarize_and_starts(lib, device, init_params):
    """Counts binarised on the device; every start is the NumPy one."""
    rng = np.random.RandomState(3)
    X = rng.poisson(0.8, size=(300, 8)).astype(float)
    params = dict(n_components=2, random_state=0, init_params=init_params, binarize=0.5)
    ref = BernoulliMixture(**params).fit(X)
    Xd = _to(lib, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        model = BernoulliMixture(**params).fit(Xd)
        _close(model.means_, ref.means_, 1e-10)
        _close(model.predict_proba(Xd), ref.predict_proba(X), 1e-9)


@pytest.mark.parametrize("lib, device", TARGETS)
def test_numpy_fit_predicts_on_the_device(lib, device):
    """A model fitted on NumPy predicts on Array API input, in its namespace."""
    X, _ = _binary_data(seed=1)
    ref = BernoulliMixture(n_components=3, random_state=0).fit(X)
    Xd = _to(lib, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        _compare_predictions(ref, ref, X, Xd, lib, device, 1e-10)


@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("lib, device", TARGETS)
def test_categorical_mixture_equals_numpy(lib, device, dtype, tol):
    rng = np.random.RandomState(0)
    probs = [rng.dirichlet(np.ones(c), size=2) for c in (2, 3, 4)]
    y = rng.randint(2, size=300)
    X = np.column_stack(
        [
            (rng.random_sample(300)[:, None] > np.cumsum(p[y], axis=1)).sum(1)
            for p in probs
        ]
    ).astype(dtype)
    X[rng.random_sample(X.shape) < 0.05] = np.nan
    params = dict(n_components=2, random_state=0, tol=1e-8, max_iter=30)
    ref = CategoricalMixture(**params).fit(X)
    Xd = _to(lib, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        model = CategoricalMixture(**params).fit(Xd)
        _check_in(lib, device, model.weights_)
        for got, want in zip(model.category_probs_, ref.category_probs_):
            _check_in(lib, device, got)
            # Categorical fits compute in float64 for any input dtype.
            _close(got, want, 1e-10)
        _check_in(lib, device, model.n_categories_)
        np.testing.assert_array_equal(to_numpy(model.n_categories_), ref.n_categories_)
        assert model.n_iter_ == ref.n_iter_
        _compare_predictions(model, ref, X, Xd, lib, device, 1e-10)
        sample, _ = model.sample(20, random_state=2)
        _check_in(lib, device, sample)
    np.testing.assert_array_equal(to_numpy(sample), ref.sample(20, random_state=2)[0])


@pytest.mark.parametrize("lib, device", TARGETS)
def test_categorical_errors_name_the_value(lib, device):
    X = np.array([[0, 1], [1, 2], [2, 0.5]])
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match=r"found \S*0\.5\S* at row 2, column 1"):
            CategoricalMixture(2).fit(_to(lib, device, X))
        model = CategoricalMixture(2, random_state=0).fit(_to(lib, device, X[:2]))
        with pytest.raises(ValueError, match="knows 2 categories"):
            model.predict(_to(lib, device, np.array([[2.0, 0.0]])))


@pytest.mark.parametrize("lib, device", TARGETS)
def test_fixed_bernoulli_components_equal_numpy(lib, device):
    X, sw = _binary_data(seed=2)
    X = np.nan_to_num(X)
    rng = np.random.RandomState(5)
    components = rng.uniform(size=(4, X.shape[1]))
    components[0, 0] = 0.0  # an exact 0 rules out some rows for component 0
    ref = FixedComponentMixture(components, solver="em", tol=1e-12, max_iter=5000)
    ref.fit(X, sample_weight=sw)
    Xd = _to(lib, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        # Array API input is fitted with the EM update whatever the solver.
        model = FixedComponentMixture(components, tol=1e-12, max_iter=5000)
        model.fit(Xd, sample_weight=_to(lib, device, sw))
        for name in ("weights_", "weights_covariance_", "weights_stderr_"):
            _check_in(lib, device, getattr(model, name))
        assert model.n_iter_ == ref.n_iter_
        _close(model.weights_, ref.weights_, 1e-10)
        _close(model.weights_stderr_, ref.weights_stderr_, 1e-10)
        _close(model.weights_covariance_, ref.weights_covariance_, 1e-10)
        assert model.gap_bound_ == pytest.approx(ref.gap_bound_, abs=1e-10)
        _compare_predictions(model, ref, X, Xd, lib, device, 1e-10)
        sample, _ = model.sample(30, random_state=0)
        _check_in(lib, device, sample)
    np.testing.assert_array_equal(to_numpy(sample), ref.sample(30, random_state=0)[0])


@pytest.mark.parametrize("lib, device", TARGETS)
def test_fixed_precomputed_equals_numpy(lib, device):
    rng = np.random.RandomState(1)
    L = rng.normal(size=(300, 5))
    L[0, 1] = -np.inf
    ref = FixedComponentMixture("precomputed", solver="em", tol=1e-12, max_iter=5000)
    ref.fit(L)
    Ld = _to(lib, device, L)
    with sklearn.config_context(array_api_dispatch=True):
        model = FixedComponentMixture("precomputed", tol=1e-12, max_iter=5000).fit(Ld)
        _check_in(lib, device, model.weights_)
        _close(model.weights_, ref.weights_, 1e-10)
        _close(model.weights_stderr_, ref.weights_stderr_, 1e-10)
        _compare_predictions(model, ref, L, Ld, lib, device, 1e-10)
        bad = L.copy()
        bad[3, 2] = np.inf
        with pytest.raises(ValueError, match=r"NaN and \+inf are not"):
            FixedComponentMixture("precomputed").fit(_to(lib, device, bad))
        bad[3] = -np.inf
        with pytest.raises(ValueError, match="Row.s. 3 of X have zero likelihood"):
            FixedComponentMixture("precomputed").fit(_to(lib, device, bad))


@pytest.mark.parametrize("lib, device", TARGETS)
def test_unsupported_combinations(lib, device):
    X, _ = _binary_data(n=60)
    X = np.nan_to_num(X)
    Xd = _to(lib, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="partial_fit takes NumPy arrays"):
            BernoulliMixture(2).partial_fit(Xd)
        with pytest.raises(TypeError, match="partial_fit takes NumPy arrays"):
            FixedComponentMixture([[0.5] * X.shape[1]]).partial_fit(Xd)
        from scipy import stats

        with pytest.raises(TypeError, match="components='precomputed'"):
            FixedComponentMixture([stats.norm(0, 1), stats.norm(1, 1)]).fit(Xd)
        with pytest.raises(ValueError, match="must hold only 0 and 1"):
            BernoulliMixture(2, binarize=None).fit(_to(lib, device, X + 0.5))
        # Fitted on the device: NumPy input (or another library) is refused
        # with the way out, not a cryptic failure.
        model = BernoulliMixture(2, random_state=0).fit(Xd)
        with pytest.raises(
            ValueError, match=r"predict\(\) must use the same namespace"
        ):
            model.predict(X)


def test_dispatch_off_converts_to_numpy():
    """Without dispatch, Array API input is converted to NumPy (as scikit-learn does)."""
    X, _ = _binary_data(n=100)
    X = np.nan_to_num(X)
    model = BernoulliMixture(2, random_state=0).fit(xps.asarray(X))
    assert isinstance(model.means_, np.ndarray)
    ref = BernoulliMixture(2, random_state=0).fit(X)
    np.testing.assert_array_equal(model.means_, ref.means_)


@pytest.mark.skipif(torch is None, reason="needs torch")
def test_sparse_tensors_are_refused():
    X = torch.eye(4, dtype=torch.float64).to_sparse()
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="Sparse Array API arrays"):
            BernoulliMixture(2).fit(X)


def test_dask_with_non_numpy_chunks_is_refused():
    da = pytest.importorskip("dask.array")
    X = da.from_array(np.eye(4), chunks=2)
    X = X.map_blocks(xps.asarray, meta=xps.asarray(np.empty((0, 0))))
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="chunks are not NumPy arrays"):
            BernoulliMixture(2).fit(X)


def test_numpy_input_with_dispatch_is_the_numpy_path():
    X, _ = _binary_data(n=100, seed=4)
    ref = BernoulliMixture(2, random_state=0).fit(X)
    with sklearn.config_context(array_api_dispatch=True):
        model = BernoulliMixture(2, random_state=0).fit(X)
    assert isinstance(model.means_, np.ndarray)
    np.testing.assert_array_equal(model.means_, ref.means_)
    assert sp.issparse(sp.csr_matrix(X))  # sparse input stays on the NumPy path
    with sklearn.config_context(array_api_dispatch=True):
        sparse = BernoulliMixture(2, random_state=0).fit(
            sp.csr_matrix(np.nan_to_num(X))
        )
    assert isinstance(sparse.means_, np.ndarray)


def test_large_input_starts_from_a_host_sample_like_dask():
    """Beyond init_sample_size rows, the start is drawn as for Dask input."""
    da = pytest.importorskip("dask.array")
    from sklearn_bernoulli_mix._blocks import init_sample_size

    rng = np.random.RandomState(0)
    n = init_sample_size(1, 2) + 2000
    means = np.array([[0.9, 0.8, 0.2, 0.1, 0.7, 0.3], [0.2, 0.1, 0.7, 0.9, 0.4, 0.6]])
    X = (rng.random_sample((n, 6)) < means[rng.randint(2, size=n)]).astype(float)
    params = dict(n_components=2, random_state=0, max_iter=5, tol=0)
    ref = BernoulliMixture(**params).fit(da.from_array(X, chunks=(4000, 6)))
    with sklearn.config_context(array_api_dispatch=True):
        model = BernoulliMixture(**params).fit(xps.asarray(X))
    _close(model.means_, ref.means_, 1e-10)
    assert model.lower_bounds_ == pytest.approx(ref.lower_bounds_, abs=1e-10)


@pytest.mark.parametrize("lib, device", TARGETS)
def test_starting_parameters_and_warm_start_on_the_device(lib, device):
    """Starting parameters may be arrays of X's library; warm starts continue there."""
    X, _ = _binary_data(seed=6)
    rng = np.random.RandomState(0)
    weights, means = np.array([0.2, 0.3, 0.5]), rng.uniform(0.2, 0.8, size=(3, 12))
    params = dict(n_components=3, max_iter=5, tol=0)
    ref = BernoulliMixture(weights_init=weights, means_init=means, **params).fit(X)
    ref_warm = BernoulliMixture(
        weights_init=weights, means_init=means, warm_start=True, **params
    )
    ref_warm.fit(X).fit(X)
    Xd = _to(lib, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        model = BernoulliMixture(
            weights_init=_to(lib, device, weights),
            means_init=_to(lib, device, means),
            **params,
        ).fit(Xd)
        _close(model.means_, ref.means_, 1e-10)
        warm = BernoulliMixture(
            weights_init=weights, means_init=means, warm_start=True, **params
        )
        warm.fit(Xd).fit(Xd)
        _check_in(lib, device, warm.means_)
        _close(warm.means_, ref_warm.means_, 1e-10)
        assert warm.lower_bounds_ == pytest.approx(ref_warm.lower_bounds_, abs=1e-10)
        fixed = FixedComponentMixture(
            means, weights_init=_to(lib, device, weights), max_iter=3, tol=0
        ).fit(Xd)
    ref_fixed = FixedComponentMixture(
        means, weights_init=weights, solver="em", max_iter=3, tol=0
    ).fit(X)
    _close(fixed.weights_, ref_fixed.weights_, 1e-10)


def test_device_without_float64():
    """On a device without float64 everything is float32, close to NumPy's float32 fit."""
    device = xps.Device("no_float64")
    rng = np.random.RandomState(0)
    X = (rng.random_sample((300, 8)) < 0.4).astype(np.float32)
    ref = BernoulliMixture(2, random_state=0, max_iter=20, tol=0).fit(X)
    Xd = xps.asarray(X, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        model = BernoulliMixture(2, random_state=0, max_iter=20, tol=0).fit(Xd)
        proba = model.predict_proba(Xd)
        fixed = FixedComponentMixture(ref.means_, max_iter=50, tol=0).fit(Xd)
    assert model.means_.dtype == xps.float32 and proba.dtype == xps.float32
    _close(model.means_, ref.means_, 1e-5)
    _close(proba, ref.predict_proba(X), 1e-5)
    assert fixed.weights_stderr_.dtype == xps.float32
    ref_fixed = FixedComponentMixture(ref.means_, solver="em", max_iter=50, tol=0)
    _close(fixed.weights_, ref_fixed.fit(X).weights_, 1e-5)


def test_numpy_scalars_and_lists_stay_on_the_numpy_path():
    """NumPy scalars carry ``__array_namespace__`` too; they are not device arrays."""
    X, _ = _binary_data(n=80, seed=7)
    weights = tuple(np.float64(w) for w in (0.25, 0.75))
    means = [[0.3] * 12, [0.7] * 12]
    ref = BernoulliMixture(2, weights_init=np.array(weights), means_init=means)
    with sklearn.config_context(array_api_dispatch=True):
        model = BernoulliMixture(2, weights_init=weights, means_init=means).fit(X)
    np.testing.assert_array_equal(model.means_, ref.fit(X).means_)
