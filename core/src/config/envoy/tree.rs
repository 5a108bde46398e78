//! The YAML tree as the importer walks it: every node carries its path
//! (`static_resources.clusters[2].lb_policy`) and line, so every error and warning names where
//! in the file it comes from. Mappings are read through [`Fields`], which refuses any field
//! nobody asked for: a field the importer does not understand is an error, never skipped.
//!
//! Values follow protobuf's JSON mapping, as Envoy reads its YAML: field names in
//! `snake_case` or `lowerCamelCase`, integers as numbers or numeric strings, enums by name
//! (or number), durations as `"1.5s"`, `null` as "not set", and `Any` messages as a mapping
//! with `"@type"` (or wrapped in a `TypedStruct` / `google.protobuf.Struct`).

use std::rc::Rc;

use saphyr::{MarkedYaml, Scalar, YamlData};

use super::Ctx;
use crate::config::duration::DurationSpec;
use crate::error::{Error, Result};

/// One node of the document and where it is.
#[derive(Clone)]
pub(super) struct Node<'a> {
    yaml: &'a MarkedYaml<'a>,
    path: Rc<str>,
    line: usize,
}

/// An error keyed by a YAML path, with its line.
pub(super) fn error_at(path: &str, line: usize, problem: impl std::fmt::Display) -> Error {
    Error::config(path, format!("{problem} (line {line})"))
}

