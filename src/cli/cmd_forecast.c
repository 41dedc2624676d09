/* cmd_forecast.c - `aipm forecast bass`: a Bass fit of a user's series. */
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

static int bass(int argc, char **argv)
{
    const char *path = NULL;
    aipm_bass_form form = AIPM_BASS_PER_PERIOD;
    int64_t holdout = 0, horizon = 8;
    int record = 1, i, rc, n_fit;
    aipm_error err = {0, ""};
    aipm_series s = {0};
    aipm_bass b;
    char *text = NULL;
    size_t len = 0;
    json_t *fitted, *forecast, *doc;
    double ape = 0;
    int n_ape = 0;

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
            return cli_bad_arg("forecast bass", argv[i], i + 1 == argc,
                               (const char *const[]){"--series", "--form",
                                                     "--holdout", "--horizon",
                                                     NULL});
    }
    if (path == NULL)
        return cli_usage_error("forecast bass needs --series FILE.csv");
    if (read_all(path, MAX_SERIES_BYTES, &text, &len, &err) != AIPM_OK)
        return cli_fail(&err);
    rc = aipm_series_parse(&s, text, len, &err);
    free(text);
    if (rc != AIPM_OK) {
        aipm_error e2 = {0, ""};

        aipm_error_set(&e2, rc, "%s: %s", path, err.msg);
        return cli_fail(&e2);
    }
    /* Compared as 64-bit numbers: a huge --holdout must not wrap. */
    if (holdout > 0 && holdout > (int64_t)s.n - 4) {
        int left = holdout < s.n ? s.n - (int)holdout : 0;

        aipm_series_free(&s);
        return cli_usage_error("--holdout %lld leaves %d periods to fit; "
                               "a fit needs 4",
                               (long long)holdout, left);
    }
    n_fit = s.n - (int)holdout;
    if ((rc = aipm_bass_fit(&b, s.values, n_fit, form, &err)) != AIPM_OK) {
        aipm_series_free(&s);
        return cli_fail(&err);
    }
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
    if (b.q < 1e-6 || b.p > 1)
        json_object_set_new(
            doc, "warning",
            json_string(b.q < 1e-6
                            ? "no imitation: the series does not rise "
                              "before it falls (q is about 0)"
                            : "p above 1: nearly everyone adopts in the "
                              "first period; the series may start late"));
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
        json_t *params = json_pack(
            "{s:s, s:s, s:I, s:I}", "series", path, "form",
            form == AIPM_BASS_DENSITY ? "density" : "per-period", "holdout",
            (json_int_t)holdout, "horizon", (json_int_t)horizon);
        char id[37], decision[96];

        if ((rc = ws_open(&ws)) != 0) {
            json_decref(params);
            json_decref(doc);
            aipm_series_free(&s);
            return rc;
        }
        snprintf(decision, sizeof(decision), "p=%.4g q=%.4g m=%.4g", b.p, b.q,
                 b.m);
        rc = aipm_decision_record(ws.store, "forecast", path, decision, doc,
                                  params, NULL, aipm_now_ms(), id, &err);
        json_decref(params);
        ws_close(&ws);
        if (rc != AIPM_OK) {
            json_decref(doc);
            aipm_series_free(&s);
            return cli_fail(&err);
        }
        json_object_set_new(doc, "decision_id", json_string(id));
    }
    if (g_cli.json)
        cli_print_json(doc);
    else {
        printf("Bass fit (%s form) on %d periods of %s\n",
               form == AIPM_BASS_DENSITY ? "density" : "per-period", n_fit,
               path);
        printf("  p (innovation) = %.5g  (se %.2g)\n", b.p, b.se_p);
        printf("  q (imitation)  = %.5g  (se %.2g)\n", b.q, b.se_q);
        printf("  m (market)     = %.6g  (se %.3g)\n", b.m, b.se_m);
        if (json_object_get(doc, "warning"))
            printf("  warning: %s\n",
                   json_string_value(json_object_get(doc, "warning")));
        if (n_ape)
            printf("  holdout MAPE over %d periods: %.1f%%\n", n_ape,
                   100 * ape / n_ape);
        printf("  forecast:");
        for (i = n_fit; i < s.n + horizon && i < n_fit + 12; i++)
            printf(" %.4g", aipm_bass_period(form, &b, i + 1));
        printf("%s\n", s.n + horizon > n_fit + 12 ? " ..." : "");
    }
    json_decref(doc);
    aipm_series_free(&s);
    return EXIT_OK;
}

int cmd_forecast(int argc, char **argv)
{
    if (g_cli.help || argc < 2) {
        help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "bass") == 0)
        return bass(argc, argv);
    return cli_usage_error("unknown forecast command '%s' (bass; adoption "
                           "and backtest come with the knowledge graph)",
                           argv[1]);
}
