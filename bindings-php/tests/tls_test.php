<?php
// TLS and auth from PHP against real TLS redis-servers (scripts/with-fixtures.sh: a 3+3 TLS
// cluster, 3 TLS standalone nodes, 2 mutual-TLS standalone nodes, the test PKI in
// SHARDIS_TLS_DIR, the ACL user "limited" allowed only lim:* keys). A missing fixture fails
// the test. Covers the config array's 'tls'/'auth' keys, rediss:// URLs, phpredis'
// RedisCluster form (tls:// seeds, $context['stream'], $auth), mutual TLS, each handshake
// failure as a ConnectionException that says what went wrong, NOPERM as a ServerException,
// and that no password or key ever shows in errors, dumps, stats or phpinfo().
require __DIR__ . '/lib.php';

$ca = tls_file('ca.pem');
$cert = tls_file('client.pem');
$key = tls_file('client.key');
$cluster = fixture_nodes('tls-cluster');
$standalone = fixture_nodes('tls-standalone');
$mtls = fixture_nodes('mtls-standalone');
$plain = fixture_nodes('standalone');
check(count($cluster) >= 3 && count($standalone) >= 2 && count($mtls) >= 1, 'the TLS fixtures are there', [$cluster, $standalone, $mtls]);
check_same(true, fixture_json('SHARDIS_MTLS_STANDALONE')['mtls'] ?? null, 'the mutual-TLS fixture requires client certificates');
$limitedPassword = 'limited-secret-9f3';
$tmp = sys_get_temp_dir() . '/shardis-tls-' . getmypid();
@mkdir($tmp);
register_shutdown_function(static function () use ($tmp): void {
    foreach (glob("$tmp/*") ?: [] as $f) {
        @unlink($f);
    }
    @rmdir($tmp);
});

// Secrets that must never show: the ACL password, a marker password, key file contents.
$marker = 'marker-pw-' . bin2hex(random_bytes(6));
$secrets = [$limitedPassword, $marker];
$pemBody = static function (string $file): array {
    $lines = array_filter(explode("\n", (string) file_get_contents($file)), static fn ($l) => $l !== '' && !str_starts_with($l, '-----'));
    return array_merge([implode('', $lines)], array_values(array_filter($lines, static fn ($l) => strlen($l) >= 16)));
};
$fakeKey = "$tmp/not-a-key.pem";
$fakeKeyBody = 'MARKERKEY' . bin2hex(random_bytes(12));
file_put_contents($fakeKey, "-----BEGIN PRIVATE KEY-----\n$fakeKeyBody\n-----END PRIVATE KEY-----\n");
$secrets = array_merge($secrets, $pemBody($key), $pemBody(tls_file('mismatched.key')), [$fakeKeyBody]);
/** Every exception message, dump and info text, checked for secrets at the end. */
$seen = [];
$keep = static function (Throwable $e) use (&$seen): Throwable {
    $seen[] = get_class($e) . ': ' . $e->getMessage();
    $seen[] = $e->getTraceAsString();
    $seen[] = print_r($e->getTrace(), true);
    return $e;
};
$clients = [];

// --- ring_hash over TLS from the config array -------------------------------------------
$ring = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => $standalone, 'tls' => ['ca_file' => $ca], 'persistent_id' => 'tls-ring']);
$clients[] = $ring;
$owners = [];
$keys = [];
for ($i = 0; $i < 30; $i++) {
    $k = "tls:ring:$i";
    $keys[] = $k;
    check_same(true, $ring->set($k, "v$i"), "ring_hash SET over TLS ($k)");
    $owners[$ring->nodeFor($k)][] = $k;
}
check(count($owners) >= 2, 'the keys spread over several TLS nodes', array_keys($owners));
check_same(array_map(static fn ($i) => "v$i", range(0, 29)), $ring->mGet($keys), 'mGet split over the TLS nodes and merged');
foreach ($owners as $node => $ks) {
    // phpredis over TLS (an independent client) finds each key where shardis put it
    check_same('v' . substr($ks[0], strlen('tls:ring:')), tls_node_conn($node)->get($ks[0]), "the key is on the node nodeFor names ($node)");
}
$s = $ring->stats();
check_same(true, $s['tls']['enabled'], 'stats: tls.enabled');
check_same(false, $s['tls']['insecure_skip_verify'], 'stats: verified');
check($s['tls']['handshakes'] >= count($owners) && $s['tls']['handshakes'] <= count($standalone), 'stats: one TLS handshake per node used', $s['tls']);
check_same($s['tls']['handshakes'], array_sum(array_column($s['nodes'], 'tls_handshakes')), 'stats: the per-node tls_handshakes add up');
$ring->del($keys);

