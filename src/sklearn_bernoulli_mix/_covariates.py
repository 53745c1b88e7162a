"""Class membership on covariates: the multinomial logit of latent class regression.

Pure maths, no estimator: the prior class probabilities of each row,
``P(class = k | z) = softmax_k(z1 @ beta.T)`` with ``z1 = [1, z]`` and
``beta`` of shape (n_components, 1 + n_covariates) whose first row (the
reference class) is zero, the Newton M-step that raises the expected
complete-data log-likelihood ``sum_i sw_i sum_k r_ik log pi_ik``, and the
observed information of the observed-data log-likelihood in ``beta``.

The free parameters are ``beta[1:]`` read row by row (class 1's intercept
and slopes, then class 2's, ...); every matrix below is in that order.
"""

import numpy as np
from scipy.special import logsumexp

#: Newton steps of one M-step at most (each raises the objective).
MAX_NEWTON_STEPS = 10
#: Newton decrement (``g' H^-1 g``, twice the gain still to be had) per unit
#: of sample weight below which the M-step stops after its step.
NEWTON_DECREMENT_TOL = 1e-14
#: Halvings of a Newton step before giving up on it.
MAX_HALVINGS = 40
#: Eigenvalues of the information below this fraction of the largest are
#: directions the data do not identify (e.g. an all-zero covariate).
RANK_TOL = 1e-10


def with_intercept(Z):
    """``[1, Z]``: the design of the multinomial logit (float64)."""
    return np.hstack([np.ones((Z.shape[0], 1)), np.asarray(Z, dtype=np.float64)])


def log_prior(Z1, beta):
    """Log prior class probabilities (rows, n_components) of design rows."""
    eta = Z1 @ beta.T
    return eta - logsumexp(eta, axis=1, keepdims=True)


def start_beta(weights, n_columns):
    """Coefficients giving every row the prior ``weights`` (slopes zero)."""
    weights = np.maximum(np.asarray(weights, dtype=np.float64), np.finfo(float).tiny)
    beta = np.zeros((weights.shape[0], n_columns))
    beta[:, 0] = np.log(weights) - np.log(weights[0])
    return beta


def expected_log_prior(Z1, beta, weighted_resp):
    """``sum_i sw_i sum_k r_ik log pi_ik``: the M-step objective in ``beta``."""
    with np.errstate(under="ignore"):
        return float(np.sum(weighted_resp * log_prior(Z1, beta)))


def _information(Z1, probs, sw):
    """``sum_i sw_i (diag p_i - p_i p_i') (x) z_i z_i'`` over classes 1..K-1.

    ``probs`` (rows, K - 1) holds the probabilities of the non-reference
    classes; the result is square of side ``(K - 1) * n_columns``.
    """
    n_rows, q = Z1.shape
    m = probs.shape[1]
    weighted = sw[:, None] * probs
    blocks = np.einsum("ik,ia,ib->kab", weighted, Z1, Z1, optimize=True)
    info = np.zeros((m * q, m * q))
    for k in range(m):
        info[k * q : (k + 1) * q, k * q : (k + 1) * q] = blocks[k]
    outer = (probs[:, :, None] * Z1[:, None, :]).reshape(n_rows, m * q)
    info -= outer.T @ (sw[:, None] * outer)
    return info


def _pseudo_solve(info, grad):
    """``info^+ grad`` on the directions the data identify (info symmetric PSD)."""
    values, vectors = np.linalg.eigh(info)
    keep = values > RANK_TOL * max(values.max(initial=0.0), np.finfo(float).tiny)
    inverse = np.where(keep, 1.0 / np.where(keep, values, 1.0), 0.0)
    return vectors @ (inverse * (vectors.T @ grad))


def newton_m_step(Z1, beta, resp, sw):
    """Coefficients that raise ``sum_i sw_i sum_k r_ik log pi_ik(beta)``.

    Up to :data:`MAX_NEWTON_STEPS` Newton steps with the exact Hessian of
    the multinomial logit, each halved until the objective does not
    decrease, so that EM with this M-step is a generalised EM and the
    observed-data log-likelihood never decreases. Directions the data do
    not identify (a covariate that is constant zero, a class no row
    belongs to) are left as they are.
    """
    beta = np.array(beta, dtype=np.float64)
    n_components, q = beta.shape
    if n_components == 1:
        return beta
    weighted = resp * sw[:, None]
    total = float(sw.sum())
    objective = expected_log_prior(Z1, beta, weighted)
    for _ in range(MAX_NEWTON_STEPS):
        with np.errstate(under="ignore"):
            probs = np.exp(log_prior(Z1, beta))
        grad = ((weighted - sw[:, None] * probs)[:, 1:].T @ Z1).ravel()
        step = _pseudo_solve(_information(Z1, probs[:, 1:], sw), grad)
        decrement = float(grad @ step)
        if not decrement > 0:
            break
        slack = 1e-13 * (1.0 + abs(objective))
        t = 1.0
        for _ in range(MAX_HALVINGS):
            trial = beta.copy()
            trial[1:] += t * step.reshape(n_components - 1, q)
            value = expected_log_prior(Z1, trial, weighted)
            if value >= objective - slack:
                break
            t /= 2
        else:
            break
        beta, objective = trial, max(value, objective)
        if decrement <= NEWTON_DECREMENT_TOL * max(total, 1.0):
            break
    return beta


