/* view_page.c: scrollable lines and the cursor arithmetic every list in
 * the view shares. */
#include "view_page.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static size_t view_clamp(long v, size_t hi)
{
    if (v < 0)
        return 0;
    return (size_t)v > hi ? hi : (size_t)v;
}

void view_cursor_clamp(view_cursor *c, size_t n, size_t height, bool select)
{
    if (height == 0)
        height = 1;
    size_t last_top = n > height ? n - height : 0;
    if (!select) {
        c->top = c->top > last_top ? last_top : c->top;
        return;
    }
    c->sel = n ? (c->sel >= n ? n - 1 : c->sel) : 0;
    if (c->sel < c->top)
        c->top = c->sel;
    if (c->sel >= c->top + height)
        c->top = c->sel - height + 1;
    c->top = c->top > last_top ? last_top : c->top;
}

void view_cursor_move(view_cursor *c, size_t n, long delta, size_t height, bool select)
{
    size_t hi = n ? n - 1 : 0;
    if (select)
        c->sel = view_clamp((long)c->sel + delta, hi);
    else
        c->top = view_clamp((long)c->top + delta, n > height ? n - height : 0);
    view_cursor_clamp(c, n, height, select);
}

void view_page_clear(view_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->lines[i].text);
    p->n = 0;
}

void view_page_free(view_page *p)
{
    view_page_clear(p);
    free(p->lines);
    p->lines = NULL;
    p->cap = 0;
}

void view_page_add(view_page *p, view_role role, const char *fmt, ...)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->lines = xrealloc(p->lines, p->cap * sizeof(*p->lines));
    }
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = xstrdup("");
    va_end(ap);
    p->lines[p->n++] = (view_line){.text = text, .role = role};
}

void view_page_move(view_page *p, long delta, size_t height)
{
    view_cursor_move(&p->cur, p->n, delta, height, p->select);
    if (!p->select)
        p->follow = p->cur.top + height >= p->n;
}
