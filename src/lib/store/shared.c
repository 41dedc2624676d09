/* shared.c - what every backend's analysis statements share: the JSON
 * texts they expand (events, periods, pairs) and the filing of the KPI
 * rows they return, so that each backend differs only in its SQL. */
#include "store/store_int.h"

#include <jansson.h>
#include <string.h>

/* The compact text of arr, then arr released; NULL when arr is NULL or
 * out of memory. */
static char *dump(json_t *arr)
{
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;

    json_decref(arr);
    return text;
}

char *aipm_store__events_json(const aipm_event_measure *m, int *oom)
{
    json_t *arr;
    char *text;
    int i;

    *oom = 0;
    if (m->any_event)
        return NULL;
    arr = json_array();
    for (i = 0; arr && i < m->n_events; i++)
        if (json_array_append_new(arr, json_string(m->events[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    text = dump(arr);
    *oom = text == NULL;
    return text;
}

char *aipm_store__periods_json(const aipm_periods *p)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; arr && i < p->n; i++)
        if (json_array_append_new(arr,
                                  json_pack("[I, I]", (json_int_t)p->first[i],
                                            (json_int_t)p->last[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    return dump(arr);
}

char *aipm_store__label_pairs_json(const char *const *events,
                                   const char *const *labels, int n)
{
    json_t *arr = json_array();
    int i;

    /* a pair jansson refuses (a string that is not valid UTF-8) is left
     * out, as store.h says */
    for (i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("[s, s]", events[i], labels[i]));
    return dump(arr);
}

char *aipm_store__feature_pairs_json(const char *const *events,
                                     const int *feature_of, int n)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; arr && i < n; i++)
        json_array_append_new(arr,
                              json_pack("[s, i]", events[i], feature_of[i]));
    return dump(arr);
}

int aipm_store__activity_row(const aipm_store__activity *a, char kind,
                             int64_t i, const double v[7])
{
    aipm_period_activity *o;
    int k;

    if (kind == 'c')
        return a->cohort ? a->cohort(a->ctx, i, (int64_t)v[0], v[1]) : 0;
    if (i < 0 || i >= a->p->n)
        return 0;
    o = &a->out[i];
    switch (kind) {
    case 'a':
        o->dau_sum = v[0];
        o->active = v[1];
        break;
    case 'w':
        o->wau = v[0];
        o->mau = v[1];
        break;
    case 'n':
        o->new_users = v[0];
        for (k = 0; k < 3; k++) {
            o->ret[k] = v[1 + 2 * k];
            o->elig[k] = v[2 + 2 * k];
        }
        break;
    }
    return 0;
}

void aipm_store__period_cols_zero(aipm_store__period_cols *c)
{
    int j;

    for (j = 0; j < c->width; j++)
        memset(c->cols[j], 0, (size_t)c->n * sizeof(double));
}

void aipm_store__period_cols_put(aipm_store__period_cols *c, int64_t i,
                                 const double *v)
{
    int j;

    if (i < 0 || i >= c->n)
        return;
    for (j = 0; j < c->width; j++)
        c->cols[j][i] = v[j];
}
