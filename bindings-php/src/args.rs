//! PHP values → command arguments, with phpredis' loose scalars: an int, float or bool key or
//! value is sent as PHP itself turns it into a string; strings pass through byte for byte (binary-safe).
//! Arrays, objects and resources where a scalar is expected raise `\TypeError`.

use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::array::Iter;
use ext_php_rs::types::{ZendHashTable, Zval};
use shardis::Cmd;

use crate::errors::type_error;

/// The PHP type name of a value, for error messages.
pub(crate) fn type_name(z: &Zval) -> &'static str {
    match z.get_type() {
        DataType::Null | DataType::Undef => "null",
        DataType::False | DataType::True | DataType::Bool => "bool",
        DataType::Long => "int",
        DataType::Double => "float",
        DataType::String => "string",
        DataType::Array => "array",
        DataType::Object(_) => "object",
        DataType::Resource => "resource",
        _ => "value",
    }
}

/// A PHP array key, binary-safe.
pub(crate) enum Key {
    /// An integer key.
    Int(i64),
    /// A string key (any bytes).
    Bytes(Vec<u8>),
}

impl Key {
    /// The key as PHP prints it.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        match self {
            Key::Int(i) => i.to_string().into_bytes(),
            Key::Bytes(b) => b.clone(),
        }
    }
}

/// Every `(key, value)` of a PHP array, in order. (ext-php-rs' own iterators — `iter()`,
/// `values()`, `has_sequential_keys()` — panic on a string key that is not UTF-8, which a
/// PHP array may hold; this walks the table with raw key zvals instead.)
pub(crate) fn entries(ht: &ZendHashTable) -> Vec<(Key, &Zval)> {
    let mut it = Iter::new(ht);
    let mut out = Vec::with_capacity(ht.len());
    while let Some((k, v)) = it.next_zval() {
        let key = match k.zend_str() {
            Some(s) => Key::Bytes(s.as_bytes().to_vec()),
            None => Key::Int(k.long().unwrap_or_default()),
        };
        out.push((key, v));
    }
    out
}

/// Every value of a PHP array, in order (binary-safe about the keys, see [`entries`]).
pub(crate) fn values(ht: &ZendHashTable) -> Vec<&Zval> {
    let mut it = Iter::new(ht);
    let mut out = Vec::with_capacity(ht.len());
    while let Some((_, v)) = it.next_zval() {
        out.push(v);
    }
    out
}

/// Is the array a list (keys 0, 1, 2… in order)?
pub(crate) fn is_list(ht: &ZendHashTable) -> bool {
    entries(ht)
        .iter()
        .enumerate()
        .all(|(i, (k, _))| matches!(k, Key::Int(n) if usize::try_from(*n).ok() == Some(i)))
}

/// Append `z` (a scalar) to `cmd`. `what` names the parameter for the error message.
pub(crate) fn push_scalar(cmd: &mut Cmd, z: &Zval, what: &str) -> Result<(), PhpException> {
    let z = z.dereference();
    if let Some(s) = z.zend_str() {
        cmd.arg(s.as_bytes());
        return Ok(());
    }
    match z.get_type() {
        DataType::Long => {
            cmd.arg(z.long().unwrap_or_default().to_string());
        }
        DataType::Double => {
            cmd.arg(php_float(z.double().unwrap_or_default()));
        }
        DataType::True => {
            cmd.arg("1");
        }
        DataType::False | DataType::Null | DataType::Undef => {
            cmd.arg("");
        }
        _ => {
            return Err(type_error(format!(
                "{what} must be of type string|int|float|bool, {} given",
                type_name(z)
            )));
        }
    }
    Ok(())
}

/// A float as PHP's `(string)` cast writes it (`precision` = 14 significant digits, `0.3`,
/// `1.0E+20`, `1.0E-5`), which is what phpredis sends.
pub(crate) fn php_float(f: f64) -> String {
    if f.is_nan() {
        return "NAN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF" } else { "-INF" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let sci = format!("{f:.13e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let m = mantissa.trim_end_matches('0');
        let m = if m.ends_with('.') {
            format!("{m}0")
        } else {
            m.to_owned()
        };
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}E{sign}{}", exp.abs());
    }
    let decimals = usize::try_from(13 - exp).unwrap_or(0);
    let fixed = format!("{f:.decimals$}");
    if fixed.contains('.') {
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        fixed
    }
}

