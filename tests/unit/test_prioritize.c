/* test_prioritize.c - the regression, the summaries, the knapsack and
 * Spearman's correlation of the prioritization module; the regression
 * errors the model trainers share; the value model for the registry
 * (trained on a demo store, its artifact read back, a registered version
 * ranking the backlog, its monitoring reading checked against the
 * trainer's holdout and the ranking, its reference sample against the
 * backlog open at the cutoff and a reading there).
 *
 * References: numpy (matrix algebra of the conjugate posterior, written
 * independently from the C code with numpy.linalg.inv; percentiles with
 * numpy.percentile), scipy.stats (t.ppf, spearmanr), and brute force for
 * the knapsack. The python3 lines are quoted next to the constants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aipm/decision.h"
#include "aipm/demo.h"
#include "aipm/feedback.h"
#include "aipm/ingest.h"
#include "aipm/models.h"
#include "aipm/prioritize.h"
#include "prioritize/prioritize_int.h"
#include "testutil.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* X = [1, x] for x = 0.5, 1.5, 2, 3.5, 4, 5.5; y = 1.2, 2.1, 2.9, 4.8, 5.1,
 * 7.3; V0 = diag(100, 100), a0 = b0 = 1. numpy:
 *   Ln = inv(V0) + X.T @ X; cov = inv(Ln); mn = cov @ X.T @ y
 *   an = a0 + n/2; bn = b0 + (y @ y - mn @ Ln @ mn) / 2
 *   at x* = [1, 3]: loc = x* @ mn, scale = sqrt(bn/an (1 + x* cov x*)) */
static const double X[] = {1, 0.5, 1, 1.5, 1, 2.0, 1, 3.5, 1, 4.0, 1, 5.5};
static const double Y[] = {1.2, 2.1, 2.9, 4.8, 5.1, 7.3};

static void test_blr_posterior(void **state)
{
    static const double v0[] = {100, 100};
    aipm_blr m;
    aipm_error err = {0};
    double x[] = {1, 3}, loc, scale, dof;

    (void)state;
    assert_int_equal(aipm_blr_fit(&m, X, Y, 6, 2, NULL, v0, 1, 1, &err),
                     AIPM_OK);
    NEAR(m.mn[0], 0.43195316885933854, 1e-12);
    NEAR(m.mn[1], 1.223762438538552, 1e-12);
    NEAR(m.cov[0], 0.6391695613316671, 1e-12);
    NEAR(m.cov[1], -0.16714170962372465, 1e-12);
    NEAR(m.cov[3], 0.05908951028462266, 1e-12);
    NEAR(m.an, 4.0, 0);
    NEAR(m.bn, 1.073669969845632, 1e-12);
    aipm_blr_predict(&m, x, &loc, &scale, &dof);
    NEAR(loc, 4.103240484474995, 1e-12);
    NEAR(scale, 0.5599510295611334, 1e-12);
    NEAR(dof, 8, 0);
    /* The Cholesky factor reproduces the covariance. */
    NEAR(m.chol[0] * m.chol[0], m.cov[0], 1e-12);
    NEAR(m.chol[2] * m.chol[0], m.cov[2], 1e-12);
    NEAR(m.chol[2] * m.chol[2] + m.chol[3] * m.chol[3], m.cov[3], 1e-12);
}

/* With a vague prior the posterior mean is the least-squares fit:
 * numpy.linalg.lstsq(X, y) = 0.4326732673267316, 1.2237623762376242. */
static void test_blr_vague_is_ols(void **state)
{
    static const double v0[] = {1e12, 1e12};
    aipm_blr m;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_blr_fit(&m, X, Y, 6, 2, NULL, v0, 1, 1, &err),
                     AIPM_OK);
    NEAR(m.mn[0], 0.4326732673267316, 1e-8);
    NEAR(m.mn[1], 1.2237623762376242, 1e-8);
}

/* A prior mean: m0 = (0, 1), V0 = diag(100, 0.5). numpy:
 *   mn = inv(Ln) @ (inv(V0) @ m0 + X.T @ y)
 *   bn = b0 + (y @ y + m0 @ inv(V0) @ m0 - mn @ Ln @ mn) / 2 */
static void test_blr_prior_mean(void **state)
{
    static const double v0[] = {100, 0.5}, m0[] = {0, 1};
    aipm_blr m;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_blr_fit(&m, X, Y, 6, 2, m0, v0, 1, 1, &err), AIPM_OK);
    NEAR(m.mn[0], 0.4970528723497871, 1e-12);
    NEAR(m.mn[1], 1.200747778657517, 1e-12);
    NEAR(m.bn, 1.1112426321808542, 1e-12);
}

/* Intercept only, prior variance v: mn = n ybar / (n + 1/v) by hand:
 * n = 6, sum y = 23.4, v = 1: 23.4 / 7. */
static void test_blr_intercept_by_hand(void **state)
{
    static const double ones[] = {1, 1, 1, 1, 1, 1}, v0[] = {1};
    aipm_blr m;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_blr_fit(&m, ones, Y, 6, 1, NULL, v0, 1, 1, &err),
                     AIPM_OK);
    NEAR(m.mn[0], 23.4 / 7, 1e-12);
    NEAR(m.cov[0], 1.0 / 7, 1e-12);
}

static void test_blr_bad(void **state)
{
    static const double v0[] = {1, -1};
    aipm_blr m;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_blr_fit(&m, X, Y, 6, 2, NULL, v0, 1, 1, &err),
                     AIPM_EINVALID);
    assert_int_equal(aipm_blr_fit(&m, X, Y, 6, 0, NULL, v0, 1, 1, &err),
                     AIPM_EINVALID);
}

/* numpy.percentile(range(1, 11), [10, 50, 90]) = 1.9, 5.5, 9.1; of
 * [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]: 1, 4, 6. CVaR at 10% of 1..10 is the
 * lowest one draw (1); of 1..100 the mean of 1..10 (5.5). */
static void test_summaries(void **state)
{
    double a[10] = {7, 3, 10, 1, 9, 2, 8, 5, 4, 6};
    double b[11] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
    double c[100];
    aipm_draw_summary s;
    int i;

    (void)state;
    aipm_draws_summarize(&s, a, 10, 0.10);
    NEAR(s.q[0], 1.9, 1e-12);
    NEAR(s.q[1], 5.5, 1e-12);
    NEAR(s.q[2], 9.1, 1e-12);
    NEAR(s.mean, 5.5, 1e-12);
    NEAR(s.cvar, 1, 0);
    /* The cap: order statistic floor(0.999 * 9) = 8, the value 9; the
     * capped mean (1 + ... + 9 + 9) / 10. */
    NEAR(s.cap, 9, 0);
    NEAR(s.capped_mean, 5.4, 1e-12);
    aipm_draws_summarize(&s, b, 11, 0.10);
    NEAR(s.q[0], 1, 1e-12);
    NEAR(s.q[1], 4, 1e-12);
    NEAR(s.q[2], 6, 1e-12);
    for (i = 0; i < 100; i++)
        c[i] = (double)((i * 37) % 100 + 1); /* 1..100, shuffled */
    aipm_draws_summarize(&s, c, 100, 0.10);
    NEAR(s.cvar, 5.5, 1e-12);
    NEAR(s.q[1], 50.5, 1e-12);
}

/* A xorshift generator for the tests' own random numbers. */
static uint64_t rng_state = 88172645463325252ULL;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Summaries of draws from known distributions: standard normal (Box-
 * Muller) P10/P50/P90 = -1.2816, 0, 1.2816 (scipy.stats.norm.ppf); the
 * lower 10% CVaR of N(0, 1) is -phi(1.2816) / 0.1 = -1.7550. */
