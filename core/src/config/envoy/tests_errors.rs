//! Envoy fields the importer refuses, each an error naming its YAML path; fields it drops,
//! each a warning naming its path.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::import;

/// A small valid bootstrap the cases below edit.
const BASE: &str = r#"static_resources:
  listeners:
  - name: redis
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: r
          settings:
            op_timeout: 1s
          prefix_routes:
            routes:
            - prefix: "a:"
              cluster: ring
            catch_all_route:
              cluster: ring
  clusters:
  - name: ring
    lb_policy: RING_HASH
    load_assignment:
      cluster_name: ring
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 7001 } } }
"#;

const PROXY: &str = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
const ROUTE0: &str = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.prefix_routes.routes[0]";
const CLUSTER0: &str = "static_resources.clusters[0]";
const ENDPOINTS: &str = "static_resources.clusters[0].load_assignment.endpoints[0]";

/// `BASE` with `anchor` (a whole line, first occurrence) replaced by `with`.
fn edit(anchor: &str, with: &str) -> String {
    assert!(BASE.contains(anchor), "{anchor}");
    BASE.replacen(anchor, with, 1)
}

/// The import of `yaml` and its validation fail with a message holding every one of `parts`.
fn assert_refused(yaml: &str, parts: &[&str]) {
    let e = match import(yaml, None).and_then(|i| i.to_config()) {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(e) => e.to_string(),
    };
    for p in parts {
        assert!(e.contains(p), "{p:?} not in: {e}");
    }
}

const ROUTE_LINE: &str = "              cluster: ring\n            catch_all_route:\n";
const CLUSTER_LINE: &str = "    lb_policy: RING_HASH\n";
const SETTINGS_LINE: &str = "            op_timeout: 1s\n";
const HOST_LINE: &str = "        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 7001 } } }\n";

#[test]
fn the_base_config_imports() {
    let i = import(BASE, None).unwrap();
    i.to_config().unwrap();
}

#[test]
fn an_unknown_field_is_an_error_at_its_path() {
    let route = edit(
        ROUTE_LINE,
        &format!("              colour: red\n{ROUTE_LINE}"),
    );
    assert_refused(
        &route,
        &[&format!("{ROUTE0}.colour: unknown field"), "(line 15)"],
    );
    let cluster = edit(CLUSTER_LINE, &format!("{CLUSTER_LINE}    colour: red\n"));
    assert_refused(&cluster, &[&format!("{CLUSTER0}.colour: unknown field")]);
    let settings = edit(
        SETTINGS_LINE,
        &format!("{SETTINGS_LINE}            colour: red\n"),
    );
    assert_refused(
        &settings,
        &[&format!("{PROXY}.settings.colour: unknown field")],
    );
    let top = format!("{BASE}static_resource: {{}}\n");
    assert_refused(&top, &["static_resource: unknown field"]);
    let host = edit(HOST_LINE, &format!("{HOST_LINE}          colour: red\n"));
    assert_refused(
        &host,
        &[&format!(
            "{ENDPOINTS}.lb_endpoints[0].colour: unknown field"
        )],
    );
}

#[test]
fn custom_commands_are_refused() {
    let yaml = edit(
        SETTINGS_LINE,
        &format!("{SETTINGS_LINE}          custom_commands: [foo]\n"),
    );
    assert_refused(
        &yaml,
        &[&format!("{PROXY}.custom_commands"), "custom commands"],
    );
    // An empty list changes nothing.
    let empty = edit(
        SETTINGS_LINE,
        &format!("{SETTINGS_LINE}          custom_commands: []\n"),
    );
    import(&empty, None).unwrap().to_config().unwrap();
}

