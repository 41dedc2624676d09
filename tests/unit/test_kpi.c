/* test_kpi.c - aipm_kpi_report and aipm_kpi_series_get on a hand-made
 * store.
 *
 * Seven users over two ISO weeks, W1 = 2026-03-02 (Mon) .. 03-08 and
 * W2 = 03-09 .. 03-15; "dN" is 2026-03-02 + N days, every event at
 * 10:00Z. The report runs to 2026-03-15 (d13); AIPM_NOW is 03-20, so
 * ingest takes the one event after it (d14), which must not count.
 *
 *   user  active days (event)
 *   A     d0 Dashboard, d1 Export(pages 3), d7 Dashboard
 *   B     d0 identify, d2 Search Performed, d3 Dashboard
 *   C     d3 Search Filtered, d4 Export(pages 5), d10 Search Performed
 *   D     d9 Dashboard, d10 Dashboard, d11 Dashboard, d12 Export(pages 4),
 *         d13 group
 *   E     d-5 (02-25) Dashboard, d2 Dashboard
 *   F     d-10 (02-20) Search Performed
 *   G     d12 Dashboard, d14 Export(pages 9) (after the report's end)
 *   -     d1 Dashboard with an anonymousId only (not a user)
 *
 * Accounts, from group calls on days the user is active anyway (so the
 * user figures do not move): X = {A, B}, Y = {C, D}, Z = {E, G}; F has
 * none.
 *
 * Users active per day: d0 A,B; d1 A; d2 B,E; d3 B,C; d4 C; d7 A; d9 D;
 * d10 C,D; d11 D; d12 D,G; d13 D. Every expected value below is derived
 * from this table by hand, next to its assertion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aipm/config.h"
#include "aipm/ingest.h"
#include "aipm/kpi.h"
#include "aipm/store.h"
#include "testutil.h"

static const char yaml[] =
    "catalog:\n"
    "  - {key: dashboards, events: [Dashboard Viewed]}\n"
    "  - {key: search, events: [Search Performed, Search Filtered]}\n"
    "metrics:\n"
    "  - {key: exported, type: conversion, event: Report Exported, "
    "window_days: 2}\n"
    "  - {key: exported_7d, type: conversion, event: Report Exported}\n"
    "  - {key: exported_3d, type: conversion, event: Report Exported, "
    "window_days: 3}\n"
    "  - {key: dashboards_viewed, type: count, event: Dashboard Viewed}\n"
    "  - {key: searches, type: count, event: Search Performed}\n"
    "  - {key: pages, type: sum, event: Report Exported, property: pages}\n"
    "  - {key: search_adoption, type: adoption, feature: search}\n"
    "  - {key: week2, type: retention, from_day: 7, to_day: 8}\n"
    "  - {key: per_search, type: ratio, numerator: dashboards_viewed, "
    "denominator: searches}\n"
    "  - {key: a_dash, type: count, event: Dashboard Viewed, unit: account}\n"
    "  - {key: a_search, type: adoption, feature: search, unit: account}\n"
    "  - {key: a_exported, type: conversion, event: Report Exported, "
    "window_days: 2, unit: account}\n"
    "  - {key: a_week2, type: retention, from_day: 7, to_day: 8, "
    "unit: account}\n"
    "kpis:\n"
    "  - {key: activation, metric: exported, target: 0.5, direction: up}\n"
    "  - {key: export_rate, metric: exported_7d}\n"
    "  - {key: export_3d, metric: exported_3d}\n"
    "  - {key: dashboards, metric: dashboards_viewed, target: 1}\n"
    "  - {key: searches, metric: searches, target: 0.25, direction: down}\n"
    "  - {key: pages, metric: pages}\n"
    "  - {key: search_adoption, metric: search_adoption}\n"
    "  - {key: week2, metric: week2}\n"
    "  - {key: ratio, metric: per_search}\n"
    "  - {key: a_dash, metric: a_dash}\n"
    "  - {key: a_search, metric: a_search}\n"
    "  - {key: a_exported, metric: a_exported}\n"
    "  - {key: a_week2, metric: a_week2}\n";

typedef tu_ws fx;

typedef struct ev {
    const char *type, *user, *event;
    int day;           /* days after 2026-03-02 */
    const char *props; /* track: properties; group: the account */
} ev;

