/* store.c - the embedded SQLite backend, the reference store.
 *
 * One database file in WAL mode. Schema changes are numbered migrations
 * recorded in schema_migrations and applied in one transaction each at open.
 * Every statement is prepared once per connection and cached in `stmts`, with
 * values bound, never spliced: the only SQL assembled at run time is the
 * dataset tables' DDL and INSERTs, built from the static contracts in
 * datasets.c, never from input.
 *
 * Visibility: rows carry their batch_id; analyses see a row only when its
 * batch's status is 'accepted' (views v_events, v_backlog, ...). Nothing is
 * ever deleted; the audit table refuses UPDATE and DELETE by trigger.
 *
 * This file opens stores and runs the datasets' operations; the records of
 * what happened (lineage runs, the audit log, decisions, link corrections)
 * are in sqlite/records.c, the migrations' SQL in sqlite/schema.c, the
 * wait for another writer's lock and the writer note in sqlite/lock.c, and
 * what they share in sqlite_int.h.
 */
#include "store/sqlite/sqlite_int.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The CSV datasets' names, in the order of row_stmts (N_CSV). */
static const char *const csv_names[N_CSV] = {"backlog", "feedback", "signals",
                                             "graph"};

/* PRAGMA application_id of an aipm store: "aipm" in ASCII. It tells an
 * aipm store from any other SQLite file (a schema_migrations table alone
 * does not: Rails and golang-migrate have one too). */
#define AIPM_APPLICATION_ID 0x6169706d

static const char *const sql_text[S_COUNT] = {
    [S_BATCH_NEW] = "INSERT INTO batches(dataset, source, source_sha256, "
                    "run_id, created_ms, status) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, 'loading')",
    [S_BATCH_FINISH] =
        "UPDATE batches SET status=?2, verdict=?3, content_sha256=?4, "
        "n_read=?5, n_accepted=?6, n_duplicates=?7, n_quarantined=?8, "
        "report=?9, source_sha256=?10, rows_sha256=?11 WHERE id=?1",
    [S_BATCH_GET] = "SELECT id, dataset, status, verdict, source_sha256, "
                    "content_sha256, run_id, created_ms, n_read, n_accepted, "
                    "n_duplicates, n_quarantined, source, report, "
                    "rows_sha256 FROM batches WHERE id=?1",
    [S_BATCH_STATUS] = "UPDATE batches SET status=?2 WHERE id=?1",
    [S_EVENT_PUT] = "INSERT OR IGNORE INTO events(message_id, batch_id, type, "
                    "user_id, anonymous_id, event, group_id, ts, payload) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_QUAR_PUT] = "INSERT INTO quarantine(batch_id, dataset, file, line, "
                   "reason, detail, raw) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_SCHEMA_PUT] = "INSERT INTO event_schema(event, property, "
                     "type, version, batch_id) VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_VOLUME_PUT] = "INSERT INTO daily_volume(dataset, day, batch_id, n) "
                     "VALUES(?1, ?2, ?3, ?4)",
    [S_VOLUME_MEAN] =
        "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT v.day, "
        "sum(v.n) AS n FROM daily_volume v JOIN batches b "
        "ON b.id = v.batch_id WHERE b." SQ_ACCEPTED " AND "
        "v.dataset = ?1 AND v.day >= ?2 AND v.day < ?3 GROUP BY v.day)",
    [S_RUN_PUT] = "INSERT INTO runs(id, job, state, started_ms, ended_ms, "
                  "inputs, outputs, facets) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_AUDIT_PUT] =
        "INSERT INTO audit(seq, entry, leaf, root) VALUES(?1, ?2, ?3, ?4)",
    [S_AUDIT_LAST] = "SELECT seq, root FROM audit ORDER BY seq DESC LIMIT 1",
    [S_FRONTIER_GET] = "SELECT size, nodes FROM audit_frontier WHERE id = 1",
    [S_FRONTIER_PUT] = "INSERT OR REPLACE INTO audit_frontier(id, size, nodes)"
                       " VALUES(1, ?1, ?2)",
};

#define BUSY_LOCKED "store '%s' is locked by another process writing to it; "
#define BUSY_TEXT                                                              \
    BUSY_LOCKED "gave up after waiting %.0f s (--wait); try again when it "    \
                "ends, or wait longer with --wait SECONDS"
/* SQLITE_BUSY with no limit set (SQLite gave up without asking the busy
 * handler, e.g. to break a deadlock): no seconds to name. */
#define BUSY_TEXT_NO_LIMIT BUSY_LOCKED "try again when it ends"

/* The message of a failed SQLite call. A lock held too long, a read-only
 * store, a full disk and a file that is not SQLite name the file and what
 * to do: SQLite's own words ("database is locked", "database or disk is
 * full", "file is not a database") say neither. */
static int store_error(sqlite_store *s, int code, const char *msg,
                       aipm_error *err)
{
    const char *file = sqlite3_db_filename(s->db, "main");
    int full = code == SQLITE_FULL ||
               (code == SQLITE_IOERR && sqlite3_system_errno(s->db) == ENOSPC);

    if (file == NULL || file[0] == '\0')
        file = "the store";
    if (code == SQLITE_BUSY && aipm_store__wait_seconds() < 0)
        return aipm_error_set(err, AIPM_EIO, BUSY_TEXT_NO_LIMIT, s->path);
    if (code == SQLITE_BUSY)
        return aipm_error_set(err, AIPM_EIO, BUSY_TEXT, s->path,
                              aipm_store__wait_seconds());
    if (code == SQLITE_READONLY)
        return aipm_error_set(err, AIPM_EIO,
                              "store '%s' is read-only (%s); this command "
                              "writes: run it with write access",
                              s->path, msg);
    if (full)
        return aipm_error_set(err, AIPM_EIO,
                              "the disk holding %s is full (%s): free some "
                              "space, then run the command again",
                              file, msg);
    if (code == SQLITE_NOTADB)
        return aipm_error_set(err, AIPM_EIO,
                              "store %s: file is not a database (not an "
                              "SQLite file): check -C DIR or --store",
                              file);
    return aipm_error_set(
        err,
        code == SQLITE_IOERR || code == SQLITE_CORRUPT ? AIPM_EIO : AIPM_ERROR,
        "store: %s", msg);
}

static int exec(sqlite_store *s, const char *sql, aipm_error *err)
{
    char *msg = NULL;
    int code;

    s->waited_out = 0;
    if ((code = sqlite3_exec(s->db, sql, NULL, NULL, &msg)) != SQLITE_OK) {
        store_error(s, code, msg ? msg : sqlite3_errmsg(s->db), err);
        if (err)
            err->code = AIPM_EIO;
        sqlite3_free(msg);
        return AIPM_EIO;
    }
    return AIPM_OK;
}

int aipm_sqlite__db_error(sqlite_store *s, aipm_error *err)
{
    return store_error(s, sqlite3_errcode(s->db), sqlite3_errmsg(s->db), err);
}

/* The DDL of a CSV dataset's table and its visibility view, from its
 * contract. Numbers get REAL affinity, everything else TEXT. */
static int dataset_ddl(sqlite_store *s, const aipm_dataset_def *def,
                       aipm_error *err)
{
    aipm_buf sql;
    int i, rc;

    aipm_buf_init(&sql, 1 << 16);
    rc = aipm_buf_printf(&sql,
                         "CREATE TABLE %s(rid INTEGER PRIMARY KEY,"
                         " batch_id INTEGER NOT NULL, key TEXT NOT NULL,"
                         " row_sha TEXT NOT NULL",
                         def->name);
    for (i = 0; rc == 0 && i < def->n_cols; i++)
        rc = aipm_buf_printf(&sql, ", \"%s\" %s", def->cols[i].name,
                             def->cols[i].type == AIPM_COL_NUMBER ? "REAL"
                                                                  : "TEXT");
    if (rc == 0)
        rc = aipm_buf_printf(&sql,
                             ", live INTEGER DEFAULT 1);"
                             "CREATE UNIQUE INDEX %s_key ON %s(key, row_sha)"
                             " WHERE live = 1;"
                             "CREATE VIEW v_%s AS SELECT t.* FROM %s t"
                             " JOIN batches b ON b.id = t.batch_id"
                             " WHERE b." SQ_ACCEPTED ";",
                             def->name, def->name, def->name, def->name);
    if (rc == 0)
        rc = exec(s, aipm_buf_cstr(&sql), err);
    else
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_buf_free(&sql);
    return rc;
}

static int schema_version(sqlite_store *s, int *version, aipm_error *err)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 v = 0;

    *version = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT coalesce(max(version), 0) "
                           "FROM schema_migrations",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (v < 0 || v > INT_MAX)
        return aipm_error_set(err, AIPM_EINVALID,
                              "store '%s' records schema version %lld, which "
                              "no aipm has; check the path or --store",
                              s->path, (long long)v);
    *version = (int)v;
    return AIPM_OK;
}

/* Give a store of before application_id its id, inside the caller's write
 * transaction (never in a read-only open). */
static int stamp(sqlite_store *s, aipm_error *err)
{
    char sql[64];
    int rc;

    if (!s->unstamped)
        return AIPM_OK;
    snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", AIPM_APPLICATION_ID);
    if ((rc = exec(s, sql, err)) == 0)
        s->unstamped = 0;
    return rc;
}

static int migrate(sqlite_store *s, aipm_error *err)
{
    int version = 0, rc, i, k;

    rc = exec(s,
              "CREATE TABLE IF NOT EXISTS schema_migrations("
              " version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
              err);
    if (rc == 0)
        rc = schema_version(s, &version, err);
    if (rc)
        return rc;
    for (i = 0; i < aipm_store__n_migrations; i++) {
        int v = i + 1;

        if (version >= v)
            continue;
        if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != 0)
            return rc;
        rc = stamp(s, err);
        /* Another process may have migrated between our read and our
         * write lock: read again under the lock. */
        if (rc == 0 && (rc = schema_version(s, &version, err)) == 0 &&
            version < v) {
            char sql[128];

            rc = exec(s, aipm_store__migrations[i], err);
            for (k = 0; rc == 0 && v == 1 && k < N_CSV; k++)
                rc = dataset_ddl(s, aipm_dataset_find(csv_names[k]), err);
            snprintf(sql, sizeof(sql),
                     "INSERT INTO schema_migrations VALUES(%d, %lld)", v,
                     (long long)aipm_now_ms());
            if (rc == 0)
                rc = exec(s, sql, err);
        }
        if (rc) {
            exec(s, "ROLLBACK", NULL);
            return rc;
        }
        if ((rc = exec(s, "COMMIT", err)) != 0)
            return rc;
        if (version < v)
            version = v;
    }
    s->base.schema_version = version;
    return AIPM_OK;
}

