//! A TCP proxy in front of one real node that can "cut" a connection after the node
//! executed a request but before its reply reaches the client (RELIABILITY G2). Only an
//! integer reply (`:…`, what INCR answers) is cut: other traffic through the proxy — a
//! replica's replication stream uses the announced port too — passes untouched.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// A running proxy.
pub struct CutProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    cut_next_reply: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl CutProxy {
    /// Proxy to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(AtomicBool::new(false));
        let (stop2, cut2) = (stop.clone(), cut.clone());
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                // client → server: plain copy.
                std::thread::spawn(move || {
                    let (mut from, mut to) = (client, server);
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Both);
                });
                // server → client: copy, unless armed: then swallow the reply and close.
                let cut = cut2.clone();
                std::thread::spawn(move || {
                    let (mut from, mut to) = (s2, c2);
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if buf[0] == b':' && cut.swap(false, Ordering::SeqCst) {
                            let _ = to.shutdown(Shutdown::Both);
                            let _ = from.shutdown(Shutdown::Both);
                            break;
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Both);
                });
            }
        });
        CutProxy {
            port,
            stop,
            cut_next_reply: cut,
            accept: Some(accept),
        }
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Swallow the next integer reply from the node and close that client connection.
    pub fn cut_next_reply(&self) {
        self.cut_next_reply.store(true, Ordering::SeqCst);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}
