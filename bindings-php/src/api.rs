//! The phpredis method surface, written once and stamped onto both PHP classes
//! (`Shardis\Client`, `Shardis\Cluster`): each method names a command and a reply shape;
//! routing, splitting and retries are the core's. Anything not listed here goes through
//! `rawCommand()` or `__call()`.

/// Implements the phpredis-compatible methods (plus `$ctor`, the class' constructor) for
/// `$class`, a `#[php_class]` that implements `HasSession`.
macro_rules! redis_api {
    ($class:ident { $($ctor:tt)* }) => {
        #[php_impl]
        impl $class {
            /// `type()`: the key does not exist.
            pub const REDIS_NOT_FOUND: i64 = 0;
            /// `type()`: a string.
            pub const REDIS_STRING: i64 = 1;
            /// `type()`: a set.
            pub const REDIS_SET: i64 = 2;
            /// `type()`: a list.
            pub const REDIS_LIST: i64 = 3;
            /// `type()`: a sorted set.
            pub const REDIS_ZSET: i64 = 4;
            /// `type()`: a hash.
            pub const REDIS_HASH: i64 = 5;
            /// `type()`: a stream.
            pub const REDIS_STREAM: i64 = 6;
            /// `multi()` mode: MULTI/EXEC.
            pub const MULTI: i64 = 1;
            /// `multi()` mode: a pipeline.
            pub const PIPELINE: i64 = 2;

            $($ctor)*

            // ---- strings ----
            /// GET: the value, or `false` when the key is missing.
            pub fn get(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("GET", &[key])?, Shape::StrOrFalse)
            }
            /// SET with an optional TTL (int seconds) or options array.
            pub fn set(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval, options: Option<&Zval>) -> PhpResult<Zval> {
                let (cmd, shape) = commands::set(key, value, options)?;
                run(self_, cmd, shape)
            }
            /// SETEX.
            pub fn set_ex(self_: &mut ZendClassObject<Self>, key: &Zval, ttl: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("SETEX", &[key, ttl, value])?, Shape::Bool)
            }
            /// PSETEX.
            pub fn p_set_ex(self_: &mut ZendClassObject<Self>, key: &Zval, ttl: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("PSETEX", &[key, ttl, value])?, Shape::Bool)
            }
            /// SETNX: `true` when set.
            pub fn set_nx(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("SETNX", &[key, value])?, Shape::Bool)
            }
            /// GETSET.
            pub fn get_set(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("GETSET", &[key, value])?, Shape::StrOrFalse)
            }
            /// GETDEL.
            pub fn get_del(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("GETDEL", &[key])?, Shape::StrOrFalse)
            }
            /// APPEND: the new length.
            pub fn append(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("APPEND", &[key, value])?, Shape::Raw)
            }
            /// STRLEN.
            pub fn str_len(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("STRLEN", &[key])?, Shape::Raw)
            }
            /// GETRANGE.
            pub fn get_range(self_: &mut ZendClassObject<Self>, key: &Zval, start: &Zval, end: &Zval) -> PhpResult<Zval> {
                run(self_, command("GETRANGE", &[key, start, end])?, Shape::StrOrFalse)
            }
            /// SETRANGE.
            pub fn set_range(self_: &mut ZendClassObject<Self>, key: &Zval, offset: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("SETRANGE", &[key, offset, value])?, Shape::Raw)
            }
            /// INCR, or INCRBY when `$by` is given.
            pub fn incr(self_: &mut ZendClassObject<Self>, key: &Zval, by: Option<&Zval>) -> PhpResult<Zval> {
                let cmd = match by { Some(by) => command("INCRBY", &[key, by])?, None => command("INCR", &[key])? };
                run(self_, cmd, Shape::Raw)
            }
            /// INCRBY.
            pub fn incr_by(self_: &mut ZendClassObject<Self>, key: &Zval, by: &Zval) -> PhpResult<Zval> {
                run(self_, command("INCRBY", &[key, by])?, Shape::Raw)
            }
            /// INCRBYFLOAT: the new value as a float.
            pub fn incr_by_float(self_: &mut ZendClassObject<Self>, key: &Zval, by: &Zval) -> PhpResult<Zval> {
                run(self_, command("INCRBYFLOAT", &[key, by])?, Shape::Float)
            }
            /// DECR, or DECRBY when `$by` is given.
            pub fn decr(self_: &mut ZendClassObject<Self>, key: &Zval, by: Option<&Zval>) -> PhpResult<Zval> {
                let cmd = match by { Some(by) => command("DECRBY", &[key, by])?, None => command("DECR", &[key])? };
                run(self_, cmd, Shape::Raw)
            }
            /// DECRBY.
            pub fn decr_by(self_: &mut ZendClassObject<Self>, key: &Zval, by: &Zval) -> PhpResult<Zval> {
                run(self_, command("DECRBY", &[key, by])?, Shape::Raw)
            }
            /// MGET over any keys (split per shard, merged in order): missing → `false`.
            pub fn m_get(self_: &mut ZendClassObject<Self>, keys: &Zval) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("MGET");
                push_flat(&mut cmd, keys, "key")?;
                run(self_, cmd, Shape::Raw)
            }
            /// MSET from `[key => value]`.
            pub fn m_set(self_: &mut ZendClassObject<Self>, pairs: &Zval) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("MSET");
                push_pairs(&mut cmd, pairs, "mSet() pairs")?;
                run(self_, cmd, Shape::Bool)
            }
            /// MSETNX from `[key => value]` (one shard).
            pub fn m_set_nx(self_: &mut ZendClassObject<Self>, pairs: &Zval) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("MSETNX");
                push_pairs(&mut cmd, pairs, "mSetNx() pairs")?;
                run(self_, cmd, Shape::Bool)
            }

            // ---- keys and expiry ----
            /// DEL: how many keys were removed (`del('a', 'b')` or `del(['a', 'b'])`).
            pub fn del(self_: &mut ZendClassObject<Self>, key: &Zval, keys: &[&Zval]) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("DEL");
                push_keys(&mut cmd, key, keys)?;
                run(self_, cmd, Shape::Raw)
            }
            /// UNLINK.
            pub fn unlink(self_: &mut ZendClassObject<Self>, key: &Zval, keys: &[&Zval]) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("UNLINK");
                push_keys(&mut cmd, key, keys)?;
                run(self_, cmd, Shape::Raw)
            }
            /// EXISTS: how many of the keys exist.
            pub fn exists(self_: &mut ZendClassObject<Self>, key: &Zval, keys: &[&Zval]) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("EXISTS");
                push_keys(&mut cmd, key, keys)?;
                run(self_, cmd, Shape::Raw)
            }
            /// EXPIRE.
            pub fn expire(self_: &mut ZendClassObject<Self>, key: &Zval, ttl: &Zval) -> PhpResult<Zval> {
                run(self_, command("EXPIRE", &[key, ttl])?, Shape::Bool)
            }
            /// PEXPIRE.
            pub fn p_expire(self_: &mut ZendClassObject<Self>, key: &Zval, ttl: &Zval) -> PhpResult<Zval> {
                run(self_, command("PEXPIRE", &[key, ttl])?, Shape::Bool)
            }
            /// EXPIREAT.
            pub fn expire_at(self_: &mut ZendClassObject<Self>, key: &Zval, at: &Zval) -> PhpResult<Zval> {
                run(self_, command("EXPIREAT", &[key, at])?, Shape::Bool)
            }
            /// PEXPIREAT.
            pub fn p_expire_at(self_: &mut ZendClassObject<Self>, key: &Zval, at: &Zval) -> PhpResult<Zval> {
                run(self_, command("PEXPIREAT", &[key, at])?, Shape::Bool)
            }
            /// TTL (-2 missing, -1 no expiry).
            pub fn ttl(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("TTL", &[key])?, Shape::Raw)
            }
            /// PTTL.
            pub fn pttl(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("PTTL", &[key])?, Shape::Raw)
            }
            /// PERSIST.
            pub fn persist(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("PERSIST", &[key])?, Shape::Bool)
            }
            /// TYPE as one of the `REDIS_*` constants.
            #[php(name = "type")]
            pub fn key_type(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("TYPE", &[key])?, Shape::KeyType)
            }
            /// RENAME (both keys on one shard).
            pub fn rename(self_: &mut ZendClassObject<Self>, from: &Zval, to: &Zval) -> PhpResult<Zval> {
                run(self_, command("RENAME", &[from, to])?, Shape::Bool)
            }
            /// RENAMENX.
            pub fn rename_nx(self_: &mut ZendClassObject<Self>, from: &Zval, to: &Zval) -> PhpResult<Zval> {
                run(self_, command("RENAMENX", &[from, to])?, Shape::Bool)
            }
            /// KEYS over every shard.
            pub fn keys(self_: &mut ZendClassObject<Self>, pattern: &Zval) -> PhpResult<Zval> {
                run(self_, command("KEYS", &[pattern])?, Shape::Raw)
            }
            /// SCAN over every shard with the iterator by reference (`$it = null; while
            /// (($keys = $r->scan($it, 'user:*')) !== false) { … }`).
            pub fn scan(self_: &mut ZendClassObject<Self>, iterator: PhpRef, pattern: Option<&Zval>, count: Option<&Zval>) -> PhpResult<Zval> {
                let s = session_of(self_)?;
                commands::scan(s, iterator, Cmd::new("SCAN"), pattern, count, &Shape::Raw)
            }
            /// DBSIZE summed over the shards.
            pub fn db_size(self_: &mut ZendClassObject<Self>) -> PhpResult<Zval> {
                run(self_, Cmd::new("DBSIZE"), Shape::Raw)
            }
            /// FLUSHDB on every shard.
            pub fn flush_db(self_: &mut ZendClassObject<Self>, r#async: Option<bool>) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("FLUSHDB");
                if r#async == Some(true) { cmd.arg("ASYNC"); }
                run(self_, cmd, Shape::Bool)
            }
            /// FLUSHALL on every shard.
            pub fn flush_all(self_: &mut ZendClassObject<Self>, r#async: Option<bool>) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("FLUSHALL");
                if r#async == Some(true) { cmd.arg("ASYNC"); }
                run(self_, cmd, Shape::Bool)
            }

            // ---- hashes ----
            /// HSET one field, or many from `[field => value]`: how many fields were added.
            pub fn h_set(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval, value: Option<&Zval>) -> PhpResult<Zval> {
                run(self_, commands::hset(key, field, value)?, Shape::Raw)
            }
            /// HSETNX.
            pub fn h_set_nx(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("HSETNX", &[key, field, value])?, Shape::Bool)
            }
            /// HGET: the value or `false`.
            pub fn h_get(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval) -> PhpResult<Zval> {
                run(self_, command("HGET", &[key, field])?, Shape::StrOrFalse)
            }
            /// HMSET from `[field => value]`.
            pub fn h_m_set(self_: &mut ZendClassObject<Self>, key: &Zval, pairs: &Zval) -> PhpResult<Zval> {
                let mut cmd = command("HMSET", &[key])?;
                push_pairs(&mut cmd, pairs, "hMSet() fields")?;
                run(self_, cmd, Shape::Bool)
            }
            /// HMGET: `[field => value|false]`.
            pub fn h_m_get(self_: &mut ZendClassObject<Self>, key: &Zval, fields: &Zval) -> PhpResult<Zval> {
                let mut cmd = command("HMGET", &[key])?;
                let arr = expect_array(fields, "hMGet() fields")?;
                let mut names = Vec::with_capacity(arr.len());
                for f in crate::args::values(arr) {
                    let name = scalar_bytes(f, "field")?;
                    cmd.arg(&name);
                    names.push(name);
                }
                run(self_, cmd, Shape::Zip(names))
            }
            /// HGETALL: `[field => value]`.
            pub fn h_get_all(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("HGETALL", &[key])?, Shape::Pairs)
            }
            /// HDEL: how many fields were removed.
            pub fn h_del(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval, fields: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::key_and_values("HDEL", key, field, fields)?, Shape::Raw)
            }
            /// HEXISTS.
            pub fn h_exists(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval) -> PhpResult<Zval> {
                run(self_, command("HEXISTS", &[key, field])?, Shape::Bool)
            }
            /// HLEN.
            pub fn h_len(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("HLEN", &[key])?, Shape::Raw)
            }
            /// HKEYS.
            pub fn h_keys(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("HKEYS", &[key])?, Shape::Raw)
            }
            /// HVALS.
            pub fn h_vals(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("HVALS", &[key])?, Shape::Raw)
            }
            /// HINCRBY.
            pub fn h_incr_by(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval, by: &Zval) -> PhpResult<Zval> {
                run(self_, command("HINCRBY", &[key, field, by])?, Shape::Raw)
            }
            /// HINCRBYFLOAT.
            pub fn h_incr_by_float(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval, by: &Zval) -> PhpResult<Zval> {
                run(self_, command("HINCRBYFLOAT", &[key, field, by])?, Shape::Float)
            }
            /// HSTRLEN.
            pub fn h_str_len(self_: &mut ZendClassObject<Self>, key: &Zval, field: &Zval) -> PhpResult<Zval> {
                run(self_, command("HSTRLEN", &[key, field])?, Shape::Raw)
            }
            /// HSCAN with the iterator by reference: `[field => value]` batches.
            pub fn h_scan(self_: &mut ZendClassObject<Self>, key: &Zval, iterator: PhpRef, pattern: Option<&Zval>, count: Option<&Zval>) -> PhpResult<Zval> {
                let prefix = command("HSCAN", &[key])?;
                let s = session_of(self_)?;
                commands::scan(s, iterator, prefix, pattern, count, &Shape::Pairs)
            }

            // ---- lists ----
            /// LPUSH values: the new length.
            pub fn l_push(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval, values: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::key_and_values("LPUSH", key, value, values)?, Shape::Raw)
            }
            /// RPUSH values: the new length.
            pub fn r_push(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval, values: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::key_and_values("RPUSH", key, value, values)?, Shape::Raw)
            }
            /// LPUSHX.
            pub fn l_push_x(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("LPUSHX", &[key, value])?, Shape::Raw)
            }
            /// RPUSHX.
            pub fn r_push_x(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("RPUSHX", &[key, value])?, Shape::Raw)
            }
            /// LPOP: a value or `false`; with `$count` a list.
            pub fn l_pop(self_: &mut ZendClassObject<Self>, key: &Zval, count: Option<&Zval>) -> PhpResult<Zval> {
                match count { Some(c) => run(self_, command("LPOP", &[key, c])?, Shape::Raw), None => run(self_, command("LPOP", &[key])?, Shape::StrOrFalse) }
            }
            /// RPOP: a value or `false`; with `$count` a list.
            pub fn r_pop(self_: &mut ZendClassObject<Self>, key: &Zval, count: Option<&Zval>) -> PhpResult<Zval> {
                match count { Some(c) => run(self_, command("RPOP", &[key, c])?, Shape::Raw), None => run(self_, command("RPOP", &[key])?, Shape::StrOrFalse) }
            }
            /// BLPOP `[key, value]`, or `false` on timeout.
            pub fn bl_pop(self_: &mut ZendClassObject<Self>, key: &Zval, rest: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::blocking_pop("BLPOP", key, rest)?, Shape::Raw)
            }
            /// BRPOP `[key, value]`, or `false` on timeout.
            pub fn br_pop(self_: &mut ZendClassObject<Self>, key: &Zval, rest: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::blocking_pop("BRPOP", key, rest)?, Shape::Raw)
            }
            /// LRANGE.
            pub fn l_range(self_: &mut ZendClassObject<Self>, key: &Zval, start: &Zval, end: &Zval) -> PhpResult<Zval> {
                run(self_, command("LRANGE", &[key, start, end])?, Shape::Raw)
            }
            /// LLEN.
            pub fn l_len(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("LLEN", &[key])?, Shape::Raw)
            }
            /// LINDEX: a value or `false`.
            pub fn l_index(self_: &mut ZendClassObject<Self>, key: &Zval, index: &Zval) -> PhpResult<Zval> {
                run(self_, command("LINDEX", &[key, index])?, Shape::StrOrFalse)
            }
            /// LSET.
            pub fn l_set(self_: &mut ZendClassObject<Self>, key: &Zval, index: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("LSET", &[key, index, value])?, Shape::Bool)
            }
            /// LREM in phpredis' argument order (`$key, $value, $count = 0`).
            pub fn l_rem(self_: &mut ZendClassObject<Self>, key: &Zval, value: &Zval, count: Option<&Zval>) -> PhpResult<Zval> {
                let mut cmd = command("LREM", &[key])?;
                match count { Some(c) => push_scalar(&mut cmd, c, "count")?, None => { cmd.arg("0"); } }
                push_scalar(&mut cmd, value, "value")?;
                run(self_, cmd, Shape::Raw)
            }
            /// LTRIM.
            pub fn l_trim(self_: &mut ZendClassObject<Self>, key: &Zval, start: &Zval, stop: &Zval) -> PhpResult<Zval> {
                run(self_, command("LTRIM", &[key, start, stop])?, Shape::Bool)
            }
            /// LINSERT (`'before'`/`'after'`).
            pub fn l_insert(self_: &mut ZendClassObject<Self>, key: &Zval, position: &Zval, pivot: &Zval, value: &Zval) -> PhpResult<Zval> {
                run(self_, command("LINSERT", &[key, position, pivot, value])?, Shape::Raw)
            }
            /// RPOPLPUSH (both keys on one shard).
            pub fn r_pop_l_push(self_: &mut ZendClassObject<Self>, src: &Zval, dst: &Zval) -> PhpResult<Zval> {
                run(self_, command("RPOPLPUSH", &[src, dst])?, Shape::StrOrFalse)
            }
            /// LMOVE (both keys on one shard).
            pub fn l_move(self_: &mut ZendClassObject<Self>, src: &Zval, dst: &Zval, from: &Zval, to: &Zval) -> PhpResult<Zval> {
                run(self_, command("LMOVE", &[src, dst, from, to])?, Shape::StrOrFalse)
            }

            // ---- sets ----
            /// SADD members: how many were added.
            pub fn s_add(self_: &mut ZendClassObject<Self>, key: &Zval, member: &Zval, members: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::key_and_values("SADD", key, member, members)?, Shape::Raw)
            }
            /// SREM members.
            pub fn s_rem(self_: &mut ZendClassObject<Self>, key: &Zval, member: &Zval, members: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::key_and_values("SREM", key, member, members)?, Shape::Raw)
            }
            /// SMEMBERS.
            pub fn s_members(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("SMEMBERS", &[key])?, Shape::Raw)
            }
            /// SISMEMBER.
            pub fn s_is_member(self_: &mut ZendClassObject<Self>, key: &Zval, member: &Zval) -> PhpResult<Zval> {
                run(self_, command("SISMEMBER", &[key, member])?, Shape::Bool)
            }
            /// SCARD.
            pub fn s_card(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("SCARD", &[key])?, Shape::Raw)
            }
            /// SPOP: a member or `false`; with `$count` a list.
            pub fn s_pop(self_: &mut ZendClassObject<Self>, key: &Zval, count: Option<&Zval>) -> PhpResult<Zval> {
                match count { Some(c) => run(self_, command("SPOP", &[key, c])?, Shape::Raw), None => run(self_, command("SPOP", &[key])?, Shape::StrOrFalse) }
            }
            /// SRANDMEMBER: a member or `false`; with `$count` a list.
            pub fn s_rand_member(self_: &mut ZendClassObject<Self>, key: &Zval, count: Option<&Zval>) -> PhpResult<Zval> {
                match count { Some(c) => run(self_, command("SRANDMEMBER", &[key, c])?, Shape::Raw), None => run(self_, command("SRANDMEMBER", &[key])?, Shape::StrOrFalse) }
            }
            /// SINTER of keys on one shard.
            pub fn s_inter(self_: &mut ZendClassObject<Self>, key: &Zval, keys: &[&Zval]) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("SINTER");
                push_keys(&mut cmd, key, keys)?;
                run(self_, cmd, Shape::Raw)
            }
            /// SUNION of keys on one shard.
            pub fn s_union(self_: &mut ZendClassObject<Self>, key: &Zval, keys: &[&Zval]) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("SUNION");
                push_keys(&mut cmd, key, keys)?;
                run(self_, cmd, Shape::Raw)
            }
            /// SDIFF of keys on one shard.
            pub fn s_diff(self_: &mut ZendClassObject<Self>, key: &Zval, keys: &[&Zval]) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("SDIFF");
                push_keys(&mut cmd, key, keys)?;
                run(self_, cmd, Shape::Raw)
            }
            /// SMOVE.
            pub fn s_move(self_: &mut ZendClassObject<Self>, src: &Zval, dst: &Zval, member: &Zval) -> PhpResult<Zval> {
                run(self_, command("SMOVE", &[src, dst, member])?, Shape::Bool)
            }
            /// SSCAN with the iterator by reference.
            pub fn s_scan(self_: &mut ZendClassObject<Self>, key: &Zval, iterator: PhpRef, pattern: Option<&Zval>, count: Option<&Zval>) -> PhpResult<Zval> {
                let prefix = command("SSCAN", &[key])?;
                let s = session_of(self_)?;
                commands::scan(s, iterator, prefix, pattern, count, &Shape::Raw)
            }

            // ---- sorted sets ----
            /// ZADD `[$options,] $score, $member, …`: how many were added (the score with 'incr').
            pub fn z_add(self_: &mut ZendClassObject<Self>, key: &Zval, score_or_options: &Zval, rest: &[&Zval]) -> PhpResult<Zval> {
                let (cmd, shape) = commands::zadd(key, score_or_options, rest)?;
                run(self_, cmd, shape)
            }
            /// ZRANGE; with `$withscores` (or `['withscores' => true]`) `[member => score]`.
            pub fn z_range(self_: &mut ZendClassObject<Self>, key: &Zval, start: &Zval, end: &Zval, options: Option<&Zval>) -> PhpResult<Zval> {
                let (cmd, shape) = commands::zrange("ZRANGE", key, start, end, options)?;
                run(self_, cmd, shape)
            }
            /// ZREVRANGE.
            pub fn z_rev_range(self_: &mut ZendClassObject<Self>, key: &Zval, start: &Zval, end: &Zval, options: Option<&Zval>) -> PhpResult<Zval> {
                let (cmd, shape) = commands::zrange("ZREVRANGE", key, start, end, options)?;
                run(self_, cmd, shape)
            }
            /// ZRANGEBYSCORE with `['withscores' => bool, 'limit' => [$offset, $count]]`.
            pub fn z_range_by_score(self_: &mut ZendClassObject<Self>, key: &Zval, min: &Zval, max: &Zval, options: Option<&Zval>) -> PhpResult<Zval> {
                let (cmd, shape) = commands::zrange("ZRANGEBYSCORE", key, min, max, options)?;
                run(self_, cmd, shape)
            }
            /// ZREVRANGEBYSCORE (`$max`, `$min`).
            pub fn z_rev_range_by_score(self_: &mut ZendClassObject<Self>, key: &Zval, max: &Zval, min: &Zval, options: Option<&Zval>) -> PhpResult<Zval> {
                let (cmd, shape) = commands::zrange("ZREVRANGEBYSCORE", key, max, min, options)?;
                run(self_, cmd, shape)
            }
            /// ZSCORE: a float or `false`.
            pub fn z_score(self_: &mut ZendClassObject<Self>, key: &Zval, member: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZSCORE", &[key, member])?, Shape::Float)
            }
            /// ZRANK: an int or `false`.
            pub fn z_rank(self_: &mut ZendClassObject<Self>, key: &Zval, member: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZRANK", &[key, member])?, Shape::Raw)
            }
            /// ZREVRANK: an int or `false`.
            pub fn z_rev_rank(self_: &mut ZendClassObject<Self>, key: &Zval, member: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZREVRANK", &[key, member])?, Shape::Raw)
            }
            /// ZINCRBY: the new score.
            pub fn z_incr_by(self_: &mut ZendClassObject<Self>, key: &Zval, by: &Zval, member: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZINCRBY", &[key, by, member])?, Shape::Float)
            }
            /// ZREM members.
            pub fn z_rem(self_: &mut ZendClassObject<Self>, key: &Zval, member: &Zval, members: &[&Zval]) -> PhpResult<Zval> {
                run(self_, commands::key_and_values("ZREM", key, member, members)?, Shape::Raw)
            }
            /// ZCARD.
            pub fn z_card(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZCARD", &[key])?, Shape::Raw)
            }
            /// ZCOUNT.
            pub fn z_count(self_: &mut ZendClassObject<Self>, key: &Zval, min: &Zval, max: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZCOUNT", &[key, min, max])?, Shape::Raw)
            }
            /// ZREMRANGEBYSCORE.
            pub fn z_rem_range_by_score(self_: &mut ZendClassObject<Self>, key: &Zval, min: &Zval, max: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZREMRANGEBYSCORE", &[key, min, max])?, Shape::Raw)
            }
            /// ZREMRANGEBYRANK.
            pub fn z_rem_range_by_rank(self_: &mut ZendClassObject<Self>, key: &Zval, start: &Zval, end: &Zval) -> PhpResult<Zval> {
                run(self_, command("ZREMRANGEBYRANK", &[key, start, end])?, Shape::Raw)
            }
            /// ZPOPMIN: `[member => score]`.
            pub fn z_pop_min(self_: &mut ZendClassObject<Self>, key: &Zval, count: Option<&Zval>) -> PhpResult<Zval> {
                let cmd = match count { Some(c) => command("ZPOPMIN", &[key, c])?, None => command("ZPOPMIN", &[key])? };
                run(self_, cmd, Shape::Scores)
            }
            /// ZPOPMAX: `[member => score]`.
            pub fn z_pop_max(self_: &mut ZendClassObject<Self>, key: &Zval, count: Option<&Zval>) -> PhpResult<Zval> {
                let cmd = match count { Some(c) => command("ZPOPMAX", &[key, c])?, None => command("ZPOPMAX", &[key])? };
                run(self_, cmd, Shape::Scores)
            }
            /// ZINTERSTORE `$dst` from `$keys` (one shard) with optional weights and aggregate.
            pub fn z_inter_store(self_: &mut ZendClassObject<Self>, dst: &Zval, keys: &Zval, weights: Option<&Zval>, aggregate: Option<&Zval>) -> PhpResult<Zval> {
                run(self_, commands::zstore("ZINTERSTORE", dst, keys, weights, aggregate)?, Shape::Raw)
            }
            /// ZUNIONSTORE `$dst` from `$keys` (one shard) with optional weights and aggregate.
            pub fn z_union_store(self_: &mut ZendClassObject<Self>, dst: &Zval, keys: &Zval, weights: Option<&Zval>, aggregate: Option<&Zval>) -> PhpResult<Zval> {
                run(self_, commands::zstore("ZUNIONSTORE", dst, keys, weights, aggregate)?, Shape::Raw)
            }
            /// ZRANGEBYLEX `$min` `$max`, with `$offset`/`$count` as LIMIT.
            pub fn z_range_by_lex(self_: &mut ZendClassObject<Self>, key: &Zval, min: &Zval, max: &Zval, offset: Option<&Zval>, count: Option<&Zval>) -> PhpResult<Zval> {
                let mut cmd = command("ZRANGEBYLEX", &[key, min, max])?;
                if let (Some(o), Some(c)) = (offset, count) {
                    cmd.arg("LIMIT");
                    push_scalar(&mut cmd, o, "offset")?;
                    push_scalar(&mut cmd, c, "count")?;
                }
                run(self_, cmd, Shape::Raw)
            }
            /// ZSCAN with the iterator by reference: `[member => score]` batches.
            pub fn z_scan(self_: &mut ZendClassObject<Self>, key: &Zval, iterator: PhpRef, pattern: Option<&Zval>, count: Option<&Zval>) -> PhpResult<Zval> {
                let prefix = command("ZSCAN", &[key])?;
                let s = session_of(self_)?;
                commands::scan(s, iterator, prefix, pattern, count, &Shape::Scores)
            }

            // ---- scripting and server ----
            /// EVAL `$script` with `$args`, the first `$numKeys` of them keys (one shard).
            pub fn eval(self_: &mut ZendClassObject<Self>, script: &Zval, args: Option<&Zval>, num_keys: Option<&Zval>) -> PhpResult<Zval> {
                run(self_, commands::eval("EVAL", script, args, num_keys)?, Shape::Raw)
            }
            /// EVALSHA.
            pub fn eval_sha(self_: &mut ZendClassObject<Self>, sha: &Zval, args: Option<&Zval>, num_keys: Option<&Zval>) -> PhpResult<Zval> {
                run(self_, commands::eval("EVALSHA", sha, args, num_keys)?, Shape::Raw)
            }
            /// SCRIPT LOAD / EXISTS / FLUSH (on every shard).
            pub fn script(self_: &mut ZendClassObject<Self>, subcommand: &Zval, args: &[&Zval]) -> PhpResult<Zval> {
                let mut cmd = Cmd::new("SCRIPT");
                push_keys(&mut cmd, subcommand, args)?;
                run(self_, cmd, Shape::Raw)
            }
            /// PING: `true`, or `$message` echoed.
            pub fn ping(self_: &mut ZendClassObject<Self>, message: Option<&Zval>) -> PhpResult<Zval> {
                commands::refuse_node_argument(session_of(self_)?, message, "ping")?;
                match message {
                    Some(m) => run(self_, command("PING", &[m])?, Shape::StrOrFalse),
                    None => run(self_, Cmd::new("PING"), Shape::Bool),
                }
            }
            /// ECHO.
            pub fn echo(self_: &mut ZendClassObject<Self>, message: &Zval) -> PhpResult<Zval> {
                run(self_, command("ECHO", &[message])?, Shape::StrOrFalse)
            }
            /// INFO parsed into `[name => value]` (per node when several answer).
            pub fn info(self_: &mut ZendClassObject<Self>, section: Option<&Zval>) -> PhpResult<Zval> {
                commands::refuse_node_argument(session_of(self_)?, section, "info")?;
                let cmd = match section { Some(s) => command("INFO", &[s])?, None => Cmd::new("INFO") };
                run(self_, cmd, Shape::Info)
            }
            /// Any command by its arguments (`rawCommand('OBJECT', 'ENCODING', 'k')`). phpredis'
            /// RedisCluster form, `rawCommand($keyOrNode, 'GET', 'k')`, is accepted too: a first
            /// argument that is no command, followed by one that is, only told phpredis where to
            /// send it — shardis routes by the command's own keys.
            pub fn raw_command(self_: &mut ZendClassObject<Self>, name: &Zval, args: &[&Zval]) -> PhpResult<Zval> {
                let mut all = Cmd::default();
                push_scalar(&mut all, name, "command")?;
                for a in args { push_scalar(&mut all, a, "argument")?; }
                let is_command = |i: usize| all.get(i).and_then(shardis::command::table::lookup).is_some();
                let cmd = if !is_command(0) && is_command(1) {
                    Cmd::from_args(all.args().skip(1))
                } else {
                    all
                };
                run(self_, cmd, Shape::Raw)
            }
            /// Every other command by method name, arguments passed as given with arrays spread
            /// (`$r->bitCount('k')`, `$r->xAdd('s', '*', ['f' => 'v'])` → `XADD s * f v`).
            pub fn __call(self_: &mut ZendClassObject<Self>, name: String, arguments: &Zval) -> PhpResult<Zval> {
                run(self_, commands::generic(&name, arguments)?, Shape::Raw)
            }

            // ---- pipelines and transactions ----
            /// Queue the following calls (they return the client) until `exec()`.
            pub fn pipeline(self_: &mut ZendClassObject<Self>) -> PhpResult<Zval> {
                session::pipeline(self_)
            }
            /// MULTI (or a pipeline with `Client::PIPELINE`): queue until `exec()`; keys must
            /// share one shard.
            pub fn multi(self_: &mut ZendClassObject<Self>, mode: Option<i64>) -> PhpResult<Zval> {
                match mode {
                    Some(2) => session::pipeline(self_),
                    Some(1) | None => session::multi(self_),
                    Some(other) => Err(crate::errors::value_error(format!("multi(): unknown mode {other}"))),
                }
            }
            /// Run what was queued: one entry per command (`false` for a failed one).
            pub fn exec(self_: &mut ZendClassObject<Self>) -> PhpResult<Zval> {
                session::exec(self_)
            }
            /// Drop what was queued.
            pub fn discard(self_: &mut ZendClassObject<Self>) -> PhpResult<bool> {
                session::discard(self_)
            }
            /// WATCH keys (one shard) for the next `multi()`.
            pub fn watch(self_: &mut ZendClassObject<Self>, key: &Zval, keys: &[&Zval]) -> PhpResult<bool> {
                let mut cmd = Cmd::default();
                push_keys(&mut cmd, key, keys)?;
                session::watch(self_, cmd)
            }
            /// UNWATCH.
            pub fn unwatch(self_: &mut ZendClassObject<Self>) -> PhpResult<bool> {
                session::unwatch(self_)
            }

            // ---- shardis ----
            /// The last error message (also set by failed entries of `exec()`), or null.
            pub fn get_last_error(self_: &mut ZendClassObject<Self>) -> PhpResult<Option<String>> {
                Ok(session_of(self_)?.last_error().map(str::to_owned))
            }
            /// Forget the last error.
            pub fn clear_last_error(self_: &mut ZendClassObject<Self>) -> PhpResult<bool> {
                session_of(self_)?.clear_last_error();
                Ok(true)
            }
            /// The node (`host:port`) that holds `$key`.
            pub fn node_for(self_: &mut ZendClassObject<Self>, key: &Zval) -> PhpResult<String> {
                let key = scalar_bytes(key, "key")?;
                let s = session_of(self_)?;
                s.core.node_for(&key).map_err(|e| to_exception(&e))
            }
            /// Every known node (`host:port`).
            pub fn nodes(self_: &mut ZendClassObject<Self>) -> PhpResult<Vec<String>> {
                Ok(session_of(self_)?.core.nodes())
            }
            /// Counters of the shared core: calls, errors, retries, redirects, connections
            /// opened, topology refreshes, per-node and per-command figures.
            pub fn stats(self_: &mut ZendClassObject<Self>) -> PhpResult<Zval> {
                crate::client::stats_zval(&session_of(self_)?.core)
            }
            /// The registry key this client shares its connections under.
            #[php(name = "getPersistentID")]
            pub fn get_persistent_id(self_: &mut ZendClassObject<Self>) -> PhpResult<String> {
                Ok(session_of(self_)?.core.config().registry_key())
            }
            /// phpredis compatibility: connections are the process registry's and stay open for
            /// the next request; this only ends a pending pipeline or transaction.
            pub fn close(self_: &mut ZendClassObject<Self>) -> PhpResult<bool> {
                let s = session_of(self_)?;
                if s.queued() {
                    session::discard(self_)?;
                }
                Ok(true)
            }
            /// phpredis' client-side options (serializer, compression, key prefix, scan
            /// retry…) are not implemented: values and keys are sent exactly as given. Refused
            /// loudly, since silently ignoring a serializer would store data in another format.
            pub fn set_option(&self, option: &Zval, _value: &Zval) -> PhpResult<bool> {
                Err(crate::errors::unsupported(format!(
                    "setOption({}): shardis implements no client-side options (serializer, \
                     compression, prefix); keys and values are sent as given",
                    crate::args::scalar_text(option)
                )))
            }
            /// See `setOption()`: nothing is set, so there is nothing to read.
            pub fn get_option(&self, option: &Zval) -> PhpResult<bool> {
                Err(crate::errors::unsupported(format!(
                    "getOption({}): shardis implements no client-side options",
                    crate::args::scalar_text(option)
                )))
            }
            /// phpredis compatibility: always true (connections open on demand).
            pub fn is_connected(&self) -> bool {
                true
            }
        }
    };
}

pub(crate) use redis_api;