static void test_summaries_normal(void **state)
{
    enum { N = 200000 };
    double *x = malloc(N * sizeof(double));
    aipm_draw_summary s;
    int i;

    (void)state;
    assert_non_null(x);
    for (i = 0; i < N; i += 2) {
        double u1 = uniform(), u2 = uniform(), r;

        if (u1 <= 0)
            u1 = 1e-300;
        r = sqrt(-2 * log(u1));
        x[i] = r * cos(2 * M_PI * u2);
        x[i + 1] = r * sin(2 * M_PI * u2);
    }
    aipm_draws_summarize(&s, x, N, 0.10);
    NEAR(s.q[0], -1.2815515655446004, 0.015);
    NEAR(s.q[1], 0, 0.01);
    NEAR(s.q[2], 1.2815515655446004, 0.015);
    NEAR(s.mean, 0, 0.01);
    NEAR(s.cvar, -1.7549833193248685, 0.02);
    free(x);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The nested partitions against a sort, for every n from 1 to 80 and
 * values with ties: type 7 quantiles, CVaR, cap and capped mean. */
static void test_summaries_against_sort(void **state)
{
    double x[80], sorted[80];
    aipm_draw_summary s;
    int n, t, i;

    (void)state;
    for (n = 1; n <= 80; n++)
        for (t = 0; t < 20; t++) {
            static const double probs[3] = {0.10, 0.50, 0.90};
            double tail = 0, cap, cm = 0;
            int m = (int)ceil(0.10 * n - 1e-9);

            for (i = 0; i < n; i++)
                x[i] = sorted[i] = floor(uniform() * 12); /* ties */
            qsort(sorted, (size_t)n, sizeof(double), cmp_dbl);
            aipm_draws_summarize(&s, x, n, 0.10);
            for (i = 0; i < 3; i++) {
                double h = (n - 1) * probs[i];
                int k = (int)floor(h);
                double want =
                    sorted[k] +
                    (k + 1 < n ? (h - k) * (sorted[k + 1] - sorted[k]) : 0);

                NEAR(s.q[i], want, 1e-9);
            }
            for (i = 0; i < (m < 1 ? 1 : m); i++)
                tail += sorted[i];
            NEAR(s.cvar, tail / (m < 1 ? 1 : m), 1e-9);
            cap = sorted[(int)floor(0.999 * (n - 1))];
            NEAR(s.cap, cap, 0);
            for (i = 0; i < n; i++)
                cm += sorted[i] < cap ? sorted[i] : cap;
            NEAR(s.capped_mean, cm / n, 1e-9);
        }
}

/* The knapsack against brute force on 300 random cases of up to 12 items. */
static void test_knapsack_brute_force(void **state)
{
    int t;

    (void)state;
    for (t = 0; t < 300; t++) {
        int n = 1 + (int)(uniform() * 12), cap = (int)(uniform() * 30), i;
        int w[12];
        double v[12], best = 0, got, check = 0;
        unsigned char chosen[12];
        int used = 0;
        unsigned mask;

        for (i = 0; i < n; i++) {
            w[i] = 1 + (int)(uniform() * 10);
            v[i] = uniform() * 10 - 1; /* some are not worth doing */
        }
        for (mask = 0; mask < (1u << n); mask++) {
            double val = 0;
            int wt = 0, ok = 1;

            for (i = 0; i < n; i++)
                if (mask >> i & 1u) {
                    wt += w[i];
                    val += v[i];
                    ok &= v[i] > 0;
                }
            if (ok && wt <= cap && val > best)
                best = val;
        }
        got = aipm_knapsack(w, v, n, cap, chosen);
        for (i = 0; i < n; i++)
            if (chosen[i]) {
                used += w[i];
                check += v[i];
            }
        NEAR(got, best, 1e-9);
        NEAR(check, best, 1e-9);
        assert_true(used <= cap);
    }
}

/* scipy.stats.spearmanr([3,1,4,1,5,9,2,6], [2,7,1,8,2,8,1,8]) =
 * 0.19885368120992467 (ties on both sides). */
static void test_spearman(void **state)
{
    static const double x[] = {3, 1, 4, 1, 5, 9, 2, 6};
    static const double y[] = {2, 7, 1, 8, 2, 8, 1, 8};
    static const double z[] = {1, 2, 3, 4, 5, 6, 7, 8};

    (void)state;
    NEAR(aipm_spearman(x, y, 8), 0.19885368120992467, 1e-12);
    NEAR(aipm_spearman(z, z, 8), 1, 1e-12);
    assert_true(isnan(aipm_spearman(x, y, 2)));
    assert_true(isnan(aipm_spearman(x, (const double[]){1, 1, 1}, 3)));
}

static int count_link(void *ctx, const aipm_link *l)
{
    (void)l;
    ++*(int *)ctx;
    return 0;
}

/* A workspace of four items and 100 rows tagged with them (25 each, in the
 * item's own words), written in the given order. */
static void sample_ws(tu_ws *w, int reversed)
{
    static const char *const words[] = {"pivot table", "pdf export",
                                        "slack alerts", "saml login"};
    aipm_error err = {0, ""};
    aipm_ingest_result res;
    char fb[16384];
    size_t len;
    int i, k;

    assert_int_equal(tu_ws_open(w), 0);
    len = (size_t)snprintf(
        fb, sizeof(fb),
        "id,title,description,area,effort,status,created_at\n"
        "BL-1,Pivot tables,pivot table reports,r,1,planned,2026-08-01\n"
        "BL-2,PDF export,pdf export of boards,r,1,planned,2026-08-01\n"
        "BL-3,Slack alerts,slack alerts channel,r,1,planned,2026-08-01\n"
        "BL-4,SAML login,saml login provider,r,1,planned,2026-08-01\n");
    assert_int_equal(
        tu_ws_ingest(w, "backlog", "b.csv", fb, len, NULL, &res, &err),
        AIPM_OK);
    aipm_ingest_result_clear(&res);
    len = (size_t)snprintf(fb, sizeof(fb),
                           "id,created_at,source,user_id,account_id,score,"
                           "item_id,text\n");
    for (k = 0; k < 100; k++) {
        i = reversed ? 99 - k : k;
        len += (size_t)snprintf(fb + len, sizeof(fb) - len,
                                "FB-%d,2026-09-01T10:00:00Z,support,u-1,a-1,,"
                                "BL-%d,we want %s number %d\n",
                                i, i % 4 + 1, words[i % 4], i);
    }
    assert_true(len < sizeof(fb));
    assert_int_equal(
        tu_ws_ingest(w, "feedback", "f.csv", fb, len, NULL, &res, &err),
        AIPM_OK);
    aipm_ingest_result_clear(&res);
}

/* Beyond max_labelled rows the model learns from a sample of that many,
 * the same whatever order the rows come in. */
static void test_link_sample(void **state)
{
    aipm_link_opts o;
    aipm_link_stats a, b, all;
    aipm_error err = {0, ""};
    tu_ws w;
    int n = 0, k;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.max_labelled = 40;
    sample_ws(&w, 0);
    assert_int_equal(aipm_feedback_links(w.st, &o, count_link, &n, &a, &err),
                     AIPM_OK);
    o.max_labelled = 0;
    assert_int_equal(aipm_feedback_links(w.st, &o, count_link, &n, &all, &err),
                     AIPM_OK);
    tu_ws_close(&w);
    o.max_labelled = 40;
    sample_ws(&w, 1);
    assert_int_equal(aipm_feedback_links(w.st, &o, count_link, &n, &b, &err),
                     AIPM_OK);
    tu_ws_close(&w);
    assert_int_equal(n, 300); /* every row is still linked each time */
    assert_int_equal(a.eval.labelled, 100);
    assert_int_equal(a.eval.learnt_from, 40);
    assert_int_equal(all.eval.learnt_from, 100);
    assert_int_equal(a.eval.cv_rows, 40);
    assert_true(a.eval.fitted);
    /* The same 40 rows: the same fit, but for the order of the sums (a
     * different sample moves the weights by far more than 1e-9). */
    assert_int_equal(b.eval.learnt_from, 40);
    for (k = 0; k < 6; k++)
        NEAR(a.eval.weights[k], b.eval.weights[k],
             1e-9 * (1 + fabs(a.eval.weights[k])));
    assert_true(a.eval.top1 == b.eval.top1 &&
                a.eval.threshold == b.eval.threshold);
}

/* ---- the regression errors (models.h) ---- */

/* By hand: pred 1, 2, 4, 8 against obs 2, 2, 1, 11 miss by 1, 0, 3, 3:
 * MAE = (1 + 0 + 3 + 3) / 4 = 1.75; RMSE = sqrt((1 + 0 + 9 + 9) / 4) =
 * sqrt(4.75) = 2.1794494717703370 (python3: math.sqrt(4.75)). One row:
 * both are the absolute error. No rows: nothing measured, NAN. */
static void test_mae_rmse(void **state)
{
    static const double pred[] = {1, 2, 4, 8}, obs[] = {2, 2, 1, 11};

    (void)state;
    NEAR(aipm_mae(pred, obs, 4), 1.75, 1e-15);
    NEAR(aipm_rmse(pred, obs, 4), 2.1794494717703370, 1e-15);
    NEAR(aipm_mae(pred + 3, obs + 3, 1), 3, 0);
    NEAR(aipm_rmse(pred + 3, obs + 3, 1), 3, 0);
    assert_true(isnan(aipm_mae(pred, obs, 0)));
    assert_true(isnan(aipm_rmse(pred, obs, 0)));
    assert_true(isnan(aipm_mae(NULL, NULL, 3)));
}

/* ---- the value model's artifact ---- */

/* A model as training leaves it, from random data with full-mantissa
 * doubles everywhere (the standardization too), so that a digit lost on
 * the way through JSON would show. */
static void random_model(pz_model *m)
{
    double Xr[40 * PZ_P], y[40];
    aipm_error err = {0, ""};
    int i, j;

    memset(m, 0, sizeof(*m));
    for (i = 0; i < 40; i++) {
        Xr[i * PZ_P] = 1;
        for (j = 1; j < PZ_P; j++)
            Xr[i * PZ_P + j] = uniform() * 4 - 2;
        y[i] = uniform() * 3;
    }
    assert_int_equal(aipm_blr_fit(&m->blr, Xr, y, 40, PZ_P, NULL, pz_prior_var,
                                  PZ_PRIOR_A0, PZ_PRIOR_B0, &err),
                     AIPM_OK);
    m->bayes = 1;
    m->sd[0] = 1;
    for (j = 1; j < PZ_P; j++) {
        m->mu[j] = uniform() * 10 - 5;
        m->sd[j] = 0.1 + uniform();
    }
    m->rice_median = 100 * uniform();
    m->n_train = 40;
}

/* Through canonical JSON (as the registry stores it) and back: every
 * number the same bits, so the same predictive at any features, and the
 * same posterior draws from the same seed. */
static void test_artifact_round_trip(void **state)
{
    pz_model a, b;
    aipm_error err = {0, ""};
    json_t *art, *back;
    json_error_t jerr;
    char *text;
    int i, j;

    (void)state;
    random_model(&a);
    assert_non_null(art = pz_model_artifact(&a));
    text = json_dumps(art,
                      JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    assert_non_null(text);
    assert_non_null(back = json_loads(text, 0, &jerr));
    assert_int_equal(pz_model_from_artifact(&b, back, "test", &err), AIPM_OK);
    assert_memory_equal(a.mu, b.mu, sizeof(a.mu));
    assert_memory_equal(a.sd, b.sd, sizeof(a.sd));
    assert_memory_equal(a.blr.mn, b.blr.mn, sizeof(double) * PZ_P);
    assert_memory_equal(a.blr.cov, b.blr.cov, sizeof(double) * PZ_P * PZ_P);
    assert_memory_equal(a.blr.chol, b.blr.chol, sizeof(double) * PZ_P * PZ_P);
    assert_true(a.blr.an == b.blr.an && a.blr.bn == b.blr.bn);
    assert_true(a.rice_median == b.rice_median);
    assert_int_equal(b.blr.p, PZ_P);
    assert_int_equal(b.n_train, 40);
    assert_int_equal(b.bayes, 1);
    for (i = 0; i < 5; i++) {
        double xa[PZ_P], xb[PZ_P], la, sa, da, lb, sb, db;

        xa[0] = 1;
        for (j = 1; j < PZ_P; j++)
            xa[j] = uniform() * 20 - 10;
        memcpy(xb, xa, sizeof(xa));
        pz_standardize(&a, xa);
        pz_standardize(&b, xb);
        aipm_blr_predict(&a.blr, xa, &la, &sa, &da);
        aipm_blr_predict(&b.blr, xb, &lb, &sb, &db);
        assert_true(la == lb && sa == sb && da == db);
    }
    a.draws = b.draws = 200;
    assert_int_equal(pz_draw_posterior(&a, 7, &err), AIPM_OK);
    assert_int_equal(pz_draw_posterior(&b, 7, &err), AIPM_OK);
    assert_memory_equal(a.beta, b.beta, sizeof(double) * 200 * PZ_P);
    assert_memory_equal(a.sigma, b.sigma, sizeof(double) * 200);
    pz_model_free(&a);
    pz_model_free(&b);
    free(text);
    json_decref(art);
    json_decref(back);
}

/* Each way an artifact can be wrong is AIPM_EINVALID with a one-line
 * message naming it, never a crash or a half-read model. */
static void test_artifact_malformed(void **state)
{
    static const char *const edits[] = {
        "del mu",    "del blr",         "sd 0 x",      "sd 3 -1",
        "cov short", "chol short",      "model other", "features swap",
        "an 0",      "bn nan",          "n_train -3",  "p 7",
        "mn string", "rice_median null"};
    pz_model a, b;
    aipm_error err = {0, ""};
    json_t *good, *arr;
    size_t k;

    (void)state;
    random_model(&a);
    assert_non_null(good = pz_model_artifact(&a));
    assert_int_equal(pz_model_from_artifact(&b, NULL, "x", &err),
                     AIPM_EINVALID);
    assert_non_null(arr = json_array());
    assert_int_equal(pz_model_from_artifact(&b, arr, "x", &err), AIPM_EINVALID);
    json_decref(arr);
    for (k = 0; k < sizeof(edits) / sizeof(*edits); k++) {
        json_t *bad = json_deep_copy(good), *blr = json_object_get(bad, "blr");
        const char *e = edits[k];

        if (strcmp(e, "del mu") == 0)
            json_object_del(bad, "mu");
        else if (strcmp(e, "del blr") == 0)
            json_object_del(bad, "blr");
        else if (strcmp(e, "sd 0 x") == 0)
            json_array_set_new(json_object_get(bad, "sd"), 0, json_string("x"));
        else if (strcmp(e, "sd 3 -1") == 0)
            json_array_set_new(json_object_get(bad, "sd"), 3, json_real(-1));
        else if (strcmp(e, "cov short") == 0)
            json_array_remove(json_object_get(blr, "cov"), 0);
        else if (strcmp(e, "chol short") == 0)
            json_array_remove(json_object_get(blr, "chol"), 5);
        else if (strcmp(e, "model other") == 0)
            json_object_set_new(bad, "model",
                                json_string("bayesian_linear/2 (9 features)"));
        else if (strcmp(e, "features swap") == 0)
            json_array_set_new(json_object_get(bad, "features"), 1,
                               json_string("reach"));
        else if (strcmp(e, "an 0") == 0)
            json_object_set_new(blr, "an", json_integer(0));
        else if (strcmp(e, "bn nan") == 0)
            json_object_set_new(blr, "bn", json_string("NaN"));
        else if (strcmp(e, "n_train -3") == 0)
            json_object_set_new(bad, "n_train", json_integer(-3));
        else if (strcmp(e, "p 7") == 0)
            json_object_set_new(blr, "p", json_integer(7));
        else if (strcmp(e, "mn string") == 0)
            json_object_set_new(blr, "mn", json_string("[1, 2]"));
        else
            json_object_set_new(bad, "rice_median", json_null());
        aipm_error_clear(&err); /* the first failure's message stays */
        assert_int_equal(pz_model_from_artifact(&b, bad, "value@9", &err),
                         AIPM_EINVALID);
        assert_true(strncmp(err.msg, "value@9: ", 9) == 0);
        assert_null(strchr(err.msg, '\n'));
        assert_int_equal(b.bayes, 0);
        json_decref(bad);
    }
    json_decref(good);
}

/* ---- the value model on a demo store ---- */

typedef struct demo_fx {
    tu_ws w;
    int64_t now_ms;
    aipm_model_fit fit; /* trained with the default cutoff */
} demo_fx;

/* A small demo product (800 users, 60 days to 2026-11-27: about 55
 * shipped items, the size the command-level decisions test uses), its
 * backlog, feedback, events and signals ingested, its aipm.yaml loaded. */
static int demo_setup(void **state)
{
    demo_fx *f = calloc(1, sizeof(*f));
    aipm_error err = {0, ""};

    if (f == NULL || tu_ws_open(&f->w) != 0 ||
        tu_ws_demo(&f->w, 800, 60, 1, "2026-11-27", NULL, NULL) != 0)
        return -1;
    aipm_time_parse(&f->now_ms, "2026-11-28", 10, 1); /* the day after */
    if (aipm_pz_model_train(&f->fit, f->w.st, f->w.cfg, 0, f->now_ms, 1,
                            &err) != AIPM_OK) {
        print_error("train: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int demo_teardown(void **state)
{
    demo_fx *f = *state;

    if (f) {
        aipm_model_fit_free(&f->fit);
        aipm_config_free(f->w.cfg);
        aipm_store_close(f->w.st);
        tu_rmtree(f->w.dir);
        free(f);
    }
    return 0;
}

static int is_feature_column(const char *c)
{
    int i;

    for (i = 0; aipm_pz_feature_columns[i]; i++)
        if (strcmp(aipm_pz_feature_columns[i], c) == 0)
            return 1;
    return 0;
}

static double jnum(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The fit's holdout metrics are the backtest's at the same cutoff, which
 * predicts the same items with the same model and draws: MAE and RMSE
 * recomputed here from the backtest's rows (predicted against realized,
 * the sums written out), its Spearman and coverage as it reports them.
 * The default cutoff leaves at least a quarter of the shipped items with
 * an outcome (and at least AIPM_PZ_MIN_HOLDOUT) to the holdout. */
static void test_model_train_demo(void **state)
{
    demo_fx *f = *state;
    aipm_model_fit *fit = &f->fit;
    aipm_error err = {0, ""};
    aipm_pz_opts o;
    json_t *doc, *bt, *row, *seg, *feat, *col, *ref;
    json_error_t jerr;
    const char *cut = json_string_value(json_object_get(fit->data, "cutoff"));
    double n = jnum(fit->metrics, "n"), abs_sum = 0, sq_sum = 0;
    int seg_rows = 0;
    size_t i, k;
    char *text = NULL;
    pz_model m;

    print_message("value model: cutoff %s, %g train rows, %g holdout rows: "
                  "MAE %.3f, RMSE %.3f, Spearman %.3f, P10..P90 %.2f\n",
                  cut, jnum(fit->data, "train_rows"), n,
                  jnum(fit->metrics, "mae"), jnum(fit->metrics, "rmse"),
                  jnum(fit->metrics, "spearman"),
                  jnum(fit->metrics, "p10_p90_coverage"));
    assert_string_equal(fit->kind, "value");
    assert_string_equal(fit->datasets[0], "backlog");
    assert_null(fit->datasets[4]);
    assert_true(n >= AIPM_PZ_MIN_HOLDOUT);
    assert_true(jnum(fit->data, "holdout_rows") == n);
    assert_true(jnum(fit->data, "train_rows") >= AIPM_PZ_MIN_TRAIN);
    /* a quarter of all rows, rounded up, at least (ties on the cutoff day
     * can add more) */
    assert_true(4 * n >= jnum(fit->data, "train_rows") + n);
    assert_non_null(cut);
    assert_int_equal(strlen(cut), 10);
    /* the backtest at that cutoff */
    aipm_pz_opts_init(&o);
    o.backtest = 1;
    o.record = 0;
    o.now_ms = f->now_ms;
    assert_int_equal(aipm_time_parse(&o.cutoff_ms, cut, 10, 1), AIPM_OK);
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_OK);
    assert_non_null(doc = json_loads(text, 0, &jerr));
    bt = json_object_get(doc, "backtest");
    assert_string_equal(json_string_value(json_object_get(bt, "cutoff")), cut);
    assert_true(jnum(bt, "tested_on") == n);
    assert_true(jnum(bt, "trained_on") == jnum(fit->data, "train_rows"));
    json_array_foreach(json_object_get(bt, "items"), i, row)
    {
        double e = jnum(row, "predicted") - jnum(row, "realized");

        abs_sum += fabs(e);
        sq_sum += e * e;
    }
    NEAR(jnum(fit->metrics, "mae"), abs_sum / n, 1e-9 * (1 + abs_sum / n));
    NEAR(jnum(fit->metrics, "rmse"), sqrt(sq_sum / n),
         1e-9 * (1 + sqrt(sq_sum / n)));
    NEAR(jnum(fit->metrics, "spearman"), jnum(bt, "spearman"), 1e-12);
    NEAR(jnum(fit->metrics, "p10_p90_coverage"), jnum(bt, "p10_p90_coverage"),
         1e-12);
    json_decref(doc);
    free(text);
    /* segments: every holdout row in one area; Spearman only from 3 */
    json_array_foreach(fit->segments, i, seg)
    {
        const char *name = json_string_value(json_object_get(seg, "segment"));

        assert_non_null(name);
        assert_true(strncmp(name, "area=", 5) == 0);
        seg_rows += (int)jnum(seg, "n");
        assert_true(jnum(seg, "n") >= 3 ||
                    json_is_null(json_object_get(seg, "spearman")));
        assert_true(jnum(seg, "rmse") >= jnum(seg, "mae") - 1e-12);
    }
    assert_int_equal(seg_rows, (int)n);
    /* the features: each regression feature, reading known columns */
    assert_int_equal(json_array_size(fit->features), PZ_P - 1);
    json_array_foreach(fit->features, i, feat)
    {
        assert_string_equal(json_string_value(json_object_get(feat, "name")),
                            pz_feature_names[i + 1]);
        assert_true(json_array_size(json_object_get(feat, "columns")) > 0);
        json_array_foreach(json_object_get(feat, "columns"), k, col)
            assert_true(is_feature_column(json_string_value(col)));
    }
    assert_non_null(json_object_get(fit->card, "limits"));
    assert_true(jnum(fit->hyper, "a0") == PZ_PRIOR_A0);
    /* the reference sample: each feature of the card, a score a row
     * (which rows: test_model_reference_open_at_cutoff) */
    ref = json_object_get(fit->artifact, "reference");
    assert_true(json_array_size(json_object_get(ref, "score")) > 0);
    assert_int_equal(json_array_size(json_object_get(ref, "features")),
                     PZ_P - 1);
    json_array_foreach(json_object_get(ref, "features"), i, feat)
    {
        assert_string_equal(json_string_value(json_object_get(feat, "name")),
                            pz_feature_names[i + 1]);
        assert_string_equal(json_string_value(json_object_get(feat, "kind")),
                            "numerical");
        assert_int_equal(json_array_size(json_object_get(feat, "values")),
                         json_array_size(json_object_get(ref, "score")));
    }
    json_array_foreach(json_object_get(ref, "score"), i, col)
        assert_true(json_number_value(col) >= 0);
    /* the artifact is a model of the training rows */
    assert_int_equal(pz_model_from_artifact(&m, fit->artifact, "fit", &err),
                     AIPM_OK);
    assert_true(m.n_train == jnum(fit->data, "train_rows"));
}

/* Too early a cutoff leaves nothing to train on, too late one nothing to
 * test on: AIPM_EINVALID saying how many there are. */
static void test_model_train_bad_cutoff(void **state)
{
    demo_fx *f = *state;
    aipm_model_fit fit;
    aipm_error err = {0, ""};
    int64_t early;

    assert_int_equal(aipm_time_parse(&early, "2020-01-01", 10, 1), AIPM_OK);
    assert_int_equal(
        aipm_pz_model_train(&fit, f->w.st, f->w.cfg, early, f->now_ms, 1, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "0 shipped items with an outcome before "
                                    "the cutoff 2020-01-01"));
    assert_null(fit.artifact);
    aipm_error_clear(&err);
    assert_int_equal(aipm_pz_model_train(&fit, f->w.st, f->w.cfg, f->now_ms,
                                         f->now_ms, 1, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, " and 0 from it on"));
}

static int find_record(void *ctx, const aipm_decision_row *r)
{
    json_error_t jerr;

    *(json_t **)ctx =
        json_pack("{s:o, s:s}", "params", json_loads(r->params, 0, &jerr),
                  "model", r->model ? r->model : "");
    return 0;
}

static int replay_ranking(void *ctx, const aipm_decision_row *r, json_t **doc,
                          aipm_error *err)
{
    demo_fx *f = ctx;
    json_error_t jerr;
    json_t *p = json_loads(r->params, 0, &jerr);
    json_t *v = json_object_get(p, "model_version");
    aipm_pz_opts o;
    char *text = NULL;
    int rc;

    /* as `aipm decisions replay` passes it on */
    aipm_pz_opts_init(&o);
    o.model_version = json_is_integer(v) ? json_integer_value(v) : -1;
    o.now_ms = r->time_ms;
    o.record = 0;
    o.draws = (int)jnum(p, "draws");
    json_decref(p);
    rc = aipm_prioritize(&text, f->w.st, f->w.cfg, &o, err);
    if (rc == AIPM_OK)
        *doc = json_loads(text, 0, &jerr);
    free(text);
    return rc;
}

/* A registered version ranks as the same regression trained in the run
 * on the same data would: at the day before the cutoff, the run trains on
 * the items shipped before the cutoff with outcomes through it, features
 * as of their decision days - the fit's training rows - so the items,
 * their values and their order are the same, only the model object says
 * where it came from. The record names the version, and a replay with it
 * gives the recorded output again. */
static void test_registered_version_ranks(void **state)
{
    demo_fx *f = *state;
    aipm_error err = {0, ""};
    aipm_pz_opts o;
    aipm_decision_filter flt;
    aipm_replay_result res;
    json_t *trained, *used, *rec = NULL, *reg;
    json_error_t jerr;
    char *text = NULL, model_s[160];
    int64_t version = 0, cut_ms;
    const char *id;

    assert_int_equal(aipm_model_register(f->w.st, "value", &f->fit, 1,
                                         f->now_ms, NULL, &version, &err),
                     AIPM_OK);
    assert_true(version >= 1);
    assert_int_equal(
        aipm_time_parse(
            &cut_ms, json_string_value(json_object_get(f->fit.data, "cutoff")),
            10, 1),
        AIPM_OK);
    aipm_pz_opts_init(&o);
    o.record = 0;
    o.draws = 500;
    o.now_ms = cut_ms - 86400000LL;
    o.model_version = -1;
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_OK);
    assert_non_null(trained = json_loads(text, 0, &jerr));
    free(text);
    o.model_version = version;
    o.record = 1;
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_OK);
    assert_non_null(used = json_loads(text, 0, &jerr));
    free(text);
    assert_true(json_array_size(json_object_get(used, "items")) > 0);
    assert_true(json_equal(json_object_get(trained, "items"),
                           json_object_get(used, "items")));
    reg = json_object_get(json_object_get(used, "model"), "registry");
    assert_string_equal(json_string_value(json_object_get(reg, "name")),
                        "value");
    assert_int_equal(json_integer_value(json_object_get(reg, "version")),
                     version);
    assert_null(json_object_get(json_object_get(trained, "model"), "registry"));
    json_object_del(json_object_get(used, "model"), "registry");
    assert_true(json_equal(json_object_get(trained, "model"),
                           json_object_get(used, "model")));
    /* the record */
    id = json_string_value(json_object_get(used, "decision_id"));
    assert_non_null(id);
    memset(&flt, 0, sizeof(flt));
    flt.id = id;
    assert_int_equal(
        aipm_store_decision_list(f->w.st, &flt, find_record, &rec, &err),
        AIPM_OK);
    assert_non_null(rec);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(rec, "params"), "model_version")),
                     version);
    snprintf(model_s, sizeof(model_s), "value@%lld (%s)", (long long)version,
             PZ_MODEL_VERSION);
    assert_string_equal(json_string_value(json_object_get(rec, "model")),
                        model_s);
    assert_int_equal(aipm_decision_replay(f->w.st, id, f->w.cfg, replay_ranking,
                                          f, &res, NULL, &err),
                     AIPM_OK);
    assert_true(res.matches);
    json_decref(rec);
    json_decref(trained);
    json_decref(used);
    /* no such version: the registry's error, nothing ranked */
    o.model_version = version + 100;
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_ENOTFOUND);
    assert_null(text);
}

