/* sqlite_int.h - the pieces of the SQLite backend (private).
 *
 * store_sqlite.c: opening a store, the statement cache, transactions and
 *   every operation of the backend's ops table;
 * sqlite_schema.c: the numbered migrations, the schema's only source;
 * sqlite_lock.c: waiting for another writer's lock (SQLite's busy handler)
 *   and the writer note that tells a waiter whom it waits for.
 *
 * One `sqlite_store` is one connection, used by one thread at a time; the
 * wait settings and the activity named in the writer note are per process.
 */
#ifndef AIPM_STORE_SQLITE_INT_H
#define AIPM_STORE_SQLITE_INT_H

#include "store/store_int.h"

#include <sqlite3.h>
#include <stdint.h>

/* The statements prepared once per connection (store_sqlite.c's
 * sql_text). */
enum {
    S_BATCH_NEW,
    S_BATCH_FINISH,
    S_BATCH_GET,
    S_BATCH_STATUS,
    S_EVENT_PUT,
    S_QUAR_PUT,
    S_SCHEMA_PUT,
    S_VOLUME_PUT,
    S_VOLUME_MEAN,
    S_RUN_PUT,
    S_AUDIT_PUT,
    S_AUDIT_LAST,
    S_FRONTIER_GET,
    S_FRONTIER_PUT,
    S_COUNT
};

/* The CSV datasets, each with its own table (store_sqlite.c's csv_names). */
#define N_CSV 4

typedef struct sqlite_store {
    struct aipm_store base;
    sqlite3 *db;
    sqlite3_stmt *stmts[S_COUNT];
    sqlite3_stmt *row_stmts[N_CSV];
    int in_tx;
    int readonly;
    int unstamped;      /* an aipm store of before application_id: stamp it */
    int waited_out;     /* the busy handler gave up */
    int noted;          /* our writer note exists */
    int64_t note_batch; /* the batch the open transaction writes, or 0 */
    int64_t wait_started_ms, wait_told_ms; /* the current wait */
    char path[1024];                       /* for messages */
} sqlite_store;

/* ---- sqlite_schema.c ---- */

/* The migrations in order: migration n is aipm_store__migrations[n - 1],
 * SQL text applied in one transaction (the first also creates the CSV
 * datasets' tables, from their contracts). */
extern const char *const aipm_store__migrations[];
/* How many there are: the schema version of an up-to-date store. */
extern const int aipm_store__n_migrations;

/* ---- sqlite_lock.c ---- */

/* The longest wait for another writer's lock, in seconds (set by
 * aipm_store_set_wait); < 0: as long as it takes. */
double aipm_store__wait_seconds(void);

/* SQLite's busy handler, ctx the sqlite_store: 1 to wait on, 0 to give up
 * (and s->waited_out set). Installed with sqlite3_busy_handler. */
int aipm_store__on_busy(void *ctx, int count);

/* Write s's writer note (when an activity is set and s writes); advisory,
 * a failure changes nothing else. */
void aipm_store__note_write(sqlite_store *s);

/* Remove s's writer note, if it wrote one, and forget its batch. */
void aipm_store__note_remove(sqlite_store *s);

#endif
