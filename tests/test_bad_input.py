"""Bad input to every public method of both estimators, as one table.

Each row of ``CASES`` names an estimator configuration, a method, the input
given to it, the exception expected and a fragment of its message. The test
checks that exactly that exception is raised (a ``ValueError``/``TypeError``
or ``NotFittedError`` whose message names the problem, never an error from
deep inside numpy), and that the caller's input, sample weights and
parameter arrays are bitwise unchanged by the failed call. Successful calls
are checked for the same no-mutation guarantee further down.
"""

import copy
import functools
import pickle
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import KernelDensity

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    FixedComponentMixture,
    InvalidParameterError,
)

# ---------------------------------------------------------------------------
# Data and estimator configurations
# ---------------------------------------------------------------------------

P3 = [[0.8, 0.3, 0.5], [0.2, 0.6, 0.4]]
X_BIN = np.array(
    [[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 1, 1], [0, 0, 0]],
    dtype=np.float64,
)  # fmt: skip
X_REAL = np.random.RandomState(0).normal(size=(8, 3))
LOGLIK = np.log(np.random.RandomState(1).uniform(0.05, 1.0, size=(8, 2)))


def _log_zero(X):
    return np.zeros(np.shape(X)[0])


# kind -> (factory of an unfitted estimator, training data of the right form)
# fmt: off
KINDS = {
    "BM": (lambda: BernoulliMixture(n_components=2, random_state=0), X_BIN),
    "BM01": (lambda: BernoulliMixture(n_components=2, binarize=None, random_state=0), X_BIN),
    "FB": (lambda: FixedComponentMixture(components=P3), X_BIN),
    "FD": (lambda: FixedComponentMixture([stats.norm(0.0, 1.0), stats.norm(1.0, 1.0)]), X_REAL),
    "FP": (lambda: FixedComponentMixture(components="precomputed"), LOGLIK),
    "FC": (lambda: FixedComponentMixture([stats.norm(0.0, 1.0), _log_zero]), X_REAL),
    # Both components rule out x_0 = 0 (probability exactly 1).
    "FB0": (lambda: FixedComponentMixture([[1.0, 0.0, 0.5], [1.0, 0.5, 0.5]]), X_BIN[X_BIN[:, 0] == 1]),
}
# fmt: on
N_COLUMNS = {"BM": 3, "BM01": 3, "FB": 3, "FD": 3, "FP": 2, "FC": 3, "FB0": 3}

_FITTED = {}


def fitted(kind):
    """A fitted estimator of ``kind`` (fitted once, deep-copied per use)."""
    if kind not in _FITTED:
        factory, X = KINDS[kind]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITTED[kind] = factory().fit(X.copy())
    return copy.deepcopy(_FITTED[kind])


PREDICT_METHODS = ["predict", "predict_proba", "score_samples", "score", "bic", "aic"]
X_METHODS = ["fit", *PREDICT_METHODS]


@dataclass
class Case:
    """One row of the table."""

    id: str
    kind: str
    method: str
    X: Any
    exc: type | tuple  # the exception class (or classes, where numpy versions differ)
    match: str | tuple | re.Pattern  # literal fragment(s), in order, or a pattern
    params: dict = field(default_factory=dict)
    fit_kwargs: dict = field(default_factory=dict)
    fitted: bool = True  # for methods other than fit: fit on KINDS data first
    prefit: bool = False  # for fit: fit once on KINDS data, then refit on X


def _put(X, value, where=(0, 0)):
    out = np.array(X, dtype=np.float64)
    out[where] = value
    return out