/* ---- the value model's monitoring reading ---- */

#define MAX_OPEN 4096

/* The open backlog (status idea, planned or in_progress) as the store
 * gives it - the newest row of each id, in stored order - with each
 * item's id and the PM's RICE inputs, copied. */
typedef struct open_items {
    int n, too_many;
    char *id[MAX_OPEN];
    double reach[MAX_OPEN], impact[MAX_OPEN], conf[MAX_OPEN];
} open_items;

static int take_open(void *ctx, const aipm_backlog_item *r)
{
    open_items *b = ctx;

    if (r->id == NULL || r->status == NULL ||
        (strcmp(r->status, "idea") != 0 && strcmp(r->status, "planned") != 0 &&
         strcmp(r->status, "in_progress") != 0))
        return 0;
    if (b->n == MAX_OPEN) {
        b->too_many = 1;
        return 0;
    }
    b->id[b->n] = strdup(r->id);
    b->reach[b->n] = r->reach;
    b->impact[b->n] = r->impact;
    b->conf[b->n++] = r->confidence;
    return 0;
}

static const json_t *feature_values(const json_t *sample, const char *name)
{
    const json_t *f;
    size_t i;

    json_array_foreach(json_object_get(sample, "features"), i, f)
    {
        const char *s = json_string_value(json_object_get(f, "name"));

        if (s && strcmp(s, name) == 0)
            return json_object_get(f, "values");
    }
    return NULL;
}

