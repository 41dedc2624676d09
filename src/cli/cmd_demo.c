/* cmd_demo.c - `aipm demo` (the main job on a generated product) and
 * `aipm demo generate` (just the data). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER ".aipm-demo"

static void help(void)
{
    printf(
        "usage: aipm demo [DIR] [--users N] [--days D] [--seed S]\n"
        "       aipm demo generate OUTDIR [--users N] [--days D] [--seed S]\n"
        "                 [--end DATE] [--bad-share X] [--dup-share X]\n"
        "\n"
        "`aipm demo` generates a small SaaS product (3000 users, 120 days by\n"
        "default) into DIR/demo-data (default DIR: demo-workspace), makes DIR\n"
        "a workspace with the product's aipm.yaml, ingests every file, and\n"
        "checks what ingest found against what was planted (truth.json).\n"
        "Run again, it replaces its own earlier demo; it refuses any other\n"
        "non-empty folder.\n"
        "\n"
        "`aipm demo generate` only writes the files: events.ndjson.gz,\n"
        "backlog.csv, feedback.csv, signals.csv, graph.csv, aipm.yaml and\n"
        "truth.json (every planted parameter). The same options give\n"
        "byte-identical files. --end is the last day (default today,\n"
        "honouring AIPM_NOW); --bad-share is the share of extra bad event\n"
        "lines of each kind (default 0.002); --dup-share the share of exact\n"
        "re-sends (default 0.005).\n");
}

static int parse_opts(int argc, char **argv, int first, aipm_demo_opts *o,
                      const char **dir)
{
    int i;

    for (i = first; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        int64_t n;

        if (strcmp(a, "--users") == 0 || strcmp(a, "--days") == 0 ||
            strcmp(a, "--seed") == 0) {
            if (v == NULL || cli_parse_i64(v, &n) != 0)
                return cli_usage_error("%s needs a positive number", a);
            if (a[2] == 'u')
                o->users = n;
            else if (a[2] == 'd')
                o->days = (int)(n > 100000 ? 100000 : n);
            else
                o->seed = (uint64_t)n;
            i++;
        } else if (strcmp(a, "--bad-share") == 0 ||
                   strcmp(a, "--dup-share") == 0) {
            double x = v ? strtod(v, &end) : 0;

            if (v == NULL || end == v || *end != '\0')
                return cli_usage_error("%s needs a number", a);
            if (a[2] == 'b')
                o->bad_share = x;
            else
                o->dup_share = x;
            i++;
        } else if (strcmp(a, "--end") == 0) {
            if (v == NULL ||
                aipm_time_parse(&o->end_ms, v, strlen(v), 1) != AIPM_OK)
                return cli_usage_error("--end needs a date (YYYY-MM-DD)");
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_bad_arg(
                "demo", a, v == NULL,
                (const char *const[]){"--users", "--days", "--seed", "--end",
                                      "--bad-share", "--dup-share", NULL});
        } else if (*dir == NULL) {
            *dir = a;
        } else {
            return cli_usage_error("unexpected argument '%s'; see `aipm demo "
                                   "-h`",
                                   a);
        }
    }
    return EXIT_OK;
}

static int generate(const char *outdir, const aipm_demo_opts *o,
                    aipm_demo_stats *stats)
{
    aipm_error err = {0, ""};
    aipm_demo_opts opts = *o;
    int rc;

    opts.progress = cli_progress_count; /* days generated */
    opts.progress_ctx = (void *)"generate (days)";
    rc = aipm_demo_generate(outdir, &opts, stats, &err);
    cli_progress_end();
    return rc ? cli_fail(&err) : EXIT_OK;
}

