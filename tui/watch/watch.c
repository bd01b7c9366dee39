/* watch.c: the one loop-independent model of a traced program: starting or
 * attaching, waiting for its segment, reaping, following exec, reading
 * marks, the baseline rule and the final state. Events queue up here and
 * the client pulls them (watch_poll), so the client's loop decides when
 * work that interns frames may run. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_status.h"
#include "inject.h"
#include "launch.h"
#include "lt_shm.h"
#include "target.h"
#include "util.h"

const unsigned watch_default_frames = LT_DEFAULT_FRAMES;
const unsigned watch_max_frames = LT_MAX_FRAMES;

/* The tracer creates the segment as the program loads (its first
 * allocation or its constructor). */
#define WATCH_SEGMENT_TIMEOUT_NS (10 * 1000000000LL)
/* A detach waits this long for the program's next allocation call, which
 * takes it (lt_shm.h); the segment goes either way. */
#define WATCH_DETACH_WAIT_NS (1000 * 1000000LL)
#define WATCH_DETACH_LABEL "detach"

struct watch {
    watch_config cfg;
    pid_t        pid;
    bool         launched;        /* ours: we reap it and may end it */
    char         name[256];
    session     *s;
    session     *retired;         /* the image before an exec, freed at the next poll */

    bool         gone;            /* reaped (launched) or vanished (attached) */
    bool         status_known;    /* wstatus is valid */
    int          wstatus;
    bool         exited;          /* its tracer saw exit() */
    double       end_elapsed;
    bool         end_reported;
    bool         unlinked;
    bool         truncated;       /* the segment shrank under us: said once */
    bool         left;            /* exec'd out of tracing: left_path says into what */
    char         left_path[256];

    bool         detaching;       /* watch_detach asked; END at the tracer's answer or the deadline */
    int64_t      detach_deadline;
    bool         detached;        /* END came from the detach */
    bool         injected;        /* watch_attach loaded the tracer: inj says what it cost */
    inject_stats inj;

    bool         have_baseline;   /* a mark became the baseline since start/exec */
    bool         baseline_chosen; /* the client chose one: marks stay marks */

    bool         image_known;     /* the traced image, to find what it forked (watch_survivors) */
    dev_t        image_dev;
    ino_t        image_ino;
    unsigned long long image_start; /* its start time, in clock ticks after boot */

    watch_event *queue;           /* events not yet polled, in order */
    size_t       qhead, qlen, qcap;
};

/* ---- the process ------------------------------------------------------------- */

/* True once the program has ended. A launched one is reaped and its wait
 * status kept; an attached one is gone or a zombie (not ours to wait for). */
