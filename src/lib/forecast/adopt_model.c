/* adopt_model.c - the adoption model of the registry (models.h): the
 * hazard model of every feature fitted before a cutoff, scored as a
 * classifier on the days from it.
 *
 * The data are the backtest's (aipm_adoption_open with the holdout from
 * the cutoff C to the data's end), so nothing from day C on reaches a
 * fit or a prediction. For each catalog feature with an adopter before
 * C, the hazard model of each segment is fitted at C exactly as the
 * forecast fits it (aipm_forecast__fit_at: the same user-days, the same
 * refit with pi held at 1 when it comes out above PI_BOUND). Then each
 * user at risk at C - first seen before C, not adopted before C, in a
 * segment that has a fit - gets the probability of adopting within the
 * window [C, C + H):
 *
 *   P = w (1 - (1 - h(s))^k)
 *
 *   w = pi S / (1 - pi + pi S), the posterior probability that the user
 *       is eligible given no adoption so far (Kuk and Chen 1992), S =
 *       prod over the user's at-risk active days before C of (1 - h(s_t));
 *       1 when pi is held at 1;
 *   h(s) = 1 / (1 + e^-(alpha + beta s)), s the user's graph signal at C:
 *       the share of the neighbours linked before C who adopted before C
 *       (the forecast's starting signal), held over the window;
 *   k = sum over the window's days t of A(t - first), the user's expected
 *       active days in it: A(age) the segment's share of users active at
 *       that age (the curve the forecast's forward run uses, from the days
 *       before C; flat from 28 days on).
 *
 * (k from the user's own share of active days over the 28 days before C,
 * times H, was tried first: on the demo (3000 users, 120 days, by plan)
 * it scored AUC 0.640, log loss 0.071, ECE 0.0066 against 0.735, 0.042
 * and 0.0010 with A; it predicts 0 for a user inactive in those days,
 * and such users adopted at 0.45%; and the demo's recent activity
 * regresses hard to the mean - users with 6 to 8 active days in the 28
 * before C had 1.7 in the 28 after, those with 0 to 2 had 1.05.)
 *
 * The outcome is whether the user adopted in [C, C + H). The predictions
 * of all features are pooled for the overall figures (AUC, log loss,
 * Brier, the equal-count ECE and its decile table: calibration.h), and
 * grouped by segment (the segments of the registry's rules) and by
 * feature. coverage_80 runs each feature's backtest over the same holdout
 * through aipm_adoption_run with the hazard model, and counts the
 * (segment, day) points of the segments forecast by it whose 80% interval
 * held the observed cumulative adopters.
 *
 * The artifact keeps what a prediction reads - per feature and segment
 * the hazard fit, per segment the activity curve, the segments in order,
 * the cutoff, the window, the segmenting trait - and the reference
 * sample monitoring compares the data now with (models.h): one row per
 * scored (feature, user) pair, its graph signal at C, its share of
 * active days in the 28 days before C, its segment (the index into the
 * artifact's "segments"), and its prediction; all of them up to
 * AIPM_MODEL_REF_MAX rows, else that many spread evenly over the pairs
 * in scoring order (feature, segment, user), so the same data gives the
 * same rows.
 *
 * The reading (aipm_adoption_model_reading) scores with the same
 * function (score_feature) from the artifact's copy of the parameters,
 * never refitted: the users at risk at the data's end (current), and the
 * users at risk at end - H against whether they adopted by the end
 * (performance) - at the training's own data and cutoff that is the
 * trainer's holdout again, figure for figure. The adoption forecasts
 * recorded as decisions are compared with the cumulative adopters
 * observed since, per segment of their own segmentation.
 *
 * The artifact's parser (aipm_forecast__art_read) is the one place that
 * reads a stored version: the reading uses it, and so does a forecast run
 * by a registered version (adopt_run.c), which takes its segments' hazard
 * fits, covariance included, from it.
 *
 * Memory: the loaded data (adoption.c), one feature's fit at a time, and
 * a prediction, an outcome, two small indexes and two features per
 * scored (feature, user) pair.
 */
#include "forecast/forecast_int.h"

#include "aipm/calibration.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_HORIZON 28
#define ECE_BINS 10
/* the parameter draws of the backtests' intervals, as the forecast's */
#define COVERAGE_DRAWS 50
#define COVERAGE_SEED 1
/* the days before C over which a user's active share is taken */
#define SHARE_DAYS 28
/* the longest window a stored artifact may ask for (adoption.c's
 * longest span of loaded days) */
#define MAX_HORIZON 4096

/* The scored (feature, user) pairs. */
typedef struct scored {
    double *p;
    unsigned char *y;
    int *feature;  /* catalog index */
    int *seg;      /* index into the artifact's segments */
    double *sig;   /* the graph signal at the cutoff */
    double *share; /* the share of active days in the SHARE_DAYS before */
    size_t n, cap;
} scored;

static int scored_add(scored *s, double p, int y, int feature, int seg,
                      double sig, double share)
{
    if (s->n + 1 > s->cap) {
        size_t c1 = s->cap, c2 = s->cap, c3 = s->cap, c4 = s->cap, c5 = s->cap;

        if (aipm_grow(&s->p, &c1, s->n + 1, sizeof(double)) ||
            aipm_grow(&s->y, &c2, s->n + 1, 1) ||
            aipm_grow(&s->feature, &c3, s->n + 1, sizeof(int)) ||
            aipm_grow(&s->sig, &c4, s->n + 1, sizeof(double)) ||
            aipm_grow(&s->share, &c5, s->n + 1, sizeof(double)) ||
            aipm_grow(&s->seg, &s->cap, s->n + 1, sizeof(int)))
            return AIPM_ENOMEM;
    }
    s->p[s->n] = p;
    s->y[s->n] = (unsigned char)(y != 0);
    s->feature[s->n] = feature;
    s->sig[s->n] = sig;
    s->share[s->n] = share;
    s->seg[s->n++] = seg;
    return AIPM_OK;
}

static void scored_free(scored *s)
{
    free(s->p);
    free(s->y);
    free(s->feature);
    free(s->seg);
    free(s->sig);
    free(s->share);
    memset(s, 0, sizeof(*s));
}

/* {"n", "positives", "auc", "log_loss", "brier", "ece", "ece_bins"} of n
 * predictions (the figures a statistic cannot have, null); table (may be
 * NULL, else ECE_BINS entries) gets the bins. NULL when out of memory. */
