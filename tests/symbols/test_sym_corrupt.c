/* test_sym_corrupt.c: corrupt and truncated objects never crash the
 * resolver (run under ASan/UBSan): real fixture binaries are cut at many
 * lengths and get bytes flipped in the ELF header, the section header
 * table and the DWARF sections, then resolved at addresses across their
 * code. Deterministic (fixed PRNG seed), so a failure reproduces.
 *
 * usage: test_sym_corrupt WORKDIR BINARY... */
#include "sym.h"
#include "testrand.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLIPS_PER_REGION 10  /* libdwarf is slow on some damaged rnglists: keep CI time bounded */
#define CUTS             20

typedef struct region {
    const char *name;
    size_t      off, size;
} region;

typedef struct image {
    uint8_t *data;
    size_t   size;
    region   regions[16];
    int      nregions;
    uint64_t text_lo, text_hi;
} image;


static int read_file(const char *path, image *img)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    img->data = malloc((size_t)n);
    img->size = fread(img->data, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
    fclose(f);
    return img->size > 0 ? 0 : -1;
}

static void add_region(image *img, const char *name, size_t off, size_t size)
{
    if (img->nregions < 16 && size > 0 && off + size <= img->size)
        img->regions[img->nregions++] = (region){name, off, size};
}

/* Where to aim: the ELF header, the section headers, DWARF sections. */
static void find_regions(image *img)
{
    static const char *wanted[] = {".debug_info", ".debug_abbrev",
                                   ".debug_line", ".debug_str",
                                   ".debug_rnglists", ".debug_ranges",
                                   ".debug_line_str", ".symtab",
                                   ".gnu_debuglink"};
    Elf *elf = elf_memory((char *)img->data, img->size);
    GElf_Ehdr eh;
    size_t shstrndx;
    if (elf == NULL || gelf_getehdr(elf, &eh) == NULL ||
        elf_getshdrstrndx(elf, &shstrndx) != 0) {
        if (elf != NULL)
            elf_end(elf);
        return;
    }
    add_region(img, "ELF header", 0, 64);
    add_region(img, "section headers", eh.e_shoff,
               (size_t)eh.e_shnum * eh.e_shentsize);
    for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
        GElf_Shdr sh;
        if (gelf_getshdr(s, &sh) == NULL)
            continue;
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        if (name != NULL && strcmp(name, ".text") == 0) {
            img->text_lo = sh.sh_addr;
            img->text_hi = sh.sh_addr + sh.sh_size;
        }
        for (size_t i = 0; name && i < sizeof wanted / sizeof *wanted; i++)
            if (strcmp(name, wanted[i]) == 0)
                add_region(img, wanted[i], sh.sh_offset, sh.sh_size);
    }
    elf_end(elf);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        perror(path);
        exit(2);
    }
    close(fd);
}

/* Loads the mutated file and resolves addresses across its code; the
 * only assertion is that every call returns a frame. */
static int resolve_all(const char *path, const image *img)
{
    sym_resolver *r = sym_resolver_new(NULL, 0);
    sym_module m = {.path = path, .lo = 0, .hi = UINT64_MAX,
                    .gen_unloaded = UINT32_MAX};
    sym_resolver_set_module(r, 0, &m);
    int bad = 0;
    uint64_t lo = img->text_lo ? img->text_lo : 0x1000;
    uint64_t hi = img->text_hi > lo ? img->text_hi : lo + 0x1000;
    for (int i = 0; i < 24; i++) {
        sym_frame f[32];
        uint64_t a = lo + (hi - lo) * (uint64_t)i / 24 + 1;
        if (sym_resolve(r, a, 0, f, 32) < 1)
            bad++;
    }
    sym_resolver_free(r);
    return bad;
}

static int mutate_one(const char *work, const image *img)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mutant", work);
    uint8_t *copy = malloc(img->size);
    int bad = 0, runs = 0;
    for (int i = 1; i <= CUTS; i++) { /* truncations */
        size_t len = img->size * (size_t)i / (CUTS + 1) + (test_rand() % 64);
        write_file(path, img->data, len < img->size ? len : img->size - 1);
        bad += resolve_all(path, img);
        runs++;
    }
    for (int g = 0; g < img->nregions; g++) { /* byte flips per region */
        const region *rg = &img->regions[g];
        for (int i = 0; i < FLIPS_PER_REGION; i++) {
            memcpy(copy, img->data, img->size);
            int nflips = 1 + (int)(test_rand() % 8);
            for (int k = 0; k < nflips; k++) {
                size_t at = rg->off + test_rand() % rg->size;
                copy[at] = (uint8_t)(test_rand() & 1 ? test_rand() : copy[at] ^ (1u << (test_rand() % 8)));
            }
            write_file(path, copy, img->size);
            bad += resolve_all(path, img);
            runs++;
        }
    }
    free(copy);
    printf("  %d mutants, %d regions, %d empty results\n", runs,
           img->nregions, bad);
    unlink(path);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_sym_corrupt WORKDIR BINARY...\n");
        return 2;
    }
    elf_version(EV_CURRENT);
    mkdir(argv[1], 0700);
    int bad = 0;
    for (int i = 2; i < argc; i++) {
        image img = {0};
        if (read_file(argv[i], &img) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 2;
        }
        find_regions(&img);
        printf("%s (%zu bytes)\n", argv[i], img.size);
        bad += mutate_one(argv[1], &img);
        free(img.data);
    }
    printf("%s\n", bad ? "FAIL: sym_resolve returned no frame" : "no crash");
    return bad != 0;
}
