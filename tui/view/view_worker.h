/* view_worker.h: the compare off the main thread. Grouping and sorting
 * 100,000 tracebacks takes tens of milliseconds; on a thread of its own it
 * never delays a key. One job at a time.
 *
 * The rule that makes this safe: while a job runs, the snapshots it
 * compares and their loctab are only read, by both threads. The main
 * thread takes snapshots (which intern frames) only when the worker is
 * idle (view_worker_busy), and frees nothing the job uses until it is
 * collected. diff_compare itself only reads (diff.h says what is safe). */
#ifndef LEAKTOP_VIEW_WORKER_H
#define LEAKTOP_VIEW_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "diff.h"
#include "view_filter.h"
#include "view_table.h"

typedef struct view_job {
    const diff_snapshot *cur, *base;   /* borrowed until collected */
    diff_options         opts;         /* with its own copy of the filters */
    view_filter          filter;
    uint64_t             mode;
    bool                 sample;
    bool                 frozen;       /* two marks compared: no trends (set before start) */
    view_compare_result  res;
    double               ms;           /* how long the compare took */
} view_job;

typedef struct view_worker {
    pthread_t     thread;
    bool          running;             /* a thread was started and not joined */
    int           done;                /* set by the thread (atomic) */
    view_job      job;
} view_worker;

bool view_worker_busy(const view_worker *w);
/* Starts comparing cur against base. The worker must not be busy. */
void view_worker_start(view_worker *w, const diff_snapshot *cur, const diff_snapshot *base,
                       const diff_options *o, const view_filter *filter, uint64_t mode, bool sample);
/* The finished job, once, or NULL while it runs (or when there is none).
 * With wait, blocks until it finishes. The job stays valid until the next
 * start. */
view_job *view_worker_collect(view_worker *w, bool wait);
/* Waits for a running job and drops its result. */
void view_worker_stop(view_worker *w);
void view_worker_free(view_worker *w);

#endif