#[test]
fn a_policy_that_places_no_key_is_refused() {
    let rr = edit(CLUSTER_LINE, "    lb_policy: ROUND_ROBIN\n");
    assert_refused(&rr, &[&format!("{CLUSTER0}.lb_policy"), "ROUND_ROBIN"]);
    let default = edit(CLUSTER_LINE, "");
    assert_refused(&default, &[CLUSTER0, "Envoy's default"]);
    let provided = edit(CLUSTER_LINE, "    lb_policy: CLUSTER_PROVIDED\n");
    assert_refused(&provided, &[CLUSTER0, "envoy.clusters.redis"]);
    let stray = edit(
        CLUSTER_LINE,
        &format!("{CLUSTER_LINE}    maglev_lb_config: {{ table_size: 7 }}\n"),
    );
    assert_refused(
        &stray,
        &[&format!("{CLUSTER0}.maglev_lb_config"), "does not apply"],
    );
    let hostnames = edit(
        CLUSTER_LINE,
        &format!(
            "{CLUSTER_LINE}    common_lb_config: {{ consistent_hashing_lb_config: {{ use_hostname_for_hashing: true }} }}\n"
        ),
    );
    assert_refused(
        &hostnames,
        &["consistent_hashing_lb_config.use_hostname_for_hashing"],
    );
}

#[test]
fn endpoints_shardis_cannot_use_are_refused() {
    let eds = edit(CLUSTER_LINE, &format!("{CLUSTER_LINE}    type: EDS\n"));
    assert_refused(&eds, &[&format!("{CLUSTER0}.type"), "EDS"]);
    let priority = edit(
        "      - lb_endpoints:\n",
        "      - priority: 1\n        lb_endpoints:\n",
    );
    assert_refused(&priority, &[&format!("{ENDPOINTS}.priority")]);
    let unhealthy = edit(
        HOST_LINE,
        &format!("{HOST_LINE}          health_status: UNHEALTHY\n"),
    );
    assert_refused(
        &unhealthy,
        &[
            &format!("{ENDPOINTS}.lb_endpoints[0].health_status"),
            "UNHEALTHY",
        ],
    );
    let pipe = edit(
        HOST_LINE,
        "        - endpoint: { address: { pipe: { path: /tmp/redis.sock } } }\n",
    );
    assert_refused(
        &pipe,
        &[&format!(
            "{ENDPOINTS}.lb_endpoints[0].endpoint.address.pipe"
        )],
    );
}

#[test]
fn names_a_route_uses_must_be_clusters() {
    let route = edit(
        "              cluster: ring\n",
        "              cluster: nowhere\n",
    );
    assert_refused(
        &route,
        &[
            &format!("{ROUTE0}.cluster"),
            "no cluster named \"nowhere\"",
            "(clusters: ring)",
        ],
    );
    let mirror = edit(
        ROUTE_LINE,
        &format!("              request_mirror_policy: [{{ cluster: shadow }}]\n{ROUTE_LINE}"),
    );
    assert_refused(
        &mirror,
        &[
            &format!("{ROUTE0}.request_mirror_policy[0].cluster"),
            "\"shadow\"",
        ],
    );
    // A mirror to the route's own cluster: shardis' check, reported at the YAML path.
    let own = edit(
        ROUTE_LINE,
        &format!("              request_mirror_policy: [{{ cluster: ring }}]\n{ROUTE_LINE}"),
    );
    assert_refused(
        &own,
        &[
            &format!("{ROUTE0}.request_mirror_policy[0].cluster"),
            "own backend",
            "routes[0].mirror[0].backend",
        ],
    );
}

