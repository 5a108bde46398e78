<?php
// Standalone nodes with consistent hashing (Envoy's ring_hash; twemproxy's ketama): each key
// is where nodeFor() says, multi-key and whole-keyspace commands cover every node.
require __DIR__ . '/lib.php';

$nodes = fixture_nodes('standalone');
$url = 'redis://' . implode(',', $nodes);
// ketama with twemproxy's default key hash (fnv1a_64, 32-bit) can put short sequential keys
// all on one node — exactly as nutcracker does; md5 spreads them.
$configs = [
    'ring_hash' => "$url/?mode=ring_hash",
    'maglev' => "$url/?mode=maglev",
    'ketama' => ['mode' => 'ketama', 'nodes' => $nodes, 'ketama' => ['hash' => 'md5']],
];
foreach ($configs as $mode => $config) {
    $r = new Shardis\Client($config);
    $p = "$mode:" . getmypid() . ':';
    $placed = array_fill_keys($nodes, 0);
    $pairs = [];
    for ($i = 0; $i < 60; $i++) {
        $pairs["$p$i"] = "v$i";
    }
    check_same(true, $r->mSet($pairs), "$mode: mSet over every node");
    foreach ($pairs as $k => $v) {
        $node = $r->nodeFor($k);
        $placed[$node]++;
        check_same($v, node_conn($node)->get($k), "$mode: $k is on the node nodeFor() names");
    }
    check(count(array_filter($placed)) >= 2, "$mode: keys spread over the nodes", $placed);
    check_same(array_values($pairs), $r->mGet(array_keys($pairs)), "$mode: mGet merged in order");
    $found = $r->keys("$p*");
    check_same(60, count($found), "$mode: keys over every node");
    $it = null;
    $n = 0;
    while (($batch = $r->scan($it, "$p*")) !== false) {
        $n += count($batch);
    }
    check_same(60, $n, "$mode: scan over every node");
    check_same(60, $r->del(array_keys($pairs)), "$mode: del over every node");
}
$r = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => $nodes]);
$r->mSet(['{d}1' => 1, 'd2' => 2, 'd3' => 3]);
$sum = 0;
foreach ($nodes as $n) {
    $sum += node_conn($n)->dbSize();
}
check($sum >= 3, 'keys were written', $sum);
check_same($sum, $r->dbSize(), 'dbSize is the sum over the nodes');
check_same([true, 'b'], $r->multi()->set('{t}a', 'b')->get('{t}a')->exec(), 'multi/exec on one node');
done();
