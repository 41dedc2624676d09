/* cmd_decisions.c - `aipm decisions list|show|approve|reject|override`:
 * the decision records that analyses (experiment analyze, prioritize,
 * forecast) write, and people's signed acts on them. */
#include "aipm/decision.h"
#include "aipm/govern.h"
#include "views.h"

#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: aipm decisions list [--kind K] [--status S]\n"
        "       aipm decisions show ID\n"
        "       aipm decisions replay ID\n"
        "       aipm decisions approve|reject ID --as USER --reason TEXT\n"
        "       aipm decisions override ID --as USER --reason TEXT "
        "--value JSON\n"
        "\n"
        "Every recommendation an analysis makes is a decision record:\n"
        "what was decided, about what, from which dataset batches, with\n"
        "which parameters, its full output and the SHA-256 of that\n"
        "output, each with an audit entry (`aipm audit log`).\n"
        "\n"
        "  list   the records, oldest first; --kind keeps one kind\n"
        "         (experiment, prioritize, forecast), --status one status\n"
        "         (proposed, approved, rejected, overridden)\n"
        "  show   one record in full (an id or a unique prefix of one);\n"
        "         its stored output is hashed again and compared with the\n"
        "         recorded digest: a difference (the output was edited in\n"
        "         the store) exits with 3; then who approved, rejected or\n"
        "         overrode it, when and why\n"
        "  replay runs the record's analysis again with its parameters,\n"
        "         as of its time, on exactly the batches it read\n"
        "         (reverted ones as they were; nothing is written) and\n"
        "         compares the output's digest: exit 3, with the first\n"
        "         difference, when it is not reproduced. Notes say when\n"
        "         an input batch's rows, the code or the policies changed\n"
        "         (every kind; a Bass fit of a series file over 1 MB\n"
        "         keeps only the file's digest, so it cannot be replayed)\n"
        "  approve, reject, override\n"
        "         a person's act on a proposed record, signed with their\n"
        "         key (`aipm keys generate --as USER`) and logged; it needs\n"
        "         the approver or admin role (else exit 3). An override\n"
        "         replaces the recommendation with --value (any JSON); the\n"
        "         original output stays on record\n"
        "\n"
        "--json: list gives {\"decisions\": [{\"id\", \"time\", \"kind\",\n"
        "\"subject\", \"decision\", \"status\", \"output_sha256\"}]}; show\n"
        "gives the record with \"inputs\", \"params\", \"output\" and\n"
        "\"output_check\" (\"ok\", \"differs\" or \"not stored\") and "
        "\"acts\"\n"
        "[{\"seq\", \"action\", \"user\", \"time\", \"reason\", \"value\"}];\n"
        "approve, reject and override give {\"id\", \"action\", "
        "\"status\"}.\n");
}

static int list_one(void *ctx, const aipm_decision_row *r)
{
    int *n = ctx;
    char when[32];

    if (++*n == 1)
        printf("%-36s  %-24s  %-10s  %-10s  %s\n", "id", "time", "kind",
               "status", "subject: decision");
    aipm_time_format(when, r->time_ms);
    printf("%-36s  %-24s  %-10s  %-10s  %s: %s\n", cli_text(r->id), when,
           cli_text(r->kind), cli_text(r->status ? r->status : "proposed"),
           cli_text(r->subject), cli_text(r->decision));
    return 0;
}

