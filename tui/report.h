/* report.h: one comparison report (current vs baseline) written in the
 * format the options ask for; shared by batch mode and the offline commands. */
#ifndef LEAKTOP_REPORT_H
#define LEAKTOP_REPORT_H

#include <stdio.h>

#include "diff.h"
#include "options.h"

typedef struct report_event {
    const char *reason;   /* "mark", "interval", "exit", "signal" */
    const char *label;
    int         signal;   /* reason "signal" only */
    int         pid;
    double      elapsed_s;
} report_event;

/* Compares cur against base (NULL = empty) and writes the report. Returns 0
 * and the total size growth through *growth, or -1 with err filled. */
int report_write(FILE *out, const options *o, const diff_snapshot *cur, const diff_snapshot *base,
                 const report_event *ev, int64_t *growth, char *err, size_t errlen);

#endif
