//! Merge rules: combine the replies of one command sent to several nodes into one reply.
//! Pure functions over already-received values, unit-tested without a server.

use crate::command::table::Merge;
use crate::error::{Error, ErrorKind, Result};

use super::Value;

/// One node's part of a split or fanned-out command.
#[derive(Debug)]
pub struct Part<'a> {
    /// The node (`host:port`), for messages; empty for split parts.
    pub node: &'a str,
    /// For split commands: the ordinal of each key sent in this part (0-based, in request
    /// order). Empty for fan-outs.
    pub key_ordinals: &'a [usize],
    /// The node's reply.
    pub reply: Result<Value>,
}

fn protocol(msg: String) -> Error {
    Error::new(ErrorKind::Protocol, msg)
}

/// Combine `parts` with `rule`. `key_count` is the number of keys of a split command.
pub fn merge(rule: Merge, key_count: usize, parts: Vec<Part<'_>>) -> Result<Value> {
    if rule == Merge::OneSucceeded {
        let mut first_err = None;
        for p in parts {
            match p.reply {
                Ok(v) => return Ok(v),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        return Err(first_err.unwrap_or_else(|| protocol("no node answered".into())));
    }
    // Every other rule needs every part.
    let mut ok = Vec::with_capacity(parts.len());
    for p in parts {
        match p.reply {
            Ok(v) => ok.push((p.node, p.key_ordinals, v)),
            Err(e) => return Err(e),
        }
    }
    match rule {
        Merge::Ordered => {
            let mut out = vec![Value::Nil; key_count];
            for (node, ordinals, v) in ok {
                let items = v
                    .into_array()
                    .ok_or_else(|| protocol(format!("{node} did not answer with an array")))?;
                if items.len() != ordinals.len() {
                    return Err(protocol(format!(
                        "{node} answered {} values for {} keys",
                        items.len(),
                        ordinals.len()
                    )));
                }
                for (&slot, item) in ordinals.iter().zip(items) {
                    if let Some(dst) = out.get_mut(slot) {
                        *dst = item;
                    }
                }
            }
            Ok(Value::Array(out))
        }
        Merge::Sum | Merge::Min | Merge::Max => {
            let mut acc: Option<i64> = None;
            for (node, _, v) in ok {
                let n = v
                    .as_int()
                    .ok_or_else(|| protocol(format!("{node} did not answer with an integer")))?;
                acc = Some(match (acc, rule) {
                    (None, _) => n,
                    (Some(a), Merge::Sum) => a.saturating_add(n),
                    (Some(a), Merge::Min) => a.min(n),
                    (Some(a), _) => a.max(n),
                });
            }
            Ok(Value::Int(acc.unwrap_or(0)))
        }
        Merge::AllSucceeded => Ok(ok
            .into_iter()
            .next()
            .map(|(_, _, v)| v)
            .unwrap_or(Value::Nil)),
        Merge::LogicalAnd | Merge::LogicalOr => {
            let mut acc: Option<Vec<i64>> = None;
            for (node, _, v) in ok {
                let items = v
                    .as_array()
                    .ok_or_else(|| protocol(format!("{node} did not answer with an array")))?;
                let ints: Vec<i64> = items
                    .iter()
                    .map(|i| {
                        i.as_int()
                            .ok_or_else(|| protocol(format!("{node}: non-integer element")))
                    })
                    .collect::<Result<_>>()?;
                acc = Some(match acc {
                    None => ints,
                    Some(a) if a.len() == ints.len() => a
                        .into_iter()
                        .zip(ints)
                        .map(|(x, y)| {
                            let (x, y) = (x != 0, y != 0);
                            i64::from(if rule == Merge::LogicalAnd {
                                x && y
                            } else {
                                x || y
                            })
                        })
                        .collect(),
                    Some(_) => {
                        return Err(protocol(format!(
                            "{node} answered arrays of another length"
                        )));
                    }
                });
            }
            Ok(Value::Array(
                acc.unwrap_or_default()
                    .into_iter()
                    .map(Value::Int)
                    .collect(),
            ))
        }
        Merge::Concat => {
            let mut out = Vec::new();
            for (node, _, v) in ok {
                match v {
                    Value::Array(items) => out.extend(items),
                    Value::Nil => {}
                    _ => return Err(protocol(format!("{node} did not answer with an array"))),
                }
            }
            Ok(Value::Array(out))
        }
        Merge::PerNode => Ok(Value::Map(
            ok.into_iter()
                .map(|(node, _, v)| (Value::Bulk(node.as_bytes().to_vec()), v))
                .collect(),
        )),
        Merge::OneSucceeded => Err(protocol("unreachable merge".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part<'a>(node: &'a str, ordinals: &'a [usize], reply: Result<Value>) -> Part<'a> {
        Part {
            node,
            key_ordinals: ordinals,
            reply,
        }
    }

    #[test]
    fn ordered_reassembles_request_order() {
        let parts = vec![
            part(
                "a",
                &[0, 2],
                Ok(Value::Array(vec!["k0".into(), "k2".into()])),
            ),
            part("b", &[1], Ok(Value::Array(vec![Value::Nil]))),
        ];
        let v = merge(Merge::Ordered, 3, parts).unwrap();
        assert_eq!(v, Value::Array(vec!["k0".into(), Value::Nil, "k2".into()]));
    }

    #[test]
    fn sum_min_max() {
        let mk = || {
            vec![
                part("a", &[], Ok(Value::Int(2))),
                part("b", &[], Ok(Value::Int(5))),
            ]
        };
        assert_eq!(merge(Merge::Sum, 0, mk()).unwrap(), Value::Int(7));
        assert_eq!(merge(Merge::Min, 0, mk()).unwrap(), Value::Int(2));
        assert_eq!(merge(Merge::Max, 0, mk()).unwrap(), Value::Int(5));
    }

    #[test]
    fn logical_and_is_elementwise() {
        let a = Value::Array(vec![Value::Int(1), Value::Int(1)]);
        let b = Value::Array(vec![Value::Int(1), Value::Int(0)]);
        let v = merge(
            Merge::LogicalAnd,
            0,
            vec![part("a", &[], Ok(a)), part("b", &[], Ok(b))],
        )
        .unwrap();
        assert_eq!(v, Value::Array(vec![Value::Int(1), Value::Int(0)]));
    }

    #[test]
    fn any_failed_part_fails_the_command_except_one_succeeded() {
        let mk = || {
            vec![
                part("a", &[], Ok(Value::Okay)),
                part("b", &[], Err(Error::new(ErrorKind::Io, "reset"))),
            ]
        };
        assert_eq!(
            merge(Merge::AllSucceeded, 0, mk()).unwrap_err().kind(),
            ErrorKind::Io
        );
        assert!(merge(Merge::OneSucceeded, 0, mk()).unwrap().is_ok());
    }

    #[test]
    fn concat_and_per_node() {
        let parts = vec![
            part("a", &[], Ok(Value::Array(vec!["x".into()]))),
            part("b", &[], Ok(Value::Array(vec!["y".into()]))),
        ];
        assert_eq!(
            merge(Merge::Concat, 0, parts).unwrap(),
            Value::Array(vec!["x".into(), "y".into()])
        );
        let v = merge(Merge::PerNode, 0, vec![part("a", &[], Ok(Value::Int(1)))]).unwrap();
        assert_eq!(v, Value::Map(vec![("a".into(), Value::Int(1))]));
    }

    #[test]
    fn ordered_rejects_a_short_reply() {
        let parts = vec![part("a", &[0, 1], Ok(Value::Array(vec![Value::Nil])))];
        assert_eq!(
            merge(Merge::Ordered, 2, parts).unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }
}
