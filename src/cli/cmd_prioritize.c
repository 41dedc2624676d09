/* cmd_prioritize.c - `aipm prioritize`: the ranked backlog and a plan. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: aipm prioritize [--capacity WEEKS] [--risk-aversion L]\n"
        "                       [--draws N] [--seed S] [--threshold X]\n"
        "                       [--limit N] [--model-version N] [--no-record]\n"
        "       aipm prioritize --backtest [--cutoff DATE]\n"
        "\n"
        "Ranks the open backlog items (idea, planned, in_progress) by\n"
        "risk-adjusted value per week of effort. Value is learned from what\n"
        "shipped items delivered (distinct daily users per 10,000 daily\n"
        "actives since shipping) by a Bayesian linear regression on their\n"
        "signals as of their decision day: demand (accounts in linked\n"
        "feedback, weighted by ARR and recency), reach of their area, the\n"
        "market trend, and the PM's RICE. Monte Carlo draws of value and\n"
        "effort (lognormal around the estimate) give P10/P50/P90; the score\n"
        "is mean - L (mean - CVaR10) of value per effort (L, default 0.5).\n"
        "Fewer than 10 shipped items with an outcome: RICE, said so.\n"
        "\n"
        "--capacity plans a release: the items with the most total\n"
        "risk-adjusted value within WEEKS (exact knapsack, half-weeks).\n"
        "Each run is stored as a decision record (--no-record: not).\n"
        "\n"
        "The value model: the version of model \"value\" the registry's\n"
        "production alias points at (aipm model), else one trained in this\n"
        "run; --model-version N ranks with registered version N instead.\n"
        "\n"
        "--backtest trains on items shipped before the cutoff (default: the\n"
        "median ship day), predicts the ones shipped after it, and reports\n"
        "the Spearman correlation of predicted and realized value next to\n"
        "that of the PM's RICE scores.\n");
}

/* A number, or "n/a" for null (too few items for a correlation). */
static const char *fmt3(char *buf, size_t n, json_t *v)
{
    if (json_is_number(v))
        snprintf(buf, n, "%.3f", json_number_value(v));
    else
        snprintf(buf, n, "n/a");
    return buf;
}

/* Which value model ranked: a registered version (the production alias's
 * unless one was asked for) or one trained in the run. */
static void print_model_source(json_t *model, int64_t asked)
{
    json_t *reg = json_object_get(model, "registry");

    if (reg)
        printf("  model: %s@%lld (registry%s)\n",
               cli_text(json_string_value(json_object_get(reg, "name"))),
               (long long)json_integer_value(json_object_get(reg, "version")),
               asked > 0 ? "" : ", production");
    else
        printf("  model: trained in this run\n");
}

static void print_human(const char *text, int64_t limit, int64_t asked)
{
    json_error_t jerr;
    json_t *d = json_loads(text, 0, &jerr), *it, *m, *b;
    size_t i, j;

    if (d == NULL)
        return;
    if ((b = json_object_get(d, "backtest")) != NULL) {
        printf("backtest at %s (%s model): trained on %lld shipped items, "
               "tested on %lld\n",
               json_string_value(json_object_get(b, "cutoff")),
               json_string_value(json_object_get(b, "model")),
               (long long)json_integer_value(json_object_get(b, "trained_on")),
               (long long)json_integer_value(json_object_get(b, "tested_on")));
        char x[32], y[32];

        printf("  Spearman, predicted vs realized value: %s\n",
               fmt3(x, sizeof(x), json_object_get(b, "spearman")));
        printf("  Spearman of the PM's RICE scores:      %s (%lld items; "
               "the model on them: %s)\n",
               fmt3(x, sizeof(x), json_object_get(b, "rice_spearman")),
               (long long)json_integer_value(json_object_get(b, "rice_items")),
               fmt3(y, sizeof(y),
                    json_object_get(b, "model_spearman_on_rice_items")));
        if (json_is_number(json_object_get(b, "p10_p90_coverage")))
            printf("  realized value inside P10..P90: %.0f%%\n",
                   100 * json_number_value(
                             json_object_get(b, "p10_p90_coverage")));
        if (json_integer_value(json_object_get(b, "tested_on")) < 3)
            printf("  (fewer than 3 items shipped after the cutoff with an "
                   "outcome: nothing to correlate)\n");
        json_decref(d);
        return;
    }
    m = json_object_get(d, "model");
    printf("backlog as of %s: %s model, trained on %lld shipped items\n",
           json_string_value(json_object_get(d, "as_of")),
           json_string_value(json_object_get(m, "kind")),
           (long long)json_integer_value(json_object_get(m, "trained_on")));
    print_model_source(m, asked);
    if (json_object_get(m, "note"))
        printf("  note: %s\n",
               cli_text(json_string_value(json_object_get(m, "note"))));
    if (json_array_size(json_object_get(d, "items")) == 0) {
        printf("\nno open items (idea, planned, in_progress) in the backlog: "
               "ingest backlog.csv first\n");
        json_decref(d);
        return;
    }
    printf("\n%4s  %-10s %-40s %8s %17s %6s %7s %5s\n", "rank", "id", "title",
           "value", "P10..P90", "effort", "score", "conf");
    json_array_foreach(json_object_get(d, "items"), i, it)
    {
        char range[40];

        if (limit > 0 && (int64_t)i >= limit)
            break;
        snprintf(range, sizeof(range), "%.1f..%.1f",
                 json_number_value(json_object_get(it, "p10")),
                 json_number_value(json_object_get(it, "p90")));
        printf("%4lld  %-10s %-40.40s %8.1f %17s %6.1f %7.2f %5.2f\n",
               (long long)json_integer_value(json_object_get(it, "rank")),
               cli_text(json_string_value(json_object_get(it, "id"))),
               cli_text(json_string_value(json_object_get(it, "title"))),
               json_number_value(json_object_get(it, "expected_value")), range,
               json_number_value(json_object_get(it, "effort")),
               json_number_value(json_object_get(it, "score")),
               json_number_value(json_object_get(it, "confidence")));
        json_array_foreach(json_object_get(it, "contributions"), j, m)
        {
            if (j >= 2)
                break;
            printf("      %s\n",
                   cli_text(json_string_value(json_object_get(m, "text"))));
        }
    }
    if (limit > 0 &&
        json_array_size(json_object_get(d, "items")) > (size_t)limit)
        printf("\n%zu more item(s) not shown (--limit N shows N, --limit 0 "
               "all)\n",
               json_array_size(json_object_get(d, "items")) - (size_t)limit);
    if ((b = json_object_get(d, "plan")) != NULL) {
        printf("\nrelease plan within %.1f weeks (%.1f used): %zu items, "
               "expected value %.1f (P10 %.1f, P90 %.1f)\n  ",
               json_number_value(json_object_get(b, "capacity")),
               json_number_value(json_object_get(b, "effort")),
               json_array_size(json_object_get(b, "items")),
               json_number_value(json_object_get(b, "expected_value")),
               json_number_value(json_object_get(b, "p10")),
               json_number_value(json_object_get(b, "p90")));
        json_array_foreach(json_object_get(b, "items"), i, it)
            printf("%s%s", i ? ", " : "", cli_text(json_string_value(it)));
        printf("\n");
    }
    printf("\nvalue: distinct daily users per 10,000 daily actives; effort: "
           "person-weeks\n");
    json_decref(d);
}

