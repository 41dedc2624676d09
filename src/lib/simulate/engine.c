/* engine.c - the Monte Carlo of scenario objectives with common random
 * numbers (aipm/sim_engine.h).
 *
 * The draws are cut into blocks of BLOCK draws, block b holding draws
 * [b BLOCK, (b + 1) BLOCK); threads take contiguous runs of blocks
 * (aipm_sim_parallel), so a block's work never depends on the thread
 * count. A block is rows of BLOCK doubles: the posterior's s = sqrt(s2)
 * and its p rows of z, made in bulk; every item's a_i . z at once, as a
 * small matrix product (p x items); then item by item, its e and h
 * normals in bulk and its value and effort rows in vector loops; the
 * shared inputs' rows. The scenarios' objectives are then one more small
 * matrix product, (items + shared) rows against the scenarios' weights
 * and coefficients, and their efforts another (the items built, 0 or 1):
 * so an item's value is made once a draw whatever the number of
 * scenarios, and a scenario's sum sits in registers while the rows go by
 * (block_sums). The loops are branch-free over doubles and vectorize;
 * with GCC on x86-64 they are compiled for x86-64-v3 (AVX2) and v4
 * (AVX-512) too, the one the CPU runs picked at run time (as rng.c
 * does). With -std=c11 nothing is contracted into an FMA, and each sum
 * adds its terms in the same order in every version: the same bits on
 * any of them.
 *
 * expm1 and exp are computed here in vector form (the C library's are
 * scalar calls): x = n ln2 + r with n = rint(x / ln2) by the 1.5 2^52
 * shifter, |r| <= ln2 / 2, ln2 in two parts (Cody and Waite 1980, as
 * fdlibm); q = expm1(r) = r + r^2 (1/2 + r / 3! + ... + r^11 / 13!),
 * Taylor to r^13 (the next term is below 1e-17 of q); 2^n from n's bits;
 * exp(x) = 2^n + 2^n q and expm1(x) = 2^n q + (2^n - 1), which never
 * cancels (fdlibm's expm1 does the same). Inputs are clamped to [-708,
 * 709], where 2^n stays a normal double. Against glibc: within 2 ulp for
 * expm1 on (0, 709] and 1 ulp for exp (2e7 random arguments; the test
 * checks 3 ulp).
 *
 * Sums that leave a block (the effort summaries) are kept per block and
 * added in block order after the threads are joined: the same bits for
 * any split.
 */
#include "aipm/sim_engine.h"
#include "simulate/sim_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK 128                    /* draws per block: 1 KB a row */
#define ST 4                         /* sums per tile */
#define Z_STRIDE ((uint64_t)1 << 56) /* z_kj is draw j Z_STRIDE + k */
#define H_OFFSET ((uint64_t)1 << 63) /* h_ik is draw H_OFFSET + k */

/* ---- vector exp and expm1 ---- */

#define INV_LN2 1.44269504088896338700e+00
#define LN2_HI 6.93147180369123816490e-01 /* 32 bits: n LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define SHIFTER 0x1.8p52
#define X_MAX 709.0
#define X_MIN -708.0

/* For x in [X_MIN, X_MAX]: *scale = 2^n and returns q = expm1(r),
 * x = n ln2 + r. Inline into vector loops (memcpy is a register move). */
static inline double exp_parts(double x, double *scale)
{
    double t = x * INV_LN2 + SHIFTER, n = t - SHIFTER;
    double r = (x - n * LN2_HI) - n * LN2_LO, r2, r4, r8, p;
    uint64_t bits;

    memcpy(&bits, &t, sizeof(bits));
    /* t's low mantissa bits are n: n + 1023 in the exponent field */
    bits = (bits + 1023) << 52;
    memcpy(scale, &bits, sizeof(bits));
    /* Estrin's scheme (Knuth, TAOCP 2, 4.6.4): the same terms as Horner's
     * with a third of its chain of dependent operations */
    r2 = r * r;
    r4 = r2 * r2;
    r8 = r4 * r4;
    p = ((1.0 / 2 + r * (1.0 / 6)) + r2 * (1.0 / 24 + r * (1.0 / 120))) +
        r4 * ((1.0 / 720 + r * (1.0 / 5040)) +
              r2 * (1.0 / 40320 + r * (1.0 / 362880))) +
        r8 * ((1.0 / 3628800 + r * (1.0 / 39916800)) +
              r2 * (1.0 / 479001600 + r * (1.0 / 6227020800)));
    return r + r2 * p;
}

