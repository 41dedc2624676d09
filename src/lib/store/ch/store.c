/* store.c - the ClickHouse events backend: opening, the tables, writing
 * events, counts, the rows digest and a batch id's leftovers (ch_int.h
 * explains the split with the metadata store). */
#include "store/ch/ch_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define COLUMNS CH_COLUMNS

static const char table_columns[] =
    "(seq UInt64, batch_id Int64, message_id String, type String,"
    " user_id String, anonymous_id String, event String, group_id String,"
    " ts Int64, payload String, nulls UInt8)";

/* ---- the URL ---- */

/* clickhouse://[USER@]HOST:PORT/DB[?cluster=NAME&shards=H:P,H:P]. */
static int parse_url(ch_store *s, const char *url, char *base, size_t cap,
                     char *user, size_t ucap, aipm_error *err)
{
    const char *p = url + strlen("clickhouse://"), *at, *slash, *q;
    size_t n;

    slash = strchr(p, '/');
    at = strchr(p, '@');
    user[0] = '\0';
    if (at && (slash == NULL || at < slash)) {
        if (memchr(p, ':', (size_t)(at - p)))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "events store '%s': put the password in "
                                  "$AIPM_CLICKHOUSE_PASSWORD, not in the URL",
                                  s->url);
        snprintf(user, ucap, "%.*s", (int)(at - p), p);
        p = at + 1;
    }
    if (slash == NULL || slash == p)
        return aipm_error_set(err, AIPM_EINVALID,
                              "events store '%s': expected "
                              "clickhouse://HOST:PORT/DATABASE",
                              s->url);
    snprintf(base, cap, "http://%.*s", (int)(slash - p), p);
    q = strchr(slash + 1, '?');
    n = q ? (size_t)(q - slash - 1) : strlen(slash + 1);
    if (n == 0 || n >= sizeof(s->db) ||
        strspn(slash + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789_") != n ||
        (slash[1] >= '0' && slash[1] <= '9'))
        return aipm_error_set(err, AIPM_EINVALID,
                              "events store '%s': the database name must be "
                              "letters, digits and _ (not first a digit)",
                              s->url);
    memcpy(s->db, slash + 1, n);
    s->db[n] = '\0';
    while (q && *q) {
        const char *kv = q + 1, *amp = strchr(kv, '&'),
                   *e = amp ? amp : kv + strlen(kv);
        const char *eq = memchr(kv, '=', (size_t)(e - kv));

        if (eq == NULL)
            goto bad;
        if ((size_t)(eq - kv) == 7 && strncmp(kv, "cluster", 7) == 0) {
            n = (size_t)(e - eq - 1);
            if (n == 0 || n >= sizeof(s->cluster) ||
                strspn(eq + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                               "UVWXYZ0123456789_") < n)
                goto bad;
            memcpy(s->cluster, eq + 1, n);
            s->cluster[n] = '\0';
        } else if ((size_t)(eq - kv) == 6 && strncmp(kv, "shards", 6) == 0) {
            const char *h = eq + 1;

            while (h < e) {
                const char *comma = memchr(h, ',', (size_t)(e - h));
                const char *he = comma ? comma : e;

                if (he == h || s->n_shards == CH_MAX_SHARDS ||
                    (size_t)(he - h) > 200 ||
                    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                              "VWXYZ0123456789.-:[]") < (size_t)(he - h))
                    goto bad;
                snprintf(s->shard[s->n_shards++], sizeof(s->shard[0]),
                         "http://%.*s", (int)(he - h), h);
                h = comma ? comma + 1 : e;
            }
        } else {
            goto bad;
        }
        q = amp;
    }
    if (s->n_shards && !s->cluster[0])
        return aipm_error_set(
            err, AIPM_EINVALID,
            "events store '%s': shards= needs cluster=", s->url);
    return AIPM_OK;
bad:
    return aipm_error_set(err, AIPM_EINVALID,
                          "events store '%s': the parameters are cluster=NAME "
                          "and shards=HOST:PORT,... (the shards' HTTP ports)",
                          s->url);
}

/* ---- DDL and mutations on every shard ---- */

/* Run sql on every shard (shards=), else once, ON CLUSTER when a cluster
 * is named (on_cluster: where the ON CLUSTER clause goes, after the
 * table name; NULL: the statement takes none). */
