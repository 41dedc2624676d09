/* cmd_init.c - `aipm init [DIR]`: a new workspace. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void help(void)
{
    printf("usage: aipm init [DIR]\n"
           "\n"
           "Create a workspace in DIR (default: the -C folder, or .): a\n"
           "commented aipm.yaml and the embedded SQLite store aipm.db.\n"
           "Refuses to touch a folder that already holds a workspace.\n"
           "The creation is the audit log's first entry.\n");
}

int cli_workspace_create(const char *dir, const char *yaml_text, char *abs,
                         size_t abs_cap)
{
    char yaml[4200], db[4200], cp[4200];
    aipm_error err = {0, ""};
    aipm_store *st = NULL;
    struct stat sb;
    uint8_t head[32];
    uint64_t size = 0;
    char detail[8600];
    FILE *f;
    int fd, rc;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cli_usage_error("cannot create %s: %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_usage_error("%s is not a folder", dir);
    snprintf(yaml, sizeof(yaml), "%s/aipm.yaml", dir);
    snprintf(db, sizeof(db), "%s/aipm.db", dir);
    snprintf(cp, sizeof(cp), "%s/audit-checkpoint", dir);
    if (stat(yaml, &sb) == 0 || stat(db, &sb) == 0)
        return cli_usage_error("%s already holds an aipm workspace; nothing "
                               "was changed",
                               dir);
    /* O_EXCL: never overwrite, even if one appeared since the check. */
    fd = open(yaml, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
        return cli_usage_error("cannot write %s: %s", yaml, strerror(errno));
    fputs(yaml_text, f);
    if (fclose(f) != 0)
        return cli_usage_error("cannot write %s: %s", yaml, strerror(errno));
    if ((rc = aipm_store_open(&st, db, 1, &err)) != 0) {
        unlink(yaml); /* leave no half workspace that init would refuse */
        unlink(db);
        return cli_fail(&err);
    }
    if (realpath(dir, abs) == NULL)
        snprintf(abs, abs_cap, "%s", dir);
    {
        json_t *d = json_pack("{s:s, s:s, s:i}", "workspace", abs, "store",
                              aipm_store_namespace(st), "schema_version",
                              aipm_store_schema_version(st));
        char *t = d ? json_dumps(d, JSON_COMPACT) : NULL;

        snprintf(detail, sizeof(detail), "%s", t ? t : "{}");
        free(t);
        json_decref(d);
    }
    rc = aipm_store_begin(st, &err);
    if (rc == 0)
        rc = aipm_audit_append(st, "init", "workspace", detail, &size, head,
                               &err);
    if (rc == 0)
        rc = aipm_store_commit(st, &err);
    if (rc) {
        aipm_store_rollback(st);
        aipm_store_close(st);
        unlink(yaml);
        unlink(db);
        return cli_fail(&err);
    }
    aipm_audit_checkpoint_write(cp, size, head, NULL);
    aipm_store_close(st);
    return EXIT_OK;
}

int cmd_init(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : g_cli.dir;
    char abs[4096];
    int rc;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error("init takes one folder; see `aipm init -h`");
    if ((rc = cli_workspace_create(dir, aipm_config_template(), abs,
                                   sizeof(abs))) != 0)
        return rc;
    if (g_cli.json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "workspace", abs, "config",
                              "aipm.yaml", "store", "aipm.db");

        cli_print_json(o);
        json_decref(o);
    } else {
        printf("Created an aipm workspace in %s\n"
               "  aipm.yaml  the workspace file: catalog, KPIs, experiments, "
               "policies\n"
               "  aipm.db    the store (SQLite)\n"
               "Next: aipm -C %s ingest events FILE.ndjson\n",
               abs, dir);
    }
    return EXIT_OK;
}
