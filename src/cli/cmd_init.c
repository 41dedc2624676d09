/* cmd_init.c - `aipm init [DIR]`: a new workspace.
 *
 * The store (with the `init` audit entry), the audit checkpoint and
 * aipm.yaml are built in a private folder <name>.aipm-init.<pid> beside a
 * new target (.aipm-init.<pid> inside an existing one), then moved into
 * place, never over an existing file (renameat2 RENAME_NOREPLACE, so of
 * two racing inits the second fails): a new folder is renamed whole
 * (atomic); into an existing folder file by file, aipm.yaml last. A folder
 * holding any workspace file (aipm.db, its -wal/-shm/-writer, aipm.yaml,
 * audit-checkpoint) is refused, naming the file. A killed init leaves
 * either its build folder, which the next init removes (only a real folder
 * of ours with that exact name, never through a link), or, killed between
 * two moves, aipm.db without aipm.yaml, which init and every command name
 * as such. Every file is 0600: the store holds user ids and emails. */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE (glibc 2.28) */
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
           "Refuses a folder that holds a workspace or any of its files\n"
           "(aipm.db, aipm.db-wal, -shm, -writer, audit-checkpoint).\n"
           "The creation is the audit log's first entry.\n");
}

/* out = dir/name; -1 when it does not fit in cap (nothing is cut). */
static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The files a workspace is made of, and those SQLite or aipm put beside
 * the store: a folder holding any of them is not a place for a new one (a
 * stale -wal would be replayed onto the new store). */
static const char *const ws_names[] = {"aipm.db",          "aipm.db-wal",
                                       "aipm.db-shm",      "aipm.db-writer",
                                       "audit-checkpoint", "aipm.yaml"};
#define N_WS_NAMES (sizeof(ws_names) / sizeof(ws_names[0]))

/* Whether name is exactly prefix ".aipm-init." pid (pid: digits, no sign,
 * no leading zero), the name of an init's build folder; the pid in *pid. */
static int build_name(const char *name, const char *prefix, long *pid)
{
    size_t n = strlen(prefix);
    const char *p;
    char *end;

    if (strncmp(name, prefix, n) != 0 ||
        strncmp(name + n, ".aipm-init.", 11) != 0)
        return 0;
    p = name + n + 11;
    if (*p < '1' || *p > '9')
        return 0;
    errno = 0;
    *pid = strtol(p, &end, 10);
    return *end == '\0' && errno == 0 && *pid > 0;
}

/* Remove the build folder name in the folder parent_fd with what an init
 * puts in it. Only a real folder owned by us: never through a symbolic
 * link (O_NOFOLLOW), and the files are unlinked relative to the folder's
 * own descriptor, so a link or a swapped folder cannot point the removal
 * at another workspace. */
