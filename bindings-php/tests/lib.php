<?php
// Shared helpers of the PHP suite: every file is a plain PHP script of checks run against
// real redis-servers started by run.sh (addresses in SHARDIS_CLUSTER / SHARDIS_STANDALONE).
declare(strict_types=1);

if (!extension_loaded('shardis')) {
    fwrite(STDERR, "FAIL: the shardis extension is not loaded\n");
    exit(1);
}

/** A fixture's JSON as with-fixtures.sh exports it (`SHARDIS_CLUSTER`, `SHARDIS_TLS_CLUSTER`, …). */
function fixture_json(string $var): array
{
    $json = getenv($var);
    if ($json === false || $json === '') {
        // A missing fixture fails the test (a skipped test is a failed one).
        throw new RuntimeException("$var is not set (run the suite through run.sh, which starts scripts/with-fixtures.sh)");
    }
    return json_decode($json, true, 512, JSON_THROW_ON_ERROR);
}

/**
 * The nodes of the fixture `$kind`: 'cluster', 'standalone' (plaintext), 'tls-cluster',
 * 'tls-standalone', 'mtls-standalone'.
 */
function fixture_nodes(string $kind): array
{
    return fixture_json('SHARDIS_' . strtoupper(str_replace('-', '_', $kind)))['nodes'];
}

/** A file of the test PKI (SHARDIS_TLS_DIR: ca.pem, client.pem, client.key, other-ca.pem, …). */
function tls_file(string $name): string
{
    $dir = getenv('SHARDIS_TLS_DIR');
    if ($dir === false || $dir === '' || !is_file("$dir/$name")) {
        throw new RuntimeException("the test PKI file $name is missing (SHARDIS_TLS_DIR=" . var_export($dir, true) . '; run the suite through run.sh)');
    }
    return "$dir/$name";
}

/** phpredis over TLS to one node (the independent view of a TLS server), `$stream`: more `ssl` options. */
function tls_node_conn(string $addr, array $stream = []): Redis
{
    [$host, $port] = explode(':', $addr);
    $r = new Redis();
    $r->connect("tls://$host", (int) $port, 2.0, null, 0, 0, ['stream' => $stream + ['cafile' => tls_file('ca.pem')]]);
    return $r;
}

/** A cluster client (shared core per config, as in production). */
function cluster_client(array $extra = []): Shardis\Client
{
    return new Shardis\Client(['mode' => 'cluster', 'nodes' => fixture_nodes('cluster')] + $extra);
}

$GLOBALS['checks'] = 0;

/** One check: stops the script with the failing line and both values. */
function check(bool $ok, string $what, mixed $got = null): void
{
    $GLOBALS['checks']++;
    if (!$ok) {
        $at = debug_backtrace()[0];
        fwrite(STDERR, sprintf("FAIL %s:%d %s; got %s\n", basename($at['file']), $at['line'], $what, var_export($got, true)));
        exit(1);
    }
}

function check_same(mixed $expected, mixed $got, string $what): void
{
    $GLOBALS['checks']++;
    if ($expected !== $got) {
        $at = debug_backtrace()[0];
        fwrite(STDERR, sprintf("FAIL %s:%d %s: expected %s, got %s\n", basename($at['file']), $at['line'], $what, var_export($expected, true), var_export($got, true)));
        exit(1);
    }
}

/** `$fn` must throw `$class`; returns the exception. */
function check_throws(string $class, callable $fn, string $what): Throwable
{
    try {
        $fn();
    } catch (Throwable $e) {
        check($e instanceof $class, "$what: expected $class", get_class($e) . ': ' . $e->getMessage());
        return $e;
    }
    check(false, "$what: expected $class, nothing was thrown");
    throw new LogicException('unreachable');
}

/** A plain phpredis connection to one node: the independent view of the servers. */
function node_conn(string $addr): Redis
{
    [$host, $port] = explode(':', $addr);
    $r = new Redis();
    $r->connect($host, (int) $port, 2.0);
    return $r;
}

/** One kept connection per node for reading counters (so measuring opens no connection). */
function stats_conn(string $addr, bool $tls = false): Redis
{
    static $conns = [];
    return $conns[$addr] ??= $tls ? tls_node_conn($addr) : node_conn($addr);
}

/** Sum of an `INFO` field over nodes (`$tls`: the nodes are TLS nodes). */
function info_sum(array $nodes, string $section, string $field, bool $tls = false): int
{
    $sum = 0;
    foreach ($nodes as $n) {
        $sum += (int) (stats_conn($n, $tls)->info($section)[$field] ?? 0);
    }
    return $sum;
}

/** Calls of `CLUSTER SLOTS` + `CLUSTER SHARDS` + `CLUSTER NODES` summed over nodes. */
function topology_calls(array $nodes): int
{
    $sum = 0;
    foreach ($nodes as $n) {
        foreach (stats_conn($n)->info('commandstats') as $name => $v) {
            if (preg_match('/^cmdstat_cluster\|(slots|shards|nodes)$/', $name) && preg_match('/calls=(\d+)/', $v, $m)) {
                $sum += (int) $m[1];
            }
        }
    }
    return $sum;
}

function done(): void
{
    printf("PASS %s (%d checks)\n", basename($_SERVER['SCRIPT_FILENAME'] ?? $GLOBALS['argv'][0]), $GLOBALS['checks']);
}