impl<'a> Node<'a> {
    /// The document root.
    pub(super) fn root(yaml: &'a MarkedYaml<'a>) -> Node<'a> {
        Node {
            yaml,
            path: Rc::from(""),
            line: yaml.span.start.line(),
        }
    }

    /// The YAML path (`a.b[0].c`).
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// The line (1-based) where the node (or its key) starts.
    pub(super) fn line(&self) -> usize {
        self.line
    }

    /// An error at this node.
    pub(super) fn error(&self, problem: impl std::fmt::Display) -> Error {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        error_at(path, self.line, problem)
    }

    fn data(&self) -> &'a YamlData<'a, MarkedYaml<'a>> {
        &self.yaml.data
    }

    /// True for `~`, `null` or an empty value: protobuf's "not set".
    pub(super) fn is_null(&self) -> bool {
        matches!(self.data(), YamlData::Value(Scalar::Null))
    }

    /// A mapping read field by field (see [`Fields`]).
    pub(super) fn fields(&self) -> Result<Fields<'a>> {
        let entries = self.entries()?;
        let mut out: Vec<Entry<'a>> = Vec::with_capacity(entries.len());
        for (written, node) in entries {
            let name = snake_case(written);
            if let Some(first) = out.iter().find(|e| e.name == name) {
                return Err(node.error(format!(
                    "set twice (also as {:?} on line {})",
                    first.written, first.node.line
                )));
            }
            out.push(Entry {
                name,
                written,
                node,
                used: false,
            });
        }
        Ok(Fields {
            node: self.clone(),
            entries: out,
        })
    }

    /// A `map<string, …>` field: its keys as written (not field names), in document order.
    pub(super) fn entries(&self) -> Result<Vec<(&'a str, Node<'a>)>> {
        let YamlData::Mapping(map) = self.data() else {
            return Err(self.error(format!("expected a mapping, found {}", self.kind())));
        };
        let mut out = Vec::with_capacity(map.len());
        for (k, v) in map {
            let line = k.span.start.line();
            let key: &'a str = match &k.data {
                YamlData::Value(Scalar::String(s)) => s.as_ref(),
                _ => {
                    return Err(error_at(
                        &self.path,
                        line,
                        "a mapping key here must be a string",
                    ));
                }
            };
            let path = Rc::from(join(&self.path, key));
            out.push((
                key,
                Node {
                    yaml: v,
                    path,
                    line,
                },
            ));
        }
        Ok(out)
    }

    /// A sequence's items (`null` is an empty sequence).
    pub(super) fn items(&self) -> Result<Vec<Node<'a>>> {
        match self.data() {
            YamlData::Value(Scalar::Null) => Ok(Vec::new()),
            YamlData::Sequence(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| Node {
                    yaml: v,
                    path: Rc::from(format!("{}[{i}]", self.path)),
                    line: v.span.start.line(),
                })
                .collect()),
            _ => Err(self.error(format!("expected a list, found {}", self.kind()))),
        }
    }

    /// A string.
    pub(super) fn str(&self) -> Result<&'a str> {
        match self.data() {
            YamlData::Value(Scalar::String(s)) => Ok(s.as_ref()),
            _ => Err(self.error(format!("expected a string, found {}", self.kind()))),
        }
    }

    /// A boolean.
    pub(super) fn bool(&self) -> Result<bool> {
        match self.data() {
            YamlData::Value(Scalar::Boolean(b)) => Ok(*b),
            _ => Err(self.error(format!("expected true or false, found {}", self.kind()))),
        }
    }

    /// An unsigned integer (a number or a numeric string, as protobuf's JSON mapping reads
    /// 64-bit integers).
    pub(super) fn u64(&self) -> Result<u64> {
        let n = match self.data() {
            YamlData::Value(Scalar::Integer(i)) => u64::try_from(*i).ok(),
            YamlData::Value(Scalar::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        n.ok_or_else(|| {
            self.error(format!(
                "expected an unsigned integer, found {}",
                self.kind()
            ))
        })
    }

    /// An unsigned 32-bit integer.
    pub(super) fn u32(&self) -> Result<u32> {
        let n = self.u64()?;
        u32::try_from(n).map_err(|_| self.error(format!("{n} is larger than 4294967295")))
    }

    /// An enum value by name (or by number), as one of `names` (in enum-number order).
    pub(super) fn enum_value(&self, names: &[&'static str]) -> Result<&'static str> {
        let found = match self.data() {
            YamlData::Value(Scalar::String(s)) => names.iter().find(|n| **n == s.as_ref()),
            YamlData::Value(Scalar::Integer(i)) => {
                usize::try_from(*i).ok().and_then(|i| names.get(i))
            }
            _ => None,
        };
        found.copied().ok_or_else(|| {
            self.error(format!(
                "{} is not one of {}",
                self.describe(),
                names.join(", ")
            ))
        })
    }

    /// A protobuf `Duration` (`"1s"`, `"0.25s"`), as shardis' duration text.
    pub(super) fn duration(&self) -> Result<DurationSpec> {
        let text = self.str().map_err(|_| {
            self.error(format!(
                "expected a duration such as \"1.5s\", found {}",
                self.kind()
            ))
        })?;
        let digits = text.strip_suffix('s').unwrap_or("");
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && frac.len() <= 9
            && frac.bytes().all(|b| b.is_ascii_digit())
            && !(digits.contains('.') && frac.is_empty());
        if !ok {
            return Err(self.error(format!(
                "{text:?} is not a protobuf duration (seconds with an `s`: \"5s\", \"0.25s\")"
            )));
        }
        Ok(DurationSpec::Text(text.to_owned()))
    }

    /// An `Any` message: its type (the part after the last `/` of `@type`) and fields.
    /// `TypedStruct` (`xds.type.v3` / `udpa.type.v1`) is unwrapped to the type it names;
    /// a `google.protobuf.Struct` takes `implied` (the extension's own config type).
    pub(super) fn any(&self, implied: &str) -> Result<(String, Fields<'a>)> {
        let mut fields = self.fields()?;
        let type_url = fields
            .take("@type")
            .ok_or_else(|| self.error("missing \"@type\""))?;
        let url = type_url.str()?;
        let name = url.rsplit('/').next().unwrap_or(url);
        match name {
            "xds.type.v3.TypedStruct" | "udpa.type.v1.TypedStruct" => {
                let inner = fields
                    .take("type_url")
                    .ok_or_else(|| self.error("TypedStruct without type_url"))?
                    .str()?;
                let value = fields.take("value");
                fields.finish()?;
                let inner = inner.rsplit('/').next().unwrap_or(inner).to_owned();
                Ok((
                    inner,
                    value.map_or_else(|| Ok(Fields::empty(self.clone())), |v| v.fields())?,
                ))
            }
            "google.protobuf.Struct" => {
                let value = fields.take("value");
                fields.finish()?;
                let fields =
                    value.map_or_else(|| Ok(Fields::empty(self.clone())), |v| v.fields())?;
                Ok((implied.to_owned(), fields))
            }
            _ => Ok((name.to_owned(), fields)),
        }
    }

    fn kind(&self) -> &'static str {
        match self.data() {
            YamlData::Value(Scalar::Null) => "null",
            YamlData::Value(Scalar::Boolean(_)) => "a boolean",
            YamlData::Value(Scalar::Integer(_)) => "an integer",
            YamlData::Value(Scalar::FloatingPoint(_)) => "a number",
            YamlData::Value(Scalar::String(_)) => "a string",
            YamlData::Sequence(_) => "a list",
            YamlData::Mapping(_) => "a mapping",
            YamlData::Tagged(..) => "a tagged node",
            _ => "an unreadable value",
        }
    }

    fn describe(&self) -> String {
        match self.data() {
            YamlData::Value(Scalar::String(s)) => format!("{s:?}"),
            YamlData::Value(Scalar::Integer(i)) => i.to_string(),
            _ => self.kind().to_owned(),
        }
    }
}

/// `parent.key`, or `key` at the root; `parent["envoy.lb"]` for a key that is not a plain
/// name.
fn join(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!("{parent}[{key:?}]"),
    }
}

/// protobuf's JSON names are `lowerCamelCase`; the importer matches `snake_case`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

struct Entry<'a> {
    name: String,
    written: &'a str,
    node: Node<'a>,
    used: bool,
}

