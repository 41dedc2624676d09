/* test_pg_reads.c - unit tests of the PostgreSQL store's push-down reads
 * for the analyses (store.h: prioritize's signals, the graph, the
 * adoption forecasts, experiments and KPIs), each against the SQLite
 * backend on the same events, so that their C code (parameters, JSON
 * rendering, row mapping) runs under the sanitizers too.
 *
 * A small world of six users and two accounts over 40 days is ingested
 * into a store on each backend (pgtest.h) and every read is compared
 * record against record; reads in no set order are compared sorted. The
 * test runs again in a database whose collation is ICU's en-US. The values
 * compared are counts and sums of small integers, exact in any order of
 * summation, so the records must match to the bit. Without
 * $AIPM_TEST_PG_DIR the tests skip.
 */
#include "pgtest.h"

#define DAY0 19000LL /* 2022-01-08 */
#define DAY_MS 86400000LL

/* The lines of r in byte order: for reads in no set order. */
static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rec_sort(rec *r)
{
    char **lines, *copy, *line;
    size_t n = 0, i;
    rec out = {0};

    if (r->len == 0)
        return;
    copy = exact(r->p, r->len + 1);
    lines = calloc((size_t)r->rows + 1, sizeof(*lines));
    assert_non_null(lines);
    for (line = copy; *line && n <= (size_t)r->rows; n++) {
        char *nl = strchr(line, '\n');

        assert_non_null(nl);
        *nl = '\0';
        lines[n] = line;
        line = nl + 1;
    }
    qsort(lines, n, sizeof(*lines), cmp_line);
    for (i = 0; i < n; i++) {
        rec_put(&out, lines[i], strlen(lines[i]));
        rec_end(&out);
    }
    free(lines);
    free(copy);
    rec_free(r);
    *r = out;
}

static int on_daily(void *ctx, const aipm_daily_users *d)
{
    rec *r = ctx;

    rec_str(r, d->key);
    rec_int(r, d->day);
    rec_int(r, d->users);
    rec_end(r);
    return 0;
}

static int on_arr_plan(void *ctx, const aipm_account_arr_plan *a)
{
    rec *r = ctx;

    rec_str(r, a->account_id);
    rec_real(r, a->arr);
    rec_str(r, a->plan);
    rec_int(r, a->time_ms);
    rec_end(r);
    return 0;
}

static int on_batch_state(void *ctx, const aipm_batch_state *bs)
{
    rec *r = ctx;

    rec_int(r, bs->id);
    rec_str(r, bs->dataset);
    rec_str(r, bs->status);
    rec_str(r, bs->content_sha256);
    rec_end(r);
    return 0;
}

static int on_membership(void *ctx, const aipm_membership *m)
{
    rec *r = ctx;

    rec_str(r, m->user_id);
    rec_str(r, m->account_id);
    rec_int(r, m->ts_ms);
    rec_end(r);
    return 0;
}

static int on_user_time(void *ctx, const char *user_id, int64_t ts_ms)
{
    rec *r = ctx;

    rec_str(r, user_id);
    rec_int(r, ts_ms);
    rec_end(r);
    return 0;
}

static int on_user_value(void *ctx, const char *user_id, const char *value)
{
    return on_ref(ctx, user_id, value);
}

static void rec_moments(rec *r, const aipm_unit_moments *m)
{
    rec_real(r, m->n);
    rec_real(r, m->sum);
    rec_real(r, m->sum_sq);
    rec_real(r, m->x_sum);
    rec_real(r, m->x_sum_sq);
    rec_real(r, m->xy_sum);
}

static int on_moments(void *ctx, const char *level, const char *variation,
                      const aipm_unit_moments *m)
{
    rec *r = ctx;

    rec_str(r, level);
    rec_str(r, variation);
    rec_moments(r, m);
    rec_end(r);
    return 0;
}

static int on_cohort(void *ctx, int64_t week, int64_t lag, double users)
{
    rec *r = ctx;

    rec_int(r, week);
    rec_int(r, lag);
    rec_real(r, users);
    rec_end(r);
    return 0;
}

/* Six users, two accounts, 40 days: identify and group calls with traits
 * of every JSON type, item views, clicks worth a property, an experiment
 * (u3 sees both variations). Valid JSON throughout (the reads parse it). */
