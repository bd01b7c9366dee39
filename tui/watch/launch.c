/* launch.c: find the program, refuse what LD_PRELOAD cannot trace
 * (static, setuid), and start it with the tracer preloaded. An exec
 * failure in the child comes back through a close-on-exec pipe. */
#include "launch.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_status.h"
#include "util.h"

#ifndef LEAKTOP_TRACER_REL
#define LEAKTOP_TRACER_REL "../lib/leaktop/libleaktop.so"
#endif

/* The tracer library next to this executable (../lib/leaktop/libleaktop.so),
 * or $LEAKTOP_TRACER. NULL with err filled when it is missing. */
const char *launch_tracer_path(char *err, size_t errlen)
{
    static char path[PATH_MAX];
    const char *env = getenv("LEAKTOP_TRACER");
    if (env && *env) {
        snprintf(path, sizeof(path), "%s", env);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0) {
            snprintf(err, errlen, "cannot find my own executable: %s", strerror(errno));
            return NULL;
        }
        self[n] = 0;
        snprintf(path, sizeof(path), "%s/%s", dirname(self), LEAKTOP_TRACER_REL);
    }
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "tracer library not found at %s (set LEAKTOP_TRACER)", path);
        return NULL;
    }
    char *real = realpath(path, NULL);
    if (real) {
        snprintf(path, sizeof(path), "%s", real);
        free(real);
    }
    return path;
}

/* execvp's search, done up front so that errors are ours to word. */
static int launch_resolve(const char *prog, char *out, size_t outlen)
{
    if (strchr(prog, '/')) {
        snprintf(out, outlen, "%s", prog);
        return access(out, F_OK) == 0 ? 0 : -errno;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int found_noexec = 0;
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        snprintf(out, outlen, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", prog);
        if (access(out, X_OK) == 0) {
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
                return 0;
        } else if (access(out, F_OK) == 0) {
            found_noexec = 1;
        }
        p += len;
        if (*p)
            p++;
    }
    return found_noexec ? -EACCES : -ENOENT;
}

/* 0 when an ELF program has an interpreter (dynamic) or is a script;
 * otherwise the exit status for it, with *why saying what is wrong.
 * *elf: it is an ELF program (what its process's /proc/PID/exe names). */
static int launch_elf_problem(const char *path, const char **why, bool *elf)
{
    *elf = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;  /* exec will say why */
    Elf64_Ehdr eh;
    ssize_t n = pread(fd, &eh, sizeof(eh), 0);
    int status = 0;
    if (n >= 2 && memcmp(&eh, "#!", 2) == 0) {
        status = 0;
    } else if (n < (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        *why = "not an executable program (neither ELF nor a #! script)";
        status = LEAKTOP_EXIT_NOEXEC;
    } else if (eh.e_ident[EI_CLASS] != ELFCLASS64) {
        *why = "not a 64-bit program: the tracer is 64-bit";
        status = LEAKTOP_EXIT_NOEXEC;
    } else {
        *why = "statically linked: the tracer cannot be preloaded into it (LD_PRELOAD needs the dynamic loader)";
        status = LEAKTOP_EXIT_UNTRACEABLE;
        for (unsigned i = 0; i < eh.e_phnum && i < 512; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) != sizeof(ph))
                break;
            if (ph.p_type == PT_INTERP) {
                status = 0;
                *elf = true;
                break;
            }
        }
    }
    close(fd);
    return status;
}

/* 0 when path can be launched traced, and *image is what its process
 * will run; else the exit status, with err saying why. */
static int launch_check(const char *prog, const char *path, int rc, launch_image *image, char *err, size_t errlen)
{
    if (rc == -ENOENT) {
        snprintf(err, errlen, "%s: program not found", prog);
        return LEAKTOP_EXIT_NOTFOUND;
    }
    struct stat st;
    if (rc != 0 || stat(path, &st) != 0 || S_ISDIR(st.st_mode) || access(path, X_OK) != 0) {
        snprintf(err, errlen, "%s: not executable (%s)", prog,
                 rc ? strerror(-rc) : S_ISDIR(st.st_mode) ? "a directory" : strerror(errno));
        return LEAKTOP_EXIT_NOEXEC;
    }
    if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) || ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
        snprintf(err, errlen, "%s: setuid/setgid program: the dynamic loader ignores LD_PRELOAD for it, so it cannot be traced", prog);
        return LEAKTOP_EXIT_UNTRACEABLE;
    }
    const char *why = NULL;
    bool elf;
    int status = launch_elf_problem(path, &why, &elf);
    if (status)
        snprintf(err, errlen, "%s: %s", prog, why);
    else if (elf)
        *image = (launch_image){.known = true, .dev = st.st_dev, .ino = st.st_ino};
    return status;
}

