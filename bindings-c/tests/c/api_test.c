/* The C API on a real 3+3 Redis Cluster and on ring_hash over standalone nodes: replies of
 * every type, binary safety, multi-key split and merge, pipelines with a failing entry,
 * result codes and last-error detail, NULL arguments, configs as URL, TOML and JSON. */
#include "check.h"

static void exercise(shardis_client *c, const char *label) {
    shardis_reply *r = NULL;

    /* binary-safe SET/GET */
    const char *set_argv[] = {"SET", "c:bin", "a\0b\xff"};
    const size_t set_len[] = {3, 5, 4};
    CHECK_OK(shardis_command_argv(c, 3, set_argv, set_len, &r));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_STATUS, "%s: SET is a status", label);
    CHECK(equals(r, "OK"), "%s: SET -> OK", label);
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
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_INTEGER && shardis_reply_integer(r) == 41 &&
              shardis_reply_double(r) == 41.0,
          "%s: INCRBY -> 41", label);
    shardis_reply_free(r);

    /* four keys on more than one node: node placement depends on the nodes' ports (ring_hash
     * hashes host:port), so the keys are picked from candidates rather than fixed */
    static char key_buf[4][8];
    const char *k[4];
    char first_node[64], node_of[64];
    int spread = 0;
    size_t picked = 1;
    snprintf(key_buf[0], sizeof key_buf[0], "c:a");
    CHECK_OK(shardis_client_node_for(c, key_buf[0], strlen(key_buf[0]), first_node, sizeof first_node, NULL));
    for (char ch = 'b'; ch <= 'z' && picked < 4; ch++) {
        char cand[8];
        snprintf(cand, sizeof cand, "c:%c", ch);
        CHECK_OK(shardis_client_node_for(c, cand, strlen(cand), node_of, sizeof node_of, NULL));
        int elsewhere = strcmp(first_node, node_of) != 0;
        /* the last slot waits for a key elsewhere unless one was already picked */
        if (picked < 3 || spread || elsewhere) {
            snprintf(key_buf[picked++], sizeof key_buf[0], "%s", cand);
            spread |= elsewhere;
        }
    }
    for (size_t i = 0; i < 4; i++) k[i] = key_buf[i];
    CHECK(picked == 4 && spread, "%s: c:a..c:z span several nodes", label);

    /* a key with a NUL byte, an empty value */
    const char *nul_argv[] = {"SET", "c:k\0ey", ""};
    const size_t nul_len[] = {3, 6, 0};
    CHECK_OK(shardis_command_argv(c, 3, nul_argv, nul_len, &r));
    shardis_reply_free(r);
    const char *nul_get[] = {"STRLEN", "c:k\0ey"};
    const size_t nul_get_len[] = {6, 6};
    CHECK_OK(shardis_command_argv(c, 2, nul_get, nul_get_len, &r));
    CHECK(shardis_reply_integer(r) == 0, "%s: key with NUL, empty value", label);
    shardis_reply_free(r);
    const char *plain_get[] = {"EXISTS", "c:k"};
    CHECK_OK(shardis_command_argv(c, 2, plain_get, NULL, &r));
    CHECK(shardis_reply_integer(r) == 0, "%s: the NUL is part of the key (c:k does not exist)", label);
    shardis_reply_free(r);
    size_t need = 0;
    CHECK_OK(shardis_client_node_for(c, "c:k\0ey", 6, NULL, 0, &need));
    CHECK(need > 0, "%s: node_for with a NULL buffer reports the length", label);

    /* MSET/MGET over several shards, merged in order */
    CHECK_OK(RUN(c, &r, "MSET", k[0], "1", k[1], "2", k[2], "3", k[3], "4"));
    shardis_reply_free(r);
    CHECK_OK(RUN(c, &r, "MGET", k[0], k[1], "c:none", k[2], k[3]));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_ARRAY && shardis_reply_array_len(r) == 5,
          "%s: MGET array of 5", label);
    const char *want[] = {"1", "2", NULL, "3", "4"};
    for (size_t i = 0; i < 5; i++) {
        const shardis_reply *e = shardis_reply_array_element(r, i);
        if (want[i] == NULL) {
            CHECK(shardis_reply_type(e) == SHARDIS_REPLY_NIL, "%s: MGET[%zu] is NIL", label, i);
        } else {
            CHECK(equals(e, want[i]), "%s: MGET[%zu]", label, i);
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
    CHECK(shardis_reply_array_len(r) == 2 && equals(shardis_reply_array_element(r, 0), "f") &&
              equals(shardis_reply_array_element(r, 1), "v"),
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
    const char *p4[] = {"MGET", k[0], k[1]};
    const size_t p1_len[] = {3, 3, 1};
    CHECK_OK(shardis_pipeline_append_argv(p, 3, p1, p1_len));
    CHECK_OK(shardis_pipeline_append_argv(p, 2, p2, NULL));
    CHECK_OK(shardis_pipeline_append_argv(p, 3, p3, NULL));
    CHECK_OK(shardis_pipeline_append_argv(p, 3, p4, NULL));
    CHECK(shardis_pipeline_len(p) == 4, "%s: 4 queued", label);
    CHECK_OK(shardis_pipeline_exec(p, &r));
    CHECK(shardis_pipeline_len(p) == 0, "%s: exec empties the pipeline", label);
    CHECK(shardis_reply_array_len(r) == 4, "%s: 4 replies", label);
    CHECK(equals(shardis_reply_array_element(r, 0), "OK"), "%s: pipeline SET", label);
    CHECK(equals(shardis_reply_array_element(r, 1), "v"), "%s: pipeline GET", label);
    const shardis_reply *failed = shardis_reply_array_element(r, 2);
    CHECK(shardis_reply_type(failed) == SHARDIS_REPLY_ERROR && contains(failed, "WRONGTYPE"),
          "%s: failed entry is an ERROR element", label);
    CHECK(shardis_reply_array_len(shardis_reply_array_element(r, 3)) == 2, "%s: pipelined MGET", label);
    shardis_reply_free(r);
    /* reused after exec; an empty exec is an empty array; a refused command is an ERROR entry */
    CHECK_OK(shardis_pipeline_exec(p, &r));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_ARRAY && shardis_reply_array_len(r) == 0, "%s: empty exec", label);
    shardis_reply_free(r);
    const char *bad[] = {"NOSUCHCOMMAND"};
    CHECK_OK(shardis_pipeline_append_argv(p, 1, bad, NULL));
    CHECK_OK(shardis_pipeline_append_argv(p, 2, p2, NULL));
    CHECK_OK(shardis_pipeline_exec(p, &r));
    CHECK(shardis_reply_type(shardis_reply_array_element(r, 0)) == SHARDIS_REPLY_ERROR &&
              contains(shardis_reply_array_element(r, 0), "unsupported"),
          "%s: an unroutable command is an ERROR entry", label);
    CHECK(equals(shardis_reply_array_element(r, 1), "v"), "%s: the next entry still ran", label);
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
    /* a keyless command answered by every primary: a MAP of node → reply */
    CHECK_OK(RUN(c, &r, "INFO", "server"));
    CHECK(shardis_reply_type(r) == SHARDIS_REPLY_MAP && shardis_reply_array_len(r) == 6,
          "cluster: INFO is a MAP of 3 primaries (type %u, len %zu)", (unsigned)shardis_reply_type(r),
          shardis_reply_array_len(r));
    CHECK(contains(shardis_reply_array_element(r, 0), ":") &&
              contains(shardis_reply_array_element(r, 1), "redis_version"),
          "cluster: MAP key is a node, value its INFO");
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
    c = (shardis_client *)0x1;
    res = shardis_client_new("mode = \"cluster\"\nnodes = [\"127.0.0.1:1\"]\ntimeout = \"soon\"\n", &c);
    CHECK(res == SHARDIS_CONFIG && c == (shardis_client *)0x1, "bad duration -> SHARDIS_CONFIG, no output, got %u", (unsigned)res);
    CHECK(strstr(last_error(), "timeout") != NULL, "the detail names the key: %s", last_error());
    size_t full = 0;
    char tiny[4];
    CHECK_OK(shardis_last_error(tiny, sizeof tiny, &full));
    CHECK(strlen(tiny) == 3 && full > 3, "last error truncates safely (full %zu)", full);

    /* NULL arguments are codes, never crashes, and outputs stay untouched; free(NULL) is a
     * no-op */
    shardis_client *const c_sentinel = (shardis_client *)0x1;
    shardis_reply *const r_sentinel = (shardis_reply *)0x1;
    c = c_sentinel;
    CHECK(shardis_client_new(NULL, &c) == SHARDIS_NULL_ARGUMENT && c == c_sentinel, "NULL config");
    CHECK(shardis_client_new(url, NULL) == SHARDIS_NULL_ARGUMENT, "NULL out");
    r = r_sentinel;
    CHECK(shardis_command_argv(NULL, 1, (const char *[]){"PING"}, NULL, &r) == SHARDIS_NULL_ARGUMENT && r == r_sentinel, "NULL client");
    CHECK_OK(shardis_client_new(url, &c));
    CHECK(shardis_command_argv(c, 1, NULL, NULL, &r) == SHARDIS_NULL_ARGUMENT && r == r_sentinel, "NULL argv");
    CHECK(shardis_command_argv(c, 2, (const char *[]){"GET", NULL}, NULL, &r) == SHARDIS_NULL_ARGUMENT && r == r_sentinel, "NULL argv element");
    CHECK(shardis_command_argv(c, 0, (const char *[]){"GET"}, NULL, &r) == SHARDIS_INVALID_ARGUMENT && r == r_sentinel, "argc 0");
    CHECK(shardis_command_argv(c, 1, (const char *[]){"PING"}, NULL, NULL) == SHARDIS_NULL_ARGUMENT, "NULL out");
    const size_t huge[] = {(size_t)-1};
    CHECK(shardis_command_argv(c, 1, (const char *[]){"PING"}, huge, &r) == SHARDIS_INVALID_ARGUMENT && r == r_sentinel, "impossible length");
    CHECK(RUN(c, &r, "NOSUCHCOMMAND") == SHARDIS_UNSUPPORTED && r == r_sentinel, "unknown command -> SHARDIS_UNSUPPORTED");
    CHECK(RUN(c, &r, "GET") == SHARDIS_BAD_COMMAND && r == r_sentinel, "wrong arity -> SHARDIS_BAD_COMMAND");
    shardis_pipeline *const p_sentinel = (shardis_pipeline *)0x1;
    shardis_pipeline *p = p_sentinel;
    CHECK(shardis_pipeline_new(NULL, &p) == SHARDIS_NULL_ARGUMENT && p == p_sentinel, "NULL pipeline client");
    CHECK(shardis_pipeline_new(c, NULL) == SHARDIS_NULL_ARGUMENT, "NULL pipeline out");
    CHECK(shardis_pipeline_append_argv(NULL, 1, (const char *[]){"PING"}, NULL) == SHARDIS_NULL_ARGUMENT, "NULL pipeline");
    CHECK(shardis_pipeline_exec(NULL, &r) == SHARDIS_NULL_ARGUMENT && r == r_sentinel, "NULL pipeline exec");
    CHECK_OK(shardis_pipeline_new(c, &p));
    CHECK(shardis_pipeline_append_argv(p, 1, NULL, NULL) == SHARDIS_NULL_ARGUMENT && shardis_pipeline_len(p) == 0, "NULL argv in a pipeline");
    CHECK(shardis_pipeline_exec(p, NULL) == SHARDIS_NULL_ARGUMENT, "NULL exec out");
    shardis_pipeline_free(p);
    CHECK(shardis_pipeline_len(NULL) == 0, "pipeline_len(NULL)");
    char nb[8];
    CHECK(shardis_client_node_for(c, NULL, 0, nb, sizeof nb, NULL) == SHARDIS_NULL_ARGUMENT, "node_for NULL key");
    CHECK(shardis_client_node_for(c, "k", 1, nb, 0, NULL) == SHARDIS_INVALID_ARGUMENT, "node_for len 0");
    CHECK(shardis_client_node_for(NULL, "k", 1, nb, sizeof nb, NULL) == SHARDIS_NULL_ARGUMENT, "node_for NULL client");
    size_t sn = 7;
    CHECK(shardis_reply_type(NULL) == SHARDIS_REPLY_NIL && shardis_reply_array_len(NULL) == 0 &&
              shardis_reply_integer(NULL) == 0 && shardis_reply_double(NULL) == 0.0 &&
              shardis_reply_array_element(NULL, 0) == NULL && shardis_reply_string(NULL, &sn) == NULL && sn == 0,
          "accessors on NULL");
    size_t full_len = 0;
    CHECK_OK(shardis_last_error(NULL, 0, &full_len));
    CHECK(full_len > 0, "last_error can report just the length");
    CHECK(strcmp(shardis_result_message(12345u), "unknown result code") == 0, "an unknown code has a message");
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
