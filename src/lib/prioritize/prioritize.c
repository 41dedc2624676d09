/* prioritize.c - train, draw, rank, plan and explain (see prioritize.h).
 *
 * Features of an item (FEATURES below): log(1 + demand), reach, market,
 * and the PM's RICE guess as log(1 + reach x impact x confidence) with an
 * indicator of whether it was given - never ignored, never trusted alone:
 * the regression decides its weight from what shipped items delivered.
 * A shipped item's features are taken as of its decision day: the ship
 * day less its effort estimate, not before it was created. Nothing after
 * that day feeds them (no leakage); its outcome is measured from the ship
 * day on.
 *
 * The Monte Carlo: for draw k, s2_k ~ InvGamma(an, bn) and b_k ~ N(mn,
 * s2_k Ln^-1) are shared by all items (so the plan's total has the right
 * correlation); item i's log value is x_i'b_k + s_k e_ik and its effort
 * estimate x exp(0.5 h_ik), e and h standard normal from the item's own
 * generator (seeded by the seed and the item's index, so one item's draws
 * do not depend on the others). Value = max(0, exp(y) - 1). The
 * predictive has no finite mean on this scale (a Student t under exp), so
 * the expected value is the mean of the draws capped at their 99.9th
 * percentile.
 *
 * A registered version of the value model (models.h: the one production
 * points at, or the one o->model_version names) takes the place of the
 * training: its parameters (value_model.c reads them), then the same
 * draws. The output's model object and the decision record name it, so a
 * replay ranks with that version again.
 *
 * The scenario simulator takes the same model and features as typed data
 * (aipm_pz_sim_inputs_new): the ranking's setup (model_now) without the
 * draws, which the simulator makes itself.
 */
#include "aipm/prioritize.h"
#include "aipm/decision.h"
#include "prioritize/prioritize_int.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

/* Prior variances of the coefficients. Features other than the intercept
 * are standardized on the training items (z-scores), so a variance of 1
 * says: one standard deviation of a feature is unlikely to move log value
 * by much more than 2 - a ridge-like shrinkage that matters with a few
 * dozen shipped items, and fades as more ship. */
const double pz_prior_var[PZ_P] = {100,  0.25, 0.25, 0.25,
                                   0.25, 0.25, 0.25, 0.25};
/* As the coefficients are reported (model_json) and stored (artifact). */
const char *const pz_feature_names[PZ_P] = {
    "intercept", "log1p_demand",     "reach",       "market",
    "has_rice",  "log1p_rice_reach", "rice_impact", "rice_confidence"};
#define MAX_THREADS 8

void aipm_pz_opts_init(aipm_pz_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->risk_aversion = AIPM_PZ_DEFAULT_RISK;
    o->draws = AIPM_PZ_DEFAULT_DRAWS;
    o->seed = 1;
    o->record = 1;
}

static double rice_of(const pz_item *it)
{
    if (isfinite(it->rice_reach) && isfinite(it->rice_impact) &&
        isfinite(it->rice_conf))
        return it->rice_reach * it->rice_impact * it->rice_conf;
    return NAN;
}

const char *const aipm_pz_feature_columns[] = {
    "backlog.title",      "backlog.description", "backlog.area",
    "backlog.effort",     "backlog.reach",       "backlog.impact",
    "backlog.confidence", "feedback.text",       "feedback.score",
    "signals.value",      "signals.area",        NULL};

/* The raw features; the PM's three RICE numbers are separate features
 * (NAN when not given: pz_standardize() puts the training mean of those
 * given in their place, and the indicator carries the difference), so
 * the regression learns how much each of them is worth. */
void pz_features(const pz_item *it, double x[PZ_P])
{
    int has = isfinite(rice_of(it));

    x[PZ_F_ONE] = 1;
    x[PZ_F_DEMAND] = log1p(it->demand_rate);
    x[PZ_F_REACH] = it->reach;
    x[PZ_F_MARKET] = it->market;
    x[PZ_F_HAS_RICE] = has;
    x[PZ_F_RICE_REACH] = has ? log1p(fmax(it->rice_reach, 0)) : NAN;
    x[PZ_F_RICE_IMPACT] = has ? log(fmax(it->rice_impact, 1e-3)) : NAN;
    x[PZ_F_RICE_CONF] = has ? log(fmax(it->rice_conf, 1e-3)) : NAN;
}

int64_t pz_decision_day(const pz_item *it)
{
    int64_t d = it->shipped_day - (int64_t)ceil(it->effort * 7);

    return d < it->created_day ? it->created_day : d;
}

static int is_candidate(const pz_item *it)
{
    return strcmp(it->status, "idea") == 0 ||
           strcmp(it->status, "planned") == 0 ||
           strcmp(it->status, "in_progress") == 0;
}

/* ---- the model ---- */

/* Features to the z-scores of the training items (in place); a missing
 * one is at the mean. */
void pz_standardize(const pz_model *m, double x[PZ_P])
{
    int j;

    for (j = 1; j < PZ_P; j++)
        x[j] = isfinite(x[j]) ? (x[j] - m->mu[j]) / m->sd[j] : 0;
}

