/* simulate.h - the numerical core of the Monte Carlo scenario simulator:
 * counter-based random numbers, summaries of draws, and draws split over
 * threads.
 *
 * Random numbers come from Philox4x32-10 (Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a keyed
 * bijection of a 128-bit counter, so any number is computed from where it
 * sits, with no state carried from the numbers before it. The key is the
 * seed; the counter names the place:
 *
 *   (p low, p high, 0, stream)      block p of a stream's bulk draws:
 *                                   draw 2p takes its words 0-1, draw
 *                                   2p + 1 its words 2-3 (one 64-bit
 *                                   word a draw, low 32 bits first);
 *   (k low, k high, 2^30 | s, stream)   block s of the numbers draw k of
 *                                   a bulk normal needs past its word,
 *                                   when the ziggurat rejects it (~1.2%);
 *   (k low, k high, 2^31 | s, stream)   block s of draw k's own
 *                                   sub-stream (aipm_sim_rng), for draws
 *                                   that need several numbers (gamma).
 *
 * So draw k of stream j is the same number whatever the thread count, the
 * order draws are made in, and the other streams in use: the ground of
 * common random numbers across scenarios (an input shared by two
 * scenarios is one stream id, and its draw k is the same in both) and of
 * identical results for a seed at any thread count. Give each uncertain
 * input its own stream id, and use a stream one way: its bulk uniforms
 * and bulk normals are made from the same words, so are not independent.
 *
 * A uniform is ((w >> 12) + 0.5) 2^-52 of a word w: in (0, 1), never 0
 * or 1, exact. A normal is the ziggurat of Marsaglia and Tsang ("The
 * ziggurat method for generating random variables", J. Stat. Softw. 5(8),
 * 2000) with 256 layers, layer, sign and abscissa from disjoint bits of
 * one word, and Marsaglia's 1964 tail beyond r = 3.654. A gamma is
 * Marsaglia and Tsang's squeeze ("A simple method for generating gamma
 * variables", ACM TOMS 26(3), 2000), boosted by U^(1/a) below shape 1.
 *
 * Summaries take n draws of an objective where higher is better: the mean
 * (pairwise summation), type 7 quantiles (Hyndman and Fan 1996; numpy's
 * default), CVaR at alpha (the mean of the ceil(alpha n) lowest draws,
 * the lower tail), the probability of loss against a baseline and of one
 * scenario beating another, both over draws paired by index (so with
 * common random numbers they measure the scenarios' difference, not their
 * noise). Order statistics come from selection through a sample (Floyd
 * and Rivest) or quickselect, never a full sort; the draws are never
 * changed, so the paired comparisons can follow the summaries. A
 * histogram over given equal-width bins (numpy.histogram's edges and
 * half-open bins) shows the whole distribution in one pass.
 */
#ifndef AIPM_SIMULATE_H
#define AIPM_SIMULATE_H

#include "aipm/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Philox4x32-10 ---- */

/* One block: out = Philox4x32-10(ctr, key). Cannot fail. */
void aipm_sim_philox4x32(uint32_t out[4], const uint32_t ctr[4],
                         const uint32_t key[2]);

/* ---- one draw's own sub-stream ---- */

/* A caller-owned position in draw `draw`'s sub-stream of stream `stream`
 * under seed `seed`: the numbers a draw needs when one word is not
 * enough. A plain struct, safe to copy (the copy repeats the numbers). */
typedef struct aipm_sim_rng {
    uint32_t key[2];
    uint32_t ctr[4];
    uint64_t word[2];
    unsigned n_left; /* words of word[] not used yet (taken from the end) */
} aipm_sim_rng;

/* Position rng at the start of draw `draw`'s sub-stream. */
void aipm_sim_rng_init(aipm_sim_rng *rng, uint64_t seed, uint32_t stream,
                       uint64_t draw);
/* The next 64 random bits. */
uint64_t aipm_sim_rng_u64(aipm_sim_rng *rng);
/* The next uniform in (0, 1): one word. */
double aipm_sim_rng_uniform(aipm_sim_rng *rng);
/* The next standard normal: one word, more when the ziggurat rejects. */
double aipm_sim_rng_normal(aipm_sim_rng *rng);
/* The next Gamma(shape, scale 1) variate; NaN when shape is not a finite
 * number > 0. Multiply by the scale; an inverse gamma of shape a and
 * scale b is b over a Gamma(a) draw. */
double aipm_sim_rng_gamma(aipm_sim_rng *rng, double shape);

/* ---- bulk draws ---- */

/* out[i] = draw first_draw + i of stream `stream` under seed `seed`, for
 * i < n: uniforms in (0, 1), or standard normals (from the same words).
 * AIPM_EINVALID when out is NULL with n > 0 or the draws pass 2^64. */
int aipm_sim_uniforms(double *out, size_t n, uint64_t seed, uint32_t stream,
                      uint64_t first_draw, aipm_error *err);
int aipm_sim_normals(double *out, size_t n, uint64_t seed, uint32_t stream,
                     uint64_t first_draw, aipm_error *err);

/* out[i] = scale times the gamma of shape `shape` made from the sub-stream
 * of draw first_draw + i (aipm_sim_rng_gamma); the inverse form is scale
 * over the Gamma(shape) draw (InvGamma(shape, scale), e.g. a posterior
 * variance). AIPM_EINVALID when shape or scale is not finite and > 0, or
 * as aipm_sim_normals. */
