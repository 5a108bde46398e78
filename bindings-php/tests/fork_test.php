<?php
// RELIABILITY K1/K2: a client used in the parent, then fork(): children use it with unique
// tokens and must never see another process' reply; a child exiting never closes or QUITs
// the parent's connections; the parent keeps working throughout.
require __DIR__ . '/lib.php';

$r = cluster_client();
$parentKey = '{fork}parent';
$r->set($parentKey, 'p0');
$before = $r->stats();
$cycles = 100;
for ($i = 0; $i < $cycles; $i++) {
    $token = "t$i-" . bin2hex(random_bytes(4));
    $pid = pcntl_fork();
    check($pid >= 0, 'fork');
    if ($pid === 0) {
        // K1: the inherited client works in the child (new connections, same API)
        $c = cluster_client();
        $ok = $c->set("{fork}c$i", $token) === true && $c->get("{fork}c$i") === $token
            && $r->get("{fork}c$i") === $token;
        exit($ok ? 0 : 3);
    }
    // the parent talks on its own connections while the child runs
    check_same(true, $r->set($parentKey, "p$i"), 'parent write during the child');
    check_same("p$i", $r->get($parentKey), 'parent read during the child (no crossed reply)');
    pcntl_waitpid($pid, $status);
    check(pcntl_wifexited($status) && pcntl_wexitstatus($status) === 0, "child $i saw its own replies", $status);
    check_same($token, $r->get("{fork}c$i"), "the child's write is there");
}
// K2: the children's exits never closed the parent's sockets: the parent still uses the
// connections it had (no reconnect beyond the first use of each node).
$after = $r->stats();
check_same('p' . ($cycles - 1), $r->get($parentKey), 'parent still works after 100 forks');
$opened = static fn (array $s): int => array_sum(array_map(fn ($n) => $n['connects'] ?? 0, $s['nodes'] ?? []));
check($opened($after) - $opened($before) <= count(fixture_nodes('cluster')), 'the parent reconnected at most once per node', [$opened($before), $opened($after)]);
done();