static bool watch_reap(watch *w)
{
    if (w->gone)
        return true;
    if (!w->launched) {
        w->gone = !target_alive(w->pid);
        return w->gone;
    }
    int st;
    pid_t r;
    while ((r = waitpid(w->pid, &st, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == w->pid) {
        w->status_known = true;
        w->wstatus = st;
    }
    w->gone = r == w->pid || r < 0;   /* ECHILD: not ours any more */
    return w->gone;
}

static void watch_reap_blocking(watch *w)
{
    if (w->gone || !w->launched)
        return;
    while (waitpid(w->pid, &w->wstatus, 0) < 0 && errno == EINTR)
        ;
    w->gone = w->status_known = true;
}

/* The segment appears at the program's first allocation (or its tracer's
 * constructor). A program that ends before that was never traced. */
static session *watch_wait_session(watch *w, char *err, size_t errlen)
{
    char why[256];
    int64_t give_up = util_now_ns() + WATCH_SEGMENT_TIMEOUT_NS;
    for (;;) {
        bool missing = false;
        bool gone = watch_reap(w);
        session *s = session_open(w->pid, &w->cfg.session, &missing, why, sizeof(why));
        if (s)
            return s;
        if (!missing || gone || util_now_ns() > give_up) {
            snprintf(err, errlen, "%s%s", missing ? "the tracer did not start in the program: " : "", why);
            return NULL;
        }
        util_sleep_ms(1);
    }
}

static watch *watch_new(pid_t pid, const watch_config *cfg, bool launched)
{
    watch *w = xcalloc(1, sizeof(*w));
    w->cfg = *cfg;
    w->pid = pid;
    w->launched = launched;
    return w;
}

/* ---- starting ------------------------------------------------------------------ */

static volatile sig_atomic_t watch_forward_pid = 0;

static void watch_forward(int sig)
{
    if (watch_forward_pid > 0)
        kill((pid_t)watch_forward_pid, sig);
}

void watch_forward_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = watch_forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
}

/* The program started but never became traced: it runs to its end (or is
 * killed, see kill_untraced), and leaktop says tracing did not start. */
static int watch_untraced(watch *w)
{
    if (w->cfg.kill_untraced && !w->gone) {
        kill(-w->pid, SIGKILL);
        kill(w->pid, SIGKILL);
    }
    watch_reap_blocking(w);
    return LEAKTOP_EXIT_NOT_TRACED;
}

/* Notes the launched program's image: its executable and start, so that
 * processes it forks (a daemon's real server) can be told apart at its
 * end. Taken as soon as it exec'd (a daemon's first process may be gone
 * before its segment is read), and again after each exec it is followed
 * through; kept as it was when /proc no longer shows it. `launched`: the
 * file launch_start ran, for a first process that already exited (a
 * zombie has no exe, but still its start); NULL after a followed exec. */
static void watch_note_image(watch *w, const launch_image *launched)
{
    char path[64];
    struct stat st;
    unsigned long long start;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)w->pid);
    if (!w->launched || !target_start(w->pid, &start))
        return;
    if (stat(path, &st) == 0) {
        w->image_dev = st.st_dev;
        w->image_ino = st.st_ino;
    } else if (launched && launched->known) {
        w->image_dev = launched->dev;
        w->image_ino = launched->ino;
    } else {
        return;
    }
    w->image_known = true;
    w->image_start = start;
}

/* Is p leaktop itself or one of its ancestors (or init)? */
static bool watch_above_us(pid_t p)
{
    pid_t a = getpid();
    for (int depth = 0; depth < 256 && a > 1; depth++) {
        if (a == p)
            return true;
        if (!target_parent(a, &a))
            return false;
    }
    return p <= 1;
}

/* Did the program fork pid (or something it forked)? Going up from pid
 * through the processes that started during the run, the first older one
 * is where the program's orphans land when their parents die: init, or a
 * subreaper above leaktop, so leaktop or one of its ancestors. Another
 * program's process of the same executable (a cron job's, another
 * terminal's) reaches its own older parent instead. Its ancestry is all
 * a double-forked daemon leaves to go by. */
static bool watch_forked_by_program(const watch *w, pid_t pid)
{
    for (int depth = 0; depth < 256; depth++) {
        pid_t parent;
        unsigned long long start;
        if (!target_parent(pid, &parent))
            return false;
        if (parent == w->pid || parent <= 1)
            return true;
        if (!target_start(parent, &start))
            continue;  /* the parent exited meanwhile (a daemon's middle child): pid has a new one */
        if (start < w->image_start)
            return watch_above_us(parent);
        pid = parent;
    }
    return false;
}

/* One look through /proc; *seen: a digest of every pid found. */
static size_t watch_survivors_now(const watch *w, pid_t *out, size_t max, uint64_t *seen)
{
    *seen = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end, path[300];
        long pid = strtol(e->d_name, &end, 10);
        struct stat st;
        unsigned long long start;
        if (*end || pid <= 0 || pid == w->pid)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
        if (stat(path, &st) != 0 || st.st_dev != w->image_dev || st.st_ino != w->image_ino ||
            !target_start((pid_t)pid, &start) || start < w->image_start || !target_alive((pid_t)pid) ||
            !watch_forked_by_program(w, (pid_t)pid))
            continue;
        if (n < max)
            out[n] = (pid_t)pid;
        n++;
        *seen = (*seen ^ (uint64_t)pid) * 0x100000001b3ULL;
    }
    closedir(d);
    return n;
}

/* A daemon's middle process forks the server and exits moments after the
 * program's end: what is found is taken once it holds still (two looks
 * 20 ms apart agree; 200 ms at most), so the notice names the server and
 * not a process on its way out. Only when something was found. */
