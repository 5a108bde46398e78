//! Reply formatting in redis-cli's interactive style.

use shardis::Value;

fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Format `v` as redis-cli does (`"text"`, `(integer) 1`, `(nil)`, `1) …`), one value per
/// line, nested arrays indented.
pub(crate) fn print_reply(v: &Value, indent: usize) -> String {
    match v {
        Value::Nil => "(nil)\n".into(),
        Value::Int(i) => format!("(integer) {i}\n"),
        Value::Bulk(b) => format!("{}\n", quote(b)),
        Value::Okay => "OK\n".to_string(),
        Value::Status(s) => format!("{s}\n"),
        Value::Double(d) => format!("(double) {d}\n"),
        Value::Boolean(b) => format!("({b})\n"),
        Value::Error(e) => format!("(error) {e}\n"),
        Value::Array(items) if items.is_empty() => "(empty array)\n".into(),
        Value::Array(items) => {
            let width = items.len().to_string().len();
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                let prefix = format!("{:>width$}) ", i + 1);
                if i > 0 {
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str(&prefix);
                out.push_str(&print_reply(item, indent + prefix.len()));
            }
            out
        }
        Value::Map(entries) => {
            let mut out = String::new();
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(&" ".repeat(indent));
                }
                let key = k.to_text().unwrap_or_default();
                let prefix = format!("{}# {key} => ", i + 1);
                out.push_str(&prefix);
                match val {
                    // Multi-line text (INFO) reads better unquoted, below its node.
                    Value::Bulk(b) if b.contains(&b'\n') => {
                        out.push('\n');
                        let text = String::from_utf8_lossy(b).replace("\r\n", "\n");
                        out.push_str(&text);
                        if !text.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                    other => out.push_str(&print_reply(other, indent + prefix.len())),
                }
            }
            if entries.is_empty() {
                "(empty map)\n".into()
            } else {
                out
            }
        }
        _ => "(unknown)\n".into(),
    }
}
