/* test_sym_api.c: the public interface of symbols/ on live addresses, the
 * way the frontend uses it: modules published as the tracer publishes them
 * (dl_iterate_phdr: path, bias, PT_LOAD range), return addresses captured
 * in this PIE executable and in a shared library; plus module generations,
 * addresses in no module, `max` limits and bad arguments.
 *
 * usage: test_sym_api FIX_LIB_SOURCE FIXTURE BUILD_ID_FILE DEBUG_ROOT
 *   FIX_LIB_SOURCE: to find the @lib-callback line; FIXTURE: fix_inline_O2;
 *   BUILD_ID_FILE: its build-id in hex; DEBUG_ROOT: a debug directory with
 *   .build-id/xx/rest.debug for it. */
#define _GNU_SOURCE
#include "sym.h"

#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

void *fixlib_call(void *(*fn)(void));

static const char *base_name(const char *p)
{
    const char *s = p != NULL ? strrchr(p, '/') : NULL;
    return s != NULL ? s + 1 : p;
}

static unsigned marker_line(const char *path, const char *marker)
{
    FILE *f = fopen(path, "r");
    char buf[512];
    unsigned n = 0, found = 0;
    while (f != NULL && fgets(buf, sizeof buf, f) != NULL) {
        n++;
        if (strstr(buf, marker) != NULL) {
            found = n;
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    return found;
}

/* ---- publishing modules like the tracer ---- */

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    sym_resolver *r = arg;
    static uint32_t index;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        lo = a < lo ? a : lo;
        hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
    }
    char exe[4096];
    const char *path = info->dlpi_name;
    if (path == NULL || path[0] == '\0') {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return 0;
        exe[n] = '\0';
        path = exe;
    }
    if (lo >= hi)
        return 0;
    sym_module m = {.path = path, .bias = info->dlpi_addr, .lo = lo, .hi = hi,
                    .gen_loaded = 0, .gen_unloaded = UINT32_MAX};
    CHECK_MSG(sym_resolver_set_module(r, index++, &m) == 0, "set_module %s", path);
    return 0;
}

__attribute__((noinline)) static void *capture(void)
{
    void *ra = __builtin_return_address(0);
    __asm__ volatile("" ::: "memory"); /* no tail call, no folding */
    return ra;
}

static void test_live_addresses(const char *lib_source)
{
    sym_resolver *r = sym_resolver_new(NULL, 0);
    dl_iterate_phdr(add_module, r);

    uint64_t ra = (uint64_t)capture(); unsigned want = __LINE__;
    sym_frame f[8];
    int n = sym_resolve(r, ra, 0, f, 8);
    CHECK_MSG(n >= 1, "resolve own address");
    CHECK_MSG(f[n - 1].function && strcmp(f[n - 1].function, "test_live_addresses") == 0,
          "own function: %s", f[n - 1].function);
    CHECK_MSG(f[0].file && strcmp(base_name(f[0].file), "test_sym_api.c") == 0 &&
          f[0].file[0] == '/', "own file: %s", f[0].file);
    CHECK_MSG(f[0].line == want, "own line %u, want %u", f[0].line, want);
    CHECK_MSG(f[0].module && strcmp(base_name(f[0].module), "test_sym_api") == 0,
          "own module: %s", f[0].module);

    uint64_t lra = (uint64_t)fixlib_call(capture);
    n = sym_resolve(r, lra, 0, f, 8);
    CHECK_MSG(n >= 1 && f[0].function && strcmp(f[0].function, "fixlib_call") == 0,
          "library function: %s", n >= 1 ? f[0].function : "-");
    CHECK_MSG(f[0].file && strcmp(base_name(f[0].file), "fix_lib.c") == 0,
          "library file: %s", f[0].file);
    CHECK_MSG(f[0].line == marker_line(lib_source, "@lib-callback"),
          "library line %u", f[0].line);
    CHECK_MSG(f[0].module && strstr(f[0].module, "libfixlib.so") != NULL,
          "library module: %s", f[0].module);
    CHECK_MSG(f[0].offset < lra, "library offset is relative: %#llx",
          (unsigned long long)f[0].offset);

    /* Strings are interned: resolving again returns the same pointers. */
    sym_frame g[8];
    sym_resolve(r, lra, 0, g, 8);
    CHECK_MSG(g[0].function == f[0].function && g[0].file == f[0].file,
          "interned strings are stable");
    sym_resolver_free(r);
}

