/* serve.c: the --serve endpoint: the listening socket (bound here, so a
 * bad address or a port in use is said before the program starts), the
 * libmicrohttpd daemon (a thread per connection: a request may wait for
 * the client's loop), the route table and the published buffers. */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "diff_export.h"
#include "util.h"

#define SERVE_WAIT_MS       2000   /* a request waits this long for a fresh profile */
#define SERVE_MAX_CONNS     256
#define SERVE_CONN_TIMEOUT  10     /* seconds an idle connection is kept */
#define SERVE_CONN_MEMORY   (32 * 1024)  /* per connection: larger headers get 431/413 */

struct serve {
    struct MHD_Daemon *daemon;
    int                fd;
    char               url[128];
    pthread_mutex_t    lock;       /* guards everything below */
    pthread_cond_t     published;  /* broadcast by serve_publish and serve_free */
    uint64_t           wanted;     /* tickets handed to requests */
    uint64_t           served;     /* the newest ticket answered */
    uint8_t           *pprof;
    size_t             pprof_len;
    char              *metrics;
    size_t             metrics_len;
    bool               stopping;
};

/* ---- the address ------------------------------------------------------------------------------ */

/* Splits "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT"; an empty host is loopback. */
static int serve_split(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(spec, ':');
    const char *p = colon ? colon + 1 : spec;
    size_t hl = colon ? (size_t)(colon - spec) : 0;
    const char *h = spec;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hostlen || strlen(p) >= portlen || !*p)
        return -1;
    for (const char *c = p; *c; c++)
        if (*c < '0' || *c > '9')
            return -1;
    if (strtol(p, NULL, 10) > 65535)
        return -1;
    snprintf(host, hostlen, "%.*s", (int)hl, hl ? h : "127.0.0.1");
    snprintf(port, portlen, "%s", p);
    return 0;
}

/* A listening socket on spec, or -1 with err filled. */
static int serve_listen(const char *spec, char *url, size_t urllen, int *family, char *err, size_t errlen)
{
    char host[256], port[16];
    if (serve_split(spec, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(err, errlen, "--serve %s: expected ADDR:PORT (e.g. 127.0.0.1:6060)", spec);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "--serve %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "--serve %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    *family = ai->ai_family;
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    char addr[INET6_ADDRSTRLEN] = "?";
    unsigned bound = 0;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0) {
        if (sa.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
            inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
            bound = ntohs(s6->sin6_port);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
            inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
            bound = ntohs(s4->sin_port);
        }
    }
    snprintf(url, urllen, *family == AF_INET6 ? "http://[%s]:%u" : "http://%s:%u", addr, bound);
    return fd;
}

/* ---- requests -------------------------------------------------------------------------------------- */

typedef enum serve_what { SERVE_PPROF, SERVE_METRICS, SERVE_INDEX } serve_what;

typedef struct serve_route {
    const char *path;
    serve_what  what;
    const char *content_type;
} serve_route;

static const serve_route serve_routes[] = {
    {"/debug/pprof/heap", SERVE_PPROF, "application/octet-stream"},
    {"/metrics", SERVE_METRICS, "text/plain; version=0.0.4; charset=utf-8"},
    {"/", SERVE_INDEX, "text/plain; charset=utf-8"},
};

static enum MHD_Result serve_reply(struct MHD_Connection *c, unsigned status, const char *type,
                                   void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    return serve_reply(c, status, "text/plain; charset=utf-8", (void *)text, strlen(text), MHD_RESPMEM_PERSISTENT);
}

/* Waits until the loop published for this request, then copies the
 * buffer asked for. NULL when nothing could be published in time. */
static void *serve_fresh(serve *s, serve_what what, size_t *len)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += SERVE_WAIT_MS / 1000;
    deadline.tv_nsec += (long)(SERVE_WAIT_MS % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->lock);
    uint64_t ticket = ++s->wanted;
    while (s->served < ticket && !s->stopping)
        if (pthread_cond_timedwait(&s->published, &s->lock, &deadline) == ETIMEDOUT)
            break;   /* the loop is busy: the last profile is better than none */
    const void *src = what == SERVE_PPROF ? (const void *)s->pprof : s->metrics;
    *len = what == SERVE_PPROF ? s->pprof_len : s->metrics_len;
    void *copy = src ? malloc(*len ? *len : 1) : NULL;
    if (copy)
        memcpy(copy, src, *len);
    pthread_mutex_unlock(&s->lock);
    return copy;
}

