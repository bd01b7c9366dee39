/* view_marks.c: the kept snapshots, bounded: when full, the oldest one
 * that is neither the baseline nor the compared mark is freed. */
#include "view_marks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>


void view_marks_init(view_marks *m)
{
    memset(m, 0, sizeof(*m));
    m->baseline = -1;
    m->versus = -1;
}

void view_marks_free(view_marks *m)
{
    for (size_t i = 0; i < m->n; i++)
        diff_snapshot_free(m->items[i].snap);
    view_marks_init(m);
}

static void view_marks_drop_oldest(view_marks *m)
{
    size_t victim = 0;
    while ((long)victim == m->baseline || (long)victim == m->versus)
        victim++;
    diff_snapshot_free(m->items[victim].snap);
    memmove(&m->items[victim], &m->items[victim + 1], (m->n - victim - 1) * sizeof(view_mark));
    m->n--;
    if (m->baseline > (long)victim)
        m->baseline--;
    if (m->versus > (long)victim)
        m->versus--;
    m->dropped++;
}

size_t view_marks_add(view_marks *m, diff_snapshot *snap, view_mark_source source)
{
    if (m->n == VIEW_MARKS_MAX)
        view_marks_drop_oldest(m);
    m->items[m->n] = (view_mark){.snap = snap, .source = source, .number = ++m->next_number};
    return m->n++;
}

const diff_snapshot *view_marks_baseline(const view_marks *m)
{
    return m->baseline >= 0 ? m->items[m->baseline].snap : NULL;
}

void view_marks_set_baseline(view_marks *m, long index)
{
    m->baseline = index >= 0 && (size_t)index < m->n ? index : -1;
    m->versus = -1;
}

int view_marks_freeze(view_marks *m, long a, long b)
{
    if (a < -1 || a >= (long)m->n || b < 0 || b >= (long)m->n || a == b)
        return -EINVAL;
    /* Marks are kept in the order they were taken: the older is the base,
     * so diffs (and retained figures) read forward in time. */
    m->baseline = a < b ? a : b;
    m->versus = a < b ? b : a;
    return 0;
}

bool view_marks_frozen(const view_marks *m)
{
    return m->versus >= 0;
}

void view_marks_thaw(view_marks *m)
{
    m->versus = -1;
}

void view_marks_pair(const view_marks *m, const diff_snapshot *now, const diff_snapshot **cur,
                     const diff_snapshot **base)
{
    *cur = m->versus >= 0 ? m->items[m->versus].snap : now;
    *base = view_marks_baseline(m);
}

char *view_marks_name(const view_marks *m, long index, char *buf, size_t len)
{
    if (index < 0 || index >= (long)m->n)
        snprintf(buf, len, "start");
    else
        snprintf(buf, len, "mark %u (%s)", m->items[index].number, diff_snapshot_label(m->items[index].snap));
    return buf;
}

static const char *view_mark_source_name(view_mark_source s)
{
    static const char *const names[] = {
        [VIEW_MARK_PROGRAM] = "program", [VIEW_MARK_REQUESTED] = "leaktop mark", [VIEW_MARK_KEY] = "key b",
    };
    return names[s];
}

void view_marks_page(const view_marks *m, view_page *p)
{
    view_page_clear(p);
    p->select = true;
    snprintf(p->title, sizeof(p->title), "Marks (* baseline, = compared): Enter baseline, c compare%s",
             m->dropped ? " (oldest dropped)" : "");
    for (size_t i = 0; i < m->n; i++) {
        const diff_snapshot *s = m->items[i].snap;
        int64_t size, count;
        diff_snapshot_totals(s, &size, &count);
        char sz[32];
        diff_format_size(sz, sizeof(sz), size, false);
        bool base = (long)i == m->baseline, vs = (long)i == m->versus;
        view_page_add(p, base || vs ? VIEW_ROLE_TITLE : VIEW_ROLE_NORMAL,
                      "%c #%-3u at %7.1f s  %-16s %-12s %s in %lld blocks", base ? '*' : vs ? '=' : ' ',
                      m->items[i].number, diff_snapshot_elapsed(s), diff_snapshot_label(s),
                      view_mark_source_name(m->items[i].source), sz, (long long)count);
    }
    if (m->n == 0)
        p->select = false;
}
