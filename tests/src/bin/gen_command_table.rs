//! Regenerates `core/src/command/table_data.rs` from a freshly started redis-server
//! (or `--addr host:port` of a running one).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .iter()
        .position(|a| a == "--addr")
        .and_then(|i| args.get(i + 1).cloned());
    let server = if addr.is_none() {
        Some(shardis_tests::RedisServer::start())
    } else {
        None
    };
    let addr = addr
        .or_else(|| server.as_ref().map(|s| s.addr()))
        .unwrap_or_default();
    let port: u16 = addr
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(6379);
    let info = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
    let ci = shardis_tests::connection_info(port).set_redis_settings(info);
    let mut con = match redis::Client::open(ci).and_then(|c| c.get_connection()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot connect to {addr}: {e}");
            std::process::exit(1);
        }
    };
    match shardis_tests::command_table::fetch_and_render(&mut con) {
        Ok(text) => {
            let path = shardis_tests::command_table::table_path();
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("write {}: {e}", path.display());
                std::process::exit(1);
            }
            println!("wrote {}", path.display());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
