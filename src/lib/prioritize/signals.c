/* signals.c - what the store says about each backlog item.
 *
 * pz_load reads, each in one typed read the store pushes down (store.h,
 * "push-down reads for prioritize"): the backlog (newest accepted version
 * of each item), the accounts' newest group traits (ARR, plan), daily
 * active users, the daily users of each catalog area and feature, the
 * daily users of each item (events whose properties carry its item_id),
 * and the market signals. Everything kept is per day or per item, never
 * per event.
 *
 * pz_signals then computes, for each item as of its own day (so that a
 * shipped item's features are what was known when it was decided):
 *  - demand: the accounts whose feedback is linked to it (given, linked
 *    or corrected; not needs_review), each counted once with weight
 *    (1 + ARR / mean ARR) x 2^(-age / 90 days) of its newest row; and as
 *    a rate per 30 days of the item's life, so that an item decided soon
 *    after it was written and one that waited a year compare;
 *  - reach: users of the item's area's catalog features per daily active
 *    user, over the 30 days before;
 *  - market: the least-squares slope of each of the area's signals over
 *    the 90 days before, per 30 days, relative to the signal's mean;
 *    averaged over the signals.
 */
#include "prioritize/prioritize_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS (1 << 22)
#define MAX_KEYS (1 << 16)
#define MAX_ACCOUNTS (1 << 24)
#define MAX_PAIRS (1 << 26)
#define MAX_DAYS 36600

typedef struct loader {
    pz_data *d;
    aipm_error *err;
} loader;

