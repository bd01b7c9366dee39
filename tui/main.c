/* main.c: the leaktop command line. One row per command in cmd_table;
 * each command parses the shared options and does its one job. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "launch.h"
#include "options.h"
#include "report.h"
#include "session.h"
#include "target.h"
#include "util.h"
#include "view.h"

#ifndef LEAKTOP_VERSION
#define LEAKTOP_VERSION "0"
#endif

/* Segments of dead processes older than this are removed at start-up. */
#define MAIN_STALE_AGE_S 10

typedef struct cmd_entry {
    const char *name;
    const char *usage;
    int (*exec)(int argc, char **argv);
} cmd_entry;

static int cmd_run(int argc, char **argv);
static int cmd_attach(int argc, char **argv);
static int cmd_mark(int argc, char **argv);
static int cmd_diff(int argc, char **argv);
static int cmd_show(int argc, char **argv);

static const cmd_entry cmd_table[] = {
    {"run", "run [OPTIONS] -- PROGRAM [ARGS...]   launch under the tracer; live view, or --batch", cmd_run},
    {"attach", "attach PID                           live view of a process started with the tracer preloaded", cmd_attach},
    {"mark", "mark PID [LABEL]                     take a labelled snapshot of a traced process", cmd_mark},
    {"diff", "diff OLD NEW [OPTIONS]               compare two saved snapshots (text, or --json)", cmd_diff},
    {"show", "show SNAPSHOT [OPTIONS]              statistics of one snapshot", cmd_show},
};
#define CMD_COUNT (sizeof(cmd_table) / sizeof(cmd_table[0]))

static void usage(FILE *out)
{
    fprintf(out, "leaktop %s: which source lines of a running program retain more memory than at a baseline\n\n",
            LEAKTOP_VERSION);
    fprintf(out, "usage:\n");
    for (size_t i = 0; i < CMD_COUNT; i++)
        fprintf(out, "  leaktop %s\n", cmd_table[i].usage);
    fprintf(out, "  leaktop --help | --version\n\noptions:\n");
    options_usage(out);
    fprintf(out, "\nWithout the launcher: LD_PRELOAD=/path/to/libleaktop.so LEAKTOP_FRAMES=32 PROGRAM,\n"
                 "then `leaktop attach PID`. Exit status: the program's (128+N after signal N), 3 when\n"
                 "--fail-on-growth triggers, 2 usage, 125 static/setuid, 126 not executable, 127 not found.\n");
}

/* Parses options; positional arguments are moved to the front of argv and
 * counted in *npos. Options may come before or after them. Returns 0, 1
 * after printing --help, or -1 after a usage error. */