/// The fields of one message. Each is taken ([`Fields::take`]), ignored with a warning
/// ([`Fields::ignore`]) or refused ([`Fields::refuse`]); [`Fields::finish`] makes any other
/// field an error.
pub(super) struct Fields<'a> {
    node: Node<'a>,
    entries: Vec<Entry<'a>>,
}

impl<'a> Fields<'a> {
    fn empty(node: Node<'a>) -> Fields<'a> {
        Fields {
            node,
            entries: Vec::new(),
        }
    }

    /// The message's own node.
    pub(super) fn node(&self) -> &Node<'a> {
        &self.node
    }

    /// Take a field; `None` when absent or `null`.
    pub(super) fn take(&mut self, name: &str) -> Option<Node<'a>> {
        let e = self.entries.iter_mut().find(|e| e.name == name)?;
        e.used = true;
        (!e.node.is_null()).then(|| e.node.clone())
    }

    /// Look at a field without taking it.
    pub(super) fn peek(&self, name: &str) -> Option<&Node<'a>> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.node)
            .filter(|n| !n.is_null())
    }

    /// Fields that do not change where keys go: each one present becomes a warning.
    pub(super) fn ignore(&mut self, ctx: &mut Ctx, names: &[&str], why: &str) {
        for e in self
            .entries
            .iter_mut()
            .filter(|e| names.contains(&e.name.as_str()))
        {
            e.used = true;
            if !e.node.is_null() {
                ctx.warn(&e.node, why);
            }
        }
    }

    /// Fields shardis cannot honour: the first one present is an error saying `why`.
    pub(super) fn refuse(&mut self, names: &[&str], why: &str) -> Result<()> {
        match self
            .entries
            .iter()
            .find(|e| names.contains(&e.name.as_str()) && !e.node.is_null())
        {
            Some(e) => Err(e.node.error(why)),
            None => Ok(()),
        }
    }

    /// Every field not taken, ignored or refused is unknown: an error naming it.
    pub(super) fn finish(self) -> Result<()> {
        match self.entries.iter().find(|e| !e.used) {
            Some(e) => Err(e.node.error("unknown field")),
            None => Ok(()),
        }
    }
}
