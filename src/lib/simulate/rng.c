/* rng.c - counter-based random numbers: Philox4x32-10, uniforms, normals
 * and gammas at fixed places of a stream (aipm/simulate.h).
 *
 * Philox4x32-10 is written from Salmon et al.'s description (SC 2011):
 * ten rounds of two 32 x 32 -> 64-bit products whose high halves are
 * xored into the other words with the round key, the key bumped by the
 * Weyl constants between rounds, and the words permuted; the multipliers
 * and Weyl constants are the paper's (the tests check Random123's known
 * answers, which pin them, the round count and the word order). Nothing is
 * kept between numbers but a counter, so draw k of a stream is a pure
 * function of (seed, stream, k): threads and callers may make draws in any
 * order and get the same numbers (simulate.h lists the counter layout).
 *
 * Speed is the Philox blocks' and the ziggurat's. Bulk draws make their
 * blocks eight at a time, each word in its own 64-bit lane so that the
 * 32 x 32 -> 64 products are plain vector multiplies; with GCC on x86-64
 * the function is also compiled for x86-64-v3 (AVX2) and v4 (AVX-512) and
 * the loader picks the one the CPU runs (target_clones: integer work
 * only, so every version gives the same bits; 1 ns per uniform here,
 * about 6 without). Two draws share a block, halving Philox's cost per
 * normal. The ziggurat accepts ~98.8% of words at once with one table
 * lookup, two multiplies and one integer compare; the rest (a wedge, the
 * tail, a retry) read a draw's rejection sub-stream, so a rejection never
 * shifts another draw's numbers. tests/unit/test_simulate.c prints the
 * ns per number of the build it runs in.
 *
 * The ziggurat's tables are built once (pthread_once) from r and v with
 * the C library's exp and log: the same bits on a machine, not
 * necessarily across C libraries.
 */
#include "aipm/simulate.h"
#include "simulate/sim_int.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define PHILOX_ROUNDS 10

#define TAG_REJECT 0x40000000u /* a bulk normal's rejection sub-stream */
#define TAG_DRAW 0x80000000u   /* a draw's own sub-stream (aipm_sim_rng) */
#define SUB_MASK 0x3FFFFFFFu   /* the block index within a sub-stream */

#define LANES 8          /* Philox blocks made side by side */
#define BATCH_BLOCKS 128 /* blocks per bulk batch: 2 KB of words */
#define TWO_M52 0x1p-52  /* 2^-52 */
#define MASK32 0xFFFFFFFFu

