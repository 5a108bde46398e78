//! `shardis`: route keys, run commands, generate data and load through the shardis core,
//! with the same configuration files and URLs the bindings use.

mod cmd;
mod dist;
mod load;
mod output;
mod route;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shardis::{Client, Config};

/// shardis — in-process Redis/Valkey router (CLI)
#[derive(Parser)]
#[command(name = "shardis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print `KEY<TAB>host:port` for each key (keys from stdin, one per line, when none given)
    Route {
        /// Config file (.toml/.json) or URL (redis://…)
        #[arg(long)]
        config: String,
        /// Keys to route
        keys: Vec<String>,
    },
    /// Run one command and print the reply like redis-cli
    Cmd {
        /// Config file (.toml/.json) or URL (redis://…)
        #[arg(long)]
        config: String,
        /// Command and arguments
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Write N hashes `emp:0000000001…` (scenario S2) and print keys per node
    Dist(dist::DistArgs),
    /// Run a GET/SET load and print ops/s, latency percentiles and errors by kind
    Load(load::LoadArgs),
}

/// Build a client from a config file path or a URL.
pub(crate) fn open(config: &str) -> Result<Client, shardis::Error> {
    let config = if config.contains("://") {
        Config::from_url(config)?
    } else {
        Config::from_file(config)?
    };
    Client::new(config)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Route { config, keys } => route::run(&config, keys),
        Command::Cmd { config, args } => cmd::run(&config, &args),
        Command::Dist(args) => dist::run(&args),
        Command::Load(args) => load::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shardis: {e}");
            ExitCode::from(2)
        }
    }
}
