/* export_pprof.c: a snapshot as pprof's heap profile: profile.proto
 * (github.com/google/pprof/proto/profile.proto) encoded by the few lines
 * of protobuf below, gzipped with zlib. Only what a heap profile needs. */
#include "diff_export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "diff_internal.h"

/* ---- protobuf: varints and length-delimited fields ------------------------ */

enum { PB_VARINT = 0, PB_LEN = 2 };

typedef struct pb {
    uint8_t *p;
    size_t   len, cap;
    bool     oom;
} pb;

static void pb_raw(pb *b, const void *data, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void pb_varint(pb *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_raw(b, tmp, n);
}

/* An integer field (int64 as two's complement, as protobuf does); zero is
 * the default and is left out. */
static void pb_int(pb *b, unsigned field, uint64_t v)
{
    if (!v)
        return;
    pb_varint(b, (uint64_t)field << 3 | PB_VARINT);
    pb_varint(b, v);
}

static void pb_bytes(pb *b, unsigned field, const void *data, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | PB_LEN);
    pb_varint(b, n);
    pb_raw(b, data, n);
}

/* A sub-message built in `sub`, which is emptied for the next one. */
static void pb_msg(pb *b, unsigned field, pb *sub)
{
    b->oom |= sub->oom;
    pb_bytes(b, field, sub->p, sub->len);
    sub->len = 0;
}

/* ---- profile.proto field numbers -------------------------------------------- */

enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
    PROFILE_COMMENT = 13, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
};
enum { VALUETYPE_TYPE = 1, VALUETYPE_UNIT = 2 };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3 };
enum { LABEL_KEY = 1, LABEL_STR = 2 };
enum {
    MAPPING_ID = 1, MAPPING_START = 2, MAPPING_LIMIT = 3, MAPPING_FILENAME = 5, MAPPING_BUILD_ID = 6,
    MAPPING_HAS_FUNCTIONS = 7, MAPPING_HAS_FILENAMES = 8, MAPPING_HAS_LINES = 9, MAPPING_HAS_INLINE = 10,
};
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4 };
enum { LINE_FUNCTION_ID = 1, LINE_LINE = 2 };
enum { FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4 };

/* ---- the profile's tables, each deduplicated --------------------------------- */

typedef struct pp_func {
    const char *name, *file;   /* interned in the loctab: compared by pointer */
    const char *system_name;   /* the mangled symbol, or NULL: the name */
} pp_func;

typedef struct pp_loc {
    const uint32_t *frames;    /* the inlined chain, innermost first, then its caller */
    uint32_t        n;
    uint64_t        mapping;   /* id, 0 = none */
    uint64_t        address;
} pp_loc;

typedef struct pp_map {
    const char *path;
    const char *build_id;
    uint64_t    lo, hi;
} pp_map;

typedef struct pp {
    const diff_snapshot *snap, *base;
    const diff_loctab   *lt;
    diff_vec   strings;   /* const char * */
    diff_idset strset;
    diff_vec   funcs;     /* pp_func */
    diff_idset funcset;
    diff_vec   locs;      /* pp_loc */
    diff_idset locset;
    diff_vec   maps;      /* pp_map */
    diff_vec   sample_locs;  /* uint64_t, the sample being built */
    pb         out, sub, sub2;
    bool       oom;
    char       comment[256];
} pp;

static bool str_eq(const void *ctx, uint32_t id, const void *key)
{
    const pp *p = ctx;
    return strcmp(((const char **)p->strings.data)[id], key) == 0;
}

/* The string's index in the string table (0 is ""). */
static uint64_t pp_str(pp *p, const char *s)
{
    if (!s)
        s = "";
    uint64_t h = diff_hash_bytes(s, strlen(s));
    uint32_t id = diff_idset_find(&p->strset, h, str_eq, p, s);
    if (id != UINT32_MAX)
        return id;
    const char **slot = diff_vec_push(&p->strings, 1);
    if (!slot || diff_idset_add(&p->strset, h, (uint32_t)(p->strings.len - 1)) != 0) {
        p->oom = true;
        return 0;
    }
    *slot = s;
    return p->strings.len - 1;
}

static bool func_eq(const void *ctx, uint32_t id, const void *key)
{
    const pp_func *a = &((const pp_func *)((const pp *)ctx)->funcs.data)[id], *b = key;
    return a->name == b->name && a->file == b->file && a->system_name == b->system_name;
}

