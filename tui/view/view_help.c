/* view_help.c: the help screen's lines. */
#include "view_help.h"

#include <stdio.h>
#include <string.h>

#include "view_keys.h"

static const struct {
    view_screen screen;
    const char *title;
} view_help_sections[] = {
    {VIEW_SCREEN_TABLE, "Table (top growing source lines)"},
    {VIEW_SCREEN_STACK, "Stack of a row"},
    {VIEW_SCREEN_MARKS, "Marks (m)"},
};

static const char *const view_help_legend[] = {
    "Columns: size and block differences since the baseline (tracemalloc's",
    "compare_to), size and blocks live now, the row's size over the last",
    "refreshes, and the location (function  file:line).",
    "A ^ before the trend: size grew while the block count stayed flat",
    "(blocks got bigger, e.g. realloc growth), not more blocks.",
    "A ! there (red where there is colour): a suspect. Over the last",
    "--window seconds (default 60) its lowest size rose in each quarter of",
    "the window, and by more than it swings inside a quarter: a steady",
    "leak, also under churn; a cache at its plateau, a spike freed again",
    "or churn netting to zero are not. The header counts them.",
    "r turns the first two columns into Retained / RCount: bytes and blocks",
    "allocated after the baseline and still alive (exact: the tracer knows",
    "each block's birth). A cache that replaced its entries shows +0 but",
    "retains them all; a spike freed again or a line that only freed retains",
    "nothing; a leak retains what it grew. The header then says",
    "\"retained since baseline\", or why it is not known.",
    "Sort rate (s) puts the fastest growing lines on top, with their Rate",
    "(bytes per second over --window): a leak outranks a bigger cache that",
    "stopped growing.",
    "Before any baseline the table compares against the empty snapshot, so",
    "the largest live lines are on top. The program's first leaktop_mark()",
    "becomes the baseline unless you chose one with b, B or m.",
    "Marks (m): every leaktop_mark(), `leaktop mark PID` and b, numbered.",
    "Enter makes one the baseline (any of them, also an earlier one); c",
    "compares the baseline with the selected mark, frozen: the header says",
    "`mark A vs mark B` and the rows stop refreshing (grouping, sort, r,",
    "the stack and y still work); Esc on the table, b, B or a new baseline",
    "return to the live view.",
    "A stack follows the table's refreshes while it is quick to compute;",
    "a very large one stays as it was when opened (Esc, Enter reopens it).",
};

static void view_help_keys(view_page *p, view_screen screen, const char *title)
{
    size_t n;
    const view_key *keys = view_keys_table(&n);
    view_page_add(p, VIEW_ROLE_TITLE, "%s", title);
    for (size_t i = 0; i < n; i++) {
        const view_key *k = &keys[i];
        if (!k->help || !(k->screens & VIEW_SCREEN_BIT(screen)))
            continue;
        /* Keys that work everywhere are listed once, under the table. */
        if (screen != VIEW_SCREEN_TABLE && k->screens == VIEW_SCREENS_ALL)
            continue;
        view_page_add(p, VIEW_ROLE_NORMAL, "  %-14s %s", k->name, k->help);
    }
    view_page_add(p, VIEW_ROLE_NORMAL, "%s", "");
}

void view_help_page(view_page *p, unsigned interval_ms, double refresh_ms)
{
    view_page_clear(p);
    p->select = false;
    snprintf(p->title, sizeof(p->title), "Help (Esc goes back)");
    for (size_t i = 0; i < sizeof(view_help_sections) / sizeof(view_help_sections[0]); i++)
        view_help_keys(p, view_help_sections[i].screen, view_help_sections[i].title);
    view_page_add(p, VIEW_ROLE_TITLE, "Reading the table");
    for (size_t i = 0; i < sizeof(view_help_legend) / sizeof(view_help_legend[0]); i++)
        view_page_add(p, VIEW_ROLE_NORMAL, "  %s", view_help_legend[i]);
    view_page_add(p, VIEW_ROLE_NORMAL, "%s", "");
    view_page_add(p, VIEW_ROLE_DIM, "  refresh every %u ms (--interval); the last one took %.1f ms", interval_ms,
                  refresh_ms);
}
