/* metrics_int.h - what the experiment (sql.c) and KPI (kpi.c) reads share
 * (private): the store measure of a metric.
 */
#ifndef AIPM_METRICS_INT_H
#define AIPM_METRICS_INT_H

#include "aipm/metrics.h"
#include "aipm/store.h"

/* The events metric m counts and what each is worth, as the store's
 * measure (*out borrows m's and the catalog's strings): any event for
 * retention, the property for a sum, and m's filter. AIPM_EINVALID for a
 * ratio metric or an adoption metric whose feature is not in the
 * catalog. */
int aipm_metrics__measure(aipm_event_measure *out, const aipm_config *cfg,
                          const aipm_metric *m, aipm_error *err);

#endif