sqlite3_stmt *aipm_sqlite__stmt(sqlite_store *s, int which, aipm_error *err)
{
    sqlite3_stmt *st = s->stmts[which];

    if (st == NULL) {
        if (sqlite3_prepare_v3(s->db, sql_text[which], -1,
                               SQLITE_PREPARE_PERSISTENT, &st,
                               NULL) != SQLITE_OK) {
            aipm_sqlite__db_error(s, err);
            return NULL;
        }
        s->stmts[which] = st;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return st;
}

void aipm_sqlite__bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Step a statement that returns no rows. */
int aipm_sqlite__step_done(sqlite_store *s, sqlite3_stmt *st, aipm_error *err)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return aipm_sqlite__db_error(s, err);
    return AIPM_OK;
}

static const aipm_store_ops sqlite_ops;

/* ---- opening ---- */

/* Whether the file at fd starts as a SQLite database. 1 yes, 0 no (or
 * empty: *empty set). */
static int sqlite_header(int fd, int *empty)
{
    char head[16];
    ssize_t n = pread(fd, head, sizeof(head), 0);

    *empty = n == 0;
    return n == (ssize_t)sizeof(head) &&
           memcmp(head, "SQLite format 3", 16) == 0;
}

/* An existing file must be an aipm store: a SQLite database whose
 * application_id is AIPM_APPLICATION_ID, or (a store made before aipm set
 * it: application_id 0) one with aipm's own shape, a schema_migrations
 * table with aipm's columns and the audit table; such a store is given
 * its id by the first write transaction (stamp). Nothing is written to
 * anything else. */