static int each_shard(ch_store *s, const char *sql, const char *tail,
                      aipm_error *err)
{
    ch_buf b = {0};
    int i, rc = AIPM_OK;

    if (s->n_shards == 0) {
        aipm_ch__puts(&b, sql);
        if (s->cluster[0])
            aipm_ch__putf(&b, " ON CLUSTER %s", s->cluster);
        aipm_ch__puts(&b, tail);
        rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
                   : aipm_ch__run(s->conn, NULL, b.p, NULL, NULL, 0, NULL, NULL,
                                  NULL, err);
        aipm_ch__buf_free(&b);
        return rc;
    }
    aipm_ch__putf(&b, "%s%s", sql, tail);
    for (i = 0; rc == AIPM_OK && i < s->n_shards; i++) {
        ch_conn *c = aipm_ch__connect(s->shard[i], NULL, err);

        if (c == NULL)
            rc = AIPM_ENOMEM;
        else
            rc = aipm_ch__run(c, NULL, b.p, NULL, NULL, 0, NULL, NULL, NULL,
                              err);
        aipm_ch__close(c);
    }
    aipm_ch__buf_free(&b);
    return rc;
}

static int create_tables(ch_store *s, aipm_error *err)
{
    char sql[256], tail[1024];
    int rc;

    snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS %s", s->db);
    if ((rc = each_shard(s, sql, "", err)) != 0)
        return rc;
    /* Sorted by event, user and time (what analyses filter on), then
     * message id and batch: a row sent twice by a retried INSERT
     * collapses when its part merges, but a message stored again by a
     * later batch (after a revert let its id go) is another row, as the
     * reverted batch's rows stay (audit verify --data hashes them). */
    snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS %s.%s", s->db,
             s->local);
    snprintf(tail, sizeof(tail),
             " %s ENGINE = ReplacingMergeTree"
             " ORDER BY (event, user_id, ts, message_id, batch_id)",
             table_columns);
    if ((rc = each_shard(s, sql, tail, err)) != 0)
        return rc;
    if (!s->cluster[0])
        return AIPM_OK;
    /* Sharded by user: a user's events are on one shard, so per-user work
     * (an experiment's units) runs there. */
    snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS %s.events", s->db);
    snprintf(tail, sizeof(tail),
             " %s ENGINE = Distributed(%s, %s, events_local,"
             " cityHash64(user_id))",
             table_columns, s->cluster, s->db);
    return each_shard(s, sql, tail, err);
}

/* ---- opening ---- */

static const aipm_store_ops ch_ops;

int aipm_store__ch_open(aipm_store **out, const char *url, aipm_store *meta,
                        int flags, aipm_error *err)
{
    ch_store *s;
    char base[256], user[64];
    int64_t one;
    int rc;

    *out = NULL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    s->base.ops = &ch_ops;
    s->meta = meta;
    aipm_store_url_redact(s->url, sizeof(s->url), url);
    if ((rc = parse_url(s, url, base, sizeof(base), user, sizeof(user), err)) !=
        0) {
        free(s);
        return rc;
    }
    s->local = s->cluster[0] ? "events_local" : "events";
    snprintf(s->base.ns, sizeof(s->base.ns), "%s", s->url);
    if ((s->conn = aipm_ch__connect(base, user[0] ? user : NULL, err)) ==
        NULL) {
        free(s);
        return AIPM_ENOMEM;
    }
    if ((rc = aipm_ch__scalar(s->conn, NULL, "SELECT 1", &one, err)) != 0 ||
        (!(flags & AIPM_STORE_READONLY) && (rc = create_tables(s, err)) != 0)) {
        aipm_ch__close(s->conn);
        free(s);
        return rc;
    }
    *out = &s->base;
    return AIPM_OK;
}

static void ch_close(aipm_store *base)
{
    ch_store *s = (ch_store *)base;

    aipm_ch__copy_drop(s);
    aipm_ch__close(s->conn);
    aipm_ch__buf_free(&s->rows);
    free(s->keys);
    free(s);
}

/* ---- visibility ---- */

typedef struct ids {
    ch_buf *b;
    int64_t through;
    int n;
} ids;

static int visible_id(void *ctx, const aipm_batch_state *st)
{
    ids *v = ctx;

    if (strcmp(st->dataset, "events") != 0 ||
        strcmp(st->status, "accepted") != 0 ||
        (v->through > 0 && st->id > v->through))
        return 0;
    aipm_ch__putf(v->b, "%s%lld", v->n++ ? "," : "", (long long)st->id);
    return 0;
}

/* From the store's batch states (ids, datasets, statuses: not the
 * batches' reports, which batch_list would read too). */
