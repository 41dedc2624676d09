/* store.c - the PostgreSQL backend: opening a store, transactions,
 * batches, rows, quarantine, the learned schema and daily volumes.
 *
 * Same semantics as the SQLite reference (sqlite/store.c), operation by
 * operation; what differs is said where it differs. The store is the
 * schema "aipm" of the database the URL names (libpq connection URI or
 * key=value string). Write transactions take the store's advisory lock
 * first, so two writers of one store serialize (two ingests, two audit
 * appends) while readers never wait; the wait honours --wait.
 */
#include "store/pg/pg_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const csv_names[] = {"backlog", "feedback", "signals",
                                        "graph"};
#define N_CSV ((int)(sizeof(csv_names) / sizeof(csv_names[0])))

static const aipm_store_ops pg_ops;

static int is_dataset(const char *dataset)
{
    int i;

    if (strcmp(dataset, "events") == 0)
        return 1;
    for (i = 0; i < N_CSV; i++)
        if (strcmp(csv_names[i], dataset) == 0)
            return 1;
    return 0;
}

/* libpq prints a server's NOTICE lines on stderr by default; a store's
 * messages are ours to word. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* ---- migrations ---- */

static int schema_version(pg_store *s, int *version, aipm_error *err)
{
    int64_t v = 0;
    int rc = aipm_pg__int64(
        s, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, &v,
        err);

    *version = (int)v;
    if (rc == AIPM_OK && (v < 0 || v > 1000000))
        return aipm_error_set(err, AIPM_EINVALID,
                              "store '%s' records schema version %lld, which "
                              "no aipm has; check --store",
                              s->url, (long long)v);
    return rc;
}

static int lock_store(pg_store *s, aipm_error *err);

/* Brings the store to the newest schema; exists: it has schema_migrations
 * already. A store at the newest version is not written, so opening it
 * takes no write lock and never waits for a writer (SQLite's open does
 * not either); a migration reads the version again under the lock. */