/* Signals ignored, and the mask, when leaktop started (launch_remember_signals). */
static sigset_t launch_ignored_at_start;
static sigset_t launch_mask_at_start;
static bool     launch_signals_known;

void launch_remember_signals(void)
{
    sigemptyset(&launch_ignored_at_start);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            sigaddset(&launch_ignored_at_start, sig);
    }
    sigprocmask(SIG_SETMASK, NULL, &launch_mask_at_start);
    launch_signals_known = true;
}

/* In the child, before exec: the dispositions leaktop was started with.
 * Handlers reset to the default at exec anyway; what leaktop ignores would
 * stay ignored in the program. */
static void launch_child_signals(void)
{
    if (!launch_signals_known)
        return;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        struct sigaction sa = {0};
        sa.sa_handler = sigismember(&launch_ignored_at_start, sig) ? SIG_IGN : SIG_DFL;
        sigaction(sig, &sa, NULL);
    }
    sigprocmask(SIG_SETMASK, &launch_mask_at_start, NULL);
}

/* Our tracer first; the user's own LD_PRELOAD after it. */
static void launch_child_env(const char *tracer, unsigned frames, uint64_t sample_bytes)
{
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(tracer) + (old ? strlen(old) + 1 : 0) + 1;
    char *v = xmalloc(len);
    snprintf(v, len, "%s%s%s", tracer, old && *old ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", v, 1);
    char num[32];
    snprintf(num, sizeof(num), "%u", frames);
    setenv("LEAKTOP_FRAMES", num, 1);
    if (sample_bytes) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)sample_bytes);
        setenv("LEAKTOP_SAMPLE", num, 1);
    }
    snprintf(num, sizeof(num), "%d", (int)getpid());
    setenv("LEAKTOP_PID", num, 1);
    snprintf(num, sizeof(num), "%d", (int)getppid());   /* we are the child: leaktop is our parent */
    setenv("LEAKTOP_LAUNCHER", num, 1);
}

static void launch_child(const launch_spec *spec, const char *path, const char *tracer, int report_fd)
{
    if (spec->new_pgrp)
        setpgid(0, 0);
    int fds[3] = {spec->stdin_fd, spec->stdout_fd, spec->stderr_fd};
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0 && fds[i] != i)
            dup2(fds[i], i);
    launch_child_env(tracer, spec->frames, spec->sample_bytes);
    launch_child_signals();
    execv(path, spec->argv);
    int e = errno;
    if (write(report_fd, &e, sizeof(e)) < 0)
        _exit(LEAKTOP_EXIT_NOEXEC);
    _exit(e == ENOENT ? LEAKTOP_EXIT_NOTFOUND : LEAKTOP_EXIT_NOEXEC);
}

pid_t launch_start(const launch_spec *spec, launch_image *image, int *status, char *err, size_t errlen)
{
    const char *prog = spec->argv[0];
    char path[PATH_MAX];
    *image = (launch_image){.known = false};
    *status = launch_check(prog, path, launch_resolve(prog, path, sizeof(path)), image, err, errlen);
    if (*status)
        return -1;
    const char *tracer = launch_tracer_path(err, errlen);
    if (!tracer) {
        *status = LEAKTOP_EXIT_FAILURE;
        return -1;
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        *status = LEAKTOP_EXIT_FAILURE;
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        launch_child(spec, path, tracer, pipefd[1]);
    close(pipefd[1]);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(pipefd[0]);
        *status = LEAKTOP_EXIT_FAILURE;
        return -1;
    }
    int e = 0;
    ssize_t n = read(pipefd[0], &e, sizeof(e));
    close(pipefd[0]);
    if (n == (ssize_t)sizeof(e)) {
        waitpid(pid, NULL, 0);
        snprintf(err, errlen, "%s: cannot execute: %s", prog, strerror(e));
        *status = e == ENOENT ? LEAKTOP_EXIT_NOTFOUND : LEAKTOP_EXIT_NOEXEC;
        return -1;
    }
    return pid;
}

int launch_exit_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return LEAKTOP_EXIT_FAILURE;
}