/* x[k] of a sample's feature, NAN for null. */
static double value_at(const json_t *sample, const char *name, size_t k)
{
    const json_t *v = json_array_get(feature_values(sample, name), k);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const json_t *ranked_item(const json_t *doc, const char *id)
{
    const json_t *it;
    size_t i;

    json_array_foreach(json_object_get(doc, "items"), i, it)
    {
        const char *s = json_string_value(json_object_get(it, "id"));

        if (s && strcmp(s, id) == 0)
            return it;
    }
    return NULL;
}

/* Near, relative to the size of b; both NAN counts as equal. */
static void near_rel(double a, double b)
{
    if (isnan(a) && isnan(b))
        return;
    NEAR(a, b, 1e-12 * (1 + fabs(b)));
}

/* The reading at the training's own now, with the trained artifact:
 * (a) current has the reference's features, names and kinds, in order;
 * (b) one row per open backlog item, counted here through the store's
 *     backlog rows (none is sampled away below AIPM_MODEL_REF_MAX);
 * (c) the performance is the trainer's holdout - the items shipped from
 *     the cutoff with an outcome by now, the same predictions - so its
 *     metrics are the card's, and its window runs from the cutoff to now;
 * and each open item's row is what aipm_prioritize ranks with the
 * registered version at the same seed and draws: its expected value the
 * score, its signals the features, and the RICE features recomputed here
 * from the PM's numbers in the store (log1p of reach, log of impact and
 * confidence at least 0.001; null, with has_rice 0, when any is
 * missing). */
static void test_model_reading_demo(void **state)
{
    demo_fx *f = *state;
    aipm_model_fit *fit = &f->fit;
    aipm_model_reading rd;
    aipm_error err = {0, ""};
    aipm_pz_opts o;
    open_items *b = calloc(1, sizeof(*b));
    const json_t *ref = json_object_get(fit->artifact, "reference"), *cur;
    const json_t *rf, *cf, *perf, *win;
    json_t *doc;
    json_error_t jerr;
    char *text = NULL;
    int64_t version = 0;
    size_t i, k;
    int n_rice = 0;

    assert_non_null(b);
    assert_int_equal(aipm_pz_model_reading(&rd, f->w.st, f->w.cfg,
                                           fit->artifact, f->now_ms, &err),
                     AIPM_OK);
    cur = rd.current;
    assert_non_null(cur);
    assert_null(rd.forecasts);
    /* (a) */
    assert_int_equal(json_array_size(json_object_get(cur, "features")),
                     json_array_size(json_object_get(ref, "features")));
    assert_int_equal(json_array_size(json_object_get(cur, "features")),
                     PZ_P - 1);
    json_array_foreach(json_object_get(ref, "features"), i, rf)
    {
        cf = json_array_get(json_object_get(cur, "features"), i);
        assert_string_equal(json_string_value(json_object_get(cf, "name")),
                            json_string_value(json_object_get(rf, "name")));
        assert_string_equal(json_string_value(json_object_get(cf, "kind")),
                            json_string_value(json_object_get(rf, "kind")));
    }
    /* (b) */
    assert_int_equal(aipm_store_backlog_items(f->w.st, take_open, b, &err),
                     AIPM_OK);
    assert_false(b->too_many);
    assert_true(b->n > 0 && b->n <= AIPM_MODEL_REF_MAX);
    print_message("reading: %d open items; performance %s\n", b->n,
                  json_is_object(rd.performance) ? "labelled" : "null");
    assert_int_equal(json_array_size(json_object_get(cur, "score")),
                     (size_t)b->n);
    json_array_foreach(json_object_get(cur, "features"), i, cf)
        assert_int_equal(json_array_size(json_object_get(cf, "values")),
                         (size_t)b->n);
    /* (c) */
    perf = rd.performance;
    assert_true(json_is_object(perf));
    assert_true(jnum(perf, "n") == jnum(fit->metrics, "n"));
    assert_true(jnum(perf, "n") == jnum(fit->data, "holdout_rows"));
    near_rel(jnum(perf, "mae"), jnum(fit->metrics, "mae"));
    near_rel(jnum(perf, "rmse"), jnum(fit->metrics, "rmse"));
    near_rel(jnum(perf, "spearman"), jnum(fit->metrics, "spearman"));
    near_rel(jnum(perf, "p10_p90_coverage"),
             jnum(fit->metrics, "p10_p90_coverage"));
    win = json_object_get(perf, "window");
    assert_string_equal(
        json_string_value(json_object_get(win, "from")),
        json_string_value(json_object_get(fit->data, "cutoff")));
    assert_string_equal(json_string_value(json_object_get(win, "to")),
                        "2026-11-28");
    /* each row against the ranking with the registered version */
    assert_int_equal(aipm_model_register(f->w.st, "value", fit, 1, f->now_ms,
                                         NULL, &version, &err),
                     AIPM_OK);
    aipm_pz_opts_init(&o);
    o.record = 0;
    o.now_ms = f->now_ms;
    o.model_version = version;
    o.seed = (uint64_t)jnum(fit->artifact, "seed");
    o.draws = (int)jnum(fit->artifact, "draws");
    assert_int_equal(o.seed, 1);
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_OK);
    assert_non_null(doc = json_loads(text, 0, &jerr));
    assert_int_equal(json_array_size(json_object_get(doc, "items")),
                     (size_t)b->n);
    for (k = 0; k < (size_t)b->n; k++) {
        const json_t *it = ranked_item(doc, b->id[k]);
        const json_t *sig = json_object_get(it, "signals");
        int has = isfinite(b->reach[k]) && isfinite(b->impact[k]) &&
                  isfinite(b->conf[k]);

        assert_non_null(it);
        near_rel(
            json_number_value(json_array_get(json_object_get(cur, "score"), k)),
            jnum(it, "expected_value"));
        near_rel(value_at(cur, "reach", k), jnum(sig, "reach"));
        near_rel(value_at(cur, "log1p_demand", k),
                 log1p(jnum(sig, "demand_per_month")));
        if (json_is_number(json_object_get(sig, "market")))
            near_rel(value_at(cur, "market", k), jnum(sig, "market"));
        assert_true(value_at(cur, "has_rice", k) == has);
        n_rice += has;
        if (has) {
            near_rel(value_at(cur, "log1p_rice_reach", k),
                     log1p(fmax(b->reach[k], 0)));
            near_rel(value_at(cur, "rice_impact", k),
                     log(fmax(b->impact[k], 1e-3)));
            near_rel(value_at(cur, "rice_confidence", k),
                     log(fmax(b->conf[k], 1e-3)));
        } else {
            assert_true(isnan(value_at(cur, "log1p_rice_reach", k)));
            assert_true(isnan(value_at(cur, "rice_impact", k)));
            assert_true(isnan(value_at(cur, "rice_confidence", k)));
        }
    }
    print_message("reading: %d of %d open items with RICE\n", n_rice, b->n);
    for (k = 0; k < (size_t)b->n; k++)
        free(b->id[k]);
    free(b);
    free(text);
    json_decref(doc);
    aipm_model_reading_free(&rd);
}