int pz_fit(pz_model *m, const pz_data *d, const int *rows, const double *y,
           int n, aipm_error *err)
{
    double *X = malloc((size_t)(n ? n : 1) * PZ_P * sizeof(double));
    double m0[PZ_P];
    int i, j, rc, cnt[PZ_P] = {0};

    if (X == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (j = 0; j < PZ_P; j++)
        m->mu[j] = m->sd[j] = 0;
    for (i = 0; i < n; i++) {
        pz_features(&d->items[rows[i]], X + (size_t)i * PZ_P);
        for (j = 1; j < PZ_P; j++)
            if (isfinite(X[(size_t)i * PZ_P + j])) {
                m->mu[j] += X[(size_t)i * PZ_P + j];
                cnt[j]++;
            }
    }
    for (j = 1; j < PZ_P; j++)
        m->mu[j] = cnt[j] ? m->mu[j] / cnt[j] : 0;
    for (i = 0; i < n; i++)
        for (j = 1; j < PZ_P; j++)
            if (isfinite(X[(size_t)i * PZ_P + j]))
                m->sd[j] += pow(X[(size_t)i * PZ_P + j] - m->mu[j], 2);
    m->sd[0] = 1;
    for (j = 1; j < PZ_P; j++)
        m->sd[j] = cnt[j] && m->sd[j] > 1e-24 ? sqrt(m->sd[j] / cnt[j]) : 1;
    for (i = 0; i < n; i++)
        pz_standardize(m, X + (size_t)i * PZ_P);
    /* The prior mean: log value moves one for one with log R, log I and
     * log C (RICE's own claim, that value is proportional to R x I x C),
     * per standard deviation of each; nothing else. */
    for (j = 0; j < PZ_P; j++)
        m0[j] = 0;
    m0[PZ_F_RICE_REACH] = m->sd[PZ_F_RICE_REACH];
    m0[PZ_F_RICE_IMPACT] = m->sd[PZ_F_RICE_IMPACT];
    m0[PZ_F_RICE_CONF] = m->sd[PZ_F_RICE_CONF];
    rc = aipm_blr_fit(&m->blr, X, y, n, PZ_P, m0, pz_prior_var, PZ_PRIOR_A0,
                      PZ_PRIOR_B0, err);
    free(X);
    m->bayes = rc == AIPM_OK;
    m->n_train = n;
    return rc;
}

int pz_draw_posterior(pz_model *m, uint64_t seed, aipm_error *err)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int k, i, j;

    m->beta = malloc((size_t)m->draws * PZ_P * sizeof(double));
    m->sigma = malloc((size_t)m->draws * sizeof(double));
    if (r == NULL || m->beta == NULL || m->sigma == NULL) {
        gsl_rng_free(r);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    gsl_rng_set(r, (unsigned long)seed);
    for (k = 0; k < m->draws; k++) {
        double z[PZ_P], s2 = 1 / gsl_ran_gamma(r, m->blr.an, 1 / m->blr.bn);
        double s = sqrt(s2);

        for (j = 0; j < PZ_P; j++)
            z[j] = gsl_ran_gaussian_ziggurat(r, 1);
        for (i = 0; i < PZ_P; i++) {
            double b = m->blr.mn[i];

            for (j = 0; j <= i; j++)
                b += s * m->blr.chol[i * PZ_P + j] * z[j];
            m->beta[(size_t)k * PZ_P + i] = b;
        }
        m->sigma[k] = s;
    }
    gsl_rng_free(r);
    return AIPM_OK;
}

/* Item i's value draws (and, when effort is not NULL, effort draws). */
static void item_draws(const pz_model *m, const pz_item *it, const double *x,
                       int index, uint64_t seed, gsl_rng *r, double *value,
                       double *effort)
{
    double ric = rice_of(it);
    int k, j;

    gsl_rng_set(r, (unsigned long)(seed * 1000003ULL + (uint64_t)index + 1));
    if (!isfinite(ric))
        ric = m->rice_median;
    for (k = 0; k < m->draws; k++) {
        double y, h;

        if (m->bayes) {
            const double *b = m->beta + (size_t)k * PZ_P;

            y = 0;
            for (j = 0; j < PZ_P; j++)
                y += x[j] * b[j];
            y += m->sigma[k] * gsl_ran_gaussian_ziggurat(r, 1);
            value[k] = y > 0 ? expm1(y) : 0;
        } else /* RICE: lognormal with mean R x I x C, log-sd 1 */
            value[k] = ric * exp(gsl_ran_gaussian_ziggurat(r, 1) - 0.5);
        /* Drawn even when not kept, so that draw k is the same in the
         * plan as in the item's ranking. */
        h = gsl_ran_gaussian_ziggurat(r, 1);
        if (effort)
            effort[k] = it->effort * exp(AIPM_PZ_EFFORT_SIGMA * h);
    }
}

double pz_median_rice(const pz_data *d)
{
    double *v = malloc((size_t)(d->n_items ? d->n_items : 1) * sizeof(double));
    double med = 1;
    int i, n = 0;

    if (v == NULL)
        return med;
    for (i = 0; i < d->n_items; i++)
        if (isfinite(rice_of(&d->items[i])))
            v[n++] = rice_of(&d->items[i]);
    if (n > 0)
        med = aipm_select(v, n, (n - 1) / 2);
    free(v);
    return med;
}

/* One thread's share of the candidates: [from, to). Every item's draws
 * come from its own generator, so the results do not depend on how the
 * items are split. */
typedef struct scorer {
    pz_cand *c;
    int from, to;
    const pz_model *m;
    const pz_data *d;
    const aipm_pz_opts *o;
    int failed;
} scorer;

static void *score_range(void *arg)
{
    scorer *w = arg;
    const pz_model *m = w->m;
    double *value = malloc((size_t)m->draws * sizeof(double));
    double *effort = malloc((size_t)m->draws * sizeof(double));
    double *score = malloc((size_t)m->draws * sizeof(double));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double L = w->o->risk_aversion;
    int i, k;

    if (!value || !effort || !score || !r) {
        w->failed = 1;
        goto done;
    }
    for (i = w->from; i < w->to; i++) {
        pz_cand *c = &w->c[i];
        const pz_item *it = &w->d->items[c->item];
        double e_sum = 0;

        item_draws(m, it, c->x, c->item, w->o->seed, r, value, effort);
        for (k = 0; k < m->draws; k++) {
            score[k] = value[k] / effort[k];
            e_sum += effort[k];
        }
        c->effort_mean = e_sum / m->draws;
        aipm_draws_summarize(&c->s, score, m->draws, AIPM_PZ_TAIL);
        aipm_draws_summarize(&c->v, value, m->draws, AIPM_PZ_TAIL);
        c->risk_v = c->v.capped_mean - L * (c->v.capped_mean - c->v.cvar);
        c->score = c->s.mean - L * (c->s.mean - c->s.cvar);
        c->confidence =
            c->v.q[2] + c->v.q[0] > 0
                ? 1 - (c->v.q[2] - c->v.q[0]) / (c->v.q[2] + c->v.q[0])
                : 0;
    }
done:
    free(value);
    free(effort);
    free(score);
    gsl_rng_free(r);
    return NULL;
}

/* Draw and summarise every candidate, on up to MAX_THREADS threads (one
 * per online CPU). */
int pz_score_all(pz_cand *c, int n, const pz_model *m, const pz_data *d,
                 const aipm_pz_opts *o, aipm_error *err)
{
    scorer w[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
    int t, started[MAX_THREADS] = {0}, failed = 0;

    if (n < 64)
        nt = 1;
    for (t = 0; t < nt; t++) {
        w[t].c = c;
        w[t].from = (int)((int64_t)n * t / nt);
        w[t].to = (int)((int64_t)n * (t + 1) / nt);
        w[t].m = m;
        w[t].d = d;
        w[t].o = o;
        w[t].failed = 0;
        if (t > 0)
            started[t] = pthread_create(&th[t], NULL, score_range, &w[t]) == 0;
    }
    score_range(&w[0]);
    for (t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            score_range(&w[t]); /* no thread: do its share here */
    }
    for (t = 0; t < nt; t++)
        failed |= w[t].failed;
    if (o->progress)
        o->progress(o->progress_ctx, (uint64_t)n, (uint64_t)n);
    return failed ? aipm_error_set(err, AIPM_ENOMEM, "out of memory") : AIPM_OK;
}

static int cmp_cand(const void *a, const void *b)
{
    const pz_cand *x = a, *y = b;

    double sx = isnan(x->score) ? -INFINITY : x->score;
    double sy = isnan(y->score) ? -INFINITY : y->score;

    if (sx != sy)
        return sx > sy ? -1 : 1;
    return x->item - y->item;
}

/* ---- explanations ---- */

static const char *pct(char *buf, size_t n, double effect)
{
    snprintf(buf, n, "%+.0f%%", 100 * effect);
    return buf;
}

static json_t *contributions(const pz_model *m, const pz_cand *c,
                             const pz_item *it)
{
    json_t *arr = json_array();
    double con[4], total = 0;
    int order[4] = {0, 1, 2, 3}, i, j;
    static const char *const names[4] = {"demand", "reach", "market", "rice"};

    if (!m->bayes) {
        char text[200];

        if (!isfinite(rice_of(it)))
            snprintf(text, sizeof(text),
                     "no RICE given: the backlog's median RICE value %.0f "
                     "is assumed",
                     m->rice_median);
        else
            snprintf(text, sizeof(text),
                     "the PM's RICE: reach %g x impact %g x confidence %g",
                     it->rice_reach, it->rice_impact, it->rice_conf);
        json_array_append_new(arr,
                              json_pack("{s:s, s:f, s:s}", "factor", "rice",
                                        "share", 1.0, "text", text));
        return arr;
    }
    /* c->x is standardized: the deviation from the training mean. */
    con[0] = m->blr.mn[PZ_F_DEMAND] * c->x[PZ_F_DEMAND];
    con[1] = m->blr.mn[PZ_F_REACH] * c->x[PZ_F_REACH];
    con[2] = m->blr.mn[PZ_F_MARKET] * c->x[PZ_F_MARKET];
    con[3] = 0;
    for (i = PZ_F_HAS_RICE; i < PZ_P; i++)
        con[3] += m->blr.mn[i] * c->x[i];
    for (i = 0; i < 4; i++)
        total += fabs(con[i]);
    for (i = 1; i < 4; i++) /* by size, largest first */
        for (j = i; j > 0 && fabs(con[order[j]]) > fabs(con[order[j - 1]]);
             j--) {
            int t = order[j];

            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    /* Each contribution is against the average shipped item (the
     * features are deviations from it), so the text names that average. */
    for (i = 0; i < 4; i++) {
        int f = order[i];
        char text[400], p[32];

        pct(p, sizeof(p), expm1(con[f]));
        switch (f) {
        case 0:
            snprintf(text, sizeof(text),
                     "%s from demand: %d accounts, %d enterprise, %lld "
                     "feedback rows (%.1f weighted accounts a month; "
                     "shipped items averaged %.1f)",
                     p, it->n_accounts, it->n_enterprise,
                     (long long)it->n_feedback, it->demand_rate,
                     expm1(m->mu[PZ_F_DEMAND]));
            break;
        case 1:
            snprintf(text, sizeof(text),
                     "%s from reach: %.1f%% of daily actives (%.0f users a "
                     "day) use %s in the last 30 days (shipped items: "
                     "%.1f%%)",
                     p, 100 * it->reach, it->reach_users,
                     it->area[0] ? it->area : "its area",
                     100 * m->mu[PZ_F_REACH]);
            break;
        case 2:
            if (it->has_market)
                snprintf(text, sizeof(text),
                         "%s from market: %s signals %s %.1f%% a month "
                         "(shipped items: %+.1f%%)",
                         p, it->area, it->market >= 0 ? "rising" : "falling",
                         100 * fabs(it->market), 100 * m->mu[PZ_F_MARKET]);
            else
                snprintf(text, sizeof(text),
                         "%s from market: no signals for %s", p,
                         it->area[0] ? it->area : "its area");
            break;
        default:
            if (isfinite(rice_of(it)))
                snprintf(text, sizeof(text),
                         "%s from the PM's RICE: reach %g x impact %g x "
                         "confidence %g",
                         p, it->rice_reach, it->rice_impact, it->rice_conf);
            else
                snprintf(text, sizeof(text),
                         "%s from the PM's RICE: none given", p);
        }
        json_array_append_new(
            arr, json_pack("{s:s, s:f, s:f, s:s}", "factor", names[f], "share",
                           total > 0 ? con[f] / total : 0.0, "effect",
                           expm1(con[f]), "text", text));
    }
    return arr;
}

/* ---- the run ---- */

static json_t *model_json(const pz_model *m, int n_candidates)
{
    json_t *o;

    if (!m->bayes) {
        char note[160];

        snprintf(note, sizeof(note),
                 "fewer than %d shipped items with an observed outcome "
                 "(policies.models.min_trained): ranked by the PM's RICE "
                 "scores",
                 m->min_train > 0 ? m->min_train : AIPM_PZ_MIN_TRAIN);
        return json_pack("{s:s, s:i, s:i, s:s}", "kind", "rice", "trained_on",
                         m->n_train, "candidates", n_candidates, "note", note);
    }
    o = json_pack(
        "{s:s, s:i, s:i, s:f, s:f}", "kind", "bayesian_linear", "trained_on",
        m->n_train, "candidates", n_candidates, "residual_sd",
        sqrt(m->blr.bn / (m->blr.an - 1 > 0 ? m->blr.an - 1 : m->blr.an)),
        "dof", 2 * m->blr.an);
    /* Per standard deviation of each feature over the training items. */
    json_object_set_new(
        o, "coefficients_per_sd",
        json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "intercept",
                  m->blr.mn[PZ_F_ONE], "log1p_demand", m->blr.mn[PZ_F_DEMAND],
                  "reach", m->blr.mn[PZ_F_REACH], "market",
                  m->blr.mn[PZ_F_MARKET], "has_rice", m->blr.mn[PZ_F_HAS_RICE],
                  "log1p_rice_reach", m->blr.mn[PZ_F_RICE_REACH], "rice_impact",
                  m->blr.mn[PZ_F_RICE_IMPACT], "rice_confidence",
                  m->blr.mn[PZ_F_RICE_CONF]));
    return o;
}

/* The release plan: the knapsack on risk-adjusted value, effort in
 * half-weeks; then the chosen items' draws summed per draw. */
static json_t *plan_json(const pz_cand *c, int n, const pz_model *m,
                         const pz_data *d, const aipm_pz_opts *o,
                         aipm_error *err)
{
    int cap = (int)floor(2 * o->capacity_weeks + 1e-9), i, k;
    int *w = malloc((size_t)(n ? n : 1) * sizeof(int));
    double *v = malloc((size_t)(n ? n : 1) * sizeof(double));
    unsigned char *chosen = calloc((size_t)(n ? n : 1), 1);
    double *total = calloc((size_t)m->draws, sizeof(double));
    double *value = malloc((size_t)m->draws * sizeof(double));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    json_t *ids = json_array(), *out = NULL;
    double best, used = 0, expected = 0;
    aipm_draw_summary s;

    if (!w || !v || !chosen || !total || !value || !r || !ids) {
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        w[i] = (int)ceil(2 * d->items[c[i].item].effort - 1e-9);
        v[i] = c[i].risk_v;
    }
    best = aipm_knapsack(w, v, n, cap, chosen);
    if (isnan(best)) {
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (!chosen[i])
            continue;
        json_array_append_new(ids, json_string(d->items[c[i].item].id));
        used += w[i] / 2.0;
        expected += c[i].v.capped_mean;
        item_draws(m, &d->items[c[i].item], c[i].x, c[i].item, o->seed, r,
                   value, NULL);
        for (k = 0; k < m->draws; k++)
            total[k] += value[k];
    }
    aipm_draws_summarize(&s, total, m->draws, AIPM_PZ_TAIL);
    out = json_pack("{s:f, s:f, s:O, s:f, s:f, s:f, s:f}", "capacity",
                    o->capacity_weeks, "effort", used, "items", ids,
                    "expected_value", expected, "risk_adjusted_value", best,
                    "p10", s.q[0], "p90", s.q[2]);
done:
    json_decref(ids);
    free(w);
    free(v);
    free(chosen);
    free(total);
    free(value);
    gsl_rng_free(r);
    return out;
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *item_json(const pz_cand *c, int rank, const pz_model *m,
                         const pz_data *d)
{
    const pz_item *it = &d->items[c->item];

    return json_pack(
        "{s:i, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o, "
        "s:I, s:I, s:o, s:{s:f, s:f, s:i, s:i, s:f, s:f, s:o}}",
        "rank", rank, "id", it->id, "title", it->title, "area", it->area,
        "expected_value", num(c->v.capped_mean), "p10", num(c->v.q[0]), "p50",
        num(c->v.q[1]), "p90", num(c->v.q[2]), "effort", it->effort,
        "effort_mean", num(c->effort_mean), "risk_adjusted_value",
        num(c->risk_v), "score", num(c->score), "confidence",
        num(c->confidence), "linked_feedback", (json_int_t)it->n_feedback,
        "needs_review", (json_int_t)it->n_review, "contributions",
        contributions(m, c, it), "signals", "demand", it->demand,
        "demand_per_month", it->demand_rate, "accounts", it->n_accounts,
        "enterprise_accounts", it->n_enterprise, "reach", it->reach,
        "reach_daily_users", it->reach_users, "market",
        it->has_market ? json_real(it->market) : json_null());
}

void pz_model_free(pz_model *m)
{
    free(m->beta);
    free(m->sigma);
    m->beta = m->sigma = NULL;
}

int pz_train_rows(const pz_data *d, int64_t end_day, int64_t before_day,
                  int *idx, double *y)
{
    int i, n = 0;

    for (i = 0; i < d->n_items; i++) {
        const pz_item *it = &d->items[i];
        double v;

        if (it->shipped_day < 0 || it->shipped_day >= before_day)
            continue;
        v = pz_outcome(d, i, end_day);
        if (!isfinite(v))
            continue;
        idx[n] = i;
        y[n++] = log1p(v);
    }
    return n;
}

/* Fit on the shipped items whose outcome is known by end_day; with too
 * few of them, or a fit that fails, the PM's RICE scores (m->bayes 0).
 * No posterior draws: train() makes them. */
static int fit_trained(pz_model *m, pz_data *d, int64_t end_day,
                       int64_t before_day, aipm_error *err)
{
    int *idx = malloc((size_t)(d->n_items ? d->n_items : 1) * sizeof(int));
    double *y = malloc((size_t)(d->n_items ? d->n_items : 1) * sizeof(double));
    int n, rc = AIPM_OK;

    if (idx == NULL || y == NULL) {
        free(idx);
        free(y);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    n = pz_train_rows(d, end_day, before_day, idx, y);
    m->rice_median = pz_median_rice(d);
    m->n_train = n;
    m->bayes = 0;
    if (n >= (m->min_train > 0 ? m->min_train : AIPM_PZ_MIN_TRAIN)) {
        aipm_error ferr = {0, ""};

        /* A fit that fails (collinear features) falls back to RICE. */
        if (pz_fit(m, d, idx, y, n, &ferr) != AIPM_OK)
            m->bayes = 0;
    }
    free(idx);
    free(y);
    return rc;
}

/* fit_trained(), then the posterior draws of a regression. */
static int train(pz_model *m, pz_data *d, int64_t end_day, int64_t before_day,
                 uint64_t seed, aipm_error *err)
{
    int rc = fit_trained(m, d, end_day, before_day, err);

    if (rc == AIPM_OK && m->bayes)
        rc = pz_draw_posterior(m, seed, err);
    return rc;
}

static int run_backtest(json_t *doc, pz_data *d, aipm_store *st,
                        const aipm_pz_opts *o, pz_model *m, aipm_error *err);

/* The registered version of the value model the run ranks with instead of
 * training one (o->model_version, see prioritize.h): its parameters into
 * m, no draws yet. *version gets its number, 0 when the run trains. A
 * backtest always trains: it is the test of training before a cutoff. */
static int load_registered(pz_model *m, int64_t *version, aipm_store *st,
                           const aipm_pz_opts *o, aipm_error *err)
{
    json_t *artifact = NULL;
    int draws = m->draws, min_train = m->min_train, rc;
    char what[48];

    *version = 0;
    if (o->backtest || o->model_version < 0)
        return AIPM_OK;
    if (o->model_version > 0) {
        rc = aipm_model_artifact(st, "value", o->model_version, &artifact, err);
        if (rc == AIPM_OK)
            *version = o->model_version;
    } else
        rc = aipm_model_production(st, "value", version, &artifact, err);
    if (rc == AIPM_OK && *version > 0) {
        snprintf(what, sizeof(what), "value@%lld", (long long)*version);
        rc = pz_model_from_artifact(m, artifact, what, err);
        m->draws = draws;
        m->min_train = min_train;
    }
    if (rc != AIPM_OK)
        *version = 0;
    json_decref(artifact);
    return rc;
}

/* Personal data may not be a model feature (policies.pii). */
static int check_pii(const aipm_config *cfg, aipm_error *err)
{
    int i;

    for (i = 0; cfg && aipm_pz_feature_columns[i]; i++)
        if (aipm_config_pii_marked(cfg, aipm_pz_feature_columns[i]))
            return aipm_error_set(err, AIPM_EBLOCKED,
                                  "policy pii: the ranking model's features "
                                  "read %s, which policies.pii marks as "
                                  "personal data",
                                  aipm_pz_feature_columns[i]);
    return AIPM_OK;
}

static void model_init(pz_model *m, const aipm_config *cfg, int draws)
{
    memset(m, 0, sizeof(*m));
    m->min_train = cfg ? (int)cfg->models.min_trained : 0;
    m->draws = draws > 0 ? draws : AIPM_PZ_DEFAULT_DRAWS;
}

/* The ranking's model and features as of now (d loaded; not a backtest):
 * every item's signals as of its day - a shipped item's decision day,
 * any other item the day after now - and the registered version
 * (*version) or, with none, the regression trained on the items shipped
 * by now (m->bayes 0: RICE). No posterior draws: aipm_prioritize makes
 * them, aipm_pz_sim_inputs_new needs none. */
static int model_now(pz_model *m, int64_t *version, pz_data *d, aipm_store *st,
                     const aipm_pz_opts *o, aipm_error *err)
{
    int i, rc;

    for (i = 0; i < d->n_items; i++)
        d->items[i].asof_day = d->items[i].shipped_day >= 0
                                   ? pz_decision_day(&d->items[i])
                                   : d->now_day + 1;
    if ((rc = load_registered(m, version, st, o, err)) != 0 ||
        (rc = pz_accounts(d, st, o->now_ms + PZ_DAY_MS, err)) != 0 ||
        (rc = pz_signals(d, st, o->link_threshold, NULL, NULL, err)) != 0)
        return rc;
    return *version == 0
               ? fit_trained(m, d, d->now_day + 1, d->now_day + 1, err)
               : AIPM_OK;
}

/* The model as decision records name it: "value@N (...)" for a
 * registered version, else the kind trained in the run. */
static void model_name(char *buf, size_t n, int64_t version, const pz_model *m)
{
    if (version > 0)
        snprintf(buf, n, "value@%lld (%s)", (long long)version,
                 PZ_MODEL_VERSION);
    else
        snprintf(buf, n, "%s", m->bayes ? PZ_MODEL_VERSION : "rice");
}

int aipm_prioritize(char **json_out, aipm_store *st, const aipm_config *cfg,
                    const aipm_pz_opts *o, aipm_error *err)
{
    pz_data d;
    pz_model m;
    pz_cand *c = NULL;
    json_t *doc = NULL, *items = NULL;
    int64_t version = 0; /* of the registered model used; 0: trained here */
    int i, n = 0, rc;
    char now_s[32], model_s[160];

    *json_out = NULL;
    if ((rc = check_pii(cfg, err)) != 0)
        return rc;
    model_init(&m, cfg, o->draws);
    if ((rc = pz_load(&d, st, cfg, o->now_ms, err)) != 0)
        goto done;
    aipm_time_format(now_s, o->now_ms);
    now_s[10] = '\0';
    if (o->backtest) {
        doc = json_object();
        rc = doc ? run_backtest(doc, &d, st, o, &m, err)
                 : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto output;
    }
    /* The draws come from the seed alone, so making them after the
     * features changes nothing. */
    if ((rc = model_now(&m, &version, &d, st, o, err)) != 0 ||
        (m.bayes && (rc = pz_draw_posterior(&m, o->seed, err)) != 0))
        goto done;
    c = calloc((size_t)(d.n_items ? d.n_items : 1), sizeof(*c));
    if (c == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < d.n_items; i++)
        if (is_candidate(&d.items[i])) {
            c[n].item = i;
            pz_features(&d.items[i], c[n].x);
            if (m.bayes)
                pz_standardize(&m, c[n].x);
            n++;
        }
    if ((rc = pz_score_all(c, n, &m, &d, o, err)) != 0)
        goto done;
    qsort(c, (size_t)n, sizeof(*c), cmp_cand);
    items = json_array();
    for (i = 0; items && i < n; i++) {
        json_t *ij = item_json(&c[i], i + 1, &m, &d);

        if (ij == NULL) { /* a field json_pack refused: never drop an item */
            rc = aipm_error_set(err, AIPM_ERROR,
                                "item %s: could not write its result",
                                d.items[c[i].item].id);
            goto done;
        }
        json_array_append_new(items, ij);
    }
    doc = json_pack("{s:s, s:o, s:o, s:{s:f, s:i, s:I, s:f}}", "as_of", now_s,
                    "items", items, "model", model_json(&m, n), "parameters",
                    "risk_aversion", o->risk_aversion, "draws", m.draws, "seed",
                    (json_int_t)o->seed, "effort_log_sd", AIPM_PZ_EFFORT_SIGMA);
    items = NULL;
    if (doc == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (version > 0)
        json_object_set_new(json_object_get(doc, "model"), "registry",
                            json_pack("{s:s, s:I}", "name", "value", "version",
                                      (json_int_t)version));
    json_object_set_new(doc, "feedback",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "rows",
                                  (json_int_t)d.links.rows, "given",
                                  (json_int_t)d.links.given, "linked",
                                  (json_int_t)d.links.linked, "needs_review",
                                  (json_int_t)d.links.review, "corrected",
                                  (json_int_t)d.links.corrected));
    if (o->capacity_weeks > 0) {
        json_t *plan = plan_json(c, n, &m, &d, o, err);

        if (plan == NULL) {
            rc = AIPM_ENOMEM;
            goto done;
        }
        json_object_set_new(doc, "plan", plan);
    }
output:
    if (rc == AIPM_OK && o->record) {
        static const char *const inputs[] = {"backlog", "feedback", "events",
                                             "signals", NULL};
        /* link_threshold null: the linker's own threshold (calibrated on
         * the labelled rows), not a fixed value - replay passes it on. */
        /* model_version null: trained in the run, which a replay does
         * again; N: the registered version, which a replay uses again. */
        json_t *params = json_pack(
            "{s:f, s:f, s:i, s:I, s:o, s:b, s:s, s:i, s:I, s:o}",
            "capacity_weeks", o->capacity_weeks, "risk_aversion",
            o->risk_aversion, "draws", m.draws, "seed", (json_int_t)o->seed,
            "link_threshold",
            o->link_threshold > 0 ? json_real(o->link_threshold) : json_null(),
            "backtest", o->backtest, "model",
            m.bayes ? PZ_MODEL_VERSION : "rice", "trained_on", m.n_train,
            "cutoff_ms", (json_int_t)o->cutoff_ms, "model_version",
            version > 0 ? json_integer((json_int_t)version) : json_null());
        const char *top = o->backtest ? "backtest"
                          : n > 0     ? d.items[c[0].item].id
                                      : "none";
        json_t *first = json_array_get(json_object_get(doc, "items"), 0);
        json_t *why;
        char id[37], rationale[768];
        aipm_decision_spec spec;
        size_t ri, rn;

        /* the first item and the factors that put it there, in words */
        rn = (size_t)snprintf(rationale, sizeof(rationale), "%s ranks first",
                              top);
        json_array_foreach(json_object_get(first, "contributions"), ri, why)
        {
            const char *t = json_string_value(json_object_get(why, "text"));
            int k;

            if (o->backtest || ri >= 3 || t == NULL)
                break;
            k = snprintf(rationale + rn, sizeof(rationale) - rn, "%s%s",
                         ri ? "; " : ": ", t);
            if (k < 0 || (size_t)k >= sizeof(rationale) - rn)
                break;
            rn += (size_t)k;
        }
        memset(&spec, 0, sizeof(spec));
        spec.kind = "prioritize";
        spec.subject = "backlog";
        spec.decision = top;
        spec.doc = doc;
        spec.params = params;
        spec.datasets = inputs;
        model_name(model_s, sizeof(model_s), version, &m);
        spec.model = model_s;
        spec.rationale = o->backtest ? "a backtest of the model" : rationale;
        spec.confidence =
            !o->backtest && json_is_number(json_object_get(first, "confidence"))
                ? json_number_value(json_object_get(first, "confidence"))
                : NAN;
        spec.config = cfg;
        rc = aipm_decision_record(st, &spec, o->now_ms, o->checkpoint, id, err);
        json_decref(params);
        if (rc == AIPM_OK)
            json_object_set_new(doc, "decision_id", json_string(id));
    }
    if (rc == AIPM_OK) {
        *json_out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (*json_out == NULL)
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
done:
    json_decref(items);
    json_decref(doc);
    free(c);
    pz_model_free(&m);
    pz_free(&d);
    return rc;
}

/* ---- the value model's inputs, for the scenario simulator ---- */

_Static_assert(AIPM_PZ_FEATURES == PZ_P,
               "AIPM_PZ_FEATURES must be the regression's PZ_P");
_Static_assert(AIPM_PZ_FEATURES <= AIPM_BLR_MAX_P,
               "the simulator takes at most AIPM_BLR_MAX_P features");

void aipm_pz_sim_inputs_free(aipm_pz_sim_inputs *in)
{
    int i;

    if (in == NULL)
        return;
    for (i = 0; in->items && i < in->n_items; i++) {
        free(in->items[i].id);
        free(in->items[i].title);
        free(in->items[i].status);
        free(in->items[i].area);
    }
    free(in->items);
    free(in);
}

/* The model of aipm_prioritize's run at now_ms (model_now: the same
 * setup), copied out without a draw; each item's features standardized as
 * aipm_prioritize does for its candidates. */
int aipm_pz_sim_inputs_new(aipm_pz_sim_inputs **out, aipm_store *st,
                           const aipm_config *cfg, int64_t model_version,
                           int64_t now_ms, aipm_error *err)
{
    aipm_pz_sim_inputs *in = NULL;
    aipm_pz_opts o;
    pz_data d;
    pz_model m;
    int64_t version = 0;
    int i, rc;

    *out = NULL;
    if ((rc = check_pii(cfg, err)) != 0)
        return rc;
    aipm_pz_opts_init(&o);
    o.record = 0;
    o.now_ms = now_ms;
    o.model_version = model_version;
    model_init(&m, cfg, o.draws);
    if ((rc = pz_load(&d, st, cfg, now_ms, err)) != 0 ||
        (rc = model_now(&m, &version, &d, st, &o, err)) != 0)
        goto done;
    if (!m.bayes) {
        int need = m.min_train > 0 ? m.min_train : AIPM_PZ_MIN_TRAIN;

        if (m.n_train < need)
            rc = aipm_error_set(
                err, AIPM_EINVALID,
                "the value model needs at least %d shipped items with a "
                "measured outcome to simulate (policies.models.min_trained), "
                "and the backlog has %d; prioritize ranks by RICE until then",
                need, m.n_train);
        else /* enough rows, but the regression failed on them */
            rc = aipm_error_set(
                err, AIPM_EINVALID,
                "the value model could not be fitted on the %d shipped items "
                "with a measured outcome (collinear features); prioritize "
                "ranks by RICE until it can",
                m.n_train);
        goto done;
    }
    in = calloc(1, sizeof(*in));
    if (in == NULL || (in->items = calloc((size_t)(d.n_items ? d.n_items : 1),
                                          sizeof(*in->items))) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    /* aipm_blr's chol is row-major with row stride p, as the simulator's */
    in->p = PZ_P;
    memcpy(in->mn, m.blr.mn, sizeof(in->mn));
    memcpy(in->chol, m.blr.chol, sizeof(in->chol));
    in->an = m.blr.an;
    in->bn = m.blr.bn;
    in->version = version;
    model_name(in->model, sizeof(in->model), version, &m);
    in->n_train = m.n_train;
    for (i = 0; i < d.n_items; i++) {
        const pz_item *it = &d.items[i];
        aipm_pz_sim_item *s = &in->items[in->n_items++];

        s->id = strdup(it->id);
        s->title = strdup(it->title);
        s->status = strdup(it->status);
        s->area = it->area[0] ? strdup(it->area) : NULL;
        if (!s->id || !s->title || !s->status || (it->area[0] && !s->area)) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        pz_features(it, s->x);
        pz_standardize(&m, s->x);
        s->effort = it->effort; /* pz_load: none is 1, in [0.05, 1000] */
        s->open = is_candidate(it);
    }
    *out = in;
    in = NULL;
done:
    aipm_pz_sim_inputs_free(in);
    pz_model_free(&m);
    pz_free(&d);
    return rc;
}

/* ---- the backtest ---- */

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

int pz_split_at(pz_data *d, aipm_store *st, int64_t cutoff,
                double link_threshold, aipm_error *err)
{
    int i, rc;

    /* Account traits as known at the cutoff. */
    if ((rc = pz_accounts(d, st, cutoff * PZ_DAY_MS, err)) != 0)
        return rc;
    /* As of its decision day, and never after the cutoff. */
    for (i = 0; i < d->n_items; i++) {
        pz_item *it = &d->items[i];
        int64_t asof = it->shipped_day >= 0 ? pz_decision_day(it) : cutoff;

        it->asof_day = asof < cutoff ? asof : cutoff;
    }
    return pz_signals(d, st, link_threshold, NULL, NULL, err);
}

int pz_holdout(pz_cand *c, double *real, int *n, const pz_model *m,
               const pz_data *d, int64_t cutoff, int64_t end_day,
               const aipm_pz_opts *o, aipm_error *err)
{
    int i;

    *n = 0;
    for (i = 0; i < d->n_items; i++) {
        const pz_item *it = &d->items[i];
        double v;

        if (it->shipped_day < cutoff)
            continue;
        v = pz_outcome(d, i, end_day);
        if (!isfinite(v))
            continue;
        c[*n].item = i;
        pz_features(it, c[*n].x);
        if (m->bayes)
            pz_standardize(m, c[*n].x);
        real[(*n)++] = v;
    }
    return pz_score_all(c, *n, m, d, o, err);
}

static int run_backtest(json_t *doc, pz_data *d, aipm_store *st,
                        const aipm_pz_opts *o, pz_model *m, aipm_error *err)
{
    int64_t cutoff, *days = malloc((size_t)(d->n_items + 1) * sizeof(int64_t));
    pz_cand *c = calloc((size_t)(d->n_items + 1), sizeof(*c));
    double *pred = malloc((size_t)(d->n_items + 1) * sizeof(double));
    double *real = malloc((size_t)(d->n_items + 1) * sizeof(double));
    double *rice = malloc((size_t)(d->n_items + 1) * sizeof(double));
    double *pred_r = malloc((size_t)(d->n_items + 1) * sizeof(double));
    double *real_r = malloc((size_t)(d->n_items + 1) * sizeof(double));
    json_t *rows = json_array();
    int i, n_ship = 0, n = 0, n_r = 0, rc = AIPM_OK;
    char cut_s[32];

    if (!days || !c || !pred || !real || !rice || !pred_r || !real_r || !rows) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < d->n_items; i++)
        if (d->items[i].shipped_day >= 0)
            days[n_ship++] = d->items[i].shipped_day;
    if (o->cutoff_ms > 0)
        cutoff = o->cutoff_ms / PZ_DAY_MS;
    else if (n_ship > 0) {
        qsort(days, (size_t)n_ship, sizeof(int64_t), cmp_day);
        cutoff = days[n_ship / 2];
    } else
        cutoff = d->now_day;
    if ((rc = pz_split_at(d, st, cutoff, o->link_threshold, err)) != 0 ||
        (rc = train(m, d, cutoff, cutoff, o->seed, err)) != 0 ||
        (rc = pz_holdout(c, real, &n, m, d, cutoff, d->now_day + 1, o, err)) !=
            0)
        goto done;
    for (i = 0; i < n; i++) {
        const pz_item *it = &d->items[c[i].item];
        double r = rice_of(it);

        pred[i] = c[i].v.capped_mean;
        if (isfinite(r)) {
            rice[n_r] = r / it->effort;
            pred_r[n_r] = pred[i];
            real_r[n_r++] = real[i];
        }
        json_array_append_new(
            rows,
            json_pack("{s:s, s:f, s:f, s:f, s:f, s:o, s:{s:f, s:f, s:o}}", "id",
                      it->id, "predicted", pred[i], "p10", c[i].v.q[0], "p90",
                      c[i].v.q[2], "realized", real[i], "rice",
                      isfinite(r) ? json_real(r / it->effort) : json_null(),
                      "signals", "demand", it->demand, "reach", it->reach,
                      "market",
                      it->has_market ? json_real(it->market) : json_null()));
    }
    aipm_time_format(cut_s, cutoff * PZ_DAY_MS);
    cut_s[10] = '\0';
    json_object_set_new(
        doc, "backtest",
        json_pack("{s:s, s:s, s:i, s:i, s:o, s:i, s:o, s:o, s:o}", "cutoff",
                  cut_s, "model", m->bayes ? "bayesian_linear" : "rice",
                  "trained_on", m->n_train, "tested_on", n, "spearman",
                  num(aipm_spearman(pred, real, n)), "rice_items", n_r,
                  "rice_spearman", num(aipm_spearman(rice, real_r, n_r)),
                  "model_spearman_on_rice_items",
                  num(aipm_spearman(pred_r, real_r, n_r)), "items", rows));
    rows = NULL;
    json_object_set_new(doc, "model", model_json(m, n));
    {
        int covered = 0;

        for (i = 0; i < n; i++)
            covered += real[i] >= c[i].v.q[0] && real[i] <= c[i].v.q[2];
        json_object_set_new(json_object_get(doc, "backtest"),
                            "p10_p90_coverage",
                            n ? json_real((double)covered / n) : json_null());
    }
done:
    json_decref(rows);
    free(days);
    free(c);
    free(pred);
    free(real);
    free(rice);
    free(pred_r);
    free(real_r);
    return rc;
}
