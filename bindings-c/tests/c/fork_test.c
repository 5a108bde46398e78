/* A client used in the parent — by a second thread that keeps commands in flight while the
 * main thread forks — then fork(): each child uses the inherited client (a command and a
 * pipeline) with its own token and exits; the parent keeps working on its connections
 * throughout. 20 cycles, 0 crossed replies.
 * valgrind: no leak check — a child deliberately abandons (never frees, never closes) the
 * connections it inherited, which valgrind would count as lost at the child's exit; the
 * parent's leaks are checked by the LeakSanitizer run, and valgrind still checks accesses. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static shardis_client *shared;
static volatile int stop_busy;
static int busy_errors;

/* A parent thread that keeps the client busy, so fork() happens while a command is in
 * flight on some connection. */
static void *busy(void *arg) {
    (void)arg;
    char buf[64];
    for (int i = 0; !stop_busy; i++) {
        snprintf(buf, sizeof buf, "busy-%d", i);
        shardis_reply *r = NULL;
        if (RUN(shared, &r, "SET", "fork:busy", buf) != SHARDIS_OK) {
            busy_errors++;
            continue;
        }
        shardis_reply_free(r);
        if (RUN(shared, &r, "GET", "fork:busy") != SHARDIS_OK || !equals(r, buf)) {
            busy_errors++;
        }
        shardis_reply_free(r);
    }
    return NULL;
}

int main(void) {
    char url[1024], token[64], key[64];
    shardis_client *c = NULL;
    shardis_reply *r = NULL;
    /* generous deadlines: under valgrind on a busy 2-core machine a call can take seconds */
    snprintf(url, sizeof url, "redis+cluster://%s?timeout=10s&connect_timeout=5s", env("SHARDIS_CLUSTER_NODES"));
    CHECK_OK(shardis_client_new(url, &c));
    CHECK_OK(RUN(c, &r, "SET", "fork:parent", "p"));
    shardis_reply_free(r);
    shared = c;
    pthread_t busy_thread;
    CHECK(pthread_create(&busy_thread, NULL, busy, NULL) == 0, "pthread_create");
    for (int i = 0; i < 20; i++) {
        snprintf(token, sizeof token, "child-%d-%d", i, (int)getpid());
        snprintf(key, sizeof key, "fork:c%d", i);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            int ok = RUN(c, &r, "SET", key, token) == SHARDIS_OK;
            shardis_reply_free(r);
            ok = ok && RUN(c, &r, "GET", key) == SHARDIS_OK && equals(r, token);
            shardis_reply_free(r);
            /* a pipeline in the child too */
            shardis_pipeline *p = NULL;
            const char *get_argv[] = {"GET", key};
            ok = ok && shardis_pipeline_new(c, &p) == SHARDIS_OK &&
                 shardis_pipeline_append_argv(p, 2, get_argv, NULL) == SHARDIS_OK &&
                 shardis_pipeline_append_argv(p, 2, get_argv, NULL) == SHARDIS_OK &&
                 shardis_pipeline_exec(p, &r) == SHARDIS_OK && equals(shardis_reply_array_element(r, 1), token);
            shardis_reply_free(r);
            shardis_pipeline_free(p);
            _exit(ok ? 0 : 3);
        }
        CHECK_OK(RUN(c, &r, "GET", "fork:parent"));
        CHECK(equals(r, "p"), "parent reads its own reply while child %d runs", i);
        shardis_reply_free(r);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d saw its own replies (status %d)", i, status);
        CHECK_OK(RUN(c, &r, "GET", key));
        CHECK(equals(r, token), "child %d's write is there", i);
        shardis_reply_free(r);
    }
    stop_busy = 1;
    CHECK(pthread_join(busy_thread, NULL) == 0, "pthread_join");
    CHECK(busy_errors == 0, "the busy parent thread saw %d wrong or failed replies", busy_errors);
    shardis_client_free(c);
    PASS("fork_test");
    return 0;
}
