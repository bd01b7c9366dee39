/* serve.h: `--serve ADDR:PORT` (PRODUCT.md §13): an HTTP endpoint with
 * libmicrohttpd serving /debug/pprof/heap (the live heap as pprof) and
 * /metrics (Prometheus text), for continuous profilers and scrapers.
 *
 * Threads: the server's own threads never touch the watch, the session
 * or the frame table. A request raises a ticket and waits (at most
 * SERVE_WAIT_MS) for the client's loop to publish: the loop sees the
 * ticket with serve_pending, takes a snapshot where the watch allows it,
 * and hands it to serve_publish, which formats it on the loop's thread and
 * swaps the finished buffers in under the server's lock. */
#ifndef LEAKTOP_SERVE_H
#define LEAKTOP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "watch.h"

typedef struct serve serve;

/* What the metrics say besides the snapshot's totals. */
typedef struct serve_figures {
    int         pid;
    uint64_t    traces_dropped;   /* allocations charged to <unknown> */
    bool        attached;         /* figures are since attach */
} serve_figures;

/* Binds ADDR:PORT ("127.0.0.1:6060", "[::1]:6060", "0.0.0.0:6060", or
 * ":6060" / "6060" for loopback; port 0 picks a free one) and starts the
 * server. NULL with err filled ("--serve SPEC: why", one line) when the
 * spec is bad or the address cannot be bound. */
serve *serve_start(const char *spec, char *err, size_t errlen);
/* Stops the server (requests in flight are answered or refused) and frees it. */
void   serve_free(serve *s);
/* The URL it listens on, e.g. "http://127.0.0.1:6060". */
const char *serve_url(const serve *s);

/* The client's loop: a ticket (non-zero) when a request waits for a
 * fresh profile, else 0. Cheap: call it at every turn of the loop. */
uint64_t serve_pending(serve *s);
/* Formats cur (and base for the since-baseline metrics; NULL = empty)
 * and answers the requests up to `ticket`. Runs on the caller's thread;
 * reads the snapshots' frame table, so call it where a compare could run. */
void     serve_publish(serve *s, uint64_t ticket, const diff_snapshot *cur, const diff_snapshot *base,
                       const serve_figures *fig);

/* Both of the above for a watch's program: when a request waits, takes
 * the watch's snapshot now and publishes it (base: the client's baseline,
 * NULL = empty). Call it on the watch's loop, where watch_snapshot may run.
 * True when it answered one. */
bool     serve_answer(serve *s, watch *w, const diff_snapshot *base);

#endif