static int check_aipm(sqlite_store *s, const char *path, aipm_error *err)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 app_id = 0;
    int n_tables = 0, aipm_shape = 0, rc;

    if (sqlite3_prepare_v2(
            s->db,
            "SELECT (SELECT application_id FROM pragma_application_id), "
            "(SELECT count(*) FROM sqlite_master WHERE type = 'table'), "
            "(SELECT count(*) FROM pragma_table_info('schema_migrations') "
            "WHERE name IN ('version', 'applied_ms')) = 2 AND "
            "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
            "name = 'audit') = 1",
            -1, &st, NULL) != SQLITE_OK) {
        rc = sqlite3_errcode(s->db);
        if (rc == SQLITE_NOTADB)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "store '%s' is not an aipm store (not a "
                                  "SQLite database); check the path, or "
                                  "restore the file from a backup",
                                  path);
        if ((rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN ||
             rc == SQLITE_PERM) &&
            s->readonly)
            return aipm_error_set(
                err, AIPM_EIO,
                "store '%s' cannot be read in this read-only folder: its "
                "-wal file holds changes and SQLite needs a -shm file beside "
                "it; run any aipm command once with write access",
                path);
        if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)
            return aipm_error_set(err, AIPM_EIO,
                                  "store '%s' cannot be written (a read-only "
                                  "file or folder) and this command writes; "
                                  "run it with write access",
                                  path);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            return aipm_error_set(err, AIPM_EBLOCKED,
                                  "store '%s' is locked by another process "
                                  "writing to it; try again when it ends",
                                  path);
        return aipm_error_set(err, AIPM_EIO, "cannot read store '%s': %s", path,
                              sqlite3_errmsg(s->db));
    }
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return aipm_error_set(err, AIPM_EIO, "cannot read store '%s': %s", path,
                              sqlite3_errmsg(s->db));
    }
    app_id = sqlite3_column_int64(st, 0);
    n_tables = sqlite3_column_int(st, 1);
    aipm_shape = sqlite3_column_int(st, 2);
    sqlite3_finalize(st);
    if (app_id == AIPM_APPLICATION_ID)
        return AIPM_OK;
    if (app_id == 0 && aipm_shape) {
        s->unstamped = 1;
        return AIPM_OK;
    }
    if (app_id != 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "store '%s' is not an aipm store (the SQLite "
                              "database of another application: "
                              "application_id 0x%08llx); nothing was "
                              "changed; check the path or --store",
                              path, (unsigned long long)(uint32_t)app_id);
    return aipm_error_set(err, AIPM_EINVALID,
                          "store '%s' is not an aipm store (a SQLite "
                          "database with %d table(s), not aipm's); "
                          "nothing was changed; check the path or --store",
                          path, n_tables);
}

/* The result of a first read on db: a read-only connection to a WAL
 * database must create the -wal and -shm files when they are missing,
 * which fails in a read-only folder (CANTOPEN, READONLY, PERM) or on a full
 * disk (IOERR, FULL). */
static int first_read(sqlite3 *db)
{
    return sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
                        NULL);
}

static int cannot_make_wal_files(int rc)
{
    return rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY ||
           rc == SQLITE_PERM || rc == SQLITE_IOERR || rc == SQLITE_FULL;
}

/* SQLite's unix VFS locks (os.h, "File Locking And Concurrency in SQLite
 * Version 3"): SHARED is a read lock on the 510 bytes from PENDING_BYTE + 2,
 * held by every connection to a WAL database for as long as it is open. */
#define SQLITE_PENDING_BYTE 0x40000000
#define SQLITE_SHARED_FIRST (SQLITE_PENDING_BYTE + 2)
#define SQLITE_SHARED_SIZE 510

/* Remove the -wal and -shm files that a failed read-only open of path made
 * itself (had_wal, had_shm: whether each existed before it), and only
 * while no connection has the database open: a write lock over SQLite's
 * SHARED range, taken without waiting, proves that and keeps a new
 * connection out until the files are gone. A -wal is removed only empty:
 * one with content holds commits. Best effort: nothing is removed when the
 * lock cannot be had. */
static void remove_own_wal_files(const char *path, int had_wal, int had_shm)
{
    char wal[1100], shm[1100];
    struct flock lk;
    struct stat sb;
    int fd;

    if ((had_wal && had_shm) ||
        (size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal) ||
        (size_t)snprintf(shm, sizeof(shm), "%s-shm", path) >= sizeof(shm))
        return;
    if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return;
    memset(&lk, 0, sizeof(lk));
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    lk.l_start = SQLITE_SHARED_FIRST;
    lk.l_len = SQLITE_SHARED_SIZE;
    if (fcntl(fd, F_SETLK, &lk) == 0) {
        if (!had_wal && lstat(wal, &sb) == 0 && S_ISREG(sb.st_mode) &&
            sb.st_size == 0)
            unlink(wal);
        if (!had_shm && lstat(shm, &sb) == 0 && S_ISREG(sb.st_mode))
            unlink(shm);
    }
    close(fd); /* releases the lock */
}

/* Open path as immutable (URI immutable=1: no locks, no -wal, no -shm).
 * Only for a WAL database with no -wal file, whose database file is then
 * complete. 0, or AIPM_EIO. */
