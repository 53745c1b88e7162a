"""``fit`` and ``partial_fit`` written once for every mixture whose components are learned."""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.utils import check_random_state

from ._blocks import add_stats, init_sample_size, row_blocks
from ._dask import DaskData, is_dask_array, prepare_dask_array
from ._em import _MixtureBase, fit_em, keep_state_on_error
from ._engine import InMemoryData
from ._online import StepwiseState, current_state, record_step
from ._validation import check_sample_weight, check_weights, validate_params
from ._xp import (
    XPData,
    check_not_combined,
    has_nan_xp,
    namespace_of,
    on_host,
    sample_weight_on,
)

#: Pseudo-count added to the starting M-step (a Dirichlet(1 + 1) prior on top
#: of ``alpha``): starting probabilities are never exactly 0 or 1, where EM
#: with ``alpha=0`` would stay.
START_SMOOTHING = 1.0

# Random starting responsibilities are drawn this many rows at a time, so the
# stream of numbers (and the start) does not depend on how X is stored.
_RANDOM_CHUNK = 4096

#: Above this many entries, the k-means rows of a sparse X stay sparse; below
#: they are densified so that dense and sparse copies of X start alike.
_KMEANS_DENSE_ENTRIES = 1 << 24


class _LearnedMixture(_MixtureBase):
    """Mixture whose weights and component parameters are learned by EM.

    A subclass names its family and its parameters and validates its input:

    - ``_probs_attr`` / ``_probs_init_param``: the fitted attribute and the
      constructor parameter of the component parameters (``"means_"`` and
      ``"means_init"`` for the Bernoulli family);
    - ``_validate_X(X, reset)``: the validated array (in memory);
    - ``_make_family(data, previous)``: the family for this data (given the
      previous family on a warm start or a later ``partial_fit``);
    - ``_in_memory_data(X, sample_weight)``: the data object of validated X
      (e.g. with identical rows collapsed).
    """

    # ------------------------------------------------------------------ fit

    @keep_state_on_error
    def fit(self, X, y=None, sample_weight=None):
        validate_params(self, self._parameter_constraints)
        data = self._data(X, sample_weight)
        previous = getattr(self, "_family", None)
        warm = self.warm_start and hasattr(self, "converged_")
        host_family = self._make_family(data, previous if warm else None)
        xp = getattr(data, "xp", None)
        # Array API data: the EM passes run in its namespace, on its device;
        # the initialisation runs on the host family.
        family = (
            host_family if xp is None else host_family.in_namespace(xp, data.device)
        )
        n_components = self.n_components
        if data.n_samples < n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = "
                f"{n_components}, n_samples = {data.n_samples}."
            )
        if warm:
            self._check_warm_start(family)
        given = self._given_start(family)

        def initialize(random_state):
            return self._start(host_family, data, given, random_state)

        def step(params):
            stats = data.total(family, family.prepare(params))
            if not stats.weight > 0:
                raise ValueError(
                    "Sample weights must contain at least one non-zero number; "
                    "all weights are zero."
                )
            return family.m_step(stats), stats.log_lik / stats.weight, None

        warm_params = None
        if warm:
            warm_params = family.clip(self.weights_, getattr(self, self._probs_attr))
        params, _ = fit_em(
            self,
            initialize=initialize,
            step=step,
            is_converged=lambda change, info: abs(change) < self.tol,
            n_init=self.n_init,
            warm_start_params=warm_params,
            warm_start_lower_bound=self.lower_bound_ if warm else -np.inf,
            unconverged_message=lambda info: (
                "Best performing initialization did not converge. Try different "
                "init parameters, or increase max_iter, tol, or check for "
                "degenerate data."
            ),
        )
        self._store(family, params)
        self._stepwise = None
        return self

    def _data(self, X, sample_weight):
        """The data object for X: Dask chunks, or validated rows in memory.

        Sets ``n_features_in_`` (and ``feature_names_in_``) as validation
        does; a failing fit restores them.
        """
        if is_dask_array(X):
            check_not_combined(X)
            X = prepare_dask_array(X)
            validator = self._block_validator(X.shape[1])
            return DaskData(
                X,
                sample_weight,
                validate_block=validator._validate_block,
                convert_block=validator._convert_block,
                owner=self,
            )
        namespace = namespace_of(X)
        if namespace is not None:
            xp, device = namespace
            X = self._validate_X_xp(X, reset=True, xp=xp)
            sw, sw_host = sample_weight_on(xp, device, sample_weight, X.shape[0])
            return XPData(X, sw, sw_host, has_missing=has_nan_xp(xp, X))
        X = self._validate_X(X, reset=True)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        return self._in_memory_data(X, sample_weight)

    def _block_validator(self, n_features):
        """An unfitted copy of the estimator that validates blocks as fit would."""
        from sklearn.base import clone

        validator = clone(self)
        validator.n_features_in_ = n_features
        return validator

    def _validate_block(self, X):
        """Full validation of one Dask chunk (once per fit)."""
        return self._validate_X(X, reset=False)

    def _convert_block(self, X):
        """Light conversion of a block already validated once in this fit."""
        return self._validate_X(X, reset=False)

    def _check_warm_start(self, family):
        fitted = getattr(self, self._probs_attr)
        n_fitted = self.weights_.shape[0]
        if not family.same_shape(self._family) or n_fitted != self.n_components:
            raise ValueError(
                "warm_start=True continues from the previous fit, which had "
                f"{self._family.describe()} and {n_fitted} components; got "
                f"{family.describe()} and n_components={self.n_components}. Set "
                "warm_start=False to start anew."
            )
        return fitted

    def _given_start(self, family):
        """``(weights, probs)`` given by the user, each validated or None."""
        weights = probs = None
        if self.weights_init is not None:
            weights = check_weights(on_host(self.weights_init), self.n_components)
        probs_init = on_host(getattr(self, self._probs_init_param))
        if probs_init is not None:
            probs = family.check_probs(
                probs_init, self.n_components, self._probs_init_param
            )
        return weights, probs

    def _start(self, family, data, given, random_state):
        """Starting parameters: the given ones, completed by ``init_params``."""
        weights, probs = given
        if weights is None or probs is None:
            if self.init_params == "random_params":
                w_start, p_start = family.random_params(self.n_components, random_state)
            else:
                size = init_sample_size(data.n_samples, self.n_components)
                X, sw = data.init_rows(size, random_state)
                stats = starting_stats(
                    family, self.init_params, X, sw, self.n_components, random_state
                )
                w_start, p_start = family.m_step(stats, smoothing=START_SMOOTHING)
            weights = w_start if weights is None else weights
            probs = p_start if probs is None else probs
        return family.clip(weights, probs)

    # ---------------------------------------------------------- partial_fit

    @keep_state_on_error
    def partial_fit(self, X, y=None, sample_weight=None):
        validate_params(self, self._parameter_constraints)
        if namespace_of(X) is not None:
            raise TypeError(
                "partial_fit takes NumPy arrays (or anything NumPy converts); "
                "Array API input is fitted with fit. Give the batches as NumPy "
                "arrays, or fit on the whole array."
            )
        fitted = hasattr(self, "weights_")
        if fitted and self.weights_.shape[0] != self.n_components:
            raise ValueError(
                "partial_fit continues the current model, which has "
                f"{self.weights_.shape[0]} components, but n_components="
                f"{self.n_components}. Call fit, or fit a clone, to start anew."
            )
        X = self._validate_X(X, reset=not fitted)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        data = InMemoryData(X, sample_weight)
        family = self._make_family(data, self._family if fitted else None)
        if fitted:
            starts = [family.clip(self.weights_, getattr(self, self._probs_attr))]
        else:
            starts = self._batch_starts(family, data)
        best = None
        for params in starts:
            # Of several starts, keep the one whose parameters explain the
            # batch best (as fit with max_iter=1 would).
            stats = data.total(family, family.prepare(params))
            if best is None or stats.log_lik > best.log_lik:
                best = stats
        batch_weight = best.weight
        normalised = best * (1.0 / batch_weight)
        state = current_state(self, self.weights_) if fitted else None
        continued = state is not None
        if continued:
            state.update(
                normalised, batch_weight, self.learning_offset, self.learning_decay
            )
        else:
            state = StepwiseState(normalised, batch_weight)
        self._store(family, family.m_step(state.stats * state.total_weight))
        state.owner = self.weights_
        record_step(self, state, normalised.log_lik, continued)
        return self

    def _batch_starts(self, family, data):
        """The `n_init` starts that ``fit`` would draw, from the first batch."""
        given = self._given_start(family)
        if given[0] is not None and given[1] is not None:
            return [family.clip(*given)]
        if data.n_samples < self.n_components and self.init_params != "random_params":
            raise ValueError(
                "The first batch of partial_fit initialises the model with "
                f"init_params={self.init_params!r} and needs at least "
                f"n_components={self.n_components} rows; got {data.n_samples}. "
                f"Give a larger first batch, or both weights_init and "
                f"{self._probs_init_param}."
            )
        random_state = check_random_state(self.random_state)
        return [
            self._start(family, data, given, random_state) for _ in range(self.n_init)
        ]

    # ---------------------------------------------------------- predictions

    def _store(self, family, params):
        weights, probs = params
        host = getattr(family, "host", None)
        if host is not None:
            # Fitted on the device: the attributes are arrays of its namespace.
            self._family = host
            self.weights_ = family.to_device(weights)
        else:
            self._family = family
            self.weights_ = np.asarray(weights, dtype=np.float64)
        setattr(self, self._probs_attr, family.as_float64(probs))

    def _prepared(self):
        return self._family.for_prediction().prepare(
            (self.weights_, getattr(self, self._probs_attr))
        )

    def _estimate_log_prob(self, X):
        family = self._family.for_prediction()
        prepared = self._prepared()
        out = np.empty((X.shape[0], self.weights_.shape[0]))
        for rows in row_blocks(X, self.weights_.shape[0]):
            out[rows] = family.log_prob(X[rows], prepared)
        return out

    def _log_prob_function(self, xp, device):
        """Per-component log-likelihoods of Array API blocks, in ``xp``."""
        family = self._family.for_prediction().in_namespace(xp, device)
        prepared = family.prepare((self.weights_, getattr(self, self._probs_attr)))
        return lambda Xb: family.log_prob(Xb, prepared)

    def _n_parameters(self):
        return self._family.n_parameters(self.weights_.shape[0])

    def _sample_component(self, k, n, rng):
        return self._family.sample(getattr(self, self._probs_attr), k, n, rng)