/* ---- generations, missing modules, limits ---- */

static void test_generations(void)
{
    sym_resolver *r = sym_resolver_new(NULL, 0);
    sym_module old = {.path = "/nonexistent/old.so", .bias = 0x7000,
                      .lo = 0x8000, .hi = 0x9000, .gen_loaded = 1,
                      .gen_unloaded = 4};
    sym_module cur = {.path = "/nonexistent/new.so", .bias = 0x6000,
                      .lo = 0x8000, .hi = 0x9000, .gen_loaded = 4,
                      .gen_unloaded = UINT32_MAX};
    CHECK_MSG(sym_resolver_set_module(r, 0, &old) == 0, "set old");
    CHECK_MSG(sym_resolver_set_module(r, 3, &cur) == 0, "set new (sparse index)");

    sym_frame f[4];
    int n = sym_resolve(r, 0x8123, 2, f, 4);
    CHECK_MSG(n == 1 && f[0].module && strcmp(f[0].module, old.path) == 0,
          "gen 2 -> old module: %s", f[0].module);
    CHECK_MSG(f[0].offset == 0x8123 - 0x7000, "offset = ra - bias: %#llx",
          (unsigned long long)f[0].offset);
    CHECK_MSG(f[0].function == NULL && f[0].file == NULL && f[0].line == 0,
          "unreadable module: nothing but module and offset");
    CHECK_MSG(sym_resolver_last_error(r) &&
              strstr(sym_resolver_last_error(r), old.path) != NULL,
          "last error names the file: %s", sym_resolver_last_error(r));

    n = sym_resolve(r, 0x8123, 7, f, 4);
    CHECK_MSG(n == 1 && f[0].module && strcmp(f[0].module, cur.path) == 0,
          "gen 7 -> new module: %s", f[0].module);
    CHECK_MSG(f[0].offset == 0x8123 - 0x6000, "new offset");

    /* A trace from before any module held the address (a library's
     * constructors allocate inside dlopen): the module loaded soonest
     * after, not a later one. */
    n = sym_resolve(r, 0x8123, 0, f, 4);
    CHECK_MSG(n == 1 && f[0].module && strcmp(f[0].module, old.path) == 0,
          "gen 0 -> the module loaded soonest after: %s", f[0].module);

    /* The return address is looked up at address-1: hi itself belongs. */
    n = sym_resolve(r, 0x9000, 7, f, 4);
    CHECK_MSG(n == 1 && f[0].module != NULL, "return address == hi is inside");
    n = sym_resolve(r, 0x8000, 7, f, 4);
    CHECK_MSG(n == 1 && f[0].module == NULL, "return address == lo is outside");

    n = sym_resolve(r, 0x1234, 7, f, 4);
    CHECK_MSG(n == 1 && f[0].module == NULL && f[0].offset == 0x1234 &&
              f[0].function == NULL && f[0].file == NULL && !f[0].inlined,
          "no module: one frame, offset = address");
    CHECK_MSG(sym_resolve(r, 0, 7, f, 4) == 1 && f[0].module == NULL,
          "address 0");
    CHECK_MSG(sym_resolve(r, 0x8123, 7, f, 0) == 0, "max 0 writes nothing");

    /* Updating an index replaces the module. */
    cur.lo = 0xa000;
    cur.hi = 0xb000;
    CHECK_MSG(sym_resolver_set_module(r, 3, &cur) == 0, "update");
    n = sym_resolve(r, 0x8123, 7, f, 4);
    CHECK_MSG(n == 1 && f[0].module == NULL, "old range gone after update");

    sym_module bad = {.path = NULL};
    CHECK_MSG(sym_resolver_set_module(r, 1, &bad) == -EINVAL, "NULL path");
    CHECK_MSG(sym_resolver_set_module(r, 1, NULL) == -EINVAL, "NULL module");
    sym_resolver_free(r);
    sym_resolver_free(NULL);
}

