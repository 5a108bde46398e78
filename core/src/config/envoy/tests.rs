//! Imports of valid Envoy configs: the reference examples, every routing feature, and the
//! TOML round trip of what they become. (The CLI tests check these files with Envoy's own
//! `--mode validate`.)
#![allow(clippy::unwrap_used, clippy::panic)]

use super::{EnvoyImport, import};
use crate::config::{
    AuthSpec, Config, ConfigSpec, DurationSpec, FaultKind, HashFunction, HashTagsSpec, MaglevSpec,
    MirrorSpec, Mode, NodeSpec, Percent, ReadFrom, RefreshSpec, RingHashSpec, RouteSpec, TlsSpec,
};

const RING: &str = include_str!("testdata/envoy-ring.yaml");
const MAGLEV: &str = include_str!("testdata/envoy-maglev.yaml");
const CLUSTER: &str = include_str!("testdata/envoy-cluster.yaml");
const ROUTES: &str = include_str!("testdata/routes.yaml");
const LISTENERS: &str = include_str!("testdata/listeners.yaml");

fn text(s: &str) -> Option<DurationSpec> {
    Some(DurationSpec::Text(s.to_owned()))
}

fn backend<'s>(spec: &'s ConfigSpec, name: &str) -> &'s ConfigSpec {
    spec.backends
        .as_ref()
        .and_then(|b| b.get(name))
        .unwrap_or_else(|| panic!("no backend {name}: {spec:?}"))
}

fn has_warning(i: &EnvoyImport, path: &str) -> bool {
    i.warnings
        .iter()
        .any(|w| w.starts_with(&format!("{path} (line")))
}

/// The spec printed as TOML reads back to the same validated config.
fn assert_toml_round_trip(spec: &ConfigSpec) {
    let out = spec.to_toml().unwrap();
    assert_eq!(
        Config::from_toml_str(&out).unwrap(),
        Config::from_spec(spec.clone()).unwrap(),
        "{out}"
    );
}

#[test]
fn reference_ring_is_one_ring_hash_backend_behind_the_catch_all() {
    let i = import(RING, None).unwrap();
    let nodes: Vec<NodeSpec> = (1..=3)
        .map(|n| NodeSpec::from(format!("127.0.0.1:1700{n}").as_str()))
        .collect();
    let ring = backend(&i.spec, "redis_ring");
    assert_eq!(ring.mode, Some(Mode::RingHash));
    assert_eq!(ring.nodes, nodes);
    assert_eq!(ring.hash_tags, Some(HashTagsSpec::Enabled(true)));
    assert_eq!(
        (ring.timeout.clone(), ring.connect_timeout.clone()),
        (text("5s"), text("1s"))
    );
    assert_eq!((ring.ring_hash.clone(), ring.maglev.clone()), (None, None));
    assert_eq!(
        i.spec.catch_all,
        Some(RouteSpec {
            backend: Some("redis_ring".into()),
            ..RouteSpec::default()
        })
    );
    assert!(i.spec.routes.is_empty() && i.spec.faults.is_empty() && i.spec.nodes.is_empty());
    assert_eq!(i.spec.routes_case_insensitive, None);
    for ignored in [
        "admin",
        "static_resources.listeners[0].address",
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix",
    ] {
        assert!(has_warning(&i, ignored), "{ignored}: {:?}", i.warnings);
    }
    assert_eq!(i.warnings.len(), 3, "{:?}", i.warnings);
    let config = i.to_config().unwrap();
    assert_eq!(config.mode(), Mode::RingHash);
    assert_eq!(
        config.routing().unwrap().backends[0].config.nodes().len(),
        3
    );
    assert_toml_round_trip(&i.spec);
}

#[test]
fn reference_maglev_is_one_maglev_backend() {
    let i = import(MAGLEV, None).unwrap();
    let maglev = backend(&i.spec, "redis_maglev");
    assert_eq!(maglev.mode, Some(Mode::Maglev));
    assert_eq!(maglev.nodes.len(), 3);
    assert_eq!(maglev.hash_tags, Some(HashTagsSpec::Enabled(true)));
    assert_eq!(maglev.maglev, None);
    assert_eq!(i.to_config().unwrap().mode(), Mode::Maglev);
    assert_toml_round_trip(&i.spec);
}

