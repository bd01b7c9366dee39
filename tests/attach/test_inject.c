/* test_inject.c: the ptrace injector on programs started without leaktop,
 * with a probe library standing in for the tracer:
 *   - 25 injections while four threads allocate, reallocate and free as fast
 *     as they can and verify their data, one thread is blocked in read() and
 *     real-time signals (queued, with a value) are sent around each attach:
 *     every call made, every signal delivered with its value, the read
 *     restarted, the data intact and the program's own exit status;
 *   - a program stopped with SIGSTOP: injected, and still stopped after;
 *   - the refusals, each with its status and the program untouched.
 * Usage: test_inject FIXTURE STATIC_FIXTURE PROBE.so */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "exit_status.h"
#include "inject.h"
#include "target.h"
#include "util.h"

static const char *fixture, *fixture_static, *probe;

/* Starts a fixture with its stdout on a pipe and waits for "ready". */
static pid_t start(const char *prog, const char *mode, const char *arg, FILE **out)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl(prog, prog, mode, arg, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    *out = fdopen(fd[0], "r");
    char line[64] = "";
    if (!fgets(line, sizeof(line), *out) || strcmp(line, "ready\n") != 0)
        fprintf(stderr, "%s %s: no ready line\n", prog, mode);
    return pid;
}

static void stop(pid_t pid, FILE *out)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (out)
        fclose(out);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_stress_loop(void)
{
    enum { CYCLES = 25 };
    FILE *out;
    pid_t pid = start(fixture, "stress", "120", &out);
    int64_t stopped[CYCLES];
    int sum = 0, sent = 0;
    for (int i = 0; i < CYCLES; i++) {
        union sigval v = {.sival_int = i + 1};
        CHECK(sigqueue(pid, SIGRTMIN, v) == 0);
        sent++, sum += i + 1;
        inject_stats st;
        char err[512] = "";
        inject_refusal r = inject_library(pid, probe, "leaktop_attach", "PROBE=1\n", &st, err, sizeof(err));
        if (r != INJECT_OK)
            fprintf(stderr, "cycle %d: %s\n", i, err);
        CHECK_INT(r, INJECT_OK);
        CHECK_INT(st.call_result, i + 1);
        CHECK(st.threads == 6);
        stopped[i] = st.stopped_ns;
        v.sival_int = 1000;
        CHECK(sigqueue(pid, SIGRTMIN, v) == 0);
        sent++, sum += 1000;
        util_sleep_ms(20);
    }
    kill(pid, SIGUSR2);
    int wst = 0;
    waitpid(pid, &wst, 0);
    char line[256] = "", want[256];
    CHECK(fgets(line, sizeof(line), out) != NULL);
    fclose(out);
    snprintf(want, sizeof(want), "rt=%d sum=%d reader=0 corrupt=0\n", sent, sum);
    CHECK_STR(line, want);
    CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 42);
    qsort(stopped, CYCLES, sizeof(stopped[0]), cmp_i64);
    printf("stopped per attach (6 threads): median %.3f ms, max %.3f ms\n", stopped[CYCLES / 2] / 1e6,
           stopped[CYCLES - 1] / 1e6);
}

/* utime + stime of a process, in clock ticks, or -1. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2)
        return -1;
    return ut + st;
}

static void test_sigstopped(void)
{
    FILE *out;
    pid_t pid = start(fixture, "idle", NULL, &out);
    /* Stopped, a program cannot run on to a safe point: stop it in its
     * pause(), not on its way there (after "ready" it may still be inside
     * stdio, on a loaded machine long enough for SIGSTOP to land there). */
    for (int i = 0; i < 400 && target_state(pid) != 'S'; i++)
        util_sleep_ms(5);
    kill(pid, SIGSTOP);
    for (int i = 0; i < 200 && target_state(pid) != 'T'; i++)
        util_sleep_ms(5);
    CHECK(target_state(pid) == 'T');
    inject_stats st;
    char err[512] = "";
    inject_refusal r = inject_library(pid, probe, "leaktop_attach", "PROBE=1\n", &st, err, sizeof(err));
    if (r != INJECT_OK)
        fprintf(stderr, "stopped program: %s\n", err);
    CHECK_INT(r, INJECT_OK);
    CHECK_INT(st.call_result, 1);
    util_sleep_ms(50);
    CHECK(target_state(pid) == 'T');   /* still stopped: the stop was not lost */
    kill(pid, SIGCONT);
    for (int i = 0; i < 200 && target_state(pid) == 'T'; i++)
        util_sleep_ms(5);
    if (target_state(pid) == 'T')
        fprintf(stderr, "after SIGCONT: state %c\n", target_state(pid)), check_failures++;
    /* Back in its pause(), not spinning on a wrongly restored syscall. */
    long cpu0 = cpu_ticks(pid);
    util_sleep_ms(300);
    long cpu1 = cpu_ticks(pid);
    if (cpu0 < 0 || cpu1 - cpu0 > 3)
        fprintf(stderr, "after SIGCONT: %ld CPU ticks in 300 ms\n", cpu1 - cpu0), check_failures++;
    stop(pid, out);
}

