"""Confidence intervals for mixing weights: profile likelihood, Wald, bootstrap.

The functions work on the collapsed problem that :class:`FixedComponentMixture`
fits: ``lik``, the (n_rows, n_components) matrix of component likelihoods
with each row divided by its maximum, and ``counts``, the (frequency) weight
of each row. The total log-likelihood of weights ``w`` is
``counts @ log(lik @ w)`` plus a constant that cancels in every likelihood
ratio below.

The profile log-likelihood of weight ``k`` at ``t`` is the maximum of the
log-likelihood over the weights with ``w_k = t``: the others range over the
simplex scaled by ``1 - t``. Writing them as ``(1 - t) u`` with ``u`` on the
simplex of the other components, and using ``sum(u) = 1``,

    (lik @ w)_i = t lik_ik + (1 - t) (lik_-k @ u)_i
                = sum_j u_j (t lik_ik + (1 - t) lik_ij),

so each profile point is an ordinary mixing-weight problem over ``u``, with
the component matrix ``t lik[:, [k]] + (1 - t) lik_-k``: mix-SQP solves it
with its certified gap, warm-started from the previous point.
"""

import numbers

import numpy as np
from scipy import optimize, stats
from sklearn.utils.validation import check_is_fitted

from ._solvers import sqp_step
from ._validation import RANDOM_STATE

# Certified gap (mean log-likelihood per unit of weight) to which the maximum
# and every profile point are solved: with N samples the total
# log-likelihood is then within N * 1e-11 of its maximum, far below the
# chi-squared threshold (1.92 at level 0.95) that the intervals rest on.
_PROFILE_TOL = 1e-11
_MAX_ITER = 500


def _solve(lik, freq, start):
    """Maximise ``freq @ log(lik @ w)`` over the simplex by mix-SQP.

    ``lik`` must have a positive maximum in every row of positive frequency.
    Returns ``(weights, scaled mean log-likelihood)``.
    """
    n_components = lik.shape[1]
    if n_components == 1:
        with np.errstate(divide="ignore"):
            value = float(freq[freq > 0] @ np.log(lik[freq > 0, 0]))
        return np.ones(1), value
    x = np.asarray(start, dtype=np.float64).copy()
    if not np.all(lik[freq > 0] @ x > 0):
        # The start gives zero likelihood to a row: start from uniform.
        x = np.full(n_components, 1.0 / n_components)
    best = None
    for _ in range(_MAX_ITER):
        new_x, log_lik, gap = sqp_step(lik, freq, x)
        best = (x / x.sum(), log_lik)
        if gap <= _PROFILE_TOL:
            break
        x = new_x
    return best


def _polished_maximum(lik, counts, weights):
    """The maximum total log-likelihood, solved to the profile tolerance."""
    freq = counts / counts.sum()
    weights, value = _solve(lik, freq, weights)
    return weights, value * counts.sum()


def profile_log_likelihood(lik, counts, k, t, start=None):
    """Profile log-likelihood of weight ``k`` at the value ``t``.

    Parameters
    ----------
    lik : ndarray of shape (n_rows, n_components)
        Component likelihoods, rows scaled by their maximum.
    counts : ndarray of shape (n_rows,)
        Frequency weight of each row.
    k : int
        The profiled component.
    t : float
        The fixed value of weight ``k``, in [0, 1].
    start : ndarray of shape (n_components - 1,), default=None
        Starting weights of the other components on their simplex.

    Returns
    -------
    value : float
        ``max counts @ log(lik @ w)`` over the weights with ``w_k = t``
        (``-inf`` when none of them explains every row).
    others : ndarray of shape (n_components - 1,)
        The maximising weights of the other components, divided by ``1 - t``.
    """
    n_components = lik.shape[1]
    rest = np.delete(np.arange(n_components), k)
    seen = counts > 0
    lik, counts = lik[seen], counts[seen]
    if rest.size == 0:
        with np.errstate(divide="ignore"):
            return float(counts @ np.log(t * lik[:, 0])), np.zeros(0)
    reduced = t * lik[:, [k]] + (1.0 - t) * lik[:, rest]
    row_max = reduced.max(axis=1)
    if np.any(row_max <= 0):
        return -np.inf, np.full(rest.size, 1.0 / rest.size)
    reduced /= row_max[:, None]
    total = counts.sum()
    if start is None:
        start = np.full(rest.size, 1.0 / rest.size)
    others, value = _solve(reduced, counts / total, start)
    return float(value * total + counts @ np.log(row_max)), others


