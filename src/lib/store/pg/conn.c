/* conn.c - statements over libpq for the PostgreSQL backend: parameters,
 * streamed rows, and messages that name the store. */
#include "store/pg/pg_int.h"

#include <math.h>

/* Type OIDs of PostgreSQL's catalog (pg_type.dat), stable across versions. */
#define BYTEAOID 17
#define INT8OID 20
#define TEXTOID 25
#define FLOAT8OID 701
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int room(pg_params *p)
{
    return p->n < PG_MAX_PARAMS;
}

static void put(pg_params *p, const char *v, int len, int fmt, Oid type)
{
    p->v[p->n] = v;
    p->len[p->n] = len;
    p->fmt[p->n] = fmt;
    p->type[p->n] = type;
    p->n++;
}

void aipm_pg__text(pg_params *p, const char *v)
{
    if (room(p))
        put(p, v, 0, 0, TEXTOID);
}

void aipm_pg__int(pg_params *p, int64_t v)
{
    if (!room(p))
        return;
    snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
    put(p, p->num[p->n], 0, 0, INT8OID);
}

void aipm_pg__real(pg_params *p, double v)
{
    if (!room(p))
        return;
    if (isnan(v)) {
        put(p, NULL, 0, 0, FLOAT8OID);
        return;
    }
    snprintf(p->num[p->n], sizeof(p->num[0]), "%.17g", v);
    put(p, p->num[p->n], 0, 0, FLOAT8OID);
}

void aipm_pg__stored_real(pg_params *p, double v)
{
    /* SQLite writes a real with an integer value into a REAL column as an
     * integer, so -0.0 reads back as 0.0 there; the same value here. */
    aipm_pg__real(p, v == 0 ? 0.0 : v);
}

void aipm_pg__bytes(pg_params *p, const void *v, size_t len)
{
    if (!room(p))
        return;
    put(p, v ? (const char *)v : "", (int)len, 1, BYTEAOID);
}

/* The first line of libpq's message, without its "ERROR:  " prefix. */
static void first_line(char *out, size_t cap, const char *msg)
{
    size_t n;

    if (msg == NULL)
        msg = "";
    if (strncmp(msg, "ERROR:  ", 8) == 0)
        msg += 8;
    n = strcspn(msg, "\n");
    snprintf(out, cap, "%.*s", (int)n, msg);
}

