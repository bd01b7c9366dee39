/* view_screen.h: switching screens and rebuilding the current page. */
#ifndef LEAKTOP_VIEW_SCREEN_H
#define LEAKTOP_VIEW_SCREEN_H

#include "view_state.h"

/* Opens s over the current screen (Esc comes back); the stack screen is
 * of the selected row. */
void view_open(view *v, view_screen s);
void view_back(view *v);
/* Back to the table with no way back (the program exec'd). */
void view_nav_reset(view_nav *n);
/* Rebuilds the current non-table screen's lines from the model (after a
 * refresh, a resize, new marks). */
void view_page_rebuild(view *v);

#endif
