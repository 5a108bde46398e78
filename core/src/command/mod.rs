//! Commands: [`Cmd`] (the argv of one call, packed once as RESP), the generated command
//! table, and key extraction from the table's key specs.

pub(crate) mod blocking;
pub mod keys;
pub mod spec;
pub mod table;
mod table_data;

use std::fmt;

/// One command: its arguments (name first), kept as the RESP bulk strings that go on the
/// wire, so a single-node call is written without another copy.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    /// `$len\r\ndata\r\n` for every argument, back to back.
    packed: Vec<u8>,
    /// Byte range of each argument's data inside `packed`.
    args: Vec<(usize, usize)>,
}

impl Cmd {
    /// A command with its name.
    pub fn new(name: impl AsRef<[u8]>) -> Cmd {
        let mut c = Cmd {
            packed: Vec::with_capacity(64),
            args: Vec::with_capacity(4),
        };
        c.arg(name);
        c
    }

    /// A command from an argv.
    pub fn from_args<I, A>(args: I) -> Cmd
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let mut c = Cmd::default();
        for a in args {
            c.arg(a);
        }
        c
    }

    /// Append an argument (any bytes).
    pub fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Cmd {
        let a = arg.as_ref();
        self.packed.push(b'$');
        let mut buf = itoa_buf();
        self.packed.extend_from_slice(fmt_usize(a.len(), &mut buf));
        self.packed.extend_from_slice(b"\r\n");
        let start = self.packed.len();
        self.packed.extend_from_slice(a);
        self.args.push((start, start + a.len()));
        self.packed.extend_from_slice(b"\r\n");
        self
    }

    /// Builder-style [`Cmd::arg`].
    pub fn with(mut self, arg: impl AsRef<[u8]>) -> Cmd {
        self.arg(arg);
        self
    }

    /// Number of arguments, the name included.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// True when there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `i` (0 is the name).
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.args.get(i).map(|&(s, e)| &self.packed[s..e])
    }

    /// All arguments.
    pub fn args(&self) -> impl Iterator<Item = &[u8]> {
        self.args.iter().map(|&(s, e)| &self.packed[s..e])
    }

    /// Append the full RESP encoding (`*N\r\n` + arguments) to `out`.
    pub(crate) fn write_resp(&self, out: &mut Vec<u8>) {
        out.push(b'*');
        let mut buf = itoa_buf();
        out.extend_from_slice(fmt_usize(self.args.len(), &mut buf));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.packed);
    }

    /// Append the RESP encoding of the name plus, for each ordinal `k` in `ordinals`, the
    /// `step` arguments starting at `positions[k]` (one split part).
    pub(crate) fn write_resp_parts(
        &self,
        positions: &[usize],
        ordinals: &[usize],
        step: usize,
        out: &mut Vec<u8>,
    ) {
        let len = self.args.len();
        let written: usize = ordinals
            .iter()
            .map(|&k| (positions[k] + step).min(len).saturating_sub(positions[k]))
            .sum();
        out.push(b'*');
        let mut buf = itoa_buf();
        out.extend_from_slice(fmt_usize(written + 1, &mut buf));
        out.extend_from_slice(b"\r\n");
        // Each argument is stored encoded: `$<len>\r\n<data>\r\n`; copy it whole.
        let encoded = |&(s, e): &(usize, usize)| {
            let header = 1 + decimal_digits(e - s) + 2;
            s - header..e + 2
        };
        if let Some(name) = self.args.first() {
            out.extend_from_slice(&self.packed[encoded(name)]);
        }
        for &k in ordinals {
            let p = positions[k];
            for arg in &self.args[p.min(len)..(p + step).min(len)] {
                out.extend_from_slice(&self.packed[encoded(arg)]);
            }
        }
    }
}

/// Append one RESP bulk string.
pub(crate) fn write_bulk(out: &mut Vec<u8>, data: &[u8]) {
    out.push(b'$');
    let mut buf = itoa_buf();
    out.extend_from_slice(fmt_usize(data.len(), &mut buf));
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Append a whole command given as argument slices.
pub(crate) fn write_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    let mut buf = itoa_buf();
    out.extend_from_slice(fmt_usize(args.len(), &mut buf));
    out.extend_from_slice(b"\r\n");
    for a in args {
        write_bulk(out, a);
    }
}

fn decimal_digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

fn fmt_usize(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for a in self.args() {
            l.entry(&String::from_utf8_lossy(a));
        }
        l.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_resp_binary_safe() {
        let c = Cmd::new("SET").with("k\0").with(b"\xff");
        let mut out = Vec::new();
        c.write_resp(&mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$2\r\nk\0\r\n$1\r\n\xff\r\n");
        assert_eq!(c.get(1), Some(&b"k\0"[..]));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn parts_keep_name_and_order() {
        let c = Cmd::from_args(["MGET", "a", "bb", "c"]);
        let mut out = Vec::new();
        c.write_resp_parts(&[1, 2, 3], &[2, 0], 1, &mut out);
        assert_eq!(out, b"*3\r\n$4\r\nMGET\r\n$1\r\nc\r\n$1\r\na\r\n");
        let m = Cmd::from_args(["MSET", "k1", "v1", "k2", "value-2"]);
        out.clear();
        m.write_resp_parts(&[1, 3], &[1], 2, &mut out);
        assert_eq!(out, b"*3\r\n$4\r\nMSET\r\n$2\r\nk2\r\n$7\r\nvalue-2\r\n");
        // A step reaching past the end writes only what exists, and the count agrees.
        out.clear();
        m.write_resp_parts(&[3], &[0], 4, &mut out);
        assert_eq!(out, b"*3\r\n$4\r\nMSET\r\n$2\r\nk2\r\n$7\r\nvalue-2\r\n");
    }
}