static int migrate(pg_store *s, int exists, aipm_error *err)
{
    char ddl[8192];
    int version = 0, rc, i, k;

    if (exists) {
        if ((rc = schema_version(s, &version, err)) != 0)
            return rc;
        if (version >= aipm_pg__n_migrations) {
            s->base.schema_version = version;
            return AIPM_OK;
        }
    }
    if ((rc = aipm_pg__exec(s, "BEGIN", NULL, NULL, err)) != 0)
        return rc;
    rc = lock_store(s, err);
    if (rc == 0)
        rc = aipm_pg__exec(s,
                           "CREATE TABLE IF NOT EXISTS schema_migrations("
                           " version INTEGER PRIMARY KEY,"
                           " applied_ms BIGINT NOT NULL)",
                           NULL, NULL, err);
    if (rc == 0)
        rc = schema_version(s, &version, err);
    for (i = version; rc == 0 && i < aipm_pg__n_migrations; i++) {
        pg_params p = {0};

        if (aipm_pg__migrations[i][0])
            rc = aipm_pg__exec(s, aipm_pg__migrations[i], NULL, NULL, err);
        for (k = 0; rc == 0 && i == 0 && k < N_CSV; k++) {
            if (aipm_pg__dataset_ddl(ddl, sizeof(ddl),
                                     aipm_dataset_find(csv_names[k])) != 0)
                rc = aipm_error_set(err, AIPM_ERROR, "dataset DDL too long");
            else
                rc = aipm_pg__exec(s, ddl, NULL, NULL, err);
        }
        aipm_pg__int(&p, i + 1);
        aipm_pg__int(&p, aipm_now_ms());
        if (rc == 0)
            rc =
                aipm_pg__exec(s, "INSERT INTO schema_migrations VALUES($1, $2)",
                              &p, NULL, err);
    }
    if (rc) {
        aipm_pg__exec(s, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if ((rc = aipm_pg__exec(s, "COMMIT", NULL, NULL, err)) != 0)
        return rc;
    s->base.schema_version =
        version > aipm_pg__n_migrations ? version : aipm_pg__n_migrations;
    return AIPM_OK;
}

/* ---- opening ---- */

/* Whether the catalog query sql counts anything. */
static int exists(pg_store *s, const char *sql, int *found, aipm_error *err)
{
    int64_t n = 0;
    int rc = aipm_pg__int64(s, sql, NULL, &n, err);

    *found = n > 0;
    return rc;
}

/* The database holds an aipm store: the schema aipm with its
 * schema_migrations table. */
#define HAS_STORE                                                              \
    "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'aipm'"      \
    " AND tablename = 'schema_migrations'"
#define HAS_SCHEMA                                                             \
    "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'aipm'"

int aipm_store__pg_open(aipm_store **out, const char *url, int flags,
                        aipm_error *err)
{
    pg_store *s;
    char *known = NULL;
    int create = flags & AIPM_STORE_CREATE,
        readonly = (flags & AIPM_STORE_READONLY) && !create;
    int found = 0, rc;

    *out = NULL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    s->base.ops = &pg_ops;
    s->readonly = readonly;
    aipm_store_url_redact(s->url, sizeof(s->url), url);
    /* A namespace this process made connects as its store did (reopen.c). */
    known = aipm_pg__known_url(url);
    s->conn = PQconnectdb(known ? known : url);
    if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
        char msg[400];
        size_t n;
        const char *m = s->conn ? PQerrorMessage(s->conn) : "out of memory";

        n = strcspn(m, "\n");
        snprintf(msg, sizeof(msg), "%.*s", (int)n, m);
        rc = aipm_error_set(err, AIPM_EIO, "cannot connect to store '%s': %s",
                            s->url, msg);
        goto fail;
    }
    PQsetNoticeProcessor(s->conn, quiet, NULL);
    {
        /* A writer waiting for the store's lock names its holder by this
         * (lock_store): the activity and pid, as SQLite's writer note. */
        char name[320];
        pg_params an = {0};
        const char *what = aipm_store__writer_activity();

        snprintf(name, sizeof(name), "%s (pid %ld)", what[0] ? what : "aipm",
                 (long)getpid());
        aipm_pg__text(&an, name);
        aipm_pg__exec(s, "SELECT set_config('application_name', $1, false)",
                      &an, NULL, NULL);
    }
    rc = aipm_pg__exec(s,
                       "SET client_min_messages TO warning;"
                       " SET search_path TO aipm",
                       NULL, NULL, err);
    if (rc == 0)
        rc = exists(s, HAS_STORE, &found, err);
    if (rc)
        goto fail;
    if (create && found) {
        rc = aipm_error_set(err, AIPM_EEXISTS,
                            "cannot create store '%s': it already holds an "
                            "aipm store",
                            s->url);
        goto fail;
    }
    if (!create && !found) {
        rc = aipm_error_set(err, AIPM_ENOTFOUND,
                            "store '%s' does not exist (the database holds "
                            "no aipm store; make one with `aipm init "
                            "--store URL`)",
                            s->url);
        goto fail;
    }
    if (create) {
        if ((rc = exists(s, HAS_SCHEMA, &found, err)) != 0)
            goto fail;
        if (found) {
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "store '%s': the database has a schema "
                                "\"aipm\" that is not an aipm store; "
                                "nothing was changed",
                                s->url);
            goto fail;
        }
        if ((rc = aipm_pg__exec(s, "CREATE SCHEMA aipm", NULL, NULL, err)) != 0)
            goto fail;
    }
    if (readonly) {
        rc = aipm_pg__exec(s, "SET default_transaction_read_only = on", NULL,
                           NULL, err);
        if (rc == 0)
            rc = schema_version(s, &s->base.schema_version, err);
        if (rc == 0 && s->base.schema_version < aipm_pg__n_migrations)
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "store '%s' needs an upgrade (schema %d of "
                                "%d); run any aipm write command on it once "
                                "with write access",
                                s->url, s->base.schema_version,
                                aipm_pg__n_migrations);
    } else {
        rc = migrate(s, !create, err);
        /* the staging table of bulk ingest (pg/copy.c), this session's */
        if (rc == 0)
            rc = aipm_pg__exec(s,
                               "CREATE TEMP TABLE ev_stage(seq BIGINT,"
                               " message_id TEXT, type TEXT, user_id TEXT,"
                               " anonymous_id TEXT, event TEXT,"
                               " group_id TEXT, ts BIGINT, payload TEXT)",
                               NULL, NULL, err);
    }
    if (rc) {
        if (create)
            aipm_pg__exec(s, "DROP SCHEMA aipm CASCADE", NULL, NULL, NULL);
        goto fail;
    }
    snprintf(s->base.ns, sizeof(s->base.ns), "postgresql://%s:%s/%s",
             PQhost(s->conn), PQport(s->conn), PQdb(s->conn));
    aipm_pg__remember(s->base.ns, known ? known : url);
    free(known);
    *out = &s->base;
    return AIPM_OK;