/* A store with nothing in it (the demo's aipm.yaml): the features and
 * the score with no values, nothing labelled - not an error. */
static void test_model_reading_empty(void **state)
{
    demo_fx *f = *state;
    aipm_model_reading rd;
    aipm_error err = {0, ""};
    tu_ws w;
    const json_t *cf;
    size_t i;

    assert_int_equal(tu_ws_open(&w), 0);
    assert_int_equal(aipm_pz_model_reading(&rd, w.st, f->w.cfg, f->fit.artifact,
                                           f->now_ms, &err),
                     AIPM_OK);
    assert_int_equal(json_array_size(json_object_get(rd.current, "features")),
                     PZ_P - 1);
    json_array_foreach(json_object_get(rd.current, "features"), i, cf)
    {
        assert_string_equal(json_string_value(json_object_get(cf, "name")),
                            pz_feature_names[i + 1]);
        assert_true(json_is_array(json_object_get(cf, "values")));
        assert_int_equal(json_array_size(json_object_get(cf, "values")), 0);
    }
    assert_true(json_is_array(json_object_get(rd.current, "score")));
    assert_int_equal(json_array_size(json_object_get(rd.current, "score")), 0);
    assert_true(json_is_null(rd.performance));
    assert_null(rd.forecasts);
    aipm_model_reading_free(&rd);
    tu_ws_close(&w);
}

/* Each way the artifact can be unfit for a reading - no parameters, no
 * cutoff or one that is not a date, no seed, draws out of range - and no
 * configuration to read the data with are AIPM_EINVALID with a one-line
 * message, and nothing is returned. */
static void test_model_reading_malformed(void **state)
{
    static const char *const edits[] = {
        "null",       "array",    "del cutoff", "cutoff month 13",
        "cutoff int", "del seed", "seed text",  "draws 0",
        "draws huge", "del mu",   "del draws"};
    demo_fx *f = *state;
    aipm_model_reading rd;
    aipm_error err = {0, ""};
    size_t k;

    for (k = 0; k < sizeof(edits) / sizeof(*edits); k++) {
        json_t *bad = json_deep_copy(f->fit.artifact);
        const char *e = edits[k];

        if (strcmp(e, "null") == 0) {
            json_decref(bad);
            bad = NULL;
        } else if (strcmp(e, "array") == 0) {
            json_decref(bad);
            bad = json_array();
        } else if (strcmp(e, "del cutoff") == 0)
            json_object_del(bad, "cutoff");
        else if (strcmp(e, "cutoff month 13") == 0)
            json_object_set_new(bad, "cutoff", json_string("2026-13-01"));
        else if (strcmp(e, "cutoff int") == 0)
            json_object_set_new(bad, "cutoff", json_integer(20261101));
        else if (strcmp(e, "del seed") == 0)
            json_object_del(bad, "seed");
        else if (strcmp(e, "seed text") == 0)
            json_object_set_new(bad, "seed", json_string("1"));
        else if (strcmp(e, "draws 0") == 0)
            json_object_set_new(bad, "draws", json_integer(0));
        else if (strcmp(e, "draws huge") == 0)
            json_object_set_new(bad, "draws", json_integer(1000000000));
        else if (strcmp(e, "del mu") == 0)
            json_object_del(bad, "mu");
        else
            json_object_del(bad, "draws");
        aipm_error_clear(&err);
        assert_int_equal(
            aipm_pz_model_reading(&rd, f->w.st, f->w.cfg, bad, f->now_ms, &err),
            AIPM_EINVALID);
        assert_true(strncmp(err.msg, "value model: ", 13) == 0);
        assert_null(strchr(err.msg, '\n'));
        assert_null(rd.current);
        assert_null(rd.performance);
        assert_null(rd.forecasts);
        json_decref(bad);
    }
    /* no configuration (the catalog): refused, not a crash */
    aipm_error_clear(&err);
    assert_int_equal(aipm_pz_model_reading(&rd, f->w.st, NULL, f->fit.artifact,
                                           f->now_ms, &err),
                     AIPM_EINVALID);
    assert_null(rd.current);
}

/* ---- the reference: the population the model scores, at the cutoff ---- */