static json_t *scores(const double *p, const unsigned char *y, size_t n,
                      aipm_calib_bin *table)
{
    size_t i, pos = 0;
    double ece = aipm_ece(p, y, n, ECE_BINS, table);

    if (ece < 0)
        return NULL;
    for (i = 0; i < n; i++)
        pos += y[i] != 0;
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:i}", "n", (json_int_t)n,
                     "positives", (json_int_t)pos, "auc",
                     aipm_forecast__num(aipm_auc(p, y, n)), "log_loss",
                     aipm_forecast__num(aipm_log_loss(p, y, n)), "brier",
                     aipm_forecast__num(aipm_brier(p, y, n)), "ece",
                     aipm_forecast__num(ece), "ece_bins", ECE_BINS);
}

/* The scores of the pairs whose feature (by_feature) or segment is
 * `value`, into the scratch sp, sy (n entries each). */
static json_t *group_scores(const scored *s, int by_feature, int value,
                            double *sp, unsigned char *sy)
{
    size_t i, m = 0;

    for (i = 0; i < s->n; i++)
        if ((by_feature ? s->feature[i] : s->seg[i]) == value) {
            sp[m] = s->p[i];
            sy[m++] = s->y[i];
        }
    return scores(sp, sy, m, NULL);
}

/* The pooled figures of s (scores()) with the predicted-vs-observed
 * table by decile, "calibration": the trainer's holdout metrics and the
 * reading's performance both come from here. NULL when out of memory. */
static json_t *perf_json(const scored *s)
{
    aipm_calib_bin table[ECE_BINS];
    json_t *out, *calib = json_array();
    int k;

    memset(table, 0, sizeof(table));
    out = scores(s->p, s->y, s->n, table);
    if (out == NULL || calib == NULL) {
        json_decref(out);
        json_decref(calib);
        return NULL;
    }
    for (k = 0; k < ECE_BINS; k++)
        json_array_append_new(
            calib, json_pack("{s:o, s:o, s:I, s:o, s:o}", "lo",
                             aipm_forecast__num(table[k].lo), "hi",
                             aipm_forecast__num(table[k].hi), "n",
                             (json_int_t)table[k].n, "mean_p",
                             aipm_forecast__num(table[k].mean_p), "mean_y",
                             aipm_forecast__num(table[k].mean_y)));
    json_object_set_new(out, "calibration", calib);
    return out;
}

/* The sample of s in the shape of models.h's reference: all the pairs
 * up to AIPM_MODEL_REF_MAX, else that many spread evenly (row i * n / k,
 * the same rows in every list). The trainer's pairs make the reference,
 * the reading's the current sample: one function, so the two cannot be
 * laid out differently. NULL when out of memory. */
static json_t *sample_json(const scored *s)
{
    size_t k = s->n < AIPM_MODEL_REF_MAX ? s->n : AIPM_MODEL_REF_MAX, i;
    json_t *sig = json_array(), *share = json_array(), *seg = json_array(),
           *score = json_array();

    for (i = 0; sig && share && seg && score && i < k; i++) {
        size_t row = (size_t)((uint64_t)i * s->n / k);

        if (json_array_append_new(sig, aipm_forecast__num(s->sig[row])) ||
            json_array_append_new(share, aipm_forecast__num(s->share[row])) ||
            json_array_append_new(seg, json_integer(s->seg[row])) ||
            json_array_append_new(score, aipm_forecast__num(s->p[row]))) {
            json_decref(sig);
            sig = NULL;
        }
    }
    /* (json_pack drops the references it took when it fails) */
    return json_pack("{s:[{s:s, s:s, s:o}, {s:s, s:s, s:o}, {s:s, s:s, s:o}], "
                     "s:o}",
                     "features", "name", "graph_signal", "kind", "numerical",
                     "values", sig, "name", "active_share", "kind", "numerical",
                     "values", share, "name", "segment", "kind", "categorical",
                     "values", seg, "score", score);
}

/* The 80% interval coverage of feature's backtest on a's holdout: the
 * (segment, day) points of the segments the hazard model forecast, and
 * how many held the observed count. A backtest that cannot run (too many
 * cells, nothing to test) adds nothing; only running out of memory
 * fails. */
static int coverage(aipm_adoption *a, const char *feature, double *hits,
                    double *points, aipm_error *err)
{
    aipm_adoption_opts o = {a->holdout, AIPM_ADOPTION_HAZARD, COVERAGE_DRAWS,
                            COVERAGE_SEED, -1};
    aipm_error mine = {0, ""};
    json_t *doc = NULL, *sg, *row;
    size_t i, j;
    int rc = aipm_adoption_run(&doc, a, feature, &o, &mine);

    if (rc == AIPM_ENOMEM)
        return aipm_error_set(err, rc, "%s", mine.msg);
    if (rc != AIPM_OK)
        return AIPM_OK;
    json_array_foreach(json_object_get(doc, "segments"), i, sg)
    {
        const char *model = json_string_value(json_object_get(sg, "model"));

        if (model == NULL || strcmp(model, "hazard") != 0)
            continue;
        json_array_foreach(json_object_get(sg, "forecast"), j, row)
        {
            json_t *lo = json_object_get(row, "lo80"),
                   *hi = json_object_get(row, "hi80"),
                   *obs = json_object_get(row, "observed");

            if (!json_is_number(lo) || !json_is_number(hi) ||
                !json_is_number(obs))
                continue;
            *points += 1;
            *hits += json_number_value(lo) <= json_number_value(obs) &&
                     json_number_value(obs) <= json_number_value(hi);
        }
    }
    json_decref(doc);
    return AIPM_OK;
}

/* The hazard fit of a segment, as the artifact keeps it. */
static json_t *fit_json(const aipm_hazard *h)
{
    json_t *cov = json_array();
    int i;

    for (i = 0; cov && i < 9; i++)
        json_array_append_new(cov, aipm_forecast__num(h->cov[i]));
    return json_pack(
        "{s:o, s:o, s:o, s:o*, s:I, s:I, s:I}", "alpha",
        aipm_forecast__num(h->alpha), "beta", aipm_forecast__num(h->beta), "pi",
        aipm_forecast__num(h->pi), "cov", cov, "n_users",
        (json_int_t)h->n_users, "n_events", (json_int_t)h->n_events,
        "user_days", (json_int_t)h->n_days);
}

