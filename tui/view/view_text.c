/* view_text.c: column-aware string fitting and sparklines. Characters are
 * decoded with the locale (mbrtowc), so a UTF-8 path keeps its width and an
 * undecodable byte counts as one column (drawn as '?'). */
#include "view_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const char *const view_levels_utf8[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char *const view_levels_ascii[] = {"_", ".", "-", "=", "#"};

static const view_glyphs view_glyphs_utf8 = {
    .utf8 = true, .ellipsis = "…", .ellipsis_cols = 1,
    .levels = view_levels_utf8, .nlevels = 8, .bigger = "^", .suspect = "!",
};
static const view_glyphs view_glyphs_ascii = {
    .utf8 = false, .ellipsis = "..", .ellipsis_cols = 2,
    .levels = view_levels_ascii, .nlevels = 5, .bigger = "^", .suspect = "!",
};

const view_glyphs *view_glyphs_get(bool utf8)
{
    return utf8 ? &view_glyphs_utf8 : &view_glyphs_ascii;
}

/* One character at s: its byte length (>= 1) and its columns (>= 0). */
static size_t view_text_char(const char *s, int *cols)
{
    mbstate_t st;
    memset(&st, 0, sizeof(st));
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *cols = 1;
        return 1;
    }
    int w = wcwidth(wc);
    *cols = w < 0 ? 1 : w;
    return n;
}

/* The length of the well-formed UTF-8 sequence at p (1-4) and its code
 * point, or 0 when it is not one (bad lead or continuation, overlong,
 * surrogate, past U+10FFFF). */
static size_t view_utf8_seq(const unsigned char *p, uint32_t *cp)
{
    static const uint32_t min_of[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0)
        return 0;
    uint32_t c = n == 1 ? p[0] : p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min_of[n] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        return 0;
    *cp = c;
    return n;
}

void view_text_clean(char *out, size_t outlen, const char *s, bool utf8)
{
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && used + 1 < outlen) {
        uint32_t cp = *p;
        size_t n = utf8 ? view_utf8_seq(p, &cp) : 1;
        if (n == 0) {               /* a byte of a broken sequence */
            out[used++] = '?';
            p++;
            continue;
        }
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || (!utf8 && cp >= 0x80)) {
            out[used++] = '?';      /* one control character, one '?' */
            p += n;
            continue;
        }
        if (used + n >= outlen)
            break;
        memcpy(out + used, p, n);
        used += n;
        p += n;
    }
    out[used] = 0;
}

int view_text_width(const char *s)
{
    int total = 0, cols;
    while (*s) {
        s += view_text_char(s, &cols);
        total += cols;
    }
    return total;
}

/* Appends the bytes [s, s+n) when they fit. */
static void view_text_append(char *out, size_t outlen, size_t *used, const char *s, size_t n)
{
    if (*used + n >= outlen)
        return;
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = 0;
}

int view_text_fit(char *out, size_t outlen, const char *s, int cols, const view_glyphs *g)
{
    size_t used = 0;
    out[0] = 0;
    if (cols <= 0)
        return 0;
    int width = view_text_width(s);
    int budget = width <= cols ? cols : cols - g->ellipsis_cols;
    int taken = 0, c;
    while (*s) {
        size_t n = view_text_char(s, &c);
        if (taken + c > budget)
            break;
        view_text_append(out, outlen, &used, s, n);
        taken += c;
        s += n;
    }
    if (width > cols && budget >= 0) {
        view_text_append(out, outlen, &used, g->ellipsis, strlen(g->ellipsis));
        taken += g->ellipsis_cols;
    }
    return taken;
}

int view_text_fit_left(char *out, size_t outlen, const char *s, int cols, const view_glyphs *g)
{
    int width = view_text_width(s);
    if (width <= cols)
        return view_text_fit(out, outlen, s, cols, g);
    out[0] = 0;
    if (cols <= g->ellipsis_cols)
        return view_text_fit(out, outlen, s, cols, g);
    /* Skip characters until the rest fits after the ellipsis. */
    int drop = width - (cols - g->ellipsis_cols), c;
    while (*s && drop > 0) {
        s += view_text_char(s, &c);
        drop -= c;
    }
    size_t used = 0;
    view_text_append(out, outlen, &used, g->ellipsis, strlen(g->ellipsis));
    view_text_append(out, outlen, &used, s, strlen(s));
    return g->ellipsis_cols + view_text_width(s);
}

void view_text_pad(char *out, size_t outlen, int n)
{
    size_t used = strlen(out);
    for (; n > 0 && used + 1 < outlen; n--)
        out[used++] = ' ';
    out[used] = 0;
}

void view_spark(char *out, size_t outlen, const int64_t *vals, int n, const view_glyphs *g)
{
    size_t used = 0;
    out[0] = 0;
    if (n <= 0)
        return;
    int64_t lo = vals[0], hi = vals[0];
    for (int i = 1; i < n; i++) {
        lo = vals[i] < lo ? vals[i] : lo;
        hi = vals[i] > hi ? vals[i] : hi;
    }
    for (int i = 0; i < n; i++) {
        int level = 0;
        if (hi > lo)
            level = (int)((double)(vals[i] - lo) / (double)(hi - lo) * (g->nlevels - 1) + 0.5);
        const char *glyph = g->levels[level];
        view_text_append(out, outlen, &used, glyph, strlen(glyph));
    }
}

void view_text_duration(char *out, size_t outlen, double seconds)
{
    long s = seconds < 0 ? 0 : (long)seconds;
    if (s < 60)
        snprintf(out, outlen, "%lds", s);
    else if (s < 3600)
        snprintf(out, outlen, "%ldm%02lds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, outlen, "%ldh%02ldm", s / 3600, s % 3600 / 60);
    else
        snprintf(out, outlen, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}