fail:
    free(known);
    PQfinish(s->conn);
    free(s);
    return rc;
}

static void pg_close(aipm_store *base)
{
    pg_store *s = (pg_store *)base;

    if (s->in_tx)
        aipm_pg__exec(s, "ROLLBACK", NULL, NULL, NULL);
    PQfinish(s->conn);
    free(s);
}

/* ---- transactions ---- */

/* Who holds the store's lock: the application_name its connection gave
 * (an aipm names its activity and pid there), or NULL. Into out. */
static const char *holder_of(pg_store *s, char *out, size_t cap)
{
    PGresult *r = PQexec(s->conn, "SELECT a.application_name FROM pg_locks l"
                                  " JOIN pg_stat_activity a ON a.pid = l.pid"
                                  " WHERE l.locktype = 'advisory' AND l.granted"
                                  " AND l.classid = 0 AND l.objid = 1634300013"
                                  " AND l.objsubid = 1 LIMIT 1");
    const char *name = NULL;

    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
        PQgetvalue(r, 0, 0)[0] != '\0') {
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
        name = out;
    }
    PQclear(r);
    return name;
}

/* One try for the store's lock: 1 got it, 0 not, < 0 an error. */
static int try_lock(pg_store *s, aipm_error *err)
{
    PGresult *r =
        PQexec(s->conn, "SELECT pg_try_advisory_xact_lock(1634300013)");
    int rc;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        rc = aipm_pg__error(s, r, err);
    else
        rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}

/* The store's write lock (AIPM_PG_LOCK, "aipm"), waiting as --wait says:
 * tries every 50 ms, tells the front-end after 1 s and then every 3 s
 * whom it waits for (as SQLite's busy handler does), and gives up when
 * the wait runs out. */
