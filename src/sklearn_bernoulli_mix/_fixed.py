"""Mixtures of known component distributions: only the mixing weights are learned."""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import validate_data

from ._blocks import unique_binary_rows, zero_likelihood_error
from ._components import resolve_components
from ._dask import DaskLikelihood, is_dask_array
from ._em import _MixtureBase, fit_em, keep_state_on_error
from ._intervals import _WeightsIntervalMixin
from ._online import fixed_partial_fit
from ._solvers import (
    covariance_from_information,
    em_step,
    free_jacobian,
    sqp_step,
    sqp_step_reduced,
    squarem_step,
    store_weights_covariance,
    weights_covariance,
)
from ._validation import (
    ARRAY_LIKE,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_binary,
    check_sample_weight,
    check_weights,
    sum_duplicates,
    validate_params,
)
from ._xp import (
    check_binary_xp,
    check_not_combined,
    float_dtype,
    namespace_of,
    on_host,
    sample_weight_on,
    to_numpy,
    validate_floats,
)

# Each solver step maps weights to (new weights, scaled mean log-likelihood of
# the incoming weights, certified bound on their optimality gap).
_SOLVER_STEPS = {"em": em_step, "squarem": squarem_step, "sqp": sqp_step}


def run_fixed_em(estimator, initialize, step):
    """Iterate a weights ``step`` until the certified gap reaches ``tol``.

    Shared by the in-memory and the Dask fits; returns ``(weights, bound)``.
    """
    return fit_em(
        estimator,
        initialize=initialize,
        step=step,
        is_converged=lambda change, bound: bound <= estimator.tol,
        n_init=1,
        progress_value=("certified gap", lambda change, bound: bound),
        unconverged_message=lambda bound: (
            f"FixedComponentMixture did not converge in max_iter="
            f"{estimator.max_iter} iterations: the mean log-likelihood may still "
            f"be up to {bound:.3g} per sample below its maximum "
            f"(tol={estimator.tol}). Increase max_iter or raise tol."
        ),
    )