int aipm_sim_gammas(double *out, size_t n, double shape, double scale,
                    uint64_t seed, uint32_t stream, uint64_t first_draw,
                    aipm_error *err);
int aipm_sim_inv_gammas(double *out, size_t n, double shape, double scale,
                        uint64_t seed, uint32_t stream, uint64_t first_draw,
                        aipm_error *err);

/* ---- summaries ---- */

typedef struct aipm_sim_summary {
    size_t n;
    double mean;
    double p10, p50, p90; /* type 7 quantiles */
    double alpha;         /* the CVaR level */
    double cvar;          /* mean of the ceil(alpha n) lowest draws */
} aipm_sim_summary;

/* Summarize n >= 1 draws (O(n) expected; scratch of up to n doubles).
 * AIPM_EINVALID when n is 0, a draw is NaN or infinite (the message
 * names the first), or alpha is not in (0, 1]; AIPM_ENOMEM. ceil(alpha n)
 * forgives alpha n's rounding (alpha 0.1 of 30 draws is 3 draws, not
 * 4). */
int aipm_sim_summarize(aipm_sim_summary *out, const double *draws, size_t n,
                       double alpha, aipm_error *err);

/* The same for n_scenarios arrays of n draws each (draws[s]), over
 * n_threads threads (a scenario's summary never depends on it); out has
 * n_scenarios entries. The first failing scenario's error is returned. */
int aipm_sim_summarize_many(aipm_sim_summary *out, const double *const *draws,
                            size_t n_scenarios, size_t n, double alpha,
                            int n_threads, aipm_error *err);

/* Type 7 quantiles (numpy's default "linear": h = (n - 1) p, between the
 * order statistics floor(h) and floor(h) + 1, numpy's rounding) of n >= 1
 * draws at the n_probs probabilities probs[] (each in [0, 1], any
 * order), into out[]. AIPM_EINVALID as
 * aipm_sim_summarize, or for a probability outside [0, 1]. */
int aipm_sim_quantiles(double *out, const double *draws, size_t n,
                       const double *probs, size_t n_probs, aipm_error *err);

/* Counts of n draws in n_bins equal-width bins over [lo, hi], numpy's
 * histogram convention (numpy.histogram(draws, n_bins, (lo, hi))): the
 * edges are lo + i (hi - lo) / n_bins for i < n_bins and hi itself,
 * bin i is [edge i, edge i + 1), the last bin [edge n_bins - 1, hi]
 * closed on the right; a draw falls in the bin its edges say, even where
 * (draw - lo) / width rounds the other way. counts[] (n_bins entries) is
 * overwritten; *below gets the draws < lo, *above those > hi (infinities
 * included), so the three add up to n. n may be 0 (all zero).
 * AIPM_EINVALID, counts untouched, for a NaN draw (it belongs to no bin;
 * the message names the first), n_bins 0, lo or hi not finite, lo >= hi,
 * hi - lo past the range of a double, or a NULL array. */
int aipm_sim_histogram(size_t *counts, size_t n_bins, size_t *below,
                       size_t *above, const double *draws, size_t n, double lo,
                       double hi, aipm_error *err);

/* CVaR at alpha alone: the mean of the ceil(alpha n) lowest draws.
 * Errors as aipm_sim_summarize. */
int aipm_sim_cvar(double *out, const double *draws, size_t n, double alpha,
                  aipm_error *err);

/* The share of draws k with draws[k] < baseline[k] (a tie is no loss).
 * AIPM_EINVALID when n is 0 or either array has a NaN. */
int aipm_sim_prob_loss(double *out, const double *draws, const double *baseline,
                       size_t n, aipm_error *err);

/* out[a * n_scenarios + b] = the share of draws k with draws[a][k] >
 * draws[b][k] (ties count for neither; the diagonal is 0), over the
 * n_scenarios arrays of n draws. AIPM_EINVALID when n is 0 or a draw is
 * NaN. */
int aipm_sim_prob_beats(double *out, const double *const *draws,
                        size_t n_scenarios, size_t n, aipm_error *err);

/* ---- draws over threads ---- */

#define AIPM_SIM_MAX_THREADS 256

/* Work on draws [begin, end); block is 0 .. n_threads - 1. Returns
 * AIPM_OK or a negative code, with err filled. */
typedef int (*aipm_sim_block_fn)(void *ctx, size_t begin, size_t end, int block,
                                 aipm_error *err);

/* Split [0, n) into min(n_threads, n) contiguous blocks of sizes
 * differing by at most 1, in order, and call fn on each, block t in its
 * own thread (block 0 in the caller's; a block whose thread cannot start
 * runs in the caller's too). Returns the lowest failing block's code and
 * message, else AIPM_OK; AIPM_EINVALID when n_threads is not in
 * 1 .. AIPM_SIM_MAX_THREADS or fn is NULL.
 *
 * The blocks are the only thing n_threads changes: a result that must
 * not depend on it takes its randomness from draw indexes (never from a
 * per-thread stream) and reduces over draws in one fixed order (write
 * per-draw values to an array, sum it after), never over blocks. */
int aipm_sim_parallel(size_t n, int n_threads, aipm_sim_block_fn fn, void *ctx,
                      aipm_error *err);

#ifdef __cplusplus
}
#endif

#endif
