# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled fused E and M pass of a Bernoulli mixture (see ``_fast.py``).

The rows of X are cut into chunks of a fixed number of rows (a function of
the number of features and the computation dtype only). Each chunk's
statistics are computed by one thread into its own buffer, and the buffers
are added up in chunk order, so the result does not depend on the number of
threads.
"""

from cython.parallel import prange

import numpy as np

from libc.stdint cimport int32_t, int64_t, uintptr_t


cdef extern from "_kernels_impl.h" nogil:
    ctypedef struct sbm_args:
        const void *X
        Py_ssize_t rs
        Py_ssize_t cs
        const int64_t *indptr
        const int32_t *ind32
        const int64_t *ind64
        int xkind
        int fkind
        int xsize
        int d
        int K
        int dp
        int kp
        int bp
        const void *wt
        const void *lqt
        const void *bias
        const double *sw
        int has_missing
        int copy_block
    int sbm_lanes(int fkind)
    int sbm_dense_chunk(const sbm_args *a, Py_ssize_t r0, Py_ssize_t r1, double *out)
    int sbm_csr_chunk(const sbm_args *a, Py_ssize_t r0, Py_ssize_t r1, double *out)


cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int sbm_openmp(void) { return 1; }
    static int sbm_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int sbm_openmp(void) { return 0; }
    static int sbm_max_threads(void) { return 1; }
    #endif
    """
    int sbm_openmp() nogil
    int sbm_max_threads() nogil


# Bytes of one block of X converted to the computation dtype: kept in L2.
_BLOCK_BYTES = 1 << 18
# Blocks per chunk (dense) and rows per chunk (CSR).
_CHUNK_BLOCKS = 16
_CSR_BLOCK_ROWS = 1024
_CSR_CHUNK_ROWS = 8192
# Memory for the per-chunk partial sums alive at once.
_PARTIAL_BYTES = 1 << 22

_X_KINDS = {
    np.dtype(np.float64): 0,
    np.dtype(np.float32): 1,
    np.dtype(np.uint8): 2,
    np.dtype(np.bool_): 2,
    np.dtype(np.int8): 3,
}


def openmp_enabled():
    """True when the extension was built with OpenMP."""
    return bool(sbm_openmp())


def openmp_max_threads():
    """``omp_get_max_threads()``: the OpenMP limit, which threadpoolctl sets."""
    return sbm_max_threads()


cdef uintptr_t _address(a):
    return <uintptr_t> a.__array_interface__["data"][0]


def _padded_params(log_odds, bias, log_q, fdtype, int lanes):
    K, d = log_odds.shape
    kp = (K + lanes - 1) // lanes * lanes
    wt = np.zeros((d, kp), dtype=fdtype)
    wt[:, :K] = log_odds.T
    lqt = np.zeros((d, kp), dtype=fdtype)
    lqt[:, :K] = log_q.T
    bias_p = np.full(kp, -np.inf, dtype=fdtype)
    bias_p[:K] = bias
    return wt, lqt, bias_p, kp