static const ev events[] = {
    {"track", "A", "Dashboard Viewed", 0, NULL},
    {"track", "A", "Report Exported", 1, "{\"pages\":3}"},
    {"track", "A", "Dashboard Viewed", 7, NULL},
    {"group", "A", NULL, 0, "X"},
    {"group", "B", NULL, 0, "X"},
    {"group", "C", NULL, 3, "Y"},
    {"group", "E", NULL, 2, "Z"},
    {"group", "G", NULL, 12, "Z"},
    {"identify", "B", NULL, 0, NULL},
    {"track", "B", "Search Performed", 2, NULL},
    {"track", "B", "Dashboard Viewed", 3, NULL},
    {"track", "C", "Search Filtered", 3, NULL},
    {"track", "C", "Report Exported", 4, "{\"pages\":5}"},
    {"track", "C", "Search Performed", 10, NULL},
    {"track", "D", "Dashboard Viewed", 9, NULL},
    {"track", "D", "Dashboard Viewed", 10, NULL},
    {"track", "D", "Dashboard Viewed", 11, NULL},
    {"track", "D", "Report Exported", 12, "{\"pages\":4}"},
    {"group", "D", NULL, 13, "Y"},
    {"track", "E", "Dashboard Viewed", -5, NULL},
    {"track", "E", "Dashboard Viewed", 2, NULL},
    {"track", "F", "Search Performed", -10, NULL},
    {"track", "G", "Dashboard Viewed", 12, NULL},
    {"track", "G", "Report Exported", 14, "{\"pages\":9}"},
    {"track", NULL, "Dashboard Viewed", 1, NULL},
};
#define N_EVENTS ((int)(sizeof(events) / sizeof(events[0])))

static int64_t day0_ms(void)
{
    int64_t ms = 0;

    aipm_time_parse(&ms, "2026-03-02", 10, 1);
    return ms;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    aipm_buf b;
    aipm_error err = {0};
    aipm_ingest_result res;
    char ts[32];
    int i;

    if (f == NULL || tu_ws_open(f) != 0)
        return -1;
    aipm_buf_init(&b, 1 << 20);
    for (i = 0; i < N_EVENTS; i++) {
        const ev *e = &events[i];

        aipm_time_format(ts,
                         day0_ms() + (int64_t)e->day * 86400000 + 10 * 3600000);
        aipm_buf_printf(&b, "{\"type\":\"%s\",\"messageId\":\"m%d\",", e->type,
                        i);
        if (e->user)
            aipm_buf_printf(&b, "\"userId\":\"%s\",", e->user);
        else
            aipm_buf_printf(&b, "\"anonymousId\":\"anon-%d\",", i);
        if (strcmp(e->type, "track") == 0)
            aipm_buf_printf(&b, "\"event\":\"%s\",\"properties\":%s,", e->event,
                            e->props ? e->props : "{}");
        else if (strcmp(e->type, "group") == 0)
            aipm_buf_printf(&b, "\"groupId\":\"%s\",\"traits\":{},", e->props);
        else
            aipm_buf_printf(&b, "\"traits\":{},");
        aipm_buf_printf(&b, "\"timestamp\":\"%s\"}\n", ts);
    }
    if (tu_ws_ingest(f, "events", "ev.ndjson", b.ptr, b.len, NULL, &res,
                     &err) != AIPM_OK) {
        print_error("ingest: %s\n", err.msg);
        aipm_buf_free(&b);
        return -1;
    }
    aipm_buf_free(&b);
    if (res.accepted != N_EVENTS || strcmp(res.status, "accepted") != 0) {
        print_error("ingest: %lld of %d accepted, %s\n",
                    (long long)res.accepted, N_EVENTS, res.status);
        aipm_ingest_result_clear(&res);
        return -1;
    }
    aipm_ingest_result_clear(&res);
    if (tu_ws_config(f, yaml) != 0)
        return -1;
    *state = f;
    return 0;
}

/* The report for [from, to] by period, parsed. */
static json_t *report(fx *f, aipm_kpi_period period, const char *from,
                      const char *to, const char *kpi)
{
    aipm_kpi_opts o;
    aipm_error err = {0};
    json_error_t jerr;
    char *text = NULL;
    json_t *d;

    aipm_kpi_opts_init(&o);
    o.period = period;
    if (from)
        assert_int_equal(aipm_time_parse(&o.from_ms, from, strlen(from), 1), 0);
    if (to)
        assert_int_equal(aipm_time_parse(&o.to_ms, to, strlen(to), 1), 0);
    o.kpi = kpi;
    if (aipm_kpi_report(&text, f->st, f->cfg, &o, &err) != AIPM_OK)
        print_error("kpi: %s\n", err.msg);
    assert_non_null(text);
    d = json_loads(text, 0, &jerr);
    free(text);
    assert_non_null(d);
    return d;
}

