"""Turning the ``components`` parameter into a per-component log-likelihood."""

import copy
import inspect
import numbers
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from scipy import stats
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._bernoulli import BernoulliFamily, bernoulli_log_likelihood
from ._blocks import row_blocks
from ._validation import check_probabilities
from ._xp import XP_BLOCK_ENTRIES, float_dtype

FORMS_HELP = (
    "components must be one of: (1) an array-like of shape (n_components, "
    "n_features) of Bernoulli success probabilities in [0, 1], e.g. "
    "[[0.8], [0.3]]; (2) a sequence of distributions, one per component: frozen "
    "scipy.stats distributions, fitted scikit-learn density estimators (with "
    "score_samples), or callables mapping X to log-densities of shape "
    "(n_samples,); (3) the string 'precomputed', when X itself is the "
    "(n_samples, n_components) matrix of log-likelihoods."
)


def _is_estimator(obj):
    return hasattr(obj, "score_samples") and hasattr(obj, "get_params")


def _is_univariate_scipy(obj):
    return isinstance(
        getattr(obj, "dist", None), stats.rv_continuous | stats.rv_discrete
    )


def _takes_columns(obj):
    """True for frozen scipy distributions that want samples as columns.

    ``scipy.stats.dirichlet`` is the one multivariate distribution of scipy
    whose ``logpdf`` reads an array of shape (n_features, n_samples), with
    the components of each sample along the first axis; every other one
    takes one sample per row, as X has them.
    """
    return isinstance(getattr(obj, "_dist", None), type(stats.dirichlet))


def _is_distribution(obj):
    return (
        _is_estimator(obj)
        or hasattr(obj, "logpdf")
        or hasattr(obj, "logpmf")
        or callable(obj)
    )


class BernoulliComponents:
    """Components given as Bernoulli success probabilities."""

    kind = "bernoulli"
    accept_sparse = True
    can_sample = True

    def __init__(self, probs):
        self.probs = probs
        self.n_components = probs.shape[0]
        self.n_features = probs.shape[1]

    def log_likelihood(self, X):
        if X.shape[1] != self.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the Bernoulli components have "
                f"{self.n_features} (components has shape {self.probs.shape})."
            )
        return bernoulli_log_likelihood(X, self.probs)

    def log_likelihood_xp(self, X, xp, device):
        """:meth:`log_likelihood` of an Array API X, in ``xp`` on its device."""
        if X.shape[1] != self.n_features:
            self.log_likelihood(np.empty((0, X.shape[1])))
        family = BernoulliFamily(self.n_features).in_namespace(xp, device)
        prepared = family.prepare((np.ones(self.n_components), self.probs))
        blocks = row_blocks(X, self.n_components, block_entries=XP_BLOCK_ENTRIES)
        return xp.concat(
            [family.log_prob(X[rows, ...], prepared) for rows in blocks], axis=0
        )

    def sample(self, k, n, n_features, rng):
        return (rng.random_sample((n, self.n_features)) < self.probs[k]).astype(
            np.float64
        )


class DistributionComponents:
    """Components given as distribution objects, estimators or callables."""

    kind = "distributions"
    accept_sparse = False

    def __init__(self, items):
        self.items = items
        self.n_components = len(items)
        self.n_features = None

    @property
    def can_sample(self):
        return all(
            _is_univariate_scipy(c) or hasattr(c, "rvs") or hasattr(c, "sample")
            for c in self.items
        )

    def check_fitted(self):
        for k, comp in enumerate(self.items):
            if _is_estimator(comp):
                try:
                    check_is_fitted(comp)
                except NotFittedError as exc:
                    raise NotFittedError(
                        f"Component {k} ({type(comp).__name__}) is not fitted. "
                        "Components are known likelihoods, not models to refit: "
                        "fit the estimator first, and wrap it in "
                        "sklearn.frozen.FrozenEstimator if it is cloned elsewhere."
                    ) from exc

    def _one(self, k, comp, X):
        try:
            if _is_estimator(comp):
                out = comp.score_samples(X)
            elif _is_univariate_scipy(comp):
                if isinstance(comp.dist, stats.rv_discrete):
                    out = comp.logpmf(X).sum(axis=1)
                else:
                    out = comp.logpdf(X).sum(axis=1)
            elif _takes_columns(comp):
                # scipy.stats.dirichlet reads one sample per column.
                out = comp.logpdf(X.T)
            elif hasattr(comp, "logpdf") or hasattr(comp, "logpmf"):
                fn = comp.logpdf if hasattr(comp, "logpdf") else comp.logpmf
                out = fn(X)
            else:
                out = comp(X)
            out = np.asarray(out)
        except Exception as exc:  # a component's own failure, shown with context
            raise ValueError(
                f"Component {k} ({_short_repr(comp)}) could not evaluate the "
                f"log-likelihood of X with shape {X.shape}: {exc}"
            ) from exc
        if out.dtype.kind not in "biuf":
            raise ValueError(
                f"Component {k} ({_short_repr(comp)}) returned values of dtype "
                f"{out.dtype}; a component must return real log-likelihoods."
            )
        out = out.astype(np.float64, copy=False)
        if out.size == X.shape[0]:
            out = out.reshape(X.shape[0])
        if out.shape != (X.shape[0],):
            raise ValueError(
                f"Component {k} ({_short_repr(comp)}) returned log-likelihoods of "
                f"shape {out.shape}; expected ({X.shape[0]},), one per row of X."
            )
        bad = np.flatnonzero(np.isnan(out) | (out == np.inf))
        if bad.size:
            raise ValueError(
                f"Component {k} ({_short_repr(comp)}) returned a NaN or +inf "
                f"log-likelihood for row {int(bad[0])} of X; a component must give "
                "each row a log-density that is finite or -inf."
            )
        return out

    def log_likelihood(self, X):
        log_lik = np.empty((X.shape[0], self.n_components))
        for k, comp in enumerate(self.items):
            log_lik[:, k] = self._one(k, comp, X)
        return log_lik

    def sample(self, k, n, n_features, rng):
        comp = self.items[k]
        if _is_univariate_scipy(comp):
            return np.asarray(
                comp.rvs(size=(n, n_features), random_state=rng), dtype=np.float64
            )
        if hasattr(comp, "rvs"):
            draws = np.asarray(comp.rvs(size=n, random_state=rng), dtype=np.float64)
            return draws.reshape(n, -1)
        if hasattr(comp, "sample"):
            params = inspect.signature(comp.sample).parameters
            if "random_state" in params:
                draws = comp.sample(n, random_state=rng)
            else:
                # Such estimators draw from their own random_state: seed a
                # copy from rng so the mixture's draw is reproducible and
                # components sharing a seed do not draw the same noise.
                draws = _seeded_copy(comp, rng.randint(np.iinfo(np.int32).max)).sample(
                    n
                )
            if isinstance(draws, tuple):
                draws = draws[0]
            return np.asarray(draws, dtype=np.float64).reshape(n, -1)
        raise ValueError(
            f"Component {k} ({_short_repr(comp)}) cannot draw samples: sampling "
            "needs Bernoulli probabilities, scipy distributions (rvs) or "
            "estimators with a sample method."
        )


