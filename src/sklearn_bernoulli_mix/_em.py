"""The EM driver and the estimator base shared by every mixture in the package."""

import functools
from time import perf_counter

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._blocks import row_blocks, zero_likelihood_error
from ._dask import dask_predict, is_dask_array
from ._selection import LatentClassCriteriaMixin
from ._validation import check_sample_weight, warn
from ._xp import check_fitted_for, fitted_namespace, namespace_of
from ._xp import predict as xp_predict
from ._xp import sample as xp_sample


class _Progress:
    """Verbose messages in the style of scikit-learn's mixtures.

    ``verbose >= 3`` shows a progress bar over the iterations of each
    initialisation instead, when tqdm is installed (messages otherwise).
    """

    def __init__(self, verbose, interval, max_iter=None):
        self.verbose = verbose
        self.interval = interval
        self.max_iter = max_iter
        self._t0 = self._t_iter = perf_counter()
        self._tqdm = _load_tqdm() if verbose >= 3 else None
        self._bar = None

    def init_begin(self, i, n_starts=2):
        if self._tqdm is not None:
            desc = f"init {i}" if n_starts > 1 else "fit"
            self._bar = self._tqdm(total=self.max_iter, desc=desc, leave=True)
        elif self.verbose:
            self._what = "Initialization" if n_starts > 1 else "Fit"
            if n_starts > 1:
                print(f"Initialization {i}")
            self._t0 = self._t_iter = perf_counter()

    def iter_end(self, n_iter, change, label="ll change", last=False):
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(f"{label} {change:.3g}", refresh=False)
            return
        # The last iteration is always shown, so that a fit shorter than
        # verbose_interval still says where it stopped.
        if not self.verbose or (n_iter % self.interval and not last):
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        else:
            now = perf_counter()
            print(
                f"  Iteration {n_iter}\t time lapse {now - self._t_iter:.5f}s\t "
                f"{label} {change:.5g}"
            )
            self._t_iter = now

    def init_end(self, lower_bound, converged):
        status = "converged" if converged else "did not converge"
        if self._bar is not None:
            self._bar.set_postfix_str(f"{status}, lower bound {lower_bound:.5f}")
            self._bar.close()
            self._bar = None
            return
        if not self.verbose:
            return
        what = getattr(self, "_what", "Initialization")
        if self.verbose == 1:
            print(f"{what} {status}.")
        else:
            print(
                f"{what} {status}. time lapse "
                f"{perf_counter() - self._t0:.5f}s\t lower bound {lower_bound:.5f}."
            )


def _load_tqdm():
    """tqdm's progress bar class, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def iterate(
    step,
    params,
    *,
    max_iter,
    is_converged,
    lower_bound=-np.inf,
    progress,
    progress_value=None,
):
    """Run ``params = step(params)`` until ``is_converged`` or ``max_iter``.

    ``step(params)`` returns ``(new_params, lower_bound, info)`` where
    ``lower_bound`` is the mean log-likelihood of the *incoming* parameters
    (the E-step's by-product, as in scikit-learn's mixtures) and ``info`` is
    whatever the convergence test needs. ``is_converged(change, info)`` sees
    the change of the lower bound since the previous iteration.
    ``progress_value`` is ``(label, value(change, info))`` for the verbose
    lines (default: the change of the log-likelihood).

    Returns ``(params, lower_bounds, n_iter, converged, info)``.
    """
    lower_bounds = []
    info = None
    for n_iter in range(1, max_iter + 1):
        previous = lower_bound
        params, lower_bound, info = step(params)
        lower_bounds.append(lower_bound)
        change = lower_bound - previous
        converged = is_converged(change, info)
        label, value = ("ll change", change)
        if progress_value is not None:
            label, value = progress_value[0], progress_value[1](change, info)
        progress.iter_end(n_iter, value, label, last=converged or n_iter == max_iter)
        if converged:
            return params, lower_bounds, n_iter, True, info
    return params, lower_bounds, max_iter, False, info


def fit_em(
    estimator,
    *,
    initialize,
    step,
    is_converged,
    n_init,
    warm_start_params=None,
    warm_start_lower_bound=-np.inf,
    unconverged_message,
    progress_value=None,
):
    """Fit with ``n_init`` starts and keep the one with the best lower bound.

    ``initialize(random_state)`` returns starting parameters. With
    ``warm_start_params`` a single run continues from them instead. Sets
    ``converged_``, ``n_iter_``, ``lower_bound_`` and ``lower_bounds_`` on the
    estimator, warns when the best start did not converge, and returns
    ``(best_params, info)``.
    """
    progress = _Progress(
        estimator.verbose, estimator.verbose_interval, estimator.max_iter
    )
    random_state = check_random_state(estimator.random_state)
    best = None
    starts = 1 if warm_start_params is not None else n_init
    for i in range(starts):
        progress.init_begin(i, starts)
        if warm_start_params is not None:
            params, lower_bound = warm_start_params, warm_start_lower_bound
        else:
            params, lower_bound = initialize(random_state), -np.inf
        params, lower_bounds, n_iter, converged, info = iterate(
            step,
            params,
            max_iter=estimator.max_iter,
            is_converged=is_converged,
            lower_bound=lower_bound,
            progress=progress,
            progress_value=progress_value,
        )
        progress.init_end(lower_bounds[-1], converged)
        if best is None or lower_bounds[-1] > best[1][-1]:
            best = (params, lower_bounds, n_iter, converged, info)
    params, lower_bounds, n_iter, converged, info = best
    estimator.converged_ = converged
    estimator.n_iter_ = n_iter
    estimator.lower_bound_ = float(lower_bounds[-1])
    estimator.lower_bounds_ = [float(lb) for lb in lower_bounds]
    if not converged:
        warn(unconverged_message(info), ConvergenceWarning)
    return params, info


def keep_state_on_error(method):
    """Decorate ``fit``-like methods: a call that raises leaves the estimator as it was.

    Validation sets attributes (``n_features_in_``...) before a later check
    may fail; restoring the whole ``__dict__`` keeps a fitted model usable
    exactly as before the failed call.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper


