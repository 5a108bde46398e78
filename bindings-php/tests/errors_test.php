<?php
// The exception tree, argument errors, config errors, timeouts and connection failures.
require __DIR__ . '/lib.php';

// the tree
check_same(RuntimeException::class, get_parent_class(Shardis\Exception::class), 'Shardis\Exception extends RuntimeException');
foreach (['ConnectionException', 'CrossShardException', 'IndeterminateException', 'ServerException', 'ConfigException'] as $c) {
    check_same(Shardis\Exception::class, get_parent_class("Shardis\\$c"), "Shardis\\$c extends Shardis\\Exception");
}
check_same(Shardis\ConnectionException::class, get_parent_class(Shardis\TimeoutException::class), 'TimeoutException extends ConnectionException');
$e = new Shardis\ServerException('made in PHP', 7);
check(str_ends_with($e->getFile(), 'errors_test.php') && $e->getLine() > 0 && $e->getCode() === 7, 'exceptions are constructible with file and line');

// bad configuration names the key
$e = check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client(['mode' => 'cluster', 'nodes' => ['127.0.0.1:1'], 'timeout' => 'soon']), 'bad duration');
check(str_contains($e->getMessage(), 'timeout'), 'the message names the key', $e->getMessage());
check_same(1, $e->getCode(), 'config errors have code 1');
$e = check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client(['mode' => 'ring_hash', 'nodes' => ['127.0.0.1:1'], 'ring_hash' => ['min_ring_size' => 'x']]), 'bad nested value');
check(str_contains($e->getMessage(), 'ring_hash.min_ring_size'), 'the message names the nested key', $e->getMessage());
check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client(['mode' => 'cluster', 'nodes' => ['127.0.0.1:1'], 'no_such_key' => 1]), 'unknown key');
check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client('/nonexistent/shardis.toml'), 'missing config file');
check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client('redis://'), 'URL without nodes');
check_throws(TypeError::class, fn () => new Shardis\Client(42), 'config of the wrong type');
check_throws(TypeError::class, fn () => new Shardis\Client(['mode' => 'cluster', 'nodes' => [new stdClass()]]), 'object in the config');
check_throws(ValueError::class, fn () => new Shardis\Cluster(null, null), 'Cluster without seeds');
check_throws(TypeError::class, fn () => new Shardis\Cluster(null, 'host:1'), 'Cluster seeds not an array');
check_throws(ValueError::class, fn () => new Shardis\Cluster(null, ['127.0.0.1:1'], -1.0), 'negative timeout');
$pw = 'marker-password-' . getmypid();
$e = check_throws(Shardis\Exception::class, fn () => new Shardis\Client(['mode' => 'cluster', 'nodes' => ['127.0.0.1:1'], 'auth' => ['password' => $pw], 'timeout' => 'x']), 'bad config with a password');
check(!str_contains($e->getMessage(), $pw), 'the password never appears in errors', $e->getMessage());

$r = cluster_client();
// wrong argument types
check_throws(TypeError::class, fn () => $r->get(['a']), 'array key');
check_throws(TypeError::class, fn () => $r->set('k', new stdClass()), 'object value');
check_throws(TypeError::class, fn () => $r->mSet('notarray'), 'mSet of a string');
check_throws(TypeError::class, fn () => $r->hMGet('h', 'f'), 'hMGet fields not an array');
check_throws(ArgumentCountError::class, fn () => $r->get(), 'missing argument');
check_throws(ValueError::class, fn () => $r->set('k', 'v', ['ex' => 0]), 'ex 0');
check_throws(ValueError::class, fn () => $r->set('k', 'v', ['nxx']), 'an unknown set() option is refused, not ignored');
check_throws(ValueError::class, fn () => $r->zAdd('z', ['bogus'], 1, 'm'), 'an unknown zAdd() option');
check_throws(ValueError::class, fn () => $r->zAdd('z', 1), 'zAdd without a member');
check_throws(ValueError::class, fn () => $r->blPop('k'), 'blPop without a timeout');
check_throws(Shardis\Exception::class, fn () => $r->exec(), 'exec outside multi');
$e = check_throws(Shardis\Exception::class, fn () => $r->setOption(1, 1), 'setOption (serializer) is refused, not ignored');
check_same(3, $e->getCode(), 'unsupported features have code 3');

