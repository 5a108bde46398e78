/* TLS and authentication through the C API, on real TLS-only redis-servers (with-fixtures.sh):
 * ring_hash and a 3+3 cluster over TLS configured by TOML text and by a rediss:// URL, mutual
 * TLS, each handshake failure as SHARDIS_CONNECT with words saying which, an ACL user's NOPERM
 * as SHARDIS_SERVER, and secrets that never reach the last-error text. */
#include "check.h"

/* Deadlines for the configs that must work: valgrind runs a TLS handshake far slower. */
#define SLOW "timeout = \"20s\"\nconnect_timeout = \"10s\"\n"

static char tls_dir[512];

static const char *pki(const char *file) {
    static char path[4][700];
    static int next = 0;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tls_dir, file);
    return p;
}

/* SET then GET of several keys: a round trip over every node they land on. */
static void round_trips(shardis_client *c, const char *label) {
    shardis_reply *r = NULL;
    char key[32], value[32];
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "lim:tls:%d", i);
        snprintf(value, sizeof value, "v%d", i);
        CHECK_OK(RUN(c, &r, "SET", key, value));
        shardis_reply_free(r);
    }
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "lim:tls:%d", i);
        snprintf(value, sizeof value, "v%d", i);
        CHECK_OK(RUN(c, &r, "GET", key));
        CHECK(equals(r, value), "%s: GET %s read back over TLS", label, key);
        shardis_reply_free(r);
    }
    CHECK_OK(RUN(c, &r, "MGET", "lim:tls:0", "lim:tls:7", "lim:tls:15"));
    CHECK(shardis_reply_array_len(r) == 3 && equals(shardis_reply_array_element(r, 2), "v15"),
          "%s: MGET across nodes over TLS", label);
    shardis_reply_free(r);
}

/* A config that must fail to connect: SHARDIS_CONNECT (or TIMEOUT) with `words` in the detail. */
static void fails_with(const char *config, shardis_result want, const char *words, const char *label) {
    shardis_client *c = NULL;
    CHECK_OK(shardis_client_new(config, &c));
    shardis_reply *r = (shardis_reply *)0x1;
    shardis_result res = RUN(c, &r, "GET", "lim:x");
    CHECK(res == want, "%s: result %u (%s), want %u: %s", label, (unsigned)res,
          shardis_result_message(res), (unsigned)want, last_error());
    CHECK(strstr(last_error(), words) != NULL, "%s: the detail says \"%s\": %s", label, words,
          last_error());
    CHECK(r == (shardis_reply *)0x1, "%s: no reply written", label);
    shardis_client_free(c);
}