/* The backlog items open at an instant, counted from the store's backlog
 * rows (the newest of each id, in stored order) by their dates as
 * written: created before the instant, not dropped (the backlog keeps no
 * status history: dropped now is taken as dropped then), and when
 * shipped, shipped at or after it. With each one's id and RICE inputs. */
typedef struct open_then {
    int64_t at_ms;
    int n_shipped_since, n_dropped, bad_dates;
    open_items b;
    char *area[MAX_OPEN];
    int shipped_since[MAX_OPEN];
} open_then;

static int take_open_then(void *ctx, const aipm_backlog_item *r)
{
    open_then *t = ctx;
    open_items *b = &t->b;
    int64_t created, shipped;

    if (r->id == NULL || r->status == NULL || r->created_at == NULL ||
        aipm_time_parse(&created, r->created_at, strlen(r->created_at), 1) !=
            AIPM_OK) {
        t->bad_dates++;
        return 0;
    }
    if (created >= t->at_ms)
        return 0;
    if (strcmp(r->status, "dropped") == 0) {
        t->n_dropped++;
        return 0;
    }
    if (strcmp(r->status, "shipped") == 0) {
        if (r->shipped_at == NULL ||
            aipm_time_parse(&shipped, r->shipped_at, strlen(r->shipped_at),
                            1) != AIPM_OK) {
            t->bad_dates++;
            return 0;
        }
        if (shipped < t->at_ms)
            return 0;
    }
    if (b->n == MAX_OPEN) {
        b->too_many = 1;
        return 0;
    }
    t->shipped_since[b->n] = strcmp(r->status, "shipped") == 0;
    t->n_shipped_since += t->shipped_since[b->n];
    t->area[b->n] = strdup(r->area ? r->area : "");
    b->id[b->n] = strdup(r->id);
    b->reach[b->n] = r->reach;
    b->impact[b->n] = r->impact;
    b->conf[b->n++] = r->confidence;
    return 0;
}

static open_then *open_at_cutoff(const demo_fx *f)
{
    open_then *t = calloc(1, sizeof(*t));
    const char *cut = json_string_value(json_object_get(f->fit.data, "cutoff"));
    aipm_error err = {0, ""};

    assert_non_null(t);
    assert_non_null(cut);
    assert_int_equal(aipm_time_parse(&t->at_ms, cut, strlen(cut), 1), AIPM_OK);
    assert_int_equal(aipm_store_backlog_items(f->w.st, take_open_then, t, &err),
                     AIPM_OK);
    assert_int_equal(t->bad_dates, 0);
    assert_false(t->b.too_many);
    return t;
}

static void open_then_free(open_then *t)
{
    int k;

    for (k = 0; k < t->b.n; k++) {
        free(t->b.id[k]);
        free(t->area[k]);
    }
    free(t);
}

/* (a) The reference holds exactly the items open at the cutoff, counted
 * above from the backlog rows - those shipped since among them, the
 * training rows (shipped before it) not - every one of them (fewer than
 * AIPM_MODEL_REF_MAX), in backlog order: row k's RICE features are the
 * k-th counted item's, recomputed from the PM's numbers in the store
 * (log1p of reach, log of impact and confidence at least 0.001; null,
 * with has_rice 0, when any is missing). And all are as of one day, the
 * shipped since as the others: reach and market depend only on the area
 * and the as-of day, so each is the same for every item of an area
 * (taken as of its decision day, before the cutoff, an item shipped
 * since would have those of an earlier window). */
static void test_model_reference_open_at_cutoff(void **state)
{
    demo_fx *f = *state;
    const json_t *ref = json_object_get(f->fit.artifact, "reference"), *feat;
    open_then *t = open_at_cutoff(f);
    size_t i, k, n = (size_t)t->b.n;
    int pairs = 0;

    print_message(
        "reference: %d items open at the cutoff %s (%d shipped "
        "since, %d dropped by now left out); %g training rows\n",
        t->b.n, json_string_value(json_object_get(f->fit.data, "cutoff")),
        t->n_shipped_since, t->n_dropped, jnum(f->fit.data, "train_rows"));
    assert_true(n > 0 && n <= AIPM_MODEL_REF_MAX);
    assert_true(t->n_shipped_since > 0);
    assert_int_equal(json_array_size(json_object_get(ref, "score")), n);
    json_array_foreach(json_object_get(ref, "features"), i, feat)
        assert_int_equal(json_array_size(json_object_get(feat, "values")), n);
    for (k = 0; k < n; k++) {
        const json_t *sc = json_array_get(json_object_get(ref, "score"), k);
        int has = isfinite(t->b.reach[k]) && isfinite(t->b.impact[k]) &&
                  isfinite(t->b.conf[k]);

        assert_true(json_is_number(sc) && json_number_value(sc) >= 0);
        assert_true(value_at(ref, "has_rice", k) == has);
        if (has) {
            near_rel(value_at(ref, "log1p_rice_reach", k),
                     log1p(fmax(t->b.reach[k], 0)));
            near_rel(value_at(ref, "rice_impact", k),
                     log(fmax(t->b.impact[k], 1e-3)));
            near_rel(value_at(ref, "rice_confidence", k),
                     log(fmax(t->b.conf[k], 1e-3)));
        } else {
            assert_true(isnan(value_at(ref, "log1p_rice_reach", k)));
            assert_true(isnan(value_at(ref, "rice_impact", k)));
            assert_true(isnan(value_at(ref, "rice_confidence", k)));
        }
    }
    for (k = 0; k < n; k++) /* each shipped since against the others */
        for (i = 0; t->shipped_since[k] && i < n; i++)
            if (!t->shipped_since[i] && strcmp(t->area[i], t->area[k]) == 0) {
                near_rel(value_at(ref, "reach", k), value_at(ref, "reach", i));
                near_rel(value_at(ref, "market", k),
                         value_at(ref, "market", i));
                pairs++;
            }
    print_message("reference: %d pairs (shipped since, open now) of an area "
                  "with the same reach and market\n",
                  pairs);
    assert_true(pairs > 0);
    open_then_free(t);
}

/* How many of two arrays' values differ (both null is equal); the sizes
 * count when they differ. */
static size_t n_differ(const json_t *a, const json_t *b)
{
    size_t i, n = 0;

    if (json_array_size(a) != json_array_size(b))
        return json_array_size(a) + json_array_size(b);
    for (i = 0; i < json_array_size(a); i++) {
        const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);

        if (json_is_null(x) && json_is_null(y))
            continue;
        n += !json_is_number(x) || !json_is_number(y) ||
             json_number_value(x) != json_number_value(y);
    }
    return n;
}

/* (b) A reading at the cutoff is the reference, value for value: the
 * same items with the same features and scores, bit for bit, since both
 * are the one computation. "At the cutoff" in the ranking's terms: a
 * ranking as of an instant reads everything through the end of that
 * instant's day, so the ranking that knows exactly what was known at
 * the cutoff (the start of its day) is the one as of the day before, as
 * in test_registered_version_ranks. Nothing is labelled then. And the
 * reference is what aipm_prioritize, which takes the features by its own
 * code, scores then with the version: each item open at the cutoff and
 * still open now (those shipped since it no longer ranks) has the
 * ranking's expected value and signals. */
static void test_model_reading_at_cutoff(void **state)
{
    demo_fx *f = *state;
    aipm_model_fit *fit = &f->fit;
    const json_t *ref = json_object_get(fit->artifact, "reference"), *rf, *cf;
    open_then *t = open_at_cutoff(f);
    aipm_model_reading rd;
    aipm_error err = {0, ""};
    aipm_pz_opts o;
    json_t *doc;
    json_error_t jerr;
    char *text = NULL;
    int64_t version = 0, day_before = t->at_ms - 86400000LL;
    size_t i, k, compared = 0;

    assert_int_equal(aipm_pz_model_reading(&rd, f->w.st, f->w.cfg,
                                           fit->artifact, day_before, &err),
                     AIPM_OK);
    assert_int_equal(json_array_size(json_object_get(rd.current, "score")),
                     (size_t)t->b.n);
    assert_int_equal(json_array_size(json_object_get(rd.current, "features")),
                     PZ_P - 1);
    json_array_foreach(json_object_get(ref, "features"), i, rf)
    {
        cf = json_array_get(json_object_get(rd.current, "features"), i);
        assert_string_equal(json_string_value(json_object_get(cf, "name")),
                            json_string_value(json_object_get(rf, "name")));
        assert_string_equal(json_string_value(json_object_get(cf, "kind")),
                            json_string_value(json_object_get(rf, "kind")));
        assert_int_equal(n_differ(json_object_get(cf, "values"),
                                  json_object_get(rf, "values")),
                         0);
    }
    assert_int_equal(n_differ(json_object_get(rd.current, "score"),
                              json_object_get(ref, "score")),
                     0);
    assert_true(json_is_null(rd.performance));
    aipm_model_reading_free(&rd);
    /* the ranking then, with the version */
    assert_int_equal(aipm_model_register(f->w.st, "value", fit, 1, f->now_ms,
                                         NULL, &version, &err),
                     AIPM_OK);
    aipm_pz_opts_init(&o);
    o.record = 0;
    o.now_ms = day_before;
    o.model_version = version;
    o.seed = (uint64_t)jnum(fit->artifact, "seed");
    o.draws = (int)jnum(fit->artifact, "draws");
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_OK);
    assert_non_null(doc = json_loads(text, 0, &jerr));
    for (k = 0; k < (size_t)t->b.n; k++) {
        const json_t *it = ranked_item(doc, t->b.id[k]);
        const json_t *sig = json_object_get(it, "signals");

        if (it == NULL)
            continue;
        compared++;
        near_rel(
            json_number_value(json_array_get(json_object_get(ref, "score"), k)),
            jnum(it, "expected_value"));
        near_rel(value_at(ref, "reach", k), jnum(sig, "reach"));
        near_rel(value_at(ref, "log1p_demand", k),
                 log1p(jnum(sig, "demand_per_month")));
        if (json_is_number(json_object_get(sig, "market")))
            near_rel(value_at(ref, "market", k), jnum(sig, "market"));
    }
    print_message("reading at the cutoff: %d items as the reference; %zu of "
                  "them ranked then and now as in the reference\n",
                  t->b.n, compared);
    assert_int_equal(compared, (size_t)(t->b.n - t->n_shipped_since));
    json_decref(doc);
    free(text);
    open_then_free(t);
}