/* One segment's parameters as a prediction reads them (forecast_int.h). */
typedef struct aipm_forecast__seg_par seg_par;

/* The segment's share of users active at age days since their first
 * (fit_at's curve: ages past its end at its last value). */
static double act_at(const seg_par *sp, int64_t age)
{
    return sp->act[age < 0 ? 0 : age >= sp->n_act ? sp->n_act - 1 : age];
}

/* The curve as the artifact keeps it: ages 0, 1, ... up to the age from
 * which it stays at its last value. */
static json_t *activity_json(const struct aipm_forecast__seg *sg)
{
    json_t *v = json_array();
    int last = MAX_AGE, age;

    while (last > 0 && sg->act[last - 1] == sg->act[MAX_AGE])
        last--;
    for (age = 0; v && age <= last; age++)
        json_array_append_new(v, aipm_forecast__num(sg->act[age]));
    return v;
}

/* Score every user at risk of feature fi at C - r holds the hazard data
 * at C (fit_at, or aipm_forecast__hazard_data) - for the window [C, C +
 * H), into s: the data's segment k is scored with par[map[k]], the
 * parameters of the artifact's segment map[k]; those at risk in a segment
 * with no parameters (map[k] < 0, or no fit) count in *unscored. The
 * artifact's segments are walked in their order, so a reading of the
 * trainer's own data lists the pairs in the trainer's order (the
 * equal-count bins take equal predictions in that order). */
static int score_feature(const struct aipm_forecast__run *r, int fi, int32_t C,
                         int H, const seg_par *par, int n_par, const int *map,
                         scored *s, int64_t *unscored)
{
    const aipm_adoption *a = r->a;
    int m, ks, j;

    for (ks = 0; ks < a->n_segs; ks++) {
        const struct aipm_forecast__seg *sg = &r->segs[ks];

        if (map[ks] >= 0 && par[map[ks]].ok)
            continue;
        for (j = 0; j < sg->nu; j++)
            *unscored += isnan(sg->ev[j]) && r->adopt[sg->user[j]] >= C;
    }
    for (m = 0; m < n_par; m++) {
        const seg_par *sp = &par[m];

        for (ks = 0; sp->ok && ks < a->n_segs; ks++) {
            const struct aipm_forecast__seg *sg = &r->segs[ks];

            if (map[ks] != m)
                continue;
            for (j = 0; j < sg->nu; j++) {
                int u = sg->user[j], den = 0, adopted = 0, active = 0;
                double log_s = 0, k = 0, w, sig, h, p;
                int32_t t;
                int64_t q;

                if (!isnan(sg->ev[j]) || r->adopt[u] < C)
                    continue; /* adopted before C: not at risk */
                for (q = sg->start[j]; q < sg->start[j + 1]; q++)
                    log_s += sg->rd[q] * log1p(-aipm_hazard_prob(
                                             sp->alpha, sp->beta, sg->rs[q]));
                /* pi S / (1 - pi + pi S) = 1 / (1 + e^-(logit pi + log S)) */
                w = sp->pi >= 1
                        ? 1
                        : 1 / (1 + exp(-(log(sp->pi / (1 - sp->pi)) + log_s)));
                for (q = a->nb_start[u]; q < a->nb_start[u + 1]; q++)
                    if (a->nb_since[q] < C) { /* linked before C */
                        den++;
                        adopted += r->adopt[a->nb[q]] < C;
                    }
                sig = den > 0 ? (double)adopted / den : 0;
                h = aipm_hazard_prob(sp->alpha, sp->beta, sig);
                for (t = C; t < C + H; t++) /* the active days expected */
                    k += act_at(sp, (int64_t)t - a->first[u]);
                /* 1 - (1 - h)^k without cancellation when h k is small
                 * (and no 0 x -inf when h rounds to 1 and k is 0) */
                p = k > 0 ? w * -expm1(k * log1p(-h)) : 0;
                /* (over a fixed span, not the user's own days: a user seen
                 * for a week has at most 7 of 28 - the tenure the model's
                 * activity curve reads too) */
                for (t = C - SHARE_DAYS; t < C; t++)
                    active += adoption_active(a, u, t);
                if (scored_add(s, p, r->adopt[u] < C + H, fi, m, sig,
                               (double)active / SHARE_DAYS) != AIPM_OK)
                    return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
            }
        }
    }
    return AIPM_OK;
}

/* The model's features: what its predictions read, and from where. */
static json_t *features_json(const char *by)
{
    json_t *f = json_pack(
        "[{s:s, s:s, s:[s, s, s, s, s]}, {s:s, s:s, s:[s]}]", "name",
        "graph_signal", "definition",
        "share of the user's neighbours (the other members of their "
        "accounts, and users linked to them in graph.csv) linked before the "
        "day who adopted the feature before the day",
        "columns", "events.event", "events.group_id", "events.ts", "graph.src",
        "graph.dst", "name", "active_day", "definition",
        "whether the user has an event on the day: the at-risk days of the "
        "fit; the segment's share of users active at each age (days since "
        "their first event) sets a user's expected active days in the "
        "window",
        "columns", "events.ts");
    char col[300];

    if (f == NULL || by == NULL)
        return f;
    /* The parameters are per segment: the segmenting trait is an input. */
    if (strcmp(by, "cohort") == 0)
        snprintf(col, sizeof(col), "events.ts");
    else
        snprintf(col, sizeof(col), "events.%s", by);
    json_array_append_new(
        f, json_pack("{s:s, s:s, s:[s]}", "name", "segment", "definition",
                     strcmp(by, "cohort") == 0
                         ? "the month of the user's first event (one set "
                           "of parameters per cohort)"
                         : "the user's newest value of the trait before "
                           "the cutoff, else their account's (one set of "
                           "parameters per value)",
                     "columns", col));
    return f;
}

