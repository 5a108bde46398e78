//! Backends, routes, mirrors and faults: what validation accepts, and every mistake named
//! by its key.

use std::time::Duration;

use crate::config::{Config, FaultKind, Mode, Percent};
use crate::error::ErrorKind;

const BACKENDS: &str = r#"
timeout = "2s"
[backends.users]
mode = "maglev"
nodes = ["10.0.0.1:6379", "10.0.0.2:6379"]
[backends.users_next]
mode = "cluster"
nodes = ["10.0.1.1:6379"]
timeout = "500ms"
[backends.cache]
mode = "ketama"
nodes = ["10.0.2.1:6379"]
"#;

fn err(toml: &str) -> String {
    let e = Config::from_toml_str(toml).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    e.to_string()
}

#[test]
fn a_full_routing_config_is_checked_into_indexes() {
    let c = Config::from_toml_str(&format!(
        r#"{BACKENDS}
[[routes]]
prefix = "user:"
remove_prefix = true
key_formatter = "{{%KEY%}}"
backend = "users"
read_backend = "cache"
mirror = [{{ backend = "users_next", fraction = 12.5, exclude_read_commands = true }}]
[catch_all]
backend = "cache"
[[faults]]
type = "delay"
fraction = 1
delay = "5ms"
commands = ["get", "SET"]
"#
    ))
    .unwrap();
    let r = c.routing().unwrap();
    let names: Vec<&str> = r.backends.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["cache", "users", "users_next"]);
    let route = &r.routes[0];
    assert_eq!((route.backend, route.read_backend), (1, Some(0)));
    assert_eq!(route.mirrors[0].backend, 2);
    assert_eq!(route.mirrors[0].fraction, Percent(125_000));
    assert!(route.mirrors[0].exclude_read_commands);
    let mut stored = Vec::new();
    route.stored_key(b"user:42", &mut stored);
    assert_eq!(stored, b"{42}");
    // Backends inherit top-level timeouts they do not set.
    assert_eq!(r.backends[1].config.timeout(), Duration::from_secs(2));
    assert_eq!(r.backends[2].config.timeout(), Duration::from_millis(500));
    assert_eq!(r.backends[2].config.mode(), Mode::Cluster);
    // The client's own settings are its primary backend's (the catch-all's).
    assert_eq!(c.mode(), Mode::Ketama);
    assert_eq!(r.faults[0].kind, FaultKind::Delay);
    assert_eq!(r.faults[0].commands, ["get", "set"]);
}

#[test]
fn toml_json_and_fingerprints_agree() {
    let toml = format!(
        "{BACKENDS}\n[[routes]]\nprefix = \"u:\"\nbackend = \"users\"\nmirror = [{{ backend = \"users_next\" }}]\n[catch_all]\nbackend = \"cache\"\n"
    );
    let a = Config::from_toml_str(&toml).unwrap();
    let json = r#"{"timeout":"2s","backends":{
        "users":{"mode":"maglev","nodes":["10.0.0.1:6379","10.0.0.2:6379"]},
        "users_next":{"mode":"cluster","nodes":["10.0.1.1:6379"],"timeout":"500ms"},
        "cache":{"mode":"ketama","nodes":["10.0.2.1:6379"]}},
        "routes":[{"prefix":"u:","backend":"users","mirror":[{"backend":"users_next"}]}],
        "catch_all":{"backend":"cache"}}"#;
    let b = Config::from_json_str(json).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.fingerprint(), b.fingerprint());
    let other = Config::from_toml_str(&toml.replace("\"u:\"", "\"v:\"")).unwrap();
    assert_ne!(a.fingerprint(), other.fingerprint());
}

