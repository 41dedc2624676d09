/* cmd_forecast.c - `aipm forecast adoption|backtest|bass`: feature adoption
 * forecasts from the store, their backtests, and a Bass fit of a user's
 * own series. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SERIES_BYTES (64 << 20)

static void help(void)
{
    printf("usage: aipm forecast bass --series FILE.csv [--form "
           "per-period|density]\n"
           "                          [--holdout K] [--horizon H] "
           "[--no-record]\n"
           "\n"
           "Fits the Bass diffusion model to an adoption series you already\n"
           "have: a CSV file with the header period,adopters and one row per\n"
           "period. per-period (the default) fits m (F(t) - F(t-1)), the\n"
           "adopters within each period; density fits m f(t), the adoption\n"
           "rate (the form of Cowpertwait and Metcalfe 2009). Prints p\n"
           "(innovation), q (imitation) and m (market size) with standard\n"
           "errors, the fitted values and a forecast of H periods (default\n"
           "8). --holdout K fits without the last K periods and reports the\n"
           "mean absolute percentage error of their forecast. The fit is\n"
           "stored as a decision record (--no-record: not).\n");
}

/* The whole file, at most max bytes (a NUL is added after them). */
static int read_all(const char *path, size_t max, char **out, size_t *len,
                    aipm_error *err)
{
    FILE *f;
    struct stat sb;
    char *buf;
    size_t n;

    *out = NULL;
    *len = 0;
    if (stat(path, &sb) != 0)
        return aipm_error_set(err, AIPM_EINVALID, "%s: %s", path,
                              strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return aipm_error_set(err, AIPM_EINVALID, "%s: not a regular file",
                              path);
    if ((size_t)sb.st_size > max)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: larger than %zu bytes; a series is a few "
                              "rows",
                              path, max);
    if ((f = fopen(path, "rb")) == NULL)
        return aipm_error_set(err, AIPM_EIO, "%s: %s", path, strerror(errno));
    if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
        fclose(f);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    n = fread(buf, 1, (size_t)sb.st_size, f);
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return AIPM_OK;
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* Fit the Bass model to s (the last holdout periods held out) and
 * describe it, forecasting horizon periods on: the output of `forecast
 * bass` and of its replay. */
int cli_bass_doc(const aipm_series *sr, int bass_form, int64_t holdout,
                 int64_t horizon, json_t **out, aipm_error *err)
{
    aipm_bass_form form = (aipm_bass_form)bass_form;
    const aipm_series s = *sr;
    json_t *fitted, *forecast, *doc;
    double ape = 0, counted;
    int i, rc, n_fit, n_ape = 0;
    aipm_bass b;

    *out = NULL;
    n_fit = s.n - (int)holdout;
    if ((rc = aipm_bass_fit(&b, s.values, n_fit, form, err)) != AIPM_OK)
        return rc;
    fitted = json_array();
    forecast = json_array();
    for (i = 0; i < n_fit; i++)
        json_array_append_new(
            fitted, json_pack("{s:s, s:f, s:f}", "period", s.labels[i],
                              "adopters", s.values[i], "fitted",
                              aipm_bass_period(form, &b, i + 1)));
    for (i = n_fit; i < s.n + horizon; i++) {
        double f = aipm_bass_period(form, &b, i + 1);
        json_t *row = json_pack("{s:i, s:f}", "t", i + 1, "adopters", f);

        if (i < s.n) { /* a held-out period */
            json_object_set_new(row, "period", json_string(s.labels[i]));
            json_object_set_new(row, "observed", json_real(s.values[i]));
            if (s.values[i] > 0) {
                ape += fabs(f - s.values[i]) / s.values[i];
                n_ape++;
            }
        }
        json_array_append_new(forecast, row);
    }
    doc =
        json_pack("{s:s, s:s, s:f, s:f, s:f, s:{s:o, s:o, s:o}, s:f, s:i, "
                  "s:o, s:o, s:o}",
                  "model", "bass", "form",
                  form == AIPM_BASS_DENSITY ? "density" : "per-period", "p",
                  b.p, "q", b.q, "m", b.m, "se", "p", num(b.se_p), "q",
                  num(b.se_q), "m", num(b.se_m), "rss", b.rss, "fitted_on",
                  n_fit, "fitted", fitted, "forecast", forecast, "holdout_mape",
                  n_ape ? json_real(ape / n_ape) : json_null());
    for (i = 0, counted = 0; i < n_fit; i++)
        counted += s.values[i];
    if (b.m < counted) {
        /* The curve cannot even reach the past: its forecast is no use. */
        char w[200];

        snprintf(w, sizeof(w),
                 "m = %.4g is below the %.4g adopters already counted in "
                 "the fitted periods: do not use this fit's forecast",
                 b.m, counted);
        json_object_set_new(doc, "warning", json_string(w));
    } else if (b.q < 1e-6 || b.p > 1)
        json_object_set_new(
            doc, "warning",
            json_string(b.q < 1e-6
                            ? "no imitation: the series does not rise "
                              "before it falls (q is about 0)"
                            : "p above 1: nearly everyone adopts in the "
                              "first period; the series may start late"));
    *out = doc;
    return doc ? AIPM_OK : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
}

static int bass(int argc, char **argv)
{
    const char *path = NULL;
    aipm_bass_form form = AIPM_BASS_PER_PERIOD;
    int64_t holdout = 0, horizon = 8;
    int record = 1, i, rc;
    aipm_error err = {0, ""};
    aipm_series s = {0};
    char *text = NULL;
    size_t len = 0;
    json_t *doc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--series") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--form") == 0 && i + 1 < argc) {
            const char *f = argv[++i];

            if (strcmp(f, "per-period") == 0)
                form = AIPM_BASS_PER_PERIOD;
            else if (strcmp(f, "density") == 0)
                form = AIPM_BASS_DENSITY;
            else
                return cli_usage_error("--form is per-period or density");
        } else if (strcmp(argv[i], "--holdout") == 0 && i + 1 < argc) {
            if (strcmp(argv[i + 1], "0") == 0)
                i++;
            else if (cli_parse_i64(argv[++i], &holdout) != 0)
                return cli_usage_error("--holdout needs a number of periods");
        } else if (strcmp(argv[i], "--horizon") == 0 && i + 1 < argc) {
            if (strcmp(argv[i + 1], "0") == 0) {
                horizon = 0;
                i++;
            } else if (cli_parse_i64(argv[++i], &horizon) != 0 ||
                       horizon > 10000)
                return cli_usage_error("--horizon needs a number of periods "
                                       "(at most 10000)");
        } else if (strcmp(argv[i], "--no-record") == 0)
            record = 0;
        else
            return cli_bad_option("forecast bass", argv[i], i + 1 == argc,
                                  (const char *const[]){"--series", "--form",
                                                        "--holdout",
                                                        "--horizon", NULL},
                                  (const char *const[]){"--no-record", NULL});
    }
    if (path == NULL)
        return cli_usage_error("forecast bass needs --series FILE.csv");
    if (read_all(path, MAX_SERIES_BYTES, &text, &len, &err) != AIPM_OK)
        return cli_fail(&err);
    rc = aipm_series_parse(&s, text, len, &err);
    if (rc != AIPM_OK) {
        aipm_error e2 = {0, ""};

        free(text);
        aipm_error_set(&e2, rc, "%s: %s", path, err.msg);
        return cli_fail(&e2);
    }
    /* Compared as 64-bit numbers: a huge --holdout must not wrap. */
    if (holdout > 0 && holdout > (int64_t)s.n - 4) {
        int left = holdout < s.n ? s.n - (int)holdout : 0;

        aipm_series_free(&s);
        free(text);
        return cli_usage_error("--holdout %lld leaves %d periods to fit; "
                               "a fit needs 4",
                               (long long)holdout, left);
    }
    if ((rc = cli_bass_doc(&s, form, holdout, horizon, &doc, &err)) !=
        AIPM_OK) {
        aipm_series_free(&s);
        free(text);
        return cli_fail(&err);
    }
    if (record && g_cli.store_url == NULL) {
        /* Outside a workspace there is nowhere to record: say so, once. */
        struct stat sb;
        char yaml[4200];

        snprintf(yaml, sizeof(yaml), "%s/aipm.yaml", g_cli.dir);
        if (stat(yaml, &sb) != 0) {
            fprintf(stderr, "aipm: not in a workspace: the fit is not "
                            "recorded (run it with -C DIR to record it)\n");
            record = 0;
        }
    }
    if (record) {
        workspace ws;
        /* The series itself is kept (a series is small; over 1 MB only
         * its digest), so `decisions replay` can fit it again. */
        char id[37], decision[96], sha[65];
        json_t *params;

        aipm_decision_digest(text, sha);
        params = json_pack(
            "{s:s, s:s, s:I, s:I, s:s, s:s?}", "series", path, "form",
            form == AIPM_BASS_DENSITY ? "density" : "per-period", "holdout",
            (json_int_t)holdout, "horizon", (json_int_t)horizon,
            "series_sha256", sha, "series_csv",
            len <= (1 << 20) && aipm_utf8_valid(text, len) ? text : NULL);
        if ((rc = ws_open(&ws)) != 0) {
            json_decref(params);
            json_decref(doc);
            aipm_series_free(&s);
            free(text);
            return rc;
        }
        snprintf(decision, sizeof(decision), "p=%.4g q=%.4g m=%.4g",
                 json_number_value(json_object_get(doc, "p")),
                 json_number_value(json_object_get(doc, "q")),
                 json_number_value(json_object_get(doc, "m")));
        {
            aipm_decision_spec spec;

            memset(&spec, 0, sizeof(spec));
            spec.kind = "forecast";
            spec.subject = path;
            spec.decision = decision;
            spec.doc = doc;
            spec.params = params;
            spec.model = "bass-nls/1";
            spec.rationale = "a Bass diffusion curve fitted by nonlinear "
                             "least squares to the series";
            spec.confidence = NAN;
            spec.config = ws.config;
            rc = aipm_decision_record(ws.store, &spec, aipm_now_ms(),
                                      ws.checkpoint, id, &err);
        }
        json_decref(params);
        ws_close(&ws);
        if (rc != AIPM_OK) {
            json_decref(doc);
            aipm_series_free(&s);
            free(text);
            return cli_fail(&err);
        }
        json_object_set_new(doc, "decision_id", json_string(id));
    }
    if (g_cli.json)
        cli_print_json(doc);
    else {
        json_t *se = json_object_get(doc, "se"), *fc, *row;
        json_t *mape = json_object_get(doc, "holdout_mape");
        int n_fit = (int)json_integer_value(json_object_get(doc, "fitted_on"));
        size_t k;

        printf("Bass fit (%s form) on %d periods of %s\n",
               form == AIPM_BASS_DENSITY ? "density" : "per-period", n_fit,
               path);
        printf("  p (innovation) = %.5g  (se %.2g)\n",
               json_number_value(json_object_get(doc, "p")),
               json_number_value(json_object_get(se, "p")));
        printf("  q (imitation)  = %.5g  (se %.2g)\n",
               json_number_value(json_object_get(doc, "q")),
               json_number_value(json_object_get(se, "q")));
        printf("  m (market)     = %.6g  (se %.3g)\n",
               json_number_value(json_object_get(doc, "m")),
               json_number_value(json_object_get(se, "m")));
        if (json_object_get(doc, "warning"))
            printf("  warning: %s\n", cli_text(json_string_value(
                                          json_object_get(doc, "warning"))));
        if (json_is_number(mape))
            printf("  holdout MAPE over %lld periods: %.1f%%\n",
                   (long long)holdout, 100 * json_number_value(mape));
        printf("  forecast:");
        fc = json_object_get(doc, "forecast");
        json_array_foreach(fc, k, row)
        {
            if (k >= 12)
                break;
            printf(" %.4g",
                   json_number_value(json_object_get(row, "adopters")));
        }
        printf("%s\n", json_array_size(fc) > 12 ? " ..." : "");
    }
    json_decref(doc);
    aipm_series_free(&s);
    free(text);
    return EXIT_OK;
}

