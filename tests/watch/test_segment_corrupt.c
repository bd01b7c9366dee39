/* test_segment_corrupt: the frontend reads a segment another process wrote,
 * so a corrupt or hostile one must never crash it, and must not make it
 * read wrong numbers. Captures a real segment from a traced fixture run,
 * then damages copies of it (random bytes, header fields, index/store/ring
 * words, truncation) and reads each one through the session as leaktop
 * would: open, live snapshot, ring marks. Asserts: the pristine copy reads
 * the counters exactly (their sum, computed here from the raw layout) and
 * every mark in the ring; a damaged copy is either refused with a message
 * or read; and when the damage spared the header and the counters (trace
 * index, trace store, modules, ring), the live totals are still exact:
 * a broken record costs its frames, never its bytes.
 * Usage: test_segment_corrupt TRACER FIXTURE [ITERATIONS] */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "lt_shm.h"
#include "segread.h"
#include "session.h"
#include "testrand.h"


/* Runs FIXTURE with the tracer and a small segment; returns its pid. */
static pid_t run_traced(const char *tracer, const char *fixture)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("LD_PRELOAD", tracer, 1);
        setenv("LEAKTOP_MAX_TRACES", "1024", 1);
        unsetenv("LEAKTOP_PID");
        execl(fixture, fixture, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "fixture failed\n");
        exit(1);
    }
    return pid;
}

/* "/leaktop-<uid>-<pid>-": the tracer adds a random suffix. */
static void segment_prefix(pid_t pid, char *buf, size_t len)
{
    snprintf(buf, len, "%s%u-%d-", LT_SHM_PREFIX, (unsigned)geteuid(), (int)pid);
}

static uint8_t *slurp_segment(pid_t pid, size_t *len)
{
    char prefix[64], name[320] = "";
    segment_prefix(pid, prefix, sizeof(prefix));
    DIR *d = opendir(LT_SHM_DIR);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            snprintf(name, sizeof(name), "/%s", e->d_name);
    if (d)
        closedir(d);
    int fd = *name ? shm_open(name, O_RDONLY, 0) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "no segment %s*: %s\n", prefix, strerror(errno));
        exit(1);
    }
    uint8_t *buf = malloc((size_t)st.st_size);
    if (!buf || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
        fprintf(stderr, "cannot read the segment\n");
        exit(1);
    }
    close(fd);
    shm_unlink(name);
    *len = (size_t)st.st_size;
    return buf;
}

static void fake_name(pid_t fake, char *name, size_t len)
{
    char prefix[64];
    segment_prefix(fake, prefix, sizeof(prefix));
    snprintf(name, len, "/%s0123456789abcdef", prefix);
}

static void write_segment(pid_t fake, const uint8_t *buf, size_t len)
{
    char name[96];
    fake_name(fake, name, sizeof(name));
    shm_unlink(name);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
        fprintf(stderr, "cannot write a test segment: %s\n", strerror(errno));
        exit(1);
    }
    close(fd);
}

/* Damage aimed where a reader trusts the writer: header words, the trace
 * index, record headers, ring slot headers; plus plain random bytes. */
enum { DAMAGE_HEADER, DAMAGE_INDEX, DAMAGE_STORE, DAMAGE_RING, DAMAGE_MODULES, DAMAGE_BOUNDS, DAMAGE_ANYWHERE };

static size_t corrupt(uint8_t *buf, size_t len, const lt_shm_header *h, int *kind_out)
{
    int kind = (int)(test_rand() % 7);
    *kind_out = kind;
    size_t n = 1 + test_rand() % 8;
    for (size_t i = 0; i < n; i++) {
        size_t at;
        switch (kind) {
        case DAMAGE_HEADER: at = test_rand() % sizeof(lt_shm_header); break;
        case DAMAGE_INDEX: at = h->index_off + (test_rand() % 64) * 8; break;
        case DAMAGE_STORE: at = h->store_off + test_rand() % 4096; break;
        case DAMAGE_RING: at = h->ring_off + (test_rand() % h->ring_slots) * h->ring_slot_size + test_rand() % 128; break;
        case DAMAGE_MODULES: at = h->modules_off + test_rand() % (4 * sizeof(lt_module)); break;
        case DAMAGE_BOUNDS: {
            /* the words that bound reads: counts, committed extents, marks, exec */
            static const size_t words[] = {
                offsetof(lt_shm_header, ntraces), offsetof(lt_shm_header, traces_committed),
                offsetof(lt_shm_header, tslots_hwm), offsetof(lt_shm_header, ring_head),
                offsetof(lt_shm_header, nmodules), offsetof(lt_shm_header, exec_pending),
                offsetof(lt_shm_header, mark_done), offsetof(lt_shm_header, full_flags),
            };
            at = words[test_rand() % (sizeof(words) / sizeof(words[0]))] + test_rand() % 4;
            break;
        }
        default: at = test_rand() % len; break;
        }
        if (at < len)
            buf[at] = (uint8_t)test_rand();
    }
    if (test_rand() % 10 == 0)
        return test_rand() % len;  /* truncated */
    return len;
}

