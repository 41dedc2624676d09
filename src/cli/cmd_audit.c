/* cmd_audit.c - `aipm audit log|verify|export` (checkpoint and prove:
 * cmd_audit_proof.c). */
#include "aipm/decision.h"
#include "aipm/govern.h"
#include "views.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int one(void *ctx, const aipm_audit_row *r)
{
    json_error_t jerr;
    json_t *e = json_loadb(r->entry, r->entry_len, 0, &jerr);

    (void)ctx;
    if (e == NULL) {
        printf("%5lld  (unreadable entry)\n", (long long)r->seq);
        return 0;
    }
    {
        char *detail = json_dumps(json_object_get(e, "detail"),
                                  JSON_COMPACT | JSON_SORT_KEYS);

        printf("%5lld  %s  %-10s %-8s %-12s %s\n", (long long)r->seq,
               json_string_value(json_object_get(e, "time")),
               cli_text(json_string_value(json_object_get(e, "actor"))),
               json_string_value(json_object_get(e, "action")),
               cli_text(json_string_value(json_object_get(e, "object"))),
               cli_text(detail));
        free(detail);
    }
    json_decref(e);
    return 0;
}

/* `audit export`: one JSON line per entry, in log order: its seq, its
 * exact bytes (as a string, or as hex when they are not UTF-8), its leaf
 * hash and the tree head after it, as stored. Streams: memory does not
 * grow with the log. */
static int export_one(void *ctx, const aipm_audit_row *r)
{
    char leaf[65], root[65];
    json_t *o;
    char *line;

    (void)ctx;
    aipm_hex(leaf, r->leaf, 32);
    aipm_hex(root, r->root, 32);
    o = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)r->seq, "leaf_hash",
                  leaf, "tree_head", root);
    if (o == NULL)
        return -1;
    if (aipm_utf8_valid(r->entry, r->entry_len) &&
        memchr(r->entry, 0, r->entry_len) == NULL)
        json_object_set_new(o, "entry", json_stringn(r->entry, r->entry_len));
    else {
        char *hex = malloc(2 * r->entry_len + 1);

        if (hex == NULL) {
            json_decref(o);
            return -1;
        }
        aipm_hex(hex, (const uint8_t *)r->entry, r->entry_len);
        json_object_set_new(o, "entry_hex", json_string(hex));
        free(hex);
    }
    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (line == NULL)
        return -1;
    puts(line);
    free(line);
    return 0;
}

static int export(workspace *ws)
{
    aipm_error err = {0, ""};
    int rc = aipm_store_audit_list(ws->store, export_one, NULL, &err);

    if (rc == -1)
        aipm_error_set(&err, AIPM_ENOMEM, "out of memory");
    if (rc)
        return cli_fail(&err);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
}

/* The human verify's problems, on stderr as they are found (the --json
 * document lists them: views.c). */
static void data_problem(void *ctx, const char *id, const char *problem)
{
    (void)ctx;
    fprintf(stderr, "aipm: decision %s: %s\n", cli_text(id), problem);
}

static void sig_problem(void *ctx, const char *where, const char *problem)
{
    (void)ctx;
    fprintf(stderr, "aipm: %s %s: %s\n",
            strspn(where, "0123456789") == strlen(where) ? "entry" : "record",
            cli_text(where), problem);
}

static void batch_problem(void *ctx, const char *object, const char *problem)
{
    (void)ctx;
    fprintf(stderr, "aipm: %s: %s\n", cli_text(object), problem);
}

/* Signatures: people, keys and acts replayed from the log (govern.h),
 * their summary on stdout. The number of problems, or -1 with err set. */
static int64_t check_signatures(workspace *ws, aipm_error *err)
{
    aipm_govern_check gc;

    if (aipm_govern_verify(ws->store, &gc, sig_problem, NULL, err) != AIPM_OK)
        return -1;
    if (gc.bad == 0 && gc.users + gc.keys + gc.acts > 0)
        printf("people: %lld user and %lld key changes, %lld approvals, "
               "rejections and overrides; %lld signatures valid%s\n",
               (long long)gc.users, (long long)gc.keys, (long long)gc.acts,
               (long long)gc.signatures,
               gc.bootstrap ? " (the first admin's setup is unsigned)" : "");
    return gc.bad;
}

