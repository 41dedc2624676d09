/* test_prioritize.c - the regression, the summaries, the knapsack and
 * Spearman's correlation of the prioritization module.
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

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aipm/feedback.h"
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
