<?php
// phpredis method names and reply shapes on a real 3+3 Redis Cluster.
require __DIR__ . '/lib.php';

$r = cluster_client();
$t = 'cmd' . getmypid() . ':';

// strings
check_same(true, $r->set("{$t}a", 'x'), 'set');
check_same('x', $r->get("{$t}a"), 'get');
check_same(false, $r->get("{$t}missing"), 'get of a missing key');
check_same(true, $r->set("{$t}nx", 1, ['nx', 'ex' => 100]), 'set nx ex');
check_same(false, $r->set("{$t}nx", 2, ['nx']), 'set nx on an existing key');
check(in_array($r->ttl("{$t}nx"), [99, 100], true), 'ttl after ex', $r->ttl("{$t}nx"));
check_same(true, $r->set("{$t}ttl", 'v', 50), 'set with an int timeout');
check(in_array($r->pttl("{$t}ttl"), range(49000, 50000), true), 'pttl', $r->pttl("{$t}ttl"));
check_same('x', $r->set("{$t}a", 'y', ['get']), 'set get returns the old value');
check_same(true, $r->setEx("{$t}se", 10, 'v'), 'setEx');
check_same(false, $r->setNx("{$t}se", 'w'), 'setNx');
check_same('v', $r->getSet("{$t}se", 'w'), 'getSet');
check_same(3, $r->append("{$t}se", 'zz'), 'append');
check_same(3, $r->strLen("{$t}se"), 'strLen');
check_same('wz', $r->getRange("{$t}se", 0, 1), 'getRange');
check_same(1, $r->incr("{$t}n"), 'incr');
check_same(11, $r->incr("{$t}n", 10), 'incr by');
check_same(9, $r->decrBy("{$t}n", 2), 'decrBy');
check_same(10.5, $r->incrByFloat("{$t}n", 1.5), 'incrByFloat');
check_same('10.5', $r->get("{$t}n"), 'float stored as text');
$bin = "a\0b\xff\r\n";
check_same(true, $r->set("{$t}bin\0", $bin), 'binary set');
check_same($bin, $r->get("{$t}bin\0"), 'binary round trip');
check_same(true, $r->set("{$t}int", 42), 'int value');
check_same('42', $r->get("{$t}int"), 'int value comes back as a string');
check_same(true, $r->set(12345, true), 'int key, bool value');
check_same('1', $r->get('12345'), 'int key and string key are the same key');
foreach ([0.1 + 0.2, 1e20, 1.5, 1 / 3, 7.0E-10] as $f) {
    $r->set("{$t}f", $f);
    check_same((string) $f, $r->get("{$t}f"), 'a float is sent as PHP writes it');
}
check_same(true, $r->set("{$t}ttl0", 'v', 0), 'set with timeout 0 (no expiry, as phpredis)');
check_same(-1, $r->ttl("{$t}ttl0"), 'timeout 0 sets no expiry');
check_throws(ValueError::class, fn () => $r->set("{$t}ttl0", 'v', 0.5), 'a fractional timeout');
check_throws(ValueError::class, fn () => $r->set("{$t}ttl0", 'v', -5), 'a negative timeout');

// multi-key commands split across shards and merged in order
$keys = [];
foreach (range(1, 20) as $i) {
    $keys["{$t}m$i"] = "v$i";
}
check_same(true, $r->mSet($keys), 'mSet over shards');
$got = $r->mGet(array_merge(array_keys($keys), ["{$t}none"]));
check_same(array_merge(array_values($keys), [false]), $got, 'mGet over shards, missing → false');
check_same(20, $r->exists(array_keys($keys)), 'exists of an array');
$binKeys = ["{$t}k\xff\x00" => "v\xfe", "{$t}k\xc3\x28" => 'w'];
check_same(true, $r->mSet($binKeys), 'mSet with non-UTF-8 array keys');
check_same(array_values($binKeys), $r->mGet(array_keys($binKeys)), 'binary keys round trip');
check_same(2, $r->exists("{$t}m1", "{$t}m2"), 'exists variadic');
check_same(3, $r->del("{$t}m1", "{$t}m2", "{$t}m3"), 'del variadic');
check_same(17, $r->del(array_slice(array_keys($keys), 3)), 'del of an array');
check_same(Shardis\Client::REDIS_STRING, $r->type("{$t}a"), 'type string');
check_same(Shardis\Client::REDIS_NOT_FOUND, $r->type("{$t}nothing"), 'type of a missing key');
check_same(true, $r->expire("{$t}a", 100), 'expire');
check_same(true, $r->persist("{$t}a"), 'persist');
check_same(-1, $r->ttl("{$t}a"), 'ttl without expiry');
check_same(-2, $r->ttl("{$t}nothing"), 'ttl of a missing key');
$r->set('{rn}a', 'moved');
check_same(true, $r->rename('{rn}a', '{rn}b'), 'rename on one slot');
check_same(['moved', false], [$r->get('{rn}b'), $r->get('{rn}a')], 'rename moved the value');