int aipm_adoption_model_train(aipm_model_fit *out, aipm_store *st,
                              const aipm_config *cfg, const char *by,
                              int64_t cutoff_ms, int horizon,
                              const char *graph_snapshot, aipm_error *err)
{
    static const char *const datasets[] = {"events", "graph", NULL};
    aipm_adoption *a = NULL;
    struct aipm_forecast__run r;
    scored sc;
    seg_par par[MAX_SEGMENTS + 1];
    int map[MAX_SEGMENTS + 1];
    int64_t first_day, last_day, hold, unscored = 0, train_rows = 0;
    int found, rc, fi, k, H = horizon > 0 ? horizon : DEFAULT_HORIZON, W;
    int n_trained = 0;
    int32_t C, end;
    double *sp = NULL, hits = 0, points = 0;
    double *f_hits = NULL, *f_points = NULL;
    unsigned char *sy = NULL;
    json_t *artifact = NULL, *art_features = NULL, *metrics = NULL,
           *segments = NULL, *by_feature = NULL, *trained = NULL,
           *skipped = NULL, *activity = NULL, *seg_list = NULL,
           *reference = NULL;
    char cut_label[16], last_label[16];

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    memset(&sc, 0, sizeof(sc));
    if (horizon < 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "the horizon must be a number of days >= 1, "
                              "not %d",
                              horizon);
    if ((rc = aipm_store_event_day_range(st, &first_day, &last_day, &found,
                                         err)) != 0)
        return rc;
    if (!found)
        return aipm_error_set(err, AIPM_EINVALID,
                              "no events in the store: nothing to train the "
                              "adoption model on (aipm ingest events first)");
    end = (int32_t)last_day + 1;
    aipm_forecast__day_label(last_label, end - 1);
    if (cutoff_ms != 0) {
        hold = (int64_t)end - day_of_ms(cutoff_ms);
        aipm_forecast__day_label(cut_label, day_of_ms(cutoff_ms));
        if (hold <= 0)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "the cutoff %s is after the last day with "
                                  "data (%s): nothing to evaluate on",
                                  cut_label, last_label);
        if (day_of_ms(cutoff_ms) - first_day < 7) {
            char first_label[16];

            aipm_forecast__day_label(first_label, (int32_t)first_day);
            return aipm_error_set(err, AIPM_EINVALID,
                                  "the cutoff %s leaves less than a week of "
                                  "data before it (the first day is %s): "
                                  "nothing to train on",
                                  cut_label, first_label);
        }
    } else {
        hold = H;
    }
    /* (aipm_adoption_open refuses a holdout that leaves under a week) */
    if ((rc = aipm_adoption_open(&a, st, cfg, by,
                                 hold > 1 << 30 ? 1 << 30 : (int)hold,
                                 graph_snapshot, err)) != 0)
        return rc;
    C = a->cut;
    W = H < a->holdout ? H : a->holdout; /* the window ends with the data */
    aipm_forecast__day_label(cut_label, C);

    if ((rc = aipm_forecast__run_init(&r, a, err)) != 0)
        goto done;
    f_hits = calloc((size_t)cfg->n_catalog + 1, sizeof(double));
    f_points = calloc((size_t)cfg->n_catalog + 1, sizeof(double));
    artifact = json_object();
    activity = json_object();
    art_features = json_object();
    trained = json_array();
    skipped = json_array();
    if (!f_hits || !f_points || !artifact || !art_features || !trained ||
        !skipped || !activity) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }

    for (fi = 0; fi < cfg->n_catalog; fi++) {
        const aipm_feature *f = &cfg->catalog[fi];
        json_t *segs_art;
        int u, any = 0;

        rc = aipm_forecast__feature_days(&r, f, &r.launch);
        if (rc == AIPM_ENOMEM)
            goto done;
        for (u = 0; rc == AIPM_OK && u < a->n && !any; u++)
            any = r.adopt[u] < C;
        if (rc != AIPM_OK || !any || r.launch >= C) {
            json_array_append_new(
                skipped, json_pack("{s:s, s:s}", "feature", f->key, "reason",
                                   "no adopter before the cutoff"));
            rc = AIPM_OK;
            continue;
        }
        if ((rc = aipm_forecast__fit_at(&r, C, 2)) != 0)
            goto done;
        for (k = 0; k < a->n_segs; k++) {
            const struct aipm_forecast__seg *sg = &r.segs[k];

            par[k].ok = sg->hz_ok;
            par[k].alpha = sg->hz.alpha;
            par[k].beta = sg->hz.beta;
            par[k].pi = sg->hz.pi;
            memcpy(par[k].cov, sg->hz.cov, sizeof(par[k].cov));
            par[k].act = sg->act;
            par[k].n_act = MAX_AGE + 1;
            map[k] = k;
        }
        if ((rc = score_feature(&r, fi, C, W, par, a->n_segs, map, &sc,
                                &unscored)) != 0)
            goto done;
        if ((segs_art = json_object()) == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        for (k = 0; k < a->n_segs; k++) {
            const struct aipm_forecast__seg *sg = &r.segs[k];

            /* (the same for every feature: it counts users, not uses) */
            if (n_trained == 0)
                json_object_set_new(activity, a->seg_names[k],
                                    activity_json(sg));

            json_object_set_new(segs_art, a->seg_names[k],
                                sg->hz_ok ? fit_json(&sg->hz) : json_null());
            if (sg->hz_ok)
                train_rows += sg->hz.n_days;
        }
        {
            char from[16];

            /* from: the first day of the fit's user-days (the launch, or
             * the first day loaded when it launched before) */
            aipm_forecast__day_label(from, r.launch);
            json_object_set_new(
                art_features, f->key,
                json_pack("{s:s, s:o}", "from", from, "segments", segs_art));
        }
        json_array_append_new(trained, json_string(f->key));
        n_trained++;
        if ((rc = coverage(a, f->key, &f_hits[fi], &f_points[fi], err)) != 0)
            goto done;
        hits += f_hits[fi];
        points += f_points[fi];
    }
    if (n_trained == 0) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "no catalog feature has an adopter before the "
                            "cutoff %s: nothing to train the adoption model "
                            "on",
                            cut_label);
        goto done;
    }
    if (sc.n == 0) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "no user is at risk at the cutoff %s in a "
                            "segment with a fit: nothing to evaluate on",
                            cut_label);
        goto done;
    }

    /* ---- the figures ---- */
    sp = malloc(sc.n * sizeof(double));
    sy = malloc(sc.n);
    metrics = sp && sy ? perf_json(&sc) : NULL;
    segments = json_array();
    by_feature = json_array();
    seg_list = json_array();
    reference = sample_json(&sc);
    if (!metrics || !segments || !by_feature || !seg_list || !reference) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    json_object_set_new(metrics, "coverage_80",
                        points > 0 ? json_real(hits / points) : json_null());
    json_object_set_new(metrics, "coverage_points",
                        json_integer((json_int_t)points));
    for (k = 0; k < a->n_segs; k++) {
        json_t *g = group_scores(&sc, 0, k, sp, sy);
        char name[300];

        if (g == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        if (by)
            snprintf(name, sizeof(name), "%s=%s", by, a->seg_names[k]);
        else
            snprintf(name, sizeof(name), "%s", a->seg_names[k]);
        json_object_set_new(g, "segment", json_string(name));
        json_array_append_new(segments, g);
    }
    for (fi = 0; fi < cfg->n_catalog; fi++) {
        json_t *g;

        if (!json_object_get(art_features, cfg->catalog[fi].key))
            continue;
        if ((g = group_scores(&sc, 1, fi, sp, sy)) == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        json_object_set_new(g, "feature", json_string(cfg->catalog[fi].key));
        json_object_set_new(g, "coverage_80",
                            f_points[fi] > 0
                                ? json_real(f_hits[fi] / f_points[fi])
                                : json_null());
        json_array_append_new(by_feature, g);
    }
    json_object_set_new(metrics, "features", by_feature);
    by_feature = NULL;

    /* ---- what the registry keeps ---- */
    json_object_set_new(artifact, "by", by ? json_string(by) : json_null());
    json_object_set_new(artifact, "horizon", json_integer(W));
    json_object_set_new(artifact, "cutoff", json_string(cut_label));
    json_object_set_new(artifact, "activity", activity);
    activity = NULL;
    /* the order the reference's segment indexes count in */
    for (k = 0; k < a->n_segs; k++)
        json_array_append_new(seg_list, json_string(a->seg_names[k]));
    json_object_set_new(artifact, "segments", seg_list);
    seg_list = NULL;
    json_object_set_new(artifact, "reference", reference);
    reference = NULL;
    json_object_set_new(artifact, "features", art_features);
    art_features = NULL;
    out->kind = "adoption";
    out->artifact = artifact;
    artifact = NULL;
    out->metrics = metrics;
    metrics = NULL;
    out->segments = segments;
    segments = NULL;
    out->features = features_json(by);
    /* (prior_sd: hazard.c's normal prior on alpha and beta) */
    out->hyper = json_pack("{s:i, s:f, s:f, s:i, s:i, s:i, s:i, s:i}",
                           "horizon", W, "pi_bound", PI_BOUND, "prior_sd", 20.0,
                           "max_neighbours", MAX_NEIGHBOURS, "max_segments",
                           MAX_SEGMENTS, "ece_bins", ECE_BINS, "coverage_draws",
                           COVERAGE_DRAWS, "coverage_seed", COVERAGE_SEED);
    out->data = json_pack(
        "{s:s, s:I, s:I, s:i, s:i, s:I, s:o, s:o}", "cutoff", cut_label,
        "train_rows", (json_int_t)train_rows, "holdout_rows", (json_int_t)sc.n,
        "horizon", W, "holdout_days", a->holdout, "unscored_users",
        (json_int_t)unscored, "features", trained, "skipped", skipped);
    trained = skipped = NULL;
    out->card = json_pack(
        "{s:s, s:s, s:[s, s, s, s]}", "predicts",
        "the probability that a user seen before the cutoff who has not "
        "adopted a catalog feature adopts it within the next horizon days "
        "(one prediction per user and feature)",
        "segments_by", by ? by : "all", "limits",
        "the graph signal is held at its value at the cutoff over the "
        "window, and a user's active days in it are their segment's share "
        "of users active at each age, not their own recent activity",
        "users first seen from the cutoff on are not scored, nor users of "
        "a segment whose fit failed (data.unscored_users)",
        "features without an adopter before the cutoff are not trained "
        "(data.skipped)",
        "coverage_80 counts the backtest points of the segments the hazard "
        "model forecast; its intervals are calibrated on an earlier "
        "backtest");
    out->datasets = datasets;
    if (!out->features || !out->hyper || !out->data || !out->card) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    rc = AIPM_OK;
done:
    if (rc != AIPM_OK)
        aipm_model_fit_free(out);
    json_decref(artifact);
    json_decref(art_features);
    json_decref(metrics);
    json_decref(segments);
    json_decref(by_feature);
    json_decref(seg_list);
    json_decref(reference);
    json_decref(trained);
    json_decref(skipped);
    json_decref(activity);
    aipm_forecast__run_release(&r);
    scored_free(&sc);
    free(f_hits);
    free(f_points);
    free(sp);
    free(sy);
    aipm_adoption_free(a);
    return rc;
}

/* ---- the reading ---- */

/* A version's artifact, read and checked (forecast_int.h): what a reading
 * uses, and a forecast run by the version. */
typedef struct aipm_forecast__art art;

void aipm_forecast__art_free(art *m)
{
    int k;

    for (k = 0; k < m->n_segs; k++)
        free(m->act[k]);
    free(m->feat);
    free(m->par);
    memset(m, 0, sizeof(*m));
}

static int art_bad(aipm_error *err, const char *what)
{
    return aipm_error_set(err, AIPM_EINVALID,
                          "the adoption model's artifact is malformed (%s); "
                          "train a new version (aipm model train adoption)",
                          what);
}

/* A finite number, or -1. */
static int finite_num(const json_t *v, double *x)
{
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return -1;
    *x = json_number_value(v);
    return 0;
}

/* The covariance of a fit as the trainer writes it (fit_json): absent or
 * null, unknown (zeros); else 9 numbers, a null among them a figure that
 * was not finite (the whole matrix unknown then). -1 for anything else. */
static int cov_read(const json_t *v, double cov[9])
{
    const json_t *x;
    size_t i;
    int unknown = 0;

    memset(cov, 0, 9 * sizeof(double));
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) != 9)
        return -1;
    json_array_foreach(v, i, x)
    {
        if (json_is_null(x))
            unknown = 1;
        else if (finite_num(x, &cov[i]) != 0)
            return -1;
    }
    if (unknown)
        memset(cov, 0, 9 * sizeof(double));
    return 0;
}

