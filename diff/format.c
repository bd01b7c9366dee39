/* format.c: tracemalloc's _format_size, the names of grouping and sort
 * modes, and the two report formats of PRODUCT.md §4: one text header plus
 * one line per statistic, and one JSON object per report (JSON Lines). */
#include "diff_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ---- sizes ---------------------------------------------------------------- */

char *diff_format_size_double(char *buf, size_t len, double v, bool sign)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    enum { NUNITS = sizeof units / sizeof *units };
    /* Python's loop, test for test: one decimal under 100 of a unit (never
     * for bytes), none under 10240 or in TiB, else divide by 1024 as a
     * float. glibc's printf rounds like Python's %-formatting (exactly,
     * half to even on the binary value). */
    for (int u = 0; u < NUNITS; u++) {
        if (fabs(v) < 100 && u > 0) {
            snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", v, units[u]);
            return buf;
        }
        if (fabs(v) < 10 * 1024 || u == NUNITS - 1) {
            snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", v, units[u]);
            return buf;
        }
        v /= 1024;
    }
    return buf;   /* not reached: the TiB step always prints */
}

char *diff_format_sampling(char *buf, size_t len, uint64_t sample_bytes)
{
    /* The interval as given (512 KiB, 2 MiB), not rounded like a figure. */
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    while (u < 4 && sample_bytes >= 1024 && sample_bytes % 1024 == 0) {
        sample_bytes /= 1024;
        u++;
    }
    snprintf(buf, len, "sampled every %" PRIu64 " %s: estimates", sample_bytes, units[u]);
    return buf;
}

char *diff_format_size(char *buf, size_t len, int64_t bytes, bool sign)
{
    /* (double)bytes / 1024 equals Python's exact int / 1024 rounded once:
     * dividing by a power of two adds no rounding. */
    return diff_format_size_double(buf, len, (double)bytes, sign);
}

/* ---- names ------------------------------------------------------------------ */

static const char *const group_names[] = {
    [DIFF_GROUP_LINENO] = "lineno",
    [DIFF_GROUP_FILENAME] = "filename",
    [DIFF_GROUP_TRACEBACK] = "traceback",
};

static const char *const sort_names[] = {
    [DIFF_SORT_GROWTH] = "growth",
    [DIFF_SORT_ABSOLUTE] = "absolute",
    [DIFF_SORT_FREED] = "freed",
    [DIFF_SORT_SIZE] = "size",
    [DIFF_SORT_RATE] = "rate",
    [DIFF_SORT_RETAINED] = "retained",
};

#define DIFF_NAMES(a) (sizeof(a) / sizeof *(a))

const char *diff_group_name(diff_group g)
{
    return (unsigned)g < DIFF_NAMES(group_names) ? group_names[g] : "?";
}

const char *diff_sort_name(diff_sort s)
{
    return (unsigned)s < DIFF_NAMES(sort_names) ? sort_names[s] : "?";
}

static int name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -EINVAL;
}

int diff_group_parse(const char *name, diff_group *out)
{
    int i = name_index(group_names, DIFF_NAMES(group_names), name);
    if (i < 0)
        return i;
    *out = (diff_group)i;
    return 0;
}

int diff_sort_parse(const char *name, diff_sort *out)
{
    int i = name_index(sort_names, DIFF_NAMES(sort_names), name);
    if (i < 0)
        return i;
    *out = (diff_sort)i;
    return 0;
}

/* ---- text report ------------------------------------------------------------- */

/* Text reports are parsed line by line and read on terminals: a control
 * character in a path or label (C0, DEL, or C1 such as U+009B, a CSI on
 * many terminals) must neither start a new line nor drive the terminal,
 * and the output stays valid UTF-8. Each becomes one '?'. */
static void put_clean(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        int n = diff_utf8_len(p);
        if (n == 0) {
            fputc('?', out);
            p++;
        } else if (diff_utf8_control(p, n) >= 0) {
            fputc('?', out);
            p += n;
        } else {
            fwrite(p, 1, (size_t)n, out);
            p += n;
        }
    }
}

static const char *relative(const char *path, const char *base)
{
    size_t n = base ? strlen(base) : 0;
    while (n > 1 && base[n - 1] == '/')
        n--;
    if (!n || strncmp(path, base, n) != 0)
        return path;
    if (path[n] == '/' && path[n + 1])
        return path + n + 1;
    return path;
}

/* "file:line in function", "module+0xOFF in function", or "file". */
static void put_location(FILE *out, const diff_frame *f, bool file_only, const char *base)
{
    if (f->file) {
        put_clean(out, relative(f->file, base));
        if (!file_only)
            fprintf(out, ":%" PRIu32, f->line);
    } else if (f->module) {
        put_clean(out, relative(f->module, base));
        if (!file_only)
            fprintf(out, "+0x%" PRIx64, f->offset);
    } else {
        fprintf(out, "0x%" PRIx64, f->offset);
    }
    if (!file_only && f->function) {
        fputs(" in ", out);
        put_clean(out, f->function);
    }
}