static int list(int argc, char **argv)
{
    static const char *const value_opts[] = {"--kind", "--status", NULL};
    aipm_decision_filter f = {NULL, NULL, NULL, 0};
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    workspace ws;
    int i, rc, n = 0;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
            f.kind = argv[++i];
        else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
            f.status = argv[++i];
        else
            return cli_bad_option("decisions list", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json)
        rc = view_decisions(ws.store, f.kind, f.status, &doc, &err);
    else
        rc = aipm_store_decision_list(ws.store, &f, list_one, &n, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (doc) {
        cli_print_json(doc);
        json_decref(doc);
    } else if (n == 0)
        printf("no decision records%s (analyses write one: experiment "
               "analyze, prioritize, forecast)\n",
               f.kind || f.status ? " match" : " yet");
    return EXIT_OK;
}

static void show_human(const json_t *d)
{
    json_t *out = json_object_get(d, "output");
    char *in = json_dumps(json_object_get(d, "inputs"), JSON_COMPACT);
    char *pa = json_dumps(json_object_get(d, "params"), JSON_COMPACT);
    const char *check = json_string_value(json_object_get(d, "output_check"));

    printf("decision %s\n",
           cli_text(json_string_value(json_object_get(d, "id"))));
    printf("  time      %s\n", json_string_value(json_object_get(d, "time")));
    printf("  kind      %s\n",
           cli_text(json_string_value(json_object_get(d, "kind"))));
    printf("  subject   %s\n",
           cli_text(json_string_value(json_object_get(d, "subject"))));
    printf("  decision  %s\n",
           cli_text(json_string_value(json_object_get(d, "decision"))));
    printf("  status    %s\n",
           cli_text(json_string_value(json_object_get(d, "status"))));
    {
        json_t *c = json_object_get(d, "confidence");
        const char *m = json_string_value(json_object_get(d, "model"));
        const char *why = json_string_value(json_object_get(d, "rationale"));
        const char *code =
            json_string_value(json_object_get(d, "code_version"));
        const char *pol =
            json_string_value(json_object_get(d, "policy_sha256"));

        if (why)
            printf("  why       %s\n", cli_text(why));
        if (json_is_number(c))
            printf("  confidence %.3f\n", json_number_value(c));
        if (m)
            printf("  model     %s\n", cli_text(m));
        if (code)
            printf("  code      %s\n", cli_text(code));
        if (pol)
            printf("  policy    sha256 %s\n", cli_text(pol));
    }
    printf("  inputs    %s\n", cli_text(in ? in : "null"));
    printf("  params    %s\n", cli_text(pa ? pa : "null"));
    printf("  output    sha256 %s: %s\n",
           json_string_value(json_object_get(d, "output_sha256")),
           strcmp(check, "ok") == 0 ? "matches the stored output"
           : strcmp(check, "differs") == 0
               ? "DIFFERS from the stored output (edited in the store)"
               : "the output is not stored (a record made before "
                 "2026-12-05)");
    if (json_is_object(out))
        printf("            %zu fields (`--json` shows them)\n",
               json_object_size(out));
    free(in);
    free(pa);
}

/* Resolve an id or a unique prefix of one into id_out; an exit code. */
static int resolve(workspace *ws, const char *prefix, char id_out[37])
{
    aipm_error err = {0, ""};

    if (view_decision_id(ws->store, prefix, id_out, &err) != AIPM_OK)
        return cli_fail(&err);
    return EXIT_OK;
}

static void show_acts(const json_t *d)
{
    json_t *acts = json_object_get(d, "acts"), *a;
    size_t i;

    if (json_array_size(acts) == 0) {
        printf("  acts      none yet (approve, reject or override it)\n");
        return;
    }
    json_array_foreach(acts, i, a)
    {
        char *v = json_dumps(json_object_get(a, "value"),
                             JSON_COMPACT | JSON_ENCODE_ANY);

        printf("  %-9s %s %s by %s: %s", i == 0 ? "acts" : "",
               json_string_value(json_object_get(a, "time")),
               json_string_value(json_object_get(a, "action")),
               cli_text(json_string_value(json_object_get(a, "user"))),
               cli_text(json_string_value(json_object_get(a, "reason"))));
        if (v && strcmp(v, "null") != 0)
            printf(" (value %s)", cli_text(v));
        printf("\n");
        free(v);
    }
}

static int show(int argc, char **argv)
{
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    workspace ws;
    int rc;

    if (argc != 3 || argv[2][0] == '-')
        return argc > 3 || (argc == 3 && argv[2][0] == '-')
                   ? cli_bad_option("decisions show", argv[argc - 1], 1, NULL,
                                    NULL)
                   : cli_usage_error("usage: aipm decisions show ID");
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    rc = view_decision(ws.store, argv[2], &doc, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json)
        cli_print_json(doc);
    else {
        show_human(doc);
        show_acts(doc);
    }
    if (strcmp(json_string_value(json_object_get(doc, "output_check")),
               "differs") == 0) {
        fprintf(stderr,
                "aipm: decision %s: its stored output does not hash to its "
                "recorded digest\n",
                json_string_value(json_object_get(doc, "id")));
        json_decref(doc);
        return EXIT_BLOCKED;
    }
    json_decref(doc);
    return EXIT_OK;
}

/* `decisions approve|reject|override ID --as USER --reason TEXT [--value
 * JSON]`. */
static int act(int argc, char **argv)
{
    static const char *const value_opts[] = {"--as", "--reason", "--value",
                                             NULL};
    const char *action = argv[1], *user = NULL, *reason = NULL, *prefix = NULL;
    const char *value_s = NULL;
    aipm_error err = {0, ""};
    char id[37];
    aipm_act_result res;
    json_t *value = NULL;
    workspace ws;
    int i, rc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            user = argv[++i];
        else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (strcmp(argv[i], "--value") == 0 && i + 1 < argc &&
                 strcmp(action, "override") == 0)
            value_s = argv[++i];
        else if (argv[i][0] != '-' && prefix == NULL)
            prefix = argv[i];
        else
            return cli_bad_option(action, argv[i], i + 1 == argc, value_opts,
                                  NULL);
    }
    if (prefix == NULL || user == NULL || reason == NULL ||
        (strcmp(action, "override") == 0 && value_s == NULL))
        return cli_usage_error(
            "usage: aipm decisions %s ID --as USER --reason TEXT%s", action,
            strcmp(action, "override") == 0 ? " --value JSON" : "");
    if (value_s) {
        json_error_t jerr;

        value = json_loads(value_s, JSON_DECODE_ANY, &jerr);
        if (value == NULL)
            return cli_usage_error("--value is not JSON: %s (column %d)",
                                   jerr.text, jerr.column);
    }
    if ((rc = ws_open(&ws)) != 0) {
        json_decref(value);
        return rc;
    }
    if ((rc = resolve(&ws, prefix, id)) == EXIT_OK) {
        aipm_act a = {id, action, user, reason, value, ws.config};

        rc = aipm_decision_act(ws.store, &a, aipm_now_ms(), ws.checkpoint, &res,
                               &err);
        rc = rc == AIPM_OK ? EXIT_OK : cli_fail(&err);
    }
    ws_close(&ws);
    json_decref(value);
    if (rc != EXIT_OK)
        return rc;
    if (g_cli.json) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "action",
                                action, "status", res.status, "rule", res.rule);

        if (doc && strcmp(action, "approve") == 0) {
            json_object_set_new(doc, "approvals", json_integer(res.approvals));
            json_object_set_new(doc, "approvals_needed",
                                json_integer(res.needed));
        }
        cli_print_json(doc);
        json_decref(doc);
    } else if (strcmp(res.status, "proposed") == 0)
        printf("decision %s: approval %d of %d by %s (signed, logged); "
               "policy %s needs %d more\n",
               id, res.approvals, res.needed, cli_text(user), res.rule,
               res.needed - res.approvals);
    else
        printf("decision %s: %s by %s (signed, logged)\n", id, res.status,
               cli_text(user));
    return EXIT_OK;
}