// the config array's 'auth' over TLS: the limited ACL user; NOPERM is a server error
$lim = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => $standalone, 'tls' => ['ca_file' => $ca], 'auth' => ['username' => 'limited', 'password' => $limitedPassword]]);
$clients[] = $lim;
check_same(true, $lim->set('lim:a', '1'), 'the limited user writes lim:*');
check_same('1', $lim->get('lim:a'), 'and reads it back');
$e = $keep(check_throws(Shardis\ServerException::class, fn () => $lim->set('other:a', '1'), 'a key outside lim:*'));
check(str_contains($e->getMessage(), 'NOPERM'), 'the message keeps the server code NOPERM', $e->getMessage());
check_same(11, $e->getCode(), 'NOPERM has the server error code');
check(str_contains((string) $lim->getLastError(), 'NOPERM'), 'getLastError has NOPERM', $lim->getLastError());
// auth.password_file (read at construction)
$pwFile = "$tmp/password";
file_put_contents($pwFile, "$limitedPassword\n");
$fromFile = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => $standalone, 'tls' => ['ca_file' => $ca], 'auth' => ['username' => 'limited', 'password_file' => $pwFile], 'persistent_id' => 'tls-pwfile']);
$clients[] = $fromFile;
check_same('1', $fromFile->get('lim:a'), 'auth.password_file authenticates');
$e = $keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client(['mode' => 'ring_hash', 'nodes' => $standalone, 'auth' => ['password' => $marker, 'password_file' => $pwFile]]), 'password and password_file together'));
check(str_contains($e->getMessage(), 'auth.password_file'), 'the message names auth.password_file', $e->getMessage());
// a wrong password (the marker), given directly and from a file: a connection error without it
$wrong = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$standalone[0]], 'tls' => ['ca_file' => $ca], 'auth' => ['username' => 'limited', 'password' => $marker]]);
$clients[] = $wrong;
$e = $keep(check_throws(Shardis\ConnectionException::class, fn () => $wrong->get('lim:a'), 'a wrong password'));
check(str_contains(strtoupper($e->getMessage()), 'WRONGPASS') || str_contains($e->getMessage(), 'auth'), 'the message says authentication failed', $e->getMessage());
$markerFile = "$tmp/marker-password";
file_put_contents($markerFile, $marker);
$wrongFile = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$standalone[0]], 'tls' => ['ca_file' => $ca], 'auth' => ['username' => 'limited', 'password_file' => $markerFile]]);
$clients[] = $wrongFile;
$keep(check_throws(Shardis\ConnectionException::class, fn () => $wrongFile->get('lim:a'), 'a wrong password from password_file'));

