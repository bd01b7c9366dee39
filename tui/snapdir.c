/* snapdir.c: snapshot file names. */
#include "snapdir.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int snapdir_prepare(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "--save %s: %s", dir, strerror(errno));
        return -1;
    }
    const char *why = NULL;
    if (stat(dir, &st) != 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    else if (access(dir, W_OK | X_OK) != 0)
        why = strerror(errno);
    if (why)
        snprintf(err, errlen, "--save %s: %s", dir, why);
    return why ? -1 : 0;
}

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

int snapdir_export(const char *snap_path, const diff_snapshot *snap, diff_export_format f,
                   char *path, size_t pathlen, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t n = strlen(snap_path);
    const char *ext = ".ltsnap";
    if (n >= strlen(ext) && strcmp(snap_path + n - strlen(ext), ext) == 0)
        n -= strlen(ext);
    snprintf(buf, sizeof(buf), "%.*s%s", (int)n, snap_path, diff_export_suffix(f));
    if (diff_export_file(buf, f, snap, NULL, err, errlen) != 0)
        return -1;
    if (path)
        snprintf(path, pathlen, "%s", buf);
    return 0;
}