static void sweep_dead(int parent_fd, const char *name)
{
    struct stat sb, fsb;
    size_t i;
    int fd;

    if (fstatat(parent_fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
        return;
    fd = openat(parent_fd, name,
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fstat(fd, &fsb) == 0 && fsb.st_dev == sb.st_dev &&
        fsb.st_ino == sb.st_ino && fsb.st_uid == geteuid()) {
        for (i = 0; i < N_WS_NAMES; i++)
            unlinkat(fd, ws_names[i], 0);
    }
    close(fd);
    unlinkat(parent_fd, name, AT_REMOVEDIR); /* fails unless now empty */
}

/* Remove the build folders of killed inits (prefix.aipm-init.<pid> in the
 * folder parent_fd) whose process is gone, and one of our own pid. */
static void sweep_leftovers(int parent_fd, const char *prefix)
{
    struct dirent *e;
    DIR *d;
    long pid;
    int fd = dup(parent_fd);

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (!build_name(e->d_name, prefix, &pid))
            continue;
        if (pid != (long)getpid() &&
            (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue; /* its process lives */
        sweep_dead(parent_fd, e->d_name);
    }
    closedir(d);
}

/* rename(from, to), but never over an existing to: two inits racing for
 * one folder, the second fails with EEXIST. renameat2(RENAME_NOREPLACE)
 * where the kernel and file system have it; else link()+unlink() for a
 * file (link refuses an existing name) and, for a folder, rename() after
 * a check (rename refuses a non-empty folder; the window left is an empty
 * folder made between the check and the rename). */
static int move_noreplace(const char *from, const char *to, int is_dir)
{
    struct stat sb;

#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    if (is_dir) {
        if (lstat(to, &sb) == 0) {
            errno = EEXIST;
            return -1;
        }
        return rename(from, to);
    }
    if (link(from, to) != 0)
        return -1;
    unlink(from); /* a failure leaves a second name the sweep removes */
    return 0;
}

#ifdef AIPM_TEST_HOOKS
/* For the tests of atomicity (dev, ci and asan builds only): die at the
 * named point as a kill -9 would. */
static void test_kill_at(const char *point)
{
    const char *kill_at = getenv("AIPM_TEST_KILL_AT");

    if (kill_at && strcmp(kill_at, point) == 0)
        raise(SIGKILL);
}
#else
#define test_kill_at(point) ((void)0)
#endif

/* Whether init makes its store at --store (a PostgreSQL URL) instead of
 * the workspace's own aipm.db. */
static int network_store(void)
{
    return g_cli.store_url && strstr(g_cli.store_url, "://") &&
           strncmp(g_cli.store_url, "sqlite:", 7) != 0;
}

/* yaml_text with its `store:` line (or a new first line) naming url. */
static char *yaml_for(const char *yaml_text, const char *url)
{
    const char *line = strncmp(yaml_text, "store: ", 7) == 0
                           ? yaml_text
                           : strstr(yaml_text, "\nstore: "),
               *end;
    aipm_buf b;
    char *out;

    if (line && line != yaml_text)
        line++;
    end = line ? strchr(line, '\n') : NULL;
    aipm_buf_init(&b, 1 << 24);
    if (aipm_buf_put(&b, yaml_text, line ? (size_t)(line - yaml_text) : 0) !=
            0 ||
        aipm_buf_printf(&b, "store: \"%s\"   # the store (PostgreSQL)\n",
                        url) != 0 ||
        aipm_buf_puts(&b, line ? (end ? end + 1 : "") : yaml_text) != 0)
        out = NULL;
    else
        out = strdup(aipm_buf_cstr(&b));
    aipm_buf_free(&b);
    return out;
}

/* Build the workspace's files in the folder build, as if it were at
 * final (the absolute path the workspace will have): the store with the
 * `init` audit entry, the checkpoint, and aipm.yaml last. */
static int build_files(const char *build, const char *final,
                       const char *yaml_text)
{
    char path[4300], detail[8600], ns[4300], sha[65], *pol_s;
    aipm_error err = {0, ""};
    aipm_config *cfg = NULL;
    json_t *pol;
    aipm_store *st = NULL;
    uint8_t head[32];
    uint64_t size = 0;
    int rc;

    if (path_in(path, sizeof(path), build, "aipm.db") != 0 ||
        path_in(ns, sizeof(ns), final, "aipm.db") != 0)
        return cli_usage_error("workspace path too long: %s", final);
    if (network_store())
        snprintf(path, sizeof(path), "%s", g_cli.store_url);
    if (g_cli.events_url) {
        size_t n = strlen(path);

        if (snprintf(path + n, sizeof(path) - n, "#events=%s",
                     g_cli.events_url) >= (int)(sizeof(path) - n))
            return cli_usage_error("the events store URL is too long");
    }
    /* The first policy version is the file's, named by the init entry. */
    if ((rc = aipm_config_load_buffer(&cfg, yaml_text, strlen(yaml_text),
                                      "aipm.yaml", &err)) != 0)
        return cli_fail(&err);
    pol = aipm_config_policies_json(cfg);
    pol_s = pol ? json_dumps(pol, JSON_COMPACT | JSON_SORT_KEYS |
                                      JSON_REAL_PRECISION(15))
                : NULL;
    aipm_config_policy_sha256(cfg, sha);
    aipm_config_free(cfg);
    json_decref(pol);
    if (pol_s == NULL) {
        aipm_error_set(&err, AIPM_ENOMEM, "out of memory");
        return cli_fail(&err);
    }
    if ((rc = aipm_store_open(&st, path, AIPM_STORE_CREATE, &err)) != 0) {
        free(pol_s);
        return cli_fail(&err);
    }
    /* The entry names where the workspace will be, not the build folder. */
    {
        json_t *d =
            network_store()
                ? json_pack("{s:s, s:s, s:i, s:s}", "workspace", final, "store",
                            aipm_store_namespace(st), "schema_version",
                            aipm_store_schema_version(st), "policy_sha256", sha)
                : json_pack("{s:s, s:s+, s:i, s:s}", "workspace", final,
                            "store", "sqlite:", ns, "schema_version",
                            aipm_store_schema_version(st), "policy_sha256",
                            sha);
        char *t = d ? json_dumps(d, JSON_COMPACT) : NULL;

        snprintf(detail, sizeof(detail), "%s", t ? t : "{}");
        free(t);
        json_decref(d);
    }
    rc = aipm_store_begin(st, &err);
    if (rc == 0)
        rc = aipm_audit_append(st, "init", "workspace", detail, &size, head,
                               &err);
    if (rc == 0) {
        aipm_policy_row pr = {(int64_t)size,
                              aipm_now_ms(),
                              sha,
                              pol_s,
                              aipm_audit_actor(),
                              "the workspace's first "
                              "policies"};

        rc = aipm_store_policy_put(st, &pr, &err);
    }
    free(pol_s);
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
    test_kill_at("init-built"); /* everything built, nothing in place */
    return EXIT_OK;
}

/* Whether the folder abs may receive a workspace: none of ws_names in it.
 * A store without aipm.yaml is named as what it most likely is, the
 * leftover of an init killed while moving files into place. */
static int check_target(const char *dir, const char *abs)
{
    char path[4400];
    struct stat sb;
    size_t i;
    int has_yaml;

    snprintf(path, sizeof(path), "%s/aipm.yaml", abs);
    has_yaml = lstat(path, &sb) == 0;
    for (i = 0; i < N_WS_NAMES; i++) {
        snprintf(path, sizeof(path), "%s/%s", abs, ws_names[i]);
        if (lstat(path, &sb) != 0)
            continue;
        if (has_yaml)
            return cli_usage_error("%s already holds an aipm workspace "
                                   "(aipm.yaml); nothing was changed",
                                   dir);
        return cli_usage_error(
            "%s holds %s but no aipm.yaml (left by an interrupted `aipm "
            "init`, or by a workspace whose aipm.yaml was removed); nothing "
            "was changed; move aipm.db, aipm.db-* and audit-checkpoint "
            "away, then run init again",
            dir, ws_names[i]);
    }
    return EXIT_OK;
}

static int workspace_create(const char *dir, const char *yaml_text, char *abs,
                            size_t abs_cap)
{
    static const char *const files[] = {"aipm.db", "audit-checkpoint",
                                        "aipm.yaml"}; /* aipm.yaml last */
    char build[4300], from[4400], to[4400], parent[4096], where[4096],
        bname[600], *slash;
    const char *prefix;
    struct stat sb;
    size_t i;
    int rc, exists, wfd = -1;

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
    if (exists && (rc = check_target(dir, abs)) != 0)
        return rc;
    /* Everything is built in a folder of its own, then moved into place,
     * never over an existing file or folder (move_noreplace): a new
     * workspace folder is renamed as a whole (atomic); into an existing
     * folder the files are moved one by one, aipm.yaml (what makes a
     * folder a workspace) last. A killed init leaves the build folder,
     * which the next init removes, or (killed between two moves) aipm.db
     * without aipm.yaml, which check_target names. */
    if (exists) {
        snprintf(where, sizeof(where), "%s", abs);
        prefix = "";
    } else {
        slash = strrchr(abs, '/');
        snprintf(where, sizeof(where), "%.*s", (int)(slash - abs), abs);
        if (where[0] == '\0')
            snprintf(where, sizeof(where), "/");
        prefix = slash + 1;
    }
    if (snprintf(bname, sizeof(bname), "%s.aipm-init.%ld", prefix,
                 (long)getpid()) >= (int)sizeof(bname) ||
        path_in(build, sizeof(build), where, bname) != 0)
        return cli_usage_error("workspace path too long: %s", abs);
    if ((wfd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return cli_usage_error("cannot create %s: %s", dir, strerror(errno));
    sweep_leftovers(wfd, prefix); /* of killed inits, or ours of old */
    if (mkdirat(wfd, bname, 0700) != 0) {
        rc = cli_usage_error("cannot create %s: %s", build, strerror(errno));
        goto done;
    }
    if ((rc = build_files(build, abs, yaml_text)) != 0)
        goto fail;
    if (!exists) {
        if (chmod(build, 0755) != 0 || move_noreplace(build, abs, 1) != 0) {
            if (errno == EEXIST || errno == ENOTEMPTY)
                rc = cli_usage_error("cannot create %s: it was created "
                                     "meanwhile (by another `aipm init`?); "
                                     "nothing was changed",
                                     dir);
            else
                rc = cli_usage_error("cannot create %s: %s", dir,
                                     strerror(errno));
            goto fail;
        }
        goto done;
    }
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(from, sizeof(from), "%s/%s", build, files[i]);
        snprintf(to, sizeof(to), "%s/%s", abs, files[i]);
        if (i == 0 && network_store())
            continue; /* the store is elsewhere */
        if (move_noreplace(from, to, 0) != 0) {
            if (errno == EEXIST)
                rc = cli_usage_error("%s already holds an aipm workspace "
                                     "(%s, made meanwhile by another "
                                     "process); nothing was changed",
                                     dir, files[i]);
            else
                rc = cli_usage_error("cannot create %s: %s", to,
                                     strerror(errno));
            while (i-- > 0) { /* put back what was moved: ours */
                snprintf(from, sizeof(from), "%s/%s", build, files[i]);
                snprintf(to, sizeof(to), "%s/%s", abs, files[i]);
                rename(to, from);
            }
            goto fail;
        }
        if (i == 0)
            test_kill_at("init-moved-db"); /* aipm.db in place, no yaml */
    }
    unlinkat(wfd, bname, AT_REMOVEDIR);
    goto done;
fail:
    sweep_dead(wfd, bname);
done:
    close(wfd);
    return rc;
}

/* With --store naming a PostgreSQL database, the workspace's store is
 * made there and aipm.yaml's `store:` names it; the URL must hold no
 * password, which aipm.yaml would keep in clear. */
int cli_workspace_create(const char *dir, const char *yaml_text, char *abs,
                         size_t abs_cap)
{
    char shown[1024], *yaml, *with_events = NULL;
    int rc;

    /* --events-store: aipm.yaml's events_store: names it, first line. */
    if (g_cli.events_url) {
        aipm_store_url_redact(shown, sizeof(shown), g_cli.events_url);
        if (strcmp(shown, g_cli.events_url) != 0 ||
            strchr(g_cli.events_url, '"') || strchr(g_cli.events_url, '\\'))
            return cli_usage_error("--events-store %s: give the URL without "
                                   "a password (it goes in "
                                   "$AIPM_CLICKHOUSE_PASSWORD) or quotes",
                                   shown);
        if ((with_events = malloc(strlen(yaml_text) + strlen(g_cli.events_url) +
                                  64)) == NULL)
            return cli_usage_error("out of memory");
        sprintf(with_events,
                "events_store: \"%s\"   # the events (ClickHouse)\n%s",
                g_cli.events_url, yaml_text);
        yaml_text = with_events;
    }
    if (!network_store()) {
        rc = workspace_create(dir, yaml_text, abs, abs_cap);
        free(with_events);
        return rc;
    }
    aipm_store_url_redact(shown, sizeof(shown), g_cli.store_url);
    if (strcmp(shown, g_cli.store_url) != 0) {
        free(with_events);
        return cli_usage_error("--store %s holds a password, which aipm.yaml "
                               "would keep in clear; give it in ~/.pgpass or "
                               "PGPASSWORD instead",
                               shown);
    }
    yaml = yaml_for(yaml_text, g_cli.store_url);
    free(with_events);
    if (yaml == NULL)
        return cli_usage_error("out of memory");
    rc = workspace_create(dir, yaml, abs, abs_cap);
    free(yaml);
    return rc;
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
    rc = cli_workspace_create(dir, aipm_config_template(), abs, sizeof(abs));
    if (rc != 0)
        return rc;
    if (g_cli.json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "workspace", abs, "config",
                              "aipm.yaml", "store",
                              network_store() ? g_cli.store_url : "aipm.db");

        cli_print_json(o);
        json_decref(o);
    } else {
        printf("Created an aipm workspace in %s\n"
               "  aipm.yaml  the workspace file: catalog, KPIs, experiments, "
               "policies\n"
               "  %s    the store (%s)\n"
               "Next: aipm -C %s ingest events FILE.ndjson\n",
               abs, network_store() ? g_cli.store_url : "aipm.db",
               network_store() ? "PostgreSQL" : "SQLite", dir);
    }
    return EXIT_OK;
}