/* Reals are written with 6 significant digits. */
static void near(json_t *v, double want)
{
    if (!json_is_number(v))
        print_error("expected %g, got a non-number\n", want);
    assert_true(json_is_number(v));
    if (fabs(json_number_value(v) - want) > 1e-5 * fmax(1, fabs(want)))
        print_error("expected %g, got %g\n", want, json_number_value(v));
    assert_true(fabs(json_number_value(v) - want) <=
                1e-5 * fmax(1, fabs(want)));
}

static json_t *at(json_t *d, const char *list, size_t i, const char *key)
{
    return json_object_get(json_array_get(json_object_get(d, list), i), key);
}

static json_t *kpi_value(json_t *d, const char *key, size_t i,
                         const char *field)
{
    json_t *k;
    size_t j;

    json_array_foreach(json_object_get(d, "kpis"), j, k) if (
        strcmp(json_string_value(json_object_get(k, "key")), key) ==
        0) return json_object_get(json_array_get(json_object_get(k, "values"),
                                                 i),
                                  field);
    fail_msg("no KPI %s", key);
    return NULL;
}

static void test_weekly_standard(void **state)
{
    json_t *d = report(*state, AIPM_KPI_WEEK, "2026-03-02", "2026-03-15", NULL);
    json_t *w1, *w2;

    assert_string_equal(json_string_value(json_object_get(d, "period")),
                        "week");
    assert_int_equal(json_array_size(json_object_get(d, "periods")), 2);
    w1 = json_array_get(json_object_get(d, "periods"), 0);
    w2 = json_array_get(json_object_get(d, "periods"), 1);
    assert_string_equal(json_string_value(json_object_get(w1, "start")),
                        "2026-03-02");
    assert_string_equal(json_string_value(json_object_get(w2, "start")),
                        "2026-03-09");

    /* W1 daily actives d0..d6: 2+1+2+2+1+0+0 = 8 (the anonymous event
     * is not a user), DAU = 8/7. Active in W1: A, B, C, E. */
    near(json_object_get(w1, "dau"), 8.0 / 7);
    assert_int_equal(json_integer_value(json_object_get(w1, "active_users")),
                     4);
    /* WAU = d0..d6 = A, B, C, E; MAU = d-23..d6 adds F (d-10). */
    assert_int_equal(json_integer_value(json_object_get(w1, "wau")), 4);
    assert_int_equal(json_integer_value(json_object_get(w1, "mau")), 5);
    near(json_object_get(w1, "stickiness"), (8.0 / 7) / 5);
    /* New in W1: A (d0), B (d0), C (d3); E was first seen on d-5. */
    assert_int_equal(json_integer_value(json_object_get(w1, "new_users")), 3);
    /* D1: A on d1 yes, B on d1 no, C on d4 yes = 2/3. D7: A d7 yes, B d7
     * no, C d10 yes = 2/3. D30: nobody has reached day 30 by d13. */
    near(json_object_get(w1, "d1"), 2.0 / 3);
    near(json_object_get(w1, "d7"), 2.0 / 3);
    assert_true(json_is_null(json_object_get(w1, "d30")));
    /* Activation (the KPI activation: exported within 2 days): A exported
     * 1 day after first seen, C 1 day, B never = 2/3. */
    near(json_object_get(w1, "activation"), 2.0 / 3);
    /* Adoption over W1's 4 active users: dashboards A, B, E = 3/4;
     * search (either event) B, C = 2/4. */
    near(json_object_get(json_object_get(w1, "adoption"), "dashboards"), 0.75);
    near(json_object_get(json_object_get(w1, "adoption"), "search"), 0.5);

    /* W2 daily actives d7..d13: 1+0+1+2+1+2+1 = 8, DAU = 8/7; active A,
     * C, D, G (G's d14 is after the end). */
    near(json_object_get(w2, "dau"), 8.0 / 7);
    assert_int_equal(json_integer_value(json_object_get(w2, "active_users")),
                     4);
    /* WAU d7..d13 = A, C, D, G; MAU d-16..d13 = all seven (F at d-10). */
    assert_int_equal(json_integer_value(json_object_get(w2, "wau")), 4);
    assert_int_equal(json_integer_value(json_object_get(w2, "mau")), 7);
    near(json_object_get(w2, "stickiness"), (8.0 / 7) / 7);
    /* New: D (d9), G (d12). D1: D on d10 yes; G on d13 no (d13 is the
     * last day, so G counts) = 1/2. D7: d16 and d19 are after the end. */
    assert_int_equal(json_integer_value(json_object_get(w2, "new_users")), 2);
    near(json_object_get(w2, "d1"), 0.5);
    assert_true(json_is_null(json_object_get(w2, "d7")));
    /* Activation: D exported 3 days after first seen (> 2), G's export is
     * after the end (and 2 days, not within 2) = 0/2. */
    near(json_object_get(w2, "activation"), 0);
    /* Adoption over A, C, D, G: dashboards A, D, G = 3/4; search C = 1/4. */
    near(json_object_get(json_object_get(w2, "adoption"), "dashboards"), 0.75);
    near(json_object_get(json_object_get(w2, "adoption"), "search"), 0.25);

    /* Cohorts: W1 = {A, B, C}, week 1 active A (d7), C (d10) = 2/3;
     * W2 = {D, G}, week 0 only. */
    assert_int_equal(json_array_size(json_object_get(d, "cohorts")), 2);
    assert_string_equal(json_string_value(at(d, "cohorts", 0, "cohort")),
                        "2026-03-02");
    assert_int_equal(json_integer_value(at(d, "cohorts", 0, "size")), 3);
    assert_int_equal(json_array_size(at(d, "cohorts", 0, "weeks")), 2);
    near(json_array_get(at(d, "cohorts", 0, "weeks"), 0), 1);
    near(json_array_get(at(d, "cohorts", 0, "weeks"), 1), 2.0 / 3);
    assert_int_equal(json_integer_value(at(d, "cohorts", 1, "size")), 2);
    assert_int_equal(json_array_size(at(d, "cohorts", 1, "weeks")), 1);
    assert_int_equal(json_array_size(json_object_get(d, "notes")), 0);
    json_decref(d);
}

