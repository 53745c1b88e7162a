/* C part of sklearn_bernoulli_mix._kernels: the fused E and M pass of a
 * Bernoulli mixture over one chunk of rows, in float64 and float32.
 *
 * Written with GCC/Clang vector extensions (64-byte vectors, lowered to
 * whatever the target has). On x86-64 Linux with GCC, the chunk functions
 * are compiled for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the
 * baseline, and the loader picks the best one for the running CPU.
 */
#ifndef SBM_KERNELS_IMPL_H
#define SBM_KERNELS_IMPL_H

#include <Python.h> /* PyMem_RawMalloc: scratch memory that tracemalloc sees */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if !defined(__GNUC__) && !defined(__clang__)
#error "sklearn_bernoulli_mix._kernels needs a C compiler with GCC vector extensions (GCC or Clang)"
#endif

#define SBM_INLINE inline __attribute__((always_inline))
#define SBM_RESTRICT __restrict__

/* Not when the build flags already target AVX2 or more (-march=native):
 * then the baseline is good, and GCC 12 fails on some clones. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && __GNUC__ >= 11 && !defined(__AVX2__)
#define SBM_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SBM_CLONES
#endif

enum { SBM_X_F64 = 0, SBM_X_F32 = 1, SBM_X_U8 = 2, SBM_X_I8 = 3 };
enum { SBM_F64 = 0, SBM_F32 = 1 };
#define SBM_MAX_KV 8
#define SBM_MALLOC(n) PyMem_RawMalloc(n)
#define SBM_FREE(p) PyMem_RawFree(p)

typedef struct {
    /* dense: X, rs, cs (element strides); CSR: X = data, indptr, indices */
    const void *X;
    ptrdiff_t rs, cs;
    const int64_t *indptr;
    const int32_t *ind32;
    const int64_t *ind64;
    int xkind, fkind;
    int xsize;         /* bytes of one element of X */
    int d, K;          /* features, components */
    int dp, kp, bp;    /* padded features, padded components, block rows */
    const void *wt;    /* (d x kp) log-odds, padding 0 */
    const void *lqt;   /* (d x kp) log(1 - p), padding 0 */
    const void *bias;  /* (kp) bias, padding -inf */
    const double *sw;  /* (n) sample weights or NULL */
    int has_missing;
    int copy_block; /* 1: always copy blocks (the in-place read off) */
} sbm_args;

/* ---- float64 ------------------------------------------------------------ */
#define FT double
#define SUF d
#define SBM_XKIND_SELF SBM_X_F64
#define IT int64_t
#define VL 8
#define MANT 52
#define EBIAS 1023
#define SHIFT 6755399441055744.0
#define TINY 2.2250738585072014e-308
#define LOG_TINY (-708.39641853226408)
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define EXP_COEFS 1.0 / 1, 1.0 / 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800
#define LOG_COEFS 1.0 / 1, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23
#include "_kernels_tmpl.h"
#undef FT
#undef SUF
#undef SBM_XKIND_SELF
#undef IT
#undef VL
#undef MANT
#undef EBIAS
#undef SHIFT
#undef TINY
#undef LOG_TINY
#undef LN2_HI
#undef LN2_LO
#undef EXP_COEFS
#undef LOG_COEFS

/* ---- float32 ------------------------------------------------------------ */
#define FT float
#define SUF f
#define SBM_XKIND_SELF SBM_X_F32
#define IT int32_t
#define VL 16
#define MANT 23
#define EBIAS 127
#define SHIFT 12582912.0f
#define TINY 1.17549435e-38f
#define LOG_TINY (-87.3365448f)
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
#define EXP_COEFS 1.0 / 1, 1.0 / 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320
#define LOG_COEFS 1.0 / 1, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11
#include "_kernels_tmpl.h"
#undef FT
#undef SUF
#undef SBM_XKIND_SELF
#undef IT
#undef VL
#undef MANT
#undef EBIAS
#undef SHIFT
#undef TINY
#undef LOG_TINY
#undef LN2_HI
#undef LN2_LO
#undef EXP_COEFS
#undef LOG_COEFS

/* Lanes of one vector for the computation type: the padding unit of kp and
 * dp. */
static int sbm_lanes(int fkind) { return fkind == SBM_F64 ? 8 : 16; }

static int sbm_dense_chunk(const sbm_args *a, ptrdiff_t r0, ptrdiff_t r1,
                           double *out)
{
    return a->fkind == SBM_F64 ? dense_chunk_d(a, r0, r1, out)
                               : dense_chunk_f(a, r0, r1, out);
}

static int sbm_csr_chunk(const sbm_args *a, ptrdiff_t r0, ptrdiff_t r1,
                         double *out)
{
    return a->fkind == SBM_F64 ? csr_chunk_d(a, r0, r1, out)
                               : csr_chunk_f(a, r0, r1, out);
}

#endif
