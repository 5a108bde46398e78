//! `shardis config from-envoy FILE`: the shardis TOML equivalent of an Envoy bootstrap's
//! `redis_proxy` listener on stdout; each ignored or approximated Envoy setting on stderr
//! as `warning: PATH (line N): …`.

use std::process::ExitCode;

use clap::Args;

/// Arguments of `shardis config from-envoy`.
#[derive(Args)]
pub(crate) struct FromEnvoyArgs {
    /// Envoy bootstrap YAML
    file: String,
    /// The listener to import, when several have a redis_proxy filter
    #[arg(long, value_name = "NAME")]
    listener: Option<String>,
    /// Print without validating (files the config names need not exist on this machine)
    #[arg(long)]
    no_check: bool,
}

pub(crate) fn run(args: &FromEnvoyArgs) -> Result<ExitCode, shardis::Error> {
    let imported = crate::source::import_envoy(&args.file, args.listener.as_deref())?;
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    if !args.no_check {
        imported.to_config()?;
    }
    let listener = args
        .listener
        .as_deref()
        .map(|l| format!(" --listener {l}"))
        .unwrap_or_default();
    println!("# shardis config from-envoy {}{listener}", args.file);
    print!("{}", imported.spec.to_toml()?);
    Ok(ExitCode::SUCCESS)
}
