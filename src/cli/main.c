/* main.c - the `aipm` command: global options and the command table.
 *
 * Git style: `aipm [global options] <command> [<subcommand>] [options]`.
 * The global options (-C DIR, --store URL, --json, -h/--help) are taken
 * out of argv wherever they stand, before the command's own parsing, so
 * every command accepts them the same way. Adding a command is adding a
 * cmd_<verb>.c file and one row in `commands`.
 */
#include "aipm/decision.h"
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cli g_cli = {".", NULL, NULL, 0, 0, 0, 0, -1, 0};

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"init", cmd_init, "create a workspace: aipm.yaml and the store"},
    {"ingest", cmd_ingest,
     "read events, backlog, feedback, signals or graph files"},
    {"data", cmd_data,
     "dataset versions: versions, show, accept, reject, revert"},
    {"quality", cmd_quality, "the latest quality report of each dataset"},
    {"quarantine", cmd_quarantine, "rows that broke the contract, with why"},
    {"lineage", cmd_lineage, "runs with their inputs and outputs"},
    {"audit", cmd_audit,
     "the tamper-evident audit log: log, verify, export, checkpoint, prove"},
    {"kpi", cmd_kpi,
     "KPIs and product analytics: DAU/WAU/MAU, retention, adoption"},
    {"experiment", cmd_experiment,
     "experiments: list, analyze (frequentist, Bayesian, sequential)"},
    {"feedback", cmd_feedback,
     "feedback linked to backlog items: links, link, unlink"},
    {"decisions", cmd_decisions,
     "decision records: list, show, approve, reject, override"},
    {"users", cmd_users, "people and their roles: add, list"},
    {"keys", cmd_keys, "signing keys for approvals: generate, show"},
    {"tokens", cmd_tokens, "API tokens for aipm serve: create, list, revoke"},
    {"serve", cmd_serve, "the HTTP JSON API and dashboard over the workspace"},
    {"report", cmd_report, "the dashboard as one self-contained HTML file"},
    {"policy", cmd_policy,
     "the policies of aipm.yaml: check, set (a new version), log"},
    {"model", cmd_model,
     "the model registry: train, list, show, promote, rollback"},
    {"monitor", cmd_monitor,
     "drift, calibration and data health of the production models"},
    {"prioritize", cmd_prioritize,
     "the backlog ranked by learned value, with a release plan"},
    {"simulate", cmd_simulate,
     "compare scenarios by Monte Carlo over the models' uncertainty"},
    {"plan", cmd_plan,
     "search for the best plan and write it as a scenario file"},
    {"graph", cmd_graph,
     "the knowledge graph of users, accounts and features: stats, "
     "neighbors"},
    {"forecast", cmd_forecast,
     "adoption forecasts: a Bass fit of a series (forecast bass)"},
    {"demo", cmd_demo,
     "a demo product: generate its data, or run the whole job on it"},
    {"help", cmd_help, "list commands, or show one command's help"},
    {"version", cmd_version, "print the version"},
};

#define N_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static void usage(FILE *out)
{
    int i;

    fprintf(out,
            "usage: aipm [-C DIR] [--store URL] [--events-store URL] [--json]\n"
            "            <command> [<args>]\n"
            "\n"
            "aipm turns product telemetry, feedback, a backlog and market\n"
            "signals into traceable product decisions.\n"
            "\n"
            "Commands:\n");
    for (i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "Global options (any command):\n"
                 "  -C DIR        the workspace folder (default: .)\n"
                 "  --store URL   the store (default: the workspace's SQLite "
                 "file)\n"
                 "  --events-store URL  keep the events in ClickHouse\n"
                 "                (clickhouse://HOST:PORT/DB; default: "
                 "aipm.yaml's\n"
                 "                events_store:, else in the store)\n"
                 "  --wait SECS   how long a write waits for another writer's "
                 "lock\n"
                 "                (default: as long as it takes)\n"
                 "  --json        machine-readable output on stdout\n"
                 "  -h, --help    help for the command\n"
                 "\n"
                 "Exit codes: 0 ok, 1 usage or input error, 2 internal error,\n"
                 "3 a gate or policy said no, 4 monitoring alert.\n"
                 "`aipm help COMMAND` or `aipm COMMAND --help` for more.\n");
}

/* "aipm: 'X' is not an aipm command", with the closest command if X
 * looks like a typo of one, or "unknown option" for a dash. */
