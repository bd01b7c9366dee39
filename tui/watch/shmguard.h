/* shmguard.h: reading a shared mapping that someone else may truncate.
 * A read past the end of a truncated file is a SIGBUS; the guard catches
 * it for registered mappings only, puts zero pages where the file went
 * (every value the session reads is validated, and zeros read as "nothing
 * there"), and remembers that it happened, so the reader can say so in one
 * line instead of dying. Private to the watch library. */
#ifndef LEAKTOP_SHMGUARD_H
#define LEAKTOP_SHMGUARD_H

#include <stdbool.h>
#include <stddef.h>

/* Registers [base, base+size). 0, or -1 when too many are registered (the
 * mapping is then read unguarded). */
int  shmguard_add(void *base, size_t size);
void shmguard_remove(void *base);
/* True once a read of the mapping at base faulted (the file shrank). */
bool shmguard_hit(const void *base);

#endif
