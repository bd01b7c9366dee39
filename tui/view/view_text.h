/* view_text.h: text measured in terminal columns, not bytes: fitting a
 * string into a width (cut at the right, or shortened from the left for
 * paths), and sparklines. Pure functions of the locale; no ncurses. */
#ifndef LEAKTOP_VIEW_TEXT_H
#define LEAKTOP_VIEW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The glyphs of one character set: UTF-8 terminals get block elements,
 * others plain ASCII. */
typedef struct view_glyphs {
    bool        utf8;
    const char *ellipsis;       /* marks text cut off */
    int         ellipsis_cols;
    const char *const *levels;  /* sparkline, lowest first */
    int         nlevels;
    const char *bigger;         /* row flag: size grew, count flat */
    const char *suspect;        /* row flag: a suspect (diff_trend_rule); wins over bigger */
} view_glyphs;

const view_glyphs *view_glyphs_get(bool utf8);

/* Copies s into out with every character that would move the cursor or
 * make curses draw more than it measured replaced by '?': C0 controls, DEL,
 * C1 controls (U+0080-U+009F, e.g. U+009B CSI), and, with utf8, each byte
 * of an invalid UTF-8 sequence; without utf8, every byte >= 0x80. Names
 * come from debug info and labels from the program: nobody vetted them. */
void view_text_clean(char *out, size_t outlen, const char *s, bool utf8);
/* Columns the UTF-8 (or, outside UTF-8 locales, byte) string takes. */
int  view_text_width(const char *s);
/* Copies s into out cut to at most cols columns; when cut, the end is
 * replaced by the ellipsis. Returns the columns used. */
int  view_text_fit(char *out, size_t outlen, const char *s, int cols, const view_glyphs *g);
/* The same, keeping the end: "…/src/net/server.c:88". */
int  view_text_fit_left(char *out, size_t outlen, const char *s, int cols, const view_glyphs *g);
/* Appends n spaces (bounded by outlen). */
void view_text_pad(char *out, size_t outlen, int n);

/* A sparkline of vals[0..n) (oldest first), scaled between their minimum
 * and maximum, one glyph per value, into out; a flat series is drawn at the
 * lowest level. */
void view_spark(char *out, size_t outlen, const int64_t *vals, int n, const view_glyphs *g);

/* Seconds as "45s", "12m05s", "3h02m", "2d04h". */
void view_text_duration(char *out, size_t outlen, double seconds);

#endif