/* An inline chain cut by `max`: the innermost frames come first. */
static void test_max_cuts_chain(const char *fixture)
{
    sym_resolver *r = sym_resolver_new(NULL, 0);
    sym_module m = {.path = fixture, .lo = 0, .hi = UINT64_MAX,
                    .gen_unloaded = UINT32_MAX};
    sym_resolver_set_module(r, 0, &m);
    sym_frame all[16], one[1];
    int found = 0;
    /* Scan the fixture's code for an address inside an inline chain. */
    for (uint64_t a = 0x1000; a < 0x3000 && !found; a++) {
        int n = sym_resolve(r, a, 0, all, 16);
        if (n < 3)
            continue;
        found = 1;
        CHECK_MSG(all[0].inlined && !all[n - 1].inlined, "chain flags");
        CHECK_MSG(sym_resolve(r, a, 0, one, 1) == 1, "max 1 gives 1 frame");
        CHECK_MSG(one[0].function == all[0].function && one[0].line == all[0].line,
              "max 1 keeps the innermost frame");
    }
    CHECK_MSG(found, "an inlined address in %s", fixture);
    sym_resolver_free(r);
}

static size_t read_build_id(const char *path, uint8_t *id, size_t max)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    unsigned byte;
    while (f != NULL && n < max && fscanf(f, "%2x", &byte) == 1)
        id[n++] = (uint8_t)byte;
    if (f != NULL)
        fclose(f);
    return n;
}

/* The function name at the fixture's fix_plain malloc site, found by
 * scanning, or NULL when nothing resolves to fix_plain. */
static const char *find_plain(sym_resolver *r, uint32_t *line)
{
    sym_frame f[16];
    for (uint64_t a = 0x1000; a < 0x3000; a++) {
        int n = sym_resolve(r, a, 0, f, 16);
        if (n >= 1 && f[n - 1].function &&
            strcmp(f[n - 1].function, "fix_plain") == 0) {
            *line = f[0].line;
            return f[n - 1].function;
        }
    }
    return NULL;
}

/* The tracer's build-id decides: a replaced file is not trusted, and a
 * missing file is found through the debug directory's .build-id tree. */
static void test_build_ids(const char *fixture, const char *id_file,
                           const char *debug_root)
{
    uint8_t id[32];
    size_t idlen = read_build_id(id_file, id, sizeof id);
    CHECK_MSG(idlen >= 16, "build-id of %s", fixture);
    uint32_t line = 0;

    sym_resolver *r = sym_resolver_new(NULL, 0);
    sym_module m = {.path = fixture, .hi = UINT64_MAX,
                    .gen_unloaded = UINT32_MAX, .build_id = id,
                    .build_id_len = idlen};
    sym_resolver_set_module(r, 0, &m);
    CHECK_MSG(find_plain(r, &line) != NULL && line > 0, "matching build-id");
    sym_resolver_free(r);

    uint8_t other[20];
    memset(other, 0xab, sizeof other);
    r = sym_resolver_new(&debug_root, 1);
    m.build_id = other;
    m.build_id_len = sizeof other;
    sym_resolver_set_module(r, 0, &m);
    CHECK_MSG(find_plain(r, &line) == NULL, "replaced file is not used");
    CHECK_MSG(sym_resolver_last_error(r) &&
              strstr(sym_resolver_last_error(r), "build-id differs"),
          "replaced file reported: %s", sym_resolver_last_error(r));
    sym_resolver_free(r);

    r = sym_resolver_new(&debug_root, 1);
    m.path = "/nonexistent/deleted/fix_inline_O2";
    m.build_id = id;
    m.build_id_len = idlen;
    sym_resolver_set_module(r, 0, &m);
    CHECK_MSG(find_plain(r, &line) != NULL && line > 0,
          "deleted file resolved through its build-id");
    sym_resolver_free(r);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: test_sym_api FIX_LIB_SOURCE FIXTURE "
                        "BUILD_ID_FILE DEBUG_ROOT\n");
        return 2;
    }
    test_live_addresses(argv[1]);
    test_generations();
    test_max_cuts_chain(argv[2]);
    test_build_ids(argv[2], argv[3], argv[4]);
    return check_report("test_sym_api");
}