// --- cluster over TLS: config array, rediss+cluster:// URL ------------------------------
$cc = new Shardis\Client(['mode' => 'cluster', 'nodes' => [$cluster[0]], 'tls' => ['ca_file' => $ca], 'timeout' => 2.0]);
$clients[] = $cc;
$slots = ['{a}', '{b}', '{c}', '{d}', '{e}', '{f}'];
$shards = [];
foreach ($slots as $i => $tag) {
    check_same(true, $cc->set("{$tag}tls", "c$i"), "cluster SET over TLS ($tag)");
    $shards[$cc->nodeFor("{$tag}tls")] = true;
}
check(count($shards) >= 2, 'the keys are on several shards', array_keys($shards));
check_same(array_map(static fn ($i) => "c$i", array_keys($slots)), $cc->mGet(array_map(static fn ($t) => "{$t}tls", $slots)), 'cross-slot mGet over TLS');
$s = $cc->stats();
check($s['tls']['enabled'] && $s['tls']['handshakes'] >= count($shards), 'cluster stats count the TLS handshakes', $s['tls']);
$url = 'rediss+cluster://' . implode(',', $cluster) . '?tls.ca_file=' . urlencode($ca);
$viaUrl = new Shardis\Client($url);
$clients[] = $viaUrl;
check_same('c0', $viaUrl->get('{a}tls'), 'a rediss+cluster:// URL with ?tls.ca_file');
check_same(true, $viaUrl->stats()['tls']['enabled'], 'the URL turned TLS on');
$viaValkeys = new Shardis\Client('valkeys://' . $standalone[0] . '?tls.ca_file=' . urlencode($ca));
check_same(true, $viaValkeys->set('tls:valkeys', 'x'), 'a valkeys:// URL');
$viaValkeys->del('tls:valkeys');

// --- phpredis' RedisCluster form: tls:// seeds, $context['stream'], $auth ----------------
$seeds = array_map(static fn ($n) => "tls://$n", $cluster);
$rc = new Shardis\Cluster('tls-phpredis', $seeds, 1.0, 2.0, true, null, ['stream' => ['cafile' => $ca, 'verify_peer' => true, 'verify_peer_name' => true, 'peer_name' => 'localhost']]);
$clients[] = $rc;
check_same('tls-phpredis', $rc->getPersistentID(), 'the cluster name is the persistent id');
check_same('c1', $rc->get('{b}tls'), 'Shardis\Cluster with tls:// seeds and a stream context reads over TLS');
check_same(true, $rc->set('{g}tls', 'g'), 'and writes');
check_same(['c0', 'g'], $rc->mGet(['{a}tls', '{g}tls']), 'cross-slot mGet');
check_same(true, $rc->stats()['tls']['enabled'], 'stats: TLS on');
check_same(false, $rc->stats()['tls']['insecure_skip_verify'], 'stats: verified');
$ssl = new Shardis\Cluster(null, array_map(static fn ($n) => "ssl://$n", $cluster), 1.0, 2.0, false, null, ['stream' => ['cafile' => $ca]]);
$clients[] = $ssl;
check_same('g', $ssl->get('{g}tls'), 'ssl:// seeds work as tls://');
foreach ([['limited', $limitedPassword], ['user' => 'limited', 'pass' => $limitedPassword]] as $n => $auth) {
    $rl = new Shardis\Cluster(null, $seeds, 1.0, 2.0, false, $auth, ['stream' => ['cafile' => $ca]]);
    $clients[] = $rl;
    check_same(true, $rl->set("lim:{c$n}", 'x'), "\$auth form $n authenticates the limited user");
    $e = $keep(check_throws(Shardis\ServerException::class, fn () => $rl->get('{a}tls'), "\$auth form $n: a key outside lim:*"));
    check(str_contains($e->getMessage(), 'NOPERM'), 'NOPERM through Shardis\Cluster', $e->getMessage());
}
$rw = new Shardis\Cluster(null, $seeds, 1.0, 2.0, false, ['limited', $marker], ['stream' => ['cafile' => $ca]]);
$clients[] = $rw;
$keep(check_throws(Shardis\ConnectionException::class, fn () => $rw->get('lim:x'), 'a wrong $auth password'));
$rs = new Shardis\Cluster(null, $seeds, 1.0, 2.0, false, $marker, ['stream' => ['cafile' => $ca]]);
$clients[] = $rs;
$keep(check_throws(Shardis\ConnectionException::class, fn () => $rs->get('lim:x'), 'a wrong $auth password string'));

