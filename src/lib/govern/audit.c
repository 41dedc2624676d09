/* audit.c - RFC 6962 Merkle hashing and the append-only audit log.
 *
 * The tree head is computed incrementally with a compact range: nodes[k]
 * holds the root of a perfect subtree of 2^j leaves for each set bit j of
 * size, largest first. Pushing a leaf merges equal-sized subtrees like a
 * binary counter; the head folds the stack right to left, which yields
 * exactly RFC 6962's MTH (split at the largest power of two below n).
 *
 * Appending reads every stored leaf to rebuild the range (O(n) in entries,
 * which are state changes, not events: thousands, not millions). Entries
 * are canonical JSON made with jansson (sorted keys, compact), so the bytes
 * that are hashed are the bytes that are stored.
 *
 * Verify is one pass over the log. A kept checkpoint in the plain form is
 * compared with the head recomputed at its size; a signed note
 * (checkpoint.c) is checked for its signature and origin first, and the
 * pass also feeds the leaves it has checked to the prover (proof.c), so
 * the consistency proof from the note's size to the log's costs no second
 * read of the log.
 */
#include "govern/govern_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void aipm_merkle_leaf(uint8_t out[32], const void *data, size_t len)
{
    aipm_sha256 h;
    uint8_t prefix = 0x00;

    aipm_sha256_init(&h);
    aipm_sha256_update(&h, &prefix, 1);
    aipm_sha256_update(&h, data, len);
    aipm_sha256_final(&h, out);
}

void aipm_merkle_node(uint8_t out[32], const uint8_t left[32],
                      const uint8_t right[32])
{
    aipm_sha256 h;
    uint8_t prefix = 0x01;

    aipm_sha256_init(&h);
    aipm_sha256_update(&h, &prefix, 1);
    aipm_sha256_update(&h, left, 32);
    aipm_sha256_update(&h, right, 32);
    aipm_sha256_final(&h, out);
}

void aipm_merkle_init(aipm_merkle *m)
{
    m->size = 0;
}

static int popcount64(uint64_t v)
{
    int n = 0;

    for (; v; v &= v - 1)
        n++;
    return n;
}

void aipm_merkle_push(aipm_merkle *m, const uint8_t leaf_hash[32])
{
    int n = popcount64(m->size);
    uint64_t s;

    memcpy(m->nodes[n], leaf_hash, 32);
    /* Each trailing 1 bit of the old size is a same-sized subtree to merge. */
    for (s = m->size; s & 1; s >>= 1) {
        aipm_merkle_node(m->nodes[n - 1], m->nodes[n - 1], m->nodes[n]);
        n--;
    }
    m->size++;
}

void aipm_merkle_root(const aipm_merkle *m, uint8_t out[32])
{
    int n = popcount64(m->size), i;
    uint8_t acc[32];

    if (n == 0) {
        aipm_sha256_oneshot(out, "", 0);
        return;
    }
    memcpy(acc, m->nodes[n - 1], 32);
    for (i = n - 2; i >= 0; i--)
        aipm_merkle_node(acc, m->nodes[i], acc);
    memcpy(out, acc, 32);
}

/* The thread's actor (aipm_audit_set_actor) and the login name's buffer:
 * per thread, so a server's workers neither race nor see each other's. */
static __thread char thread_actor[128];
static __thread char login_name[128];

void aipm_audit_set_actor(const char *name)
{
    snprintf(thread_actor, sizeof(thread_actor), "%s", name ? name : "");
}

const char *aipm_audit_actor(void)
{
    char *name = login_name;
    const char *env = getenv("AIPM_ACTOR");
    struct passwd pw, *res = NULL;
    char buf[1024];

    if (thread_actor[0])
        return thread_actor;
    if (env && *env)
        return env;
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
        snprintf(name, sizeof(login_name), "%s", res->pw_name);
    else
        snprintf(name, sizeof(login_name), "uid:%u", (unsigned)getuid());
    return name;
}

static int push_leaf(void *ctx, const aipm_audit_row *row)
{
    aipm_merkle_push(ctx, row->leaf);
    return 0;
}