int aipm_forecast__art_read(art *m, const json_t *artifact, aipm_error *err)
{
    const json_t *by = json_object_get(artifact, "by"),
                 *cut = json_object_get(artifact, "cutoff"),
                 *hz = json_object_get(artifact, "horizon"),
                 *segs = json_object_get(artifact, "segments"),
                 *activity = json_object_get(artifact, "activity"),
                 *feats = json_object_get(artifact, "features"), *v, *x;
    const char *key, *what = NULL;
    size_t i, j;
    int k;

    memset(m, 0, sizeof(*m));
    if (!json_is_object(artifact))
        return art_bad(err, "not an object");
    if (json_is_string(by) && json_string_length(by) > 0 &&
        strlen(json_string_value(by)) == json_string_length(by))
        m->by = json_string_value(by);
    else if (!json_is_null(by))
        return art_bad(err, "by");
    if (json_is_string(cut))
        m->cutoff = json_string_value(cut);
    else if (cut != NULL && !json_is_null(cut))
        return art_bad(err, "cutoff");
    if (!json_is_integer(hz) || json_integer_value(hz) < 1 ||
        json_integer_value(hz) > MAX_HORIZON)
        return art_bad(err, "horizon");
    m->horizon = (int)json_integer_value(hz);
    if (!json_is_array(segs) || json_array_size(segs) == 0 ||
        json_array_size(segs) > MAX_SEGMENTS + 1)
        return art_bad(err, "segments");
    if (!json_is_object(activity))
        return art_bad(err, "activity");
    json_array_foreach(segs, i, v)
    {
        const json_t *curve;

        if (!json_is_string(v)) {
            what = "segments";
            goto fail;
        }
        curve = json_object_get(activity, json_string_value(v));
        for (k = 0; k < m->n_segs; k++)
            if (strcmp(m->seg[k], json_string_value(v)) == 0) {
                what = "a segment listed twice";
                goto fail;
            }
        if (!json_is_array(curve) || json_array_size(curve) == 0 ||
            json_array_size(curve) > MAX_AGE + 1) {
            what = "activity";
            goto fail;
        }
        m->seg[m->n_segs] = json_string_value(v);
        m->act[m->n_segs] = malloc(json_array_size(curve) * sizeof(double));
        if (m->act[m->n_segs++] == NULL)
            goto nomem;
        json_array_foreach(curve, j, x)
        {
            double *slot = &m->act[m->n_segs - 1][j];

            if (finite_num(x, slot) != 0 || *slot < 0 || *slot > 1) {
                what = "activity";
                goto fail;
            }
        }
    }
    if (!json_is_object(feats) || json_object_size(feats) == 0) {
        what = "features";
        goto fail;
    }
    m->feat = malloc(json_object_size(feats) * sizeof(char *));
    m->par =
        calloc(json_object_size(feats) * (size_t)m->n_segs, sizeof(seg_par));
    if (!m->feat || !m->par)
        goto nomem;
    json_object_foreach((json_t *)feats, key, v)
    {
        const json_t *fs = json_object_get(v, "segments");
        seg_par *row = m->par + (size_t)m->n_feat * m->n_segs;

        if (!json_is_object(fs)) {
            what = "features";
            goto fail;
        }
        for (k = 0; k < m->n_segs; k++) {
            const json_t *fit = json_object_get(fs, m->seg[k]);

            row[k].act = m->act[k];
            row[k].n_act =
                (int)json_array_size(json_object_get(activity, m->seg[k]));
            if (fit == NULL || json_is_null(fit))
                continue; /* no fit there: its users are not scored */
            if (finite_num(json_object_get(fit, "alpha"), &row[k].alpha) ||
                finite_num(json_object_get(fit, "beta"), &row[k].beta) ||
                finite_num(json_object_get(fit, "pi"), &row[k].pi) ||
                !(row[k].pi > 0 && row[k].pi <= 1) ||
                cov_read(json_object_get(fit, "cov"), row[k].cov) != 0) {
                what = "a segment's hazard fit";
                goto fail;
            }
            row[k].ok = 1;
        }
        m->feat[m->n_feat++] = key;
    }
    return AIPM_OK;
nomem:
    aipm_forecast__art_free(m);
    return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
fail:
    aipm_forecast__art_free(m);
    return art_bad(err, what);
}