/* (c) The reference reads nothing the training reads: the training rows,
 * the posterior and the holdout metrics are those the trainer gave on
 * this demo store before its reference was the population at the
 * cutoff, when it was the training rows (recorded with that trainer,
 * default cutoff, seed 1, printed with 17 significant digits). */
static void test_model_train_unchanged(void **state)
{
    static const double mn[PZ_P] = {2.2814615587693075,    0.0,
                                    0.2350128350338164,    0.14948719351876594,
                                    -0.083230797174673854, 0.19166526717947086,
                                    0.97729475085230366,   -0.2275491658973145};
    static const struct {
        const char *segment;
        int n;
        double mae, rmse;
    } seg[] = {
        {"area=admin", 3, 153.44906378793726, 211.04181931567635},
        {"area=alerts", 3, 371.05459276685218, 539.72070397120558},
        {"area=collaboration", 4, 37.391869005627392, 56.646969402804949},
        {"area=dashboards", 2, 225.56684730192532, 278.52532352461418},
        {"area=data", 1, 19.205594959866268, 19.205594959866268},
        {"area=reporting", 1, 4.8765222267179098, 4.8765222267179098}};
    demo_fx *f = *state;
    aipm_model_fit *fit = &f->fit;
    const json_t *blr = json_object_get(fit->artifact, "blr"), *s;
    size_t i;

    assert_string_equal(json_string_value(json_object_get(fit->data, "cutoff")),
                        "2026-11-02");
    assert_true(jnum(fit->data, "train_rows") == 26);
    assert_true(jnum(fit->data, "holdout_rows") == 14);
    assert_true(jnum(fit->metrics, "n") == 14);
    near_rel(jnum(fit->metrics, "mae"), 157.02101839123662);
    near_rel(jnum(fit->metrics, "rmse"), 289.81424186039214);
    near_rel(jnum(fit->metrics, "spearman"), 0.081408190075903178);
    near_rel(jnum(fit->metrics, "p10_p90_coverage"), 11.0 / 14);
    near_rel(jnum(blr, "an"), 14);
    near_rel(jnum(blr, "bn"), 14.156229498364103);
    for (i = 0; i < PZ_P; i++)
        near_rel(
            json_number_value(json_array_get(json_object_get(blr, "mn"), i)),
            mn[i]);
    assert_int_equal(json_array_size(fit->segments),
                     sizeof(seg) / sizeof(*seg));
    json_array_foreach(fit->segments, i, s)
    {
        assert_string_equal(json_string_value(json_object_get(s, "segment")),
                            seg[i].segment);
        assert_true(jnum(s, "n") == seg[i].n);
        near_rel(jnum(s, "mae"), seg[i].mae);
        near_rel(jnum(s, "rmse"), seg[i].rmse);
    }
}

/* ---- the value model's inputs for the scenario simulator ---- */

/* Every backlog item's id as the store gives them (the newest row of each
 * id, in stored order). */
typedef struct all_items {
    int n, too_many;
    char *id[MAX_OPEN];
} all_items;

static int take_all(void *ctx, const aipm_backlog_item *r)
{
    all_items *a = ctx;

    if (r->id == NULL)
        return 0;
    if (a->n == MAX_OPEN) {
        a->too_many = 1;
        return 0;
    }
    a->id[a->n++] = strdup(r->id);
    return 0;
}

static const aipm_pz_sim_item *sim_item(const aipm_pz_sim_inputs *in,
                                        const char *id)
{
    int i;

    for (i = 0; i < in->n_items; i++)
        if (strcmp(in->items[i].id, id) == 0)
            return &in->items[i];
    return NULL;
}

/* The predictive of log value at x from the inputs alone: location x'mn,
 * scale^2 (bn / an) (1 + |L'x|^2), as sim_engine.h writes it. */
static void sim_predictive(const aipm_pz_sim_inputs *in, const double *x,
                           double *loc, double *scale)
{
    double q = 0;
    int i, j;

    *loc = 0;
    for (i = 0; i < in->p; i++)
        *loc += x[i] * in->mn[i];
    for (j = 0; j < in->p; j++) {
        double a = 0; /* (L'x)_j = sum_i L_ij x_i */

        for (i = j; i < in->p; i++)
            a += in->chol[i * in->p + j] * x[i];
        q += a * a;
    }
    *scale = sqrt(in->bn / in->an * (1 + q));
}

/* The inputs with a model trained in the run against the ranking that
 * trains the same model at the same now: the open items are the ranked
 * ones, each with the effort, title and area the ranking shows, and each
 * one's value quantiles from the inputs' posterior predictive - log value
 * Student t with 2 an dof (quantiles from GSL's gsl_cdf_tdist_Pinv, not
 * this code), value max(0, expm1) of it, a monotone map, so its
 * quantiles are those of the t - match the ranking's Monte Carlo P10, P50
 * and P90 of 4000 draws. A sample quantile of n draws has sd about
 * sqrt(p (1 - p) / n) / f(q) (asymptotic normality of order statistics):
 * for the t here, about 0.02 scales at P10 and P90 (0.03 at P50), while
 * P10..P90 spans about 2 scales; on the value scale expm1 stretches the
 * P90 error most, by exp(y90), and P90 - P10 by about 0.86 exp(y90), so
 * the tolerance 0.1 (P90 - P10) is about 4 sd there and more at P10 and
 * P50 (at seed 1 the largest error over the items is 0.57 of it, at
 * P90). The posterior's n_train, dof and residual sd sqrt(bn / (an - 1))
 * are the ranking's; the inputs list every backlog item in the store's
 * order. */
static void test_sim_inputs_match_prioritize(void **state)
{
    demo_fx *f = *state;
    aipm_pz_sim_inputs *in = NULL;
    aipm_error err = {0, ""};
    aipm_pz_opts o;
    all_items *all = calloc(1, sizeof(*all));
    json_t *doc, *model, *it;
    json_error_t jerr;
    char *text = NULL;
    size_t k;
    int i, j, n_open = 0;

    assert_non_null(all);
    assert_int_equal(
        aipm_pz_sim_inputs_new(&in, f->w.st, f->w.cfg, -1, f->now_ms, &err),
        AIPM_OK);
    assert_non_null(in);
    aipm_pz_opts_init(&o);
    o.record = 0;
    o.now_ms = f->now_ms;
    o.model_version = -1;
    assert_int_equal(o.draws, 4000);
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_OK);
    assert_non_null(doc = json_loads(text, 0, &jerr));
    model = json_object_get(doc, "model");
    assert_string_equal(json_string_value(json_object_get(model, "kind")),
                        "bayesian_linear");
    assert_int_equal(in->p, PZ_P);
    assert_int_equal(in->version, 0);
    assert_string_equal(in->model, PZ_MODEL_VERSION);
    assert_true(in->n_train == jnum(model, "trained_on"));
    assert_true(in->n_train >= AIPM_PZ_MIN_TRAIN);
    assert_true(in->an > 0 && in->bn > 0);
    NEAR(2 * in->an, jnum(model, "dof"), 1e-9);
    NEAR(sqrt(in->bn / (in->an - 1)), jnum(model, "residual_sd"), 1e-9);
    for (i = 0; i < in->p; i++) /* L is lower triangular */
        for (j = i + 1; j < in->p; j++)
            assert_true(in->chol[i * in->p + j] == 0);
    /* every backlog item, in the store's order */
    assert_int_equal(aipm_store_backlog_items(f->w.st, take_all, all, &err),
                     AIPM_OK);
    assert_false(all->too_many);
    assert_int_equal(in->n_items, all->n);
    for (i = 0; i < in->n_items; i++) {
        const aipm_pz_sim_item *s = &in->items[i];

        assert_string_equal(s->id, all->id[i]);
        assert_true(s->x[0] == 1);
        assert_true(s->effort > 0);
        assert_true(s->open == (strcmp(s->status, "idea") == 0 ||
                                strcmp(s->status, "planned") == 0 ||
                                strcmp(s->status, "in_progress") == 0));
        assert_true(s->area == NULL || s->area[0] != '\0');
        n_open += s->open;
        free(all->id[i]);
    }
    free(all);
    /* the open items are the ranked ones */
    assert_true(n_open > 0);
    assert_int_equal(json_array_size(json_object_get(doc, "items")),
                     (size_t)n_open);
    json_array_foreach(json_object_get(doc, "items"), k, it)
    {
        const aipm_pz_sim_item *s =
            sim_item(in, json_string_value(json_object_get(it, "id")));
        double loc, scale, p10 = jnum(it, "p10"), p90 = jnum(it, "p90");
        double tol = 0.1 * (p90 - p10) + 1e-9, dof = 2 * in->an;

        assert_non_null(s);
        assert_true(s->open);
        assert_true(s->effort == jnum(it, "effort"));
        assert_string_equal(s->title,
                            json_string_value(json_object_get(it, "title")));
        assert_string_equal(s->area ? s->area : "",
                            json_string_value(json_object_get(it, "area")));
        sim_predictive(in, s->x, &loc, &scale);
        assert_true(scale > 0);
        NEAR(fmax(0, expm1(loc)), jnum(it, "p50"), tol);
        NEAR(fmax(0, expm1(loc + scale * gsl_cdf_tdist_Pinv(0.1, dof))), p10,
             tol);
        NEAR(fmax(0, expm1(loc + scale * gsl_cdf_tdist_Pinv(0.9, dof))), p90,
             tol);
    }
    json_decref(doc);
    free(text);
    aipm_pz_sim_inputs_free(in);
    aipm_pz_sim_inputs_free(NULL);
}

