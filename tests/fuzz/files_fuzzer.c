/* files_fuzzer.c - libFuzzer target for the audit checkpoint reader and
 * the store URL redaction (issue 12's untrusted inputs in files/store).
 *
 * The first byte picks the target. Even: the rest is an audit-checkpoint
 * file, verified against a small log made once in a temporary folder (a
 * store with three entries): verify must run (AIPM_OK) and either accept
 * the file or name a first bad entry within the log, never read past the
 * text. Odd: the rest, cut at the first NUL, is a store URL redacted into
 * buffers of several sizes: the result is always NUL-terminated within
 * the buffer (the sanitizers watch the pointer arithmetic). The log's
 * folder is removed at exit.
 *
 * Linked with replay_main.c into replay_files_fuzzer, which ctest runs
 * over tests/fuzz/corpus/files_fuzzer/.
 */
#include "aipm/audit.h"
#include "aipm/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static aipm_store *st;
static char dir[] = "/tmp/aipm-files-fuzz.XXXXXX", checkpoint[256];

static void remove_log(void)
{
    static const char *const names[] = {"aipm.db", "aipm.db-wal", "aipm.db-shm",
                                        "audit-checkpoint"};
    char path[300];
    size_t i;

    aipm_store_close(st);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void make_log(void)
{
    char db[256];
    aipm_error err = {0};
    int i;

    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(db, sizeof(db), "%s/aipm.db", dir);
    snprintf(checkpoint, sizeof(checkpoint), "%s/audit-checkpoint", dir);
    if (aipm_store_open(&st, db, AIPM_STORE_CREATE, &err) != AIPM_OK)
        abort();
    atexit(remove_log);
    for (i = 0; i < 3; i++)
        if (aipm_audit_append(st, "test", "fuzz", NULL, NULL, NULL, &err) !=
            AIPM_OK)
            abort();
}

static void fuzz_checkpoint(const uint8_t *data, size_t size)
{
    aipm_audit_report r;
    aipm_error err = {0};
    FILE *f;

    if (st == NULL)
        make_log();
    unlink(checkpoint);
    if ((f = fopen(checkpoint, "wb")) == NULL)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    if (aipm_audit_verify(st, checkpoint, &r, &err) != AIPM_OK)
        abort();
    if (r.first_bad < 0 || r.first_bad > 4 || r.size > 3)
        abort();
}

static void fuzz_url(const uint8_t *data, size_t size)
{
    static const size_t caps[] = {1, 2, 8, 33, 1024};
    char *url = malloc(size + 1), out[1024];
    size_t i;

    if (url == NULL)
        return;
    memcpy(url, data, size);
    url[size] = '\0';
    for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        memset(out, 'x', sizeof(out));
        aipm_store_url_redact(out, caps[i], url);
        if (memchr(out, '\0', caps[i]) == NULL)
            abort();
    }
    free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_checkpoint(data + 1, size - 1);
    else
        fuzz_url(data + 1, size - 1);
    return 0;
}
