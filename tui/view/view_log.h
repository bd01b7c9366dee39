/* view_log.h: the `l` screen: the tail of the program's output log. */
#ifndef LEAKTOP_VIEW_LOG_H
#define LEAKTOP_VIEW_LOG_H

#include "view_page.h"

/* Fills p with the last lines of the file at path (it keeps its place
 * unless it follows the end). */
void view_log_page(view_page *p, const char *path);

#endif
