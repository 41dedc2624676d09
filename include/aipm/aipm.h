/* aipm.h - the umbrella header of libaipm: include this to get it all. */
#ifndef AIPM_H
#define AIPM_H

#include "aipm/audit.h"
#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/decision.h"
#include "aipm/govern.h"
#include "aipm/keys.h"
#include "aipm/policy.h"
#include "aipm/demo.h"
#include "aipm/experiment.h"
#include "aipm/feedback.h"
#include "aipm/forecast.h"
#include "aipm/graph.h"
#include "aipm/ingest.h"
#include "aipm/kpi.h"
#include "aipm/lineage.h"
#include "aipm/metrics.h"
#include "aipm/models.h"
#include "aipm/calibration.h"
#include "aipm/drift.h"
#include "aipm/monitor.h"
#include "aipm/prioritize.h"
#include "aipm/scenario.h"
#include "aipm/sim_engine.h"
#include "aipm/sim_run.h"
#include "aipm/simulate.h"
#include "aipm/stats.h"
#include "aipm/store.h"
#include "aipm/text.h"

#endif