size_t watch_survivors(const watch *w, pid_t *out, size_t max)
{
    if (!w->image_known || !w->gone)
        return 0;
    uint64_t seen, again;
    size_t n = watch_survivors_now(w, out, max, &seen);
    for (int look = 0; n && look < 10; look++) {
        util_sleep_ms(20);
        size_t m = watch_survivors_now(w, out, max, &again);
        if (m == n && again == seen)
            break;
        n = m;
        seen = again;
    }
    return n;
}

watch *watch_launch(const watch_config *cfg, char *const *argv, int *status, char *err, size_t errlen)
{
    launch_spec spec = {
        .argv = argv, .frames = cfg->frames, .sample_bytes = cfg->sample_bytes, .stdin_fd = cfg->stdin_fd,
        .stdout_fd = cfg->stdout_fd, .stderr_fd = cfg->stderr_fd, .new_pgrp = cfg->new_pgrp,
    };
    launch_image image;
    pid_t pid = launch_start(&spec, &image, status, err, errlen);
    if (pid < 0)
        return NULL;
    watch_forward_pid = pid;
    watch *w = watch_new(pid, cfg, true);
    snprintf(w->name, sizeof(w->name), "%s", argv[0]);
    watch_note_image(w, &image);
    return w;
}

int watch_wait_traced(watch *w, int *status, char *err, size_t errlen)
{
    w->s = watch_wait_session(w, err, errlen);
    if (w->s)
        return 0;
    *status = watch_untraced(w);
    return -1;
}

/* The tracer's settings for leaktop_attach (lt_shm.h): the environment
 * variables' names, one a line. */
static void watch_inject_config(const watch_config *cfg, char *buf, size_t len)
{
    int n = snprintf(buf, len, "LEAKTOP_FRAMES=%u\nLEAKTOP_LAUNCHER=%d\n",
                     cfg->frames ? cfg->frames : LT_DEFAULT_FRAMES, (int)getpid());
    if (cfg->sample_bytes && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "LEAKTOP_SAMPLE=%llu\n", (unsigned long long)cfg->sample_bytes);
}

/* Loads the tracer into process pid and starts its tracing. 0, or -1 with
 * err and *status filled. */
static int watch_inject(pid_t pid, const watch_config *cfg, inject_stats *st, int *status, char *err,
                        size_t errlen)
{
    const char *lib = launch_tracer_path(err, errlen);
    if (!lib) {
        *status = LEAKTOP_EXIT_NOT_TRACED;
        return -1;
    }
    char config[256];
    watch_inject_config(cfg, config, sizeof(config));
    inject_refusal r = inject_library(pid, lib, LT_ATTACH_SYMBOL, config, st, err, errlen);
    if (r != INJECT_OK) {
        *status = inject_exit_status(r);
        return -1;
    }
    if (st->call_result != 0) {
        const char *why = st->call_result == EEXIST ? "it was preloaded, and its segment is gone"
                        : st->call_result == EXDEV ? "it was attached with another --sample before; attach with the "
                                                     "same --sample (its threads keep their sampling countdowns)"
                                                   : strerror(st->call_result);
        snprintf(err, errlen, "the tracer could not start in process %d: %s", (int)pid, why);
        *status = LEAKTOP_EXIT_NOT_TRACED;
        return -1;
    }
    return 0;
}

watch *watch_attach(pid_t pid, const watch_config *cfg, int *status, char *err, size_t errlen)
{
    bool missing = false;
    *status = LEAKTOP_EXIT_FAILURE;
    const char *gone = target_gone_why(pid);
    if (gone) {
        snprintf(err, errlen, "process %d %s", (int)pid, gone);
        *status = inject_exit_status(strstr(gone, "zombie") ? INJECT_ZOMBIE : INJECT_NO_PROCESS);
        return NULL;
    }
    session *s = session_open(pid, &cfg->session, &missing, err, errlen);
    if (!s && (!missing || !cfg->inject))
        return NULL;
    watch *w = watch_new(pid, cfg, false);
    if (!s) {   /* not traced: load the tracer now */
        w->injected = true;
        if (watch_inject(pid, cfg, &w->inj, status, err, errlen) != 0 || !(s = watch_wait_session(w, err, errlen))) {
            if (*status == LEAKTOP_EXIT_FAILURE)
                *status = LEAKTOP_EXIT_NOT_TRACED;
            free(w);
            return NULL;
        }
    }
    w->s = s;
    target_name(pid, w->name, sizeof(w->name));
    return w;
}