// server errors
$r->set('{err}s', 'str');
$e = check_throws(Shardis\ServerException::class, fn () => $r->lPush('{err}s', 'x'), 'WRONGTYPE');
check(str_contains($e->getMessage(), 'WRONGTYPE'), 'server message kept', $e->getMessage());
check_same(11, $e->getCode(), 'server errors have code 11');
check(str_contains((string) $r->getLastError(), 'WRONGTYPE'), 'getLastError', $r->getLastError());
check_same(true, $r->clearLastError(), 'clearLastError');
check_same(null, $r->getLastError(), 'no last error after clearing');
$e = check_throws(Shardis\Exception::class, fn () => $r->rawCommand('NOSUCHCOMMAND'), 'unknown command');
check_same(3, $e->getCode(), 'an unroutable command is refused before sending (code 3)');
check_throws(Shardis\CrossShardException::class, fn () => $r->rename('{a}x', '{b}y'), 'cross-slot rename');

// a node that answers too slowly: TimeoutException within the deadline, other keys fine
$slow = cluster_client(['timeout' => 0.3]); // a float duration is seconds, as in phpredis
$victim = $slow->nodeFor('{slow}k');
$sleeper = node_conn($victim);
$other = null;
foreach (range(1, 200) as $i) {
    if ($slow->nodeFor("o$i") !== $victim) {
        $other = "o$i";
        break;
    }
}
$sleeper->setOption(Redis::OPT_READ_TIMEOUT, 5);
$pid = pcntl_fork();
if ($pid === 0) {
    // the child freezes the node for 1.5 s through its own connection
    $c = node_conn($victim);
    $c->rawCommand('DEBUG', 'SLEEP', '1.5');
    exit(0);
}
// wait (bounded) until the node really sleeps: a 50 ms PING stops being answered
[$vhost, $vport] = explode(':', $victim);
$asleep = false;
for ($i = 0; $i < 40 && !$asleep; $i++) {
    $probe = new Redis();
    $probe->connect($vhost, (int) $vport, 0.5, null, 0, 0.05);
    try {
        $probe->ping();
        usleep(20000);
    } catch (RedisException $e) {
        $asleep = true;
    }
}
check($asleep, 'the node went to sleep');
$t0 = microtime(true);
$e = check_throws(Shardis\TimeoutException::class, fn () => $slow->get('{slow}k'), 'read from a sleeping node');
$took = microtime(true) - $t0;
check($took < 1.2, 'the timeout fired within the deadline (plus slack)', $took);
check($took >= 0.25, "'timeout' => 0.3 waited 0.3 s (seconds, not milliseconds)", $took);
check_same(8, $e->getCode(), 'timeouts have code 8');
check($slow->set($other, 'fine') === true, 'other shards keep working meanwhile');
$e = check_throws(Shardis\IndeterminateException::class, fn () => $slow->set('{slow}k', 'v'), 'a write whose reply did not come');
check_same(9, $e->getCode(), 'indeterminate writes have code 9');
pcntl_waitpid($pid, $status);
usleep(100000);
check_same(true, $slow->set('{slow}k', 'after'), 'the node works again after its sleep');
check_same('after', $slow->get('{slow}k'), 'and the next reply is the right one (no stale reply)');

// a reply too large for memory_limit: an exception before any PHP value is built (not a
// fatal error that would jump over the extension), and the client keeps working
$big = cluster_client();
$big->rawCommand('SETRANGE', '{big}v', (string) (40 << 20), 'x'); // 40 MiB made by the server
$limit = ini_get('memory_limit');
ini_set('memory_limit', '32M');
$e = check_throws(Shardis\Exception::class, fn () => $big->get('{big}v'), 'a 40 MiB reply under a 32 MiB memory_limit');
check(str_contains($e->getMessage(), 'memory_limit'), 'the message names memory_limit', $e->getMessage());
check(memory_get_usage() < 8 << 20, 'nothing of the reply stayed in PHP memory', memory_get_usage());
check_same(true, $big->set('{big}k', 'small'), 'the connection is clean afterwards');
check_same('small', $big->get('{big}k'), 'and reads its own reply');
ini_set('memory_limit', $limit);
$big->del('{big}v');

// nothing listens: ConnectionException
$dead = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => ['127.0.0.1:1'], 'connect_timeout' => '200ms']);
$e = check_throws(Shardis\ConnectionException::class, fn () => $dead->get('k'), 'connection refused');
check(in_array($e->getCode(), [5, 7], true), 'connect errors have code 5', $e->getCode());
done();