#[test]
fn every_mistake_names_its_key() {
    let route = |r: &str| format!("{BACKENDS}\n[catch_all]\nbackend = \"cache\"\n{r}");
    let cases: Vec<(String, &str)> = vec![
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"nope\"\n"), "routes[0].backend: no backend named \"nope\""),
        (route("[[routes]]\nbackend = \"users\"\n"), "routes[0].prefix: missing"),
        (route("[[routes]]\nprefix = \"\"\nbackend = \"users\"\n"), "routes[0].prefix: is empty"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\n[[routes]]\nprefix = \"a\"\nbackend = \"users\"\n"), "routes[1].prefix: \"a\" is also the prefix of routes[0]"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\nkey_formatter = \"x-%HOST%\"\n"), "routes[0].key_formatter: only the %KEY% operator"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\nkey_formatter = \"fixed\"\n"), "routes[0].key_formatter: must contain %KEY%"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\nread_backend = \"x\"\n"), "routes[0].read_backend: no backend named \"x\""),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\nmirror = [{ backend = \"users\" }]\n"), "routes[0].mirror[0].backend: is the route's own backend"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\nmirror = [{ backend = \"users_next\", fraction = 101 }]\n"), "routes[0].mirror[0].fraction"),
        (route("[[faults]]\ntype = \"delay\"\nfraction = 5\n"), "faults[0].delay: missing"),
        (route("[[faults]]\ntype = \"error\"\nfraction = 5\ncommands = [\"NOPE\"]\n"), "faults[0].commands[0]: unknown command \"NOPE\""),
        (route("[[faults]]\ntype = \"boom\"\nfraction = 5\n"), "faults[0].type: unknown variant"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\ncolour = 1\n"), "routes[0].colour: unknown field `colour`"),
        (format!("{BACKENDS}\n[[routes]]\nprefix = \"a\"\nbackend = \"users\"\n"), "backends.cache: no route, catch_all, read_backend or mirror uses this backend"),
        ("[backends.a]\nmode = \"jump\"\nnodes = [\"h:1\"]\n".to_owned(), "routes: no route, no catch_all and no top-level nodes"),
        ("[backends.a]\nmode = \"jump\"\nnodes = [\"h:1\"]\n[backends.a.catch_all]\nbackend = \"a\"\n[catch_all]\nbackend = \"a\"\n".to_owned(), "backends.a: backends/routes/catch_all/faults are set only at the top level"),
        ("[backends.a]\nmode = \"jump\"\nnodes = [\"h:1\"]\npersistent_id = \"x\"\n[catch_all]\nbackend = \"a\"\n".to_owned(), "backends.a: persistent_id are set only at the top level"),
        ("[backends.a]\nmode = \"jump\"\nnodes = [\"nope\"]\n[catch_all]\nbackend = \"a\"\n".to_owned(), "backends.a.nodes[0]"),
        ("hash_tags = true\n[backends.a]\nmode = \"jump\"\nnodes = [\"h:1\"]\n[catch_all]\nbackend = \"a\"\n".to_owned(), "hash_tags: describes the top-level (`default`) backend, which has no nodes"),
        ("mode = \"jump\"\nnodes = [\"h:1\"]\n[backends.default]\nmode = \"jump\"\nnodes = [\"h:2\"]\n[[routes]]\nprefix = \"a\"\nbackend = \"default\"\n".to_owned(), "backends.default: `default` is the backend of the top-level nodes"),
        ("[backends.a]\nmode = \"jump\"\nnodes = [\"h:1\"]\n[catch_all]\nbackend = \"a\"\nprefix = \"x\"\n".to_owned(), "catch_all.prefix: the catch-all route has no prefix"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\nread_backend = \"users\"\n"), "routes[0].read_backend: is the route's own backend"),
        (route("[[routes]]\nprefix = \"a\"\nbackend = \"users\"\nmirror = [{ backend = \"users_next\" }, { backend = \"users_next\" }]\n"), "routes[0].mirror[1].backend: is already a mirror of this route"),
        (route("[[faults]]\ntype = \"error\"\nfraction = 5\ncommands = [\"PING\"]\n"), "faults[0].commands[0]: \"PING\" is never faulted"),
        (route("[[faults]]\ntype = \"error\"\nfraction = 5\ncommands = [\"config|get\"]\n"), "faults[0].commands[0]: unknown command \"config|get\""),
    ];
    for (toml, expected) in cases {
        let e = err(&toml);
        assert!(
            e.contains(expected),
            "expected {expected:?} in {e:?}\nfor:\n{toml}"
        );
    }
}

#[test]
fn top_level_nodes_make_the_default_backend_and_catch_all() {
    let c = Config::from_toml_str(
        "mode = \"jump\"\nnodes = [\"h:1\"]\n[[faults]]\ntype = \"error\"\nfraction = 0.5\n",
    )
    .unwrap();
    let r = c.routing().unwrap();
    assert_eq!(r.backends.len(), 1);
    assert_eq!(r.backends[0].name, "default");
    assert_eq!(r.catch_all.as_ref().unwrap().backend, 0);
    assert_eq!(r.faults[0].fraction, Percent(5_000));
    assert_eq!(c.mode(), Mode::Jump);
}

#[test]
fn a_backend_password_never_shows_in_an_error() {
    let e = err(
        "[backends.a]\nmode = \"jump\"\nnodes = [\"h:1\"]\n[backends.a.auth]\npassword = 918273645\n[catch_all]\nbackend = \"a\"\n",
    );
    assert!(!e.contains("918273645"), "{e}");
    assert!(e.contains("backends.a.auth.password"), "{e}");
}
