/* inject_files.c: the files the injector has a process load from memory.
 *
 * dlopen takes a path the process resolves in its own root: in a container
 * (or after a chroot) the tracer's path names nothing, and libunwind, which
 * the tracer needs, may be missing too. So such a process makes a memory
 * file (memfd_create), we write our library into it through
 * /proc/PID/fd/N, and it dlopens /proc/self/fd/N: first what the tracer
 * needs beyond glibc, then the tracer. glibc's own libraries are the
 * process's (its libc is already loaded, and the others must match it);
 * the tracer's other dependencies, once loaded, answer its DT_NEEDED by
 * their sonames. */
#include "inject_files.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

bool inject_sees_file(pid_t pid, const char *path)
{
    char theirs[PATH_MAX + 32];
    struct stat a, b;
    snprintf(theirs, sizeof(theirs), "/proc/%d/root%s", (int)pid, path);
    return stat(path, &a) == 0 && stat(theirs, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Part of glibc: the process has its own, which must match its libc. */
static bool inject_is_glibc(const char *name)
{
    static const char *const glibc[] = {
        "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libresolv.so.2",
        "libutil.so.1", "libanl.so.1", "libmvec.so.1", "ld-linux-x86-64.so.2",
    };
    for (size_t i = 0; i < sizeof(glibc) / sizeof(glibc[0]); i++)
        if (strcmp(name, glibc[i]) == 0)
            return true;
    return false;
}

int inject_pread(int fd, void *buf, size_t len, uint64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

int inject_elf_section(const char *path, uint32_t type, void **data, size_t *size, char **strs, size_t *strsize)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf64_Ehdr eh;
    if (fd < 0 || inject_pread(fd, &eh, sizeof(eh), 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum > 4096) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    Elf64_Shdr *sh = xcalloc(eh.e_shnum ? eh.e_shnum : 1, sizeof(*sh));
    int rc = inject_pread(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff) == 0 ? 1 : -1;
    for (unsigned i = 0; rc == 1 && i < eh.e_shnum; i++) {
        const Elf64_Shdr *ss = sh[i].sh_link < eh.e_shnum ? &sh[sh[i].sh_link] : NULL;
        if (sh[i].sh_type != type || !ss || sh[i].sh_size > (64u << 20) || ss->sh_size > (64u << 20))
            continue;
        *data = xmalloc(sh[i].sh_size ? sh[i].sh_size : 1);
        *strs = xcalloc(1, ss->sh_size + 1);
        *size = sh[i].sh_size;
        *strsize = ss->sh_size;
        rc = inject_pread(fd, *data, *size, sh[i].sh_offset) == 0 && inject_pread(fd, *strs, *strsize, ss->sh_offset) == 0
                 ? 0 : -1;
        if (rc != 0) {
            free(*data);
            free(*strs);
        }
    }
    free(sh);
    close(fd);
    return rc;
}

/* The DT_NEEDED names of the ELF file at `path`, into names[] (each of
 * `width` bytes): their count, or -1. */
static int inject_needed(const char *path, char *names, size_t width, int max)
{
    void *data;
    char *strs;
    size_t size, strsize;
    int rc = inject_elf_section(path, SHT_DYNAMIC, &data, &size, &strs, &strsize);
    if (rc != 0)
        return rc < 0 ? -1 : 0;  /* (no dynamic section: needs nothing) */
    const Elf64_Dyn *dyn = data;
    int n = 0;
    for (size_t k = 0; k < size / sizeof(Elf64_Dyn) && dyn[k].d_tag != DT_NULL; k++) {
        if (dyn[k].d_tag != DT_NEEDED || dyn[k].d_un.d_val >= strsize || n == max)
            continue;
        snprintf(names + (size_t)n * width, width, "%s", strs + dyn[k].d_un.d_val);
        n++;
    }
    free(data);
    free(strs);
    return n;
}

/* Where our loader finds library `name`: it is loaded here (harmless for
 * the libraries the tracer needs) and its link map asked. */
static int inject_host_path(const char *name, char *out, size_t len)
{
    void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
    struct link_map *lm = NULL;
    int rc = -1;
    if (h && dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && lm->l_name[0] == '/' &&
        realpath(lm->l_name, out) && strlen(out) < len)
        rc = 0;
    if (h)
        dlclose(h);
    return rc;
}

typedef struct inject_planner {
    inject_file *out;
    int          n, max;
    char        *err;
    size_t       errlen;
} inject_planner;

/* Adds what `path` needs (depth first), then `path` as `name`. */
static int inject_plan_add(inject_planner *p, const char *path, const char *name, int depth)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->out[i].path, path) == 0)
            return 0;
    char needed[32][64];
    int k = inject_needed(path, needed[0], sizeof(needed[0]), 32);
    if (k < 0 || depth > 8) {
        snprintf(p->err, p->errlen, "cannot read the libraries %s needs", path);
        return -1;
    }
    for (int i = 0; i < k; i++) {
        if (inject_is_glibc(needed[i]))
            continue;
        char dep[PATH_MAX];
        if (inject_host_path(needed[i], dep, sizeof(dep)) != 0) {
            snprintf(p->err, p->errlen, "%s needs %s, which this system does not have", path, needed[i]);
            return -1;
        }
        if (inject_plan_add(p, dep, needed[i], depth + 1) != 0)
            return -1;
    }
    if (p->n == p->max) {
        snprintf(p->err, p->errlen, "%s needs more than %d libraries", path, p->max);
        return -1;
    }
    inject_file *f = &p->out[p->n++];
    snprintf(f->path, sizeof(f->path), "%s", path);
    snprintf(f->name, sizeof(f->name), "%s", name);
    return 0;
}

int inject_file_plan(const char *lib, inject_file *out, int max, char *err, size_t errlen)
{
    inject_planner p = {out, 0, max, err, errlen};
    return inject_plan_add(&p, lib, "libleaktop.so", 0) == 0 ? p.n : -1;
}

int inject_file_copy(pid_t pid, int fd, const char *path, char *err, size_t errlen)
{
    char theirs[64];
    snprintf(theirs, sizeof(theirs), "/proc/%d/fd/%d", (int)pid, fd);
    int in = open(path, O_RDONLY | O_CLOEXEC), to = open(theirs, O_WRONLY | O_CLOEXEC);
    int rc = in >= 0 && to >= 0 ? 0 : -1;
    char buf[65536];
    ssize_t got = 0;
    while (rc == 0 && (got = read(in, buf, sizeof(buf))) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        for (ssize_t done = 0, w; rc == 0 && got > 0 && done < got; done += w)
            if ((w = write(to, buf + done, (size_t)(got - done))) <= 0)
                rc = -1;
        if (got < 0)
            rc = -1;
    }
    if (rc != 0)
        snprintf(err, errlen, "process %d: cannot write %s into its memory file: %s", (int)pid, path, strerror(errno));
    if (in >= 0)
        close(in);
    if (to >= 0)
        close(to);
    return rc;
}
