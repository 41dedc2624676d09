/* cmd_experiment.c - `aipm experiment list|analyze`. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: aipm experiment list\n"
           "       aipm experiment analyze KEY [--engine frequentist|"
           "bayesian|sequential]\n"
           "                 [--cuped] [--pre-days N] [--alpha A] [--bh]\n"
           "                 [--by TRAIT]\n"
           "                 [--n-star N] [--no-record]\n"
           "       aipm experiment power --metric M --mde X [--alpha A] "
           "[--power P] [--days N]\n"
           "\n"
           "analyze compares every variation of experiment KEY (aipm.yaml)\n"
           "with the control on each metric and guardrail: exposure is a\n"
           "unit's first `Experiment Viewed`, metric events count from it to\n"
           "the experiment's end. Sample-ratio mismatch (chi-square p <\n"
           "0.001) makes the experiment invalid. Frequentist: Welch t-test,\n"
           "delta-method relative lift; sequential: always-valid intervals\n"
           "(N* = 5000); Bayesian: chance to win and expected loss. Holm\n"
           "across metrics (--bh for Benjamini-Hochberg); guardrails are\n"
           "judged alone. The verdict (ship, do_not_ship, keep_running,\n"
           "invalid) is stored as a decision record.\n"
           "\n"
           "power gives the units per variation needed to detect a relative\n"
           "change X of metric M (two-sided, equal groups), from the metric's\n"
           "mean and variance over the users active in the last N days\n"
           "(default 14).\n");
}

static int list(workspace *ws)
{
    json_t *arr = json_array();
    int i, j;

    for (i = 0; i < ws->config->n_experiments; i++) {
        const aipm_experiment_def *e = &ws->config->experiments[i];
        json_t *vars = json_array(), *mets = json_array();
        char s[32] = "", en[32] = "";

        for (j = 0; j < e->n_variations; j++)
            json_array_append_new(vars, json_string(e->variations[j]));
        for (j = 0; j < e->n_metrics; j++)
            json_array_append_new(mets, json_string(e->metrics[j]));
        if (e->start_ms)
            aipm_time_format(s, e->start_ms);
        if (e->end_ms)
            aipm_time_format(en, e->end_ms);
        s[10] = en[10] = '\0';
        json_array_append_new(arr,
                              json_pack("{s:s, s:o, s:o, s:s, s:s}", "key",
                                        e->key, "variations", vars, "metrics",
                                        mets, "start", s, "end", en));
        if (!g_cli.json && i == 0)
            printf("%-28s %-10s %-10s %10s  %s\n", "KEY", "START", "END",
                   "VARIATIONS", "METRICS");
        if (!g_cli.json) {
            printf("%-28s %-10s %-10s %10d  ", cli_text(e->key), s[0] ? s : "-",
                   en[0] ? en : "running", e->n_variations);
            for (j = 0; j < e->n_metrics; j++)
                printf("%s%s", j ? ", " : "", cli_text(e->metrics[j]));
            printf("%s\n", e->n_metrics ? "" : "(none)");
        }
    }
    if (g_cli.json) {
        json_t *o = json_pack("{s:o}", "experiments", arr);

        cli_print_json(o);
        json_decref(o);
    } else {
        if (ws->config->n_experiments == 0)
            printf("no experiments in aipm.yaml\n");
        json_decref(arr);
    }
    return EXIT_OK;
}

static void pct(char *out, size_t n, json_t *v)
{
    if (v == NULL || json_is_null(v))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%+.1f%%", 100 * json_number_value(v));
}

static void print_human(const char *text)
{
    json_error_t jerr;
    json_t *d = json_loads(text, 0, &jerr), *m, *v, *r;
    size_t i, j;

    if (d == NULL)
        return;
    printf("experiment %s  (%s%s, analysis to %s, %s)\n",
           cli_text(json_string_value(json_object_get(d, "experiment"))),
           json_string_value(json_object_get(d, "engine")),
           json_is_true(json_object_get(d, "cuped")) ? " + CUPED" : "",
           json_string_value(json_object_get(d, "analysis_end")),
           json_is_true(json_object_get(d, "running")) ? "running" : "ended");
    printf("  sample ratio: chi-square p = %.3g  %s\n",
           json_number_value(
               json_object_get(json_object_get(d, "srm"), "p_value")),
           json_is_true(json_object_get(json_object_get(d, "srm"), "ok"))
               ? "ok"
               : "MISMATCH");
    json_array_foreach(json_object_get(d, "metrics"), i, m)
    {
        printf("\n  %s%s (%s)\n",
               cli_text(json_string_value(json_object_get(m, "metric"))),
               json_is_true(json_object_get(m, "guardrail")) ? " [guardrail]"
                                                             : "",
               json_string_value(json_object_get(m, "type")));
        printf("    %-14s %9s %10s %9s %20s %9s %7s\n", "variation", "units",
               "mean", "lift", "interval", "p", "P(win)");
        json_array_foreach(json_object_get(m, "variations"), j, v)
        {
            char lift[32], lo[32], hi[32], iv[64], pv[32], cw[32];
            json_t *p = json_object_get(v, "p_adjusted");

            if (p == NULL)
                p = json_object_get(v, "p_value");
            pct(lift, sizeof(lift), json_object_get(v, "lift_rel"));
            pct(lo, sizeof(lo), json_object_get(v, "ci_low"));
            pct(hi, sizeof(hi), json_object_get(v, "ci_high"));
            snprintf(iv, sizeof(iv), j ? "[%s, %s]" : "", lo, hi);
            if (p && !json_is_null(p))
                snprintf(pv, sizeof(pv), "%.3g", json_number_value(p));
            else
                snprintf(pv, sizeof(pv), "-");
            if (json_is_number(json_object_get(v, "chance_to_win")))
                snprintf(cw, sizeof(cw), "%.1f%%",
                         100 * json_number_value(
                                   json_object_get(v, "chance_to_win")));
            else
                snprintf(cw, sizeof(cw), "-");
            printf("    %-14s %9lld %10.4g %9s %20s %9s %7s\n",
                   cli_text(json_string_value(json_object_get(v, "key"))),
                   (long long)json_integer_value(json_object_get(v, "units")),
                   json_number_value(json_object_get(v, "mean")), lift, iv, pv,
                   cw);
        }
        if ((r = json_object_get(m, "by")) != NULL) {
            json_t *lv;
            size_t li;

            printf("    by %s:\n",
                   cli_text(json_string_value(json_object_get(r, "trait"))));
            json_array_foreach(json_object_get(r, "levels"), li, lv)
            {
                json_t *t =
                    json_array_get(json_object_get(lv, "variations"), 1);
                char lift[32], lo[32], hi[32];

                pct(lift, sizeof(lift), json_object_get(t, "lift_rel"));
                pct(lo, sizeof(lo), json_object_get(t, "ci_low"));
                pct(hi, sizeof(hi), json_object_get(t, "ci_high"));
                printf(
                    "      %-20s units %6lld + %6lld  lift %8s [%s, %s]"
                    "%s\n",
                    cli_text(json_string_value(json_object_get(lv, "level"))),
                    (long long)json_integer_value(json_object_get(
                        json_array_get(json_object_get(lv, "variations"), 0),
                        "units")),
                    (long long)json_integer_value(json_object_get(t, "units")),
                    lift, lo, hi,
                    json_is_true(
                        json_object_get(json_object_get(lv, "srm"), "ok"))
                        ? ""
                        : "  SRM");
            }
        }
        if ((r = json_object_get(m, "cuped")) != NULL)
            printf("    CUPED: variance reduced by %.1f%% (theta %.3g)\n",
                   100 * json_number_value(
                             json_object_get(r, "variance_reduction")),
                   json_number_value(json_object_get(r, "theta")));
    }
    r = json_object_get(d, "verdict");
    printf("\n  verdict: %s (confidence %.1f%%)\n",
           json_string_value(json_object_get(r, "decision")),
           100 * json_number_value(json_object_get(r, "confidence")));
    json_array_foreach(json_object_get(r, "reasons"), i, v)
        printf("    - %s\n", cli_text(json_string_value(v)));
    if (json_object_get(d, "warning"))
        printf("  warning: %s\n",
               cli_text(json_string_value(json_object_get(d, "warning"))));
    /* Events that never occur: on stderr (in --json, "warnings"). */
    json_array_foreach(json_object_get(d, "warnings"), i, v)
        fprintf(stderr, "aipm: warning: %s\n", cli_text(json_string_value(v)));
    json_decref(d);
}

