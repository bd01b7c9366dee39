/* view_loc.h: how a source location reads on screen: "function  file:line"
 * (or "module+0xoff" without line info), fitted to a width by shortening
 * the path from the left first, the function name next. */
#ifndef LEAKTOP_VIEW_LOC_H
#define LEAKTOP_VIEW_LOC_H

#include <stdbool.h>
#include <stddef.h>

#include "diff.h"
#include "view_text.h"

typedef struct view_loc_style {
    const view_glyphs *g;
    const char        *cwd;          /* paths under it are shown relative; may be NULL */
    bool               show_line;    /* false for filename groups */
    bool               show_function;
} view_loc_style;

/* The path as shown: relative to cwd when under it. */
const char *view_loc_path(const char *path, const char *cwd);
/* "file:line", "file", or "module+0x1a2b" for frames without line info. */
void view_loc_where(char *out, size_t outlen, const diff_frame *f, const view_loc_style *st);
/* The whole location fitted to cols columns. Returns the columns used. */
int  view_loc_format(char *out, size_t outlen, const diff_frame *f, int cols, const view_loc_style *st);

#endif