/* Score every feature of the artifact that the catalog still has, in
 * catalog order (the trainer's), at C on the data a: each data segment
 * takes the artifact's segment of its name, else the artifact's
 * "(other)" when it has one (a level that was not among the biggest at
 * training), else none. */
static int score_all(aipm_adoption *a, const aipm_config *cfg, const art *m,
                     int32_t C, scored *s, int64_t *unscored, aipm_error *err)
{
    struct aipm_forecast__run r;
    int map[MAX_SEGMENTS + 1], other = -1, k, j, fi, rc = AIPM_OK;

    memset(&r, 0, sizeof(r));
    for (j = 0; j < m->n_segs; j++)
        if (strcmp(m->seg[j], "(other)") == 0)
            other = j;
    for (k = 0; k < a->n_segs; k++) {
        map[k] = other;
        for (j = 0; j < m->n_segs; j++)
            if (strcmp(a->seg_names[k], m->seg[j]) == 0) {
                map[k] = j;
                break;
            }
    }
    if ((rc = aipm_forecast__run_init(&r, a, err)) != 0)
        goto done;
    for (fi = 0; fi < cfg->n_catalog; fi++) {
        for (j = 0; j < m->n_feat; j++)
            if (strcmp(m->feat[j], cfg->catalog[fi].key) == 0)
                break;
        if (j == m->n_feat)
            continue;
        rc = aipm_forecast__feature_days(&r, &cfg->catalog[fi], &r.launch);
        if (rc == AIPM_ENOTFOUND) { /* no use and no launch: nobody at risk */
            rc = AIPM_OK;
            continue;
        }
        if (rc != AIPM_OK ||
            (rc = aipm_forecast__hazard_data(&r, C)) != AIPM_OK ||
            (rc = score_feature(&r, fi, C, m->horizon,
                                m->par + (size_t)j * m->n_segs, m->n_segs, map,
                                s, unscored)) != AIPM_OK)
            goto done;
    }
done:
    aipm_forecast__run_release(&r);
    return rc;
}

/* ---- forecast decisions against what happened ---- */

typedef struct fc_list {
    json_t *recs; /* [{"id", "feature", "by", "segments"}] */
    int nomem;
} fc_list;

/* Keep a record of kind forecast whose output is an adoption forecast
 * (a feature and its segments' rows; the Bass series forecasts have
 * neither) and that no later one superseded. An output that does not
 * parse is passed over. */
