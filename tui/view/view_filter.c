/* view_filter.c: parsing the filter prompt. */
#include "view_filter.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void view_filter_free(view_filter *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->patterns[i]);
    f->n = 0;
    f->text[0] = 0;
}

/* One word into a filter; -1 when it is only a sign. */
static int view_filter_word(const char *w, size_t len, diff_filter *out, char **pattern)
{
    bool inclusive = true;
    if (*w == '-' || *w == '+') {
        inclusive = *w == '+';
        w++;
        len--;
    }
    if (len == 0)
        return -1;
    char *pat = xmalloc(len + 1);
    memcpy(pat, w, len);
    pat[len] = 0;
    *out = (diff_filter){.inclusive = inclusive, .pattern = pat, .lineno = -1, .all_frames = false};
    char *colon = strrchr(pat, ':');
    long line;
    if (colon && colon != pat && util_parse_long(colon + 1, 0, 1L << 31, &line) == 0) {
        *colon = 0;
        out->lineno = line;
    }
    *pattern = pat;
    return 0;
}

/* Adds the any-directory twin of a GLOB without a slash: the same file
 * name in any directory. */
static void view_filter_basename(view_filter *f)
{
    const diff_filter *last = &f->items[f->n - 1];
    if (strchr(last->pattern, '/'))
        return;
    size_t len = strlen(last->pattern) + 3;
    char *pat = xmalloc(len);
    snprintf(pat, len, "*/%s", last->pattern);
    f->items[f->n] = *last;
    f->items[f->n].pattern = pat;
    f->patterns[f->n] = pat;
    f->n++;
}

int view_filter_set(view_filter *f, const char *text, char *err, size_t errlen)
{
    view_filter next = {0};
    snprintf(next.text, sizeof(next.text), "%s", text);
    const char *p = text;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        size_t len = 0;
        while (p[len] && !isspace((unsigned char)p[len]))
            len++;
        if (len == 0)
            break;
        if (next.n >= 2 * VIEW_FILTER_MAX - 1 ||
            view_filter_word(p, len, &next.items[next.n], &next.patterns[next.n]) != 0) {
            if (next.n >= 2 * VIEW_FILTER_MAX - 1)
                snprintf(err, errlen, "too many filters (at most %d)", VIEW_FILTER_MAX);
            else
                snprintf(err, errlen, "'%.*s': a filter needs a pattern after its sign", (int)len, p);
            view_filter_free(&next);
            return -1;
        }
        next.n++;
        view_filter_basename(&next);
        p += len;
    }
    /* A filter of blanks only is no filter. */
    if (next.n == 0)
        next.text[0] = 0;
    view_filter_free(f);
    *f = next;
    return 0;
}

/* Command-line filters keep their exact tracemalloc meaning (as in batch
 * reports); only what is typed at the prompt gets the base-name rule. */
void view_filter_from(view_filter *f, const diff_filter *items, size_t n)
{
    view_filter_free(f);
    size_t used = 0;
    for (size_t i = 0; i < n && i < 2 * VIEW_FILTER_MAX; i++) {
        char line[32] = "";
        if (items[i].lineno >= 0)
            snprintf(line, sizeof(line), ":%lld", (long long)items[i].lineno);
        if (used < sizeof(f->text))
            used += (size_t)snprintf(f->text + used, sizeof(f->text) - used, "%s%s%s%s", i ? " " : "",
                                     items[i].inclusive ? "" : "-", items[i].pattern, line);
        f->patterns[i] = xstrdup(items[i].pattern);
        f->items[i] = items[i];
        f->items[i].pattern = f->patterns[i];
        f->n++;
    }
}
