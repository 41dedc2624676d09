/* test_store.c - unit tests of opening the SQLite store: what counts as an
 * aipm store, and read-only opens that leave no files behind; and of the
 * reads of records it keeps (decisions, the model registry) against the
 * rows put.
 *
 * Each test works in a fresh temporary directory. Foreign databases are
 * made with the sqlite3 API directly, as another application would. The
 * expected application_id is the ASCII of "aipm": 0x61 0x69 0x70 0x6d
 * ('a' 'i' 'p' 'm', the ASCII table), 0x6169706d = 1634300013 (python3:
 * int.from_bytes(b"aipm", "big")).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "aipm/store.h"
#include "testutil.h"

#define AIPM_ID 1634300013 /* int.from_bytes(b"aipm", "big"), python3 */

typedef struct tdir {
    char dir[256];
    char db[300];
} tdir;

static int dir_setup(void **state)
{
    tdir *t = calloc(1, sizeof(*t));

    if (t == NULL || tu_mkdtemp(t->dir, sizeof(t->dir)) == NULL) {
        free(t);
        return -1;
    }
    snprintf(t->db, sizeof(t->db), "%s/aipm.db", t->dir);
    *state = t;
    return 0;
}

static int dir_teardown(void **state)
{
    tdir *t = *state;

    tu_rmtree(t->dir);
    free(t);
    return 0;
}

/* Run sql on the database at path (made if missing), outside aipm. */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The database's application_id, read outside aipm. */
static int64_t raw_app_id(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t id = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL),
        SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return id;
}