static int take_forecast(void *ctx, const aipm_decision_row *d)
{
    fc_list *L = ctx;
    json_t *doc, *params = NULL, *by, *rec;

    if ((d->status && strcmp(d->status, "superseded") == 0) ||
        d->output == NULL || d->id == NULL)
        return 0;
    doc = json_loads(d->output, 0, NULL);
    if (!json_is_string(json_object_get(doc, "feature")) ||
        !json_is_array(json_object_get(doc, "segments"))) {
        json_decref(doc);
        return 0;
    }
    /* its segmentation: the output's "by", else the parameters' */
    by = json_object_get(doc, "by");
    if (by == NULL && d->params) {
        params = json_loads(d->params, 0, NULL);
        by = json_object_get(params, "by");
    }
    if (by == NULL)
        by = json_null();
    if (!json_is_null(by) && !json_is_string(by)) {
        json_decref(doc);
        json_decref(params);
        return 0;
    }
    rec = json_pack("{s:s, s:O, s:O, s:O}", "id", d->id, "feature",
                    json_object_get(doc, "feature"), "by", by, "segments",
                    json_object_get(doc, "segments"));
    json_decref(doc);
    json_decref(params);
    if (rec == NULL || json_array_append_new(L->recs, rec) != 0) {
        L->nomem = 1;
        return 1;
    }
    return 0;
}

static int cmp_day(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;

    return (a > b) - (a < b);
}