// hashes
$h = "{$t}h";
check_same(1, $r->hSet($h, 'f', 'v'), 'hSet');
check_same(2, $r->hSet($h, ['g' => 'w', '42' => 'n']), 'hSet of an array');
check_same(['f' => 'v', 'g' => 'w', 42 => 'n'], $r->hGetAll($h), 'hGetAll is associative; numeric fields are int keys');
check_same('n', $r->hGetAll($h)[42], '$h[42] finds field "42"');
check_same(1, $r->hSet("{$t}hb", ["f\xff" => 'bin']), 'hSet with a non-UTF-8 field');
check_same(["f\xff" => 'bin'], $r->hGetAll("{$t}hb"), 'binary field names come back as keys');
check_same('v', $r->hGet($h, 'f'), 'hGet');
check_same(false, $r->hGet($h, 'zz'), 'hGet missing');
check_same(['f' => 'v', 'zz' => false], $r->hMGet($h, ['f', 'zz']), 'hMGet');
check_same(true, $r->hMSet($h, ['a' => 1, 'b' => 2]), 'hMSet');
check_same(5, $r->hLen($h), 'hLen');
check_same(true, $r->hExists($h, 'a'), 'hExists');
check_same(false, $r->hSetNx($h, 'a', 9), 'hSetNx existing');
check_same(11, $r->hIncrBy($h, 'a', 10), 'hIncrBy');
check_same(2.5, $r->hIncrByFloat($h, 'b', 0.5), 'hIncrByFloat');
check_same(2, $r->hDel($h, 'a', 'b'), 'hDel');
check_same(['f', 'g', '42'], array_map('strval', $r->hKeys($h)), 'hKeys');
check_same(['v', 'w', 'n'], $r->hVals($h), 'hVals');
$it = null;
$seen = [];
while (($batch = $r->hScan($h, $it)) !== false) {
    $seen += $batch;
}
ksort($seen);
check_same([42 => 'n', 'f' => 'v', 'g' => 'w'], $seen, 'hScan assoc batches');

// lists
$l = "{$t}l";
check_same(3, $r->rPush($l, 'a', 'b', 'c'), 'rPush variadic');
check_same(4, $r->lPush($l, 'z'), 'lPush');
check_same(['z', 'a', 'b', 'c'], $r->lRange($l, 0, -1), 'lRange');
check_same(4, $r->lLen($l), 'lLen');
check_same('a', $r->lIndex($l, 1), 'lIndex');
check_same(true, $r->lSet($l, 1, 'A'), 'lSet');
check_same(1, $r->lRem($l, 'A'), 'lRem in phpredis order');
check_same('z', $r->lPop($l), 'lPop');
check_same('c', $r->rPop($l), 'rPop');
check_same(false, $r->lPop("{$t}empty"), 'lPop of an empty list');
check_same(true, $r->lTrim($l, 0, 0), 'lTrim');
check_same([$l, 'b'], $r->blPop([$l], 0.1), 'blPop');
check_same(false, $r->blPop($l, 0.1), 'blPop timeout → false');
// a blocking timeout longer than the call's `timeout` is waited out, and an element pushed
// meanwhile is received (not popped on the server after the client gave up)
$short = cluster_client(['timeout' => '300ms']);
$t0 = microtime(true);
check_same(false, $short->blPop("{$t}bl", 0.8), 'blPop waits its own 0.8 s with a 300 ms call timeout');
check(microtime(true) - $t0 >= 0.75, 'the wait lasted the blocking timeout', microtime(true) - $t0);
$pid = pcntl_fork();
if ($pid === 0) {
    usleep(500000);
    cluster_client()->rPush("{$t}bl", 'late');
    exit(0);
}
check_same(["{$t}bl", 'late'], $short->blPop("{$t}bl", 3), 'an element pushed during the wait is received');
pcntl_waitpid($pid, $status);