static inline double clamp_x(double x)
{
    x = x > X_MAX ? X_MAX : x;
    return x < X_MIN ? X_MIN : x;
}

/* ---- the plan: the inputs in the form the blocks read ---- */

typedef struct plan {
    const aipm_sim_problem *pb;
    size_t n_draws, n_blocks, n_scen, n_shared;
    uint64_t seed;
    int p, need_posterior;
    double an, bn;
    uint32_t post_stream;
    /* the rows of a block: the items some scenario builds, in item order,
     * then the shared inputs */
    size_t n_used, n_rows, n_upad; /* n_upad: n_used padded to ST */
    size_t *item;                  /* n_used: index into pb->items */
    double *m;                     /* n_used: x_i' mn */
    double *a; /* p x n_upad: column u is L' x_u (0 for a fixed value) */
    unsigned char *draw_effort; /* n_used: effort drawn (not fixed, and a
                                   scenario building it has a capacity) */
    size_t n_spad;              /* scenarios, padded to a multiple of ST */
    double *wt;                 /* n_rows x n_spad: w_si, then c_sj */
    /* the scenarios with a capacity */
    size_t n_cap, n_cpad;
    size_t *cap_scen; /* n_cap: their indexes */
    double *cap;      /* n_cap: their capacities */
    double *bt;       /* n_used x n_cpad: 1 where built, else 0 */
    double **draws;   /* the result's rows */
    /* per block and capacity, added up in block order at the end */
    uint64_t *blk_over;
    double *blk_effort, *blk_short;
} plan;

static void plan_free(plan *pl)
{
    free(pl->item);
    free(pl->m);
    free(pl->a);
    free(pl->draw_effort);
    free(pl->wt);
    free(pl->cap_scen);
    free(pl->cap);
    free(pl->bt);
    free(pl->blk_over);
    free(pl->blk_effort);
    free(pl->blk_short);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static int finite_all(const double *x, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int check_problem(const aipm_sim_problem *pb, size_t n_draws,
                         aipm_error *err)
{
    const aipm_sim_posterior *po = pb->posterior;
    size_t i, s, n_streams = 0;
    uint32_t *streams;
    int need_posterior = 0, rc = AIPM_OK;

    if (pb->n_scenarios == 0 || pb->scenarios == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "no scenarios");
    if ((pb->n_items > 0 && pb->items == NULL) ||
        (pb->n_shared > 0 && pb->shared == NULL))
        return aipm_error_set(err, AIPM_EINVALID,
                              "no array for %zu items or "
                              "%zu shared inputs",
                              pb->n_items, pb->n_shared);
    if (n_draws == 0 || (uint64_t)n_draws > AIPM_SIM_MAX_DRAWS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "draws must be 1 to 2^56, not %zu", n_draws);
    if (!(pb->effort_log_sd >= 0) || !isfinite(pb->effort_log_sd))
        return aipm_error_set(err, AIPM_EINVALID,
                              "effort log sd %g must be finite and >= 0",
                              pb->effort_log_sd);
    for (i = 0; i < pb->n_items; i++) {
        const aipm_sim_item *it = &pb->items[i];
        int fixed_e = (it->flags & AIPM_SIM_EFFORT_FIXED) != 0;

        if (!(it->flags & AIPM_SIM_VALUE_FIXED))
            need_posterior = 1;
        else if (!isfinite(it->value))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "item %zu: value %g is not finite", i,
                                  it->value);
        if (!isfinite(it->effort) || it->effort < 0 ||
            (!fixed_e && it->effort == 0))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "item %zu: effort %g must be finite and "
                                  "> 0 (>= 0 when fixed)",
                                  i, it->effort);
    }
    if (need_posterior && po == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "no posterior for the items' values");
    if (po != NULL) {
        if (po->p < 1 || po->p > AIPM_SIM_MAX_P)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "posterior: p must be 1 to %d, not %d",
                                  AIPM_SIM_MAX_P, po->p);
        if (!finite_all(po->mn, (size_t)po->p) ||
            !finite_all(po->chol, (size_t)(po->p * po->p)) || !(po->an > 0) ||
            !isfinite(po->an) || !(po->bn > 0) || !isfinite(po->bn))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "posterior: mn, L, an, bn must be finite "
                                  "(an, bn > 0)");
        for (i = 0; i < pb->n_items; i++)
            if (!finite_all(pb->items[i].x, (size_t)po->p))
                return aipm_error_set(err, AIPM_EINVALID,
                                      "item %zu: a feature is not finite", i);
    }
    for (i = 0; i < pb->n_shared; i++)
        if (!isfinite(pb->shared[i].mean) || !(pb->shared[i].sd >= 0) ||
            !isfinite(pb->shared[i].sd))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "shared input %zu: mean %g and sd %g must "
                                  "be finite (sd >= 0)",
                                  i, pb->shared[i].mean, pb->shared[i].sd);
    for (s = 0; s < pb->n_scenarios; s++) {
        const aipm_sim_scenario *sc = &pb->scenarios[s];

        if (pb->n_items > 0 && sc->weight == NULL)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "scenario %zu: no weights", s);
        for (i = 0; i < pb->n_items; i++)
            if (!(sc->weight[i] >= 0 && sc->weight[i] <= 1))
                return aipm_error_set(err, AIPM_EINVALID,
                                      "scenario %zu: weight %g of item %zu "
                                      "is not in [0, 1]",
                                      s, sc->weight[i], i);
        if (sc->coef != NULL && !finite_all(sc->coef, pb->n_shared))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "scenario %zu: a coefficient is not finite",
                                  s);
        if (!(sc->capacity >= 0))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "scenario %zu: capacity %g is negative or "
                                  "NaN",
                                  s, sc->capacity);
    }
    /* every stream once, but items may share one (variants of an item
     * under different assumptions draw the same noise) */
    streams = malloc((1 + pb->n_items + pb->n_shared) * sizeof(*streams));
    if (streams == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (i = 0; i < pb->n_items; i++)
        streams[n_streams++] = pb->items[i].stream;
    qsort(streams, n_streams, sizeof(*streams), cmp_u32);
    for (i = 1, s = n_streams ? 1 : 0; i < n_streams; i++)
        if (streams[i] != streams[s - 1])
            streams[s++] = streams[i];
    n_streams = s;
    if (po != NULL)
        streams[n_streams++] = po->stream;
    for (i = 0; i < pb->n_shared; i++)
        streams[n_streams++] = pb->shared[i].stream;
    qsort(streams, n_streams, sizeof(*streams), cmp_u32);
    for (i = 1; i < n_streams && rc == AIPM_OK; i++)
        if (streams[i] == streams[i - 1])
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "stream %u is used by two inputs",
                                (unsigned)streams[i]);
    free(streams);
    return rc;
}