bool watch_detach(watch *w)
{
    if (w->detaching || w->end_reported || w->launched || !w->s)
        return false;
    w->detaching = true;
    w->detach_deadline = 0;   /* preloaded: it traces on, nothing to wait for */
    if (session_attached(w->s)) {
        uint64_t req;
        /* A full request queue still gets the flag, and the deadline. */
        (void)session_request_detach(w->s, WATCH_DETACH_LABEL, &req);
        w->detach_deadline = util_now_ns() + WATCH_DETACH_WAIT_NS;
    }
    return true;
}

static int watch_candidate_cmp(const void *a, const void *b)
{
    const watch_candidate *x = a, *y = b;
    if (x->traced != y->traced)
        return x->traced ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t watch_candidates(watch_candidate **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        char why[512];
        if (util_parse_long(e->d_name, 1, 1L << 30, &pid) != 0 || pid == (long)getpid())
            continue;
        bool traced = session_exists((pid_t)pid);
        if (!traced && inject_check((pid_t)pid, why, sizeof(why)) != INJECT_OK)
            continue;
        if (n == cap)
            *out = xrealloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(**out));
        watch_candidate *c = &(*out)[n++];
        c->pid = (pid_t)pid;
        c->traced = traced;
        target_name((pid_t)pid, c->name, sizeof(c->name));
    }
    closedir(d);
    qsort(*out, n, sizeof(**out), watch_candidate_cmp);
    return n;
}

/* A request not taken within this is reported: a program that makes any
 * allocation call takes it at once (the tracer looks on every call). */
#define WATCH_MARK_WAIT_MS 2000

int watch_mark(pid_t pid, const char *label, uint64_t *snap_no, char *err, size_t errlen)
{
    const char *gone = target_gone_why(pid);
    if (gone) {
        snprintf(err, errlen, "process %d %s: no mark taken", (int)pid, gone);
        return -1;
    }
    bool missing;
    session *s = session_open(pid, NULL, &missing, err, errlen);
    if (!s)
        return -1;
    uint64_t req;
    *snap_no = 0;
    if (session_request_mark(s, label, &req) != 0) {
        snprintf(err, errlen, "process %d has too many mark requests waiting: it made no allocation call since them",
                 (int)pid);
        session_free(s);
        return -1;
    }
    bool taken = false;
    for (int waited = 0; waited < WATCH_MARK_WAIT_MS && !taken; waited += 5) {
        taken = session_mark_taken(s, req, snap_no);
        if (!taken)
            util_sleep_ms(5);
    }
    session_free(s);
    if (taken && *snap_no)
        return 0;
    if (taken)
        snprintf(err, errlen, "process %d: the mark \"%s\" could not be stored: /dev/shm is full", (int)pid, label);
    else if ((gone = target_gone_why(pid)) != NULL)
        snprintf(err, errlen, "process %d %s before taking the mark \"%s\"", (int)pid, gone, label);
    else
        snprintf(err, errlen, "process %d made no allocation call in %d s (its heap has not changed since the "
                 "request): the mark \"%s\" will be taken at its next one", (int)pid, WATCH_MARK_WAIT_MS / 1000, label);
    return -1;
}

/* ---- the event queue --------------------------------------------------------------- */

static void watch_push(watch *w, const watch_event *ev)
{
    if (w->qhead + w->qlen == w->qcap) {
        if (w->qhead) {   /* slide the pending ones to the front */
            memmove(w->queue, w->queue + w->qhead, w->qlen * sizeof(*w->queue));
            w->qhead = 0;
        } else {
            w->qcap = w->qcap ? w->qcap * 2 : 16;
            w->queue = xrealloc(w->queue, w->qcap * sizeof(*w->queue));
        }
    }
    w->queue[w->qhead + w->qlen++] = *ev;
}

static bool watch_pop(watch *w, watch_event *ev)
{
    if (!w->qlen)
        return false;
    *ev = w->queue[w->qhead++];
    if (--w->qlen == 0)
        w->qhead = 0;
    return true;
}

/* ---- what happened ------------------------------------------------------------------- */

/* Marks in the ring since the last call. The first one becomes the
 * baseline, in batch mode and in the view alike, unless one was chosen.
 * When `detach` is given, the tracer's snapshot for the detach request
 * (taken as it went dormant) is held back there instead: the final state,
 * not a mark. */
