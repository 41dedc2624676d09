/* cmd_tokens.c - `aipm tokens create|list|revoke`: the bearer tokens of
 * the HTTP API (`aipm serve`), each acting with its user's role.
 *
 * A token is printed once, when made; the store keeps only its SHA-256
 * and a hint (its first characters), so list shows the hint and never
 * the token or its digest. */
#include "aipm/govern.h"
#include "views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tokens_help(void)
{
    printf(
        "usage: aipm tokens create --as USER [--name NAME] [--by ADMIN]\n"
        "       aipm tokens list [--user USER]\n"
        "       aipm tokens revoke ID --reason TEXT [--by ADMIN]\n"
        "\n"
        "API tokens for the HTTP API (aipm serve): a request sends one as\n"
        "`Authorization: Bearer TOKEN` and acts with the token's user's\n"
        "role at that moment (viewer reads, analyst writes, approver\n"
        "approves), so a role change applies to tokens already made.\n"
        "\n"
        "  create  make a token for USER, named NAME (default \"default\").\n"
        "          It is shown once: the store keeps only its SHA-256 and\n"
        "          its first 9 characters. Once an admin has a key, the\n"
        "          creation is signed by USER's own key, or by an admin\n"
        "          with --by ADMIN (secret keys from the key folder).\n"
        "  list    the tokens (of USER): id, user, role now, name, hint,\n"
        "          created, revoked\n"
        "  revoke  revoke token ID, saying why; signed as create is\n"
        "\n"
        "Each creation and revocation is a signed audit entry\n"
        "(token.create, token.revoke) that `aipm audit verify` checks.\n"
        "--json: create gives {\"id\", \"user\", \"name\", \"hint\",\n"
        "\"token\"}; list {\"tokens\": [{\"id\", \"user\", \"role\", "
        "\"name\",\n"
        "\"hint\", \"created\", \"created_by\", \"revoked\", \"revoked_by\",\n"
        "\"revoke_reason\"}]}; revoke {\"id\", \"revoked\": true}.\n");
}

static int tokens_create(int argc, char **argv)
{
    static const char *const value_opts[] = {"--as", "--name", "--by", NULL};
    const char *user = NULL, *name = "default", *by = NULL;
    char token[AIPM_TOKEN_LEN + 1];
    aipm_error err = {0, ""};
    int64_t id = 0;
    workspace ws;
    int i, rc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            user = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc)
            by = argv[++i];
        else
            return cli_bad_option("tokens create", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if (user == NULL)
        return cli_usage_error(
            "usage: aipm tokens create --as USER [--name NAME] [--by ADMIN]");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = aipm_token_create(ws.store, user, name, by, aipm_now_ms(),
                           ws.checkpoint, token, &id, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json) {
        json_t *doc =
            json_pack("{s:I, s:s, s:s, s:s#, s:s}", "id", (json_int_t)id,
                      "user", user, "name", name, "hint", token,
                      (int)AIPM_TOKEN_HINT_LEN, "token", token);

        cli_print_json(doc);
        json_decref(doc);
    } else {
        printf("token %lld for %s (%s):\n\n    %s\n\n", (long long)id,
               cli_text(user), cli_text(name), token);
        printf("This is the only time it is shown: keep it now. Send it as\n"
               "`Authorization: Bearer TOKEN`; revoke it with\n"
               "`aipm tokens revoke %lld --reason TEXT`.\n",
               (long long)id);
    }
    memset(token, 0, sizeof(token));
    return EXIT_OK;
}

/* ---- list ---- */

static int role_one(void *ctx, const aipm_user_row *r)
{
    json_object_set_new(ctx, r->name, json_string(r->role));
    return 0;
}

/* ctx: user -> role now */
static int list_one(void *ctx, const aipm_token_row *r)
{
    const char *role = json_string_value(json_object_get(ctx, r->user));
    char created[32], revoked[32] = "-";

    aipm_time_format(created, r->created_ms);
    if (r->revoked_ms)
        aipm_time_format(revoked, r->revoked_ms);
    printf("%-5lld  %-16s  %-8s  %-16s  %-9s...  %-24s  %s%s%s\n",
           (long long)r->id, cli_text(r->user), role ? role : "-",
           cli_text(r->name), cli_text(r->hint), created, revoked,
           r->revoked_ms ? " " : "",
           r->revoked_ms ? cli_text(r->revoke_reason) : "");
    return 0;
}

static int tokens_list(int argc, char **argv)
{
    static const char *const value_opts[] = {"--user", NULL};
    const char *user = NULL;
    aipm_error err = {0, ""};
    json_t *roles = NULL, *doc = NULL;
    workspace ws;
    int i, rc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
            user = argv[++i];
        else
            return cli_bad_option("tokens list", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json) {
        rc = view_tokens(ws.store, user, &doc, &err);
        goto done;
    }
    if ((roles = json_object()) == NULL) {
        rc = aipm_error_set(&err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_store_user_list(ws.store, NULL, role_one, roles, &err)) !=
        AIPM_OK)
        goto done;
    printf("%-5s  %-16s  %-8s  %-16s  %-12s  %-24s  %s\n", "id", "user", "role",
           "name", "hint", "created", "revoked");
    rc = aipm_store_token_list(ws.store, user, list_one, roles, &err);
done:
    ws_close(&ws);
    if (doc)
        cli_print_json(doc);
    json_decref(doc);
    json_decref(roles);
    return rc == AIPM_OK ? EXIT_OK : cli_fail(&err);
}

static int tokens_revoke(int argc, char **argv)
{
    static const char *const value_opts[] = {"--reason", "--by", NULL};
    const char *id_text = NULL, *reason = NULL, *by = NULL;
    aipm_error err = {0, ""};
    int64_t id = 0;
    workspace ws;
    int i, rc;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc)
            by = argv[++i];
        else if (argv[i][0] != '-' && id_text == NULL)
            id_text = argv[i];
        else
            return cli_bad_option("tokens revoke", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if (id_text == NULL || reason == NULL)
        return cli_usage_error(
            "usage: aipm tokens revoke ID --reason TEXT [--by ADMIN]");
    if (cli_parse_i64(id_text, &id) != 0 || id < 1)
        return cli_usage_error("bad token id '%s': the number aipm tokens "
                               "list shows",
                               cli_text(id_text));
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = aipm_token_revoke(ws.store, id, by, reason, aipm_now_ms(),
                           ws.checkpoint, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json) {
        json_t *doc =
            json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1);

        cli_print_json(doc);
        json_decref(doc);
    } else
        printf("token %lld revoked\n", (long long)id);
    return EXIT_OK;
}

int cmd_tokens(int argc, char **argv)
{
    if (g_cli.help || argc < 2) {
        tokens_help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "create") == 0)
        return tokens_create(argc, argv);
    if (strcmp(argv[1], "list") == 0)
        return tokens_list(argc, argv);
    if (strcmp(argv[1], "revoke") == 0)
        return tokens_revoke(argc, argv);
    return cli_bad_subcommand(
        "tokens", argv[1],
        (const char *const[]){"create", "list", "revoke", NULL});
}
