/* session.h: the frontend's view of one traced process. Maps its segment,
 * validates everything it reads from it, follows the module table and the
 * snapshot ring, and turns counters into diff snapshots with symbolized
 * frames. The only frontend code that includes the shared-memory layout. */
#ifndef LEAKTOP_SESSION_H
#define LEAKTOP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diff.h"

typedef struct session session;

typedef struct session_config {
    const char *const *alloc_fns;   /* extra allocator-wrapper globs (--alloc-fn) */
    size_t             nalloc_fns;
    const char *const *debug_dirs;  /* extra separate-debug-file directories */
    size_t             ndebug_dirs;
    unsigned           debuginfod_ms;  /* bound of one debuginfod fetch; 0: off */
    /* A first frame in a module waits for its fetch (batch: exact reports);
     * else it shows what is here until the answer is in (the live view). */
    bool               debuginfod_wait;
    /* Resolve only what lineno/filename grouping needs: each trace's frames
     * up to its first frame that is not an allocator wrapper. The rest of
     * a stack (often deep in libc, whose debug info is costly to load) is
     * never symbolized. Snapshots then hold those frames only. */
    bool               top_frames_only;
} session_config;

/* Opens process PID's segment: the newest /dev/shm/leaktop-UID-PID-RANDOM
 * that is ours, private, and whose header names PID as its writer. Returns
 * NULL with err filled; *missing is set when none exists (yet), so a
 * launcher can keep waiting. */
session *session_open(pid_t pid, const session_config *cfg, bool *missing,
                      char *err, size_t errlen);
void     session_free(session *s);
/* Process pid has a segment of ours (it is traced), without opening it. */
bool     session_exists(pid_t pid);
/* True when the process exec'd and its new image's tracer replaced the
 * segment: open a new session (the old image's heap is gone). */
bool     session_replaced(const session *s);
/* True when the process exec'd into an image the tracer is not in (a
 * static binary, `env -i`, a setuid program): the figures are the old
 * image's, frozen at the exec. `path` gets what it exec'd. */
bool     session_left_tracing(session *s, char *path, size_t len);

/* What the tracer could not record: allocations whose new stack found no
 * room (charged to <unknown>), marks that found no room, and why. */
typedef struct session_health {
    uint64_t traces_dropped;
    uint64_t marks_dropped;
    uint32_t traces_cap, traces_asked;
    uint32_t fetching;        /* debuginfod fetches still under way */
    char     full_why[128];   /* "" while nothing is full */
} session_health;
void     session_health_get(const session *s, session_health *out);
/* True once the segment's file was found shorter than the mapping (someone
 * truncated it): reads past its end see zeros from then on, so figures
 * read since are incomplete. Never a SIGBUS. */
bool     session_truncated(const session *s);
/* Removes the segment's name (the mapping stays readable). */
void     session_unlink(session *s);

uint32_t session_frames_limit(const session *s);
/* 0: exact figures; else the tracer's mean sampling interval (estimates). */
uint64_t session_sample_bytes(const session *s);
bool     session_exiting(const session *s);        /* the tracer saw exit() */
double   session_elapsed(const session *s);        /* seconds since tracing started */
diff_loctab *session_locs(session *s);

/* The live counters now. Exact per trace; while threads allocate, traces
 * are read one after another, not at one instant. */
diff_snapshot *session_snapshot_live(session *s, const char *label);
/* The same, taken as a baseline: it also starts a new birth epoch in the
 * tracer (the frontend's one write besides mark requests), so that blocks
 * born after it can be told from those before: retained since this
 * snapshot is exact. Past the tracer's epoch limit its retained figures
 * are "not known". */
diff_snapshot *session_snapshot_baseline(session *s, const char *label);

/* Symbolizes traces recorded since the last call, for at most `budget_ms`,
 * so that a later snapshot finds them resolved (a batch run does this
 * while it waits for the program). Returns how many it resolved. */
unsigned session_prefetch(session *s, unsigned budget_ms);

/* The next snapshot written to the ring since the last call, or NULL when
 * there is none. *skipped counts snapshots overwritten before they could
 * be read (a lagging reader skips to the oldest one still there);
 * *requested says it was asked for from outside (`leaktop mark PID`)
 * rather than by the program's leaktop_mark(). */
diff_snapshot *session_next_mark(session *s, uint64_t *skipped, bool *requested);

/* Removes segments left by processes that are gone (a program traced with
 * a plain LD_PRELOAD and no frontend leaves its segment behind). Only the
 * user's own, and only after `min_age_s`, so a frontend still reading the
 * final state of a program that just ended keeps its segment. Returns how
 * many were removed. */
int session_clean_stale(unsigned min_age_s);

/* Tracing began at `leaktop attach` (injected), not at the program's
 * start: every figure is since then, and the tracer can be detached. */
bool     session_attached(const session *s);
/* The tracer took a detach request: it is dormant, its counters final. */
bool     session_detached(const session *s);
/* Asks an attached tracer to detach (lt_shm.h's protocol: detach_req, then
 * a mark request labelled `label`, its final snapshot, which wakes it at
 * the program's next allocation call). 0, or -EBUSY as session_request_mark. */
int      session_request_detach(session *s, const char *label, uint64_t *req);

/* Asks the tracer for a labelled snapshot (`leaktop mark PID LABEL`): the
 * tracer takes it at the program's next allocation call, every request its
 * own snapshot. 0 and the request's number in *req, or -EBUSY when
 * LT_MARK_QUEUE requests already wait. */
int      session_request_mark(session *s, const char *label, uint64_t *req);
/* True once request `req` was taken; *snap_no is its snapshot number (0:
 * it could not be stored, /dev/shm being full). */
bool     session_mark_taken(const session *s, uint64_t req, uint64_t *snap_no);

#endif
