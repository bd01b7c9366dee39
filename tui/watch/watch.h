/* watch.h: one traced program as the frontend follows it, whoever shows
 * it. A watch owns the pid (launched by us, or attached to), the session
 * over the program's segment, the wait for that segment, reaping and the
 * wait status, following an exec, the marks in the ring with the rule that
 * the first one becomes the baseline, the final snapshot and the RSS.
 *
 * Its clients (batch.c, the live view) pull what happened as events with
 * watch_poll and decide what to show; they never see the segment. Attach
 * by injection (PRODUCT.md §11, inject.c) starts one too. */
#ifndef LEAKTOP_WATCH_H
#define LEAKTOP_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diff.h"
#include "session.h"

typedef struct watch watch;

/* The traceback depth a launch asks the tracer for (--frames): its default
 * and maximum, from the segment layout (LT_DEFAULT_FRAMES, LT_MAX_FRAMES). */
extern const unsigned watch_default_frames;
extern const unsigned watch_max_frames;

typedef struct watch_config {
    session_config session;    /* symbolization settings */
    /* watch_launch, and watch_attach when it injects the tracer */
    unsigned       frames;     /* LEAKTOP_FRAMES for the program */
    uint64_t       sample_bytes; /* LEAKTOP_SAMPLE for the program; 0 = leave the environment's */
    /* watch_attach: load the tracer into a process that has none (else
     * only a traced process is followed) */
    bool           inject;
    /* watch_launch only */
    int            stdin_fd, stdout_fd, stderr_fd;   /* -1: inherit */
    bool           new_pgrp;   /* its own process group (the live view's keys are ours) */
    /* When the program never creates its segment (it ended first, or the
     * wait timed out): kill it (the live view), or let it run to its end
     * and take its status (batch, whose caller sees its output anyway). */
    bool           kill_untraced;
} watch_config;

typedef enum watch_event_kind {
    WATCH_EVENT_MARK,      /* a snapshot the program (or `leaktop mark`) took */
    WATCH_EVENT_SKIPPED,   /* marks overwritten in the ring before they were read */
    WATCH_EVENT_EXEC,      /* the program exec'd: a new image, from an empty start */
    WATCH_EVENT_LEFT,      /* the program exec'd into an image the tracer is not in:
                              the figures stay the old image's, frozen at the exec */
    WATCH_EVENT_TRUNCATED, /* the segment's file shrank under us (someone truncated it):
                              figures read from now on are incomplete */
    WATCH_EVENT_END,       /* the program ended: its final state */
} watch_event_kind;

typedef struct watch_event {
    watch_event_kind kind;
    /* MARK and END: the snapshot, owned by the client from now on. */
    diff_snapshot   *snap;
    /* MARK: the first mark since the start (or the exec) when no baseline
     * was chosen (watch_baseline_chosen): by the rule it is the baseline. */
    bool             baseline;
    /* MARK: asked for by `leaktop mark PID`, not the program's leaktop_mark(). */
    bool             requested;
    uint64_t         skipped;  /* SKIPPED: how many */
    const char      *path;     /* LEFT: what it exec'd (valid while the watch lives) */
} watch_event;

/* Starts argv under the tracer. NULL with err filled (one line) and
 * *status set to leaktop's exit status when it could not start. */
watch *watch_launch(const watch_config *cfg, char *const *argv, int *status, char *err, size_t errlen);
/* Waits (up to 10 s) for the launched program's segment. 0, or -1 with
 * err filled and *status set to LEAKTOP_EXIT_NOT_TRACED when it never
 * became traced (see kill_untraced): never an empty report that looks
 * like success. */
int    watch_wait_traced(watch *w, int *status, char *err, size_t errlen);
/* Follows a running process: one started with the tracer preloaded (its
 * whole history), else one the tracer is loaded into now with ptrace
 * (PRODUCT.md §11: figures since the attach; watch_detach ends it). NULL
 * with err filled (one line) and *status set to leaktop's exit status for
 * the refusal (no such process, zombie, ptrace denied, a debugger, static,
 * seccomp) or failure. */
watch *watch_attach(pid_t pid, const watch_config *cfg, int *status, char *err, size_t errlen);
/* Stops watching an attached process (q, the end of --duration, Ctrl-C).
 * A tracer watch_attach loaded goes dormant at the program's next
 * allocation call (1 s at most is waited for) and its segment is removed;
 * a preloaded one traces on, its segment kept. The program runs on. END
 * follows with the final snapshot (label "detach"). False when there is
 * nothing to detach from (launched, or already ended). */
bool   watch_detach(watch *w);
/* A process `leaktop attach` could watch: traced already (preloaded, or
 * attached by another leaktop), or one the tracer can be loaded into. */
typedef struct watch_candidate {
    pid_t pid;
    bool  traced;
    char  name[128];
} watch_candidate;
/* Every such process but ourselves, traced ones first, then by pid; the
 * caller frees *out. Returns how many. */
size_t watch_candidates(watch_candidate **out);

/* `leaktop mark PID LABEL`: asks process pid's tracer for a labelled
 * snapshot and waits (2 s at most) until it is taken. 0 with its snapshot
 * number, or -1 with err filled (one line: not traced, gone, a zombie, no
 * allocation call meanwhile, no room). */
