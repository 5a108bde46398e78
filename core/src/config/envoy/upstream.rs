//! How a backend's connections are set up: upstream AUTH from the cluster's
//! `RedisProtocolOptions` (→ `[auth]`), and TLS from its `transport_socket`
//! (`UpstreamTlsContext` → `[tls]`). Files stay files (`password_file`, `ca_file`, …);
//! secrets that only Envoy can fetch (SDS, certificate providers, environment variables)
//! are errors, as is anything that would weaken verification silently.

use super::Ctx;
use super::tree::{Fields, Node};
use crate::config::spec::{AuthSpec, TlsSpec};
use crate::error::Result;

const PROTOCOL_OPTIONS_TYPE: &str =
    "envoy.extensions.filters.network.redis_proxy.v3.RedisProtocolOptions";
const UPSTREAM_TLS_TYPE: &str = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const RAW_BUFFER_TYPE: &str = "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";
const TLS_SOCKET: &str = "envoy.transport_sockets.tls";
const RAW_SOCKET: &str = "envoy.transport_sockets.raw_buffer";

/// `typed_extension_protocol_options`: the entry whose type is `RedisProtocolOptions`.
pub(super) fn protocol_options(node: &Node<'_>, ctx: &mut Ctx) -> Result<Option<AuthSpec>> {
    let mut auth = None;
    for (_, value) in node.entries()? {
        let (ty, mut f) = value.any(PROTOCOL_OPTIONS_TYPE)?;
        if ty != PROTOCOL_OPTIONS_TYPE {
            ctx.warn(&value, "ignored: protocol options of another filter");
            continue;
        }
        f.refuse(
            &["aws_iam"],
            "not supported: AWS IAM authentication (give auth_username / auth_password)",
        )?;
        if let Some(c) = f.take("credentials")
            && !c.items()?.is_empty()
        {
            return Err(c.error(
                "not supported: credentials per host (shardis sends one user and password to every node of a backend)",
            ));
        }
        let mut spec = AuthSpec::default();
        if let Some(p) = f.take("auth_password") {
            match data_source(&p, ctx)? {
                Source::Inline(s) => spec.password = Some(s),
                Source::File(path) => spec.password_file = Some(path),
            }
        }
        if let Some(u) = f.take("auth_username") {
            match data_source(&u, ctx)? {
                Source::Inline(s) => spec.username = Some(s),
                Source::File(_) => {
                    return Err(
                        u.error("not supported: a user name from a file (give inline_string)")
                    );
                }
            }
        }
        f.finish()?;
        if spec != AuthSpec::default() {
            auth = Some(spec);
        }
    }
    Ok(auth)
}

/// A `DataSource`'s text or file.
enum Source {
    Inline(String),
    File(String),
}

fn data_source(node: &Node<'_>, ctx: &mut Ctx) -> Result<Source> {
    let mut f = node.fields()?;
    f.refuse(
        &["environment_variable"],
        "not supported: a secret from Envoy's environment (put it in a file and give filename)",
    )?;
    f.refuse(
        &["inline_bytes"],
        "not supported: base64 inline_bytes (give inline_string or filename)",
    )?;
    f.ignore(
        ctx,
        &["watched_directory"],
        "ignored: shardis reads the file once, when the client is built",
    );
    let inline = f.take("inline_string");
    let file = f.take("filename");
    f.finish()?;
    match (inline, file) {
        (Some(s), None) => Ok(Source::Inline(s.str()?.to_owned())),
        (None, Some(p)) => Ok(Source::File(p.str()?.to_owned())),
        (Some(_), Some(p)) => Err(p.error("give one of inline_string and filename")),
        (None, None) => Err(node.error("empty: give inline_string or filename")),
    }
}

/// A file from a `DataSource` (TLS material is read from files).
fn file(node: &Node<'_>, ctx: &mut Ctx) -> Result<String> {
    match data_source(node, ctx)? {
        Source::File(p) => Ok(p),
        Source::Inline(_) => Err(node.error(
            "not supported: inline PEM (shardis reads certificates and keys from files: give filename)",
        )),
    }
}

/// `transport_socket` → `[tls]` (none for the raw buffer socket).
pub(super) fn transport_socket(node: &Node<'_>, ctx: &mut Ctx) -> Result<Option<TlsSpec>> {
    let mut f = node.fields()?;
    let name = f.take("name").map(|n| n.str()).transpose()?.unwrap_or("");
    let typed = f.take("typed_config");
    f.finish()?;
    let implied = match name {
        TLS_SOCKET => UPSTREAM_TLS_TYPE,
        RAW_SOCKET => RAW_BUFFER_TYPE,
        _ => "",
    };
    let Some(typed) = typed else {
        return match name {
            RAW_SOCKET => Ok(None),
            TLS_SOCKET => Err(node.error("TLS without typed_config (UpstreamTlsContext)")),
            _ => Err(node.error(format!("not supported: transport socket {name:?}"))),
        };
    };
    let (ty, mut c) = typed.any(implied)?;
    match ty.as_str() {
        RAW_BUFFER_TYPE => {
            c.finish()?;
            Ok(None)
        }
        UPSTREAM_TLS_TYPE => upstream_tls(&typed, &mut c, ctx).map(Some),
        other => Err(typed.error(format!(
            "not supported: transport socket {other} (shardis speaks plain TCP or TLS)"
        ))),
    }
}