static size_t analysis_events(aipm_event_row *rows, char ids[][16],
                              char payloads[][96], size_t cap)
{
    static const char *const users[] = {"u1", "u2", "u3", "u4", "u5", "u6"};
    static const char *const plans[] = {"\"pro\"", "\"free\"", "2",
                                        "1.5",     "true",     "[1,2]"};
    /* the experiment's breakdown reads "n", not "plan": pg/metrics.c gives
     * an array level as PostgreSQL prints jsonb ("[1, 2]"), SQLite as
     * "[1,2]" (a difference left open) */
    static const char *const numbers[] = {"0",   "1",    "\"two\"",
                                          "1.5", "true", "-7"};
    size_t n = 0;
    int u, d;

#define ADD(type_, user_, event_, group_, ts_, ...)                            \
    do {                                                                       \
        assert_true(n < cap);                                                  \
        snprintf(ids[n], 16, "a%zu", n);                                       \
        snprintf(payloads[n], 96, __VA_ARGS__);                                \
        rows[n] = (aipm_event_row){ids[n], type_,       user_,                 \
                                   NULL,   event_,      group_,                \
                                   ts_,    payloads[n], strlen(payloads[n])};  \
        n++;                                                                   \
    } while (0)
    for (u = 0; u < 6; u++) {
        int64_t t0 = (DAY0 + u) * DAY_MS + 3600000LL * u;

        ADD("identify", users[u], NULL, NULL, t0, "{\"plan\":%s,\"n\":%s}",
            plans[u], numbers[u]);
        ADD("group", users[u], NULL, u % 2 ? "acct-b" : "acct-a", t0 + 1,
            "{\"arr\":%s,\"plan\":%s}",
            u == 0   ? "1000"
            : u == 1 ? "\"2500 usd\""
            : u == 2 ? "null"
                     : "12.5",
            plans[(u + 1) % 6]);
        ADD("track", users[u], "Experiment Viewed", NULL, t0 + 2,
            "{\"experiment_id\":\"exp1\",\"variation_id\":\"%s\"}",
            u % 2 ? "B" : "A");
        for (d = 0; d < 40; d += 1 + u) {
            int64_t t = t0 + d * DAY_MS + 60000;

            ADD("track", users[u], "Clicked", NULL, t,
                "{\"value\":%d,\"kind\":\"%s\"}", d % 5, d % 2 ? "a" : "b");
            if (d % 3 == 0)
                ADD("track", users[u], "Viewed Item", NULL, t + 1,
                    "{\"item_id\":%s}",
                    d % 2 ? "\"i1\"" : (d % 9 ? "2" : "null"));
        }
    }
    /* u3 also sees B: multi-exposed; an anonymous event; u1 moves */
    ADD("track", "u3", "Experiment Viewed", NULL, (DAY0 + 3) * DAY_MS,
        "{\"experiment_id\":\"exp1\",\"variation_id\":\"B\"}");
    ADD("track", NULL, "Clicked", NULL, (DAY0 + 1) * DAY_MS, "{\"value\":1}");
    ADD("group", "u1", NULL, "acct-b", (DAY0 + 20) * DAY_MS,
        "{\"arr\":true,\"plan\":\"ent\"}");
#undef ADD
    return n;
}