/* A value version registered and promoted to production: the inputs at
 * model_version 0 (and at that version) are the artifact's parameters,
 * read here from its JSON - the same doubles, bit for bit - named as the
 * decision record names it, with the artifact's training count, which is
 * fewer than the run's own training at now (the version left its holdout
 * out). A version the registry lacks: AIPM_ENOTFOUND, nothing returned. */
static void test_sim_inputs_registered(void **state)
{
    demo_fx *f = *state;
    const json_t *a = f->fit.artifact, *blr = json_object_get(a, "blr");
    aipm_pz_sim_inputs *in = NULL, *pinned = NULL, *trained = NULL, stale;
    aipm_error err = {0, ""};
    aipm_promotion p;
    int64_t version = 0;
    char model_s[160];
    int i, j, k;

    assert_int_equal(aipm_model_register(f->w.st, "value", &f->fit, 1,
                                         f->now_ms, NULL, &version, &err),
                     AIPM_OK);
    /* the default policies: no metric floors, one approval - given here
     * by the store, as `aipm decisions approve` would once signed */
    assert_int_equal(aipm_model_promote(f->w.st, NULL, "value", version, NULL,
                                        "test", f->now_ms, NULL, &p, &err),
                     AIPM_EBLOCKED);
    assert_string_equal(p.rule, "approvals");
    json_decref(p.checks);
    assert_int_equal(
        aipm_store_decision_set_status(f->w.st, p.decision, "approved", &err),
        AIPM_OK);
    aipm_error_clear(&err);
    assert_int_equal(aipm_model_promote(f->w.st, NULL, "value", version, NULL,
                                        "test", f->now_ms, NULL, &p, &err),
                     AIPM_OK);
    assert_true(p.moved);
    json_decref(p.checks);
    assert_int_equal(
        aipm_pz_sim_inputs_new(&in, f->w.st, f->w.cfg, 0, f->now_ms, &err),
        AIPM_OK);
    assert_int_equal(in->version, version);
    snprintf(model_s, sizeof(model_s), "value@%lld (%s)", (long long)version,
             PZ_MODEL_VERSION);
    assert_string_equal(in->model, model_s);
    for (i = 0; i < PZ_P; i++)
        assert_true(in->mn[i] == json_number_value(json_array_get(
                                     json_object_get(blr, "mn"), (size_t)i)));
    for (i = 0; i < PZ_P * PZ_P; i++)
        assert_true(in->chol[i] ==
                    json_number_value(json_array_get(
                        json_object_get(blr, "chol"), (size_t)i)));
    assert_true(in->an == jnum(blr, "an"));
    assert_true(in->bn == jnum(blr, "bn"));
    /* L L' is the artifact's posterior covariance Ln^-1 (GSL factored it
     * from that matrix), so |L'x|^2 is x' Ln^-1 x, the covariance's term
     * of the predictive scale (aipm_blr_predict) - for every item */
    for (i = 0; i < PZ_P; i++)
        for (j = 0; j < PZ_P; j++) {
            double llt = 0,
                   cov = json_number_value(json_array_get(
                       json_object_get(blr, "cov"), (size_t)(i * PZ_P + j)));

            for (k = 0; k < PZ_P; k++)
                llt += in->chol[i * PZ_P + k] * in->chol[j * PZ_P + k];
            NEAR(llt, cov, 1e-10 * (1 + fabs(cov)));
        }
    for (k = 0; k < in->n_items; k++) {
        const double *x = in->items[k].x;
        double loc, scale, quad = 0;

        for (i = 0; i < PZ_P; i++)
            for (j = 0; j < PZ_P; j++)
                quad +=
                    x[i] *
                    json_number_value(json_array_get(
                        json_object_get(blr, "cov"), (size_t)(i * PZ_P + j))) *
                    x[j];
        sim_predictive(in, x, &loc, &scale);
        NEAR(scale * scale, in->bn / in->an * (1 + quad),
             1e-9 * in->bn / in->an * (1 + quad));
    }
    assert_true(in->n_train == jnum(a, "n_train"));
    assert_true(in->n_train == jnum(f->fit.data, "train_rows"));
    /* the version named: the same */
    assert_int_equal(aipm_pz_sim_inputs_new(&pinned, f->w.st, f->w.cfg, version,
                                            f->now_ms, &err),
                     AIPM_OK);
    assert_int_equal(pinned->version, version);
    assert_memory_equal(pinned->mn, in->mn, sizeof(in->mn));
    assert_int_equal(pinned->n_items, in->n_items);
    for (i = 0; i < in->n_items; i++)
        assert_memory_equal(pinned->items[i].x, in->items[i].x,
                            sizeof(in->items[i].x));
    /* trained in the run: on every item shipped by now */
    assert_int_equal(aipm_pz_sim_inputs_new(&trained, f->w.st, f->w.cfg, -1,
                                            f->now_ms, &err),
                     AIPM_OK);
    assert_int_equal(trained->version, 0);
    assert_true(trained->n_train > in->n_train);
    aipm_pz_sim_inputs_free(trained);
    aipm_pz_sim_inputs_free(pinned);
    aipm_pz_sim_inputs_free(in);
    in = &stale; /* must be reset to NULL */
    assert_int_equal(aipm_pz_sim_inputs_new(&in, f->w.st, f->w.cfg,
                                            version + 100, f->now_ms, &err),
                     AIPM_ENOTFOUND);
    assert_null(in);
}

/* Too few shipped items with an outcome to fit: AIPM_EINVALID naming how
 * many there are and how many the model needs (policies.models
 * .min_trained, else AIPM_PZ_MIN_TRAIN), nothing returned - on an empty
 * store (none), and on the demo store early on, when the ranking at the
 * same instant falls back to RICE and reports how many it had. */
static void test_sim_inputs_too_few(void **state)
{
    demo_fx *f = *state;
    aipm_pz_sim_inputs *in = NULL;
    aipm_error err = {0, ""};
    aipm_pz_opts o;
    tu_ws w;
    json_t *doc;
    json_error_t jerr;
    char *text = NULL, need_s[80], have_s[80];
    int need = f->w.cfg->models.min_trained > 0
                   ? (int)f->w.cfg->models.min_trained
                   : AIPM_PZ_MIN_TRAIN;
    int64_t early;

    snprintf(need_s, sizeof(need_s), "needs at least %d shipped items", need);
    assert_int_equal(tu_ws_open(&w), 0);
    assert_int_equal(
        aipm_pz_sim_inputs_new(&in, w.st, f->w.cfg, 0, f->now_ms, &err),
        AIPM_EINVALID);
    assert_null(in);
    assert_non_null(strstr(err.msg, need_s));
    assert_non_null(strstr(err.msg, "and the backlog has 0;"));
    assert_null(strchr(err.msg, '\n'));
    tu_ws_close(&w);
    /* the demo 45 days before now, 15 days into its 60 of events */
    early = f->now_ms - 45 * 86400000LL;
    aipm_pz_opts_init(&o);
    o.record = 0;
    o.now_ms = early;
    o.model_version = -1;
    o.draws = 100;
    assert_int_equal(aipm_prioritize(&text, f->w.st, f->w.cfg, &o, &err),
                     AIPM_OK);
    assert_non_null(doc = json_loads(text, 0, &jerr));
    free(text);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(doc, "model"), "kind")),
                        "rice");
    print_message("sim inputs: %g shipped items with an outcome 45 days "
                  "before now\n",
                  jnum(json_object_get(doc, "model"), "trained_on"));
    assert_true(jnum(json_object_get(doc, "model"), "trained_on") > 0);
    snprintf(have_s, sizeof(have_s), "and the backlog has %d;",
             (int)jnum(json_object_get(doc, "model"), "trained_on"));
    json_decref(doc);
    aipm_error_clear(&err);
    assert_int_equal(
        aipm_pz_sim_inputs_new(&in, f->w.st, f->w.cfg, -1, early, &err),
        AIPM_EINVALID);
    assert_null(in);
    assert_non_null(strstr(err.msg, need_s));
    assert_non_null(strstr(err.msg, have_s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blr_posterior),
        cmocka_unit_test(test_blr_vague_is_ols),
        cmocka_unit_test(test_blr_prior_mean),
        cmocka_unit_test(test_blr_intercept_by_hand),
        cmocka_unit_test(test_blr_bad),
        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_summaries_normal),
        cmocka_unit_test(test_summaries_against_sort),
        cmocka_unit_test(test_knapsack_brute_force),
        cmocka_unit_test(test_spearman),
        cmocka_unit_test(test_link_sample),
        cmocka_unit_test(test_mae_rmse),
        cmocka_unit_test(test_artifact_round_trip),
        cmocka_unit_test(test_artifact_malformed),
    };
    const struct CMUnitTest demo_tests[] = {
        cmocka_unit_test(test_model_train_demo),
        cmocka_unit_test(test_model_train_bad_cutoff),
        cmocka_unit_test(test_registered_version_ranks),
        cmocka_unit_test(test_model_reading_demo),
        cmocka_unit_test(test_model_reading_empty),
        cmocka_unit_test(test_model_reading_malformed),
        cmocka_unit_test(test_model_reference_open_at_cutoff),
        cmocka_unit_test(test_model_reading_at_cutoff),
        cmocka_unit_test(test_model_train_unchanged),
        /* last: the registered test promotes a version to production */
        cmocka_unit_test(test_sim_inputs_match_prioritize),
        cmocka_unit_test(test_sim_inputs_too_few),
        cmocka_unit_test(test_sim_inputs_registered),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);

    return failed + cmocka_run_group_tests_name("value model on a demo",
                                                demo_tests, demo_setup,
                                                demo_teardown);
}