static int lock_store(pg_store *s, aipm_error *err)
{
    double wait = aipm_store__wait_seconds(), waited = 0;
    int64_t start = aipm_clock_ms(), told = start;
    int rc, first = 1;

    for (;;) {
        int64_t now;

        if ((rc = try_lock(s, err)) != 0)
            return rc > 0 ? AIPM_OK : rc;
        now = aipm_clock_ms();
        waited = (double)(now - start) / 1000.0;
        if (wait >= 0 && waited >= wait)
            break;
        if (now - told >= 3000 || (first && now - start >= 1000)) {
            char holder[256];

            aipm_store__notify_wait(
                s->url, holder_of(s, holder, sizeof(holder)), waited);
            told = now;
            first = 0;
        }
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    return aipm_error_set(err, AIPM_EIO,
                          "store '%s' is locked by another process writing "
                          "to it; gave up after waiting %.0f s (--wait); "
                          "try again when it ends, or wait longer with "
                          "--wait SECONDS",
                          s->url, wait < 0 ? 0 : wait);
}

static int pg_in_transaction(aipm_store *base)
{
    return ((pg_store *)base)->in_tx;
}

static int pg_begin(aipm_store *base, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    int rc;

    if (s->walks > 0 || s->in_tx)
        return aipm_error_set(err, AIPM_ERROR,
                              "store: a write transaction began inside a "
                              "read of the store");
    rc = aipm_pg__exec(s, "BEGIN", NULL, NULL, err);
    if (rc == 0 && (rc = lock_store(s, err)) != 0)
        aipm_pg__exec(s, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = rc == 0;
    s->tx_events = 0;
    return rc;
}

/* After a commit that inserted many events, the planner's statistics of
 * the table are refreshed at once: without them the analysis that
 * follows an ingest is planned blind (autovacuum's ANALYZE comes a minute
 * or more later): at 10M events it took 43.3 s, and 15.8 s after a 0.57 s
 * ANALYZE. Only speed: a failure is ignored. */
#define PG_ANALYZE_AFTER 10000

static int pg_commit(aipm_store *base, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    int rc = aipm_pg__exec(s, "COMMIT", NULL, NULL, err);

    s->in_tx = 0;
    if (rc == 0 && s->tx_events >= PG_ANALYZE_AFTER)
        aipm_pg__exec(s, "ANALYZE events", NULL, NULL, NULL);
    s->tx_events = 0;
    return rc;
}

static void pg_rollback(aipm_store *base)
{
    pg_store *s = (pg_store *)base;

    if (s->in_tx)
        aipm_pg__exec(s, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
    s->tx_events = 0;
}

/* ---- batches ---- */

static int id_row(PGresult *r, void *ctx)
{
    *(int64_t *)ctx = aipm_pg__col_int(r, 0);
    return 0;
}

static int pg_batch_new(aipm_store *base, int64_t *out_id, const char *dataset,
                        const char *source, const char *source_sha256,
                        const char *run_id, int64_t created_ms, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    pg_params p = {0};

    aipm_pg__text(&p, dataset);
    aipm_pg__text(&p, source);
    aipm_pg__text(&p, source_sha256);
    aipm_pg__text(&p, run_id);
    aipm_pg__int(&p, created_ms);
    s->ev_batch = 0;
    *out_id = 0;
    return aipm_pg__rows(s,
                         /* max + 1 under the write lock, as SQLite
                          * numbers rows: a rolled-back batch leaves
                          * no gap (a sequence would) */
                         "INSERT INTO batches(id, dataset, source,"
                         " source_sha256, run_id, created_ms, status)"
                         " VALUES((SELECT coalesce(max(id), 0) + 1 FROM"
                         " batches), $1, $2, $3, $4, $5, 'loading')"
                         " RETURNING id",
                         &p, id_row, out_id, err);
}

static int pg_batch_finish(aipm_store *base, const aipm_batch_info *info,
                           aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, info->id);
    aipm_pg__text(&p, info->status);
    aipm_pg__text(&p, info->verdict);
    aipm_pg__text(&p, info->content_sha256);
    aipm_pg__int(&p, info->n_read);
    aipm_pg__int(&p, info->n_accepted);
    aipm_pg__int(&p, info->n_duplicates);
    aipm_pg__int(&p, info->n_quarantined);
    aipm_pg__text(&p, info->report);
    aipm_pg__text(&p, info->source_sha256);
    aipm_pg__text(&p, info->rows_sha256[0] ? info->rows_sha256 : NULL);
    return aipm_pg__exec((pg_store *)base,
                         "UPDATE batches SET status=$2, verdict=$3,"
                         " content_sha256=$4, n_read=$5, n_accepted=$6,"
                         " n_duplicates=$7, n_quarantined=$8, report=$9,"
                         " source_sha256=$10, rows_sha256=$11 WHERE id=$1",
                         &p, NULL, err);
}

#define BATCH_COLUMNS                                                          \
    "SELECT id, dataset, status, verdict, source_sha256, content_sha256,"      \
    " run_id, created_ms, n_read, n_accepted, n_duplicates, n_quarantined,"    \
    " source, report, rows_sha256 FROM batches"

static void copy_col(char *dst, size_t cap, PGresult *r, int col)
{
    const char *v = aipm_pg__col(r, col);

    snprintf(dst, cap, "%s", v ? v : "");
}

/* Fill info from a row of BATCH_COLUMNS; strings borrowed. */
static void batch_row(aipm_batch_info *info, PGresult *r)
{
    memset(info, 0, sizeof(*info));
    info->id = aipm_pg__col_int(r, 0);
    copy_col(info->dataset, sizeof(info->dataset), r, 1);
    copy_col(info->status, sizeof(info->status), r, 2);
    copy_col(info->verdict, sizeof(info->verdict), r, 3);
    copy_col(info->source_sha256, sizeof(info->source_sha256), r, 4);
    copy_col(info->content_sha256, sizeof(info->content_sha256), r, 5);
    copy_col(info->run_id, sizeof(info->run_id), r, 6);
    info->created_ms = aipm_pg__col_int(r, 7);
    info->n_read = aipm_pg__col_int(r, 8);
    info->n_accepted = aipm_pg__col_int(r, 9);
    info->n_duplicates = aipm_pg__col_int(r, 10);
    info->n_quarantined = aipm_pg__col_int(r, 11);
    info->source = aipm_pg__col(r, 12);
    info->report = aipm_pg__col(r, 13);
    copy_col(info->rows_sha256, sizeof(info->rows_sha256), r, 14);
}

typedef struct got_batch {
    aipm_batch_info *out;
    int found, oom;
} got_batch;

static int batch_got(PGresult *r, void *ctx)
{
    got_batch *g = ctx;
    const char *src, *rep;

    batch_row(g->out, r);
    src = g->out->source;
    rep = g->out->report;
    g->out->source = src ? strdup(src) : NULL;
    g->out->report = rep ? strdup(rep) : NULL;
    g->oom = (src && !g->out->source) || (rep && !g->out->report);
    g->found = 1;
    return 0;
}

static int pg_batch_get(aipm_store *base, aipm_batch_info *out, int64_t id,
                        aipm_error *err)
{
    pg_params p = {0};
    got_batch g = {out, 0, 0};
    int rc;

    memset(out, 0, sizeof(*out));
    aipm_pg__int(&p, id);
    rc = aipm_pg__each_row((pg_store *)base, BATCH_COLUMNS " WHERE id=$1", &p,
                           batch_got, &g, err);
    if (rc == AIPM_OK && g.oom)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (rc == AIPM_OK && !g.found)
        rc =
            aipm_error_set(err, AIPM_ENOTFOUND, "no batch %lld", (long long)id);
    return rc;
}

/* A batch's rows hold their keys while the batch is live (loading, staged,
 * accepted); a rejected or reverted batch lets them go (live NULL), and
 * accepting it again takes them back, which fails when a newer batch
 * holds them (sqlite/store.c's set_live). */
static int set_live(pg_store *s, int64_t id, const char *status,
                    aipm_error *err)
{
    pg_params p = {0};
    char dataset[16] = "", sql[160];
    int live =
        strcmp(status, "rejected") != 0 && strcmp(status, "reverted") != 0;
    PGresult *r;
    const char *state;
    int rc;

    aipm_pg__int(&p, id);
    r = PQexecParams(s->conn, "SELECT dataset FROM batches WHERE id=$1", 1,
                     p.type, p.v, p.len, p.fmt, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = aipm_pg__error(s, r, err);
        PQclear(r);
        return rc;
    }
    if (PQntuples(r) == 1)
        snprintf(dataset, sizeof(dataset), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!is_dataset(dataset))
        return AIPM_OK; /* no rows of ours */
    /* dataset is one of our fixed table names (checked above). */
    snprintf(sql, sizeof(sql),
             "UPDATE %s SET live = %s WHERE batch_id = $1 AND live IS %s",
             dataset, live ? "1" : "NULL", live ? "NULL" : "NOT NULL");
    r = PQexecParams(s->conn, sql, 1, p.type, p.v, p.len, p.fmt, 0);
    state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) == PGRES_COMMAND_OK)
        rc = AIPM_OK;
    else if (state && strcmp(state, "23505") == 0) /* unique_violation */
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "batch %lld cannot be accepted again: a newer "
                            "batch holds some of its keys (the rows were "
                            "re-sent after it was hidden); revert that "
                            "batch first",
                            (long long)id);
    else
        rc = aipm_pg__error(s, r, err);
    PQclear(r);
    return rc;
}

