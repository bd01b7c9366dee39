/* report.h: one comparison report (current vs baseline) written in the
 * format the options ask for; shared by batch mode and the offline commands. */
#ifndef LEAKTOP_REPORT_H
#define LEAKTOP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diff.h"
#include "options.h"

typedef struct report_event {
    const char *reason;   /* "mark", "interval", "exit", "signal", "detach" */
    const char *label;
    int         signal;   /* reason "signal" only */
    int         pid;
    double      elapsed_s;
    bool        traced;          /* a live program: traces_dropped is known */
    uint64_t    traces_dropped;  /* allocations charged to <unknown>: table full */
    const char *left_tracing;    /* what the program exec'd out of tracing, or NULL */
    bool        attached;        /* figures since `leaktop attach` injected the tracer */
    diff_trend_hist *trend;      /* a series of reports: each statistic's trend
                                    from it, then this report recorded into it */
} report_event;

/* What a written report found. */
typedef struct report_outcome {
    int64_t growth;     /* total size growth since the baseline */
    size_t  suspects;   /* statistics flagged suspect (all, not only shown) */
} report_outcome;

/* Compares cur against base (NULL = empty) and writes the report. Returns 0
 * and what it found through *res, or -1 with err filled. */
int report_write(FILE *out, const options *o, const diff_snapshot *cur, const diff_snapshot *base,
                 const report_event *ev, report_outcome *res, char *err, size_t errlen);

#endif
