<?php
// The point of the product (issue: persistence across PHP-FPM requests): php-fpm with 2
// static workers serves 240 requests of examples/php/s3_app.php through cgi-fcgi; each
// request builds a new client and runs 5 commands on different shards. The servers' own
// counters must show at most workers × nodes new connections and at most one topology call
// per worker, and none at all in steady state. Then RELIABILITY K4: requests killed by
// max_execution_time while reading large replies leave no dirty connection behind.
require __DIR__ . '/lib.php';
require __DIR__ . '/fpm.php';

$ext = getenv('SHARDIS_PHP_EXT') ?: throw new RuntimeException('SHARDIS_PHP_EXT is not set');
$nodes = fixture_nodes('cluster');
$workers = 2;
$app = realpath(__DIR__ . '/../../examples/php/s3_app.php');
$fpm = new Fpm($ext, $workers, ['display_errors' => '1']);

$conns = fn (): int => info_sum($nodes, 'stats', 'total_connections_received');
$c0 = $conns();
$t0 = topology_calls($nodes);
$pids = [];
$run = function (int $from, int $to) use ($fpm, $app, $nodes, &$pids): void {
    for ($i = $from; $i < $to; $i += 4) {
        $batch = [];
        for ($j = $i; $j < min($i + 4, $to); $j++) {
            $batch[] = ['SHARDIS_NODES' => implode(',', $nodes), 'QUERY_STRING' => "id=$j"];
        }
        foreach ($fpm->cgiFcgi($app, $batch) as $k => $body) {
            $reply = json_decode($body, true);
            check(is_array($reply) && $reply['request'] === (string) ($i + $k), 'the app answered its own request', $body);
            check(in_array($reply['session_written'], $nodes, true), 'nodeFor names a cluster node', $reply);
            check_same([false, false, false], $reply['recent'], 'cross-slot mGet merged');
            $pids[$reply['pid']] = true;
        }
    }
};
$run(0, 40);
// the workers' first requests connected and learned the topology
$c1 = $conns();
$t1 = topology_calls($nodes);
$run(40, 240);
$c2 = $conns();
$t2 = topology_calls($nodes);
$served = count($pids);
printf("  fpm: %d workers served 240 requests; new connections %d (warm-up) + %d (200 steady requests); topology calls %d + %d\n", $served, $c1 - $c0, $c2 - $c1, $t1 - $t0, $t2 - $t1);
check($served >= 1 && $served <= $workers, 'requests were served by the pool', array_keys($pids));
check($c2 - $c0 <= $workers * count($nodes), 'new connections ≤ workers × nodes (not × requests)', $c2 - $c0);
check($t2 - $t0 <= $workers, 'CLUSTER SLOTS/SHARDS calls ≤ workers', $t2 - $t0);
check_same(0, $c2 - $c1, 'steady state: 0 new connections in 200 requests');
check_same(0, $t2 - $t1, 'steady state: 0 topology calls in 200 requests');
check_same(1, cluster_client()->exists('session:239'), 'the last request wrote its session key');

// K4: a request runs out of max_execution_time (1 s of CPU) while it reads 8 MiB replies in
// a loop. The engine's timer signal lands during a read most of the time (reading and
// copying the reply is where the CPU goes); it only raises a flag, the interrupted read is
// resumed (EINTR) and the reply finished, and the engine aborts the script when the method
// returns. The worker's next requests must get their own replies. (A reply too large for
// memory_limit is refused before conversion: errors_test.php.)
$r = cluster_client();
$big = str_repeat('0123456789abcdef', 1 << 19);
$r->set('{k4}big', $big);
$script = __DIR__ . '/fpm_timeout.php';
$aborted = 0;
for ($round = 0; $round < 3; $round++) {
    $bodies = $fpm->cgiFcgi($script, [['SHARDIS_NODES' => implode(',', $nodes), 'QUERY_STRING' => 'mode=burn'], ['SHARDIS_NODES' => implode(',', $nodes), 'QUERY_STRING' => 'mode=burn']]);
    foreach ($bodies as $b) {
        $aborted += str_contains($b, 'Maximum execution time') ? 1 : 0;
        check(!str_contains($b, 'finished'), 'a burn request never finishes', substr($b, 0, 300));
    }
    for ($i = 0; $i < 10; $i++) {
        $token = bin2hex(random_bytes(8));
        $batch = [['SHARDIS_NODES' => implode(',', $nodes), 'QUERY_STRING' => "mode=check&token=$token"], ['SHARDIS_NODES' => implode(',', $nodes), 'QUERY_STRING' => "mode=check&token=$token-2"]];
        foreach ($fpm->cgiFcgi($script, $batch) as $k => $b) {
            $want = $k === 0 ? $token : "$token-2";
            check_same("ok $want " . strlen($big), trim($b), 'after an aborted request the next one reads its own replies');
        }
    }
}
printf("  K4: %d of 6 requests were aborted by max_execution_time; 60 follow-up requests read their own replies\n", $aborted);
check($aborted >= 1, 'the time limit did abort requests', $fpm->log());
$fpm->stop();
done();