/* The function id (from 1) of a frame's function and file. */
static uint64_t pp_func_id(pp *p, const diff_frame *f)
{
    pp_func key = {f->function ? f->function : "??", f->file, f->system_name};
    uint64_t h = diff_hash_mix(diff_hash_mix(diff_hash_mix(0, (uintptr_t)key.name), (uintptr_t)key.file),
                               (uintptr_t)key.system_name);
    uint32_t id = diff_idset_find(&p->funcset, h, func_eq, p, &key);
    if (id != UINT32_MAX)
        return (uint64_t)id + 1;
    pp_func *slot = diff_vec_push(&p->funcs, 1);
    if (!slot || diff_idset_add(&p->funcset, h, (uint32_t)(p->funcs.len - 1)) != 0) {
        p->oom = true;
        return 0;
    }
    *slot = key;
    return p->funcs.len;
}

static const char *module_build_id(const diff_snapshot *s, const char *path)
{
    for (size_t i = 0; s && i < diff_snapshot_nmodules(s); i++) {
        const char *mpath, *bid;
        uint64_t bias;
        diff_snapshot_module(s, i, &mpath, &bid, &bias);
        if (mpath && strcmp(mpath, path) == 0 && bid && *bid)
            return bid;
    }
    return NULL;
}

/* The mapping id (from 1) of a module, its range widened to address. */
static uint64_t pp_map_id(pp *p, const char *module, uint64_t address)
{
    if (!module)
        return 0;
    pp_map *m = p->maps.data;
    size_t i = 0;
    while (i < p->maps.len && m[i].path != module)
        i++;
    if (i == p->maps.len) {
        m = diff_vec_push(&p->maps, 1);
        if (!m) {
            p->oom = true;
            return 0;
        }
        m->path = module;
        m->build_id = module_build_id(p->snap, module);
        if (!m->build_id)
            m->build_id = module_build_id(p->base, module);
        m->lo = UINT64_MAX;
        m = p->maps.data;
    }
    if (address && address < m[i].lo)
        m[i].lo = address;
    if (address && address + 1 > m[i].hi)
        m[i].hi = address + 1;
    return i + 1;
}

static bool loc_eq(const void *ctx, uint32_t id, const void *key)
{
    const pp_loc *a = &((const pp_loc *)((const pp *)ctx)->locs.data)[id], *b = key;
    return a->n == b->n && memcmp(a->frames, b->frames, a->n * sizeof(uint32_t)) == 0;
}

/* The location id (from 1) of frames[0..n): an inlined chain ending with
 * the frame it was inlined into, which holds the return address. */
static uint64_t pp_loc_id(pp *p, const uint32_t *frames, uint32_t n)
{
    pp_loc key = {.frames = frames, .n = n};
    uint64_t h = diff_hash_bytes(frames, n * sizeof(uint32_t));
    uint32_t id = diff_idset_find(&p->locset, h, loc_eq, p, &key);
    if (id != UINT32_MAX)
        return (uint64_t)id + 1;
    const diff_frame *phys = diff_loctab_get(p->lt, frames[n - 1]);
    key.address = phys->address;
    key.mapping = pp_map_id(p, phys->module, phys->address);
    for (uint32_t k = 0; k < n; k++) {
        const diff_frame *f = diff_loctab_get(p->lt, frames[k]);
        if (f->function || f->file)
            pp_func_id(p, f);
    }
    pp_loc *slot = diff_vec_push(&p->locs, 1);
    if (!slot || diff_idset_add(&p->locset, h, (uint32_t)(p->locs.len - 1)) != 0) {
        p->oom = true;
        return 0;
    }
    *slot = key;
    return p->locs.len;
}

/* ---- encoding ------------------------------------------------------------------ */