static int64_t day_of(const char *s)
{
    int64_t ms;

    if (s == NULL || aipm_time_parse(&ms, s, strlen(s), 1) != AIPM_OK)
        return -1;
    return ms >= 0 ? ms / PZ_DAY_MS : (ms - PZ_DAY_MS + 1) / PZ_DAY_MS;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static int item_row(void *ctx, const aipm_backlog_item *r)
{
    loader *L = ctx;
    pz_data *d = L->d;
    pz_item *it;
    int idx, added, rc;

    if (r->id == NULL)
        return 0;
    rc = aipm_strmap_put(&d->item_ids, r->id, strlen(r->id), &idx, &added);
    if (rc)
        return aipm_error_set(L->err, rc, "too many backlog items");
    if (!added)
        return 0;
    if (aipm_grow(&d->items, &d->cap_items, (size_t)d->n_items + 1,
                  sizeof(*d->items)) != 0)
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    it = &d->items[d->n_items++];
    memset(it, 0, sizeof(*it));
    it->id = strdup(r->id);
    it->title = strdup(r->title ? r->title : "");
    it->area = strdup(r->area ? r->area : "");
    it->feature_key = dup_or_null(r->feature_key);
    it->status = strdup(r->status ? r->status : "");
    if (!it->id || !it->title || !it->area || !it->status ||
        (r->feature_key && *r->feature_key && !it->feature_key))
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    /* Effort in person-weeks, kept in [0.05, 1000]: a contract-valid but
     * absurd estimate must not overflow a score or a plan's half-weeks
     * (none, NAN, is 1). */
    it->effort = r->effort > 0 ? r->effort : 1;
    it->effort = it->effort < 0.05   ? 0.05
                 : it->effort > 1000 ? 1000
                                     : it->effort;
    it->created_day = day_of(r->created_at);
    it->shipped_day =
        strcmp(it->status, "shipped") == 0 ? day_of(r->shipped_at) : -1;
    it->rice_reach = r->reach; /* NAN: the PM gave none */
    it->rice_impact = r->impact;
    it->rice_conf = r->confidence;
    it->market = 0;
    return 0;
}

static int account_row(void *ctx, const aipm_account_arr_plan *r)
{
    loader *L = ctx;
    pz_data *d = L->d;
    int idx, added, rc;

    if (r->account_id == NULL)
        return 0;
    rc = aipm_strmap_put(&d->accounts, r->account_id, strlen(r->account_id),
                         &idx, &added);
    if (rc)
        return aipm_error_set(L->err, rc, "too many accounts");
    if (aipm_grow(&d->accts, &d->cap_accts, (size_t)idx + 1,
                  sizeof(*d->accts)) != 0)
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    d->accts[idx].arr = r->arr > 0 ? r->arr : 0; /* none (NAN) is 0 */
    d->accts[idx].enterprise = r->plan && strcmp(r->plan, "enterprise") == 0;
    return 0;
}

/* Daily actives: the day range is the data's. */
static int dau_row(void *ctx, const aipm_daily_users *r)
{
    loader *L = ctx;
    pz_data *d = L->d;
    int64_t day = r->day;

    if (d->n_days == 0) {
        d->day0 = day; /* the store gives the days in ascending order */
    }
    if (day < d->day0 || day - d->day0 >= MAX_DAYS)
        return 0;
    if (day - d->day0 >= d->n_days) {
        if (aipm_grow(&d->dau, &d->cap_days, (size_t)(day - d->day0 + 1),
                      sizeof(*d->dau)) != 0)
            return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
        d->n_days = (int)(day - d->day0 + 1);
    }
    d->dau[day - d->day0] = (double)r->users;
    return 0;
}

static int key_row(void *ctx, const aipm_daily_users *r)
{
    loader *L = ctx;
    pz_data *d = L->d;
    int64_t day = r->day;
    int k;

    if (r->key == NULL || day < d->day0 || day - d->day0 >= d->n_days)
        return 0;
    if ((k = aipm_strmap_find(&d->keys, r->key, strlen(r->key))) < 0)
        return 0;
    d->key_users[(size_t)k * d->n_days + (size_t)(day - d->day0)] =
        (double)r->users;
    return 0;
}

static int usage_row(void *ctx, const aipm_daily_users *r)
{
    loader *L = ctx;
    pz_data *d = L->d;
    int item;

    if (r->key == NULL)
        return 0;
    if ((item = aipm_strmap_find(&d->item_ids, r->key, strlen(r->key))) < 0)
        return 0;
    if (aipm_grow(&d->usage, &d->cap_usage, d->n_usage + 1,
                  sizeof(*d->usage)) != 0)
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    d->usage[d->n_usage].item = item;
    d->usage[d->n_usage].day = r->day;
    d->usage[d->n_usage].users = (double)r->users;
    d->n_usage++;
    return 0;
}

static int signal_row(void *ctx, const aipm_market_signal *r)
{
    loader *L = ctx;
    pz_data *d = L->d;
    int a, s, added, rc;
    int64_t day;

    if (r->area == NULL || r->signal == NULL || (day = day_of(r->date)) < 0 ||
        !isfinite(r->value))
        return 0;
    if ((rc = aipm_strmap_put(&d->areas, r->area, strlen(r->area), &a,
                              &added)) != 0 ||
        (rc = aipm_strmap_put(&d->signal_names, r->signal, strlen(r->signal),
                              &s, &added)) != 0)
        return aipm_error_set(L->err, rc, "too many market signals");
    if (aipm_grow(&d->sig, &d->cap_sig, d->n_sig + 1, sizeof(*d->sig)) != 0)
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    d->sig[d->n_sig].area = a;
    d->sig[d->n_sig].signal = s;
    d->sig[d->n_sig].day = day;
    d->sig[d->n_sig].value = r->value;
    d->n_sig++;
    return 0;
}

/* The catalog's events with their labels, for
 * aipm_store_event_daily_users (the strings are borrowed). */
typedef struct labelled {
    const char **events, **labels;
    int n;
} labelled;

/* Give event the label "KIND:NAME" and register the label as a key. A
 * label the full key map cannot hold is left out: no users could be kept
 * for it. */
static int add_label(pz_data *d, labelled *p, const char *event, char kind,
                     const char *name, aipm_error *err)
{
    char key[512];
    int idx, added, rc;

    snprintf(key, sizeof(key), "%c:%s", kind, name);
    rc = aipm_strmap_put(&d->keys, key, strlen(key), &idx, &added);
    if (rc == AIPM_ENOMEM)
        return aipm_error_set(err, rc, "out of memory");
    if (rc == AIPM_OK) {
        p->events[p->n] = event;
        p->labels[p->n++] = d->keys.keys[idx];
    }
    return AIPM_OK;
}

/* Each event of a catalog feature is labelled "a:AREA" (when the feature
 * has an area) and "f:FEATURE". p's arrays are malloc'd, for the caller
 * to free. */
static int catalog_keys(pz_data *d, const aipm_config *cfg, labelled *p,
                        aipm_error *err)
{
    size_t cap = 1;
    int f, e, rc;

    for (f = 0; f < cfg->n_catalog; f++)
        cap += (size_t)cfg->catalog[f].n_events * 2;
    if (cap > INT_MAX)
        return aipm_error_set(err, AIPM_EINVALID, "too many catalog events");
    p->events = malloc(cap * sizeof(*p->events));
    p->labels = malloc(cap * sizeof(*p->labels));
    if (p->events == NULL || p->labels == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (f = 0; f < cfg->n_catalog; f++) {
        const aipm_feature *ft = &cfg->catalog[f];

        for (e = 0; e < ft->n_events; e++) {
            if (ft->area &&
                (rc = add_label(d, p, ft->events[e], 'a', ft->area, err)) != 0)
                return rc;
            if ((rc = add_label(d, p, ft->events[e], 'f', ft->key, err)) != 0)
                return rc;
        }
    }
    return AIPM_OK;
}

/* Sort the item usage rows by item (counting sort) and index them. */
static int index_usage(pz_data *d, aipm_error *err)
{
    pz_usage *sorted = malloc((d->n_usage ? d->n_usage : 1) * sizeof(*sorted));
    size_t *fill, i;
    int k;

    d->usage_start = calloc((size_t)d->n_items + 1, sizeof(size_t));
    fill = calloc((size_t)d->n_items + 1, sizeof(size_t));
    if (sorted == NULL || d->usage_start == NULL || fill == NULL) {
        free(sorted);
        free(fill);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    for (i = 0; i < d->n_usage; i++)
        d->usage_start[d->usage[i].item + 1]++;
    for (k = 0; k < d->n_items; k++)
        d->usage_start[k + 1] += d->usage_start[k];
    memcpy(fill, d->usage_start, ((size_t)d->n_items + 1) * sizeof(size_t));
    for (i = 0; i < d->n_usage; i++)
        sorted[fill[d->usage[i].item]++] = d->usage[i];
    free(fill);
    free(d->usage);
    d->usage = sorted;
    d->cap_usage = d->n_usage;
    return AIPM_OK;
}

int pz_load(pz_data *d, aipm_store *st, const aipm_config *cfg, int64_t now_ms,
            aipm_error *err)
{
    loader L = {d, err};
    labelled pairs = {NULL, NULL, 0};
    int rc;

    memset(d, 0, sizeof(*d));
    aipm_strmap_init(&d->item_ids, MAX_ITEMS);
    aipm_strmap_init(&d->keys, MAX_KEYS);
    aipm_strmap_init(&d->areas, MAX_KEYS);
    aipm_strmap_init(&d->signal_names, MAX_KEYS);
    aipm_strmap_init(&d->accounts, MAX_ACCOUNTS);
    d->now_day = now_ms / PZ_DAY_MS;
    if ((rc = aipm_store_backlog_items(st, item_row, &L, err)) != 0 ||
        (rc = aipm_store_daily_active_users(st, dau_row, &L, err)) != 0)
        return rc;
    rc = catalog_keys(d, cfg, &pairs, err);
    if (rc == 0 && d->keys.n_keys > 0 && d->n_days > 0) {
        d->key_users =
            calloc((size_t)d->keys.n_keys * (size_t)d->n_days, sizeof(double));
        rc = d->key_users == NULL
                 ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
                 : aipm_store_event_daily_users(st, pairs.events, pairs.labels,
                                                pairs.n, key_row, &L, err);
    }
    free(pairs.events);
    free(pairs.labels);
    if (rc == 0)
        rc = aipm_store_item_daily_users(st, usage_row, &L, err);
    if (rc == 0)
        rc = index_usage(d, err);
    if (rc == 0)
        rc = aipm_store_market_signals(st, signal_row, &L, err);
    return rc;
}

int pz_accounts(pz_data *d, aipm_store *st, int64_t before_ms, aipm_error *err)
{
    loader L = {d, err};
    double arr_sum = 0;
    int i, n_arr = 0, rc;

    aipm_strmap_free(&d->accounts);
    aipm_strmap_init(&d->accounts, MAX_ACCOUNTS);
    rc = aipm_store_account_arr_plan(st, before_ms, account_row, &L, err);
    for (i = 0; rc == AIPM_OK && i < d->accounts.n_keys; i++)
        if (d->accts[i].arr > 0) {
            arr_sum += d->accts[i].arr;
            n_arr++;
        }
    d->mean_arr = n_arr ? arr_sum / n_arr : 0;
    return rc;
}

void pz_free(pz_data *d)
{
    int i;

    for (i = 0; i < d->n_items; i++) {
        free(d->items[i].id);
        free(d->items[i].title);
        free(d->items[i].area);
        free(d->items[i].feature_key);
        free(d->items[i].status);
    }
    free(d->items);
    aipm_strmap_free(&d->item_ids);
    free(d->dau);
    aipm_strmap_free(&d->keys);
    free(d->key_users);
    free(d->usage);
    free(d->usage_start);
    free(d->sig);
    aipm_strmap_free(&d->areas);
    aipm_strmap_free(&d->signal_names);
    aipm_strmap_free(&d->accounts);
    free(d->accts);
    memset(d, 0, sizeof(*d));
}

/* Sum of users of key k and of daily actives over days [from, to). */
static void key_window(const pz_data *d, int k, int64_t from, int64_t to,
                       double *users, double *actives)
{
    int64_t day;

    *users = *actives = 0;
    for (day = from; day < to; day++) {
        int64_t i = day - d->day0;

        if (i < 0 || i >= d->n_days)
            continue;
        *actives += d->dau[i];
        if (k >= 0)
            *users += d->key_users[(size_t)k * d->n_days + (size_t)i];
    }
}

static int key_index(const pz_data *d, char kind, const char *name)
{
    char key[512];

    if (name == NULL)
        return -1;
    snprintf(key, sizeof(key), "%c:%s", kind, name);
    return aipm_strmap_find(&d->keys, key, strlen(key));
}

double pz_outcome(const pz_data *d, int item, int64_t end_day)
{
    const pz_item *it = &d->items[item];
    double users = 0, actives = 0, dummy;
    int64_t from = it->shipped_day;
    size_t i;
    int any = 0;

    if (from < 0 || end_day - from < PZ_MIN_OUTCOME_DAYS)
        return NAN;
    for (i = d->usage_start[item]; i < d->usage_start[item + 1]; i++) {
        any = 1;
        if (d->usage[i].day >= from && d->usage[i].day < end_day)
            users += d->usage[i].users;
    }
    if (any)
        key_window(d, -1, from, end_day, &dummy, &actives);
    else {
        int k = key_index(d, 'f', it->feature_key);

        if (k < 0)
            return NAN; /* no instrumentation: nothing observed */
        key_window(d, k, from, end_day, &users, &actives);
    }
    return actives > 0 ? 10000 * users / actives : NAN;
}

/* The market trend of an area as of a day (see the file comment). */
static int market_trend(const pz_data *d, const char *area, int64_t asof,
                        double *out)
{
    int a = aipm_strmap_find(&d->areas, area, strlen(area));
    int s, n_trends = 0;
    double total = 0;

    *out = 0;
    if (a < 0)
        return 0;
    for (s = 0; s < d->signal_names.n_keys; s++) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0, slope, mean;
        size_t i;

        for (i = 0; i < d->n_sig; i++) {
            const pz_signal *g = &d->sig[i];
            double x;

            if (g->area != a || g->signal != s || g->day >= asof ||
                g->day < asof - PZ_MARKET_DAYS)
                continue;
            x = (double)(g->day - asof);
            sx += x;
            sy += g->value;
            sxx += x * x;
            sxy += x * g->value;
            n++;
        }
        if (n < 3 || n * sxx - sx * sx <= 0)
            continue;
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        mean = sy / n;
        if (mean == 0)
            continue;
        total += slope * 30 / fabs(mean);
        n_trends++;
    }
    if (n_trends == 0)
        return 0;
    *out = total / n_trends;
    return 1;
}

/* ---- demand, from one pass over the feedback links ---- */

typedef struct pair {
    int item, acct; /* acct: index into accounts, or -1 */
    int64_t last;   /* the day of the newest row */
} pair;

typedef struct demand {
    pz_data *d;
    aipm_strmap pairs; /* "<item>\x1f<account>" */
    pair *pair;
    size_t cap;
    aipm_error *err;
} demand;

static int item_seen(demand *m, const aipm_link *l, const char *item_id);

/* A row linked to several items (several asks) is demand for each, once. */
static int link_seen(void *ctx, const aipm_link *l)
{
    demand *m = ctx;
    pz_data *d = m->d;
    int item, i, rc;

    if (l->status == AIPM_LINK_REVIEW) {
        if (l->model_item &&
            (item = aipm_strmap_find(&d->item_ids, l->model_item,
                                     strlen(l->model_item))) >= 0)
            d->items[item].n_review++;
        return 0;
    }
    for (i = 0; i < l->n_items; i++)
        if ((rc = item_seen(m, l, l->items[i])) != 0)
            return rc;
    return 0;
}

static int item_seen(demand *m, const aipm_link *l, const char *item_id)
{
    pz_data *d = m->d;
    char key[600];
    const char *who;
    int item, pi, added, rc, acct;
    int64_t day;

    if (item_id == NULL ||
        (item = aipm_strmap_find(&d->item_ids, item_id, strlen(item_id))) < 0)
        return 0;
    day = day_of(l->created_at);
    if (day < 0 || day >= d->items[item].asof_day)
        return 0;
    d->items[item].n_feedback++;
    who = l->account_id && *l->account_id ? l->account_id : l->feedback_id;
    {
        /* "<item>\x1f<account>"; a long account id gets a heap key, not
         * a truncated one (two ids must never merge). */
        int len = snprintf(key, sizeof(key), "%d\x1f%s", item, who);
        char *k = key;

        if (len < 0)
            return aipm_error_set(m->err, AIPM_ERROR, "bad account id");
        if ((size_t)len >= sizeof(key)) {
            if ((k = malloc((size_t)len + 1)) == NULL)
                return aipm_error_set(m->err, AIPM_ENOMEM, "out of memory");
            snprintf(k, (size_t)len + 1, "%d\x1f%s", item, who);
        }
        rc = aipm_strmap_put(&m->pairs, k, (size_t)len, &pi, &added);
        if (k != key)
            free(k);
    }
    if (rc)
        return aipm_error_set(m->err, rc, "too many (item, account) pairs");
    if (aipm_grow(&m->pair, &m->cap, (size_t)pi + 1, sizeof(*m->pair)) != 0)
        return aipm_error_set(m->err, AIPM_ENOMEM, "out of memory");
    acct = l->account_id ? aipm_strmap_find(&d->accounts, l->account_id,
                                            strlen(l->account_id))
                         : -1;
    if (added || day > m->pair[pi].last) {
        m->pair[pi].item = item;
        m->pair[pi].acct = acct;
        m->pair[pi].last = day;
    }
    return 0;
}

int pz_signals(pz_data *d, aipm_store *st, double link_threshold,
               aipm_progress_fn progress, void *progress_ctx, aipm_error *err)
{
    demand m;
    aipm_link_opts o;
    int i, rc;
    double mean_reach = 0;
    int n_reach = 0;

    /* Reach and market from the loaded data. */
    for (i = 0; i < d->n_items; i++) {
        pz_item *it = &d->items[i];
        double users, actives;
        int k = key_index(d, 'a', it->area);

        key_window(d, k, it->asof_day - PZ_REACH_DAYS, it->asof_day, &users,
                   &actives);
        it->reach_users = users / PZ_REACH_DAYS;
        it->reach = actives > 0 && k >= 0 ? users / actives
                    : actives > 0         ? 0
                                          : NAN;
        if (isfinite(it->reach)) {
            mean_reach += it->reach;
            n_reach++;
        }
        it->has_market = market_trend(d, it->area, it->asof_day, &it->market);
        it->demand = 0;
        it->n_accounts = it->n_enterprise = 0;
        it->n_feedback = it->n_review = 0;
    }
    /* Before any telemetry, reach is unknown: the mean of the others. */
    for (i = 0; i < d->n_items; i++)
        if (!isfinite(d->items[i].reach))
            d->items[i].reach = n_reach ? mean_reach / n_reach : 0;

    memset(&m, 0, sizeof(m));
    m.d = d;
    m.err = err;
    aipm_strmap_init(&m.pairs, MAX_PAIRS);
    memset(&o, 0, sizeof(o));
    o.threshold = link_threshold;
    o.progress = progress;
    o.progress_ctx = progress_ctx;
    rc = aipm_feedback_links(st, &o, link_seen, &m, &d->links, err);
    for (i = 0; rc == AIPM_OK && i < m.pairs.n_keys; i++) {
        const pair *pr = &m.pair[i];
        pz_item *it = &d->items[pr->item];
        double arr = pr->acct >= 0 ? d->accts[pr->acct].arr : 0;
        double w = 1 + (d->mean_arr > 0 ? arr / d->mean_arr : 0);
        double age = (double)(it->asof_day - 1 - pr->last);

        it->demand += w * pow(2, -age / PZ_HALF_LIFE);
        it->n_accounts++;
        if (pr->acct >= 0 && d->accts[pr->acct].enterprise)
            it->n_enterprise++;
    }
    /* The rate: demand over the decayed length of the item's life so far,
     * (90 / ln 2)(1 - 2^(-W / 90)) days for a life of W days (what a
     * constant stream of one account a day would sum to), per 30 days. */
    for (i = 0; i < d->n_items; i++) {
        pz_item *it = &d->items[i];
        double W = it->created_day >= 0 && it->created_day < it->asof_day
                       ? (double)(it->asof_day - it->created_day)
                       : PZ_HALF_LIFE;
        double E = PZ_HALF_LIFE / log(2) * (1 - pow(2, -W / PZ_HALF_LIFE));

        it->demand_rate = 30 * it->demand / (E > 1 ? E : 1);
    }
    aipm_strmap_free(&m.pairs);
    free(m.pair);
    return rc;
}
