/* lateload_detach.h: the frontend's side of lt_shm.h's detach protocol,
 * played by a program on its own segment (fx_lateload, bench_dormant):
 * find and map the segment, ask, and make allocation calls until the
 * tracer took the request. Exits the program when something is wrong. */
#ifndef LATELOAD_DETACH_H
#define LATELOAD_DETACH_H

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lt_shm.h"

static lt_shm_header *segment_map(void)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "leaktop-%u-%d-", (unsigned)geteuid(), (int)getpid());
    DIR *d = opendir(LT_SHM_DIR);
    struct dirent *e;
    lt_shm_header *h = NULL;
    while (d && !h && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[300];
        snprintf(path, sizeof(path), LT_SHM_DIR "/%s", e->d_name);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            continue;
        void *p = mmap(NULL, sizeof(lt_shm_header), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        h = p == MAP_FAILED ? NULL : p;
    }
    if (d)
        closedir(d);
    return h;
}

static int segments(void)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "leaktop-%u-%d-", (unsigned)geteuid(), (int)getpid());
    DIR *d = opendir(LT_SHM_DIR);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

/* detach_req, then a mark request labelled "detach"; the tracer takes it
 * at the next allocation call of any thread. */
static void detach(void)
{
    lt_shm_header *h = segment_map();
    for (int i = 0; !h && i < 50; i++) {
        /* /dev/shm is shared with every other test: a readdir racing
         * their creations and removals may miss a name; say so. */
        nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
        h = segment_map();
        if (h)
            fprintf(stderr, "fx_lateload: the segment found at try %d\n", i + 2);
    }
    if (!h) {
        fprintf(stderr, "fx_lateload: no segment to detach\n");
        exit(4);
    }
    __atomic_store_n(&h->detach_req, 1, __ATOMIC_RELEASE);
    uint64_t n = __atomic_fetch_add(&h->mark_claim, 1, __ATOMIC_ACQ_REL);
    lt_mark_req *q = &h->mark_queue[n % LT_MARK_QUEUE];
    strcpy(q->label, "detach");
    __atomic_store_n(&q->seq, n + 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&h->mark_req, 1, __ATOMIC_RELEASE);
    /* Any call takes it; the detach itself (restoring the GOT cells: an
     * mprotect each, against the other threads' page faults) may take a
     * while on a loaded machine: wait up to 20 s. */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != LT_STATE_DETACHED) {
        void *volatile p = malloc(1);  /* volatile: not optimised away */
        free(p);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 20) {
            fprintf(stderr, "fx_lateload: the detach was not taken (req %llu done %llu)\n",
                    (unsigned long long)h->mark_req, (unsigned long long)h->mark_done);
            exit(5);
        }
        sched_yield();
    }
    munmap(h, sizeof(lt_shm_header));
    if (segments() != 0) {
        fprintf(stderr, "fx_lateload: the segment's name is still there after the detach\n");
        exit(6);
    }
}

#endif
