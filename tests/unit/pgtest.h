/* pgtest.h - what the PostgreSQL store's unit tests share (header-only,
 * like testutil.h): the test server, a store on each backend, and records
 * of what a read returned.
 *
 * The server is the CTest fixture pg's: $AIPM_TEST_PG_DIR is its
 * directory, $AIPM_TEST_PG_SERVER the tests/pg/server.sh that makes it a
 * database. A test's state is a pair: a SQLite store in a temporary
 * directory and a PostgreSQL store in a fresh database, both just created
 * (NULL without $AIPM_TEST_PG_DIR: need() skips the test). A read on each
 * is flattened into a record, one line per row of typed fields (a length
 * before every string, "N" for NULL, %a for a double, so -0.0, NAN and
 * 1e-310 stay what they are), and same() wants the two records equal byte
 * for byte, showing where they part when they do not.
 */
#ifndef AIPM_PGTEST_H
#define AIPM_PGTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <math.h>

#include "aipm/store.h"
#include "testutil.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const backend[2] = {"sqlite", "postgresql"};

/* A call that must succeed; err is reset before it, its message shown
 * when it fails. */
#define OK(expr)                                                               \
    (memset(&err, 0, sizeof(err)), ok_at((expr), &err, #expr, __LINE__))
/* A call expected to fail: its code, err reset before it. */
#define RC(expr) (memset(&err, 0, sizeof(err)), (expr))

static TU_UNUSED void ok_at(int rc, const aipm_error *err, const char *what,
                            int line)
{
    if (rc != AIPM_OK)
        fail_msg("line %d: %s returned %d: %s", line, what, rc, err->msg);
}

/* A message is one line, and says something. */
static TU_UNUSED void one_line(const char *msg)
{
    assert_true(msg[0] != '\0');
    assert_null(strchr(msg, '\n'));
    assert_null(strchr(msg, '\r'));
}

/* ---- the test server ---- */

static TU_UNUSED const char *pg_dir(void)
{
    const char *d = getenv("AIPM_TEST_PG_DIR");

    return d && *d ? d : NULL;
}

static int made; /* databases made: their names' numbers */

/* A fresh database on the test server (tests/pg/server.sh newdb), its URL
 * into url: postgresql://aipm@127.0.0.1:PORT/NAME. 0 or -1. */
static TU_UNUSED int new_db(char *url, size_t cap)
{
    const char *script = getenv("AIPM_TEST_PG_SERVER");
    char cmd[1024], name[64];
    FILE *f;
    size_t n;
    int ok;

    if (script == NULL || *script == '\0')
        script = "tests/pg/server.sh";
    snprintf(name, sizeof(name), "unit_%ld_%d", (long)getpid(), ++made);
    snprintf(cmd, sizeof(cmd), "'%s' newdb '%s' %s", script, pg_dir(), name);
    if ((f = popen(cmd, "r")) == NULL)
        return -1;
    ok = fgets(url, (int)cap, f) != NULL;
    if (pclose(f) != 0 || !ok) {
        fprintf(stderr, "%s failed\n", cmd);
        return -1;
    }
    n = strcspn(url, "\r\n");
    url[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* A fresh database whose default collation is ICU's en-US, not byte
 * order as the test server's C locale is: text sorts as on an ordinary
 * server. 0, or -1 when the server cannot make one (built without ICU). */
static TU_UNUSED int new_icu_db(char *url, size_t cap)
{
    char path[600], sql[256], *base;
    PGconn *c;
    PGresult *r;
    size_t n;
    int ok;

    snprintf(path, sizeof(path), "%s/url", pg_dir());
    if ((base = tu_read(path, NULL)) == NULL)
        return -1;
    base[strcspn(base, "\r\n")] = '\0';
    c = PQconnectdb(base);
    n = (size_t)(strrchr(base, '/') - base);
    snprintf(url, cap, "%.*s/unit_icu_%ld_%d", (int)n, base, (long)getpid(),
             ++made);
    snprintf(sql, sizeof(sql),
             "CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu"
             " ICU_LOCALE 'en-US' LOCALE 'C'",
             strrchr(url, '/') + 1);
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "no ICU database: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    free(base);
    return ok ? 0 : -1;
}

/* Run sql on the database at url outside aipm. */
static TU_UNUSED void raw_sql(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r;

    assert_int_equal(PQstatus(c), CONNECTION_OK);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK &&
        PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/* url (postgresql://USER@HOSTPORT/DB) with a password and database db. */
static TU_UNUSED void with_password(char *out, size_t cap, const char *url,
                                    const char *password, const char *db)
{
    const char *at = strchr(url, '@'), *slash;

    assert_non_null(at);
    slash = strchr(at, '/');
    assert_non_null(slash);
    snprintf(out, cap, "%.*s:%s%.*s/%s", (int)(at - url), url, password,
             (int)(slash - at), at, db);
}

/* ---- a store on each backend ---- */

typedef struct pair {
    char dir[256], path[300], url[512];
    aipm_store *st[2]; /* [0] SQLite, [1] PostgreSQL */
} pair;

static TU_UNUSED int setup(void **state, int icu)
{
    aipm_error err = {0, ""};
    pair *p;

    *state = NULL;
    if (pg_dir() == NULL)
        return 0; /* the test skips */
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return -1;
    if (icu && new_icu_db(p->url, sizeof(p->url)) != 0) {
        free(p);
        return 0; /* the test skips */
    }
    *state = p;
    if (tu_mkdtemp(p->dir, sizeof(p->dir)) == NULL ||
        (!icu && new_db(p->url, sizeof(p->url)) != 0))
        return -1;
    snprintf(p->path, sizeof(p->path), "%s/aipm.db", p->dir);
    if (aipm_store_open(&p->st[0], p->path, AIPM_STORE_CREATE, &err) != 0 ||
        aipm_store_open(&p->st[1], p->url, AIPM_STORE_CREATE, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static TU_UNUSED int pair_setup(void **state)
{
    return setup(state, 0);
}

static TU_UNUSED int icu_setup(void **state)
{
    return setup(state, 1);
}

static TU_UNUSED int pair_teardown(void **state)
{
    pair *p = *state;

    if (p) {
        aipm_store_close(p->st[0]);
        aipm_store_close(p->st[1]);
        if (p->dir[0])
            tu_rmtree(p->dir);
        free(p);
    }
    return 0;
}

static TU_UNUSED pair *need(void **state)
{
    if (*state == NULL)
        skip(); /* no test server: $AIPM_TEST_PG_DIR is not set */
    return *state;
}

/* Close both stores and open them again (flags: AIPM_STORE_*): what is
 * read next comes from the tables, not from a connection's memory. */
static TU_UNUSED void reopen(pair *p, int flags)
{
    aipm_error err;

    aipm_store_close(p->st[0]);
    aipm_store_close(p->st[1]);
    p->st[0] = p->st[1] = NULL;
    OK(aipm_store_open(&p->st[0], p->path, flags, &err));
    OK(aipm_store_open(&p->st[1], p->url, flags, &err));
}

/* ---- records: what a read returned, flattened ---- */

typedef struct rec {
    char *p;
    size_t len, cap;
    int rows;
} rec;

static TU_UNUSED void rec_put(rec *r, const void *v, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;

        while (cap < r->len + n + 1)
            cap *= 2;
        r->p = realloc(r->p, cap);
        assert_non_null(r->p);
        r->cap = cap;
    }
    if (n)
        memcpy(r->p + r->len, v, n);
    r->len += n;
    r->p[r->len] = '\0';
}

static TU_UNUSED void rec_fmt(rec *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static TU_UNUSED void rec_fmt(rec *r, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(buf));
    rec_put(r, buf, (size_t)n);
}

static TU_UNUSED void rec_str(rec *r, const char *s)
{
    if (s == NULL) {
        rec_put(r, "N|", 2);
        return;
    }
    rec_fmt(r, "s%zu:", strlen(s));
    rec_put(r, s, strlen(s));
    rec_put(r, "|", 1);
}

static TU_UNUSED void rec_mem(rec *r, const void *v, size_t n)
{
    rec_fmt(r, "b%zu:", n);
    rec_put(r, v, n);
    rec_put(r, "|", 1);
}

static TU_UNUSED void rec_int(rec *r, int64_t v)
{
    rec_fmt(r, "i%lld|", (long long)v);
}

static TU_UNUSED void rec_real(rec *r, double v)
{
    if (isnan(v))
        rec_put(r, "nan|", 4);
    else
        rec_fmt(r, "r%a|", v);
}

static TU_UNUSED void rec_end(rec *r)
{
    rec_put(r, "\n", 1);
    r->rows++;
}

static TU_UNUSED void rec_free(rec *r)
{
    free(r->p);
    memset(r, 0, sizeof(*r));
}

/* Up to 100 bytes of v from its line holding offset at, escaped. */
static TU_UNUSED void show(const char *name, const rec *r, size_t at)
{
    size_t from = at, i;

    while (from > 0 && r->p[from - 1] != '\n' && at - from < 60)
        from--;
    fprintf(stderr, "  %-10s ...", name);
    for (i = from; i < r->len && i < from + 100; i++) {
        unsigned char c = (unsigned char)r->p[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\n");
}

/* The two backends' records of what must be the same read. */
static TU_UNUSED void same(rec r[2], const char *what)
{
    size_t i, n = r[0].len < r[1].len ? r[0].len : r[1].len;

    if (r[0].len == r[1].len &&
        (r[0].len == 0 || memcmp(r[0].p, r[1].p, r[0].len) == 0))
        return;
    for (i = 0; i < n && r[0].p[i] == r[1].p[i]; i++)
        ;
    fprintf(stderr, "%s differs at byte %zu (rows %d and %d):\n", what, i,
            r[0].rows, r[1].rows);
    show(backend[0], &r[0], i);
    show(backend[1], &r[1], i);
    fail_msg("%s: the backends differ", what);
}

static TU_UNUSED void recs_free(rec r[2])
{
    rec_free(&r[0]);
    rec_free(&r[1]);
}

/* ---- callbacks that record what they are handed (ctx: a rec) ---- */

static TU_UNUSED int on_digest(void *ctx, int64_t batch_id, int64_t rows,
                               const uint8_t sha[32])
{
    rec *r = ctx;

    rec_int(r, batch_id);
    rec_int(r, rows);
    rec_mem(r, sha, 32);
    rec_end(r);
    return 0;
}

static TU_UNUSED void rec_batch(rec *r, const aipm_batch_info *b)
{
    rec_int(r, b->id);
    rec_str(r, b->dataset);
    rec_str(r, b->status);
    rec_str(r, b->verdict);
    rec_str(r, b->source_sha256);
    rec_str(r, b->content_sha256);
    rec_str(r, b->rows_sha256);
    rec_str(r, b->run_id);
    rec_int(r, b->created_ms);
    rec_int(r, b->n_read);
    rec_int(r, b->n_accepted);
    rec_int(r, b->n_duplicates);
    rec_int(r, b->n_quarantined);
    rec_str(r, b->source);
    rec_str(r, b->report);
    rec_end(r);
}

static TU_UNUSED int on_batch(void *ctx, const aipm_batch_info *b)
{
    rec_batch(ctx, b);
    return 0;
}

static TU_UNUSED int on_quarantine(void *ctx, const aipm_quarantine_row *q)
{
    rec *r = ctx;

    rec_int(r, q->batch_id);
    rec_str(r, q->dataset);
    rec_str(r, q->file);
    rec_int(r, q->line);
    rec_str(r, q->reason);
    rec_str(r, q->detail);
    rec_mem(r, q->raw, q->raw_len);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_audit(void *ctx, const aipm_audit_row *a)
{
    rec *r = ctx;

    rec_int(r, a->seq);
    rec_mem(r, a->entry, a->entry_len);
    rec_mem(r, a->leaf, 32);
    rec_mem(r, a->root, 32);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_decision(void *ctx, const aipm_decision_row *d)
{
    rec *r = ctx;

    rec_str(r, d->id);
    rec_int(r, d->time_ms);
    rec_str(r, d->kind);
    rec_str(r, d->subject);
    rec_str(r, d->decision);
    rec_str(r, d->inputs);
    rec_str(r, d->params);
    rec_str(r, d->output_sha256);
    rec_str(r, d->output);
    rec_str(r, d->status);
    rec_str(r, d->model);
    rec_str(r, d->rationale);
    rec_real(r, d->confidence);
    rec_str(r, d->code_version);
    rec_str(r, d->policy_sha256);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_user(void *ctx, const aipm_user_row *u)
{
    rec *r = ctx;

    rec_str(r, u->name);
    rec_str(r, u->role);
    rec_str(r, u->verifier_key);
    rec_int(r, u->time_ms);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_approval(void *ctx, const aipm_approval_row *a)
{
    rec *r = ctx;

    rec_int(r, a->seq);
    rec_str(r, a->decision_id);
    rec_str(r, a->action);
    rec_str(r, a->user);
    rec_int(r, a->time_ms);
    rec_str(r, a->reason);
    rec_str(r, a->value);
    rec_str(r, a->message);
    rec_str(r, a->signature);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_policy(void *ctx, const aipm_policy_row *pv)
{
    rec *r = ctx;

    rec_int(r, pv->seq);
    rec_int(r, pv->time_ms);
    rec_str(r, pv->policy_sha256);
    rec_str(r, pv->policies);
    rec_str(r, pv->actor);
    rec_str(r, pv->reason);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_run(void *ctx, const aipm_run_row *run)
{
    rec *r = ctx;

    rec_str(r, run->id);
    rec_str(r, run->job);
    rec_str(r, run->state);
    rec_int(r, run->started_ms);
    rec_int(r, run->ended_ms);
    rec_str(r, run->inputs);
    rec_str(r, run->outputs);
    rec_str(r, run->facets);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_ref(void *ctx, const char *id, const char *status)
{
    rec *r = ctx;

    rec_str(r, id);
    rec_str(r, status);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_link(void *ctx, const char *feedback_id,
                             const char *item_id)
{
    return on_ref(ctx, feedback_id, item_id);
}

static TU_UNUSED int on_schema(void *ctx, const char *event,
                               const char *property, const char *type,
                               int version)
{
    rec *r = ctx;

    rec_str(r, event);
    rec_str(r, property);
    rec_str(r, type);
    rec_int(r, version);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_first_use(void *ctx, const aipm_first_use *u)
{
    rec *r = ctx;

    rec_str(r, u->user_id);
    rec_str(r, u->event);
    rec_int(r, u->ts_ms);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_backlog_item(void *ctx, const aipm_backlog_item *b)
{
    rec *r = ctx;

    rec_str(r, b->id);
    rec_str(r, b->title);
    rec_str(r, b->area);
    rec_str(r, b->feature_key);
    rec_str(r, b->status);
    rec_real(r, b->effort);
    rec_str(r, b->created_at);
    rec_str(r, b->shipped_at);
    rec_real(r, b->reach);
    rec_real(r, b->impact);
    rec_real(r, b->confidence);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_backlog_text(void *ctx, const aipm_backlog_text *b)
{
    rec *r = ctx;

    rec_str(r, b->id);
    rec_str(r, b->title);
    rec_str(r, b->description);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_feedback_text(void *ctx, const aipm_feedback_text *f)
{
    rec *r = ctx;

    rec_str(r, f->id);
    rec_str(r, f->text);
    rec_str(r, f->item_id);
    rec_str(r, f->account_id);
    rec_str(r, f->created_at);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_signal(void *ctx, const aipm_market_signal *m)
{
    rec *r = ctx;

    rec_str(r, m->area);
    rec_str(r, m->signal);
    rec_str(r, m->date);
    rec_real(r, m->value);
    rec_end(r);
    return 0;
}

static TU_UNUSED int on_graph_row(void *ctx, const aipm_graph_csv_row *g)
{
    rec *r = ctx;

    rec_str(r, g->src);
    rec_str(r, g->relation);
    rec_str(r, g->dst);
    rec_real(r, g->weight);
    rec_end(r);
    return 0;
}

/* The rows digests of dataset (batch_id 0: every batch), both backends. */
static TU_UNUSED void same_digests(pair *p, const char *dataset,
                                   int64_t batch_id, const char *what)
{
    aipm_error err;
    rec r[2] = {{0}};
    int b;

    for (b = 0; b < 2; b++)
        OK(aipm_store_rows_digest(p->st[b], dataset, batch_id, on_digest, &r[b],
                                  &err));
    assert_true(r[0].rows > 0);
    same(r, what);
    recs_free(r);
}

static TU_UNUSED void same_count(pair *p, const char *dataset, int64_t expected)
{
    aipm_error err;
    int64_t n[2] = {-1, -1};
    int b;

    for (b = 0; b < 2; b++)
        OK(aipm_store_count_visible(p->st[b], dataset, &n[b], &err));
    assert_int_equal(n[0], expected);
    assert_int_equal(n[1], n[0]);
}

/* A new batch of dataset on both; the same id on both. */
static TU_UNUSED int64_t new_batch(pair *p, const char *dataset,
                                   int64_t created_ms)
{
    aipm_error err;
    int64_t id[2] = {0, 0};
    int b;

    for (b = 0; b < 2; b++)
        OK(aipm_store_batch_new(p->st[b], &id[b], dataset, "in/\tfile é.csv",
                                "ab12", "run-\\1", created_ms, &err));
    assert_true(id[0] > 0);
    assert_int_equal(id[1], id[0]);
    return id[0];
}

static TU_UNUSED void begin_both(pair *p)
{
    aipm_error err;

    OK(aipm_store_begin(p->st[0], &err));
    OK(aipm_store_begin(p->st[1], &err));
}

static TU_UNUSED void commit_both(pair *p)
{
    aipm_error err;

    OK(aipm_store_commit(p->st[0], &err));
    OK(aipm_store_commit(p->st[1], &err));
}

/* Set a batch's status on both, in a transaction of its own as
 * aipm_data_transition does (rolled back when it fails); the code, the
 * same on both. */
static TU_UNUSED int set_status(pair *p, int64_t id, const char *status)
{
    aipm_error err;
    int rc[2], b;

    for (b = 0; b < 2; b++) {
        OK(aipm_store_begin(p->st[b], &err));
        rc[b] = RC(aipm_store_batch_set_status(p->st[b], id, status, &err));
        if (rc[b] == AIPM_OK)
            OK(aipm_store_commit(p->st[b], &err));
        else {
            one_line(err.msg);
            aipm_store_rollback(p->st[b]);
        }
    }
    assert_int_equal(rc[1], rc[0]);
    return rc[0];
}

/* A copy of text (len bytes) in an allocation of exactly len bytes, no NUL
 * after it (len 0: one byte 'Z' that must not be read). */
static TU_UNUSED char *exact(const char *text, size_t len)
{
    char *v = malloc(len ? len : 1);

    assert_non_null(v);
    if (len)
        memcpy(v, text, len);
    else
        v[0] = 'Z';
    return v;
}

#endif