/* ---- replay ---- */

static double num_param(const json_t *p, const char *k, double dflt)
{
    json_t *v = json_object_get(p, k);

    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* The record's analysis again: its parameters, as of its time, recording
 * nothing (aipm_replay_fn). */
static int run_again(void *ctx, const aipm_decision_row *r, json_t **doc,
                     aipm_error *err)
{
    workspace *ws = ctx;
    json_error_t jerr;
    json_t *p = r->params ? json_loads(r->params, 0, &jerr) : json_object();
    char *text = NULL;
    int rc;

    if (p == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "decision %s: its parameters are not JSON",
                              r->id);
    if (strcmp(r->kind, "experiment") == 0) {
        aipm_analysis_opts o;
        const char *engine = json_string_value(json_object_get(p, "engine"));

        aipm_analysis_opts_init(&o);
        o.engine = engine && strcmp(engine, "bayesian") == 0
                       ? AIPM_ENGINE_BAYESIAN
                   : engine && strcmp(engine, "sequential") == 0
                       ? AIPM_ENGINE_SEQUENTIAL
                       : AIPM_ENGINE_FREQUENTIST;
        o.cuped = json_is_true(json_object_get(p, "cuped"));
        o.pre_days = (int)num_param(p, "pre_days", o.pre_days);
        o.alpha = num_param(p, "alpha", o.alpha);
        o.n_star = num_param(p, "n_star", o.n_star);
        o.benjamini_hochberg =
            json_string_value(json_object_get(p, "correction")) &&
            strcmp(json_string_value(json_object_get(p, "correction")), "bh") ==
                0;
        o.by = json_string_value(json_object_get(p, "by"));
        o.now_ms = r->time_ms;
        o.record = 0;
        rc = aipm_experiment_analyze(&text, ws->store, ws->config, r->subject,
                                     &o, err);
    } else if (strcmp(r->kind, "prioritize") == 0) {
        aipm_pz_opts o;

        aipm_pz_opts_init(&o);
        o.capacity_weeks = num_param(p, "capacity_weeks", 0);
        o.risk_aversion = num_param(p, "risk_aversion", o.risk_aversion);
        o.draws = (int)num_param(p, "draws", o.draws);
        o.seed = (uint64_t)num_param(p, "seed", 1);
        o.link_threshold = num_param(p, "link_threshold", 0);
        o.backtest = json_is_true(json_object_get(p, "backtest"));
        o.cutoff_ms = (int64_t)num_param(p, "cutoff_ms", 0);
        /* the registered version it ranked with; null or absent: trained
         * in the run, so trained again rather than taken from production */
        o.model_version = (int64_t)num_param(p, "model_version", -1);
        o.now_ms = r->time_ms;
        o.record = 0;
        rc = aipm_prioritize(&text, ws->store, ws->config, &o, err);
    } else if (strcmp(r->kind, "simulate") == 0) {
        aipm_simulate_opts o;
        aipm_scenario_file *f = NULL;

        aipm_simulate_opts_init(&o);
        rc = aipm_simulate_from_params(&f, &o, p, err);
        o.now_ms = r->time_ms;
        o.subject = r->subject;
        o.threads = cli_sim_threads(); /* the result does not depend on it */
        if (rc == AIPM_OK)
            rc = aipm_simulate(doc, ws->store, ws->config, f, &o, err);
        aipm_scenario_file_free(f);
        json_decref(p);
        return rc;
    } else if (strcmp(r->kind, "forecast") == 0 &&
               json_is_string(json_object_get(p, "feature"))) {
        /* an adoption forecast (a Bass fit of a series file is not: the
         * record does not hold the file) */
        const char *m = json_string_value(json_object_get(p, "model"));
        /* the registered version it consulted; null or absent: fitted in
         * the run, so fitted again rather than taken from production */
        aipm_adoption_opts o = {
            (int)num_param(p, "horizon", 90),
            m && strcmp(m, "bass") == 0     ? AIPM_ADOPTION_BASS
            : m && strcmp(m, "hazard") == 0 ? AIPM_ADOPTION_HAZARD
                                            : AIPM_ADOPTION_AUTO,
            (int)num_param(p, "draws", 0), (uint64_t)num_param(p, "seed", 1),
            (int64_t)num_param(p, "model_version", -1)};
        aipm_adoption *a = NULL;

        rc = aipm_adoption_open(&a, ws->store, ws->config,
                                json_string_value(json_object_get(p, "by")), 0,
                                NULL, err);
        if (rc == AIPM_OK)
            rc = aipm_adoption_run(
                doc, a, json_string_value(json_object_get(p, "feature")), &o,
                err);
        if (rc == AIPM_OK) /* not recorded: a wall-clock time, the history */
            aipm_adoption_record_form(*doc);
        /* a record from before forecasts named their model version had
         * no "registry" in its output (fitted in the run: null now) */
        if (rc == AIPM_OK && !json_object_get(p, "model_version") &&
            json_is_null(json_object_get(*doc, "registry")))
            json_object_del(*doc, "registry");
        aipm_adoption_free(a);
        json_decref(p);
        return rc;
    } else if (strcmp(r->kind, "forecast") == 0 &&
               json_is_string(json_object_get(p, "series_csv"))) {
        /* a Bass fit of the series the record kept */
        const char *csv = json_string_value(json_object_get(p, "series_csv"));
        const char *form = json_string_value(json_object_get(p, "form"));
        aipm_series s = {0};

        rc = aipm_series_parse(&s, csv, strlen(csv), err);
        if (rc == AIPM_OK)
            rc = cli_bass_doc(&s,
                              form && strcmp(form, "density") == 0
                                  ? AIPM_BASS_DENSITY
                                  : AIPM_BASS_PER_PERIOD,
                              (int64_t)num_param(p, "holdout", 0),
                              (int64_t)num_param(p, "horizon", 8), doc, err);
        aipm_series_free(&s);
        json_decref(p);
        return rc;
    } else
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "this %s record cannot be replayed: it does not "
                            "keep its input series (a file over 1 MB, or a "
                            "record made before 2026-12-06)",
                            r->kind);
    json_decref(p);
    if (rc == AIPM_OK && (*doc = json_loads(text, 0, &jerr)) == NULL)
        rc = aipm_error_set(err, AIPM_ERROR, "the replay's output is not JSON");
    free(text);
    return rc;
}