static int cmd_generate(int argc, char **argv)
{
    aipm_demo_opts o;
    aipm_demo_stats stats;
    const char *dir = NULL;
    int rc;

    aipm_demo_opts_init(&o);
    if ((rc = parse_opts(argc, argv, 2, &o, &dir)) != 0)
        return rc;
    if (dir == NULL)
        return cli_usage_error("usage: aipm demo generate OUTDIR [options]");
    if ((rc = generate(dir, &o, &stats)) != 0)
        return rc;
    if (g_cli.json) {
        json_t *j = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "outdir", dir,
            "events", (json_int_t)stats.events, "bad_lines",
            (json_int_t)stats.bad_lines, "resent", (json_int_t)stats.resent,
            "accounts", (json_int_t)stats.accounts, "items",
            (json_int_t)stats.items, "feedback", (json_int_t)stats.feedback,
            "signals", (json_int_t)stats.signals, "edges",
            (json_int_t)stats.edges);

        cli_print_json(j);
        json_decref(j);
    } else {
        printf("wrote %s: %lld events (+%lld bad lines, %lld re-sends), "
               "%lld accounts, %lld backlog items, %lld feedback rows, "
               "%lld signal rows, %lld invite edges; truth.json has the "
               "planted values\n",
               dir, (long long)stats.events, (long long)stats.bad_lines,
               (long long)stats.resent, (long long)stats.accounts,
               (long long)stats.items, (long long)stats.feedback,
               (long long)stats.signals, (long long)stats.edges);
    }
    return EXIT_OK;
}

/* Make dir ready for a fresh demo: missing, empty, or an earlier demo
 * (which has the marker file), whose own files are removed. */
