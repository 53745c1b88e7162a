"""Stepwise (online) EM: one mini-batch at a time, for ``partial_fit``.

Stepwise EM (Cappé & Moulines, 2009; Liang & Klein, 2009) keeps a running
average ``s`` of the sufficient statistics *per unit of sample weight*. Each
mini-batch gives its own normalised statistics ``s_batch`` (its E-step under
the current parameters, divided by the batch's total weight) and

    s <- (1 - eta_t) * s + eta_t * s_batch,
    eta_t = (learning_offset + t) ** (-learning_decay),

where ``t = 1, 2, ...`` counts the updates after the first; the first batch
sets ``s = s_batch`` (a step of size one). The parameters are the M-step of
``s``. With ``learning_decay`` in (0.5, 1] the step sizes satisfy the
Robbins-Monro conditions (their sum diverges, the sum of their squares does
not), so that on a stationary stream the parameters converge to a stationary
point of the expected log-likelihood.

The functions here work on arrays; ``bernoulli_partial_fit`` and
``fixed_partial_fit`` are the bodies of the estimators' ``partial_fit``.

References
----------
O. Cappé and E. Moulines, "On-line expectation-maximization algorithm for
latent data models", Journal of the Royal Statistical Society B 71(3),
593-613, 2009.

P. Liang and D. Klein, "Online EM for unsupervised models", Proceedings of
NAACL-HLT, 611-619, 2009.
"""

import numpy as np
from sklearn.utils import check_random_state

from ._blocks import (
    BernoulliParams,
    BernoulliStats,
    bernoulli_m_step,
    bernoulli_pass,
)
from ._solvers import check_explained
from ._validation import (
    check_probabilities,
    check_sample_weight,
    check_weights,
    validate_params,
)


def step_size(t, learning_offset, learning_decay):
    """Step size ``(learning_offset + t) ** (-learning_decay)`` of update ``t``.

    ``t >= 1`` counts the updates after the first batch.
    """
    return float((learning_offset + t) ** (-learning_decay))


def stepwise_average(running, batch, eta):
    """``(1 - eta) * running + eta * batch`` for tuples of arrays.

    A ``None`` entry stands for zeros (e.g. no missing values seen yet).
    """
    out = []
    for old, new in zip(running, batch):
        if old is None and new is None:
            out.append(None)
        elif old is None:
            out.append(eta * new)
        elif new is None:
            out.append((1.0 - eta) * old)
        else:
            out.append((1.0 - eta) * old + eta * new)
    return tuple(out)


class StepwiseState:
    """Running normalised statistics of stepwise EM and its counters.

    ``owner`` is the fitted parameter array these statistics produced: when
    the estimator's array is another one (a later ``fit``), the state is
    stale and ``partial_fit`` starts a new running average.
    """

    def __init__(self, stats, batch_weight, owner=None):
        self.stats = stats
        self.n_updates = 1
        self.total_weight = float(batch_weight)
        self.owner = owner

    def update(self, batch_stats, batch_weight, learning_offset, learning_decay):
        eta = step_size(self.n_updates, learning_offset, learning_decay)
        self.stats = stepwise_average(self.stats, batch_stats, eta)
        self.n_updates += 1
        self.total_weight += float(batch_weight)
        return eta


def _current_state(estimator, params):
    state = getattr(estimator, "_stepwise", None)
    if state is None or state.owner is not params:
        return None
    return state


def _record(estimator, state, log_lik, continued):
    estimator._stepwise = state
    estimator.lower_bound_ = float(log_lik)
    previous = estimator.lower_bounds_ if continued else []
    estimator.lower_bounds_ = [*previous, float(log_lik)]
    estimator.n_iter_ = state.n_updates
    estimator.converged_ = False


# --------------------------------------------------------------------------
# BernoulliMixture
# --------------------------------------------------------------------------


