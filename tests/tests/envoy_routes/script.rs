//! The fixed command list: for every key prefix of a YAML (matching each route, and
//! none), keys with and without hash tags, an empty tag, an unclosed tag, UTF-8 and binary
//! keys, through SET/GET/INCR/HSET/HGETALL/EXPIRE/TTL/EVAL/EXISTS and the split commands
//! MSET/MGET/EXISTS/DEL across every prefix at once. (The script of EVAL reads nothing, so
//! that a mirror's `cmdstat_get` counts only GETs.)

/// One command: its arguments.
pub type Command = Vec<Vec<u8>>;

/// The key suffixes every prefix gets.
pub fn bases() -> Vec<Vec<u8>> {
    vec![
        b"k1".to_vec(),
        b"{t1}a".to_vec(),
        b"{t1}b".to_vec(),
        b"user:{42}:name".to_vec(),
        b"x{}y".to_vec(),
        b"{unclosed".to_vec(),
        "ключ:é".as_bytes().to_vec(),
        // key_formatter text inside a key is not substituted.
        b"p%KEY%~REPLACED_KEY~".to_vec(),
        vec![b'b', 0, 0xff, b'{', b'z', b'}', 0x80],
    ]
}

fn key(prefix: &str, base: &[u8]) -> Vec<u8> {
    let mut k = prefix.as_bytes().to_vec();
    k.extend_from_slice(base);
    k
}

/// Build a command from byte-ish arguments.
pub fn cmd<const N: usize>(args: [&[u8]; N]) -> Command {
    args.iter().map(|a| a.to_vec()).collect()
}

/// The script sets, then reads, then deletes.
pub fn script(prefixes: &[&str]) -> Vec<Command> {
    const EVAL: &[u8] =
        b"redis.call('SET', KEYS[1], ARGV[1]) return redis.call('APPEND', KEYS[1], '!')";
    let mut s = Vec::new();
    for p in prefixes {
        for (i, b) in bases().iter().enumerate() {
            let k = key(p, b);
            let v = format!("v{i}:{p}");
            s.push(cmd([b"SET", &k, v.as_bytes()]));
        }
        for b in bases() {
            s.push(cmd([b"GET", &key(p, &b)]));
        }
        s.push(cmd([b"GET", &key(p, b"missing")]));
        // The prefix alone: with remove_prefix the stored name is empty (or just the
        // formatter's text).
        s.push(cmd([b"SET", p.as_bytes(), b"bare"]));
        s.push(cmd([b"GET", p.as_bytes()]));
        // Enough plain keys for every server of a route to hold some.
        let mut many = vec![b"MSET".to_vec()];
        for i in 0..100 {
            many.push(key(p, format!("many:{i}").as_bytes()));
            many.push(i.to_string().into_bytes());
        }
        s.push(many);
        s.push(cmd([b"INCR", &key(p, b"n")]));
        s.push(cmd([b"INCR", &key(p, b"{t1}n")]));
        s.push(cmd([b"INCR", &key(p, b"n")]));
        s.push(cmd([b"HSET", &key(p, b"h"), b"f1", b"v1", b"f2", b"v2"]));
        s.push(cmd([b"HSET", &key(p, b"h"), b"f1", b"w1"]));
        s.push(cmd([b"HGETALL", &key(p, b"h")]));
        s.push(cmd([b"HGETALL", &key(p, b"nohash")]));
        // The server's own error, through the proxy.
        s.push(cmd([b"GET", &key(p, b"h")]));
        s.push(cmd([b"EXPIRE", &key(p, b"k1"), b"1000"]));
        s.push(cmd([b"TTL", &key(p, b"k1")]));
        s.push(cmd([b"TTL", &key(p, b"{t1}a")]));
        s.push(cmd([b"TTL", &key(p, b"missing")]));
        s.push(cmd([b"EVAL", EVAL, b"1", &key(p, b"ev{t1}"), p.as_bytes()]));
        s.push(cmd([
            b"EXISTS",
            &key(p, b"k1"),
            &key(p, b"missing"),
            &key(p, b"{t1}a"),
        ]));
    }
    let mut mset = vec![b"MSET".to_vec()];
    let mut mget = vec![b"MGET".to_vec()];
    let mut exists = vec![b"EXISTS".to_vec()];
    let mut del = vec![b"DEL".to_vec()];
    for (i, p) in prefixes.iter().enumerate() {
        for b in bases() {
            mset.push(key(p, &[b"m:".as_slice(), &b].concat()));
            mset.push(format!("m{i}").into_bytes());
            mget.push(key(p, &[b"m:".as_slice(), &b].concat()));
        }
        mget.push(key(p, b"missing"));
        mget.push(key(p, b"k1"));
        exists.push(key(p, b"k1"));
        exists.push(key(p, b"m:{t1}a"));
        exists.push(key(p, b"never"));
        del.push(key(p, b"{t1}b"));
        del.push(key(p, b"m:x{}y"));
        del.push(key(p, b"never"));
    }
    s.push(mset);
    s.push(mget.clone());
    s.push(exists.clone());
    s.push(del.clone());
    // Again: now nothing to delete, fewer to find.
    s.push(del);
    s.push(exists);
    s.push(mget);
    for p in prefixes {
        s.push(cmd([b"GET", &key(p, b"{t1}b")]));
        s.push(cmd([b"INCR", &key(p, b"m:k1")]));
    }
    s
}