static enum MHD_Result serve_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                    const char *version, const char *upload_data, size_t *upload_size,
                                    void **con_cls)
{
    (void)version;
    (void)upload_data;
    static int started;
    if (!*con_cls) {      /* headers only so far: answer once the request is complete */
        *con_cls = &started;
        return MHD_YES;
    }
    if (*upload_size) {   /* a body we do not want: drop it */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return serve_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    const serve_route *route = NULL;
    for (size_t i = 0; i < sizeof(serve_routes) / sizeof(serve_routes[0]); i++)
        if (strcmp(url, serve_routes[i].path) == 0)
            route = &serve_routes[i];
    if (!route)
        return serve_text(c, MHD_HTTP_NOT_FOUND, "not found: leaktop serves /debug/pprof/heap and /metrics\n");
    if (route->what == SERVE_INDEX)
        return serve_text(c, MHD_HTTP_OK, "leaktop: /debug/pprof/heap (the live heap as pprof), /metrics (Prometheus)\n");
    size_t len = 0;
    void *body = serve_fresh(cls, route->what, &len);
    if (!body)
        return serve_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot of the program yet\n");
    return serve_reply(c, MHD_HTTP_OK, route->content_type, body, len, MHD_RESPMEM_MUST_FREE);
}

/* ---- the server's life ------------------------------------------------------------------------------- */

serve *serve_start(const char *spec, char *err, size_t errlen)
{
    serve *s = xcalloc(1, sizeof(*s));
    int family = AF_INET;
    s->fd = serve_listen(spec, s->url, sizeof(s->url), &family, err, errlen);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->published, &ca);
    pthread_condattr_destroy(&ca);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, serve_handle, s,
                                 MHD_OPTION_LISTEN_SOCKET, s->fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_MAX_CONNS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_CONN_TIMEOUT,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_CONN_MEMORY,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "--serve %s: the HTTP server could not start", spec);
        close(s->fd);
        pthread_cond_destroy(&s->published);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void serve_free(serve *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->published);
    pthread_mutex_unlock(&s->lock);
    MHD_stop_daemon(s->daemon);
    close(s->fd);
    pthread_cond_destroy(&s->published);
    pthread_mutex_destroy(&s->lock);
    free(s->pprof);
    free(s->metrics);
    free(s);
}

const char *serve_url(const serve *s)
{
    return s->url;
}

uint64_t serve_pending(serve *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t t = s->wanted > s->served ? s->wanted : 0;
    pthread_mutex_unlock(&s->lock);
    return t;
}

bool serve_answer(serve *s, watch *w, const diff_snapshot *base)
{
    uint64_t ticket = s ? serve_pending(s) : 0;
    if (!ticket)
        return false;
    session_health health;
    watch_health(w, &health);
    serve_figures fig = {
        .pid = (int)watch_pid(w), .traces_dropped = health.traces_dropped, .attached = !watch_launched(w),
    };
    diff_snapshot *snap = watch_snapshot(w, "serve");
    serve_publish(s, ticket, snap, base, &fig);
    diff_snapshot_free(snap);
    return true;
}

/* One Prometheus gauge, with its HELP and TYPE lines. */
static void metric(FILE *f, const char *name, const char *help, const char *type, int pid, int64_t v)
{
    fprintf(f, "# HELP leaktop_%s %s\n# TYPE leaktop_%s %s\nleaktop_%s{pid=\"%d\"} %" PRId64 "\n", name, help,
            name, type, name, pid, v);
}

static char *serve_metrics(const diff_snapshot *cur, const diff_snapshot *base, const serve_figures *fig,
                           size_t *len)
{
    int64_t size, count, bsize = 0, bcount = 0;
    diff_snapshot_totals(cur, &size, &count);
    if (base)
        diff_snapshot_totals(base, &bsize, &bcount);
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    const char *since = fig->attached ? " (since attach)" : "";
    char help[160];
    snprintf(help, sizeof(help), "Bytes in the live blocks the tracer follows%s.", since);
    metric(f, "traced_bytes", help, "gauge", fig->pid, size);
    snprintf(help, sizeof(help), "Live blocks the tracer follows%s.", since);
    metric(f, "traced_blocks", help, "gauge", fig->pid, count);
    metric(f, "since_baseline_bytes", "Traced bytes now minus at the baseline (the first mark, or empty).",
           "gauge", fig->pid, size - bsize);
    metric(f, "since_baseline_blocks", "Traced blocks now minus at the baseline.", "gauge", fig->pid,
           count - bcount);
    int64_t rsize, rcount;
    if (diff_retained_totals(cur, base, &rsize, &rcount)) {   /* absent when not known, never a guess */
        metric(f, "retained_bytes", "Bytes of the live blocks allocated since the baseline (exact).", "gauge",
               fig->pid, rsize);
        metric(f, "retained_blocks", "Live blocks allocated since the baseline.", "gauge", fig->pid, rcount);
    }
    metric(f, "traces_dropped_total", "Allocations charged to <unknown>: the trace table was full.", "counter",
           fig->pid, (int64_t)fig->traces_dropped);
    metric(f, "sample_bytes", "Mean sampling interval in bytes: 0 when exact, else every figure is an estimate.",
           "gauge", fig->pid, (int64_t)diff_snapshot_sample_bytes(cur));
    fclose(f);
    return buf;
}

void serve_publish(serve *s, uint64_t ticket, const diff_snapshot *cur, const diff_snapshot *base,
                   const serve_figures *fig)
{
    uint8_t *pprof = NULL;
    size_t pprof_len = 0, metrics_len = 0;
    char err[256];
    if (diff_export_pprof(cur, NULL, &pprof, &pprof_len, err, sizeof(err)) != 0)
        pprof = NULL;   /* out of memory: the last profile stays */
    char *metrics = serve_metrics(cur, base, fig, &metrics_len);
    pthread_mutex_lock(&s->lock);
    if (pprof) {
        free(s->pprof);
        s->pprof = pprof;
        s->pprof_len = pprof_len;
    }
    if (metrics) {
        free(s->metrics);
        s->metrics = metrics;
        s->metrics_len = metrics_len;
    }
    if (ticket > s->served)
        s->served = ticket;
    pthread_cond_broadcast(&s->published);
    pthread_mutex_unlock(&s->lock);
}
