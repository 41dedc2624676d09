/* value_model.c - the value model for the registry: train, evaluate,
 * store its parameters and read them back (see prioritize.h, models.h).
 *
 * Training is the backtest's time split (prioritize.c does the work:
 * pz_split_at, pz_train_rows, pz_fit, pz_holdout): the regression is fitted
 * on the items shipped before the cutoff, with their features as of their
 * decision day and outcomes measured from data before the cutoff, and
 * scored on the items shipped from the cutoff on, whose realized value is
 * measured through now. Unlike aipm_prioritize, too few items is an error,
 * never the RICE fallback: a registered version is a regression or
 * nothing.
 *
 * The artifact holds every number a prediction needs - the
 * standardization (mu, sd) and the posterior (mn, Ln^-1, its Cholesky
 * factor, an, bn) - as JSON reals, which jansson writes with 17
 * significant digits, so a model read back predicts exactly as the one
 * written. Reading it back trusts nothing: every array has its length and
 * every number is finite, or the artifact is refused.
 *
 * The artifact also keeps the reference sample monitoring compares the
 * data now with (models.h), and it is of the population the model
 * scores, not of what it was trained on: the items the ranking would
 * have ranked at the cutoff - open then, which includes those shipped
 * since - with their features as of the cutoff day and the model's
 * expected value of each. The training rows would not do: they are
 * shipped items, features as of their decision days, and the reading's
 * open items differ from them by construction, so a healthy model would
 * show drift. The reference is taken after the holdout and reads
 * nothing the training or its metrics read. Besides it, what a reading
 * needs: the cutoff (the holdout starts there, and so does monitoring's
 * performance window) and the seed and number of draws the expected
 * values were drawn with, so that a reading scores as the training did,
 * not with another sample.
 *
 * The reading (aipm_pz_model_reading) is made of the same pieces: the
 * items open now with their features as aipm_prioritize computes them
 * (open_on_day and sample_json, as for the reference, on the ranking's
 * as-of day instead of the cutoff), scored by the version's parameters
 * as aipm_prioritize scores with a registered version
 * (pz_model_from_artifact, pz_draw_posterior, pz_score_all), and the
 * trainer's holdout (pz_split_at, pz_holdout, the same metrics) at the
 * version's cutoff, measured through now - so at the training's own now
 * it gives the card's holdout metrics again, and just before the cutoff
 * its current sample is the reference.
 */
#include "prioritize/prioritize_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the artifact ---- */

static json_t *reals(const double *x, int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(x[i])) != 0) {
            json_decref(a); /* NAN or infinity: json_real refuses it */
            return NULL;
        }
    return a;
}

json_t *pz_model_artifact(const pz_model *m)
{
    json_t *names = json_array(), *a;
    int j;

    for (j = 0; names && j < PZ_P; j++)
        json_array_append_new(names, json_string(pz_feature_names[j]));
    a = json_pack(
        "{s:s, s:o, s:o, s:o, s:{s:i, s:i, s:o, s:o, s:o, s:f, "
        "s:f}, s:f, s:i}",
        "model", PZ_MODEL_VERSION, "features", names, "mu", reals(m->mu, PZ_P),
        "sd", reals(m->sd, PZ_P), "blr", "p", m->blr.p, "n", m->blr.n, "mn",
        reals(m->blr.mn, PZ_P), "cov", reals(m->blr.cov, PZ_P * PZ_P), "chol",
        reals(m->blr.chol, PZ_P * PZ_P), "an", m->blr.an, "bn", m->blr.bn,
        "rice_median", m->rice_median, "n_train", m->n_train);
    return a; /* json_pack drops the references it took when it fails */
}

/* n finite numbers from the array at key; 0, or -1 when it is not one. */
static int read_reals(const json_t *obj, const char *key, double *out, int n)
{
    const json_t *a = json_object_get(obj, key);
    int i;

    if (!json_is_array(a) || json_array_size(a) != (size_t)n)
        return -1;
    for (i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, (size_t)i);

        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return -1;
        out[i] = json_number_value(v);
    }
    return 0;
}

static int read_real(const json_t *obj, const char *key, double *out)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return -1;
    *out = json_number_value(v);
    return 0;
}

static int read_count(const json_t *obj, const char *key, int *out)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > 1000000000)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