int aipm_pg__error(pg_store *s, PGresult *r, aipm_error *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[400];

    first_line(msg, sizeof(msg),
               r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
    if (PQstatus(s->conn) != CONNECTION_OK)
        return aipm_error_set(err, AIPM_EIO,
                              "store '%s': the connection to PostgreSQL was "
                              "lost (%s)",
                              s->url, msg);
    if (state && strcmp(state, "25006") == 0) /* read_only_sql_transaction */
        return aipm_error_set(err, AIPM_EIO,
                              "store '%s' is read-only (%s); this command "
                              "writes: run it with write access",
                              s->url, msg);
    if (state && strcmp(state, "53100") == 0) /* disk_full */
        return aipm_error_set(err, AIPM_EIO,
                              "the disk of store '%s' is full (%s): free some "
                              "space, then run the command again",
                              s->url, msg);
    if (state && strncmp(state, "23", 2) == 0) /* integrity violation */
        return aipm_error_set(err, AIPM_EINVALID, "store: %s", msg);
    return aipm_error_set(err, AIPM_ERROR, "store: %s", msg);
}

/* Without parameters, sql may hold several statements (migrations). */
static PGresult *run(pg_store *s, const char *sql, const pg_params *p)
{
    if (p == NULL || p->n == 0)
        return PQexec(s->conn, sql);
    return PQexecParams(s->conn, sql, p->n, p->type, p->v, p->len, p->fmt, 0);
}

int aipm_pg__exec(pg_store *s, const char *sql, const pg_params *p,
                  int64_t *changed, aipm_error *err)
{
    PGresult *r = run(s, sql, p);
    ExecStatusType st = PQresultStatus(r);
    int rc = AIPM_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = aipm_pg__error(s, r, err);
    else if (changed)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

/* The row of a result the accessors read: the walk below sets it before
 * each call of the row function (and a nested walk restores it). Per
 * thread: the graph reads on a second connection in a thread of its own. */
static _Thread_local int cur_row;

/* Rows come through a cursor, FETCH_ROWS at a time: memory stays bounded
 * whatever the result, and a row function may itself use the store (read
 * a decision while walking the batches, say), which libpq's single-row
 * mode forbids. A cursor lives in a transaction: the caller's, or one
 * opened here for the walk (s->walks counts the walks under it). */
#define FETCH_ROWS 5000

static int fetch_all(pg_store *s, const char *cursor, aipm_pg__row_fn fn,
                     void *ctx, aipm_error *err)
{
    char sql[96];
    int rc = AIPM_OK, saved = cur_row;

    snprintf(sql, sizeof(sql), "FETCH %d FROM %s", FETCH_ROWS, cursor);
    for (;;) {
        PGresult *r = PQexec(s->conn, sql);
        int i, n;

        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = aipm_pg__error(s, r, err);
            PQclear(r);
            break;
        }
        n = PQntuples(r);
        for (i = 0; i < n && rc == AIPM_OK; i++) {
            cur_row = i;
            rc = fn(r, ctx);
        }
        PQclear(r);
        if (rc != AIPM_OK || n < FETCH_ROWS)
            break;
    }
    cur_row = saved;
    return rc;
}

int aipm_pg__each_row(pg_store *s, const char *sql, const pg_params *p,
                      aipm_pg__row_fn fn, void *ctx, aipm_error *err)
{
    char cursor[32], *decl;
    size_t len = strlen(sql) + 64;
    int own = !s->in_tx && s->walks == 0, rc;

    if ((decl = malloc(len)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    snprintf(cursor, sizeof(cursor), "aipm_c%d", ++s->cursors);
    snprintf(decl, len, "DECLARE %s NO SCROLL CURSOR FOR %s", cursor, sql);
    rc = own ? aipm_pg__exec(s, "BEGIN", NULL, NULL, err) : AIPM_OK;
    if (rc == AIPM_OK) {
        s->walks++;
        rc = aipm_pg__exec(s, decl, p, NULL, err);
        if (rc == AIPM_OK) {
            char close[48];

            rc = fetch_all(s, cursor, fn, ctx, err);
            snprintf(close, sizeof(close), "CLOSE %s", cursor);
            if (rc == AIPM_OK)
                rc = aipm_pg__exec(s, close, NULL, NULL, err);
        }
        s->walks--;
        if (own)
            aipm_pg__exec(s, rc == AIPM_OK ? "COMMIT" : "ROLLBACK", NULL, NULL,
                          rc == AIPM_OK ? err : NULL);
    }
    free(decl);
    return rc;
}

int aipm_pg__rows(pg_store *s, const char *sql, const pg_params *p,
                  aipm_pg__row_fn fn, void *ctx, aipm_error *err)
{
    PGresult *r = run(s, sql, p);
    int i, n, rc = AIPM_OK, saved = cur_row;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = aipm_pg__error(s, r, err);
        PQclear(r);
        return rc;
    }
    n = PQntuples(r);
    for (i = 0; i < n && rc == AIPM_OK; i++) {
        cur_row = i;
        rc = fn(r, ctx);
    }
    cur_row = saved;
    PQclear(r);
    return rc;
}

static int int_row(PGresult *r, void *ctx)
{
    *(int64_t *)ctx = aipm_pg__col_int(r, 0);
    return 0;
}

int aipm_pg__int64(pg_store *s, const char *sql, const pg_params *p,
                   int64_t *out, aipm_error *err)
{
    *out = 0;
    return aipm_pg__rows(s, sql, p, int_row, out, err); /* one row */
}

const char *aipm_pg__col(PGresult *r, int col)
{
    return PQgetisnull(r, cur_row, col) ? NULL : PQgetvalue(r, cur_row, col);
}

size_t aipm_pg__col_len(PGresult *r, int col)
{
    return (size_t)PQgetlength(r, cur_row, col);
}

int64_t aipm_pg__col_int(PGresult *r, int col)
{
    const char *v = aipm_pg__col(r, col);

    return v ? strtoll(v, NULL, 10) : 0;
}

double aipm_pg__col_real(PGresult *r, int col)
{
    const char *v = aipm_pg__col(r, col);

    return v ? strtod(v, NULL) : 0;
}

unsigned char *aipm_pg__col_bytes(PGresult *r, int col, size_t *len)
{
    const char *v = aipm_pg__col(r, col);
    unsigned char *raw, *out;

    *len = 0;
    if (v == NULL ||
        (raw = PQunescapeBytea((const unsigned char *)v, len)) == NULL)
        return NULL;
    /* libpq's buffer is freed with PQfreemem: hand back a malloc'd copy. */
    out = malloc(*len ? *len : 1);
    if (out)
        memcpy(out, raw, *len);
    PQfreemem(raw);
    return out;
}
