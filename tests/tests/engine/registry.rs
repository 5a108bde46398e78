//! The process registry: the same persistent_id / config yields the same core, so the next
//! "request" reuses the previous one's connections.

use shardis::{Client, Config, Mode};
use shardis_tests::{StandaloneSet, builder};

#[test]
fn same_persistent_id_or_config_shares_one_core_and_its_connections() {
    let set = StandaloneSet::start(2);
    let conns = || -> i64 {
        set.servers
            .iter()
            .map(|s| s.info_stat("total_connections_received"))
            .sum()
    };
    let config = builder(&set, Mode::RingHash, false)
        .persistent_id("registry-test")
        .build()
        .unwrap();
    let start = conns();
    // 50 "requests", each building its client from scratch as a PHP-FPM request would.
    for i in 0..50 {
        let c = Client::shared(config.clone()).unwrap();
        for j in 0..4 {
            c.query(["SET", &format!("r{i}:{j}"), "v"]).unwrap();
        }
    }
    // 2 nodes → 2 connections (+1 per INFO call made by conns() itself, 2 servers).
    assert_eq!(conns() - start, 2 + 2);

    let a = Client::shared(config.clone()).unwrap();
    let b = Client::shared(config.clone()).unwrap();
    assert!(a.same_core(&b));
    assert!(!a.same_core(&Client::new(config.clone()).unwrap()));

    // Without a persistent id, an identical config is the key.
    let anon = builder(&set, Mode::RingHash, false).build().unwrap();
    let x = Client::shared(anon.clone()).unwrap();
    let y = Client::shared(
        Config::from_toml_str(&format!(
            "mode = \"ring_hash\"\nnodes = {:?}\nhash_tags = false",
            set.addrs()
        ))
        .unwrap(),
    )
    .unwrap();
    assert!(x.same_core(&y));
    // A different config is a different core; the same id with new settings replaces it.
    let other = builder(&set, Mode::Maglev, false).build().unwrap();
    assert!(!x.same_core(&Client::shared(other).unwrap()));
    let changed = builder(&set, Mode::Maglev, false)
        .persistent_id("registry-test")
        .build()
        .unwrap();
    let c = Client::shared(changed).unwrap();
    assert!(!c.same_core(&a));
    assert_eq!(c.config().mode(), Mode::Maglev);
    assert!(
        shardis::registry::entries()
            .iter()
            .any(|(k, _)| k == "registry-test")
    );
}