static int pg_batch_set_status(aipm_store *base, int64_t id, const char *status,
                               aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    pg_params p = {0};
    int64_t changed = 0;
    int rc;

    aipm_pg__int(&p, id);
    aipm_pg__text(&p, status);
    rc = aipm_pg__exec(s, "UPDATE batches SET status=$2 WHERE id=$1", &p,
                       &changed, err);
    if (rc == AIPM_OK && changed == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no batch %lld",
                              (long long)id);
    return rc ? rc : set_live(s, id, status, err);
}

static int batch_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_batch_info info;

    batch_row(&info, r);
    return ((aipm_batch_cb)rl->cb)(rl->ctx, &info);
}

static int pg_batch_list(aipm_store *base, const char *dataset, int latest_only,
                         aipm_batch_cb cb, void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, dataset);
    return aipm_pg__each_row(
        (pg_store *)base,
        latest_only ? BATCH_COLUMNS
            " WHERE id IN (SELECT max(id) FROM batches WHERE status <>"
            " 'loading' GROUP BY dataset) AND ($1::text IS NULL OR"
            " dataset = $1) ORDER BY dataset"
                    : BATCH_COLUMNS " WHERE status <> 'loading' AND ($1::text"
                                    " IS NULL OR dataset = $1) ORDER BY id"
                                    " DESC",
        &p, batch_each, &(aipm_pg__relay){(void (*)(void))cb, ctx}, err);
}

/* ---- rows ---- */