// The context maps onto the same config as the array's keys (same config → same
// fingerprint → same registry key).
$same = static function (Shardis\Client $viaArray, Shardis\Cluster $viaContext, string $what): void {
    check_same($viaArray->getPersistentID(), $viaContext->getPersistentID(), "$what: \$context = the 'tls' keys");
};
$one = [$cluster[0]];
$same(
    new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'tls' => ['ca_file' => $ca, 'cert_file' => $cert, 'key_file' => $key, 'server_name' => 'localhost']]),
    new Shardis\Cluster(null, ["tls://$one[0]"], null, null, false, null, ['stream' => ['cafile' => $ca, 'local_cert' => $cert, 'local_pk' => $key, 'peer_name' => 'localhost']]),
    'cafile, local_cert, local_pk, peer_name',
);
$same(
    new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'tls' => ['insecure_skip_verify' => true]]),
    new Shardis\Cluster(null, ["tls://$one[0]"], null, null, false, null, ['stream' => ['verify_peer' => false, 'verify_peer_name' => false]]),
    'verify_peer false',
);
$combined = "$tmp/client-combined.pem";
file_put_contents($combined, file_get_contents($cert) . file_get_contents($key));
$same(
    new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'tls' => ['ca_file' => $ca, 'cert_file' => $combined, 'key_file' => $combined]]),
    new Shardis\Cluster(null, ["tls://$one[0]"], null, null, false, null, ['stream' => ['cafile' => $ca, 'local_cert' => $combined]]),
    'local_cert holding the key too',
);
$same(
    new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'tls' => ['ca_file' => $ca]]),
    new Shardis\Cluster(null, ["TLS://$one[0]"], null, null, false, null, ['stream' => ['cafile' => $ca, 'SNI_enabled' => true, 'allow_self_signed' => false, 'disable_compression' => true]]),
    'options that change nothing in rustls',
);
$withCert = new Shardis\Cluster(null, ["tls://$one[0]"], 1.0, 2.0, false, null, ['stream' => ['cafile' => $ca, 'local_cert' => $combined]]);
$clients[] = $withCert;
check_same('c0', $withCert->get('{a}tls'), 'a client certificate from one combined PEM (local_cert only)');

