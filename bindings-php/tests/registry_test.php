<?php
// The process registry, phpinfo(), and nothing created before first use (K3).
require __DIR__ . '/lib.php';

// K3: loading the extension created no thread and no socket.
$threads = count(glob('/proc/self/task/*'));
check_same(1, $threads, 'one thread before any client');
$sockets = static function (): int {
    $n = 0;
    foreach (glob('/proc/self/fd/*') as $fd) {
        $n += str_starts_with((string) @readlink($fd), 'socket:') ? 1 : 0;
    }
    return $n;
};
check_same(0, $sockets(), 'no socket before any client');

ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
check(str_contains($info, 'shardis support => enabled'), 'phpinfo section', substr($info, 0, 200));
check(str_contains($info, "Clients in this process' registry => 0"), 'empty registry in phpinfo');

$nodes = fixture_nodes('cluster');
$a = new Shardis\Client(['mode' => 'cluster', 'nodes' => $nodes]);
$a->set('{reg}k', 'v');
$b = new Shardis\Client(['mode' => 'cluster', 'nodes' => $nodes]);
check_same($a->getPersistentID(), $b->getPersistentID(), 'same config → same registry entry');
check(str_starts_with($a->getPersistentID(), 'cfg-'), 'default persistent id is the config fingerprint', $a->getPersistentID());
check_same(0, $a->stats()['commands']['get']['calls'] ?? 0, 'no GET yet');
$b->get('{reg}k');
check_same(1, $a->stats()['commands']['get']['calls'] ?? 0, "a sees b's call: both handles share one core");
check_same(1, count(glob('/proc/self/task/*')), 'still one thread: no background thread is needed');

$c = new Shardis\Client(['mode' => 'cluster', 'nodes' => $nodes, 'persistent_id' => 'mine']);
check_same('mine', $c->getPersistentID(), 'explicit persistent_id');
$d = new Shardis\Client(['mode' => 'cluster', 'nodes' => $nodes, 'timeout' => '2s']);
check($d->getPersistentID() !== $a->getPersistentID(), 'another config → another entry');

ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
check(str_contains($info, "Clients in this process' registry => 3"), 'phpinfo counts the registry', $info);
check(str_contains($info, 'registry: mine'), 'phpinfo lists persistent ids');

// URL and file forms share the schema
$url = 'redis+cluster://' . implode(',', $nodes);
$u = new Shardis\Client($url);
check_same('v', $u->get('{reg}k'), 'client from a URL');
$file = tempnam(sys_get_temp_dir(), 'shardis') . '.json';
file_put_contents($file, json_encode(['mode' => 'cluster', 'nodes' => $nodes, 'persistent_id' => 'from-file']));
$f = new Shardis\Client($file);
unlink($file);
check_same('v', $f->get('{reg}k'), 'client from a JSON file');
check_same('from-file', $f->getPersistentID(), 'file config read');
// phpredis' named clusters without phpredis: seeds from php.ini (get_cfg_var)
$ext = getenv('SHARDIS_PHP_EXT') ?: throw new RuntimeException('SHARDIS_PHP_EXT is not set');
$seed = $nodes[0];
$code = '$c = new Shardis\\Cluster("inifile"); $c->set("{reg}n", "1"); echo $c->get("{reg}n"), extension_loaded("redis") ? " redis" : " no-redis";';
$p = proc_open([PHP_BINARY, '-n', '-d', "extension=$ext", '-d', "redis.clusters.seeds=\"inifile[]=$seed\"", '-r', $code], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
$out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
proc_close($p);
check_same('1 no-redis', trim($out), 'a named cluster from php.ini without phpredis loaded');
done();
