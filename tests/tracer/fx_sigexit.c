/* fx_sigexit: exit() called from a signal handler while the main thread is
 * busy allocating; the exit report must still be exact for the leak. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <leaktop.h>

void *leaked[16];
void *escape;

static void on_alarm(int sig)
{
    (void)sig;
    exit(0);
}

int main(void)
{
    leaktop_mark("base");
    for (int i = 0; i < 16; i++)
        leaked[i] = malloc(1000); // @expect exit size_diff=16000 count_diff=16
    signal(SIGALRM, on_alarm);
    alarm(1);
    for (;;) {
        void *p = malloc(128);  /* may be live when the alarm hits: not checked */
        escape = p;
        free(p);
    }
}