static int not_a_command(const char *word)
{
    static const char *const globals[] = {
        "--store", "--json",         "--help", "--version",
        "--wait",  "--events-store", NULL};
    const char *names[N_COMMANDS + 1], *hint;
    int i;

    if (word[0] == '-') {
        if ((hint = cli_suggest(word, globals)) != NULL)
            return cli_usage_error("unknown option '%s'; did you mean '%s'? "
                                   "(see `aipm help`)",
                                   cli_text(word), hint);
        return cli_usage_error("unknown option '%s'; see `aipm help` for the "
                               "global options and `aipm COMMAND -h` for a "
                               "command's",
                               cli_text(word));
    }
    for (i = 0; i < N_COMMANDS; i++)
        names[i] = commands[i].name;
    names[N_COMMANDS] = NULL;
    if ((hint = cli_suggest(word, names)) != NULL)
        return cli_usage_error("'%s' is not an aipm command; did you mean "
                               "'%s'? (see `aipm help`)",
                               cli_text(word), hint);
    return cli_usage_error("'%s' is not an aipm command; see `aipm help`",
                           cli_text(word));
}

int cmd_help(int argc, char **argv)
{
    int i;

    if (argc > 1) {
        for (i = 0; i < N_COMMANDS; i++)
            if (strcmp(commands[i].name, argv[1]) == 0) {
                char *args[] = {argv[1], NULL};

                g_cli.help = 1;
                return commands[i].run(1, args);
            }
        return not_a_command(argv[1]);
    }
    usage(stdout);
    return EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (g_cli.help) {
        printf("usage: aipm version [--json]\n"
               "\n"
               "Print aipm's version and the code version compiled in (git\n"
               "describe of the source tree), which decision records name.\n");
        return EXIT_OK;
    }
    if (g_cli.json) {
        json_t *o = json_pack("{s:s, s:s}", "version", AIPM_VERSION, "code",
                              aipm_code_version());

        cli_print_json(o);
        json_decref(o);
    } else
        printf("aipm %s (%s)\n", AIPM_VERSION, aipm_code_version());
    return EXIT_OK;
}

/* Remove the global options from argv; returns the new argc, or -1. */
static int take_globals(int argc, char **argv)
{
    int i, n = 0, rest = 0;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (rest) {
            argv[n++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            rest = 1;
            argv[n++] = argv[i];
        } else if (strcmp(a, "-C") == 0 || strcmp(a, "--store") == 0 ||
                   strcmp(a, "--events-store") == 0) {
            if (i + 1 >= argc) {
                cli_usage_error("%s needs a value", a);
                return -1;
            }
            if (a[1] == 'C')
                g_cli.dir = argv[++i];
            else if (a[2] == 'e')
                g_cli.events_url = argv[++i];
            else
                g_cli.store_url = argv[++i];
        } else if (strcmp(a, "--wait") == 0 || strncmp(a, "--wait=", 7) == 0) {
            const char *v = a[6] == '='    ? a + 7
                            : i + 1 < argc ? argv[++i]
                                           : NULL;
            char *end = NULL;

            if (v)
                g_cli.wait_seconds = strtod(v, &end);
            if (v == NULL || end == v || *end != '\0' ||
                !(g_cli.wait_seconds >= 0 && g_cli.wait_seconds < 1e9)) {
                cli_usage_error("--wait needs a number of seconds (0 or "
                                "more), e.g. --wait 30");
                return -1;
            }
        } else if (strncmp(a, "--store=", 8) == 0) {
            g_cli.store_url = a + 8;
        } else if (strncmp(a, "--events-store=", 15) == 0) {
            g_cli.events_url = a + 15;
        } else if (strncmp(a, "-C", 2) == 0 && a[2]) {
            g_cli.dir = a + 2;
        } else if (strcmp(a, "--json") == 0) {
            g_cli.json = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            g_cli.help = 1;
        } else {
            argv[n++] = argv[i];
        }
    }
    argv[n] = NULL;
    return n;
}

/* The command line, without the global options (so no store URL), as
 * the store's activity: another aipm waiting for our write lock names it. */
static void set_activity(int argc, char **argv)
{
    char line[256];
    size_t len;
    int i;

    len = (size_t)snprintf(line, sizeof(line), "aipm");
    for (i = 0; i < argc && len < sizeof(line); i++)
        len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", argv[i]);
    aipm_store_set_activity(line);
}

int main(int argc, char **argv)
{
    int i;

    g_cli.tty = isatty(2);
    g_cli.stdout_tty = isatty(1);
    argc = take_globals(argc - 1, argv + 1);
    argv++;
    if (argc < 0)
        return EXIT_USAGE;
    if (argc == 0) {
        usage(g_cli.help ? stdout : stderr);
        return g_cli.help ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(argv[0], "--version") == 0)
        return cmd_version(argc, argv);
    for (i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, argv[0]) == 0) {
            set_activity(argc, argv);
            return commands[i].run(argc, argv);
        }
    return not_a_command(argv[0]);
}