/* The number of tables, read outside aipm. */
static int raw_tables(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(
            db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", -1,
            &st, NULL),
        SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A new store carries aipm's application_id. */
static void test_new_store_has_application_id(void **state)
{
    tdir *t = *state;
    aipm_error err = {0, ""};
    aipm_store *st = NULL;

    assert_int_equal(aipm_store_open(&st, t->db, AIPM_STORE_CREATE, &err),
                     AIPM_OK);
    aipm_store_close(st);
    assert_int_equal(raw_app_id(t->db), AIPM_ID);
}

/* regression: a golang-migrate database (a schema_migrations table of its
 * own) was taken for an aipm store and had aipm's tables added. */
static void test_golang_migrate_refused(void **state)
{
    tdir *t = *state;
    aipm_error err = {0, ""};
    aipm_store *st = NULL;

    raw_exec(t->db, "CREATE TABLE schema_migrations(version uint64, dirty "
                    "bool); INSERT INTO schema_migrations "
                    "VALUES(20240101120000, 0); CREATE TABLE users(id);");
    assert_int_equal(aipm_store_open(&st, t->db, 0, &err), AIPM_EINVALID);
    assert_null(st);
    assert_non_null(strstr(err.msg, "is not an aipm store"));
    assert_int_equal(raw_tables(t->db), 2); /* untouched */
    assert_int_equal(raw_app_id(t->db), 0);
}

/* Another application's id is refused even with aipm's table names. */
static void test_other_application_id_refused(void **state)
{
    tdir *t = *state;
    aipm_error err = {0, ""};
    aipm_store *st = NULL;

    raw_exec(t->db, "PRAGMA application_id=42; CREATE TABLE "
                    "schema_migrations(version INTEGER PRIMARY KEY, "
                    "applied_ms INTEGER NOT NULL); CREATE TABLE audit(seq);");
    assert_int_equal(aipm_store_open(&st, t->db, 0, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "0x0000002a")); /* 42 in hex */
    assert_int_equal(raw_tables(t->db), 2);
}

/* A store made before aipm set application_id (id 0, aipm's shape) opens;
 * a read-only open leaves it as is, the first write transaction stamps
 * it. */
static void test_store_without_id_stamped_by_first_write(void **state)
{
    tdir *t = *state;
    aipm_error err = {0, ""};
    aipm_store *st = NULL;

    assert_int_equal(aipm_store_open(&st, t->db, AIPM_STORE_CREATE, &err),
                     AIPM_OK);
    aipm_store_close(st);
    st = NULL;
    raw_exec(t->db, "PRAGMA application_id=0");
    assert_int_equal(aipm_store_open(&st, t->db, AIPM_STORE_READONLY, &err),
                     AIPM_OK);
    aipm_store_close(st);
    st = NULL;
    assert_int_equal(raw_app_id(t->db), 0);
    assert_int_equal(aipm_store_open(&st, t->db, 0, &err), AIPM_OK);
    assert_int_equal(aipm_store_begin(st, &err), AIPM_OK);
    assert_int_equal(aipm_store_commit(st, &err), AIPM_OK);
    aipm_store_close(st);
    assert_int_equal(raw_app_id(t->db), AIPM_ID);
}

/* A schema version past an int (a timestamp-style version) is an error,
 * not a wrapped number. */
static void test_huge_schema_version_refused(void **state)
{
    tdir *t = *state;
    aipm_error err = {0, ""};
    aipm_store *st = NULL;

    assert_int_equal(aipm_store_open(&st, t->db, AIPM_STORE_CREATE, &err),
                     AIPM_OK);
    aipm_store_close(st);
    st = NULL;
    /* 2^32 + 1 = 4294967297 would read as 1 through sqlite3_column_int. */
    raw_exec(t->db, "INSERT INTO schema_migrations VALUES(4294967297, 0)");
    assert_int_equal(aipm_store_open(&st, t->db, AIPM_STORE_READONLY, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "4294967297"));
}

typedef struct seen {
    int n;
    char ids[4][37];
    char output[64];
} seen;

static int collect(void *ctx, const aipm_decision_row *r)
{
    seen *s = ctx;

    if (s->n < 4)
        snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", r->id);
    s->n++;
    assert_string_equal(r->status, "proposed");
    snprintf(s->output, sizeof(s->output), "%s",
             r->output ? r->output : "(null)");
    return 0;
}

/* Decision records come back oldest first, filtered by id, kind and
 * status, with the output only when asked for. */
static void test_decision_list(void **state)
{
    tdir *t = *state;
    aipm_error err = {0, ""};
    aipm_store *st = NULL;
    static const char *const ids[] = {"id-a", "id-b", "id-c"};
    static const char *const kinds[] = {"experiment", "prioritize",
                                        "experiment"};
    static const int64_t times[] = {30, 10, 20};
    aipm_decision_filter f = {NULL, NULL, NULL, 0};
    seen s;
    int i;

    assert_int_equal(aipm_store_open(&st, t->db, AIPM_STORE_CREATE, &err),
                     AIPM_OK);
    for (i = 0; i < 3; i++) {
        aipm_decision_row d = {
            ids[i],      times[i], kinds[i], "subj", "ship", "{}", NULL, "sha",
            "{\"k\":1}", NULL,     "test/1", "why",  0.5,    "v1", NULL};

        assert_int_equal(aipm_store_decision_put(st, &d, &err), AIPM_OK);
    }
    memset(&s, 0, sizeof(s));
    assert_int_equal(aipm_store_decision_list(st, &f, collect, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 3); /* by time: b (10), c (20), a (30) */
    assert_string_equal(s.ids[0], "id-b");
    assert_string_equal(s.ids[1], "id-c");
    assert_string_equal(s.ids[2], "id-a");
    assert_string_equal(s.output, "(null)"); /* not asked for */
    memset(&s, 0, sizeof(s));
    f.kind = "experiment";
    assert_int_equal(aipm_store_decision_list(st, &f, collect, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ids[0], "id-c");
    memset(&s, 0, sizeof(s));
    f.kind = NULL;
    f.id = "id-a";
    f.with_output = 1;
    assert_int_equal(aipm_store_decision_list(st, &f, collect, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.output, "{\"k\":1}");
    memset(&s, 0, sizeof(s));
    f.id = NULL;
    f.status = "approved";
    assert_int_equal(aipm_store_decision_list(st, &f, collect, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 0);
    aipm_store_close(st);
}

/* The rows a model registry read hands over, one line each, fields
 * separated by '|'. */
typedef struct lines {
    char buf[1024];
    size_t len;
} lines;

static void line_add(lines *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void line_add(lines *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(l->buf) - l->len);
    l->len += (size_t)n;
}

static int model_line(void *ctx, const aipm_model_row *m)
{
    line_add(ctx, "%s|%lld|%lld|%lld|%s|%s|%s|%s\n", m->name,
             (long long)m->version, (long long)m->seq, (long long)m->time_ms,
             m->actor, m->artifact_sha256, m->artifact, m->card);
    return 0;
}

static int move_line(void *ctx, const aipm_alias_move_row *mv)
{
    line_add(ctx, "%lld|%s|%s|%lld|%lld|%lld|%s|%s\n", (long long)mv->seq,
             mv->name, mv->alias, (long long)mv->from_version,
             (long long)mv->to_version, (long long)mv->time_ms, mv->actor,
             mv->reason);
    return 0;
}

/* Model versions come back by name (byte order: 'W' 0x57 < 'v' 0x76),
 * then version, filtered by name and version; an alias follows its moves
 * (1, 2, removed) and the log lists them by seq. The expected lines are
 * the rows put, written out by hand. */
static void test_model_registry(void **state)
{
    static const aipm_model_row models[] = {
        {"value", 2, 11, 2000, "bob", "sha-v2", "{\"w\":2}", "{\"c\":2}"},
        {"value", 1, 10, 1000, "ann", "sha-v1", "{\"w\":1}", "{\"c\":1}"},
        {"Winrate", 1, 12, 3000, "ann", "sha-w1", "{}", "{}"},
    };
    static const aipm_alias_move_row moves[] = {
        {20, "value", "production", 0, 1, 4000, "ann", "first"},
        {21, "value", "production", 1, 2, 5000, "bob", "better"},
        {22, "value", "production", 2, 0, 6000, "ann", ""},
        {5, "Winrate", "candidate", 0, 1, 7000, "bob", "early seq"},
    };
    static const int64_t after[] = {1, 2, 0, 1}; /* alias_get, each move */
    tdir *t = *state;
    aipm_error err = {0, ""};
    aipm_store *st = NULL;
    lines l;
    int64_t v = -1;
    size_t i;

    assert_int_equal(aipm_store_open(&st, t->db, AIPM_STORE_CREATE, &err),
                     AIPM_OK);
    assert_int_equal(aipm_store_alias_get(st, "value", "production", &v, &err),
                     AIPM_OK);
    assert_int_equal(v, 0); /* never set */
    for (i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        assert_int_equal(aipm_store_model_put(st, &models[i], &err), AIPM_OK);

    memset(&l, 0, sizeof(l));
    assert_int_equal(aipm_store_model_list(st, NULL, 0, model_line, &l, &err),
                     AIPM_OK);
    assert_string_equal(l.buf,
                        "Winrate|1|12|3000|ann|sha-w1|{}|{}\n"
                        "value|1|10|1000|ann|sha-v1|{\"w\":1}|{\"c\":1}\n"
                        "value|2|11|2000|bob|sha-v2|{\"w\":2}|{\"c\":2}\n");
    memset(&l, 0, sizeof(l));
    assert_int_equal(
        aipm_store_model_list(st, "value", 0, model_line, &l, &err), AIPM_OK);
    assert_string_equal(l.buf,
                        "value|1|10|1000|ann|sha-v1|{\"w\":1}|{\"c\":1}\n"
                        "value|2|11|2000|bob|sha-v2|{\"w\":2}|{\"c\":2}\n");
    memset(&l, 0, sizeof(l));
    assert_int_equal(aipm_store_model_list(st, NULL, 2, model_line, &l, &err),
                     AIPM_OK);
    assert_string_equal(l.buf,
                        "value|2|11|2000|bob|sha-v2|{\"w\":2}|{\"c\":2}\n");
    memset(&l, 0, sizeof(l));
    assert_int_equal(
        aipm_store_model_list(st, "value", 1, model_line, &l, &err), AIPM_OK);
    assert_int_equal(aipm_store_model_list(st, "nope", 0, model_line, &l, &err),
                     AIPM_OK);
    assert_string_equal(l.buf,
                        "value|1|10|1000|ann|sha-v1|{\"w\":1}|{\"c\":1}\n");

    for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
        assert_int_equal(aipm_store_alias_move(st, &moves[i], &err), AIPM_OK);
        v = -1;
        assert_int_equal(
            aipm_store_alias_get(st, moves[i].name, moves[i].alias, &v, &err),
            AIPM_OK);
        assert_int_equal(v, after[i]);
    }
    v = -1;
    assert_int_equal(aipm_store_alias_get(st, "value", "production", &v, &err),
                     AIPM_OK);
    assert_int_equal(v, 0); /* removed */
    memset(&l, 0, sizeof(l));
    assert_int_equal(aipm_store_alias_moves(st, NULL, move_line, &l, &err),
                     AIPM_OK);
    assert_string_equal(l.buf, "5|Winrate|candidate|0|1|7000|bob|early seq\n"
                               "20|value|production|0|1|4000|ann|first\n"
                               "21|value|production|1|2|5000|bob|better\n"
                               "22|value|production|2|0|6000|ann|\n");
    memset(&l, 0, sizeof(l));
    assert_int_equal(aipm_store_alias_moves(st, "value", move_line, &l, &err),
                     AIPM_OK);
    assert_string_equal(l.buf, "20|value|production|0|1|4000|ann|first\n"
                               "21|value|production|1|2|5000|bob|better\n"
                               "22|value|production|2|0|6000|ann|\n");
    aipm_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_store_has_application_id,
                                        dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_golang_migrate_refused, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(test_other_application_id_refused,
                                        dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(
            test_store_without_id_stamped_by_first_write, dir_setup,
            dir_teardown),
        cmocka_unit_test_setup_teardown(test_huge_schema_version_refused,
                                        dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_decision_list, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(test_model_registry, dir_setup,
                                        dir_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