static void pp_sample(pp *p, const uint32_t *frames, uint32_t n, int64_t size, int64_t count, bool is_base)
{
    p->sample_locs.len = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        while (j + 1 < n && diff_loctab_get(p->lt, frames[j])->inlined)
            j++;
        uint64_t *slot = diff_vec_push(&p->sample_locs, 1);
        if (!slot) {
            p->oom = true;
            return;
        }
        *slot = pp_loc_id(p, frames + i, j - i + 1);
        i = j + 1;
    }
    const uint64_t *ids = p->sample_locs.data;
    for (size_t i = 0; i < p->sample_locs.len; i++)
        pb_varint(&p->sub2, ids[i]);
    pb_msg(&p->sub, SAMPLE_LOCATION_ID, &p->sub2);
    int64_t sign = is_base ? -1 : 1;
    pb_varint(&p->sub2, (uint64_t)(sign * count));
    pb_varint(&p->sub2, (uint64_t)(sign * size));
    pb_msg(&p->sub, SAMPLE_VALUE, &p->sub2);
    if (is_base) {
        pb_int(&p->sub2, LABEL_KEY, pp_str(p, "pprof::base"));
        pb_int(&p->sub2, LABEL_STR, pp_str(p, "true"));
        pb_msg(&p->sub, SAMPLE_LABEL, &p->sub2);
    }
    pb_msg(&p->out, PROFILE_SAMPLE, &p->sub);
}

static void pp_samples(pp *p, const diff_snapshot *s, bool is_base)
{
    for (size_t i = 0; i < diff_snapshot_ntraces(s) && !p->oom; i++) {
        int64_t size, count;
        const uint32_t *frames;
        uint32_t n;
        diff_snapshot_trace(s, i, &size, &count, &frames, &n);
        if (n)
            pp_sample(p, frames, n, size, count, is_base);
    }
}

static void pp_value_type(pp *p, unsigned field, const char *type, const char *unit)
{
    pb_int(&p->sub, VALUETYPE_TYPE, pp_str(p, type));
    pb_int(&p->sub, VALUETYPE_UNIT, pp_str(p, unit));
    pb_msg(&p->out, field, &p->sub);
}

static void pp_mappings(pp *p)
{
    const pp_map *m = p->maps.data;
    for (size_t i = 0; i < p->maps.len; i++) {
        pb_int(&p->sub, MAPPING_ID, i + 1);
        pb_int(&p->sub, MAPPING_START, m[i].lo == UINT64_MAX ? 0 : m[i].lo);
        pb_int(&p->sub, MAPPING_LIMIT, m[i].hi);
        pb_int(&p->sub, MAPPING_FILENAME, pp_str(p, m[i].path));
        pb_int(&p->sub, MAPPING_BUILD_ID, m[i].build_id ? pp_str(p, m[i].build_id) : 0);
        /* Symbolized already: pprof must not look for the binaries. */
        pb_int(&p->sub, MAPPING_HAS_FUNCTIONS, 1);
        pb_int(&p->sub, MAPPING_HAS_FILENAMES, 1);
        pb_int(&p->sub, MAPPING_HAS_LINES, 1);
        pb_int(&p->sub, MAPPING_HAS_INLINE, 1);
        pb_msg(&p->out, PROFILE_MAPPING, &p->sub);
    }
}

static void pp_locations(pp *p)
{
    const pp_loc *l = p->locs.data;
    for (size_t i = 0; i < p->locs.len; i++) {
        pb_int(&p->sub, LOCATION_ID, i + 1);
        pb_int(&p->sub, LOCATION_MAPPING_ID, l[i].mapping);
        pb_int(&p->sub, LOCATION_ADDRESS, l[i].address);
        for (uint32_t k = 0; k < l[i].n; k++) {
            const diff_frame *f = diff_loctab_get(p->lt, l[i].frames[k]);
            if (!f->function && !f->file)
                continue;   /* nothing known: pprof shows the address */
            pb_int(&p->sub2, LINE_FUNCTION_ID, pp_func_id(p, f));
            pb_int(&p->sub2, LINE_LINE, f->line);
            pb_msg(&p->sub, LOCATION_LINE, &p->sub2);
        }
        pb_msg(&p->out, PROFILE_LOCATION, &p->sub);
    }
}

/* The system name is the mangled symbol when the frame knows it (the
 * containing function, resolved on this machine), else the name. */
static void pp_functions(pp *p)
{
    const pp_func *fn = p->funcs.data;
    for (size_t i = 0; i < p->funcs.len; i++) {
        pb_int(&p->sub, FUNCTION_ID, i + 1);
        pb_int(&p->sub, FUNCTION_NAME, pp_str(p, fn[i].name));
        pb_int(&p->sub, FUNCTION_SYSTEM_NAME, pp_str(p, fn[i].system_name ? fn[i].system_name : fn[i].name));
        pb_int(&p->sub, FUNCTION_FILENAME, pp_str(p, fn[i].file));
        pb_msg(&p->out, PROFILE_FUNCTION, &p->sub);
    }
}

