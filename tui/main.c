/* main.c: the leaktop command line. One row per command in cmd_table
 * (tmux's cmd entries): its name, usage, the options that mean something
 * for it (any other is refused with one line), how many arguments it
 * takes, and the function that does its one job. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "exit_status.h"
#include "launch.h"
#include "modinfo.h"
#include "options.h"
#include "report.h"
#include "session.h"
#include "util.h"
#include "view.h"
#include "watch.h"

#ifndef LEAKTOP_VERSION
#define LEAKTOP_VERSION "0"
#endif

/* Segments of dead processes older than this are removed at start-up. */
#define MAIN_STALE_AGE_S 10

typedef struct cmd_entry cmd_entry;

/* A command's job, once its options and arguments were parsed and counted:
 * the positional arguments are argv[0..npos). */
typedef int (*cmd_exec)(const cmd_entry *cmd, options *o, int npos, char **argv);

struct cmd_entry {
    const char *name;
    const char *usage;     /* after "leaktop ", for --help and usage errors */
    const char *about;
    unsigned    options;   /* OPT_* template */
    int         min_args, max_args;
    bool        program;   /* arguments after the first are the program's own */
    cmd_exec    exec;
};

static int cmd_run(const cmd_entry *cmd, options *o, int npos, char **argv);
static int cmd_attach(const cmd_entry *cmd, options *o, int npos, char **argv);
static int cmd_mark(const cmd_entry *cmd, options *o, int npos, char **argv);
static int cmd_diff(const cmd_entry *cmd, options *o, int npos, char **argv);
static int cmd_show(const cmd_entry *cmd, options *o, int npos, char **argv);
static int cmd_export(const cmd_entry *cmd, options *o, int npos, char **argv);

static const cmd_entry cmd_table[] = {
    {"run", "run [OPTIONS] -- PROGRAM [ARGS...]", "launch under the tracer; live view, or --batch",
     OPT_FRAMES | OPT_INTERVAL | OPTS_SHAPE | OPTS_SYMBOLS | OPTS_REPORT | OPT_BATCH | OPT_SAVE | OPT_FORMAT | OPT_SERVE | OPT_KEEP_LOG | OPT_WINDOW |
         OPT_FAIL_SUSPECT | OPT_SAMPLE,
     1, INT_MAX, true, cmd_run},
    {"attach", "attach [OPTIONS] [PID]", "watch a running process (the tracer is loaded now if it was not "
     "preloaded; no PID: list them)",
     OPT_FRAMES | OPT_SAMPLE | OPT_INTERVAL | OPTS_SHAPE | OPTS_SYMBOLS | OPTS_REPORT | OPT_BATCH | OPT_SAVE |
         OPT_FORMAT | OPT_SERVE | OPT_WINDOW | OPT_FAIL_SUSPECT | OPT_DURATION,
     0, 1, false, cmd_attach},
    {"mark", "mark PID [LABEL]", "take a labelled snapshot of a traced process", 0, 1, 2, false, cmd_mark},
    {"diff", "diff OLD NEW [OPTIONS]", "compare two saved snapshots (text, or --json)",
     OPTS_SHAPE | OPTS_REPORT, 2, 2, false, cmd_diff},
    {"show", "show SNAPSHOT [OPTIONS]", "statistics of one snapshot (--modules: its modules' debug info)",
     OPTS_SHAPE | OPTS_REPORT | OPT_MODULES | OPT_DEBUG_DIR | OPT_DEBUGINFOD, 1, 1, false, cmd_show},
    {"export", "export SNAPSHOT [--base OLD] --format pprof|folded|json [-o FILE]",
     "a snapshot for pprof, flame graphs or JSON tools", OPT_FORMAT | OPT_BASE | OPT_OUTPUT, 1, 1, false, cmd_export},
};
#define CMD_COUNT (sizeof(cmd_table) / sizeof(cmd_table[0]))