/* The state an append continues from: the kept frontier when it agrees
 * with the log's last entry (its size and tree head), else rebuilt from
 * every leaf (a store of before the frontier, or one whose frontier was
 * lost or does not agree). */
static int load_frontier(aipm_store *st, aipm_merkle *m, aipm_error *err)
{
    int64_t size = 0, last = 0;
    size_t len = 0;
    int found = 0, have_last = 0, rc;
    uint8_t root[32], last_root[32];

    rc = aipm_store_audit_frontier_get(st, &size, m, sizeof(*m), &len, &found,
                                       err);
    if (rc == 0 && found && len == sizeof(*m) && (int64_t)m->size == size &&
        (rc = aipm_store_audit_last(st, &last, last_root, &have_last, err)) ==
            0) {
        aipm_merkle_root(m, root);
        if (have_last ? last == size && memcmp(root, last_root, 32) == 0
                      : size == 0)
            return 0;
    }
    if (rc)
        return rc;
    aipm_merkle_init(m);
    return aipm_store_audit_list(st, push_leaf, m, err);
}

int aipm_audit_append(aipm_store *st, const char *action, const char *object,
                      const char *detail_json, uint64_t *size_out,
                      uint8_t head_out[32], aipm_error *err)
{
    aipm_merkle *m = NULL;
    json_t *entry = NULL, *detail = NULL;
    json_error_t jerr;
    char *text = NULL, ts[32];
    uint8_t leaf[32], root[32];
    aipm_audit_row row;
    int rc;

    m = malloc(sizeof(*m));
    if (m == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if ((rc = load_frontier(st, m, err)) != 0)
        goto done;
    detail = detail_json ? json_loads(detail_json, 0, &jerr) : json_object();
    if (detail == NULL || !json_is_object(detail)) {
        rc = aipm_error_set(err, AIPM_ERROR, "audit detail is not an object");
        goto done;
    }
    aipm_time_format(ts, aipm_now_ms());
    entry = json_pack("{s:I, s:s, s:s, s:s, s:s, s:O}", "seq",
                      (json_int_t)(m->size + 1), "time", ts, "actor",
                      aipm_audit_actor(), "action", action, "object", object,
                      "detail", detail);
    text = entry ? json_dumps(entry,
                              JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)
                 : NULL;
    if (text == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    aipm_merkle_leaf(leaf, text, strlen(text));
    aipm_merkle_push(m, leaf);
    aipm_merkle_root(m, root);
    row.seq = (int64_t)m->size;
    row.entry = text;
    row.entry_len = strlen(text);
    row.leaf = leaf;
    row.root = root;
    if ((rc = aipm_store_audit_put(st, &row, err)) != 0 ||
        (rc = aipm_store_audit_frontier_put(st, (int64_t)m->size, m, sizeof(*m),
                                            err)) != 0)
        goto done;
    if (size_out)
        *size_out = m->size;
    if (head_out)
        memcpy(head_out, root, 32);
done:
    free(text);
    json_decref(entry);
    json_decref(detail);
    free(m);
    return rc;
}

int aipm_audit_checkpoint_write(const char *path, uint64_t size,
                                const uint8_t head[32], aipm_error *err)
{
    char hex[65], text[96];
    int n;

    aipm_hex(hex, head, 32);
    n = snprintf(text, sizeof(text), "%llu %s\n", (unsigned long long)size,
                 hex);
    /* Through the one safe writer: a new 0600 file renamed into place,
     * never written through a link planted at the temporary name. */
    return aipm_file_write(path, text, (size_t)n, 0600, err);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

typedef struct verify_state {
    aipm_merkle m;
    aipm_audit_report *report;
    uint64_t cp_size, kept_size;
    uint8_t cp_head[32], kept_head[32];
    int have_cp, have_kept;
    /* A kept signed note: the consistency proof from its size to the
     * log's is made from the leaves this pass checks. */
    aipm_checkpoint *note;
    int proving;
    aipm_audit__prover prover;
    aipm_merkle_proof proof;
    uint8_t first_leaf[32]; /* entry 1's: the log's origin */
} verify_state;

static int bad(verify_state *vs, const char *problem)
{
    vs->report->first_bad = (int64_t)vs->m.size + 1;
    snprintf(vs->report->problem, sizeof(vs->report->problem), "%s", problem);
    return 1; /* stop the scan */
}

static int verify_row(void *ctx, const aipm_audit_row *row)
{
    verify_state *vs = ctx;
    aipm_merkle next;
    uint8_t leaf[32], root[32];
    json_t *entry, *seq;
    json_error_t jerr;
    int64_t pos = (int64_t)vs->m.size + 1;

    if (row->seq != pos)
        return bad(vs,
                   "position: its sequence number does not match its position "
                   "(an entry was deleted or reordered)");
    aipm_merkle_leaf(leaf, row->entry, row->entry_len);
    if (memcmp(leaf, row->leaf, 32) != 0)
        return bad(vs,
                   "content: its bytes no longer match its leaf hash (edited)");
    entry = json_loadb(row->entry, row->entry_len, 0, &jerr);
    seq = entry ? json_object_get(entry, "seq") : NULL;
    if (seq == NULL || !json_is_integer(seq) ||
        json_integer_value(seq) != pos) {
        json_decref(entry);
        return bad(vs, "content: the entry's own seq field does not match");
    }
    json_decref(entry);
    /* Push onto a copy, so that on a failure the range (and the head the
     * report gives) stays that of the entries before this one. */
    next = vs->m;
    aipm_merkle_push(&next, leaf);
    aipm_merkle_root(&next, root);
    if (memcmp(root, row->root, 32) != 0)
        return bad(vs,
                   "tree head: the stored head differs from the recomputed one "
                   "(entries before it were rewritten or reordered)");
    if (vs->have_cp && next.size == vs->cp_size &&
        memcmp(root, vs->cp_head, 32) != 0)
        return bad(vs, "checkpoint: the tree head differs from the checkpoint "
                       "file");
    if (vs->have_kept && next.size == vs->kept_size &&
        memcmp(root, vs->kept_head, 32) != 0) {
        vs->report->kept_bad = 1;
        return bad(vs, "kept checkpoint: the tree head differs from it (the "
                       "log was rewritten)");
    }
    vs->m = next;
    if (next.size == 1)
        memcpy(vs->first_leaf, leaf, 32);
    if (vs->proving)
        (void)aipm_audit__prover_push(&vs->prover, leaf);
    return 0;
}

/* Parse "<size> <64 hex>\n" (the newline optional). 0, or -1 when the
 * text is not a checkpoint. */
static int parse_checkpoint(const char *text, uint64_t *size_out,
                            uint8_t head[32])
{
    char *end;
    unsigned long long size;
    int i;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    size = strtoull(text, &end, 10);
    if (errno || *end != ' ' || strlen(end + 1) < 64)
        return -1;
    for (i = 0; i < 32; i++) {
        int hi = hexval(end[1 + 2 * i]), lo = hexval(end[2 + 2 * i]);

        if (hi < 0 || lo < 0)
            return -1;
        head[i] = (uint8_t)(hi << 4 | lo);
    }
    if (end[65] != '\n' && end[65] != '\0')
        return -1;
    if (end[65] == '\n' && end[66] != '\0')
        return -1;
    *size_out = size;
    return 0;
}

/* Read the checkpoint file. *state: 1 read (size, head set), 0 no file,
 * -1 a regular file that is not a checkpoint (itself a sign of tampering:
 * a missing head would otherwise hide a truncated log). Returns an error
 * (and says so) when the path is a FIFO, a folder or a link, or cannot be
 * read: refused, never waited on. */
static int read_checkpoint(int *state, uint64_t *size, uint8_t head[32],
                           const char *path, aipm_error *err)
{
    aipm_error rerr = {0, ""};
    struct stat sb;
    char *text = NULL;
    size_t len = 0;
    int rc;

    *state = 0;
    /* A regular file far larger than "<size> <64 hex>\n" is not one. */
    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 4096) {
        *state = -1;
        return AIPM_OK;
    }
    rc = aipm_file_read(&text, &len, path, 4096, &rerr);
    if (rc == AIPM_ENOTFOUND)
        return AIPM_OK;
    if (rc != AIPM_OK)
        return aipm_error_set(err, rc, "audit checkpoint: %s", rerr.msg);
    *state =
        strlen(text) == len && parse_checkpoint(text, size, head) == 0 ? 1 : -1;
    free(text);
    return AIPM_OK;
}

typedef struct root_at {
    int64_t seq;
    uint8_t root[32];
    int found;
} root_at;

static int find_root(void *ctx, const aipm_audit_row *row)
{
    root_at *r = ctx;

    if (row->seq != r->seq)
        return 0;
    memcpy(r->root, row->root, 32);
    r->found = 1;
    return 1; /* stop */
}

/* Whether the checkpoint (state, cp_size, cp_head) lags a log whose last
 * entry is last_seq: 1 yes, 0 no; or an error. */
static int lags(aipm_store *st, int state, uint64_t cp_size,
                const uint8_t cp_head[32], int64_t *last_seq, aipm_error *err)
{
    uint8_t last_root[32];
    root_at at;
    int found = 0, rc;

    if ((rc = aipm_store_audit_last(st, last_seq, last_root, &found, err)) != 0)
        return rc;
    if (!found)
        return 0; /* no log yet */
    if (state == 0)
        return 1; /* missing */
    if (cp_size >= (uint64_t)*last_seq)
        return 0; /* up to date, or ahead (deleted entries: verify says) */
    /* Behind: a lag only when the checkpoint is the log's own head at that
     * size, i.e. the write after a commit never happened. */
    memset(&at, 0, sizeof(at));
    at.seq = (int64_t)cp_size;
    if (cp_size == 0) {
        aipm_sha256_oneshot(at.root, "", 0);
        at.found = 1;
    } else if ((rc = aipm_store_audit_list(st, find_root, &at, err)) != 0 &&
               rc != 1) {
        return rc;
    }
    return at.found && memcmp(at.root, cp_head, 32) == 0;
}

/* The checkpoint lock: an exclusive flock on "<path>.lock" (0600, opened
 * O_NOFOLLOW and only if it is a regular file, so a planted link or FIFO is
 * refused, never followed or waited on). Lock order: the store's write lock
 * first (BEGIN), then this one; a writer keeps it from just before its
 * COMMIT until its checkpoint is written, so whoever holds both locks sees
 * no committed entry whose checkpoint is still to come. Released by
 * close(), or by the kernel when the holder dies. */
static int lock_checkpoint(int *fd_out, const char *path, aipm_error *err)
{
    char lock[4200];
    struct stat sb;
    int fd;

    *fd_out = -1;
    if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock))
        return aipm_error_set(err, AIPM_EINVALID, "path too long: %s", path);
    fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
              0600);
    if (fd < 0 && (errno == ELOOP || errno == EISDIR))
        return aipm_error_set(err, AIPM_EINVALID,
                              "cannot lock the audit checkpoint: %s is a %s; "
                              "move it away and run the command again",
                              lock,
                              errno == ELOOP ? "symbolic link" : "folder");
    if (fd < 0)
        return aipm_error_set(err, AIPM_EIO,
                              "cannot lock the audit checkpoint: %s: %s; the "
                              "folder of the checkpoint must be writable",
                              lock, strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return aipm_error_set(err, AIPM_EINVALID,
                              "cannot lock the audit checkpoint: %s is not a "
                              "regular file; move it away and run the "
                              "command again",
                              lock);
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;

            close(fd);
            return aipm_error_set(err, AIPM_EIO,
                                  "cannot lock the audit checkpoint %s: %s",
                                  lock, strerror(e));
        }
    }
    *fd_out = fd;
    return AIPM_OK;
}