// sets
$s = "{$t}s";
check_same(3, $r->sAdd($s, 'a', 'b', 'c'), 'sAdd');
check_same(1, $r->sAdd($s, ['c', 'd']), 'sAdd of an array');
check_same(4, $r->sCard($s), 'sCard');
check_same(true, $r->sIsMember($s, 'a'), 'sIsMember');
check_same(false, $r->sIsMember($s, 'x'), 'sIsMember missing');
$m = $r->sMembers($s);
sort($m);
check_same(['a', 'b', 'c', 'd'], $m, 'sMembers');
check_same(1, $r->sRem($s, 'd'), 'sRem');
check(in_array($r->sPop($s), ['a', 'b', 'c'], true), 'sPop');
check_same(false, $r->sPop("{$t}nos"), 'sPop of an empty set');
$r->sAdd("{x}s1", 'a', 'b');
$r->sAdd("{x}s2", 'b', 'c');
check_same(['b'], $r->sInter("{x}s1", "{x}s2"), 'sInter on one slot');

// sorted sets
$z = "{$t}z";
check_same(2, $r->zAdd($z, 1, 'one', 2.5, 'two'), 'zAdd');
check_same(0, $r->zAdd($z, ['xx'], 3, 'one'), 'zAdd with options');
check_same(['two', 'one'], $r->zRange($z, 0, -1), 'zRange');
check_same(['two' => 2.5, 'one' => 3.0], $r->zRange($z, 0, -1, true), 'zRange withscores → assoc');
check_same(['one' => 3.0, 'two' => 2.5], $r->zRevRange($z, 0, -1, ['withscores' => true]), 'zRevRange withscores');
check_same(['two'], $r->zRangeByScore($z, '-inf', '+inf', ['limit' => [0, 1]]), 'zRangeByScore limit');
check_same(3.0, $r->zScore($z, 'one'), 'zScore');
check_same(false, $r->zScore($z, 'none'), 'zScore missing');
check_same(1, $r->zRank($z, 'one'), 'zRank');
check_same(false, $r->zRank($z, 'none'), 'zRank missing');
check_same(4.0, $r->zIncrBy($z, 1, 'one'), 'zIncrBy');
check_same(2, $r->zCard($z), 'zCard');
check_same(1, $r->zCount($z, 0, 3), 'zCount');
check_same(['two' => 2.5], $r->zPopMin($z), 'zPopMin');
check_same(1, $r->zRem($z, 'one'), 'zRem');
$r->del('{zs}a', '{zs}b', '{zs}out');
$r->zAdd('{zs}a', 1, 'x', 2, 'y');
$r->zAdd('{zs}b', 10, 'y', 20, 'z');
check_same(3, $r->zUnionStore('{zs}out', ['{zs}a', '{zs}b']), 'zUnionStore');
check_same(1, $r->zInterStore('{zs}out', ['{zs}a', '{zs}b'], [1, 2], 'max'), 'zInterStore with weights and aggregate');
check_same(['y' => 20.0], $r->zRange('{zs}out', 0, -1, true), 'zInterStore weighted max');
check_same(['z', 'y'], $r->zRange('{zs}b', 0, -1, ['rev']), 'zRange rev (phpredis 6 option)');
check_same(['y'], $r->zRange('{zs}a', 2, 10, ['byscore']), 'zRange byscore');
check_same(['x'], $r->zRange('{zs}a', '-inf', '+inf', ['byscore', 'limit' => [0, 1]]), 'zRange byscore with limit');
check_throws(ValueError::class, fn () => $r->zRange('{zs}a', 0, -1, ['bogus']), 'an unknown zRange option is refused');
check_throws(ValueError::class, fn () => $r->zRangeByScore('{zs}a', 0, 1, ['rev']), 'rev is not a zRangeByScore option');
$r->zAdd('{zs}lex', 0, 'a', 0, 'b', 0, 'c');
check_same(['b', 'c'], $r->zRangeByLex('{zs}lex', '(a', '+'), 'zRangeByLex');
check_same(['b'], $r->zRangeByLex('{zs}lex', '-', '+', 1, 1), 'zRangeByLex with offset and count');

