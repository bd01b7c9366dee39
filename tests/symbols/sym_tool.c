/* sym_tool.c: command-line driver of the symbols/ library, for tests and
 * by hand: registers one module and prints the frames of each address as
 * "function<TAB>file<TAB>line<TAB>inlined" lines ("??" when unknown).
 *
 *   sym_tool [-a] [-e] [-s] [-i] [-m] [-B] [-D MS] [-b BIAS] [-d DEBUGDIR]...
 *            MODULE [ADDR...]
 *
 * ADDR are return addresses (hex or decimal); with none, they are read from
 * stdin, one per line. -b: the module's load bias (default 0, i.e. the
 * addresses are ELF vaddrs). -a: print "ADDR" before each address's frames.
 * -e: print the resolver's last error to stderr. -s: print resolution time
 * and peak memory to stderr. -i: read DWARF in this process rather than in
 * a child (for sanitizer and leak checks of the DWARF reader). -D: fetch
 * missing debug files from debuginfod (DEBUGINFOD_URLS), each fetch
 * bounded by MS milliseconds. -B: register the module with the build-id
 * of its file (as the tracer does; debuginfod then starts fetching at
 * registration). -W: do not wait for a fetch: frames resolved before it
 * answers are printed with a trailing "\tpending" and asked again at the
 * end (after a second's pause per round, up to the bound) until none is.
 * -m: print where the module's debug info came from
 * ("module: ORIGIN [DEBUGFILE] [dwz]") to stderr at the end. */
#include "sym.h"
#include "sym_internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAMES 64
#define MAX_DIRS   16

typedef struct tool_opts {
    bool        print_addr, print_error, print_stats, in_process;
    bool        print_module, with_build_id, no_wait;
    unsigned    debuginfod_ms;
    uint64_t    bias;
    const char *dirs[MAX_DIRS];
    size_t      ndirs;
} tool_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_frames(uint64_t addr, const sym_frame *f, int n,
                         bool print_addr)
{
    if (print_addr)
        printf("0x%" PRIx64 "\n", addr);
    for (int i = 0; i < n; i++)
        printf("%s\t%s\t%" PRIu32 "\t%d\n", f[i].function ? f[i].function : "??",
               f[i].file ? f[i].file : "??", f[i].line, f[i].inlined ? 1 : 0);
}

static double first_done; /* time when the first address (and the load) finished */

/* -W: every address resolved in rounds, a fifth of a second apart, until
 * no frame is pending (a debuginfod fetch under way) or `bound_ms` passed;
 * only the last round is printed. Says on stderr how long the first round
 * took and how many rounds there were. */
static int resolve_rounds(sym_resolver *r, const uint64_t *addrs, size_t n,
                          bool print_addr, unsigned bound_ms)
{
    double t0 = now_s(), first = 0;
    int rounds = 0;
    bool pending = true;
    sym_frame f[MAX_FRAMES];
    while (pending) {
        pending = false;
        rounds++;
        for (size_t i = 0; i < n; i++) {
            int k = sym_resolve(r, addrs[i], 0, f, MAX_FRAMES);
            pending |= k > 0 && f[0].pending;
        }
        if (rounds == 1)
            first = now_s() - t0;
        if (pending && (now_s() - t0) * 1000 > bound_ms + 1000)
            break;
        if (pending)
            usleep(200 * 1000);
    }
    for (size_t i = 0; i < n; i++) {
        int k = sym_resolve(r, addrs[i], 0, f, MAX_FRAMES);
        print_frames(addrs[i], f, k, print_addr);
    }
    fprintf(stderr, "sym_tool: first round %.3f s, %d rounds\n", first, rounds);
    return 0;
}

static int read_addrs(int argc, char **argv, uint64_t **out, size_t *n)
{
    size_t cap = 0;
    char line[256];
    *n = 0;
    *out = NULL;
    for (int i = 0;; i++) {
        const char *text = argc > 0 ? (i < argc ? argv[i] : NULL)
                                    : fgets(line, sizeof line, stdin);
        if (text == NULL)
            return 0;
        if (text[0] == '\n')
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            *out = realloc(*out, cap * sizeof **out);
            if (*out == NULL)
                return -1;
        }
        (*out)[(*n)++] = strtoull(text, NULL, 0);
    }
}

static int resolve_one(sym_resolver *r, const char *text, bool print_addr,
                       size_t *count)
{
    char *end = NULL;
    uint64_t addr = strtoull(text, &end, 0);
    if (end == text) {
        fprintf(stderr, "sym_tool: bad address: %s\n", text);
        return -1;
    }
    sym_frame f[MAX_FRAMES];
    int n = sym_resolve(r, addr, 0, f, MAX_FRAMES);
    print_frames(addr, f, n, print_addr);
    if ((*count)++ == 0)
        first_done = now_s();
    return 0;
}

