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

The running average is a :class:`Stats`, so the same update serves every
family (``_learned.py`` writes ``partial_fit`` once for the learned
families); ``fixed_partial_fit`` is the body of
:meth:`FixedComponentMixture.partial_fit`.

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

from ._blocks import Stats, zero_likelihood_error
from ._solvers import check_explained
from ._validation import check_sample_weight, check_weights, validate_params
from ._xp import namespace_of


def step_size(t, learning_offset, learning_decay):
    """Step size ``(learning_offset + t) ** (-learning_decay)`` of update ``t``.

    ``t >= 1`` counts the updates after the first batch.
    """
    return float((learning_offset + t) ** (-learning_decay))


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
        self.stats = self.stats * (1.0 - eta) + batch_stats * eta
        self.n_updates += 1
        self.total_weight += float(batch_weight)
        return eta


def current_state(estimator, params):
    state = getattr(estimator, "_stepwise", None)
    if state is None or state.owner is not params:
        return None
    return state


def record_step(estimator, state, log_lik, continued):
    estimator._stepwise = state
    estimator.lower_bound_ = float(log_lik)
    previous = estimator.lower_bounds_ if continued else []
    estimator.lower_bounds_ = [*previous, float(log_lik)]
    estimator.n_iter_ = state.n_updates
    estimator.converged_ = False


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
    validate_params(estimator, estimator._parameter_constraints)
    if namespace_of(X) is not None:
        raise TypeError(
            "partial_fit takes NumPy arrays (or anything NumPy converts); "
            "Array API input is fitted with fit. Give the batches as NumPy "
            "arrays, or fit on the whole array."
        )
    fitted = hasattr(estimator, "weights_")
    fitted_with = getattr(estimator, "_fitted_components", estimator.components)
    if fitted and fitted_with is not estimator.components:
        raise ValueError(
            "partial_fit continues the current model, but components was "
            "changed (set_params) since it was fitted. Call fit, or fit a "
            "clone, to start anew with the new components."
        )
    X = estimator._validate_X(X, reset=not fitted)
    if not fitted:
        estimator._components = estimator._resolve()
        estimator._fitted_components = estimator.components
    sw = check_sample_weight(sample_weight, X.shape[0])
    log_lik = estimator._components.log_likelihood(X)
    n_components = log_lik.shape[1]
    row_max = log_lik.max(axis=1)
    impossible = np.flatnonzero(~np.isfinite(row_max))
    if impossible.size:
        raise zero_likelihood_error(impossible)
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
    state = current_state(estimator, estimator.weights_) if fitted else None
    continued = state is not None
    if continued:
        state.update(
            Stats(resp=mean_resp),
            batch_weight,
            estimator.learning_offset,
            estimator.learning_decay,
        )
    else:
        state = StepwiseState(Stats(resp=mean_resp), batch_weight)
    running = state.stats["resp"]
    estimator.weights_ = running / running.sum()
    estimator.n_components_ = n_components
    estimator.gap_bound_ = gap
    # Stepwise EM sees each batch once, under the weights of its time, and
    # cannot tell new samples from repeated ones (epochs): the observed
    # information of the data is not available, so neither are the errors.
    estimator.weights_covariance_ = np.full((n_components, n_components), np.nan)
    estimator.weights_stderr_ = np.full(n_components, np.nan)
    estimator._interval_data_ = None
    state.owner = estimator.weights_
    record_step(estimator, state, batch_log_lik, continued)
    return estimator