static int fresh_dir(const char *dir)
{
    static const char *const ours[] = {"aipm.yaml",
                                       "aipm.db",
                                       "aipm.db-wal",
                                       "aipm.db-shm",
                                       "audit-checkpoint",
                                       "audit-checkpoint.lock",
                                       MARKER,
                                       "demo-data/events.ndjson.gz",
                                       "demo-data/backlog.csv",
                                       "demo-data/feedback.csv",
                                       "demo-data/signals.csv",
                                       "demo-data/graph.csv",
                                       "demo-data/aipm.yaml",
                                       "demo-data/truth.json"};
    char path[4200];
    struct stat sb;
    DIR *dh;
    struct dirent *de;
    int empty = 1;
    size_t i;

    if (stat(dir, &sb) != 0)
        return EXIT_OK;
    if (!S_ISDIR(sb.st_mode))
        return cli_usage_error("%s is not a folder", dir);
    snprintf(path, sizeof(path), "%s/%s", dir, MARKER);
    if (stat(path, &sb) != 0) {
        if ((dh = opendir(dir)) == NULL)
            return cli_usage_error("%s: %s", dir, strerror(errno));
        while ((de = readdir(dh)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                empty = 0;
        closedir(dh);
        if (!empty)
            return cli_usage_error("%s is not empty and not an earlier demo; "
                                   "give another folder",
                                   dir);
        return EXIT_OK;
    }
    for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, ours[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/demo-data", dir);
    rmdir(path);
    return EXIT_OK;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    aipm_buf b;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return NULL;
    aipm_buf_init(&b, (size_t)1 << 24);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (aipm_buf_put(&b, chunk, n) != 0)
            break;
    fclose(f);
    if (b.ptr == NULL)
        return strdup("");
    return b.ptr;
}

static long long jint(json_t *o, const char *path)
{
    json_t *v = o;
    char key[64];
    const char *p = path;

    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        v = json_object_get(v, key);
        p = dot ? dot + 1 : p + n;
    }
    return v ? (long long)json_integer_value(v) : 0;
}

/* Planted vs found: one line, and whether they agree. */
static int check(json_t *checks, const char *what, long long planted,
                 long long found)
{
    int ok = planted == found;

    json_array_append_new(checks,
                          json_pack("{s:s, s:I, s:I, s:b}", "check", what,
                                    "planted", (json_int_t)planted, "found",
                                    (json_int_t)found, "ok", ok));
    if (!g_cli.json)
        printf("  %-40s planted %8lld   found %8lld   %s\n", what, planted,
               found, ok ? "ok" : "MISMATCH");
    return ok;
}

/* ---- the backlog: feedback links and the ranking against the truth ---- */

typedef struct link_tally {
    json_t *items_of; /* truth: feedback id -> all its item ids ([]: none) */
    int64_t counted, right, noise, noise_counted;
    int64_t untagged, top1; /* untagged item rows; model_item among items */
    int64_t linked, linked_right;
} link_tally;

/* Is id one of the row's true items? */
static int among(json_t *items, const char *id)
{
    size_t k;
    json_t *v;

    if (id == NULL)
        return 0;
    json_array_foreach(items, k, v)
    {
        const char *s = json_string_value(v);

        if (s && strcmp(s, id) == 0)
            return 1;
    }
    return 0;
}

static int tally_link(void *ctx, const aipm_link *l)
{
    link_tally *t = ctx;
    json_t *want = json_object_get(t->items_of, l->feedback_id);
    int counted = l->status == AIPM_LINK_GIVEN ||
                  l->status == AIPM_LINK_LINKED ||
                  l->status == AIPM_LINK_CORRECTED;

    if (!json_is_array(want))
        return 0;
    if (l->status == AIPM_LINK_LINKED) {
        t->linked++;
        t->linked_right += among(want, l->item_id);
    }
    if (json_array_size(want) == 0) {
        t->noise++;
        t->noise_counted += counted && l->item_id;
        return 0;
    }
    /* The demo corrects only untagged rows: given means tagged. */
    if (l->status != AIPM_LINK_GIVEN) {
        t->untagged++;
        t->top1 += among(want, l->model_item);
    }
    if (counted) {
        t->counted++;
        t->right += among(want, l->item_id);
    }
    return 0;
}

/* Forecast every catalog feature's adoption by plan and check it against
 * the generator: the chosen models' backtest WAPE, over the features,
 * below the last value's (a small demo's last days may not move, so not
 * every feature's: the count is reported), and every
 * plan-feature graph coefficient the data pin down (standard error below
 * 1.5, 100+ adopters) within 3 standard errors of the planted one. */
static int adoption_checks(workspace *ws, json_t *truth, json_t *checks)
{
    json_t *feats =
        json_object_get(json_object_get(truth, "adoption"), "features");
    aipm_adoption_opts o = {14, AIPM_ADOPTION_AUTO, 10, 1, 0};
    aipm_adoption *a = NULL;
    aipm_error err = {0, ""};
    int n_bt = 0, beat = 0, pinned = 0, within = 0, f, ok_bt, ok_g;
    double chosen = 0, last = 0;

    if (aipm_adoption_open(&a, ws->store, ws->config, "plan", 0,
                           ws->graph_snapshot, &err) != AIPM_OK) {
        cli_fail(&err);
        return 0;
    }
    for (f = 0; f < ws->config->n_catalog; f++) {
        const char *key = ws->config->catalog[f].key;
        json_t *doc, *bt, *sg;
        size_t k;

        cli_progress_count((void *)"forecast features", (uint64_t)f,
                           (uint64_t)ws->config->n_catalog);
        if (aipm_adoption_run(&doc, a, key, &o, &err) != AIPM_OK)
            continue; /* e.g. no adopters and no peers: nothing to check */
        bt = json_object_get(doc, "backtest");
        if (json_is_object(bt)) {
            char name[32];
            double mine, naive;

            snprintf(name, sizeof(name), "%s_wape",
                     json_string_value(json_object_get(doc, "model")));
            mine = json_number_value(json_object_get(bt, name));
            naive = json_number_value(json_object_get(bt, "naive_wape"));
            n_bt++;
            beat += mine < naive;
            chosen += mine;
            last += naive;
        }
        json_array_foreach(json_object_get(doc, "segments"), k, sg)
        {
            json_t *h = json_object_get(sg, "hazard");
            json_t *tr = json_object_get(
                json_object_get(
                    json_object_get(json_object_get(feats, key), "segments"),
                    json_string_value(json_object_get(sg, "segment"))),
                "graph_coef");
            double se = json_number_value(json_object_get(h, "se_beta"));

            if (!json_is_object(h) || !json_is_number(tr) || !(se < 1.5) ||
                json_number_value(json_object_get(sg, "adopters")) < 100)
                continue;
            pinned++;
            within += fabs(json_number_value(json_object_get(h, "beta")) -
                           json_number_value(tr)) < 3 * se;
        }
        json_decref(doc);
    }
    cli_progress_end();
    aipm_adoption_free(a);
    ok_bt = n_bt == 0 || chosen < last;
    ok_g = within == pinned;
    json_array_append_new(
        checks,
        json_pack("{s:s, s:i, s:i, s:f, s:f, s:b}", "check",
                  "adoption: backtest beats the last value", "features", n_bt,
                  "beaten", beat, "mean_wape", n_bt ? chosen / n_bt : 0.0,
                  "mean_naive_wape", n_bt ? last / n_bt : 0.0, "ok", ok_bt));
    json_array_append_new(
        checks, json_pack("{s:s, s:i, s:i, s:b}", "check",
                          "adoption: graph coefficient vs truth", "pinned",
                          pinned, "within_3_se", within, "ok", ok_g));
    if (!g_cli.json) {
        printf("\nadoption (aipm forecast adoption --by plan):\n");
        printf("  backtest         mean WAPE of the chosen models %.3f, of the "
               "last value %.3f (below it for %d of %d features)  %s\n",
               n_bt ? chosen / n_bt : 0, n_bt ? last / n_bt : 0, beat, n_bt,
               ok_bt ? "ok" : "MISMATCH");
        printf("  graph coef       %d plan-feature pairs pinned down; %d "
               "within 3 standard errors of the planted value  %s\n",
               pinned, within, ok_g ? "ok" : "MISMATCH");
    }
    return ok_bt && ok_g;
}

/* A PM reviewing the queue: link the rows truth.json lists under
 * "feedback.corrections" (untagged rows about an item) to each item they
 * ask for, and unlink those marked "unlink" (rows about no item), through
 * the audited correction path, as `aipm feedback link|unlink` would. */
static int apply_corrections(workspace *ws, json_t *truth, json_t *checks)
{
    json_t *list =
        json_object_get(json_object_get(truth, "feedback"), "corrections");
    json_t *c;
    size_t k;
    int applied = 0, unlinks = 0;

    json_array_foreach(list, k, c)
    {
        aipm_error err = {0, ""};
        const char *fb = json_string_value(json_object_get(c, "feedback_id"));
        const char *item = json_string_value(json_object_get(c, "item_id"));
        int unlink = json_is_true(json_object_get(c, "unlink"));

        if (fb == NULL || item == NULL)
            continue;
        if (aipm_feedback_correct(ws->store, fb, item, unlink, ws->checkpoint,
                                  &err) != AIPM_OK) {
            cli_fail(&err);
            return 0;
        }
        applied++;
        unlinks += unlink;
    }
    json_array_append_new(checks, json_pack("{s:s, s:i, s:i, s:b}", "check",
                                            "feedback corrections", "planned",
                                            (int)json_array_size(list),
                                            "applied", applied, "ok", 1));
    if (!g_cli.json)
        printf("\nfeedback corrections (aipm feedback link|unlink): %d of %d "
               "made by hand (%d unlinks of rows about no item), as a PM "
               "reviewing the queue would\n",
               applied, (int)json_array_size(list), unlinks);
    return 1;
}

/* The floors of the demo's backlog checks, set below what the learnt
 * linker reaches on the demo's realistic text (customers' own words,
 * typos, several asks, chatter; truth.json "feedback.language"), measured
 * on 2026-12-05 over seeds 1..12 of the default demo: top-1 of the model's
 * item on untagged rows about an item 0.615-0.705 (the BM25-only linker:
 * 0.265-0.354); share of `linked` rows that name one of their true items
 * 0.858-1.000 where 50 or more rows were linked (seeds 2 and 9 linked 18
 * and 5: the threshold comes from about 200 labelled rows); prioritize
 * Spearman of expected vs true value 0.591-0.823. Over seeds 6..40 of the
 * BM25-only linker the Spearman went down to 0.331, so its floor stays at
 * 0.3. Smaller demos (fewer than SMALL_UNTAGGED untagged rows about an
 * item) give the model fewer labelled rows to learn from: at --users 800
 * --days 60, seeds 1..12 gave top-1 0.439-0.674 and linked 0.692-0.961
 * (where 50 or more were linked). */
#define MIN_LINK_TOP1 0.55
#define MIN_LINK_PRECISION 0.75
#define SMALL_UNTAGGED 500
#define MIN_LINK_TOP1_SMALL 0.35
#define MIN_LINK_PRECISION_SMALL 0.6
#define MIN_PZ_SPEARMAN 0.3

/* Link the feedback and rank the backlog, each checked against what the
 * generator planted: the model's top-1 item on untagged rows about an
 * item (right when it is any of the row's items) and the share of
 * `linked` rows that are right, each at least its floor above, and the
 * Spearman correlation of the open items' expected values with their true
 * values (at least MIN_PZ_SPEARMAN once the model learns from 10 shipped
 * items; a smaller demo is reported only). Below 50 rows a linking figure
 * is reported only. */
static int backlog_checks(workspace *ws, json_t *truth, json_t *checks)
{
    link_tally t = {0};
    aipm_error err = {0, ""};
    aipm_link_opts lo = {0, cli_progress_count, (void *)"feedback links", 0};
    aipm_pz_opts o;
    char *out = NULL;
    json_t *items, *res, *it, *truth_value;
    double *ev = NULL, *tv = NULL, rho = NAN, acc, top1, prec;
    size_t i, j;
    int n = 0, ok = 1, ok_link, small, trained, rc;
    json_error_t jerr;

    t.items_of =
        json_object_get(json_object_get(truth, "feedback"), "items_of");
    rc = aipm_feedback_links(ws->store, &lo, tally_link, &t, NULL, &err);
    cli_progress_end();
    if (rc != AIPM_OK) {
        cli_fail(&err);
        return 0;
    }
    acc = t.counted ? (double)t.right / (double)t.counted : 0;
    top1 = t.untagged ? (double)t.top1 / (double)t.untagged : 0;
    prec = t.linked ? (double)t.linked_right / (double)t.linked : 0;
    small = t.untagged < SMALL_UNTAGGED;
    ok_link = (t.untagged < 50 ||
               top1 >= (small ? MIN_LINK_TOP1_SMALL : MIN_LINK_TOP1)) &&
              (t.linked < 50 ||
               prec >= (small ? MIN_LINK_PRECISION_SMALL : MIN_LINK_PRECISION));
    ok &= ok_link;
    json_array_append_new(
        checks,
        json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:f, s:I, s:I, s:f, s:b}",
                  "check", "feedback links", "counted", (json_int_t)t.counted,
                  "right", (json_int_t)t.right, "accuracy", acc, "untagged",
                  (json_int_t)t.untagged, "top1_right", (json_int_t)t.top1,
                  "top1", top1, "linked", (json_int_t)t.linked, "linked_right",
                  (json_int_t)t.linked_right, "linked_precision", prec, "ok",
                  ok_link));
    aipm_pz_opts_init(&o);
    o.now_ms = aipm_now_ms();
    o.checkpoint = ws->checkpoint;
    o.capacity_weeks = 12;
    o.progress = cli_progress_count;
    o.progress_ctx = (void *)"prioritize";
    rc = aipm_prioritize(&out, ws->store, ws->config, &o, &err);
    cli_progress_end();
    if (rc != AIPM_OK) {
        cli_fail(&err);
        return 0;
    }
    res = json_loads(out, 0, &jerr);
    free(out);
    items = json_object_get(res, "items");
    /* The true value of each item, by id. */
    truth_value = json_object();
    json_array_foreach(
        json_object_get(json_object_get(truth, "backlog"), "items"), j, it)
        json_object_set(truth_value,
                        json_string_value(json_object_get(it, "id")),
                        json_object_get(it, "value"));
    ev = calloc(json_array_size(items) + 1, sizeof(double));
    tv = calloc(json_array_size(items) + 1, sizeof(double));
    json_array_foreach(items, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        json_t *v = id ? json_object_get(truth_value, id) : NULL;

        if (ev && tv && v) {
            ev[n] = json_number_value(json_object_get(it, "expected_value"));
            tv[n++] = json_number_value(v);
        }
    }
    json_decref(truth_value);
    rho = aipm_spearman(ev, tv, n);
    {
        const char *kind = json_string_value(
            json_object_get(json_object_get(res, "model"), "kind"));

        trained = kind && strcmp(kind, "bayesian_linear") == 0;
    }
    if (trained)
        ok &= isfinite(rho) && rho >= MIN_PZ_SPEARMAN;
    json_array_append_new(
        checks,
        json_pack("{s:s, s:i, s:o, s:s, s:b}", "check",
                  "prioritize: expected vs true value", "items", n, "spearman",
                  isfinite(rho) ? json_real(rho) : json_null(), "model",
                  json_string_value(
                      json_object_get(json_object_get(res, "model"), "kind")),
                  "ok", !trained || (isfinite(rho) && rho >= MIN_PZ_SPEARMAN)));
    if (!g_cli.json) {
        printf("\nbacklog (aipm feedback links, aipm prioritize):\n");
        printf("  feedback links   top-1 %lld of %lld untagged rows about an "
               "item (%.1f%%); %lld of %lld linked rows right (%.1f%%); "
               "%lld of %lld counted links right; %lld of %lld rows about no "
               "item counted  %s\n",
               (long long)t.top1, (long long)t.untagged, 100 * top1,
               (long long)t.linked_right, (long long)t.linked, 100 * prec,
               (long long)t.right, (long long)t.counted,
               (long long)t.noise_counted, (long long)t.noise,
               ok_link ? "ok" : "MISMATCH");
        printf("  prioritize       %d open items, %s model; expected vs true "
               "value: Spearman %.2f  %s\n",
               n,
               json_string_value(
                   json_object_get(json_object_get(res, "model"), "kind")),
               rho,
               !trained ? "(too few shipped items to learn from)"
               : rho >= MIN_PZ_SPEARMAN ? "ok"
                                        : "MISMATCH");
    }
    json_decref(res);
    free(ev);
    free(tv);
    return ok;
}

