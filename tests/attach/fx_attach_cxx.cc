// fx_attach_cxx.cc: a C++ program started WITHOUT leaktop, for attach's
// end-to-end cases the tracer side must handle through the injector: C++
// new charged to the user's line, a plugin dlopen'ed after the attach, and
// (by its builds) a PIE with full RELRO and a non-PIE program.
// Prints "ready"; at each SIGUSR1: 25 `new Node` (NEW_LINE), dlopen(argv[1])
// and 6 x plugin_leak(500), 3 x malloc(1000) (MALLOC_LINE), then "done".
// SIGTERM: exits 0.
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct Node {
    Node *next;
    char payload[88];
};

static volatile sig_atomic_t go, stop;
static Node *keep;
static void *keep_c[64];
static int nkeep_c;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        go = 1;
    else
        stop = 1;
}

__attribute__((noinline)) static void make_nodes()
{
    for (int i = 0; i < 25; i++) {
        Node *n = new Node;   // NEW_LINE
        n->next = keep;
        keep = n;
    }
}

__attribute__((noinline)) static void make_blocks()
{
    for (int i = 0; i < 3 && nkeep_c < 64; i++)
        memset(keep_c[nkeep_c++] = malloc(1000), 0, 1000);   // MALLOC_LINE
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    Node *before = new Node;   // born before the attach
    printf("ready\n");
    fflush(stdout);
    while (!stop) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        if (!go)
            continue;
        go = 0;
        make_nodes();
        void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
        void *(*leak)(size_t) = h ? (void *(*)(size_t))dlsym(h, "plugin_leak") : NULL;
        for (int i = 0; leak && i < 6; i++)
            leak(500);
        make_blocks();
        printf("done%s\n", leak ? "" : " (no plugin)");
        fflush(stdout);
    }
    delete before;
    return 0;
}
