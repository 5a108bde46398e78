//! `prefix_routes` → `[[routes]]` and `[catch_all]`: prefixes, `remove_prefix`,
//! `key_formatter`, `read_command_policy` (→ `read_backend`) and `request_mirror_policy`
//! (→ `mirror`, with `runtime_fraction` as a percentage), plus `case_insensitive`.
//!
//! Two Envoy corners are translated: a route with an empty prefix matches every key, so it
//! is the catch-all (and Envoy's `catch_all_route` is then unreachable); a catch-all
//! route's `prefix` matches nothing, and with `remove_prefix` it would cut that many
//! bytes off every key, which shardis refuses.

use super::Ctx;
use super::tree::Node;
use crate::config::routes_spec::{MirrorSpec, Percent, RouteSpec};
use crate::error::Result;

/// The converted `prefix_routes`.
pub(super) struct Routes<'a> {
    pub(super) routes: Vec<RouteSpec>,
    pub(super) catch_all: Option<RouteSpec>,
    pub(super) case_insensitive: bool,
    /// Every cluster named, in order of first mention, with that mention.
    pub(super) clusters: Vec<(String, Node<'a>)>,
}

/// `FractionalPercent.denominator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Denominator {
    /// `HUNDRED` (the default).
    Hundred,
    /// `TEN_THOUSAND`.
    TenThousand,
    /// `MILLION`.
    Million,
}

impl Denominator {
    /// Parts in the whole (100, 10 000 or 1 000 000).
    pub(super) fn parts(self) -> u64 {
        match self {
            Denominator::Hundred => 100,
            Denominator::TenThousand => 10_000,
            Denominator::Million => 1_000_000,
        }
    }
}

/// A `RuntimeFractionalPercent`: its `default_value` as (numerator, denominator). The
/// runtime key cannot be read in-process: a warning says the default is used.
pub(super) fn fraction(node: &Node<'_>, ctx: &mut Ctx) -> Result<(u32, Denominator)> {
    let mut f = node.fields()?;
    let value = f
        .take("default_value")
        .ok_or_else(|| node.error("missing default_value (required by Envoy)"))?;
    if let Some(key) = f.take("runtime_key") {
        ctx.warn(
            &key,
            format!(
                "ignored: runtime key {:?} (no Envoy runtime in-process): default_value is used",
                key.str()?
            ),
        );
    }
    f.finish()?;
    let mut v = value.fields()?;
    let numerator = v
        .take("numerator")
        .map(|n| n.u32())
        .transpose()?
        .unwrap_or(0);
    let denominator = match v.take("denominator") {
        None => Denominator::Hundred,
        Some(d) => match d.enum_value(&["HUNDRED", "TEN_THOUSAND", "MILLION"])? {
            "TEN_THOUSAND" => Denominator::TenThousand,
            "MILLION" => Denominator::Million,
            _ => Denominator::Hundred,
        },
    };
    v.finish()?;
    Ok((numerator, denominator))
}

/// Convert `prefix_routes`.
pub(super) fn convert<'a>(node: &Node<'a>, ctx: &mut Ctx) -> Result<Routes<'a>> {
    let mut f = node.fields()?;
    let case_insensitive = f
        .take("case_insensitive")
        .map(|n| n.bool())
        .transpose()?
        .unwrap_or(false);
    let routes = f.take("routes").map(|r| r.items()).transpose()?;
    let catch_all = f.take("catch_all_route");
    f.finish()?;

    let mut out = Routes {
        routes: Vec::new(),
        catch_all: None,
        case_insensitive,
        clusters: Vec::new(),
    };
    let mut everything: Option<Node<'a>> = None;
    for r in routes.unwrap_or_default() {
        let prefix = r.fields()?.peek("prefix").map(|p| p.str()).transpose()?;
        if prefix.unwrap_or("").is_empty() {
            // Matches every key: Envoy's longest-prefix match ends here for any key no
            // other prefix takes, which is what shardis' catch-all is.
            if let Some(first) = &everything {
                return Err(r.error(format!(
                    "the empty prefix is also the prefix of {}",
                    first.path()
                )));
            }
            ctx.warn(
                &r,
                "the route with an empty prefix matches every key: imported as the catch-all route",
            );
            out.catch_all = Some(route(&r, "catch_all", true, ctx, &mut out.clusters)?);
            everything = Some(r);
        } else {
            let key = format!("routes[{}]", out.routes.len());
            out.routes
                .push(route(&r, &key, false, ctx, &mut out.clusters)?);
        }
    }
    if let Some(c) = catch_all {
        match &everything {
            Some(e) => ctx.warn(
                &c,
                format!(
                    "ignored: unreachable, the empty prefix of {} matches every key first",
                    e.path()
                ),
            ),
            None => out.catch_all = Some(route(&c, "catch_all", true, ctx, &mut out.clusters)?),
        }
    }
    if out.routes.is_empty() && out.catch_all.is_none() {
        return Err(node.error("no routes and no catch_all_route: no key goes anywhere"));
    }
    Ok(out)
}