# fmt: off
def _generic_rows():
    """Validation of X shared by every method of every estimator kind."""
    rows = []
    for kind in ["BM", "FB", "FD", "FP"]:
        X, n_cols = KINDS[kind][1], N_COLUMNS[kind]
        if kind == "FP":
            bad_inf = bad_nan = "-inf (zero likelihood) is allowed, NaN and +inf are not"
        else:
            bad_inf, bad_nan = "Input X contains infinity", "Input X contains NaN"
        for method in X_METHODS:
            def row(name, X, exc, match, **kw):
                rows.append(Case(f"{kind}-{method}-{name}", kind, method, X, exc, match, **kw))  # noqa: B023

            row("inf", _put(X, np.inf), ValueError, bad_inf)
            if kind != "FP":  # -inf is a valid log-likelihood there
                row("minus-inf", _put(X, -np.inf), ValueError, "Input X contains infinity")
            if kind not in ("BM", "FB"):  # NaN is a missing value for Bernoulli data
                row("nan", _put(X, np.nan), ValueError, bad_nan)
            row("strings", np.array([["a"] * n_cols] * 4), ValueError, "could not convert string to float")
            row("objects", np.array([[object()] * n_cols] * 4), TypeError, "float() argument must be")
            row("dicts", [[{"a": 1}] * n_cols] * 4, TypeError, "float() argument must be")
            row("complex", X[:4] + 1j, ValueError, "Complex data not supported")
            row("complex-zero-imag", X[:4] + 0j, ValueError, "Complex data not supported")
            row("empty", np.empty((0, n_cols)), ValueError, "Found array with 0 sample(s)")
            row("zero-features", np.empty((4, 0)), ValueError, "Found array with 0 feature(s)")
            row("1d", X[0].copy(), ValueError, "Expected 2D array, got 1D array")
            row("0d", np.array(1.0), ValueError, "Expected 2D array, got scalar array")
            row("python-scalar", 1.0, ValueError, "Expected 2D array, got scalar array")
            row("3d", X[None].copy(), ValueError, "Found array with dim 3")
            row("ragged", [[0.0] * n_cols, [0.0]], ValueError, "inhomogeneous shape")
            if method != "fit":
                row("fewer-features", X[:, :-1].copy(), ValueError, f"X has {n_cols - 1} features, but")
                row("more-features", np.hstack([X, X[:, :1]]), ValueError, f"X has {n_cols + 1} features, but")
                row("unfitted", X.copy(), NotFittedError, "is not fitted yet", fitted=False)
    for method in X_METHODS:
        def row(name, kind, X, exc, match, **kw):
            rows.append(Case(f"{kind}-{method}-{name}", kind, method, X, exc, match, **kw))  # noqa: B023

        # Values outside {0, 1} where the Bernoulli likelihood needs binary data.
        for kind in ["BM01", "FB"]:
            row("value-2", kind, _put(X_BIN, 2.0), ValueError, "must hold only 0 and 1")
            row("value-half", kind, _put(X_BIN, 0.5), ValueError, "must hold only 0 and 1")
            row("value-negative", kind, _put(X_BIN, -1.0), ValueError, "must hold only 0 and 1")
            row("sparse-value-2", kind, sp.csr_matrix(_put(X_BIN, 2.0)), ValueError, "must hold only 0 and 1")
        row("sparse-inf", "BM", sp.csr_matrix(_put(X_BIN, np.inf)), ValueError, "Input X contains infinity")
        row("sparse", "FD", sp.csr_matrix(X_REAL), TypeError, "Sparse data was passed")
        if method == "fit":
            row("sparse-negative-threshold", "BM", sp.csr_matrix(X_BIN), ValueError, "binarize=-1.0 < 0", params={"binarize": -1.0})
        else:
            row("zero-likelihood-row", "FB0", X_BIN.copy(), ValueError, "Row(s) 1, 3, 5, 7 of X have zero likelihood under every component")
            row("zero-likelihood-row", "FP", np.array([[0.0, -1.0], [-np.inf, -np.inf]]), ValueError, "Row(s) 1 of X have zero likelihood under every component")
    return rows