static int open_immutable(sqlite_store *s, const char *path)
{
    char uri[3400];
    size_t n = 0;
    const char *p;

    n = (size_t)snprintf(uri, sizeof(uri), "file:");
    for (p = path; *p && n + 4 < sizeof(uri); p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '?' || c == '#' || c == '%' || c < 0x21 || c >= 0x7f)
            n += (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02X", c);
        else
            uri[n++] = (char)c;
    }
    if (*p || n + 16 >= sizeof(uri))
        return AIPM_EIO;
    snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
    if (sqlite3_open_v2(uri, &s->db,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX |
                            SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK)
        return AIPM_EIO;
    return AIPM_OK;
}

/* The read-only open, after SQLite could not make the -wal/-shm files it
 * needs (a read-only folder, a full disk): remove what the attempt made
 * itself, then, when there is no -wal (the last writer checkpointed and
 * removed it, so the database file is complete), open immutable. With a
 * -wal, its commits need a -shm file: an error that says so. */
static int reopen_readonly(sqlite_store *s, const char *path, int had_wal,
                           int had_shm, aipm_error *err)
{
    char wal[1100];
    struct stat sb;

    sqlite3_close(s->db);
    s->db = NULL;
    remove_own_wal_files(path, had_wal, had_shm);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    if (had_wal || lstat(wal, &sb) == 0)
        return aipm_error_set(
            err, AIPM_EIO,
            "store '%s' cannot be read: it has a -wal file, which SQLite reads "
            "only with a -shm file beside it, and it could not make one (a "
            "read-only folder or a full disk); free some space, or run any "
            "aipm command once with write access",
            path);
    if (open_immutable(s, path) != 0)
        return aipm_error_set(err, AIPM_EIO, "cannot open store '%s': %s", path,
                              s->db ? sqlite3_errmsg(s->db) : "out of memory");
    return AIPM_OK;
}

/* The database files this process has open as stores, by device and
 * inode, with how many connections each. POSIX record locks belong to a
 * process and an inode: closing ANY descriptor of the file drops every
 * lock the process holds on it, its SQLite connections' too (SQLite keeps
 * its own descriptors open while it holds locks; a plain open and close
 * of ours would not). With the locks gone, another process's last
 * connection believes it is the last one and removes the -wal and -shm,
 * and what this process writes afterwards is lost to everyone else (a
 * server's second worker opening the store did exactly that). So the
 * header check and the cleanup of a failed read-only open, which open and
 * close the file themselves, run only for a file no connection of this
 * process has open, and the whole open holds open_lock so no two threads
 * interleave. */
typedef struct open_file {
    struct open_file *next;
    dev_t dev;
    ino_t ino;
    int n;
} open_file;

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static open_file *open_files;

/* The entry of (dev, ino), or NULL (open_lock held). */
static open_file *open_file_find(dev_t dev, ino_t ino)
{
    open_file *f;

    for (f = open_files; f; f = f->next)
        if (f->dev == dev && f->ino == ino)
            return f;
    return NULL;
}

/* Count s's connection against its file (open_lock held); 0, or -1 when
 * out of memory (then the file is not counted and s->registered stays 0). */
static int open_file_add(sqlite_store *s, const char *path)
{
    struct stat sb;
    open_file *f;

    if (stat(path, &sb) != 0)
        return 0;
    if ((f = open_file_find(sb.st_dev, sb.st_ino)) == NULL) {
        if ((f = calloc(1, sizeof(*f))) == NULL)
            return -1;
        f->dev = sb.st_dev;
        f->ino = sb.st_ino;
        f->next = open_files;
        open_files = f;
    }
    f->n++;
    s->file_dev = sb.st_dev;
    s->file_ino = sb.st_ino;
    s->registered = 1;
    return 0;
}

static void open_file_remove(sqlite_store *s)
{
    open_file **p, *f;

    if (!s->registered)
        return;
    pthread_mutex_lock(&open_lock);
    for (p = &open_files; (f = *p) != NULL; p = &f->next)
        if (f->dev == s->file_dev && f->ino == s->file_ino) {
            if (--f->n == 0) {
                *p = f->next;
                free(f);
            }
            break;
        }
    pthread_mutex_unlock(&open_lock);
}

static int open_store(aipm_store **out, const char *path, int flags, int in_use,
                      aipm_error *err);

int aipm_store__sqlite_open(aipm_store **out, const char *path, int flags,
                            aipm_error *err)
{
    struct stat sb;
    int rc, in_use;

    pthread_mutex_lock(&open_lock);
    in_use = !(flags & AIPM_STORE_CREATE) && stat(path, &sb) == 0 &&
             open_file_find(sb.st_dev, sb.st_ino) != NULL;
    rc = open_store(out, path, flags, in_use, err);
    if (rc == AIPM_OK && open_file_add((sqlite_store *)*out, path) != 0) {
        aipm_store_close(*out);
        *out = NULL;
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    pthread_mutex_unlock(&open_lock);
    return rc;
}

/* Open the store (open_lock held). in_use: this process has the file open
 * as a store already, so it is one, and it must not be opened and closed
 * here (see open_files). */
static int open_store(aipm_store **out, const char *path, int flags, int in_use,
                      aipm_error *err)
{
    sqlite_store *s = NULL;
    struct stat sb;
    char *abs = NULL;
    int rc, fd = -1, empty = 0, is_db, had_wal = 0, had_shm = 0,
            oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int create = flags & AIPM_STORE_CREATE,
        readonly = (flags & AIPM_STORE_READONLY) && !create;

    *out = NULL;
    if (create) {
        /* Our own new file, 0600 (it holds user ids and emails; SQLite
         * gives its -wal and -shm the same mode), never through a link
         * and never over an existing file. */
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
        if (fd < 0)
            return aipm_error_set(
                err, errno == EEXIST ? AIPM_EEXISTS : AIPM_EIO,
                "cannot create store '%s': %s", path, strerror(errno));
        close(fd);
        fd = -1;
    } else if (in_use) {
        /* Checked when this process opened it first; only its kind now. */
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "store '%s' is not a regular file", path);
    } else {
        if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
            if (errno == ENOENT)
                return aipm_error_set(err, AIPM_ENOTFOUND,
                                      "store '%s' does not exist", path);
            return aipm_error_set(err, AIPM_EIO, "cannot open store '%s': %s",
                                  path, strerror(errno));
        }
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            close(fd);
            return aipm_error_set(err, AIPM_EINVALID,
                                  "store '%s' is not a regular file", path);
        }
        is_db = sqlite_header(fd, &empty);
        close(fd);
        fd = -1;
        if (empty)
            return aipm_error_set(
                err, AIPM_EINVALID,
                "store '%s' is empty (0 bytes), not an aipm store; restore it "
                "from a backup, or move it away and run `aipm init`",
                path);
        if (!is_db)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "store '%s' is not an aipm store (not a "
                                  "SQLite database); check the path, or "
                                  "restore the file from a backup",
                                  path);
    }
    if (!create && readonly) {
        /* Which of -wal and -shm exist before SQLite may make them: only
         * those it made may be removed after a failed open. (When this
         * process has the file open already and they did not exist, its
         * connections are immutable ones, which hold no locks: the
         * removal's own open and close of the file drops nothing.) */
        char side[1100];

        oflags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
        snprintf(side, sizeof(side), "%s-wal", path);
        had_wal = lstat(side, &sb) == 0;
        snprintf(side, sizeof(side), "%s-shm", path);
        had_shm = lstat(side, &sb) == 0;
    }
    /* No global memory statistics: they take a mutex on every allocation.
     * This must precede SQLite's initialisation; later calls are refused
     * harmlessly (SQLITE_MISUSE), so doing it at every open is safe. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    s->base.ops = &sqlite_ops;
    snprintf(s->path, sizeof(s->path), "%s", path);
    /* NOMUTEX: a store handle is used by one thread at a time (the ingest
     * pipeline hands it to its writer thread and back), so the per-call
     * connection mutex is pure cost. The file exists by now (made above
     * when creating), so SQLite never creates it with its own mode. */
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot open store '%s': %s", path,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    if (readonly && cannot_make_wal_files(first_read(s->db)) &&
        (rc = reopen_readonly(s, path, had_wal, had_shm, err)) != 0)
        goto fail;
    sqlite3_busy_handler(s->db, aipm_store__on_busy, s);
    sqlite3_extended_result_codes(s->db, 0);
    s->readonly = readonly;
    if (!create && (rc = check_aipm(s, path, err)) != 0)
        goto fail;
    if (readonly) {
        /* Read-only: no journal mode change, no migrations (both write). */
        rc = exec(s, "PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;", err);
        if (rc == 0)
            rc = schema_version(s, &s->base.schema_version, err);
        if (rc == 0 && s->base.schema_version < aipm_store__n_migrations)
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "store '%s' needs an upgrade (schema %d of "
                                "%d); run any aipm write command on it once "
                                "with write access",
                                path, s->base.schema_version,
                                aipm_store__n_migrations);
        if (rc)
            goto fail;
    } else {
        /* WAL for concurrent readers; NORMAL sync is durable at each
         * commit boundary in WAL mode up to power loss of the last
         * transaction. A 32 MB page cache bounds memory while keeping
         * index pages hot, and large sorts (an index build, a GROUP BY)
         * spill to temporary files rather than grow the process. */
        rc = exec(s,
                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                  "PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;",
                  err);
        if (create)
            s->unstamped = 1; /* stamped by the first migration */
        if (rc)
            goto fail;
        if ((rc = migrate(s, err)) != 0)
            goto fail;
    }
    abs = realpath(path, NULL);
    snprintf(s->base.ns, sizeof(s->base.ns), "sqlite:%s", abs ? abs : path);
    free(abs);
    *out = &s->base;
    return AIPM_OK;
