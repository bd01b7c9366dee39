/* snapjson.c: the JSON snapshot form of PRODUCT.md §9, read by a small,
 * strict recursive-descent parser driven by the schema:
 *   {"frames_limit":N,"traces":[{"size":S,"count":C,
 *     "frames":[{"file":F,"line":L,"function":FN,"module":M,"inlined":B,
 *                "address":"0xA","offset":"0xO"}]}]}
 * Optional top-level "label", "pid", "elapsed_s"; unknown keys are skipped
 * (their values still parsed strictly, nesting at most JSON_MAX_DEPTH). */
#include "diff_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { JSON_MAX_DEPTH = 64 };

typedef struct jparser {
    const uint8_t *p;
    size_t         len, pos;
    const char    *name;
    char          *err;
    size_t         errlen;
    bool           failed;
    diff_loctab   *lt;
    diff_snapshot *snap;
    diff_vec       str;      /* char: the string being decoded */
    diff_vec       ids;      /* uint32_t: the trace's frame ids */
    uint32_t       deepest;  /* most frames in one trace */
} jparser;

static bool jfail(jparser *j, const char *what)
{
    if (!j->failed)
        diff_errf(j->err, j->errlen, "%s: JSON error at byte %zu: %s", j->name, j->pos, what);
    j->failed = true;
    return false;
}

static void jws(jparser *j)
{
    while (j->pos < j->len) {
        uint8_t c = j->p[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        j->pos++;
    }
}

static int jpeek(jparser *j)
{
    jws(j);
    return j->pos < j->len ? j->p[j->pos] : -1;
}

static bool jexpect(jparser *j, char c)
{
    if (jpeek(j) != c) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", c);
        return jfail(j, what);
    }
    j->pos++;
    return true;
}

static bool jliteral(jparser *j, const char *word)
{
    size_t n = strlen(word);
    if (j->len - j->pos < n || memcmp(j->p + j->pos, word, n) != 0)
        return jfail(j, "invalid literal");
    j->pos += n;
    return true;
}

/* ---- strings ---------------------------------------------------------------- */

static bool jput(jparser *j, const void *b, size_t n)
{
    char *dst = diff_vec_push(&j->str, n);
    if (!dst)
        return jfail(j, "out of memory");
    memcpy(dst, b, n);
    return true;
}

static bool jput_cp(jparser *j, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80)
        b[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800)
        b[0] = (uint8_t)(0xc0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
    else if (cp < 0x10000)
        b[0] = (uint8_t)(0xe0 | cp >> 12), b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)),
        b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
    else
        b[0] = (uint8_t)(0xf0 | cp >> 18), b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f)),
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f)), n = 4;
    return jput(j, b, n);
}

