//! Where a command's configuration comes from: `--config FILE|URL` (TOML, JSON or a
//! `redis://` URL), or `--envoy FILE [--listener NAME]` (an Envoy bootstrap whose
//! `redis_proxy` listener is imported).

use clap::Args;
use shardis::config::envoy;
use shardis::{Client, Config};

/// `--config` or `--envoy`, exactly one.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub(crate) struct Which {
    /// Config file (.toml/.json) or URL (redis://…)
    #[arg(long, value_name = "FILE|URL")]
    config: Option<String>,
    /// Envoy bootstrap YAML: use its redis_proxy listener's routes and clusters
    #[arg(long, value_name = "FILE")]
    envoy: Option<String>,
}

/// The configuration arguments shared by `route`, `cmd`, `dist` and `load`.
#[derive(Args, Debug, Clone)]
pub(crate) struct Source {
    #[command(flatten)]
    which: Which,
    /// With --envoy: the listener to import, when several have a redis_proxy filter
    #[arg(
        long,
        value_name = "NAME",
        requires = "envoy",
        conflicts_with = "config"
    )]
    listener: Option<String>,
}

/// Read an Envoy file and import it; the warnings are returned, not printed.
pub(crate) fn import_envoy(
    path: &str,
    listener: Option<&str>,
) -> Result<envoy::EnvoyImport, shardis::Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        shardis::Error::new(
            shardis::ErrorKind::Config,
            format!("cannot read Envoy config {path}: {e}"),
        )
    })?;
    envoy::import(&text, listener)
}

impl Source {
    /// The validated configuration.
    pub(crate) fn config(&self) -> Result<Config, shardis::Error> {
        match (&self.which.config, &self.which.envoy) {
            (Some(c), _) if c.contains("://") => Config::from_url(c),
            (Some(c), _) => Config::from_file(c),
            (None, Some(path)) => {
                let imported = import_envoy(path, self.listener.as_deref())?;
                if !imported.warnings.is_empty() {
                    eprintln!(
                        "shardis: {} Envoy setting(s) ignored or approximated; `shardis config from-envoy {path}` lists them",
                        imported.warnings.len()
                    );
                }
                imported.to_config()
            }
            // clap requires one of the two.
            (None, None) => Err(shardis::Error::new(
                shardis::ErrorKind::InvalidArgument,
                "give --config or --envoy",
            )),
        }
    }

    /// A client for the configuration.
    pub(crate) fn open(&self) -> Result<Client, shardis::Error> {
        Client::new(self.config()?)
    }
}