int pz_model_from_artifact(pz_model *m, const json_t *a, const char *what,
                           aipm_error *err)
{
    const json_t *blr = json_object_get(a, "blr"), *names;
    const char *kind = json_string_value(json_object_get(a, "model"));
    const char *bad = NULL;
    int j, p = 0;

    memset(m, 0, sizeof(*m));
    if (!json_is_object(a))
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: its parameters are not a JSON object", what);
    if (kind == NULL || strcmp(kind, PZ_MODEL_VERSION) != 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: parameters of model '%.60s', this build "
                              "reads '%s'",
                              what, kind ? kind : "(none)", PZ_MODEL_VERSION);
    names = json_object_get(a, "features");
    if (!json_is_array(names) || json_array_size(names) != PZ_P)
        bad = "features";
    for (j = 0; !bad && j < PZ_P; j++) {
        const char *s = json_string_value(json_array_get(names, (size_t)j));

        if (s == NULL || strcmp(s, pz_feature_names[j]) != 0)
            bad = "features";
    }
    if (!bad && read_reals(a, "mu", m->mu, PZ_P))
        bad = "mu";
    if (!bad && read_reals(a, "sd", m->sd, PZ_P))
        bad = "sd";
    for (j = 0; !bad && j < PZ_P; j++)
        if (!(m->sd[j] > 0))
            bad = "sd";
    if (!bad && !json_is_object(blr))
        bad = "blr";
    if (!bad && (read_count(blr, "p", &p) || p != PZ_P))
        bad = "blr.p";
    if (!bad && read_count(blr, "n", &m->blr.n))
        bad = "blr.n";
    if (!bad && read_reals(blr, "mn", m->blr.mn, PZ_P))
        bad = "blr.mn";
    if (!bad && read_reals(blr, "cov", m->blr.cov, PZ_P * PZ_P))
        bad = "blr.cov";
    for (j = 0; !bad && j < PZ_P; j++)
        if (!(m->blr.cov[j * PZ_P + j] > 0)) /* a variance */
            bad = "blr.cov";
    if (!bad && read_reals(blr, "chol", m->blr.chol, PZ_P * PZ_P))
        bad = "blr.chol";
    if (!bad && (read_real(blr, "an", &m->blr.an) || !(m->blr.an > 0)))
        bad = "blr.an";
    if (!bad && (read_real(blr, "bn", &m->blr.bn) || !(m->blr.bn > 0)))
        bad = "blr.bn";
    if (!bad && read_real(a, "rice_median", &m->rice_median))
        bad = "rice_median";
    if (!bad && read_count(a, "n_train", &m->n_train))
        bad = "n_train";
    if (bad) {
        memset(m, 0, sizeof(*m));
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: its parameters have no valid %s, so it "
                              "is not used (aipm model list shows the "
                              "other versions)",
                              what, bad);
    }
    m->blr.p = PZ_P;
    m->bayes = 1;
    return AIPM_OK;
}

/* ---- training ---- */

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The ship day that leaves the last quarter of the shipped items with an
 * outcome through end_day (at least AIPM_PZ_MIN_HOLDOUT) on or after it.
 * days has d->n_items entries. */