/* "no experiment 'x'" with the keys aipm.yaml has (the first few). */
static int no_experiment(const aipm_config *cfg, const char *key)
{
    char keys[400] = "";
    size_t n = 0;
    int i;

    if (cfg->n_experiments == 0)
        return cli_usage_error("no experiment '%s': aipm.yaml has no "
                               "experiments (add them under experiments:)",
                               cli_text(key));
    for (i = 0; i < cfg->n_experiments && n < sizeof(keys) - 1; i++)
        n += (size_t)snprintf(keys + n, sizeof(keys) - n, "%s%s", i ? ", " : "",
                              cli_text(cfg->experiments[i].key));
    if (n >= sizeof(keys) - 1)
        snprintf(keys + sizeof(keys) - 5, 5, "...");
    return cli_usage_error("no experiment '%s' in aipm.yaml; its experiments: "
                           "%s (see `aipm experiment list`)",
                           cli_text(key), keys);
}

static int analyze(workspace *ws, int argc, char **argv)
{
    aipm_analysis_opts o;
    aipm_error err = {0, ""};
    const char *key = NULL;
    char *out = NULL;
    int i, rc;

    aipm_analysis_opts_init(&o);
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--engine") == 0 && v) {
            if (strcmp(v, "frequentist") == 0)
                o.engine = AIPM_ENGINE_FREQUENTIST;
            else if (strcmp(v, "bayesian") == 0)
                o.engine = AIPM_ENGINE_BAYESIAN;
            else if (strcmp(v, "sequential") == 0)
                o.engine = AIPM_ENGINE_SEQUENTIAL;
            else
                return cli_usage_error("--engine is frequentist, bayesian "
                                       "or sequential");
            i++;
        } else if (strcmp(a, "--by") == 0 && v) {
            o.by = v;
            i++;
        } else if (strcmp(a, "--cuped") == 0) {
            o.cuped = 1;
        } else if (strcmp(a, "--bh") == 0) {
            o.benjamini_hochberg = 1;
        } else if (strcmp(a, "--no-record") == 0) {
            o.record = 0;
        } else if ((strcmp(a, "--alpha") == 0 || strcmp(a, "--n-star") == 0 ||
                    strcmp(a, "--pre-days") == 0) &&
                   v) {
            char *end;
            double x = strtod(v, &end);

            if (end == v || *end || !(x > 0))
                return cli_usage_error("%s needs a positive number", a);
            if (a[2] == 'a') {
                if (x >= 0.5)
                    return cli_usage_error("--alpha must be below 0.5");
                o.alpha = x;
            } else if (a[2] == 'n') {
                o.n_star = x;
            } else {
                o.pre_days = (int)x;
            }
            i++;
        } else if (a[0] == '-') {
            return cli_bad_option(
                "experiment analyze", a, v == NULL,
                (const char *const[]){"--engine", "--alpha", "--n-star",
                                      "--pre-days", "--by", NULL},
                (const char *const[]){"--cuped", "--bh", "--no-record", NULL});
        } else if (key == NULL) {
            key = a;
        } else {
            return cli_usage_error("unexpected argument '%s'", a);
        }
    }
    if (key == NULL)
        return cli_usage_error("usage: aipm experiment analyze KEY");
    if (aipm_config_experiment(ws->config, key) == NULL)
        return no_experiment(ws->config, key);
    o.checkpoint = ws->checkpoint;
    rc = aipm_experiment_analyze(&out, ws->store, ws->config, key, &o, &err);
    if (rc && out == NULL)
        return cli_fail(&err);
    /* Even when the decision record could not be written, the analysis is
     * shown (with record_error in --json), then the error, exit non-zero. */
    if (g_cli.json)
        printf("%s\n", out);
    else
        print_human(out);
    free(out);
    if (rc) {
        aipm_error why = err;

        fflush(stdout);
        snprintf(why.msg, sizeof(why.msg),
                 "the analysis above is NOT recorded as a decision: %.300s; "
                 "run it again once the store can be written (--no-record "
                 "skips the record)",
                 err.msg);
        return cli_fail(&why);
    }
    return EXIT_OK;
}