/// Append a scalar, or every element of an array (values only, in order).
pub(crate) fn push_flat(cmd: &mut Cmd, z: &Zval, what: &str) -> Result<(), PhpException> {
    let z = z.dereference();
    match z.array() {
        Some(arr) => values(arr)
            .into_iter()
            .try_for_each(|v| push_scalar(cmd, v, &format!("{what} element"))),
        None => push_scalar(cmd, z, what),
    }
}

/// Keys given phpredis-style: one array, or one or more scalars (`del('a', 'b')`,
/// `del(['a', 'b'])`).
pub(crate) fn push_keys(cmd: &mut Cmd, first: &Zval, rest: &[&Zval]) -> Result<(), PhpException> {
    push_flat(cmd, first, "key")?;
    rest.iter().try_for_each(|k| push_scalar(cmd, k, "key"))
}

/// Append an associative array as `k v k v …` (`mSet`, `hMSet`).
pub(crate) fn push_pairs(cmd: &mut Cmd, z: &Zval, what: &str) -> Result<usize, PhpException> {
    let arr = expect_array(z, what)?;
    for (k, v) in entries(arr) {
        cmd.arg(k.bytes());
        push_scalar(cmd, v, &format!("{what} value"))?;
    }
    Ok(arr.len())
}

/// The array behind `z`, or a `\TypeError` naming `what`.
pub(crate) fn expect_array<'a>(z: &'a Zval, what: &str) -> Result<&'a ZendHashTable, PhpException> {
    let z = z.dereference();
    z.array().ok_or_else(|| {
        type_error(format!(
            "{what} must be of type array, {} given",
            type_name(z)
        ))
    })
}

/// An integer argument with phpredis' leniency (numeric strings and floats accepted).
pub(crate) fn int_arg(z: &Zval, what: &str) -> Result<i64, PhpException> {
    let z = z.dereference();
    match z.get_type() {
        DataType::Long => Ok(z.long().unwrap_or_default()),
        #[allow(clippy::cast_possible_truncation)]
        DataType::Double => Ok(z.double().unwrap_or_default() as i64),
        DataType::True => Ok(1),
        DataType::False | DataType::Null => Ok(0),
        DataType::String => z
            .str()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                type_error(format!(
                    "{what} must be an integer, non-numeric string given"
                ))
            }),
        _ => Err(type_error(format!(
            "{what} must be of type int, {} given",
            type_name(z)
        ))),
    }
}

/// A command from a name and a list of scalar arguments.
pub(crate) fn command(name: &str, args: &[&Zval]) -> Result<Cmd, PhpException> {
    let mut cmd = Cmd::new(name);
    for a in args {
        push_scalar(&mut cmd, a, "argument")?;
    }
    Ok(cmd)
}

/// The bytes of one scalar (a key for `nodeFor`, a field name).
pub(crate) fn scalar_bytes(z: &Zval, what: &str) -> Result<Vec<u8>, PhpException> {
    let mut cmd = Cmd::default();
    push_scalar(&mut cmd, z, what)?;
    Ok(cmd.get(0).unwrap_or_default().to_vec())
}

/// phpredis' option arrays (`['nx', 'ex' => 10]`): each entry as its upper-cased name and
/// value — a bare flag's value is its own name string.
pub(crate) fn options(opts: &ZendHashTable) -> Vec<(String, &Zval)> {
    entries(opts)
        .into_iter()
        .map(|(k, v)| {
            let name = match k {
                Key::Bytes(b) => String::from_utf8_lossy(&b).to_ascii_uppercase(),
                Key::Int(_) => v.str().unwrap_or_default().to_ascii_uppercase(),
            };
            (name, v)
        })
        .collect()
}

/// A scalar as text for messages (lossy; `?` for arrays and objects).
pub(crate) fn scalar_text(z: &Zval) -> String {
    let mut cmd = Cmd::default();
    match push_scalar(&mut cmd, z, "value") {
        Ok(()) => String::from_utf8_lossy(cmd.get(0).unwrap_or_default()).into_owned(),
        Err(_) => "?".to_owned(),
    }
}
