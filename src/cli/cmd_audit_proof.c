/* cmd_audit_proof.c - `aipm audit checkpoint|prove`: signed checkpoints and
 * inclusion proofs of the audit log (cmd_audit.c dispatches to them).
 *
 * The checkpoint is a C2SP tlog-checkpoint note signed by the workspace
 * key: an ed25519 key named as the log's origin, made on first use and
 * kept in the key folder (keys.h), outside the workspace, so that someone
 * who can rewrite the workspace cannot sign a checkpoint of the rewrite.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_workspace_key(aipm_key *k, char *path, size_t cap, aipm_store *st,
                      int *found, aipm_error *err)
{
    char origin[AIPM_ORIGIN_MAX];
    struct stat sb;
    int rc;

    *found = 0;
    if ((rc = aipm_audit_origin(st, origin, err)) != 0 ||
        (rc = aipm_key_path(path, cap, origin, err)) != 0)
        return rc;
    if (lstat(path, &sb) != 0)
        return AIPM_OK;
    if ((rc = aipm_key_load(k, path, err)) != 0)
        return rc;
    *found = 1;
    return AIPM_OK;
}

/* ---- aipm audit checkpoint ---- */

static int checkpoint(workspace *ws, const char *out, const char *key_out)
{
    aipm_error err = {0, ""};
    aipm_key key = {0};
    char key_path[4300], vkey[AIPM_VKEY_MAX], origin[AIPM_ORIGIN_MAX];
    char root_hex[65], *note = NULL, *detail = NULL;
    uint8_t root[32], head[32];
    uint64_t size = 0;
    int64_t last = 0;
    int found = 0, created = 0, rc, in_tx = 0;
    json_t *d = NULL;

    if ((rc = cli_workspace_key(&key, key_path, sizeof(key_path), ws->store,
                                &found, &err)) != 0)
        goto done;
    if (!found) {
        /* First use: a new key, kept outside the workspace. */
        if ((rc = aipm_audit_origin(ws->store, origin, &err)) != 0 ||
            (rc = aipm_key_generate(&key, origin, &err)) != 0 ||
            (rc = aipm_key_save(&key, key_path, 0, &err)) != 0)
            goto done;
        created = 1;
    }
    aipm_key_verifier(&key, vkey);
    if ((rc = aipm_store_begin(ws->store, &err)) != 0)
        goto done;
    in_tx = 1;
    /* The head signed is read in the transaction that records it, so the
     * entry names exactly the checkpoint the note holds. */
    if ((rc = aipm_store_audit_last(ws->store, &last, root, &found, &err)) != 0)
        goto done;
    if ((rc = aipm_checkpoint_sign(&note, key.name, (uint64_t)last, root, &key,
                                   &err)) != 0)
        goto done;
    aipm_hex(root_hex, root, 32);
    d = json_pack("{s:I, s:s, s:s}", "size", (json_int_t)last, "root_hash",
                  root_hex, "key", vkey);
    detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
    if (detail == NULL) {
        rc = aipm_error_set(&err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_audit_append(ws->store, "checkpoint", key.name, detail,
                                &size, head, &err)) != 0)
        goto done;
    /* The files before the commit: a checkpoint the log records is one
     * that was saved. */
    if (out && (rc = aipm_file_write(out, note, strlen(note), 0600, &err)) != 0)
        goto done;
    if (key_out) {
        char line[AIPM_VKEY_MAX + 1];
        int n = snprintf(line, sizeof(line), "%s\n", vkey);

        if ((rc = aipm_file_write(key_out, line, (size_t)n, 0644, &err)) != 0)
            goto done;
    }
    if ((rc = aipm_audit_commit(ws->store, ws->checkpoint, size, head, &err)) !=
        0)
        goto done;
    in_tx = 0;
    if (g_cli.json) {
        json_t *o =
            json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:I}", "checkpoint",
                      note, "origin", key.name, "size", (json_int_t)last,
                      "root_hash", root_hex, "key", vkey, "key_file", key_path,
                      "key_created", created, "audit_entry", (json_int_t)size);

        json_object_set_new(o, "out", out ? json_string(out) : json_null());
        json_object_set_new(o, "key_out",
                            key_out ? json_string(key_out) : json_null());
        cli_print_json(o);
        json_decref(o);
    } else {
        if (out == NULL)
            fputs(note, stdout);
        fprintf(stderr,
                "aipm: signed checkpoint of %lld entries%s%s (audit entry "
                "%llu)\n"
                "aipm: verifier key: %s\n"
                "aipm: %s key: %s (keep it outside the workspace)\n",
                (long long)last, out ? " written to " : "",
                out ? cli_text(out) : "", (unsigned long long)size, vkey,
                created ? "new secret" : "secret", key_path);
    }
