/* pipeline.c - the events ingest on two threads: parse | store.
 *
 * Parsing and validating a line (YAJL, schema) and storing it (SQLite,
 * the kernel's writes) each take about half the time of an event, so the
 * parser thread (the caller) packs accepted-for-storage events and
 * quarantine rows into blocks of ~1 MB, and a writer thread replays them
 * into the store in the same order. Order is kept (FIFO), so dedupe,
 * counts and the report are exactly those of a sequential run.
 *
 * Memory is bounded: at most N_BLOCKS blocks exist; the parser waits for
 * a free one. The store is used only by the writer while the pipeline
 * runs (SQLite connections may move between threads in serialized mode).
 * Shared state: the parser owns the schema maps and prop_stats' schema
 * fields; the writer owns every counter of stored rows (accepted,
 * duplicates, quarantined, nonnull, event_rows, days). The queue's mutex
 * orders each record's data before its use.
 */
#include "ingest/pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N_BLOCKS 4

/* n_props is stored in 16 bits. */
_Static_assert(AIPM_MAX_PROPS <= UINT16_MAX, "n_props must fit rec.n_props");
#define BLOCK_FLUSH ((size_t)1 << 20)
#define NONE 0xffffffffu

enum { K_EVENT = 1, K_QUARANTINE = 2 };

/* A record in a block: this header, then its strings, 8-byte aligned.
 * Offsets are from the record's start; NONE marks a NULL string. */
typedef struct rec {
    uint32_t size; /* whole record, padded */
    uint8_t kind;
    uint8_t reason;
    uint16_t n_props;
    uint64_t lineno;
    int64_t ts_ms;
    int32_t ns;
    uint32_t str[7]; /* event: message_id type user_id anonymous_id event
                        group_id payload; quarantine: detail raw */
    uint32_t payload_len;
    uint32_t props; /* offset of n_props int32 indexes (-1: skip) */
} rec;

typedef struct block {
    aipm_buf data;
    int n;
} block;

/* The events of a block, stored in one call at its end (a backend may
 * send them as one bulk write: PostgreSQL's COPY). */
typedef struct run {
    aipm_event_row *rows;
    const rec **recs;
    unsigned char *inserted;
    int n, cap;
} run;

struct aipm_pipe {
    batch *b;
    pthread_t writer;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    block *free_list[N_BLOCKS];
    int n_free;
    block *queue[N_BLOCKS];
    int q_head, q_len;
    int done;   /* the parser has no more blocks */
    int failed; /* the writer hit an error: stop */
    aipm_error err;
    int rc;
    block *cur; /* the parser's block being filled */
    run run;    /* the writer's events being stored */
    block blocks[N_BLOCKS];
};

static int put_str(aipm_buf *d, size_t start, uint32_t *off, const char *s,
                   size_t len)
{
    if (s == NULL) {
        *off = NONE;
        return AIPM_OK;
    }
    *off = (uint32_t)(d->len - start);
    if (aipm_buf_put(d, s, len) != 0 || aipm_buf_put(d, "", 1) != 0)
        return AIPM_ENOMEM;
    return AIPM_OK;
}

static const char *get_str(const rec *r, uint32_t off)
{
    return off == NONE ? NULL : (const char *)r + off;
}

/* ---- the writer thread ---- */

static void event_row(aipm_event_row *row, const rec *r)
{
    row->message_id = get_str(r, r->str[0]);
    row->type = get_str(r, r->str[1]);
    row->user_id = get_str(r, r->str[2]);
    row->anonymous_id = get_str(r, r->str[3]);
    row->event = get_str(r, r->str[4]);
    row->group_id = get_str(r, r->str[5]);
    row->payload = get_str(r, r->str[6]);
    row->payload_len = r->payload_len;
    row->ts_ms = r->ts_ms;
}

/* Count one event the store took (inserted) or had already (a
 * duplicate). */
static void counted(batch *b, const rec *r, int inserted)
{
    const int32_t *props =
        (const int32_t *)(const void *)((const char *)r + r->props);
    const char *id = get_str(r, r->str[0]);
    int i;

    if (!inserted) {
        b->duplicates++;
        return;
    }
    if (r->ns >= 0) {
        b->event_rows[r->ns]++;
        for (i = 0; i < r->n_props; i++)
            if (props[i] >= 0)
                b->prop_stats[props[i]].nonnull++;
    }
    aipm_ingest__accepted(b, id, strlen(id), 1, r->ts_ms);
}

static int run_add(run *u, const rec *r)
{
    if (u->n == u->cap) {
        int cap = u->cap ? 2 * u->cap : 1024;
        aipm_event_row *rows = realloc(u->rows, (size_t)cap * sizeof(*rows));
        const rec **recs;
        unsigned char *ins;

        if (rows == NULL)
            return AIPM_ENOMEM;
        u->rows = rows;
        if ((recs = realloc(u->recs, (size_t)cap * sizeof(*recs))) == NULL)
            return AIPM_ENOMEM;
        u->recs = recs;
        if ((ins = realloc(u->inserted, (size_t)cap)) == NULL)
            return AIPM_ENOMEM;
        u->inserted = ins;
        u->cap = cap;
    }
    event_row(&u->rows[u->n], r);
    u->recs[u->n++] = r;
    return AIPM_OK;
}

