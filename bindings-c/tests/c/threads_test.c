/* One client from 4 pthreads at once: every thread writes and reads its own unique values
 * over all shards (single commands and pipelines); no reply may cross to another thread, and
 * each thread's last error stays its own. */
#include <pthread.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 500

static shardis_client *client;
static int crossed[THREADS];

static void *worker(void *arg) {
    int id = *(int *)arg;
    char key[64], value[64], buf[64], detail[256];
    for (int i = 0; i < ROUNDS; i++) {
        /* thread 0 keeps failing a command; every thread's last error must stay its own */
        if (id == 0 && i % 10 == 0) {
            shardis_reply *r = NULL;
            if (RUN(client, &r, "LPUSH", "t:str", "x") != SHARDIS_SERVER) {
                crossed[id]++;
            }
        }
        if (id == 1 && i % 10 == 5) {
            shardis_reply *r = NULL;
            if (RUN(client, &r, "GET") != SHARDIS_BAD_COMMAND) {
                crossed[id]++;
            }
            shardis_last_error(detail, sizeof detail, NULL);
            if (strstr(detail, "WRONGTYPE") != NULL) {
                crossed[id]++; /* thread 0's detail leaked into thread 1 */
            }
        }
        /* a pipeline of this thread's own */
        if (i % 50 == 0) {
            shardis_pipeline *p = NULL;
            shardis_reply *r = NULL;
            snprintf(value, sizeof value, "pipe-%d-%d", id, i);
            snprintf(key, sizeof key, "tp%d", id);
            const char *set_argv[] = {"SET", key, value};
            const char *get_argv[] = {"GET", key};
            if (shardis_pipeline_new(client, &p) != SHARDIS_OK ||
                shardis_pipeline_append_argv(p, 3, set_argv, NULL) != SHARDIS_OK ||
                shardis_pipeline_append_argv(p, 2, get_argv, NULL) != SHARDIS_OK ||
                shardis_pipeline_exec(p, &r) != SHARDIS_OK || !equals(shardis_reply_array_element(r, 1), value)) {
                crossed[id]++;
            }
            shardis_reply_free(r);
            shardis_pipeline_free(p);
        }
        snprintf(key, sizeof key, "t%d:%d", id, i % 50);
        snprintf(value, sizeof value, "thread-%d-round-%d", id, i);
        shardis_reply *r = NULL;
        const char *set_argv[] = {"SET", key, value};
        if (shardis_command_argv(client, 3, set_argv, NULL, &r) != SHARDIS_OK) {
            crossed[id]++;
            continue;
        }
        shardis_reply_free(r);
        const char *get_argv[] = {"GET", key};
        if (shardis_command_argv(client, 2, get_argv, NULL, &r) != SHARDIS_OK) {
            crossed[id]++;
            continue;
        }
        const char *got = text_of(r, buf, sizeof buf);
        if (got == NULL || strcmp(got, value) != 0) {
            crossed[id]++;
        }
        shardis_reply_free(r);
    }
    return NULL;
}

int main(void) {
    char url[1024];
    /* generous deadlines: under valgrind on a busy 2-core machine a call can take seconds */
    snprintf(url, sizeof url, "redis+cluster://%s?timeout=10s&connect_timeout=5s", env("SHARDIS_CLUSTER_NODES"));
    CHECK_OK(shardis_client_new(url, &client));
    shardis_reply *r = NULL;
    CHECK_OK(RUN(client, &r, "SET", "t:str", "a string"));
    shardis_reply_free(r);
    pthread_t threads[THREADS];
    int ids[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ids[t] = t;
        CHECK(pthread_create(&threads[t], NULL, worker, &ids[t]) == 0, "pthread_create");
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0, "pthread_join");
        CHECK(crossed[t] == 0, "thread %d: %d wrong or failed replies", t, crossed[t]);
    }
    shardis_client_free(client);
    PASS("threads_test");
    return 0;
}
