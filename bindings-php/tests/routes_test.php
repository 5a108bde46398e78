<?php
// Several backends from PHP: the config array's backends/routes/catch_all, and the Envoy
// redis_proxy YAML a team ran as a sidecar (Shardis\Client::fromEnvoy). Placement is checked
// on the servers themselves with phpredis.
require __DIR__ . '/lib.php';

$nodes = fixture_nodes('standalone');
foreach ($nodes as $n) {
    node_conn($n)->flushAll();
}
$r = new Shardis\Client([
    'backends' => [
        'sessions' => ['mode' => 'jump', 'nodes' => [$nodes[0]]],
        'cache' => ['mode' => 'jump', 'nodes' => [$nodes[1]]],
        'main' => ['mode' => 'jump', 'nodes' => [$nodes[2]]],
    ],
    'routes' => [
        ['prefix' => 'sess:', 'backend' => 'sessions'],
        ['prefix' => 'cache:', 'backend' => 'cache', 'remove_prefix' => true],
    ],
    'catch_all' => ['backend' => 'main'],
]);
check_same(true, $r->mSet(['sess:1' => 'a', 'cache:x' => 'b', 'plain' => 'c']), 'mSet split over three routes');
check_same(['sess:1'], node_conn($nodes[0])->keys('*'), 'sess: keys on the sessions backend');
check_same(['x'], node_conn($nodes[1])->keys('*'), 'cache: keys stored without their prefix');
check_same(['plain'], node_conn($nodes[2])->keys('*'), 'other keys on the catch-all');
check_same(['c', 'b', false, 'a'], $r->mGet(['plain', 'cache:x', 'nope', 'sess:1']), 'mGet merged in key order');
check_same($nodes[1], $r->nodeFor('cache:x'), 'nodeFor follows the route');
$stats = $r->stats();
check_same(['cache', 'main', 'sessions'], array_keys($stats['routing']['backends']), 'stats per backend');
check_throws(Shardis\CrossShardException::class, fn () => $r->multi()->set('sess:1', 'x')->set('cache:1', 'y')->exec(), 'a transaction across routes');
check_same('a', node_conn($nodes[0])->get('sess:1'), 'the refused transaction sent nothing');
check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client([
    'backends' => ['a' => ['mode' => 'jump', 'nodes' => [$nodes[0]]]],
    'routes' => [['prefix' => 'x', 'backend' => 'nope']],
    'catch_all' => ['backend' => 'a'],
]), 'a route to an unknown backend');

// The same routes from the Envoy YAML.
[$h0, $p0] = explode(':', $nodes[0]);
[$h1, $p1] = explode(':', $nodes[1]);
[$h2, $p2] = explode(':', $nodes[2]);
$cluster = fn (string $name, string $h, string $p) => <<<YAML
  - name: $name
    connect_timeout: 1s
    type: STATIC
    lb_policy: RING_HASH
    load_assignment:
      cluster_name: $name
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: $h, port_value: $p }

YAML;
$yaml = <<<YAML
static_resources:
  listeners:
  - name: redis
    address:
      socket_address: { address: 127.0.0.1, port_value: 16379 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: redis
          settings:
            op_timeout: 1s
          prefix_routes:
            routes:
            - prefix: "sess:"
              cluster: sessions
            - prefix: "cache:"
              remove_prefix: true
              cluster: cache
            catch_all_route:
              cluster: main
  clusters:

YAML . $cluster('sessions', $h0, $p0) . $cluster('cache', $h1, $p1) . $cluster('main', $h2, $p2);
$file = tempnam(sys_get_temp_dir(), 'envoy') . '.yaml';
file_put_contents($file, $yaml);
foreach ($nodes as $n) {
    node_conn($n)->flushAll();
}
$e = Shardis\Client::fromEnvoy($file);
check_same(true, $e->set('cache:y', 'v'), 'set through the Envoy routes');
check_same(['y'], node_conn($nodes[1])->keys('*'), 'remove_prefix from the YAML');
check_same('v', $e->get('cache:y'), 'read back by its application name');
file_put_contents($file, str_replace('remove_prefix: true', "remove_prefix: true\n              colour: blue", $yaml));
$ex = check_throws(Shardis\ConfigException::class, fn () => Shardis\Client::fromEnvoy($file), 'an unknown field in the YAML');
check(str_contains($ex->getMessage(), 'prefix_routes.routes[1].colour'), 'the error names the YAML path', $ex->getMessage());
unlink($file);
done();
