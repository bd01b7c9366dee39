/* fuzz_elf.c: libFuzzer target for symbols/: the input is an object file
 * (seeded with the fixtures), written to a memfd and registered as a
 * module; addresses across its entry point and code are resolved. Runs
 * the production configuration, DWARF read in a child process; reports
 * from children land in sanitizer log files (see sanitizer_logs.py). */
#define _GNU_SOURCE
#include "sym.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t read_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_elf", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    sym_resolver *r = sym_resolver_new(NULL, 0);
    sym_module m = {.path = path, .bias = 0x10000, .lo = 0x10000,
                    .hi = UINT64_MAX, .gen_unloaded = UINT32_MAX};
    sym_resolver_set_module(r, 0, &m);
    /* e_entry of a 64-bit ELF, then a spread of addresses. */
    uint64_t entry = size >= 32 ? read_le64(data + 24) : 0x1000;
    sym_frame f[16];
    for (uint64_t i = 0; i < 16; i++) {
        uint64_t a = (i < 4 ? entry + i * 7 : 0x1000 + i * 0x40) + 0x10001;
        if (sym_resolve(r, a, 0, f, 16) < 1)
            __builtin_trap();
    }
    sym_resolver_free(r);
    close(fd);
    return 0;
}
