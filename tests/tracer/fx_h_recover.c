/* fx_h_recover: a crash handler that recovers. The heap's top is made
 * impossible; malloc finds it out and calls abort() inside the tracer's
 * hook, and the SIGABRT handler leaves by siglongjmp (a server's "drop
 * this request and go on"). The program repairs the top and goes on: the
 * hook it left never returns, and the blocks allocated after it, from
 * deeper calls first and then from the same depth, must be traced all
 * the same. With "altstack" the handler runs on an alternate stack in
 * main's frame, above the hook's, and allocates there before it leaves:
 * a call nested in the running hook, which passes through untraced, as
 * every call inside a hook does (it must not be taken for one after a
 * left hook). With "signal" the handler raises SIGUSR1 first: its own
 * handler (the tracer's to hold back inside a hook) must still run once,
 * and the signal mask after the jump be the one the jump restored.
 * Written for glibc's chunk layout: the test checks that the native run
 * recovers too. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sigjmp_buf recover;
static volatile size_t *top, good;
static int in_handler_alloc, in_handler_raise;
static volatile sig_atomic_t usr1_ran;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_ran++;
}

void *volatile sink;

static void on_abort(int sig)
{
    (void)sig;
    if (in_handler_alloc) {
        *top = good;
        sink = malloc(333); // @absent exit
    }
    if (in_handler_raise)
        raise(SIGUSR1);
    siglongjmp(recover, 1);
}

static void say(const char *m)
{
    ssize_t w = write(1, m, strlen(m));
    (void)w;
}

/* Frames of the program's own where the left hook's were. */
static __attribute__((noinline)) void deeper(int depth)
{
    volatile char frame[256];
    memset((char *)frame, depth, sizeof(frame));
    if (depth > 0) {
        deeper(depth - 1);
        return;
    }
    for (int i = 0; i < 5; i++)
        sink = malloc(222); // @expect exit size_diff=1110 count_diff=5
}

int main(int argc, char **argv)
{
    char alt[64 << 10];  /* on main's frame: above every hook's */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_abort;
    if (argc > 1 && strcmp(argv[1], "altstack") == 0) {
        stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)};
        sigaltstack(&ss, NULL);
        sa.sa_flags = SA_ONSTACK;
        in_handler_alloc = 1;
    }
    if (argc > 1 && strcmp(argv[1], "signal") == 0) {
        struct sigaction usr1;
        memset(&usr1, 0, sizeof(usr1));
        usr1.sa_handler = on_usr1;
        sigaction(SIGUSR1, &usr1, NULL);
        in_handler_raise = 1;
    }
    sigaction(SIGABRT, &sa, NULL);
    char *p = malloc(24); // @expect exit size_diff=24 count_diff=1
    /* The next chunk's size word, past p's 24 usable bytes: the top. */
    top = (volatile size_t *)(p + 24);
    good = *top;
    if (sigsetjmp(recover, 1) == 0) {
        *top = (size_t)0xffffffffffff;
        sink = malloc(1 << 16);  /* abort() in here */
        say("malloc did not abort\n");
        return 1;
    }
    *top = good;
    say("recovered\n");
    deeper(3);
    for (int i = 0; i < 10; i++)
        sink = malloc(111); // @expect exit size_diff=1110 count_diff=10
    if (in_handler_raise) {
        sigset_t now;
        sigprocmask(SIG_BLOCK, NULL, &now);
        char line[64];
        snprintf(line, sizeof(line), "SIGUSR1 handled %d, SIGABRT %s, SIGUSR1 %s\n", (int)usr1_ran,
                 sigismember(&now, SIGABRT) ? "blocked" : "open", sigismember(&now, SIGUSR1) ? "blocked" : "open");
        say(line);
    }
    return 0;
}