/* Write the checkpoint for a log of size entries unless the one on disk
 * already records as many or more (a later writer got there first): the
 * checkpoint never goes backwards. Call with the checkpoint lock held. */
static int write_forward(const char *path, uint64_t size,
                         const uint8_t head[32], aipm_error *err)
{
    uint8_t cp_head[32];
    uint64_t cp_size = 0;
    int state, rc;

    if ((rc = read_checkpoint(&state, &cp_size, cp_head, path, err)) != 0)
        return rc;
    if (state == 1 && cp_size >= size)
        return AIPM_OK;
    return aipm_audit_checkpoint_write(path, size, head, err);
}

int aipm_audit_commit(aipm_store *st, const char *path, uint64_t size,
                      const uint8_t head[32], aipm_error *err)
{
    int lock_fd = -1, rc;

    if (path && (rc = lock_checkpoint(&lock_fd, path, err)) != 0)
        return rc;
    rc = aipm_store_commit(st, err);
    /* The change is committed: a checkpoint that cannot be written now is
     * repaired by the next writer's sync (and verify says it lags). */
    if (rc == AIPM_OK && path)
        (void)write_forward(path, size, head, NULL);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}

int aipm_audit_checkpoint_sync(aipm_store *st, const char *path, int *repaired,
                               aipm_error *err)
{
    uint8_t cp_head[32], head[32];
    uint64_t cp_size = 0, size = 0;
    int64_t last_seq = 0;
    char detail[256];
    int state, rc, lock_fd = -1, in_tx = 0;

    *repaired = 0;
    /* A first look without locks: the common case (no lag) costs no
     * write lock. */
    if ((rc = read_checkpoint(&state, &cp_size, cp_head, path, err)) != 0)
        return rc;
    if (state < 0)
        return AIPM_OK; /* not a checkpoint: verify reports it */
    if ((rc = lags(st, state, cp_size, cp_head, &last_seq, err)) <= 0)
        return rc;
    /* Again under the store's write lock and the checkpoint lock, reading
     * the checkpoint afresh: a writer that has committed but not yet
     * written its checkpoint holds the checkpoint lock, so what is seen
     * now is a real lag (a writer killed in between). */
    if ((rc = aipm_store_begin(st, err)) != 0)
        return rc;
    in_tx = 1;
    if ((rc = lock_checkpoint(&lock_fd, path, err)) != 0 ||
        (rc = read_checkpoint(&state, &cp_size, cp_head, path, err)) != 0)
        goto done;
    if (state < 0 ||
        (rc = lags(st, state, cp_size, cp_head, &last_seq, err)) <= 0)
        goto done;
    snprintf(detail, sizeof(detail),
             "{\"checkpoint\":\"%s\",\"checkpoint_entries\":%llu,"
             "\"log_entries\":%lld}",
             state == 1 ? "behind" : "missing",
             (unsigned long long)(state == 1 ? cp_size : 0),
             (long long)last_seq);
    if ((rc = aipm_audit_append(st, "checkpoint_repair", "audit-checkpoint",
                                detail, &size, head, err)) != 0 ||
        (rc = aipm_store_commit(st, err)) != 0)
        goto done;
    in_tx = 0;
    if ((rc = write_forward(path, size, head, err)) == AIPM_OK)
        *repaired = 1;
done:
    if (in_tx)
        aipm_store_rollback(st);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc < 0 ? rc : AIPM_OK;
}

