/* privdir.h: the one directory where leaktop creates files of its own (the
 * program's log, screen copies). It is made new for each run with mkdtemp
 * (mode 0700, in $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp) so no other user
 * can plant a file or a symlink where leaktop writes; files in it are
 * created with O_EXCL|O_NOFOLLOW, never opened when they already exist. */
#ifndef LEAKTOP_PRIVDIR_H
#define LEAKTOP_PRIVDIR_H

#include <stdbool.h>
#include <stddef.h>

/* Creates NAME in the private directory (making the directory on first
 * use): a new file, mode 0600, open for writing. The fd, with its path in
 * `path`; or -1 with err filled (one line). */
int  privdir_create(const char *name, char *path, size_t pathlen, char *err, size_t errlen);

/* Removes the private directory if it is empty (files the user was shown
 * stay, and so does the directory then). */
void privdir_release(void);

#endif
