/* cmd_users.c - `aipm users add|list` and `aipm keys generate|show`: the
 * people who act on decisions, their roles and their signing keys. */
#include "aipm/govern.h"
#include "views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void users_help(void)
{
    printf("usage: aipm users add NAME --role ROLE [--by ADMIN]\n"
           "       aipm users list\n"
           "\n"
           "The people who act on decisions. Roles: viewer (reads), analyst\n"
           "(runs analyses), approver (approves, rejects, overrides\n"
           "decisions), admin (all of that, and manages people and keys).\n"
           "\n"
           "  add    add NAME with ROLE, or change NAME's role. Once an\n"
           "         admin has a key, every change is signed by an admin:\n"
           "         --by ADMIN, whose secret key is in the key folder. In a\n"
           "         new workspace, add the first admin and give them a key\n"
           "         (`aipm keys generate --as NAME`) before anyone else.\n"
           "  list   everyone, with role and key ID\n"
           "\n"
           "Each change is an audit entry; `aipm audit verify` replays them\n"
           "and checks every signature. --json: list gives {\"users\":\n"
           "[{\"name\", \"role\", \"key\"}]}.\n");
}

static void keys_help(void)
{
    printf("usage: aipm keys generate --as NAME [--by ADMIN] [--rotate]\n"
           "       aipm keys show --as NAME\n"
           "\n"
           "ed25519 signing keys (libsodium), in the C2SP signed-note text\n"
           "forms. The secret key is a file of mode 0600 in the key folder,\n"
           "outside the store: $AIPM_KEYS, else $XDG_CONFIG_HOME/aipm/keys,\n"
           "else ~/.config/aipm/keys. The store and the audit log hold only\n"
           "the public (verifier) key.\n"
           "\n"
           "  generate  make NAME's key pair (or use the one already in the\n"
           "            key folder) and register its verifier key, signed by\n"
           "            the key itself and by an admin (--by ADMIN; the first\n"
           "            admin's own first key needs none). --rotate replaces\n"
           "            a registered key with a new one\n"
           "  show      NAME's registered verifier key and secret key file\n"
           "\n"
           "--json: {\"user\", \"verifier_key\", \"secret_key_file\"}.\n");
}

static int list_one(void *ctx, const aipm_user_row *r)
{
    const char *key = r->verifier_key;
    char id[16] = "-";
    const char *plus;

    /* the key ID: the 8 hex digits after the name */
    (void)ctx;
    if (key && (plus = strchr(key, '+')) != NULL)
        snprintf(id, sizeof(id), "%.8s", plus + 1);
    printf("%-20s  %-8s  %s\n", cli_text(r->name), r->role, id);
    return 0;
}

static int users_list(int argc, char **argv)
{
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    workspace ws;
    int rc;

    if (argc > 2)
        return cli_bad_option("users list", argv[2], argc == 3, NULL, NULL);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json)
        rc = view_users(ws.store, &doc, &err);
    else {
        printf("%-20s  %-8s  %s\n", "name", "role", "key");
        rc = aipm_store_user_list(ws.store, NULL, list_one, NULL, &err);
    }
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (doc) {
        cli_print_json(doc);
        json_decref(doc);
    }
    return EXIT_OK;
}

static int users_add(int argc, char **argv)
{
    static const char *const value_opts[] = {"--role", "--by", NULL};
    const char *name = NULL, *role = NULL, *by = NULL;
    aipm_error err = {0, ""};
    workspace ws;
    int i, rc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc)
            by = argv[++i];
        else if (argv[i][0] != '-' && name == NULL)
            name = argv[i];
        else
            return cli_bad_option("users add", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if (name == NULL || role == NULL)
        return cli_usage_error(
            "usage: aipm users add NAME --role viewer|analyst|approver|admin "
            "[--by ADMIN]");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = aipm_user_set(ws.store, name, role, by, aipm_now_ms(), ws.checkpoint,
                       &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json) {
        json_t *doc = json_pack("{s:s, s:s}", "name", name, "role", role);

        cli_print_json(doc);
        json_decref(doc);
    } else
        printf("%s is %s %s%s\n", cli_text(name),
               strcmp(role, "viewer") != 0 ? "an" : "a", role,
               by ? " (signed)" : "");
    return EXIT_OK;
}

int cmd_users(int argc, char **argv)
{
    if (g_cli.help || argc < 2) {
        users_help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "add") == 0)
        return users_add(argc, argv);
    if (strcmp(argv[1], "list") == 0)
        return users_list(argc, argv);
    return cli_bad_subcommand("users", argv[1],
                              (const char *const[]){"add", "list", NULL});
}

/* ---- keys ---- */

typedef struct who {
    int found;
    char role[16];
    char vkey[AIPM_VKEY_MAX];
} who;