/* Whether scenario sc builds item i: its mask, else a weight above 0. */
static int is_built(const aipm_sim_scenario *sc, size_t i)
{
    return sc->built != NULL ? sc->built[i] != 0 : sc->weight[i] > 0;
}

static int has_capacity(double capacity)
{
    return capacity > 0 && isfinite(capacity);
}

static int plan_init(plan *pl, const aipm_sim_problem *pb, size_t n_draws,
                     uint64_t seed, aipm_error *err)
{
    const aipm_sim_posterior *po = pb->posterior;
    size_t n_items = pb->n_items, n_scen = pb->n_scenarios, i, s, j, u, c;
    int p = po != NULL ? po->p : 1, jj, r;

    memset(pl, 0, sizeof(*pl));
    pl->pb = pb;
    pl->n_draws = n_draws;
    pl->n_blocks = n_draws / BLOCK + (n_draws % BLOCK != 0);
    pl->n_scen = n_scen;
    pl->n_shared = pb->n_shared;
    pl->seed = seed;
    pl->p = p;
    if (po != NULL) {
        pl->an = po->an;
        pl->bn = po->bn;
        pl->post_stream = po->stream;
    }
    for (s = 0; s < n_scen; s++)
        pl->n_cap += has_capacity(pb->scenarios[s].capacity);
    pl->n_spad = (n_scen + ST - 1) / ST * ST;
    pl->n_cpad = (pl->n_cap + ST - 1) / ST * ST;
    /* the largest arrays: (items + shared) x scenarios, blocks x
     * scenarios, a thread's rows of BLOCK doubles */
    if (pl->n_spad > SIZE_MAX / sizeof(double) / BLOCK ||
        n_items + pb->n_shared + (size_t)p + 8 >
            SIZE_MAX / sizeof(double) / BLOCK / 4 ||
        pl->n_blocks > SIZE_MAX / sizeof(double) / n_scen ||
        pl->n_spad > SIZE_MAX / sizeof(double) / (n_items + pb->n_shared + 1))
        return aipm_error_set(err, AIPM_EINVALID,
                              "%zu scenarios of %zu items is too many", n_scen,
                              n_items);
    pl->item = malloc((n_items + 1) * sizeof(*pl->item));
    pl->m = malloc((n_items + 1) * sizeof(*pl->m));
    pl->a = calloc((n_items + ST) * (size_t)p, sizeof(*pl->a));
    pl->draw_effort = malloc(n_items + 1);
    pl->wt = calloc((n_items + pb->n_shared + 1) * pl->n_spad, sizeof(*pl->wt));
    pl->cap_scen = malloc((pl->n_cap + 1) * sizeof(*pl->cap_scen));
    pl->cap = malloc((pl->n_cap + 1) * sizeof(*pl->cap));
    pl->bt = calloc((n_items + 1) * (pl->n_cpad + 1), sizeof(*pl->bt));
    pl->blk_over = calloc(pl->n_blocks * (pl->n_cap + 1), sizeof(uint64_t));
    pl->blk_effort = calloc(pl->n_blocks * (pl->n_cap + 1), sizeof(double));
    pl->blk_short = calloc(pl->n_blocks * (pl->n_cap + 1), sizeof(double));
    if (!pl->item || !pl->m || !pl->a || !pl->draw_effort || !pl->wt ||
        !pl->cap_scen || !pl->cap || !pl->bt || !pl->blk_over ||
        !pl->blk_effort || !pl->blk_short)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (s = 0, c = 0; s < n_scen; s++)
        if (has_capacity(pb->scenarios[s].capacity)) {
            pl->cap_scen[c] = s;
            pl->cap[c++] = pb->scenarios[s].capacity;
        }
    for (i = 0, u = 0; i < n_items; i++)
        for (s = 0; s < n_scen; s++)
            if (is_built(&pb->scenarios[s], i)) {
                u++;
                break;
            }
    pl->n_upad = (u + ST - 1) / ST * ST;
    for (i = 0, u = 0; i < n_items; i++) {
        const aipm_sim_item *it = &pb->items[i];
        int built = 0, effort = 0;

        for (s = 0; s < n_scen; s++)
            built |= is_built(&pb->scenarios[s], i);
        if (!built)
            continue; /* no scenario builds it: never drawn */
        for (s = 0; s < n_scen; s++)
            pl->wt[u * pl->n_spad + s] = pb->scenarios[s].weight[i];
        for (c = 0; c < pl->n_cap; c++)
            if (is_built(&pb->scenarios[pl->cap_scen[c]], i)) {
                pl->bt[u * pl->n_cpad + c] = 1;
                effort = 1;
            }
        pl->item[u] = i;
        pl->draw_effort[u] =
            effort && !(it->flags & AIPM_SIM_EFFORT_FIXED) ? 1 : 0;
        pl->m[u] = 0;
        if (!(it->flags & AIPM_SIM_VALUE_FIXED)) {
            pl->need_posterior = 1;
            for (jj = 0; jj < p; jj++)
                pl->m[u] += it->x[jj] * po->mn[jj];
            /* a_j = sum over r >= j of L[r][j] x_r: x' L z = (L' x) . z */
            for (jj = 0; jj < p; jj++) {
                double aj = 0;

                for (r = jj; r < p; r++)
                    aj += po->chol[r * p + jj] * it->x[r];
                pl->a[(size_t)jj * pl->n_upad + u] = aj;
            }
        }
        u++;
    }
    pl->n_used = u;
    pl->n_rows = u + pb->n_shared;
    for (j = 0; j < pb->n_shared; j++)
        for (s = 0; s < n_scen; s++)
            if (pb->scenarios[s].coef != NULL)
                pl->wt[(u + j) * pl->n_spad + s] = pb->scenarios[s].coef[j];
    return AIPM_OK;
}

