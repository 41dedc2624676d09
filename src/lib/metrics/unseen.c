/* unseen.c - the events of a metric that the accepted data never holds.
 *
 * A metric names its events by text in aipm.yaml; a typo there (or in the
 * instrumentation) gives a metric that is zero for every unit, which an
 * analysis would read as "no effect". The analyses ask the store, per
 * event, whether any accepted event has that name (a count capped at 1,
 * aipm_store_event_count) and warn about the ones that never occur. A
 * ratio is followed into its two metrics, at most a few levels deep (the
 * config does not forbid a ratio of ratios, nor a cycle).
 */
#include "aipm/metrics.h"

#include <stdio.h>
#include <string.h>

#define MAX_RATIO_DEPTH 4

static int one_event(aipm_store *st, const char *event, aipm_event_cb cb,
                     void *ctx, aipm_error *err)
{
    int64_t n = 0;
    int rc;

    if (event == NULL)
        return AIPM_OK;
    if ((rc = aipm_store_event_count(st, event, 1, &n, err)) != 0)
        return rc;
    return n == 0 ? cb(ctx, event) : AIPM_OK;
}

static int walk_metric(aipm_store *st, const aipm_config *cfg,
                       const aipm_metric *m, aipm_event_cb cb, void *ctx,
                       int depth, aipm_error *err)
{
    const aipm_feature *f;
    int i, rc;

    if (m == NULL || depth > MAX_RATIO_DEPTH)
        return AIPM_OK;
    switch (m->type) {
    case AIPM_METRIC_COUNT:
    case AIPM_METRIC_CONVERSION:
    case AIPM_METRIC_SUM:
        return one_event(st, m->event, cb, ctx, err);
    case AIPM_METRIC_RATIO:
        if ((rc = walk_metric(st, cfg, aipm_config_metric(cfg, m->numerator),
                              cb, ctx, depth + 1, err)) != 0)
            return rc;
        /* A ratio of a metric by itself: its events once. */
        if (m->denominator && m->numerator &&
            strcmp(m->denominator, m->numerator) == 0)
            return AIPM_OK;
        return walk_metric(st, cfg, aipm_config_metric(cfg, m->denominator), cb,
                           ctx, depth + 1, err);
    case AIPM_METRIC_ADOPTION:
        f = aipm_config_feature(cfg, m->feature);
        for (i = 0; f && i < f->n_events; i++)
            if ((rc = one_event(st, f->events[i], cb, ctx, err)) != 0)
                return rc;
        return AIPM_OK;
    case AIPM_METRIC_RETENTION:
    default:
        return AIPM_OK;
    }
}

int aipm_metrics_unseen_events(aipm_store *st, const aipm_config *cfg,
                               const aipm_metric *m, aipm_event_cb cb,
                               void *ctx, aipm_error *err)
{
    return walk_metric(st, cfg, m, cb, ctx, 0, err);
}

void aipm_metrics_unseen_text(char *out, size_t cap, const char *who,
                              const char *event)
{
    snprintf(out, cap,
             "%s: event '%.120s' never occurs in the accepted events; "
             "check its name in aipm.yaml (or the instrumentation)",
             who, event);
}
