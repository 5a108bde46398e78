/* Checks for the C test programs: a failed check prints where and why, then exits 1. */
#ifndef SHARDIS_TEST_CHECK_H
#define SHARDIS_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardis.h"

static int checks_done = 0; /* incremented by CHECK */

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        checks_done++;                                                          \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* The calling thread's last error detail (static buffer: single-threaded use). */
static inline const char *last_error(void) {
    static char buf[512];
    shardis_last_error(buf, sizeof buf, NULL);
    return buf;
}

#define CHECK_OK(call)                                                          \
    do {                                                                        \
        shardis_result r_ = (call);                                             \
        CHECK(r_ == SHARDIS_OK, "%s -> %u (%s): %s", #call, (unsigned)r_,       \
              shardis_result_message(r_), last_error());                        \
    } while (0)

/* A required environment variable (the run script sets them). */
static inline const char *env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "FAIL: %s is not set (run through bindings-c/tests/run.sh)\n", name);
        exit(1);
    }
    return v;
}

/* Run a command given as NUL-terminated strings. */
static inline shardis_result run(shardis_client *c, shardis_reply **out, size_t argc, const char **argv) {
    return shardis_command_argv(c, argc, argv, NULL, out);
}

#define RUN(c, out, ...)                                                        \
    run((c), (out), sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *), \
        (const char *[]){__VA_ARGS__})

/* The reply's bytes as a NUL-terminated copy in `buf` (for comparisons). */
static inline const char *text_of(const shardis_reply *r, char *buf, size_t len) {
    size_t n = 0;
    const char *s = shardis_reply_string(r, &n);
    if (s == NULL) {
        return NULL;
    }
    if (n >= len) {
        n = len - 1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Does the reply hold exactly the NUL-terminated text `want`? (false for non-strings) */
static inline int equals(const shardis_reply *r, const char *want) {
    size_t n = 0;
    const char *s = shardis_reply_string(r, &n);
    return s != NULL && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Does the reply's text contain `part`? */
static inline int contains(const shardis_reply *r, const char *part) {
    char buf[512];
    const char *s = text_of(r, buf, sizeof buf);
    return s != NULL && strstr(s, part) != NULL;
}

#define PASS(name) printf("PASS %s (%d checks)\n", (name), checks_done)

#endif
