//! `shardis cmd`: one command, the reply printed like redis-cli.

use std::process::ExitCode;

use crate::output::print_reply;

pub(crate) fn run(source: &crate::Source, args: &[String]) -> Result<ExitCode, shardis::Error> {
    let client = source.open()?;
    match client.query(args) {
        Ok(v) => {
            print!("{}", print_reply(&v, 0));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("(error) {e}");
            Ok(ExitCode::from(1))
        }
    }
}
