/* Fused E and M pass of a Bernoulli mixture over row chunks, for one
 * floating-point type of computation.
 *
 * Included by _kernels_impl.h once per type, with these macros set:
 *   FT      the floating-point type of the computation (double or float)
 *   SUF     a suffix for the names defined here (d or f)
 *   IT      the signed integer type of the width of FT
 *   VL      lanes of a 64-byte vector of FT
 *   MANT    mantissa bits, EBIAS exponent bias, SHIFT round-to-integer
 *           constant (1.5 * 2**MANT)
 *   TINY    the smallest normal FT; LOG_TINY its logarithm
 *   EXP_COEFS    Taylor coefficients of exp(r), for |r| <= log(2)/2
 *   LOG_COEFS    coefficients of log(m) = 2 s sum_i c_i s**(2 i),
 *                s = (m - 1) / (m + 1), for m in [sqrt(1/2), sqrt(2)]
 *
 * Layout of a block of rows: XF (rows x dp) holds the block converted to FT
 * with NaN set to 0, MF the same shape holds 1 where X is NaN; LT (rows x
 * kp) holds the per-component log-likelihoods, then the responsibilities
 * (components along the row, padded with -inf / 0 to kp lanes).
 */

#define SBM_CAT_(a, b) a##_##b
#define SBM_CAT(a, b) SBM_CAT_(a, b)
#define FN(name) SBM_CAT(name, SUF)

typedef FT FN(vec) __attribute__((vector_size(64)));
typedef FT FN(uvec) __attribute__((vector_size(64), aligned(sizeof(FT)), may_alias));
typedef IT FN(ivec) __attribute__((vector_size(64)));

static SBM_INLINE FN(vec) FN(vload)(const FT *p) { return *(const FN(uvec) *)p; }

static SBM_INLINE void FN(vstore)(FT *p, FN(vec) v) { *(FN(uvec) *)p = v; }

static SBM_INLINE FN(vec) FN(vsplat)(FT s)
{
    FN(vec) v = {0};
    return v + s;
}

static SBM_INLINE FN(vec) FN(horner)(const double *c, int n, FN(vec) r)
{
    FN(vec) p = FN(vsplat)((FT)c[n - 1]);
    for (int i = n - 2; i >= 0; i--) p = p * r + (FT)c[i];
    return p;
}

static const double FN(exp_coefs)[] = {EXP_COEFS};
static const double FN(log_coefs)[] = {LOG_COEFS};
#define SBM_NC(a) ((int)(sizeof(a) / sizeof(a[0])))

/* exp(x) for x in [LOG_TINY, 0]; exactly 0 below LOG_TINY (no subnormal). */
static SBM_INLINE FN(vec) FN(vexp)(FN(vec) x)
{
    const FN(vec) lo = FN(vsplat)((FT)LOG_TINY);
    const FN(vec) shift = FN(vsplat)((FT)SHIFT);
    FN(ivec) keep = x >= lo;
    x = (FN(vec))(((FN(ivec))x & keep) | ((FN(ivec))lo & ~keep));
    FN(vec) kd = x * (FT)1.4426950408889634074 + shift;
    FN(ivec) n = (FN(ivec))kd - (FN(ivec))shift;
    kd = kd - shift;
    FN(vec) r = x - kd * (FT)LN2_HI;
    r = r - kd * (FT)LN2_LO;
    FN(vec) p = FN(horner)(FN(exp_coefs), SBM_NC(FN(exp_coefs)), r);
    FN(ivec) scale = (n + (IT)EBIAS) << MANT;
    FN(vec) e = p * (FN(vec))scale;
    return (FN(vec))((FN(ivec))e & keep);
}

/* log(t) for normal positive t. */
static SBM_INLINE FN(vec) FN(vlog)(FN(vec) t)
{
    FN(ivec) bits = (FN(ivec))t;
    FN(ivec) e = (bits >> MANT) - (IT)EBIAS;
    FN(ivec) mbits = (bits & (((IT)1 << MANT) - 1)) | (((IT)EBIAS) << MANT);
    FN(vec) m = (FN(vec))mbits;
    FN(ivec) big = m > (FT)1.41421356237309504880;
    FN(vec) half = m * (FT)0.5;
    m = (FN(vec))(((FN(ivec))half & big) | ((FN(ivec))m & ~big));
    e = e - big; /* big is -1 where true */
    FN(vec) s = (m - (FT)1) / (m + (FT)1);
    FN(vec) s2 = s * s;
    FN(vec) series = FN(horner)(FN(log_coefs), SBM_NC(FN(log_coefs)), s2);
    FN(vec) ef = __builtin_convertvector(e, FN(vec));
    return ef * (FT)0.69314718055994530942 + (FT)2 * s * series;
}

