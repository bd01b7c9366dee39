/* view_footer.h: the bottom line's state: a message shown for a while (or
 * an error, for longer), and the filter prompt while it is open. Key
 * actions, screens and the loop all talk to the user through it; nothing
 * here draws. */
#ifndef LEAKTOP_VIEW_FOOTER_H
#define LEAKTOP_VIEW_FOOTER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct view_footer {
    char    msg[1024];
    bool    error;
    int64_t until_ns;
    bool    prompting;     /* the filter prompt is open */
    char    prompt[512];   /* what was typed so far */
} view_footer;

/* What a key did to the prompt. */
typedef enum view_prompt_result {
    VIEW_PROMPT_EDITED,
    VIEW_PROMPT_APPLY,     /* Enter: the text in prompt is to be applied */
    VIEW_PROMPT_CANCEL,    /* Esc */
} view_prompt_result;

void view_footer_say(view_footer *f, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The message is still to be shown at now_ns. */
bool view_footer_live(const view_footer *f, int64_t now_ns);

/* Opens the prompt with `initial` as its text. */
void view_footer_prompt_open(view_footer *f, const char *initial);
/* Feeds one key to the open prompt: editing keys (Backspace, Ctrl-W,
 * Ctrl-U, printable bytes) change it; Enter and Esc close it. */
view_prompt_result view_footer_prompt_key(view_footer *f, int code);

#endif