// $context mistakes are refused, naming the option, never ignored
$ctxFails = [
    'passphrase' => [['stream' => ['cafile' => $ca, 'passphrase' => $marker]], "['passphrase']"],
    'ciphers' => [['stream' => ['ciphers' => 'HIGH']], "['ciphers']"],
    'capath' => [['stream' => ['capath' => '/etc/ssl/certs']], "['capath']"],
    'peer_fingerprint' => [['stream' => ['peer_fingerprint' => 'abc']], "['peer_fingerprint']"],
    'crypto_method' => [['stream' => ['crypto_method' => 9]], "['crypto_method']"],
    'allow_self_signed true' => [['stream' => ['allow_self_signed' => true]], "['allow_self_signed']"],
    'verify_peer_name false alone' => [['stream' => ['cafile' => $ca, 'verify_peer_name' => false]], "['verify_peer_name']"],
    'another wrapper' => [['ssl' => ['cafile' => $ca]], "\$context['ssl']"],
    'local_pk without local_cert' => [['stream' => ['local_pk' => $key]], "['local_cert']"],
];
foreach ($ctxFails as $what => [$context, $names]) {
    $e = $keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Cluster(null, $seeds, 1.0, 1.0, false, null, $context), "\$context: $what"));
    check(str_contains($e->getMessage(), $names), "\$context $what: the message names $names", $e->getMessage());
    check_same(1, $e->getCode(), "\$context $what: a config error (code 1)");
}
$e = $keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Cluster(null, ["tls://$cluster[0]", $cluster[1]], 1.0, 1.0, false, null, ['stream' => ['cafile' => $ca]]), 'tls:// and plain seeds mixed'));
check(str_contains($e->getMessage(), '$seeds') && str_contains($e->getMessage(), "tls://$cluster[0]"), 'the message names the seeds', $e->getMessage());
// phpredis' own RedisCluster (5.x) takes the SSL options flat and turns TLS on for plain
// host:port seeds as soon as it has a context: the same arguments must do the same here.
$flat = ['cafile' => $ca, 'verify_peer' => true];
$reference = new RedisCluster(null, $cluster, 1.0, 2.0, false, null, $flat);
check_same(true, $reference->set('{f}tls', 'flat'), 'phpredis RedisCluster with a flat context writes over TLS');
$viaFlat = new Shardis\Cluster(null, $cluster, 1.0, 2.0, false, null, $flat);
$clients[] = $viaFlat;
check_same($reference->get('{f}tls'), $viaFlat->get('{f}tls'), 'Shardis\Cluster with the same flat context and plain seeds reads what phpredis wrote');
check_same(true, $viaFlat->stats()['tls']['enabled'], 'a context turns TLS on, as in phpredis');
$same(
    new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'tls' => ['ca_file' => $ca]]),
    new Shardis\Cluster(null, $one, null, null, false, null, ['cafile' => $ca]),
    'flat context (RedisCluster\'s form)',
);
$keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Cluster(null, ["unix://$cluster[0]"]), 'an unknown seed transport'));
$keep(check_throws(TypeError::class, fn () => new Shardis\Cluster(null, $seeds, 1.0, 1.0, false, null, ['stream' => ['cafile' => 42]]), 'cafile not a string'));
$keep(check_throws(TypeError::class, fn () => new Shardis\Cluster(null, $seeds, 1.0, 1.0, false, null, 'ctx'), '$context not an array'));
// An empty context is still a context: phpredis speaks TLS then, and so does shardis (so a
// plaintext node fails the handshake in both).
$emptyCtx = new Shardis\Cluster(null, [$plain[0]], 0.3, 1.0, false, null, []);
$clients[] = $emptyCtx;
check_same(true, $emptyCtx->stats()['tls']['enabled'], 'an empty context turns TLS on');
$keep(check_throws(Shardis\ConnectionException::class, fn () => $emptyCtx->get('{a}x'), 'TLS (empty context) to a plaintext node'));
$keep(check_throws(RedisClusterException::class, fn () => @new RedisCluster(null, [$plain[0]], 0.3, 1.0, false, null, []), 'phpredis: the same'));
// files: named by key, contents never quoted
$e = $keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Cluster(null, $seeds, 1.0, 1.0, false, null, ['stream' => ['cafile' => $ca, 'local_cert' => $cert, 'local_pk' => tls_file('mismatched.key')]]), 'a key that is not the certificate\'s'));
check(str_contains($e->getMessage(), 'tls.key_file') && str_contains($e->getMessage(), "\$context's 'local_pk'"), 'the message names tls.key_file and local_pk', $e->getMessage());
$e = $keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'tls' => ['cert_file' => $cert, 'key_file' => $fakeKey]]), 'a key file that holds no key'));
check(str_contains($e->getMessage(), 'tls.key_file'), 'the message names tls.key_file', $e->getMessage());
$e = $keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'tls' => ['ca_file' => $key]]), 'a key given as the CA file'));
check(str_contains($e->getMessage(), 'tls.ca_file'), 'the message names tls.ca_file', $e->getMessage());
$e = $keep(check_throws(Shardis\ConfigException::class, fn () => new Shardis\Cluster(null, $seeds, 1.0, 1.0, false, null, ['stream' => ['cafile' => "$tmp/missing.pem"]]), 'a missing CA file'));
check(str_contains($e->getMessage(), 'tls.ca_file') && str_contains($e->getMessage(), 'missing.pem') && str_contains($e->getMessage(), "\$context's 'cafile'"), 'the message names the key, the option and the path', $e->getMessage());
// 'tls' => [] is the schema's empty [tls] table: TLS on, the platform's roots (which do not
// know the test CA)
try {
    $empty = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$standalone[0]], 'tls' => []]);
    check_same(true, $empty->stats()['tls']['enabled'], "'tls' => [] turns TLS on");
    $e = $keep(check_throws(Shardis\ConnectionException::class, fn () => $empty->get('x'), "'tls' => [] verifies against the platform's roots"));
    check(str_contains($e->getMessage(), 'unknown CA'), 'the test CA is not a platform root', $e->getMessage());
} catch (Shardis\ConfigException $e) {
    check(str_contains($e->getMessage(), 'tls.ca_file'), "'tls' => [] on a machine without platform roots", $keep($e)->getMessage());
}
check_same(false, (new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$plain[0]], 'tls' => ['enabled' => false, 'ca_file' => $ca]]))->stats()['tls']['enabled'], "'enabled' => false");