/* ---- one block: convert X rows [r0, r0 + nb) into XF (and MF) ---------- */

#define SBM_FILL_LOOP(XTYPE, IS_FLOAT)                                        \
    do {                                                                      \
        const XTYPE *X = (const XTYPE *)a->X;                                 \
        for (int i = 0; i < nb; i++) {                                        \
            const XTYPE *row = X + (r0 + i) * a->rs;                          \
            FT *xf = XF + (size_t)i * dp;                                     \
            if (IS_FLOAT && a->has_missing) {                                 \
                FT *mf = MF + (size_t)i * dp;                                 \
                int rowmiss = 0;                                              \
                for (int j = 0; j < d; j++) {                                 \
                    FT v = (FT)row[j * a->cs];                                \
                    int m = v != v;                                           \
                    rowmiss |= m;                                             \
                    xf[j] = m ? (FT)0 : v;                                    \
                    mf[j] = m ? (FT)1 : (FT)0;                                \
                }                                                             \
                for (int j = d; j < dp; j++) mf[j] = 0;                       \
                anymiss |= rowmiss;                                           \
            } else if (a->cs == 1) {                                          \
                for (int j = 0; j < d; j++) xf[j] = (FT)row[j];               \
            } else {                                                          \
                for (int j = 0; j < d; j++) xf[j] = (FT)row[j * a->cs];       \
            }                                                                 \
            for (int j = d; j < dp; j++) xf[j] = 0;                           \
        }                                                                     \
    } while (0)

static SBM_INLINE int FN(fill_block)(const sbm_args *a, ptrdiff_t r0, int nb,
                                     int d, int dp, FT *XF, FT *MF)
{
    int anymiss = 0;
    switch (a->xkind) {
    case SBM_X_F64: SBM_FILL_LOOP(double, 1); break;
    case SBM_X_F32: SBM_FILL_LOOP(float, 1); break;
    case SBM_X_U8: SBM_FILL_LOOP(uint8_t, 0); break;
    default: SBM_FILL_LOOP(int8_t, 0); break;
    }
    return anymiss;
}

/* ---- E step of a tile: LT[i0:i0+ITc, v0*VL:(v0+KVc)*VL] ----------------- */

#define SBM_E_TILE(ITc, KVc)                                                  \
    do {                                                                      \
        FN(vec) acc[ITc][KVc];                                                \
        for (int t = 0; t < ITc; t++)                                         \
            for (int v = 0; v < KVc; v++)                                     \
                acc[t][v] = FN(vload)(bias + (v0 + v) * VL);                  \
        for (int j = 0; j < d; j++) {                                         \
            FN(vec) w[KVc];                                                   \
            for (int v = 0; v < KVc; v++)                                     \
                w[v] = FN(vload)(wt + (size_t)j * kp + (v0 + v) * VL);        \
            for (int t = 0; t < ITc; t++) {                                   \
                FT x = XS[(size_t)(i0 + t) * ld + j];                         \
                for (int v = 0; v < KVc; v++) acc[t][v] += w[v] * x;          \
            }                                                                 \
        }                                                                     \
        if (miss) {                                                           \
            for (int j = 0; j < d; j++) {                                     \
                FN(vec) w[KVc];                                               \
                for (int v = 0; v < KVc; v++)                                 \
                    w[v] = FN(vload)(lqt + (size_t)j * kp + (v0 + v) * VL);   \
                for (int t = 0; t < ITc; t++) {                               \
                    FT m = MF[(size_t)(i0 + t) * dp + j];                     \
                    for (int v = 0; v < KVc; v++) acc[t][v] -= w[v] * m;      \
                }                                                             \
            }                                                                 \
        }                                                                     \
        for (int t = 0; t < ITc; t++)                                         \
            for (int v = 0; v < KVc; v++)                                     \
                FN(vstore)(LT + (size_t)(i0 + t) * kp + (v0 + v) * VL,        \
                           acc[t][v]);                                        \
    } while (0)

#define SBM_E_GROUP(ITc, KVc)                                                 \
    do {                                                                      \
        int i0 = 0;                                                           \
        for (; i0 + ITc <= nb; i0 += ITc) SBM_E_TILE(ITc, KVc);               \
        for (; i0 < nb; i0++) SBM_E_TILE(1, KVc);                             \
    } while (0)

