#define _GNU_SOURCE
/* fx_getattr: asks glibc for its own thread's attributes first thing, in
 * main and in a thread, as Rust's runtime, Boehm GC and JVMs do.
 * pthread_getattr_np holds the thread's lock while it allocates: a tracer
 * that asks the same thing from inside that allocation deadlocks. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void *kept[20];

static int own_stack_size(size_t *size)
{
    pthread_attr_t attr;
    void *addr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return -1;
    int rc = pthread_attr_getstack(&attr, &addr, size);
    pthread_attr_destroy(&attr);
    return rc;
}

static void *thread_main(void *arg)
{
    size_t size;
    if (own_stack_size(&size) != 0 || size == 0)
        return NULL;
    for (int i = 0; i < 10; i++)
        kept[10 + i] = malloc(77); // @expect exit size_diff=770 count_diff=10
    return arg;
}

int main(void)
{
    size_t size;
    if (own_stack_size(&size) != 0 || size == 0)
        return 1;
    pthread_t t;
    void *ret = NULL;
    if (pthread_create(&t, NULL, thread_main, &size) != 0 || pthread_join(t, &ret) != 0 || ret != &size)
        return 2;
    for (int i = 0; i < 10; i++)
        kept[i] = malloc(33); // @expect exit size_diff=330 count_diff=10
    printf("stack %s\n", size ? "known" : "unknown");
    return 0;
}