#[test]
fn reference_cluster_is_a_cluster_backend_with_its_refresh_settings() {
    let i = import(CLUSTER, None).unwrap();
    let c = backend(&i.spec, "redis_cluster");
    assert_eq!(c.mode, Some(Mode::Cluster));
    assert_eq!(c.nodes, vec![NodeSpec::from("127.0.0.1:17201")]);
    // Hash tags are always on in a Redis Cluster: not written.
    assert_eq!(c.hash_tags, None);
    assert_eq!(
        c.refresh,
        Some(RefreshSpec {
            interval: text("5s"),
            on_redirects: Some(5),
            on_failures: None,
        })
    );
    let typed = "static_resources.clusters[0].cluster_type.typed_config";
    for ignored in [
        format!("{typed}.cluster_refresh_timeout"),
        format!("{typed}.redirect_refresh_interval"),
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.settings.enable_command_stats".into(),
    ] {
        assert!(has_warning(&i, &ignored), "{ignored}: {:?}", i.warnings);
    }
    assert_eq!(i.to_config().unwrap().mode(), Mode::Cluster);
    assert_toml_round_trip(&i.spec);
}

#[test]
fn routes_mirrors_read_policy_catch_all_and_faults_are_imported() {
    let i = import(ROUTES, None).unwrap();
    let s = &i.spec;
    assert_eq!(s.routes_case_insensitive, Some(true));
    let mirror = |fraction: u32, exclude: bool| MirrorSpec {
        backend: "shadow".into(),
        fraction: Some(Percent(fraction)),
        exclude_read_commands: exclude.then_some(true),
    };
    assert_eq!(
        s.routes,
        vec![
            RouteSpec {
                prefix: Some("user:".into()),
                backend: Some("users".into()),
                // HUNDRED (the default denominator): 25 → 25%.
                mirror: vec![mirror(250_000, false)],
                ..RouteSpec::default()
            },
            RouteSpec {
                prefix: Some("sess:".into()),
                remove_prefix: Some(true),
                key_formatter: Some("{%KEY%}".into()),
                backend: Some("sessions".into()),
                // TEN_THOUSAND 2500 → 25%.
                mirror: vec![mirror(250_000, true)],
                ..RouteSpec::default()
            },
            RouteSpec {
                prefix: Some("cache:".into()),
                backend: Some("users".into()),
                read_backend: Some("replicas".into()),
                // MILLION 12345 → 1.2345%, exactly.
                mirror: vec![mirror(12_345, false)],
                ..RouteSpec::default()
            },
        ]
    );
    assert_eq!(
        s.catch_all,
        Some(RouteSpec {
            backend: Some("legacy".into()),
            key_formatter: Some("legacy:%KEY%".into()),
            ..RouteSpec::default()
        })
    );

    // Faults: whole percents as Envoy draws them; a DELAY keeps its delay.
    let faults: Vec<_> = s
        .faults
        .iter()
        .map(|f| (f.kind, f.fraction, f.delay.clone(), f.commands.clone()))
        .collect();
    assert_eq!(
        faults,
        vec![
            (
                FaultKind::Error,
                Percent(100_000),
                None,
                vec!["GET".into(), "SET".into()]
            ),
            (FaultKind::Delay, Percent(50_000), text("0.25s"), vec![]),
            (FaultKind::Error, Percent(0), None, vec!["DECR".into()]),
        ]
    );

    let users = backend(s, "users");
    assert_eq!(
        users.nodes,
        vec![
            NodeSpec {
                addr: "10.0.0.1:6379".into(),
                weight: Some(2),
                name: Some("users-a".into()),
            },
            NodeSpec::from("10.0.0.2:6379"),
            NodeSpec::from("[::1]:6380"),
        ]
    );
    assert_eq!(
        users.ring_hash,
        Some(RingHashSpec {
            min_ring_size: Some(2048),
            max_ring_size: Some(65536),
            hash_function: Some(HashFunction::MurmurHash2),
        })
    );
    assert_eq!(
        users.auth,
        Some(AuthSpec {
            username: Some("app".into()),
            password: Some("s3cret".into()),
            password_file: None,
        })
    );
    assert_eq!(
        (users.timeout.clone(), users.connect_timeout.clone()),
        (text("0.5s"), text("0.25s"))
    );

    let sessions = backend(s, "sessions");
    assert_eq!(sessions.mode, Some(Mode::Maglev));
    assert_eq!(
        sessions.maglev,
        Some(MaglevSpec {
            table_size: Some(5003)
        })
    );
    assert_eq!(
        sessions.tls,
        Some(TlsSpec {
            ca_file: Some("@TLS@/ca.pem".into()),
            cert_file: Some("@TLS@/client.pem".into()),
            key_file: Some("@TLS@/client.key".into()),
            server_name: Some("redis.internal".into()),
            ..TlsSpec::default()
        })
    );
    let shadow = backend(s, "shadow");
    assert_eq!(
        shadow.auth.as_ref().unwrap().password_file.as_deref(),
        Some("@TLS@/password")
    );
    // No connect_timeout in the file: shardis' default stays (Envoy's would be 5s).
    assert_eq!(shadow.connect_timeout, None);

    let replicas = backend(s, "replicas");
    assert_eq!(replicas.mode, Some(Mode::Cluster));
    assert_eq!(replicas.read_from, Some(ReadFrom::PreferReplica));
    assert_eq!(
        replicas.refresh,
        Some(RefreshSpec {
            interval: text("10s"),
            on_redirects: Some(3),
            on_failures: Some(2),
        })
    );
    // The typed load_balancing_policy.
    let legacy = backend(s, "legacy");
    assert_eq!(legacy.mode, Some(Mode::RingHash));
    assert_eq!(
        legacy.ring_hash.as_ref().unwrap().hash_function,
        Some(HashFunction::XxHash)
    );
    // The unused cluster is not a backend.
    assert_eq!(s.backends.as_ref().unwrap().len(), 5);

    let ignored = [
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.downstream_auth_password",
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.settings.max_buffer_size_before_flush",
        "static_resources.clusters[0].health_checks",
        "static_resources.clusters[5]",
    ];
    for path in ignored {
        assert!(has_warning(&i, path), "{path}: {:?}", i.warnings);
    }
    assert!(
        i.warnings
            .iter()
            .any(|w| w.contains("5000/1000000 becomes 0%")),
        "{:?}",
        i.warnings
    );
    assert!(
        i.warnings
            .iter()
            .all(|w| !w.contains("s3cret") && !w.contains("client-secret")),
        "warnings never quote a secret: {:?}",
        i.warnings
    );

    // Files that do not exist fail validation at the YAML path that named them.
    let e = i.to_config().unwrap_err().to_string();
    assert!(
        e.contains("static_resources.clusters[1].transport_socket")
            || e.contains("static_resources.clusters[2].typed_extension_protocol_options"),
        "{e}"
    );
    // Without them, the spec validates and survives the TOML round trip.
    let mut spec = i.spec.clone();
    let backends = spec.backends.as_mut().unwrap();
    backends.get_mut("sessions").unwrap().tls = None;
    backends.get_mut("shadow").unwrap().auth = None;
    Config::from_spec(spec.clone()).unwrap();
    assert_toml_round_trip(&spec);
}

