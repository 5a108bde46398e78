//! The core's modules import in one direction: this test reads `core/src`, builds the graph
//! of which module refers to which (every `crate::…`, `super::…` and `self::…` path, in
//! `use` declarations and in code, plus paths into a module's own children; the names
//! `lib.rs` re-exports are followed to the module that defines them), and fails on any
//! cycle, printing it. Comments and string literals are ignored; `mod x;` declarations
//! (ownership) are not references.

// A test: a failed read of the source tree is the report.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`crate::exec::engine`) → source text without comments and strings.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = strip(&std::fs::read_to_string(&path).unwrap());
                out.insert(module_name(src, &path), text);
            }
        }
    }
    out
}

fn module_name(src: &Path, file: &Path) -> String {
    let rel: PathBuf = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    // A binary under src/bin is not part of the library's module tree.
    std::iter::once("crate".to_owned())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

/// The text without comments, string/char literals' contents, and `#[cfg(test)]`-free:
/// tests count too (a test module importing upwards is a cycle as well).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'r' if b.get(i + 1) == Some(&b'#')
                || (b.get(i + 1) == Some(&b'"') && !ident_before(b, i)) =>
            {
                // Raw string r"…" / r#"…"#.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    if j >= b.len() {
                        break;
                    }
                    if b[j] == b'"'
                        && b[j + 1..].iter().take(hashes).all(|&c| c == b'#')
                        && b.len() >= j + 1 + hashes
                    {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || (b.get(i + 1) == Some(&b'\\')) => {
                // A char literal ('x', '\n', '\''); lifetimes ('a) are left alone.
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

fn ident_before(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every path written in `text` that starts with `crate`, `super`, `self` or one of
/// `children` (`use` trees with braces expanded), as segment lists.
fn paths(text: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // `use` declarations: expand brace trees.
    for stmt in text.split(';') {
        let s = stmt.trim_start();
        let s = s
            .strip_prefix("pub(crate) ")
            .or_else(|| s.strip_prefix("pub(super) "))
            .or_else(|| s.strip_prefix("pub "))
            .unwrap_or(s);
        if let Some(tree) = s.strip_prefix("use ") {
            let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
            expand(&tree, &mut Vec::new(), &mut out);
        }
    }
    // Paths in code: `a::b::c` sequences.
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_ident(b[i]) && (i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b':')) {
            let mut segs = Vec::new();
            let mut j = i;
            loop {
                let start = j;
                while j < b.len() && is_ident(b[j]) {
                    j += 1;
                }
                segs.push(text[start..j].to_owned());
                if text[j..].starts_with("::") && b.get(j + 2).is_some_and(|&c| is_ident(c)) {
                    j += 2;
                } else {
                    break;
                }
            }
            if segs.len() > 1 {
                out.push(segs);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out.retain(|p| matches!(p[0].as_str(), "crate" | "super" | "self") || children.contains(&p[0]));
    out
}

/// Expand a `use` tree (`crate::a::{b,c::{d,e}}`) into paths.
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree.find('{') {
        None => {
            let mut p = prefix.clone();
            p.extend(
                tree.split("::")
                    .filter(|s| !s.is_empty())
                    .map(|s| s.split(" as ").next().unwrap_or(s).to_owned()),
            );
            if !p.is_empty() {
                out.push(p);
            }
        }
        Some(open) => {
            let head = &tree[..open];
            let close = tree.rfind('}').unwrap_or(tree.len());
            let inner = &tree[open + 1..close];
            let depth_before = prefix.len();
            prefix.extend(
                head.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            let mut depth = 0;
            let mut start = 0;
            for (k, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand_item(&inner[start..k], prefix, out);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            expand_item(&inner[start..], prefix, out);
            prefix.truncate(depth_before);
        }
    }
}

fn expand_item(item: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if item == "self" {
        out.push(prefix.clone());
    } else if !item.is_empty() {
        expand(item, prefix, out);
    }
}

/// Resolve `path` written in module `from` to the deepest module it names.
fn resolve(
    path: &[String],
    from: &str,
    modules: &BTreeMap<String, String>,
    reexports: &BTreeMap<String, String>,
) -> Option<String> {
    let mut segs: Vec<String> = from.split("::").map(str::to_owned).collect();
    let mut rest = path;
    match path[0].as_str() {
        "crate" => {
            segs = vec!["crate".into()];
            rest = &path[1..];
        }
        "self" => rest = &path[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        segs.pop();
        rest = &rest[1..];
    }
    let mut best = None;
    for s in rest {
        segs.push(s.clone());
        let name = segs.join("::");
        if modules.contains_key(&name) {
            best = Some(name);
        } else {
            break;
        }
    }
    match best {
        // An item of the crate root: follow lib.rs' re-export to the defining module.
        None if segs.len() >= 2 && segs[0] == "crate" && path[0] == "crate" => {
            reexports.get(&path[1]).cloned()
        }
        other => other,
    }
}

/// A cycle in `graph`, if any, as a list of modules.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(n.to_owned(), Mark::Open);
        stack.push(n.to_owned());
        for m in graph.get(n).into_iter().flatten() {
            match marks.get(m).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let at = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(m, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(n.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in graph.keys() {
        if marks.get(n).copied().unwrap_or(Mark::New) == Mark::New {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, graph, &mut marks, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    // Names lib.rs re-exports, mapped to the module that defines them.
    let mut reexports = BTreeMap::new();
    let root = mods.get("crate").cloned().unwrap_or_default();
    for p in paths(&root, &BTreeSet::new()) {
        if let (Some(last), Some(m)) = (p.last(), resolve(&p, "crate", &mods, &BTreeMap::new())) {
            reexports.insert(last.clone(), m);
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &mods {
        if name == "crate" {
            continue;
        }
        let children: BTreeSet<String> = mods
            .keys()
            .filter_map(|m| m.strip_prefix(&format!("{name}::")))
            .filter(|rest| !rest.contains("::"))
            .map(str::to_owned)
            .collect();
        let edges = graph.entry(name.clone()).or_default();
        for p in paths(text, &children) {
            if let Some(target) = resolve(&p, name, &mods, &reexports)
                && target != *name
                && target != "crate"
            {
                edges.insert(target);
            }
        }
    }
    graph
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn core_modules_import_each_other_in_one_direction() {
    let graph = graph(&src_dir());
    assert!(
        graph.len() > 40,
        "read the module tree: {} modules",
        graph.len()
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module import cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn layers_are_respected() {
    // Lower layers never refer to higher ones (the README's architecture section).
    let graph = graph(&src_dir());
    let layer = |m: &str| -> usize {
        let top = m.split("::").nth(1).unwrap_or("");
        match top {
            "error" | "process" => 0,
            "reply" | "config" | "command" | "hash" => 1,
            "topology" => 2,
            "router" => 3,
            "stats" => 4,
            "conn" => 5,
            "core" => 6,
            "exec" => 7,
            _ => 8,
        }
    };
    let mut wrong = Vec::new();
    for (from, tos) in &graph {
        for to in tos {
            if layer(to) > layer(from) {
                wrong.push(format!("{from} → {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports: {wrong:#?}");
}

#[test]
fn the_checker_sees_a_cycle() {
    // Two modules referring to each other, one through a braced `use`, one in code.
    let dir = std::env::temp_dir().join(format!("shardis-layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "pub mod inner;\n").unwrap();
    std::fs::write(
        dir.join("a/inner.rs"),
        "use crate::{b::{self, Thing}};\n// crate::nothing::here\nfn f() -> &'static str { \"crate::b\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "fn g() { let _ = crate::a::inner::f(); }\n",
    )
    .unwrap();
    let graph = graph(&dir);
    let cycle = find_cycle(&graph);
    std::fs::remove_dir_all(&dir).unwrap();
    let cycle = cycle.expect("a cycle");
    assert!(cycle.contains(&"crate::b".to_owned()), "{cycle:?}");
    assert!(cycle.contains(&"crate::a::inner".to_owned()), "{cycle:?}");
}