fail:
    sqlite3_close(s->db);
    free(s);
    if (create)
        unlink(path); /* ours, made above: leave nothing half made */
    return rc;
}

static void sq_close(aipm_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    int i;

    aipm_store__note_remove(s);
    if (s->in_tx)
        exec(s, "ROLLBACK", NULL);
    for (i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    for (i = 0; i < N_CSV; i++)
        sqlite3_finalize(s->row_stmts[i]);
    sqlite3_close(s->db);
    open_file_remove(s);
    free(s);
}

static int sq_in_transaction(aipm_store *base)
{
    return ((sqlite_store *)base)->in_tx;
}

static int sq_begin(aipm_store *base, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    int rc = exec(s, "BEGIN IMMEDIATE", err);

    if (rc == 0) {
        s->in_tx = 1;
        aipm_store__note_write(s);
        if ((rc = stamp(s, err)) != 0) {
            aipm_store__note_remove(s);
            exec(s, "ROLLBACK", NULL);
            s->in_tx = 0;
        }
    }
    return rc;
}

static int sq_commit(aipm_store *base, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    int rc;

    /* The note goes first, while the lock is still ours: after COMMIT the
     * next writer may already have written its own. */
    aipm_store__note_remove(s);
    if ((rc = exec(s, "COMMIT", err)) == 0)
        s->in_tx = 0;
    return rc;
}

static void sq_rollback(aipm_store *base)
{
    sqlite_store *s = (sqlite_store *)base;

    aipm_store__note_remove(s);
    if (s->in_tx)
        exec(s, "ROLLBACK", NULL);
    s->in_tx = 0;
}

static int sq_batch_new(aipm_store *base, int64_t *out_id, const char *dataset,
                        const char *source, const char *source_sha256,
                        const char *run_id, int64_t created_ms, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_BATCH_NEW, err);
    int rc;

    if (st == NULL)
        return AIPM_ERROR;
    aipm_sqlite__bind_text(st, 1, dataset);
    aipm_sqlite__bind_text(st, 2, source);
    aipm_sqlite__bind_text(st, 3, source_sha256);
    aipm_sqlite__bind_text(st, 4, run_id);
    sqlite3_bind_int64(st, 5, created_ms);
    if ((rc = aipm_sqlite__step_done(s, st, err)) != 0)
        return rc;
    *out_id = sqlite3_last_insert_rowid(s->db);
    s->first_batch = 0;
    s->ev_batch = 0;
    if (s->noted) {
        s->note_batch = *out_id; /* a waiter names the batch it waits for */
        aipm_store__note_write(s);
    }
    return AIPM_OK;
}

static int sq_batch_finish(aipm_store *base, const aipm_batch_info *info,
                           aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_BATCH_FINISH, err);

    if (st == NULL)
        return AIPM_ERROR;
    sqlite3_bind_int64(st, 1, info->id);
    aipm_sqlite__bind_text(st, 2, info->status);
    aipm_sqlite__bind_text(st, 3, info->verdict);
    aipm_sqlite__bind_text(st, 4, info->content_sha256);
    sqlite3_bind_int64(st, 5, info->n_read);
    sqlite3_bind_int64(st, 6, info->n_accepted);
    sqlite3_bind_int64(st, 7, info->n_duplicates);
    sqlite3_bind_int64(st, 8, info->n_quarantined);
    aipm_sqlite__bind_text(st, 9, info->report);
    aipm_sqlite__bind_text(st, 10, info->source_sha256);
    aipm_sqlite__bind_text(st, 11,
                           info->rows_sha256[0] ? info->rows_sha256 : NULL);
    return aipm_sqlite__step_done(s, st, err);
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);

    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);

    return v ? strdup((const char *)v) : NULL;
}