int aipm_ch__visible(ch_store *s, ch_buf *b, int64_t through_batch,
                     aipm_error *err)
{
    ids v = {b, through_batch, 0};
    aipm_store_mark mark;
    int rc;

    aipm_ch__puts(b, "batch_id IN (");
    if ((rc = s->meta->ops->batch_states(s->meta, visible_id, &v, &mark,
                                         err)) != 0)
        return rc;
    aipm_ch__puts(b, v.n ? ")" : "-1)");
    return b->oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory") : AIPM_OK;
}

/* ---- a new batch id ---- */

/* The metadata store hands out a batch id again after a rollback (SQLite
 * and PostgreSQL both take max(id) + 1): rows this backend wrote under it
 * before then, which no transaction undid, are deleted first, and waited
 * for (a mutation runs in the background). */
static int ch_batch_begun(aipm_store *base, int64_t id, aipm_error *err)
{
    ch_store *s = (ch_store *)base;
    char count[160], alter[160], tail[96];
    int64_t left;
    int rc, waited;

    s->ev_batch = s->seq_batch = 0;
    snprintf(count, sizeof(count),
             "SELECT count() FROM %s.events WHERE batch_id = %lld", s->db,
             (long long)id);
    if ((rc = aipm_ch__scalar(s->conn, NULL, count, &left, err)) != 0 ||
        left == 0)
        return rc;
    snprintf(alter, sizeof(alter), "ALTER TABLE %s.%s", s->db, s->local);
    snprintf(tail, sizeof(tail), " DELETE WHERE batch_id = %lld",
             (long long)id);
    if ((rc = each_shard(s, alter, tail, err)) != 0)
        return rc;
    for (waited = 0; waited < 600; waited++) {
        struct timespec ts = {0, 100000000};

        nanosleep(&ts, NULL);
        if ((rc = aipm_ch__scalar(s->conn, NULL, count, &left, err)) != 0)
            return rc;
        if (left == 0)
            return AIPM_OK;
    }
    return aipm_error_set(err, AIPM_EIO,
                          "events store %s: %lld rows of an abandoned batch "
                          "%lld were not deleted within 60 s",
                          s->url, (long long)left, (long long)id);
}

/* ---- writing events ---- */

/* The metadata store's answer to "already stored?", through its own
 * unique index: the key rows (id, type, time; nothing else). */