/* The further frames of a traceback row: "    at function file:line". */
static void put_at_line(FILE *out, const diff_frame *f, const char *base)
{
    fputs("    at ", out);
    if (f->function) {
        put_clean(out, f->function);
        fputc(' ', out);
    }
    diff_frame nofn = *f;
    nofn.function = NULL;
    put_location(out, &nofn, false, base);
    if (f->inlined)
        fputs(" (inlined)", out);
    fputc('\n', out);
}

static void put_what(FILE *out, const diff_report_info *info)
{
    const char *reason = info->reason ? info->reason : "";
    const char *label = info->label ? info->label : "";
    if (strcmp(reason, "exit") == 0) {
        fputs("exit", out);
        return;
    }
    if (strcmp(reason, "signal") == 0) {
        fprintf(out, "killed by signal %d", info->signal);
        return;
    }
    put_clean(out, *reason ? reason : "snapshot");
    if (*label) {
        fputs(" \"", out);
        put_clean(out, label);
        fputc('"', out);
    }
}

static void put_header(FILE *out, const diff_stats *st, const diff_options *o,
                       const diff_report_info *info)
{
    diff_stat t;
    char a[32], b[32];
    diff_stats_total(st, &t);
    fputs("leaktop: ", out);
    put_what(out, info);
    if (info->baseline && *info->baseline) {
        fputs(" vs baseline \"", out);
        put_clean(out, info->baseline);
        fputc('"', out);
    } else {
        fputs(" vs empty baseline", out);
    }
    fprintf(out, " (pid %d, %.2f s%s): total %s (%s) in %" PRId64 " blocks (%+" PRId64 "), ",
            info->pid, isfinite(info->elapsed_s) ? info->elapsed_s : 0.0, info->attached ? " since attach" : "",
            diff_format_size(a, sizeof a, t.size, false),
            diff_format_size(b, sizeof b, t.size_diff, true), t.count, t.count_diff);
    const char *why;
    if (diff_stats_retained_known(st, &why))
        fprintf(out, "retained %s in %" PRId64 " blocks, ", diff_format_size(a, sizeof a, t.retained_size, false),
                t.retained_count);
    else
        fprintf(out, "retained not known (%s), ", why);
    fprintf(out, "group %s%s, sort %s\n", diff_group_name(o->group), o->cumulative ? " cumulative" : "",
            diff_sort_name(o->sort));
    if (info->sample_bytes) {
        char note[64];
        fprintf(out, "leaktop: %s\n", diff_format_sampling(note, sizeof note, info->sample_bytes));
    }
}

static void put_row(FILE *out, const diff_stats *st, const diff_stat *s,
                    const diff_options *o, const char *base)
{
    char a[32], b[32];
    const diff_loctab *lt = diff_stats_locs(st);
    fprintf(out, "%s  blocks %+" PRId64 "  total %s in %" PRId64 " blocks  ",
            diff_format_size(a, sizeof a, s->size_diff, true), s->count_diff,
            diff_format_size(b, sizeof b, s->size, false), s->count);
    if (diff_stats_retained_known(st, NULL))
        fprintf(out, "retained %s in %" PRId64 " blocks  ", diff_format_size(a, sizeof a, s->retained_size, false),
                s->retained_count);
    put_location(out, diff_loctab_get(lt, s->frames[0]), o->group == DIFF_GROUP_FILENAME, base);
    /* PRODUCT §5: more bytes in as many blocks = blocks got bigger. */
    if (s->size_diff > 0 && s->count_diff == 0)
        fputs("  [blocks grew]", out);
    fputc('\n', out);
    if (o->group == DIFF_GROUP_TRACEBACK)
        for (uint32_t i = 1; i < s->nframes; i++)
            put_at_line(out, diff_loctab_get(lt, s->frames[i]), base);
}

static size_t rows_shown(const diff_stats *st, const diff_report_info *info)
{
    size_t n = diff_stats_count(st);
    return info->top && info->top < n ? info->top : n;
}

void diff_report_text(FILE *out, const diff_stats *st, const diff_options *opts,
                      const diff_report_info *info)
{
    diff_options dflt = { .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH };
    diff_report_info noinfo = { .reason = "mark" };
    const diff_options *o = opts ? opts : &dflt;
    if (!out || !st)
        return;
    info = info ? info : &noinfo;
    put_header(out, st, o, info);
    size_t n = rows_shown(st, info);
    for (size_t i = 0; i < n; i++)
        put_row(out, st, diff_stats_get(st, i), o, info->path_base);
}

/* ---- JSON report ----------------------------------------------------------------- */

void diff_json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = diff_utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", out);   /* one replacement per bad byte */
            p++;
        } else if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p++, out);
        } else if (diff_utf8_control(p, n) >= 0) {
            fprintf(out, "\\u%04x", (unsigned)diff_utf8_control(p, n));
            p += n;
        } else {
            fwrite(p, 1, (size_t)n, out);
            p += n;
        }
    }
    fputc('"', out);
}

