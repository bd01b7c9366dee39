/* view_help.h: the `?` screen, generated from the key table so that every
 * key is listed, plus what the columns and marks mean. */
#ifndef LEAKTOP_VIEW_HELP_H
#define LEAKTOP_VIEW_HELP_H

#include "view_page.h"

/* refresh_ms: the last refresh's cost, shown as a diagnostic. */
void view_help_page(view_page *p, unsigned interval_ms, double refresh_ms);

#endif
