//! A tiny scripted RESP server on loopback, for the error classes a real server produces
//! only in rare moments (TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, READONLY, malformed
//! redirects) and for replies no real server sends (malformed, hostile, cut off). Each
//! request is answered by a closure; every request is recorded with the connection it came
//! on.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The reply script: request argv → raw RESP reply bytes.
pub type Script = Arc<dyn Fn(&[Vec<u8>]) -> Vec<u8> + Send + Sync>;

/// What the fake does with one request (see [`FakeServer::start_answering`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Send these bytes (anything, valid RESP or not) and keep the connection.
    Reply(Vec<u8>),
    /// Send these bytes, then close the connection: the client reads them, then EOF.
    /// Requests already on their way are read and discarded (not answered, not recorded),
    /// so the close is a clean FIN after the bytes, never a reset that could lose them.
    ReplyAndClose(Vec<u8>),
}

/// A script that may also close the connection: request argv → [`Answer`].
pub type AnswerScript = Arc<dyn Fn(&[Vec<u8>]) -> Answer + Send + Sync>;

/// How long a connection closed by [`Answer::ReplyAndClose`] waits for the client to close
/// its side.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// One recorded request.
type Logged = (usize, Vec<Vec<u8>>);

/// A running fake server.
pub struct FakeServer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Logged>>>,
    connections: Arc<AtomicUsize>,
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
        FakeServer::start_answering(|port| {
            let script = script(port);
            Arc::new(move |cmd: &[Vec<u8>]| Answer::Reply(script(cmd)))
        })
    }

    /// Start on a free port with a script that may also close connections; `script` is
    /// built knowing that port.
    pub fn start_answering(script: impl FnOnce(u16) -> AnswerScript) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake server");
        let port = listener.local_addr().expect("addr").port();
        let script = script(port);
        let stop = Arc::new(AtomicBool::new(false));
        let requests: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let (stop2, requests2, connections2) =
            (stop.clone(), requests.clone(), connections.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                // Counted before anything is read from it: by the time a client sees a
                // reply on a connection, the connection is counted and its request logged.
                let id = connections2.fetch_add(1, Ordering::SeqCst) + 1;
                let (script, requests, stop) = (script.clone(), requests2.clone(), stop2.clone());
                std::thread::spawn(move || serve(conn, id, &*script, &requests, &stop));
            }
        });
        FakeServer {
            port,
            stop,
            requests,
            connections,
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
            .map(|(_, c)| c)
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
            .iter()
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// Every request so far with the connection it came on (connections are numbered from
    /// 1 in the order they were accepted).
    pub fn requests_by_connection(&self) -> Vec<(usize, Vec<Vec<u8>>)> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Answer the requests of one connection (number `id`) until the client closes it, the
/// script closes it, or the server stops.
fn serve(
    conn: TcpStream,
    id: usize,
    script: &(dyn Fn(&[Vec<u8>]) -> Answer + Send + Sync),
    requests: &Mutex<Vec<Logged>>,
    stop: &AtomicBool,
) {
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    while let Some(cmd) = read_command(&mut reader) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let answer = script(&cmd);
        requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, cmd));
        match answer {
            Answer::Reply(bytes) => {
                if writer.write_all(&bytes).is_err() {
                    break;
                }
            }
            Answer::ReplyAndClose(bytes) => {
                let _ = writer.write_all(&bytes);
                let _ = writer.shutdown(Shutdown::Write);
                // Drain until the client closes its side (it must, having read EOF), so that
                // closing never turns into a reset. Bounded: a client that keeps the socket
                // open is given up on after a while (the fake then closes regardless).
                let _ = reader.get_ref().set_read_timeout(Some(DRAIN_LIMIT));
                let mut sink = [0u8; 4096];
                while matches!(reader.get_mut().read(&mut sink), Ok(n) if n > 0) {}
                // Whatever the BufReader had buffered is dropped unanswered with it.
                break;
            }
        }
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
