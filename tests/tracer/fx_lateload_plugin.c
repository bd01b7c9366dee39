/* fx_lateload_plugin: dlopen'ed by fx_lateload after the attach; its
 * allocation goes through its own GOT, patched when it is loaded. */
#include <stdlib.h>

static const int alloc_line = __LINE__ + 3;
void *lateplug_alloc(size_t n)
{
    return malloc(n);
}

int lateplug_line(void)
{
    return alloc_line;
}

const char *lateplug_file(void)
{
    return __FILE__;
}
