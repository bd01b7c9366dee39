/* view_loc.c: location text. The file:line is what a row is grouped by, so
 * it is the last thing to lose columns: the directory goes first (from the
 * left, the basename stays), then the function name. */
#include "view_loc.h"

#include <stdio.h>
#include <string.h>

#define VIEW_LOC_GAP "  "

const char *view_loc_path(const char *path, const char *cwd)
{
    if (!path || !cwd || !*cwd)
        return path;
    size_t n = strlen(cwd);
    if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

static const char *view_loc_base(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path;
}

void view_loc_where(char *out, size_t outlen, const diff_frame *f, const view_loc_style *st)
{
    if (f->file && st->show_line)
        snprintf(out, outlen, "%s:%u", view_loc_path(f->file, st->cwd), f->line);
    else if (f->file)
        snprintf(out, outlen, "%s", view_loc_path(f->file, st->cwd));
    else if (st->show_line)
        snprintf(out, outlen, "%s+0x%llx", f->module ? view_loc_base(f->module) : "?",
                 (unsigned long long)f->offset);
    else
        snprintf(out, outlen, "%s", f->module ? view_loc_base(f->module) : "?");
}

/* Shortened from the left at a directory boundary when one is left:
 * "…/tui/server.c:88" rather than "…ui/tui/server.c:88". */
static int view_loc_fit_path(char *out, size_t outlen, const char *path, int cols, const view_glyphs *g)
{
    int used = view_text_fit_left(out, outlen, path, cols, g);
    if (strncmp(out, g->ellipsis, strlen(g->ellipsis)) != 0)
        return used;
    char *rest = out + strlen(g->ellipsis);
    char *slash = strchr(rest, '/');
    if (!slash || slash == rest)
        return used;
    int cut = view_text_width(rest) - view_text_width(slash);
    memmove(rest, slash, strlen(slash) + 1);
    return used - cut;
}

int view_loc_format(char *out, size_t outlen, const diff_frame *f, int cols, const view_loc_style *st)
{
    char where[1024], fn[512], fitted[1024];
    view_loc_where(where, sizeof(where), f, st);
    const char *name = st->show_function && f->function ? f->function : "";
    int wcols = view_text_width(where);
    int gap = *name ? (int)strlen(VIEW_LOC_GAP) : 0;
    int fcols = view_text_width(name);
    if (fcols + gap + wcols <= cols) {
        snprintf(out, outlen, "%s%s%s", name, *name ? VIEW_LOC_GAP : "", where);
        return fcols + gap + wcols;
    }
    /* Keep the function name up to a third of the width; the path gets the
     * rest and is shortened from the left. */
    int fkeep = *name ? (cols / 3 < fcols ? cols / 3 : fcols) : 0;
    if (fkeep < 4)
        fkeep = 0, gap = 0;
    int wkeep = cols - fkeep - gap;
    if (wkeep < 1) {
        return view_loc_fit_path(out, outlen, where, cols, st->g);
    }
    if (wcols < wkeep) {     /* a short path leaves more room to the name */
        fkeep += wkeep - wcols;
        wkeep = wcols;
    }
    fkeep = fkeep > fcols ? fcols : fkeep;
    int used = fkeep ? view_text_fit(fn, sizeof(fn), name, fkeep, st->g) : 0;
    if (!fkeep)
        fn[0] = 0;
    int wused = view_loc_fit_path(fitted, sizeof(fitted), where, wkeep, st->g);
    snprintf(out, outlen, "%s%s%s", fn, fkeep ? VIEW_LOC_GAP : "", fitted);
    return used + (fkeep ? gap : 0) + wused;
}
