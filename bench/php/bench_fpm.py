"""PHP-FPM benchmark (not a test): the same request — 3 GETs on different shards, 1 SET, 1
cross-slot MGET of 3 — served by php-fpm (4 static workers, 4 concurrent FastCGI clients)
through five clients of one 3+3 Redis Cluster:

  shardis            Shardis\\Client (extension=shardis), process-persistent core
  predis             Predis\\Client(['cluster' => 'redis']); MGET across slots is refused by
                     predis, so its request does 3 GETs instead
  phpredis           RedisCluster, not persistent
  phpredis+cache     RedisCluster persistent, redis.clusters.cache_slots=1
  phpredis+envoy     Redis (pconnect) to an Envoy redis_proxy sidecar

Per client: requests/s, new TCP connections per request and topology calls per request
(the Redis servers' INFO counters), server-side commands per request, sockets left in
TIME_WAIT, connections per worker over the pool's whole life, and the ratio of shardis'
requests/s to each. Run it with `bash scripts/bench.sh --php`.

`--tls` (`bash scripts/bench.sh --php-tls`): the same page over TLS. The fixture serves a
3+3 cluster with TLS only (client ports, bus and replication) and one TLS standalone node,
both from one test CA; every client verifies the servers' certificates against it:

  shardis            Shardis\Client with 'tls' => ['ca_file' => …]
  predis             Predis\Client(['tls://…'], ['cluster' => 'redis', 'parameters' =>
                     ['scheme' => 'tls', 'ssl' => ['cafile' => …, 'verify_peer' => true]]])
                     (the parameters are the defaults of the connections it opens to the
                     nodes it learns from CLUSTER SLOTS); 3 GETs instead of the MGET
  phpredis           RedisCluster, not persistent, with the stream context (7th argument:
                     ['cafile' => …, 'verify_peer' => true]; phpredis then speaks ssl:// to
                     every node)
  phpredis+cache     RedisCluster persistent, redis.clusters.cache_slots=1, same context
  phpredis 1 node    Redis::pconnect('tls://127.0.0.1', port, …, ['stream' => [...]]) to ONE
                     standalone TLS node: no cluster (every key on that node, one MGET, no
                     replication of the SET, so 5 server commands instead of 6 + ECHOs); what
                     a single non-cluster server costs over TLS with phpredis' persistent
                     connection
  shardis 1 node     Shardis\Client ring_hash over that same single TLS node: the like-for-like
                     row for "phpredis 1 node"

Columns: requests/s (median over rounds), the ratio of shardis' to each, new connections
per request after the warm-up — each is a full or resumed TLS handshake, as every port
serves TLS only — (INFO total_connections_received deltas summed over all nodes), p50/p99
of the request round trip seen by the FastCGI driver, topology calls and server commands
per request, connections opened over the pool's whole life per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from peers import ROOT, start_envoy_cluster, start_fixture, stop_fixture  # noqa: E402

import redis  # noqa: E402

PAGE = """<?php
try {
%(setup)s
$a = $r->get('user:1:name');
$b = $r->get('cart:2');
$c = $r->get('flags:3');
$r->set('session:' . mt_rand(), 'x');
%(mget)s
echo is_array($m) && count($m) === 3 ? "page-ok\\n" : "page-bad\\n";
} catch (Throwable $e) {
    echo "error: ", get_class($e), ": ", $e->getMessage(), "\\n";
}
"""

MGET = "$m = $r->mGet(['views:a', 'views:b', 'views:c']);"
PREDIS_MGET = "$m = [$r->get('views:a'), $r->get('views:b'), $r->get('views:c')];"


def pages(seeds: list[str], envoy_port: int) -> dict[str, tuple[str, dict[str, str]]]:
    php_seeds = "[" + ", ".join(f"'{s}'" for s in seeds) + "]"
    predis_seeds = "[" + ", ".join(f"'tcp://{s}'" for s in seeds) + "]"
    return {
        "shardis": (PAGE % {"setup": f"$r = new Shardis\\Client(['mode' => 'cluster', 'nodes' => {php_seeds}]);", "mget": MGET}, {}),
        "predis": (PAGE % {"setup": "require_once 'Predis/Autoloader.php'; Predis\\Autoloader::register();\n"
                            f"$r = new Predis\\Client({predis_seeds}, ['cluster' => 'redis']);", "mget": PREDIS_MGET}, {}),
        "phpredis": (PAGE % {"setup": f"$r = new RedisCluster(null, {php_seeds}, 1.5, 1.5, false);", "mget": MGET}, {}),
        "phpredis+cache": (PAGE % {"setup": f"$r = new RedisCluster(null, {php_seeds}, 1.5, 1.5, true);", "mget": MGET},
                           {"redis.clusters.cache_slots": "1"}),
        "phpredis+envoy": (PAGE % {"setup": f"$r = new Redis(); $r->pconnect('127.0.0.1', {envoy_port}, 1.5);", "mget": MGET}, {}),
    }


def php_str(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def tls_pages(seeds: list[str], single: str, ca: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The same page over TLS, every client verifying the servers against the test CA."""
    php_seeds = "[" + ", ".join(php_str(s) for s in seeds) + "]"
    predis_seeds = "[" + ", ".join(php_str(f"tls://{s}") for s in seeds) + "]"
    ssl = f"['cafile' => {php_str(ca)}, 'verify_peer' => true, 'verify_peer_name' => true]"
    host, port = single.rsplit(":", 1)
    cluster = "RedisCluster(null, %s, 1.5, 1.5, %s, null, %s)"
    return {
        "shardis": (PAGE % {"setup": f"$r = new Shardis\\Client(['mode' => 'cluster', 'nodes' => {php_seeds}, "
                                     f"'tls' => ['ca_file' => {php_str(ca)}]]);", "mget": MGET}, {}),
        "predis": (PAGE % {"setup": "require_once 'Predis/Autoloader.php'; Predis\\Autoloader::register();\n"
                                    f"$r = new Predis\\Client({predis_seeds}, ['cluster' => 'redis', "
                                    f"'parameters' => ['scheme' => 'tls', 'ssl' => {ssl}]]);", "mget": PREDIS_MGET}, {}),
        "phpredis": (PAGE % {"setup": "$r = new " + cluster % (php_seeds, "false", ssl) + ";", "mget": MGET}, {}),
        "phpredis+cache": (PAGE % {"setup": "$r = new " + cluster % (php_seeds, "true", ssl) + ";", "mget": MGET},
                           {"redis.clusters.cache_slots": "1"}),
        "phpredis 1 node": (PAGE % {"setup": f"$r = new Redis(); $r->pconnect('tls://{host}', {port}, 1.5, null, 0, 1.5, "
                                             f"['stream' => {ssl}]);", "mget": MGET}, {}),
        # Like for like with the row above: shardis on the same single TLS node.
        "shardis 1 node": (PAGE % {"setup": f"$r = new Shardis\\Client(['mode' => 'ring_hash', 'nodes' => "
                                            f"[{php_str(single)}], 'tls' => ['ca_file' => {php_str(ca)}]]);",
                                   "mget": MGET}, {}),
    }