# --------------------------------------------------------------------------
# Starting statistics, for every family
# --------------------------------------------------------------------------


def _one_hot(labels, n_components, dtype):
    resp = np.zeros((labels.shape[0], n_components), dtype=dtype)
    resp[np.arange(labels.shape[0]), labels] = 1
    return resp


def _labels_stats(family, X, labels, sample_weight, n_components):
    return add_stats(
        *(
            family.resp_stats(
                X[rows],
                _one_hot(labels[rows], n_components, family.dtype),
                sample_weight[rows],
            )
            for rows in row_blocks(X, n_components)
        )
    )


def _kmeans_rows(n_samples, n_components, random_state):
    """Indices of the rows k-means sees: all of them, or a random subset."""
    size = init_sample_size(n_samples, n_components)
    if n_samples <= size:
        return np.arange(n_samples)
    return np.sort(random_state.choice(n_samples, size=size, replace=False))


def _kmeans_input(family, X):
    """The family's numeric view of rows for k-means, dense when small.

    A dense and a sparse copy of the same rows give the same view, so that
    the storage format of X never changes the start.
    """
    view = family.kmeans_view(X)
    if hasattr(view, "toarray") and view.shape[0] * view.shape[1] <= (
        _KMEANS_DENSE_ENTRIES
    ):
        view = view.toarray()
    return view


