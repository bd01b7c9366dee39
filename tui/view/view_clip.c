/* view_clip.c: screen text to a file and to the clipboard. The text is read
 * back from the screen itself, so the copy is exactly what the user sees. */
#include "view_clip.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privdir.h"
#include "util.h"

static void view_base64(const unsigned char *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = 0;
}

char *view_clip_osc52(const char *text, size_t n, int in_tmux)
{
    char *b64 = xmalloc((n + 2) / 3 * 4 + 1);
    view_base64((const unsigned char *)text, n, b64);
    size_t len = 2 * strlen(b64) + 64;
    char *seq = xmalloc(len);
    /* Inside tmux either of two settings makes the copy work: with
     * set-clipboard on, tmux takes the plain sequence itself (a paste
     * buffer, forwarded to the outer terminal); with allow-passthrough on,
     * a DCS "tmux;" payload (every ESC inside doubled) goes to the outer
     * terminal untouched. Both are sent: the same text twice is harmless. */
    int used = snprintf(seq, len, "\033]52;c;%s\a", b64);
    if (in_tmux)
        snprintf(seq + used, len - (size_t)used, "\033Ptmux;\033\033]52;c;%s\a\033\\", b64);
    free(b64);
    return seq;
}

/* The screen rows joined with newlines, trailing blank rows dropped. */
static char *view_clip_text(int nrows, size_t *len)
{
    size_t cap = 4096, used = 0, keep = 0;
    char *text = xmalloc(cap);
    char row[4096];
    for (int y = 0; y < nrows; y++) {
        view_term_read_row(y, row, sizeof(row));
        size_t n = strlen(row);
        if (used + n + 2 > cap) {
            cap = (used + n + 2) * 2;
            text = xrealloc(text, cap);
        }
        memcpy(text + used, row, n);
        used += n;
        text[used++] = '\n';
        if (n)
            keep = used;
    }
    text[keep] = 0;
    *len = keep;
    return text;
}

int view_clip_copy(const view_term *t, int nrows, const char *name,
                   char *path, size_t pathlen, char *err, size_t errlen)
{
    (void)t;
    size_t len;
    char *text = view_clip_text(nrows, &len);
    int fd = privdir_create(name, path, pathlen, err, errlen);
    if (fd < 0) {
        free(text);
        return -1;
    }
    ssize_t wrote = write(fd, text, len);
    int e = wrote < 0 ? errno : EIO;
    if (close(fd) != 0 || wrote != (ssize_t)len) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        free(text);
        return -1;
    }
    const char *tmux = getenv("TMUX");
    char *seq = view_clip_osc52(text, len, tmux && *tmux);
    view_term_raw(seq, strlen(seq));
    free(seq);
    free(text);
    return 0;
}