static int parse_args(options *o, int argc, char **argv, int *npos, bool stop_at_positional)
{
    char err[256];
    int pos = 0, i = 0;
    while (i < argc) {
        int used = 0;
        if (options_parse(o, argc - i, argv + i, &used, err, sizeof(err)) != 0) {
            util_error("%s", err);
            return -1;
        }
        bool dashdash = used > 0 && strcmp(argv[i + used - 1], "--") == 0;
        i += used;
        if (dashdash || (stop_at_positional && i < argc)) {
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

static int parse_status(int rc)
{
    return rc > 0 ? 0 : LAUNCH_EXIT_USAGE;
}

static int cmd_run(int argc, char **argv)
{
    options o;
    options_defaults(&o);
    int npos = 0;
    int rc_args = parse_args(&o, argc, argv, &npos, true);
    if (rc_args)
        return parse_status(rc_args);
    if (npos == 0) {
        util_error("run: which program? leaktop run [OPTIONS] -- PROGRAM [ARGS...]");
        return LAUNCH_EXIT_USAGE;
    }
    argv[npos] = NULL;
    if (o.batch)
        return batch_run(&o, argv);
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        util_error("the live view needs a terminal; for text or JSON reports use: leaktop run --batch [--json] -- PROGRAM");
        return LAUNCH_EXIT_USAGE;
    }
    return view_run_program(&o, argv);
}

/* Options, then PID and up to max_pos - 1 more positional arguments.
 * Returns -1 when the caller should go on, else the exit status. */
static int parse_pid_args(options *o, int argc, char **argv, int max_pos, const char *usage,
                          long *pid, int *npos)
{
    options_defaults(o);
    int rc_args = parse_args(o, argc, argv, npos, false);
    if (rc_args)
        return parse_status(rc_args);
    if (*npos < 1 || *npos > max_pos || util_parse_long(argv[0], 1, 1L << 30, pid) != 0) {
        util_error("%s", usage);
        return LAUNCH_EXIT_USAGE;
    }
    return -1;
}

static int cmd_attach(int argc, char **argv)
{
    options o;
    int npos = 0;
    long pid;
    int rc = parse_pid_args(&o, argc, argv, 1, "attach: usage: leaktop attach PID", &pid, &npos);
    if (rc >= 0)
        return rc;
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        util_error("the live view needs a terminal; `leaktop mark PID` and --save give files to compare offline");
        return LAUNCH_EXIT_USAGE;
    }
    return view_attach(&o, (pid_t)pid);
}

/* A request not taken within this is reported: a program that makes any
 * allocation call takes it at once (the tracer looks on every call). */
#define MARK_WAIT_MS 2000

/* Asks the tracer for a snapshot and waits until it is taken: the tracer
 * services requests from the program's allocation calls. */
static int cmd_mark(int argc, char **argv)
{
    options o;
    int npos = 0;
    long pid;
    int rc_args = parse_pid_args(&o, argc, argv, 2, "mark: usage: leaktop mark PID [LABEL]", &pid, &npos);
    if (rc_args >= 0)
        return rc_args;
    const char *label = npos == 2 ? argv[1] : "mark";
    const char *gone = target_gone_why((pid_t)pid);
    if (gone) {
        util_error("process %ld %s: no mark taken", pid, gone);
        return 1;
    }
    char err[256];
    bool missing;
    session *s = session_open((pid_t)pid, NULL, &missing, err, sizeof(err));
    if (!s) {
        util_error("%s", err);
        return 1;
    }
    uint64_t req, snap_no = 0;
    if (session_request_mark(s, label, &req) != 0) {
        util_error("process %ld has too many mark requests waiting: it made no allocation call since them", pid);
        session_free(s);
        return 1;
    }
    int rc = 1;
    for (int waited = 0; waited < MARK_WAIT_MS && rc; waited += 5) {
        if (session_mark_taken(s, req, &snap_no))
            rc = 0;
        else
            util_sleep_ms(5);
    }
    if (rc == 0 && snap_no)
        printf("leaktop: marked process %ld as \"%s\" (snapshot %llu)\n", pid, label, (unsigned long long)snap_no);
    else if (rc == 0)
        util_error("process %ld: the mark \"%s\" could not be stored: %s is full", pid, label, "/dev/shm");
    else if ((gone = target_gone_why((pid_t)pid)) != NULL)
        util_error("process %ld %s before taking the mark \"%s\"", pid, gone, label);
    else
        util_error("process %ld made no allocation call in %d s (its heap has not changed since the request): "
                   "the mark \"%s\" will be taken at its next one", pid, MARK_WAIT_MS / 1000, label);
    session_free(s);
    return rc || !snap_no;
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
static int offline_report(int argc, char **argv, int nfiles, const char *what)
{
    options o;
    options_defaults(&o);
    if (nfiles == 1)
        o.diff.sort = DIFF_SORT_SIZE;
    int npos = 0;
    int rc_args = parse_args(&o, argc, argv, &npos, false);
    if (rc_args)
        return parse_status(rc_args);
    if (npos != nfiles) {
        util_error("%s", what);
        return LAUNCH_EXIT_USAGE;
    }
    diff_loctab *locs = diff_loctab_new();
    diff_snapshot *snaps[2] = {NULL, NULL};
    if (load_snapshots(argv, nfiles, locs, snaps) != 0) {
        diff_loctab_free(locs);
        return 1;
    }
    const diff_snapshot *cur = snaps[nfiles - 1], *base = nfiles == 2 ? snaps[0] : NULL;
    report_event ev = {
        .reason = nfiles == 2 ? "diff" : "show", .label = diff_snapshot_label(cur),
        .pid = diff_snapshot_pid(cur), .elapsed_s = diff_snapshot_elapsed(cur),
    };
    FILE *out = o.output ? fopen(o.output, "w") : stdout;
    int64_t growth = 0;
    char err[256];
    int rc = 0;
    if (!out) {
        util_error("%s: %s", o.output, strerror(errno));
        rc = 1;
    } else if (report_write(out, &o, cur, base, &ev, &growth, err, sizeof(err)) != 0) {
        util_error("%s", err);
        rc = 1;
    } else if (o.fail_on_growth >= 0 && growth > o.fail_on_growth) {
        rc = LAUNCH_EXIT_GROWTH;
    }
    if (out && out != stdout)
        fclose(out);
    for (int i = 0; i < nfiles; i++)
        diff_snapshot_free(snaps[i]);
    diff_loctab_free(locs);
    return rc;
}

static int cmd_diff(int argc, char **argv)
{
    return offline_report(argc, argv, 2, "diff: usage: leaktop diff OLD NEW [OPTIONS]");
}

static int cmd_show(int argc, char **argv)
{
    return offline_report(argc, argv, 1, "show: usage: leaktop show SNAPSHOT [OPTIONS]");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LAUNCH_EXIT_USAGE;
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
            return cmd_table[i].exec(argc - 2, argv + 2);
        }
    }
    util_error("unknown command '%s' (see leaktop --help)", argv[1]);
    return LAUNCH_EXIT_USAGE;
}