static SBM_INLINE void FN(e_block)(int nb, int d, int dp, int kp,
                                   const FT *XS, ptrdiff_t ld,
                                   const FT *MF, int miss,
                                   const FT *wt, const FT *lqt,
                                   const FT *bias, FT *LT)
{
    int nv = kp / VL;
    for (int v0 = 0; v0 < nv;) {
        int g = nv - v0;
        if (g >= 4) { SBM_E_GROUP(4, 4); v0 += 4; }
        else if (g == 3) { SBM_E_GROUP(5, 3); v0 += 3; }
        else if (g == 2) { SBM_E_GROUP(6, 2); v0 += 2; }
        else { SBM_E_GROUP(8, 1); v0 += 1; }
    }
}

/* ---- M statistics of a tile: out[k0:k0+KTc, j0:j0+JVc*VL] += R^T S ------
 * S has row stride LD; TAILc = 1 reads the last d - j0 < VL columns one by
 * one (S need not be padded). */

#define SBM_M_TILE(KTc, JVc, TAILc)                                           \
    do {                                                                      \
        FN(vec) acc[KTc][JVc];                                                \
        for (int t = 0; t < KTc; t++)                                         \
            for (int v = 0; v < JVc; v++) acc[t][v] = FN(vsplat)(0);          \
        for (int i = 0; i < nb; i++) {                                        \
            FN(vec) x[JVc];                                                   \
            const FT *srow = S + (size_t)i * ld + j0;                         \
            if (pf < pf_end) {                                                \
                __builtin_prefetch(pf, 0, 2);                                 \
                pf += 64;                                                     \
            }                                                                 \
            if (TAILc) {                                                      \
                FT tmp[VL] = {0};                                             \
                for (int q = 0; q < d - j0; q++) tmp[q] = srow[q];            \
                x[0] = FN(vload)(tmp);                                        \
            } else {                                                          \
                for (int v = 0; v < JVc; v++) x[v] = FN(vload)(srow + v * VL);\
            }                                                                 \
            const FT *r = LT + (size_t)i * kp + k0;                           \
            for (int t = 0; t < KTc; t++) {                                   \
                FT rt = r[t];                                                 \
                for (int v = 0; v < JVc; v++) acc[t][v] += x[v] * rt;         \
            }                                                                 \
        }                                                                     \
        for (int t = 0; t < KTc; t++) {                                       \
            double *o = out + (size_t)(k0 + t) * d;                           \
            for (int v = 0; v < JVc; v++) {                                   \
                FT tmp[VL];                                                   \
                FN(vstore)(tmp, acc[t][v]);                                   \
                int jb = j0 + v * VL;                                         \
                int je = jb + VL < d ? jb + VL : d;                           \
                for (int j = jb; j < je; j++) o[j] += (double)tmp[j - jb];    \
            }                                                                 \
        }                                                                     \
    } while (0)

/* Column tiles of JVc vectors, then single vectors, then the tail; at least
 * 8 independent accumulators per tile keep the FMA units busy. */
#define SBM_M_ROWGROUP(KTc, JVc)                                              \
    do {                                                                      \
        int j0 = 0;                                                           \
        for (; j0 + JVc * VL <= d; j0 += JVc * VL) SBM_M_TILE(KTc, JVc, 0);   \
        for (; j0 + VL <= d; j0 += VL) SBM_M_TILE(KTc, 1, 0);                 \
        if (j0 < d) SBM_M_TILE(KTc, 1, 1);                                    \
    } while (0)

static SBM_INLINE void FN(m_block)(int nb, int d, int kp, int K, const FT *S,
                                   ptrdiff_t ld, const FT *LT, double *out,
                                   const char *pf, const char *pf_end)
{
    /* pf..pf_end: the next block of X, prefetched while this one is
     * computed (the M-step reads the block from cache, not memory).
     * Components in groups of 8, 4, 2, 1; the small groups take wider
     * column tiles. */
    for (int k0 = 0; k0 < K;) {
        int g = K - k0;
        if (g >= 8) { SBM_M_ROWGROUP(8, 2); k0 += 8; }
        else if (g >= 4) { SBM_M_ROWGROUP(4, 2); k0 += 4; }
        else if (g >= 2) { SBM_M_ROWGROUP(2, 4); k0 += 2; }
        else { SBM_M_ROWGROUP(1, 8); k0 += 1; }
    }
}

/* ---- responsibilities of a block, in place in LT; returns sum w log p ---- */

