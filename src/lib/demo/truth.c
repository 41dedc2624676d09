/* truth.c - the generated product's aipm.yaml and the core of truth.json.
 *
 * aipm.yaml is what a team would write for this product: the catalog (one
 * feature per event), metrics for the experiments' events and the
 * guardrail, KPIs, the experiments with their windows, and the default data
 * policy. truth.json holds every parameter the generator drew from, in the
 * units the analyses estimate (see each key's "meaning").
 */
#include "demo/demo_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int demo_write_yaml(demo *d, const char *outdir, aipm_error *err)
{
    char path[4200], date[16];
    aipm_file_out out;
    FILE *f;
    int i, rc;

    snprintf(path, sizeof(path), "%s/aipm.yaml", outdir);
    if ((rc = aipm_file_out_open(&out, path, 0600, err)) != 0)
        return rc;
    f = out.f;
    fprintf(f,
            "# aipm.yaml of the generated demo product (aipm demo "
            "generate --seed %llu)\n"
            "product: Acme Analytics (demo, seed %llu)\n"
            "store: aipm.db\n\ncatalog:\n",
            (unsigned long long)d->o.seed, (unsigned long long)d->o.seed);
    for (i = 0; i < d->n_features; i++) {
        const demo_feature *ft = &d->features[i];

        demo_date(d, ft->launch_day, date);
        fprintf(f,
                "  - key: %s\n    name: %s\n    area: %s\n"
                "    events: [%s]\n    launched_at: %s\n",
                ft->key, ft->name, demo_areas[ft->area], ft->event, date);
        if (ft->depends_on >= 0)
            fprintf(f, "    depends_on: [%s]\n",
                    d->features[ft->depends_on].key);
    }
    fputs("\nmetrics:\n"
          "  - {key: sessions, type: count, event: Session Started}\n"
          "  - {key: dashboards_viewed, type: count, event: Dashboard Viewed}\n"
          "  - {key: reports_viewed, type: count, event: Report Viewed}\n"
          "  - {key: notifications_clicked, type: count, event: Notification "
          "Clicked}\n"
          "  - {key: searches, type: count, event: Search Performed}\n"
          "  - {key: exported, type: conversion, event: Report Exported, "
          "window_days: 14}\n"
          "  - {key: d7_retention, type: retention, from_day: 7, to_day: 13}\n",
          f);
    for (i = 0; i < d->n_features; i++)
        fprintf(f, "  - {key: %s_adoption, type: adoption, feature: %s}\n",
                d->features[i].key, d->features[i].key);
    fputs("\nkpis:\n"
          "  - {key: activation, metric: exported, target: 0.30, direction: "
          "up}\n"
          "  - {key: retention, metric: d7_retention, target: 0.25, "
          "direction: up}\n"
          "\nexperiments:\n",
          f);
    for (i = 0; i < d->n_experiments; i++) {
        const demo_experiment *e = &d->experiments[i];
        char end[16];

        demo_date(d, e->start_day, date);
        demo_date(d, e->end_day, end);
        fprintf(f,
                "  - key: %s\n    variations: [control, treatment]\n"
                "    weights: [0.5, 0.5]\n    metrics: [%s]\n"
                "    guardrails: [%s]\n    start: %s\n    end: %s\n",
                e->key, e->metric_key, e->guardrail_key, date, end);
    }
    fputs("\npolicies:\n  data: {max_quarantine_share: 0.05, "
          "on_schema_change: warn}\n",
          f);
    return aipm_file_out_commit(&out, err);
}

json_t *demo_truth_core(demo *d)
{
    json_t *truth = json_object(), *features = json_object(),
           *experiments = json_object(), *plans = json_array();
    char start[16], end[16];
    int i, k;

    demo_date(d, 0, start);
    demo_date(d, d->o.days - 1, end);
    for (k = 0; k < N_PLANS; k++)
        json_array_append_new(plans, json_string(demo_plans[k]));
    json_object_set_new(
        truth, "generator",
        json_pack("{s:I, s:I, s:i, s:s, s:s, s:f, s:f, s:o, s:I}", "seed",
                  (json_int_t)d->o.seed, "users", (json_int_t)d->o.users,
                  "days", d->o.days, "start", start, "end", end, "bad_share",
                  d->o.bad_share, "dup_share", d->o.dup_share, "segments",
                  plans, "accounts", (json_int_t)d->n_accounts));
    for (i = 0; i < d->n_features; i++) {
        const demo_feature *ft = &d->features[i];
        json_t *seg = json_object();
        char date[16];

        for (k = 0; k < N_PLANS; k++)
            json_object_set_new(seg, demo_plans[k],
                                json_pack("{s:f, s:f, s:f}", "p", ft->p[k], "m",
                                          ft->m[k], "graph_coef", ft->g[k]));
        demo_date(d, ft->launch_day, date);
        json_object_set_new(
            features, ft->key,
            json_pack(
                "{s:s, s:s, s:s, s:s, s:f, s:o}", "event", ft->event, "area",
                demo_areas[ft->area], "launched_at", date, "depends_on",
                ft->depends_on >= 0 ? d->features[ft->depends_on].key : "",
                "use_rate", ft->use_rate, "segments", seg));
    }
    json_object_set_new(
        truth, "adoption",
        json_pack("{s:s, s:o}", "meaning",
                  "per feature and plan: on an active day an eligible user "
                  "(probability m) who has not adopted adopts with "
                  "probability 1 / (1 + exp(-(logit(p) + graph_coef * "
                  "share))), share = fraction of the user's neighbours "
                  "(the other members of their account signed up so far, "
                  "and their inviter, each once) who adopted before that "
                  "day",
                  "features", features));
    for (i = 0; i < d->n_experiments; i++) {
        const demo_experiment *e = &d->experiments[i];

        demo_date(d, e->start_day, start);
        demo_date(d, e->end_day, end);
        json_object_set_new(
            experiments, e->key,
            json_pack(
                "{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:b, s:s, s:s}",
                "kind", e->kind, "metric", e->metric_key, "event",
                e->metric_event, "guardrail", e->guardrail_key, "relative_lift",
                e->lift, "activity_lift", e->activity_lift, "unit_lift",
                (1 + e->lift) * (1 + e->activity_lift) - 1,
                "lost_treatment_exposures", e->lost_exposures, "new_users_only",
                e->new_users_only, "start", start, "end", end));
    }
    json_object_set_new(
        truth, "experiments",
        json_pack("{s:s, s:o}", "meaning",
                  "relative_lift: treatment multiplies the rate of the "
                  "metric's event on every active day after exposure, so the "
                  "metric's rate per active day changes by this fraction; "
                  "activity_lift: the same for the daily probability of "
                  "being active (sessions); unit_lift: the resulting change "
                  "of the per-unit mean, (1 + relative_lift)(1 + "
                  "activity_lift) - 1, what an analysis estimates; "
                  "lost_treatment_exposures: share of treatment exposure "
                  "events never logged (sample-ratio mismatch)",
                  "by_key", experiments));
    return truth;
}
