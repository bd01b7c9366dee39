/* view_model.h: what the loop (view.c) and its reactions ask of the view's
 * data: refresh it, compare again, baselines. Key actions never call these:
 * they return a reaction and the loop does (view_keys.h). */
#ifndef LEAKTOP_VIEW_MODEL_H
#define LEAKTOP_VIEW_MODEL_H

#include <stdbool.h>

#include "view_state.h"

void view_data_init(view_data *d);
/* Drops everything one image of the program produced, as one. */
void view_data_free(view_data *d);

/* A refresh: what the watch saw (marks, exec, end), then a new snapshot
 * compared on the worker. Call with the worker idle. */
void view_model_tick(view *v);
/* Takes a finished compare into the table; with wait, waits for it. */
void view_model_collect(view *v, bool wait);
/* Re-groups or re-sorts the same snapshots (no new trend point); the rows
 * change when the worker is done. */
void view_model_recompute(view *v);
/* b: a baseline now; B: none; Enter on the marks screen: that mark.
 * Each returns to the live view. */
void view_model_baseline_now(view *v);
void view_model_baseline_clear(view *v);
void view_model_baseline_pick(view *v, long mark_index);
/* c on the marks screen: the baseline against that mark, frozen (the
 * older of the two is the base); Esc on the table: live again. */
void view_model_freeze(view *v, long mark_index);
void view_model_live(view *v);

#endif
