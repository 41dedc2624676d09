/* cmd_kpi.c - `aipm kpi [NAME]`: DAU/WAU/MAU, stickiness, activation,
 * retention, weekly cohorts, feature adoption and the KPIs of aipm.yaml.
 *
 * The library computes the whole report as JSON (aipm_kpi_report); --json
 * prints it as is, otherwise it is read back here and laid out as tables
 * for an 80-column terminal (the widest tables show their last columns
 * and say so).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COLS 8  /* periods shown across (adoption) */
#define MAX_LAGS 12 /* cohort weeks shown across */
#define KPI_COL_MAX 14

static void help(void)
{
    printf("usage: aipm kpi [NAME] [--by day|week|month] [--from DATE] "
           "[--to DATE] [--json]\n"
           "\n"
           "Product analytics over the accepted events, per period (default\n"
           "ISO weeks from Monday, UTC) of the last 90 days up to today:\n"
           "  DAU         mean over the period's days of daily active users\n"
           "  WAU, MAU    users active in the 7 / 30 days ending the period\n"
           "  stickiness  DAU / MAU\n"
           "  new         users first seen in the period\n"
           "  activation  the KPI named activation (a conversion metric):\n"
           "              share of new users who did its event within its\n"
           "              window_days (default 7) of first seen\n"
           "  D1/D7/D30   share of new users active exactly N days after\n"
           "              their first day (those who have reached day N)\n"
           "  adoption    share of the period's active users who did any\n"
           "              event of a catalog feature in the period\n"
           "plus weekly cohorts (share of each first-seen week active N\n"
           "weeks later) and every KPI of aipm.yaml against its target.\n"
           "A user is a userId; active means any event (track, identify,\n"
           "group). NAME shows only that KPI of aipm.yaml.\n"
           "\n"
           "  --by P        day, week (default) or month\n"
           "  --from DATE   first day (YYYY-MM-DD), default 89 days before "
           "--to\n"
           "  --to DATE     last day, default today (AIPM_NOW overrides)\n");
}

static int is_share(const char *type)
{
    return type &&
           (strcmp(type, "conversion") == 0 || strcmp(type, "retention") == 0 ||
            strcmp(type, "adoption") == 0);
}

/* A value as text: a percentage for shares, else 3 significant digits;
 * "-" for null. */