def bernoulli_batch_stats(X, sample_weight, weights, means, dtype, unit_weight):
    """E-step of one batch: normalised statistics, mean log-likelihood, weight.

    Returns ``((nk, xk, missing_k), log_lik, batch_weight)``: the weighted
    sums of the responsibilities, of ``resp.T @ X`` and of the responsibility
    of missing entries (None without NaN), each divided by the batch weight;
    the batch's mean log-likelihood under the incoming parameters; and its
    total sample weight.
    """
    batch_weight = float(sample_weight.sum())
    stats = bernoulli_pass(
        X,
        sample_weight.astype(dtype, copy=False),
        BernoulliParams(weights, means, dtype),
        has_missing=True,
        unit_weight=unit_weight,
    )
    missing = None if stats.missing_k is None else stats.missing_k / batch_weight
    normalised = (stats.nk / batch_weight, stats.xk / batch_weight, missing)
    return normalised, stats.log_lik / batch_weight, batch_weight


def bernoulli_stepwise_m_step(stats, total_weight, alpha, clip_eps):
    """Weights and means from normalised statistics.

    The statistics are scaled back to counts by ``total_weight``, the sample
    weight seen so far, so that ``alpha`` is the same Beta prior as in
    :meth:`BernoulliMixture.fit`: ``means = (N s_x + alpha) / (N s_obs +
    2 alpha)`` with ``N = total_weight``.
    """
    nk, xk, missing_k = stats
    counts = BernoulliStats(nk.shape[0], xk.shape[1])
    counts.add(
        total_weight * nk,
        total_weight * xk,
        None if missing_k is None else total_weight * missing_k,
    )
    return bernoulli_m_step(counts, alpha, clip_eps)


def _bernoulli_starts(estimator, X, sample_weight, dtype, alpha, clip_eps):
    """The `n_init` starting parameters from the first batch, as ``fit`` draws them.

    Only one start is made when both `weights_init` and `means_init` are
    given, since every start would be the same.
    """
    n_components, n_features = estimator.n_components, X.shape[1]
    weights = means = None
    if estimator.weights_init is not None:
        weights = check_weights(estimator.weights_init, n_components)
    if estimator.means_init is not None:
        means = check_probabilities(
            estimator.means_init, "means_init", shape=(n_components, n_features)
        )
    if weights is not None and means is not None:
        yield weights, np.clip(means, clip_eps, 1 - clip_eps)
        return
    if X.shape[0] < n_components:
        raise ValueError(
            "The first batch of partial_fit initialises the model with "
            f"init_params={estimator.init_params!r} and needs at least "
            f"n_components={n_components} rows; got {X.shape[0]}. Give a "
            "larger first batch, or both weights_init and means_init."
        )
    random_state = check_random_state(estimator.random_state)
    for _ in range(estimator.n_init):
        stats = estimator._initial_stats(X, sample_weight, random_state)
        w_resp, m_resp = bernoulli_m_step(stats, alpha, clip_eps)
        start_weights = w_resp if weights is None else weights
        start_means = m_resp if means is None else means
        yield start_weights, np.clip(start_means, clip_eps, 1 - clip_eps)


def bernoulli_partial_fit(estimator, X, sample_weight=None):
    """Body of :meth:`BernoulliMixture.partial_fit` (see its docstring)."""
    validate_params(estimator, estimator._parameter_constraints)
    fitted = hasattr(estimator, "means_")
    X = estimator._validate_X(X, reset=not fitted)
    n_samples = X.shape[0]
    if fitted and estimator.means_.shape[0] != estimator.n_components:
        raise ValueError(
            "partial_fit continues the current model, which has "
            f"{estimator.means_.shape[0]} components, but n_components="
            f"{estimator.n_components}. Call fit, or fit a clone, to start anew."
        )
    sw = check_sample_weight(sample_weight, n_samples)
    dtype = X.dtype
    clip_eps = float(np.finfo(dtype).eps)
    alpha = float(estimator.alpha)
    if fitted:
        starts = [
            (estimator.weights_, np.clip(estimator.means_, clip_eps, 1 - clip_eps))
        ]
    else:
        starts = _bernoulli_starts(estimator, X, sw, dtype, alpha, clip_eps)
    best = None
    for weights, means in starts:
        # Of several starts, keep the one whose parameters explain the batch
        # best (as fit with max_iter=1 would).
        candidate = bernoulli_batch_stats(
            X, sw, weights, means, dtype, unit_weight=sample_weight is None
        )
        if best is None or candidate[1] > best[1]:
            best = candidate
    batch_stats, log_lik, batch_weight = best
    state = _current_state(estimator, estimator.means_) if fitted else None
    continued = state is not None
    if continued:
        state.update(
            batch_stats,
            batch_weight,
            estimator.learning_offset,
            estimator.learning_decay,
        )
    else:
        state = StepwiseState(batch_stats, batch_weight)
    weights, means = bernoulli_stepwise_m_step(
        state.stats, state.total_weight, alpha, clip_eps
    )
    estimator.weights_ = np.asarray(weights, dtype=np.float64)
    estimator.means_ = np.asarray(means, dtype=np.float64)
    state.owner = estimator.means_
    _record(estimator, state, log_lik, continued)
    return estimator


