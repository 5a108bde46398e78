/* The C API on a real 3+3 Redis Cluster and on ring_hash over standalone nodes: replies of
 * every type, binary safety, multi-key split and merge, pipelines with a failing entry,
 * result codes and last-error detail, NULL arguments, configs as URL, TOML and JSON. */
#include "check.h"

static void exercise(shardis_client *c, const char *label) {
    shardis_reply *r = NULL;
    char buf[256];

    /* binary-safe SET/GET */
    const char *set_argv[] = {"SET", "c:bin", "a\0b\xff"};
    const size_t set_len[] = {3, 5, 4};
    CHECK_OK(shardis_command_argv(c, 3, set_argv, set_len, &r));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_STATUS, "%s: SET is a status", label);
    CHECK(strcmp(text_of(r, buf, sizeof buf), "OK") == 0, "%s: SET -> OK", label);
    shardis_reply_free(r);
    const char *get_argv[] = {"GET", "c:bin"};
    CHECK_OK(shardis_command_argv(c, 2, get_argv, NULL, &r));
    size_t n = 0;
    const char *s = shardis_reply_string(r, &n);
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_STRING && n == 4 && memcmp(s, "a\0b\xff", 4) == 0,
          "%s: binary value round trip (len %zu)", label, n);
    shardis_reply_free(r);

    /* missing key → NIL; INCR → INTEGER */
    CHECK_OK(RUN(c, &r, "GET", "c:missing"));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_NIL, "%s: missing key is NIL", label);
    CHECK(shardis_reply_string(r, &n) == NULL && n == 0, "%s: NIL has no string", label);
    shardis_reply_free(r);
    CHECK_OK(RUN(c, &r, "DEL", "c:n"));
    shardis_reply_free(r);
    CHECK_OK(RUN(c, &r, "INCRBY", "c:n", "41"));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_INTEGER && shardis_reply_integer(r) == 41,
          "%s: INCRBY -> 41", label);
    shardis_reply_free(r);

    /* MSET/MGET over several shards, merged in order */
    CHECK_OK(RUN(c, &r, "MSET", "c:a", "1", "c:b", "2", "c:c", "3", "c:d", "4"));
    shardis_reply_free(r);
    CHECK_OK(RUN(c, &r, "MGET", "c:a", "c:b", "c:none", "c:c", "c:d"));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_ARRAY && shardis_reply_array_len(r) == 5,
          "%s: MGET array of 5", label);
    const char *want[] = {"1", "2", NULL, "3", "4"};
    for (size_t i = 0; i < 5; i++) {
        const shardis_reply *e = shardis_reply_array_element(r, i);
        if (want[i] == NULL) {
            CHECK(shardis_reply_type(e) == SHARDIS_REPLY_NIL, "%s: MGET[%zu] is NIL", label, i);
        } else {
            CHECK(strcmp(text_of(e, buf, sizeof buf), want[i]) == 0, "%s: MGET[%zu]", label, i);
        }
    }
    CHECK(shardis_reply_array_element(r, 5) == NULL, "%s: out of range element is NULL", label);
    shardis_reply_free(r);

    /* HGETALL: an array of field, value */
    CHECK_OK(RUN(c, &r, "DEL", "c:h"));
    shardis_reply_free(r);
    CHECK_OK(RUN(c, &r, "HSET", "c:h", "f", "v"));
    shardis_reply_free(r);
    CHECK_OK(RUN(c, &r, "HGETALL", "c:h"));
    CHECK(shardis_reply_array_len(r) == 2 &&
              strcmp(text_of(shardis_reply_array_element(r, 0), buf, sizeof buf), "f") == 0,
          "%s: HGETALL", label);
    shardis_reply_free(r);

    /* a server error reply: SHARDIS_SERVER, the text in the last error, no reply written */
    shardis_reply *untouched = (shardis_reply *)0x1;
    shardis_result res = RUN(c, &untouched, "LPUSH", "c:bin", "x");
    CHECK(res == SHARDIS_SERVER, "%s: WRONGTYPE -> SHARDIS_SERVER, got %u", label, (unsigned)res);
    CHECK(strstr(last_error(), "WRONGTYPE") != NULL, "%s: last error has the server text: %s", label, last_error());
    CHECK(untouched == (shardis_reply *)0x1, "%s: no output written on failure", label);

    /* pipeline: one reply per command, a failed one as an ERROR element */
    shardis_pipeline *p = NULL;
    CHECK_OK(shardis_pipeline_new(c, &p));
    const char *p1[] = {"SET", "c:p", "v"};
    const char *p2[] = {"GET", "c:p"};
    const char *p3[] = {"HGET", "c:p", "f"};
    const char *p4[] = {"MGET", "c:a", "c:b"};
    CHECK_OK(shardis_pipeline_append_argv(p, 3, p1, NULL));
    CHECK_OK(shardis_pipeline_append_argv(p, 2, p2, NULL));
    CHECK_OK(shardis_pipeline_append_argv(p, 3, p3, NULL));
    CHECK_OK(shardis_pipeline_append_argv(p, 3, p4, NULL));
    CHECK(shardis_pipeline_len(p) == 4, "%s: 4 queued", label);
    CHECK_OK(shardis_pipeline_exec(p, &r));
    CHECK(shardis_pipeline_len(p) == 0, "%s: exec empties the pipeline", label);
    CHECK(shardis_reply_array_len(r) == 4, "%s: 4 replies", label);
    { const shardis_reply *e1 = shardis_reply_array_element(r, 1); const char *t1 = text_of(e1, buf, sizeof buf); CHECK(t1 != NULL && strcmp(t1, "v") == 0, "%s: pipeline GET (type %u)", label, (unsigned)shardis_reply_type(e1)); }
    const shardis_reply *failed = shardis_reply_array_element(r, 2);
    CHECK(shardis_reply_type(failed) == SHARDIS_REPLY_ERROR &&
              strstr(text_of(failed, buf, sizeof buf), "WRONGTYPE") != NULL,
          "%s: failed entry is an ERROR element: %s", label, buf);
    CHECK(shardis_reply_array_len(shardis_reply_array_element(r, 3)) == 2, "%s: pipelined MGET", label);
    shardis_reply_free(r);
    shardis_pipeline_free(p);

    /* node_for names a node */
    char node[64];
    size_t node_len = 0;
    CHECK_OK(shardis_client_node_for(c, "c:a", 3, node, sizeof node, &node_len));
    CHECK(node_len == strlen(node) && strchr(node, ':') != NULL, "%s: node_for -> %s", label, node);
}