def profile_interval(lik, counts, weights, *, level=0.95):
    """Profile-likelihood intervals of every mixing weight.

    The interval of weight ``k`` is the set of values ``t`` whose profile
    log-likelihood is within ``chi2.ppf(level, 1) / 2`` of the maximum; the
    profile is concave in ``t``, so the set is an interval, and each end is
    found by Brent's method on the profile (or is 0 or 1 when the profile
    stays above the threshold up to that end).

    Parameters
    ----------
    lik : ndarray of shape (n_rows, n_components)
        Component likelihoods, rows scaled by their maximum.
    counts : ndarray of shape (n_rows,)
        Frequency weight of each row.
    weights : ndarray of shape (n_components,)
        The maximum likelihood weights (polished here to the tolerance of
        the profile points).
    level : float, default=0.95
        Confidence level, in (0, 1).

    Returns
    -------
    bounds : ndarray of shape (n_components, 2)
        Lower and upper bounds.
    """
    n_components = lik.shape[1]
    bounds = np.empty((n_components, 2))
    if n_components == 1:
        bounds[:] = 1.0
        return bounds
    weights, best = _polished_maximum(lik, counts, weights)
    target = best - stats.chi2.ppf(level, 1) / 2.0
    # Floor for -inf profile values, so that Brent's method sees a finite
    # function with the same sign.
    floor = -1e300
    for k in range(n_components):
        rest = np.delete(np.arange(n_components), k)
        top = weights[k]
        start = weights[rest] / max(weights[rest].sum(), 1e-300)
        if not np.all(start > 0):
            start = 0.5 * start + 0.5 / rest.size
        state = {"start": start}

        def excess(t, k=k, state=state):
            value, others = profile_log_likelihood(lik, counts, k, t, state["start"])
            if others.size and np.all(np.isfinite(others)):
                # Keep the start interior so a zero can come back.
                state["start"] = 0.9 * others + 0.1 / others.size
            return max(value - target, floor)

        for side, end in ((0, 0.0), (1, 1.0)):
            if excess(end) >= 0:
                bounds[k, side] = end
                continue
            state["start"] = start
            lo, hi = (end, top) if side == 0 else (top, end)
            bounds[k, side] = optimize.brentq(excess, lo, hi, xtol=1e-12, rtol=1e-12)
    return bounds


def wald_interval(weights, stderr, *, level=0.95):
    """Wald intervals ``weights -/+ z stderr``, not clipped to [0, 1].

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
        The estimates.
    stderr : ndarray of shape (n_components,)
        Their standard errors (NaN gives NaN bounds).
    level : float, default=0.95
        Confidence level, in (0, 1).

    Returns
    -------
    bounds : ndarray of shape (n_components, 2)
        Lower and upper bounds.
    """
    z = stats.norm.ppf(0.5 + level / 2.0)
    return np.column_stack([weights - z * stderr, weights + z * stderr])


def _bootstrap_fits(lik, resampled_counts, weights):
    out = np.empty((resampled_counts.shape[0], lik.shape[1]))
    for b, counts in enumerate(resampled_counts):
        seen = counts > 0
        freq = counts[seen] / counts.sum()
        out[b] = _solve(lik[seen], freq, weights)[0]
    return out


def bootstrap_weights(
    lik, counts, weights, *, n_resamples=999, random_state=None, n_jobs=None
):
    """Maximum likelihood weights of nonparametric bootstrap resamples.

    Each resample draws ``round(counts.sum())`` rows with replacement, with
    probabilities proportional to ``counts``, and refits the weights with
    mix-SQP from ``weights``. The draws are made up front from
    ``random_state``, so the result does not depend on ``n_jobs``.

    Returns
    -------
    samples : ndarray of shape (n_resamples, n_components)
    """
    from joblib import Parallel, delayed
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    seen = counts > 0
    lik, counts = lik[seen], counts[seen]
    n_draws = max(1, int(round(counts.sum())))
    resampled = rng.multinomial(n_draws, counts / counts.sum(), size=n_resamples)
    n_chunks = max(1, min(n_resamples, 4 * (abs(n_jobs) if n_jobs else 1)))
    chunks = np.array_split(resampled, n_chunks)
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_bootstrap_fits)(lik, chunk, weights) for chunk in chunks
    )
    return np.vstack(parts)


def percentile_interval(samples, *, level=0.95):
    """Percentile bootstrap interval of each column of ``samples``."""
    alpha = (1.0 - level) / 2.0
    return np.quantile(samples, [alpha, 1.0 - alpha], axis=0).T