class FixedComponentMixture(_WeightsIntervalMixin, _MixtureBase):
    """Mixture of known component distributions with learned mixing weights.

    Each sample is drawn by first picking component ``k`` with probability
    ``weights_[k]``, then drawing from that component's distribution. The
    component distributions are known; only the mixing weights are learned,
    by maximum likelihood with the EM algorithm. Because the log-likelihood
    is concave in the weights, EM reaches the global maximum, and
    ``converged_`` is certified: the returned mean log-likelihood is within
    ``tol`` of the maximum.

    Parameters
    ----------
    components : array-like, sequence of distributions or "precomputed", \
            default=None
        The known component likelihoods, in one of three forms:

        - an array-like of shape (n_components, n_features) of Bernoulli
          success probabilities in [0, 1]; component ``k`` gives
          ``p(x | k) = prod_j p_kj^x_j (1 - p_kj)^(1 - x_j)`` and X must hold
          only 0 and 1 (dense or sparse);
        - a sequence of distributions, one per component: frozen
          :mod:`scipy.stats` distributions (a univariate one is applied to
          every feature, the features being independent given the
          component; a multivariate one to whole rows), fitted scikit-learn
          density estimators (their ``score_samples``), or callables mapping
          X to log-densities of shape (n_samples,);
        - ``"precomputed"``: X is itself the (n_samples, n_components) matrix
          of log-likelihoods ``log p(x_i | k)``.

        The components are known likelihoods, not models to refit: fitted
        estimators given here stay fitted through :func:`~sklearn.base.clone`.
        ``None`` raises an error at ``fit``.

    weights_init : array-like of shape (n_components,), default=None
        Starting weights; overrides `init_params`. Never modified.

    init_params : {"uniform", "random"}, default="uniform"
        Starting weights when `weights_init` is None: equal weights, or a
        draw from the flat Dirichlet distribution seeded by `random_state`.

    solver : {"sqp", "squarem", "em"}, default="sqp"
        Algorithm for the weights; all three stop on the same certificate,
        so `converged_` means the same for each.

        - ``"em"``: the textbook EM update ``w_k <- mean_i P(k | x_i)``. Its
          convergence is linear at a rate equal to the fraction of missing
          information, so it needs thousands of iterations when components
          overlap, and it never makes a weight exactly zero.
        - ``"squarem"``: SQUAREM extrapolation of the EM map (Varadhan &
          Roland, 2008, scheme S3) with a monotonicity safeguard and
          projection onto the simplex.
        - ``"sqp"``: mix-SQP (Kim, Carbonetto, Stephens & Anitescu, 2020):
          sequential quadratic programming with the exact Hessian and an
          active-set solver, which converges in a few iterations and returns
          exact zeros for weights whose optimum is zero.

        ``"sqp"`` is the default because it reached a certified gap of 1e-8
        more than 100 times faster than EM on every problem of
        ``benchmarks/solvers.py`` (and faster than R's ``mixsqp``), and it
        is exact on the boundary.

    max_iter : int, default=1000
        Maximum number of solver iterations.

    tol : float, default=1e-8
        Convergence threshold on the certified gap: iterations stop once
        ``log(max_k g_k) <= tol`` where ``g = L^T (1 / (L w))`` averages the
        likelihood ratios; this bounds how far the mean log-likelihood per
        sample is below its maximum.

    random_state : int, RandomState instance or None, default=None
        Seed for ``init_params="random"`` and for :meth:`sample`.

    verbose : int, default=0
        0 prints nothing, 1 prints the iterations, 2 adds timings and the
        change of the log-likelihood.
        3 shows a progress bar over the iterations of each initialisation
        when tqdm is installed (the messages of 2 otherwise).

    verbose_interval : int, default=10
        Number of iterations between two progress messages.

    learning_decay : float, default=0.7
        Exponent ``kappa`` of the step size
        ``eta_t = (learning_offset + t) ** (-kappa)`` of the stepwise EM of
        :meth:`partial_fit`, in (0.5, 1]: the step sizes then sum to
        infinity while their squares do not, so the running statistics
        converge. Smaller values forget old batches faster. Not used by
        :meth:`fit`.

    learning_offset : float, default=10.0
        Offset ``tau_0 >= 0`` of the step size of :meth:`partial_fit`:
        larger values make the early steps smaller, so that the first
        batches, seen under poor parameters, weigh less. Not used by
        :meth:`fit`.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The maximum likelihood mixing weights (they sum to one).

    weights_covariance_ : ndarray of shape (n_components, n_components)
        Asymptotic covariance of `weights_` from the observed information of
        the ``n_components - 1`` free proportions. Singular along the
        simplex (rows sum to zero); NaN when the data cannot tell the
        components apart. With more than 1,000 components, or more
        components than distinct samples (a fine grid of candidates), it is
        computed on the support of `weights_`: a weight of exactly 0 has
        zero rows and columns. Weights on or near the boundary (at zero)
        make it unreliable, as for any asymptotic interval.

    weights_stderr_ : ndarray of shape (n_components,)
        Standard errors of `weights_`, ``sqrt(diag(weights_covariance_))``.

    n_components_ : int
        Number of components.

    converged_ : bool
        True when the certified gap reached `tol`.

    n_iter_ : int
        Number of iterations run.

    lower_bound_ : float
        Mean log-likelihood per sample at the start of the last iteration;
        the returned weights do at least as well (EM never decreases it).

    lower_bounds_ : list of float
        The mean log-likelihood at the start of each iteration.

    gap_bound_ : float
        The certified bound on the remaining gap at the last iteration.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    BernoulliMixture : Mixture whose Bernoulli components are learned too.

    Notes
    -----
    :meth:`fit` and the prediction methods also accept a
    ``dask.array.Array`` chunked along the rows (dense or scipy.sparse
    chunks). Each iteration recomputes the component log-likelihoods chunk
    by chunk on the workers and adds up the statistics, so X is never
    gathered, and one more pass gives the observed information behind
    `weights_stderr_`. ``solver="sqp"`` reduces its gradient and K x K
    Hessian over the chunks (and its line search, a few steps per pass), so
    the result is that of the in-memory fit with the same solver;
    ``solver="em"`` likewise; ``"squarem"``, whose safeguards need the
    rows, runs the EM update on Dask input. Chunks
    along the features are merged as for :class:`BernoulliMixture`.
    Predictions on a Dask array are lazy Dask arrays. For a stream of
    mini-batches, use :meth:`partial_fit`.

    With ``sklearn.config_context(array_api_dispatch=True)``, :meth:`fit`
    (with ``components="precomputed"`` or Bernoulli probabilities, always
    with the EM update) and the predictions also accept an Array API array
    (a PyTorch tensor or CuPy array, on a GPU too): EM and the predictions
    then run in its namespace, on its device, and the fitted arrays are
    arrays of that namespace (see :ref:`array_api`).

    Examples
    --------
    Two factories make red (1) and blue (0) marbles, 80% and 30% red. A bag
    holds 60 red and 40 blue marbles; how much of it came from factory 1?

    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import FixedComponentMixture
    >>> X = np.array([[1]] * 60 + [[0]] * 40)
    >>> mix = FixedComponentMixture(components=[[0.8], [0.3]]).fit(X)
    >>> mix.weights_.round(3)
    array([0.6, 0.4])
    >>> mix.predict_proba([[1], [0]]).round(3)
    array([[0.8, 0.2],
           [0.3, 0.7]])
    """

    _parameter_constraints = {
        "weights_init": [ARRAY_LIKE, NONE],
        "init_params": [Options("uniform", "random")],
        "solver": [Options("em", "squarem", "sqp")],
        "max_iter": [Interval("int", 1, None)],
        "tol": [Interval("real", 0, None)],
        "random_state": [RANDOM_STATE],
        "verbose": [Interval("int", 0, None)],
        "verbose_interval": [Interval("int", 1, None)],
        "learning_decay": [Interval("real", 0.5, 1, closed="right")],
        "learning_offset": [Interval("real", 0, None)],
    }

    def __init__(
        self,
        components=None,
        *,
        weights_init=None,
        init_params="uniform",
        solver="sqp",
        max_iter=1000,
        tol=1e-8,
        random_state=None,
        verbose=0,
        verbose_interval=10,
        learning_decay=0.7,
        learning_offset=10.0,
    ):
        self.components = components
        self.weights_init = weights_init
        self.init_params = init_params
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset

    def __sklearn_clone__(self):
        # The components are fixed, known likelihoods: a clone shares them
        # instead of cloning (and so unfitting) estimators used as components.
        params = self.get_params(deep=False)
        components = params.pop("components")
        new = type(self)(**{k: clone(v, safe=False) for k, v in params.items()})
        new.components = components
        return new

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            components = resolve_components(self.components)
        except (TypeError, ValueError):
            tags.input_tags.sparse = False
        else:
            tags.input_tags.sparse = components.accept_sparse
            tags.input_tags.allow_nan = components.kind == "bernoulli"
            # Bernoulli components take Array API input too, but scikit-learn's
            # Array API checks feed continuous data, which they rightly reject.
            tags.array_api_support = components.kind == "precomputed"
        return tags

    def _validate_X(self, X, reset):
        components = self._components if not reset else self._resolve()
        if components.kind == "precomputed":
            X = validate_data(
                self, X, reset=reset, dtype=np.float64, ensure_all_finite=False
            )
            if np.isnan(X).any() or np.isposinf(X).any():
                raise ValueError(
                    "With components='precomputed', X holds log-likelihoods: "
                    "-inf (zero likelihood) is allowed, NaN and +inf are not."
                )
            if not reset and X.shape[1] != self.n_components_:
                raise ValueError(
                    f"X has {X.shape[1]} columns, expected one log-likelihood per "
                    f"component ({self.n_components_})."
                )
            return X
        bernoulli = components.kind == "bernoulli"
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=np.float64,
            accept_sparse=["csr"] if components.accept_sparse else False,
            # NaN is a missing entry for Bernoulli components, left out of
            # the likelihood as in BernoulliMixture.
            ensure_all_finite="allow-nan" if bernoulli else True,
        )
        X = sum_duplicates(X)
        if bernoulli:
            check_binary(X)
        return X

    def _validate_X_xp(self, X, reset, xp):
        """``_validate_X`` of an Array API X, in its namespace."""
        components = self._components if not reset else self._resolve()
        if components.kind == "precomputed":
            X = validate_floats(self, X, reset, xp, float32=False, finite=False)
            if bool(xp.any(xp.isnan(X) | (xp.isinf(X) & (X > 0)))):
                raise ValueError(
                    "With components='precomputed', X holds log-likelihoods: "
                    "-inf (zero likelihood) is allowed, NaN and +inf are not."
                )
            if not reset and X.shape[1] != self.n_components_:
                raise ValueError(
                    f"X has {X.shape[1]} columns, expected one log-likelihood per "
                    f"component ({self.n_components_})."
                )
            return X
        if components.kind != "bernoulli":
            raise TypeError(
                "Array API input is supported with components='precomputed' and "
                "with Bernoulli probabilities; distributions and estimators "
                "compute their log-likelihoods with NumPy. Give NumPy input, or "
                "compute the (n_samples, n_components) log-likelihoods in your "
                "namespace and fit with components='precomputed'."
            )
        X = validate_floats(self, X, reset, xp, float32=False)
        check_binary_xp(xp, X, check_binary)
        return X

    def _fit_xp(self, X, sample_weight, xp, device):
        """:meth:`fit` on an Array API array: EM in its namespace, on its device.

        The EM update runs whatever `solver` (as for Dask input); the
        weights, their covariance and standard errors are arrays of ``xp``.
        """
        self._components = components = self._resolve()
        self._fitted_components = self.components
        X = self._validate_X_xp(X, reset=True, xp=xp)
        sw, sw_host = sample_weight_on(xp, device, sample_weight, X.shape[0])
        keep = None
        if np.any(sw_host == 0):
            keep = np.flatnonzero(sw_host > 0)
            rows = xp.asarray(keep, device=device)
            X, sw, sw_host = xp.take(X, rows, axis=0), xp.take(sw, rows), sw_host[keep]
        log_lik = components.log_likelihood_xp(X, xp, device)
        n_components = log_lik.shape[1]
        self.n_components_ = n_components
        row_max = xp.max(log_lik, axis=1)
        impossible = ~xp.isfinite(row_max)
        if bool(xp.any(impossible)):
            impossible = np.flatnonzero(to_numpy(impossible))
            raise zero_likelihood_error(
                impossible if keep is None else keep[impossible]
            )
        lik = xp.exp(log_lik - row_max[:, None])
        acc = float_dtype(xp, device)
        freq = sw / xp.sum(sw)
        log_lik_offset = float(freq @ row_max)

        def initialize(random_state):
            if self.weights_init is not None:
                weights = check_weights(on_host(self.weights_init), n_components)
            elif self.init_params == "random":
                weights = random_state.dirichlet(np.ones(n_components))
            else:
                weights = np.full(n_components, 1 / n_components)
            weights = xp.asarray(weights, dtype=acc, device=device)
            unexplained = to_numpy((lik @ weights == 0) & (sw > 0))
            if unexplained.any():
                row = int(np.flatnonzero(unexplained)[0])
                row = row if keep is None else int(keep[row])
                raise ValueError(
                    f"The starting weights give zero likelihood to row "
                    f"{row} of X: give at least one "
                    "component that explains it a positive starting weight."
                )
            return weights

        def step(weights):
            # em_step of _solvers.py, in xp.
            mix = lik @ weights
            with np.errstate(divide="ignore"):
                log_lik = float(freq @ xp.log(mix))
            g = lik.T @ (freq / mix)
            new_weights = weights * g
            new_weights = new_weights / xp.sum(new_weights)
            return new_weights, log_lik + log_lik_offset, float(xp.log(xp.max(g)))

        weights, bound = run_fixed_em(self, initialize, step)
        weights = weights / xp.sum(weights)
        self.gap_bound_ = bound
        host_weights = to_numpy(weights)
        if n_components == 1:
            cov, identifiable = np.zeros((1, 1)), True
        elif (
            n_components <= 1000
            and n_components - 1 <= int(np.count_nonzero(sw_host > 0))
            and np.all(host_weights > 0)
        ):
            # The observed information on the device; its inverse on the host.
            ref = int(np.argmax(host_weights))
            free = xp.asarray(np.delete(np.arange(n_components), ref), device=device)
            d = (xp.take(lik, free, axis=1) - lik[:, ref : ref + 1]) / (lik @ weights)[
                :, None
            ]
            info = to_numpy((d * sw[:, None]).T @ d)
            cov, identifiable = covariance_from_information(info, ref, n_components)
        else:
            cov, identifiable = weights_covariance(to_numpy(lik), sw_host, host_weights)
        store_weights_covariance(self, cov, identifiable)
        self.weights_ = weights
        self.weights_covariance_ = xp.asarray(
            self.weights_covariance_, dtype=acc, device=device
        )
        self.weights_stderr_ = xp.asarray(
            self.weights_stderr_, dtype=acc, device=device
        )
        return self

    def _log_prob_function(self, xp, device):
        """Component log-likelihoods of Array API blocks, in ``xp``."""
        components = self._components
        return lambda Xb: components.log_likelihood_xp(Xb, xp, device)

    def _resolve(self):
        components = resolve_components(self.components)
        if components.kind == "distributions":
            components.check_fitted()
        return components

    @keep_state_on_error
    def fit(self, X, y=None, sample_weight=None):
        """Learn the mixing weights from the samples in X.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape \
                (n_samples, n_features)
            Training samples; with ``components="precomputed"``, the matrix
            of per-component log-likelihoods. A ``dask.array.Array`` is
            fitted chunk by chunk and never gathered (see Notes).

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: an integer weight counts as that many copies
            of the row.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        validate_params(self, self._parameter_constraints)
        if is_dask_array(X):
            check_not_combined(X)
            return self._fit_dask(X, sample_weight)
        namespace = namespace_of(X)
        if namespace is not None:
            return self._fit_xp(X, sample_weight, *namespace)
        self._components = components = self._resolve()
        self._fitted_components = self.components
        X = self._validate_X(X, reset=True)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        # Rows of zero weight are not data: they change neither the fit nor
        # its information, and may even be impossible under every component.
        if np.any(sample_weight == 0):
            keep = np.flatnonzero(sample_weight > 0)
            X, sample_weight = X[keep], sample_weight[keep]
        else:
            keep = None

        # Identical binary rows share one likelihood row and their weights.
        first = np.arange(X.shape[0])
        collapsed = unique_binary_rows(X) if components.kind == "bernoulli" else None
        if collapsed is not None:
            first, inverse = collapsed
            counts = np.bincount(inverse, weights=sample_weight, minlength=first.size)
            X = X[first]
        else:
            counts = sample_weight
        log_lik = components.log_likelihood(X)
        n_components = log_lik.shape[1]
        self.n_components_ = n_components

        row_max = log_lik.max(axis=1)
        impossible = np.flatnonzero(~np.isfinite(row_max))
        if impossible.size:
            if collapsed is not None:
                # Name every row of X with an impossible pattern.
                impossible = np.flatnonzero(np.isin(inverse, impossible))
            if keep is not None:
                impossible = keep[impossible]
            raise zero_likelihood_error(impossible)
        lik = np.exp(log_lik - row_max[:, None])
        freq = counts / counts.sum()
        log_lik_offset = float(freq @ row_max)

        def initialize(random_state):
            if self.weights_init is not None:
                weights = check_weights(self.weights_init, n_components)
            elif self.init_params == "random":
                weights = random_state.dirichlet(np.ones(n_components))
            else:
                weights = np.full(n_components, 1 / n_components)
            unexplained = np.flatnonzero((lik @ weights == 0) & (counts > 0))
            if unexplained.size:
                row = int(first[unexplained[0]])
                row = row if keep is None else int(keep[row])
                raise ValueError(
                    f"The starting weights give zero likelihood to row "
                    f"{row} of X: give at least one "
                    "component that explains it a positive starting weight."
                )
            return weights

        solver_step = _SOLVER_STEPS[self.solver]

        def step(weights):
            new_weights, log_lik_scaled, bound = solver_step(lik, freq, weights)
            return new_weights, log_lik_scaled + log_lik_offset, bound

        weights, bound = run_fixed_em(self, initialize, step)
        self.weights_ = weights = weights / weights.sum()
        self.gap_bound_ = bound
        store_weights_covariance(self, *weights_covariance(lik, counts, weights))
        # Kept for weights_interval (see _intervals._WeightsIntervalMixin).
        self._interval_data_ = (lik, counts, weights)
        return self

    @keep_state_on_error
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the mixing weights with one mini-batch by stepwise EM.

        The first call starts from `weights_init` (or `init_params`) and
        makes one EM step on its batch. Each later call makes one step of
        stepwise EM (Cappé & Moulines, 2009): the running mean ``s`` of the
        responsibilities becomes ``(1 - eta_t) * s + eta_t * r_batch``,
        where ``r_batch`` is the batch's weighted mean responsibility under
        the current weights and
        ``eta_t = (learning_offset + t) ** (-learning_decay)``, ``t = 1, 2,
        ...`` counting the earlier updates; the new weights are ``s``.
        Batches may be slices of a np.memmap or of an HDF5 (h5py) or zarr
        array, or the items of a generator. A call after :meth:`fit`
        continues from the fitted weights with a new running mean. The
        batches must come in random order (shuffle the rows first): each
        step moves the running mean towards its batch, so batches sorted by
        component, answer or time bias the weights.

        Each call sets the attributes that :meth:`fit` sets. `lower_bound_`
        is the mean log-likelihood of the batch under the incoming weights
        and `lower_bounds_` lists it for every call; `gap_bound_` is the
        certified gap of the incoming weights on the last batch only;
        `n_iter_` counts the calls and `converged_` is always False
        (stepwise EM has no stopping rule: judge it by `lower_bounds_`
        levelling off, or by a held-out score).
        `weights_covariance_` and `weights_stderr_` are NaN: stepwise EM
        sees each batch once, under the weights of its time, and cannot tell
        new samples from repeated ones, so the observed information of the
        data is not available. :meth:`fit`, which also accepts a Dask array
        for data larger than memory, gives them.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One mini-batch; with ``components="precomputed"``, its matrix of
            per-component log-likelihoods. Every batch must have the
            features of the first.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows of the batch.

        Returns
        -------
        self : object
            The updated mixture.

        See Also
        --------
        fit : Fit on all the data at once, also on a Dask array.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_bernoulli_mix import FixedComponentMixture
        >>> rng = np.random.RandomState(0)
        >>> factory_1 = rng.random_sample(2000) < 0.6
        >>> red = rng.random_sample(2000) < np.where(factory_1, 0.8, 0.3)
        >>> mix = FixedComponentMixture(components=[[0.8], [0.3]])
        >>> for batch in np.array_split(red.reshape(-1, 1), 20):
        ...     mix = mix.partial_fit(batch)
        >>> mix.weights_.round(1)
        array([0.6, 0.4])
        """
        return fixed_partial_fit(self, X, sample_weight)

    def _fit_dask(self, X, sample_weight):
        """:meth:`fit` on a Dask array: EM over the chunks, never gathered.

        Each iteration is one pass over the chunks (the component
        log-likelihoods are recomputed chunk by chunk, never stored), and
        one more pass gives the observed information.
        """
        components = self._resolve()
        from sklearn.base import clone

        validator = clone(self)
        validator._components = components
        validator.n_features_in_ = X.shape[1]
        if components.kind == "precomputed":
            n_components = X.shape[1]
        else:
            n_components = components.n_components
        validator.n_components_ = n_components
        if components.kind == "bernoulli" and X.shape[1] != components.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the Bernoulli components have "
                f"{components.n_features} (components has shape "
                f"{components.probs.shape})."
            )
        source = DaskLikelihood(
            X, sample_weight, validator._chunk_log_likelihood, owner=self
        )
        self._components = components
        self._fitted_components = self.components
        self.n_components_ = n_components

        def initialize(random_state):
            if self.weights_init is not None:
                return check_weights(self.weights_init, n_components)
            if self.init_params == "random":
                return random_state.dirichlet(np.ones(n_components))
            return np.full(n_components, 1 / n_components)

        def em(weights):
            stats = source.stats(weights)
            g = stats["g"] / stats.weight
            new_weights = weights * g
            new_weights /= new_weights.sum()
            return new_weights, stats.log_lik / stats.weight, float(np.log(g.max()))

        # mix-SQP reduces its gradient and K x K Hessian over the chunks like
        # any statistic; SQUAREM, whose safeguards need the rows, runs EM.
        step = (lambda w: sqp_step_reduced(source, w)) if self.solver == "sqp" else em

        weights, bound = run_fixed_em(self, initialize, step)
        self.weights_ = weights = weights / weights.sum()
        self.gap_bound_ = bound
        # The chunks' likelihoods are not kept: no profile or bootstrap.
        self._interval_data_ = None
        if n_components == 1:
            cov, identifiable = np.zeros((1, 1)), True
        else:
            ref = int(np.argmax(weights))
            hessian = source.stats(weights, hessian=True)["h"]
            jac = free_jacobian(n_components, ref)
            info = jac.T @ hessian @ jac
            cov, identifiable = covariance_from_information(info, ref, n_components)
        store_weights_covariance(self, cov, identifiable)
        return self

    def _chunk_log_likelihood(self, X):
        """Validated component log-likelihoods of one Dask chunk."""
        return self._components.log_likelihood(self._validate_X(X, reset=False))

    def _estimate_log_prob(self, X):
        return self._components.log_likelihood(X)

    def _n_parameters(self):
        return self.n_components_ - 1

    def _sample_component(self, k, n, rng):
        return self._components.sample(k, n, self.n_features_in_, rng)

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the fitted mixture.

        Every component must be able to sample: Bernoulli probabilities,
        scipy distributions (``rvs``) or estimators with a ``sample``
        method. Precomputed log-likelihoods and plain callables cannot.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to draw.

        random_state : int, RandomState instance or None, default=None
            Seed of the draw; ``None`` uses the estimator's `random_state`.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.

        y : ndarray of shape (n_samples,)
            The component each sample was drawn from.

        Examples
        --------
        >>> from sklearn_bernoulli_mix import FixedComponentMixture
        >>> mix = FixedComponentMixture([[0.8], [0.3]]).fit([[1], [0], [1]])
        >>> X, y = mix.sample(5, random_state=0)
        >>> X.shape, y.shape
        ((5, 1), (5,))
        """
        return super().sample(n_samples, random_state=random_state)
