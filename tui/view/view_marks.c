/* view_marks.c: the kept snapshots, bounded: when full, the oldest one
 * that is not the baseline is freed. */
#include "view_marks.h"

#include <string.h>

#include "view_text.h"

void view_marks_init(view_marks *m)
{
    memset(m, 0, sizeof(*m));
    m->baseline = -1;
}

void view_marks_free(view_marks *m)
{
    for (size_t i = 0; i < m->n; i++)
        diff_snapshot_free(m->items[i].snap);
    view_marks_init(m);
}

static void view_marks_drop_oldest(view_marks *m)
{
    size_t victim = m->baseline == 0 ? 1 : 0;
    diff_snapshot_free(m->items[victim].snap);
    memmove(&m->items[victim], &m->items[victim + 1], (m->n - victim - 1) * sizeof(view_mark));
    m->n--;
    if (m->baseline > (long)victim)
        m->baseline--;
    m->dropped++;
}

size_t view_marks_add(view_marks *m, diff_snapshot *snap, bool by_program)
{
    if (m->n == VIEW_MARKS_MAX)
        view_marks_drop_oldest(m);
    m->items[m->n] = (view_mark){.snap = snap, .by_program = by_program};
    return m->n++;
}

const diff_snapshot *view_marks_baseline(const view_marks *m)
{
    return m->baseline >= 0 ? m->items[m->baseline].snap : NULL;
}

void view_marks_set_baseline(view_marks *m, long index)
{
    m->baseline = index >= 0 && (size_t)index < m->n ? index : -1;
}

void view_marks_page(const view_marks *m, view_page *p, double now_elapsed)
{
    view_page_clear(p);
    p->select = true;
    snprintf(p->title, sizeof(p->title), "Marks: Enter makes the selected one the baseline%s",
             m->dropped ? " (oldest ones dropped)" : "");
    for (size_t i = 0; i < m->n; i++) {
        const diff_snapshot *s = m->items[i].snap;
        int64_t size, count;
        diff_snapshot_totals(s, &size, &count);
        char sz[32], ago[32];
        diff_format_size(sz, sizeof(sz), size, false);
        view_text_duration(ago, sizeof(ago), now_elapsed - diff_snapshot_elapsed(s));
        view_page_add(p, (long)i == m->baseline ? VIEW_ROLE_TITLE : VIEW_ROLE_NORMAL,
                      "%c %-16s %-7s at %.1f s (%s ago)  %s in %lld blocks",
                      (long)i == m->baseline ? '*' : ' ', diff_snapshot_label(s),
                      m->items[i].by_program ? "program" : "key b", diff_snapshot_elapsed(s), ago, sz,
                      (long long)count);
    }
    if (m->n == 0)
        p->select = false;
}
