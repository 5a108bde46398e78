/* A client used in the parent, then fork(): each child uses the inherited client with its
 * own token (new connections; the parent's are never touched) and exits; the parent keeps
 * working on its connections throughout. 20 cycles, 0 crossed replies. */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    char url[1024], buf[64], token[64], key[64];
    shardis_client *c = NULL;
    shardis_reply *r = NULL;
    snprintf(url, sizeof url, "redis+cluster://%s", env("SHARDIS_CLUSTER_NODES"));
    CHECK_OK(shardis_client_new(url, &c));
    CHECK_OK(RUN(c, &r, "SET", "fork:parent", "p"));
    shardis_reply_free(r);
    for (int i = 0; i < 20; i++) {
        snprintf(token, sizeof token, "child-%d-%d", i, (int)getpid());
        snprintf(key, sizeof key, "fork:c%d", i);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            int ok = RUN(c, &r, "SET", key, token) == SHARDIS_OK;
            shardis_reply_free(r);
            ok = ok && RUN(c, &r, "GET", key) == SHARDIS_OK && text_of(r, buf, sizeof buf) != NULL &&
                 strcmp(buf, token) == 0;
            shardis_reply_free(r);
            _exit(ok ? 0 : 3);
        }
        CHECK_OK(RUN(c, &r, "GET", "fork:parent"));
        CHECK(strcmp(text_of(r, buf, sizeof buf), "p") == 0, "parent reads its own reply while child %d runs", i);
        shardis_reply_free(r);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d saw its own replies (status %d)", i, status);
        CHECK_OK(RUN(c, &r, "GET", key));
        CHECK(strcmp(text_of(r, buf, sizeof buf), token) == 0, "child %d's write is there", i);
        shardis_reply_free(r);
    }
    shardis_client_free(c);
    PASS("fork_test");
    return 0;
}
