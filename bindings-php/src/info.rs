//! The `phpinfo()` section: version, build features and the clients in this process'
//! registry, each with its TLS state (loudly when certificates are not verified). Nothing
//! secret is shown: no password, no key, no file contents — paths of the CA file and the
//! client certificate at most.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, PoisonError};

use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};
use shardis::config::{TlsConfig, TrustRoots};

/// What phpinfo says about each registry entry's TLS, by registry key. The core's registry
/// lists keys only, so each client construction records its own (the registry replaces an
/// entry whose config changed; so does this).
static TLS_BY_KEY: Mutex<BTreeMap<String, Tls>> = Mutex::new(BTreeMap::new());

#[derive(Clone)]
struct Tls {
    insecure: bool,
    text: String,
}

fn describe(tls: Option<&TlsConfig>) -> Tls {
    let Some(tls) = tls else {
        return Tls {
            insecure: false,
            text: "off (plaintext)".to_owned(),
        };
    };
    if tls.insecure_skip_verify {
        return Tls {
            insecure: true,
            text: "ON, INSECURE: server certificates and names are NOT verified \
                   (insecure_skip_verify)"
                .to_owned(),
        };
    }
    let mut text = match &tls.roots {
        TrustRoots::Platform => "on, verified against the platform's roots".to_owned(),
        TrustRoots::File { path, .. } => format!("on, verified against {path}"),
    };
    if let Some(name) = &tls.server_name {
        text.push_str(&format!(", name {}", name.to_str()));
    }
    if let Some(id) = &tls.identity {
        text.push_str(&format!(", client certificate {}", id.cert_file));
    }
    Tls {
        insecure: false,
        text,
    }
}

/// Remember the TLS state of the registry entry `config` was just shared under.
pub(crate) fn record(config: &shardis::Config) {
    let live: HashSet<String> = shardis::registry::entries()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut map = TLS_BY_KEY.lock().unwrap_or_else(PoisonError::into_inner);
    map.retain(|k, _| live.contains(k));
    map.insert(config.registry_key(), describe(config.tls()));
}

/// Text safe for the C strings of the info table (no NUL bytes).
fn c_text(s: &str) -> String {
    s.replace('\0', "\\0")
}

fn rows() -> Vec<(String, String)> {
    let entries = shardis::registry::entries();
    let mut rows = vec![
        ("shardis support".to_owned(), "enabled".to_owned()),
        ("Version".to_owned(), shardis::VERSION.to_owned()),
        (
            "Modes".to_owned(),
            "cluster, ring_hash, maglev, ketama, modula, jump".to_owned(),
        ),
        (
            "TLS".to_owned(),
            "rustls (ring): rediss:// and valkeys:// URLs, the 'tls' config key, tls:// seeds"
                .to_owned(),
        ),
        (
            "Clients in this process' registry".to_owned(),
            entries.len().to_string(),
        ),
    ];
    let tls = TLS_BY_KEY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut insecure = Vec::new();
    let mut clients = Vec::new();
    for (key, handles) in entries {
        let state = tls.get(&key).map_or("unknown", |t| t.text.as_str());
        if tls.get(&key).is_some_and(|t| t.insecure) {
            insecure.push(c_text(&key));
        }
        clients.push((
            format!("registry: {}", c_text(&key)),
            format!("{handles} handle(s); TLS {}", c_text(state)),
        ));
    }
    if !insecure.is_empty() {
        rows.push((
            "WARNING: INSECURE TLS".to_owned(),
            format!(
                "{} client(s) do NOT verify server certificates (insecure_skip_verify): {}",
                insecure.len(),
                insecure.join(", ")
            ),
        ));
    }
    rows.extend(clients);
    rows
}

/// `phpinfo()` callback (a C callback: nothing in it may panic across the boundary).
pub(crate) extern "C" fn php_info(_module: *mut ModuleEntry) {
    let Ok(rows) = std::panic::catch_unwind(rows) else {
        return;
    };
    info_table_start!();
    for (name, value) in rows {
        // Both strings are NUL-free, so the table macro's CString conversion cannot fail.
        let _ = std::panic::catch_unwind(|| {
            info_table_row!(name.as_str(), value.as_str());
        });
    }
    info_table_end!();
}
