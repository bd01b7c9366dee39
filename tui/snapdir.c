/* snapdir.c: snapshot file names. */
#include "snapdir.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

int snapdir_save(const char *dir, const diff_snapshot *snap, int pid, unsigned n,
                 char *path, size_t pathlen, char *err, size_t errlen)
{
    char label[64];
    const char *l = diff_snapshot_label(snap);
    size_t k = 0;
    for (; l[k] && k < sizeof(label) - 1; k++)
        label[k] = isalnum((unsigned char)l[k]) || strchr("._-", l[k]) ? l[k] : '_';
    label[k] = 0;
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s/leaktop-%d-%u%s%s.ltsnap", dir, pid, n, k ? "-" : "", label);
    if (diff_snapfile_write(buf, snap, err, errlen) != 0)
        return -1;
    if (path)
        snprintf(path, pathlen, "%s", buf);
    return 0;
}