def counters(nodes: list[str], tls: dict[str, object] | None = None) -> dict[str, int]:
    out = {"conns": 0, "topology": 0, "commands": 0}
    for n in nodes:
        host, port = n.rsplit(":", 1)
        r = redis.Redis(host=host, port=int(port), **(tls or {}))
        out["conns"] += int(r.info("stats")["total_connections_received"]) - 1  # this one
        out["commands"] += int(r.info("stats")["total_commands_processed"])
        for name, v in r.info("commandstats").items():
            if re.match(r"^cmdstat_cluster\|(slots|shards|nodes)$", name):
                out["topology"] += int(v["calls"])
        r.close()
    return out


def time_wait(ports: set[int]) -> int:
    """Sockets in TIME_WAIT whose peer is one of `ports` on 127.0.0.1."""
    text = subprocess.run(["ss", "-Htan", "state", "time-wait"], capture_output=True, text=True).stdout
    n = 0
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 4 and any(c.endswith(f":{p}") for c in cols[2:4] for p in ports):
            n += 1
    return n


def run_client(name: str, page: str, ini: dict[str, str], args: argparse.Namespace, nodes: list[str],
               ports: set[int], ext: str, workdir: Path, tls: dict[str, object] | None = None) -> dict[str, float]:
    script = workdir / f"{name.replace('+', '_')}.php"
    script.write_text(page)
    conf = workdir / "fpm.conf"
    sock = workdir / "fpm.sock"
    pool = "".join(f"php_admin_value[{k}] = {v}\n" for k, v in ini.items())
    conf.write_text(f"[global]\nerror_log = {workdir}/fpm.log\ndaemonize = no\n[bench]\nlisten = {sock}\n"
                    f"pm = static\npm.max_children = {args.workers}\npm.max_requests = 0\n{pool}")
    lifetime_before = counters(nodes, tls)
    fpm = subprocess.Popen([os.environ.get("PHP_FPM", "php-fpm8.2"), "-F", "-R", "-y", str(conf), "-d", f"extension={ext}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        load = [str(ROOT / "target" / "release" / "bench-fpm"), "--socket", str(sock), "--script", str(script),
                "--concurrency", str(args.concurrency), "--expect", "page-ok"]
        warm = json.loads(subprocess.run(load + ["--seconds", str(args.warmup)], capture_output=True, text=True, check=True).stdout)
        if warm["errors"]:
            raise RuntimeError(f"{name}: {warm['errors']} bad responses: {warm['first_error']}")
        before, tw_before = counters(nodes, tls), time_wait(ports)
        res = json.loads(subprocess.run(load + ["--seconds", str(args.seconds)], capture_output=True, text=True, check=True).stdout)
        after, tw_after = counters(nodes, tls), time_wait(ports)
        if res["errors"]:
            raise RuntimeError(f"{name}: {res['errors']} bad responses: {res['first_error']}")
    finally:
        fpm.terminate()
        fpm.wait(timeout=30)
        sock.unlink(missing_ok=True)
    lifetime = counters(nodes, tls)["conns"] - lifetime_before["conns"] - 3 * len(nodes)  # counters()' own
    n = max(res["requests"], 1)
    return {
        "rps": res["requests"] / res["seconds"],
        "p50": res["p50_ms"],
        "p99": res["p99_ms"],
        "conns": (after["conns"] - before["conns"] - len(nodes)) / n,  # minus counters()' own
        "topology": (after["topology"] - before["topology"]) / n,
        # every connection the pool opened over its whole life (warm-up included), per worker
        "per_worker": lifetime / args.workers,
        # server-side commands include the SET's replication to its replica
        "commands": (after["commands"] - before["commands"] - 3 * len(nodes)) / n,
        # counters() itself opens (and closes) one connection per node in between
        "time_wait": max(tw_after - tw_before - len(nodes), 0),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tls", action="store_true", help="the same page over TLS (see the module documentation)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.5)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--ext", default=str(ROOT / "target" / "release" / "libshardis_php.so"))
    args = p.parse_args()
    if args.tls:
        main_tls(args)
        return

    fixture, info = start_fixture("cluster", "--primaries", "3", "--replicas", "1")
    nodes = info["nodes"]
    envoy, envoy_port = start_envoy_cluster(nodes[0])
    ports = {int(n.rsplit(":", 1)[1]) for n in nodes} | {envoy_port}
    try:
        workdir = Path(tempfile.mkdtemp(prefix="shardis-bench-php-"))
        clients = pages(nodes, envoy_port)
        results: dict[str, list[dict[str, float]]] = {k: [] for k in clients}
        for rnd in range(args.rounds):
            for name, (page, ini) in clients.items():
                r = run_client(name, page, ini, args, nodes, ports, args.ext, workdir)
                results[name].append(r)
                print(f"round {rnd + 1} {name:15} {r['rps']:7.0f} req/s  conns/req {r['conns']:.3f}  "
                      f"topology/req {r['topology']:.3f}  server cmds/req {r['commands']:.2f}  TIME_WAIT {r['time_wait']}  "
                      f"conns to Redis over the run ÷ workers {r['per_worker']:.1f}",
                      flush=True)
    finally:
        envoy.terminate()
        envoy.wait(timeout=30)
        stop_fixture(fixture)

    best = {k: max(v, key=lambda r: r["rps"]) for k, v in results.items()}
    median_rps = {k: sorted(r["rps"] for r in v)[len(v) // 2] for k, v in results.items()}
    base = median_rps["shardis"]
    print(f"\nphp-fpm, {args.workers} workers, {args.concurrency} concurrent, 3 GET + 1 SET + 1 MGET of 3 "
          f"per request, 3+3 Redis Cluster ({args.rounds} rounds × {args.seconds:.0f} s; median req/s)\n")
    print("| client | req/s | shardis ÷ client | new TCP conns/request | topology calls/request | server commands/request "
          "| TIME_WAIT sockets added (max) | connections opened to Redis over the run ÷ workers (max) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for k in clients:
        r = best[k]
        tw = max(x["time_wait"] for x in results[k])
        per_worker = max(x["per_worker"] for x in results[k])
        print(f"| {k} | {median_rps[k]:.0f} | {base / median_rps[k]:.2f}× | {r['conns']:.3f} | {r['topology']:.3f} | "
              f"{r['commands']:.2f} | {tw} | {per_worker:.1f} |")


def main_tls(args: argparse.Namespace) -> None:
    fixture, info = start_fixture("cluster", "--primaries", "3", "--replicas", "1", "--tls")
    try:
        # one standalone TLS node from the same CA, for phpredis' single-node client
        single_fixture, single = start_fixture("standalone", "--count", "1", "--tls", "--tls-dir", info["tls_dir"])
    except BaseException:
        stop_fixture(fixture)
        raise
    nodes, ca = info["nodes"], info["ca_file"]
    every = nodes + single["nodes"]
    tls = {"ssl": True, "ssl_ca_certs": ca}
    ports = {int(n.rsplit(":", 1)[1]) for n in every}
    clients = tls_pages(nodes, single["nodes"][0], ca)
    results: dict[str, list[dict[str, float]]] = {k: [] for k in clients}
    failed: dict[str, str] = {}
    try:
        workdir = Path(tempfile.mkdtemp(prefix="shardis-bench-php-tls-"))
        for rnd in range(args.rounds):
            for name, (page, ini) in clients.items():
                if name in failed:
                    continue
                try:
                    r = run_client(name, page, ini, args, every, ports, args.ext, workdir, tls)
                except (RuntimeError, subprocess.CalledProcessError, json.JSONDecodeError) as e:
                    failed[name] = str(e)
                    print(f"round {rnd + 1} {name:15} NOT MEASURED: {e}", flush=True)
                    continue
                results[name].append(r)
                print(f"round {rnd + 1} {name:15} {r['rps']:7.0f} req/s  TLS conns/req {r['conns']:.3f}  "
                      f"p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  topology/req {r['topology']:.3f}  "
                      f"server cmds/req {r['commands']:.2f}  conns over the run ÷ workers {r['per_worker']:.1f}",
                      flush=True)
    finally:
        stop_fixture(single_fixture)
        stop_fixture(fixture)

    median = {k: {f: statistics.median(r[f] for r in v) for f in ("rps", "p50", "p99")} for k, v in results.items() if v}
    print(f"\nphp-fpm over TLS, {args.workers} workers, {args.concurrency} concurrent, 3 GET + 1 SET + 1 MGET of 3 "
          f"per request; 3+3 Redis Cluster serving TLS only (the \"1 node\" rows: one TLS standalone node); "
          f"certificates verified against the test CA ({args.rounds} rounds × {args.seconds:g} s after "
          f"{args.warmup:g} s warm-up; medians over rounds)\n")
    print("| client | req/s | shardis ÷ client | new TLS connections (handshakes)/request (max) | p50 ms | p99 ms "
          "| topology calls/request | server commands/request | connections opened over the run ÷ workers (max) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = median["shardis"]["rps"] if "shardis" in median else float("nan")
    for k in clients:
        if k not in median:
            print(f"| {k} | not measured: {failed.get(k, '?')[:200]} | | | | | | | |")
            continue
        m, v = median[k], results[k]
        print(f"| {k} | {m['rps']:.0f} | {base / m['rps']:.2f}× | {max(x['conns'] for x in v):.3f} | "
              f"{m['p50']:.2f} | {m['p99']:.2f} | {statistics.median(x['topology'] for x in v):.3f} | "
              f"{statistics.median(x['commands'] for x in v):.2f} | {max(x['per_worker'] for x in v):.1f} |")
    print()
    if "shardis 1 node" in median and "phpredis 1 node" in median:
        one = median["shardis 1 node"]["rps"] / median["phpredis 1 node"]["rps"]
        print(f"one TLS node, like for like: shardis ÷ phpredis Redis pconnect = {one:.2f}×")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    goals = []
    if "shardis" in median:
        hs = max(x["conns"] for x in results["shardis"])
        goals.append(f"shardis new TLS handshakes/request in steady state = 0: {hs:.3f} ({verdict(hs == 0)})")
        for peer, want in (("predis", 5.0), ("phpredis+cache", 1.3)):
            if peer in median:
                ratio = base / median[peer]["rps"]
                goals.append(f"shardis ≥ {want}× {peer}: {ratio:.2f}× ({verdict(ratio >= want)})")
            else:
                goals.append(f"shardis ≥ {want}× {peer}: {peer} not measured")
    for g in goals:
        print("goal:", g)
    for k, why in failed.items():
        print(f"{k}: not measured: {why}")


if __name__ == "__main__":
    main()
