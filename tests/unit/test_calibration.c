/* test_calibration.c - AUC, log loss, Brier score and the equal-count ECE
 * (aipm/calibration.h) against scikit-learn and numpy.
 *
 * Every constant is printed by tests/unit/calibration_ref.py (Debian 12's
 * python3-sklearn 1.2.1 and python3-numpy 1.24.2): roc_auc_score,
 * log_loss(eps=1e-15) and brier_score_loss on the same data, and the ECE
 * with its bins computed in numpy from calibration.h's definition (a
 * stable argsort, bin b the ranks [floor(b n / bins), floor((b + 1) n /
 * bins))). The data are short decimals, the same doubles in both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "aipm/calibration.h"

static void close_to(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want,
                 rel);
}

/* calibration_ref.py's P and Y: ties at 0.1 (two negatives), 0.2 and
 * 0.65 (one of each), 0.4 (two and two), 0.8 (two positives). */
static const double P[20] = {0.1,  0.4, 0.35, 0.8,  0.4, 0.1,  0.9,
                             0.65, 0.4, 0.2,  0.55, 0.8, 0.05, 0.3,
                             0.65, 0.7, 0.2,  0.95, 0.5, 0.4};
static const unsigned char Y[20] = {0, 0, 1, 1, 1, 0, 1, 0, 0, 0,
                                    1, 1, 0, 0, 1, 1, 1, 1, 0, 1};

static void test_against_sklearn(void **state)
{
    (void)state;
    /* roc_auc_score(Y, P) */
    close_to(aipm_auc(P, Y, 20), 0.8282828282828283, 1e-14);
    /* log_loss(Y, P, eps=1e-15) */
    close_to(aipm_log_loss(P, Y, 20), 0.5043265323844219, 1e-14);
    /* brier_score_loss(Y, P) */
    close_to(aipm_brier(P, Y, 20), 0.17175, 1e-14);
}

/* The AUC by its definition on a case small enough to count by hand:
 * positives {0.8, 0.4, 0.4}, negatives {0.4, 0.1}. Pairs: 0.8 beats both
 * (2), each 0.4 ties the negative 0.4 (1/2 each) and beats 0.1 (1 each):
 * (2 + 1.5 + 1.5) / 6 = 5/6. */
static void test_auc_by_hand(void **state)
{
    static const double p[] = {0.4, 0.8, 0.1, 0.4, 0.4};
    static const unsigned char y[] = {1, 1, 0, 0, 1};

    (void)state;
    close_to(aipm_auc(p, y, 5), 5.0 / 6.0, 1e-15);
    /* outcomes other than 0 count as 1 */
    {
        static const unsigned char y2[] = {7, 1, 0, 0, 255};

        close_to(aipm_auc(p, y2, 5), 5.0 / 6.0, 1e-15);
    }
}

