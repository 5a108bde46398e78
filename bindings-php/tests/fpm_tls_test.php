<?php
// Persistence over TLS (issue: "php-fpm persistence: 200 requests, new TLS connections ≤
// workers × nodes, counted from INFO stats"): php-fpm with 2 static workers serves 200
// requests of fpm_tls_app.php (a new Shardis\Cluster with tls:// seeds per request) against
// the TLS cluster. Every node's INFO total_connections_received, read over kept phpredis TLS
// connections, must grow by at most workers × nodes; every answer must be the request's own.
require __DIR__ . '/lib.php';
require __DIR__ . '/fpm.php';

$ext = getenv('SHARDIS_PHP_EXT') ?: throw new RuntimeException('SHARDIS_PHP_EXT is not set');
$nodes = fixture_nodes('tls-cluster');
$ca = tls_file('ca.pem');
$workers = 2;
$requests = 200;
$app = __DIR__ . '/fpm_tls_app.php';
$fpm = new Fpm($ext, $workers, ['display_errors' => '1']);

$conns = fn (): int => info_sum($nodes, 'stats', 'total_connections_received', true);
$c0 = $conns(); // the measuring connections are open from here on
$pids = [];
$handshakes = [];
for ($i = 0; $i < $requests; $i += 4) {
    $batch = [];
    for ($j = $i; $j < min($i + 4, $requests); $j++) {
        $batch[] = ['SHARDIS_NODES' => implode(',', $nodes), 'SHARDIS_CA' => $ca, 'QUERY_STRING' => "id=$j"];
    }
    foreach ($fpm->cgiFcgi($app, $batch) as $k => $body) {
        $reply = json_decode($body, true);
        check(is_array($reply) && $reply['request'] === (string) ($i + $k), 'the page answered its own request', $body);
        check_same([$reply['token'], $reply['token'], $reply['token']], $reply['read'], 'the request read back its own token from three shards');
        check_same(false, $reply['get'], 'its keys were deleted');
        check($reply['tls']['enabled'] && !$reply['tls']['insecure_skip_verify'], 'the worker uses verified TLS', $reply['tls']);
        $pids[$reply['pid']] = true;
        $handshakes[$reply['pid']] = $reply['tls']['handshakes'];
    }
}
$c1 = $conns();
$served = count($pids);
printf("  fpm over TLS: %d workers served %d requests; new TLS connections %d (limit %d = %d workers × %d nodes); TLS handshakes per worker %s\n", $served, $requests, $c1 - $c0, $workers * count($nodes), $workers, count($nodes), json_encode($handshakes));
check($served >= 1 && $served <= $workers, 'requests were served by the pool', array_keys($pids));
check($c1 - $c0 >= 1, 'the servers counted the workers\' connections', $c1 - $c0);
check($c1 - $c0 <= $workers * count($nodes), 'new TLS connections ≤ workers × nodes (not × requests)', $c1 - $c0);
foreach ($handshakes as $pid => $n) {
    check($n >= 1 && $n <= count($nodes), "worker $pid: at most one TLS handshake per node over all its requests", $n);
}
check_same(array_sum($handshakes), $c1 - $c0, 'the workers\' own handshake counts match the servers\' connection counts');
$fpm->stop();
done();
