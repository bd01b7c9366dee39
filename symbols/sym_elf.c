/* sym_elf.c: what plain ELF gives without DWARF: function symbols from
 * .symtab (else .dynsym) for the no-line-info fallback, the GNU build-id and
 * the .gnu_debuglink that lead to separate debug files. Reads only through
 * libelf, which bounds every section against the file. */
#include "sym_internal.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

static Elf_Scn *sym_elf_find_section(Elf *elf, const char *name,
                                     GElf_Shdr *shdr_out)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return NULL;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL;
         scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL)
            continue;
        const char *n = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (n != NULL && strcmp(n, name) == 0) {
            if (shdr_out != NULL)
                *shdr_out = shdr;
            return scn;
        }
    }
    return NULL;
}

bool sym_elf_has_section(Elf *elf, const char *prefix)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return false;
    size_t plen = strlen(prefix);
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL;
         scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL || shdr.sh_type == SHT_NOBITS)
            continue;
        const char *n = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (n != NULL && strncmp(n, prefix, plen) == 0)
            return true;
    }
    return false;
}

/* ---- symbols ---- */

/* Among aliases at one address, the name users expect: global before weak
 * before local, then a name without leading underscore, then the shorter. */
static int sym_elf_rank(int bind, const char *name)
{
    int r = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 4 : 8;
    if (name[0] == '_')
        r += 2;
    return r;
}

typedef struct sym_rawsym {
    uint64_t    lo, size;
    uint64_t    section_end; /* bounds a size-0 symbol */
    const char *name; /* raw, points into libelf's data */
    int         rank;
} sym_rawsym;

static int sym_rawsym_cmp(const void *a, const void *b)
{
    const sym_rawsym *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if ((x->size == 0) != (y->size == 0))
        return x->size == 0 ? 1 : -1; /* a sized alias first */
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    size_t lx = strlen(x->name), ly = strlen(y->name);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The function symbols of a table, or SIZE_MAX when out of memory. */
static size_t sym_elf_collect(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr,
                              sym_rawsym **out)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    if (data == NULL || shdr->sh_entsize == 0)
        return 0;
    size_t n = data->d_size / shdr->sh_entsize;
    sym_rawsym *raw = sym_alloc_array(n, sizeof *raw);
    if (raw == NULL)
        return SIZE_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        GElf_Sym s;
        if (gelf_getsym(data, (int)i, &s) == NULL)
            break;
        int type = GELF_ST_TYPE(s.st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE) ||
            s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE ||
            s.st_value == 0)
            continue;
        const char *name = elf_strptr(elf, shdr->sh_link, s.st_name);
        GElf_Shdr sec;
        Elf_Scn *sscn = elf_getscn(elf, s.st_shndx);
        if (name == NULL || name[0] == '\0' || sscn == NULL ||
            gelf_getshdr(sscn, &sec) == NULL)
            continue;
        /* Untyped labels count in code only (assembly entry points), as
         * binutils does; _end, __bss_start and friends are not code. */
        if (type == STT_NOTYPE && (sec.sh_flags & SHF_EXECINSTR) == 0)
            continue;
        int rank = sym_elf_rank(GELF_ST_BIND(s.st_info), name) +
                   (type == STT_NOTYPE ? 16 : 0);
        raw[k++] = (sym_rawsym){s.st_value, s.st_size,
                                sec.sh_addr + sec.sh_size, name, rank};
    }
    *out = raw;
    return k;
}

/* Assembly often leaves st_size 0 (_init, crt code): like binutils, let
 * such a symbol reach the next symbol, within its section. */
static uint64_t sym_rawsym_size(const sym_rawsym *raw, size_t n, size_t i)
{
    if (raw[i].size != 0)
        return raw[i].size;
    uint64_t end = raw[i].section_end;
    for (size_t j = i + 1; j < n; j++) {
        if (raw[j].lo > raw[i].lo) {
            end = raw[j].lo < end ? raw[j].lo : end;
            break;
        }
    }
    return end > raw[i].lo ? end - raw[i].lo : 0;
}

static int sym_elf_install(sym_object *o, sym_rawsym *raw, size_t n, bool full);

/* .symtab is complete; .dynsym only has exported names. A later file (a
 * separate debug file) may bring the .symtab a stripped object lacks. */
int sym_elf_read_symbols(sym_object *o, Elf *elf)
{
    if (o->syms_from_symtab)
        return 0;
    GElf_Shdr shdr;
    Elf_Scn *scn = sym_elf_find_section(elf, ".symtab", &shdr);
    bool full = scn != NULL && shdr.sh_type == SHT_SYMTAB;
    if (!full && o->nsyms > 0)
        return 0;
    if (!full)
        scn = sym_elf_find_section(elf, ".dynsym", &shdr);
    if (scn == NULL || (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM))
        return 0;
    sym_rawsym *raw = NULL;
    size_t n = sym_elf_collect(elf, scn, &shdr, &raw);
    if (n == SIZE_MAX)
        return -ENOMEM;
    return sym_elf_install(o, raw, n, full);
}

