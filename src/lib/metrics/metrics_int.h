/* metrics_int.h - what the metrics module's SQL generators share (private).
 *
 * The experiment statements (sql.c) and the KPI statements (kpi.c) bind the
 * same things for a metric: the list of events it counts and the JSON paths
 * of its property and filter. They are built here once.
 */
#ifndef AIPM_METRICS_INT_H
#define AIPM_METRICS_INT_H

#include "aipm/metrics.h"

#define AIPM_JSON_PATH_MAX 300

/* mem(user_id, acct): each user's account, the group_id of their newest
 * group call before BOUND (an SQL expression in ms: the end of what the
 * statement reads, so that a past period's figures do not change as data
 * arrives). A common table expression for the statements of metrics over
 * accounts (unit: account). */
#define AIPM_MEMBERS_CTE(BOUND)                                                \
    " mem(user_id, acct) AS MATERIALIZED (SELECT user_id, acct FROM ("         \
    "  SELECT user_id, group_id AS acct, max(ts) FROM v_events"                \
    "  WHERE type = 'group' AND user_id IS NOT NULL"                           \
    "  AND group_id IS NOT NULL AND ts < " BOUND " GROUP BY user_id))"

/* The events metric m counts, as a JSON array text for json_each (*events,
 * caller frees; NULL for retention: any event). AIPM_EINVALID for a ratio
 * metric or an adoption metric whose feature is not in the catalog. */
int aipm_metrics__events(char **events, const aipm_config *cfg,
                         const aipm_metric *m, aipm_error *err);

/* JSON paths ('$."name"') of m's property and of its filter's property. */
void aipm_metrics__paths(const aipm_metric *m, char prop[AIPM_JSON_PATH_MAX],
                         char where[AIPM_JSON_PATH_MAX]);

#endif