/// Note `name` as used by `at`.
fn use_cluster<'a>(clusters: &mut Vec<(String, Node<'a>)>, name: &str, at: &Node<'a>) {
    if !clusters.iter().any(|(n, _)| n == name) {
        clusters.push((name.to_owned(), at.clone()));
    }
}

/// A cluster name field (`cluster`, non-empty).
fn cluster_name<'a>(
    f: &mut super::tree::Fields<'a>,
    owner: &Node<'a>,
) -> Result<(String, Node<'a>)> {
    let node = f
        .take("cluster")
        .ok_or_else(|| owner.error("missing cluster (required by Envoy)"))?;
    let name = node.str()?;
    if name.is_empty() {
        return Err(node.error("empty cluster name"));
    }
    Ok((name.to_owned(), node))
}

/// One `Route` as shardis key `key` (`routes[k]` or `catch_all`).
fn route<'a>(
    node: &Node<'a>,
    key: &str,
    catch_all: bool,
    ctx: &mut Ctx,
    clusters: &mut Vec<(String, Node<'a>)>,
) -> Result<RouteSpec> {
    ctx.origin(key, node);
    let mut f = node.fields()?;
    let prefix_node = f.take("prefix");
    let prefix = prefix_node
        .as_ref()
        .map(|p| p.str())
        .transpose()?
        .unwrap_or("");
    let remove_prefix_node = f.take("remove_prefix");
    let remove_prefix = remove_prefix_node
        .as_ref()
        .map(|n| n.bool())
        .transpose()?
        .unwrap_or(false);

    let (backend, at) = cluster_name(&mut f, node)?;
    ctx.origin(format!("{key}.backend"), &at);
    use_cluster(clusters, &backend, &at);

    let key_formatter = match f.take("key_formatter") {
        Some(k) if !k.str()?.is_empty() => {
            ctx.origin(format!("{key}.key_formatter"), &k);
            Some(k.str()?.to_owned())
        }
        _ => None,
    };

    let read_backend = match f.take("read_command_policy") {
        None => None,
        Some(p) => {
            let mut pf = p.fields()?;
            let (name, at) = cluster_name(&mut pf, &p)?;
            pf.finish()?;
            ctx.origin(format!("{key}.read_backend"), &at);
            use_cluster(clusters, &name, &at);
            Some(name)
        }
    };

    let mut mirror = Vec::new();
    if let Some(list) = f.take("request_mirror_policy") {
        for m in list.items()? {
            let mkey = format!("{key}.mirror[{}]", mirror.len());
            ctx.origin(&mkey, &m);
            mirror.push(mirror_policy(&m, &mkey, ctx, clusters)?);
        }
    }
    f.finish()?;

    let prefix = if catch_all {
        if let Some(p) = prefix_node.as_ref().filter(|_| !prefix.is_empty()) {
            if remove_prefix {
                return Err(p.error(
                    "not supported: on the catch-all route, remove_prefix cuts this prefix's length off every key (its prefix matches nothing); shardis' catch-all has no prefix",
                ));
            }
            ctx.warn(p, "ignored: the catch-all route's prefix matches nothing");
        }
        None
    } else {
        if let Some(p) = &prefix_node {
            ctx.origin(format!("{key}.prefix"), p);
        }
        Some(prefix.to_owned())
    };
    // An empty prefix has nothing to remove.
    let remove_prefix = (remove_prefix && prefix.is_some()).then_some(true);
    if let (Some(n), None) = (&remove_prefix_node, remove_prefix)
        && n.bool()?
    {
        ctx.warn(
            n,
            "ignored: the prefix is empty, there is nothing to remove",
        );
    }
    Ok(RouteSpec {
        prefix,
        remove_prefix,
        backend: Some(backend),
        key_formatter,
        read_backend,
        mirror,
    })
}

/// One `RequestMirrorPolicy`.
fn mirror_policy<'a>(
    node: &Node<'a>,
    key: &str,
    ctx: &mut Ctx,
    clusters: &mut Vec<(String, Node<'a>)>,
) -> Result<MirrorSpec> {
    let mut f = node.fields()?;
    let (backend, at) = cluster_name(&mut f, node)?;
    ctx.origin(format!("{key}.backend"), &at);
    use_cluster(clusters, &backend, &at);
    let fraction = match f.take("runtime_fraction") {
        None => None,
        Some(r) => {
            let (numerator, denominator) = fraction(&r, ctx)?;
            let ppm = u64::from(numerator) * (1_000_000 / denominator.parts());
            if ppm > 1_000_000 {
                ctx.warn(&r, "more than 100%: imported as 100%");
            }
            if ppm < 1_000_000 {
                ctx.warn(
                    &r,
                    "shardis mirrors this share of keys chosen by key hash (a key is always or never mirrored); Envoy draws per request",
                );
            }
            Some(Percent(ppm.min(1_000_000) as u32))
        }
    };
    let exclude_read_commands = f
        .take("exclude_read_commands")
        .map(|n| n.bool())
        .transpose()?
        .filter(|e| *e);
    f.finish()?;
    Ok(MirrorSpec {
        backend,
        fraction,
        exclude_read_commands,
    })
}
