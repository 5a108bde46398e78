/* Several backends from C: a TOML config with backends, prefix routes (remove_prefix) and a
 * catch-all over the standalone nodes; keys land on their route's node, a multi-key command
 * over several routes is split and merged, one over several routes that cannot be split is
 * SHARDIS_CROSS_SHARD before anything is sent, and a bad route is SHARDIS_CONFIG naming it. */
#include "check.h"

int main(void) {
    char nodes[900];
    snprintf(nodes, sizeof nodes, "%s", env("SHARDIS_STANDALONE_NODES"));
    const char *n0 = strtok(nodes, ",");
    const char *n1 = strtok(NULL, ",");
    const char *n2 = strtok(NULL, ",");
    CHECK(n0 && n1 && n2, "three standalone nodes");
    char toml[2048];
    snprintf(toml, sizeof toml,
             "[backends.sessions]\nmode = \"jump\"\nnodes = [\"%s\"]\n"
             "[backends.cache]\nmode = \"jump\"\nnodes = [\"%s\"]\n"
             "[backends.main]\nmode = \"jump\"\nnodes = [\"%s\"]\n"
             "[[routes]]\nprefix = \"sess:\"\nbackend = \"sessions\"\n"
             "[[routes]]\nprefix = \"cache:\"\nremove_prefix = true\nbackend = \"cache\"\n"
             "[catch_all]\nbackend = \"main\"\n",
             n0, n1, n2);
    shardis_client *c = NULL;
    shardis_reply *r = NULL;
    CHECK_OK(shardis_client_new(toml, &c));
    CHECK_OK(RUN(c, &r, "MSET", "sess:c1", "a", "cache:c1", "b", "c:plain", "c"));
    CHECK(equals(r, "OK"), "MSET over three routes -> OK");
    shardis_reply_free(r);

    const char *expect[][2] = {{"sess:c1", NULL}, {"cache:c1", NULL}, {"c:plain", NULL}};
    expect[0][1] = n0;
    expect[1][1] = n1;
    expect[2][1] = n2;
    for (size_t i = 0; i < 3; i++) {
        char node[64];
        CHECK_OK(shardis_client_node_for(c, expect[i][0], strlen(expect[i][0]), node, sizeof node, NULL));
        CHECK(strcmp(node, expect[i][1]) == 0, "%s on %s (got %s)", expect[i][0], expect[i][1], node);
    }

    /* the node itself holds "c1" (prefix removed), read through a one-node client */
    char url[256];
    shardis_client *direct = NULL;
    snprintf(url, sizeof url, "redis://%s/?mode=jump", n1);
    CHECK_OK(shardis_client_new(url, &direct));
    CHECK_OK(RUN(direct, &r, "GET", "c1"));
    CHECK(equals(r, "b"), "the cache node stores the key without its prefix");
    shardis_reply_free(r);
    shardis_client_free(direct);

    CHECK_OK(RUN(c, &r, "MGET", "c:plain", "cache:c1", "nope", "sess:c1"));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_ARRAY && shardis_reply_array_len(r) == 4, "MGET of 4");
    CHECK(equals(shardis_reply_array_element(r, 0), "c") && equals(shardis_reply_array_element(r, 1), "b") &&
              shardis_reply_type(shardis_reply_array_element(r, 2)) == SHARDIS_REPLY_NIL &&
              equals(shardis_reply_array_element(r, 3), "a"),
          "MGET merged in key order");
    shardis_reply_free(r);

    shardis_result res = RUN(c, &r, "RENAME", "sess:c1", "cache:c2");
    CHECK(res == SHARDIS_CROSS_SHARD, "RENAME across routes -> SHARDIS_CROSS_SHARD, got %u", (unsigned)res);
    CHECK(strstr(last_error(), "different routes") != NULL, "the detail says why: %s", last_error());
    CHECK_OK(RUN(c, &r, "EXISTS", "sess:c1", "cache:c2"));
    CHECK(shardis_reply_integer(r) == 1, "nothing was renamed");
    shardis_reply_free(r);
    CHECK_OK(RUN(c, &r, "DEL", "sess:c1", "cache:c1", "c:plain"));
    CHECK(shardis_reply_integer(r) == 3, "DEL summed over the routes");
    shardis_reply_free(r);
    shardis_client_free(c);

    char bad[2048];
    snprintf(bad, sizeof bad, "[backends.a]\nmode = \"jump\"\nnodes = [\"%s\"]\n[[routes]]\nprefix = \"x\"\nbackend = \"b\"\n[catch_all]\nbackend = \"a\"\n", n0);
    c = NULL;
    res = shardis_client_new(bad, &c);
    CHECK(res == SHARDIS_CONFIG && c == NULL, "a route to an unknown backend -> SHARDIS_CONFIG");
    CHECK(strstr(last_error(), "routes[0].backend") != NULL, "the detail names the key: %s", last_error());
    PASS("routes_test");
    return 0;
}