class _MixtureBase(LatentClassCriteriaMixin, DensityMixin, BaseEstimator):
    """Methods shared by the mixtures once their parameters are fitted.

    Subclasses implement ``_validate_X(X, reset)``, ``_estimate_log_prob(X)``
    (per-component log-likelihoods of validated X), ``_n_parameters()`` and
    ``_sample_component(k, n, rng)``.
    """

    def _log_resp_and_norm(self, X, *, want="both", log_prior=None):
        """Posterior log-probabilities and log p(x), computed block by block.

        Memory beyond the outputs stays O(block rows x n_components).
        ``want`` is ``"both"``, ``"norm"`` (log p(x) only) or ``"labels"``
        (the argmax of the posterior only). ``log_prior`` (n_samples,
        n_components), when given, holds each row's own log prior class
        probabilities (a model with covariates) in place of the log weights.
        Rows with zero likelihood under every component are all named in
        one error.
        """
        n_samples, n_components = X.shape[0], self.weights_.shape[0]
        log_norm = np.empty(n_samples) if want != "labels" else None
        log_resp = np.empty((n_samples, n_components)) if want == "both" else None
        labels = np.empty(n_samples, dtype=np.intp) if want == "labels" else None
        impossible = []
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        for rows in row_blocks(X, n_components):
            log_prob = np.asarray(self._estimate_log_prob(X[rows]), dtype=np.float64)
            # The row maximum comes out before the weights go in: a constant
            # per row (of any size) then changes nothing, as it should.
            row_max = log_prob.max(axis=1, keepdims=True)
            finite = np.isfinite(row_max[:, 0])
            with np.errstate(invalid="ignore"):
                weighted = np.where(finite[:, None], log_prob - row_max, -np.inf)
            # A row that every component explains alike (e.g. all missing)
            # has log p(x) = its row maximum exactly, and the weights as its
            # posterior.
            alike = np.all(weighted == 0, axis=1)
            weighted += log_weights if log_prior is None else log_prior[rows]
            block_norm = logsumexp(weighted, axis=1)
            block_norm[alike] = 0.0
            bad = np.flatnonzero(~(np.isfinite(block_norm) & finite))
            if bad.size:
                impossible.append(bad + rows.start)
                continue
            if labels is not None:
                labels[rows] = weighted.argmax(axis=1)
                continue
            log_norm[rows] = block_norm + row_max[:, 0]
            if log_resp is not None:
                with np.errstate(under="ignore"):
                    log_resp[rows] = weighted - block_norm[:, None]
        if impossible:
            raise zero_likelihood_error(np.concatenate(impossible))
        return log_resp, log_norm, labels

    def _check_predict_input(self, X, method="predict"):
        check_is_fitted(self)
        check_fitted_for(self, None, method)
        return self._validate_X(X, reset=False)

    def _predict_input(self, X, method="predict"):
        """``(validated X, per-row log prior or None)`` for the predictions.

        ``None`` means the log weights, the same for every row; a model with
        covariates gives each row its own prior.
        """
        return self._check_predict_input(X, method), None

    def score_samples(self, X):
        """Compute the log-likelihood of each sample under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples. A ``dask.array.Array`` gives a lazy Dask array,
            chunked like `X` along the rows.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            ``log p(x) = log sum_k weights_[k] p(x | k)`` for each sample.
        """
        if is_dask_array(X):
            return dask_predict(self, X, "score_samples")
        namespace = namespace_of(X)
        if namespace is not None:
            return xp_predict(self, X, namespace[0], "score_samples")
        X, log_prior = self._predict_input(X, "score_samples")
        return self._log_resp_and_norm(X, want="norm", log_prior=log_prior)[1]

    def score(self, X, y=None, sample_weight=None):
        """Compute the mean log-likelihood of the samples under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples. A ``dask.array.Array`` is scored chunk by chunk on
            its workers.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples (e.g. the counts of a table of
            response patterns): the mean is weighted by them.

        Returns
        -------
        log_likelihood : float
            Mean of :meth:`score_samples` over the rows of `X` (weighted);
            higher is better, so model selection tools use it without a
            scorer.
        """
        if is_dask_array(X) and sample_weight is None:
            return dask_predict(self, X, "score")
        namespace = namespace_of(X)
        if namespace is not None:
            return xp_predict(self, X, namespace[0], "score")
        log_prob = self.score_samples(X)
        if sample_weight is None:
            return float(np.mean(log_prob))
        sw = check_sample_weight(sample_weight, log_prob.shape[0])
        return float(sw @ log_prob / sw.sum())

    def predict_proba(self, X):
        """Posterior probability of each component given each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples. A ``dask.array.Array`` gives a lazy Dask array,
            chunked like `X` along the rows.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            ``P(component = k | x)``; every row sums to one.
        """
        if is_dask_array(X):
            return dask_predict(self, X, "predict_proba")
        namespace = namespace_of(X)
        if namespace is not None:
            return xp_predict(self, X, namespace[0], "predict_proba")
        X, log_prior = self._predict_input(X, "predict_proba")
        resp = self._log_resp_and_norm(X, log_prior=log_prior)[0]
        with np.errstate(under="ignore"):
            return np.exp(resp, out=resp)

    def predict(self, X):
        """Predict the most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples. A ``dask.array.Array`` gives a lazy Dask array,
            chunked like `X` along the rows.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the component with the largest posterior probability.
        """
        if is_dask_array(X):
            return dask_predict(self, X, "predict")
        namespace = namespace_of(X)
        if namespace is not None:
            return xp_predict(self, X, namespace[0], "predict")
        X, log_prior = self._predict_input(X, "predict")
        return self._log_resp_and_norm(X, want="labels", log_prior=log_prior)[2]

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit the mixture and return the most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the component with the largest posterior probability.
        """
        return self.fit(X, y, sample_weight=sample_weight).predict(X)

    def _total_log_likelihood(self, X):
        """``(n_samples, sum of log p(x))`` of validated X (or a Dask array)."""
        if is_dask_array(X):
            return X.shape[0], self.score(X) * X.shape[0]
        namespace = namespace_of(X)
        if namespace is not None:
            return xp_predict(self, X, namespace[0], "total")
        X, log_prior = self._predict_input(X, "bic")
        log_norm = self._log_resp_and_norm(X, want="norm", log_prior=log_prior)[1]
        return X.shape[0], float(log_norm.sum())

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the fitted mixture.

        The number of samples of each component is drawn first from the
        multinomial distribution of the weights, then each component draws
        its own rows.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to draw.

        random_state : int, RandomState instance or None, default=None
            Seed of the draw; ``None`` uses the estimator's ``random_state``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.

        y : ndarray of shape (n_samples,)
            The component each sample was drawn from.
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise TypeError(f"n_samples must be an int; got {n_samples!r}.")
        if n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples}. The sampling requires "
                "at least one sample."
            )
        if fitted_namespace(self) is not None:
            return xp_sample(self, n_samples, random_state)
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        counts = rng.multinomial(n_samples, self.weights_ / self.weights_.sum())
        parts, labels = [], []
        for k, count in enumerate(counts):
            if count:
                parts.append(self._sample_component(k, int(count), rng))
                labels.append(np.full(count, k, dtype=np.intp))
        return np.vstack(parts), np.concatenate(labels)