// --- mutual TLS -----------------------------------------------------------------------------
$m = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => $mtls, 'tls' => ['ca_file' => $ca, 'cert_file' => $cert, 'key_file' => $key], 'persistent_id' => 'tls-mutual']);
$clients[] = $m;
check_same(true, $m->set('tls:m', 'mutual'), 'mutual TLS with a client certificate');
check_same('mutual', $m->get('tls:m'), 'mutual TLS round trip');
check($m->stats()['tls']['handshakes'] >= 1, 'mutual TLS handshakes counted', $m->stats()['tls']);
check_same('mutual', tls_node_conn($m->nodeFor('tls:m'), ['local_cert' => $cert, 'local_pk' => $key])->get('tls:m'), 'phpredis with the same certificate sees the key');
$noCert = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$mtls[0]], 'tls' => ['ca_file' => $ca]]);
$e = $keep(check_throws(Shardis\ConnectionException::class, fn () => $noCert->get('tls:m'), 'mutual TLS without a client certificate'));
check(str_contains($e->getMessage(), 'client certificate'), 'the message says a client certificate is required', $e->getMessage());
check(str_contains($e->getMessage(), $mtls[0]), 'the message names the node', $e->getMessage());
$otherCert = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$mtls[0]], 'tls' => ['ca_file' => $ca, 'cert_file' => tls_file('client-other.pem'), 'key_file' => tls_file('client-other.key')]]);
$e = $keep(check_throws(Shardis\ConnectionException::class, fn () => $otherCert->get('tls:m'), 'a client certificate from another CA'));
check(str_contains($e->getMessage(), 'refused the client certificate'), 'the message says the server refused the certificate', $e->getMessage());
// ... and through Shardis\Cluster's local_cert/local_pk (the mutual-TLS nodes are not a
// cluster: with the certificate the handshake passes and the node answers that cluster
// support is off; without it, the handshake is refused)
$mc = new Shardis\Cluster(null, ["tls://$mtls[0]"], 1.0, 2.0, false, null, ['stream' => ['cafile' => $ca, 'local_cert' => $cert, 'local_pk' => $key]]);
$e = $keep(check_throws(Shardis\ServerException::class, fn () => $mc->get('x'), 'Shardis\Cluster on a non-cluster mutual-TLS node'));
check(str_contains($e->getMessage(), 'cluster support disabled'), 'with local_cert/local_pk the TLS handshake passed: the node itself answered', $e->getMessage());
$mcNo = new Shardis\Cluster(null, ["tls://$mtls[0]"], 1.0, 2.0, false, null, ['stream' => ['cafile' => $ca]]);
$e = $keep(check_throws(Shardis\ConnectionException::class, fn () => $mcNo->get('x'), 'Shardis\Cluster without local_cert on a mutual-TLS node'));
check(str_contains($e->getMessage(), 'client certificate'), 'without local_cert: a client certificate is required', $e->getMessage());