static void test_weekly_kpis(void **state)
{
    json_t *d = report(*state, AIPM_KPI_WEEK, "2026-03-02", "2026-03-15", NULL);

    assert_int_equal(json_array_size(json_object_get(d, "kpis")), 13);
    /* activation: 2/3 >= 0.5 met; 0 < 0.5 not met (see above). */
    near(kpi_value(d, "activation", 0, "value"), 2.0 / 3);
    assert_true(json_is_true(kpi_value(d, "activation", 0, "meets_target")));
    near(kpi_value(d, "activation", 1, "value"), 0);
    assert_true(json_is_false(kpi_value(d, "activation", 1, "meets_target")));
    /* export_rate, default window 7 days: W1 A, C = 2/3; W2 D (3 days)
     * yes, G (export after the end) no = 1/2. No target: null. */
    near(kpi_value(d, "export_rate", 0, "value"), 2.0 / 3);
    near(kpi_value(d, "export_rate", 1, "value"), 0.5);
    assert_true(json_is_null(kpi_value(d, "export_rate", 0, "meets_target")));
    /* export_3d: the window is [first seen, + 3 days): D's export at
     * exactly 72 hours is outside it, so W2 = 0/2. */
    near(kpi_value(d, "export_3d", 0, "value"), 2.0 / 3);
    near(kpi_value(d, "export_3d", 1, "value"), 0);
    /* dashboards per active user: W1 A, B, E = 3 events / 4 = 0.75 (< 1,
     * missed); W2 A, D x3, G = 5 / 4 = 1.25 (met). */
    near(kpi_value(d, "dashboards", 0, "value"), 0.75);
    assert_true(json_is_false(kpi_value(d, "dashboards", 0, "meets_target")));
    near(kpi_value(d, "dashboards", 1, "value"), 1.25);
    assert_true(json_is_true(kpi_value(d, "dashboards", 1, "meets_target")));
    /* searches (direction down, target 0.25): W1 B = 1/4, W2 C = 1/4;
     * 0.25 <= 0.25 meets. F's search (d-10) is before the range. */
    near(kpi_value(d, "searches", 0, "value"), 0.25);
    assert_true(json_is_true(kpi_value(d, "searches", 0, "meets_target")));
    near(kpi_value(d, "searches", 1, "value"), 0.25);
    /* pages per active user: W1 (3 + 5) / 4 = 2; W2 4 / 4 = 1 (G's 9
     * pages are after the end). */
    near(kpi_value(d, "pages", 0, "value"), 2);
    near(kpi_value(d, "pages", 1, "value"), 1);
    /* search_adoption = the feature adoption above: 0.5, 0.25. */
    near(kpi_value(d, "search_adoption", 0, "value"), 0.5);
    near(kpi_value(d, "search_adoption", 1, "value"), 0.25);
    /* week2 (active on day 7 or 8 after first seen): W1 A (d7) yes, B no,
     * C (d10) yes = 2/3, all three reached day 8 by d13; W2 nobody has,
     * so null. */
    near(kpi_value(d, "week2", 0, "value"), 2.0 / 3);
    assert_true(json_is_null(kpi_value(d, "week2", 1, "value")));
    assert_true(json_is_null(kpi_value(d, "week2", 1, "meets_target")));
    /* ratio (dashboards viewed per search): W1 3 dashboards / 1 search
     * (B) = 3; W2 5 / 1 (C) = 5. */
    near(kpi_value(d, "ratio", 0, "value"), 3);
    near(kpi_value(d, "ratio", 1, "value"), 5);
    assert_null(
        json_object_get(json_array_get(json_object_get(d, "kpis"), 8), "note"));
    json_decref(d);
}

