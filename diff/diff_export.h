/* diff_export.h: a snapshot (or a snapshot against a base) in the formats
 * other tools read (PRODUCT.md §13): pprof's profile.proto, gzipped; the
 * folded stacks flame-graph tools take; and leaktop's own JSON.
 *
 * A base, when given, must share the snapshot's frame table. */
#ifndef LEAKTOP_DIFF_EXPORT_H
#define LEAKTOP_DIFF_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diff.h"

typedef enum diff_export_format {
    DIFF_EXPORT_PPROF,
    DIFF_EXPORT_FOLDED,
    DIFF_EXPORT_JSON,
} diff_export_format;

/* "pprof", "folded", "json". 0 or -EINVAL. */
int         diff_export_format_parse(const char *name, diff_export_format *out);
const char *diff_export_format_name(diff_export_format f);
/* The file name suffix of a format: ".pb.gz", ".folded", ".json". */
const char *diff_export_suffix(diff_export_format f);

/* pprof: a gzipped profile.proto heap profile in memory (*out is malloc'd,
 * the caller frees it). Sample types inuse_objects/count and
 * inuse_space/bytes (the default), period_type space/bytes, one Location per
 * distinct return address and inlined chain (Lines innermost first), its
 * Mapping (module path, the range of addresses seen, build-id from the
 * snapshot's module table) and Functions (name, system name, file).
 * With a base: the base's samples are added negated and labelled
 * pprof::base=true, which is what `go tool pprof -diff_base` builds, so
 * the profile shows snapshot minus base by itself.
 * 0, or a negative errno with err filled. */
int diff_export_pprof(const diff_snapshot *snap, const diff_snapshot *base, uint8_t **out, size_t *len,
                      char *err, size_t errlen);

/* folded: "root;...;leaf BYTES" per distinct folded stack, sorted; with a
 * base, "root;...;leaf OLD NEW" over the stacks of both (the differential
 * form of flamegraph's difffolded.pl). Frames are named by function, an
 * inlined call as its own frame; a frame without a function is
 * "module+0xOFFSET" (module's base name) or "0xADDRESS". */
int diff_export_folded(FILE *out, const diff_snapshot *snap, const diff_snapshot *base,
                       char *err, size_t errlen);

/* json: without a base, the snapshot in PRODUCT.md §9's JSON form (which
 * `leaktop diff` and `show` read back), frames with module, address and
 * inlined too; with a base, the §4 JSON report of the traceback-grouped
 * compare (as `leaktop diff OLD NEW --json --group traceback`). */
int diff_export_json(FILE *out, const diff_snapshot *snap, const diff_snapshot *base,
                     char *err, size_t errlen);

/* Any of the three into a stream. 0, or a negative errno with err filled
 * (a write error included). */
int diff_export_write(FILE *out, diff_export_format f, const diff_snapshot *snap,
                      const diff_snapshot *base, char *err, size_t errlen);

/* The same into a file, written through a new sibling renamed into place
 * (never through a planted link). 0, or a negative errno with err filled
 * ("PATH: why"). */
int diff_export_file(const char *path, diff_export_format f, const diff_snapshot *snap,
                     const diff_snapshot *base, char *err, size_t errlen);

#endif