// scan over every shard with the iterator by reference
$r->mSet(["{$t}scan:1" => 1, "{$t}scan:2" => 2, "{$t}scan:3" => 3, "{$t}scan:4" => 4]);
$it = null;
$found = [];
while (($batch = $r->scan($it, "{$t}scan:*", 100)) !== false) {
    $found = array_merge($found, $batch);
}
sort($found);
check_same(["{$t}scan:1", "{$t}scan:2", "{$t}scan:3", "{$t}scan:4"], $found, 'scan finds each key once');
check_same(0, $it, 'scan leaves the iterator at 0');
check_same(false, $r->scan($it), 'scan after the end → false');
$it = null;
$n = 0;
while ($batch = $r->scan($it, "{$t}scan:*")) {
    $n += count($batch);
}
check_same(4, $n, 'while ($keys = scan()) sees every key');
check(count($r->keys("{$t}scan:*")) === 4, 'keys over every shard');
$it = null;
check_throws(ValueError::class, fn () => $r->scan($it, fixture_nodes('cluster')[0]), "RedisCluster's per-node scan form is refused, not taken as a pattern");
check_throws(ValueError::class, fn () => $r->scan($it, ['127.0.0.1', 7000]), 'a [host, port] node is refused');

// scripting
$lua = 'return {KEYS[1], ARGV[1], redis.call("GET", KEYS[1])}';
$r->set('{e}k', 'kv');
check_same(['{e}k', 'arg', 'kv'], $r->eval($lua, ['{e}k', 'arg'], 1), 'eval with keys and args');
$sha = sha1($lua);
check_same(['{e}k', 'arg', 'kv'], $r->evalSha($sha, ['{e}k', 'arg'], 1), 'evalSha after eval');
check_same(false, $r->eval('return nil'), 'eval nil → false');
check_throws(ValueError::class, fn () => $r->eval($lua, ['a'], 2), 'numKeys beyond the args');

// pipelines and transactions
$res = $r->pipeline()->set("{$t}p1", 'a')->get("{$t}p1")->get("{$t}p2")->hGetAll($h)->incr("{$t}p3")->exec();
check_same([true, 'a', false, ['f' => 'v', 'g' => 'w', 42 => 'n'], 1], $res, 'pipeline over shards');
$res = $r->multi()->set('{tx}a', 1)->incr('{tx}a')->get('{tx}a')->exec();
check_same([true, 2, '2'], $res, 'multi/exec on one slot');
check_throws(Shardis\CrossShardException::class, fn () => $r->multi()->set('{tx}a', 1)->set('{other}b', 2), 'multi across slots');
check_same(true, $r->discard(), 'discard after the refused command');
check_same('2', $r->get('{tx}a'), 'nothing of the refused transaction ran');
// a command refused while queueing aborts the whole transaction (Redis' EXECABORT)
$r->set('{tx}q', 'before');
$r->multi()->set('{tx}q', 'during');
check_throws(Shardis\CrossShardException::class, fn () => $r->set('{elsewhere}x', 1), 'a cross-slot command in multi');
check_same(false, $r->exec(), 'exec after a refused command runs nothing');
check_same('before', $r->get('{tx}q'), 'the queued write did not run');
check(str_contains((string) $r->getLastError(), 'EXECABORT'), 'getLastError names EXECABORT', $r->getLastError());
// a refused second watch() keeps the first one
check_same(true, $r->watch('{w}a'), 'first watch');
check_throws(Shardis\CrossShardException::class, fn () => $r->watch('{v}b'), 'a watch on another shard');
node_conn($r->nodeFor('{w}a'))->set('{w}a', 'theirs');
check_same(false, $r->multi()->set('{w}a', 'mine')->exec(), 'the first watch still guards the transaction');
check_same('theirs', $r->get('{w}a'), 'no lost update');
check_same(true, $r->watch('{tx}a'), 'watch');
node_conn($r->nodeFor('{tx}a'))->set('{tx}a', 'changed');
check_same(false, $r->multi()->set('{tx}a', 'mine')->exec(), 'exec after a watched key changed → false');
check_same('changed', $r->get('{tx}a'), 'the aborted transaction wrote nothing');
check_same([true], $r->multi(Shardis\Client::PIPELINE)->set("{$t}q", 1)->exec(), 'multi(PIPELINE)');
$res = $r->pipeline()->set("{$t}w", 'str')->hGet("{$t}w", 'f')->get("{$t}w")->exec();
check_same([true, false, 'str'], $res, 'a failed pipeline entry is false');
check(str_contains((string) $r->getLastError(), 'WRONGTYPE'), 'getLastError after a failed entry', $r->getLastError());

