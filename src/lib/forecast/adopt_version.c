/* adopt_version.c - a forecast's hazard fits taken from a registered
 * version of the adoption model (forecast.h, aipm_adoption_opts's
 * model_version): which version applies, and its fits in place of the
 * run's where it has the segment. */
#include "aipm/models.h"
#include "forecast/forecast_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct aipm_forecast__seg seg;
typedef struct aipm_forecast__run run;

/* ---- a registered version's hazard fits ---- */

/* The version of the registry's adoption model a forecast takes its
 * hazard fits from (o->model_version, forecast.h), read into m: *version
 * 0 (m empty) when the run fits its own - a backtest, -1, or no
 * production version. *artifact (the text m borrows from) is the
 * caller's to decref after m is freed. */
int aipm_forecast__registered(struct aipm_forecast__art *m, json_t **artifact,
                              int64_t *version, aipm_adoption *a,
                              const aipm_adoption_opts *o, aipm_error *err)
{
    int rc;

    *version = 0;
    *artifact = NULL;
    if (a->holdout > 0 || o->model_version < 0)
        return AIPM_OK;
    if (o->model_version > 0) {
        rc = aipm_model_artifact(a->st, "adoption", o->model_version, artifact,
                                 err);
        if (rc == AIPM_OK)
            *version = o->model_version;
    } else {
        rc = aipm_model_production(a->st, "adoption", version, artifact, err);
    }
    if (rc == AIPM_OK && *version > 0)
        rc = aipm_forecast__art_read(m, *artifact, err);
    if (rc != AIPM_OK) {
        json_decref(*artifact);
        *artifact = NULL;
        *version = 0;
    }
    return rc;
}

/* The fit of s taken as the version's parameters p, described as
 * aipm_hazard_fit would describe a fit on the segment's data: standard
 * errors from the version's covariance (unknown when it has none), the
 * counts of the data, and beta's average marginal effect over its
 * at-risk days weighted by each user's posterior eligibility under p
 * (hazard.c's, 1 for adopters; pi S / (1 - pi + pi S) for the others). */
static void fixed_fit(seg *s, const struct aipm_forecast__seg_par *p)
{
    aipm_hazard *h = &s->hz;
    double ame = 0, ame_w = 0, logit = 0;
    int known = 0, i, j;
    int64_t q;

    memset(h, 0, sizeof(*h));
    h->alpha = p->alpha;
    h->beta = p->beta;
    h->pi = p->pi;
    memcpy(h->cov, p->cov, sizeof(h->cov));
    for (i = 0; i < 9; i++)
        known |= p->cov[i] != 0;
    h->se_alpha = known ? sqrt(p->cov[0]) : NAN;
    h->se_beta = known ? sqrt(p->cov[4]) : NAN;
    h->se_pi = known ? p->pi * (1 - p->pi) * sqrt(p->cov[8]) : NAN;
    if (p->pi < 1)
        logit = log(p->pi / (1 - p->pi));
    h->n_users = s->nu;
    for (j = 0; j < s->nu; j++) {
        double ls = 0, w;

        for (q = s->start[j]; q < s->start[j + 1]; q++) {
            ls += s->rd[q] *
                  log1p(-aipm_hazard_prob(p->alpha, p->beta, s->rs[q]));
            h->n_days += s->rd[q];
        }
        if (!isnan(s->ev[j])) {
            double e = aipm_hazard_prob(p->alpha, p->beta, s->ev[j]);

            w = 1;
            ame += p->beta * e * (1 - e);
            ame_w += 1;
            h->n_events++;
            h->n_days++;
        } else {
            w = p->pi >= 1 ? 1 : 1 / (1 + exp(-(logit + ls)));
        }
        for (q = s->start[j]; q < s->start[j + 1]; q++) {
            double e = aipm_hazard_prob(p->alpha, p->beta, s->rs[q]);

            ame += w * s->rd[q] * p->beta * e * (1 - e);
            ame_w += w * s->rd[q];
        }
    }
    h->ame = ame_w > 0 ? ame / ame_w : 0;
    h->loglik = NAN; /* not a fit on these data */
}

static const char *by_label(const char *by)
{
    return by ? by : "all";
}

/* The run's hazard fits replaced by version's m where it applies (see
 * forecast.h), and the document's "registry" (*out): r holds the fits at
 * the forecast's cutoff; hazard 0 when the run has no hazard model (a
 * Bass prior, or the Bass model asked for), why_not saying why.
 * AIPM_ENOMEM. */
int aipm_forecast__take_version(json_t **out, run *r,
                                const struct aipm_forecast__art *m,
                                int64_t version, const char *feature,
                                int hazard, const char *why_not)
{
    const aipm_adoption *a = r->a;
    const struct aipm_forecast__seg_par *take[MAX_SEGMENTS + 1];
    json_t *used = json_array(), *refitted = json_array();
    char why[512] = "";
    int fi = -1, k, j;

    *out = NULL;
    if (!used || !refitted)
        goto nomem;
    for (j = 0; j < m->n_feat; j++)
        if (strcmp(m->feat[j], feature) == 0)
            fi = j;
    if (strcmp(by_label(m->by), by_label(a->by)) != 0)
        snprintf(why, sizeof(why), "trained by %s, this forecast is by %s",
                 by_label(m->by), by_label(a->by));
    else if (!hazard)
        snprintf(why, sizeof(why), "%s", why_not);
    else if (fi < 0)
        snprintf(why, sizeof(why),
                 "it holds no fit of feature %s (no adopter before its "
                 "cutoff %s, or not in the catalog then)",
                 feature, m->cutoff ? m->cutoff : "(unknown)");
    /* the segments by name, each with the version's fit or none */
    for (k = 0; !why[0] && k < a->n_segs; k++) {
        take[k] = NULL;
        for (j = 0; j < m->n_segs; j++)
            if (strcmp(m->seg[j], a->seg_names[k]) == 0 &&
                m->par[(size_t)fi * m->n_segs + j].ok)
                take[k] = &m->par[(size_t)fi * m->n_segs + j];
        if (json_array_append_new(take[k] ? used : refitted,
                                  json_string(a->seg_names[k])) != 0)
            goto nomem;
    }
    if (!why[0] && json_array_size(used) == 0)
        snprintf(why, sizeof(why),
                 "it holds no fit of feature %s for any of this forecast's "
                 "segments",
                 feature);
    if (why[0]) {
        json_decref(used);
        json_decref(refitted);
        *out = json_pack("{s:s, s:I, s:b, s:s}", "name", "adoption", "version",
                         (json_int_t)version, "used", 0, "why", why);
        return *out ? AIPM_OK
                    : aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    }
    for (k = 0; k < a->n_segs; k++)
        if (take[k]) {
            fixed_fit(&r->segs[k], take[k]);
            r->segs[k].hz_ok = 1;
        }
    /* (json_pack drops the references it took when it fails) */
    *out = json_pack("{s:s, s:I, s:b, s:o, s:o, s:o}", "name", "adoption",
                     "version", (json_int_t)version, "used", 1, "segments",
                     used, "refitted", refitted, "cutoff",
                     m->cutoff ? json_string(m->cutoff) : json_null());
    return *out ? AIPM_OK
                : aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
nomem:
    json_decref(used);
    json_decref(refitted);
    return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
}