static void watch_drain_marks(watch *w, diff_snapshot **detach)
{
    diff_snapshot *snap;
    uint64_t skipped = 0;
    bool requested;
    while ((snap = session_next_mark(w->s, &skipped, &requested)) != NULL) {
        if (skipped)
            watch_push(w, &(watch_event){.kind = WATCH_EVENT_SKIPPED, .skipped = skipped});
        if (detach && strcmp(diff_snapshot_label(snap), WATCH_DETACH_LABEL) == 0) {
            if (*detach)
                diff_snapshot_free(*detach);
            *detach = snap;
            continue;
        }
        watch_event ev = {.kind = WATCH_EVENT_MARK, .snap = snap, .requested = requested};
        if (!w->have_baseline && !w->baseline_chosen)
            ev.baseline = w->have_baseline = true;
        watch_push(w, &ev);
    }
    if (skipped)
        watch_push(w, &(watch_event){.kind = WATCH_EVENT_SKIPPED, .skipped = skipped});
}

/* The program exec'd (a #! script, `env`, a wrapper) and its new image's
 * tracer made a new segment. The old heap and frame table went with the
 * old image: the client starts over from the new one's empty start. */
static void watch_follow_exec(watch *w)
{
    if (!session_replaced(w->s))
        return;
    watch_drain_marks(w, NULL);
    char err[512];
    session *next = watch_wait_session(w, err, sizeof(err));
    if (!next)
        return;   /* keep reporting what we had; retried at the next poll */
    session_unlink(w->s);
    w->retired = w->s;
    w->s = next;
    w->have_baseline = w->baseline_chosen = false;
    target_name(w->pid, w->name, sizeof(w->name));
    watch_note_image(w, NULL);
    watch_push(w, &(watch_event){.kind = WATCH_EVENT_EXEC});
}

/* The program exec'd into an image the tracer is not in (a static binary,
 * `env -i`): what we hold is the old image's heap at the exec. */
static void watch_check_left(watch *w)
{
    if (w->left || !session_left_tracing(w->s, w->left_path, sizeof(w->left_path)))
        return;
    w->left = true;
    watch_push(w, &(watch_event){.kind = WATCH_EVENT_LEFT, .path = w->left_path});
}

/* Someone truncated the segment: the session read zeros past its new end
 * instead of dying of SIGBUS. Said once. */
static void watch_check_truncated(watch *w)
{
    if (w->truncated || !session_truncated(w->s))
        return;
    w->truncated = true;
    watch_push(w, &(watch_event){.kind = WATCH_EVENT_TRUNCATED});
}

/* The program ended, or the detach was taken (or timed out): its counters
 * live in the mapping, which outlives both, so the final state needs no
 * flush by the program (SIGKILL included). */
static void watch_finish(watch *w)
{
    w->end_elapsed = session_elapsed(w->s);
    w->exited = session_exiting(w->s);
    diff_snapshot *final = NULL;
    bool detach_taken = w->detaching && !w->gone;
    if (detach_taken)
        w->detached = true;
    watch_drain_marks(w, detach_taken ? &final : NULL);
    if (!final)
        final = session_snapshot_live(w->s, w->detached ? WATCH_DETACH_LABEL : "exit");
    watch_check_truncated(w);   /* said before END: nothing comes after it */
    watch_push(w, &(watch_event){.kind = WATCH_EVENT_END, .snap = final});
    w->end_reported = true;
    if (w->detached && !session_attached(w->s))
        return;   /* a preloaded tracer traces on: its segment stays for the next attach */
    session_unlink(w->s);
    w->unlinked = true;
}

bool watch_poll(watch *w, watch_event *ev)
{
    if (w->retired && !w->qlen) {
        session_free(w->retired);
        w->retired = NULL;
    }
    if (watch_pop(w, ev))
        return true;
    if (w->end_reported)
        return false;
    bool gone = watch_reap(w);
    /* Another leaktop watching the same injected tracer detached it. */
    if (!w->detaching && !gone && session_attached(w->s) && session_detached(w->s))
        w->detaching = true;
    if (w->detaching && !gone) {   /* the marks up to the detach come with END */
        if (session_detached(w->s) || util_now_ns() > w->detach_deadline)
            watch_finish(w);
        return watch_pop(w, ev);
    }
    watch_follow_exec(w);
    watch_check_left(w);
    watch_drain_marks(w, NULL);
    watch_check_truncated(w);
    if (gone)
        watch_finish(w);
    return watch_pop(w, ev);
}

