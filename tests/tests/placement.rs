//! Placement identical to the proxies users migrate from: keys are written through the
//! real Envoy 1.40 (RING_HASH, MAGLEV) and the real nutcracker 0.5.0 (ketama, modula) in
//! front of real redis-servers; then every server is asked which keys it holds, and shardis
//! must name that server for every key. 0 mismatches allowed.

use std::collections::HashMap;

use shardis::{Client, Config, HashFunction, Mode};
use shardis_tests::StandaloneSet;
use shardis_tests::envoy::{Envoy, EnvoyOptions, LbPolicy, Upstream};
use shardis_tests::nutcracker::{Nutcracker, TwemServer};

/// 3000 plain keys, 300 `{tagged}` keys over 30 tags, 60 `[tagged]` keys, and some
/// binary/UTF-8 keys.
fn keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..3000)
        .map(|i| format!("key:{i:07}").into_bytes())
        .collect();
    for i in 0..300 {
        keys.push(format!("user:{{tag{}}}:{i}", i % 30).into_bytes());
    }
    for i in 0..60 {
        keys.push(format!("order:[grp{}]:{i}", i % 6).into_bytes());
    }
    keys.push(b"{}empty-tag".to_vec());
    keys.push(b"{unclosed".to_vec());
    keys.push("ключ:é:ü".as_bytes().to_vec());
    keys.push(vec![b'k', 0x80, 0xff, 0x7f, b'{', 0xc3, b'}']);
    keys.push(b"emp:{avgo}:0000000001".to_vec());
    keys
}

/// Write every key through the proxy connection.
fn write_through(con: &mut redis::Connection, keys: &[Vec<u8>]) {
    let mut pipe = redis::pipe();
    for (i, k) in keys.iter().enumerate() {
        pipe.cmd("SET").arg(k.as_slice()).arg(i).ignore();
        if i % 200 == 199 {
            pipe.query::<()>(con)
                .unwrap_or_else(|e| panic!("SET through proxy: {e}"));
            pipe = redis::pipe();
        }
    }
    pipe.query::<()>(con)
        .unwrap_or_else(|e| panic!("SET through proxy: {e}"));
}