def _fit_rows():
    """fit-only rows: sample weights, parameters, starting points, components."""
    rows = []

    def row(name, kind, exc, match, X=None, **kw):
        X = KINDS[kind][1].copy() if X is None else X
        rows.append(Case(f"{kind}-fit-{name}", kind, "fit", X, exc, match, **kw))

    for kind in ["BM", "FB", "FD"]:
        n = KINDS[kind][1].shape[0]

        def sw(name, weight, exc, match):
            row(f"sample_weight-{name}", kind, exc, match, fit_kwargs={"sample_weight": weight})  # noqa: B023

        sw("negative", _put(np.ones(n), -1.0, 2), ValueError, "Negative values in sample_weight")
        sw("nan", _put(np.ones(n), np.nan, 2), ValueError, "sample_weight contains NaN or infinity")
        sw("inf", _put(np.ones(n), np.inf, 2), ValueError, "sample_weight contains NaN or infinity")
        sw("all-zero", np.zeros(n), ValueError, "all weights are zero")
        sw("scalar-zero", 0.0, ValueError, "all weights are zero")
        sw("wrong-length", np.ones(n - 1), ValueError, f"expected ({n},)")
        sw("2d", np.ones((n, 1)), ValueError, "Sample weights must be 1D")
        sw("strings", ["a"] * n, TypeError, "sample_weight must be numeric")
        sw("complex", np.ones(n) + 1j, TypeError, "sample_weight must be numeric")
        sw("sparse", sp.csr_matrix(np.ones((1, n))), TypeError, "sample_weight must be a dense")

    def param(kind, name, value, expected, tail=True):
        cls = "BernoulliMixture" if kind == "BM" else "FixedComponentMixture"
        match = (f"The '{name}' parameter of {cls} must be {expected}",)
        match += (f"Got {value!r} instead.",) if tail else ()
        row(f"{name}={value!r}", kind, InvalidParameterError, match, params={name: value})

    param("BM", "n_components", 0, "an int in the range [1, inf]")
    param("BM", "n_components", 1.5, "an int in the range [1, inf]")
    param("BM", "n_components", True, "an int in the range [1, inf]")
    param("BM", "n_components", "2", "an int in the range [1, inf]")
    param("BM", "tol", -1, "a float in the range [0, inf]")
    param("BM", "tol", np.nan, "a float in the range [0, inf]")
    param("BM", "max_iter", 0, "an int in the range [1, inf]")
    param("BM", "n_init", 0, "an int in the range [1, inf]")
    param("BM", "init_params", "foo", "a str among {'kmeans', 'k-means++', 'random', 'random_from_data', 'random_params'}")
    param("BM", "alpha", -1, "a float in the range [0, inf]")
    # inf passes the bound "[0, inf]" but makes every mean inf / inf = NaN.
    param("BM", "alpha", np.inf, "a float in the range [0, inf]", tail=False)
    param("BM", "binarize", "x", "a float in the range [-inf, inf] or None")
    param("BM", "binarize", np.nan, "a float in the range [-inf, inf] or None")
    param("BM", "warm_start", 1, "an instance of 'bool'")
    param("BM", "random_state", "a", "an int")  # wording of the rest may vary
    rows[-1].match = (*rows[-1].match[:1], "RandomState", "None", "Got 'a' instead.")
    param("BM", "verbose", -1, "an int in the range [0, inf]")
    param("BM", "verbose_interval", 0, "an int in the range [1, inf]")
    param("BM", "means_init", "abc", "an array-like or None")
    param("BM", "weights_init", 5, "an array-like or None")
    param("FB", "solver", "foo", "a str among {'em'", tail=False)
    param("FB", "init_params", "kmeans", "a str among {'uniform', 'random'}")
    param("FB", "tol", -1, "a float in the range [0, inf]")
    param("FB", "max_iter", 0, "an int in the range [1, inf]")
    param("FB", "random_state", 1.5, "an int")
    rows[-1].match = (*rows[-1].match[:1], "RandomState", "None", "Got 1.5 instead.")
    param("FB", "verbose", -1, "an int in the range [0, inf]")
    param("FB", "verbose_interval", 0, "an int in the range [1, inf]")
    param("FB", "weights_init", "abc", "an array-like or None")

    # Starting points.
    row("n_components>n_samples", "BM", ValueError, "Expected n_samples >= n_components", params={"n_components": 9})
    row("means_init>1", "BM", ValueError, "means_init must hold probabilities in [0, 1]", params={"means_init": [[0.5, 0.5, 1.5], [0.1, 0.1, 0.1]]})
    row("means_init<0", "BM", ValueError, "means_init must hold probabilities in [0, 1]", params={"means_init": [[0.5, 0.5, -0.1], [0.1, 0.1, 0.1]]})
    row("means_init-nan", "BM", ValueError, "means_init contains NaN or infinity", params={"means_init": [[0.5, 0.5, np.nan], [0.1, 0.1, 0.1]]})
    row("means_init-wrong-features", "BM", ValueError, "means_init must have shape (2, 3)", params={"means_init": [[0.5, 0.5], [0.1, 0.1]]})
    row("means_init-wrong-components", "BM", ValueError, "means_init must have shape (2, 3)", params={"means_init": [[0.5, 0.5, 0.5]]})
    row("means_init-1d", "BM", ValueError, "means_init must be 2-D", params={"means_init": [0.5, 0.5, 0.5]})
    row("means_init-strings", "BM", TypeError, "means_init must hold numeric probabilities", params={"means_init": [["a"] * 3] * 2})
    row("means_init-sparse", "BM", TypeError, "means_init must be a dense", params={"means_init": sp.csr_matrix(np.full((2, 3), 0.5))})
    row("warm-start-new-features", "BM", ValueError, "warm_start=True continues from the previous fit", X=X_BIN[:, :2].copy(), params={"warm_start": True}, prefit=True)
    row("warm-start-new-n_components", "BM", ValueError, "warm_start=True continues from the previous fit", params={"warm_start": True, "n_components": 3}, prefit=True)
    for kind in ["BM", "FB"]:
        row("weights_init-negative", kind, ValueError, "weights_init must be non-negative", params={"weights_init": [-0.5, 1.5]})
        row("weights_init-sum", kind, ValueError, "weights_init must sum to 1", params={"weights_init": [0.5, 0.6]})
        row("weights_init-length", kind, ValueError, "weights_init must have shape (2,)", params={"weights_init": [1 / 3] * 3})
        row("weights_init-2d", kind, ValueError, "weights_init must have shape (2,)", params={"weights_init": [[0.5, 0.5]]})
        row("weights_init-nan", kind, ValueError, "weights_init contains NaN or infinity", params={"weights_init": [np.nan, 1.0]})
        row("weights_init-strings", kind, TypeError, "weights_init must be numeric", params={"weights_init": ["a", "b"]})
    # The only component that explains rows 1, 3, ... starts at weight zero.
    row("weights_init-zero-where-needed", "FB", ValueError, "The starting weights give zero likelihood to row 1", params={"components": [[1.0, 0.0, 0.5], [0.5, 0.5, 0.5]], "weights_init": [1.0, 0.0]})

    # components of the wrong type or value.
    def comp(name, value, exc, match, X=X_BIN):
        row(f"components-{name}", "FB", exc, match, X=X.copy(), params={"components": value})

    comp("None", None, ValueError, "components=None: the component likelihoods must be given")
    comp("unknown-string", "foo", ValueError, "Unknown components='foo'")
    comp("int", 5, TypeError, "components of type int is not supported")
    comp("float", 0.5, TypeError, "components of type float is not supported")
    comp("dict", {"a": 1}, TypeError, "components holds objects of type str")
    comp("objects", [object(), object()], TypeError, "components holds objects of type object")
    comp("string-entries", [["a", "b", "c"]] * 2, TypeError, "components must hold numeric probabilities")
    comp("complex", np.full((2, 3), 0.5 + 0j), TypeError, "components must hold numeric probabilities")
    comp("probability>1", [[1.5, 0.5, 0.5], [0.5] * 3], ValueError, "components must hold probabilities in [0, 1]")
    comp("probability<0", [[-0.1, 0.5, 0.5], [0.5] * 3], ValueError, "components must hold probabilities in [0, 1]")
    comp("probability-nan", [[np.nan, 0.5, 0.5], [0.5] * 3], ValueError, "components contains NaN or infinity")
    comp("probability-inf", [[np.inf, 0.5, 0.5], [0.5] * 3], ValueError, "components contains NaN or infinity")
    comp("empty", [], ValueError, "components is empty")
    comp("empty-rows", [[]], ValueError, "components is empty")
    comp("1d", [0.5, 0.5, 0.5], ValueError, "components must be 2-D")
    # numpy < 1.24 makes an object array of ragged lists, numpy >= 1.24 refuses.
    comp("ragged", [[0.5, 0.5, 0.5], [0.5, 0.5]], (ValueError, TypeError), re.compile("inhomogeneous shape|got an array of dtype object"))
    comp("sparse", sp.csr_matrix(np.full((2, 3), 0.5)), TypeError, "components must be a dense array-like")
    comp("wrong-n-features", [[0.5, 0.5], [0.2, 0.2]], ValueError, "X has 3 features, but the Bernoulli components have 2")
    comp("mixed", [stats.norm(), [0.5, 0.5, 0.5]], TypeError, "components mixes distributions and numbers")
    comp("single-distribution", stats.norm(), TypeError, "components is a single rv_continuous_frozen")
    comp("single-callable", _log_zero, TypeError, "components is a single function")
    comp("unfitted-estimator", [KernelDensity(), stats.norm()], NotFittedError, "Component 0 (KernelDensity) is not fitted", X=X_REAL)

    # Distributions that misbehave: every error names the component.
    def dist(name, fn, exc, match):
        row(f"distribution-{name}", "FC", exc, match, params={"components": [stats.norm(), fn]})

    n = len(X_REAL)
    dist("nan", lambda X: np.full(len(X), np.nan), ValueError, "Component 1 (<function")
    dist("nan-one-row", lambda X: np.where(np.arange(len(X)) == 3, np.nan, 0.0), ValueError, "NaN or +inf log-likelihood for row 3")
    dist("plus-inf", lambda X: np.full(len(X), np.inf), ValueError, "returned a NaN or +inf log-likelihood")
    dist("wrong-length", lambda X: np.zeros(len(X) - 1), ValueError, f"returned log-likelihoods of shape ({n - 1},)")
    dist("2d", lambda X: np.zeros((len(X), 2)), ValueError, f"returned log-likelihoods of shape ({n}, 2)")
    dist("none", lambda X: None, ValueError, "Component 1 (<function")
    dist("raises", lambda X: 1 / 0, ValueError, "could not evaluate the log-likelihood of X")
    # Non-numbers from a callable must be blamed on it, like the rows above.
    dist("strings", lambda X: np.array(["a"] * len(X)), ValueError, "Component 1 (<function")
    dist("objects", lambda X: [object()] * len(X), ValueError, "Component 1 (<function")
    dist("complex", lambda X: np.zeros(len(X)) + 1j, ValueError, "Component 1 (<function")

    # Rows that no component can explain.
    X_out = np.abs(X_REAL) % 1.0 + _put(np.zeros_like(X_REAL), 5.0, (2, 1))
    row("zero-likelihood-row", "FB", ValueError, "Row(s) 1, 3, 5, 7 of X have zero likelihood under every component", params={"components": [[1.0, 0.0, 0.5], [1.0, 1.0, 0.5]]})
    row("zero-likelihood-row", "FD", ValueError, "Row(s) 2 of X have zero likelihood under every component", X=X_out, params={"components": [stats.uniform(0, 1), stats.uniform(0, 2)]})
    row("zero-likelihood-row", "FP", ValueError, "Row(s) 4 of X have zero likelihood under every component", X=_put(LOGLIK, -np.inf, (4, slice(None))))
    return rows