int main(void) {
    char url[1024];
    shardis_client *c = NULL;

    /* ring_hash over standalone nodes, from a URL */
    snprintf(url, sizeof url, "redis://%s/?mode=ring_hash", env("SHARDIS_STANDALONE_NODES"));
    CHECK_OK(shardis_client_new(url, &c));
    exercise(c, "ring_hash");
    shardis_client_free(c);

    /* a Redis Cluster, from TOML text */
    char toml[1024];
    char nodes[900];
    snprintf(nodes, sizeof nodes, "%s", env("SHARDIS_CLUSTER_NODES"));
    char *first = strtok(nodes, ",");
    snprintf(toml, sizeof toml, "mode = \"cluster\"\nnodes = [\"%s\"]\n", first);
    CHECK_OK(shardis_client_new(toml, &c));
    exercise(c, "cluster");
    shardis_reply *r = NULL;
    shardis_result res = RUN(c, &r, "MSET", "{x}a", "1", "{y}b", "2");
    CHECK(res == SHARDIS_OK, "cluster: MSET across slots is split: %s", last_error());
    shardis_reply_free(r);
    res = RUN(c, &r, "RENAME", "{x}a", "{y}b");
    CHECK(res == SHARDIS_CROSS_SHARD, "cluster: cross-slot RENAME -> SHARDIS_CROSS_SHARD, got %u", (unsigned)res);
    shardis_client_free(c);

    /* JSON config */
    char json[1024];
    snprintf(json, sizeof json, "{\"mode\": \"cluster\", \"nodes\": [\"%s\"], \"timeout\": \"2s\"}", first);
    CHECK_OK(shardis_client_new(json, &c));
    CHECK_OK(RUN(c, &r, "PING"));
    shardis_reply_free(r);
    shardis_client_free(c);

    /* bad configs name the key */
    c = NULL;
    res = shardis_client_new("mode = \"cluster\"\nnodes = [\"127.0.0.1:1\"]\ntimeout = \"soon\"\n", &c);
    CHECK(res == SHARDIS_CONFIG && c == NULL, "bad duration -> SHARDIS_CONFIG, got %u", (unsigned)res);
    CHECK(strstr(last_error(), "timeout") != NULL, "the detail names the key: %s", last_error());
    size_t full = 0;
    char tiny[4];
    CHECK_OK(shardis_last_error(tiny, sizeof tiny, &full));
    CHECK(strlen(tiny) == 3 && full > 3, "last error truncates safely (full %zu)", full);

    /* NULL arguments are codes, never crashes; free(NULL) is a no-op */
    CHECK(shardis_client_new(NULL, &c) == SHARDIS_NULL_ARGUMENT, "NULL config");
    CHECK(shardis_client_new(url, NULL) == SHARDIS_NULL_ARGUMENT, "NULL out");
    CHECK(shardis_command_argv(NULL, 1, (const char *[]){"PING"}, NULL, &r) == SHARDIS_NULL_ARGUMENT, "NULL client");
    CHECK_OK(shardis_client_new(url, &c));
    CHECK(shardis_command_argv(c, 1, NULL, NULL, &r) == SHARDIS_NULL_ARGUMENT, "NULL argv");
    CHECK(shardis_command_argv(c, 2, (const char *[]){"GET", NULL}, NULL, &r) == SHARDIS_NULL_ARGUMENT, "NULL argv element");
    CHECK(shardis_command_argv(c, 0, (const char *[]){"GET"}, NULL, &r) == SHARDIS_INVALID_ARGUMENT, "argc 0");
    CHECK(shardis_command_argv(c, 1, (const char *[]){"PING"}, NULL, NULL) == SHARDIS_NULL_ARGUMENT, "NULL out");
    CHECK(RUN(c, &r, "NOSUCHCOMMAND") == SHARDIS_UNSUPPORTED, "unknown command -> SHARDIS_UNSUPPORTED");
    CHECK(RUN(c, &r, "GET") == SHARDIS_BAD_COMMAND, "wrong arity -> SHARDIS_BAD_COMMAND");
    CHECK(shardis_pipeline_new(NULL, NULL) == SHARDIS_NULL_ARGUMENT, "NULL pipeline client");
    CHECK(shardis_pipeline_append_argv(NULL, 1, (const char *[]){"PING"}, NULL) == SHARDIS_NULL_ARGUMENT, "NULL pipeline");
    CHECK(shardis_pipeline_exec(NULL, &r) == SHARDIS_NULL_ARGUMENT, "NULL pipeline exec");
    CHECK(shardis_reply_type(NULL) == SHARDIS_REPLY_NIL && shardis_reply_array_len(NULL) == 0 &&
              shardis_reply_integer(NULL) == 0 && shardis_reply_array_element(NULL, 0) == NULL,
          "accessors on NULL");
    shardis_client_free(c);
    shardis_client_free(NULL);
    shardis_reply_free(NULL);
    shardis_pipeline_free(NULL);

    /* every code has a message; the version is there */
    const shardis_result codes[] = {SHARDIS_OK, SHARDIS_NULL_ARGUMENT, SHARDIS_INVALID_ARGUMENT, SHARDIS_PANIC,
                                    SHARDIS_CONFIG, SHARDIS_CROSS_SHARD, SHARDIS_UNSUPPORTED, SHARDIS_BAD_COMMAND,
                                    SHARDIS_CONNECT, SHARDIS_AUTH, SHARDIS_IO, SHARDIS_TIMEOUT,
                                    SHARDIS_INDETERMINATE, SHARDIS_PROTOCOL, SHARDIS_SERVER, SHARDIS_OTHER};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(shardis_result_message(codes[i]) != NULL && *shardis_result_message(codes[i]) != '\0', "message %u", (unsigned)codes[i]);
    }
    CHECK(strcmp(shardis_version(), "0.1.0") == 0, "version %s", shardis_version());

    /* nothing listens: SHARDIS_CONNECT */
    CHECK_OK(shardis_client_new("redis://127.0.0.1:1/?mode=ring_hash&connect_timeout=200ms", &c));
    res = RUN(c, &r, "GET", "k");
    CHECK(res == SHARDIS_CONNECT || res == SHARDIS_IO, "connection refused -> SHARDIS_CONNECT, got %u: %s", (unsigned)res, last_error());
    shardis_client_free(c);
    PASS("api_test");
    return 0;
}