/* verify's human output: what view_audit_verify finds, said as it is
 * found, into res. An exit code. */
static int verify_human(workspace *ws, const char *kept, const aipm_key *vkey,
                        int data, view_verify_result *res)
{
    aipm_audit_report *rep = &res->report;
    aipm_decision_check *dc = &res->decisions;
    aipm_batch_check *bc = &res->batches;
    aipm_error err = {0, ""};
    char head[65];

    memset(res, 0, sizeof(*res));
    if (aipm_audit_verify_signed(ws->store, ws->checkpoint, kept, vkey, rep,
                                 &err) != 0)
        return cli_fail(&err);
    if (data && rep->first_bad == 0 &&
        (aipm_decision_verify(ws->store, dc, data_problem, NULL, &err) !=
             AIPM_OK ||
         aipm_batch_verify(ws->store, bc, batch_problem, NULL, &err) !=
             AIPM_OK))
        return cli_fail(&err);
    if (rep->kept_bad)
        snprintf(res->problem, sizeof(res->problem),
                 "against the kept checkpoint %s: %s", kept, rep->problem);
    else
        snprintf(res->problem, sizeof(res->problem), "%s", rep->problem);
    if (rep->first_bad)
        return EXIT_OK;
    aipm_hex(head, rep->head, 32);
    printf("audit log intact: %llu entries, tree head %s\n",
           (unsigned long long)rep->size, head);
    if (kept)
        printf("it extends the kept %scheckpoint %s (%llu entries)%s\n",
               rep->kept_note ? "signed " : "", cli_text(kept),
               (unsigned long long)rep->kept_size,
               rep->kept_signature == AIPM_NOTE_SIGNED ? ", signature good"
                                                       : "");
    if (data && dc->bad == 0)
        printf("data: %lld decision records, each output matches its "
               "digest and its audit entry%s\n",
               (long long)(dc->records - dc->not_stored),
               dc->not_stored ? " (older records without a stored "
                                "output are not checked)"
                              : "");
    if (data && bc->bad == 0)
        printf("data: %lld dataset batches, each status as the log says; "
               "%lld stored rows hash to their ingest entries%s\n",
               (long long)bc->batches, (long long)bc->rows,
               bc->not_hashed ? " (batches ingested before rows were "
                                "hashed: status only)"
                              : "");
    if ((res->signature_problems = check_signatures(ws, &err)) < 0)
        return cli_fail(&err);
    return EXIT_OK;
}

/* verify against the workspace's checkpoint, then, when the log is intact
 * and kept is not NULL, against a checkpoint kept outside the workspace:
 * the log must extend it (the head recomputed at its size must be its
 * head), which catches a rewrite by someone who could also rewrite the
 * workspace's own checkpoint. The document (--json) or the human lines,
 * then the same warnings and exit code. */