static void fmt(char *out, size_t n, json_t *v, int pct)
{
    if (v == NULL || !json_is_number(v))
        snprintf(out, n, "-");
    else if (pct)
        snprintf(out, n, "%.1f%%", 100 * json_number_value(v));
    else
        snprintf(out, n, "%.3g", json_number_value(v));
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* A period's short label: MM-DD for days and weeks, YYYY-MM for months. */
static void label(char *out, size_t n, const char *start, const char *period)
{
    if (strcmp(period, "month") == 0)
        snprintf(out, n, "%.7s", start);
    else
        snprintf(out, n, "%.5s", strlen(start) >= 10 ? start + 5 : start);
}

static void print_standard(json_t *d, const char *period)
{
    json_t *ps = json_object_get(d, "periods"), *p, *c, *v;
    const char *head = strcmp(period, "week") == 0 ? "week of" : period;
    size_t i, j, k, first;
    char s[10][32];

    printf("\n%-10s %7s %6s %6s %7s %5s %7s %6s %6s %6s\n", head, "DAU", "WAU",
           "MAU", "sticky", "new", "activ.", "D1", "D7", "D30");
    json_array_foreach(ps, i, p)
    {
        fmt(s[0], sizeof(s[0]), json_object_get(p, "stickiness"), 1);
        fmt(s[1], sizeof(s[1]), json_object_get(p, "activation"), 1);
        fmt(s[2], sizeof(s[2]), json_object_get(p, "d1"), 1);
        fmt(s[3], sizeof(s[3]), json_object_get(p, "d7"), 1);
        fmt(s[4], sizeof(s[4]), json_object_get(p, "d30"), 1);
        printf("%-10s %7.1f %6lld %6lld %7s %5lld %7s %6s %6s %6s\n",
               str(p, "start"), json_number_value(json_object_get(p, "dau")),
               (long long)json_integer_value(json_object_get(p, "wau")),
               (long long)json_integer_value(json_object_get(p, "mau")), s[0],
               (long long)json_integer_value(json_object_get(p, "new_users")),
               s[1], s[2], s[3], s[4]);
    }

    /* Feature adoption: features down, the last periods across. */
    p = json_array_get(ps, 0);
    if (p && json_object_size(json_object_get(p, "adoption")) > 0) {
        const char *key;

        first =
            json_array_size(ps) > MAX_COLS ? json_array_size(ps) - MAX_COLS : 0;
        printf("\nfeature adoption (share of the %s's active users)%s\n",
               period, first ? " - last 8 periods, --json for all" : "");
        printf("%-22s", "feature");
        for (j = first; j < json_array_size(ps); j++) {
            label(s[0], sizeof(s[0]), str(json_array_get(ps, j), "start"),
                  period);
            printf(" %7s", s[0]);
        }
        printf("\n");
        json_object_foreach(json_object_get(p, "adoption"), key, v)
        {
            printf("%-22.22s", cli_text(key));
            for (j = first; j < json_array_size(ps); j++) {
                fmt(s[0], sizeof(s[0]),
                    json_object_get(
                        json_object_get(json_array_get(ps, j), "adoption"),
                        key),
                    1);
                printf(" %7s", s[0]);
            }
            printf("\n");
        }
    }

    c = json_object_get(d, "cohorts");
    if (json_array_size(c) > 0) {
        printf("\nweekly cohorts (share of each first-seen week active N "
               "weeks later)\n%-10s %6s",
               "cohort", "users");
        for (k = 0; k <= MAX_LAGS; k++) {
            snprintf(s[0], sizeof(s[0]), "w%zu", k);
            printf(" %5s", s[0]);
        }
        printf("\n");
        json_array_foreach(c, i, p)
        {
            printf("%-10s %6lld", str(p, "cohort"),
                   (long long)json_integer_value(json_object_get(p, "size")));
            json_array_foreach(json_object_get(p, "weeks"), k, v)
            {
                if (k > MAX_LAGS)
                    break;
                printf(" %4.0f%%", 100 * json_number_value(v));
            }
            printf("\n");
        }
    }
}

/* All KPIs in one table: periods down, KPIs across. */
static void print_kpis(json_t *d, const char *period)
{
    json_t *kpis = json_object_get(d, "kpis"), *k;
    const char *head = strcmp(period, "week") == 0 ? "week of" : period;
    size_t i, j;
    char s[32], t[48];

    if (json_array_size(kpis) == 0) {
        printf("\nno KPIs in aipm.yaml (kpis: [{key, metric, target, "
               "direction}])\n");
        return;
    }
    printf("\nKPIs (aipm.yaml): value, and whether it meets the target\n");
    printf("%-10s", head);
    json_array_foreach(kpis, j, k)
        printf(" %*.*s", KPI_COL_MAX, KPI_COL_MAX, cli_text(str(k, "key")));
    printf("\n");
    k = json_array_get(kpis, 0);
    for (i = 0; i < json_array_size(json_object_get(k, "values")); i++) {
        printf("%-10s",
               str(json_array_get(json_object_get(k, "values"), i), "start"));
        json_array_foreach(kpis, j, k)
        {
            json_t *val = json_array_get(json_object_get(k, "values"), i);
            json_t *meets = json_object_get(val, "meets_target");

            fmt(s, sizeof(s), json_object_get(val, "value"),
                is_share(str(k, "type")));
            snprintf(t, sizeof(t), "%s%s", s,
                     json_is_true(meets)    ? " ok"
                     : json_is_false(meets) ? " miss"
                                            : "");
            printf(" %*s", KPI_COL_MAX, t);
        }
        printf("\n");
    }
    json_array_foreach(kpis, j, k)
    {
        fmt(s, sizeof(s), json_object_get(k, "target"),
            is_share(str(k, "type")));
        printf("  %s: metric %s (%s), target %s %s", cli_text(str(k, "key")),
               cli_text(str(k, "metric")), str(k, "type"),
               strcmp(str(k, "direction"), "down") == 0 ? "<=" : ">=", s);
        if (json_object_get(k, "note"))
            printf(" - %s", cli_text(str(k, "note")));
        printf("\n");
    }
}

static void print_human(const char *text)
{
    json_error_t jerr;
    json_t *d = json_loads(text, 0, &jerr), *v;
    const char *period;
    size_t i;

    if (d == NULL)
        return;
    period = str(d, "period");
    printf("KPIs by %s, %s to %s (UTC; a user is a userId, active = any "
           "event)\n",
           period, str(d, "from"), str(d, "to"));
    if (json_object_get(d, "periods"))
        print_standard(d, period);
    print_kpis(d, period);
    json_array_foreach(json_object_get(d, "notes"), i, v)
        printf("note: %s\n", cli_text(json_string_value(v)));
    /* Events that never occur: on stderr (in --json, "warnings"). */
    json_array_foreach(json_object_get(d, "warnings"), i, v)
        fprintf(stderr, "aipm: warning: %s\n", cli_text(json_string_value(v)));
    json_decref(d);
}

int cmd_kpi(int argc, char **argv)
{
    aipm_kpi_opts o;
    aipm_error err = {0, ""};
    workspace ws;
    char *out = NULL;
    int i, rc;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    aipm_kpi_opts_init(&o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--by") == 0 && v) {
            if (strcmp(v, "day") == 0)
                o.period = AIPM_KPI_DAY;
            else if (strcmp(v, "week") == 0)
                o.period = AIPM_KPI_WEEK;
            else if (strcmp(v, "month") == 0)
                o.period = AIPM_KPI_MONTH;
            else
                return cli_usage_error("--by is day, week or month");
            i++;
        } else if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) && v) {
            int64_t ms;

            if (aipm_time_parse(&ms, v, strlen(v), 1) != AIPM_OK || ms < 0)
                return cli_usage_error("%s needs a date (YYYY-MM-DD), not "
                                       "'%s'",
                                       a, v);
            if (a[2] == 'f')
                o.from_ms = ms;
            else
                o.to_ms = ms;
            i++;
        } else if (a[0] == '-') {
            return cli_bad_arg(
                "kpi", a, v == NULL,
                (const char *const[]){"--by", "--from", "--to", NULL});
        } else if (o.kpi == NULL) {
            o.kpi = a;
        } else {
            return cli_usage_error("unexpected argument '%s'", a);
        }
    }
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    o.progress = cli_progress_count; /* steps: standard set, features, KPIs */
    o.progress_ctx = (void *)"kpi";
    rc = aipm_kpi_report(&out, ws.store, ws.config, &o, &err);
    cli_progress_end();
    if (rc != AIPM_OK) {
        rc = cli_fail(&err);
    } else if (g_cli.json) {
        printf("%s\n", out);
    } else {
        print_human(out);
    }
    free(out);
    ws_close(&ws);
    return rc;
}
