/* fx_h_atexit_lib: a plugin whose atexit handler and destructor allocate
 * when it is dlclose'd (both run inside dlclose). */
#include <stdlib.h>

void *fx_atexit_kept, *fx_dtor_kept;

static void at_exit_handler(void)
{
    fx_atexit_kept = malloc(123); // @expect exit size_diff=615 count_diff=5
}

__attribute__((constructor)) static void plugin_init(void)
{
    atexit(at_exit_handler);  /* registered against this library: runs at dlclose */
}

__attribute__((destructor)) static void plugin_fini(void)
{
    fx_dtor_kept = malloc(321); // @expect exit size_diff=1605 count_diff=5
}
