"""Mixing-weight solvers: plain functions on a scaled likelihood matrix.

Every function here works on ``lik``, the (n_rows, n_components) matrix of
component likelihoods with each row divided by its maximum (so entries are in
[0, 1] and every row has a 1), and ``freq``, the row frequencies summing to one.
The mean log-likelihood of weights ``w`` is then
``freq @ log(lik @ w) + freq @ row_max_log``; the constant second term is left
to the caller.
"""

import numpy as np


def em_step(lik, freq, weights):
    """One EM update of the weights, with the certificate of the incoming weights.

    With ``g = lik.T @ (freq / (lik @ weights))`` the EM update is
    ``weights * g``. By Jensen's inequality, for any weights ``w*`` on the
    simplex, ``f(w*) - f(weights) <= log(sum_k w*_k g_k) <= log(max_k g_k)``,
    so ``log(max(g))`` bounds how far the mean log-likelihood of ``weights``
    (and of the update, which is never worse) is from the maximum.

    Returns
    -------
    new_weights : ndarray of shape (n_components,)
    log_lik : float
        Scaled mean log-likelihood of the incoming ``weights``.
    gap_bound : float
        ``log(max(g))``, an upper bound on the optimality gap.
    """
    mix = lik @ weights
    with np.errstate(divide="ignore"):
        log_lik = float(freq @ np.log(mix))
    g = lik.T @ (freq / mix)
    new_weights = weights * g
    new_weights /= new_weights.sum()
    return new_weights, log_lik, float(np.log(g.max()))


def gap_bound(lik, freq, weights):
    """Certified upper bound on the optimality gap of ``weights`` (see em_step)."""
    g = lik.T @ (freq / (lik @ weights))
    return float(np.log(g.max()))


def weights_information(lik, counts, weights):
    """Observed Fisher information of the free mixing proportions.

    The last-but-free parametrisation drops component ``ref`` (the one with the
    largest weight): ``w_ref = 1 - sum of the others``. The log-likelihood is
    ``sum_i c_i log(lik_i @ w)``; its negative Hessian with respect to the
    free proportions is ``sum_i c_i d_i d_i^T`` with
    ``d_i = (lik_i[free] - lik_i[ref]) / (lik_i @ w)``.

    Returns
    -------
    info : ndarray of shape (n_components - 1, n_components - 1)
    ref : int
    """
    ref = int(np.argmax(weights))
    free = np.delete(np.arange(lik.shape[1]), ref)
    d = (lik[:, free] - lik[:, [ref]]) / (lik @ weights)[:, None]
    return (d * counts[:, None]).T @ d, ref


def weights_covariance(lik, counts, weights):
    """Asymptotic covariance of the weights from the observed information.

    Returns ``(cov, identifiable)``. ``cov`` has shape
    (n_components, n_components), is singular along the simplex (its rows
    sum to zero) and is all NaN when the information matrix is singular,
    i.e. when the data cannot tell some components apart.
    """
    n_components = lik.shape[1]
    if n_components == 1:
        return np.zeros((1, 1)), True
    info, ref = weights_information(lik, counts, weights)
    eigval, eigvec = np.linalg.eigh(info)
    if (
        not np.all(np.isfinite(eigval))
        or eigval[0] <= eigval[-1] * 1e-10 * n_components
    ):
        return np.full((n_components, n_components), np.nan), False
    inv_info = (eigvec / eigval) @ eigvec.T
    free = np.delete(np.arange(n_components), ref)
    # w = J theta + e_ref with J mapping the free proportions to all weights.
    jac = np.zeros((n_components, n_components - 1))
    jac[free, np.arange(n_components - 1)] = 1.0
    jac[ref, :] = -1.0
    return jac @ inv_info @ jac.T, True