static SBM_INLINE double FN(normalize_block)(int nb, int K, int kp,
                                             const double *sw, ptrdiff_t r0,
                                             FT *LT, FT *work, FT *nkacc)
{
    const int nv = kp / VL;
    const int nbp = (nb + VL - 1) / VL * VL;
    FT *tots = work, *tops = work + nbp, *logt = work + 2 * nbp;
    for (int i = 0; i < nb; i++) {
        FT *l = LT + (size_t)i * kp;
        FT top = l[0];
        for (int k = 1; k < K; k++) top = l[k] > top ? l[k] : top;
        for (int v = 0; v < nv; v++)
            FN(vstore)(l + v * VL, FN(vexp)(FN(vload)(l + v * VL) - top));
        FT tot = 0;
        for (int k = 0; k < K; k++) tot += l[k];
        tots[i] = tot;
        tops[i] = top;
    }
    for (int i = nb; i < nbp; i++) tots[i] = 1;
    for (int i = 0; i < nbp; i += VL)
        FN(vstore)(logt + i, FN(vlog)(FN(vload)(tots + i)));
    double ll = 0;
    const FN(vec) tiny = FN(vsplat)((FT)TINY);
    FN(vec) nka[SBM_MAX_KV];
    for (int v = 0; v < SBM_MAX_KV; v++) nka[v] = FN(vsplat)(0);
    for (int i = 0; i < nb; i++) {
        FT *l = LT + (size_t)i * kp;
        FT inv = (FT)1 / tots[i];
        double w = sw ? sw[r0 + i] : 1.0;
        for (int v = 0; v < nv; v++) {
            FN(vec) r = FN(vload)(l + v * VL) * inv;
            FN(ivec) keep = r >= tiny;
            r = (FN(vec))((FN(ivec))r & keep);
            if (sw) r = r * (FT)w;
            FN(vstore)(l + v * VL, r);
            if (v < SBM_MAX_KV) nka[v] += r;
            else
                for (int q = 0; q < VL; q++) nkacc[v * VL + q] += r[q];
        }
        ll += w * ((double)tops[i] + (double)logt[i]);
    }
    for (int v = 0; v < nv && v < SBM_MAX_KV; v++)
        for (int q = 0; q < VL; q++) nkacc[v * VL + q] += nka[v][q];
    return ll;
}

/* ---- one chunk of rows of a dense X --------------------------------------
 * out: [log_lik, any_missing, nk (K), xk (K x d), missing_k (K x d)] */