void diff_json_frame(FILE *out, const diff_frame *f, bool file_only)
{
    fputs("{\"function\":", out);
    diff_json_string(out, f->function);
    fputs(",\"file\":", out);
    diff_json_string(out, f->file);
    fprintf(out, ",\"line\":%" PRIu32 ",\"module\":", file_only ? 0 : f->line);
    diff_json_string(out, f->module);
    if (f->address)
        fprintf(out, ",\"address\":\"0x%" PRIx64 "\"", f->address);
    else
        fputs(",\"address\":null", out);
    fprintf(out, ",\"offset\":\"0x%" PRIx64 "\",\"inlined\":%s", f->offset,
            f->inlined ? "true" : "false");
    if (f->system_name) {   /* only when known: most frames have none */
        fputs(",\"system_name\":", out);
        diff_json_string(out, f->system_name);
    }
    fputc('}', out);
}

/* The figures of a statistic or the total; retained is null when not
 * known (the report says why: "retained_not_known"). */
static void json_counts(FILE *out, const diff_stats *st, const diff_stat *s)
{
    fprintf(out, "\"size\":%" PRId64 ",\"size_diff\":%" PRId64 ",\"count\":%" PRId64
                 ",\"count_diff\":%" PRId64,
            s->size, s->size_diff, s->count, s->count_diff);
    if (diff_stats_retained_known(st, NULL))
        fprintf(out, ",\"retained\":{\"size\":%" PRId64 ",\"count\":%" PRId64 "}", s->retained_size,
                s->retained_count);
    else
        fputs(",\"retained\":null", out);
}

static void json_stat(FILE *out, const diff_stats *st, const diff_stat *s, bool file_only)
{
    const diff_loctab *lt = diff_stats_locs(st);
    fputc('{', out);
    json_counts(out, st, s);
    if (s->trend.known)
        fprintf(out, ",\"trend\":{\"rate_bps\":%.1f,\"suspect\":%s}",
                isfinite(s->trend.rate_bps) ? s->trend.rate_bps : 0.0, s->trend.suspect ? "true" : "false");
    fputs(",\"frames\":[", out);
    for (uint32_t i = 0; i < s->nframes; i++) {
        if (i)
            fputc(',', out);
        diff_json_frame(out, diff_loctab_get(lt, s->frames[i]), file_only);
    }
    fputs("]}", out);
}

static void json_header(FILE *out, const diff_options *o, const diff_report_info *info)
{
    fputs("{\"event\":\"report\",\"reason\":", out);
    diff_json_string(out, info->reason ? info->reason : "mark");
    fputs(",\"label\":", out);
    diff_json_string(out, info->label ? info->label : "");
    fputs(",\"baseline\":", out);
    diff_json_string(out, info->baseline ? info->baseline : "");
    fprintf(out, ",\"pid\":%d,\"elapsed_s\":%.3f", info->pid,
            isfinite(info->elapsed_s) ? info->elapsed_s : 0.0);
    if (info->reason && strcmp(info->reason, "signal") == 0)
        fprintf(out, ",\"signal\":%d", info->signal);
    fprintf(out, ",\"group\":\"%s\",\"cumulative\":%s,\"sort\":\"%s\",\"frames_limit\":%" PRIu32,
            diff_group_name(o->group), o->cumulative ? "true" : "false",
            diff_sort_name(o->sort), info->frames_limit);
    if (info->sample_bytes)
        fprintf(out, ",\"sampled\":true,\"sample_bytes\":%" PRIu64, info->sample_bytes);
    if (info->traced)
        fprintf(out, ",\"traces_dropped\":%" PRIu64, info->traces_dropped);
    if (info->attached)
        fputs(",\"attached\":true", out);
    if (info->window_s > 0)
        fprintf(out, ",\"window_s\":%g", info->window_s);
    if (info->left_tracing) {
        fputs(",\"left_tracing_at_exec\":", out);
        diff_json_string(out, info->left_tracing);
    }
}

void diff_report_json(FILE *out, const diff_stats *st, const diff_options *opts,
                      const diff_report_info *info)
{
    diff_options dflt = { .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH };
    diff_report_info noinfo = { .reason = "mark" };
    const diff_options *o = opts ? opts : &dflt;
    if (!out || !st)
        return;
    info = info ? info : &noinfo;
    diff_stat t;
    diff_stats_total(st, &t);
    json_header(out, o, info);
    const char *why;
    if (!diff_stats_retained_known(st, &why)) {
        fputs(",\"retained_not_known\":", out);
        diff_json_string(out, why);
    }
    fputs(",\"total\":{", out);
    json_counts(out, st, &t);
    fputs("},\"stats\":[", out);
    size_t n = rows_shown(st, info);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        json_stat(out, st, diff_stats_get(st, i), o->group == DIFF_GROUP_FILENAME);
    }
    fputs("]}\n", out);
}
