<?php
// A php-fpm master for tests and benchmarks: started on a unix socket in a temporary
// directory with the shardis extension loaded, stopped (by PID, never by name) on shutdown.
declare(strict_types=1);

final class Fpm
{
    public readonly string $dir;
    public readonly string $socket;
    /** @var resource */
    private $proc;
    private int $pid;

    /** @param array<string, string> $ini pool php_admin_value settings */
    public function __construct(string $extension, int $workers, array $ini = [])
    {
        $this->dir = sys_get_temp_dir() . '/shardis-fpm-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir($this->dir);
        $this->socket = "$this->dir/fpm.sock";
        $pool = '';
        foreach ($ini as $k => $v) {
            $pool .= "php_admin_value[$k] = $v\n";
        }
        file_put_contents("$this->dir/fpm.conf", <<<CONF
            [global]
            error_log = $this->dir/fpm.log
            daemonize = no
            [app]
            listen = $this->socket
            pm = static
            pm.max_children = $workers
            catch_workers_output = yes
            clear_env = no
            $pool
            CONF);
        $binary = getenv('PHP_FPM') ?: 'php-fpm' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION;
        $cmd = [$binary, '-F', '-R', '-y', "$this->dir/fpm.conf"];
        if ($extension !== '') {
            array_push($cmd, '-d', "extension=$extension");
        }
        $this->proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$this->dir/stdout", 'w'], 2 => ['file', "$this->dir/stderr", 'w']], $pipes);
        if (!is_resource($this->proc)) {
            throw new RuntimeException("cannot start $binary");
        }
        $this->pid = proc_get_status($this->proc)['pid'];
        for ($i = 0; $i < 200 && !file_exists($this->socket); $i++) {
            usleep(50000);
        }
        if (!file_exists($this->socket)) {
            $this->stop();
            throw new RuntimeException("php-fpm did not start:\n" . @file_get_contents("$this->dir/fpm.log") . @file_get_contents("$this->dir/stderr"));
        }
        register_shutdown_function([$this, 'stop']);
    }

    /** Stop the master (it stops its workers) and remove the directory. */
    public function stop(): void
    {
        if (is_resource($this->proc)) {
            posix_kill($this->pid, SIGTERM);
            for ($i = 0; $i < 100 && proc_get_status($this->proc)['running']; $i++) {
                usleep(50000);
            }
            if (proc_get_status($this->proc)['running']) {
                posix_kill($this->pid, SIGKILL);
            }
            proc_close($this->proc);
        }
        foreach (glob("$this->dir/*") ?: [] as $f) {
            @unlink($f);
        }
        @rmdir($this->dir);
    }

    public function log(): string
    {
        return (string) @file_get_contents("$this->dir/fpm.log");
    }

    /**
     * Requests through `cgi-fcgi` (libfcgi's client), all in flight at once: the bodies.
     * @param list<array<string, string>> $requests FastCGI parameters per request
     * @return list<string>
     */
    public function cgiFcgi(string $script, array $requests): array
    {
        $running = [];
        foreach ($requests as $params) {
            $env = ['SCRIPT_FILENAME' => $script, 'REQUEST_METHOD' => 'GET', 'GATEWAY_INTERFACE' => 'CGI/1.1', 'SERVER_PROTOCOL' => 'HTTP/1.1'] + $params;
            $p = proc_open(['cgi-fcgi', '-bind', '-connect', $this->socket], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env);
            $running[] = [$p, $pipes[1]];
        }
        $bodies = [];
        foreach ($running as [$p, $out]) {
            $text = (string) stream_get_contents($out);
            fclose($out);
            proc_close($p);
            $split = strpos($text, "\r\n\r\n");
            $bodies[] = $split === false ? $text : substr($text, $split + 4);
        }
        return $bodies;
    }
}
