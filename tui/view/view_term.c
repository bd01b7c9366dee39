/* view_term.c: ncurses behind view_term.h. Colour is decided once: NO_COLOR
 * (any non-empty value, no-color.org) or a terminal without colours gets
 * bold/reverse/underline only, so every role stays distinguishable. */
#include "view_term.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

/* Esc must go back at once, not after curses' default 1 s wait for a
 * function-key sequence. */
#define VIEW_TERM_ESCDELAY_MS 25

typedef struct view_style {
    short  fg, bg;    /* colour pair, -1 = terminal default */
    attr_t color_attr;
    attr_t mono_attr;
} view_style;

static const view_style view_styles[VIEW_ROLE_COUNT] = {
    [VIEW_ROLE_NORMAL]   = {-1, -1, A_NORMAL, A_NORMAL},
    [VIEW_ROLE_TITLE]    = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [VIEW_ROLE_HEADER]   = {-1, -1, A_NORMAL, A_NORMAL},
    [VIEW_ROLE_COLHDR]   = {COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE},
    [VIEW_ROLE_SELECTED] = {COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_REVERSE | A_BOLD},
    [VIEW_ROLE_GROW]     = {COLOR_RED, -1, A_BOLD, A_BOLD},
    [VIEW_ROLE_SHRINK]   = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    [VIEW_ROLE_FLAG]     = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [VIEW_ROLE_SUSPECT]  = {COLOR_WHITE, COLOR_RED, A_BOLD, A_BOLD | A_REVERSE},
    [VIEW_ROLE_DIM]      = {COLOR_BLUE, -1, A_NORMAL, A_DIM},
    [VIEW_ROLE_FOOTER]   = {COLOR_BLACK, COLOR_WHITE, A_NORMAL, A_REVERSE},
    [VIEW_ROLE_MESSAGE]  = {COLOR_BLACK, COLOR_GREEN, A_NORMAL, A_REVERSE | A_BOLD},
    [VIEW_ROLE_ERROR]    = {COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD},
};

static attr_t view_attrs[VIEW_ROLE_COUNT];

static bool view_term_no_color(void)
{
    const char *nc = getenv("NO_COLOR");
    return nc && *nc;
}

static void view_term_styles(view_term *t)
{
    t->color = has_colors() && !view_term_no_color();
    if (t->color) {
        start_color();
        use_default_colors();
    }
    for (int r = 0; r < VIEW_ROLE_COUNT; r++) {
        const view_style *st = &view_styles[r];
        view_attrs[r] = st->mono_attr;
        if (!t->color)
            continue;
        view_attrs[r] = st->color_attr;
        if (st->fg != -1 || st->bg != -1) {
            init_pair((short)(r + 1), st->fg, st->bg);
            view_attrs[r] |= COLOR_PAIR(r + 1);
        }
    }
}

size_t view_term_body_rows(const view_term *t)
{
    int h = t->rows - VIEW_HEADER_ROWS - 2;   /* column header, footer */
    return h > 1 ? (size_t)h : 1;
}

int view_term_start(view_term *t, char *err, size_t errlen)
{
    setlocale(LC_ALL, "");
    bool utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    t->g = view_glyphs_get(utf8);
    set_escdelay(VIEW_TERM_ESCDELAY_MS);
    t->screen = newterm(NULL, stdout, stdin);
    if (!t->screen) {
        snprintf(err, errlen, "cannot start the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
        return -1;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    leaveok(stdscr, TRUE);
    view_term_styles(t);
    view_term_size(t);
    return 0;
}

void view_term_stop(view_term *t)
{
    if (!t->screen)
        return;
    curs_set(1);
    endwin();
    /* Frees what ncurses allocated for the screen, so leak checks only
     * see leaks of ours. */
    delscreen(t->screen);
    t->screen = NULL;
}

void view_term_size(view_term *t)
{
    getmaxyx(stdscr, t->rows, t->cols);
}

void view_term_clear(void)
{
    erase();
}

int view_term_put(const view_term *t, int y, int x, int cols, view_role role, const char *s, bool pad)
{
    if (y < 0 || y >= t->rows || x >= t->cols || cols <= 0)
        return 0;
    if (x + cols > t->cols)
        cols = t->cols - x;
    /* Cleaned before it is measured: what curses draws is what was fitted. */
    char clean[4096], buf[4096];
    view_text_clean(clean, sizeof(clean), s, t->g->utf8);
    int used = view_text_fit(buf, sizeof(buf), clean, cols, t->g);
    if (pad)
        view_text_pad(buf, sizeof(buf), cols - used);
    attrset(view_attrs[role]);
    mvaddstr(y, x, buf);
    attrset(A_NORMAL);
    return pad ? cols : used;
}

void view_term_fill(const view_term *t, int y, view_role role)
{
    view_term_put(t, y, 0, t->cols, role, "", true);
}

void view_term_flush(void)
{
    refresh();
}

void view_term_redraw(void)
{
    clearok(curscr, TRUE);
}

int view_term_key(int timeout_ms)
{
    timeout(timeout_ms);
    int ch = getch();
    return ch == ERR ? -1 : ch;
}

void view_term_raw(const char *bytes, size_t n)
{
    fflush(stdout);
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, bytes, n);
        if (w <= 0)
            return;
        bytes += w;
        n -= (size_t)w;
    }
}

void view_term_read_row(int y, char *out, size_t outlen)
{
    wchar_t wide[1024];
    int cols = getmaxx(stdscr);
    int n = mvinnwstr(y, 0, wide, cols < 1023 ? cols : 1023);
    if (n < 0)
        n = 0;
    wide[n] = 0;
    while (n > 0 && wide[n - 1] == L' ')
        wide[--n] = 0;
    size_t len = wcstombs(out, wide, outlen - 1);
    if (len == (size_t)-1)
        len = 0;
    out[len] = 0;
}
