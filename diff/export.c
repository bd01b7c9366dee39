/* export.c: the export formats' table, the JSON export, and writing any
 * format to a stream. pprof and folded live in their own files. */
#include "diff_export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

typedef struct export_row {
    const char *name;
    const char *suffix;
} export_row;

/* Indexed by diff_export_format. */
static const export_row export_table[] = {
    [DIFF_EXPORT_PPROF] = {"pprof", ".pb.gz"},
    [DIFF_EXPORT_FOLDED] = {"folded", ".folded"},
    [DIFF_EXPORT_JSON] = {"json", ".json"},
};
#define EXPORT_COUNT (sizeof(export_table) / sizeof(export_table[0]))

int diff_export_format_parse(const char *name, diff_export_format *out)
{
    for (size_t i = 0; i < EXPORT_COUNT; i++) {
        if (strcmp(name, export_table[i].name) == 0) {
            *out = (diff_export_format)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *diff_export_format_name(diff_export_format f)
{
    return (size_t)f < EXPORT_COUNT ? export_table[f].name : "?";
}

const char *diff_export_suffix(diff_export_format f)
{
    return (size_t)f < EXPORT_COUNT ? export_table[f].suffix : "";
}

static void json_snapshot(FILE *out, const diff_snapshot *s)
{
    const diff_loctab *lt = diff_snapshot_locs(s);
    fprintf(out, "{\"frames_limit\":%" PRIu32 ",\"label\":", diff_snapshot_frames_limit(s));
    diff_json_string(out, diff_snapshot_label(s));
    fprintf(out, ",\"pid\":%d,\"elapsed_s\":%.6f,", diff_snapshot_pid(s),
            diff_snapshot_elapsed(s) == diff_snapshot_elapsed(s) ? diff_snapshot_elapsed(s) : 0.0);
    if (diff_snapshot_sample_bytes(s))   /* estimates: say so, and read back as such */
        fprintf(out, "\"sampled\":true,\"sample_bytes\":%" PRIu64 ",", diff_snapshot_sample_bytes(s));
    fputs("\"traces\":[", out);
    for (size_t i = 0; i < diff_snapshot_ntraces(s); i++) {
        int64_t size, count;
        const uint32_t *frames;
        uint32_t n;
        diff_snapshot_trace(s, i, &size, &count, &frames, &n);
        fprintf(out, "%s{\"size\":%" PRId64 ",\"count\":%" PRId64 ",\"frames\":[", i ? "," : "", size, count);
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                fputc(',', out);
            diff_json_frame(out, diff_loctab_get(lt, frames[k]), false);
        }
        fputs("]}", out);
    }
    fputs("]}\n", out);
}

int diff_export_json(FILE *out, const diff_snapshot *snap, const diff_snapshot *base,
                     char *err, size_t errlen)
{
    if (!base) {
        json_snapshot(out, snap);
        return 0;
    }
    diff_options o = {.group = DIFF_GROUP_TRACEBACK, .sort = DIFF_SORT_GROWTH};
    diff_stats *st = diff_compare(snap, base, &o, err, errlen);
    if (!st)
        return -EINVAL;
    diff_report_info info = {
        .reason = "diff", .label = diff_snapshot_label(snap), .baseline = diff_snapshot_label(base),
        .pid = diff_snapshot_pid(snap), .elapsed_s = diff_snapshot_elapsed(snap),
        .frames_limit = diff_snapshot_frames_limit(snap),
        .sample_bytes = diff_snapshot_sample_bytes(snap),
    };
    diff_report_json(out, st, &o, &info);
    diff_stats_free(st);
    return 0;
}

typedef struct export_job {
    diff_export_format   f;
    const diff_snapshot *snap, *base;
} export_job;

static int export_fill(FILE *f, void *ctx, char *err, size_t errlen)
{
    const export_job *job = ctx;
    return diff_export_write(f, job->f, job->snap, job->base, err, errlen);
}

int diff_export_file(const char *path, diff_export_format f, const diff_snapshot *snap,
                     const diff_snapshot *base, char *err, size_t errlen)
{
    export_job job = {f, snap, base};
    return diff_write_file(path, export_fill, &job, err, errlen);
}

int diff_export_write(FILE *out, diff_export_format f, const diff_snapshot *snap,
                      const diff_snapshot *base, char *err, size_t errlen)
{
    if (base && diff_snapshot_locs(base) != diff_snapshot_locs(snap)) {
        diff_errf(err, errlen, "export: the base does not share the snapshot's frame table");
        return -EINVAL;
    }
    int rc = 0;
    if (f == DIFF_EXPORT_PPROF) {
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = diff_export_pprof(snap, base, &buf, &len, err, errlen);
        if (rc == 0 && fwrite(buf, 1, len, out) != len)
            rc = -EIO;
        free(buf);
    } else if (f == DIFF_EXPORT_FOLDED) {
        rc = diff_export_folded(out, snap, base, err, errlen);
    } else {
        rc = diff_export_json(out, snap, base, err, errlen);
    }
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = -EIO;
    if (rc == -EIO)
        diff_errf(err, errlen, "export: write error: %s", strerror(errno ? errno : EIO));
    return rc;
}