/// Compare where the servers hold each key with what shardis says.
fn assert_same_placement(
    set: &StandaloneSet,
    client: &Client,
    keys: &[Vec<u8>],
    what: &str,
    spread: bool,
) {
    let mut holder: HashMap<Vec<u8>, String> = HashMap::new();
    for s in &set.servers {
        for k in s.keys() {
            holder.insert(k, s.addr());
        }
    }
    assert_eq!(
        holder.len(),
        keys.len(),
        "{what}: servers hold {} of {} keys",
        holder.len(),
        keys.len()
    );
    let mut mismatches = Vec::new();
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for k in keys {
        let actual = &holder[k];
        *per_node.entry(actual.clone()).or_default() += 1;
        let ours = client.node_for(k).unwrap();
        if ours != *actual {
            mismatches.push(format!(
                "{:?}: proxy put it on {actual}, shardis says {ours}",
                String::from_utf8_lossy(k)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{what}: {} of {} keys placed differently, e.g. {:?}",
        mismatches.len(),
        keys.len(),
        &mismatches[..mismatches.len().min(5)]
    );
    // Every node got keys (the comparison is not vacuous). twemproxy's `crc32` is a 15-bit
    // hash against 32-bit ketama points, so it really does put nearly everything on one node.
    if spread {
        assert_eq!(per_node.len(), set.servers.len(), "{what}: {per_node:?}");
    }
    eprintln!(
        "{what}: {} keys, 0 mismatches, per node {per_node:?}",
        keys.len()
    );
}

struct Case {
    weights: Vec<u32>,
    names: bool,
}

fn envoy_case(policy: LbPolicy, case: &Case, murmur_hosts: bool, min_ring: u64) {
    let set = StandaloneSet::start(case.weights.len());
    let upstreams: Vec<Upstream> = set
        .addrs()
        .into_iter()
        .zip(&case.weights)
        .enumerate()
        .map(|(i, (addr, &weight))| Upstream {
            addr,
            weight,
            hash_key: case.names.then(|| format!("shard-{i}")),
        })
        .collect();
    let options = EnvoyOptions {
        policy,
        murmur_hosts,
        min_ring_size: min_ring,
        ..EnvoyOptions::default()
    };
    let envoy = Envoy::start(&options, &upstreams);
    let keys = keys();
    write_through(&mut envoy.connection(), &keys);

    let mode = match policy {
        LbPolicy::RingHash => Mode::RingHash,
        LbPolicy::Maglev => Mode::Maglev,
    };
    let mut b = Config::builder().mode(mode).hash_tags(true);
    for u in &upstreams {
        b = b.weighted_node(&u.addr, u.weight, u.hash_key.as_deref());
    }
    if mode == Mode::RingHash {
        let hash = if murmur_hosts {
            HashFunction::MurmurHash2
        } else {
            HashFunction::XxHash
        };
        b = b.ring_hash(min_ring, 8_388_608, hash);
    }
    let client = Client::new(b.build().unwrap()).unwrap();
    let what = format!(
        "Envoy {policy:?} weights {:?} names {} murmur {murmur_hosts}",
        case.weights, case.names
    );
    assert_same_placement(&set, &client, &keys, &what, true);
    envoy.stop();
}

#[test]
fn ring_hash_matches_envoy_equal_weights() {
    envoy_case(
        LbPolicy::RingHash,
        &Case {
            weights: vec![1, 1, 1],
            names: false,
        },
        false,
        1024,
    );
}

#[test]
fn ring_hash_matches_envoy_unequal_weights() {
    envoy_case(
        LbPolicy::RingHash,
        &Case {
            weights: vec![1, 3, 2, 5],
            names: false,
        },
        false,
        1024,
    );
}

#[test]
fn ring_hash_matches_envoy_with_hash_keys_and_murmur_host_hash() {
    envoy_case(
        LbPolicy::RingHash,
        &Case {
            weights: vec![2, 1, 1],
            names: true,
        },
        true,
        4096,
    );
}

#[test]
fn maglev_matches_envoy_equal_weights() {
    envoy_case(
        LbPolicy::Maglev,
        &Case {
            weights: vec![1, 1, 1],
            names: false,
        },
        false,
        1024,
    );
}

#[test]
fn maglev_matches_envoy_unequal_weights_and_hash_keys() {
    envoy_case(
        LbPolicy::Maglev,
        &Case {
            weights: vec![1, 3, 2, 5, 1],
            names: true,
        },
        false,
        1024,
    );
}

fn twemproxy_case(
    distribution: &str,
    hash: HashFunction,
    weights: &[u32],
    names: bool,
    tag: Option<&str>,
) {
    let set = StandaloneSet::start(weights.len());
    let servers: Vec<TwemServer> = set
        .addrs()
        .into_iter()
        .zip(weights)
        .enumerate()
        .map(|(i, (addr, &weight))| TwemServer {
            addr,
            weight,
            name: names.then(|| format!("redis-{i}")),
        })
        .collect();
    let nc = Nutcracker::start(distribution, hash.as_str(), tag, &servers);
    let keys = keys();
    write_through(&mut nc.connection(), &keys);

    let mode = if distribution == "ketama" {
        Mode::Ketama
    } else {
        Mode::Modula
    };
    let mut b = Config::builder().mode(mode);
    b = match tag {
        Some(t) => b.hash_tag_delimiters(t),
        None => b.hash_tags(false),
    };
    for s in &servers {
        b = b.weighted_node(&s.addr, s.weight, s.name.as_deref());
    }
    let client = Client::new(b.key_hash(hash).build().unwrap()).unwrap();
    let what = format!(
        "nutcracker {distribution} {} weights {weights:?} names {names} tag {tag:?}",
        hash.as_str()
    );
    assert_same_placement(&set, &client, &keys, &what, hash != HashFunction::Crc32);
    nc.stop();
}

#[test]
fn ketama_matches_twemproxy_default_hash_unnamed_equal() {
    twemproxy_case(
        "ketama",
        HashFunction::Fnv1a64,
        &[1, 1, 1],
        false,
        Some("{}"),
    );
}

#[test]
fn ketama_matches_twemproxy_named_unequal_weights() {
    twemproxy_case(
        "ketama",
        HashFunction::Fnv1a64,
        &[1, 3, 2, 2],
        true,
        Some("{}"),
    );
}

#[test]
fn ketama_matches_twemproxy_every_hash_function() {
    use HashFunction::*;
    for hash in [
        Md5, Murmur, Crc32a, OneAtATime, Crc16, Crc32, Fnv164, Fnv132, Fnv1a32, Hsieh, Jenkins,
    ] {
        twemproxy_case("ketama", hash, &[1, 2, 1], false, None);
    }
}

#[test]
fn ketama_matches_twemproxy_custom_tag_delimiters() {
    twemproxy_case("ketama", HashFunction::Md5, &[1, 1, 1], true, Some("[]"));
}

#[test]
fn modula_matches_twemproxy() {
    twemproxy_case(
        "modula",
        HashFunction::Fnv1a64,
        &[1, 2, 1],
        false,
        Some("{}"),
    );
}