/* ---- a block ---- */

/* A thread's buffers, rows of BLOCK doubles: s, z (p rows), e, h; the
 * block's rows (n_rows: values, then shared inputs) and efforts (n_used);
 * the sums: objectives (n_spad rows) and efforts (n_cpad rows). */
typedef struct work {
    double *s, *z, *e, *h, *rows, *effort, *obj, *effort_sum;
} work;

/* The block's rows: every used item's value and effort for the draws
 * [k0, k0 + BLOCK) (past n_draws in the last block: made, not kept), and
 * every shared input's. The vector loops; see the top. */
CLONES static int block_rows(const plan *pl, const work *w, uint64_t k0,
                             aipm_error *err)
{
    const aipm_sim_problem *pb = pl->pb;
    const double *restrict s = w->s;
    const double *restrict e = w->e, *restrict h = w->h;
    double sd_e = pb->effort_log_sd;
    size_t u, j, k;
    int rc;

    for (u = 0; u < pl->n_used; u++) {
        const aipm_sim_item *it = &pb->items[pl->item[u]];
        double *restrict v = w->rows + u * BLOCK;
        double *restrict eff = w->effort + u * BLOCK;

        if (it->flags & AIPM_SIM_VALUE_FIXED) {
            for (k = 0; k < BLOCK; k++)
                v[k] = it->value;
        } else {
            double m = pl->m[u];

            rc = aipm_sim_normals(w->e, BLOCK, pl->seed, it->stream, k0, err);
            if (rc != AIPM_OK)
                return rc;
            /* v holds a_u . z (block_sums) */
            for (k = 0; k < BLOCK; k++) {
                double y = m + s[k] * (v[k] + e[k]), scale, em1;

                y = clamp_x(y > 0 ? y : 0); /* max(0, expm1(y)) */
                em1 = exp_parts(y, &scale);
                v[k] = scale * em1 + (scale - 1);
            }
        }
        if (pl->n_cap == 0)
            continue;
        if (pl->draw_effort[u]) {
            double effort = it->effort;

            rc = aipm_sim_normals(w->h, BLOCK, pl->seed, it->stream,
                                  H_OFFSET + k0, err);
            if (rc != AIPM_OK)
                return rc;
            for (k = 0; k < BLOCK; k++) {
                double scale, em1 = exp_parts(clamp_x(sd_e * h[k]), &scale);

                eff[k] = effort * (scale + scale * em1);
                /* finite, so that a weight of 0 times it is 0 */
                eff[k] = eff[k] < DBL_MAX ? eff[k] : DBL_MAX;
            }
        } else {
            for (k = 0; k < BLOCK; k++)
                eff[k] = it->effort; /* fixed, or not needed (weight 0) */
        }
    }
    for (j = 0; j < pl->n_shared; j++) {
        const aipm_sim_shared *si = &pb->shared[j];
        double *restrict x = w->rows + (pl->n_used + j) * BLOCK;

        rc = aipm_sim_normals(x, BLOCK, pl->seed, si->stream, k0, err);
        if (rc != AIPM_OK)
            return rc;
        for (k = 0; k < BLOCK; k++)
            x[k] = si->mean + si->sd * x[k];
    }
    return AIPM_OK;
}

