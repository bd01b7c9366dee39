/* sym_debugfile.c: finding an object's separate debug file the way gdb and
 * binutils do: by build-id under each debug directory, then by
 * .gnu_debuglink beside the object, in .debug/ beside it and under each
 * debug directory, checking the link's CRC32. */
#include "sym_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYM_SYSTEM_DEBUG_DIR "/usr/lib/debug"

/* CRC-32 (IEEE 802.3, reflected), as used by .gnu_debuglink. */
static void sym_crc32_table(uint32_t table[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t sym_crc32_update(const uint32_t table[256], uint32_t crc,
                                 const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Streams the file in fixed chunks: debug files can be gigabytes. */
uint32_t sym_crc32_fd(int fd, bool *ok)
{
    uint8_t buf[64 * 1024];
    uint32_t table[256];
    sym_crc32_table(table);
    uint32_t crc = 0;
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *ok = false;
            return 0;
        }
        if (n == 0)
            break;
        crc = sym_crc32_update(table, crc, buf, (size_t)n);
        off += n;
    }
    *ok = true;
    return crc;
}

int sym_open_regular(const char *path)
{
    /* O_NONBLOCK: a FIFO named by a hostile segment must not hang us. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Calls try(dir) for each extra debug directory, then the system one. */
typedef int (*sym_dir_try_fn)(const char *dir, void *arg, char **found);

static int sym_each_debug_dir(const sym_load_ctx *ctx, sym_dir_try_fn try,
                              void *arg, char **found)
{
    for (size_t i = 0; i < ctx->ndirs; i++) {
        if (ctx->debug_dirs[i] == NULL)
            continue;
        int fd = try(ctx->debug_dirs[i], arg, found);
        if (fd >= 0)
            return fd;
    }
    return try(SYM_SYSTEM_DEBUG_DIR, arg, found);
}

static int sym_try_path(const char *path, char **found)
{
    int fd = sym_open_regular(path);
    if (fd >= 0 && (*found = sym_strdup(path)) == NULL) {
        close(fd); /* out of memory: as if there were no such file */
        fd = -1;
    }
    return fd;
}

/* ---- by build-id: DIR/.build-id/xx/rest.debug ---- */

typedef struct sym_bid {
    const uint8_t *id;
    size_t         len;
} sym_bid;

/* DIR/.build-id/xx/rest.debug into path (of `size`): false if too long. */
static bool sym_build_id_path(const char *dir, const uint8_t *id, size_t len,
                              char *path, size_t size)
{
    char hex[2 * 64 + 1];
    if (len < 2 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    int n = snprintf(path, size, "%s/.build-id/%.2s/%s.debug", dir, hex,
                     hex + 2);
    return n > 0 && (size_t)n < size;
}

static int sym_try_build_id(const char *dir, void *arg, char **found)
{
    const sym_bid *b = arg;
    char path[4096];
    if (!sym_build_id_path(dir, b->id, b->len, path, sizeof path))
        return -1;
    return sym_try_path(path, found);
}

/* ---- by debuglink ---- */

typedef struct sym_link {
    const char *objdir;  /* directory of the object, no trailing slash */
    const char *name;    /* the debuglink file name */
    uint32_t    crc;
    const sym_load_ctx *ctx;
} sym_link;

static int sym_try_link_path(const char *path, const sym_link *l, char **found)
{
    int fd = sym_open_regular(path);
    if (fd < 0)
        return -1;
    bool ok;
    uint32_t crc = sym_crc32_fd(fd, &ok);
    if (!ok || crc != l->crc) {
        l->ctx->report(l->ctx->report_ctx,
                       "%s: debuglink CRC mismatch (%08x, want %08x), ignored",
                       path, crc, l->crc);
        close(fd);
        return -1;
    }
    if ((*found = sym_strdup(path)) == NULL) {
        close(fd); /* out of memory: as if there were no such file */
        return -1;
    }
    return fd;
}

static int sym_try_link_dir(const char *dir, void *arg, char **found)
{
    const sym_link *l = arg;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s%s/%s", dir, l->objdir, l->name);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    return sym_try_link_path(path, l, found);
}

static int sym_find_by_debuglink(const char *objpath, Elf *elf,
                                 const sym_load_ctx *ctx, char **found)
{
    uint32_t crc = 0;
    char *name = sym_elf_debuglink(elf, &crc);
    if (name == NULL)
        return -1;
    /* The object's directory, made absolute so /usr/lib/debug/DIR works. */
    char *real = realpath(objpath, NULL);
    const char *p = real != NULL ? real : objpath;
    const char *slash = strrchr(p, '/');
    char *objdir = slash != NULL ? strndup(p, (size_t)(slash - p))
                                 : sym_strdup(".");
    if (objdir == NULL) {
        free(real);
        free(name);
        return -1;
    }
    sym_link l = {objdir, name, crc, ctx};
    char path[4096];
    int fd = -1;
    int n = snprintf(path, sizeof path, "%s/%s", objdir, name);
    /* Beside the object, unless that is the object itself. */
    if (n > 0 && (size_t)n < sizeof path && strcmp(path, p) != 0)
        fd = sym_try_link_path(path, &l, found);
    n = snprintf(path, sizeof path, "%s/.debug/%s", objdir, name);
    if (fd < 0 && n > 0 && (size_t)n < sizeof path)
        fd = sym_try_link_path(path, &l, found);
    if (fd < 0 && objdir[0] == '/')
        fd = sym_each_debug_dir(ctx, sym_try_link_dir, &l, found);
    free(objdir);
    free(real);
    free(name);
    return fd;
}

int sym_debugfile_find(const char *objpath, Elf *elf, const uint8_t *build_id,
                       size_t build_id_len, const sym_load_ctx *ctx,
                       char **found, sym_origin *how)
{
    *found = NULL;
    *how = SYM_ORIGIN_BUILD_ID;
    if (build_id_len >= 2 && build_id_len <= 64) {
        sym_bid b = {build_id, build_id_len};
        int fd = sym_each_debug_dir(ctx, sym_try_build_id, &b, found);
        if (fd >= 0)
            return fd;
    }
    if (elf == NULL)
        return -1;
    *how = SYM_ORIGIN_DEBUGLINK;
    return sym_find_by_debuglink(objpath, elf, ctx, found);
}

/* ---- dwz multifiles (.gnu_debugaltlink) ---- */

typedef struct sym_alt {
    const char *link;       /* the path as written */
    uint8_t     id[64];
    size_t      idlen;
    bool        mismatch;   /* a file was found with another build-id */
    char        mismatch_path[256];
} sym_alt;

/* An fd on `cand` when it is the multifile the link names. */
static int sym_alt_try_path(const char *cand, void *arg, char **found)
{
    sym_alt *a = arg;
    int fd = sym_open_regular(cand);
    if (fd < 0)
        return -1;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    uint8_t id[64];
    size_t n = elf != NULL && elf_kind(elf) == ELF_K_ELF
                   ? sym_elf_build_id(elf, id, sizeof id) : 0;
    if (elf != NULL)
        elf_end(elf);
    bool same = a->idlen == 0 || (n == a->idlen && memcmp(id, a->id, n) == 0);
    if (!same) {
        if (!a->mismatch)
            snprintf(a->mismatch_path, sizeof a->mismatch_path, "%s", cand);
        a->mismatch = true;
        close(fd);
        return -1;
    }
    if ((*found = sym_strdup(cand)) == NULL) {
        close(fd);
        return -1;
    }
    return fd;
}

/* DIR + the link (an absolute link under a sysroot-like directory), then
 * DIR/.dwz/ + its file name. */
static int sym_alt_try_dir(const char *dir, void *arg, char **found)
{
    sym_alt *a = arg;
    char cand[4096];
    int n = -1, fd = -1;
    if (a->link[0] == '/') {
        n = snprintf(cand, sizeof cand, "%s%s", dir, a->link);
        if (n > 0 && (size_t)n < sizeof cand)
            fd = sym_alt_try_path(cand, a, found);
    }
    if (fd >= 0)
        return fd;
    const char *base = strrchr(a->link, '/');
    base = base != NULL ? base + 1 : a->link;
    n = snprintf(cand, sizeof cand, "%s/.dwz/%s", dir, base);
    if (n < 0 || (size_t)n >= sizeof cand)
        return -1;
    return sym_alt_try_path(cand, a, found);
}

static int sym_alt_try_build_id(const char *dir, void *arg, char **found)
{
    sym_alt *a = arg;
    char cand[4096];
    if (!sym_build_id_path(dir, a->id, a->idlen, cand, sizeof cand))
        return -1;
    return sym_alt_try_path(cand, a, found);
}

/* The link relative to the directory of the file that holds it. */
static int sym_alt_try_relative(const char *path, sym_alt *a, char **found)
{
    const char *slash = strrchr(path, '/');
    char cand[4096];
    int n = slash != NULL
                ? snprintf(cand, sizeof cand, "%.*s/%s", (int)(slash - path),
                           path, a->link)
                : snprintf(cand, sizeof cand, "%s", a->link);
    if (n < 0 || (size_t)n >= sizeof cand)
        return -1;
    return sym_alt_try_path(cand, a, found);
}

int sym_altfile_find(const char *path, Elf *elf, const sym_load_ctx *ctx,
                     char **found)
{
    *found = NULL;
    sym_alt a = {0};
    char *link = sym_elf_altlink(elf, a.id, sizeof a.id, &a.idlen);
    if (link == NULL)
        return -1;
    a.link = link;
    int fd = link[0] == '/' ? sym_alt_try_path(link, &a, found)
                            : sym_alt_try_relative(path, &a, found);
    if (fd < 0)
        fd = sym_each_debug_dir(ctx, sym_alt_try_dir, &a, found);
    if (fd < 0 && a.idlen >= 2)
        fd = sym_each_debug_dir(ctx, sym_alt_try_build_id, &a, found);
    if (fd < 0 && a.mismatch)
        ctx->report(ctx->report_ctx,
                    "%s: dwz multifile %s has another build-id; names and "
                    "inlined functions kept there are left out", path,
                    a.mismatch_path);
    else if (fd < 0)
        ctx->report(ctx->report_ctx,
                    "%s: dwz multifile %s not found; names and inlined "
                    "functions kept there are left out", path, link);
    free(link);
    return fd;
}