/* Over accounts (unit: account). Active accounts: W1 users A, B, C, E =
 * X, Y, Z; W2 A, C, D, G = X, Y, Z. */
static void test_account_kpis(void **state)
{
    json_t *d = report(*state, AIPM_KPI_WEEK, "2026-03-02", "2026-03-15", NULL);
    json_t *k = json_array_get(json_object_get(d, "kpis"), 9);

    assert_string_equal(json_string_value(json_object_get(k, "unit")),
                        "account");
    assert_null(json_object_get(k, "note"));
    /* Dashboards per active account: W1 A, B, E = 3 / 3; W2 A, D x3, G =
     * 5 / 3. */
    near(kpi_value(d, "a_dash", 0, "value"), 1);
    near(kpi_value(d, "a_dash", 1, "value"), 5.0 / 3);
    /* Search adoption: W1 B (X), C (Y) = 2/3; W2 C (Y) = 1/3. */
    near(kpi_value(d, "a_search", 0, "value"), 2.0 / 3);
    near(kpi_value(d, "a_search", 1, "value"), 1.0 / 3);
    /* Exported within 2 days of the account's first event: X first seen
     * d0, A exported d1: yes; Y first seen d3 (C), C exported d4: yes;
     * Z was first seen on d-5 (E), before the range. W1 = 2/2, W2 has no
     * new account: null. */
    near(kpi_value(d, "a_exported", 0, "value"), 1);
    assert_true(json_is_null(kpi_value(d, "a_exported", 1, "value")));
    /* Active on day 7 or 8 after the first day: X (d0) on d7 (A) yes; Y
     * (d3) on d10 (C, D) yes = 2/2, where the users' figure is 2/3. */
    near(kpi_value(d, "a_week2", 0, "value"), 1);
    json_decref(d);
}

static void test_daily(void **state)
{
    json_t *d = report(*state, AIPM_KPI_DAY, "2026-03-11", "2026-03-12", NULL);

    assert_int_equal(json_array_size(json_object_get(d, "periods")), 2);
    /* d9: D alone; WAU d3..d9 = B, C, A, D; MAU d-20..d9 = A..F (not G).
     * New: D, active on d10 (which is the last day, so eligible): D1 = 1. */
    near(at(d, "periods", 0, "dau"), 1);
    assert_int_equal(json_integer_value(at(d, "periods", 0, "wau")), 4);
    assert_int_equal(json_integer_value(at(d, "periods", 0, "mau")), 6);
    near(at(d, "periods", 0, "stickiness"), 1.0 / 6);
    near(at(d, "periods", 0, "d1"), 1);
    /* d10: C, D; WAU d4..d10 = C, A, D; MAU d-19..d10 = A..F. */
    near(at(d, "periods", 1, "dau"), 2);
    assert_int_equal(json_integer_value(at(d, "periods", 1, "wau")), 3);
    assert_int_equal(json_integer_value(at(d, "periods", 1, "mau")), 6);
    assert_int_equal(json_integer_value(at(d, "periods", 1, "new_users")), 0);
    assert_true(json_is_null(at(d, "periods", 1, "d1")));
    /* One cohort: the week of 03-09 from 03-11 on holds only D. */
    assert_int_equal(json_array_size(json_object_get(d, "cohorts")), 1);
    assert_int_equal(json_integer_value(at(d, "cohorts", 0, "size")), 1);
    json_decref(d);
}