/* The live totals straight from the raw layout: what any exact reader
 * must find. */
static void raw_totals(const uint8_t *seg, const lt_shm_header *h, int64_t *size, int64_t *count)
{
    uint32_t n = h->ntraces < h->traces_cap ? h->ntraces : h->traces_cap;
    lt_counter *c = calloc(n ? n : 1, sizeof(*c));
    lt_live_view v = seg_live_view(seg);
    lt_totals_read(&v, c, n);
    *size = *count = 0;
    for (uint32_t i = 0; i < n; i++) {
        *size += c[i].size;
        *count += c[i].count;
    }
    free(c);
}

/* Reads the ring's marks; returns how many. */
static int read_marks(session *s)
{
    uint64_t skipped;
    bool requested;
    diff_snapshot *snap;
    int n = 0;
    while (n < 64 && (snap = session_next_mark(s, &skipped, &requested)) != NULL) {
        CHECK(diff_snapshot_ntraces(snap) <= 1u << 24);
        diff_snapshot_free(snap);
        n++;
    }
    return n;
}

/* A trace store smaller than one record once made a bound underflow and
 * every index entry look valid: refused at open. */
static void store_too_small(lt_shm_header *h) { h->store_size = 8; }
/* The previous layout (before the sampling interval joined the header). */
static void older_layout(lt_shm_header *h) { h->version = LT_SHM_VERSION - 1; }
/* No tracer samples more sparsely than LEAKTOP_SAMPLE's bound, 1 TiB. */
static void sample_interval_absurd(lt_shm_header *h) { h->sample_bytes = 1ULL << 41; }

