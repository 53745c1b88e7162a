"""``fit`` and ``partial_fit`` written once for every mixture whose components are learned."""

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._blocks import (
    Stats,
    add_stats,
    init_sample_size,
    row_blocks,
    zero_likelihood_error,
)
from ._covariates import (
    MAX_FULL_INFORMATION,
    LouisInformation,
    log_prior,
    newton_m_step,
    observed_information,
    profile_information,
    standard_errors,
    start_beta,
    with_intercept,
)
from ._dask import DaskData, is_dask_array, prepare_dask_array
from ._em import _MixtureBase, fit_em, keep_state_on_error
from ._engine import InMemoryData
from ._online import StepwiseState, current_state, record_step
from ._validation import (
    NonIdentifiableWarning,
    check_sample_weight,
    check_weights,
    validate_params,
    warn,
)
from ._xp import (
    XPData,
    check_not_combined,
    has_nan_xp,
    namespace_of,
    on_host,
    sample_weight_on,
)

#: Above this many free parameters, ``fit`` does not compute the standard
#: errors (their covariance matrix grows as the square of this number).
SE_MAX_PARAMETERS = 2000

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

    With the constructor parameter ``covariates`` set, the named columns of
    X are covariates of class membership (a multinomial logit, see
    ``_covariates.py``) and the others the items the family sees; the
    family itself is unchanged: its ``log_prob`` and ``resp_stats`` are all
    the covariate E-step needs.
    """

    # ------------------------------------------------------------------ fit

    @keep_state_on_error
    def fit(self, X, y=None, sample_weight=None):
        validate_params(self, self._parameter_constraints)
        if self.covariates is not None:
            return self._fit_with_covariates(X, sample_weight)
        self._forget_covariates()
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
        self._store_standard_errors(host_family, data, params)
        if family is not host_family:
            # Fitted on a device: the (NaN) errors live there too.
            self.weights_stderr_ = family.to_device(self.weights_stderr_)
            probs_se = self._probs_attr + "stderr_"
            setattr(self, probs_se, family.as_float64(getattr(self, probs_se)))
            n_free = host_family.n_parameters(self.weights_.shape[0])
            if self.covariance_ is None and n_free <= SE_MAX_PARAMETERS:
                # Not computed on the device: NaN there, of the shape the
                # errors have on the host.
                self.covariance_ = np.full((n_free, n_free), np.nan)
            if self.covariance_ is not None:
                self.covariance_ = family.to_device(self.covariance_)
        return self

    def _store_standard_errors(self, family, data, params):
        """``weights_stderr_``, the parameters' errors and ``covariance_``.

        Computed on the rows in memory with ``se_method``; NaN errors and
        ``covariance_ = None`` where they are not computed (``se_method=None``,
        more than ``SE_MAX_PARAMETERS`` free parameters, Dask input,
        partial_fit).
        """
        method = getattr(self, "se_method", None)
        n_free = family.n_parameters(self.weights_.shape[0])
        probs_se = self._probs_attr + "stderr_"
        if method is not None and n_free > SE_MAX_PARAMETERS:
            warn(
                f"The model has {n_free} free parameters, more than "
                f"{SE_MAX_PARAMETERS}: fit skips their standard errors (the "
                "covariance alone would take "
                f"{8 * n_free**2 / 1e6:.0f} MB), which stay NaN. Call "
                "sklearn_bernoulli_mix.standard_errors(model, X) to compute "
                "them anyway, or set se_method=None to skip them silently.",
                UserWarning,
            )
            method = None
        if method is None or not isinstance(data, InMemoryData):
            self.weights_stderr_ = np.full(self.weights_.shape, np.nan)
            setattr(self, probs_se, family.map_probs(params[1], np.nan))
            self.covariance_ = None
            self.parameter_names_ = family.parameter_names(self.weights_.shape[0])
            return
        probs = getattr(self, self._probs_attr)
        result = family.standard_errors(
            data.X, data.sample_weight, self.weights_, probs, method
        )
        self.weights_stderr_ = result.weights_stderr
        setattr(self, probs_se, result.probs_stderr)
        self.covariance_ = result.covariance
        self.parameter_names_ = list(result.parameter_names)

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
        X = self._validate_fit_X(X)
        if sample_weight is None:
            # Unit weights as a read-only view: no 8 bytes per row.
            sample_weight = np.broadcast_to(np.float64(1.0), (X.shape[0],))
        else:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        return self._in_memory_data(X, sample_weight)

    def _validate_fit_X(self, X):
        """Validated X for :meth:`fit` (a family may keep a compact dtype)."""
        return self._validate_X(X, reset=True)

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
        if self.covariates is not None or _has_covariates(self):
            raise ValueError(
                "partial_fit does not support covariates: the multinomial-logit "
                "M-step needs every row at once. Use fit (in memory), or set "
                "covariates=None and call fit to start a model without them."
            )
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
        params = family.m_step(state.stats * state.total_weight)
        self._store(family, params)
        self._store_standard_errors(family, None, params)
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
        n_components = self.weights_.shape[0]
        n_parameters = self._family.n_parameters(n_components)
        if _has_covariates(self):
            # The intercepts replace the free weights; the slopes come on top.
            n_parameters += (n_components - 1) * self.coef_.shape[1]
        return n_parameters

    def _sample_component(self, k, n, rng):
        if _has_covariates(self):
            raise ValueError(
                "sample is not defined for a model with covariates: class "
                "membership depends on the covariates of each row. Draw the "
                "classes from predict_proba of rows with their covariates, then "
                "the items of each class."
            )
        return self._family.sample(getattr(self, self._probs_attr), k, n, rng)

    # ----------------------------------------------------------- covariates

    def _forget_covariates(self):
        for name in _COVARIATE_ATTRIBUTES:
            self.__dict__.pop(name, None)

    def _fit_with_covariates(self, X, sample_weight):
        """EM for the items and the multinomial logit of class membership."""
        if is_dask_array(X):
            raise ValueError(
                "covariates are not supported when fitting a Dask array: fit "
                "the rows in memory (X.compute()), or set covariates=None."
            )
        previous = getattr(self, "_family", None)
        warm = self.warm_start and hasattr(self, "converged_")
        previous_beta = getattr(self, "_beta", None)
        X, Z = self._split_covariates(X, reset=True)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        data = InMemoryData(X, sample_weight)
        family = self._make_family(data, previous if warm else None)
        n_components = self.n_components
        if data.n_samples < n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = "
                f"{n_components}, n_samples = {data.n_samples}."
            )
        if not sample_weight.sum() > 0:
            raise ValueError(
                "Sample weights must contain at least one non-zero number; "
                "all weights are zero."
            )
        Z1 = with_intercept(Z)
        n_columns = Z1.shape[1]
        warm_params = None
        if warm:
            self._check_warm_start(family)
            weights, probs = family.clip(self.weights_, getattr(self, self._probs_attr))
            if previous_beta is not None and previous_beta.shape == (
                n_components,
                n_columns,
            ):
                warm_params = (previous_beta, probs)
            else:
                warm_params = (start_beta(weights, n_columns), probs)
        given = self._given_start(family)

        def initialize(random_state):
            weights, probs = self._start(family, data, given, random_state)
            return start_beta(weights, n_columns), probs

        def step(params):
            beta, probs = params
            stats, resp = covariate_e_step(family, data, Z1, beta, probs)
            _, new_probs = family.m_step(stats)
            new_beta = newton_m_step(Z1, beta, resp, data.sample_weight)
            return (new_beta, new_probs), stats.log_lik / stats.weight, None

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
        beta, probs = params
        sw = data.sample_weight
        with np.errstate(under="ignore"):
            prior = np.exp(log_prior(Z1, beta))
        self._store(family, (sw @ prior / sw.sum(), probs))
        self._stepwise = None
        self._beta = beta
        self.intercept_ = beta[:, 0].copy()
        self.coef_ = beta[:, 1:].copy()
        self.n_covariates_ = Z.shape[1]
        info = covariate_information(family, data, Z1, beta, probs)
        stderr, unidentified = standard_errors(info, n_components, n_columns)
        self.intercept_stderr_ = stderr[:, 0]
        self.coef_stderr_ = stderr[:, 1:]
        # The item parameters' errors under covariates are not computed yet.
        self._store_standard_errors(family, None, (None, probs))
        if unidentified.any():
            names = self._covariate_names()
            labels = [
                f"intercept_[{k}]"
                if j == 0
                else f"coef_[{k}, {j - 1}] ({names[j - 1]})"
                for k, j in np.argwhere(unidentified)
            ]
            warn(
                "The data do not identify "
                + ", ".join(labels[:10])
                + (f" and {len(labels) - 10} more" if len(labels) > 10 else "")
                + ": a covariate constant over the rows, collinear covariates, "
                "or an empty class. Their standard errors are NaN.",
                NonIdentifiableWarning,
            )
        return self

    def _covariate_names(self):
        """Names of the covariate columns (their column indices without names)."""
        names = getattr(self, "feature_names_in_", None)
        columns = self._covariate_columns
        if names is None:
            return [f"column {c}" for c in columns]
        return [str(names[c]) for c in columns]

    def _split_covariates(self, X, reset):
        """``(items validated by the family, covariates (rows, n_cov) float64)``.

        Checks the full X's number of columns (and names) as ``validate_data``
        does, so that ``n_features_in_`` and ``feature_names_in_`` describe
        every column of X; the family validates the item columns with the
        item columns' count and names in place.
        """
        if sp.issparse(X):
            X = sp.csr_matrix(X)
        elif not hasattr(X, "iloc"):
            X = np.asarray(X)
            if X.ndim != 2:
                raise ValueError(
                    f"Expected a 2D array of items and covariates, got an array "
                    f"of shape {X.shape}. Reshape your data."
                )
        validate_data(self, X, skip_check_array=True, reset=reset)
        n_columns = self.n_features_in_
        names = getattr(self, "feature_names_in_", None)
        if reset:
            covariates = _covariate_columns(self.covariates, n_columns, names)
            self._covariate_columns = covariates
            self._item_columns = np.setdiff1d(np.arange(n_columns), covariates)
        covariates, items = self._covariate_columns, self._item_columns
        if hasattr(X, "iloc"):
            item_part, Z = X.iloc[:, items], X.iloc[:, covariates]
        else:
            item_part, Z = X[:, items], X[:, covariates]
        Z = self._check_covariate_values(Z)
        if not reset:
            self.n_features_in_ = items.shape[0]
            if names is not None:
                self.feature_names_in_ = names[items]
        try:
            item_part = self._validate_X(item_part, reset=reset)
        finally:
            self.n_features_in_ = n_columns
            if names is not None:
                self.feature_names_in_ = names
            else:
                self.__dict__.pop("feature_names_in_", None)
        if item_part.shape[0] != Z.shape[0]:  # pragma: no cover - same rows
            raise ValueError("The items and the covariates have different rows.")
        return item_part, Z

    def _check_covariate_values(self, Z):
        """The covariate columns as float64: numeric and finite, or an error."""
        try:
            if hasattr(Z, "to_numpy"):
                Z = Z.to_numpy(dtype=np.float64, na_value=np.nan)
            elif sp.issparse(Z):
                Z = Z.toarray().astype(np.float64)
            else:
                Z = np.array(Z, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "The covariate columns of X must be numeric; encode categorical "
                "covariates first (e.g. with sklearn.preprocessing.OneHotEncoder, "
                f"dropping one level): {exc}"
            ) from exc
        bad = ~np.isfinite(Z)
        if bad.any():
            row, j = np.argwhere(bad)[0]
            names = self._covariate_names()
            raise ValueError(
                f"Covariate {names[j]} holds a missing or infinite value (row "
                f"{row}; {int(bad.sum())} such value(s) in the covariates). "
                "Covariates with missing values are not supported (only the "
                "items may be missing): impute them, e.g. with "
                "sklearn.impute.SimpleImputer, or drop those rows."
            )
        return Z

    def _predict_input(self, X, method="predict"):
        if not _has_covariates(self):
            return super()._predict_input(X, method)
        check_is_fitted(self)
        X, Z = self._split_covariates(X, reset=False)
        return X, log_prior(with_intercept(Z), self._beta)


#: Fitted attributes of a model with covariates (removed by a fit without).
_COVARIATE_ATTRIBUTES = (
    "coef_",
    "intercept_",
    "coef_stderr_",
    "intercept_stderr_",
    "n_covariates_",
    "_beta",
    "_covariate_columns",
    "_item_columns",
)


def _has_covariates(estimator):
    return getattr(estimator, "_beta", None) is not None


def _covariate_columns(spec, n_columns, names):
    """Indices of the covariate columns named by ``spec``, as ColumnTransformer.

    ``spec`` is an int, a str, a slice, or an array-like of ints, of column
    names (X a DataFrame) or a boolean mask over the columns.
    """
    if isinstance(spec, slice):
        index = np.arange(n_columns)[spec]
    else:
        values = np.atleast_1d(np.asarray(spec, dtype=object))
        if values.ndim != 1:
            raise ValueError(
                f"covariates must be one-dimensional; got shape {values.shape}."
            )
        kinds = {_column_key_kind(v) for v in values}
        if len(kinds) > 1:
            raise TypeError(
                "covariates must be all ints, all column names or a boolean "
                f"mask; got a mix: {spec!r}."
            )
        kind = kinds.pop() if kinds else "int"
        if kind == "bool":
            if values.shape[0] != n_columns:
                raise ValueError(
                    f"A boolean mask for covariates needs one entry per column of "
                    f"X ({n_columns}); got {values.shape[0]}."
                )
            index = np.flatnonzero(values.astype(bool))
        elif kind == "int":
            index = values.astype(np.intp)
            out = (index < -n_columns) | (index >= n_columns)
            if out.any():
                raise ValueError(
                    f"covariates names column {int(index[out][0])}, but X has "
                    f"{n_columns} columns."
                )
            index = index % n_columns
        elif kind == "str":
            if names is None:
                raise ValueError(
                    "covariates names columns by name, which needs X as a pandas "
                    "DataFrame with string column names; give column indices "
                    "or a boolean mask for an array."
                )
            position = {name: j for j, name in enumerate(names)}
            unknown = [v for v in values if v not in position]
            if unknown:
                raise ValueError(
                    f"covariates names column(s) {unknown} that X does not have; "
                    f"its columns are {list(names)}."
                )
            index = np.array([position[v] for v in values], dtype=np.intp)
        else:
            raise TypeError(
                "covariates must be None, an int, a str, a slice, or an "
                "array-like of ints, of column names or of booleans; got "
                f"{spec!r}."
            )
    index = np.asarray(index, dtype=np.intp)
    if index.size == 0:
        raise ValueError(
            "covariates selects no column of X; give at least one, or "
            "covariates=None for the model without covariates."
        )
    if np.unique(index).size != index.size:
        raise ValueError(f"covariates names a column twice: {spec!r}.")
    if index.size >= n_columns:
        raise ValueError(
            f"covariates selects all {n_columns} columns of X, leaving no item "
            "for the mixture; the items are the columns not named."
        )
    return np.sort(index)


def _column_key_kind(value):
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, str):
        return "str"
    return "other"


def covariate_e_step(family, data, Z1, beta, probs):
    """E-step with a prior of its own for every row.

    The family gives the per-component log-likelihoods of the items and
    the M statistics of given responsibilities; the per-row log priors of
    the multinomial logit take the place of the log weights. Returns the
    statistics (with the log-likelihood) and the responsibilities
    (rows, n_components), which the logit M-step needs row by row.
    """
    n_components = beta.shape[0]
    prepared = family.prepare((np.full(n_components, 1.0 / n_components), probs))
    X, sw = data.X, data.sample_weight
    resp = np.empty((X.shape[0], n_components))
    parts, log_lik = [], 0.0
    for rows in row_blocks(X, n_components):
        joint = np.asarray(family.log_prob(X[rows], prepared), dtype=np.float64)
        joint += log_prior(Z1[rows], beta)
        log_norm = logsumexp(joint, axis=1)
        impossible = np.flatnonzero(~np.isfinite(log_norm))
        if impossible.size:
            raise zero_likelihood_error(impossible, rows.start)
        with np.errstate(under="ignore"):
            block = np.exp(joint - log_norm[:, None])
        resp[rows] = block
        parts.append(family.resp_stats(X[rows], block, sw[rows]))
        log_lik += float(sw[rows] @ log_norm)
    return add_stats(*parts) + Stats(log_lik=log_lik), resp


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


def covariate_information(family, data, Z1, beta, probs):
    """Observed information of the logit coefficients ``beta[1:]`` at the fit.

    Louis' formula for every parameter (coefficients and item
    probabilities), then the coefficients' profile (Schur complement), so
    that their standard errors account for the item probabilities being
    estimated too. Above :data:`MAX_FULL_INFORMATION` parameters, the
    information with the item probabilities held fixed instead.
    """
    n_components, n_columns = beta.shape
    X, sw = data.X, data.sample_weight
    flat = family.indicator_probs(probs)
    louis = LouisInformation(n_columns, flat, family.indicator_offsets)
    full = louis.n_parameters <= MAX_FULL_INFORMATION
    _, resp = covariate_e_step(family, data, Z1, beta, probs)
    if not full:
        return observed_information(Z1, beta, resp, sw)
    for rows in row_blocks(X, louis.n_parameters):
        with np.errstate(under="ignore"):
            prior = np.exp(log_prior(Z1[rows], beta))
        answers, observed = family.indicators(X[rows])
        louis.add(Z1[rows], prior, resp[rows], sw[rows], answers, observed)
    return profile_information(louis.matrix(), louis.n_beta)
