<?php
// The page fpm_tls_test.php serves through php-fpm: every request builds a new client as
// phpredis code does (RedisCluster arguments, tls:// seeds, a stream context with the test
// CA), writes a token and reads it back with a cross-slot mGet, and reports its worker's
// TLS figures. SHARDIS_NODES ("host:port,…") and SHARDIS_CA come as FastCGI parameters.
declare(strict_types=1);

$seeds = array_map(static fn ($n) => "tls://$n", explode(',', (string) $_SERVER['SHARDIS_NODES']));
$redis = new Shardis\Cluster(null, $seeds, 0.5, 1.0, true, null, ['stream' => ['cafile' => (string) $_SERVER['SHARDIS_CA']]]);
parse_str((string) ($_SERVER['QUERY_STRING'] ?? ''), $query);
$id = (string) ($query['id'] ?? '0');
$token = "$id-" . bin2hex(random_bytes(4));
$keys = ["tls:fpm:{a}:$id", "tls:fpm:{b}:$id", "tls:fpm:{c}:$id"];
$redis->mSet(array_fill_keys($keys, $token));   // split over the shards
$read = $redis->mGet($keys);
$redis->del($keys);
header('Content-Type: application/json');
echo json_encode([
    'pid' => getmypid(),
    'request' => $id,
    'token' => $token,
    'read' => $read,
    'get' => $redis->get("tls:fpm:{a}:$id"),
    'tls' => $redis->stats()['tls'],
]), "\n";