static void usage(FILE *out)
{
    fprintf(out, "leaktop %s: which source lines of a running program retain more memory than at a baseline\n\n",
            LEAKTOP_VERSION);
    fprintf(out, "usage:\n");
    for (size_t i = 0; i < CMD_COUNT; i++) {
        const char *u = cmd_table[i].usage;
        if (strlen(u) > 36)   /* a long usage gets its description on the next line */
            fprintf(out, "  leaktop %s\n  %-44s %s\n", u, "", cmd_table[i].about);
        else
            fprintf(out, "  leaktop %-36s %s\n", u, cmd_table[i].about);
    }
    fprintf(out, "  leaktop --help | --version\n\noptions:\n");
    options_usage(out);
    fprintf(out, "\nA suspect: over --window, at least 8 samples and 1 B/s, each quarter's lowest size\n"
                 "above the previous quarter's, and the rise wider than any swing inside a quarter.\n"
                 "\nWithout the launcher: LD_PRELOAD=/path/to/libleaktop.so LEAKTOP_FRAMES=%u PROGRAM,\n"
                 "then `leaktop attach PID`. Exit status: the program's (128+N after signal N), %d when\n"
                 "--fail-on-growth or --fail-on-suspect triggers, %d when its growth is unknown (exec\n"
                 "out of tracing), %d the tracer did not start, %d usage, %d static/setuid, %d not\n"
                 "executable, %d not found; attach: %d no such process, %d a zombie, %d ptrace not\n"
                 "permitted, %d a debugger traces it, %d seccomp (strict mode, or a filter that\n"
                 "would kill the tracer's calls).\n"
                 "Each command takes only the options that mean something for it.\n",
            watch_default_frames, LEAKTOP_EXIT_GROWTH, LEAKTOP_EXIT_GROWTH_UNKNOWN, LEAKTOP_EXIT_NOT_TRACED,
            LEAKTOP_EXIT_USAGE, LEAKTOP_EXIT_UNTRACEABLE, LEAKTOP_EXIT_NOEXEC, LEAKTOP_EXIT_NOTFOUND,
            LEAKTOP_EXIT_NO_PROCESS, LEAKTOP_EXIT_ZOMBIE, LEAKTOP_EXIT_PTRACE_DENIED, LEAKTOP_EXIT_ALREADY_TRACED,
            LEAKTOP_EXIT_SECCOMP);
}

/* Parses options against the command's template; positional arguments
 * are moved to the front of argv and counted in *npos. Options may come
 * before or after them (for run: before the program). Returns 0, 1 after
 * printing --help or --version, or -1 after a usage error. */
static int parse_args(const cmd_entry *cmd, options *o, int argc, char **argv, int *npos)
{
    options_template t = {.cmd = cmd->name, .allowed = cmd->options};
    char err[256];
    int pos = 0, i = 0;
    while (i < argc) {
        int used = 0;
        if (options_parse(o, &t, argc - i, argv + i, &used, err, sizeof(err)) != 0) {
            util_error("%s", err);
            return -1;
        }
        bool dashdash = used > 0 && strcmp(argv[i + used - 1], "--") == 0;
        i += used;
        if (dashdash || (cmd->program && i < argc)) {
            while (i < argc)
                argv[pos++] = argv[i++];
            break;
        }
        if (i < argc)
            argv[pos++] = argv[i++];
    }
    *npos = pos;
    if (o->help || o->version) {
        if (o->help)
            usage(stdout);
        else
            printf("leaktop %s\n", LEAKTOP_VERSION);
        return 1;
    }
    return 0;
}

/* Parses and checks the argument count, then runs the command. */
static int cmd_dispatch(const cmd_entry *cmd, int argc, char **argv)
{
    options o;
    options_defaults(&o);
    if (cmd->exec == cmd_show)
        o.diff.sort = DIFF_SORT_SIZE;   /* one snapshot: nothing grew */
    int npos = 0;
    int rc = parse_args(cmd, &o, argc, argv, &npos);
    if (rc)
        return rc > 0 ? 0 : LEAKTOP_EXIT_USAGE;
    if (npos < cmd->min_args || npos > cmd->max_args) {
        util_error("%s: usage: leaktop %s", cmd->name, cmd->usage);
        return LEAKTOP_EXIT_USAGE;
    }
    return cmd->exec(cmd, &o, npos, argv);
}

static bool have_terminal(void)
{
    return isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
}

static int cmd_run(const cmd_entry *cmd, options *o, int npos, char **argv)
{
    (void)cmd;
    argv[npos] = NULL;
    if (o->batch)
        return batch_run(o, argv);
    if (!have_terminal()) {
        util_error("the live view needs a terminal; for text or JSON reports use: leaktop run --batch [--json] -- PROGRAM");
        return LEAKTOP_EXIT_USAGE;
    }
    return view_run_program(o, argv);
}

