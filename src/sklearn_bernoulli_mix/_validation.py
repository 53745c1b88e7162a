"""Parameter and input validation shared by the estimators."""

import numbers
import os
import sys
import warnings

import numpy as np
import scipy.sparse as sp


class InvalidParameterError(ValueError, TypeError):
    """Raised when an estimator's constructor parameter has an invalid value.

    It subclasses both :class:`ValueError` and :class:`TypeError`, as
    scikit-learn's own parameter errors do, so either can be caught.
    """


class NonIdentifiableWarning(UserWarning):
    """Warned when standard errors are undefined and reported as NaN.

    The observed information matrix is singular (the data cannot tell some
    components or parameters apart: mixing weights of a
    :class:`FixedComponentMixture`, item parameters or covariate
    coefficients of a learned mixture), or a parameter lies on the boundary
    of the parameter space (a probability at 0 or 1, an empty class), where
    the Wald approximation does not hold. The message names the parameters.
    """


def warn(message, category):
    """Warn at the first frame outside this package: the user's own line.

    Warnings raised deep inside a fit then point at the call that caused
    them, whatever the route (fit, Dask, partial_fit, a meta-estimator).
    """
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package + os.sep
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)


class Interval:
    """A numeric constraint ``left <= value <= right`` (ends may be open/None)."""

    def __init__(self, kind, left, right, *, closed="both"):
        self.kind = kind  # "int" or "real"
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind == "int" and not isinstance(value, numbers.Integral):
            return False
        if not np.isfinite(value):
            return False
        if self.left is not None:
            if self.closed in ("left", "both"):
                if value < self.left:
                    return False
            elif value <= self.left:
                return False
        if self.right is not None:
            if self.closed in ("right", "both"):
                if value > self.right:
                    return False
            elif value >= self.right:
                return False
        return True

    def __str__(self):
        kind = "an int" if self.kind == "int" else "a float"
        lb = "[" if self.closed in ("left", "both") else "("
        rb = "]" if self.closed in ("right", "both") else ")"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        return f"{kind} in the range {lb}{left}, {right}{rb}"


class Options:
    """One value from a fixed set of strings."""

    def __init__(self, *options):
        self.options = options

    def is_satisfied_by(self, value):
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return "a str among {" + ", ".join(repr(o) for o in self.options) + "}"


class _NoneConstraint:
    def is_satisfied_by(self, value):
        return value is None

    def __str__(self):
        return "None"


# numpy.random.RandomState takes integer seeds in [0, 2**32 - 1] only.
_MAX_SEED = 2**32 - 1


class _RandomState:
    def is_satisfied_by(self, value):
        return (
            value is None
            or isinstance(value, np.random.RandomState)
            or (
                isinstance(value, numbers.Integral)
                and not isinstance(value, bool)
                and 0 <= value <= _MAX_SEED
            )
        )

    def __str__(self):
        return (
            f"an int in the range [0, {_MAX_SEED}], a numpy.random.RandomState "
            "instance or None"
        )


class _Boolean:
    def is_satisfied_by(self, value):
        return isinstance(value, bool | np.bool_)

    def __str__(self):
        return "an instance of 'bool'"


class _ArrayLike:
    def is_satisfied_by(self, value):
        return (
            isinstance(value, np.ndarray | list | tuple)
            or sp.issparse(value)
            or hasattr(value, "__array__")
        )

    def __str__(self):
        return "an array-like"


class _Columns:
    """A selection of columns, as ColumnTransformer takes (checked in fit)."""

    def is_satisfied_by(self, value):
        if isinstance(value, bool | np.bool_):
            return False
        return isinstance(
            value, int | np.integer | str | slice | list | tuple
        ) or hasattr(value, "__array__")

    def __str__(self):
        return "an int, a str, a slice, or an array-like of ints, names or booleans"


NONE = _NoneConstraint()
COLUMNS = _Columns()
RANDOM_STATE = _RandomState()
BOOLEAN = _Boolean()
ARRAY_LIKE = _ArrayLike()


def validate_params(estimator, constraints):
    """Check each constructor parameter against a list of allowed constraints.

    Raises :class:`InvalidParameterError` with a message that names the
    parameter, the estimator and every accepted kind of value.
    """
    params = estimator.get_params(deep=False)
    for name, allowed in constraints.items():
        value = params[name]
        if any(c.is_satisfied_by(value) for c in allowed):
            continue
        if len(allowed) == 1:
            expected = str(allowed[0])
        else:
            expected = (
                ", ".join(str(c) for c in allowed[:-1]) + " or " + str(allowed[-1])
            )
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be "
            f"{expected}. Got {value!r} instead."
        )


# The largest total of sample weights accepted. The fits form sums of the
# weights times bounded statistics (0/1 entries, responsibilities, a few
# such sums added up); a margin of three orders of magnitude below the
# largest float (1.8e308) keeps them finite: every solver and start fitted
# totals of 1e306 without overflow, while random_from_data overflowed at 1e307.
_MAX_TOTAL_WEIGHT = 1e305


