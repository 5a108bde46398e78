<?php
// Scenario S3 as a PHP-FPM page: every request builds its client from scratch, as PHP code
// does, yet the worker reuses the connections and the cluster topology of its previous
// requests (shardis' process registry). Each request: 3 reads on different shards, 1 write,
// 1 cross-slot MGET of 3 keys (split per shard and merged by shardis).
//
// Serve it with php-fpm (extension=shardis in php.ini) and pass the cluster's seed nodes
// in the SHARDIS_NODES FastCGI parameter / environment variable ("host:port,host:port").
declare(strict_types=1);

$nodes = explode(',', (string) ($_SERVER['SHARDIS_NODES'] ?? getenv('SHARDIS_NODES') ?: '127.0.0.1:7000'));
$redis = new Shardis\Client([
    'mode' => 'cluster',
    'nodes' => $nodes,
    'read_from' => 'prefer_replica', // reads on replicas, the primary when none answers
    'timeout' => '500ms',
]);

parse_str((string) ($_SERVER['QUERY_STRING'] ?? ''), $query);
$request = (string) ($query['id'] ?? bin2hex(random_bytes(4)));
$user = (int) $request % 1000;

$profile = $redis->get("user:$user:name");              // shard A
$cart = $redis->get("cart:$user");                      // shard B
$flags = $redis->get("flags:$user");                    // shard C
$redis->set("session:$request", (string) time());       // write
$recent = $redis->mGet(["views:a", "views:b", "views:c"]); // 3 slots, split and merged

header('Content-Type: application/json');
echo json_encode([
    'pid' => getmypid(),
    'request' => $request,
    'session_written' => $redis->nodeFor("session:$request"),
    'reads' => [$profile, $cart, $flags],
    'recent' => $recent,
]), "\n";
