//! `shardis route`: which node holds each key, and the key as that node stores it.

use std::io::{BufRead, Write};
use std::process::ExitCode;

pub(crate) fn run(source: &crate::Source, keys: Vec<String>) -> Result<ExitCode, shardis::Error> {
    let client = source.open()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut emit = |key: &[u8]| -> Result<(), shardis::Error> {
        let (node, stored) = client.route_for(key)?;
        let _ = out.write_all(key);
        let _ = write!(out, "\t{node}\t");
        let _ = out.write_all(&stored);
        let _ = out.write_all(b"\n");
        Ok(())
    };
    if keys.is_empty() {
        for line in std::io::stdin().lock().split(b'\n') {
            let mut line = line
                .map_err(|e| shardis::Error::new(shardis::ErrorKind::Io, format!("stdin: {e}")))?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            emit(&line)?;
        }
    } else {
        for k in &keys {
            emit(k.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