static int parse_real(const char *s, double *out)
{
    char *end;

    *out = strtod(s, &end);
    return *s == '\0' || *end != '\0' || !isfinite(*out);
}

int cmd_prioritize(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    aipm_pz_opts o;
    int64_t limit = 20, v;
    char *text = NULL;
    int i, rc;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    aipm_pz_opts_init(&o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--capacity") == 0 && i + 1 < argc) {
            if (parse_real(argv[++i], &o.capacity_weeks) ||
                o.capacity_weeks <= 0 || o.capacity_weeks > 10000)
                return cli_usage_error("--capacity needs weeks in (0, "
                                       "10000]");
        } else if (strcmp(a, "--risk-aversion") == 0 && i + 1 < argc) {
            if (parse_real(argv[++i], &o.risk_aversion) ||
                o.risk_aversion < 0 || o.risk_aversion > 1)
                return cli_usage_error("--risk-aversion needs a number in "
                                       "[0, 1]");
        } else if (strcmp(a, "--draws") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &v) != 0 || v < 100 || v > 1000000)
                return cli_usage_error("--draws needs a number in [100, "
                                       "1000000]");
            o.draws = (int)v;
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &v) != 0)
                return cli_usage_error("--seed needs a positive integer");
            o.seed = (uint64_t)v;
        } else if (strcmp(a, "--threshold") == 0 && i + 1 < argc) {
            if (parse_real(argv[++i], &o.link_threshold) ||
                !(o.link_threshold > 0 && o.link_threshold <= 1))
                return cli_usage_error("--threshold needs a number in (0, 1]");
        } else if (strcmp(a, "--limit") == 0 && i + 1 < argc) {
            if (strcmp(argv[i + 1], "0") == 0) {
                limit = 0;
                i++;
            } else if (cli_parse_i64(argv[++i], &limit) != 0)
                return cli_usage_error("--limit needs a number");
        } else if (strcmp(a, "--model-version") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &o.model_version) != 0)
                return cli_usage_error("--model-version needs a version "
                                       "number (aipm model list shows them)");
        } else if (strcmp(a, "--no-record") == 0)
            o.record = 0;
        else if (strcmp(a, "--backtest") == 0)
            o.backtest = 1;
        else if (strcmp(a, "--cutoff") == 0 && i + 1 < argc) {
            const char *s = argv[++i];

            if (aipm_time_parse(&o.cutoff_ms, s, strlen(s), 1) != AIPM_OK)
                return cli_usage_error("--cutoff needs a date (YYYY-MM-DD)");
        } else
            return cli_bad_option(
                "prioritize", a, i + 1 == argc,
                (const char *const[]){"--capacity", "--risk-aversion",
                                      "--draws", "--seed", "--threshold",
                                      "--limit", "--cutoff", "--model-version",
                                      NULL},
                (const char *const[]){"--no-record", "--backtest", NULL});
    }
    if (o.cutoff_ms && !o.backtest)
        return cli_usage_error("--cutoff goes with --backtest");
    if (o.model_version && o.backtest)
        return cli_usage_error("--model-version does not go with --backtest "
                               "(a backtest trains before its cutoff)");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    o.now_ms = aipm_now_ms();
    o.checkpoint = ws.checkpoint;
    o.progress = cli_progress_count; /* feedback rows linked, then items */
    o.progress_ctx = (void *)"prioritize";
    rc = aipm_prioritize(&text, ws.store, ws.config, &o, &err);
    cli_progress_end();
    if (rc == AIPM_OK) {
        if (g_cli.json)
            printf("%s\n", text);
        else
            print_human(text, limit, o.model_version);
    } else
        rc = cli_fail(&err);
    free(text);
    ws_close(&ws);
    return rc;
}