/* The ECE and its table against numpy (calibration_ref.py's ece()). */
static void test_ece_against_numpy(void **state)
{
    /* bins=10: (lo, hi, mean_p, mean_y), 2 predictions in each */
    static const double want10[10][4] = {{0.05, 0.1, 0.07500000000000001, 0.0},
                                         {0.1, 0.2, 0.15000000000000002, 0.0},
                                         {0.2, 0.3, 0.25, 0.5},
                                         {0.35, 0.4, 0.375, 0.5},
                                         {0.4, 0.4, 0.4, 0.5},
                                         {0.4, 0.5, 0.45, 0.5},
                                         {0.55, 0.65, 0.6000000000000001, 0.5},
                                         {0.65, 0.7, 0.675, 1.0},
                                         {0.8, 0.8, 0.8, 1.0},
                                         {0.9, 0.95, 0.925, 1.0}};
    /* bins=3: 6, 7 and 7 predictions (floor(20/3) = 6, floor(40/3) = 13) */
    static const double want3[3][5] = {
        {0.05, 0.3, 6, 0.15833333333333333, 0.16666666666666666},
        {0.35, 0.55, 7, 0.42857142857142855, 0.5714285714285714},
        {0.65, 0.95, 7, 0.7785714285714286, 0.8571428571428571}};
    aipm_calib_bin t[10];
    int b;

    (void)state;
    close_to(aipm_ece(P, Y, 20, 10, t), 0.14500000000000002, 1e-12);
    for (b = 0; b < 10; b++) {
        assert_int_equal(t[b].n, 2);
        close_to(t[b].lo, want10[b][0], 1e-15);
        close_to(t[b].hi, want10[b][1], 1e-15);
        close_to(t[b].mean_p, want10[b][2], 1e-14);
        assert_true(fabs(t[b].mean_y - want10[b][3]) < 1e-15);
    }
    close_to(aipm_ece(P, Y, 20, 3, t), 0.07999999999999997, 1e-12);
    for (b = 0; b < 3; b++) {
        assert_int_equal(t[b].n, (size_t)want3[b][2]);
        close_to(t[b].lo, want3[b][0], 1e-15);
        close_to(t[b].hi, want3[b][1], 1e-15);
        close_to(t[b].mean_p, want3[b][3], 1e-14);
        close_to(t[b].mean_y, want3[b][4], 1e-14);
    }
    /* the table is optional */
    close_to(aipm_ece(P, Y, 20, 3, NULL), 0.07999999999999997, 1e-12);
}

/* By hand: p = {0.9, 0.2, 0.2, 0.6, 0.1}, y = {1, 0, 1, 1, 0}, 2 bins.
 * Sorted, the tied 0.2s in index order: 0.1 (y 0), 0.2 (index 1, y 0),
 * 0.2 (index 2, y 1), 0.6 (y 1), 0.9 (y 1). Bin 0 holds ranks
 * [0, floor(5/2)) = [0, 2): p 0.1, 0.2, y 0, 0: |0.15 - 0| x 2/5 = 0.06.
 * Bin 1 holds ranks [2, 5): p 0.2, 0.6, 0.9 (mean 1.7/3), y 1, 1, 1:
 * |1.7/3 - 1| x 3/5 = 1.3/5 = 0.26. ECE = 0.06 + 0.26 = 0.32. (With the
 * 0.2s the other way round it would be (0.7 + 0.3)/5 = 0.2: the index
 * order is what makes it 0.32.) */
static void test_ece_by_hand(void **state)
{
    static const double p[] = {0.9, 0.2, 0.2, 0.6, 0.1};
    static const unsigned char y[] = {1, 0, 1, 1, 0};
    aipm_calib_bin t[2];

    (void)state;
    close_to(aipm_ece(p, y, 5, 2, t), 0.32, 1e-14);
    assert_int_equal(t[0].n, 2);
    assert_int_equal(t[1].n, 3);
    close_to(t[0].mean_p, 0.15, 1e-14);
    assert_true(t[0].mean_y == 0);
    close_to(t[1].mean_p, 1.7 / 3, 1e-14);
    assert_true(t[1].mean_y == 1);
    assert_true(t[0].lo == 0.1 && t[0].hi == 0.2);
    assert_true(t[1].lo == 0.2 && t[1].hi == 0.9);
    /* perfectly calibrated: 0.5 everywhere, each bin half positives */
    {
        static const double h[] = {0.5, 0.5, 0.5, 0.5};
        static const unsigned char hy[] = {1, 0, 1, 0};

        assert_true(aipm_ece(h, hy, 4, 2, NULL) == 0);
    }
}

