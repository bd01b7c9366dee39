/* demo.c: leaktop-demo, a small fake server to try leaktop on.
 *
 *     leaktop run -- leaktop-demo            (runs until q)
 *     leaktop-demo --requests 20000          (ends after 20000 requests)
 *
 * It handles fake requests in a loop (about 4000 a second) and has four
 * kinds of memory behaviour worth telling apart in the live view:
 *   - a leak: every 40th request subscribes a listener that is never
 *     removed (subscribe: 256 B each, about 20 KB a second, steadily). It
 *     becomes a suspect (!) and tops the table under sort rate;
 *   - a bounded session cache: 512 sessions of 2 KiB, loaded at start,
 *     each request replacing the oldest (session_put: 1 MiB, flat). It
 *     is the bigger line for the first minute, yet never a suspect and
 *     its rate is 0; since a baseline it shows +0, though every entry in
 *     it was allocated after the baseline (what "retained" counts);
 *   - churn: each request allocates and frees its buffers (no growth);
 *   - an access log: one buffer realloc'ed bigger (the size grows, the
 *     block count stays flat: the row gets a ^ mark) and flushed at
 *     64 KiB, so it falls back again and again: not a suspect.
 * After a warm-up it calls leaktop_mark("warm"): the live view takes that
 * as its baseline. It prints a line every 1000 requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leaktop.h"

#define WARMUP_REQUESTS 2000
#define REQUEST_US      200
#define SESSIONS        512
#define SESSION_BYTES   2048
#define SUBSCRIBE_EVERY 40
#define LOG_FLUSH_AT    (64 * 1024)

typedef struct listener {
    struct listener *next;
    unsigned long    id;
    char             topic[240];
} listener;

typedef struct server {
    listener *listeners;              /* never unsubscribed: the leak */
    size_t    nlisteners;
    char     *sessions[SESSIONS];     /* bounded: the oldest is replaced */
    size_t    next_session;
    char     *access_log;             /* grows by realloc, flushed at LOG_FLUSH_AT */
    size_t    log_len, log_cap;
} server;

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Every SUBSCRIBE_EVERY-th request subscribes a listener nobody removes. */
static void subscribe(server *s, unsigned long id)
{
    listener *l = malloc(sizeof(*l));
    l->id = id;
    snprintf(l->topic, sizeof(l->topic), "updates/item/%lu", id);
    l->next = s->listeners;
    s->listeners = l;
    s->nlisteners++;
}

/* The session cache: a ring of SESSIONS entries; a new session replaces
 * the oldest one, so the cache stays at SESSIONS x SESSION_BYTES. */
static void session_put(server *s, unsigned long id)
{
    char **slot = &s->sessions[s->next_session];
    free(*slot);
    *slot = malloc(SESSION_BYTES);
    snprintf(*slot, SESSION_BYTES, "session-%lu", id);
    s->next_session = (s->next_session + 1) % SESSIONS;
}

/* Appends to one buffer that grows until it is flushed. */
static void access_log_append(server *s, unsigned long id)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "GET /item/%lu 200\n", id);
    if (s->log_len + (size_t)n + 1 > LOG_FLUSH_AT) {
        free(s->access_log);   /* "written to disk" */
        s->access_log = NULL;
        s->log_len = s->log_cap = 0;
    }
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
    session_put(s, id);
    if (id % SUBSCRIBE_EVERY == 0)
        subscribe(s, id);
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
    for (unsigned long id = 0; id < SESSIONS; id++)   /* sessions loaded from disk */
        session_put(&s, id);
    printf("leaktop-demo: serving fake requests%s\n", limit ? "" : " until killed");
    fflush(stdout);
    for (unsigned long id = 1; !limit || id <= limit; id++) {
        handle_request(&s, id);
        if (id == WARMUP_REQUESTS)
            leaktop_mark("warm");
        if (id % 1000 == 0) {
            printf("%lu requests, %zu listeners, %d sessions, access log %zu bytes\n", id, s.nlisteners,
                   SESSIONS, s.log_len);
            fflush(stdout);
        }
        sleep_us(REQUEST_US);
    }
    printf("leaktop-demo: done\n");
    return 0;
}