/* Peak RSS of this process image in KiB: VmHWM, since ru_maxrss carries
 * the pre-exec peak of whatever forked us (a Python test driver). */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

static size_t file_build_id(const char *path, uint8_t *out, size_t max)
{
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
    size_t n = elf != NULL ? sym_elf_build_id(elf, out, max) : 0;
    if (elf != NULL)
        elf_end(elf);
    if (fd >= 0)
        close(fd);
    return n;
}

static int parse_opts(int argc, char **argv, tool_opts *o)
{
    int c;
    while ((c = getopt(argc, argv, "aesimBWD:b:d:")) != -1) {
        switch (c) {
        case 'W': o->no_wait = true; break;
        case 'm': o->print_module = true; break;
        case 'B': o->with_build_id = true; break;
        case 'D': o->debuginfod_ms = (unsigned)strtoul(optarg, NULL, 0); break;
        case 'i': o->in_process = true; break;
        case 'a': o->print_addr = true; break;
        case 'e': o->print_error = true; break;
        case 's': o->print_stats = true; break;
        case 'b': o->bias = strtoull(optarg, NULL, 0); break;
        case 'd':
            if (o->ndirs < MAX_DIRS)
                o->dirs[o->ndirs++] = optarg;
            break;
        default: return -1;
        }
    }
    return optind < argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    tool_opts o = {0};
    if (parse_opts(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: sym_tool [-a] [-e] [-s] [-i] [-m] [-B] [-W] [-D MS] "
                        "[-b BIAS] [-d DEBUGDIR]... MODULE [ADDR...]\n");
        return 2;
    }
    sym_resolver *r = sym_resolver_new(o.dirs, o.ndirs);
    sym_resolver_set_in_process(r, o.in_process);
    sym_resolver_set_debuginfod(r, o.debuginfod_ms, !o.no_wait);
    sym_module m = {.path = argv[optind], .bias = o.bias, .lo = 0,
                    .hi = UINT64_MAX, .gen_loaded = 0,
                    .gen_unloaded = UINT32_MAX};
    uint8_t id[32];
    if (o.with_build_id) {
        m.build_id = id;
        m.build_id_len = file_build_id(m.path, id, sizeof id);
    }
    if (sym_resolver_set_module(r, 0, &m) != 0) {
        fprintf(stderr, "sym_tool: cannot register %s\n", m.path);
        return 2;
    }
    int rc = 0;
    size_t count = 0;
    double t0 = now_s();
    if (o.no_wait) {
        uint64_t *addrs;
        size_t n;
        rc = read_addrs(argc - optind - 1, argv + optind + 1, &addrs, &n);
        if (rc == 0)
            rc = resolve_rounds(r, addrs, n, o.print_addr, o.debuginfod_ms);
        free(addrs);
    } else if (optind + 1 < argc) {
        for (int i = optind + 1; i < argc; i++)
            rc |= resolve_one(r, argv[i], o.print_addr, &count);
    } else {
        char line[256];
        while (fgets(line, sizeof line, stdin) != NULL)
            if (line[0] != '\n')
                rc |= resolve_one(r, line, o.print_addr, &count);
    }
    double t1 = now_s();
    if (o.print_error && sym_resolver_last_error(r) != NULL)
        fprintf(stderr, "sym_tool: %s\n", sym_resolver_last_error(r));
    sym_module_info mi;
    if (o.print_module && sym_resolver_module_info(r, 0, true, &mi) == 0)
        fprintf(stderr, "module: %s%s%s%s\n", mi.origin,
                mi.debug_path ? " " : "", mi.debug_path ? mi.debug_path : "",
                mi.dwz ? " dwz" : "");
    /* The DWARF readers are child processes living as long as the
     * resolver: their peak is known once they are reaped. */
    sym_resolver_free(r);
    if (o.print_stats) {
        struct rusage ch;
        getrusage(RUSAGE_CHILDREN, &ch);
        fprintf(stderr,
                "sym_tool: %zu addresses in %.3f s (first, with loading: "
                "%.3f s; the others: %.1f us each), peak RSS %ld MiB "
                "(DWARF reader process: %ld MiB)\n",
                count, t1 - t0, first_done - t0,
                count > 1 ? (t1 - first_done) * 1e6 / (double)(count - 1) : 0.0,
                peak_rss_kib() / 1024, ch.ru_maxrss / 1024);
    }
    return rc != 0 ? 1 : 0;
}