#[test]
fn route_settings_shardis_checks_are_reported_at_their_yaml_path() {
    let formatter = edit(
        ROUTE_LINE,
        &format!("              key_formatter: \"%DOWNSTREAM_LOCAL_PORT%-%KEY%\"\n{ROUTE_LINE}"),
    );
    assert_refused(&formatter, &[&format!("{ROUTE0}.key_formatter"), "%KEY%"]);
    let twice = edit(
        "            catch_all_route:\n",
        "            - prefix: \"a:\"\n              cluster: ring\n            catch_all_route:\n",
    );
    assert_refused(
        &twice,
        &[
            "prefix_routes.routes[1].prefix",
            "also the prefix of routes[0]",
        ],
    );
    let table = edit(
        CLUSTER_LINE,
        "    lb_policy: MAGLEV\n    maglev_lb_config: { table_size: 100 }\n",
    );
    assert_refused(
        &table,
        &[
            &format!("{CLUSTER0}.maglev_lb_config.table_size"),
            "not a prime",
        ],
    );
    let catch_all = edit(
        "            catch_all_route:\n              cluster: ring\n",
        "            catch_all_route:\n              cluster: ring\n              prefix: \"zz\"\n              remove_prefix: true\n",
    );
    assert_refused(
        &catch_all,
        &[&format!("{PROXY}.prefix_routes.catch_all_route.prefix")],
    );
}

#[test]
fn settings_and_faults_shardis_cannot_honour_are_refused() {
    let zone = edit(
        SETTINGS_LINE,
        &format!("{SETTINGS_LINE}            read_policy: LOCAL_ZONE_AFFINITY\n"),
    );
    assert_refused(&zone, &[&format!("{PROXY}.settings.read_policy"), "zones"]);
    let missing = edit(SETTINGS_LINE, "            enable_hashtagging: true\n");
    assert_refused(&missing, &[&format!("{PROXY}.settings"), "op_timeout"]);
    let number = edit(SETTINGS_LINE, "            op_timeout: 5\n");
    assert_refused(
        &number,
        &[&format!("{PROXY}.settings.op_timeout"), "duration"],
    );
    let millis = edit(SETTINGS_LINE, "            op_timeout: 250ms\n");
    assert_refused(
        &millis,
        &[&format!("{PROXY}.settings.op_timeout"), "\"250ms\""],
    );
    let fault = |extra: &str| {
        edit(
            "          prefix_routes:\n",
            &format!(
                "          faults:\n          - fault_enabled: {{ default_value: {{ numerator: 5 }} }}\n{extra}          prefix_routes:\n"
            ),
        )
    };
    assert_refused(
        &fault("            colour: red\n"),
        &[&format!("{PROXY}.faults[0].colour: unknown field")],
    );
    assert_refused(
        &fault("            commands: [get, frobnicate]\n"),
        &[&format!("{PROXY}.faults[0].commands[1]"), "unknown command"],
    );
    let ok = fault("            commands: [GET]\n");
    import(&ok, None).unwrap().to_config().unwrap();
}

#[test]
fn upstream_auth_and_tls_shardis_cannot_read_are_refused() {
    let options = |password: &str| {
        edit(
            CLUSTER_LINE,
            &format!(
                "{CLUSTER_LINE}    typed_extension_protocol_options:\n      envoy.filters.network.redis_proxy:\n        \"@type\": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProtocolOptions\n        auth_password: {password}\n"
            ),
        )
    };
    let env = options("{ environment_variable: REDIS_PASSWORD }");
    assert_refused(
        &env,
        &[&format!(
            "{CLUSTER0}.typed_extension_protocol_options[\"envoy.filters.network.redis_proxy\"].auth_password.environment_variable"
        )],
    );
    let e = import(&options("{ inline_string: hunter2, colour: red }"), None).unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    let tls = |context: &str| {
        edit(
            CLUSTER_LINE,
            &format!(
                "{CLUSTER_LINE}    transport_socket:\n      name: envoy.transport_sockets.tls\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n        common_tls_context: {context}\n"
            ),
        )
    };
    let inline = tls("{ validation_context: { trusted_ca: { inline_string: PEM } } }");
    assert_refused(
        &inline,
        &[
            &format!(
                "{CLUSTER0}.transport_socket.typed_config.common_tls_context.validation_context.trusted_ca"
            ),
            "filename",
        ],
    );
    let pinned = tls("{ validation_context: { verify_certificate_spki: [abc] } }");
    assert_refused(&pinned, &["validation_context.verify_certificate_spki"]);
    let sds = tls("{ tls_certificate_sds_secret_configs: [{ name: client }] }");
    assert_refused(
        &sds,
        &["common_tls_context.tls_certificate_sds_secret_configs"],
    );
    let socket = edit(
        CLUSTER_LINE,
        &format!(
            "{CLUSTER_LINE}    transport_socket: {{ name: envoy.transport_sockets.starttls }}\n"
        ),
    );
    assert_refused(
        &socket,
        &[&format!("{CLUSTER0}.transport_socket"), "starttls"],
    );
}

