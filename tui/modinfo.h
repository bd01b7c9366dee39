/* modinfo.h: `leaktop show --modules`: where each module of a snapshot
 * gets its debug info from, found again now as symbolizing would. */
#ifndef LEAKTOP_MODINFO_H
#define LEAKTOP_MODINFO_H

#include <stdio.h>

#include "diff.h"
#include "session.h"

/* One tab-separated line per module of `s`: path, build-id, where its
 * debug info comes from (in the object, build-id dir, debuglink,
 * debuginfod, MiniDebugInfo, symtab only, no symbols; "+ dwz multifile"),
 * the debug file,
 * and the first problem met ("-" for none). 0, or -1 when out of memory. */
int modinfo_write(FILE *out, const diff_snapshot *s, const session_config *cfg);

#endif