/* out[c][k] = sum over rows i in order of wt[i][c] x[i][k], from 0, for
 * c < ld (a multiple of ST) and k < BLOCK: a small matrix product. A tile
 * of ST sums of 2 vectors of draws each (8 registers) stays in registers
 * while the rows go by, the rows' column of the tile in L1 for the ld / ST
 * passes. A weight of 0 adds +0, which changes no sum: this is the sum
 * over the rows with a weight, in row order, and the tile's shape changes
 * no bit. Left to itself GCC vectorized over the rows (with shuffles), so
 * the vectors are spelled out with GCC's vector types, one kernel per
 * width a vector register has (a vector wider than the target's registers
 * would live in memory): 8 doubles (AVX-512), 4 (AVX2), 2 (SSE2 and any
 * other GCC or clang target); plain loops elsewhere. */
#define SUMS_KERNEL(name, lanes, attr)                                         \
    typedef double name##_v __attribute__((vector_size(lanes * 8)));           \
    typedef double name##_m                                                    \
        __attribute__((vector_size(lanes * 8), aligned(8), may_alias));        \
    attr static void name(double *restrict out, const double *restrict wt,     \
                          size_t ld, const double *restrict x, size_t n_rows)  \
    {                                                                          \
        size_t k0, c0, i;                                                      \
                                                                               \
        for (k0 = 0; k0 < BLOCK; k0 += 2 * lanes)                              \
            for (c0 = 0; c0 < ld; c0 += ST) {                                  \
                name##_v a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};               \
                name##_v b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};               \
                double *o = out + c0 * BLOCK + k0;                             \
                                                                               \
                for (i = 0; i < n_rows; i++) {                                 \
                    const double *w = wt + i * ld + c0;                        \
                    const double *xi = x + i * BLOCK + k0;                     \
                    name##_v xa = *(const name##_m *)xi;                       \
                    name##_v xb = *(const name##_m *)(xi + lanes);             \
                                                                               \
                    a0 += w[0] * xa;                                           \
                    b0 += w[0] * xb;                                           \
                    a1 += w[1] * xa;                                           \
                    b1 += w[1] * xb;                                           \
                    a2 += w[2] * xa;                                           \
                    b2 += w[2] * xb;                                           \
                    a3 += w[3] * xa;                                           \
                    b3 += w[3] * xb;                                           \
                }                                                              \
                *(name##_m *)o = a0;                                           \
                *(name##_m *)(o + lanes) = b0;                                 \
                *(name##_m *)(o + BLOCK) = a1;                                 \
                *(name##_m *)(o + BLOCK + lanes) = b1;                         \
                *(name##_m *)(o + 2 * BLOCK) = a2;                             \
                *(name##_m *)(o + 2 * BLOCK + lanes) = b2;                     \
                *(name##_m *)(o + 3 * BLOCK) = a3;                             \
                *(name##_m *)(o + 3 * BLOCK + lanes) = b3;                     \
            }                                                                  \
    }

#if defined(__GNUC__) && defined(__x86_64__)
SUMS_KERNEL(sums_avx512, 8, __attribute__((target("arch=x86-64-v4"))))
SUMS_KERNEL(sums_avx2, 4, __attribute__((target("arch=x86-64-v3"))))
SUMS_KERNEL(sums_sse2, 2, )

static void block_sums(double *out, const double *wt, size_t ld,
                       const double *x, size_t n_rows)
{
    if (__builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        sums_avx512(out, wt, ld, x, n_rows);
    else if (__builtin_cpu_supports("avx2"))
        sums_avx2(out, wt, ld, x, n_rows);
    else
        sums_sse2(out, wt, ld, x, n_rows);
}
#elif defined(__GNUC__)
SUMS_KERNEL(block_sums, 2, )
#else
static void block_sums(double *restrict out, const double *restrict wt,
                       size_t ld, const double *restrict x, size_t n_rows)
{
    size_t k0, c0, i, c, k;

    for (k0 = 0; k0 < BLOCK; k0 += 8)
        for (c0 = 0; c0 < ld; c0 += ST) {
            double acc[ST][8] = {{0}};

            for (i = 0; i < n_rows; i++)
                for (c = 0; c < ST; c++)
                    for (k = 0; k < 8; k++)
                        acc[c][k] +=
                            wt[i * ld + c0 + c] * x[i * BLOCK + k0 + k];
            for (c = 0; c < ST; c++)
                memcpy(out + (c0 + c) * BLOCK + k0, acc[c], sizeof(acc[c]));
        }
}
#endif

static int one_block(const plan *pl, const work *w, size_t b, aipm_error *err)
{
    uint64_t k0 = (uint64_t)b * BLOCK;
    size_t nb = pl->n_draws - (size_t)k0, sc, c, k;
    int j, rc;

    if (nb > BLOCK)
        nb = BLOCK;
    if (pl->need_posterior) {
        rc = aipm_sim_inv_gammas(w->s, BLOCK, pl->an, pl->bn, pl->seed,
                                 pl->post_stream, k0, err);
        if (rc != AIPM_OK)
            return rc;
        for (k = 0; k < BLOCK; k++)
            w->s[k] = sqrt(w->s[k]);
        for (j = 0; j < pl->p; j++) {
            rc = aipm_sim_normals(w->z + (size_t)j * BLOCK, BLOCK, pl->seed,
                                  pl->post_stream, (uint64_t)j * Z_STRIDE + k0,
                                  err);
            if (rc != AIPM_OK)
                return rc;
        }
    }
    /* every item's a_u . z at once, then the rest of its row */
    if (pl->need_posterior)
        block_sums(w->rows, pl->a, pl->n_upad, w->z, (size_t)pl->p);
    rc = block_rows(pl, w, k0, err);
    if (rc != AIPM_OK)
        return rc;
    block_sums(w->obj, pl->wt, pl->n_spad, w->rows, pl->n_rows);
    for (sc = 0; sc < pl->n_scen; sc++)
        memcpy(pl->draws[sc] + k0, w->obj + sc * BLOCK, nb * sizeof(double));
    if (pl->n_cap == 0)
        return AIPM_OK;
    /* the efforts against the capacities: sums within the block */
    block_sums(w->effort_sum, pl->bt, pl->n_cpad, w->effort, pl->n_used);
    for (c = 0; c < pl->n_cap; c++) {
        const double *row = w->effort_sum + c * BLOCK;
        double cap = pl->cap[c], total = 0, excess = 0;
        uint64_t over = 0;

        for (k = 0; k < nb; k++) {
            double d = row[k] - cap;

            total += row[k];
            excess += d > 0 ? d : 0;
            over += d > 0;
        }
        pl->blk_effort[b * pl->n_cap + c] = total;
        pl->blk_short[b * pl->n_cap + c] = excess;
        pl->blk_over[b * pl->n_cap + c] = over;
    }
    return AIPM_OK;
}

static int run_blocks(void *ctx, size_t begin, size_t end, int thread,
                      aipm_error *err)
{
    const plan *pl = ctx;
    size_t n_rows = pl->n_rows > pl->n_upad ? pl->n_rows : pl->n_upad;
    size_t rows = 4 + (size_t)pl->p + n_rows + pl->n_used + pl->n_spad +
                  pl->n_cpad,
           b;
    double *buf;
    work w;
    int rc = AIPM_OK;

    (void)thread;
    buf = aligned_alloc(64, rows * BLOCK * sizeof(double));
    if (buf == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    w.s = buf;
    w.z = w.s + BLOCK;
    w.e = w.z + (size_t)pl->p * BLOCK;
    w.h = w.e + BLOCK;
    w.rows = w.h + BLOCK;
    w.effort = w.rows + n_rows * BLOCK;
    w.obj = w.effort + pl->n_used * BLOCK;
    w.effort_sum = w.obj + pl->n_spad * BLOCK;
    for (b = begin; b < end && rc == AIPM_OK; b++)
        rc = one_block(pl, &w, b, err);
    free(buf);
    return rc;
}

/* ---- the API ---- */

/* The result's draws, on huge pages where the kernel gives them on
 * request (transparent huge pages in madvise mode): 160 MB of 4 KB pages
 * is 40,000 page faults on first touch, a tenth of the run. */
static double *alloc_draws(size_t bytes)
{
    size_t huge = (size_t)2 << 20, rounded;
    void *p = NULL;

    if (bytes < 4 * huge || bytes > SIZE_MAX - huge)
        return malloc(bytes);
    rounded = (bytes + huge - 1) / huge * huge;
    if (posix_memalign(&p, huge, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: may be refused */
#endif
    return p;
}

void aipm_sim_result_free(aipm_sim_result *r)
{
    if (r == NULL)
        return;
    if (r->draws != NULL)
        free(r->draws[0]);
    free(r->draws);
    free(r->effort_mean);
    free(r->p_over);
    free(r->shortfall_mean);
    free(r->summary);
    free(r->p_loss);
    free(r->beats);
    free(r);
}

int aipm_sim_result_new(aipm_sim_result **out, size_t n_scenarios,
                        size_t n_draws, uint64_t seed, aipm_error *err)
{
    aipm_sim_result *r;
    size_t s;

    *out = NULL;
    if (n_scenarios == 0 || n_draws == 0 ||
        n_draws > SIZE_MAX / sizeof(double) / n_scenarios)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%zu scenarios x %zu draws: none or too many",
                              n_scenarios, n_draws);
    r = calloc(1, sizeof(*r));
    if (r == NULL ||
        (r->draws = calloc(n_scenarios, sizeof(*r->draws))) == NULL ||
        (r->draws[0] = alloc_draws(n_scenarios * n_draws * sizeof(double))) ==
            NULL ||
        (r->effort_mean = calloc(n_scenarios, sizeof(double))) == NULL ||
        (r->p_over = calloc(n_scenarios, sizeof(double))) == NULL ||
        (r->shortfall_mean = calloc(n_scenarios, sizeof(double))) == NULL) {
        aipm_sim_result_free(r);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    r->n_scenarios = n_scenarios;
    r->n_draws = n_draws;
    r->seed = seed;
    for (s = 1; s < n_scenarios; s++)
        r->draws[s] = r->draws[0] + s * n_draws;
    *out = r;
    return AIPM_OK;
}

int aipm_sim_run(aipm_sim_result **out, const aipm_sim_problem *problem,
                 size_t n_draws, uint64_t seed, int n_threads, aipm_error *err)
{
    aipm_sim_result *r = NULL;
    plan pl;
    size_t n_scen, s, b, c;
    int rc;

    memset(&pl, 0, sizeof(pl));
    if (out == NULL || problem == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "no problem or result");
    *out = NULL;
    rc = check_problem(problem, n_draws, err);
    if (rc != AIPM_OK)
        return rc;
    if (n_threads < 1 || n_threads > AIPM_SIM_MAX_THREADS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "threads must be 1 to %d, not %d",
                              AIPM_SIM_MAX_THREADS, n_threads);
    n_scen = problem->n_scenarios;
    if (n_draws > SIZE_MAX / sizeof(double) / n_scen)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%zu scenarios x %zu draws is too many", n_scen,
                              n_draws);
    rc = plan_init(&pl, problem, n_draws, seed, err);
    if (rc == AIPM_OK)
        rc = aipm_sim_result_new(&r, n_scen, n_draws, seed, err);
    if (rc != AIPM_OK)
        goto done;
    pl.draws = r->draws;
    rc = aipm_sim_parallel(pl.n_blocks, n_threads, run_blocks, &pl, err);
    if (rc != AIPM_OK)
        goto done;
    for (c = 0; c < pl.n_cap; c++) {
        double total = 0, excess = 0;
        uint64_t over = 0;

        for (b = 0; b < pl.n_blocks; b++) {
            total += pl.blk_effort[b * pl.n_cap + c];
            excess += pl.blk_short[b * pl.n_cap + c];
            over += pl.blk_over[b * pl.n_cap + c];
        }
        s = pl.cap_scen[c];
        r->effort_mean[s] = total / (double)n_draws;
        r->shortfall_mean[s] = excess / (double)n_draws;
        r->p_over[s] = (double)over / (double)n_draws;
    }
done:
    plan_free(&pl);
    if (rc != AIPM_OK) {
        aipm_sim_result_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

/* ---- summaries ---- */

typedef struct beats_ctx {
    const aipm_sim_result *r;
    uint64_t *wins; /* per thread: n_scenarios^2 counts */
} beats_ctx;

/* Wins over draws [begin, end) as counts: aipm_sim_prob_beats gives
 * wins / (end - begin), which times that count rounds back to the count
 * exactly (the error is below wins 2^-52). Counts add up to the same
 * total over any split. */
static int beats_block(void *ctx, size_t begin, size_t end, int thread,
                       aipm_error *err)
{
    beats_ctx *c = ctx;
    size_t m = c->r->n_scenarios, s, n = end - begin;
    uint64_t *wins = c->wins + (size_t)thread * m * m;
    const double **rows = calloc(m, sizeof(*rows));
    double *share = malloc(m * m * sizeof(*share));
    int rc;

    if (rows == NULL || share == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (s = 0; s < m; s++)
        rows[s] = c->r->draws[s] + begin;
    rc = aipm_sim_prob_beats(share, rows, m, n, err);
    if (rc != AIPM_OK)
        goto done;
    for (s = 0; s < m * m; s++)
        wins[s] = (uint64_t)llround(share[s] * (double)n);
done:
    free(rows);
    free(share);
    return rc;
}

int aipm_sim_result_summarize(aipm_sim_result *r, size_t baseline, double alpha,
                              int n_threads, aipm_error *err)
{
    beats_ctx bc = {r, NULL};
    size_t m, s, t, n_t;
    int rc;

    if (r == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "no result");
    m = r->n_scenarios;
    if (baseline >= m)
        return aipm_error_set(err, AIPM_EINVALID,
                              "baseline %zu is not one of %zu scenarios",
                              baseline, m);
    if (n_threads < 1 || n_threads > AIPM_SIM_MAX_THREADS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "threads must be 1 to %d, not %d",
                              AIPM_SIM_MAX_THREADS, n_threads);
    if (m > SIZE_MAX / m / AIPM_SIM_MAX_THREADS / sizeof(uint64_t))
        return aipm_error_set(err, AIPM_EINVALID, "%zu scenarios is too many",
                              m);
    if (r->summary == NULL)
        r->summary = malloc(m * sizeof(*r->summary));
    if (r->p_loss == NULL)
        r->p_loss = malloc(m * sizeof(*r->p_loss));
    if (r->beats == NULL)
        r->beats = malloc(m * m * sizeof(*r->beats));
    n_t = (size_t)n_threads < r->n_draws ? (size_t)n_threads : r->n_draws;
    bc.wins = calloc(n_t * m * m, sizeof(*bc.wins));
    if (r->summary == NULL || r->p_loss == NULL || r->beats == NULL ||
        bc.wins == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    r->summarized = 0;
    rc = aipm_sim_summarize_many(r->summary, (const double *const *)r->draws, m,
                                 r->n_draws, alpha, n_threads, err);
    if (rc == AIPM_OK)
        rc = aipm_sim_parallel(r->n_draws, n_threads, beats_block, &bc, err);
    if (rc != AIPM_OK)
        goto done;
    for (s = 0; s < m * m; s++) {
        uint64_t wins = 0;

        for (t = 0; t < n_t; t++)
            wins += bc.wins[t * m * m + s];
        r->beats[s] = (double)wins / (double)r->n_draws;
    }
    /* a loss is a draw the baseline beats */
    for (s = 0; s < m; s++)
        r->p_loss[s] = r->beats[baseline * m + s];
    r->baseline = baseline;
    r->summarized = 1;
done:
    free(bc.wins);
    return rc;
}
