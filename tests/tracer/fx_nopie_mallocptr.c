/* fx_nopie_mallocptr: a non-PIE program that takes malloc's address, as
 * CPython's allocator table does. The linker then defines "malloc" in the
 * executable as its own PLT stub, and dlsym(RTLD_DEFAULT, "malloc") finds
 * that stub whoever interposes: the tracer must still know it was
 * preloaded (and trace), not mistake itself for a dlopen'ed copy. */
#include <stdlib.h>

void *(*volatile alloc)(size_t);
void *kept[3];

int main(void)
{
    alloc = malloc;  /* non-PIE code: an absolute address, a canonical PLT entry */
    for (int i = 0; i < 3; i++)
        kept[i] = alloc(1000);  /* 3000 bytes in 3 blocks, live at exit */
    return 0;
}
