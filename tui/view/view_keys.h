/* view_keys.h: the key table: one row per key, with the screens where it
 * works, its help text and its action. Adding a key is adding a row; the
 * `?` screen and the footer hints are generated from this table.
 *
 * An action changes what it owns (a cursor, the settings, the footer) and
 * returns a reaction for everything else: the loop (view.c) recomputes,
 * takes a baseline, opens a screen or quits. Actions never call the loop,
 * as htop's actions return a reaction to their panel. */
#ifndef LEAKTOP_VIEW_KEYS_H
#define LEAKTOP_VIEW_KEYS_H

#include <stddef.h>

#include "view_state.h"

/* What the loop must do after an action; flags, combined. */
enum {
    VIEW_REACT_NONE           = 0,
    VIEW_REACT_RECOMPUTE      = 1u << 0,   /* regroup / re-sort the same snapshots */
    VIEW_REACT_BASELINE_NOW   = 1u << 1,   /* take a baseline now (b) */
    VIEW_REACT_BASELINE_CLEAR = 1u << 2,   /* compare against nothing (B) */
    VIEW_REACT_BASELINE_PICK  = 1u << 3,   /* the mark selected on the marks screen */
    VIEW_REACT_OPEN           = 1u << 4,   /* open view_reaction.screen */
    VIEW_REACT_BACK           = 1u << 5,   /* back to the previous screen */
    VIEW_REACT_REBUILD        = 1u << 6,   /* rebuild the open page (resize) */
    VIEW_REACT_QUIT           = 1u << 7,
    VIEW_REACT_FREEZE         = 1u << 8,   /* the baseline vs the selected mark, frozen */
    VIEW_REACT_LIVE           = 1u << 9,   /* end a frozen compare */
};

typedef struct view_reaction {
    unsigned    what;      /* VIEW_REACT_* flags; the screen is redrawn anyway */
    view_screen screen;    /* for VIEW_REACT_OPEN */
} view_reaction;

typedef view_reaction (*view_action)(view *v);

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
 * filter prompt while it is open) and returns its reaction. */
view_reaction view_keys_dispatch(view *v, int code);

#endif