int cmd_demo(int argc, char **argv)
{
    static const char *const files[][2] = {{"events", "events.ndjson.gz"},
                                           {"backlog", "backlog.csv"},
                                           {"feedback", "feedback.csv"},
                                           {"signals", "signals.csv"},
                                           {"graph", "graph.csv"}};
    aipm_demo_opts o;
    aipm_demo_stats stats;
    const char *dir = NULL;
    char data[4200], path[8600], abs[4096], *yaml = NULL;
    json_t *truth = NULL, *reports = NULL, *checks = NULL;
    json_error_t jerr;
    workspace ws;
    int rc, i, all_ok = 1;
    const char *saved_dir = g_cli.dir;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "generate") == 0)
        return cmd_generate(argc, argv);
    aipm_demo_opts_init(&o);
    reports = json_object();
    checks = json_array();
    if ((rc = parse_opts(argc, argv, 1, &o, &dir)) != 0)
        goto done;
    if (dir == NULL)
        dir = "demo-workspace";
    if ((rc = fresh_dir(dir)) != 0)
        goto done;
    snprintf(data, sizeof(data), "%s/demo-data", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = cli_usage_error("cannot create %s: %s", dir, strerror(errno));
        goto done;
    }
    if ((rc = generate(data, &o, &stats)) != 0)
        goto done;
    snprintf(path, sizeof(path), "%s/aipm.yaml", data);
    if ((yaml = slurp(path)) == NULL) {
        rc = cli_usage_error("cannot read %s", path);
        goto done;
    }
    if ((rc = cli_workspace_create(dir, yaml, abs, sizeof(abs))) != 0)
        goto done;
    snprintf(path, sizeof(path), "%s/%s", dir, MARKER);
    {
        aipm_error merr = {0, ""};

        if (aipm_file_write(path, "", 0, 0600, &merr) != 0) {
            rc = cli_fail(&merr);
            goto done;
        }
    }
    snprintf(path, sizeof(path), "%s/truth.json", data);
    truth = json_load_file(path, 0, &jerr);
    g_cli.dir = dir;
    if ((rc = ws_open(&ws)) != 0)
        goto done;
    if (!g_cli.json)
        printf("aipm demo: a generated SaaS product, seed %llu: %lld users "
               "in %lld accounts over %d days\n  workspace %s, data and "
               "truth.json in %s\n\n%-9s %9s %9s %6s %6s  %s\n",
               (unsigned long long)o.seed, (long long)o.users,
               (long long)stats.accounts, o.days, abs, data, "DATASET", "READ",
               "ACCEPTED", "DUPS", "QUAR", "VERDICT");
    for (i = 0; i < 5; i++) {
        aipm_ingest_opts io;
        aipm_ingest_result res;
        aipm_error err = {0, ""};

        memset(&io, 0, sizeof(io));
        io.dataset = files[i][0];
        io.policy = &ws.config->data;
        io.config = ws.config;
        io.checkpoint_path = ws.checkpoint;
        io.progress = cli_progress;
        io.progress_ctx = (void *)files[i][1];
        snprintf(path, sizeof(path), "%s/%s", data, files[i][1]);
        rc = aipm_ingest_file(ws.store, path, &io, &res, &err);
        cli_progress_end();
        if (rc) {
            rc = cli_fail(&err);
            ws_close(&ws);
            goto done;
        }
        json_object_set_new(reports, files[i][0],
                            json_loads(res.report_json, 0, &jerr));
        if (!g_cli.json)
            printf("%-9s %9lld %9lld %6lld %6lld  %s\n", files[i][0],
                   (long long)res.read, (long long)res.accepted,
                   (long long)res.duplicates, (long long)res.quarantined,
                   res.verdict);
        aipm_ingest_result_clear(&res);
    }
    ws_close(&ws);

    if (!g_cli.json)
        printf("\nplanted (truth.json) vs found by ingest:\n");
    {
        json_t *ev = json_object_get(reports, "events");
        const char *kinds[] = {"malformed_json", "missing_field",
                               "bad_timestamp",  "unsupported_type",
                               "bad_value",      "invalid_utf8",
                               "line_too_long"};
        char what[80];
        size_t k;

        for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            char tp[96], fp[96];

            snprintf(tp, sizeof(tp), "event_bad_rows.%s", kinds[k]);
            snprintf(fp, sizeof(fp), "quarantine_reasons.%s", kinds[k]);
            snprintf(what, sizeof(what), "events quarantined: %s", kinds[k]);
            all_ok &= check(checks, what, jint(truth, tp), jint(ev, fp));
        }
        all_ok &=
            check(checks, "events re-sent = duplicates",
                  jint(truth, "events.resent_lines"), jint(ev, "duplicates"));
        all_ok &= check(checks, "events accepted = good + type-changed",
                        jint(truth, "events.good_lines") +
                            jint(truth, "type_mismatch_rows"),
                        jint(ev, "accepted"));
        for (k = 1; k <= 2; k++) {
            json_t *r = json_object_get(reports, files[k][0]);
            json_t *planted = json_object_get(
                json_object_get(truth, "csv_bad_rows"), files[k][0]);
            const char *key;
            json_t *v;
            long long sum = 0;

            json_object_foreach(planted, key, v) sum += json_integer_value(v);
            snprintf(what, sizeof(what), "%s quarantined", files[k][0]);
            all_ok &= check(checks, what, sum, jint(r, "quarantined"));
            snprintf(what, sizeof(what), "csv_resent.%s", files[k][0]);
            sum = jint(truth, what);
            snprintf(what, sizeof(what), "%s re-sent = duplicates",
                     files[k][0]);
            all_ok &= check(checks, what, sum, jint(r, "duplicates"));
        }
    }
    /* The analyses so far: every experiment, its verdict against what was
     * planted. */
    if ((rc = ws_open(&ws)) != 0)
        goto done;
    if (!g_cli.json)
        printf("\nexperiments (aipm experiment analyze):\n");
    for (i = 0; i < ws.config->n_experiments; i++) {
        const char *key = ws.config->experiments[i].key;
        const char *kind = json_string_value(json_object_get(
            json_object_get(
                json_object_get(json_object_get(truth, "experiments"),
                                "by_key"),
                key),
            "kind"));
        aipm_analysis_opts ao;
        aipm_error err = {0, ""};
        char *out = NULL, what[120], warning[200] = "";
        json_t *res;
        const char *got;
        int ok, underpowered, false_positive;

        aipm_analysis_opts_init(&ao);
        ao.checkpoint = ws.checkpoint;
        cli_progress_count((void *)"analyze", (uint64_t)i,
                           (uint64_t)ws.config->n_experiments);
        rc = aipm_experiment_analyze(&out, ws.store, ws.config, key, &ao, &err);
        cli_progress_end();
        if (rc != AIPM_OK) {
            free(out); /* a result whose record failed */
            rc = cli_fail(&err);
            ws_close(&ws);
            goto done;
        }
        res = json_loads(out, 0, &jerr);
        free(out);
        got = json_string_value(
            json_object_get(json_object_get(res, "verdict"), "decision"));
        got = got ? got : "?";
        kind = kind ? kind : "?";
        ok = (strcmp(kind, "winner") == 0 && strcmp(got, "ship") == 0) ||
             (strcmp(kind, "null") == 0 && strcmp(got, "ship") != 0 &&
              strcmp(got, "invalid") != 0) ||
             (strcmp(kind, "harms_guardrail") == 0 &&
              strcmp(got, "do_not_ship") == 0) ||
             (strcmp(kind, "srm") == 0 && strcmp(got, "invalid") == 0);
        /* A planted null ships in a share alpha of seeds by design (a
         * type I error, not a leak between the arms: test_demo.c checks
         * the rate over 100 seeds): a warning, not a failure. */
        false_positive = strcmp(kind, "null") == 0 && strcmp(got, "ship") == 0;
        if (false_positive) {
            json_t *vars = json_object_get(
                json_array_get(json_object_get(res, "metrics"), 0),
                "variations");
            json_t *v;
            size_t vi;
            double p = 1;

            json_array_foreach(vars, vi, v)
            {
                json_t *pv = json_object_get(v, "p_adjusted");

                if (json_is_number(pv) && json_number_value(pv) < p)
                    p = json_number_value(pv);
            }
            snprintf(warning, sizeof(warning),
                     "a false positive (p = %.4g < alpha %.2g): a planted "
                     "null ships in %.0f%% of seeds by chance",
                     p, ao.alpha, 100 * ao.alpha);
        }
        /* A small demo may lack the power to show a planted effect; that
         * is reported, not counted as a failure, below 1000 units a
         * variation. */
        {
            json_t *vars = json_object_get(
                json_array_get(json_object_get(res, "metrics"), 0),
                "variations");
            json_t *v;
            size_t vi;
            double min_units = 1e300;

            json_array_foreach(vars, vi, v) min_units =
                fmin(min_units,
                     (double)json_integer_value(json_object_get(v, "units")));
            underpowered = !ok && min_units < 1000;
        }
        if (!underpowered && !false_positive)
            all_ok &= ok;
        snprintf(what, sizeof(what), "experiment %s", key);
        json_array_append_new(
            checks,
            json_pack("{s:s, s:s, s:s, s:b, s:o}", "check", what, "planted",
                      kind, "found", got, "ok", ok, "warning",
                      warning[0] ? json_string(warning) : json_null()));
        if (!g_cli.json)
            printf("  %-28s planted %-16s verdict %-13s %s\n", key, kind, got,
                   ok               ? "ok"
                   : false_positive ? warning
                   : underpowered   ? "differs (too few units to tell)"
                                    : "MISMATCH");
        json_decref(res);
    }
    all_ok &= apply_corrections(&ws, truth, checks);
    all_ok &= backlog_checks(&ws, truth, checks);
    all_ok &= adoption_checks(&ws, truth, checks);
    ws_close(&ws);
    if (g_cli.json) {
        json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:b}", "workspace", abs,
                              "data", data, "ingest", reports, "checks", checks,
                              "all_checks_ok", all_ok);

        reports = checks = NULL;
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("\nWhere to look next:\n"
               "  aipm -C %s forecast adoption query --by plan\n"
               "  aipm -C %s experiment analyze onboarding_checklist\n"
               "  aipm -C %s prioritize --capacity 12\n"
               "  aipm -C %s feedback links --review\n"
               "  aipm -C %s decisions list\n"
               "  aipm -C %s graph stats\n"
               "  aipm -C %s quality\n"
               "  aipm -C %s quarantine --limit 10\n"
               "  aipm -C %s lineage --openlineage\n"
               "  aipm -C %s audit verify\n",
               dir, dir, dir, dir, dir, dir, dir, dir, dir, dir);
    }
    rc = all_ok ? EXIT_OK : EXIT_INTERNAL;
    if (!all_ok)
        fprintf(stderr, "aipm: demo: what aipm found differs from what "
                        "was planted (see MISMATCH above)\n");
done:
    g_cli.dir = saved_dir;
    free(yaml);
    json_decref(truth);
    json_decref(reports);
    json_decref(checks);
    return rc;
}