#[test]
fn the_listener_argument_picks_one_of_several_redis_listeners() {
    let e = import(LISTENERS, None).unwrap_err().to_string();
    assert!(
        e.contains("\"east\"") && e.contains("\"west\"") && e.contains("--listener"),
        "{e}"
    );
    let east = import(LISTENERS, Some("east")).unwrap();
    assert_eq!(
        east.spec.catch_all.as_ref().unwrap().backend.as_deref(),
        Some("east")
    );
    assert!(
        has_warning(&east, "static_resources.listeners[1]"),
        "{:?}",
        east.warnings
    );
    assert!(
        has_warning(&east, "static_resources.listeners[2]"),
        "{:?}",
        east.warnings
    );
    let west = import(LISTENERS, Some("west")).unwrap();
    assert_eq!(west.spec.routes[0].backend.as_deref(), Some("west"));
    let e = import(LISTENERS, Some("north")).unwrap_err().to_string();
    assert!(e.contains("no listener named \"north\""), "{e}");
    let e = import(LISTENERS, Some("http")).unwrap_err().to_string();
    assert!(
        e.contains("static_resources.listeners[2]")
            && e.contains("no envoy.filters.network.redis_proxy"),
        "{e}"
    );
}

#[test]
fn camel_case_names_typed_structs_and_string_numbers_are_read() {
    let yaml = r#"
staticResources:
  listeners:
  - name: r
    filterChains:
    - filters:
      - name: redis
        typedConfig:
          "@type": type.googleapis.com/xds.type.v3.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          value:
            statPrefix: r
            settings: { opTimeout: 2s }
            prefixRoutes:
              catchAllRoute: { cluster: c }
  clusters:
  - name: c
    connectTimeout: 0.1s
    lbPolicy: CLUSTER_PROVIDED
    clusterType:
      name: envoy.clusters.redis
      typedConfig:
        "@type": type.googleapis.com/google.protobuf.Struct
        value:
          cluster_refresh_rate: 30s
          redirect_refresh_threshold: "10"
    loadAssignment:
      clusterName: c
      endpoints:
      - lbEndpoints:
        - endpoint: { address: { socketAddress: { address: redis.local, portValue: "7000" } } }
"#;
    let i = import(yaml, None).unwrap();
    let c = backend(&i.spec, "c");
    assert_eq!(c.mode, Some(Mode::Cluster));
    assert_eq!(c.nodes, vec![NodeSpec::from("redis.local:7000")]);
    assert_eq!(c.connect_timeout, text("0.1s"));
    assert_eq!(c.timeout, text("2s"));
    let refresh = c.refresh.clone().unwrap();
    assert_eq!(
        (refresh.interval, refresh.on_redirects),
        (text("30s"), Some(10))
    );
    i.to_config().unwrap();
}

