<?php
// K4 helper page. mode=burn: read an 8 MiB value in a loop under a 1 s CPU time limit until
// the engine aborts the request (its timer usually fires while a reply is being read). mode=check: write a
// token next to the big value and read both back on the same connection.
declare(strict_types=1);

$nodes = explode(',', (string) $_SERVER['SHARDIS_NODES']);
$r = new Shardis\Client(['mode' => 'cluster', 'nodes' => $nodes, 'timeout' => '5s']);
parse_str((string) $_SERVER['QUERY_STRING'], $q);
if (($q['mode'] ?? '') === 'burn') {
    set_time_limit(1);
    $deadline = microtime(true) + 20;
    while (microtime(true) < $deadline) {
        $r->get('{k4}big');
    }
    echo "finished\n";
    return;
}
$token = (string) $q['token'];
$r->set("{k4}token:$token", $token);
$v = $r->get("{k4}token:$token");
$big = $r->get('{k4}big');
echo ($v === $token ? 'ok' : 'WRONG') . " $v " . strlen((string) $big) . "\n";