static void pp_comment(pp *p)
{
    char note[64], sampled[80] = "";
    if (diff_snapshot_sample_bytes(p->snap))
        snprintf(sampled, sizeof(sampled), "; %s",
                 diff_format_sampling(note, sizeof(note), diff_snapshot_sample_bytes(p->snap)));
    snprintf(p->comment, sizeof(p->comment), "leaktop snapshot \"%s\" of pid %d at %.2f s%s%s%s%s",
             diff_snapshot_label(p->snap), diff_snapshot_pid(p->snap), diff_snapshot_elapsed(p->snap),
             p->base ? " minus base \"" : "", p->base ? diff_snapshot_label(p->base) : "", p->base ? "\"" : "",
             sampled);
    uint64_t id = pp_str(p, p->comment);
    pb_varint(&p->out, (uint64_t)PROFILE_COMMENT << 3 | PB_VARINT);
    pb_varint(&p->out, id);
}

static void pp_string_table(pp *p)
{
    const char *const *s = p->strings.data;
    for (size_t i = 0; i < p->strings.len; i++)
        pb_bytes(&p->out, PROFILE_STRING_TABLE, s[i], strlen(s[i]));
}

/* The profile, in the order the tables are complete: samples first (they
 * create the locations, functions and mappings), the strings last. */
static void pp_encode(pp *p)
{
    pp_str(p, "");
    pp_value_type(p, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
    pp_value_type(p, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
    pp_value_type(p, PROFILE_PERIOD_TYPE, "space", "bytes");
    /* Sampled: the values are already the unbiased estimates (as in Go's
     * heap profiles); the period says the mean sampling interval. */
    uint64_t period = diff_snapshot_sample_bytes(p->snap);
    pb_int(&p->out, PROFILE_PERIOD, period ? period : 1);
    pb_int(&p->out, PROFILE_DEFAULT_SAMPLE_TYPE, pp_str(p, "inuse_space"));
    pp_samples(p, p->snap, false);
    if (p->base)
        pp_samples(p, p->base, true);
    pp_mappings(p);
    pp_locations(p);
    pp_functions(p);
    pp_comment(p);
    pp_string_table(p);
    p->oom |= p->out.oom || p->sub.oom || p->sub2.oom;
}

static int gzip_buffer(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* windowBits 15 + 16: a gzip header and trailer, as pprof expects. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    size_t cap = deflateBound(&z, len) + 32;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zrc = deflate(&z, Z_FINISH);
    *outlen = z.total_out;
    deflateEnd(&z);
    if (zrc != Z_STREAM_END) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    return 0;
}

static void pp_release(pp *p)
{
    diff_vec_release(&p->strings);
    diff_idset_release(&p->strset);
    diff_vec_release(&p->funcs);
    diff_idset_release(&p->funcset);
    diff_vec_release(&p->locs);
    diff_idset_release(&p->locset);
    diff_vec_release(&p->maps);
    diff_vec_release(&p->sample_locs);
    free(p->out.p);
    free(p->sub.p);
    free(p->sub2.p);
}

int diff_export_pprof(const diff_snapshot *snap, const diff_snapshot *base, uint8_t **out, size_t *len,
                      char *err, size_t errlen)
{
    if (base && diff_snapshot_locs(base) != diff_snapshot_locs(snap)) {
        diff_errf(err, errlen, "export: the base does not share the snapshot's frame table");
        return -EINVAL;
    }
    pp *p = calloc(1, sizeof(*p));
    if (!p) {
        diff_errf(err, errlen, "export: out of memory");
        return -ENOMEM;
    }
    p->snap = snap;
    p->base = base;
    p->lt = diff_snapshot_locs(snap);
    diff_vec_init(&p->strings, sizeof(const char *));
    diff_vec_init(&p->funcs, sizeof(pp_func));
    diff_vec_init(&p->locs, sizeof(pp_loc));
    diff_vec_init(&p->maps, sizeof(pp_map));
    diff_vec_init(&p->sample_locs, sizeof(uint64_t));
    diff_idset_init(&p->strset);
    diff_idset_init(&p->funcset);
    diff_idset_init(&p->locset);
    pp_encode(p);
    int rc = p->oom ? -ENOMEM : gzip_buffer(p->out.p, p->out.len, out, len);
    if (rc)
        diff_errf(err, errlen, "export: out of memory");
    pp_release(p);
    free(p);
    return rc;
}
