<?php
// Demo of scenario S3 (run by scripts/demo.sh): php-fpm with 2 static workers and the
// shardis extension serves 100 requests of s3_app.php through cgi-fcgi; the Redis servers'
// own counters then show how many connections and topology calls those requests cost.
//   SHARDIS_CLUSTER='{"nodes":[...]}' SHARDIS_PHP_EXT=/path/libshardis_php.so php fpm_demo.php
require __DIR__ . '/../../bindings-php/tests/lib.php';
require __DIR__ . '/../../bindings-php/tests/fpm.php';

$nodes = fixture_nodes('cluster');
$fpm = new Fpm((string) getenv('SHARDIS_PHP_EXT'), 2);
$app = __DIR__ . '/s3_app.php';
$conns0 = info_sum($nodes, 'stats', 'total_connections_received');
$topo0 = topology_calls($nodes);
$bodies = [];
for ($i = 0; $i < 100; $i += 2) {
    $params = fn (int $id) => ['SHARDIS_NODES' => implode(',', $nodes), 'QUERY_STRING' => "id=$id"];
    array_push($bodies, ...$fpm->cgiFcgi($app, [$params($i), $params($i + 1)]));
}
$conns = info_sum($nodes, 'stats', 'total_connections_received') - $conns0;
$topo = topology_calls($nodes) - $topo0;
$pids = array_unique(array_map(fn ($b) => json_decode($b, true)['pid'] ?? 0, $bodies));
echo "one response: ", $bodies[99];
printf("100 requests served by %d php-fpm workers; each request built a new Shardis\\Client and ran 5 commands on 3 shards\n", count($pids));
printf("new TCP connections seen by the %d Redis nodes: %d (at most workers × nodes = %d; a per-request client would open ~300)\n", count($nodes), $conns, 2 * count($nodes));
printf("CLUSTER SHARDS/SLOTS calls: %d (one per worker; predis makes one per request)\n", $topo);
$fpm->stop();
exit($conns <= 2 * count($nodes) && $topo <= 2 ? 0 : 1);