#[test]
fn an_empty_prefix_route_is_the_catch_all_and_hides_catch_all_route() {
    let yaml = ROUTES.replace(
        "            catch_all_route:\n              cluster: legacy\n",
        "            - prefix: \"\"\n              cluster: legacy\n            catch_all_route:\n              cluster: users\n",
    );
    let i = import(&yaml, None).unwrap();
    assert_eq!(i.spec.routes.len(), 3);
    let catch_all = i.spec.catch_all.clone().unwrap();
    assert_eq!(catch_all.backend.as_deref(), Some("legacy"));
    assert_eq!(catch_all.prefix, None);
    let routes =
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.prefix_routes";
    assert!(
        has_warning(&i, &format!("{routes}.routes[3]")),
        "{:?}",
        i.warnings
    );
    assert!(
        has_warning(&i, &format!("{routes}.catch_all_route")),
        "{:?}",
        i.warnings
    );
}

#[test]
fn host_names_in_a_dns_ring_warn_that_envoy_hashes_their_addresses() {
    let yaml = RING.replace("type: STATIC", "type: STRICT_DNS").replace(
        "address: 127.0.0.1, port_value: 17001",
        "address: redis-a.local, port_value: 17001",
    );
    let i = import(&yaml, None).unwrap();
    assert!(
        i.warnings
            .iter()
            .any(|w| w.contains("\"redis-a.local:17001\" as written")),
        "{:?}",
        i.warnings
    );
    assert_eq!(
        backend(&i.spec, "redis_ring").nodes[0].addr,
        "redis-a.local:17001"
    );
}

#[test]
fn from_envoy_yaml_and_file_give_the_imported_config() {
    let config = Config::from_envoy_yaml(MAGLEV, None).unwrap();
    assert_eq!(config, import(MAGLEV, None).unwrap().to_config().unwrap());
    let dir = std::env::temp_dir().join(format!("shardis-envoy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("envoy.yaml");
    std::fs::write(&path, MAGLEV).unwrap();
    assert_eq!(Config::from_envoy_file(&path, None).unwrap(), config);
    let e = Config::from_envoy_file(dir.join("missing.yaml"), None).unwrap_err();
    assert!(e.to_string().contains("missing.yaml"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
