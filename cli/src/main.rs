//! `shardis`: route keys, run commands, generate data and load through the shardis core,
//! with the same configuration files and URLs the bindings use.

mod cmd;
mod dist;
mod envoy;
mod load;
mod output;
mod route;
mod source;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use source::Source;

/// shardis — in-process Redis/Valkey router (CLI)
#[derive(Parser)]
#[command(name = "shardis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print `KEY<TAB>host:port<TAB>STORED_KEY` for each key: the node of its primary and
    /// the key as that server stores it (after a route's remove_prefix / key_formatter).
    /// Keys from stdin, one per line, when none are given.
    Route {
        #[command(flatten)]
        source: Source,
        /// Keys to route
        keys: Vec<String>,
    },
    /// Run one command and print the reply like redis-cli
    Cmd {
        #[command(flatten)]
        source: Source,
        /// Command and arguments
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Write N hashes `emp:0000000001…` (scenario S2) and print keys per node
    Dist(dist::DistArgs),
    /// Run a GET/SET load and print ops/s, latency percentiles and errors by kind
    Load(load::LoadArgs),
    /// Configuration tools
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the shardis TOML equivalent of an Envoy bootstrap's redis_proxy listener
    /// (ignored or approximated Envoy settings on stderr, as `warning: …`)
    FromEnvoy(envoy::FromEnvoyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Route { source, keys } => route::run(&source, keys),
        Command::Cmd { source, args } => cmd::run(&source, &args),
        Command::Dist(args) => dist::run(&args),
        Command::Load(args) => load::run(&args),
        Command::Config {
            command: ConfigCommand::FromEnvoy(args),
        } => envoy::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shardis: {e}");
            ExitCode::from(2)
        }
    }
}