/* Replaces the object's symbols with raw's (taken over, names copied). */
static int sym_elf_install(sym_object *o, sym_rawsym *raw, size_t n, bool full)
{
    if (n == 0) {
        free(raw);
        return 0;
    }
    qsort(raw, n, sizeof *raw, sym_rawsym_cmp);
    sym_elfsym *syms = sym_alloc_array(n, sizeof *syms);
    if (syms == NULL) { /* keep what the object had */
        free(raw);
        return -ENOMEM;
    }
    free(o->syms);
    o->syms = syms;
    o->nsyms = 0;
    o->syms_from_symtab = full;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && raw[i].lo == raw[i - 1].lo)
            continue; /* an alias ranked below the first one */
        o->syms[o->nsyms++] = (sym_elfsym){
            raw[i].lo, sym_rawsym_size(raw, n, i),
            sym_demangle(o->strings, raw[i].name), sym_intern(o->strings, raw[i].name)};
    }
    free(raw);
    return 0;
}

const sym_elfsym *sym_elf_lookup(const sym_object *o, uint64_t vaddr)
{
    size_t lo = 0, hi = o->nsyms; /* first symbol with lo > vaddr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->syms[mid].lo <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Nested or overlapping symbols are rare; look back a little. */
    for (size_t i = lo, steps = 0; i > 0 && steps < 8; i--, steps++) {
        const sym_elfsym *s = &o->syms[i - 1];
        if (vaddr - s->lo < s->size)
            return s;
    }
    return NULL;
}

/* ---- build-id and debuglink ---- */

size_t sym_elf_build_id(Elf *elf, uint8_t *out, size_t max)
{
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL;
         scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL || shdr.sh_type != SHT_NOTE)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (data == NULL)
            continue;
        size_t off = 0, name_off, desc_off;
        GElf_Nhdr nh;
        while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
            if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
                memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0)
                continue;
            size_t n = nh.n_descsz < max ? nh.n_descsz : max;
            memcpy(out, (const char *)data->d_buf + desc_off, n);
            return n;
        }
    }
    return 0;
}

char *sym_elf_debuglink(Elf *elf, uint32_t *crc)
{
    Elf_Scn *scn = sym_elf_find_section(elf, ".gnu_debuglink", NULL);
    if (scn == NULL)
        return NULL;
    Elf_Data *data = elf_getdata(scn, NULL);
    if (data == NULL || data->d_buf == NULL || data->d_size < 8)
        return NULL;
    const char *buf = data->d_buf;
    size_t len = strnlen(buf, data->d_size);
    size_t crc_off = (len + 4) & ~(size_t)3; /* NUL, then pad to 4 */
    if (len == 0 || crc_off + 4 > data->d_size)
        return NULL;
    uint8_t b[4];
    memcpy(b, buf + crc_off, 4);
    const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
    bool big = ident != NULL && ident[EI_DATA] == ELFDATA2MSB;
    *crc = big ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                     (uint32_t)b[2] << 8 | b[3]
               : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[1] << 8 | b[0];
    char *name = sym_alloc(len + 1);
    if (name == NULL)
        return NULL;
    memcpy(name, buf, len);
    name[len] = '\0';
    return name;
}

/* .gnu_debugaltlink (dwz): the multifile's path, NUL, then its build-id. */
char *sym_elf_altlink(Elf *elf, uint8_t *id, size_t max, size_t *idlen)
{
    *idlen = 0;
    Elf_Scn *scn = sym_elf_find_section(elf, ".gnu_debugaltlink", NULL);
    if (scn == NULL)
        return NULL;
    Elf_Data *data = elf_getdata(scn, NULL);
    if (data == NULL || data->d_buf == NULL || data->d_size < 2)
        return NULL;
    const char *buf = data->d_buf;
    size_t len = strnlen(buf, data->d_size);
    if (len == 0 || len == data->d_size)
        return NULL;
    size_t n = data->d_size - len - 1;
    *idlen = n < max ? n : max;
    memcpy(id, buf + len + 1, *idlen);
    char *path = sym_alloc(len + 1);
    if (path == NULL)
        return NULL;
    memcpy(path, buf, len);
    path[len] = '\0';
    return path;
}

/* ---- MiniDebugInfo (.gnu_debugdata) ---- */

#define SYM_MINIDEBUG_MAX ((size_t)256 << 20)