int aipm_audit_verify(aipm_store *st, const char *checkpoint_path,
                      aipm_audit_report *report, aipm_error *err)
{
    return aipm_audit_verify_kept(st, checkpoint_path, NULL, report, err);
}

/* The kept report's failure: a bad entry at pos, against the kept
 * checkpoint, for the reason given. */
static void kept_fail(aipm_audit_report *report, int64_t pos, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
static void kept_fail(aipm_audit_report *report, int64_t pos, const char *fmt,
                      ...)
{
    va_list ap;

    report->first_bad = pos;
    report->kept_bad = 1;
    va_start(ap, fmt);
    vsnprintf(report->problem, sizeof(report->problem), fmt, ap);
    va_end(ap);
}

/* Read the kept checkpoint at path as a signed note: parse it, check its
 * signature by vkey (when given) and set up the consistency proof from
 * its size to the log's, for the pass. A note that fails is reported, not
 * returned as an error. */
static int read_note(aipm_store *st, verify_state *vs, const char *path,
                     const aipm_key *vkey, aipm_error *err)
{
    aipm_audit_report *report = vs->report;
    aipm_error perr = {0, ""};
    uint8_t last_root[32];
    int64_t last = 0;
    char *text = NULL, origin[AIPM_ORIGIN_MAX];
    size_t len = 0;
    int found = 0, rc;

    rc = aipm_file_read(&text, &len, path, AIPM_NOTE_MAX, &perr);
    if (rc == AIPM_EINVALID || rc == AIPM_ENOTFOUND) {
        kept_fail(report, 1, "kept checkpoint: %s: %s", path, perr.msg);
        return AIPM_OK;
    }
    if (rc != AIPM_OK)
        return aipm_error_set(err, rc, "kept checkpoint: %s", perr.msg);
    if ((vs->note = malloc(sizeof(*vs->note))) == NULL) {
        free(text);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    rc = aipm_checkpoint_parse(vs->note, text, len, &perr);
    free(text);
    if (rc != AIPM_OK) {
        kept_fail(report, 1, "kept checkpoint: %s is %s", path, perr.msg);
        return AIPM_OK;
    }
    report->kept_note = 1;
    report->kept_size = vs->note->size;
    snprintf(report->kept_origin, sizeof(report->kept_origin), "%s",
             vs->note->origin);
    /* Another log's checkpoint is named as such before its signature is
     * found not to be by this log's key (check_note looks again, at the
     * entry the pass has checked). */
    rc = aipm_audit_origin(st, origin, &perr);
    if (rc != AIPM_OK && rc != AIPM_ENOTFOUND)
        return aipm_error_set(err, rc, "%s", perr.msg);
    if (rc == AIPM_OK && strcmp(origin, vs->note->origin) != 0) {
        kept_fail(report, 1,
                  "kept checkpoint: its origin %s is not this log's, %s (a "
                  "checkpoint of another log, or entry 1 was rewritten)",
                  vs->note->origin, origin);
        return AIPM_OK;
    }
    if (vkey) {
        report->kept_signature = aipm_checkpoint_signed_by(vs->note, vkey);
        if (report->kept_signature == AIPM_NOTE_UNSIGNED) {
            kept_fail(report, 1,
                      "kept checkpoint: it is not signed by the key %s+%08x "
                      "(another key signed it)",
                      vkey->name, (unsigned)vkey->id);
            return AIPM_OK;
        }
        if (report->kept_signature == AIPM_NOTE_BAD) {
            kept_fail(report, 1,
                      "kept checkpoint: its signature by %s+%08x does not "
                      "verify (the note was edited or forged)",
                      vkey->name, (unsigned)vkey->id);
            return AIPM_OK;
        }
    }
    if ((rc = aipm_store_audit_last(st, &last, last_root, &found, err)) != 0)
        return rc;
    if (vs->note->size <= (uint64_t)last) {
        aipm_audit__prover_init(&vs->prover, &vs->proof, 0, vs->note->size,
                                (uint64_t)last);
        vs->proving = 1;
    }
    return AIPM_OK;
}

/* After an intact pass: the note is of this log, no larger than it, and
 * the log extends it (RFC 9162 section 2.1.4.2). */
static void check_note(verify_state *vs)
{
    aipm_audit_report *report = vs->report;
    const aipm_checkpoint *note = vs->note;
    const aipm_merkle_proof *proof = &vs->proof;
    char origin[AIPM_ORIGIN_MAX] = "(none: the log is empty)";

    if (vs->m.size > 0)
        aipm_audit__origin(origin, vs->first_leaf);
    if (strcmp(origin, note->origin) != 0) {
        kept_fail(report, 1,
                  "kept checkpoint: its origin %s is not this log's, %s (a "
                  "checkpoint of another log, or entry 1 was rewritten)",
                  note->origin, origin);
        return;
    }
    if (note->size > vs->m.size || !vs->proving ||
        vs->prover.pushed < proof->size) {
        kept_fail(report, (int64_t)vs->m.size + 1,
                  "missing: the kept checkpoint records %llu entries but the "
                  "log has %llu (entries were deleted)",
                  (unsigned long long)note->size,
                  (unsigned long long)vs->m.size);
        return;
    }
    if (!aipm_merkle_consistency_verify(note->size, proof->size, note->root,
                                        proof->root, &proof->path[0][0],
                                        proof->count))
        kept_fail(report, note->size > 0 ? (int64_t)note->size : 1,
                  "kept checkpoint: the log does not extend it: the "
                  "consistency proof from %llu to %llu entries fails against "
                  "its root (the log was rewritten, or the checkpoint is of "
                  "another history)",
                  (unsigned long long)note->size,
                  (unsigned long long)proof->size);
}

int aipm_audit_verify_kept(aipm_store *st, const char *checkpoint_path,
                           const char *kept_path, aipm_audit_report *report,
                           aipm_error *err)
{
    return aipm_audit_verify_signed(st, checkpoint_path, kept_path, NULL,
                                    report, err);
}

int aipm_audit_verify_signed(aipm_store *st, const char *checkpoint_path,
                             const char *kept_path, const aipm_key *vkey,
                             aipm_audit_report *report, aipm_error *err)
{
    verify_state *vs = calloc(1, sizeof(*vs));
    int rc = AIPM_OK, state = 0, kept_state = 0;

    memset(report, 0, sizeof(*report));
    if (vs == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    vs->report = report;
    aipm_merkle_init(&vs->m);
    if (checkpoint_path &&
        (rc = read_checkpoint(&state, &vs->cp_size, vs->cp_head,
                              checkpoint_path, err)) != 0)
        goto done;
    vs->have_cp = state == 1;
    if (state < 0) {
        report->first_bad = 1;
        snprintf(report->problem, sizeof(report->problem),
                 "checkpoint: %s is not a checkpoint (size and head); it was "
                 "damaged or replaced",
                 checkpoint_path);
        aipm_merkle_root(&vs->m, report->head);
        goto done;
    }
    if (kept_path && (rc = read_checkpoint(&kept_state, &vs->kept_size,
                                           vs->kept_head, kept_path, err)) != 0)
        goto done;
    vs->have_kept = kept_state == 1;
    if (kept_path && kept_state < 0) {
        /* Not the plain form: a signed note, or damaged. */
        if ((rc = read_note(st, vs, kept_path, vkey, err)) != 0)
            goto done;
        if (report->first_bad) {
            aipm_merkle_root(&vs->m, report->head);
            goto done;
        }
    } else if (kept_path && kept_state != 1) {
        report->first_bad = 1;
        report->kept_bad = 1;
        snprintf(report->problem, sizeof(report->problem),
                 "kept checkpoint: %s is %s", kept_path,
                 kept_state == 0 ? "missing"
                                 : "not a checkpoint (size and head)");
        aipm_merkle_root(&vs->m, report->head);
        goto done;
    }
    rc = aipm_store_audit_list(st, verify_row, vs, err);
    if (rc == 1)
        rc = AIPM_OK; /* stopped at the first bad entry */
    if (rc == AIPM_OK && report->first_bad == 0 && vs->have_cp &&
        vs->m.size < vs->cp_size) {
        report->first_bad = (int64_t)vs->m.size + 1;
        snprintf(report->problem, sizeof(report->problem),
                 "missing: the checkpoint records %llu entries but the log "
                 "has %llu (entries were deleted)",
                 (unsigned long long)vs->cp_size,
                 (unsigned long long)vs->m.size);
    }
    if (rc == AIPM_OK && report->first_bad == 0 && vs->have_kept &&
        vs->m.size < vs->kept_size) {
        report->first_bad = (int64_t)vs->m.size + 1;
        report->kept_bad = 1;
        snprintf(report->problem, sizeof(report->problem),
                 "missing: the kept checkpoint records %llu entries but the "
                 "log has %llu (entries were deleted)",
                 (unsigned long long)vs->kept_size,
                 (unsigned long long)vs->m.size);
    }
    if (rc == AIPM_OK && report->first_bad == 0 && vs->note)
        check_note(vs);
    report->size = vs->m.size;
    if (vs->note == NULL)
        report->kept_size = vs->kept_size;
    aipm_merkle_root(&vs->m, report->head);
    report->checkpoint_size = vs->cp_size;
    if (checkpoint_path && report->first_bad == 0 && vs->m.size > 0) {
        if (!vs->have_cp)
            report->checkpoint = AIPM_CHECKPOINT_MISSING;
        else if (vs->cp_size < vs->m.size)
            report->checkpoint = AIPM_CHECKPOINT_BEHIND;
    }
done:
    if (vs)
        free(vs->note);
    free(vs);
    return rc;
}