static void help_adoption(void)
{
    printf(
        "usage: aipm forecast adoption FEATURE... [--by plan|industry|cohort|"
        "TRAIT]\n"
        "                              [--horizon DAYS] [--model "
        "auto|bass|hazard]\n"
        "                              [--draws N] [--seed N] "
        "[--model-version N]\n"
        "                              [--no-record]\n"
        "       aipm forecast backtest FEATURE... [--holdout DAYS] [--by ...]\n"
        "                              [--model ...] [--draws N] [--seed N]\n"
        "\n"
        "adoption forecasts the cumulative adopters of a catalog feature, a\n"
        "day at a time for DAYS days (default 30), per segment: the users'\n"
        "trait (plan, industry or any other; their newest identify trait,\n"
        "else their account's), or cohort (the month of their first "
        "event).\n"
        "Two models are fitted per segment and compared on every run:\n"
        "  bass    the Bass diffusion of the daily new adopters (p, q, m),\n"
        "  hazard  a daily adoption probability on each user's active days,\n"
        "          logistic in an innovation term plus the graph signal (the\n"
        "          share of the user's account members and invite contacts\n"
        "          who adopted before), with a share never eligible;\n"
        "          graph_coef is its effect on the daily probability.\n"
        "The one with the lower error (WAPE) in a backtest on the last days\n"
        "gives the forecast, with 80%% and 95%% intervals (parameter draws,\n"
        "default 50, and the count noise). A feature without adopters gets\n"
        "a prior from the features in its area or linked by depends_on.\n"
        "Each forecast is stored as a decision record (--no-record: not).\n"
        "\n"
        "The hazard model's parameters: those of the version of model\n"
        "\"adoption\" the registry's production alias points at (aipm model),\n"
        "when it was trained with the same --by, else fitted in this run;\n"
        "--model-version N takes registered version N instead. Only the\n"
        "segments the version has a fit for take it; the backtest, the\n"
        "model choice and the intervals' calibration are this run's. The\n"
        "record names the version, so a replay uses it again.\n"
        "\n"
        "backtest fits on the data before the last DAYS days (default 14),\n"
        "nothing later read, and reports per segment the MAPE and WAPE of\n"
        "both models and of two naive baselines (last value carried "
        "forward,\n"
        "linear trend of the last 14 days).\n");
}

