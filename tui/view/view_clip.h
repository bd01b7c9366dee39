/* view_clip.h: the `y` key: what is on screen as plain text, written to a
 * file and sent to the terminal's clipboard with OSC 52 (which travels over
 * SSH, and through tmux when wrapped for passthrough). */
#ifndef LEAKTOP_VIEW_CLIP_H
#define LEAKTOP_VIEW_CLIP_H

#include <stddef.h>

#include "view_term.h"

/* Copies screen rows [0, nrows) to the clipboard and to a new file NAME in
 * leaktop's private directory (privdir.h); its path to path.
 * 0, or -1 with err filled. */
int view_clip_copy(const view_term *t, int nrows, const char *name,
                   char *path, size_t pathlen, char *err, size_t errlen);

/* The OSC 52 sequence setting the clipboard to text[0..n); in_tmux adds
 * the same wrapped in a tmux DCS passthrough. Returns a malloc'ed string. */
char *view_clip_osc52(const char *text, size_t n, int in_tmux);

#endif