// --- handshake failures: ConnectionException saying what is wrong, naming the node -------
/** A PHP TLS server presenting `$certName` (a certificate no Redis fixture uses). */
$servers = [];
$serve = static function (string $certName) use (&$servers): string {
    $p = proc_open([PHP_BINARY, __DIR__ . '/tls_server.php', tls_file("$certName.pem"), tls_file("$certName.key")], [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    $line = (string) fgets($pipes[1]);
    if (!preg_match('/^port (\d+)/', $line, $m)) {
        check(false, "the $certName TLS server started", $line . stream_get_contents($pipes[2]));
    }
    $servers[] = [$p, $pipes];
    return "127.0.0.1:$m[1]";
};
$fails = static function (array $config, string $node, string $needle, string $what) use ($keep): float {
    $r = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$node], 'timeout' => 2000] + $config);
    $t = microtime(true);
    $e = $keep(check_throws(Shardis\ConnectionException::class, fn () => $r->get('tls:x'), $what));
    $took = microtime(true) - $t;
    check(str_contains($e->getMessage(), $needle), "$what: the message says '$needle'", $e->getMessage());
    check(str_contains($e->getMessage(), $node), "$what: the message names the node", $e->getMessage());
    check_same(5, $e->getCode(), "$what: a connect error (code 5)");
    printf("  %s: %s (%.0f ms)\n", $what, $e->getMessage(), $took * 1000);
    return $took;
};
$fails(['tls' => ['ca_file' => tls_file('other-ca.pem')]], $standalone[0], 'unknown CA', 'unknown CA');
$fails(['tls' => ['ca_file' => $ca, 'server_name' => 'wrong.example']], $standalone[0], 'name mismatch', 'name mismatch (tls.server_name)');
$fails(['tls' => ['ca_file' => $ca]], $serve('wrong-name'), 'name mismatch', "name mismatch (the certificate's own name)");
$fails(['tls' => ['ca_file' => $ca]], $serve('expired'), 'expired certificate', 'expired certificate');
$fails(['tls' => ['ca_file' => $ca]], $serve('other-server'), 'unknown CA', 'a certificate of another CA');
$took = $fails(['tls' => ['ca_file' => $ca], 'connect_timeout' => 300], $plain[0], 'plaintext', 'TLS to a plaintext server');
check($took < 1.5, 'a plaintext server fails within the connect timeout, no hang', $took);
$fails([], $standalone[0], 'expects TLS', 'plaintext to a TLS server');
// A write to a TLS port over plaintext was certainly not run: a connect error, not "indeterminate".
$w = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$standalone[0]], 'timeout' => 2000]);
$e = $keep(check_throws(Shardis\ConnectionException::class, fn () => $w->set('tls:w', 'x'), 'a plaintext write to a TLS port'));
check(!($e instanceof Shardis\IndeterminateException) && $e->getCode() === 5, 'the write is a connect error, not indeterminate', $e->getCode() . ' ' . $e->getMessage());
$e = $keep(check_throws(Shardis\ConnectionException::class, fn () => (new Shardis\Cluster(null, ["tls://$cluster[0]"], 1.0, 2.0, false, null, ['stream' => ['cafile' => $ca, 'peer_name' => 'wrong.example']]))->get('x'), 'peer_name the certificate does not hold'));
check(str_contains($e->getMessage(), 'name mismatch'), 'Shardis\Cluster: name mismatch', $e->getMessage());
$e = $keep(check_throws(Shardis\ConnectionException::class, fn () => (new Shardis\Cluster(null, ["tls://$cluster[0]"], 1.0, 2.0, false, null, ['stream' => ['cafile' => tls_file('other-ca.pem')]]))->get('x'), 'Shardis\Cluster with the wrong CA'));
check(str_contains($e->getMessage(), 'unknown CA'), 'Shardis\Cluster: unknown CA', $e->getMessage());
foreach ($servers as [$p, $pipes]) {
    fclose($pipes[0]);
    proc_close($p);
}

