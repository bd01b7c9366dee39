/* modinfo.c: the module listing of `leaktop show --modules`. Each module
 * of the snapshot is registered with a resolver configured as `run` would
 * be (debug dirs, debuginfod) and its debug info loaded, so the listing
 * says where frames would come from on this machine now. */
#include "modinfo.h"

#include <stdint.h>
#include <string.h>

#include "sym.h"

/* Hex build-id to bytes: the length, 0 when absent or malformed. */
static size_t modinfo_build_id(const char *hex, uint8_t *out, size_t max)
{
    size_t n = hex ? strlen(hex) : 0;
    if (n == 0 || n % 2 || n / 2 > max)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

static const char *modinfo_or_dash(const char *s)
{
    return s && *s ? s : "-";
}

int modinfo_write(FILE *out, const diff_snapshot *s, const session_config *cfg)
{
    sym_resolver *r = sym_resolver_new(cfg->debug_dirs, cfg->ndebug_dirs);
    if (!r)
        return -1;
    sym_resolver_set_debuginfod(r, cfg->debuginfod_ms, true);
    size_t n = diff_snapshot_nmodules(s);
    /* Registered first, all of them: debuginfod fetches then run at once. */
    for (size_t i = 0; i < n; i++) {
        const char *path, *hex;
        uint64_t bias;
        diff_snapshot_module(s, i, &path, &hex, &bias);
        uint8_t id[32];
        sym_module m = {.path = path, .bias = bias, .hi = UINT64_MAX, .gen_unloaded = UINT32_MAX,
                        .build_id = id, .build_id_len = modinfo_build_id(hex, id, sizeof(id))};
        sym_resolver_set_module(r, (uint32_t)i, &m);
    }
    fprintf(out, "# module\tbuild-id\tdebug info\tdebug file\tproblem\n");
    for (size_t i = 0; i < n; i++) {
        const char *path, *hex;
        uint64_t bias;
        diff_snapshot_module(s, i, &path, &hex, &bias);
        sym_module_info mi;
        if (sym_resolver_module_info(r, (uint32_t)i, true, &mi) != 0)
            continue;
        fprintf(out, "%s\t%s\t%s%s\t%s\t%s\n", path, modinfo_or_dash(hex), mi.origin,
                mi.dwz ? " + dwz multifile" : "", modinfo_or_dash(mi.debug_path),
                modinfo_or_dash(mi.problem));
    }
    sym_resolver_free(r);
    return 0;
}