cdef object _run(sbm_args *a, Py_ssize_t n, Py_ssize_t chunk_rows, Py_ssize_t P,
                 int n_threads, bint csr):
    """Chunks in rounds of G, each round in parallel; sums in chunk order."""
    cdef Py_ssize_t n_chunks = (n + chunk_rows - 1) // chunk_rows
    cdef Py_ssize_t G = max(1, min(n_chunks, max(n_threads, _PARTIAL_BYTES // (8 * P))))
    parts_arr = np.empty((G, P), dtype=np.float64)
    total_arr = np.zeros(P, dtype=np.float64)
    errors_arr = np.zeros(G, dtype=np.int32)
    cdef double[:, ::1] parts = parts_arr
    cdef double[::1] total = total_arr
    cdef int[::1] errors = errors_arr
    cdef Py_ssize_t r0, c, m, q, start, stop
    cdef int err = 0
    cdef int nt = max(1, n_threads)
    for r0 in range(0, n_chunks, G):
        m = min(G, n_chunks - r0)
        with nogil:
            for c in prange(m, num_threads=nt, schedule="static"):
                start = (r0 + c) * chunk_rows
                stop = min(start + chunk_rows, n)
                if csr:
                    errors[c] = sbm_csr_chunk(a, start, stop, &parts[c, 0])
                else:
                    errors[c] = sbm_dense_chunk(a, start, stop, &parts[c, 0])
            for c in range(m):
                err |= errors[c]
                for q in range(P):
                    total[q] += parts[c, q]
    if err:
        raise MemoryError("sklearn_bernoulli_mix._kernels: out of memory")
    return total_arr


def dense_stats(X, log_odds, bias, log_q, sample_weight, bint has_missing,
                int n_threads):
    """Statistics of a dense X; see ``_fast.bernoulli_stats``.

    ``log_odds`` and ``log_q`` are (K, d), ``bias`` (K,), all in the
    computation dtype (float64 or float32); ``sample_weight`` is a float64
    (n,) array or None. Returns ``(nk, xk, missing_k or None, log_lik)``.
    """
    cdef sbm_args a
    fdtype = log_odds.dtype
    cdef int fkind = 0 if fdtype == np.float64 else 1
    cdef int lanes = sbm_lanes(fkind)
    cdef int K = log_odds.shape[0]
    cdef int d = log_odds.shape[1]
    cdef Py_ssize_t n = X.shape[0]
    xkind = _X_KINDS[X.dtype]
    wt, lqt, bias_p, kp = _padded_params(log_odds, bias, log_q, fdtype, lanes)
    cdef int dp = max(lanes, (d + lanes - 1) // lanes * lanes)
    cdef int bp = (_BLOCK_BYTES // (dp * fdtype.itemsize)) // 8 * 8
    bp = max(8, min(4096, bp))
    a.X = <const void *> _address(X)
    a.rs = X.strides[0] // X.itemsize
    a.cs = X.strides[1] // X.itemsize
    a.indptr = NULL
    a.ind32 = NULL
    a.ind64 = NULL
    a.xkind = xkind
    a.xsize = X.itemsize
    a.fkind = fkind
    a.d = d
    a.K = K
    a.dp = dp
    a.kp = kp
    a.bp = bp
    a.wt = <const void *> _address(wt)
    a.lqt = <const void *> _address(lqt)
    a.bias = <const void *> _address(bias_p)
    a.sw = NULL if sample_weight is None else <const double *> _address(sample_weight)
    a.has_missing = bool(has_missing and xkind in (0, 1))
    a.copy_block = 0
    cdef Py_ssize_t P = 2 + K + K * d * (2 if a.has_missing else 1)
    total = _run(&a, n, bp * _CHUNK_BLOCKS, P, n_threads, False)
    nk = total[2:2 + K].copy()
    xk = total[2 + K:2 + K + K * d].reshape(K, d).copy()
    missing_k = None
    if total[1] != 0:
        missing_k = total[2 + K + K * d:].reshape(K, d).copy()
    return nk, xk, missing_k, float(total[0])


def csr_stats(data, indices, indptr, int n_features, log_odds, bias, log_q,
              sample_weight, bint has_missing, int n_threads):
    """Statistics of a CSR X given by its arrays; see ``_fast.bernoulli_stats_csr``.

    ``data`` float64 or float32, ``indices`` int32 or int64, ``indptr``
    int64 (n + 1,).
    """
    cdef sbm_args a
    fdtype = log_odds.dtype
    cdef int fkind = 0 if fdtype == np.float64 else 1
    cdef int lanes = sbm_lanes(fkind)
    cdef int K = log_odds.shape[0]
    cdef int d = n_features
    cdef Py_ssize_t n = indptr.shape[0] - 1
    wt, lqt, bias_p, kp = _padded_params(log_odds, bias, log_q, fdtype, lanes)
    a.X = <const void *> _address(data)
    a.rs = 0
    a.cs = 0
    a.indptr = <const int64_t *> _address(indptr)
    a.ind32 = NULL
    a.ind64 = NULL
    if indices.dtype == np.int32:
        a.ind32 = <const int32_t *> _address(indices)
    else:
        a.ind64 = <const int64_t *> _address(indices)
    a.xkind = _X_KINDS[data.dtype]
    a.xsize = data.itemsize
    a.fkind = fkind
    a.d = d
    a.K = K
    a.dp = 0
    a.kp = kp
    a.bp = _CSR_BLOCK_ROWS
    a.wt = <const void *> _address(wt)
    a.lqt = <const void *> _address(lqt)
    a.bias = <const void *> _address(bias_p)
    a.sw = NULL if sample_weight is None else <const double *> _address(sample_weight)
    a.has_missing = bool(has_missing)
    a.copy_block = 0
    cdef Py_ssize_t P = 2 + K + d * kp * (2 if a.has_missing else 1)
    total = _run(&a, n, _CSR_CHUNK_ROWS, P, n_threads, True)
    nk = total[2:2 + K].copy()
    xk = total[2 + K:2 + K + d * kp].reshape(d, kp)[:, :K].T.copy()
    missing_k = None
    if total[1] != 0:
        missing_k = total[2 + K + d * kp:].reshape(d, kp)[:, :K].T.copy()
    return nk, xk, missing_k, float(total[0])