/* The PID argument, or -1 after saying why it is not one. */
static long cmd_pid(const cmd_entry *cmd, const char *arg)
{
    long pid;
    if (util_parse_long(arg, 1, 1L << 30, &pid) == 0)
        return pid;
    util_error("%s: usage: leaktop %s", cmd->name, cmd->usage);
    return -1;
}

/* `leaktop attach` alone: what could be watched, traced processes first. */
static int attach_list(void)
{
    watch_candidate *c;
    size_t n = watch_candidates(&c);
    if (!n) {
        util_error("no process of yours can be watched (dynamically linked, not under a debugger)");
        return LEAKTOP_EXIT_NO_PROCESS;
    }
    printf("%8s  %-9s  %s\n", "PID", "TRACED", "PROGRAM");
    for (size_t i = 0; i < n; i++)
        printf("%8d  %-9s  %s\n", (int)c[i].pid, c[i].traced ? "yes" : "-", c[i].name);
    free(c);
    return 0;
}

static int cmd_attach(const cmd_entry *cmd, options *o, int npos, char **argv)
{
    if (npos == 0)
        return attach_list();
    long pid = cmd_pid(cmd, argv[0]);
    if (pid < 0)
        return LEAKTOP_EXIT_USAGE;
    if (o->batch)
        return batch_attach(o, (pid_t)pid);
    if (!have_terminal()) {
        util_error("the live view needs a terminal; for text or JSON reports use: leaktop attach --batch [--json] PID");
        return LEAKTOP_EXIT_USAGE;
    }
    return view_attach(o, (pid_t)pid);
}

/* Asks the tracer for a labelled snapshot from another shell. */
static int cmd_mark(const cmd_entry *cmd, options *o, int npos, char **argv)
{
    (void)o;
    long pid = cmd_pid(cmd, argv[0]);
    if (pid < 0)
        return LEAKTOP_EXIT_USAGE;
    const char *label = npos == 2 ? argv[1] : "mark";
    char err[512];
    uint64_t snap_no = 0;
    if (watch_mark((pid_t)pid, label, &snap_no, err, sizeof(err)) != 0) {
        util_error("%s", err);
        return LEAKTOP_EXIT_FAILURE;
    }
    printf("leaktop: marked process %ld as \"%s\" (snapshot %llu)\n", pid, label, (unsigned long long)snap_no);
    return 0;
}

/* Reads snapshot files given as positional arguments into one table. */
static int load_snapshots(char **paths, int n, diff_loctab *locs, diff_snapshot **out)
{
    char err[512];
    for (int i = 0; i < n; i++) {
        out[i] = diff_snapfile_read(paths[i], locs, err, sizeof(err));
        if (!out[i]) {
            util_error("%s", err);
            for (int k = 0; k < i; k++)
                diff_snapshot_free(out[k]);
            return -1;
        }
    }
    return 0;
}

/* diff (2 files) and show (1 file) share everything but the comparison. */
static int offline_report(const options *o, int nfiles, char **paths)
{
    diff_loctab *locs = diff_loctab_new();
    diff_snapshot *snaps[2] = {NULL, NULL};
    if (load_snapshots(paths, nfiles, locs, snaps) != 0) {
        diff_loctab_free(locs);
        return LEAKTOP_EXIT_FAILURE;
    }
    const diff_snapshot *cur = snaps[nfiles - 1], *base = nfiles == 2 ? snaps[0] : NULL;
    report_event ev = {
        .reason = nfiles == 2 ? "diff" : "show", .label = diff_snapshot_label(cur),
        .pid = diff_snapshot_pid(cur), .elapsed_s = diff_snapshot_elapsed(cur),
    };
    FILE *out = o->output ? fopen(o->output, "w") : stdout;
    report_outcome res = {0};
    char err[256];
    int rc = 0;
    if (!out) {
        util_error("%s: %s", o->output, strerror(errno));
        rc = LEAKTOP_EXIT_FAILURE;
    } else if (report_write(out, o, cur, base, &ev, &res, err, sizeof(err)) != 0) {
        util_error("%s", err);
        rc = LEAKTOP_EXIT_FAILURE;
    } else if (o->fail_on_growth >= 0 && res.growth > o->fail_on_growth) {
        rc = LEAKTOP_EXIT_GROWTH;
    }
    if (out && util_output_end(out, out == stdout ? NULL : o->output) != 0)
        rc = LEAKTOP_EXIT_FAILURE;
    for (int i = 0; i < nfiles; i++)
        diff_snapshot_free(snaps[i]);
    diff_loctab_free(locs);
    return rc;
}

