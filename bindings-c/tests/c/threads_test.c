/* One client from 4 pthreads at once: every thread writes and reads its own unique values
 * over all shards; no reply may cross to another thread. */
#include <pthread.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 500

static shardis_client *client;
static int crossed[THREADS];

static void *worker(void *arg) {
    int id = *(int *)arg;
    char key[64], value[64], buf[64];
    for (int i = 0; i < ROUNDS; i++) {
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
    snprintf(url, sizeof url, "redis+cluster://%s", env("SHARDIS_CLUSTER_NODES"));
    CHECK_OK(shardis_client_new(url, &client));
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