class PrecomputedComponents:
    """X itself is the matrix of per-component log-likelihoods."""

    kind = "precomputed"
    accept_sparse = False
    can_sample = False
    n_features = None

    def __init__(self):
        self.n_components = None

    def log_likelihood(self, X):
        return np.array(X, dtype=np.float64)

    def log_likelihood_xp(self, X, xp, device):
        return xp.astype(X, float_dtype(xp, device))

    def sample(self, k, n, n_features, rng):
        raise ValueError(
            "A mixture with components='precomputed' cannot draw samples: it only "
            "knows the log-likelihoods it was given."
        )


def _seeded_copy(estimator, seed):
    """A deep copy of ``estimator`` whose (possibly wrapped) random_state is seed."""
    copied = copy.deepcopy(estimator)
    target = copied
    while target is not None:
        if "random_state" in getattr(target, "__dict__", {}):
            target.random_state = seed
            break
        target = getattr(target, "estimator", None)
    return copied


def _short_repr(obj, limit=60):
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def resolve_components(components):
    """Check ``components`` and return the object that evaluates it.

    The parameter itself is never modified or stored elsewhere.
    """
    if components is None:
        raise ValueError(
            "components=None: the component likelihoods must be given. " + FORMS_HELP
        )
    if isinstance(components, str):
        if components == "precomputed":
            return PrecomputedComponents()
        raise ValueError(f"Unknown components={components!r}. " + FORMS_HELP)
    if sp.issparse(components):
        return BernoulliComponents(check_probabilities(components, "components"))
    if _is_distribution(components) and not isinstance(components, np.ndarray):
        raise TypeError(
            f"components is a single {type(components).__name__}; pass a sequence "
            "with one distribution per component. " + FORMS_HELP
        )
    if isinstance(components, Iterator):
        # A generator or other one-pass iterator would be used up by the
        # first fit (and by this check), leaving later calls with nothing.
        raise TypeError(
            f"components is a one-pass iterator ({type(components).__name__}); "
            "it is read at every fit and prediction, so pass a list instead, "
            "e.g. components=list(...). " + FORMS_HELP
        )
    if _is_numeric_table(components):
        # A pandas DataFrame (or any 2-D array-like with named columns) of
        # probabilities: iterating over it would give its column names.
        return _bernoulli_from_array(np.asarray(components))
    try:
        items = list(components)
    except TypeError:
        raise TypeError(
            f"components of type {type(components).__name__} is not supported. "
            + FORMS_HELP
        ) from None
    if not items:
        raise ValueError(
            "components is empty: give at least one component. " + FORMS_HELP
        )
    is_dist = [_is_distribution(c) for c in items]
    if all(is_dist):
        return DistributionComponents(items)
    if any(is_dist):
        raise TypeError(
            "components mixes distributions and numbers; use one form. " + FORMS_HELP
        )
    if not all(isinstance(c, numbers.Real) or np.ndim(c) > 0 for c in items):
        raise TypeError(
            f"components holds objects of type {type(items[0]).__name__}. " + FORMS_HELP
        )
    return _bernoulli_from_array(components)


def _is_numeric_table(obj):
    """True for a 2-D array-like that is not a plain sequence (a DataFrame)."""
    if isinstance(obj, np.ndarray | list | tuple) or not hasattr(obj, "__array__"):
        return False
    return getattr(obj, "ndim", None) == 2


def _bernoulli_from_array(components):
    try:
        probs = check_probabilities(components, "components")
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} {FORMS_HELP}") from None
    return BernoulliComponents(probs)