static void header_change_is_refused(const uint8_t *pristine, size_t len, pid_t fake,
                                     void (*change)(lt_shm_header *), const char *why)
{
    uint8_t *work = malloc(len);
    memcpy(work, pristine, len);
    change((lt_shm_header *)work);
    write_segment(fake, work, len);
    char err[256] = "";
    bool missing;
    session *s = session_open(fake, NULL, &missing, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(strstr(err, why) != NULL && !strchr(err, '\n'));
    session_free(s);
    free(work);
}

/* A sampled segment's counts are in 1/LT_SAMPLE_ONE blocks: the session
 * divides them (rounding each trace's) and marks the snapshot sampled. */
static void sampled_segment_reads_estimates(const uint8_t *pristine, size_t len, pid_t fake,
                                            int64_t want_size, int64_t want_count)
{
    uint8_t *work = malloc(len);
    memcpy(work, pristine, len);
    ((lt_shm_header *)work)->sample_bytes = 4096;
    write_segment(fake, work, len);
    char err[256] = "";
    bool missing;
    session *s = session_open(fake, NULL, &missing, err, sizeof(err));
    CHECK(s != NULL);
    if (s) {
        diff_snapshot *snap = session_snapshot_live(s, "live");
        int64_t size, count;
        diff_snapshot_totals(snap, &size, &count);
        CHECK_INT(size, want_size);
        CHECK(count < want_count);  /* round(c / 65536) < c for every c >= 1: divided */
        CHECK_INT((int64_t)diff_snapshot_sample_bytes(snap), 4096);
        diff_snapshot_free(snap);
    }
    session_free(s);
    free(work);
}

/* The file shrinks under the mapping (someone truncated it): reading past
 * its end was a SIGBUS. Now the reads see zeros and the session says so. */
static void truncated_while_mapped_reads_without_sigbus(const uint8_t *pristine, size_t len, pid_t fake,
                                                        int64_t want_count)
{
    write_segment(fake, pristine, len);
    char err[256] = "", name[96];
    bool missing;
    session *s = session_open(fake, NULL, &missing, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    diff_snapshot *before = session_snapshot_live(s, "before");
    int64_t size, count;
    diff_snapshot_totals(before, &size, &count);
    CHECK_INT(count, want_count);
    CHECK(!session_truncated(s));
    diff_snapshot_free(before);
    fake_name(fake, name, sizeof(name));
    int fd = shm_open(name, O_RDWR, 0);
    CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
    if (fd >= 0)
        close(fd);
    diff_snapshot *after = session_snapshot_live(s, "after");   /* SIGBUS before the guard */
    CHECK(after != NULL);
    CHECK(session_truncated(s));
    diff_snapshot_free(after);
    read_marks(s);
    session_free(s);
}

int main(int argc, char **argv)
{
    test_rand_seed(0x243f6a8885a308d3ULL);
    if (argc < 3)
        return 2;
    int iterations = argc > 3 ? atoi(argv[3]) : 400;
    pid_t pid = run_traced(argv[1], argv[2]);
    size_t len;
    uint8_t *pristine = slurp_segment(pid, &len);
    lt_shm_header h;
    memcpy(&h, pristine, sizeof(h));
    if (h.magic != LT_SHM_MAGIC) {
        fprintf(stderr, "the captured segment is not valid to start with\n");
        return 1;
    }
    int64_t want_size, want_count;
    raw_totals(pristine, &h, &want_size, &want_count);
    CHECK(want_count > 0);
    uint8_t *work = malloc(len);
    pid_t fake = 4194000 - (getpid() % 1000);  /* a pid name nobody uses */
    ((lt_shm_header *)pristine)->writer_pid = fake;  /* the name and the header must agree */
    int opened = 0, refused = 0, exact = 0;
    for (int i = 0; i < iterations; i++) {
        memcpy(work, pristine, len);
        int kind = DAMAGE_ANYWHERE;
        size_t n = i == 0 ? len : corrupt(work, len, &h, &kind);
        write_segment(fake, work, n);
        char err[256] = "";
        bool missing;
        session *s = session_open(fake, NULL, &missing, err, sizeof(err));
        if (!s) {
            CHECK(i != 0);                        /* the pristine copy opens */
            CHECK(err[0] && !strchr(err, '\n'));  /* one line says why */
            refused++;
            continue;
        }
        opened++;
        diff_snapshot *snap = session_snapshot_live(s, "live");
        CHECK(snap != NULL);
        int64_t size, count;
        diff_snapshot_totals(snap, &size, &count);
        bool spared = n == len && kind != DAMAGE_HEADER && kind != DAMAGE_BOUNDS && kind != DAMAGE_ANYWHERE;
        if (i == 0 || spared) {
            CHECK_INT(size, want_size);
            CHECK_INT(count, want_count);
            exact++;
        }
        diff_snapshot_free(snap);
        int marks = read_marks(s);
        if (i == 0)
            CHECK_INT(marks, (int64_t)(h.ring_head < h.ring_slots ? h.ring_head : h.ring_slots));
        session_health health;
        session_health_get(s, &health);
        char path[300];
        (void)session_left_tracing(s, path, sizeof(path));
        session_free(s);
    }
    header_change_is_refused(pristine, len, fake, store_too_small, "trace store too small");
    header_change_is_refused(pristine, len, fake, older_layout, "unsupported segment layout version");
    header_change_is_refused(pristine, len, fake, sample_interval_absurd, "sampling interval out of range");
    sampled_segment_reads_estimates(pristine, len, fake, want_size, want_count);
    truncated_while_mapped_reads_without_sigbus(pristine, len, fake, want_count);
    char name[96];
    fake_name(fake, name, sizeof(name));
    shm_unlink(name);
    free(work);
    free(pristine);
    printf("%d damaged segments: %d opened and read (%d checked exact: %lld B in %lld blocks), %d refused\n",
           iterations, opened, exact, (long long)want_size, (long long)want_count, refused);
    /* Damage must be refused sometimes, and survive exactly sometimes. */
    CHECK(refused > 0);
    CHECK(exact > 1);
    return check_report("test_segment_corrupt");
}