static int run_flush(batch *b, run *u, aipm_error *err)
{
    int i, rc;

    if (u->n == 0)
        return AIPM_OK;
    rc = aipm_store_event_put_many(b->st, b->id, u->rows, (size_t)u->n,
                                   u->inserted, err);
    for (i = 0; rc == AIPM_OK && i < u->n; i++)
        counted(b, u->recs[i], u->inserted[i]);
    u->n = 0;
    return rc;
}

static int replay(aipm_pipe *p, block *blk)
{
    size_t off = 0;
    int i, rc = AIPM_OK;

    for (i = 0; i < blk->n && rc == AIPM_OK; i++) {
        const rec *r = (const rec *)(const void *)(blk->data.ptr + off);

        if (r->kind == K_EVENT) {
            if (run_add(&p->run, r) != AIPM_OK)
                rc = aipm_error_set(&p->err, AIPM_ENOMEM, "out of memory");
        } else {
            /* A quarantine row goes to its own table at once; the
             * block's events go together at its end (their order among
             * themselves is kept, and nothing depends on the order of
             * the two kinds). */
            rc = aipm_ingest__quarantine(
                p->b, r->lineno, (enum reason)r->reason, get_str(r, r->str[0]),
                get_str(r, r->str[1]), r->payload_len, &p->err);
        }
        off += r->size;
    }
    if (rc == AIPM_OK)
        rc = run_flush(p->b, &p->run, &p->err);
    p->run.n = 0;
    return rc;
}

