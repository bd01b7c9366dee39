/* fx_h_abort: a program with a crash handler for SIGABRT whose heap is
 * corrupt: glibc's malloc finds it out and calls abort(), inside the
 * tracer's hook. The handler must run, as it does natively (a crash
 * reporter's one chance), and the program end by SIGABRT. Written for
 * glibc's chunk layout: the test checks the native run ends so too. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_abort(int sig)
{
    (void)sig;
    static const char m[] = "crash handler ran\n";
    ssize_t w = write(1, m, sizeof(m) - 1);
    (void)w;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_abort;
    sigaction(SIGABRT, &sa, NULL);
    char *p = malloc(24); // @expect exit size_diff=24 count_diff=1
    /* The next chunk's size word, past p's 24 usable bytes: the heap's
     * top. A top this large is impossible, and malloc says so. */
    volatile size_t *top = (volatile size_t *)(p + 24);  /* volatile: a compiler drops it */
    top[0] = (size_t)0xffffffffffff;
    void *volatile q = malloc(1 << 16);
    (void)q;
    return 0;
}