int    watch_mark(pid_t pid, const char *label, uint64_t *snap_no, char *err, size_t errlen);
/* Frees everything, queued events included. The segment's name is removed
 * once the program ended or was launched by us (an attached program that
 * still runs keeps it: it may be watched again). */
void   watch_free(watch *w);

/* TERM and HUP to leaktop are forwarded to the launched program, which then
 * ends and gets its final report; INT and QUIT are ignored (from a terminal
 * they reach the program directly, as it is in our process group). Call
 * before watch_launch. For the one watch of a batch run. */
void   watch_forward_signals(void);

/* The next event, or false when nothing happened since the last call. Call
 * it until it returns false; after END nothing more comes. Checks, in
 * order: the program's end (non-blocking), an exec (the old image's marks
 * come first), new marks, and then END with the final snapshot.
 *
 * Threads: the session interns frames into the frame table while it reads
 * marks and snapshots, so no other thread may read that table (a compare)
 * during watch_poll, watch_snapshot or watch_prefetch.
 *
 * EXEC: snapshots taken before it refer to the old image's frame table,
 * which stays alive until the next watch_poll: drop them while handling
 * the event. */
bool   watch_poll(watch *w, watch_event *ev);

/* The user chose or cleared a baseline: marks stop becoming the baseline
 * (until an exec starts over). */
void   watch_baseline_chosen(watch *w);

/* The counters now (after the end: the final state). Exact per trace. */
diff_snapshot *watch_snapshot(watch *w, const char *label);
/* The counters now, as a baseline the client takes (the view's `b`): the
 * tracer starts a new birth epoch, so retained since it is exact
 * (diff_compare). Marks in the ring are baselines already. */
diff_snapshot *watch_baseline(watch *w, const char *label);
/* Idle time: symbolizes traces recorded so far for at most budget_ms, so
 * that later snapshots find them resolved. Returns how many it resolved. */
unsigned watch_prefetch(watch *w, unsigned budget_ms);

/* q on a launched program still running: SIGTERM to its process group,
 * SIGKILL after grace_ms, reaped. Nothing for an attached one. */
void   watch_terminate(watch *w, unsigned grace_ms);

/* After a launched program ended: processes running its executable that
 * started after it and still run (what it forked: a daemon's server runs
 * on, untraced, as forked children are). Their pids in out[0..max), and
 * how many there are. When it finds some, it waits (200 ms at most) for
 * the set to hold still: a daemon's middle process is on its way out. */
size_t       watch_survivors(const watch *w, pid_t *out, size_t max);
pid_t        watch_pid(const watch *w);
bool         watch_launched(const watch *w);
bool         watch_ended(const watch *w);           /* END was reported */
/* The wait status, when known (a launched program that was reaped). */
bool         watch_status(const watch *w, int *wstatus);
/* What leaktop ends with for the program's end: its exit code, 128+N
 * after signal N, or LEAKTOP_EXIT_FAILURE when the status is unknown. */
int          watch_exit_code(const watch *w);
/* An attached program's tracer saw exit() before it went away. */
bool         watch_exited(const watch *w);
/* Tracing began at the attach (the tracer was injected): figures are
 * "since attach". */
bool         watch_since_attach(const watch *w);
/* END came from watch_detach: the program runs on without the tracer. */
bool         watch_detached(const watch *w);
/* What loading the tracer cost the program: how long all its threads were
 * stopped (the final round; and all rounds, when some thread was inside the
 * allocator or the loader), how many threads, how many rounds. False when
 * watch_attach found it traced already. */
typedef struct watch_injection {
    int64_t  stopped_ns, total_stopped_ns;
    unsigned threads, attempts;
} watch_injection;
bool         watch_injected(const watch *w, watch_injection *out);
/* Seconds since tracing started, frozen at the end. */
double       watch_elapsed(const watch *w);
/* Stopped (SIGSTOP, SIGTSTP, or by a debugger). Reads /proc. */
bool         watch_stopped(const watch *w);
/* What the tracer could not record so far (allocations charged to
 * <unknown>, marks with no room, and why). */
void         watch_health(const watch *w, session_health *out);
/* What the program exec'd out of tracing, or NULL (see WATCH_EVENT_LEFT). */
const char  *watch_left_tracing(const watch *w);
/* The figures cannot be trusted to be whole: the program left tracing at an
 * exec, or its segment was truncated (WATCH_EVENT_TRUNCATED). */
bool         watch_growth_unknown(const watch *w);
/* Resident set size in bytes, -1 when unknown or ended. Reads /proc. */
int64_t      watch_rss(const watch *w);
/* The program's name: argv[0] when launched; /proc's after an attach or
 * an exec. */
const char  *watch_name(const watch *w);
diff_loctab *watch_locs(const watch *w);
uint32_t     watch_frames_limit(const watch *w);
/* 0: exact; else the tracer samples every this many bytes on average and
 * every figure is an estimate (0 too until the segment is found). */
uint64_t     watch_sample_bytes(const watch *w);

#endif