static int verify(workspace *ws, const char *kept, const aipm_key *vkey,
                  int data)
{
    const aipm_audit_report *rep;
    const aipm_decision_check *dc;
    const aipm_batch_check *bc;
    view_verify_result res;
    aipm_error err = {0, ""};
    int rc;

    if (g_cli.json) {
        json_t *doc = NULL;

        if (view_audit_verify(ws->store, ws->checkpoint, kept, vkey, data, &doc,
                              &res, &err) != AIPM_OK)
            return cli_fail(&err);
        cli_print_json(doc);
        json_decref(doc);
    } else if ((rc = verify_human(ws, kept, vkey, data, &res)) != EXIT_OK)
        return rc;
    rep = &res.report;
    dc = &res.decisions;
    bc = &res.batches;
    if (rep->first_bad == 0 && rep->kept_note &&
        rep->kept_signature == AIPM_NOTE_UNCHECKED)
        fprintf(stderr,
                "aipm: warning: the signature of %s was not checked: no "
                "verifier key (give --key FILE, or keep the workspace key in "
                "the key folder)\n",
                cli_text(kept));
    /* The log is intact but its copy of the head outside the store lags:
     * deleting the newest entries would go unnoticed until it is
     * repaired, which the next write command does. */
    if (rep->checkpoint == AIPM_CHECKPOINT_MISSING)
        fprintf(stderr,
                "aipm: warning: the audit checkpoint %s is missing, so "
                "deleted newest entries could not be detected; the next "
                "write command recreates it (with an audit entry)\n",
                ws->checkpoint);
    else if (rep->checkpoint == AIPM_CHECKPOINT_BEHIND)
        fprintf(stderr,
                "aipm: warning: the audit checkpoint %s records %llu entries "
                "but the log has %llu (a command was interrupted after its "
                "commit); the next write command repairs it (with an audit "
                "entry)\n",
                ws->checkpoint, (unsigned long long)rep->checkpoint_size,
                (unsigned long long)rep->size);
    if (rep->first_bad) {
        fprintf(stderr, "aipm: audit log NOT intact: entry %lld: %s\n",
                (long long)rep->first_bad, cli_text(res.problem));
        return EXIT_BLOCKED;
    }
    if (res.signature_problems) {
        fprintf(stderr,
                "aipm: signatures NOT intact: %lld problems with people, "
                "keys or approvals\n",
                (long long)res.signature_problems);
        return EXIT_BLOCKED;
    }
    if (dc->bad || bc->bad) {
        fprintf(stderr, "aipm: data NOT intact:");
        if (dc->bad)
            fprintf(stderr, " %lld of %lld decision records%s",
                    (long long)dc->bad, (long long)dc->records,
                    bc->bad ? " and" : "");
        if (bc->bad)
            fprintf(stderr, " %lld batch problems", (long long)bc->bad);
        fprintf(stderr, " differ from what was recorded\n");
        return EXIT_BLOCKED;
    }
    return EXIT_OK;
}