static int pg_event_put(aipm_store *base, int64_t batch_id,
                        const aipm_event_row *row, int *inserted,
                        aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    pg_params p = {0};
    int64_t n = 0;
    char *payload = NULL;
    int rc;

    aipm_pg__text(&p, row->message_id);
    aipm_pg__int(&p, batch_id);
    aipm_pg__text(&p, row->type);
    aipm_pg__text(&p, row->user_id);
    aipm_pg__text(&p, row->anonymous_id);
    aipm_pg__text(&p, row->event);
    aipm_pg__text(&p, row->group_id);
    aipm_pg__int(&p, row->ts_ms);
    if (row->payload) {
        /* libpq's text parameters end at their NUL: a bounded copy. */
        if ((payload = malloc(row->payload_len + 1)) == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        memcpy(payload, row->payload, row->payload_len);
        payload[row->payload_len] = '\0';
    }
    aipm_pg__text(&p, payload);
    rc = aipm_pg__exec(s,
                       "INSERT INTO events(message_id, batch_id, type,"
                       " user_id, anonymous_id, event, group_id, ts, payload)"
                       " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                       " ON CONFLICT (message_id) WHERE live = 1 DO NOTHING",
                       &p, &n, err);
    free(payload);
    if (rc)
        return rc;
    *inserted = n > 0;
    if (*inserted) {
        s->tx_events++;
        aipm_store__event_sum_add(&s->ev_batch, &s->ev_rows, &s->ev_hash,
                                  batch_id, row);
    }
    return AIPM_OK;
}

static int pg_row_put(aipm_store *base, const char *dataset, int64_t batch_id,
                      const char *key, const char *row_sha,
                      const char *const *values, int *inserted, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    const aipm_dataset_def *def = aipm_dataset_find(dataset);
    pg_params p = {0};
    char sql[2048];
    size_t n;
    int64_t changed = 0;
    int i, rc;

    if (def == NULL || !is_dataset(dataset) || strcmp(dataset, "events") == 0 ||
        def->n_cols + 3 > PG_MAX_PARAMS)
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    /* The names are the contract's, never input. */
    n = (size_t)snprintf(sql, sizeof(sql),
                         "INSERT INTO %s(batch_id, key, row_sha", def->name);
    for (i = 0; n < sizeof(sql) && i < def->n_cols; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", \"%s\"",
                              def->cols[i].name);
    if (n < sizeof(sql))
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, ") VALUES($1, $2, $3");
    for (i = 0; n < sizeof(sql) && i < def->n_cols; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", $%d", 4 + i);
    if (n < sizeof(sql))
        n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                              ") ON CONFLICT (key, row_sha) WHERE live = 1"
                              " DO NOTHING");
    if (n >= sizeof(sql))
        return aipm_error_set(err, AIPM_ERROR, "dataset '%s': too many columns",
                              dataset);
    aipm_pg__int(&p, batch_id);
    aipm_pg__text(&p, key);
    aipm_pg__text(&p, row_sha);
    for (i = 0; i < def->n_cols; i++)
        if (def->cols[i].type == AIPM_COL_NUMBER)
            /* ingest checked it is a finite decimal number; the same
             * double the SQLite backend stores (NAN: NULL) */
            aipm_pg__stored_real(&p, values[i] ? strtod(values[i], NULL) : NAN);
        else
            aipm_pg__text(&p, values[i]);
    rc = aipm_pg__exec(s, sql, &p, &changed, err);
    *inserted = rc == AIPM_OK && changed > 0;
    return rc;
}

static int pg_count_visible(aipm_store *base, const char *dataset, int64_t *out,
                            aipm_error *err)
{
    char sql[64];

    if (!is_dataset(dataset))
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM v_%s", dataset);
    return aipm_pg__int64((pg_store *)base, sql, NULL, out, err);
}

static int pg_event_count(aipm_store *base, const char *event, int64_t cap,
                          int64_t *out, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, event);
    if (cap > 0)
        aipm_pg__int(&p, cap);
    else
        aipm_pg__text(&p, NULL); /* LIMIT NULL: no limit */
    return aipm_pg__int64((pg_store *)base,
                          "SELECT count(*) FROM (SELECT 1 FROM events"
                          " WHERE event = $1 AND batch_id IN"
                          " (SELECT id FROM batches WHERE " PG_ACCEPTED
                          ") LIMIT $2::bigint) x",
                          &p, out, err);
}

static int pg_analysis_index(aipm_store *base, aipm_error *err)
{
    pg_store *s = (pg_store *)base;

    if (s->readonly)
        return AIPM_OK; /* an index is only speed: read without it */
    return aipm_pg__exec(s,
                         "CREATE INDEX IF NOT EXISTS events_user_event ON"
                         " events(user_id, event, ts, batch_id)",
                         NULL, NULL, err);
}

