//! The `phpinfo()` section: version, build features and the clients in this process'
//! registry.

use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

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
        ("TLS".to_owned(), "not built (plain TCP)".to_owned()),
        (
            "Clients in this process' registry".to_owned(),
            entries.len().to_string(),
        ),
    ];
    for (key, handles) in entries {
        rows.push((
            format!("registry: {}", c_text(&key)),
            format!("{handles} handle(s)"),
        ));
    }
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