static void test_monthly(void **state)
{
    json_t *d =
        report(*state, AIPM_KPI_MONTH, "2026-02-01", "2026-03-15", NULL);
    json_t *c;

    assert_int_equal(json_array_size(json_object_get(d, "periods")), 2);
    assert_string_equal(json_string_value(at(d, "periods", 1, "start")),
                        "2026-03-01");
    /* February: F (02-20) and E (02-25), one day each: DAU 2/28; WAU
     * 02-22..28 = E; MAU 01-30..02-28 = E, F; both new. D1: neither was
     * active the next day = 0. D7: E on 03-04 (d2) yes, F on 02-27 no. */
    assert_int_equal(json_integer_value(at(d, "periods", 0, "days")), 28);
    near(at(d, "periods", 0, "dau"), 2.0 / 28);
    assert_int_equal(json_integer_value(at(d, "periods", 0, "wau")), 1);
    assert_int_equal(json_integer_value(at(d, "periods", 0, "mau")), 2);
    assert_int_equal(json_integer_value(at(d, "periods", 0, "new_users")), 2);
    near(at(d, "periods", 0, "d1"), 0);
    near(at(d, "periods", 0, "d7"), 0.5);
    /* March 1..15: 0 + 8 + 8 user-days over 15 days; WAU 03-09..15 = A,
     * C, D, G; MAU 02-14..03-15 = all seven; new A, B, C, D, G. */
    assert_int_equal(json_integer_value(at(d, "periods", 1, "days")), 15);
    near(at(d, "periods", 1, "dau"), 16.0 / 15);
    assert_int_equal(json_integer_value(at(d, "periods", 1, "wau")), 4);
    assert_int_equal(json_integer_value(at(d, "periods", 1, "mau")), 7);
    assert_int_equal(json_integer_value(at(d, "periods", 1, "new_users")), 5);
    /* Weekly cohorts from 02-01: 02-16 {F} = [1, 0, 0, 0] (weeks of
     * 02-16, 02-23, 03-02, 03-09); 02-23 {E} = [1, 1 (d2), 0]; 03-02
     * {A, B, C} = [1, 2/3]; 03-09 {D, G} = [1]. */
    c = json_object_get(d, "cohorts");
    assert_int_equal(json_array_size(c), 4);
    assert_string_equal(json_string_value(at(d, "cohorts", 0, "cohort")),
                        "2026-02-16");
    assert_int_equal(json_array_size(at(d, "cohorts", 0, "weeks")), 4);
    near(json_array_get(at(d, "cohorts", 0, "weeks"), 1), 0);
    near(json_array_get(at(d, "cohorts", 0, "weeks"), 3), 0);
    assert_int_equal(json_array_size(at(d, "cohorts", 1, "weeks")), 3);
    near(json_array_get(at(d, "cohorts", 1, "weeks"), 1), 1);
    near(json_array_get(at(d, "cohorts", 1, "weeks"), 2), 0);
    near(json_array_get(at(d, "cohorts", 2, "weeks"), 1), 2.0 / 3);
    json_decref(d);
}

static void test_default_range(void **state)
{
    json_t *d = report(*state, AIPM_KPI_WEEK, NULL, NULL, NULL);
    json_t *ps = json_object_get(d, "periods");

    /* AIPM_NOW = 2026-03-20 (Fri); 89 days before is 2025-12-21 (Sun),
     * whose ISO week starts 2025-12-15: 91 days to 03-16, 14 weeks. */
    assert_string_equal(json_string_value(json_object_get(d, "from")),
                        "2025-12-15");
    assert_string_equal(json_string_value(json_object_get(d, "to")),
                        "2026-03-20");
    assert_int_equal(json_array_size(ps), 14);
    assert_string_equal(json_string_value(at(d, "periods", 13, "start")),
                        "2026-03-16");
    assert_int_equal(json_integer_value(at(d, "periods", 13, "days")), 5);
    /* Week of 03-16: G on 03-16 is its only activity: DAU 1/5. */
    near(at(d, "periods", 13, "dau"), 1.0 / 5);
    json_decref(d);
}

