/* view_keys.h: the key table: one row per key, with the screens where it
 * works, its help text and its action. Adding a key is adding a row; the
 * `?` screen and the footer hints are generated from this table. */
#ifndef LEAKTOP_VIEW_KEYS_H
#define LEAKTOP_VIEW_KEYS_H

#include <stddef.h>

#include "view_state.h"

typedef void (*view_action)(view *v);

typedef struct view_key {
    int         code;      /* curses key code or character */
    const char *name;      /* as shown in help: "b", "Enter", "Up k" */
    unsigned    screens;   /* VIEW_SCREEN_BIT mask where it applies */
    const char *help;      /* NULL: an alias, listed with its main row */
    const char *hint;      /* footer hint ("baseline"), NULL = none */
    view_action act;
} view_key;

const view_key *view_keys_table(size_t *n);
/* Runs the action bound to `code` on the current screen (or feeds the
 * filter prompt while it is open). */
void view_keys_dispatch(view *v, int code);

#endif