# --------------------------------------------------------------------------
# FixedComponentMixture
# --------------------------------------------------------------------------


def fixed_batch_stats(lik, row_max, sample_weight, weights):
    """E-step of one batch for known components.

    ``lik`` holds the component likelihoods of the batch divided by their row
    maxima ``row_max`` (log scale). Returns ``(mean_resp, log_lik, gap,
    batch_weight)``: the weighted mean responsibilities (the normalised
    statistic, summing to one), the mean log-likelihood and the certified gap
    bound ``log(max_k g_k)`` of the incoming weights on this batch, and the
    batch's total weight.
    """
    batch_weight = float(sample_weight.sum())
    freq = sample_weight / batch_weight
    mix = lik @ weights
    seen = freq > 0
    check_explained(
        mix, seen, weights_name="current", row_name=lambda i: f"row {i} of the batch"
    )
    ratio = np.zeros_like(mix)
    np.divide(freq, mix, out=ratio, where=seen)
    g = lik.T @ ratio
    mean_resp = weights * g
    with np.errstate(divide="ignore"):
        log_lik = float(freq[seen] @ (np.log(mix[seen]) + row_max[seen]))
    return mean_resp, log_lik, float(np.log(g.max())), batch_weight


def fixed_partial_fit(estimator, X, sample_weight=None):
    """Body of :meth:`FixedComponentMixture.partial_fit` (see its docstring)."""
    from ._em import _zero_likelihood_error

    validate_params(estimator, estimator._parameter_constraints)
    fitted = hasattr(estimator, "weights_")
    X = estimator._validate_X(X, reset=not fitted)
    if not fitted:
        estimator._components = estimator._resolve()
    sw = check_sample_weight(sample_weight, X.shape[0])
    log_lik = estimator._components.log_likelihood(X)
    n_components = log_lik.shape[1]
    row_max = log_lik.max(axis=1)
    impossible = np.flatnonzero(~np.isfinite(row_max))
    if impossible.size:
        raise _zero_likelihood_error(impossible)
    lik = np.exp(log_lik - row_max[:, None])
    if fitted:
        weights = estimator.weights_
    elif estimator.weights_init is not None:
        weights = check_weights(estimator.weights_init, n_components)
    elif estimator.init_params == "random":
        weights = check_random_state(estimator.random_state).dirichlet(
            np.ones(n_components)
        )
    else:
        weights = np.full(n_components, 1 / n_components)
    mean_resp, batch_log_lik, gap, batch_weight = fixed_batch_stats(
        lik, row_max, sw, weights
    )
    state = _current_state(estimator, estimator.weights_) if fitted else None
    continued = state is not None
    if continued:
        state.update(
            (mean_resp,),
            batch_weight,
            estimator.learning_offset,
            estimator.learning_decay,
        )
    else:
        state = StepwiseState((mean_resp,), batch_weight)
    (running,) = state.stats
    estimator.weights_ = running / running.sum()
    estimator.n_components_ = n_components
    estimator.gap_bound_ = gap
    # Stepwise EM sees each batch once, under the weights of its time, and
    # cannot tell new samples from repeated ones (epochs): the observed
    # information of the data is not available, so neither are the errors.
    estimator.weights_covariance_ = np.full((n_components, n_components), np.nan)
    estimator.weights_stderr_ = np.full(n_components, np.nan)
    state.owner = estimator.weights_
    _record(estimator, state, batch_log_lik, continued)
    return estimator