/* ---- quarantine ---- */

static int pg_quarantine_put(aipm_store *base, const aipm_quarantine_row *row,
                             aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, row->batch_id);
    aipm_pg__text(&p, row->dataset);
    aipm_pg__text(&p, row->file);
    aipm_pg__int(&p, row->line);
    aipm_pg__text(&p, row->reason);
    aipm_pg__text(&p, row->detail);
    aipm_pg__bytes(&p, row->raw, row->raw ? row->raw_len : 0);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO quarantine(batch_id, dataset, file, line,"
                         " reason, detail, raw)"
                         " VALUES($1, $2, $3, $4, $5, $6, $7)",
                         &p, NULL, err);
}

static int quarantine_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_quarantine_row row;
    unsigned char *raw;
    int rc;

    row.batch_id = aipm_pg__col_int(r, 0);
    row.dataset = aipm_pg__col(r, 1);
    row.file = aipm_pg__col(r, 2);
    row.line = aipm_pg__col_int(r, 3);
    row.reason = aipm_pg__col(r, 4);
    row.detail = aipm_pg__col(r, 5);
    raw = aipm_pg__col_bytes(r, 6, &row.raw_len);
    row.raw = (const char *)(raw ? raw : (unsigned char *)"");
    rc = ((aipm_quarantine_cb)rl->cb)(rl->ctx, &row);
    free(raw);
    return rc;
}

static int pg_quarantine_list(aipm_store *base, const char *reason,
                              int64_t batch_id, int64_t limit,
                              aipm_quarantine_cb cb, void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, reason);
    aipm_pg__int(&p, batch_id);
    if (limit > 0)
        aipm_pg__int(&p, limit);
    else
        aipm_pg__text(&p, NULL);
    return aipm_pg__each_row(
        (pg_store *)base,
        "SELECT batch_id, dataset, file, line, reason, detail, raw"
        " FROM quarantine WHERE ($1::text IS NULL OR reason = $1) AND"
        " ($2 = 0 OR batch_id = $2) ORDER BY id DESC LIMIT $3::bigint",
        &p, quarantine_each, &(aipm_pg__relay){(void (*)(void))cb, ctx}, err);
}

/* ---- learned schema, daily volume ---- */

static int schema_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;

    return ((aipm_schema_cb)rl->cb)(rl->ctx, aipm_pg__col(r, 0),
                                    aipm_pg__col(r, 1), aipm_pg__col(r, 2),
                                    (int)aipm_pg__col_int(r, 3));
}

static int pg_schema_load(aipm_store *base, aipm_schema_cb cb, void *ctx,
                          aipm_error *err)
{
    return aipm_pg__each_row(
        (pg_store *)base,
        "SELECT event, property, type, version FROM ("
        " SELECT es.event, es.property, es.type, es.version,"
        "  row_number() OVER (PARTITION BY es.event, es.property"
        "   ORDER BY es.version DESC, es.batch_id DESC) AS rn"
        " FROM event_schema es JOIN batches b ON b.id = es.batch_id"
        " WHERE b." PG_ACCEPTED ") x WHERE rn = 1",
        NULL, schema_each, &(aipm_pg__relay){(void (*)(void))cb, ctx}, err);
}

static int pg_schema_put(aipm_store *base, const char *event,
                         const char *property, const char *type, int version,
                         int64_t batch_id, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, event);
    aipm_pg__text(&p, property);
    aipm_pg__text(&p, type);
    aipm_pg__int(&p, version);
    aipm_pg__int(&p, batch_id);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO event_schema(event, property, type,"
                         " version, batch_id) VALUES($1, $2, $3, $4, $5)",
                         &p, NULL, err);
}

static int pg_volume_put(aipm_store *base, const char *dataset, int64_t day,
                         int64_t batch_id, int64_t n, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, dataset);
    aipm_pg__int(&p, day);
    aipm_pg__int(&p, batch_id);
    aipm_pg__int(&p, n);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO daily_volume(dataset, day, batch_id, n)"
                         " VALUES($1, $2, $3, $4)",
                         &p, NULL, err);
}

typedef struct volume {
    int64_t days, total;
} volume;

static int volume_row(PGresult *r, void *ctx)
{
    volume *v = ctx;

    v->days = aipm_pg__col_int(r, 0);
    v->total = aipm_pg__col_int(r, 1);
    return 0;
}

