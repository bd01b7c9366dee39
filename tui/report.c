/* report.c: compare, then format as the options ask. */
#include "report.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#define REPORT_TEXT_TOP 10  /* text rows when --top is not given */

int report_write(FILE *out, const options *o, const diff_snapshot *cur, const diff_snapshot *base,
                 const report_event *ev, report_outcome *res, char *err, size_t errlen)
{
    diff_options dopts = o->diff;
    dopts.trend = ev->trend;
    diff_stats *st = diff_compare(cur, base, &dopts, err, errlen);
    if (!st)
        return -1;
    char cwd[PATH_MAX];
    size_t top = o->top != (size_t)-1 ? o->top : o->json ? 0 : REPORT_TEXT_TOP;
    diff_report_info info = {
        .reason = ev->reason,
        .label = ev->label,
        .baseline = base ? diff_snapshot_label(base) : "",
        .pid = ev->pid,
        .elapsed_s = ev->elapsed_s,
        .signal = ev->signal,
        .frames_limit = diff_snapshot_frames_limit(cur),
        .sample_bytes = diff_snapshot_sample_bytes(cur),
        .top = top,
        .path_base = getcwd(cwd, sizeof(cwd)),
        .traced = ev->traced,
        .traces_dropped = ev->traces_dropped,
        .left_tracing = ev->left_tracing,
        .attached = ev->attached,
        .window_s = ev->trend ? diff_trend_hist_window(ev->trend) : 0,
    };
    if (o->json)
        diff_report_json(out, st, &o->diff, &info);
    else
        diff_report_text(out, st, &o->diff, &info);
    fflush(out);
    diff_stat total;
    diff_stats_total(st, &total);
    res->growth = total.size_diff;
    res->suspects = diff_stats_suspects(st);
    int rc = ev->trend ? diff_trend_hist_record(ev->trend, st, diff_snapshot_elapsed(cur), 0) : 0;
    diff_stats_free(st);
    if (rc < 0)
        snprintf(err, errlen, "out of memory recording the trend");
    return rc < 0 ? -1 : 0;
}
