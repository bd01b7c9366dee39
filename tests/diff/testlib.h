/* testlib.h: helpers the diff/ tests share to build snapshots from short
 * specs ("a.py:2 b.py:4", most recent first; "@mod+0x10" for a frame
 * without line info) and to name a statistic's key as text. */
#ifndef LEAKTOP_TEST_DIFF_LIB_H
#define LEAKTOP_TEST_DIFF_LIB_H

#include "diff.h"

#include <stdlib.h>
#include <string.h>

/* One frame from "file:line" or "@module+0xoffset"; function optional. */
static inline uint32_t tl_frame(diff_loctab *lt, const char *spec, const char *function)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    diff_frame f = { .function = function };
    if (buf[0] == '@') {
        char *plus = strstr(buf, "+0x");
        *plus = '\0';
        f.module = buf + 1;
        f.offset = strtoull(plus + 3, NULL, 16);
        f.address = f.offset + 0x400000;
    } else {
        char *colon = strrchr(buf, ':');
        *colon = '\0';
        f.file = buf;
        f.line = (uint32_t)strtoul(colon + 1, NULL, 10);
    }
    return diff_loctab_intern(lt, &f);
}

/* Adds a trace whose frames are spec tokens separated by spaces. */
static inline int tl_add(diff_snapshot *s, int64_t size, int64_t count, const char *spec)
{
    uint32_t ids[64];
    uint32_t n = 0;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && n < 64;
         tok = strtok_r(NULL, " ", &save))
        ids[n++] = tl_frame(diff_snapshot_locs(s), tok, NULL);
    return diff_snapshot_add(s, size, count, ids, n);
}

/* "file:line" of one frame (line forced to 0 under filename grouping, as
 * tracemalloc's key), "mod+0xoff" for unknown files. */
static inline void tl_frame_key(const diff_frame *f, bool file_only, char *buf, size_t len)
{
    if (f->file)
        snprintf(buf, len, "%s:%u", f->file, file_only ? 0u : (unsigned)f->line);
    else
        snprintf(buf, len, "%s+0x%llx", f->module ? f->module : "",
                 (unsigned long long)f->offset);
}

/* The stat's key: frames most recent first, separated by spaces. */
static inline const char *tl_stat_key(const diff_stats *st, const diff_stat *s, diff_group g,
                                      char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < s->nframes && used < len; i++) {
        char one[600];
        tl_frame_key(diff_loctab_get(diff_stats_locs(st), s->frames[i]),
                     g == DIFF_GROUP_FILENAME, one, sizeof one);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", one);
    }
    return buf;
}

#endif