static void expect_refusal(pid_t pid, inject_refusal want, const char *words)
{
    char err[512] = "";
    inject_stats st;
    inject_refusal r = inject_library(pid, probe, "leaktop_attach", "PROBE=1\n", &st, err, sizeof(err));
    CHECK_INT(r, want);
    if (!strstr(err, words))
        fprintf(stderr, "refusal: \"%s\" lacks \"%s\"\n", err, words), check_failures++;
    CHECK(strchr(err, '\n') == NULL);
}

static void test_refusals(void)
{
    expect_refusal((pid_t)0x3ffffff0, INJECT_NO_PROCESS, "does not exist");

    pid_t z = fork();
    if (z == 0)
        _exit(0);
    for (int i = 0; i < 200 && target_state(z) != 'Z'; i++)
        util_sleep_ms(5);
    expect_refusal(z, INJECT_ZOMBIE, "zombie");
    waitpid(z, NULL, 0);

    FILE *out;
    pid_t pid = start(fixture, "idle", NULL, &out);
    CHECK(ptrace(PTRACE_SEIZE, pid, 0, 0) == 0);   /* we are its debugger */
    expect_refusal(pid, INJECT_TRACED, "already traced");
    ptrace(PTRACE_DETACH, pid, 0, 0);

    /* Another user: a child that became nobody (and so lost every
     * capability) may not inject the idle fixture, which is ours. */
    pid_t other = fork();
    if (other == 0) {
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(2);
        char err[512] = "";
        inject_refusal r = inject_check(pid, err, sizeof(err));
        _exit(r == INJECT_DENIED && strstr(err, "another user") ? 0 : 1);
    }
    int wst;
    waitpid(other, &wst, 0);
    CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    stop(pid, out);

    pid = start(fixture_static, "idle", NULL, &out);
    expect_refusal(pid, INJECT_STATIC, "statically linked");
    stop(pid, out);

    pid = start(fixture, "seccomp", NULL, &out);
    util_sleep_ms(50);
    expect_refusal(pid, INJECT_SECCOMP, "seccomp strict");
    char st = target_state(pid);
    CHECK(st == 'S');   /* untouched: still blocked in its read */
    stop(pid, out);

    /* yama may not be writable here: the wording of each scope. */
    char err[512];
    inject_denied_why(1, 1, true, false, err, sizeof(err));
    CHECK(strstr(err, "kernel.yama.ptrace_scope is 1") && strstr(err, "sysctl"));
    inject_denied_why(1, 2, true, false, err, sizeof(err));
    CHECK(strstr(err, "kernel.yama.ptrace_scope is 2") && strstr(err, "root"));
    inject_denied_why(1, 3, true, true, err, sizeof(err));
    CHECK(strstr(err, "kernel.yama.ptrace_scope is 3"));
    inject_denied_why(1, 0, true, false, err, sizeof(err));
    CHECK(strstr(err, "CAP_SYS_PTRACE") && strstr(err, "dumpable"));

    /* Each refusal its own status. */
    int seen[256] = {0};
    for (inject_refusal r = INJECT_NO_PROCESS; r <= INJECT_FAILED; r++) {
        int s = inject_exit_status(r);
        CHECK(s > 0 && s < 256 && !seen[s]);
        seen[s] = 1;
    }
    CHECK_INT(inject_exit_status(INJECT_DENIED), LEAKTOP_EXIT_PTRACE_DENIED);
}

static void test_dlopen_failure(void)
{
    FILE *out;
    pid_t pid = start(fixture, "idle", NULL, &out);
    char err[512] = "";
    inject_stats st;
    CHECK_INT(inject_library(pid, "/nonexistent/libnothing.so", "leaktop_attach", "x", &st, err, sizeof(err)),
              INJECT_FAILED);
    if (!strstr(err, "could not load") || !strstr(err, "No such file"))
        fprintf(stderr, "dlopen failure said: %s\n", err), check_failures++;
    CHECK_INT(inject_library(pid, probe, "no_such_function", "x", &st, err, sizeof(err)), INJECT_FAILED);
    if (!strstr(err, "has no no_such_function"))
        fprintf(stderr, "dlsym failure said: %s\n", err), check_failures++;
    CHECK(target_alive(pid));
    stop(pid, out);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_inject FIXTURE STATIC_FIXTURE PROBE.so\n");
        return 2;
    }
    fixture = argv[1], fixture_static = argv[2], probe = argv[3];
    signal(SIGPIPE, SIG_IGN);
    test_refusals();
    test_dlopen_failure();
    test_sigstopped();
    test_stress_loop();
    return check_report("test_inject");
}