void aipm_sim_philox4x32(uint32_t out[4], const uint32_t ctr[4],
                         const uint32_t key[2])
{
    uint32_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    int round;

    for (round = 0; round < PHILOX_ROUNDS; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * x0, p1 = (uint64_t)PHILOX_M1 * x2;

        x0 = (uint32_t)(p1 >> 32) ^ x1 ^ k0;
        x1 = (uint32_t)p1;
        x2 = (uint32_t)(p0 >> 32) ^ x3 ^ k1;
        x3 = (uint32_t)p0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = x0;
    out[1] = x1;
    out[2] = x2;
    out[3] = x3;
}

/* CLONES (sim_int.h): the portable loop makes about 6 ns per uniform
 * here instead of 1. */
/* words[2i], words[2i + 1] = block first + i of (c2, stream), for i <
 * n_blocks: counter (p low, p high, c2, stream). The lanes hold 32-bit
 * values in 64-bit integers (the mask makes the products' operands
 * visibly 32-bit, which is what lets compilers use vector multiplies). */
CLONES static void blocks(uint64_t *words, size_t n_blocks,
                          const uint32_t key[2], uint64_t first, uint32_t c2,
                          uint32_t stream)
{
    size_t b = 0;
    int lane, round;

    for (; b + LANES <= n_blocks; b += LANES) {
        uint64_t x0[LANES], x1[LANES], x2[LANES], x3[LANES];
        uint64_t k0 = key[0], k1 = key[1];

        for (lane = 0; lane < LANES; lane++) {
            uint64_t p = first + b + (uint64_t)lane;

            x0[lane] = p & MASK32;
            x1[lane] = p >> 32;
            x2[lane] = c2;
            x3[lane] = stream;
        }
        for (round = 0; round < PHILOX_ROUNDS; round++) {
            for (lane = 0; lane < LANES; lane++) {
                uint64_t p0 = (x0[lane] & MASK32) * PHILOX_M0;
                uint64_t p1 = (x2[lane] & MASK32) * PHILOX_M1;
                uint64_t y0 = (p1 >> 32) ^ x1[lane] ^ k0;
                uint64_t y2 = (p0 >> 32) ^ x3[lane] ^ k1;

                x1[lane] = p1 & MASK32;
                x3[lane] = p0 & MASK32;
                x0[lane] = y0;
                x2[lane] = y2;
            }
            k0 = (k0 + PHILOX_W0) & MASK32;
            k1 = (k1 + PHILOX_W1) & MASK32;
        }
        for (lane = 0; lane < LANES; lane++) {
            words[2 * (b + lane)] = x1[lane] << 32 | x0[lane];
            words[2 * (b + lane) + 1] = x3[lane] << 32 | x2[lane];
        }
    }
    for (; b < n_blocks; b++) {
        uint64_t p = first + b;
        uint32_t ctr[4] = {(uint32_t)p, (uint32_t)(p >> 32), c2, stream}, o[4];

        aipm_sim_philox4x32(o, ctr, key);
        words[2 * b] = (uint64_t)o[1] << 32 | o[0];
        words[2 * b + 1] = (uint64_t)o[3] << 32 | o[2];
    }
}

static double to_uniform(uint64_t w)
{
    /* 52 bits plus a half: exact in a double, and never 0 or 1 */
    return ((double)(w >> 12) + 0.5) * TWO_M52;
}

/* ---- the ziggurat (Marsaglia and Tsang 2000), 256 layers ---- */

/* The base layer's edge r and the layers' common area v for f(x) =
 * exp(-x^2 / 2): r solves "255 layers of area v = r f(r) + the tail's
 * area end exactly at f = 1" (tests/unit/simulate_ref.py solves it with
 * scipy; Marsaglia and Tsang print r = 3.6541528853610088, v =
 * 4.92867323399e-3). */
#define ZIG_R 3.6541528853610092
#define ZIG_V 0.0049286732339746484
#define ZIG_LAYERS 256

static uint64_t zig_k[ZIG_LAYERS];   /* accept m < k[i] at once */
static double zig_w[ZIG_LAYERS];     /* x = m w[i]: layer i's width / 2^52 */
static double zig_f[ZIG_LAYERS + 1]; /* f at layer i's right edge */
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;
static const double sign_of[2] = {1, -1};

/* x[i] is layer i's right edge: x[1] = r, each layer above has area v,
 * x[256] = 0 (the top layer); the base's width x[0] = v / f(r) counts its
 * tail as if it were rectangle. Layer i >= 1 is the box [0, x[i]] x
 * [f(x[i]), f(x[i + 1])]: a point left of x[i + 1] is under the curve. */
static void zig_init(void)
{
    double x[ZIG_LAYERS + 1];
    int i;

    x[0] = ZIG_V / exp(-0.5 * ZIG_R * ZIG_R);
    x[1] = ZIG_R;
    for (i = 1; i < ZIG_LAYERS - 1; i++)
        x[i + 1] = sqrt(-2 * log(exp(-0.5 * x[i] * x[i]) + ZIG_V / x[i]));
    x[ZIG_LAYERS] = 0;
    for (i = 0; i < ZIG_LAYERS; i++) {
        zig_k[i] = (uint64_t)(0x1p52 * (x[i + 1] / x[i]));
        zig_w[i] = x[i] * TWO_M52;
    }
    for (i = 0; i <= ZIG_LAYERS; i++)
        zig_f[i] = exp(-0.5 * x[i] * x[i]);
}

/* ---- a draw's sub-streams ---- */

static void rng_init_tag(aipm_sim_rng *rng, uint64_t seed, uint32_t stream,
                         uint64_t draw, uint32_t tag)
{
    rng->key[0] = (uint32_t)seed;
    rng->key[1] = (uint32_t)(seed >> 32);
    rng->ctr[0] = (uint32_t)draw;
    rng->ctr[1] = (uint32_t)(draw >> 32);
    rng->ctr[2] = tag;
    rng->ctr[3] = stream;
    rng->n_left = 0;
}

void aipm_sim_rng_init(aipm_sim_rng *rng, uint64_t seed, uint32_t stream,
                       uint64_t draw)
{
    /* the tables its normals need */
    pthread_once(&zig_once, zig_init);
    rng_init_tag(rng, seed, stream, draw, TAG_DRAW);
}

uint64_t aipm_sim_rng_u64(aipm_sim_rng *rng)
{
    if (rng->n_left == 0) {
        uint32_t o[4];

        aipm_sim_philox4x32(o, rng->ctr, rng->key);
        rng->word[0] = (uint64_t)o[1] << 32 | o[0];
        rng->word[1] = (uint64_t)o[3] << 32 | o[2];
        rng->n_left = 2;
        /* the next block; the index wraps inside its 2^30 blocks (16 GiB)
         * rather than run into another sub-stream */
        rng->ctr[2] =
            (rng->ctr[2] & ~SUB_MASK) | ((rng->ctr[2] + 1) & SUB_MASK);
    }
    return rng->word[2 - rng->n_left--];
}

double aipm_sim_rng_uniform(aipm_sim_rng *rng)
{
    return to_uniform(aipm_sim_rng_u64(rng));
}

/* ---- the ziggurat's use ---- */

/* Word w's first try: the layer from bits 0-7, the sign from bit 8, the
 * abscissa from bits 12-63 (disjoint, so independent). */
static inline int zig_fast(uint64_t w, double *out)
{
    unsigned layer = (unsigned)(w & 0xFF);
    uint64_t m = w >> 12;

    if (m < zig_k[layer]) {
        /* the sign by a multiply: a branch on it mispredicts half the time
         * (it was 60% of a bulk normal's cost) */
        *out = (double)m * zig_w[layer] * sign_of[(w >> 8) & 1];
        return 1;
    }
    return 0;
}

/* Finish a try that failed the fast test, then retry with more's words. */
static double zig_slow(uint64_t w, aipm_sim_rng *more)
{
    for (;;) {
        unsigned layer = (unsigned)(w & 0xFF);
        uint64_t m = w >> 12;
        double x = (double)m * zig_w[layer], sign = sign_of[(w >> 8) & 1];

        if (m < zig_k[layer])
            return sign * x;
        if (layer == 0) {
            /* beyond r: Marsaglia's (1964) exponential tail sampler */
            double a, b;

            do {
                a = -log(aipm_sim_rng_uniform(more)) / ZIG_R;
                b = -log(aipm_sim_rng_uniform(more));
            } while (b + b < a * a);
            return sign * (ZIG_R + a);
        }
        /* the wedge between the box and the curve */
        if (zig_f[layer] +
                aipm_sim_rng_uniform(more) * (zig_f[layer + 1] - zig_f[layer]) <
            exp(-0.5 * x * x))
            return sign * x;
        w = aipm_sim_rng_u64(more);
    }
}

double aipm_sim_rng_normal(aipm_sim_rng *rng)
{
    uint64_t w;
    double x;

    w = aipm_sim_rng_u64(rng);
    return zig_fast(w, &x) ? x : zig_slow(w, rng);
}

/* Marsaglia and Tsang (2000): for a >= 1, d = a - 1/3 and c = 1/sqrt(9d),
 * d (1 + c x)^3 with x normal is accepted by the squeeze 1 - 0.0331 x^4
 * or the log test; below shape 1, Gamma(a + 1) U^(1/a) (the uniform drawn
 * after the loop). */
double aipm_sim_rng_gamma(aipm_sim_rng *rng, double shape)
{
    double a, d, c, x, v, u, g;

    if (!(shape > 0) || !isfinite(shape))
        return NAN;
    a = shape < 1 ? shape + 1 : shape;
    d = a - 1.0 / 3;
    c = 1 / sqrt(9 * d);
    for (;;) {
        do {
            x = aipm_sim_rng_normal(rng);
            v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        u = aipm_sim_rng_uniform(rng);
        if (u < 1 - 0.0331 * (x * x) * (x * x))
            break;
        if (log(u) < 0.5 * x * x + d * (1 - v + log(v)))
            break;
    }
    g = d * v;
    if (shape < 1)
        g *= pow(aipm_sim_rng_uniform(rng), 1 / shape);
    return g;
}

/* ---- bulk draws ---- */

static int check_bulk(const double *out, size_t n, uint64_t first,
                      aipm_error *err)
{
    if (n > 0 && out == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "no array for %zu draws", n);
    if (n > 0 && (uint64_t)(n - 1) > UINT64_MAX - first)
        return aipm_error_set(err, AIPM_EINVALID, "draws %llu + %zu pass 2^64",
                              (unsigned long long)first, n);
    return AIPM_OK;
}

static double normal_rejected(uint64_t w, uint64_t seed, uint32_t stream,
                              uint64_t draw)
{
    aipm_sim_rng more;

    rng_init_tag(&more, seed, stream, draw, TAG_REJECT);
    return zig_slow(w, &more);
}

/* out[i] = uniform or normal of word first + i, in batches of
 * BATCH_BLOCKS blocks; a batch starting at an odd draw skips its first
 * block's first word. */
static void bulk(double *out, size_t n, uint64_t seed, uint32_t stream,
                 uint64_t first, int normal)
{
    uint64_t words[2 * BATCH_BLOCKS], k = first;
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    size_t i = 0;

    while (i < n) {
        size_t skip = (size_t)(k & 1), take = n - i, j;

        if (take > 2 * BATCH_BLOCKS - skip)
            take = 2 * BATCH_BLOCKS - skip;
        blocks(words, (skip + take + 1) / 2, key, k >> 1, 0, stream);
        for (j = skip; j < skip + take; j++, i++, k++) {
            if (!normal)
                out[i] = to_uniform(words[j]);
            else if (!zig_fast(words[j], &out[i]))
                out[i] = normal_rejected(words[j], seed, stream, k);
        }
    }
}

int aipm_sim_uniforms(double *out, size_t n, uint64_t seed, uint32_t stream,
                      uint64_t first_draw, aipm_error *err)
{
    int rc = check_bulk(out, n, first_draw, err);

    if (rc == AIPM_OK)
        bulk(out, n, seed, stream, first_draw, 0);
    return rc;
}

int aipm_sim_normals(double *out, size_t n, uint64_t seed, uint32_t stream,
                     uint64_t first_draw, aipm_error *err)
{
    int rc = check_bulk(out, n, first_draw, err);

    if (rc == AIPM_OK) {
        pthread_once(&zig_once, zig_init);
        bulk(out, n, seed, stream, first_draw, 1);
    }
    return rc;
}

/* Gammas, one draw's sub-stream each; the sub-streams' first blocks,
 * consecutive counters (k, 2^31 | 0), are made in bulk. */
static int gammas(double *out, size_t n, double shape, double scale,
                  int inverse, uint64_t seed, uint32_t stream,
                  uint64_t first_draw, aipm_error *err)
{
    uint64_t words[2 * BATCH_BLOCKS];
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    size_t i = 0;
    int rc = check_bulk(out, n, first_draw, err);

    if (rc != AIPM_OK)
        return rc;
    if (!(shape > 0) || !isfinite(shape) || !(scale > 0) || !isfinite(scale))
        return aipm_error_set(err, AIPM_EINVALID,
                              "gamma shape %g and scale %g must be finite "
                              "and > 0",
                              shape, scale);
    pthread_once(&zig_once, zig_init);
    while (i < n) {
        size_t take = n - i < BATCH_BLOCKS ? n - i : BATCH_BLOCKS, j;

        blocks(words, take, key, first_draw + i, TAG_DRAW, stream);
        for (j = 0; j < take; j++, i++) {
            aipm_sim_rng rng;
            double g;

            rng_init_tag(&rng, seed, stream, first_draw + i, TAG_DRAW);
            rng.word[0] = words[2 * j];
            rng.word[1] = words[2 * j + 1];
            rng.n_left = 2;
            rng.ctr[2] = TAG_DRAW | 1;
            g = aipm_sim_rng_gamma(&rng, shape);
            out[i] = inverse ? scale / g : scale * g;
        }
    }
    return AIPM_OK;
}

int aipm_sim_gammas(double *out, size_t n, double shape, double scale,
                    uint64_t seed, uint32_t stream, uint64_t first_draw,
                    aipm_error *err)
{
    return gammas(out, n, shape, scale, 0, seed, stream, first_draw, err);
}

int aipm_sim_inv_gammas(double *out, size_t n, double shape, double scale,
                        uint64_t seed, uint32_t stream, uint64_t first_draw,
                        aipm_error *err)
{
    return gammas(out, n, shape, scale, 1, seed, stream, first_draw, err);
}