/* The xz stream of .gnu_debugdata, decompressed (malloc'ed), or NULL. */
static uint8_t *sym_elf_unxz(const uint8_t *in, size_t inlen, size_t *outlen)
{
    lzma_stream st = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&st, SYM_MINIDEBUG_MAX, 0) != LZMA_OK)
        return NULL;
    size_t cap = inlen * 4 + 4096;
    uint8_t *out = NULL;
    lzma_ret ret = LZMA_OK;
    st.next_in = in;
    st.avail_in = inlen;
    while (ret == LZMA_OK && cap <= SYM_MINIDEBUG_MAX) {
        uint8_t *grown = realloc(out, cap);
        if (grown == NULL)
            break;
        out = grown;
        st.next_out = out + st.total_out;
        st.avail_out = cap - st.total_out;
        ret = lzma_code(&st, LZMA_FINISH);
        cap *= 2;
    }
    *outlen = st.total_out;
    lzma_end(&st);
    if (ret != LZMA_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* The function symbols of one table of elf (.symtab or .dynsym), appended
 * to *raw; false when out of memory. */
static bool sym_elf_append(Elf *elf, const char *name, sym_rawsym **raw,
                           size_t *n)
{
    GElf_Shdr shdr;
    Elf_Scn *scn = sym_elf_find_section(elf, name, &shdr);
    if (scn == NULL)
        return true;
    sym_rawsym *more = NULL;
    size_t k = sym_elf_collect(elf, scn, &shdr, &more);
    if (k == SIZE_MAX)
        return false;
    sym_rawsym *all = k > 0 ? realloc(*raw, (*n + k) * sizeof **raw) : NULL;
    if (k > 0 && all == NULL) {
        free(more);
        return false;
    }
    if (k > 0)
        memcpy(all + *n, more, k * sizeof *more);
    free(more);
    if (k == 0)
        return true;
    *raw = all;
    *n += k;
    return true;
}

int sym_elf_read_minidebug(sym_object *o, Elf *elf)
{
    if (o->syms_from_symtab)
        return 0;
    Elf_Scn *scn = sym_elf_find_section(elf, ".gnu_debugdata", NULL);
    Elf_Data *data = scn != NULL ? elf_getdata(scn, NULL) : NULL;
    if (data == NULL || data->d_buf == NULL || data->d_size == 0)
        return 0;
    size_t len = 0;
    uint8_t *buf = sym_elf_unxz(data->d_buf, data->d_size, &len);
    if (buf == NULL)
        return -EINVAL;
    Elf *mini = elf_memory((char *)buf, len);
    int res = -EINVAL;
    if (mini != NULL && elf_kind(mini) == ELF_K_ELF) {
        /* Its .symtab has what .dynsym lacks: both make the table. */
        sym_rawsym *raw = NULL;
        size_t n = 0;
        res = sym_elf_append(elf, ".dynsym", &raw, &n) &&
              sym_elf_append(mini, ".symtab", &raw, &n)
                  ? sym_elf_install(o, raw, n, false)
                  : (free(raw), -ENOMEM);
        o->minidebug = res == 0 && o->nsyms > 0;
    }
    if (mini != NULL)
        elf_end(mini);
    free(buf);
    return res;
}

/* ---- compressed sections ---- */

/* Sections the reader never asks libdwarf for: location lists, macros and
 * frames are large and inflating them is most of a compressed file's
 * cost. libdwarf would inflate one itself should it ever load it. */
static const char *const sym_elf_unused[] = {
    ".debug_loc", ".debug_loclists", ".debug_macro", ".debug_macinfo",
    ".debug_frame", ".debug_pubnames", ".debug_pubtypes",
    ".debug_gnu_pubnames", ".debug_gnu_pubtypes", ".debug_names",
};

static bool sym_elf_section_unused(const char *name)
{
    for (size_t i = 0; i < sizeof sym_elf_unused / sizeof *sym_elf_unused; i++)
        if (strcmp(name, sym_elf_unused[i]) == 0)
            return true;
    return false;
}

/* libdwarf 20210528 reads SHF_COMPRESSED sections itself (it links zlib),
 * but going through libelf first keeps one well-tested decompressor and
 * lets a failure be named. */
void sym_elf_decompress(Elf *elf, const char *path, const sym_load_ctx *ctx)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL;
         scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL ||
            (shdr.sh_flags & SHF_COMPRESSED) == 0)
            continue;
        const char *name = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (name == NULL || strncmp(name, ".debug_", 7) != 0 ||
            sym_elf_section_unused(name))
            continue;
        if (elf_compress(scn, 0, 0) < 0)
            ctx->report(ctx->report_ctx,
                        "%s: %s: cannot decompress (%s)", path, name,
                        elf_errmsg(-1));
    }
}