static void test_edges(void **state)
{
    static const double eq[] = {0.3, 0.3, 0.3, 0.3, 0.3};
    static const unsigned char eqy[] = {0, 1, 1, 0, 1};
    static const double one_p[] = {0.2, 0.5, 0.9};
    static const unsigned char one_y[] = {1, 1, 1};
    static const double zo[] = {0.0, 1.0, 0.0, 1.0};
    static const unsigned char zoy[] = {0, 1, 1, 0};
    static const double three[] = {0.2, 0.7, 0.4};
    static const unsigned char three_y[] = {0, 1, 1};
    aipm_calib_bin t[10];
    int b;

    (void)state;
    /* n = 0 */
    assert_true(isnan(aipm_auc(P, Y, 0)));
    assert_true(isnan(aipm_log_loss(P, Y, 0)));
    assert_true(isnan(aipm_brier(P, Y, 0)));
    assert_true(isnan(aipm_ece(P, Y, 0, 10, t)));
    assert_int_equal(t[0].n, 0);
    /* one class: no AUC (sklearn raises ValueError); the rest defined:
     * log_loss([1, 1, 1], [.2, .5, .9], labels=[0, 1]) and Brier */
    assert_true(isnan(aipm_auc(one_p, one_y, 3)));
    close_to(aipm_log_loss(one_p, one_y, 3), 0.8026485362172906, 1e-14);
    close_to(aipm_brier(one_p, one_y, 3), 0.30000000000000004, 1e-14);
    /* all predictions equal: every pair tied, AUC 0.5 (roc_auc_score) */
    close_to(aipm_auc(eq, eqy, 5), 0.5, 1e-15);
    close_to(aipm_log_loss(eq, eqy, 5), 0.8650536601710547, 1e-14);
    close_to(aipm_brier(eq, eqy, 5), 0.32999999999999996, 1e-14);
    /* p exactly 0 and 1, two wrong: finite, log_loss(eps=1e-15) */
    close_to(aipm_log_loss(zo, zoy, 4), 17.26958809681289, 1e-14);
    /* ... and both right: log_loss([0, 1], [0., 1.]) */
    close_to(aipm_log_loss(zo, zoy, 2), 9.992007221626415e-16, 1e-12);
    /* fewer predictions than bins: 3 in 10, bins 3, 6, 9 filled (numpy);
     * the empty ones say so */
    close_to(aipm_ece(three, three_y, 3, 10, t), 0.3666666666666667, 1e-14);
    for (b = 0; b < 10; b++) {
        assert_int_equal(t[b].n, b == 3 || b == 6 || b == 9 ? 1 : 0);
        if (t[b].n == 0)
            assert_true(isnan(t[b].mean_p) && isnan(t[b].lo));
    }
    /* no bins, or a NaN prediction: NaN, never a crash */
    assert_true(isnan(aipm_ece(P, Y, 20, 0, NULL)));
    {
        double bad[3] = {0.2, NAN, 0.4};

        assert_true(isnan(aipm_auc(bad, three_y, 3)));
        assert_true(isnan(aipm_log_loss(bad, three_y, 3)));
        assert_true(isnan(aipm_brier(bad, three_y, 3)));
        assert_true(isnan(aipm_ece(bad, three_y, 3, 2, NULL)));
    }
}

/* AUC in O(n log n): a million predictions with many ties, against the
 * count by value classes done here (10 distinct values, so the pairs
 * are counted class by class). */
static void test_auc_large(void **state)
{
    enum { N = 1000000, V = 10 };
    double *p = malloc(N * sizeof(double));
    unsigned char *y = malloc(N);
    double pos[V] = {0}, neg[V] = {0}, wins = 0, below = 0, np_ = 0, nn = 0;
    uint64_t x = 99;
    int i, v;

    (void)state;
    assert_non_null(p);
    assert_non_null(y);
    for (i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        v = (int)((x >> 33) % V);
        p[i] = v / 10.0;
        y[i] = ((x >> 13) % 100) < (uint64_t)(10 + 8 * v);
        if (y[i])
            pos[v]++;
        else
            neg[v]++;
    }
    for (v = 0; v < V; v++) {
        wins += pos[v] * (below + neg[v] / 2);
        below += neg[v];
        np_ += pos[v];
        nn += neg[v];
    }
    close_to(aipm_auc(p, y, N), wins / (np_ * nn), 1e-12);
    free(p);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_sklearn),
        cmocka_unit_test(test_auc_by_hand),
        cmocka_unit_test(test_ece_against_numpy),
        cmocka_unit_test(test_ece_by_hand),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_auc_large),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