/* Which hazard parameters a forecast used: "hazard: adoption@2
 * (registry, production), segments plan=pro, plan=free", the segments
 * that kept the run's own fit, or why the version did not apply; and,
 * when the forecast's model is not the hazard, that its fits only stand
 * in where a segment lacks the model chosen. */
static void print_registry(const json_t *reg, const char *by, int named,
                           const char *model)
{
    /* (cli_text's buffers rotate: the trait is made safe in each call) */
    const char *eq = by ? "=" : "";
    const json_t *v;
    size_t k;

    if (!json_is_object(reg)) {
        printf("  hazard: fitted in this run\n");
        return;
    }
    printf("  hazard: adoption@%lld (registry, %s)",
           (long long)json_integer_value(json_object_get(reg, "version")),
           named ? "--model-version" : "production");
    if (!json_is_true(json_object_get(reg, "used"))) {
        printf(" not used: %s; fitted in this run\n",
               cli_text(json_string_value(json_object_get(reg, "why"))));
        return;
    }
    json_array_foreach(json_object_get(reg, "segments"), k, v)
    {
        printf("%s%s%s%s", k ? ", " : ", segments ", by ? cli_text(by) : "", eq,
               cli_text(json_string_value(v)));
    }
    json_array_foreach(json_object_get(reg, "refitted"), k, v)
    {
        printf("%s%s%s%s", k ? ", " : "; not in the version, fitted here: ",
               by ? cli_text(by) : "", eq, cli_text(json_string_value(v)));
    }
    if (model && strcmp(model, "hazard") != 0)
        printf(" (the forecast's model is %s: these fits stand in only "
               "where a segment lacks it)",
               cli_text(model));
    printf("\n");
}