static int replay(int argc, char **argv)
{
    aipm_error err = {0, ""};
    aipm_replay_result res;
    char id[37];
    workspace ws;
    int rc;

    if (argc != 3 || argv[2][0] == '-')
        return argc > 3 || (argc == 3 && argv[2][0] == '-')
                   ? cli_bad_option("decisions replay", argv[argc - 1], 1, NULL,
                                    NULL)
                   : cli_usage_error("usage: aipm decisions replay ID");
    /* It writes nothing (a transaction rolled back), but it needs the
     * write lock to set the batches as they were. */
    g_cli.no_policy_detect = 1;
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    if ((rc = resolve(&ws, argv[2], id)) == EXIT_OK)
        rc = aipm_decision_replay(ws.store, id, ws.config, run_again, &ws, &res,
                                  NULL, &err) == AIPM_OK
                 ? EXIT_OK
                 : cli_fail(&err);
    ws_close(&ws);
    if (rc != EXIT_OK)
        return rc;
    if (g_cli.json) {
        json_t *doc = json_pack(
            "{s:s, s:b, s:s, s:s, s:s?, s:i, s:s?, s:b, s:b}", "id", id,
            "matches", res.matches, "recorded_sha256", res.recorded,
            "replay_sha256", res.digest, "first_difference",
            res.matches ? NULL : res.first_diff, "inputs_changed",
            res.inputs_changed, "first_changed_input",
            res.inputs_changed ? res.changed : NULL, "code_differs",
            res.code_differs, "policy_differs", res.policy_differs);

        cli_print_json(doc);
        json_decref(doc);
    } else if (res.matches)
        printf("decision %s: replayed; the output matches the record "
               "(sha256 %s)\n",
               id, res.digest);
    else
        printf("decision %s: replayed; the output DIFFERS from the record\n"
               "  recorded sha256 %s\n  replay   sha256 %s\n"
               "  first difference: %s\n",
               id, res.recorded, res.digest, cli_text(res.first_diff));
    if (res.inputs_changed)
        fprintf(stderr,
                "aipm: note: %d input batch%s no longer hash to the digest "
                "the record names (the first: %s): the data was edited\n",
                res.inputs_changed, res.inputs_changed == 1 ? "" : "es",
                res.changed);
    if (res.code_differs)
        fprintf(stderr,
                "aipm: note: this build (%s) is not the record's code "
                "version\n",
                aipm_code_version());
    if (res.policy_differs)
        fprintf(stderr, "aipm: note: the policies in force are not the "
                        "record's policy version\n");
    if (!res.matches) {
        fprintf(stderr,
                "aipm: decision %s: the replay does not reproduce the "
                "recorded output (%s)\n",
                id, cli_text(res.first_diff));
        return EXIT_BLOCKED;
    }
    return EXIT_OK;
}

int cmd_decisions(int argc, char **argv)
{
    if (g_cli.help || argc < 2) {
        help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "list") == 0)
        return list(argc, argv);
    if (strcmp(argv[1], "show") == 0)
        return show(argc, argv);
    if (strcmp(argv[1], "replay") == 0)
        return replay(argc, argv);
    if (strcmp(argv[1], "approve") == 0 || strcmp(argv[1], "reject") == 0 ||
        strcmp(argv[1], "override") == 0)
        return act(argc, argv);
    return cli_bad_subcommand("decisions", argv[1],
                              (const char *const[]){"list", "show", "replay",
                                                    "approve", "reject",
                                                    "override", NULL});
}
