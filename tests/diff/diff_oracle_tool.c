/* diff_oracle_tool.c: leaktop's side of the CPython oracle test. Reads
 * commands on stdin, one per line, runs them through diff/ and prints each
 * statistic as "KEY<TAB>size<TAB>size_diff<TAB>count<TAB>count_diff" (KEY =
 * the frames, most recent first, "file:line" joined by spaces), then
 * "total<TAB>..." and "end". Commands:
 *   compare GROUP CUMULATIVE(0|1) SORT NEW.json OLD.json [FILTER...]
 *   stats   GROUP CUMULATIVE(0|1) NEW.json [FILTER...]
 *   size    BYTES SIGN(0|1)     prints diff_format_size
 *   sizef   FLOAT               prints _format_size of a float (averages)
 * FILTER = "+PATTERN:LINE:ALL" (include) or "-PATTERN:LINE:ALL" (exclude),
 * LINE -1 for any, ALL 0|1. One process runs thousands of cases. */
#include "diff_internal.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ARGS = 64 };

static int parse_filter(char *arg, diff_filter *f)
{
    /* The pattern may contain ':'; LINE and ALL are the last two fields. */
    char *all = strrchr(arg, ':');
    if (!all || all == arg)
        return -1;
    *all++ = '\0';
    char *line = strrchr(arg, ':');
    if (!line)
        return -1;
    *line++ = '\0';
    f->inclusive = arg[0] == '+';
    f->pattern = arg + 1;
    f->lineno = strtoll(line, NULL, 10);
    f->all_frames = atoi(all) != 0;
    return 0;
}

static void print_stats(const diff_stats *st, diff_group g)
{
    char key[4096];
    for (size_t i = 0; i < diff_stats_count(st); i++) {
        const diff_stat *s = diff_stats_get(st, i);
        printf("%s\t%lld\t%lld\t%lld\t%lld\n", tl_stat_key(st, s, g, key, sizeof key),
               (long long)s->size, (long long)s->size_diff, (long long)s->count,
               (long long)s->count_diff);
    }
    diff_stat t;
    diff_stats_total(st, &t);
    printf("total\t%lld\t%lld\t%lld\t%lld\n", (long long)t.size, (long long)t.size_diff,
           (long long)t.count, (long long)t.count_diff);
}

static bool run_size(char **argv, int argc)
{
    char buf[64];
    if (strcmp(argv[0], "size") == 0 && argc == 3)
        printf("%s\n", diff_format_size(buf, sizeof buf, strtoll(argv[1], NULL, 10), atoi(argv[2])));
    else if (strcmp(argv[0], "sizef") == 0 && argc == 2)
        printf("%s\n", diff_format_size_double(buf, sizeof buf, strtod(argv[1], NULL), false));
    else
        return false;
    return true;
}

static void run(char **argv, int argc)
{
    if (run_size(argv, argc))
        return;
    bool compare = strcmp(argv[0], "compare") == 0;
    int nfixed = compare ? 6 : 4;
    diff_options o = { .sort = DIFF_SORT_ABSOLUTE };
    diff_filter filters[MAX_ARGS];
    char err[512] = "";
    if (argc < nfixed || diff_group_parse(argv[1], &o.group) < 0
        || (compare && diff_sort_parse(argv[3], &o.sort) < 0)) {
        printf("error\tbad command\n");
        return;
    }
    o.cumulative = atoi(argv[2]) != 0;
    for (int i = nfixed; i < argc; i++)
        if (parse_filter(argv[i], &filters[o.nfilters++]) < 0) {
            printf("error\tbad filter\n");
            return;
        }
    o.filters = filters;
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *a = diff_snapfile_read(argv[compare ? 4 : 3], lt, err, sizeof err);
    diff_snapshot *b = compare && a ? diff_snapfile_read(argv[5], lt, err, sizeof err) : NULL;
    diff_stats *st = NULL;
    if (a && (b || !compare))
        st = compare ? diff_compare(a, b, &o, err, sizeof err) : diff_statistics(a, &o, err, sizeof err);
    if (st)
        print_stats(st, o.group);
    else
        printf("error\t%s\n", err);
    diff_stats_free(st);
    diff_snapshot_free(a);
    diff_snapshot_free(b);
    diff_loctab_free(lt);
}

int main(void)
{
    char line[16384];
    while (fgets(line, sizeof line, stdin)) {
        char *argv[MAX_ARGS];
        int argc = 0;
        for (char *save = NULL, *tok = strtok_r(line, " \n", &save); tok && argc < MAX_ARGS;
             tok = strtok_r(NULL, " \n", &save))
            argv[argc++] = tok;
        if (argc)
            run(argv, argc);
        printf("end\n");
        fflush(stdout);
    }
    return 0;
}