static void *writer_main(void *arg)
{
    aipm_pipe *p = arg;

    for (;;) {
        block *blk;
        int rc, failed;

        pthread_mutex_lock(&p->mu);
        while (p->q_len == 0 && !p->done)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->q_len == 0) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        blk = p->queue[p->q_head];
        p->q_head = (p->q_head + 1) % N_BLOCKS;
        p->q_len--;
        failed = p->failed; /* read under the lock: free() may set it */
        pthread_mutex_unlock(&p->mu);

        rc = failed ? AIPM_OK : replay(p, blk);

        pthread_mutex_lock(&p->mu);
        if (rc && !p->failed) {
            p->failed = 1;
            p->rc = rc;
        }
        aipm_buf_reset(&blk->data);
        blk->n = 0;
        p->free_list[p->n_free++] = blk;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* ---- the parser side ---- */

int aipm_pipe__start(aipm_pipe **out, batch *b, aipm_error *err)
{
    aipm_pipe *p = calloc(1, sizeof(*p));
    int i;

    *out = NULL;
    if (p == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    p->b = b;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (i = 0; i < N_BLOCKS; i++) {
        aipm_buf_init(&p->blocks[i].data, (size_t)1 << 30);
        p->free_list[p->n_free++] = &p->blocks[i];
    }
    if (pthread_create(&p->writer, NULL, writer_main, p) != 0) {
        aipm_pipe__free(p);
        return aipm_error_set(err, AIPM_ERROR, "cannot start a thread");
    }
    p->started = 1;
    *out = p;
    return AIPM_OK;
}

/* Hand the current block to the writer; take a free one. */
static int flush(aipm_pipe *p, aipm_error *err)
{
    int failed;

    pthread_mutex_lock(&p->mu);
    if (p->cur && p->cur->n > 0) {
        p->queue[(p->q_head + p->q_len) % N_BLOCKS] = p->cur;
        p->q_len++;
        p->cur = NULL;
        pthread_cond_broadcast(&p->cv);
    }
    while (p->cur == NULL && p->n_free == 0 && !p->failed)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->cur == NULL && p->n_free > 0)
        p->cur = p->free_list[--p->n_free];
    failed = p->failed;
    pthread_mutex_unlock(&p->mu);
    if (failed)
        return aipm_error_set(err, p->rc, "%s", p->err.msg);
    return AIPM_OK;
}

/* Room for a record header in the current block; returns its offset. */
static int begin_rec(aipm_pipe *p, size_t *start, aipm_error *err)
{
    rec zero;
    int rc;

    if (p->cur == NULL || p->cur->data.len >= BLOCK_FLUSH)
        if ((rc = flush(p, err)) != 0)
            return rc;
    *start = p->cur->data.len;
    memset(&zero, 0, sizeof(zero));
    if (aipm_buf_put(&p->cur->data, &zero, sizeof(zero)) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return AIPM_OK;
}

static int end_rec(aipm_pipe *p, size_t start, rec *hdr, aipm_error *err)
{
    aipm_buf *d = &p->cur->data;
    static const char pad[8];
    size_t size = d->len - start, padded = (size + 7) & ~(size_t)7;

    if (aipm_buf_put(d, pad, padded - size) != 0 || padded > UINT32_MAX)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    hdr->size = (uint32_t)padded;
    memcpy(d->ptr + start, hdr, sizeof(*hdr));
    p->cur->n++;
    return AIPM_OK;
}

int aipm_pipe__event(aipm_pipe *p, uint64_t lineno, const aipm_event *ev,
                     int ns, const int *prop_idx, aipm_error *err)
{
    const char *strs[7];
    size_t lens[7], total, off, i;
    char *dst;
    rec hdr;
    int rc;

    strs[0] = ev->message_id;
    strs[1] = ev->type;
    strs[2] = ev->user_id;
    strs[3] = ev->anonymous_id;
    strs[4] = ev->event;
    strs[5] = ev->group_id;
    strs[6] = ev->payload;
    memset(&hdr, 0, sizeof(hdr));
    hdr.kind = K_EVENT;
    hdr.lineno = lineno;
    hdr.ts_ms = ev->ts_ms;
    hdr.ns = ns;
    hdr.n_props = (uint16_t)(ns >= 0 ? ev->n_props : 0);
    hdr.payload_len = (uint32_t)ev->payload_len;
    /* One reservation for the whole record: header, strings (each with
     * its NUL), padding to 4, the property indexes, padding to 8. */
    off = sizeof(hdr);
    for (i = 0; i < 7; i++) {
        lens[i] = strs[i] == NULL ? 0
                  : i == 6        ? ev->payload_len
                                  : strlen(strs[i]);
        hdr.str[i] = strs[i] ? (uint32_t)off : NONE;
        off += strs[i] ? lens[i] + 1 : 0;
    }
    off = (off + 3) & ~(size_t)3;
    hdr.props = (uint32_t)off;
    total = (off + (size_t)hdr.n_props * sizeof(int32_t) + 7) & ~(size_t)7;
    if (total > UINT32_MAX)
        return aipm_error_set(err, AIPM_EINVALID, "event too large");
    hdr.size = (uint32_t)total;
    if (p->cur == NULL || p->cur->data.len >= BLOCK_FLUSH)
        if ((rc = flush(p, err)) != 0)
            return rc;
    if ((dst = aipm_buf_append(&p->cur->data, total)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    memset(dst + hdr.props, 0, total - hdr.props);
    for (i = 0; i < 7; i++)
        if (strs[i]) {
            memcpy(dst + hdr.str[i], strs[i], lens[i]);
            dst[hdr.str[i] + lens[i]] = '\0';
        }
    for (i = 0; i < hdr.n_props; i++) {
        int32_t idx = ev->props[i].type == AIPM_J_NULL ? -1 : prop_idx[i];

        memcpy(dst + hdr.props + i * sizeof(idx), &idx, sizeof(idx));
    }
    memcpy(dst, &hdr, sizeof(hdr));
    p->cur->n++;
    return AIPM_OK;
}

/* On an error here the block may hold a half-written record; that is
 * harmless because every error aborts the batch (and its transaction). */
int aipm_pipe__quarantine(aipm_pipe *p, uint64_t lineno, enum reason why,
                          const char *detail, const char *raw, size_t raw_len,
                          aipm_error *err)
{
    size_t start;
    rec hdr;
    int rc;

    /* All the store keeps of it, cut on a character boundary. */
    raw_len = aipm_utf8_cut(raw, raw_len, AIPM_RAW_KEEP);
    if ((rc = begin_rec(p, &start, err)) != 0)
        return rc;
    memset(&hdr, 0, sizeof(hdr));
    hdr.kind = K_QUARANTINE;
    hdr.reason = (uint8_t)why;
    hdr.lineno = lineno;
    hdr.payload_len = (uint32_t)raw_len;
    if (put_str(&p->cur->data, start, &hdr.str[0], detail ? detail : "",
                detail ? strlen(detail) : 0) != 0 ||
        put_str(&p->cur->data, start, &hdr.str[1], raw ? raw : "", raw_len) !=
            0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return end_rec(p, start, &hdr, err);
}

int aipm_pipe__finish(aipm_pipe *p, aipm_error *err)
{
    int rc = AIPM_OK;

    pthread_mutex_lock(&p->mu);
    if (p->cur && p->cur->n > 0) {
        p->queue[(p->q_head + p->q_len) % N_BLOCKS] = p->cur;
        p->q_len++;
        p->cur = NULL;
    }
    p->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->writer, NULL);
    p->started = 0;
    if (p->failed)
        rc = aipm_error_set(err, p->rc, "%s", p->err.msg);
    return rc;
}

void aipm_pipe__free(aipm_pipe *p)
{
    int i;

    if (p == NULL)
        return;
    if (p->started) {
        /* An error on the parser side: stop the writer, drop the rest. */
        pthread_mutex_lock(&p->mu);
        p->failed = p->failed ? p->failed : 1;
        p->done = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->writer, NULL);
    }
    for (i = 0; i < N_BLOCKS; i++)
        aipm_buf_free(&p->blocks[i].data);
    free(p->run.rows);
    free(p->run.recs);
    free(p->run.inserted);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