static void test_one_kpi(void **state)
{
    fx *f = *state;
    json_t *d = report(f, AIPM_KPI_WEEK, "2026-03-02", "2026-03-15", "pages");
    aipm_kpi_opts o;
    aipm_error err = {0};
    char *text = NULL;

    assert_null(json_object_get(d, "periods"));
    assert_null(json_object_get(d, "cohorts"));
    assert_int_equal(json_array_size(json_object_get(d, "kpis")), 1);
    near(kpi_value(d, "pages", 0, "value"), 2);
    json_decref(d);

    aipm_kpi_opts_init(&o);
    o.kpi = "nope";
    assert_int_equal(aipm_kpi_report(&text, f->st, f->cfg, &o, &err),
                     AIPM_ENOTFOUND);
    assert_null(text);
    assert_non_null(strstr(err.msg, "nope"));
    assert_null(strchr(err.msg, '\n'));

    aipm_kpi_opts_init(&o);
    aipm_error_clear(&err);
    aipm_time_parse(&o.from_ms, "2026-03-10", 10, 1);
    aipm_time_parse(&o.to_ms, "2026-03-09", 10, 1);
    assert_int_equal(aipm_kpi_report(&text, f->st, f->cfg, &o, &err),
                     AIPM_EINVALID);
    assert_null(text);
}

/* Without a KPI named activation the rate is null, with a note. */
static void test_no_activation(void **state)
{
    fx *f = *state;
    aipm_config *cfg = NULL;
    aipm_error err = {0};
    aipm_kpi_opts o;
    json_error_t jerr;
    char *text = NULL;
    json_t *d;

    assert_int_equal(aipm_config_new_default(&cfg, &err), AIPM_OK);
    aipm_kpi_opts_init(&o);
    aipm_time_parse(&o.from_ms, "2026-03-02", 10, 1);
    aipm_time_parse(&o.to_ms, "2026-03-15", 10, 1);
    assert_int_equal(aipm_kpi_report(&text, f->st, cfg, &o, &err), AIPM_OK);
    d = json_loads(text, 0, &jerr);
    assert_non_null(d);
    assert_true(json_is_null(at(d, "periods", 0, "activation")));
    assert_int_equal(json_array_size(json_object_get(d, "notes")), 1);
    assert_int_equal(json_array_size(json_object_get(d, "kpis")), 0);
    /* The standard set does not depend on aipm.yaml. */
    assert_int_equal(json_integer_value(at(d, "periods", 1, "mau")), 7);
    json_decref(d);
    free(text);
    aipm_config_free(cfg);
}

/* aipm_kpi_series_get against the report: for every KPI of aipm.yaml
 * (every metric type, over users and accounts) and periods of a day, a
 * week and a month, the same periods, start days and values (the
 * report's reals have 6 significant digits; null is NAN), direction and
 * target. */
static void series_matches_report(fx *f, aipm_kpi_period period,
                                  const char *from, const char *to)
{
    json_t *d = report(f, period, from, to, NULL), *k;
    aipm_kpi_opts o;
    aipm_kpi_series s;
    aipm_error err = {0};
    size_t i, j;

    aipm_kpi_opts_init(&o);
    o.period = period;
    if (from)
        aipm_time_parse(&o.from_ms, from, strlen(from), 1);
    if (to)
        aipm_time_parse(&o.to_ms, to, strlen(to), 1);
    o.kpi = "dashboards"; /* ignored */
    assert_int_equal(json_array_size(json_object_get(d, "kpis")), 13);
    json_array_foreach(json_object_get(d, "kpis"), i, k)
    {
        const char *key = json_string_value(json_object_get(k, "key"));
        json_t *values = json_object_get(k, "values"), *v;
        json_t *target = json_object_get(k, "target");

        if (aipm_kpi_series_get(&s, f->st, f->cfg, key, &o, &err) != AIPM_OK)
            print_error("%s: %s\n", key, err.msg);
        assert_int_equal(s.n, (int)json_array_size(values));
        assert_int_equal(
            s.direction_down,
            strcmp(json_string_value(json_object_get(k, "direction")),
                   "down") == 0);
        if (json_is_null(target))
            assert_true(isnan(s.target));
        else
            assert_true(s.target == json_number_value(target));
        json_array_foreach(values, j, v)
        {
            const char *start = json_string_value(json_object_get(v, "start"));
            json_t *value = json_object_get(v, "value");
            int64_t ms = 0;

            aipm_time_parse(&ms, start, strlen(start), 1);
            assert_true(s.start_ms[j] == ms);
            if (json_is_null(value)) {
                if (!isnan(s.value[j]))
                    print_error("%s %s: %g, report null\n", key, start,
                                s.value[j]);
                assert_true(isnan(s.value[j]));
            } else
                near(value, s.value[j]);
        }
        aipm_kpi_series_free(&s);
    }
    json_decref(d);
}