/* Fill info from a row of S_BATCH_GET's column layout; strings borrowed. */
static void batch_row(aipm_batch_info *info, sqlite3_stmt *st)
{
    info->id = sqlite3_column_int64(st, 0);
    copy_col(info->dataset, sizeof(info->dataset), st, 1);
    copy_col(info->status, sizeof(info->status), st, 2);
    copy_col(info->verdict, sizeof(info->verdict), st, 3);
    copy_col(info->source_sha256, sizeof(info->source_sha256), st, 4);
    copy_col(info->content_sha256, sizeof(info->content_sha256), st, 5);
    copy_col(info->run_id, sizeof(info->run_id), st, 6);
    info->created_ms = sqlite3_column_int64(st, 7);
    info->n_read = sqlite3_column_int64(st, 8);
    info->n_accepted = sqlite3_column_int64(st, 9);
    info->n_duplicates = sqlite3_column_int64(st, 10);
    info->n_quarantined = sqlite3_column_int64(st, 11);
    info->source = (const char *)sqlite3_column_text(st, 12);
    info->report = (const char *)sqlite3_column_text(st, 13);
    copy_col(info->rows_sha256, sizeof(info->rows_sha256), st, 14);
}

static int sq_batch_get(aipm_store *base, aipm_batch_info *out, int64_t id,
                        aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_BATCH_GET, err);
    int rc;

    memset(out, 0, sizeof(*out));
    if (st == NULL)
        return AIPM_ERROR;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return aipm_error_set(err, AIPM_ENOTFOUND, "no batch %lld",
                              (long long)id);
    }
    if (rc != SQLITE_ROW) {
        rc = aipm_sqlite__db_error(s, err);
        sqlite3_reset(st);
        return rc;
    }
    batch_row(out, st);
    out->source = dup_col(st, 12);
    out->report = dup_col(st, 13);
    sqlite3_reset(st);
    return AIPM_OK;
}

static int csv_index(const char *dataset);

/* A batch's rows hold their keys (dedupe) while the batch is live:
 * loading, staged or accepted. A rejected or reverted batch lets its keys
 * go (live = NULL, the rows stay), so a corrected re-send is stored, not
 * counted as duplicates. Accepting such a batch again takes the keys back,
 * which fails if a newer batch holds them now. */
static int set_live(sqlite_store *s, int64_t id, const char *status,
                    aipm_error *err)
{
    sqlite3_stmt *st = NULL;
    char dataset[16] = "", sql[160];
    int live =
        strcmp(status, "rejected") != 0 && strcmp(status, "reverted") != 0;
    int rc;

    if (sqlite3_prepare_v2(s->db, "SELECT dataset FROM batches WHERE id=?1", -1,
                           &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_col(dataset, sizeof(dataset), st, 0);
    sqlite3_finalize(st);
    if (strcmp(dataset, "events") != 0 && csv_index(dataset) < 0)
        return AIPM_OK; /* no rows of ours */
    /* dataset is one of our fixed table names (checked above). */
    snprintf(sql, sizeof(sql),
             "UPDATE %s SET live = %s WHERE batch_id = ?1 AND live IS %s",
             dataset, live ? "1" : "NULL", live ? "NULL" : "1");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return aipm_error_set(err, AIPM_EINVALID,
                              "batch %lld cannot be accepted again: a newer "
                              "batch holds some of its keys (the rows were "
                              "re-sent after it was hidden); revert that "
                              "batch first",
                              (long long)id);
    if (rc != SQLITE_DONE)
        return aipm_sqlite__db_error(s, err);
    return AIPM_OK;
}

static int sq_batch_set_status(aipm_store *base, int64_t id, const char *status,
                               aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_BATCH_STATUS, err);
    int rc;

    if (st == NULL)
        return AIPM_ERROR;
    sqlite3_bind_int64(st, 1, id);
    aipm_sqlite__bind_text(st, 2, status);
    if ((rc = aipm_sqlite__step_done(s, st, err)) != 0)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no batch %lld",
                              (long long)id);
    return set_live(s, id, status, err);
}

int aipm_sqlite__each_row(sqlite_store *s, sqlite3_stmt *st,
                          aipm_sqlite__row_fn fn, void *ctx, aipm_error *err)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(st, ctx)) != 0) {
            sqlite3_finalize(st);
            return rc;
        }
    rc = rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

static int batch_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_batch_info info;

    memset(&info, 0, sizeof(info));
    batch_row(&info, st);
    return ((aipm_batch_cb)r->cb)(r->ctx, &info);
}