static int keys_put(ch_store *s, int64_t batch_id, const aipm_event_row *rows,
                    size_t n, unsigned char *inserted, aipm_error *err)
{
    const aipm_store_ops *m = s->meta->ops;
    aipm_event_row *keys = s->keys;
    size_t i;
    int rc = AIPM_OK, one;

    if (n > s->keys_cap) {
        if ((keys = realloc(s->keys, n * sizeof(*keys))) == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        s->keys = keys;
        s->keys_cap = n;
    }
    memset(keys, 0, n * sizeof(*keys));
    for (i = 0; i < n; i++) {
        keys[i].message_id = rows[i].message_id;
        keys[i].type = rows[i].type;
        keys[i].ts_ms = rows[i].ts_ms;
    }
    if (m->event_put_many) {
        rc = m->event_put_many(s->meta, batch_id, keys, n, inserted, err);
    } else {
        for (i = 0; rc == AIPM_OK && i < n; i++) {
            rc = m->event_put(s->meta, batch_id, &keys[i], &one, err);
            inserted[i] = (unsigned char)one;
        }
    }
    return rc;
}

static void rb_nullable(ch_buf *b, const char *v, unsigned bit, unsigned *nulls)
{
    if (v == NULL)
        *nulls |= bit;
    aipm_ch__rb_str(b, v ? v : "", v ? strlen(v) : 0);
}

static int ch_event_put_many(aipm_store *base, int64_t batch_id,
                             const aipm_event_row *rows, size_t n,
                             unsigned char *inserted, aipm_error *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf *b = &s->rows; /* kept between calls: one allocation, not one a
                           * block */
    char sql[256];
    size_t i;
    int rc, sent = 0;

    if ((rc = keys_put(s, batch_id, rows, n, inserted, err)) != 0)
        return rc;
    b->n = 0;
    if (s->seq_batch != batch_id) {
        s->seq_batch = batch_id;
        s->seq_next = 0;
    }
    for (i = 0; i < n; i++) {
        const aipm_event_row *r = &rows[i];
        unsigned nulls = 0;

        if (!inserted[i])
            continue;
        aipm_ch__rb_i64(
            b, (int64_t)(((uint64_t)batch_id << 32) | (uint64_t)s->seq_next++));
        aipm_ch__rb_i64(b, batch_id);
        aipm_ch__rb_str(b, r->message_id, strlen(r->message_id));
        aipm_ch__rb_str(b, r->type, strlen(r->type));
        rb_nullable(b, r->user_id, CH_NULL_USER, &nulls);
        rb_nullable(b, r->anonymous_id, CH_NULL_ANON, &nulls);
        rb_nullable(b, r->event, CH_NULL_EVENT, &nulls);
        rb_nullable(b, r->group_id, CH_NULL_GROUP, &nulls);
        aipm_ch__rb_i64(b, r->ts_ms);
        if (r->payload == NULL)
            nulls |= CH_NULL_PAYLOAD;
        aipm_ch__rb_str(b, r->payload ? r->payload : "",
                        r->payload ? r->payload_len : 0);
        aipm_ch__rb_u8(b, nulls);
        aipm_store__event_sum_add(&s->ev_batch, &s->ev_rows, &s->ev_hash,
                                  batch_id, r);
        sent++;
    }
    if (b->oom) {
        aipm_ch__buf_free(b);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    if (sent) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO %s.events (" COLUMNS ") FORMAT RowBinary", s->db);
        rc = aipm_ch__run(s->conn, NULL, sql, "insert_distributed_sync=1", b->p,
                          b->n, NULL, NULL, NULL, err);
    }
    return rc;
}

static int ch_event_put(aipm_store *base, int64_t batch_id,
                        const aipm_event_row *row, int *inserted,
                        aipm_error *err)
{
    unsigned char one = 0;
    int rc = ch_event_put_many(base, batch_id, row, 1, &one, err);

    *inserted = one;
    return rc;
}

/* ---- counts ---- */

static int ch_event_count(aipm_store *base, const char *event, int64_t cap,
                          int64_t *out, aipm_error *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf b = {0};
    int rc;

    /* The whole count, capped here: a LIMIT that ends a Distributed read
     * early leaves 18.16's connections between shards unusable for the
     * next query ("Unexpected packet Data received from client"). */
    aipm_ch__putf(&b, "SELECT count() FROM %s.events WHERE ", s->db);
    if ((rc = aipm_ch__visible(s, &b, 0, err)) == 0) {
        aipm_ch__puts(&b, " AND bitAnd(nulls, 4) = 0 AND event = ");
        aipm_ch__lit(&b, event);
        rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
                   : aipm_ch__scalar(s->conn, NULL, b.p, out, err);
        if (rc == AIPM_OK && cap > 0 && *out > cap)
            *out = cap;
    }
    aipm_ch__buf_free(&b);
    return rc;
}

/* ---- the rows digest ---- */

int aipm_ch__read_event(ch_rd *r, ch_event *e)
{
    int i;

    if (aipm_ch__get_i64(r, &e->seq) || aipm_ch__get_i64(r, &e->batch_id))
        return -1;
    for (i = 0; i < 6; i++)
        if (aipm_ch__get_str(r, &e->s[i], &e->n[i]))
            return -1;
    if (aipm_ch__get_i64(r, &e->ts) || aipm_ch__get_str(r, &e->s[6], &e->n[6]))
        return -1;
    return aipm_ch__get_u8(r, &e->nulls);
}

/* Which of ch_event's strings each NULL bit is about. */
static const unsigned null_bit[7] = {0,
                                     0,
                                     CH_NULL_USER,
                                     CH_NULL_ANON,
                                     CH_NULL_EVENT,
                                     CH_NULL_GROUP,
                                     CH_NULL_PAYLOAD};

int aipm_ch__event_row(const ch_event *e, ch_buf *scratch, aipm_event_row *row)
{
    size_t off[7];
    const char *v[7];
    int i;

    scratch->n = 0;
    for (i = 0; i < 7; i++) {
        off[i] = scratch->n;
        aipm_ch__put(scratch, e->s[i], e->n[i]);
        aipm_ch__put(scratch, "", 1);
    }
    if (scratch->oom)
        return AIPM_ENOMEM;
    for (i = 0; i < 7; i++)
        v[i] = (e->nulls & null_bit[i]) ? NULL : scratch->p + off[i];
    row->message_id = v[0];
    row->type = v[1];
    row->user_id = v[2];
    row->anonymous_id = v[3];
    row->event = v[4];
    row->group_id = v[5];
    row->ts_ms = e->ts;
    row->payload = v[6];
    row->payload_len = v[6] ? e->n[6] : 0;
    return AIPM_OK;
}

typedef struct digest_walk {
    aipm_store__sums sm;
    ch_buf scratch;
} digest_walk;

/* Each row folded as ingest folded it (aipm_store__event_digest). */
static int digest_row(ch_rd *r, void *ctx)
{
    digest_walk *w = ctx;
    aipm_store__batch_sum *b;
    aipm_event_row row;
    ch_event e;

    if (aipm_ch__read_event(r, &e) != 0)
        return CH_ROW_CUT;
    if (aipm_ch__event_row(&e, &w->scratch, &row) != 0 ||
        (b = aipm_store__sum_of(&w->sm, e.batch_id)) == NULL)
        return AIPM_ENOMEM;
    b->rows++;
    aipm_store__event_digest(&b->h, &row);
    return 0;
}

static int ch_rows_digest(aipm_store *base, const char *dataset,
                          int64_t batch_id, aipm_rows_digest_cb cb, void *ctx,
                          aipm_error *err)
{
    ch_store *s = (ch_store *)base;
    digest_walk w = {{NULL, 0, 0, 0}, {0}};
    char sql[256];
    int rc;

    if (strcmp(dataset, "events") != 0)
        return s->meta->ops->rows_digest(s->meta, dataset, batch_id, cb, ctx,
                                         err);
    /* The batch being loaded was hashed as it was sent. */
    if (batch_id != 0 && s->ev_batch == batch_id) {
        aipm_sha256 h = s->ev_hash;
        uint8_t sha[32];

        aipm_sha256_final(&h, sha);
        return cb(ctx, batch_id, s->ev_rows, sha);
    }
    if (batch_id != 0)
        snprintf(sql, sizeof(sql),
                 "SELECT " COLUMNS " FROM %s.events WHERE batch_id = %lld"
                 " ORDER BY seq FORMAT RowBinary",
                 s->db, (long long)batch_id);
    else
        snprintf(sql, sizeof(sql),
                 "SELECT " COLUMNS " FROM %s.events ORDER BY seq"
                 " FORMAT RowBinary",
                 s->db);
    rc = aipm_ch__run(s->conn, NULL, sql, NULL, NULL, 0, digest_row, &w, NULL,
                      err);
    if (rc == AIPM_ENOMEM)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_ch__buf_free(&w.scratch);
    return aipm_store__sums_report(&w.sm, rc, cb, ctx);
}

/* ---- where the history stands ---- */

static int ch_batch_states(aipm_store *base, aipm_batch_state_cb cb, void *ctx,
                           aipm_store_mark *mark, aipm_error *err)
{
    ch_store *s = (ch_store *)base;
    char sql[128];
    int64_t last;
    int rc;

    /* The events' positions are this backend's seq: the newest is taken
     * first, so a row stored meanwhile is after the mark, never before. */
    snprintf(sql, sizeof(sql), "SELECT max(seq) FROM %s.events", s->db);
    if ((rc = aipm_ch__scalar(s->conn, NULL, sql, &last, err)) != 0)
        return rc;
    if ((rc = s->meta->ops->batch_states(s->meta, cb, ctx, mark, err)) != 0)
        return rc;
    mark->event_row = last;
    return AIPM_OK;
}

static int ch_analysis_index(aipm_store *base, aipm_error *err)
{
    (void)base;
    (void)err;
    return AIPM_OK; /* the sorting key is the index */
}

static const aipm_store_ops ch_ops = {
    .version = AIPM_STORE_OPS_VERSION,
    .close = ch_close,
    .event_put = ch_event_put,
    .event_put_many = ch_event_put_many,
    .event_count = ch_event_count,
    .rows_digest = ch_rows_digest,
    .analysis_index = ch_analysis_index,
    .batch_states = ch_batch_states,
    .batch_begun = ch_batch_begun,
    .exposure_moments = aipm_ch__exposure_moments,
    .exposure_quantile = aipm_ch__exposure_quantile,
    .population_moments = aipm_ch__population_moments,
    .kpi_activity = aipm_ch__kpi_activity,
    .kpi_feature_users = aipm_ch__kpi_feature_users,
    .kpi_conversion = aipm_ch__kpi_conversion,
    .kpi_retention = aipm_ch__kpi_retention,
    .kpi_events = aipm_ch__kpi_events,
    .kpi_active_accounts = aipm_ch__kpi_active_accounts,
    .daily_active_users = aipm_ch__daily_active_users,
    .event_daily_users = aipm_ch__event_daily_users,
    .item_daily_users = aipm_ch__item_daily_users,
    .account_arr_plan = aipm_ch__account_arr_plan,
    .first_uses = aipm_ch__first_uses,
    .first_memberships = aipm_ch__first_memberships,
    .user_event_times = aipm_ch__user_event_times,
    .user_traits = aipm_ch__user_traits,
    .account_traits = aipm_ch__account_traits,
};