static void test_analysis_reads(void **state)
{
    pair *p = need(state);
    static aipm_event_row rows[600];
    static char ids[600][16], payloads[600][96];
    static const char *const ev_names[] = {"Clicked", "Viewed Item", "Clicked",
                                           "Nothing"};
    static const char *const labels[] = {"L1", "L1", "L2", "L3"};
    static const int feature_of[] = {0, 1, 1, 0};
    static const char *const clicked[] = {"Clicked"};
    int64_t first[6], last[6];
    aipm_periods per = {DAY0, DAY0 + 41, first, last, 6};
    aipm_event_measure clicks = {0, clicked, 1, "value", NULL, NULL},
                       kind_a = {0, clicked, 1, NULL, "kind", "a"},
                       any = {1, NULL, 0, NULL, NULL, NULL};
    aipm_exposure_query q;
    aipm_error err;
    rec r[2] = {{0}};
    aipm_store_mark mark[2];
    unsigned char ins[2][600];
    size_t n = analysis_events(rows, ids, payloads, 600);
    int64_t batch, hidden, later;
    int b, i, k;

    for (i = 0; i < 6; i++) {
        first[i] = DAY0 + 7 * i;
        last[i] = first[i] + 6;
    }
    begin_both(p);
    batch = new_batch(p, "events", 1);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_event_put_many(p->st[b], batch, rows, n, ins[b], &err));
        for (i = 0; i < 40; i++)
            OK(aipm_store_volume_put(p->st[b], "events", DAY0 + i, batch, 9,
                                     &err));
    }
    assert_memory_equal(ins[1], ins[0], n);
    hidden = new_batch(p, "events", 2); /* rejected: never seen */
    for (b = 0; b < 2; b++)
        OK(aipm_store_event_put_many(p->st[b], hidden, rows, 1, ins[b], &err));
    commit_both(p);
    assert_int_equal(set_status(p, batch, "accepted"), AIPM_OK);
    assert_int_equal(set_status(p, hidden, "rejected"), AIPM_OK);

    for (b = 0; b < 2; b++) {
        int64_t c[2], d0 = 0, d1 = 0;
        int found = 0;

        OK(aipm_store_analysis_index(p->st[b], &err));
        OK(aipm_store_event_count(p->st[b], "Clicked", 0, &c[0], &err));
        OK(aipm_store_event_count(p->st[b], "Clicked", 1, &c[1], &err));
        OK(aipm_store_event_day_range(p->st[b], &d0, &d1, &found, &err));
        rec_int(&r[b], c[0]);
        rec_int(&r[b], c[1]);
        rec_int(&r[b], d0);
        rec_int(&r[b], d1);
        rec_int(&r[b], found);
        rec_end(&r[b]);
        OK(aipm_store_daily_active_users(p->st[b], on_daily, &r[b], &err));
        OK(aipm_store_account_arr_plan(p->st[b], INT64_MAX, on_arr_plan, &r[b],
                                       &err));
        OK(aipm_store_account_arr_plan(p->st[b], (DAY0 + 10) * DAY_MS,
                                       on_arr_plan, &r[b], &err));
        OK(aipm_store_first_memberships(p->st[b], INT64_MAX, NULL,
                                        on_membership, &r[b], &err));
        OK(aipm_store_first_uses(p->st[b], batch, NULL, on_first_use, &r[b],
                                 &err));
        OK(aipm_store_batch_states(p->st[b], on_batch_state, &r[b], &mark[b],
                                   &err));
    }
    assert_true(r[0].rows > 50);
    same(r, "counts, daily users, accounts, memberships, first uses");
    recs_free(r);

    /* reads in no set order: compared sorted */
    for (b = 0; b < 2; b++) {
        OK(aipm_store_event_daily_users(p->st[b], ev_names, labels, 4, on_daily,
                                        &r[b], &err));
        OK(aipm_store_item_daily_users(p->st[b], on_daily, &r[b], &err));
        OK(aipm_store_user_event_times(p->st[b], on_user_time, &r[b], &err));
        OK(aipm_store_user_traits(p->st[b], "plan", INT64_MAX, on_user_value,
                                  &r[b], &err));
        OK(aipm_store_user_traits(p->st[b], "n", (DAY0 + 3) * DAY_MS,
                                  on_user_value, &r[b], &err));
        OK(aipm_store_account_traits(p->st[b], "arr", INT64_MAX, on_user_value,
                                     &r[b], &err));
        OK(aipm_store_account_traits(p->st[b], "plan", INT64_MAX, on_user_value,
                                     &r[b], &err));
        rec_sort(&r[b]);
    }
    same(r, "daily users of events and items, event times, traits");
    recs_free(r);

    /* the experiment: by user and by account, with CUPED, a ratio, a cap */
    memset(&q, 0, sizeof(q));
    q.experiment = "exp1";
    q.start_ms = DAY0 * DAY_MS;
    q.end_ms = (DAY0 + 30) * DAY_MS;
    q.lo_ms = 0;
    q.hi_ms = 14 * DAY_MS;
    q.cap = NAN;
    for (b = 0; b < 2; b++)
        for (k = 0; k < 6; k++) {
            aipm_unit_moments m;
            double quantile = 0;

            q.y = k == 2 ? any : clicks;
            q.by_account = k == 1 || k == 5;
            q.pre_ms = k == 3 ? 7 * DAY_MS : 0;
            q.x = k == 4 ? &kind_a : NULL;
            q.conversion = k == 5;
            q.cap = k == 2 ? 3 : NAN;
            OK(aipm_store_exposure_moments(p->st[b], &q, NULL, on_moments,
                                           &r[b], &err));
            OK(aipm_store_exposure_moments(p->st[b], &q, "n", on_moments, &r[b],
                                           &err));
            OK(aipm_store_exposure_quantile(p->st[b], &q, 0.5, &quantile,
                                            &err));
            rec_real(&r[b], quantile);
            OK(aipm_store_population_moments(p->st[b], k == 2 ? &any : &clicks,
                                             q.by_account, q.conversion,
                                             q.start_ms, q.end_ms, &m, &err));
            rec_moments(&r[b], &m);
            rec_end(&r[b]);
        }
    assert_true(r[0].rows > 12);
    same(r, "experiment and population moments");
    recs_free(r);

    /* the KPIs over six weeks */
    for (b = 0; b < 2; b++) {
        aipm_period_activity act[6];
        double v[4][12];
        rec cohorts = {0};

        memset(v, 0, sizeof(v));
        OK(aipm_store_kpi_activity(p->st[b], &per, act, on_cohort, &cohorts,
                                   &err));
        rec_sort(&cohorts);
        rec_put(&r[b], cohorts.p ? cohorts.p : "", cohorts.len);
        rec_free(&cohorts);
        for (i = 0; i < 6; i++) {
            rec_real(&r[b], act[i].dau_sum);
            rec_real(&r[b], act[i].active);
            rec_real(&r[b], act[i].wau);
            rec_real(&r[b], act[i].mau);
            rec_real(&r[b], act[i].new_users);
            for (k = 0; k < 3; k++) {
                rec_real(&r[b], act[i].ret[k]);
                rec_real(&r[b], act[i].elig[k]);
            }
            rec_end(&r[b]);
        }
        OK(aipm_store_kpi_feature_users(p->st[b], &per, ev_names, feature_of, 4,
                                        2, v[0], &err));
        for (k = 0; k < 2; k++) {
            OK(aipm_store_kpi_conversion(p->st[b], &per, &kind_a, k, 3 * DAY_MS,
                                         v[1], v[1] + 6, &err));
            OK(aipm_store_kpi_retention(p->st[b], &per, k, 1, 7, v[2], v[2] + 6,
                                        &err));
            OK(aipm_store_kpi_events(p->st[b], &per, &clicks, k, v[3], v[3] + 6,
                                     v[0] + 6, &err)); /* units: v[0][6..] */
            for (i = 0; i < 12; i++) {
                rec_real(&r[b], v[1][i]);
                rec_real(&r[b], v[2][i]);
                rec_real(&r[b], v[3][i]);
            }
            rec_end(&r[b]);
        }
        for (i = 0; i < 12; i++)
            rec_real(&r[b], v[0][i]);
        OK(aipm_store_kpi_active_accounts(p->st[b], &per, v[1], &err));
        for (i = 0; i < 6; i++)
            rec_real(&r[b], v[1][i]);
        rec_end(&r[b]);
    }
    same(r, "KPIs");
    recs_free(r);

    /* what a graph made at the mark lacks: the rows of a later batch */
    begin_both(p);
    later = new_batch(p, "events", 3);
    for (b = 0; b < 2; b++)
        OK(aipm_store_event_put_many(p->st[b], later, rows + n - 3, 3, ins[b],
                                     &err));
    commit_both(p);
    for (b = 0; b < 2; b++) {
        aipm_event_row row = {
            "late-1", "group", "u9", NULL, NULL, "acct-c", (DAY0 + 50) * DAY_MS,
            "{}",     2};
        unsigned char one;

        OK(aipm_store_begin(p->st[b], &err));
        OK(aipm_store_event_put_many(p->st[b], later, &row, 1, &one, &err));
        OK(aipm_store_commit(p->st[b], &err));
    }
    assert_int_equal(set_status(p, later, "accepted"), AIPM_OK);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_first_uses(p->st[b], later, &mark[b], on_first_use, &r[b],
                                 &err));
        OK(aipm_store_first_memberships(p->st[b], later, &mark[b],
                                        on_membership, &r[b], &err));
    }
    assert_int_equal(r[0].rows, 2);
    same(r, "first uses and memberships since a mark");
    recs_free(r);
}

static void test_analysis_reads_icu(void **state)
{
    test_analysis_reads(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_analysis_reads, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_analysis_reads_icu, icu_setup,
                                        pair_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
