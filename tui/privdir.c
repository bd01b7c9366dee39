/* privdir.c: leaktop's private per-run directory (see privdir.h). Shared
 * /tmp is hostile ground: names there are guessable and another user may
 * have created them first, as files or as symlinks to root's files. */
#include "privdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char privdir_path[PATH_MAX];

/* A base directory we may make our directory in: ours and private
 * ($XDG_RUNTIME_DIR), or any sticky/plain directory ($TMPDIR, /tmp), where
 * mkdtemp's exclusive create is what keeps others out. */
static const char *privdir_base(void)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (xdg && *xdg == '/' && lstat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 077) == 0)
        return xdg;
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

static int privdir_make(char *err, size_t errlen)
{
    if (privdir_path[0])
        return 0;
    char tmpl[PATH_MAX];
    int n = snprintf(tmpl, sizeof(tmpl), "%s/leaktop-XXXXXX", privdir_base());
    if (n < 0 || (size_t)n >= sizeof(tmpl)) {
        snprintf(err, errlen, "%s: directory name too long", privdir_base());
        return -1;
    }
    if (!mkdtemp(tmpl)) {
        snprintf(err, errlen, "%s: cannot create a private directory: %s", privdir_base(), strerror(errno));
        return -1;
    }
    snprintf(privdir_path, sizeof(privdir_path), "%s", tmpl);
    return 0;
}

int privdir_create(const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
    if (privdir_make(err, errlen) != 0)
        return -1;
    int n = snprintf(path, pathlen, "%s/%s", privdir_path, name);
    if (n < 0 || (size_t)n >= pathlen) {
        snprintf(err, errlen, "%s/%s: path too long", privdir_path, name);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return fd;
}

void privdir_release(void)
{
    if (privdir_path[0] && rmdir(privdir_path) == 0)
        privdir_path[0] = 0;
}