/* --key FILE: a verifier key text. */
static int read_verifier(aipm_key *k, const char *path)
{
    aipm_error err = {0, ""};
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = aipm_file_read(&text, &len, path, 4096, &err)) != 0)
        return cli_usage_error("--key %s: %s", cli_text(path), err.msg);
    rc = strlen(text) != len ? AIPM_EINVALID
                             : aipm_key_parse_verifier(k, text, &err);
    free(text);
    if (rc != 0)
        return cli_usage_error("--key %s: %s", cli_text(path),
                               err.msg[0] ? err.msg : "not a verifier key");
    return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    const char *sub = argc > 1 ? argv[1] : NULL;
    int rc;

    if (g_cli.help || sub == NULL) {
        fprintf(g_cli.help ? stdout : stderr,
                "usage: aipm audit log\n"
                "       aipm audit verify [--checkpoint FILE [--key VKEY]] "
                "[--data]\n"
                "       aipm audit export [--format jsonl]\n"
                "       aipm audit checkpoint [--out FILE] [--key-out FILE]\n"
                "       aipm audit prove SEQ [--size N | --checkpoint FILE]\n"
                "\n"
                "Every state change (init, ingest, accept, reject, revert,\n"
                "feedback links, decision records) is an entry of an\n"
                "append-only log. Each entry is an RFC 6962 Merkle leaf; the\n"
                "tree head after every entry is kept, and a copy of the\n"
                "latest in the workspace's audit-checkpoint file. verify\n"
                "recomputes all of it: exit 0 when intact, 3 naming the\n"
                "first entry that was edited, deleted or reordered. It also\n"
                "replays the people, keys and approvals the log records and\n"
                "checks every signature against the key registered then\n"
                "(exit 3 names each forged or unauthorised one).\n"
                "\n"
                "--checkpoint FILE also checks the log against a copy of\n"
                "audit-checkpoint kept outside the workspace (cp it away\n"
                "after a command): the log must extend it. Someone who can\n"
                "write the workspace can rewrite the log and its checkpoint\n"
                "together; they cannot rewrite the copy you kept.\n"
                "FILE may also be a signed checkpoint (below): its signature\n"
                "is checked with the verifier key in VKEY (a file), else the\n"
                "workspace key's, and the log must extend it by an RFC 9162\n"
                "consistency proof from its size to the log's.\n"
                "\n"
                "checkpoint signs the log's current size and root hash as a\n"
                "C2SP tlog-checkpoint note (stdout, or --out FILE, 0600),\n"
                "with the workspace key: ed25519, named as the log's origin,\n"
                "made on first use in the key folder ($AIPM_KEYS, else\n"
                "~/.config/aipm/keys), outside the workspace. It prints the\n"
                "verifier key (--key-out FILE writes it) and records an audit\n"
                "entry. Keep the note, and the verifier key, elsewhere.\n"
                "\n"
                "prove prints an RFC 9162 inclusion proof of entry SEQ in the\n"
                "tree of N entries (default: the whole log; --checkpoint:\n"
                "the checkpoint's size, whose root it must have): the entry,\n"
                "its leaf hash, the root hash and the audit path. The README\n"
                "checks one with a few lines of Python.\n"
                "\n"
                "--data also checks every decision record: its stored output\n"
                "must hash to its recorded digest, and its audit entry must\n"
                "hold the same digest; and every dataset batch: its status\n"
                "must be the one the log gives it, and its stored rows must\n"
                "hash to the rows_sha256 of its ingest entry. Exit 3 names\n"
                "each record or batch that differs.\n"
                "\n"
                "export writes the log for an auditor, one JSON object per\n"
                "line, oldest first: seq, entry (its exact bytes; entry_hex\n"
                "when they are not UTF-8), leaf_hash and tree_head. The\n"
                "README's \"Verifying an export\" says how to check it with\n"
                "nothing but SHA-256.\n");
        return g_cli.help ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(sub, "verify") == 0) {
        static const char *const value_opts[] = {"--checkpoint", "--key", NULL};
        static const char *const flag_opts[] = {"--data", NULL};
        const char *kept = NULL, *key_file = NULL;
        aipm_key vkey;
        struct stat sb;
        int i, data = 0, have_key = 0;

        for (i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--checkpoint") == 0 && i + 1 < argc)
                kept = argv[++i];
            else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
                key_file = argv[++i];
            else if (strcmp(argv[i], "--data") == 0)
                data = 1;
            else
                return cli_bad_option("audit verify", argv[i], i + 1 == argc,
                                      value_opts, flag_opts);
        }
        if (kept && (stat(kept, &sb) != 0 || !S_ISREG(sb.st_mode)))
            return cli_usage_error("--checkpoint %s: no such checkpoint file",
                                   cli_text(kept));
        if (key_file && kept == NULL)
            return cli_usage_error("--key checks a signed --checkpoint FILE; "
                                   "give one");
        if (key_file && (rc = read_verifier(&vkey, key_file)) != 0)
            return rc;
        have_key = key_file != NULL;
        if ((rc = ws_open_ro(&ws)) != 0)
            return rc;
        /* Without --key, the workspace key's verifier, when it is in the
         * key folder. */
        if (kept && !have_key) {
            char path[4300];

            if (cli_workspace_key(&vkey, path, sizeof(path), ws.store,
                                  &have_key, &err) != 0) {
                fprintf(stderr, "aipm: warning: %s\n", err.msg);
                have_key = 0;
            }
        }
        rc = verify(&ws, kept, have_key ? &vkey : NULL, data);
        explicit_bzero(&vkey, sizeof(vkey));
        ws_close(&ws);
        return rc;
    }
    if (strcmp(sub, "checkpoint") == 0)
        return cmd_audit_checkpoint(argc, argv);
    if (strcmp(sub, "prove") == 0)
        return cmd_audit_prove(argc, argv);
    if (strcmp(sub, "export") == 0) {
        static const char *const value_opts[] = {"--format", NULL};
        int i;

        for (i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
                if (strcmp(argv[++i], "jsonl") != 0)
                    return cli_usage_error(
                        "--format %s: the export format is jsonl",
                        cli_text(argv[i]));
            } else
                return cli_bad_option("audit export", argv[i], i + 1 == argc,
                                      value_opts, NULL);
        }
        if ((rc = ws_open_ro(&ws)) != 0)
            return rc;
        rc = export(&ws);
        ws_close(&ws);
        return rc;
    }
    if (argc > 2 || strcmp(sub, "log") != 0)
        return cli_bad_subcommand("audit", sub,
                                  (const char *const[]){"log", "verify",
                                                        "export", "checkpoint",
                                                        "prove", NULL});
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json)
        rc = view_audit_entries(ws.store, &doc, &err);
    else
        rc = aipm_store_audit_list(ws.store, one, NULL, &err);
    ws_close(&ws);
    if (rc)
        return cli_fail(&err);
    if (doc) {
        cli_print_json(doc);
        json_decref(doc);
    }
    return EXIT_OK;
}