static void test_series(void **state)
{
    fx *f = *state;
    aipm_kpi_opts o;
    aipm_kpi_series s;
    aipm_error err = {0};

    series_matches_report(f, AIPM_KPI_WEEK, "2026-03-02", "2026-03-15");
    series_matches_report(f, AIPM_KPI_DAY, "2026-02-28", "2026-03-15");
    series_matches_report(f, AIPM_KPI_MONTH, "2026-02-01", "2026-03-15");
    series_matches_report(f, AIPM_KPI_WEEK, NULL, NULL);

    /* By hand (test_weekly_kpis): dashboards per active user W1 A, B, E =
     * 3 / 4, W2 A, D x3, G = 5 / 4, target 1, up; the ratio of dashboards
     * to searches 3 / 1 and 5 / 1; searches is down with target 0.25;
     * week2 has no value in W2. */
    aipm_kpi_opts_init(&o);
    aipm_time_parse(&o.from_ms, "2026-03-02", 10, 1);
    aipm_time_parse(&o.to_ms, "2026-03-15", 10, 1);
    assert_int_equal(
        aipm_kpi_series_get(&s, f->st, f->cfg, "dashboards", &o, &err),
        AIPM_OK);
    assert_int_equal(s.n, 2);
    assert_true(s.start_ms[0] == day0_ms() &&
                s.start_ms[1] == day0_ms() + 7 * 86400000LL);
    assert_true(s.value[0] == 0.75 && s.value[1] == 1.25);
    assert_true(s.target == 1 && !s.direction_down);
    aipm_kpi_series_free(&s);
    assert_int_equal(aipm_kpi_series_get(&s, f->st, f->cfg, "ratio", &o, &err),
                     AIPM_OK);
    assert_true(s.value[0] == 3 && s.value[1] == 5 && isnan(s.target));
    aipm_kpi_series_free(&s);
    assert_int_equal(
        aipm_kpi_series_get(&s, f->st, f->cfg, "searches", &o, &err), AIPM_OK);
    assert_true(s.value[0] == 0.25 && s.direction_down && s.target == 0.25);
    aipm_kpi_series_free(&s);
    assert_int_equal(aipm_kpi_series_get(&s, f->st, f->cfg, "week2", &o, &err),
                     AIPM_OK);
    assert_true(fabs(s.value[0] - 2.0 / 3) < 1e-15 && isnan(s.value[1]));
    aipm_kpi_series_free(&s);

    /* An unknown key: not found, naming it and the KPIs there are; the
     * series stays empty (and freeing it twice is harmless). */
    assert_int_equal(aipm_kpi_series_get(&s, f->st, f->cfg, "nope", &o, &err),
                     AIPM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    assert_non_null(strstr(err.msg, "activation, export_rate"));
    assert_true(s.n == 0 && s.start_ms == NULL && s.value == NULL);
    aipm_kpi_series_free(&s);
    aipm_kpi_series_free(NULL);
    /* A bad range, as the report. */
    aipm_error_clear(&err);
    aipm_time_parse(&o.from_ms, "2026-03-10", 10, 1);
    aipm_time_parse(&o.to_ms, "2026-03-09", 10, 1);
    assert_int_equal(
        aipm_kpi_series_get(&s, f->st, f->cfg, "dashboards", &o, &err),
        AIPM_EINVALID);
    assert_true(s.n == 0 && s.value == NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekly_standard),
        cmocka_unit_test(test_weekly_kpis),
        cmocka_unit_test(test_account_kpis),
        cmocka_unit_test(test_daily),
        cmocka_unit_test(test_monthly),
        cmocka_unit_test(test_default_range),
        cmocka_unit_test(test_one_kpi),
        cmocka_unit_test(test_no_activation),
        cmocka_unit_test(test_series),
    };

    setenv("AIPM_NOW", "2026-03-20T12:00:00Z", 1);
    return cmocka_run_group_tests(tests, setup, tu_ws_teardown);
}