int main(void) {
    snprintf(tls_dir, sizeof tls_dir, "%s", env("SHARDIS_TLS_DIR"));
    char nodes[1024], first_standalone[64], first_cluster[64], mtls[64], config[4096];
    snprintf(nodes, sizeof nodes, "%s", env("SHARDIS_TLS_STANDALONE_NODES"));
    snprintf(first_standalone, sizeof first_standalone, "%s", strtok(nodes, ","));
    snprintf(nodes, sizeof nodes, "%s", env("SHARDIS_TLS_CLUSTER_NODES"));
    snprintf(first_cluster, sizeof first_cluster, "%s", strtok(nodes, ","));
    snprintf(nodes, sizeof nodes, "%s", env("SHARDIS_MTLS_STANDALONE_NODES"));
    snprintf(mtls, sizeof mtls, "%s", strtok(nodes, ","));
    shardis_client *c = NULL;
    shardis_reply *r = NULL;

    /* ring_hash over TLS from a rediss:// URL, as the limited ACL user */
    snprintf(config, sizeof config, "rediss://limited:limited-secret-9f3@%s/?mode=ring_hash&timeout=20s&connect_timeout=10s&tls.ca_file=%s",
             env("SHARDIS_TLS_STANDALONE_NODES"), pki("ca.pem"));
    CHECK_OK(shardis_client_new(config, &c));
    round_trips(c, "ring_hash");
    shardis_result res = RUN(c, &r, "SET", "other:x", "1");
    CHECK(res == SHARDIS_SERVER && strstr(last_error(), "NOPERM") != NULL,
          "a key outside the ACL user's pattern -> SHARDIS_SERVER NOPERM, got %u: %s", (unsigned)res,
          last_error());
    shardis_client_free(c);

    /* a 3+3 cluster over TLS from TOML text: nodes learned from CLUSTER SLOTS use TLS too */
    snprintf(config, sizeof config,
             "mode = \"cluster\"\nnodes = [\"%s\"]\n" SLOW "[tls]\nca_file = \"%s\"\n", first_cluster,
             pki("ca.pem"));
    CHECK_OK(shardis_client_new(config, &c));
    round_trips(c, "cluster");
    shardis_client_free(c);

    /* mutual TLS: with the client certificate it works, without it it is a connect error */
    snprintf(config, sizeof config,
             "mode = \"ring_hash\"\nnodes = [\"%s\"]\n" SLOW "[tls]\nca_file = \"%s\"\ncert_file = \"%s\"\nkey_file = \"%s\"\n",
             mtls, pki("ca.pem"), pki("client.pem"), pki("client.key"));
    CHECK_OK(shardis_client_new(config, &c));
    round_trips(c, "mutual TLS");
    shardis_client_free(c);
    snprintf(config, sizeof config, "mode = \"ring_hash\"\nnodes = [\"%s\"]\n" SLOW "[tls]\nca_file = \"%s\"\n",
             mtls, pki("ca.pem"));
    fails_with(config, SHARDIS_CONNECT, "client certificate", "mTLS without a certificate");

    /* handshake failures say which */
    snprintf(config, sizeof config, "mode = \"ring_hash\"\nnodes = [\"%s\"]\n" SLOW "[tls]\nca_file = \"%s\"\n",
             first_standalone, pki("other-ca.pem"));
    fails_with(config, SHARDIS_CONNECT, "unknown CA", "unknown CA");
    snprintf(config, sizeof config,
             "mode = \"ring_hash\"\nnodes = [\"%s\"]\n" SLOW "[tls]\nca_file = \"%s\"\nserver_name = \"wrong.example\"\n",
             first_standalone, pki("ca.pem"));
    fails_with(config, SHARDIS_CONNECT, "name mismatch", "name mismatch");
    snprintf(config, sizeof config, "mode = \"ring_hash\"\nnodes = [\"%s\"]\n" SLOW, first_standalone);
    fails_with(config, SHARDIS_CONNECT, "expects TLS", "plaintext config on a TLS port");
    snprintf(nodes, sizeof nodes, "%s", env("SHARDIS_STANDALONE_NODES"));
    snprintf(config, sizeof config,
             "mode = \"ring_hash\"\nnodes = [\"%s\"]\nconnect_timeout = \"300ms\"\n[tls]\nca_file = \"%s\"\n",
             strtok(nodes, ","), pki("ca.pem"));
    fails_with(config, SHARDIS_CONNECT, "plaintext server on a TLS port", "TLS config on a plaintext port");

    /* bad files fail at construction, naming the key; secrets never reach the last error */
    c = (shardis_client *)0x1;
    snprintf(config, sizeof config,
             "mode = \"ring_hash\"\nnodes = [\"%s\"]\n[tls]\ncert_file = \"%s\"\nkey_file = \"%s\"\n",
             first_standalone, pki("client.pem"), pki("mismatched.key"));
    res = shardis_client_new(config, &c);
    CHECK(res == SHARDIS_CONFIG && c == (shardis_client *)0x1 && strstr(last_error(), "tls.key_file") != NULL,
          "a key that is not the certificate's -> SHARDIS_CONFIG naming tls.key_file: %s", last_error());
    CHECK(strstr(last_error(), "PRIVATE KEY") == NULL, "no key material in the error: %s", last_error());
    snprintf(config, sizeof config,
             "rediss://limited:MARKER-C-PASSWORD-31@%s/?timeout=20s&connect_timeout=10s&tls.ca_file=%s", first_standalone, pki("ca.pem"));
    CHECK_OK(shardis_client_new(config, &c));
    res = RUN(c, &r, "GET", "lim:x");
    CHECK(res == SHARDIS_AUTH, "a wrong password -> SHARDIS_AUTH, got %u: %s", (unsigned)res, last_error());
    CHECK(strstr(last_error(), "MARKER-C-PASSWORD-31") == NULL, "the password is not in the last error: %s",
          last_error());
    shardis_client_free(c);

    printf("PASS tls_test (%d checks)\n", checks_done);
    return 0;
}
