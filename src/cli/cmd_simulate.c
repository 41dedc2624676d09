/* cmd_simulate.c - `aipm simulate FILE`: compare a scenario file's
 * scenarios over the models' uncertainty (sim_run.h). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    fputs(
        "usage: aipm simulate FILE [--draws N] [--seed S] [--threads T]\n"
        "                          [--model-version N] [--no-record] [--json]\n"
        "\n"
        "Compares the scenarios of the scenario file FILE (docs/scenarios.md)\n"
        "by Monte Carlo over the models' own uncertainty, with common random\n"
        "numbers: what two scenarios share is drawn once, so their\n"
        "difference is measured without the noise of what they share.\n"
        "\n"
        "  objective value   the built items' value (distinct daily users per\n"
        "                    10,000 daily actives) from the prioritization\n"
        "                    model's posterior, each item live from its ship\n"
        "                    day at the capacity's pace, averaged over the\n"
        "                    horizon\n"
        "  objective a KPI   the KPI's level and trend fitted on its last 12\n"
        "                    whole weeks, times (1 + lift) for each shipped\n"
        "                    experiment variation measuring its metric (the\n"
        "                    lift's Bayesian posterior), averaged over the\n"
        "                    horizon\n"
        "  adopters:FEATURE  the feature's adopters at the horizon's end from\n"
        "                    the adoption forecast per segment; a rollout\n"
        "                    launches a feature nobody uses yet to its\n"
        "                    segments from its start (plus half its ramp)\n"
        "\n"
        "Per scenario: mean, P10/P50/P90, the mean of the worst `tail` of\n"
        "draws (CVaR), the probability of ending below the baseline, the\n"
        "risk-adjusted objective mean - L (mean - CVaR), and the KPI path\n"
        "with its 80% band; P(A beats B) for every pair; the inputs that\n"
        "drive the recommended scenario's variance (first-order shares);\n"
        "and the recommendation with its reasons, stored as a decision\n"
        "record (--no-record: not) that `aipm decisions replay` re-runs.\n"
        "PM assumptions (assume:) are listed with their scenario.\n"
        "\n"
        "  --draws N          draws (default 20000; at most 100000000)\n"
        "  --seed S           the seed (default 1); the same seed gives the\n"
        "                     same result for any --threads\n"
        "  --threads T        threads (default: the online CPUs, at most 256)\n"
        "  --model-version N  the value model's registered version (default:\n"
        "                     production, else trained in the run)\n",
        stdout);
}

static void print_human(const json_t *d, int threads)
{
    const json_t *o = json_object_get(d, "objective"), *sc, *rec, *w, *in;
    size_t i, j;
    const char *kpi = json_string_value(json_object_get(o, "kpi"));

    printf("objective: %s over %lld days (%s is better); %lld draws, seed "
           "%lld, %d thread%s\n",
           cli_text(kpi),
           (long long)json_integer_value(json_object_get(o, "horizon_days")),
           json_string_value(json_object_get(o, "better")),
           (long long)json_integer_value(json_object_get(d, "draws")),
           (long long)json_integer_value(json_object_get(d, "seed")), threads,
           threads == 1 ? "" : "s");
    printf("baseline %s, risk aversion %g, CVaR of the worst %g%%\n\n",
           cli_text(json_string_value(json_object_get(d, "baseline"))),
           json_number_value(json_object_get(d, "risk_aversion")),
           100 * json_number_value(json_object_get(d, "tail")));
    printf("%-20s %10s %10s %10s %10s %10s %10s %7s\n", "scenario", "mean",
           "P10", "P50", "P90", "CVaR", "risk-adj", "P(loss)");
    json_array_foreach(json_object_get(d, "scenarios"), i, sc)
    {
        printf("%-20.20s %10.4g %10.4g %10.4g %10.4g %10.4g %10.4g %6.1f%%%s\n",
               cli_text(json_string_value(json_object_get(sc, "name"))),
               json_number_value(json_object_get(sc, "mean")),
               json_number_value(json_object_get(sc, "p10")),
               json_number_value(json_object_get(sc, "p50")),
               json_number_value(json_object_get(sc, "p90")),
               json_number_value(json_object_get(sc, "cvar")),
               json_number_value(json_object_get(sc, "risk_adjusted")),
               100 * json_number_value(json_object_get(sc, "p_loss")),
               json_is_true(json_object_get(sc, "feasible"))
                   ? ""
                   : "  over capacity");
        json_array_foreach(json_object_get(sc, "assumptions"), j, w)
            printf("    assumption: %s\n", cli_text(json_string_value(w)));
    }
    rec = json_object_get(d, "recommendation");
    printf("\nrecommended: %s\n",
           cli_text(json_string_value(json_object_get(rec, "scenario"))));
    json_array_foreach(json_object_get(rec, "reasons"), i, w)
        printf("  - %s\n", cli_text(json_string_value(w)));
    printf("\nwhat drives its uncertainty (share of variance; objective "
           "when the input is low .. high):\n");
    json_array_foreach(
        json_object_get(json_object_get(d, "sensitivity"), "inputs"), i, in)
    {
        if (i >= 8)
            break;
        printf("  %5.1f%%  %-60.60s %.4g .. %.4g\n",
               100 * json_number_value(json_object_get(in, "share")),
               cli_text(json_string_value(json_object_get(in, "input"))),
               json_number_value(json_object_get(in, "low")),
               json_number_value(json_object_get(in, "high")));
    }
    fflush(stdout);
    json_array_foreach(json_object_get(d, "warnings"), i, w)
        fprintf(stderr, "aipm: warning: %s\n", cli_text(json_string_value(w)));
    if (json_object_get(d, "decision_id"))
        printf("\ndecision record %s (aipm decisions show it; --json for the "
               "paths and P(A beats B))\n",
               json_string_value(json_object_get(d, "decision_id")));
}

int cmd_simulate(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    aipm_simulate_opts o;
    aipm_scenario_file *f = NULL;
    const char *path = NULL, *base;
    json_t *doc = NULL;
    int64_t v;
    int i, k, rc;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    aipm_simulate_opts_init(&o);
    o.record = 1;
    o.threads = cli_sim_threads();
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--draws") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &v) != 0 || v < 100 ||
                v > AIPM_SIMULATE_MAX_DRAWS)
                return cli_usage_error("--draws needs a number in [100, "
                                       "100000000]");
            o.draws = (size_t)v;
        } else if ((k = cli_sim_option(argc, argv, &i, &o.seed, &o.threads,
                                       &o.value_version)) != 0) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (strcmp(a, "--no-record") == 0)
            o.record = 0;
        else if (a[0] == '-' || path != NULL)
            return cli_bad_option(
                "simulate", a, i + 1 == argc,
                (const char *const[]){"--draws", "--seed", "--threads",
                                      "--model-version", NULL},
                (const char *const[]){"--no-record", NULL});
        else
            path = a;
    }
    if (path == NULL)
        return cli_usage_error("simulate needs a scenario file "
                               "(docs/scenarios.md; aipm simulate --help)");
    if ((rc = aipm_scenario_file_load(&f, path, &err)) != AIPM_OK)
        return cli_fail(&err);
    if ((rc = ws_open(&ws)) != 0) {
        aipm_scenario_file_free(f);
        return rc;
    }
    base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    o.subject = base;
    o.now_ms = aipm_now_ms();
    o.checkpoint = ws.checkpoint;
    rc = aipm_simulate(&doc, ws.store, ws.config, f, &o, &err);
    if (rc == AIPM_OK) {
        if (g_cli.json)
            cli_print_json(doc);
        else
            print_human(doc, o.threads);
    } else
        rc = cli_fail(&err);
    json_decref(doc);
    aipm_scenario_file_free(f);
    ws_close(&ws);
    return rc;
}
