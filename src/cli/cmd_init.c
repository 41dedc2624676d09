/* cmd_init.c - `aipm init [DIR]`: a new workspace.
 *
 * Creation is atomic: the store (with the `init` audit entry), the audit
 * checkpoint and aipm.yaml are built in a private folder .aipm-init.<pid>
 * and then moved into place (a new folder renamed whole; into an existing
 * folder file by file, aipm.yaml last), so a killed init leaves no half
 * workspace that a later init or command would trip on. Every file is
 * 0600: the store holds user ids and emails. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* out = dir/name; -1 when it does not fit in cap (nothing is cut). */
static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* A build folder of a killed init (.aipm-init.<pid>, in or beside the
 * target) whose process is gone: removed with what it holds. */
static void sweep_dead(const char *build)
{
    static const char *const names[] = {"aipm.db",          "aipm.db-wal",
                                        "aipm.db-shm",      "aipm.db-writer",
                                        "audit-checkpoint", "aipm.yaml"};
    char path[4300];
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (path_in(path, sizeof(path), build, names[i]) == 0)
            unlink(path);
    }
    rmdir(build);
}

/* Build the workspace's files in the folder build, as if it were at
 * final (the absolute path the workspace will have): the store with the
 * `init` audit entry, the checkpoint, and aipm.yaml last. */
