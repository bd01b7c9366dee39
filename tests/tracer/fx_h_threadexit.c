/* fx_h_threadexit: threads that leave in every odd way while others
 * allocate: pthread_exit from a thread-specific-data destructor that
 * allocates, main leaving by pthread_exit so that the last thread runs
 * the process's exit, and threads still allocating when it does. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 16

void *kept[THREADS];
static pthread_key_t key;

static void on_thread_exit(void *value)
{
    kept[(long)value - 1] = malloc(88); // @expect exit size_diff=1408 count_diff=16
    void *tmp = malloc(5); // @absent exit
    free(tmp);
    pthread_exit(NULL);  /* again, from the destructor */
}

static void *short_lived(void *arg)
{
    pthread_setspecific(key, arg);
    void *p = malloc(64); // @absent exit
    free(p);
    pthread_exit(NULL);
}

static void *spinner(void *arg)
{
    (void)arg;
    for (;;) {
        void *p = malloc(48);
        free(p);
    }
    return NULL;
}

static void *last(void *arg)
{
    pthread_t *t = arg;
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_t spin;
    pthread_create(&spin, NULL, spinner, NULL);
    printf("last thread exits the process\n");
    fflush(stdout);
    exit(0);  /* while the spinner is inside malloc and free */
}

int main(void)
{
    static pthread_t t[THREADS];
    pthread_key_create(&key, on_thread_exit);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, short_lived, (void *)(i + 1));
    pthread_t l;
    pthread_create(&l, NULL, last, t);
    pthread_exit(NULL);
}
