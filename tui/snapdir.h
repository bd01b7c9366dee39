/* snapdir.h: where snapshot files go (--save DIR, the live view's `w`). */
#ifndef LEAKTOP_SNAPDIR_H
#define LEAKTOP_SNAPDIR_H

#include <stddef.h>

#include "diff.h"
#include "diff_export.h"

/* Makes sure DIR is a directory leaktop can write snapshots into,
 * creating it when missing. 0, or -1 with err filled (one line). */
int snapdir_prepare(const char *dir, char *err, size_t errlen);

/* Writes DIR/leaktop-PID-N-LABEL.ltsnap (label reduced to [A-Za-z0-9._-]).
 * The path written goes to `path` when non-NULL. 0, or -1 with err filled. */
int snapdir_save(const char *dir, const diff_snapshot *snap, int pid, unsigned n,
                 char *path, size_t pathlen, char *err, size_t errlen);

/* Writes snap in format f beside the snapshot file snap_path (its
 * ".ltsnap" replaced by the format's suffix: ".pb.gz", ".folded",
 * ".json"). The path written goes to `path` when non-NULL. 0, or -1 with
 * err filled (one line). */
int snapdir_export(const char *snap_path, const diff_snapshot *snap, diff_export_format f,
                   char *path, size_t pathlen, char *err, size_t errlen);

#endif
