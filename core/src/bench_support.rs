//! Hooks for the benchmark programs (`bench/`): internals measured on their own. Not a
//! stable API; hidden from the docs.

use crate::config::Config;
use crate::router::prefix::{PrefixTable, RouteId};

/// The prefix-route matcher of a config with routes.
pub struct PrefixLookup(PrefixTable);

impl PrefixLookup {
    /// The matcher of `config`'s routes (None without routing).
    pub fn new(config: &Config) -> Option<PrefixLookup> {
        config.routing().map(|r| PrefixLookup(PrefixTable::new(r)))
    }

    /// The route of `key`: its index in `routes`, `usize::MAX - 1` for the catch-all,
    /// `usize::MAX` for none.
    #[inline]
    pub fn lookup(&self, key: &[u8]) -> usize {
        match self.0.lookup(key) {
            RouteId::Prefix(i) => i as usize,
            RouteId::CatchAll => usize::MAX - 1,
            RouteId::None => usize::MAX,
        }
    }
}