def check_sample_weight(sample_weight, n_samples, dtype=np.float64):
    """Validate frequency weights: finite, non-negative, not all zero.

    Returns a new float array of shape (n_samples,); the caller's array is
    never modified.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if sp.issparse(sample_weight):
        raise TypeError(
            "sample_weight must be a dense 1-D array-like, got a sparse matrix."
        )
    sw = np.asarray(sample_weight)
    if sw.dtype.kind not in "biuf":
        raise TypeError(
            f"sample_weight must be numeric, got an array of dtype {sw.dtype}."
        )
    if sw.ndim == 0:
        sw = np.full(n_samples, sw, dtype=dtype)
    if sw.ndim != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got an array of shape "
            f"{sw.shape}."
        )
    if sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == ({sw.shape[0]},), expected ({n_samples},): "
            "pass one weight per row of X."
        )
    sw = np.array(sw, dtype=dtype)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity; use finite weights.")
    if np.any(sw < 0):
        raise ValueError("Negative values in sample_weight are not allowed.")
    if not np.any(sw > 0):
        raise ValueError(
            "Sample weights must contain at least one non-zero number; "
            "all weights are zero."
        )
    # Frequency weights are added up (total weight, weighted counts, the
    # information matrix), so their sum must stay well inside the float
    # range. They are not rescaled here: an integer weight counts as that
    # many copies, and the total sets alpha's relative strength, the
    # information criteria and the standard errors.
    with np.errstate(over="ignore"):
        total = float(np.sum(sw, dtype=np.float64))
    if not total <= _MAX_TOTAL_WEIGHT:
        raise ValueError(
            f"sample_weight sums to {total:.3g}, beyond {_MAX_TOTAL_WEIGHT:.0e}, "
            "where sums over the weights overflow. Divide the weights by a "
            "common factor, e.g. sample_weight / sample_weight.max(): the "
            "proportions stay, and only the total weight changes (which alpha, "
            "the standard errors and the information criteria depend on)."
        )
    return sw


def check_weights(weights, n_components, name="weights_init"):
    """Validate user-given mixing weights: shape, finite, >= 0, sum to one."""
    if sp.issparse(weights):
        raise TypeError(f"{name} must be a dense array-like, got a sparse matrix.")
    w = np.asarray(weights)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got an array of dtype {w.dtype}.")
    w = np.array(w, dtype=np.float64)
    if w.shape != (n_components,):
        raise ValueError(
            f"{name} must have shape ({n_components},), one weight per component; "
            f"got shape {w.shape}."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative; got min value {w.min():.5g}.")
    if abs(w.sum() - 1.0) > 1e-6:
        raise ValueError(
            f"{name} must sum to 1 (they are mixing proportions); "
            f"got sum = {w.sum():.8g}. Divide by the sum to normalise."
        )
    return w / w.sum()


def check_probabilities(probs, name, shape=None):
    """Validate a 2-D array of Bernoulli success probabilities in [0, 1]."""
    if sp.issparse(probs):
        raise TypeError(f"{name} must be a dense array-like, got a sparse matrix.")
    p = np.asarray(probs)
    if p.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold numeric probabilities, got an array of dtype {p.dtype}."
        )
    p = np.array(p, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D of shape (n_components, n_features); "
            f"got {p.ndim}-D of shape {p.shape}."
        )
    if shape is not None and p.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got shape {p.shape}.")
    if p.size == 0:
        raise ValueError(f"{name} is empty; got shape {p.shape}.")
    if not np.all(np.isfinite(p)):
        raise ValueError(
            f"{name} contains NaN or infinity; probabilities must be in [0, 1]."
        )
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; got values in "
            f"[{p.min():.5g}, {p.max():.5g}]."
        )
    return p


def check_binary(X, what="X"):
    """Raise a clear error unless X (dense or sparse) holds only 0, 1 (or NaN).

    NaN entries are allowed here (missing values are handled by the caller).
    The message names the first other value and where it is, and the two
    ways to binarise: ``BernoulliMixture``'s own ``binarize=`` (which keeps
    NaN missing) and scikit-learn's ``Binarizer`` (which rejects NaN).
    """
    data = X.data if sp.issparse(X) else X
    bad = 0
    first = None
    # Blocks keep the temporary boolean arrays small on large inputs.
    flat = data.reshape(-1) if isinstance(data, np.ndarray) else np.asarray(data)
    step = 1 << 20
    for start in range(0, flat.shape[0], step):
        chunk = flat[start : start + step]
        is_bad = (chunk != 0) & (chunk != 1) & ~np.isnan(chunk)
        n_bad = np.count_nonzero(is_bad)
        if n_bad and first is None:
            first = start + int(np.argmax(is_bad))
        bad += n_bad
    if bad:
        if sp.issparse(X):
            row = int(np.searchsorted(X.indptr, first, side="right") - 1)
            column = int(X.indices[first])
        else:
            row, column = (int(i) for i in np.unravel_index(first, X.shape))
        raise ValueError(
            f"{what} must hold only 0 and 1 for Bernoulli components; found {bad} "
            f"other value(s), the first {float(flat[first]):g} at row {row}, column "
            f"{column}. Binarise the data first: BernoulliMixture does it "
            "itself with binarize=<threshold> (NaN stays missing); otherwise "
            "use sklearn.preprocessing.Binarizer(threshold=...), which rejects "
            "NaN."
        )


def sum_duplicates(X):
    """X with the duplicate entries of a sparse matrix added up, on a copy.

    A CSR matrix may store the same (row, column) entry more than once; its
    value is then the sum of the stored ones, as ``X.toarray()`` shows. The
    binary checks and ``binarize`` read the stored values, so they must see
    the sums: two stored ones at one place are a 2, which is not binary.
    Returns X itself when it is dense or holds no duplicates; the caller's
    matrix is never modified.
    """
    if not sp.issparse(X) or X.format not in ("csr", "csc"):
        return X
    if X.has_canonical_format:
        return X
    summed = X.copy()
    summed.sum_duplicates()
    return summed
