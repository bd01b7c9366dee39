/* view_footer.c: messages with a lifetime, and the filter prompt's line
 * editing (UTF-8 aware Backspace, Ctrl-W, Ctrl-U). */
#include "view_footer.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define VIEW_MESSAGE_NS (5 * 1000000000LL)   /* errors stay twice as long */
#define CTRL(c) ((c) & 0x1f)
#define VIEW_KEY_ESC 27
#define VIEW_KEY_DEL 127

void view_footer_say(view_footer *f, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    f->error = error;
    f->until_ns = util_now_ns() + VIEW_MESSAGE_NS * (error ? 2 : 1);
}

bool view_footer_live(const view_footer *f, int64_t now_ns)
{
    return f->msg[0] && now_ns < f->until_ns;
}

void view_footer_prompt_open(view_footer *f, const char *initial)
{
    f->prompting = true;
    snprintf(f->prompt, sizeof(f->prompt), "%s", initial);
}

/* Deletes the last character (a whole UTF-8 sequence) or, with word, the
 * last word. */
static void view_footer_erase(char *p, bool word)
{
    size_t n = strlen(p);
    if (word) {
        while (n && p[n - 1] == ' ')
            n--;
        while (n && p[n - 1] != ' ')
            n--;
    } else {
        while (n && ((unsigned char)p[n - 1] & 0xc0) == 0x80)
            n--;
        if (n)
            n--;
    }
    p[n] = 0;
}

view_prompt_result view_footer_prompt_key(view_footer *f, int code)
{
    size_t n = strlen(f->prompt);
    if (code == '\n' || code == '\r' || code == KEY_ENTER) {
        f->prompting = false;
        return VIEW_PROMPT_APPLY;
    }
    if (code == VIEW_KEY_ESC) {
        f->prompting = false;
        return VIEW_PROMPT_CANCEL;
    }
    if (code == KEY_BACKSPACE || code == VIEW_KEY_DEL || code == CTRL('h'))
        view_footer_erase(f->prompt, false);
    else if (code == CTRL('w'))
        view_footer_erase(f->prompt, true);
    else if (code == CTRL('u'))
        f->prompt[0] = 0;
    else if (code >= ' ' && code <= 0xff && n + 1 < sizeof(f->prompt)) {
        f->prompt[n] = (char)code;
        f->prompt[n + 1] = 0;
    }
    return VIEW_PROMPT_EDITED;
}
