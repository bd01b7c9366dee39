/* demo.c: leaktop-demo, a small fake server to try leaktop on.
 *
 *     leaktop run -- leaktop-demo            (runs until q)
 *     leaktop-demo --requests 20000          (ends after 20000 requests)
 *
 * It handles fake requests in a loop, and has three kinds of memory
 * behaviour worth seeing in the live view:
 *   - a cache that leaks: every 7th request adds an entry that is never
 *     evicted (cache_insert: more blocks, steadily);
 *   - churn: each request allocates and frees its buffers (no growth);
 *   - a growing access log: one buffer realloc'ed bigger and bigger (the
 *     size grows, the block count stays flat: the row gets a ^ mark).
 * After a warm-up it calls leaktop_mark("warm"): the live view takes that
 * as its baseline. It prints a line every 1000 requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leaktop.h"

#define WARMUP_REQUESTS 2000
#define REQUEST_US      200

typedef struct cache_entry {
    struct cache_entry *next;
    char               *key;
    char               *value;
} cache_entry;

typedef struct server {
    cache_entry *cache;       /* never evicted: the leak */
    size_t       ncache;
    char        *access_log;  /* grows by realloc: bigger blocks, same count */
    size_t       log_len, log_cap;
} server;

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Every 7th request's answer is "cached" forever. */
static void cache_insert(server *s, unsigned long id)
{
    cache_entry *e = malloc(sizeof(*e));
    char key[32];
    snprintf(key, sizeof(key), "req-%lu", id);
    e->key = strdup(key);
    e->value = malloc(200);
    memset(e->value, 'v', 199);
    e->value[199] = 0;
    e->next = s->cache;
    s->cache = e;
    s->ncache++;
}

/* Appends to one buffer that only ever grows. */
static void access_log_append(server *s, unsigned long id)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "GET /item/%lu 200\n", id);
    if (s->log_len + (size_t)n + 1 > s->log_cap) {
        s->log_cap = s->log_cap ? s->log_cap * 2 : 4096;
        s->access_log = realloc(s->access_log, s->log_cap);
    }
    memcpy(s->access_log + s->log_len, line, (size_t)n + 1);
    s->log_len += (size_t)n;
}

/* Request-scoped buffers: allocated and freed every time (churn). */
static size_t parse_and_render(unsigned long id)
{
    char *request = malloc(512);
    char *response = malloc(2048 + id % 1024);
    snprintf(request, 512, "GET /item/%lu HTTP/1.1", id);
    size_t n = (size_t)snprintf(response, 2048, "<html>%s</html>", request);
    free(request);
    free(response);
    return n;
}

static void handle_request(server *s, unsigned long id)
{
    parse_and_render(id);
    if (id % 7 == 0)
        cache_insert(s, id);
    access_log_append(s, id);
}

static unsigned long parse_requests(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            return strtoul(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: leaktop-demo [--requests N]   (default: run until killed)\n");
            exit(0);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long limit = parse_requests(argc, argv);
    server s = {0};
    printf("leaktop-demo: serving fake requests%s\n", limit ? "" : " until killed");
    fflush(stdout);
    for (unsigned long id = 1; !limit || id <= limit; id++) {
        handle_request(&s, id);
        if (id == WARMUP_REQUESTS)
            leaktop_mark("warm");
        if (id % 1000 == 0) {
            printf("%lu requests, %zu cache entries, access log %zu bytes\n", id, s.ncache, s.log_len);
            fflush(stdout);
        }
        sleep_us(REQUEST_US);
    }
    printf("leaktop-demo: done\n");
    return 0;
}