/* The adopters of sorted days[0..n) by day d (inclusive). */
static int64_t adopted_by(const int32_t *days, int64_t n, int32_t d)
{
    int64_t lo = 0, hi = n;

    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;

        if (days[mid] <= d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One forecast record against the data a (opened with the record's own
 * segmentation): each (segment, day) of its rows observed by now (a day
 * before the data's end) is a point, the forecast's cumulative adopters
 * against the segment's users who first used the feature by that day
 * (the forecast's own count: adoption.c's first uses, the segments by
 * name). *entry NULL when none of its days has been observed yet, or
 * the feature is no longer in the catalog. */
static int compare_forecast(json_t **entry, aipm_adoption *a,
                            const aipm_config *cfg, const json_t *rec,
                            aipm_error *err)
{
    const char *fkey = json_string_value(json_object_get(rec, "feature"));
    const aipm_feature *f = aipm_config_feature(cfg, fkey);
    struct aipm_forecast__run r;
    int64_t *off = NULL, *pos = NULL, points = 0, n_days = 0, d;
    int32_t *days = NULL, *seen = NULL, launch;
    size_t cap_seen = 0, n_seen = 0, i, j;
    double ape = 0, n_ape = 0, hits = 0;
    const json_t *sg, *row;
    int u, k, rc;

    *entry = NULL;
    if (f == NULL)
        return AIPM_OK;
    memset(&r, 0, sizeof(r));
    r.a = a;
    r.err = err;
    r.adopt = malloc((size_t)a->n * sizeof(int32_t) + 1);
    off = calloc((size_t)a->n_segs + 2, sizeof(int64_t));
    pos = calloc((size_t)a->n_segs + 1, sizeof(int64_t));
    days = malloc((size_t)a->n * sizeof(int32_t) + 1);
    if (!r.adopt || !off || !pos || !days) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    rc = aipm_forecast__feature_days(&r, f, &launch);
    if (rc != AIPM_OK && rc != AIPM_ENOTFOUND) /* (none: nobody adopted) */
        goto done;
    rc = AIPM_OK;
    /* the adoption days by segment, each segment's sorted */
    for (u = 0; u < a->n; u++)
        if (r.adopt[u] < a->end)
            off[a->seg[u] + 1]++;
    for (k = 0; k < a->n_segs; k++)
        off[k + 1] += off[k];
    for (k = 0; k < a->n_segs; k++)
        pos[k] = off[k];
    for (u = 0; u < a->n; u++)
        if (r.adopt[u] < a->end)
            days[pos[a->seg[u]]++] = r.adopt[u];
    for (k = 0; k < a->n_segs; k++)
        qsort(days + off[k], (size_t)(off[k + 1] - off[k]), sizeof(int32_t),
              cmp_day);
    json_array_foreach(json_object_get(rec, "segments"), i, sg)
    {
        const char *name = json_string_value(json_object_get(sg, "segment"));

        for (k = 0; name && k < a->n_segs; k++)
            if (strcmp(a->seg_names[k], name) == 0)
                break;
        if (name == NULL || k == a->n_segs)
            k = -1; /* no such segment now: nobody in it adopted */
        json_array_foreach(json_object_get(sg, "forecast"), j, row)
        {
            const char *day = json_string_value(json_object_get(row, "day"));
            double fc, lo, hi, y;
            int64_t ms;
            int32_t t;

            if (day == NULL ||
                aipm_time_parse(&ms, day, strlen(day), 1) != AIPM_OK ||
                finite_num(json_object_get(row, "adopters"), &fc) ||
                finite_num(json_object_get(row, "lo80"), &lo) ||
                finite_num(json_object_get(row, "hi80"), &hi))
                continue;
            t = day_of_ms(ms);
            if (t >= a->end || t < a->day0)
                continue; /* not observed (yet) */
            y = k < 0
                    ? 0
                    : (double)adopted_by(days + off[k], off[k + 1] - off[k], t);
            points++;
            if (y > 0) {
                ape += fabs(fc - y) / y;
                n_ape++;
            }
            hits += lo <= y && y <= hi;
            if (aipm_grow(&seen, &cap_seen, n_seen + 1, sizeof(int32_t))) {
                rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
                goto done;
            }
            seen[n_seen++] = t;
        }
    }
    if (points == 0)
        goto done; /* nothing observed yet: nothing to measure */
    qsort(seen, n_seen, sizeof(int32_t), cmp_day);
    for (d = 0; d < (int64_t)n_seen; d++)
        n_days += d == 0 || seen[d] != seen[d - 1];
    *entry = json_pack(
        "{s:O, s:s, s:I, s:I, s:o, s:o}", "decision",
        json_object_get(rec, "id"), "feature", fkey, "days", (json_int_t)n_days,
        "points", (json_int_t)points, "mape",
        n_ape > 0 ? json_real(ape / n_ape) : json_null(), "coverage_80",
        points > 0 ? json_real(hits / (double)points) : json_null());
    if (*entry == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
done:
    free(r.adopt);
    free(off);
    free(pos);
    free(days);
    free(seen);
    return rc;
}

static int same_by(const char *x, const char *y)
{
    return x == NULL || y == NULL ? x == y : strcmp(x, y) == 0;
}

/* Every adoption forecast record against the data now, in record order:
 * the records are grouped by their segmentation, so each is loaded once
 * (now: the data the reading has already loaded, with the artifact's).
 * A segmentation the data cannot be loaded with (too few days) leaves
 * its records out; only running out of memory fails. */
static int forecasts_json(json_t **out, aipm_store *st, const aipm_config *cfg,
                          aipm_adoption *now, const char *graph_snapshot,
                          aipm_error *err)
{
    aipm_decision_filter filter = {NULL, "forecast", NULL, 1};
    fc_list L = {json_array(), 0};
    json_t **entries = NULL;
    char *handled = NULL;
    size_t n, i, j;
    int rc;

    *out = json_array();
    if (L.recs == NULL || *out == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_store_decision_list(st, &filter, take_forecast, &L, err)) !=
            AIPM_OK &&
        !L.nomem)
        goto done;
    if (L.nomem) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    n = json_array_size(L.recs);
    entries = calloc(n + 1, sizeof(json_t *));
    handled = calloc(n + 1, 1);
    if (!entries || !handled) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        const char *by =
            json_string_value(json_object_get(json_array_get(L.recs, i), "by"));
        aipm_adoption *a = now;
        aipm_error mine = {0, ""};

        if (handled[i])
            continue;
        if (!same_by(by, now->by)) {
            rc = aipm_adoption_open(&a, st, cfg, by, 0, graph_snapshot, &mine);
            if (rc == AIPM_ENOMEM) {
                rc = aipm_error_set(err, rc, "%s", mine.msg);
                goto done;
            }
            if (rc != AIPM_OK)
                a = NULL; /* its records are left out */
        }
        for (j = i; j < n; j++) {
            const json_t *rec = json_array_get(L.recs, j);

            if (handled[j] ||
                !same_by(by, json_string_value(json_object_get(rec, "by"))))
                continue;
            handled[j] = 1;
            if (a && (rc = compare_forecast(&entries[j], a, cfg, rec, err)) !=
                         AIPM_OK) {
                if (a != now)
                    aipm_adoption_free(a);
                goto done;
            }
        }
        if (a != now)
            aipm_adoption_free(a);
    }
    for (i = 0; i < n; i++)
        if (entries[i] && json_array_append(*out, entries[i]) != 0) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
    rc = AIPM_OK;
done:
    for (i = 0; entries && i < json_array_size(L.recs); i++)
        json_decref(entries[i]);
    free(entries);
    free(handled);
    json_decref(L.recs);
    if (rc != AIPM_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int aipm_adoption_model_reading(aipm_model_reading *out, aipm_store *st,
                                const aipm_config *cfg, const json_t *artifact,
                                const char *graph_snapshot, int64_t now_ms,
                                aipm_error *err)
{
    art m;
    aipm_adoption *now = NULL, *then = NULL;
    scored cur, lab;
    int64_t first_day = 0, last_day = 0, unscored_now = 0, unscored = 0;
    int found = 0, rc;
    int32_t W;
    char from[16], to[16];

    /* The reading's now is the data's end: the newest day ingested is
     * what is known (now_ms only dates the monitor's run). */
    (void)now_ms;
    memset(out, 0, sizeof(*out));
    memset(&cur, 0, sizeof(cur));
    memset(&lab, 0, sizeof(lab));
    if (cfg == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "adoption model: a reading needs the "
                              "configuration (aipm.yaml): its catalog names "
                              "the features' events");
    if ((rc = aipm_forecast__art_read(&m, artifact, err)) != AIPM_OK)
        return rc;
    if ((rc = aipm_store_event_day_range(st, &first_day, &last_day, &found,
                                         err)) != AIPM_OK)
        goto done;
    /* No data (or under the week aipm_adoption_open needs): nobody to
     * score, nothing labelled, nothing observed. */
    if (!found || last_day + 1 - first_day < 7) {
        out->current = sample_json(&cur);
        out->performance = json_null();
        out->forecasts = json_array();
        rc = out->current && out->forecasts
                 ? AIPM_OK
                 : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_adoption_open(&now, st, cfg, m.by, 0, graph_snapshot,
                                 err)) != AIPM_OK)
        goto done;

    /* current: the users at risk at the end, over the next H days */
    if ((rc = score_all(now, cfg, &m, now->end, &cur, &unscored_now, err)) !=
        AIPM_OK)
        goto done;
    if ((out->current = sample_json(&cur)) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }

    /* performance: the users at risk at W = end - H against whether they
     * adopted by the end. Segments by a trait are those known before W,
     * as the trainer's holdout took them (a reload with the holdout);
     * the month of the first event and "all" do not depend on the
     * cutoff. Too few days before W for that: the segments now. */
    W = now->end - m.horizon;
    then = now;
    if (m.by && strcmp(m.by, "cohort") != 0) {
        aipm_error mine = {0, ""};

        rc = aipm_adoption_open(&then, st, cfg, m.by, m.horizon, graph_snapshot,
                                &mine);
        if (rc == AIPM_ENOMEM) {
            rc = aipm_error_set(err, rc, "%s", mine.msg);
            goto done;
        }
        if (rc != AIPM_OK)
            then = now;
    }
    if ((rc = score_all(then, cfg, &m, W, &lab, &unscored, err)) != AIPM_OK)
        goto done;
    if (lab.n == 0) {
        out->performance = json_null();
    } else {
        aipm_forecast__day_label(from, W);
        aipm_forecast__day_label(to, now->end - 1);
        out->performance = perf_json(&lab);
        if (out->performance &&
            json_object_set_new(out->performance, "unscored_users",
                                json_integer((json_int_t)unscored)) != 0) {
            json_decref(out->performance);
            out->performance = NULL;
        }
        if (out->performance &&
            json_object_set_new(out->performance, "window",
                                json_pack("{s:s, s:s, s:i}", "from", from, "to",
                                          to, "days", m.horizon)) != 0) {
            json_decref(out->performance);
            out->performance = NULL;
        }
        if (out->performance == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
    }

    /* forecasts: the recorded adoption forecasts against the data now */
    rc = forecasts_json(&out->forecasts, st, cfg, now, graph_snapshot, err);
done:
    if (rc != AIPM_OK)
        aipm_model_reading_free(out);
    if (then != now)
        aipm_adoption_free(then);
    aipm_adoption_free(now);
    scored_free(&cur);
    scored_free(&lab);
    aipm_forecast__art_free(&m);
    return rc;
}