static int adoption(int argc, char **argv, int backtest)
{
    const char *by = NULL, *features[64];
    int n_features = 0, record = !backtest, i, rc = EXIT_OK;
    int64_t horizon = 30, holdout = 14, draws = 50, seed = 1;
    int64_t model_version = 0; /* 0: production's, if any */
    aipm_adoption_model model = AIPM_ADOPTION_AUTO;
    aipm_error err = {0, ""};
    workspace ws;
    aipm_adoption *a = NULL;
    json_t *all;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--by") == 0 && i + 1 < argc)
            by = argv[++i];
        else if (!backtest && strcmp(argv[i], "--horizon") == 0 &&
                 i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &horizon) != 0 || horizon > 3650)
                return cli_usage_error("--horizon needs a number of days "
                                       "from 1 to 3650");
        } else if (backtest && strcmp(argv[i], "--holdout") == 0 &&
                   i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &holdout) != 0 || holdout < 3 ||
                holdout > 3650)
                return cli_usage_error("--holdout needs a number of days "
                                       "from 3 to 3650");
        } else if (strcmp(argv[i], "--draws") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &draws) != 0 || draws > 100000)
                return cli_usage_error("--draws needs a number from 1 to "
                                       "100000");
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &seed) != 0)
                return cli_usage_error("--seed needs a positive number");
        } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            const char *m = argv[++i];

            if (strcmp(m, "auto") == 0)
                model = AIPM_ADOPTION_AUTO;
            else if (strcmp(m, "bass") == 0)
                model = AIPM_ADOPTION_BASS;
            else if (strcmp(m, "hazard") == 0)
                model = AIPM_ADOPTION_HAZARD;
            else
                return cli_usage_error("--model is auto, bass or hazard");
        } else if (!backtest && strcmp(argv[i], "--model-version") == 0 &&
                   i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &model_version) != 0)
                return cli_usage_error("--model-version needs a version "
                                       "number (aipm model list shows them)");
        } else if (strcmp(argv[i], "--no-record") == 0)
            record = 0;
        else if (argv[i][0] != '-') {
            if (n_features == 64)
                return cli_usage_error("at most 64 features a run");
            features[n_features++] = argv[i];
        } else
            return cli_bad_option(
                backtest ? "forecast backtest" : "forecast adoption", argv[i],
                i + 1 == argc,
                backtest ? (const char *const[]){"--holdout", "--by", "--model",
                                                 "--draws", "--seed", NULL}
                         : (const char *const[]){"--horizon", "--by", "--model",
                                                 "--draws", "--seed",
                                                 "--model-version", NULL},
                backtest ? NULL : (const char *const[]){"--no-record", NULL});
    }
    if (n_features == 0)
        return cli_usage_error("forecast %s needs a catalog FEATURE",
                               backtest ? "backtest" : "adoption");
    if (by && (strlen(by) > 200 || !aipm_utf8_valid(by, strlen(by))))
        return cli_usage_error("--by: a trait name of at most 200 bytes of "
                               "UTF-8");
    if ((all = json_array()) == NULL)
        return cli_usage_error("out of memory");
    if ((rc = ws_open(&ws)) != 0) {
        json_decref(all);
        return rc;
    }
    if (aipm_adoption_open(&a, ws.store, ws.config, by,
                           backtest ? (int)holdout : 0, ws.graph_snapshot,
                           &err) != AIPM_OK) {
        ws_close(&ws);
        json_decref(all);
        return cli_fail(&err);
    }
    for (i = 0; i < n_features; i++) {
        aipm_adoption_opts o = {(int)horizon, model, (int)draws, (uint64_t)seed,
                                model_version};
        json_t *doc, *reg;
        size_t k;
        json_t *sg;

        cli_progress_count((void *)"forecast features", (uint64_t)i,
                           (uint64_t)n_features);
        rc = aipm_adoption_run(&doc, a, features[i], &o, &err);
        cli_progress_end(); /* before this feature's output */
        if (rc != AIPM_OK) {
            rc = cli_fail(&err);
            break;
        }
        reg = json_object_get(doc, "registry");
        if (record) {
            /* model_version: the registered version the forecast read
             * (used or not: the output says which, and a replay must say
             * it again), null when it fitted its own */
            json_t *params = json_pack(
                "{s:s, s:o, s:I, s:s, s:I, s:I, s:o}", "feature", features[i],
                "by", by ? json_string(by) : json_null(), "horizon",
                (json_int_t)horizon, "model",
                model == AIPM_ADOPTION_BASS     ? "bass"
                : model == AIPM_ADOPTION_HAZARD ? "hazard"
                                                : "auto",
                "draws", (json_int_t)draws, "seed", (json_int_t)seed,
                "model_version",
                json_is_object(reg) ? json_integer(json_integer_value(
                                          json_object_get(reg, "version")))
                                    : json_null());
            static const char *const datasets[] = {"events", "graph", NULL};
            char id[37], decision[128];

            snprintf(decision, sizeof(decision),
                     "adoption forecast: %s, %d "
                     "days, by %s",
                     json_string_value(json_object_get(doc, "model")),
                     (int)horizon, by ? by : "all");
            aipm_decision_spec spec;
            json_t *recorded;
            char model_name[48];

            snprintf(model_name, sizeof(model_name), "adoption-%s/1",
                     json_string_value(json_object_get(doc, "model")));
            memset(&spec, 0, sizeof(spec));
            spec.kind = "forecast";
            spec.subject = features[i];
            spec.decision = decision;
            /* The record keeps what the data and parameters decide: the
             * fit's wall-clock time is left out, so a replay can match,
             * and so is the observed history the batches pin down. */
            recorded = json_deep_copy(doc);
            if (recorded)
                aipm_adoption_record_form(recorded);
            spec.doc = recorded ? recorded : doc;
            spec.params = params;
            spec.datasets = datasets;
            spec.model = model_name;
            spec.rationale = "adoption of the feature forecast from its "
                             "adopters so far and its users' graph";
            spec.confidence = NAN;
            spec.config = ws.config;
            rc = aipm_decision_record(ws.store, &spec, aipm_now_ms(),
                                      ws.checkpoint, id, &err);
            json_decref(recorded);
            if (rc != AIPM_OK) {
                json_decref(params);
                json_decref(doc);
                rc = cli_fail(&err);
                break;
            }
            json_decref(params);
            json_object_set_new(doc, "decision_id", json_string(id));
        }
        if (!g_cli.json) {
            json_t *bt = json_object_get(doc, "backtest");

            printf("%s %s: model %s, as of %s (launch %s)\n",
                   backtest ? "Backtest of" : "Adoption of",
                   cli_text(features[i]),
                   json_string_value(json_object_get(doc, "model")),
                   json_string_value(json_object_get(doc, "as_of")),
                   json_string_value(json_object_get(doc, "launch")));
            if (json_is_object(json_object_get(doc, "prior")))
                printf("  %s\n", cli_text(json_string_value(json_object_get(
                                     json_object_get(doc, "prior"), "note"))));
            if (!backtest)
                print_registry(
                    reg, by, model_version > 0,
                    json_string_value(json_object_get(doc, "model")));
            if (json_is_object(bt)) {
                static const char *const keys[] = {"bass_wape", "hazard_wape",
                                                   "naive_wape", "trend_wape"};
                char w[4][16];
                int j;

                for (j = 0; j < 4; j++) {
                    json_t *v = json_object_get(bt, keys[j]);

                    if (json_is_number(v))
                        snprintf(w[j], sizeof(w[j]), "%.1f%%",
                                 100 * json_number_value(v));
                    else
                        snprintf(w[j], sizeof(w[j]), "-");
                }
                printf(
                    "  backtest from %s over %lld days, WAPE: bass %s, "
                    "hazard %s, last value %s, trend %s\n",
                    json_string_value(json_object_get(bt, "cutoff")),
                    (long long)json_integer_value(json_object_get(bt, "days")),
                    w[0], w[1], w[2], w[3]);
                if (json_is_string(json_object_get(bt, "note")))
                    printf("  note: %s\n", cli_text(json_string_value(
                                               json_object_get(bt, "note"))));
            }
            printf("  %-14s %7s %8s %8s %8s %8s %10s  %s\n", "segment", "users",
                   "adopted", "p", "q", "m", "graph_coef",
                   backtest ? "at the end (observed) [80%]"
                            : "at the horizon [80%] [95%]");
            json_array_foreach(json_object_get(doc, "segments"), k, sg)
            {
                json_t *fc = json_object_get(sg, "forecast");
                json_t *last = json_array_get(fc, json_array_size(fc) - 1);
                json_t *gc = json_object_get(sg, "graph_coef");
                char gcs[32] = "-";

                if (json_is_number(gc))
                    snprintf(gcs, sizeof(gcs), "%.4f", json_number_value(gc));

                printf(
                    "  %-14.14s %7lld %8.0f %8.4f %8.3f %8.0f %10s  ",
                    cli_text(json_string_value(json_object_get(sg, "segment"))),
                    (long long)json_integer_value(json_object_get(sg, "users")),
                    json_number_value(json_object_get(sg, "adopters")),
                    json_number_value(json_object_get(sg, "p")),
                    json_number_value(json_object_get(sg, "q")),
                    json_number_value(json_object_get(sg, "m")), gcs);
                if (last && backtest)
                    printf("%.0f (%.0f) [%.0f, %.0f]",
                           json_number_value(json_object_get(last, "adopters")),
                           json_number_value(json_object_get(last, "observed")),
                           json_number_value(json_object_get(last, "lo80")),
                           json_number_value(json_object_get(last, "hi80")));
                else if (last)
                    printf("%.0f [%.0f, %.0f] [%.0f, %.0f]",
                           json_number_value(json_object_get(last, "adopters")),
                           json_number_value(json_object_get(last, "lo80")),
                           json_number_value(json_object_get(last, "hi80")),
                           json_number_value(json_object_get(last, "lo95")),
                           json_number_value(json_object_get(last, "hi95")));
                printf("\n");
            }
            json_array_foreach(json_object_get(doc, "segments"), k, sg)
            {
                json_t *why = json_object_get(sg, "bass_rejected");

                if (json_is_string(why))
                    printf("  %s: %s: that fit is not used (this segment: "
                           "%s)\n",
                           cli_text(json_string_value(
                               json_object_get(sg, "segment"))),
                           cli_text(json_string_value(why)),
                           cli_text(json_string_value(
                               json_object_get(sg, "model"))));
            }
            json_decref(doc);
        } else {
            json_array_append_new(all, doc);
        }
    }
    aipm_adoption_free(a);
    ws_close(&ws);
    if (rc == EXIT_OK && g_cli.json) {
        if (json_array_size(all) == 1)
            cli_print_json(json_array_get(all, 0));
        else {
            json_t *w = json_pack("{s:O}", "forecasts", all);

            cli_print_json(w);
            json_decref(w);
        }
    }
    json_decref(all);
    return rc;
}

int cmd_forecast(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "adoption") == 0 ||
                      strcmp(argv[1], "backtest") == 0)) {
        if (g_cli.help) {
            help_adoption();
            return EXIT_OK;
        }
        return adoption(argc, argv, argv[1][0] == 'b');
    }
    if (g_cli.help || argc < 2) {
        help();
        if (argc < 2)
            help_adoption();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "bass") == 0)
        return bass(argc, argv);
    return cli_bad_subcommand(
        "forecast", argv[1],
        (const char *const[]){"adoption", "backtest", "bass", NULL});
}