static int sq_batch_list(aipm_store *base, const char *dataset, int latest_only,
                         aipm_batch_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    const char *sql =
        latest_only
            ? "SELECT id, dataset, status, verdict, source_sha256, "
              "content_sha256, run_id, created_ms, n_read, n_accepted, "
              "n_duplicates, n_quarantined, source, report, rows_sha256 "
              "FROM batches WHERE id IN (SELECT max(id) FROM batches WHERE "
              "status <> "
              "'loading' GROUP BY dataset) AND (?1 IS NULL OR dataset = ?1) "
              "ORDER BY dataset"
            : "SELECT id, dataset, status, verdict, source_sha256, "
              "content_sha256, run_id, created_ms, n_read, n_accepted, "
              "n_duplicates, n_quarantined, source, report, rows_sha256 "
              "FROM batches WHERE status <> 'loading' AND (?1 IS NULL OR "
              "dataset = ?1) "
              "ORDER BY id DESC";

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, dataset);
    return aipm_sqlite__each_row(
        s, st, batch_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

/* Remember the row id of the first row a batch stores (sq_rows_digest). */
static void note_first_row(sqlite_store *s, int64_t batch_id, int inserted)
{
    if (inserted && s->first_batch != batch_id) {
        s->first_batch = batch_id;
        s->first_rowid = sqlite3_last_insert_rowid(s->db);
    }
}

static int sq_event_put(aipm_store *base, int64_t batch_id,
                        const aipm_event_row *row, int *inserted,
                        aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = s->stmts[S_EVENT_PUT];
    int rc;

    /* The hot path: no clear_bindings, every parameter is rebound. */
    if (st == NULL && (st = aipm_sqlite__stmt(s, S_EVENT_PUT, err)) == NULL)
        return AIPM_ERROR;
    aipm_sqlite__bind_text(st, 1, row->message_id);
    sqlite3_bind_int64(st, 2, batch_id);
    aipm_sqlite__bind_text(st, 3, row->type);
    aipm_sqlite__bind_text(st, 4, row->user_id);
    aipm_sqlite__bind_text(st, 5, row->anonymous_id);
    aipm_sqlite__bind_text(st, 6, row->event);
    aipm_sqlite__bind_text(st, 7, row->group_id);
    sqlite3_bind_int64(st, 8, row->ts_ms);
    if (row->payload)
        sqlite3_bind_text(st, 9, row->payload, (int)row->payload_len,
                          SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 9);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return aipm_sqlite__db_error(s, err);
    *inserted = sqlite3_changes(s->db) > 0;
    note_first_row(s, batch_id, *inserted);
    if (*inserted)
        aipm_store__event_sum_add(&s->ev_batch, &s->ev_rows, &s->ev_hash,
                                  batch_id, row);
    return AIPM_OK;
}

static int csv_index(const char *dataset)
{
    int i;

    for (i = 0; i < N_CSV; i++)
        if (strcmp(csv_names[i], dataset) == 0)
            return i;
    return -1;
}

static int sq_row_put(aipm_store *base, const char *dataset, int64_t batch_id,
                      const char *key, const char *row_sha,
                      const char *const *values, int *inserted, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    const aipm_dataset_def *def = aipm_dataset_find(dataset);
    int idx = csv_index(dataset), i, rc;
    sqlite3_stmt *st;

    if (def == NULL || idx < 0)
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    st = s->row_stmts[idx];
    if (st == NULL) {
        aipm_buf sql;

        aipm_buf_init(&sql, 1 << 16);
        rc = aipm_buf_printf(&sql,
                             "INSERT OR IGNORE INTO %s(batch_id, key, "
                             "row_sha",
                             def->name);
        for (i = 0; rc == 0 && i < def->n_cols; i++)
            rc = aipm_buf_printf(&sql, ", \"%s\"", def->cols[i].name);
        if (rc == 0)
            rc = aipm_buf_puts(&sql, ") VALUES(?, ?, ?");
        for (i = 0; rc == 0 && i < def->n_cols; i++)
            rc = aipm_buf_puts(&sql, ", ?");
        if (rc == 0)
            rc = aipm_buf_puts(&sql, ")");
        if (rc == 0 && sqlite3_prepare_v3(s->db, aipm_buf_cstr(&sql), -1,
                                          SQLITE_PREPARE_PERSISTENT, &st,
                                          NULL) != SQLITE_OK)
            rc = aipm_sqlite__db_error(s, err);
        aipm_buf_free(&sql);
        if (rc)
            return rc == AIPM_ENOMEM ? aipm_error_set(err, rc, "out of memory")
                                     : rc;
        s->row_stmts[idx] = st;
    }
    sqlite3_bind_int64(st, 1, batch_id);
    aipm_sqlite__bind_text(st, 2, key);
    aipm_sqlite__bind_text(st, 3, row_sha);
    for (i = 0; i < def->n_cols; i++)
        if (values[i] && def->cols[i].type == AIPM_COL_NUMBER)
            /* ingest checked it is a finite decimal number */
            sqlite3_bind_double(st, 4 + i, strtod(values[i], NULL));
        else
            aipm_sqlite__bind_text(st, 4 + i, values[i]);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return aipm_sqlite__db_error(s, err);
    *inserted = sqlite3_changes(s->db) > 0;
    note_first_row(s, batch_id, *inserted);
    return AIPM_OK;
}

int aipm_sqlite__step_count(sqlite_store *s, sqlite3_stmt *st, int64_t *out,
                            aipm_error *err)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = AIPM_OK;
    } else {
        rc = aipm_sqlite__db_error(s, err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_count_visible(aipm_store *base, const char *dataset, int64_t *out,
                            aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    char sql[128];

    if (strcmp(dataset, "events") != 0 && csv_index(dataset) < 0)
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    /* dataset is one of our fixed names (checked above), never input. */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM v_%s", dataset);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__step_count(s, st, out, err);
}

static int sq_quarantine_put(aipm_store *base, const aipm_quarantine_row *row,
                             aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_QUAR_PUT, err);

    if (st == NULL)
        return AIPM_ERROR;
    sqlite3_bind_int64(st, 1, row->batch_id);
    aipm_sqlite__bind_text(st, 2, row->dataset);
    aipm_sqlite__bind_text(st, 3, row->file);
    sqlite3_bind_int64(st, 4, row->line);
    aipm_sqlite__bind_text(st, 5, row->reason);
    aipm_sqlite__bind_text(st, 6, row->detail);
    sqlite3_bind_blob(st, 7, row->raw ? row->raw : "", (int)row->raw_len,
                      SQLITE_STATIC);
    return aipm_sqlite__step_done(s, st, err);
}

static int quarantine_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_quarantine_row row;

    row.batch_id = sqlite3_column_int64(st, 0);
    row.dataset = (const char *)sqlite3_column_text(st, 1);
    row.file = (const char *)sqlite3_column_text(st, 2);
    row.line = sqlite3_column_int64(st, 3);
    row.reason = (const char *)sqlite3_column_text(st, 4);
    row.detail = (const char *)sqlite3_column_text(st, 5);
    row.raw = sqlite3_column_blob(st, 6);
    row.raw_len = (size_t)sqlite3_column_bytes(st, 6);
    return ((aipm_quarantine_cb)r->cb)(r->ctx, &row);
}

static int sq_quarantine_list(aipm_store *base, const char *reason,
                              int64_t batch_id, int64_t limit,
                              aipm_quarantine_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(
            s->db,
            "SELECT batch_id, dataset, file, line, reason, detail, raw "
            "FROM quarantine WHERE (?1 IS NULL OR reason = ?1) AND "
            "(?2 = 0 OR batch_id = ?2) ORDER BY id DESC LIMIT ?3",
            -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, reason);
    sqlite3_bind_int64(st, 2, batch_id);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
    return aipm_sqlite__each_row(s, st, quarantine_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}

static int schema_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;

    return ((aipm_schema_cb)r->cb)(
        r->ctx, (const char *)sqlite3_column_text(st, 0),
        (const char *)sqlite3_column_text(st, 1),
        (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3));
}