#[test]
fn a_bootstrap_without_a_redis_listener_or_with_bad_yaml_is_refused() {
    let none = BASE
        .replace(
            "envoy.filters.network.redis_proxy\n",
            "envoy.filters.network.tcp_proxy\n",
        )
        .replace(
            "type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy",
            "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        );
    assert_refused(
        &none,
        &[
            "no listener in static_resources.listeners has a envoy.filters.network.redis_proxy filter",
        ],
    );
    let twice = edit(CLUSTER_LINE, &format!("{CLUSTER_LINE}{CLUSTER_LINE}"));
    assert_refused(&twice, &["Envoy YAML", "duplicate"]);
    assert_refused("", &["empty"]);
    assert_refused("a: [", &["Envoy YAML"]);
}

#[test]
fn clusters_the_listener_does_not_use_are_not_read() {
    let yaml = format!("{BASE}  - name: web\n    lb_policy: ROUND_ROBIN\n    colour: red\n");
    let i = import(&yaml, None).unwrap();
    assert!(
        i.warnings
            .iter()
            .any(|w| w.starts_with("static_resources.clusters[1] (line")
                && w.contains("\"web\" is not used")),
        "{:?}",
        i.warnings
    );
}

#[test]
fn fields_without_effect_in_process_are_listed_as_warnings() {
    let yaml = format!(
        "admin: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: 9901 }} }} }}\nlayered_runtime: {{ layers: [] }}\noverload_manager: {{}}\n{}",
        BASE.replace(
            SETTINGS_LINE,
            &format!("{SETTINGS_LINE}            enable_redirection: false\n            connection_rate_limit: {{ connection_rate_limit_per_sec: 10 }}\n          downstream_auth_username: {{ inline_string: me }}\n"),
        )
        .replace(
            CLUSTER_LINE,
            &format!("{CLUSTER_LINE}    dns_lookup_family: V4_ONLY\n    circuit_breakers: {{}}\n    outlier_detection: {{}}\n    common_lb_config: {{ healthy_panic_threshold: {{ value: 0 }} }}\n"),
        )
        .replace("  - name: redis\n", "  - name: redis\n    access_log: []\n    address: { socket_address: { address: 0.0.0.0, port_value: 6379 } }\n"),
    );
    let i = import(&yaml, None).unwrap();
    let listener = "static_resources.listeners[0]";
    for path in [
        "admin".to_owned(),
        "layered_runtime".into(),
        "overload_manager".into(),
        format!("{listener}.access_log"),
        format!("{listener}.address"),
        format!("{PROXY}.stat_prefix"),
        format!("{PROXY}.settings.enable_redirection"),
        format!("{PROXY}.settings.connection_rate_limit"),
        format!("{PROXY}.downstream_auth_username"),
        format!("{CLUSTER0}.dns_lookup_family"),
        format!("{CLUSTER0}.circuit_breakers"),
        format!("{CLUSTER0}.outlier_detection"),
        format!("{CLUSTER0}.common_lb_config.healthy_panic_threshold"),
    ] {
        assert!(
            i.warnings
                .iter()
                .any(|w| w.starts_with(&format!("{path} (line"))),
            "{path}: {:#?}",
            i.warnings
        );
    }
    i.to_config().unwrap();
}
