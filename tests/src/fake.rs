//! A tiny scripted RESP server on loopback, for the error classes a real server produces
//! only in rare moments (TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, READONLY, malformed
//! redirects). Each request is answered by a closure; every request is recorded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The reply script: request argv → raw RESP reply bytes.
pub type Script = Arc<dyn Fn(&[Vec<u8>]) -> Vec<u8> + Send + Sync>;

/// A running fake server.
pub struct FakeServer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Vec<Vec<u8>>>>>,
    accept: Option<JoinHandle<()>>,
}

fn read_command(r: &mut BufReader<TcpStream>) -> Option<Vec<Vec<u8>>> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let n: usize = line.trim_end().strip_prefix('*')?.parse().ok()?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n {
        line.clear();
        r.read_line(&mut line).ok()?;
        let len: usize = line.trim_end().strip_prefix('$')?.parse().ok()?;
        let mut buf = vec![0u8; len + 2];
        r.read_exact(&mut buf).ok()?;
        buf.truncate(len);
        args.push(buf);
    }
    Some(args)
}

impl FakeServer {
    /// Start on a free port; `script` is built knowing that port.
    pub fn start(script: impl FnOnce(u16) -> Script) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake server");
        let port = listener.local_addr().expect("addr").port();
        let script = script(port);
        let stop = Arc::new(AtomicBool::new(false));
        let requests: Arc<Mutex<Vec<Vec<Vec<u8>>>>> = Arc::default();
        let (stop2, requests2) = (stop.clone(), requests.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (script, requests, stop) = (script.clone(), requests2.clone(), stop2.clone());
                std::thread::spawn(move || {
                    let Ok(mut writer) = conn.try_clone() else {
                        return;
                    };
                    let mut reader = BufReader::new(conn);
                    while let Some(cmd) = read_command(&mut reader) {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let reply = script(&cmd);
                        requests.lock().unwrap_or_else(|e| e.into_inner()).push(cmd);
                        if writer.write_all(&reply).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        FakeServer {
            port,
            stop,
            requests,
            accept: Some(accept),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How many requests had `name` as their first argument (any case).
    pub fn count(&self, name: &str) -> usize {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|c| {
                c.first()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            })
            .count()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Vec<Vec<u8>>> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// `CLUSTER SLOTS` reply: all 16384 slots served by `port` on 127.0.0.1.
pub fn slots_reply(port: u16) -> Vec<u8> {
    format!("*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:{port}\r\n").into_bytes()
}