// rawCommand and __call
check_same('str', $r->rawCommand('GET', "{$t}w"), 'rawCommand');
check_same(true, $r->rawCommand('SET', "{$t}w", 'x'), 'rawCommand +OK → true');
check_same(0, $r->setBit("{$t}bits", 7, 1), '__call: SETBIT');
check_same(1, $r->getBit("{$t}bits", 7), '__call: GETBIT');
check_same(1, $r->bitCount("{$t}bits"), '__call: BITCOUNT');
check_same(1, $r->xLen("{$t}none") + 1, '__call: XLEN of a missing stream is 0');
$id = $r->xAdd("{$t}st", '*', ['f' => 'v']);
check(is_string($id) && preg_match('/^\d+-\d+$/', $id) === 1, '__call spreads an associative array (XADD returns an id)', $id);
check_same(1, $r->xLen("{$t}st"), '__call: XADD wrote one entry');
check_same(['{x}s1', '{x}s2'], [$r->echo('{x}s1'), $r->echo('{x}s2')], 'echo');
check_same(true, $r->ping(), 'ping');
$info = $r->info('server');
check_same(3, count($info), 'info() answers once per primary on a 3-primary cluster', array_keys($info));
foreach ($info as $node => $fields) {
    check(in_array($node, fixture_nodes('cluster'), true) && isset($fields['redis_version']), 'info per node, parsed', [$node, array_slice($fields, 0, 3)]);
}
check_throws(ValueError::class, fn () => $r->info(fixture_nodes('cluster')[0]), "RedisCluster's info(\$node) is refused");
check_throws(ValueError::class, fn () => $r->ping(['127.0.0.1', 7000]), "RedisCluster's ping(\$node) is refused");

// shardis extras
check(in_array($r->nodeFor("{$t}a"), fixture_nodes('cluster'), true), 'nodeFor', $r->nodeFor("{$t}a"));
$stats = $r->stats();
check(is_array($stats) && $stats !== [], 'stats() is an array', $stats);

// Shardis\Cluster with phpredis' RedisCluster arguments
$c = new Shardis\Cluster(null, fixture_nodes('cluster'), 1.5, 1.5, true);
check_same('x', $c->get("{$t}w"), 'Shardis\Cluster reads what Client wrote');
check_same([true, 'x'], $c->multi()->set('{c}k', 'x')->get('{c}k')->exec(), 'Cluster multi/exec');
check_same(true, $c->rawCommand('{c}k', 'SET', '{c}k', 'raw'), "RedisCluster's rawCommand(\$key, …) form");
check_same('raw', $c->rawCommand(fixture_nodes('cluster')[0], 'GET', '{c}k'), 'rawCommand with a node first');
$named = new Shardis\Cluster('app', fixture_nodes('cluster'));
check_same('app', $named->getPersistentID(), 'the cluster name is the persistent id');
// phpredis' named clusters: seeds from php.ini's redis.clusters.seeds
check(ini_set('redis.clusters.seeds', 'other[]=127.0.0.1:1&shop[]=' . urlencode(fixture_nodes('cluster')[1])) !== false, 'redis.clusters.seeds is settable');
$shop = new Shardis\Cluster('shop');
check_same('x', $shop->get("{$t}w"), 'a named cluster from redis.clusters.seeds');
check_throws(ValueError::class, fn () => new Shardis\Cluster('unknown'), 'a name that php.ini does not list');
done();