SBM_CLONES
static int FN(dense_chunk)(const sbm_args *a, ptrdiff_t r0, ptrdiff_t r1,
                           double *out)
{
    const int d = a->d, K = a->K, dp = a->dp, kp = a->kp, bp = a->bp;
    const FT *wt = (const FT *)a->wt, *lqt = (const FT *)a->lqt;
    const FT *bias = (const FT *)a->bias;
    size_t nx = (size_t)bp * dp;
    void *raw = SBM_MALLOC(64 + sizeof(FT) * (nx * (a->has_missing ? 2 : 1)
                                              + (size_t)bp * kp
                                              + 3 * (size_t)(bp + VL) + kp));
    if (!raw) return -1;
    FT *buf = (FT *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    FT *XF = buf, *MF = a->has_missing ? buf + nx : NULL;
    FT *LT = buf + nx * (a->has_missing ? 2 : 1);
    FT *work = LT + (size_t)bp * kp, *nkacc = work + 3 * (size_t)(bp + VL);
    double *nk = out + 2, *xk = nk + K, *mk = xk + (size_t)K * d;
    size_t nout = 2 + K + (size_t)K * d * (a->has_missing ? 2 : 1);
    for (size_t q = 0; q < nout; q++) out[q] = 0;
    for (int k = 0; k < kp; k++) nkacc[k] = 0;
    double ll = 0;
    int anymiss = 0;
    /* X already in the computation dtype, rows contiguous, no NaN to
     * replace: the block is read in place, not copied. */
    const int direct = a->xkind == SBM_XKIND_SELF && a->cs == 1 && !a->has_missing
                       && !a->copy_block;
    for (ptrdiff_t b0 = r0; b0 < r1; b0 += bp) {
        int nb = (int)(r1 - b0 < bp ? r1 - b0 : bp);
        const FT *XS = XF;
        ptrdiff_t ld = dp;
        int miss = 0;
        if (direct) {
            XS = (const FT *)a->X + b0 * a->rs;
            ld = a->rs;
        } else {
            miss = FN(fill_block)(a, b0, nb, d, dp, XF, MF);
        }
        anymiss |= miss;
        FN(e_block)(nb, d, dp, kp, XS, ld, MF, miss, wt, lqt, bias, LT);
        ll += FN(normalize_block)(nb, K, kp, a->sw, b0, LT, work, nkacc);
        const char *pf = NULL, *pf_end = NULL;
        if (a->cs == 1 && b0 + nb < r1) {
            ptrdiff_t nnext = r1 - b0 - nb < bp ? r1 - b0 - nb : bp;
            pf = (const char *)a->X + (b0 + nb) * a->rs * a->xsize;
            pf_end = pf + nnext * a->rs * a->xsize;
        }
        FN(m_block)(nb, d, kp, K, XS, ld, LT, xk, pf, pf_end);
        if (miss) FN(m_block)(nb, d, kp, K, MF, dp, LT, mk, NULL, NULL);
    }
    for (int k = 0; k < K; k++) nk[k] = (double)nkacc[k];
    out[0] = ll;
    out[1] = anymiss;
    SBM_FREE(raw);
    return 0;
}

/* ---- one chunk of rows of a CSR X ---------------------------------------
 * out: [log_lik, any_missing, nk (K), xk^T (d x kp), missing_k^T (d x kp)];
 * the caller transposes the two matrices. */

SBM_CLONES
static int FN(csr_chunk)(const sbm_args *a, ptrdiff_t r0, ptrdiff_t r1,
                         double *out)
{
    const int d = a->d, K = a->K, kp = a->kp, bp = a->bp;
    const FT *wt = (const FT *)a->wt, *lqt = (const FT *)a->lqt;
    const FT *bias = (const FT *)a->bias;
    FT *buf = (FT *)SBM_MALLOC(sizeof(FT) * ((size_t)bp * kp + 3 * (size_t)(bp + VL)
                                         + kp));
    if (!buf) return -1;
    FT *LT = buf, *work = LT + (size_t)bp * kp;
    FT *nkacc = work + 3 * (size_t)(bp + VL);
    double *nk = out + 2, *xkt = nk + K, *mkt = xkt + (size_t)d * kp;
    size_t nout = 2 + K + (size_t)d * kp * (a->has_missing ? 2 : 1);
    for (size_t q = 0; q < nout; q++) out[q] = 0;
    for (int k = 0; k < kp; k++) nkacc[k] = 0;
    const int64_t *indptr = a->indptr;
    const int32_t *ind32 = a->ind32;
    const int64_t *ind64 = a->ind64;
    double ll = 0;
    int anymiss = 0;
    for (ptrdiff_t b0 = r0; b0 < r1; b0 += bp) {
        int nb = (int)(r1 - b0 < bp ? r1 - b0 : bp);
        for (int i = 0; i < nb; i++) {
            FT *SBM_RESTRICT l = LT + (size_t)i * kp;
            for (int k = 0; k < kp; k++) l[k] = bias[k];
            for (int64_t p = indptr[b0 + i]; p < indptr[b0 + i + 1]; p++) {
                int64_t j = ind32 ? (int64_t)ind32[p] : ind64[p];
                FT x = a->xkind == SBM_X_F64 ? (FT)((const double *)a->X)[p]
                                             : (FT)((const float *)a->X)[p];
                const FT *SBM_RESTRICT w;
                if (x != x) {
                    anymiss = 1;
                    w = lqt + j * kp;
                    for (int k = 0; k < kp; k++) l[k] -= w[k];
                } else {
                    w = wt + j * kp;
                    for (int k = 0; k < kp; k++) l[k] += w[k] * x;
                }
            }
        }
        ll += FN(normalize_block)(nb, K, kp, a->sw, b0, LT, work, nkacc);
        for (int i = 0; i < nb; i++) {
            const FT *SBM_RESTRICT r = LT + (size_t)i * kp;
            for (int64_t p = indptr[b0 + i]; p < indptr[b0 + i + 1]; p++) {
                int64_t j = ind32 ? (int64_t)ind32[p] : ind64[p];
                FT x = a->xkind == SBM_X_F64 ? (FT)((const double *)a->X)[p]
                                             : (FT)((const float *)a->X)[p];
                double *SBM_RESTRICT o;
                if (x != x) {
                    o = mkt + j * kp;
                    for (int k = 0; k < kp; k++) o[k] += (double)r[k];
                } else {
                    o = xkt + j * kp;
                    for (int k = 0; k < kp; k++) o[k] += (double)(r[k] * x);
                }
            }
        }
    }
    for (int k = 0; k < K; k++) nk[k] = (double)nkacc[k];
    out[0] = ll;
    out[1] = anymiss;
    SBM_FREE(buf);
    return 0;
}

#undef FN