def _sample_rows():
    rows = []
    for kind in ["BM", "FB", "FD"]:
        def row(name, n, exc, match, **kw):
            rows.append(Case(f"{kind}-sample-{name}", kind, "sample", n, exc, match, **kw))  # noqa: B023

        row("0", 0, ValueError, "Invalid value for 'n_samples': 0")
        row("negative", -3, ValueError, "Invalid value for 'n_samples': -3")
        row("float", 1.5, TypeError, "n_samples must be an int; got 1.5")
        row("integral-float", 3.0, TypeError, "n_samples must be an int; got 3.0")
        row("string", "3", TypeError, "n_samples must be an int; got '3'")
        row("bool", True, TypeError, "n_samples must be an int; got True")
        row("None", None, TypeError, "n_samples must be an int; got None")
        row("array", np.array([3]), TypeError, "n_samples must be an int")
        row("unfitted", 3, NotFittedError, "is not fitted yet", fitted=False)
    rows.append(Case("FP-sample-precomputed", "FP", "sample", 3, ValueError, "components='precomputed' cannot draw samples"))
    rows.append(Case("FC-sample-callable", "FC", "sample", 3, ValueError, "cannot draw samples"))
    return rows
# fmt: on


CASES = _generic_rows() + _fit_rows() + _sample_rows()
assert len({c.id for c in CASES}) == len(CASES), "duplicate row ids"