static bool jhex4(jparser *j, uint32_t *out)
{
    if (j->len - j->pos < 4)
        return jfail(j, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = j->p[j->pos++];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return jfail(j, "bad \\u escape");
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* \uXXXX, with surrogate pairs; a lone surrogate (Python writes those for
 * undecodable file names) becomes U+FFFD rather than an error. */
static bool jescape_u(jparser *j)
{
    uint32_t cp;
    if (!jhex4(j, &cp))
        return false;
    if (cp >= 0xd800 && cp <= 0xdbff && j->len - j->pos >= 6
        && j->p[j->pos] == '\\' && j->p[j->pos + 1] == 'u') {
        size_t save = j->pos;
        uint32_t lo;
        j->pos += 2;
        if (!jhex4(j, &lo))
            return false;
        if (lo >= 0xdc00 && lo <= 0xdfff)
            return jput_cp(j, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
        j->pos = save;
    }
    if (cp == 0)
        return jfail(j, "NUL character in string");
    if (cp >= 0xd800 && cp <= 0xdfff)
        cp = 0xfffd;
    return jput_cp(j, cp);
}

static bool jescape(jparser *j)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (j->pos >= j->len)
        return jfail(j, "unterminated string");
    uint8_t c = j->p[j->pos++];
    if (c == 'u')
        return jescape_u(j);
    const char *hit = c ? strchr(from, c) : NULL;
    if (!hit)
        return jfail(j, "bad escape");
    return jput(j, &to[hit - from], 1);
}

/* Raw bytes must be valid UTF-8 without control characters. */
static bool jraw(jparser *j)
{
    uint8_t tmp[5] = { 0 };
    size_t avail = j->len - j->pos;
    memcpy(tmp, j->p + j->pos, avail < 4 ? avail : 4);
    if (tmp[0] < 0x20)
        return jfail(j, "control character in string");
    int n = diff_utf8_len(tmp);
    if (n == 0)
        return jfail(j, "invalid UTF-8 in string");
    bool ok = jput(j, j->p + j->pos, (size_t)n);
    j->pos += (size_t)n;
    return ok;
}

/* Decodes a string into j->str (NUL-terminated). */
static bool jstring(jparser *j)
{
    if (!jexpect(j, '"'))
        return false;
    j->str.len = 0;
    for (;;) {
        if (j->pos >= j->len)
            return jfail(j, "unterminated string");
        uint8_t c = j->p[j->pos];
        if (c == '"') {
            j->pos++;
            return jput(j, "", 1);
        }
        if (c == '\\') {
            j->pos++;
            if (!jescape(j))
                return false;
        } else if (!jraw(j)) {
            return false;
        }
    }
}

/* A string (interned) or null. */
static bool jstring_or_null(jparser *j, const char **out)
{
    if (jpeek(j) == 'n') {
        *out = NULL;
        return jliteral(j, "null");
    }
    if (!jstring(j))
        return false;
    *out = diff_loctab_intern_str(j->lt, j->str.data, j->str.len - 1);
    return *out ? true : jfail(j, "out of memory");
}

/* ---- numbers ------------------------------------------------------------------- */

/* Scans a JSON number; says whether it is a plain integer. */
static bool jnumber_span(jparser *j, size_t *start, bool *integer)
{
    jws(j);
    *start = j->pos;
    *integer = true;
    const uint8_t *p = j->p;
    size_t i = j->pos, n = j->len;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n || p[i] < '0' || p[i] > '9')
        return jfail(j, "expected a number");
    if (p[i] == '0')
        i++;
    else
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    if (i < n && p[i] == '.') {
        *integer = false;
        if (++i >= n || p[i] < '0' || p[i] > '9')
            return jfail(j, "bad number");
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        *integer = false;
        if (++i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            return jfail(j, "bad number");
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    j->pos = i;
    return true;
}

/* An integer in [min, max]. */
static bool jint(jparser *j, int64_t min, int64_t max, int64_t *out)
{
    size_t start;
    bool integer;
    if (!jnumber_span(j, &start, &integer))
        return false;
    if (!integer)
        return jfail(j, "expected an integer");
    bool neg = j->p[start] == '-';
    int64_t v = 0;
    for (size_t i = start + neg; i < j->pos; i++) {
        int d = j->p[i] - '0';
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, d, &v))
            return jfail(j, "integer out of range");
    }
    /* Accumulated negatively so INT64_MIN parses. */
    if (!neg && __builtin_sub_overflow((int64_t)0, v, &v))
        return jfail(j, "integer out of range");
    if (v < min || v > max)
        return jfail(j, "integer out of range");
    *out = v;
    return true;
}

static bool jdouble(jparser *j, double *out)
{
    size_t start;
    bool integer;
    if (!jnumber_span(j, &start, &integer))
        return false;
    char buf[64];
    size_t n = j->pos - start;
    if (n >= sizeof buf)
        return jfail(j, "number too long");
    memcpy(buf, j->p + start, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

static bool jbool(jparser *j, bool *out)
{
    *out = jpeek(j) == 't';
    return jliteral(j, *out ? "true" : "false");
}

/* ---- generic values (unknown keys) ------------------------------------------------ */

static bool jskip(jparser *j, int depth);

static bool jskip_container(jparser *j, int depth, char close, bool object)
{
    j->pos++;
    if (depth >= JSON_MAX_DEPTH)
        return jfail(j, "nested too deeply");
    if (jpeek(j) == close) {
        j->pos++;
        return true;
    }
    for (;;) {
        if (object && !(jstring(j) && jexpect(j, ':')))
            return false;
        if (!jskip(j, depth + 1))
            return false;
        int c = jpeek(j);
        j->pos++;
        if (c == close)
            return true;
        if (c != ',')
            return jfail(j, "expected ',' or end of container");
    }
}

static bool jskip(jparser *j, int depth)
{
    double d;
    switch (jpeek(j)) {
    case '{': return jskip_container(j, depth, '}', true);
    case '[': return jskip_container(j, depth, ']', false);
    case '"': return jstring(j);
    case 't': return jliteral(j, "true");
    case 'f': return jliteral(j, "false");
    case 'n': return jliteral(j, "null");
    default: return jdouble(j, &d);
    }
}

/* ---- objects driven by a key table ------------------------------------------------ */

typedef bool (*jfield_fn)(jparser *j, void *obj);

typedef struct jfield {
    const char *key;
    jfield_fn   parse;
} jfield;

static bool jarray(jparser *j, bool (*elem)(jparser *j, void *ctx), void *ctx)
{
    if (!jexpect(j, '['))
        return false;
    if (jpeek(j) == ']') {
        j->pos++;
        return true;
    }
    for (;;) {
        if (!elem(j, ctx))
            return false;
        int c = jpeek(j);
        j->pos++;
        if (c == ']')
            return true;
        if (c != ',')
            return jfail(j, "expected ',' or ']'");
    }
}

/* Parses an object whose known keys are in `fields` (each at most once;
 * `seen` has one slot per field); other keys are skipped. */
static bool jobject(jparser *j, const jfield *fields, size_t n, bool *seen, void *obj, int depth)
{
    if (!jexpect(j, '{'))
        return false;
    if (jpeek(j) == '}') {
        j->pos++;
        return true;
    }
    for (;;) {
        if (!jstring(j) || !jexpect(j, ':'))
            return false;
        size_t k = 0;
        while (k < n && strcmp(fields[k].key, j->str.data) != 0)
            k++;
        if (k < n && seen[k])
            return jfail(j, "duplicate key");
        bool ok = k < n ? (seen[k] = true, fields[k].parse(j, obj)) : jskip(j, depth + 1);
        if (!ok)
            return false;
        int c = jpeek(j);
        j->pos++;
        if (c == '}')
            return true;
        if (c != ',')
            return jfail(j, "expected ',' or '}'");
    }
}

/* ---- frames ------------------------------------------------------------------------- */

static bool f_file(jparser *j, void *o) { return jstring_or_null(j, &((diff_frame *)o)->file); }
static bool f_function(jparser *j, void *o) { return jstring_or_null(j, &((diff_frame *)o)->function); }
static bool f_module(jparser *j, void *o) { return jstring_or_null(j, &((diff_frame *)o)->module); }
static bool f_inlined(jparser *j, void *o) { return jbool(j, &((diff_frame *)o)->inlined); }
static bool f_system_name(jparser *j, void *o) { return jstring_or_null(j, &((diff_frame *)o)->system_name); }

static bool f_line(jparser *j, void *o)
{
    int64_t v;
    if (!jint(j, 0, UINT32_MAX, &v))
        return false;
    ((diff_frame *)o)->line = (uint32_t)v;
    return true;
}

/* "0x1f2e" as leaktop's reports and exports write addresses, or null. */
static bool jhex_or_null(jparser *j, uint64_t *out)
{
    *out = 0;
    if (jpeek(j) == 'n')
        return jliteral(j, "null");
    if (!jstring(j))
        return false;
    const char *s = j->str.data;
    size_t n = j->str.len - 1;
    if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return jfail(j, "an address is not a 0x hex string");
    uint64_t v = 0;
    for (size_t i = 2; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return jfail(j, "an address is not a 0x hex string");
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

static bool f_address(jparser *j, void *o) { return jhex_or_null(j, &((diff_frame *)o)->address); }
static bool f_offset(jparser *j, void *o) { return jhex_or_null(j, &((diff_frame *)o)->offset); }

/* "address" and "offset" (optional) make leaktop's own JSON exports read
 * back exactly: frames without a file are keyed by (module, offset). */
static const jfield frame_fields[] = {
    { "file", f_file }, { "line", f_line }, { "function", f_function },
    { "module", f_module }, { "inlined", f_inlined }, { "address", f_address },
    { "offset", f_offset }, { "system_name", f_system_name },
};

static bool jframe(jparser *j, void *ctx)
{
    (void)ctx;
    diff_frame f = { 0 };
    bool seen[sizeof frame_fields / sizeof *frame_fields] = { 0 };
    if (!jobject(j, frame_fields, sizeof frame_fields / sizeof *frame_fields, seen, &f, 3))
        return false;
    uint32_t id = diff_loctab_intern(j->lt, &f);
    uint32_t *slot = diff_vec_push(&j->ids, 1);
    if (id == UINT32_MAX || !slot)
        return jfail(j, "out of memory");
    *slot = id;
    return true;
}

/* ---- traces ---------------------------------------------------------------------------- */

typedef struct jtrace {
    int64_t size, count;
} jtrace;

static bool t_size(jparser *j, void *o) { return jint(j, 0, INT64_MAX, &((jtrace *)o)->size); }
static bool t_count(jparser *j, void *o) { return jint(j, 0, INT64_MAX, &((jtrace *)o)->count); }
static bool t_frames(jparser *j, void *o)
{
    (void)o;
    return jarray(j, jframe, NULL);
}

static const jfield trace_fields[] = {
    { "size", t_size }, { "count", t_count }, { "frames", t_frames },
};

static bool jtrace_elem(jparser *j, void *ctx)
{
    (void)ctx;
    jtrace t = { .size = 0, .count = 1 };
    bool seen[sizeof trace_fields / sizeof *trace_fields] = { 0 };
    j->ids.len = 0;
    if (!jobject(j, trace_fields, sizeof trace_fields / sizeof *trace_fields, seen, &t, 1))
        return false;
    if (!seen[0])
        return jfail(j, "trace without \"size\"");
    if (j->ids.len > UINT32_MAX)
        return jfail(j, "too many frames");
    uint32_t n = (uint32_t)j->ids.len;
    int rc = diff_snapshot_add(j->snap, t.size, t.count, j->ids.data, n);
    if (rc == -EOVERFLOW)
        return jfail(j, "total size or count overflows");
    if (rc)
        return jfail(j, "out of memory");
    if (n > j->deepest)
        j->deepest = n;
    return true;
}

/* ---- top level ---------------------------------------------------------------------------- */

typedef struct jtop {
    int64_t     frames_limit, pid, sample_bytes;
    bool        sampled;
    double      elapsed;
    const char *label;
} jtop;

static bool s_limit(jparser *j, void *o) { return jint(j, 0, UINT32_MAX, &((jtop *)o)->frames_limit); }
static bool s_pid(jparser *j, void *o) { return jint(j, INT32_MIN, INT32_MAX, &((jtop *)o)->pid); }
static bool s_elapsed(jparser *j, void *o) { return jdouble(j, &((jtop *)o)->elapsed); }
static bool s_label(jparser *j, void *o) { return jstring_or_null(j, &((jtop *)o)->label); }
static bool s_sample(jparser *j, void *o) { return jint(j, 0, INT64_MAX, &((jtop *)o)->sample_bytes); }
static bool s_sampled(jparser *j, void *o) { return jbool(j, &((jtop *)o)->sampled); }
static bool s_traces(jparser *j, void *o)
{
    (void)o;
    return jarray(j, jtrace_elem, NULL);
}

static const jfield top_fields[] = {
    { "frames_limit", s_limit }, { "traces", s_traces }, { "label", s_label },
    { "pid", s_pid }, { "elapsed_s", s_elapsed }, { "sample_bytes", s_sample }, { "sampled", s_sampled },
};

static bool jdocument(jparser *j)
{
    jtop top = { 0 };
    bool seen[sizeof top_fields / sizeof *top_fields] = { 0 };
    if (!jobject(j, top_fields, sizeof top_fields / sizeof *top_fields, seen, &top, 0))
        return false;
    if (jpeek(j) != -1)
        return jfail(j, "unexpected data after the snapshot object");
    if (!seen[1])
        return jfail(j, "no \"traces\" array");
    /* Without a stated limit, the deepest traceback stands for it. */
    diff_snapshot_set_frames_limit(j->snap, seen[0] ? (uint32_t)top.frames_limit : j->deepest);
    diff_snapshot_set_meta(j->snap, (int)top.pid, top.elapsed);
    diff_snapshot_set_label(j->snap, top.label);
    if (top.sampled && top.sample_bytes <= 0)
        return jfail(j, "\"sampled\" without a positive \"sample_bytes\"");
    diff_snapshot_set_sample_bytes(j->snap, (uint64_t)top.sample_bytes);
    return true;
}

diff_snapshot *diff_snapjson_parse(const uint8_t *data, size_t len, const char *name,
                                   diff_loctab *locs, char *err, size_t errlen)
{
    jparser j = { .p = data, .len = len, .name = name, .err = err, .errlen = errlen, .lt = locs };
    diff_vec_init(&j.str, 1);
    diff_vec_init(&j.ids, sizeof(uint32_t));
    j.snap = diff_snapshot_new(locs, 0);
    if (!j.snap)
        jfail(&j, "out of memory");
    else
        jdocument(&j);
    diff_vec_release(&j.str);
    diff_vec_release(&j.ids);
    if (j.failed) {
        diff_snapshot_free(j.snap);
        return NULL;
    }
    return j.snap;
}
