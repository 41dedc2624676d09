/* audit_bench.c - the audit log's speed: append N entries, verify them,
 * and hash the same bytes with nothing else (the limit verify can reach).
 *
 *   audit_bench DIR [N]      (default N = 1,000,000)
 *
 * DIR must not hold aipm.db. Entries are committed 10,000 a transaction,
 * as a busy writer would; each is about 150 bytes of canonical JSON like
 * the log's own. Prints one JSON object (bench/audit/run makes the table):
 * seconds and entries per second of append, verify, the store's read of
 * the log alone, and the raw hashing of the entries read (leaf and Merkle
 * push, RFC 6962), and verify's rate against the raw hashing rate.
 */
#include "aipm/audit.h"
#include "aipm/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PER_COMMIT 10000

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct kept {
    char *bytes; /* every entry, back to back */
    size_t *off; /* entry i is bytes[off[i] .. off[i + 1]) */
    size_t n, len, cap;
} kept;

static int keep(void *ctx, const aipm_audit_row *r)
{
    kept *k = ctx;

    if (k->len + r->entry_len > k->cap) {
        size_t cap = (k->cap ? k->cap * 2 : 1 << 20) + r->entry_len;
        char *b = realloc(k->bytes, cap);

        if (b == NULL)
            return -1;
        k->bytes = b;
        k->cap = cap;
    }
    memcpy(k->bytes + k->len, r->entry, r->entry_len);
    k->off[k->n++] = k->len;
    k->len += r->entry_len;
    k->off[k->n] = k->len;
    return 0;
}

static int nothing(void *ctx, const aipm_audit_row *r)
{
    (*(size_t *)ctx) += r->entry_len;
    return 0;
}

int main(int argc, char **argv)
{
    aipm_error err = {0, ""};
    aipm_store *st = NULL;
    aipm_audit_report rep;
    aipm_merkle m;
    kept k = {NULL, NULL, 0, 0, 0};
    char db[4200], object[32], detail[160];
    uint8_t head[32], leaf[32], root[32];
    uint64_t size = 0;
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000, i, bytes = 0;
    double t0, t_append, t_verify, t_read, t_hash;

    if (argc < 2 || n == 0) {
        fprintf(stderr, "usage: audit_bench DIR [N]\n");
        return 1;
    }
    snprintf(db, sizeof(db), "%s/aipm.db", argv[1]);
    if (aipm_store_open(&st, db, AIPM_STORE_CREATE, &err) != AIPM_OK)
        goto fail;
    t0 = now_s();
    for (i = 0; i < n; i++) {
        if (i % PER_COMMIT == 0 && aipm_store_begin(st, &err) != AIPM_OK)
            goto fail;
        snprintf(object, sizeof(object), "batch:%zu", i + 1);
        snprintf(detail, sizeof(detail),
                 "{\"dataset\":\"events\",\"from\":\"staged\",\"reason\":"
                 "\"bench entry %zu\",\"to\":\"accepted\"}",
                 i);
        if (aipm_audit_append(st, "accept", object, detail, &size, head,
                              &err) != AIPM_OK)
            goto fail;
        if ((i + 1) % PER_COMMIT == 0 || i + 1 == n)
            if (aipm_store_commit(st, &err) != AIPM_OK)
                goto fail;
    }
    t_append = now_s() - t0;
    t0 = now_s();
    if (aipm_audit_verify(st, NULL, &rep, &err) != AIPM_OK)
        goto fail;
    t_verify = now_s() - t0;
    if (rep.first_bad != 0 || rep.size != n ||
        memcmp(rep.head, head, 32) != 0) {
        fprintf(stderr, "audit_bench: verify disagrees: %s\n", rep.problem);
        return 1;
    }
    t0 = now_s();
    if (aipm_store_audit_list(st, nothing, &bytes, &err) != AIPM_OK)
        goto fail;
    t_read = now_s() - t0;
    k.off = malloc((n + 1) * sizeof(*k.off));
    if (k.off == NULL || aipm_store_audit_list(st, keep, &k, &err) != AIPM_OK)
        goto fail;
    t0 = now_s();
    aipm_merkle_init(&m);
    for (i = 0; i < k.n; i++) {
        aipm_merkle_leaf(leaf, k.bytes + k.off[i], k.off[i + 1] - k.off[i]);
        aipm_merkle_push(&m, leaf);
        aipm_merkle_root(&m, root); /* verify checks the head after each */
    }
    t_hash = now_s() - t0;
    if (memcmp(root, head, 32) != 0) {
        fprintf(stderr, "audit_bench: raw hashing disagrees\n");
        return 1;
    }
    printf("{\"entries\": %zu, \"entry_bytes\": %zu,"
           " \"append_s\": %.3f, \"append_per_s\": %.0f,"
           " \"verify_s\": %.3f, \"verify_per_s\": %.0f,"
           " \"read_s\": %.3f, \"read_per_s\": %.0f,"
           " \"hash_s\": %.3f, \"hash_per_s\": %.0f,"
           " \"verify_vs_hash\": %.2f}\n",
           n, bytes, t_append, (double)n / t_append, t_verify,
           (double)n / t_verify, t_read, (double)n / t_read, t_hash,
           (double)n / t_hash, t_verify / t_hash);
    free(k.bytes);
    free(k.off);
    aipm_store_close(st);
    return 0;
fail:
    fprintf(stderr, "audit_bench: %s\n", err.msg);
    return 1;
}