# ---------------------------------------------------------------------------
# Bitwise snapshots of what the caller passed in
# ---------------------------------------------------------------------------

_FLAGS = ("C_CONTIGUOUS", "F_CONTIGUOUS", "OWNDATA", "WRITEABLE", "ALIGNED")


def snapshot(obj):
    """A bitwise picture of ``obj``: its bytes, dtype, shape, strides and flags."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            content = repr(obj.tolist()).encode()
        else:
            content = obj.tobytes(order="A")
        return (
            "ndarray",
            obj.dtype.str,
            obj.shape,
            obj.strides,
            content,
            tuple(obj.flags[f] for f in _FLAGS),
        )
    if sp.issparse(obj):
        return (
            type(obj).__name__,
            obj.shape,
            obj.format,
            *(snapshot(getattr(obj, a)) for a in ("data", "indices", "indptr")),
        )
    if isinstance(obj, pd.DataFrame):
        return ("DataFrame", tuple(obj.columns), snapshot(obj.to_numpy(copy=True)))
    if isinstance(obj, list | tuple | dict):
        return repr(obj)
    try:
        return pickle.dumps(obj)
    except Exception:  # lambdas, frozen distributions holding lambdas, ...
        return repr(obj)


def _param_snapshots(est):
    return {k: snapshot(v) for k, v in est.get_params(deep=False).items()}


def _pattern(match):
    """Literal fragments (all, in this order) or a ready pattern."""
    if isinstance(match, re.Pattern):
        return match
    fragments = (match,) if isinstance(match, str) else match
    return re.compile(".*".join(map(re.escape, fragments)), re.DOTALL)


def _run(case, est, X):
    if case.method == "fit":
        return est.fit(X, **case.fit_kwargs)
    if case.method == "sample":
        return est.sample(X)
    return getattr(est, case.method)(X)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case):
    for exc in case.exc if isinstance(case.exc, tuple) else (case.exc,):
        assert issubclass(exc, ValueError | TypeError | NotFittedError)
    factory, X_train = KINDS[case.kind]
    if case.method == "fit":
        est = factory()
        if case.prefit:
            est.fit(X_train.copy())
        est.set_params(**case.params)
    else:
        est = fitted(case.kind) if case.fitted else factory()
    X = case.X
    before = snapshot(X)
    before_kwargs = {k: snapshot(v) for k, v in case.fit_kwargs.items()}
    before_params = _param_snapshots(est)
    with warnings.catch_warnings():
        # Only the exception matters here; warnings on the way are tested elsewhere.
        warnings.simplefilter("ignore")
        with pytest.raises(case.exc, match=_pattern(case.match)) as excinfo:
            _run(case, est, X)
    assert isinstance(excinfo.value, ValueError | TypeError | NotFittedError)
    assert snapshot(X) == before, "the caller's X was modified"
    for k, v in case.fit_kwargs.items():
        assert snapshot(v) == before_kwargs[k], f"the caller's {k} was modified"
    assert _param_snapshots(est) == before_params, "a parameter was modified"


def test_table_covers_every_method_of_both_estimators():
    covered = {(c.kind[:2] if c.kind != "BM01" else "BM", c.method) for c in CASES}
    methods = [*X_METHODS, "sample"]
    for prefix in ["BM", "FB", "FD", "FP"]:
        for method in methods:
            if prefix == "FP" and method == "sample":
                continue
            assert (prefix, method) in covered, (prefix, method)


# ---------------------------------------------------------------------------
# Parameter errors list the valid options
# ---------------------------------------------------------------------------

# The options documented in each estimator's docstring.
DOCUMENTED_OPTIONS = [
    (
        lambda **kw: BernoulliMixture(n_components=2, random_state=0, **kw),
        X_BIN,
        "init_params",
        ["kmeans", "k-means++", "random", "random_from_data"],
    ),
    (
        lambda **kw: FixedComponentMixture(P3, random_state=0, **kw),
        X_BIN,
        "init_params",
        ["uniform", "random"],
    ),
    (lambda **kw: FixedComponentMixture(P3, **kw), X_BIN, "solver", ["em"]),
]


@pytest.mark.parametrize("factory, X, name, options", DOCUMENTED_OPTIONS)
def test_invalid_option_message_lists_every_valid_option(factory, X, name, options):
    for option in options:  # every listed option is really accepted
        factory(**{name: option}).fit(X.copy())
    with pytest.raises(InvalidParameterError) as excinfo:
        factory(**{name: "no-such-option"}).fit(X.copy())
    message = str(excinfo.value)
    assert f"'{name}' parameter" in message
    assert "'no-such-option'" in message
    for option in options:
        assert repr(option) in message
    # The error can be caught as either kind, like scikit-learn's own.
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, TypeError)


# ---------------------------------------------------------------------------
# Feature names, compared with what scikit-learn's GaussianMixture does
# ---------------------------------------------------------------------------

NAMED = {
    "BM": ["a", "b", "c"],
    "FB": ["a", "b", "c"],
    "FD": ["a", "b", "c"],
    "FP": ["k0", "k1"],
}


def _frame(kind, columns):
    return pd.DataFrame(KINDS[kind][1].copy(), columns=columns)


@functools.cache
def _reference_behaviour(mismatch):
    """What GaussianMixture does for the same kind of feature-name mismatch.

    Returns ``(exception class or None, warning classes about feature names)``.
    """
    columns = ["a", "b", "c"]
    gm = GaussianMixture(n_components=1).fit(pd.DataFrame(X_REAL, columns=columns))
    if mismatch == "other-names":
        X = pd.DataFrame(X_REAL, columns=["a", "b", "zz"])
    else:  # "no-names"
        X = X_REAL.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gm.score_samples(X)
        except Exception as exc:
            return type(exc), ()
    return None, tuple(w.category for w in caught if "feature names" in str(w.message))


@pytest.mark.parametrize("kind", list(NAMED))
@pytest.mark.parametrize("method", PREDICT_METHODS)
def test_dataframe_with_other_column_names(kind, method):
    columns = NAMED[kind]
    other = [*columns[:-1], "zz"]
    est = factory_fit_on_frame(kind, columns)
    ref_exc, _ = _reference_behaviour("other-names")
    X = _frame(kind, other)
    before = snapshot(X)
    if ref_exc is not None:  # scikit-learn >= 1.2: an error that names the columns
        with pytest.raises(ref_exc, match="feature names should match"):
            getattr(est, method)(X)
    else:
        with pytest.warns((UserWarning, FutureWarning), match="feature names"):
            getattr(est, method)(X)
    assert snapshot(X) == before


@pytest.mark.parametrize("kind", list(NAMED))
@pytest.mark.parametrize("method", PREDICT_METHODS)
def test_dataframe_columns_reordered(kind, method):
    columns = NAMED[kind]
    est = factory_fit_on_frame(kind, columns)
    X = _frame(kind, columns)[columns[::-1]]
    with pytest.raises(ValueError, match="same order"):
        getattr(est, method)(X)


@pytest.mark.parametrize("kind", list(NAMED))
@pytest.mark.parametrize("method", PREDICT_METHODS)
def test_fitted_with_names_predict_without(kind, method):
    _, ref_warnings = _reference_behaviour("no-names")
    assert ref_warnings == (UserWarning,)
    est = factory_fit_on_frame(kind, NAMED[kind])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        getattr(est, method)(KINDS[kind][1].copy())


@pytest.mark.parametrize("kind", list(NAMED))
@pytest.mark.parametrize("method", PREDICT_METHODS)
def test_fitted_without_names_predict_with(kind, method):
    est = fitted(kind)
    with pytest.warns(UserWarning, match="X has feature names"):
        getattr(est, method)(_frame(kind, NAMED[kind]))


@functools.cache
def _fit_on_frame(kind, columns):
    factory, _ = KINDS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = factory().fit(_frame(kind, list(columns)))
    np.testing.assert_array_equal(est.feature_names_in_, columns)
    return est


def factory_fit_on_frame(kind, columns):
    return copy.deepcopy(_fit_on_frame(kind, tuple(columns)))


# ---------------------------------------------------------------------------
# Successful calls leave the caller's input bitwise unchanged too
# ---------------------------------------------------------------------------


def _layouts(kind):
    X = KINDS[kind][1]
    out = {
        "float64-C": np.ascontiguousarray(X),
        "float64-F": np.asfortranarray(X),
        "float32": X.astype(np.float32),
        "list": X.tolist(),
        "DataFrame": pd.DataFrame(X),
    }
    readonly = X.copy()
    readonly.flags.writeable = False
    out["read-only"] = readonly
    out["strided-view"] = np.repeat(X, 2, axis=1)[:, ::2]
    if kind in ("BM", "FB"):
        out["int64"] = X.astype(np.int64)
        out["bool"] = X.astype(bool)
        out["uint8"] = X.astype(np.uint8)
        out["csr"] = sp.csr_matrix(X)
        # Explicit zeros and unsorted indices must not be cleaned up in place.
        csr = sp.csr_matrix(X)
        csr.data[0] = 0.0
        out["csr-explicit-zero"] = csr
        out["csr-unsorted"] = _unsorted_csr(X)
        out["csc"] = sp.csc_matrix(X)
    if kind == "BM":
        nan = X.copy()
        nan[[0, 3, 5], [1, 2, 0]] = np.nan
        out["with-nan"] = nan
        out["with-nan-float32"] = nan.astype(np.float32)
        out["csr-with-nan"] = sp.csr_matrix(nan)
        out["real-valued"] = X_REAL.copy()  # binarize=0.0 thresholds it
    return out


def _unsorted_csr(X):
    csr = sp.csr_matrix(X)
    data, indices = csr.data.copy(), csr.indices.copy()
    for i in range(csr.shape[0]):
        lo, hi = csr.indptr[i], csr.indptr[i + 1]
        data[lo:hi], indices[lo:hi] = data[lo:hi][::-1], indices[lo:hi][::-1]
    out = sp.csr_matrix((data, indices, csr.indptr.copy()), shape=csr.shape)
    out.has_sorted_indices = False
    return out


SUCCESS = [
    (kind, name, method)
    for kind in ["BM", "FB", "FD", "FP"]
    for name in _layouts(kind)
    for method in [*X_METHODS, "fit_predict"]
]


@pytest.mark.parametrize(
    "kind, layout, method", SUCCESS, ids=["-".join(s) for s in SUCCESS]
)
def test_successful_call_leaves_input_unchanged(kind, layout, method):
    X = _layouts(kind)[layout]
    sample_weight = np.arange(1.0, 1.0 + KINDS[kind][1].shape[0])
    before, before_sw = snapshot(X), snapshot(sample_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # feature-name and k-means notes
        if method in ("fit", "fit_predict"):
            est = KINDS[kind][0]()
            out = getattr(est, method)(X, sample_weight=sample_weight)
        else:
            est = fitted(kind)
            out = getattr(est, method)(X)
    assert snapshot(X) == before, "the caller's X was modified"
    assert snapshot(sample_weight) == before_sw, "sample_weight was modified"
    if method not in ("fit",):
        assert np.all(np.isfinite(out))
    if sp.issparse(X):
        # Also the attributes scipy keeps about the structure.
        assert X.has_sorted_indices == (layout != "csr-unsorted")


@pytest.mark.parametrize("kind", ["BM", "FB"])
def test_starting_points_and_components_unchanged_by_fit(kind):
    means_init = np.array([[0.7, 0.2, 0.6], [0.1, 0.9, 0.3]])
    weights_init = np.array([0.25, 0.75])
    components = np.array(P3)
    if kind == "BM":
        est = BernoulliMixture(2, means_init=means_init, weights_init=weights_init)
    else:
        est = FixedComponentMixture(components, weights_init=weights_init)
    before = [snapshot(a) for a in (means_init, weights_init, components)]
    est.fit(X_BIN.copy())
    assert [snapshot(a) for a in (means_init, weights_init, components)] == before
    # The fitted attributes are not views into the parameters either.
    for attr in ("weights_", "means_"):
        if hasattr(est, attr):
            for param in (means_init, weights_init, components):
                assert not np.shares_memory(getattr(est, attr), param)
