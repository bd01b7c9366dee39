/* inject_files.h: the files the injector has a process load from memory,
 * when the process cannot see ours (a container, a chroot: another root).
 * Used by inject.c only. */
#ifndef INJECT_FILES_H
#define INJECT_FILES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* len bytes at off of fd: 0, or -1 when fewer could be read. */
int inject_pread(int fd, void *buf, size_t len, uint64_t off);

/* The first section of type `type` (SHT_DYNSYM, SHT_DYNAMIC) of the ELF64
 * file `path` and the string table it links, each at most 64 MiB, the
 * strings NUL-terminated: 0 with *data, *size, *strs, *strsize (freed by
 * the caller), 1 when the file has none, -1 when it is no readable ELF64
 * file. */
int inject_elf_section(const char *path, uint32_t type, void **data, size_t *size, char **strs, size_t *strsize);

/* A library the process loads from a memory file: our copy's path, the
 * name its memory file gets (what /proc/PID/maps shows: "/memfd:NAME"). */
typedef struct inject_file {
    char path[PATH_MAX];
    char name[64];
} inject_file;

#define INJECT_FILES_MAX 16

/* Whether process pid sees `path` as the very file we do (its root may be
 * another: a container's, a chroot). */
bool inject_sees_file(pid_t pid, const char *path);

/* What loading `lib` takes in a process that sees none of our files: the
 * libraries it needs beyond glibc's own (which the process has, in the
 * version its programs were built for), each after the ones it needs, then
 * `lib` itself, named "libleaktop.so". The count, or -1 with err. */
int inject_file_plan(const char *lib, inject_file *out, int max, char *err, size_t errlen);

/* Writes our file `path` into descriptor `fd` of process pid (a memory
 * file it just made). 0, or -1 with err. */
int inject_file_copy(pid_t pid, int fd, const char *path, char *err, size_t errlen);

#endif
