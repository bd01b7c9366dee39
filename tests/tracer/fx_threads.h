/* fx_threads.h: the hostile fixtures' worker threads: fn(slots + i * per)
 * on each of n threads (at most FX_THREADS_MAX), all joined. 0, or 2 (the
 * fixtures' exit status for it) when one could not start. */
#ifndef FX_THREADS_H
#define FX_THREADS_H

#include <pthread.h>
#include <stddef.h>

#define FX_THREADS_MAX 16

static inline int fx_run_threads(int n, void *(*fn)(void *), void **slots, int per)
{
    pthread_t t[FX_THREADS_MAX];
    if (n > FX_THREADS_MAX)
        return 2;
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, slots + (size_t)i * (size_t)per) != 0)
            return 2;
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}

#endif