_METHODS = ("profile", "wald", "bootstrap")


class _WeightsIntervalMixin:
    """Adds :meth:`weights_interval` to an estimator with fitted mixing weights.

    The estimator's in-memory ``fit`` stores ``_interval_data_ = (lik, counts,
    weights)``: the collapsed, row-scaled likelihood matrix, the row counts
    and the fitted weights. The weights are kept to tell when a later
    ``partial_fit`` (or a Dask fit, which stores nothing) has replaced them.
    """

    _interval_weights_attr = "weights_"
    _interval_stderr_attr = "weights_stderr_"

    def _interval_problem(self):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        data = getattr(self, "_interval_data_", None)
        current = getattr(self, self._interval_weights_attr)
        if data is None or not np.array_equal(data[2], current):
            raise ValueError(
                f"{type(self).__name__}.weights_interval needs the training "
                "likelihoods that the in-memory fit stores; the weights were "
                "last set by partial_fit or by a fit on a Dask array, which do "
                "not keep them. Call fit on an in-memory array, or use "
                "method='wald' (from the standard errors) after a Dask fit."
            )
        return data

    def weights_interval(
        self,
        *,
        level=0.95,
        method="profile",
        n_resamples=999,
        random_state=None,
        n_jobs=None,
    ):
        """Confidence interval of each mixing weight.

        The intervals use the training data of the last :meth:`fit`, which
        keeps the matrix of component likelihoods of its distinct rows and
        their counts for this purpose (the rows themselves are not kept), so
        no data is passed here.

        Parameters
        ----------
        level : float, default=0.95
            Confidence level, in (0, 1).

        method : {"profile", "wald", "bootstrap"}, default="profile"
            - ``"profile"``: the profile-likelihood interval, the values
              ``t`` of the weight whose constrained maximum log-likelihood
              (the other weights maximised with this one fixed at ``t``) is
              within ``chi2.ppf(level, 1) / 2`` of the maximum. It stays in
              [0, 1], is asymmetric where the likelihood is, and remains
              valid when the weight is at or near zero, where the Wald
              interval is not. Each end takes about 15 constrained fits
              (warm-started mix-SQP on the other components), so the
              method costs about 30 fits per weight.
            - ``"wald"``: ``estimate -/+ z * stderr`` from the observed
              information, not clipped: near the boundary it leaves [0, 1],
              which shows that it should not be trusted there. It also
              works after a fit on a Dask array.
            - ``"bootstrap"``: the percentile interval of the weights refitted
              on `n_resamples` nonparametric resamples of the rows (sample
              weights act as frequencies); the components are held fixed.

        n_resamples : int, default=999
            Number of bootstrap resamples (``method="bootstrap"`` only).

        random_state : int, RandomState instance or None, default=None
            Seed of the bootstrap resamples.

        n_jobs : int or None, default=None
            Number of joblib workers refitting the bootstrap resamples;
            ``None`` means 1 unless in a ``joblib.parallel_config``
            context. The result does not depend on it.

        Returns
        -------
        bounds : ndarray of shape (n_components, 2)
            Lower (column 0) and upper (column 1) bound of each weight.
        """
        check_is_fitted(self)
        if (
            isinstance(level, bool)
            or not isinstance(level, numbers.Real)
            or not 0 < level < 1
        ):
            raise ValueError(f"level must be a number in (0, 1); got {level!r}.")
        if method not in _METHODS:
            raise ValueError(
                f"method must be one of {', '.join(map(repr, _METHODS))}; "
                f"got {method!r}."
            )
        if (
            isinstance(n_resamples, bool)
            or not isinstance(n_resamples, numbers.Integral)
            or n_resamples < 1
        ):
            raise ValueError(
                f"n_resamples must be a positive integer; got {n_resamples!r}."
            )
        if not RANDOM_STATE.is_satisfied_by(random_state):
            raise ValueError(
                "random_state must be an int, a numpy.random.RandomState "
                f"instance or None; got {random_state!r}."
            )
        level = float(level)
        if method == "wald":
            return wald_interval(
                getattr(self, self._interval_weights_attr),
                getattr(self, self._interval_stderr_attr),
                level=level,
            )
        lik, counts, weights = self._interval_problem()
        if method == "profile":
            return profile_interval(lik, counts, weights, level=level)
        samples = bootstrap_weights(
            lik,
            counts,
            weights,
            n_resamples=n_resamples,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        return percentile_interval(samples, level=level)