static int cmd_diff(const cmd_entry *cmd, options *o, int npos, char **argv)
{
    (void)cmd;
    return offline_report(o, npos, argv);
}

/* show --modules SNAPSHOT: where each module's debug info comes from. */
static int show_modules(const options *o, char *path)
{
    diff_loctab *locs = diff_loctab_new();
    diff_snapshot *snap = NULL;
    if (load_snapshots(&path, 1, locs, &snap) != 0) {
        diff_loctab_free(locs);
        return LEAKTOP_EXIT_FAILURE;
    }
    FILE *out = o->output ? fopen(o->output, "w") : stdout;
    int rc = 0;
    session_config cfg = options_session_config(o);
    if (!out) {
        util_error("%s: %s", o->output, strerror(errno));
        rc = LEAKTOP_EXIT_FAILURE;
    } else if (modinfo_write(out, snap, &cfg) != 0) {
        util_error("out of memory listing modules");
        rc = LEAKTOP_EXIT_FAILURE;
    }
    if (out && util_output_end(out, out == stdout ? NULL : o->output) != 0)
        rc = LEAKTOP_EXIT_FAILURE;
    diff_snapshot_free(snap);
    diff_loctab_free(locs);
    return rc;
}

static int cmd_show(const cmd_entry *cmd, options *o, int npos, char **argv)
{
    (void)cmd;
    if (o->modules)
        return show_modules(o, argv[0]);
    return offline_report(o, npos, argv);
}

/* The base is read first, so a bad one is said before a bad snapshot
 * only when both are bad, as `diff OLD NEW` does. */
static int cmd_export(const cmd_entry *cmd, options *o, int npos, char **argv)
{
    (void)npos;
    if (!o->format_set) {
        util_error("%s: --format pprof|folded|json is needed: usage: leaktop %s", cmd->name, cmd->usage);
        return LEAKTOP_EXIT_USAGE;
    }
    if (o->format == DIFF_EXPORT_PPROF && !o->output && isatty(STDOUT_FILENO)) {
        util_error("%s: pprof is gzipped binary: give -o FILE or a pipe", cmd->name);
        return LEAKTOP_EXIT_USAGE;
    }
    char *paths[2] = {(char *)o->base, argv[0]};
    int nfiles = o->base ? 2 : 1;
    diff_loctab *locs = diff_loctab_new();
    diff_snapshot *snaps[2] = {NULL, NULL};
    if (load_snapshots(o->base ? paths : paths + 1, nfiles, locs, snaps) != 0) {
        diff_loctab_free(locs);
        return LEAKTOP_EXIT_FAILURE;
    }
    const diff_snapshot *cur = snaps[nfiles - 1], *base = nfiles == 2 ? snaps[0] : NULL;
    int rc = 0;
    char err[512];
    int wrc = o->output ? diff_export_file(o->output, o->format, cur, base, err, sizeof(err))
                        : diff_export_write(stdout, o->format, cur, base, err, sizeof(err));
    if (wrc != 0) {
        util_error("%s", err);
        rc = LEAKTOP_EXIT_FAILURE;
    }
    for (int i = 0; i < nfiles; i++)
        diff_snapshot_free(snaps[i]);
    diff_loctab_free(locs);
    return rc;
}

int main(int argc, char **argv)
{
    launch_remember_signals();
    /* A file grown past `ulimit -f` is an error to report (EFBIG), not a
     * death (SIGXFSZ); a launched program gets its own disposition back. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return LEAKTOP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("leaktop %s\n", LEAKTOP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < CMD_COUNT; i++) {
        if (strcmp(argv[1], cmd_table[i].name) == 0) {
            const char *age = getenv("LEAKTOP_STALE_AGE_S");  /* tests only */
            session_clean_stale(age ? (unsigned)atoi(age) : MAIN_STALE_AGE_S);
            return cmd_dispatch(&cmd_table[i], argc - 2, argv + 2);
        }
    }
    util_error("unknown command '%s' (see leaktop --help)", argv[1]);
    return LEAKTOP_EXIT_USAGE;
}