def starting_stats(family, init_params, X, sample_weight, n_components, rng):
    """Sufficient statistics of the starting responsibilities of ``init_params``.

    Never builds the (n_samples, n_components) responsibility matrix:
    one-hot starts use the chosen rows or labels, and random ones are drawn
    in fixed-size chunks of rows.
    """
    n_samples = X.shape[0]
    if init_params == "random_from_data":
        positive = np.flatnonzero(sample_weight > 0)
        # Rows of zero weight are not data: draw the starting rows among the
        # others (all of them when fewer have weight than components).
        pool = positive if positive.size >= n_components else np.arange(n_samples)
        chosen = rng.choice(pool, size=n_components, replace=False)
        resp = np.eye(n_components, dtype=family.dtype)
        return family.resp_stats(X[chosen], resp, sample_weight[chosen])
    if init_params == "k-means++":
        rows = _kmeans_rows(n_samples, n_components, rng)
        _, chosen = kmeans_plusplus(
            _kmeans_input(family, X[rows]),
            n_components,
            sample_weight=sample_weight[rows],
            random_state=rng,
        )
        chosen = rows[chosen]
        resp = np.eye(n_components, dtype=family.dtype)
        return family.resp_stats(X[chosen], resp, sample_weight[chosen])
    if init_params == "kmeans":
        rows = _kmeans_rows(n_samples, n_components, rng)
        kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=rng)
        kmeans.fit(_kmeans_input(family, X[rows]), sample_weight=sample_weight[rows])
        if rows.size == n_samples:
            labels = kmeans.labels_
        else:
            labels = _nearest_centre(family, X, kmeans.cluster_centers_)
        return _labels_stats(family, X, labels, sample_weight, n_components)
    # "random": random row-normalised responsibilities.
    parts = []
    for start in range(0, n_samples, _RANDOM_CHUNK):
        rows = slice(start, min(start + _RANDOM_CHUNK, n_samples))
        resp = rng.uniform(size=(rows.stop - rows.start, n_components))
        resp /= resp.sum(axis=1, keepdims=True)
        parts.append(
            family.resp_stats(X[rows], resp.astype(family.dtype), sample_weight[rows])
        )
    return add_stats(*parts)


def _nearest_centre(family, X, centres):
    """Label of the nearest centre of every row, block by block."""
    labels = np.empty(X.shape[0], dtype=np.intp)
    centre_sq = (centres**2).sum(axis=1)
    for rows in row_blocks(X, centres.shape[0]):
        block = _kmeans_input(family, X[rows])
        # |x - c|^2 up to the row's own |x|^2, which does not change the argmin.
        dist = centre_sq - 2 * np.asarray(block @ centres.T)
        labels[rows] = dist.argmin(axis=1)
    return labels
