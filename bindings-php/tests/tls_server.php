<?php
// A TLS server for tls_test.php that presents a certificate no Redis fixture uses
// (expired.pem, wrong-name.pem): PHP's own OpenSSL server on 127.0.0.1, a random port.
// Prints "port N", then accepts (and drops) connections until its stdin closes.
//   usage: php tls_server.php <cert.pem> <key.pem>
declare(strict_types=1);

[, $cert, $key] = $argv;
$ctx = stream_context_create(['ssl' => ['local_cert' => $cert, 'local_pk' => $key, 'verify_peer' => false]]);
$server = stream_socket_server('tls://127.0.0.1:0', $errno, $errstr, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $ctx);
if ($server === false) {
    fwrite(STDERR, "tls_server.php: $errstr\n");
    exit(1);
}
$name = (string) stream_socket_get_name($server, false);
echo 'port ', substr($name, strrpos($name, ':') + 1), "\n";
$deadline = time() + 120;
while (time() < $deadline) {
    $read = [$server, STDIN];
    $write = $except = null;
    if (@stream_select($read, $write, $except, 1) < 1) {
        continue;
    }
    if (in_array(STDIN, $read, true) && (fgets(STDIN) === false || feof(STDIN))) {
        break;
    }
    if (in_array($server, $read, true)) {
        // The handshake runs in accept; the client refuses the certificate, so it fails.
        $conn = @stream_socket_accept($server, 2);
        if ($conn !== false) {
            fclose($conn);
        }
    }
}