static int sq_schema_load(aipm_store *base, aipm_schema_cb cb, void *ctx,
                          aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    /* Visible schema only: versions learned from accepted batches. */
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT event, property, type, version FROM ("
            " SELECT es.event, es.property, es.type, es.version,"
            "  row_number() OVER (PARTITION BY es.event, es.property"
            "   ORDER BY es.version DESC, es.batch_id DESC) AS rn"
            " FROM event_schema es JOIN batches b ON b.id = es.batch_id"
            " WHERE b." SQ_ACCEPTED ") WHERE rn = 1",
            -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(s, st, schema_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}

static int sq_schema_put(aipm_store *base, const char *event,
                         const char *property, const char *type, int version,
                         int64_t batch_id, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_SCHEMA_PUT, err);

    if (st == NULL)
        return AIPM_ERROR;
    aipm_sqlite__bind_text(st, 1, event);
    aipm_sqlite__bind_text(st, 2, property);
    aipm_sqlite__bind_text(st, 3, type);
    sqlite3_bind_int(st, 4, version);
    sqlite3_bind_int64(st, 5, batch_id);
    return aipm_sqlite__step_done(s, st, err);
}

static int sq_volume_put(aipm_store *base, const char *dataset, int64_t day,
                         int64_t batch_id, int64_t n, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_VOLUME_PUT, err);

    if (st == NULL)
        return AIPM_ERROR;
    aipm_sqlite__bind_text(st, 1, dataset);
    sqlite3_bind_int64(st, 2, day);
    sqlite3_bind_int64(st, 3, batch_id);
    sqlite3_bind_int64(st, 4, n);
    return aipm_sqlite__step_done(s, st, err);
}

static int sq_volume_mean(aipm_store *base, const char *dataset,
                          int64_t from_day, int64_t to_day, double *mean,
                          int64_t *days, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_VOLUME_MEAN, err);
    int rc;

    if (st == NULL)
        return AIPM_ERROR;
    aipm_sqlite__bind_text(st, 1, dataset);
    sqlite3_bind_int64(st, 2, from_day);
    sqlite3_bind_int64(st, 3, to_day);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = aipm_sqlite__db_error(s, err);
        sqlite3_reset(st);
        return rc;
    }
    *days = sqlite3_column_int64(st, 0);
    *mean = *days ? (double)sqlite3_column_int64(st, 1) / (double)*days : 0;
    sqlite3_reset(st);
    return AIPM_OK;
}

static int sq_analysis_index(aipm_store *base, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;

    if (s->readonly)
        return AIPM_OK; /* an index is only speed: read without it */
    return exec(s,
                "CREATE INDEX IF NOT EXISTS events_user_event ON "
                "events(user_id, event, ts, batch_id)",
                err);
}

/* A capped count: the scan stops at the cap-th row (LIMIT -1: no cap). No
 * index starts with the event name, so an event that never occurs costs
 * one scan of the events; one that occurs stops at its first rows. */
static int sq_event_count(aipm_store *base, const char *event, int64_t cap,
                          int64_t *out, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM (SELECT 1 FROM events"
                           " WHERE event = ?1 AND batch_id IN"
                           " (SELECT id FROM batches WHERE " SQ_ACCEPTED
                           ") LIMIT ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_text(st, 1, event, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, cap > 0 ? cap : -1);
    return aipm_sqlite__step_count(s, st, out, err);
}

static const aipm_store_ops sqlite_ops = {
    .version = AIPM_STORE_OPS_VERSION,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .batch_new = sq_batch_new,
    .batch_finish = sq_batch_finish,
    .batch_get = sq_batch_get,
    .batch_set_status = sq_batch_set_status,
    .batch_list = sq_batch_list,
    .event_put = sq_event_put,
    .row_put = sq_row_put,
    .count_visible = sq_count_visible,
    .quarantine_put = sq_quarantine_put,
    .quarantine_list = sq_quarantine_list,
    .schema_load = sq_schema_load,
    .schema_put = sq_schema_put,
    .volume_put = sq_volume_put,
    .volume_mean = sq_volume_mean,
    .run_put = sq_run_put,
    .run_list = sq_run_list,
    .audit_put = sq_audit_put,
    .audit_list = sq_audit_list,
    .audit_last = sq_audit_last,
    .audit_frontier_get = sq_audit_frontier_get,
    .audit_frontier_put = sq_audit_frontier_put,
    .decision_put = sq_decision_put,
    .decision_list = sq_decision_list,
    .decision_input_put = sq_decision_input_put,
    .decisions_reading = sq_decisions_reading,
    .decision_set_status = sq_decision_set_status,
    .user_put = sq_user_put,
    .user_list = sq_user_list,
    .approval_put = sq_approval_put,
    .approval_list = sq_approval_list,
    .analysis_index = sq_analysis_index,
    .link_put = sq_link_put,
    .event_count = sq_event_count,
    .in_transaction = sq_in_transaction,
    .backlog_texts = sq_backlog_texts,
    .feedback_texts = sq_feedback_texts,
    .feedback_count = sq_feedback_count,
    .link_list = sq_link_list,
    .row_visible = sq_row_visible,
    .policy_put = sq_policy_put,
    .setting_get = sq_setting_get,
    .setting_put = sq_setting_put,
    .policy_list = sq_policy_list,
    .model_put = sq_model_put,
    .model_list = sq_model_list,
    .alias_move = sq_alias_move,
    .alias_moves = sq_alias_moves,
    .alias_get = sq_alias_get,
    .monitor_put = sq_monitor_put,
    .monitor_list = sq_monitor_list,
    .token_put = sq_token_put,
    .token_find = sq_token_find,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .rows_digest = sq_rows_digest,
    .exposure_moments = sq_exposure_moments,
    .exposure_quantile = sq_exposure_quantile,
    .population_moments = sq_population_moments,
    .kpi_activity = sq_kpi_activity,
    .kpi_feature_users = sq_kpi_feature_users,
    .kpi_conversion = sq_kpi_conversion,
    .kpi_retention = sq_kpi_retention,
    .kpi_events = sq_kpi_events,
    .kpi_active_accounts = sq_kpi_active_accounts,
    /* push-down reads for prioritize (signals) */
    .backlog_items = sq_backlog_items,
    .daily_active_users = sq_daily_active_users,
    .event_daily_users = sq_event_daily_users,
    .item_daily_users = sq_item_daily_users,
    .market_signals = sq_market_signals,
    .account_arr_plan = sq_account_arr_plan,
    /* push-down reads for the graph and the adoption forecasts */
    .batch_states = sq_batch_states,
    .first_uses = sq_first_uses,
    .first_memberships = sq_first_memberships,
    .graph_rows = sq_graph_rows,
    .event_day_range = sq_event_day_range,
    .user_event_times = sq_user_event_times,
    .user_traits = sq_user_traits,
    .account_traits = sq_account_traits,
};