const NO_CHAIN_CHECK: &str = "Envoy does not verify the servers' certificates without a validation_context; shardis verifies them against the platform's roots (insecure_skip_verify = true in this backend's [tls] accepts any certificate, as Envoy did)";

/// `UpstreamTlsContext`.
fn upstream_tls(node: &Node<'_>, f: &mut Fields<'_>, ctx: &mut Ctx) -> Result<TlsSpec> {
    let mut spec = TlsSpec::default();
    if let Some(sni) = f.take("sni") {
        spec.server_name = Some(sni.str()?.to_owned());
    }
    f.ignore(
        ctx,
        &["auto_host_sni", "auto_sni_san_validation"],
        "ignored: shardis sends each node's host name as SNI and checks the certificate names it (or tls.server_name)",
    );
    f.ignore(
        ctx,
        &[
            "allow_renegotiation",
            "max_session_keys",
            "enforce_rsa_key_usage",
        ],
        "ignored: TLS session details of the proxy",
    );
    let common = f.take("common_tls_context");
    let mut verified = false;
    if let Some(common) = common {
        verified = common_tls_context(&common, &mut spec, ctx)?;
    }
    if !verified {
        ctx.warn(node, NO_CHAIN_CHECK);
    }
    Ok(spec)
}

/// `CommonTlsContext`; true when it has a validation context.
fn common_tls_context(node: &Node<'_>, spec: &mut TlsSpec, ctx: &mut Ctx) -> Result<bool> {
    let mut f = node.fields()?;
    f.refuse(
        &[
            "tls_certificate_sds_secret_configs",
            "tls_certificate_provider_instance",
            "custom_tls_certificate_selector",
            "tls_certificate_certificate_provider",
            "tls_certificate_certificate_provider_instance",
            "validation_context_sds_secret_config",
            "combined_validation_context",
            "validation_context_certificate_provider",
            "validation_context_certificate_provider_instance",
            "custom_handshaker",
        ],
        "not supported: certificates from SDS or a provider (give tls_certificates and validation_context with filenames)",
    )?;
    f.ignore(
        ctx,
        &["tls_params", "alpn_protocols", "key_log"],
        "ignored: shardis uses rustls' defaults (TLS 1.2 and 1.3, its safe cipher suites)",
    );
    if let Some(certs) = f.take("tls_certificates") {
        let certs = certs.items()?;
        if certs.len() > 1 {
            return Err(certs[1].error("not supported: more than one client certificate"));
        }
        if let Some(cert) = certs.first() {
            let mut c = cert.fields()?;
            c.refuse(
                &["pkcs12", "private_key_provider", "password"],
                "not supported: give a PEM certificate_chain and an unencrypted PEM private_key",
            )?;
            c.ignore(
                ctx,
                &[
                    "watched_directory",
                    "ocsp_staple",
                    "signed_certificate_timestamp",
                    "tls_params",
                ],
                "ignored: no effect on the client's TLS handshake",
            );
            if let Some(chain) = c.take("certificate_chain") {
                spec.cert_file = Some(file(&chain, ctx)?);
            }
            if let Some(key) = c.take("private_key") {
                spec.key_file = Some(file(&key, ctx)?);
            }
            c.finish()?;
        }
    }
    let validation = f.take("validation_context");
    f.finish()?;
    let Some(v) = validation else {
        return Ok(false);
    };
    validation_context(&v, spec, ctx)?;
    Ok(true)
}

/// `CertificateValidationContext`.
fn validation_context(node: &Node<'_>, spec: &mut TlsSpec, ctx: &mut Ctx) -> Result<()> {
    let mut f = node.fields()?;
    f.refuse(
        &[
            "ca_certificate_provider_instance",
            "verify_certificate_spki",
            "verify_certificate_hash",
            "crl",
            "allow_expired_certificate",
            "custom_validator_config",
        ],
        "not supported: shardis verifies certificates against CA files or the platform's roots only",
    )?;
    f.ignore(
        ctx,
        &[
            "watched_directory",
            "require_signed_certificate_timestamp",
            "only_verify_leaf_cert_crl",
            "max_verify_depth",
            "suppress_client_ca_list",
        ],
        "ignored: no effect on which servers are trusted",
    );
    if f.peek("match_typed_subject_alt_names").is_none()
        && f.peek("match_subject_alt_names").is_none()
    {
        ctx.warn(
            node,
            "Envoy checks only the certificate chain here; shardis also checks that each certificate names its node (or tls.server_name, from sni)",
        );
    }
    f.ignore(
        ctx,
        &["match_typed_subject_alt_names", "match_subject_alt_names"],
        "ignored: shardis checks that each certificate names its node (or tls.server_name, from sni)",
    );
    f.take("system_root_certs"); // The platform's roots: shardis' default.
    if let Some(ca) = f.take("trusted_ca") {
        spec.ca_file = Some(file(&ca, ctx)?);
    }
    if let Some(t) = f.take("trust_chain_verification")
        && t.enum_value(&["VERIFY_TRUST_CHAIN", "ACCEPT_UNTRUSTED"])? == "ACCEPT_UNTRUSTED"
    {
        ctx.warn(
            &t,
            "any certificate is accepted: imported as insecure_skip_verify = true",
        );
        spec.insecure_skip_verify = Some(true);
    }
    f.finish()
}