static int power(workspace *ws, int argc, char **argv)
{
    const char *metric = NULL;
    double mde = 0, alpha = 0.05, pw = 0.8, days = 14;
    aipm_error err = {0, ""};
    aipm_moments mo;
    const aipm_metric *m;
    int64_t now = aipm_now_ms();
    double mean, var, n;
    int i;

    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        double x;

        if (strcmp(a, "--metric") == 0 && v) {
            metric = v;
            i++;
            continue;
        }
        if (v == NULL || (strcmp(a, "--mde") != 0 && strcmp(a, "--alpha") &&
                          strcmp(a, "--power") && strcmp(a, "--days")))
            return cli_bad_arg("experiment power", a, v == NULL,
                               (const char *const[]){"--metric", "--mde",
                                                     "--alpha", "--power",
                                                     "--days", NULL});
        x = strtod(v, &end);
        if (end == v || *end || !(x > 0))
            return cli_usage_error("%s needs a positive number", a);
        if (strcmp(a, "--mde") == 0)
            mde = x;
        else if (strcmp(a, "--alpha") == 0)
            alpha = x;
        else if (strcmp(a, "--power") == 0)
            pw = x;
        else
            days = x;
        i++;
    }
    if (metric == NULL || mde <= 0)
        return cli_usage_error("usage: aipm experiment power --metric M --mde "
                               "X (a relative effect, e.g. 0.05)");
    if (alpha >= 0.5 || pw >= 1 || pw <= 0.5)
        return cli_usage_error("--alpha below 0.5, --power in (0.5, 1)");
    if ((m = aipm_config_metric(ws->config, metric)) == NULL)
        return cli_usage_error("no metric '%s' in aipm.yaml", metric);
    if (aipm_metrics_population(&mo, ws->store, ws->config, m,
                                now - (int64_t)(days * 86400000.0), now,
                                &err) != AIPM_OK)
        return cli_fail(&err);
    mean = aipm_moments_mean(&mo);
    var = aipm_moments_var(&mo, aipm_metric_is_proportion(m));
    if (mo.n < 2 || mean == 0)
        return cli_usage_error("metric %s has no data among users active in "
                               "the last %g days",
                               metric, days);
    n = aipm_stats_sample_size(mean, var, mde, alpha, pw);
    if (g_cli.json) {
        json_t *o =
            json_pack("{s:s, s:f, s:f, s:f, s:f, s:I, s:f, s:f, "
                      "s:f}",
                      "metric", metric, "mde", mde, "alpha", alpha, "power", pw,
                      "days", days, "active_units", (json_int_t)mo.n, "mean",
                      mean, "stddev", sqrt(var), "units_per_variation", n);

        cli_print_json(o);
        json_decref(o);
    } else {
        printf("metric %s over users active in the last %g days: %lld "
               "users, mean %.4g, sd %.4g\n"
               "to detect a %+.1f%% change (two-sided alpha %.3g, power "
               "%.0f%%): %.0f units per variation\n",
               cli_text(metric), days, (long long)mo.n, mean, sqrt(var),
               100 * mde, alpha, 100 * pw, n);
    }
    return EXIT_OK;
}

int cmd_experiment(int argc, char **argv)
{
    workspace ws;
    const char *sub = argc > 1 ? argv[1] : NULL;
    int rc;

    if (g_cli.help || sub == NULL) {
        if (g_cli.help)
            help();
        else
            fprintf(stderr, "usage: aipm experiment list|analyze KEY; see "
                            "`aipm experiment -h`\n");
        return g_cli.help ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(sub, "list") != 0 && strcmp(sub, "analyze") != 0 &&
        strcmp(sub, "power") != 0)
        return cli_bad_subcommand(
            "experiment", sub,
            (const char *const[]){"list", "analyze", "power", NULL});
    if ((rc = strcmp(sub, "analyze") != 0 ||
                      cli_has_arg(argc, argv, "--no-record")
                  ? ws_open_ro(&ws)
                  : ws_open(&ws)) != 0)
        return rc;
    rc = strcmp(sub, "list") == 0    ? list(&ws)
         : strcmp(sub, "power") == 0 ? power(&ws, argc, argv)
                                     : analyze(&ws, argc, argv);
    ws_close(&ws);
    return rc;
}
