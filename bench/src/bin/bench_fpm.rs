//! A FastCGI load generator for the PHP benchmark: `--concurrency` threads, each with one
//! kept-alive connection to php-fpm's unix socket, send requests for `--seconds` and check
//! that every response body contains `--expect`. Prints one JSON line:
//! `{"requests":…,"seconds":…,"errors":…,"first_error":…,"p50_ms":…,"p99_ms":…}` (the
//! percentiles are of the successful requests' round trips, FastCGI send to END_REQUEST).
//!
//! (cgi-fcgi forks a process per request, which on a small machine costs more CPU than the
//! requests it measures; this keeps the driver's cost low and equal for every client.)

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shardis_bench::arg;

const BEGIN_REQUEST: u8 = 1;
const END_REQUEST: u8 = 3;
const PARAMS: u8 = 4;
const STDIN: u8 = 5;
const STDOUT: u8 = 6;
const KEEP_CONN: u8 = 1;

fn record(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    let len = u16::try_from(body.len()).expect("record body under 64 KiB");
    out.extend_from_slice(&[1, kind, 0, 1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
}

fn pair_len(out: &mut Vec<u8>, n: usize) {
    if n < 128 {
        out.push(n as u8);
    } else {
        out.extend_from_slice(&(n as u32 | 0x8000_0000).to_be_bytes());
    }
}

/// The bytes of one request (the same for every request of a run).
fn request(params: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    record(&mut out, BEGIN_REQUEST, &[0, 1, KEEP_CONN, 0, 0, 0, 0, 0]);
    let mut body = Vec::new();
    for (k, v) in params {
        pair_len(&mut body, k.len());
        pair_len(&mut body, v.len());
        body.extend_from_slice(k.as_bytes());
        body.extend_from_slice(v.as_bytes());
    }
    record(&mut out, PARAMS, &body);
    record(&mut out, PARAMS, &[]);
    record(&mut out, STDIN, &[]);
    out
}

/// Send one request and collect its STDOUT until END_REQUEST.
fn round_trip(conn: &mut UnixStream, req: &[u8], body: &mut Vec<u8>) -> std::io::Result<()> {
    conn.write_all(req)?;
    body.clear();
    let mut header = [0u8; 8];
    loop {
        conn.read_exact(&mut header)?;
        let len = u16::from_be_bytes([header[4], header[5]]) as usize + header[6] as usize;
        let mut content = vec![0u8; len];
        conn.read_exact(&mut content)?;
        let data_len = u16::from_be_bytes([header[4], header[5]]) as usize;
        match header[1] {
            STDOUT => body.extend_from_slice(&content[..data_len]),
            END_REQUEST => return Ok(()),
            _ => {}
        }
    }
}

fn main() {
    let socket: String = arg("--socket", String::new());
    let script: String = arg("--script", String::new());
    let concurrency: usize = arg("--concurrency", 4);
    let seconds: f64 = arg("--seconds", 5.0);
    let expect: String = arg("--expect", "ok".to_owned());
    let query: String = arg("--query", String::new());
    let params = vec![
        ("SCRIPT_FILENAME".to_owned(), script),
        ("REQUEST_METHOD".to_owned(), "GET".to_owned()),
        ("QUERY_STRING".to_owned(), query),
        ("GATEWAY_INTERFACE".to_owned(), "CGI/1.1".to_owned()),
        ("SERVER_PROTOCOL".to_owned(), "HTTP/1.1".to_owned()),
    ];
    let req = Arc::new(request(&params));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(String::new()));
    let start = Instant::now();
    let threads: Vec<_> = (0..concurrency)
        .map(|_| {
            let (req, stop, done, errors, first_error) = (
                req.clone(),
                stop.clone(),
                done.clone(),
                errors.clone(),
                first_error.clone(),
            );
            let (socket, expect) = (socket.clone(), expect.clone());
            std::thread::spawn(move || {
                let mut conn = UnixStream::connect(&socket).expect("connect to php-fpm");
                let mut body = Vec::new();
                // Round-trip times in µs of the successful requests.
                let mut latencies: Vec<u32> = Vec::with_capacity(1 << 16);
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let ok = match round_trip(&mut conn, &req, &mut body) {
                        Ok(()) => {
                            let text = String::from_utf8_lossy(&body);
                            (!text.contains(expect.as_str())).then(|| text.into_owned())
                        }
                        Err(e) => {
                            conn = UnixStream::connect(&socket).expect("reconnect to php-fpm");
                            Some(format!("fastcgi: {e}"))
                        }
                    };
                    match ok {
                        None => {
                            let us = sent.elapsed().as_micros();
                            latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                            done.fetch_add(1, Ordering::Relaxed)
                        }
                        Some(err) => {
                            let mut f = first_error.lock().unwrap();
                            if f.is_empty() {
                                *f = err.chars().take(400).collect();
                            }
                            errors.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<u32> = Vec::new();
    for t in threads {
        latencies.extend(t.join().unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[i]) / 1000.0
    };
    let first = first_error
        .lock()
        .unwrap()
        .replace('"', "'")
        .replace(['\n', '\r'], " ");
    println!(
        "{{\"requests\":{},\"seconds\":{elapsed:.3},\"errors\":{},\"first_error\":\"{first}\",\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
        done.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        percentile(0.50),
        percentile(0.99)
    );
}