static int who_one(void *ctx, const aipm_user_row *r)
{
    who *w = ctx;

    w->found = 1;
    snprintf(w->role, sizeof(w->role), "%s", r->role);
    snprintf(w->vkey, sizeof(w->vkey), "%s",
             r->verifier_key ? r->verifier_key : "");
    return 0;
}

static void print_key(const char *name, const char *vkey, const char *path,
                      const char *what)
{
    if (g_cli.json) {
        json_t *doc = json_pack("{s:s, s:s, s:s}", "user", name, "verifier_key",
                                vkey, "secret_key_file", path);

        cli_print_json(doc);
        json_decref(doc);
        return;
    }
    if (what)
        printf("%s\n", what);
    printf("verifier key     %s\n", cli_text(vkey));
    printf("secret key file  %s (mode 0600; keep it, never share it)\n",
           cli_text(path));
}

static int keys_generate(int argc, char **argv, int show)
{
    static const char *const value_opts[] = {"--as", "--by", NULL};
    const char *name = NULL, *by = NULL;
    char path[4200], fresh[4210], vkey[AIPM_VKEY_MAX], line[512];
    aipm_error err = {0, ""};
    int i, rc, rotate = 0, made = 0;
    struct stat sb;
    workspace ws;
    aipm_key k;
    who w;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (!show && strcmp(argv[i], "--by") == 0 && i + 1 < argc)
            by = argv[++i];
        else if (!show && strcmp(argv[i], "--rotate") == 0)
            rotate = 1;
        else
            return cli_bad_option(show ? "keys show" : "keys generate", argv[i],
                                  i + 1 == argc, value_opts, NULL);
    }
    if (name == NULL)
        return cli_usage_error("usage: aipm keys %s --as NAME",
                               show ? "show" : "generate");
    if (aipm_key_path(path, sizeof(path), name, &err) != AIPM_OK)
        return cli_fail(&err);
    if ((rc = show ? ws_open_ro(&ws) : ws_open(&ws)) != 0)
        return rc;
    memset(&w, 0, sizeof(w));
    memset(&k, 0, sizeof(k));
    rc = aipm_store_user_list(ws.store, name, who_one, &w, &err);
    if (rc != AIPM_OK) {
        ws_close(&ws);
        return cli_fail(&err);
    }
    if (!w.found) {
        ws_close(&ws);
        return cli_usage_error("no user %s: add them first with aipm users "
                               "add %s --role ROLE",
                               cli_text(name), cli_text(name));
    }
    if (show) {
        ws_close(&ws);
        if (*w.vkey == '\0')
            return cli_usage_error("%s has no key: run aipm keys generate "
                                   "--as %s",
                                   cli_text(name), cli_text(name));
        print_key(name, w.vkey, path, NULL);
        return EXIT_OK;
    }
    if (*w.vkey && !rotate) {
        ws_close(&ws);
        return cli_usage_error("%s already has a key (%s); --rotate replaces "
                               "it",
                               cli_text(name), w.vkey);
    }
    /* A key already in the folder (made for another workspace) is used
     * again unless rotating; a new one is written beside the old first,
     * and renamed into place only once registered. */
    snprintf(fresh, sizeof(fresh), "%s.new", path);
    if (!rotate && lstat(path, &sb) == 0)
        rc = aipm_key_load(&k, path, &err);
    else if ((rc = aipm_key_generate(&k, name, &err)) == AIPM_OK) {
        rc = aipm_key_save(&k, rotate ? fresh : path, rotate, &err);
        made = 1;
    }
    if (rc == AIPM_OK)
        rc = aipm_user_key_set(ws.store, name, &k, by, aipm_now_ms(),
                               ws.checkpoint, &err);
    ws_close(&ws);
    if (rc == AIPM_OK && rotate && rename(fresh, path) != 0) {
        fprintf(stderr,
                "aipm: the new key is registered but could not be moved "
                "into place: it is in %s; move it to %s\n",
                fresh, path);
        rc = AIPM_EIO;
    } else if (rc != AIPM_OK && rotate && made)
        unlink(fresh);
    aipm_key_verifier(&k, vkey);
    memset(&k, 0, sizeof(k));
    if (rc == AIPM_EIO)
        return EXIT_INTERNAL;
    if (rc != AIPM_OK)
        return cli_fail(&err);
    snprintf(line, sizeof(line), "%s %s's %skey%s",
             rotate ? "rotated" : "registered", name,
             rotate ? ""
             : made ? "new "
                    : "existing ",
             by ? " (signed by the admin)" : "");
    print_key(name, vkey, path, line);
    return EXIT_OK;
}

int cmd_keys(int argc, char **argv)
{
    if (g_cli.help || argc < 2) {
        keys_help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "generate") == 0)
        return keys_generate(argc, argv, 0);
    if (strcmp(argv[1], "show") == 0)
        return keys_generate(argc, argv, 1);
    return cli_bad_subcommand("keys", argv[1],
                              (const char *const[]){"generate", "show", NULL});
}