static int64_t default_cutoff(const pz_data *d, int64_t end_day, int64_t *days)
{
    int i, n = 0, h;

    for (i = 0; i < d->n_items; i++)
        if (d->items[i].shipped_day >= 0 && isfinite(pz_outcome(d, i, end_day)))
            days[n++] = d->items[i].shipped_day;
    if (n == 0)
        return end_day;
    qsort(days, (size_t)n, sizeof(*days), cmp_day);
    h = (n + 3) / 4;
    if (h < AIPM_PZ_MIN_HOLDOUT)
        h = AIPM_PZ_MIN_HOLDOUT;
    return days[h < n ? n - h : 0];
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* MAE, RMSE and Spearman of pred against real over rows (n of them). */
static json_t *errors_json(const double *pred, const double *real, int n)
{
    return json_pack("{s:i, s:o, s:o, s:o}", "n", n, "mae",
                     num(aipm_mae(pred, real, n)), "rmse",
                     num(aipm_rmse(pred, real, n)), "spearman",
                     num(aipm_spearman(pred, real, n)));
}

/* ---- the population the model scores ---- */

/* Whether the ranking would have ranked an item at the start of day:
 * created before it and not shipped before it (one shipped since was
 * open then). The backlog keeps each item's newest row, not the history
 * of its status, so an item dropped now is taken as dropped on any day:
 * an approximation that leaves out of a past day's population the items
 * dropped after it. A shipped item without a valid ship day is never
 * open, as the ranking neither ranks nor trains on it. */
static int open_on(const pz_item *it, int64_t day)
{
    if (it->created_day >= day)
        return 0;
    if (strcmp(it->status, "shipped") == 0)
        return it->shipped_day >= day;
    return strcmp(it->status, "idea") == 0 ||
           strcmp(it->status, "planned") == 0 ||
           strcmp(it->status, "in_progress") == 0;
}

/* The items the ranking would have scored at the start of day, each with
 * its features as the ranking takes them then: accounts as known before
 * the day, every item shipped before it as of its decision day and every
 * other item as of the day (all of them, as the ranking does, because
 * reach before any telemetry is the mean over every item). The one
 * computation behind the reference (day: the cutoff) and the reading's
 * current sample (day: the ranking's as-of day), so the two cannot be
 * taken differently. rows (d->n_items entries) get the open items in
 * backlog order, *n how many; the store's error otherwise. */
static int open_on_day(pz_data *d, aipm_store *st, int64_t day,
                       double link_threshold, int *rows, int *n,
                       aipm_error *err)
{
    int i, rc;

    *n = 0;
    if ((rc = pz_accounts(d, st, day * PZ_DAY_MS, err)) != 0)
        return rc;
    for (i = 0; i < d->n_items; i++) {
        pz_item *it = &d->items[i];

        it->asof_day = it->shipped_day >= 0 && it->shipped_day < day
                           ? pz_decision_day(it)
                           : day;
    }
    if ((rc = pz_signals(d, st, link_threshold, NULL, NULL, err)) != 0)
        return rc;
    for (i = 0; i < d->n_items; i++)
        if (open_on(&d->items[i], day))
            rows[(*n)++] = i;
    return AIPM_OK;
}

/* A sample of rows in the shape of models.h's reference: of rows (all
 * of them up to AIPM_MODEL_REF_MAX, else that many spread evenly, so the
 * same rows each time), each regression feature's raw value (null: not
 * given) and the model's expected value, as the ranking computes it. The
 * items open at the cutoff make the reference, those open now the
 * reading's current sample (both from open_on_day): one function, so the
 * two cannot be computed differently. NULL when out of memory (err set
 * when the scoring failed). */
static json_t *sample_json(const pz_model *m, const pz_data *d, const int *rows,
                           int n, const aipm_pz_opts *o, aipm_error *err)
{
    int k = n < AIPM_MODEL_REF_MAX ? n : AIPM_MODEL_REF_MAX, i, j;
    pz_cand *c = calloc((size_t)(k ? k : 1), sizeof(*c));
    double(*raw)[PZ_P] = malloc((size_t)(k ? k : 1) * sizeof(*raw));
    json_t *feats = json_array(), *score = json_array(), *out = NULL;

    if (!c || !raw || !feats || !score)
        goto done;
    for (i = 0; i < k; i++) {
        c[i].item = rows[(int64_t)i * n / k];
        pz_features(&d->items[c[i].item], raw[i]);
        memcpy(c[i].x, raw[i], sizeof(raw[i]));
        pz_standardize(m, c[i].x);
    }
    if (pz_score_all(c, k, m, d, o, err) != AIPM_OK)
        goto done;
    for (j = 1; j < PZ_P; j++) {
        json_t *values = json_array();

        for (i = 0; values && i < k; i++)
            json_array_append_new(values, num(raw[i][j]));
        if (json_array_append_new(
                feats, json_pack("{s:s, s:s, s:o}", "name", pz_feature_names[j],
                                 "kind", "numerical", "values", values)) != 0)
            goto done;
    }
    for (i = 0; i < k; i++)
        json_array_append_new(score, num(c[i].v.capped_mean));
    out = json_pack("{s:O, s:O}", "features", feats, "score", score);
done:
    free(c);
    free(raw);
    json_decref(feats);
    json_decref(score);
    return out;
}

/* The holdout's metrics: the expected value of each of c[0..n) (the
 * capped mean of its draws, the backtest's "predicted"; into pred)
 * against its realized value - MAE, RMSE, Spearman, and the share whose
 * realized value fell within its P10..P90. The trainer's card and the
 * reading's performance both come from here. NULL when out of memory. */
static json_t *holdout_metrics(const pz_cand *c, const double *real,
                               double *pred, int n)
{
    json_t *out;
    int i, covered = 0;

    for (i = 0; i < n; i++) {
        pred[i] = c[i].v.capped_mean;
        covered += real[i] >= c[i].v.q[0] && real[i] <= c[i].v.q[2];
    }
    out = errors_json(pred, real, n);
    if (out && json_object_set_new(out, "p10_p90_coverage",
                                   n ? json_real((double)covered / n)
                                     : json_null()) != 0) {
        json_decref(out);
        out = NULL;
    }
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Per backlog area of the holdout, in the order of the area names:
 * [{"segment": "area=X", "n", "mae", "rmse", "spearman"}]. */
static json_t *segments_json(const pz_cand *c, const double *pred,
                             const double *real, int n, const pz_data *d)
{
    const char **areas = malloc((size_t)(n ? n : 1) * sizeof(*areas));
    double *sp = malloc((size_t)(n ? n : 1) * sizeof(double));
    double *sr = malloc((size_t)(n ? n : 1) * sizeof(double));
    json_t *out = json_array();
    int i, k, n_areas = 0;

    if (!areas || !sp || !sr || !out) {
        json_decref(out);
        out = NULL;
        goto done;
    }
    for (i = 0; i < n; i++)
        areas[i] = d->items[c[i].item].area;
    qsort(areas, (size_t)n, sizeof(*areas), cmp_str);
    for (i = 0; i < n; i++) /* distinct, in place */
        if (n_areas == 0 || strcmp(areas[n_areas - 1], areas[i]) != 0)
            areas[n_areas++] = areas[i];
    for (k = 0; k < n_areas; k++) {
        int m = 0;
        json_t *seg;
        char name[256];

        for (i = 0; i < n; i++)
            if (strcmp(d->items[c[i].item].area, areas[k]) == 0) {
                sp[m] = pred[i];
                sr[m++] = real[i];
            }
        snprintf(name, sizeof(name), "area=%s",
                 areas[k][0] ? areas[k] : "(none)");
        seg = errors_json(sp, sr, m);
        if (seg == NULL ||
            json_object_set_new(seg, "segment", json_string(name)) != 0 ||
            json_array_append_new(out, seg) != 0) {
            json_decref(out);
            out = NULL;
            goto done;
        }
    }
done:
    free(areas);
    free(sp);
    free(sr);
    return out;
}

/* Each regression feature, what it is, and the columns it is computed
 * from. The columns are those of aipm_pz_feature_columns (what
 * policies.pii is checked against); backlog.effort is read by the time
 * features of a shipped item because its decision day is the ship day less
 * its effort. */
static json_t *features_json(void)
{
    static const struct {
        const char *name, *definition, *columns[5];
    } f[PZ_P - 1] = {
        {"log1p_demand",
         "log(1 + demand per 30 days of the item's life): the accounts "
         "whose feedback is linked to the item (given, linked by its text, "
         "or corrected), each counted once, weighted by (1 + ARR / mean "
         "ARR) and halved every 90 days of age, as of the decision day",
         {"feedback.text", "backlog.title", "backlog.description",
          "backlog.effort", NULL}},
        {"reach",
         "daily users of the catalog features of the item's area per daily "
         "active user, mean over the 30 days before the decision day",
         {"backlog.area", "backlog.effort", NULL}},
        {"market",
         "least-squares trend per 30 days of each market signal of the "
         "item's area over the 90 days before the decision day, relative "
         "to the signal's mean, averaged over the signals",
         {"signals.value", "signals.area", "backlog.area", "backlog.effort",
          NULL}},
        {"has_rice",
         "1 when the PM gave RICE reach, impact and confidence",
         {"backlog.reach", "backlog.impact", "backlog.confidence", NULL}},
        {"log1p_rice_reach",
         "log(1 + the PM's RICE reach); the training mean when not given",
         {"backlog.reach", NULL}},
        {"rice_impact",
         "log of the PM's RICE impact (at least 0.001); the training mean "
         "when not given",
         {"backlog.impact", NULL}},
        {"rice_confidence",
         "log of the PM's RICE confidence (at least 0.001); the training "
         "mean when not given",
         {"backlog.confidence", NULL}},
    };
    json_t *out = json_array();
    int i, k;

    for (i = 0; out && i < PZ_P - 1; i++) {
        json_t *cols = json_array();

        for (k = 0; cols && f[i].columns[k]; k++)
            json_array_append_new(cols, json_string(f[i].columns[k]));
        if (json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "name",
                                                 f[i].name, "definition",
                                                 f[i].definition, "columns",
                                                 cols)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *hyper_json(int draws, int min_train)
{
    json_t *pv = json_object();
    int j;

    for (j = 0; pv && j < PZ_P; j++)
        json_object_set_new(pv, pz_feature_names[j],
                            json_real(pz_prior_var[j]));
    return json_pack("{s:o, s:s, s:f, s:f, s:i, s:f, s:i, s:s}",
                     "prior_variance", pv, "prior_mean",
                     "RICE's claim: 1 per sd on log1p_rice_reach, "
                     "rice_impact and rice_confidence; 0 on the others",
                     "a0", PZ_PRIOR_A0, "b0", PZ_PRIOR_B0, "draws", draws,
                     "effort_log_sd", AIPM_PZ_EFFORT_SIGMA, "min_trained",
                     min_train, "standardization",
                     "z-scores over the training items");
}

static json_t *card_json(int n_train)
{
    char few[200];

    snprintf(few, sizeof(few),
             "trained on %d shipped items: with a few dozen the prior "
             "carries much of the weight and the intervals are wide",
             n_train);
    return json_pack(
        "{s:s, s:s, s:[s, s, s, s, s, s]}", "predicts",
        "the value a backlog item delivers once shipped - distinct daily "
        "users of it per 10,000 daily actives - as a distribution, from "
        "its demand, reach, market trend and the PM's RICE as of its "
        "decision day",
        "segments_by", "area", "limits", few,
        "the outcome is adoption (distinct daily users), a proxy for "
        "value: revenue, retention and strategic worth are not measured",
        "items with no events carrying their item_id or catalog feature "
        "have no outcome: they are neither trained on nor tested",
        "demand comes from feedback linked by its text: wrong or missing "
        "links bias it",
        "the holdout is the items shipped last: its metrics speak of the "
        "recent past, and an area with few holdout items has loose ones",
        "effort is the estimate, drawn lognormal around it (log-sd 0.5), "
        "not learned; and the model is linear in log value, with no "
        "interactions between features");
}

int aipm_pz_model_train(aipm_model_fit *out, aipm_store *st,
                        const aipm_config *cfg, int64_t cutoff_ms,
                        int64_t now_ms, uint64_t seed, aipm_error *err)
{
    pz_data d;
    pz_model m;
    aipm_pz_opts o;
    pz_cand *c = NULL;
    json_t *reference = NULL;
    int *idx = NULL, *open = NULL;
    double *y = NULL, *real = NULL, *pred = NULL;
    int64_t cutoff, end_day, *days = NULL;
    int i, n_train, n_hold = 0, n_open = 0, min_train, rc;
    size_t cap;
    char cut_s[32];
    static const char *const datasets[] = {"backlog", "feedback", "events",
                                           "signals", NULL};

    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    aipm_pz_opts_init(&o);
    o.seed = seed;
    o.now_ms = now_ms;
    o.record = 0;
    m.draws = o.draws;
    min_train = cfg && cfg->models.min_trained > 0
                    ? (int)cfg->models.min_trained
                    : AIPM_PZ_MIN_TRAIN;
    if ((rc = pz_load(&d, st, cfg, now_ms, err)) != 0)
        goto done;
    cap = (size_t)d.n_items + 1;
    idx = malloc(cap * sizeof(*idx));
    y = malloc(cap * sizeof(*y));
    real = malloc(cap * sizeof(*real));
    pred = malloc(cap * sizeof(*pred));
    days = malloc(cap * sizeof(*days));
    open = malloc(cap * sizeof(*open));
    c = calloc(cap, sizeof(*c));
    if (!idx || !y || !real || !pred || !days || !open || !c) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    end_day = d.now_day + 1;
    cutoff = cutoff_ms != 0 ? cutoff_ms / PZ_DAY_MS
                            : default_cutoff(&d, end_day, days);
    aipm_time_format(cut_s, cutoff * PZ_DAY_MS);
    cut_s[10] = '\0';
    /* Counted before any work, so that the error says both. */
    n_train = pz_train_rows(&d, cutoff, cutoff, idx, y);
    for (i = 0; i < d.n_items; i++)
        n_hold += d.items[i].shipped_day >= cutoff &&
                  isfinite(pz_outcome(&d, i, end_day));
    if (n_train < min_train || n_hold < AIPM_PZ_MIN_HOLDOUT) {
        rc = aipm_error_set(
            err, AIPM_EINVALID,
            "value model: %d shipped items with an outcome before the cutoff "
            "%s (policies.models.min_trained: %d) and %d from it on (at "
            "least %d): pick another cutoff or wait for more to ship",
            n_train, cut_s, min_train, n_hold, AIPM_PZ_MIN_HOLDOUT);
        goto done;
    }
    /* The features of the rows counted above, as of the split. */
    if ((rc = pz_split_at(&d, st, cutoff, 0, err)) != 0)
        goto done;
    m.rice_median = pz_median_rice(&d);
    if ((rc = pz_fit(&m, &d, idx, y, n_train, err)) != 0 ||
        (rc = pz_draw_posterior(&m, seed, err)) != 0 ||
        (rc = pz_holdout(c, real, &n_hold, &m, &d, cutoff, end_day, &o, err)) !=
            0)
        goto done;
    /* The reference (see the top): the items open at the cutoff, as of
     * it. It takes every item's features again, so it comes after the
     * fit and the holdout, whose candidates (c) and outcomes (real) are
     * all the metrics below read. */
    if ((rc = open_on_day(&d, st, cutoff, o.link_threshold, open, &n_open,
                          err)) != 0)
        goto done;
    if ((reference = sample_json(&m, &d, open, n_open, &o, err)) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    out->kind = "value";
    out->datasets = datasets;
    out->artifact = pz_model_artifact(&m);
    /* What a reading needs besides the parameters (see the top). */
    if (out->artifact &&
        (json_object_set(out->artifact, "reference", reference) != 0 ||
         json_object_set_new(out->artifact, "cutoff", json_string(cut_s)) !=
             0 ||
         json_object_set_new(out->artifact, "seed",
                             json_integer((json_int_t)seed)) != 0 ||
         json_object_set_new(out->artifact, "draws", json_integer(m.draws)) !=
             0)) {
        json_decref(out->artifact);
        out->artifact = NULL;
    }
    out->metrics = holdout_metrics(c, real, pred, n_hold);
    out->segments = segments_json(c, pred, real, n_hold, &d);
    out->features = features_json();
    out->hyper = hyper_json(m.draws, min_train);
    out->data = json_pack("{s:s, s:i, s:i, s:s}", "cutoff", cut_s, "train_rows",
                          n_train, "holdout_rows", n_hold, "outcome",
                          "log1p distinct daily users of the item per "
                          "10,000 daily actives");
    out->card = card_json(n_train);
    if (!out->artifact || !out->metrics || !out->segments || !out->features ||
        !out->hyper || !out->data || !out->card) {
        /* every number here is finite, so a refusal is memory */
        aipm_model_fit_free(out);
        memset(out, 0, sizeof(*out));
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
done:
    json_decref(reference);
    free(idx);
    free(open);
    free(y);
    free(real);
    free(pred);
    free(days);
    free(c);
    pz_model_free(&m);
    pz_free(&d);
    return rc;
}

/* ---- the monitoring reading ---- */

#define MAX_DRAWS 1000000 /* as `aipm prioritize --draws` allows */

/* The model of an artifact with its posterior drawn as the training drew
 * it, the options it scored with, and its cutoff day; AIPM_EINVALID when
 * any of it is missing or malformed. */
static int read_version(pz_model *m, aipm_pz_opts *o, int64_t *cutoff,
                        const json_t *a, aipm_error *err)
{
    const char *cut = json_string_value(json_object_get(a, "cutoff"));
    const json_t *seed = json_object_get(a, "seed");
    int64_t ms;
    int draws = 0, rc;

    if ((rc = pz_model_from_artifact(m, a, "value model", err)) != 0)
        return rc;
    if (cut == NULL || aipm_time_parse(&ms, cut, strlen(cut), 1) != AIPM_OK)
        return aipm_error_set(err, AIPM_EINVALID,
                              "value model: its parameters have no valid "
                              "cutoff date, so it cannot be monitored "
                              "(train a new version)");
    if (!json_is_integer(seed) || read_count(a, "draws", &draws) || draws < 1 ||
        draws > MAX_DRAWS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "value model: its parameters have no valid "
                              "seed and draws, so it cannot be monitored "
                              "(train a new version)");
    /* Days since 1970, rounded down before it too. */
    *cutoff = ms >= 0 ? ms / PZ_DAY_MS : (ms - PZ_DAY_MS + 1) / PZ_DAY_MS;
    aipm_pz_opts_init(o);
    o->seed = (uint64_t)json_integer_value(seed);
    o->draws = draws;
    o->record = 0;
    m->draws = draws;
    return pz_draw_posterior(m, o->seed, err);
}

int aipm_pz_model_reading(aipm_model_reading *out, aipm_store *st,
                          const aipm_config *cfg, const json_t *artifact,
                          int64_t now_ms, aipm_error *err)
{
    pz_data d;
    pz_model m;
    aipm_pz_opts o;
    pz_cand *c = NULL;
    int *open = NULL;
    double *real = NULL, *pred = NULL;
    int64_t cutoff = 0, end_day;
    int n_open = 0, n_hold = 0, rc;
    size_t cap;
    char from_s[32], to_s[32];

    memset(out, 0, sizeof(*out));
    memset(&d, 0, sizeof(d));
    memset(&m, 0, sizeof(m));
    /* The catalog maps events to areas: no reach without it. */
    if (cfg == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "value model: a reading needs the "
                              "configuration (aipm.yaml)");
    if ((rc = read_version(&m, &o, &cutoff, artifact, err)) != 0 ||
        (rc = pz_load(&d, st, cfg, now_ms, err)) != 0)
        goto done;
    o.now_ms = now_ms;
    cap = (size_t)d.n_items + 1;
    open = malloc(cap * sizeof(*open));
    real = malloc(cap * sizeof(*real));
    pred = malloc(cap * sizeof(*pred));
    c = calloc(cap, sizeof(*c));
    if (!open || !real || !pred || !c) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    /* current: the items open now as aipm_prioritize ranks them, on its
     * as-of day - the day after now's, so everything through now's day.
     * The ranking takes the accounts as known before now plus a day: the
     * start of that day when now is a date, and otherwise later only by
     * traits stamped after now. test_prioritize checks the rows against
     * the ranking's. */
    if ((rc = open_on_day(&d, st, d.now_day + 1, o.link_threshold, open,
                          &n_open, err)) != 0)
        goto done;
    out->current = sample_json(&m, &d, open, n_open, &o, err);
    if (out->current == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    /* performance: the trainer's holdout at the version's cutoff, the
     * outcomes measured through now. The split takes every item's
     * features again (as of its decision day, never after the cutoff), so
     * it comes after current has been read. A cutoff after now has
     * nothing labelled yet. */
    end_day = d.now_day + 1;
    if (cutoff < end_day &&
        ((rc = pz_split_at(&d, st, cutoff, o.link_threshold, err)) != 0 ||
         (rc = pz_holdout(c, real, &n_hold, &m, &d, cutoff, end_day, &o,
                          err)) != 0))
        goto done;
    if (n_hold == 0)
        out->performance = json_null();
    else {
        aipm_time_format(from_s, cutoff * PZ_DAY_MS);
        aipm_time_format(to_s, now_ms);
        from_s[10] = to_s[10] = '\0';
        out->performance = holdout_metrics(c, real, pred, n_hold);
        if (out->performance &&
            json_object_set_new(
                out->performance, "window",
                json_pack("{s:s, s:s}", "from", from_s, "to", to_s)) != 0) {
            json_decref(out->performance);
            out->performance = NULL;
        }
    }
    if (out->performance == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    /* forecasts: the value model makes none (NULL). */
done:
    if (rc != AIPM_OK)
        aipm_model_reading_free(out);
    free(open);
    free(real);
    free(pred);
    free(c);
    pz_model_free(&m);
    pz_free(&d);
    return rc;
}