static int build_files(const char *build, const char *final,
                       const char *yaml_text)
{
    char path[4300], detail[8600], ns[4300];
    aipm_error err = {0, ""};
    aipm_store *st = NULL;
    uint8_t head[32];
    uint64_t size = 0;
    int rc;

    if (path_in(path, sizeof(path), build, "aipm.db") != 0 ||
        path_in(ns, sizeof(ns), final, "aipm.db") != 0)
        return cli_usage_error("workspace path too long: %s", final);
    if ((rc = aipm_store_open(&st, path, AIPM_STORE_CREATE, &err)) != 0)
        return cli_fail(&err);
    /* The entry names where the workspace will be, not the build folder. */
    {
        json_t *d = json_pack("{s:s, s:s+, s:i}", "workspace", final, "store",
                              "sqlite:", ns, "schema_version",
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
    if (rc)
        aipm_store_rollback(st);
    aipm_store_close(st); /* the last connection: -wal and -shm go away */
    if (rc)
        return cli_fail(&err);
    if (path_in(path, sizeof(path), build, "audit-checkpoint") != 0)
        return cli_usage_error("workspace path too long: %s", build);
    if ((rc = aipm_audit_checkpoint_write(path, size, head, &err)) != 0)
        return cli_fail(&err);
    if (path_in(path, sizeof(path), build, "aipm.yaml") != 0)
        return cli_usage_error("workspace path too long: %s", build);
    if ((rc = aipm_file_write(path, yaml_text, strlen(yaml_text), 0600,
                              &err)) != 0)
        return cli_fail(&err);
    /* For the tests of atomicity: die here, with everything built and
     * nothing in place, as a kill -9 would. */
    {
        const char *kill_at = getenv("AIPM_TEST_KILL_AT");

        if (kill_at && strcmp(kill_at, "init-built") == 0)
            raise(SIGKILL);
    }
    return EXIT_OK;
}

int cli_workspace_create(const char *dir, const char *yaml_text, char *abs,
                         size_t abs_cap)
{
    static const char *const files[] = {"aipm.db", "audit-checkpoint",
                                        "aipm.yaml"}; /* aipm.yaml last */
    char build[4300], from[4400], to[4400], parent[4096], *slash;
    struct stat sb;
    size_t i;
    int rc, exists;

    exists = stat(dir, &sb) == 0;
    if (exists && !S_ISDIR(sb.st_mode))
        return cli_usage_error("%s is not a folder", dir);
    if (exists) {
        if (realpath(dir, abs) == NULL)
            return cli_usage_error("%s: %s", dir, strerror(errno));
    } else {
        /* The workspace's absolute path before it exists: its parent's. */
        char copy[4096];

        snprintf(copy, sizeof(copy), "%s", dir);
        while ((slash = strrchr(copy, '/')) != NULL && slash[1] == '\0' &&
               slash != copy)
            *slash = '\0';
        slash = strrchr(copy, '/');
        if (slash == copy)
            snprintf(parent, sizeof(parent), "/");
        else if (slash)
            snprintf(parent, sizeof(parent), "%.*s", (int)(slash - copy), copy);
        else
            snprintf(parent, sizeof(parent), ".");
        if (realpath(parent, abs) == NULL)
            return cli_usage_error("cannot create %s: %s", dir,
                                   strerror(errno));
        snprintf(build, sizeof(build), "%s", abs);
        snprintf(abs, abs_cap, "%s/%s", strcmp(build, "/") ? build : "",
                 slash ? slash + 1 : copy);
    }
    for (i = 0; exists && i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(to, sizeof(to), "%s/%s", abs, files[i]);
        if (strcmp(files[i], "audit-checkpoint") != 0 && lstat(to, &sb) == 0)
            return cli_usage_error("%s already holds an aipm workspace (%s); "
                                   "nothing was changed",
                                   dir, files[i]);
    }
    /* Everything is built in a folder of its own, then moved into place:
     * a new workspace folder is renamed as a whole (atomic); into an
     * existing folder the files are renamed one by one, aipm.yaml (what
     * makes a folder a workspace) last. A killed init leaves only the
     * build folder, which the next init removes. */
    if (exists)
        snprintf(build, sizeof(build), "%s/.aipm-init.%ld", abs,
                 (long)getpid());
    else
        snprintf(build, sizeof(build), "%s.aipm-init.%ld", abs, (long)getpid());
    {
        /* A leftover of a killed init of the same pid, or of a dead one. */
        DIR *d;
        struct dirent *e;
        char where[4096];

        if (exists)
            snprintf(where, sizeof(where), "%s", abs);
        else
            snprintf(where, sizeof(where), "%.*s",
                     (int)(strrchr(abs, '/') - abs), abs);
        if ((d = opendir(where[0] ? where : "/")) != NULL) {
            while ((e = readdir(d)) != NULL) {
                const char *p = strstr(e->d_name, ".aipm-init.");
                char *end;
                long pid;

                if (p == NULL)
                    continue;
                pid = strtol(p + 11, &end, 10);
                if (*end != '\0' || pid <= 0 ||
                    (pid != (long)getpid() &&
                     (kill((pid_t)pid, 0) == 0 || errno != ESRCH)))
                    continue; /* not ours, or its process lives */
                snprintf(from, sizeof(from), "%s/%s", where, e->d_name);
                sweep_dead(from);
            }
            closedir(d);
        }
    }
    if (mkdir(build, 0700) != 0)
        return cli_usage_error("cannot create %s: %s", build, strerror(errno));
    if ((rc = build_files(build, abs, yaml_text)) != 0) {
        sweep_dead(build);
        return rc;
    }
    if (!exists) {
        if (chmod(build, 0755) != 0 || rename(build, abs) != 0) {
            rc = cli_usage_error("cannot create %s: %s", dir, strerror(errno));
            sweep_dead(build);
            return rc;
        }
        return EXIT_OK;
    }
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(from, sizeof(from), "%s/%s", build, files[i]);
        snprintf(to, sizeof(to), "%s/%s", abs, files[i]);
        if (rename(from, to) != 0) {
            rc = cli_usage_error("cannot create %s: %s", to, strerror(errno));
            while (i-- > 0) { /* put back what was moved */
                snprintf(from, sizeof(from), "%s/%s", build, files[i]);
                snprintf(to, sizeof(to), "%s/%s", abs, files[i]);
                rename(to, from);
            }
            sweep_dead(build);
            return rc;
        }
    }
    rmdir(build);
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