def observed_information(Z1, beta, resp, sw):
    """Observed information of ``sum_i sw_i log p(x_i | z_i)`` in ``beta[1:]``.

    The exact negative Hessian in the coefficients with the item
    parameters held at their values: per row, the Hessian of
    ``log sum_k pi_ik(beta) f_k(x_i)`` in the linear predictors is
    ``(diag r_i - r_i r_i') - (diag pi_i - pi_i pi_i')``, with ``r_i``
    the posterior and ``pi_i`` the prior class probabilities.
    """
    with np.errstate(under="ignore"):
        probs = np.exp(log_prior(Z1, beta))
    return _information(Z1, probs[:, 1:], sw) - _information(Z1, resp[:, 1:], sw)


def standard_errors(info, n_components, n_columns):
    """Standard errors (n_components, n_columns) from the information matrix.

    Row 0 (the reference class, fixed at zero) is 0. A parameter in a
    direction the information does not identify is NaN; the second return
    value is the boolean mask (n_components, n_columns) of those.
    """
    out = np.zeros((n_components, n_columns))
    unidentified = np.zeros((n_components, n_columns), dtype=bool)
    if n_components == 1:
        return out, unidentified
    values, vectors = np.linalg.eigh((info + info.T) / 2)
    keep = values > RANK_TOL * max(values.max(initial=0.0), np.finfo(float).tiny)
    variance = (vectors[:, keep] ** 2 / values[keep]).sum(axis=1)
    null = (np.abs(vectors[:, ~keep]) > 1e-8).any(axis=1)
    se = np.where(null, np.nan, np.sqrt(variance))
    out[1:] = se.reshape(n_components - 1, n_columns)
    unidentified[1:] = null.reshape(n_components - 1, n_columns)
    return out, unidentified


#: Above this many parameters (logit coefficients and item probabilities),
#: the standard errors of the coefficients hold the item parameters fixed
#: instead of forming the full information matrix.
MAX_FULL_INFORMATION = 3000


class LouisInformation:
    """Observed information of every parameter by Louis' formula, row block by block.

    The parameters are the free logit coefficients ``beta[1:]`` (in the
    module's order) and then, class by class, the natural parameters of
    every category of every item (item ``j``'s categories at
    ``offsets[j]:offsets[j + 1]`` of the indicator coding, class ``k``'s
    category probabilities ``probs[k]``): ``log p_kjc = eta_kjc -
    log sum_c' exp(eta_kjc')``. That over-parameterises each item by one
    direction (a common shift), which the information has as a null
    direction and which does not touch ``beta``.

    Louis (1982): the observed information is the expected complete-data
    information minus the conditional covariance of the complete-data
    score, both given the observed answers and covariates of each row.
    """

    def __init__(self, n_columns, probs, offsets):
        self.probs = np.asarray(probs, dtype=np.float64)
        self.offsets = np.asarray(offsets)
        self.n_components, self.n_indicators = self.probs.shape
        self.n_columns = n_columns
        self.n_beta = (self.n_components - 1) * n_columns
        self.n_parameters = self.n_beta + self.n_components * self.n_indicators
        self.covariance = np.zeros((self.n_parameters, self.n_parameters))
        self.beta_information = np.zeros((self.n_beta, self.n_beta))
        self.n_observed = np.zeros((self.n_components, self.n_indicators))

    def _eta(self, k):
        start = self.n_beta + k * self.n_indicators
        return slice(start, start + self.n_indicators)

    def add(self, Z1, prior, resp, sw, answers, observed):
        """Add rows: their design, prior and posterior, weights and indicators."""
        n_rows, q = Z1.shape
        K = self.n_components
        residual = answers[:, None, :] - observed[:, None, :] * self.probs[None]
        expected = np.hstack(
            [
                (resp[:, 1:, None] * Z1[:, None, :]).reshape(n_rows, -1),
                (resp[:, :, None] * residual).reshape(n_rows, -1),
            ]
        )
        # Sum over rows of Cov(S | row) = E[S S'] - E[S] E[S]'.
        cov = -(expected.T @ (sw[:, None] * expected))
        weighted = sw[:, None] * resp
        for k in range(K):
            eta = self._eta(k)
            u = residual[:, k, :]
            wk = weighted[:, k : k + 1]
            cov[eta, eta] += u.T @ (wk * u)
            if k >= 1:
                b = slice((k - 1) * q, k * q)
                cov[b, b] += Z1.T @ (wk * Z1)
                cross = Z1.T @ (wk * u)
                cov[b, eta] += cross
                cov[eta, b] += cross.T
        self.covariance += cov
        if K > 1:
            self.beta_information += _information(Z1, prior[:, 1:], sw)
        self.n_observed += weighted.T @ observed

    def matrix(self):
        """The observed information (n_parameters, n_parameters)."""
        info = -self.covariance
        info[: self.n_beta, : self.n_beta] += self.beta_information
        for k in range(self.n_components):
            eta = self._eta(k)
            block = info[eta, eta]
            for a, b in zip(self.offsets[:-1], self.offsets[1:]):
                p = self.probs[k, a:b]
                n = self.n_observed[k, a]
                block[a:b, a:b] += n * (np.diag(p) - np.outer(p, p))
            info[eta, eta] = block
        return info


def profile_information(info, n_first):
    """Information of the first ``n_first`` parameters with the others estimated.

    The Schur complement ``A - B C^+ B'`` of the others' block ``C``; its
    inverse is the first parameters' block of the inverse of ``info``
    (directions that ``C`` does not identify are left out of ``C^+``).
    """
    A = info[:n_first, :n_first]
    B = info[:n_first, n_first:]
    C = info[n_first:, n_first:]
    values, vectors = np.linalg.eigh((C + C.T) / 2)
    keep = values > RANK_TOL * max(values.max(initial=0.0), np.finfo(float).tiny)
    projected = vectors[:, keep].T @ B.T
    return A - projected.T @ (projected / values[keep][:, None])
