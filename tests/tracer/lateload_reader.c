/* lateload_reader PID OUT: follows a process that attached its tracer
 * itself (the watch library, as `leaktop attach` does) until it ends, and
 * writes its final state as a snapshot file for `leaktop show`. Prints
 * "watching" once it follows the process. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "watch.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    char err[512];
    int status;
    watch_config cfg = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};   /* .inject false: wait for its own */
    watch *w = NULL;
    for (int i = 0; i < 200 && !w; i++) {
        w = watch_attach((pid_t)atoi(argv[1]), &cfg, &status, err, sizeof(err));
        if (!w)
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    if (!w) {
        fprintf(stderr, "lateload_reader: %s\n", err);
        return 1;
    }
    printf("watching\n");
    fflush(stdout);
    for (int i = 0; i < 3000; i++) {
        watch_event ev;
        while (watch_poll(w, &ev)) {
            if (ev.kind != WATCH_EVENT_END) {
                if (ev.snap)
                    diff_snapshot_free(ev.snap);
                continue;
            }
            int rc = diff_snapfile_write(argv[2], ev.snap, err, sizeof(err));
            diff_snapshot_free(ev.snap);
            watch_free(w);
            if (rc != 0)
                fprintf(stderr, "lateload_reader: %s\n", err);
            return rc != 0;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    fprintf(stderr, "lateload_reader: the program did not end\n");
    return 1;
}
