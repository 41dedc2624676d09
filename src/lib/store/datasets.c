/* datasets.c - the CSV dataset contracts of DESIGN.md section 4.
 *
 * One static table per dataset: column names in contract order, their types
 * and constraints, the record key and the time column. The ingest validator
 * and the store's table layout both read these tables, so the contract is
 * written down once.
 */
#include "aipm/store.h"

#include <math.h>
#include <string.h>

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const aipm_column backlog_cols[] = {
    {"id", AIPM_COL_TEXT, 1, NULL, NAN, NAN},
    {"title", AIPM_COL_TEXT, 1, NULL, NAN, NAN},
    {"description", AIPM_COL_TEXT, 0, NULL, NAN, NAN},
    {"area", AIPM_COL_TEXT, 0, NULL, NAN, NAN},
    {"effort", AIPM_COL_NUMBER, 1, NULL, 0.0, NAN},
    {"status", AIPM_COL_ENUM, 1, "idea|planned|in_progress|shipped|dropped",
     NAN, NAN},
    {"created_at", AIPM_COL_DATE, 1, NULL, NAN, NAN},
    {"shipped_at", AIPM_COL_DATE, 0, NULL, NAN, NAN},
    {"feature_key", AIPM_COL_TEXT, 0, NULL, NAN, NAN},
    {"reach", AIPM_COL_NUMBER, 0, NULL, NAN, 0.0},
    {"impact", AIPM_COL_NUMBER, 0, NULL, NAN, 0.0},
    {"confidence", AIPM_COL_NUMBER, 0, NULL, NAN, 0.0},
};
static const int backlog_key[] = {0};

static const aipm_column feedback_cols[] = {
    {"id", AIPM_COL_TEXT, 1, NULL, NAN, NAN},
    {"created_at", AIPM_COL_DATE, 1, NULL, NAN, NAN},
    {"source", AIPM_COL_TEXT, 1, NULL, NAN, NAN},
    {"text", AIPM_COL_TEXT, 1, NULL, NAN, NAN},
    {"user_id", AIPM_COL_TEXT, 0, NULL, NAN, NAN},
    {"account_id", AIPM_COL_TEXT, 0, NULL, NAN, NAN},
    {"score", AIPM_COL_NUMBER, 0, NULL, NAN, NAN},
    {"item_id", AIPM_COL_TEXT, 0, NULL, NAN, NAN},
};
static const int feedback_key[] = {0};

static const aipm_column signals_cols[] = {
    {"date", AIPM_COL_DATE, 1, NULL, NAN, NAN},
    {"signal", AIPM_COL_TEXT, 1, NULL, NAN, NAN},
    {"value", AIPM_COL_NUMBER, 1, NULL, NAN, NAN},
    {"area", AIPM_COL_TEXT, 0, NULL, NAN, NAN},
};
static const int signals_key[] = {0, 1, 3};

static const aipm_column graph_cols[] = {
    {"src", AIPM_COL_NODE, 1, NULL, NAN, NAN},
    {"relation", AIPM_COL_TEXT, 1, NULL, NAN, NAN},
    {"dst", AIPM_COL_NODE, 1, NULL, NAN, NAN},
    {"weight", AIPM_COL_NUMBER, 0, NULL, NAN, NAN},
};
static const int graph_key[] = {0, 1, 2};

static const aipm_dataset_def datasets[] = {
    {"backlog", backlog_cols, N(backlog_cols), backlog_key, N(backlog_key), 6},
    {"feedback", feedback_cols, N(feedback_cols), feedback_key, N(feedback_key),
     1},
    {"signals", signals_cols, N(signals_cols), signals_key, N(signals_key), 0},
    {"graph", graph_cols, N(graph_cols), graph_key, N(graph_key), -1},
};

const aipm_dataset_def *aipm_dataset_find(const char *name)
{
    int i;

    for (i = 0; i < N(datasets); i++)
        if (strcmp(datasets[i].name, name) == 0)
            return &datasets[i];
    return NULL;
}