// --- insecure_skip_verify: works without a CA, shows in stats and phpinfo() ---------------
$ins = new Shardis\Cluster('tls-insecure', $seeds, 1.0, 2.0, true, null, ['stream' => ['verify_peer' => false, 'verify_peer_name' => false]]);
$clients[] = $ins;
check_same('c2', $ins->get('{c}tls'), 'verify_peer false connects without the CA');
check_same(true, $ins->stats()['tls']['insecure_skip_verify'], 'stats: insecure_skip_verify');
$insArr = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => [$standalone[0]], 'tls' => ['insecure_skip_verify' => true, 'server_name' => 'wrong.example'], 'persistent_id' => 'tls-insecure-array']);
$clients[] = $insArr;
check_same(true, $insArr->set('tls:ins', '1'), 'insecure_skip_verify accepts a name mismatch');
$insArr->del('tls:ins');
$plainClient = new Shardis\Client(['mode' => 'ring_hash', 'nodes' => $plain, 'persistent_id' => 'plain-ring']);
$clients[] = $plainClient;

ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
$seen[] = $info;
check(str_contains($info, 'TLS => rustls'), 'phpinfo: TLS support', $info);
check(str_contains($info, "registry: tls-ring => 1 handle(s); TLS on, verified against $ca"), 'phpinfo: a verified TLS client and its CA file', $info);
check(str_contains($info, "registry: tls-mutual => 1 handle(s); TLS on, verified against $ca, client certificate $cert"), 'phpinfo: the client certificate (path only)', $info);
check(str_contains($info, 'registry: tls-phpredis => 1 handle(s); TLS on, verified against ' . $ca . ', name localhost'), 'phpinfo: peer_name', $info);
check(str_contains($info, 'registry: tls-insecure => 1 handle(s); TLS ON, INSECURE: server certificates and names are NOT verified'), 'phpinfo: the insecure client, loudly', $info);
check(str_contains($info, 'registry: tls-insecure-array => 1 handle(s); TLS ON, INSECURE'), 'phpinfo: the insecure array client', $info);
check((bool) preg_match('/^WARNING: INSECURE TLS => \d+ client\(s\) do NOT verify server certificates \(insecure_skip_verify\): (.*)$/m', $info, $warn), 'phpinfo: a warning row for the insecure clients', $info);
check(str_contains($warn[1], 'tls-insecure, tls-insecure-array') && !str_contains($warn[1], 'tls-ring'), 'the warning lists the insecure clients only', $warn[1]);
check(str_contains($info, 'registry: plain-ring => 1 handle(s); TLS off (plaintext)'), 'phpinfo: a plaintext client', $info);
check(!str_contains($info, $key) && !str_contains($info, 'client.key'), 'phpinfo: no key file path', $info);
unset($ins, $insArr);
$clients = array_filter($clients, static fn ($c) => !in_array($c->getPersistentID(), ['tls-insecure', 'tls-insecure-array'], true));
ob_start();
phpinfo(INFO_MODULES);
$after = ob_get_clean();
$seen[] = $after;
check(str_contains($after, 'registry: tls-insecure => 0 handle(s); TLS ON, INSECURE'), 'phpinfo: the registry keeps the insecure core (and says so) after its objects are gone', $after);

// --- no secret anywhere ---------------------------------------------------------------------
foreach ($clients as $c) {
    ob_start();
    var_dump($c);
    print_r($c);
    echo "\n", var_export($c, true), "\n", json_encode($c), "\n", json_encode($c->stats()), "\n";
    print_r((array) $c);
    $seen[] = ob_get_clean();
    $seen[] = (string) $c->getLastError();
}
$all = implode("\n", $seen);
check(strlen($all) > 10000, 'the texts were collected', strlen($all));
foreach ($secrets as $s) {
    check(!str_contains($all, $s), 'no password, key or secret file contents in errors, traces, dumps, stats or phpinfo()', substr($s, 0, 12) . '…');
}
// with exception arguments in traces (zend.exception_ignore_args off), the secrets passed
// to the constructors still never show
ini_set('zend.exception_ignore_args', '0');
$traces = [];
foreach ([
    fn () => new Shardis\Cluster(null, $seeds, 1.0, 1.0, false, $marker, ['stream' => ['passphrase' => $marker]]),
    fn () => new Shardis\Cluster(null, $seeds, 1.0, 1.0, false, ['limited', $marker], ['ssl' => []]),
    fn () => new Shardis\Client(['mode' => 'cluster', 'nodes' => $one, 'auth' => ['password' => $marker], 'timeout' => 'x']),
    fn () => new Shardis\Client("rediss://:$marker@127.0.0.1:1?timeout=x"),
] as $i => $fn) {
    try {
        $fn();
        check(false, "trace case $i throws");
    } catch (Shardis\Exception $e) {
        $traces[] = $e->getMessage() . "\n" . $e->getTraceAsString() . "\n" . print_r($e->getTrace(), true) . var_export($e->getTrace(), true);
    }
}
check(str_contains(implode('', $traces), 'SensitiveParameterValue'), 'the secret-bearing arguments are #[\SensitiveParameter]', $traces);
check(!str_contains(implode('', $traces), $marker), 'exception traces with arguments never show the password', $traces);
done();
