/* view_log.c: reads only the end of the log (a chatty program's log may be
 * huge), split into lines. */
#include "view_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define VIEW_LOG_TAIL_BYTES (256 * 1024)

/* The last VIEW_LOG_TAIL_BYTES of the file, NUL-terminated; NULL on error. */
static char *view_log_tail(const char *path, off_t *skipped)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    off_t from = st.st_size > VIEW_LOG_TAIL_BYTES ? st.st_size - VIEW_LOG_TAIL_BYTES : 0;
    char *buf = xmalloc(VIEW_LOG_TAIL_BYTES + 1);
    ssize_t n = pread(fd, buf, VIEW_LOG_TAIL_BYTES, from);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    *skipped = from;
    return buf;
}

void view_log_page(view_page *p, const char *path)
{
    bool first = p->n == 0;
    view_page_clear(p);
    p->select = false;
    if (first)
        p->follow = true;
    snprintf(p->title, sizeof(p->title), "Program output: %s", path);
    off_t skipped = 0;
    char *text = view_log_tail(path, &skipped);
    if (!text) {
        view_page_add(p, VIEW_ROLE_ERROR, "%s: %s", path, strerror(errno));
        return;
    }
    char *line = text;
    if (skipped)   /* the first line is cut: drop it */
        line = strchr(text, '\n') ? strchr(text, '\n') + 1 : text + strlen(text);
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        for (char *c = line; *c; c++)   /* the screen has no tab stops */
            *c = *c == '\t' || *c == '\r' ? ' ' : *c;
        view_page_add(p, VIEW_ROLE_NORMAL, "%s", line);
        if (!nl)
            break;
        line = nl + 1;
    }
    if (p->n == 0)
        view_page_add(p, VIEW_ROLE_DIM, "(the program has written nothing yet)");
    free(text);
}