static int pg_volume_mean(aipm_store *base, const char *dataset,
                          int64_t from_day, int64_t to_day, double *mean,
                          int64_t *days, aipm_error *err)
{
    pg_params p = {0};
    volume v = {0, 0};
    int rc;

    aipm_pg__text(&p, dataset);
    aipm_pg__int(&p, from_day);
    aipm_pg__int(&p, to_day);
    rc = aipm_pg__each_row(
        (pg_store *)base,
        "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT v.day,"
        " sum(v.n) AS n FROM daily_volume v JOIN batches b"
        " ON b.id = v.batch_id WHERE b." PG_ACCEPTED " AND"
        " v.dataset = $1 AND v.day >= $2 AND v.day < $3 GROUP BY v.day) x",
        &p, volume_row, &v, err);
    *days = v.days;
    *mean = v.days ? (double)v.total / (double)v.days : 0;
    return rc;
}

static const aipm_store_ops pg_ops = {
    .version = AIPM_STORE_OPS_VERSION,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .batch_new = pg_batch_new,
    .batch_finish = pg_batch_finish,
    .batch_get = pg_batch_get,
    .batch_set_status = pg_batch_set_status,
    .batch_list = pg_batch_list,
    .event_put = pg_event_put,
    .row_put = pg_row_put,
    .count_visible = pg_count_visible,
    .quarantine_put = pg_quarantine_put,
    .quarantine_list = pg_quarantine_list,
    .schema_load = pg_schema_load,
    .schema_put = pg_schema_put,
    .volume_put = pg_volume_put,
    .volume_mean = pg_volume_mean,
    .run_put = pg_run_put,
    .run_list = pg_run_list,
    .audit_put = pg_audit_put,
    .audit_list = pg_audit_list,
    .audit_last = pg_audit_last,
    .audit_frontier_get = pg_audit_frontier_get,
    .audit_frontier_put = pg_audit_frontier_put,
    .decision_put = pg_decision_put,
    .decision_list = pg_decision_list,
    .decision_input_put = pg_decision_input_put,
    .decisions_reading = pg_decisions_reading,
    .decision_set_status = pg_decision_set_status,
    .user_put = pg_user_put,
    .user_list = pg_user_list,
    .approval_put = pg_approval_put,
    .approval_list = pg_approval_list,
    .analysis_index = pg_analysis_index,
    .link_put = pg_link_put,
    .event_count = pg_event_count,
    .in_transaction = pg_in_transaction,
    .backlog_texts = pg_backlog_texts,
    .feedback_texts = pg_feedback_texts,
    .feedback_count = pg_feedback_count,
    .link_list = pg_link_list,
    .row_visible = pg_row_visible,
    .policy_put = pg_policy_put,
    .setting_get = pg_setting_get,
    .setting_put = pg_setting_put,
    .policy_list = pg_policy_list,
    .rows_digest = pg_rows_digest,
    .exposure_moments = pg_exposure_moments,
    .exposure_quantile = pg_exposure_quantile,
    .population_moments = pg_population_moments,
    .kpi_activity = pg_kpi_activity,
    .kpi_feature_users = pg_kpi_feature_users,
    .kpi_conversion = pg_kpi_conversion,
    .kpi_retention = pg_kpi_retention,
    .kpi_events = pg_kpi_events,
    .kpi_active_accounts = pg_kpi_active_accounts,
    .event_put_many = pg_event_put_many,
    .backlog_items = pg_backlog_items,
    .daily_active_users = pg_daily_active_users,
    .event_daily_users = pg_event_daily_users,
    .item_daily_users = pg_item_daily_users,
    .market_signals = pg_market_signals,
    .account_arr_plan = pg_account_arr_plan,
    .batch_states = pg_batch_states,
    .first_uses = pg_first_uses,
    .first_memberships = pg_first_memberships,
    .graph_rows = pg_graph_rows,
    .event_day_range = pg_event_day_range,
    .user_event_times = pg_user_event_times,
    .user_traits = pg_user_traits,
    .account_traits = pg_account_traits,
    .model_put = pg_model_put,
    .model_list = pg_model_list,
    .alias_move = pg_alias_move,
    .alias_moves = pg_alias_moves,
    .alias_get = pg_alias_get,
    .monitor_put = pg_monitor_put,
    .monitor_list = pg_monitor_list,
    .token_put = pg_token_put,
    .token_find = pg_token_find,
    .token_list = pg_token_list,
    .token_revoke = pg_token_revoke,
};
