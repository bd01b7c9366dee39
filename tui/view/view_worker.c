/* view_worker.c: one thread per compare, joined when collected. A thread
 * per job (two a second) costs less than a pool would in code. */
#include "view_worker.h"

#include <string.h>

#include "util.h"

static void *view_worker_main(void *arg)
{
    view_worker *w = arg;
    view_job *j = &w->job;
    int64_t t0 = util_now_ns();
    view_table_compute(j->cur, j->base, &j->opts, &j->res);
    j->ms = (double)(util_now_ns() - t0) / 1e6;
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

bool view_worker_busy(const view_worker *w)
{
    return w->running;
}

static void view_job_release(view_job *j)
{
    view_compare_result_free(&j->res);
    view_filter_free(&j->filter);
}

void view_worker_start(view_worker *w, const diff_snapshot *cur, const diff_snapshot *base,
                       const diff_options *o, const view_filter *filter, uint64_t mode, bool sample)
{
    view_job *j = &w->job;
    view_job_release(j);
    j->cur = cur;
    j->base = base;
    j->opts = *o;
    /* The user may change the filter while the job runs: it gets its own. */
    view_filter_from(&j->filter, filter->items, filter->n);
    j->opts.filters = j->filter.items;
    j->opts.nfilters = j->filter.n;
    j->mode = mode;
    j->sample = sample;
    __atomic_store_n(&w->done, 0, __ATOMIC_RELAXED);
    if (pthread_create(&w->thread, NULL, view_worker_main, w) != 0) {
        view_worker_main(w);   /* no thread: compute here rather than never */
        w->running = false;
        return;
    }
    w->running = true;
}

view_job *view_worker_collect(view_worker *w, bool wait)
{
    if (w->running) {
        if (!wait && !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
            return NULL;
        pthread_join(w->thread, NULL);
        w->running = false;
    }
    if (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
        return NULL;
    __atomic_store_n(&w->done, 0, __ATOMIC_RELAXED);   /* each job is collected once */
    return &w->job;
}

void view_worker_stop(view_worker *w)
{
    view_worker_collect(w, true);
    view_job_release(&w->job);
}

void view_worker_free(view_worker *w)
{
    view_worker_stop(w);
}
