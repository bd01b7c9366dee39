/* view_draw.h: drawing the view's models on the terminal: header, table,
 * the page screens, footer. Reads the state, changes nothing in it. */
#ifndef LEAKTOP_VIEW_DRAW_H
#define LEAKTOP_VIEW_DRAW_H

#include "view_state.h"

void view_draw(const view *v);

#endif
