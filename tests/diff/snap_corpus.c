/* snap_corpus.c: writes the fuzzer's seed corpus into DIR: valid binary
 * snapshots and JSON snapshots (snapgen.h). */
#include "snapgen.h"

#include <stdio.h>

static void put(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: snap_corpus DIR\n");
        return 2;
    }
    diff_loctab *lt = diff_loctab_new();
    for (int v = 0; v < 2; v++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/rich%d.ltsnap", argv[1], v);
        diff_snapshot *s = snapgen_rich(lt, v);
        if (diff_snapfile_write(path, s, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        diff_snapshot_free(s);
    }
    diff_snapshot *empty = diff_snapshot_new(lt, 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/empty.ltsnap", argv[1]);
    diff_snapfile_write(path, empty, NULL, 0);
    diff_snapshot_free(empty);
    diff_loctab_free(lt);
    put(argv[1], "rich.json", snapgen_json);
    put(argv[1], "small.json", "{\"frames_limit\":1,\"traces\":[{\"size\":1,\"frames\":[{\"file\":\"a\",\"line\":1}]}]}");
    return 0;
}
