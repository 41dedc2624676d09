/* cmd_plan.c - `aipm plan`: search for the best plan and write it as a
 * scenario file (sim_run.h). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void help(void)
{
    fputs(
        "usage: aipm plan --objective KPI --capacity WEEKS [--horizon DAYS]\n"
        "                 [--periods N] [--risk-aversion L] [--tail A]\n"
        "                 [--draws N] [--seed S] [--threads T]\n"
        "                 [--model-version N] [--out FILE] [--force] [--json]\n"
        "\n"
        "Searches for the plan with the best risk-adjusted objective\n"
        "(mean - L (mean - CVaR)) within the capacity, explains what it\n"
        "tried, and writes the plan as a scenario file to edit and run with\n"
        "`aipm simulate FILE` (docs/scenarios.md).\n"
        "\n"
        "  --objective value  which backlog items to build, and in what\n"
        "                     order: the start is the knapsack of each open\n"
        "                     item's risk-adjusted value alone within the\n"
        "                     capacity, by value per week; local search then\n"
        "                     moves an item earlier, drops one, adds one or\n"
        "                     swaps one in, simulating each round's plans\n"
        "                     together on common random numbers\n"
        "  --objective KPI    which variations of the experiments measuring\n"
        "                     the KPI's metric to ship (a KPI of aipm.yaml)\n"
        "\n"
        "The winner is checked against the start and the status quo on\n"
        "fresh draws (another seed).\n"
        "\n"
        "  --capacity WEEKS   person-weeks available over the horizon (> 0)\n"
        "  --horizon DAYS     the horizon (default 90)\n"
        "  --periods N        capacity periods in the horizon (default 1)\n"
        "  --risk-aversion L  in [0, 1] (default 0.5)\n"
        "  --tail A           the CVaR level in (0, 1] (default 0.05)\n"
        "  --draws N          each round's draws (default 4000); the final\n"
        "                     check takes 5 times as many (at least 20000)\n"
        "  --seed S           the seed (default 1)\n"
        "  --threads T        threads (default: the online CPUs)\n"
        "  --model-version N  the value model's registered version\n"
        "  --out FILE         the scenario file (default plan.yaml); an\n"
        "                     existing file is kept unless --force\n",
        stdout);
}

static int parse_real(const char *s, double *out)
{
    char *end;

    *out = strtod(s, &end);
    return *s == '\0' || *end != '\0' || !isfinite(*out);
}

static void print_human(const json_t *d)
{
    const json_t *p = json_object_get(d, "plan"), *x, *r;
    size_t i;

    printf("plan for %s over %lld days within %g person-weeks; %lld "
           "candidates\n\n",
           cli_text(json_string_value(
               json_object_get(json_object_get(d, "objective"), "kpi"))),
           (long long)json_integer_value(json_object_get(
               json_object_get(d, "objective"), "horizon_days")),
           json_number_value(json_object_get(d, "capacity_weeks")),
           (long long)json_integer_value(json_object_get(d, "candidates")));
    json_array_foreach(json_object_get(d, "rounds"), i, r)
    {
        const char *mv = json_string_value(json_object_get(r, "move"));

        printf("  round %2lld: %4lld plans tried; %s\n",
               (long long)json_integer_value(json_object_get(r, "round")),
               (long long)json_integer_value(json_object_get(r, "plans_tried")),
               mv ? cli_text(mv) : "no move improves the plan");
    }
    printf("\nthe plan:");
    json_array_foreach(json_object_get(p, "plan"), i, x)
    {
        if (json_is_string(x))
            printf("%s %s", i ? "," : "", cli_text(json_string_value(x)));
        else
            printf(
                "%s ship %s of %s", i ? "," : "",
                cli_text(json_string_value(json_object_get(x, "ship"))),
                cli_text(json_string_value(json_object_get(x, "experiment"))));
    }
    if (json_array_size(json_object_get(p, "plan")) == 0)
        printf(" nothing (the status quo is best)");
    printf("\n");
    json_array_foreach(json_object_get(d, "reasons"), i, x)
        printf("  - %s\n", cli_text(json_string_value(x)));
    json_array_foreach(json_object_get(d, "notes"), i, x)
        printf("  note: %s\n", cli_text(json_string_value(x)));
    if (json_is_string(json_object_get(d, "file")))
        printf("\nwritten to %s: edit it, then `aipm simulate %s`\n",
               cli_text(json_string_value(json_object_get(d, "file"))),
               cli_text(json_string_value(json_object_get(d, "file"))));
}

int cmd_plan(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    aipm_plan_opts o;
    json_t *doc = NULL;
    struct stat sb;
    int64_t v;
    int i, k, rc, force = 0, draws_set = 0;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    aipm_plan_opts_init(&o);
    o.out_path = "plan.yaml";
    o.threads = cli_sim_threads();
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--objective") == 0 && i + 1 < argc)
            o.objective = argv[++i];
        else if (strcmp(a, "--capacity") == 0 && i + 1 < argc) {
            if (parse_real(argv[++i], &o.capacity_weeks) ||
                !(o.capacity_weeks > 0) || o.capacity_weeks > 100000)
                return cli_usage_error("--capacity needs person-weeks in (0, "
                                       "100000]");
        } else if (strcmp(a, "--horizon") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &v) != 0 || v < 1 || v > 36500)
                return cli_usage_error("--horizon needs days in [1, 36500]");
            o.horizon_days = (int)v;
        } else if (strcmp(a, "--periods") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &v) != 0 || v < 1 || v > 36500)
                return cli_usage_error("--periods needs a whole number >= 1");
            o.periods = (int)v;
        } else if (strcmp(a, "--risk-aversion") == 0 && i + 1 < argc) {
            if (parse_real(argv[++i], &o.risk_aversion) ||
                o.risk_aversion < 0 || o.risk_aversion > 1)
                return cli_usage_error("--risk-aversion needs a number in "
                                       "[0, 1]");
        } else if (strcmp(a, "--tail") == 0 && i + 1 < argc) {
            if (parse_real(argv[++i], &o.tail) || !(o.tail > 0) || o.tail > 1)
                return cli_usage_error("--tail needs a number in (0, 1]");
        } else if (strcmp(a, "--draws") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &v) != 0 || v < 100 || v > 1000000)
                return cli_usage_error("--draws needs a number in [100, "
                                       "1000000]");
            o.draws = (size_t)v;
            draws_set = 1;
        } else if ((k = cli_sim_option(argc, argv, &i, &o.seed, &o.threads,
                                       &o.value_version)) != 0) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc)
            o.out_path = argv[++i];
        else if (strcmp(a, "--force") == 0)
            force = 1;
        else
            return cli_bad_option(
                "plan", a, i + 1 == argc,
                (const char *const[]){"--objective", "--capacity", "--horizon",
                                      "--periods", "--risk-aversion", "--tail",
                                      "--draws", "--seed", "--threads",
                                      "--model-version", "--out", NULL},
                (const char *const[]){"--force", NULL});
    }
    if (o.objective == NULL || !(o.capacity_weeks > 0))
        return cli_usage_error("plan needs --objective KPI and --capacity "
                               "WEEKS (aipm plan --help)");
    if (o.periods > o.horizon_days)
        return cli_usage_error("--periods may not exceed the horizon's days");
    if (draws_set)
        o.final_draws = 5 * o.draws > AIPM_SIMULATE_DEFAULT_DRAWS
                            ? 5 * o.draws
                            : AIPM_SIMULATE_DEFAULT_DRAWS;
    if (!force && stat(o.out_path, &sb) == 0)
        return cli_usage_error("%s exists: --out names another file, or "
                               "--force replaces it",
                               o.out_path);
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    o.now_ms = aipm_now_ms();
    rc = aipm_plan(&doc, ws.store, ws.config, &o, &err);
    if (rc == AIPM_OK) {
        if (g_cli.json)
            cli_print_json(doc);
        else
            print_human(doc);
    } else
        rc = cli_fail(&err);
    json_decref(doc);
    ws_close(&ws);
    return rc;
}
