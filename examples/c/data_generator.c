/* Scenario S2's data generator in C: write N hashes "emp:0000000001"… (optionally with a
 * hash tag, "emp:{avgo}:0000000001") in pipelines of 100 through shardis, then print how
 * many keys each node got — routed by libshardis exactly as Envoy/twemproxy or the cluster
 * would place them.
 *   usage: data_generator <config: URL, TOML/JSON text or file> <keys> [tag]
 * Build: cc data_generator.c $(pkg-config --cflags --libs shardis) -o data_generator */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardis.h"

#define BATCH 100
#define MAX_NODES 64

static int fail(const char *what, shardis_result r) {
    char detail[512];
    shardis_last_error(detail, sizeof detail, NULL);
    fprintf(stderr, "data_generator: %s: %s (%s)\n", what, shardis_result_message(r), detail);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <config> <keys> [tag]\n", argv[0]);
        return 2;
    }
    long keys = strtol(argv[2], NULL, 10);
    const char *tag = argc > 3 ? argv[3] : NULL;
    shardis_client *client = NULL;
    shardis_result r = shardis_client_new(argv[1], &client);
    if (r != SHARDIS_OK) {
        return fail("config", r);
    }
    char names[MAX_NODES][64];
    long counts[MAX_NODES] = {0};
    int nodes = 0;
    shardis_pipeline *pipe = NULL;
    if ((r = shardis_pipeline_new(client, &pipe)) != SHARDIS_OK) {
        return fail("pipeline", r);
    }
    long errors = 0;
    for (long i = 1; i <= keys; i++) {
        char key[96], id[24], salary[24];
        if (tag != NULL) {
            snprintf(key, sizeof key, "emp:{%s}:%010ld", tag, i);
        } else {
            snprintf(key, sizeof key, "emp:%010ld", i);
        }
        snprintf(id, sizeof id, "%ld", i);
        snprintf(salary, sizeof salary, "%ld", 50000 + (i * 7919) % 100000);
        const char *cmd[] = {"HSET", key, "id", id, "name", "employee", "salary", salary};
        if ((r = shardis_pipeline_append_argv(pipe, 8, cmd, NULL)) != SHARDIS_OK) {
            return fail("append", r);
        }
        char node[64];
        if ((r = shardis_client_node_for(client, key, strlen(key), node, sizeof node, NULL)) != SHARDIS_OK) {
            return fail("node_for", r);
        }
        int n = 0;
        while (n < nodes && strcmp(names[n], node) != 0) {
            n++;
        }
        if (n == nodes) {
            if (nodes == MAX_NODES) {
                fprintf(stderr, "data_generator: more than %d nodes\n", MAX_NODES);
                return 1;
            }
            snprintf(names[nodes++], sizeof names[0], "%s", node);
        }
        counts[n]++;
        if (shardis_pipeline_len(pipe) == BATCH || i == keys) {
            shardis_reply *replies = NULL;
            if ((r = shardis_pipeline_exec(pipe, &replies)) != SHARDIS_OK) {
                return fail("exec", r);
            }
            for (size_t k = 0; k < shardis_reply_array_len(replies); k++) {
                errors += shardis_reply_type(shardis_reply_array_element(replies, k)) == SHARDIS_REPLY_ERROR;
            }
            shardis_reply_free(replies);
        }
    }
    printf("%ld hashes %s, %ld errors\n", keys, tag ? "with a hash tag" : "without a tag", errors);
    for (int n = 0; n < nodes; n++) {
        printf("  %-22s %8ld  %5.1f%%\n", names[n], counts[n], 100.0 * (double)counts[n] / (double)keys);
    }
    shardis_pipeline_free(pipe);
    shardis_client_free(client);
    return errors == 0 ? 0 : 1;
}