done:
    if (in_tx)
        aipm_store_rollback(ws->store);
    explicit_bzero(&key, sizeof(key)); /* the secret key */
    json_decref(d);
    free(detail);
    free(note);
    return rc ? cli_fail(&err) : EXIT_OK;
}

int cmd_audit_checkpoint(int argc, char **argv)
{
    static const char *const value_opts[] = {"--out", "--key-out", NULL};
    const char *out = NULL, *key_out = NULL;
    workspace ws;
    int i, rc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--key-out") == 0 && i + 1 < argc)
            key_out = argv[++i];
        else
            return cli_bad_option("audit checkpoint", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = checkpoint(&ws, out, key_out);
    ws_close(&ws);
    return rc;
}

/* ---- aipm audit prove ---- */

typedef struct entry_at {
    int64_t seq;
    char *entry;
    size_t len;
} entry_at;

static int find_entry(void *ctx, const aipm_audit_row *row)
{
    entry_at *e = ctx;

    if (row->seq != e->seq)
        return 0;
    e->entry = malloc(row->entry_len + 1);
    if (e->entry == NULL)
        return -1;
    memcpy(e->entry, row->entry, row->entry_len);
    e->entry[row->entry_len] = '\0';
    e->len = row->entry_len;
    return 1;
}

/* The size and root of a checkpoint file in either form. */
static int read_cp(uint64_t *size, uint8_t root[32], const char *path)
{
    aipm_checkpoint *cp = malloc(sizeof(*cp));
    aipm_error err = {0, ""};
    char *text = NULL, *end;
    size_t len = 0, i;
    int rc = -1;

    if (cp == NULL ||
        aipm_file_read(&text, &len, path, AIPM_NOTE_MAX, &err) != AIPM_OK)
        goto done;
    if (aipm_checkpoint_parse(cp, text, len, &err) == AIPM_OK) {
        *size = cp->size;
        memcpy(root, cp->root, 32);
        rc = 0;
        goto done;
    }
    /* the plain form, "<size> <64 hex>\n" */
    if (len != strlen(text) || text[0] < '0' || text[0] > '9')
        goto done;
    *size = strtoull(text, &end, 10);
    if (*end != ' ' || strlen(end + 1) < 64 ||
        (end[65] != '\0' && strcmp(end + 65, "\n") != 0))
        goto done;
    for (i = 0; i < 32; i++) {
        unsigned v;

        if (sscanf(end + 1 + 2 * i, "%2x", &v) != 1 ||
            strspn(end + 1 + 2 * i, "0123456789abcdefABCDEF") < 2)
            goto done;
        root[i] = (uint8_t)v;
    }
    rc = 0;
done:
    free(text);
    free(cp);
    return rc;
}

static int prove(workspace *ws, int64_t seq, int64_t size_opt,
                 const char *cp_file)
{
    aipm_merkle_proof *proof = malloc(sizeof(*proof));
    aipm_error err = {0, ""};
    entry_at at = {seq, NULL, 0};
    uint8_t last_root[32], cp_root[32], leaf[32];
    uint64_t size, cp_size = 0;
    int64_t last = 0;
    char hex[65];
    int found = 0, rc = EXIT_OK;
    size_t i;

    if (proof == NULL) {
        aipm_error_set(&err, AIPM_ENOMEM, "out of memory");
        rc = cli_fail(&err);
        goto done;
    }
    if (aipm_store_audit_last(ws->store, &last, last_root, &found, &err) != 0) {
        rc = cli_fail(&err);
        goto done;
    }
    if (cp_file && read_cp(&cp_size, cp_root, cp_file) != 0) {
        rc = cli_usage_error("--checkpoint %s: not a checkpoint (a signed "
                             "note, or \"size head\")",
                             cli_text(cp_file));
        goto done;
    }
    size = cp_file        ? cp_size
           : size_opt > 0 ? (uint64_t)size_opt
                          : (uint64_t)last;
    if (size > (uint64_t)last) {
        rc = cli_usage_error("the audit log has %lld entries, fewer than %llu; "
                             "see aipm audit verify",
                             (long long)last, (unsigned long long)size);
        goto done;
    }
    if ((uint64_t)seq > size) {
        rc = cli_usage_error("entry %lld is not in a tree of %llu entries",
                             (long long)seq, (unsigned long long)size);
        goto done;
    }
    if (aipm_audit_inclusion_proof(ws->store, (uint64_t)seq - 1, size, proof,
                                   &err) != 0 ||
        aipm_store_audit_list(ws->store, find_entry, &at, &err) < 0) {
        rc = cli_fail(&err);
        goto done;
    }
    if (at.entry == NULL) {
        rc = cli_usage_error("no audit entry %lld", (long long)seq);
        goto done;
    }
    /* The proof is of the stored leaf; the entry must still be its bytes. */
    aipm_merkle_leaf(leaf, at.entry, at.len);
    if (memcmp(leaf, proof->leaf, 32) != 0) {
        fprintf(stderr,
                "aipm: audit entry %lld no longer matches its leaf hash "
                "(edited); run aipm audit verify\n",
                (long long)seq);
        rc = EXIT_BLOCKED;
        goto done;
    }
    if (cp_file && memcmp(cp_root, proof->root, 32) != 0) {
        fprintf(stderr,
                "aipm: the log's head at %llu entries is not the root of %s "
                "(the log was rewritten, or the checkpoint is of another "
                "log); run aipm audit verify --checkpoint %s\n",
                (unsigned long long)size, cli_text(cp_file), cli_text(cp_file));
        rc = EXIT_BLOCKED;
        goto done;
    }
    if (g_cli.json) {
        json_t *o =
            json_pack("{s:I, s:I, s:I}", "seq", (json_int_t)seq, "leaf_index",
                      (json_int_t)(seq - 1), "tree_size", (json_int_t)size);
        json_t *path = json_array();

        if (aipm_utf8_valid(at.entry, at.len) &&
            memchr(at.entry, 0, at.len) == NULL)
            json_object_set_new(o, "entry", json_stringn(at.entry, at.len));
        else {
            char *h = malloc(2 * at.len + 1);

            if (h)
                aipm_hex(h, (const uint8_t *)at.entry, at.len);
            json_object_set_new(o, "entry_hex", json_string(h ? h : ""));
            free(h);
        }
        aipm_hex(hex, proof->leaf, 32);
        json_object_set_new(o, "leaf_hash", json_string(hex));
        aipm_hex(hex, proof->root, 32);
        json_object_set_new(o, "root_hash", json_string(hex));
        for (i = 0; i < proof->count; i++) {
            aipm_hex(hex, proof->path[i], 32);
            json_array_append_new(path, json_string(hex));
        }
        json_object_set_new(o, "audit_path", path);
        json_object_set_new(o, "checkpoint",
                            cp_file ? json_string(cp_file) : json_null());
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("entry %lld (leaf index %lld) in the tree of %llu entries\n",
               (long long)seq, (long long)seq - 1, (unsigned long long)size);
        printf("entry:      ");
        cli_print_raw(stdout, at.entry, at.len, at.len);
        aipm_hex(hex, proof->leaf, 32);
        printf("\nleaf hash:  %s\n", hex);
        aipm_hex(hex, proof->root, 32);
        printf("root hash:  %s%s\n", hex,
               cp_file ? " (the checkpoint's root)" : "");
        printf("audit path: %zu hashes, from the leaf up\n", proof->count);
        for (i = 0; i < proof->count; i++) {
            aipm_hex(hex, proof->path[i], 32);
            printf("  %s\n", hex);
        }
    }
done:
    free(at.entry);
    free(proof);
    return rc;
}

int cmd_audit_prove(int argc, char **argv)
{
    static const char *const value_opts[] = {"--size", "--checkpoint", NULL};
    const char *cp_file = NULL, *seq_arg = NULL;
    int64_t seq = 0, size = 0;
    workspace ws;
    int i, rc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &size) != 0)
                return cli_usage_error("--size %s: a tree size is a positive "
                                       "whole number",
                                       cli_text(argv[i]));
        } else if (strcmp(argv[i], "--checkpoint") == 0 && i + 1 < argc)
            cp_file = argv[++i];
        else if (seq_arg == NULL && argv[i][0] != '-')
            seq_arg = argv[i];
        else
            return cli_bad_option("audit prove", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if (seq_arg == NULL)
        return cli_usage_error("audit prove needs the entry's number (SEQ, as "
                               "in aipm audit log)");
    if (cli_parse_i64(seq_arg, &seq) != 0)
        return cli_usage_error("%s: an entry number is a positive whole "
                               "number, as in aipm audit log",
                               cli_text(seq_arg));
    if (cp_file && size)
        return cli_usage_error("--size and --checkpoint both give the tree "
                               "size; give one");
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    rc = prove(&ws, seq, size, cp_file);
    ws_close(&ws);
    return rc;
}