void watch_baseline_chosen(watch *w)
{
    w->baseline_chosen = true;
}

/* ---- reading and ending ------------------------------------------------------------------ */

diff_snapshot *watch_snapshot(watch *w, const char *label)
{
    return session_snapshot_live(w->s, label);
}

diff_snapshot *watch_baseline(watch *w, const char *label)
{
    return session_snapshot_baseline(w->s, label);
}

unsigned watch_prefetch(watch *w, unsigned budget_ms)
{
    return session_prefetch(w->s, budget_ms);
}

void watch_terminate(watch *w, unsigned grace_ms)
{
    if (!w->launched || w->gone)
        return;
    kill(-w->pid, SIGTERM);
    int64_t give_up = util_now_ns() + (int64_t)grace_ms * 1000000;
    while (!watch_reap(w) && util_now_ns() < give_up)
        util_sleep_ms(10);
    if (!w->gone) {
        kill(-w->pid, SIGKILL);
        kill(w->pid, SIGKILL);
        watch_reap_blocking(w);
    }
}

void watch_free(watch *w)
{
    if (!w)
        return;
    watch_event ev;
    while (watch_pop(w, &ev))
        if (ev.snap)
            diff_snapshot_free(ev.snap);
    /* An injected tracer never outlives its frontend's watch: however the
     * client ends, it is detached (dormant at the next call). A preloaded
     * one traces on, and its segment stays for the next attach. */
    bool injected = w->s && session_attached(w->s);
    if (injected && !w->gone && !w->end_reported)
        watch_detach(w);
    if (w->s && !w->unlinked && (w->launched || w->gone || (injected && w->detaching)))
        session_unlink(w->s);
    if (w->launched && watch_forward_pid == w->pid)
        watch_forward_pid = 0;
    session_free(w->s);
    session_free(w->retired);
    free(w->queue);
    free(w);
}

/* ---- facts -------------------------------------------------------------------------------- */

pid_t watch_pid(const watch *w) { return w->pid; }
bool watch_launched(const watch *w) { return w->launched; }
bool watch_ended(const watch *w) { return w->end_reported; }
bool watch_exited(const watch *w) { return w->exited; }
bool watch_since_attach(const watch *w) { return w->s && session_attached(w->s); }
bool watch_detached(const watch *w) { return w->detached; }

bool watch_injected(const watch *w, watch_injection *out)
{
    *out = (watch_injection){
        .stopped_ns = w->inj.stopped_ns, .total_stopped_ns = w->inj.total_stopped_ns,
        .threads = w->inj.threads, .attempts = w->inj.attempts,
    };
    return w->injected;
}
const char *watch_name(const watch *w) { return w->name; }
diff_loctab *watch_locs(const watch *w) { return session_locs(w->s); }
uint32_t watch_frames_limit(const watch *w) { return session_frames_limit(w->s); }
uint64_t watch_sample_bytes(const watch *w) { return w->s ? session_sample_bytes(w->s) : 0; }

bool watch_status(const watch *w, int *wstatus)
{
    if (w->status_known)
        *wstatus = w->wstatus;
    return w->status_known;
}

int watch_exit_code(const watch *w)
{
    return w->status_known ? launch_exit_code(w->wstatus) : LEAKTOP_EXIT_FAILURE;
}

double watch_elapsed(const watch *w)
{
    return w->end_reported ? w->end_elapsed : session_elapsed(w->s);
}

bool watch_stopped(const watch *w)
{
    if (w->gone)
        return false;
    char st = target_state(w->pid);
    return st == 'T' || st == 't';
}

void watch_health(const watch *w, session_health *out)
{
    session_health_get(w->s, out);
}

const char *watch_left_tracing(const watch *w)
{
    return w->left ? w->left_path : NULL;
}

bool watch_growth_unknown(const watch *w)
{
    return w->left || w->truncated || (w->s && session_truncated(w->s));
}

int64_t watch_rss(const watch *w)
{
    return w->gone ? -1 : target_rss(w->pid);
}
