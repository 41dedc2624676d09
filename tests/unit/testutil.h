/* testutil.h - small helpers shared by the unit tests (header-only).
 *
 * Temporary directories under $TMPDIR (removed recursively at the end of a
 * test), whole-file reads and writes, hex decoding, and the path of a file
 * in tests/data ($AIPM_TEST_DATA, set by CTest). Every helper is static so
 * each test executable stays one translation unit; unused ones are marked
 * so -Wunused-function stays quiet.
 */
#ifndef AIPM_TESTUTIL_H
#define AIPM_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TU_UNUSED __attribute__((unused))

/* The path of name in tests/data, into out (cap bytes). */
static TU_UNUSED const char *tu_data(char *out, size_t cap, const char *name)
{
    const char *dir = getenv("AIPM_TEST_DATA");

    if (dir == NULL || *dir == '\0')
        dir = "tests/data";
    snprintf(out, cap, "%s/%s", dir, name);
    return out;
}

/* A fresh temporary directory, into out (cap bytes); NULL on failure. */
static TU_UNUSED char *tu_mkdtemp(char *out, size_t cap)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(out, cap, "%s/aipm-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(out);
}

/* Remove path and everything below it. */
static TU_UNUSED void tu_rmtree(const char *path)
{
    struct stat sb;
    DIR *d;
    struct dirent *e;
    char child[4096];

    if (lstat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    if ((d = opendir(path)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
            tu_rmtree(child);
        }
        closedir(d);
    }
    rmdir(path);
}

/* Write len bytes to path; 0 on success. */
static TU_UNUSED int tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc;

    if (f == NULL)
        return -1;
    rc = fwrite(data, 1, len, f) == len ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

/* Read a whole file; the caller frees. NULL on failure. */
static TU_UNUSED char *tu_read(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *p;

            cap = cap ? cap * 2 : 8192;
            if ((p = realloc(buf, cap)) == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

/* Decode hex (even length) into out; returns bytes written. */
static TU_UNUSED size_t tu_unhex(unsigned char *out, const char *hex)
{
    size_t i, n = strlen(hex) / 2;

    for (i = 0; i < n; i++) {
        unsigned v;

        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

/* Lower-case hex of n bytes (out holds 2n+1). Written here, not taken from
 * the library, so a reference never goes through the code under test. */
static TU_UNUSED void tu_hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- a test workspace: a temporary folder, its store, a configuration ---- */

#include "aipm/config.h"
#include "aipm/ingest.h"
#include "aipm/store.h"

typedef struct tu_ws {
    char dir[256];
    aipm_store *st;
    aipm_config *cfg;
} tu_ws;

/* A new temporary folder with an empty store aipm.db. 0 or -1. */
static TU_UNUSED int tu_ws_open(tu_ws *w)
{
    aipm_error err = {0};
    char path[400];

    memset(w, 0, sizeof(*w));
    if (tu_mkdtemp(w->dir, sizeof(w->dir)) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/aipm.db", w->dir);
    return aipm_store_open(&w->st, path, 1, &err) == AIPM_OK ? 0 : -1;
}

/* Write text to the folder as `name` and ingest it as `dataset` with the
 * policy (NULL: defaults). Returns aipm_ingest_file's code. */
static TU_UNUSED int tu_ws_ingest(tu_ws *w, const char *dataset,
                                  const char *name, const char *text,
                                  size_t len, const aipm_data_policy *policy,
                                  aipm_ingest_result *res, aipm_error *err)
{
    aipm_ingest_opts io;
    char path[400];

    snprintf(path, sizeof(path), "%s/%s", w->dir, name);
    if (tu_write(path, text, len) != 0)
        return AIPM_EIO;
    memset(&io, 0, sizeof(io));
    io.dataset = dataset;
    io.policy = policy;
    return aipm_ingest_file(w->st, path, &io, res, err);
}

/* Write yaml as the folder's aipm.yaml and load it into w->cfg (replacing
 * the one loaded before, which is freed). 0 or -1. */
static TU_UNUSED int tu_ws_config(tu_ws *w, const char *yaml)
{
    aipm_error err = {0};
    aipm_config *cfg = NULL;
    char path[400];

    snprintf(path, sizeof(path), "%s/aipm.yaml", w->dir);
    if (tu_write(path, yaml, strlen(yaml)) != 0)
        return -1;
    if (aipm_config_load(&cfg, path, &err) != AIPM_OK) {
        fprintf(stderr, "config: %s\n", err.msg);
        return -1;
    }
    aipm_config_free(w->cfg);
    w->cfg = cfg;
    return 0;
}

static TU_UNUSED void tu_ws_close(tu_ws *w)
{
    aipm_config_free(w->cfg);
    aipm_store_close(w->st);
    tu_rmtree(w->dir);
    memset(w, 0, sizeof(*w));
}

/* A demo product (aipm/demo.h: `users` users, `days` days ending
 * `end_day`, seed `seed`) generated into w's folder (gen/), its backlog,
 * feedback, events and signals ingested into w's store, and its aipm.yaml
 * loaded into w->cfg, with kpis_extra (NULL: nothing) added as the first
 * lines under kpis: and catalog_extra (NULL: nothing) as the last entries
 * of catalog: (before metrics:). 0 or -1 (with the reason on stderr). */
#include "aipm/demo.h"

static TU_UNUSED int tu_ws_demo(tu_ws *w, int users, int days, uint64_t seed,
                                const char *end_day, const char *kpis_extra,
                                const char *catalog_extra)
{
    static const char *const files[][2] = {{"backlog", "backlog.csv"},
                                           {"feedback", "feedback.csv"},
                                           {"events", "events.ndjson.gz"},
                                           {"signals", "signals.csv"}};
    aipm_demo_opts o;
    aipm_error err = {0, ""};
    char out[300], path[400], *yaml, *at, *edited;
    size_t i, len;

    aipm_demo_opts_init(&o);
    o.users = users;
    o.days = days;
    o.seed = seed;
    aipm_time_parse(&o.end_ms, end_day, strlen(end_day), 1);
    snprintf(out, sizeof(out), "%s/gen", w->dir);
    if (aipm_demo_generate(out, &o, NULL, &err) != AIPM_OK) {
        fprintf(stderr, "generate: %s\n", err.msg);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/aipm.yaml", out);
    for (i = 0; i < 2; i++) {
        const char *add = i == 0 ? kpis_extra : catalog_extra;
        const char *mark = i == 0 ? "\nkpis:\n" : "\nmetrics:\n";
        int rc;

        if (add == NULL)
            continue;
        if ((yaml = tu_read(path, &len)) == NULL ||
            (at = strstr(yaml, mark)) == NULL ||
            (edited = malloc(len + strlen(add) + 1)) == NULL)
            return -1;
        if (i == 0)
            at += strlen(mark);
        else
            at++; /* after the blank line's newline, before metrics: */
        memcpy(edited, yaml, (size_t)(at - yaml));
        strcpy(edited + (at - yaml), add);
        strcat(edited, at);
        rc = tu_write(path, edited, strlen(edited));
        free(yaml);
        free(edited);
        if (rc != 0)
            return -1;
    }
    if (aipm_config_load(&w->cfg, path, &err) != AIPM_OK) {
        fprintf(stderr, "config: %s\n", err.msg);
        return -1;
    }
    for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
        aipm_ingest_opts io;
        aipm_ingest_result r;

        memset(&io, 0, sizeof(io));
        io.dataset = files[i][0];
        snprintf(path, sizeof(path), "%s/%s", out, files[i][1]);
        if (aipm_ingest_file(w->st, path, &io, &r, &err) != AIPM_OK) {
            fprintf(stderr, "%s: %s\n", files[i][1], err.msg);
            return -1;
        }
        aipm_ingest_result_clear(&r);
    }
    return 0;
}

/* A cmocka teardown for a heap tu_ws in *state: close and free it. */
static TU_UNUSED int tu_ws_teardown(void **state)
{
    tu_ws *w = *state;

    if (w) {
        tu_ws_close(w);
        free(w);
    }
    return 0;
}

#endif
