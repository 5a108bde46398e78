//! A throw-away PKI for TLS tests, made with the `openssl` CLI (`$SHARDIS_OPENSSL` or
//! `openssl`), and the `redis` crate clients that use it.
//!
//! Every key is EC P-256 in PKCS#8 PEM. The files, in [`TlsFiles::dir`]:
//!
//! | file | what |
//! |---|---|
//! | `ca.pem`, `ca.key` | the test CA |
//! | `server.pem`, `server.key` | server certificate from the test CA: SANs `IP:127.0.0.1`, `DNS:localhost`, valid for 10 years from now |
//! | `client.pem`, `client.key` | client certificate from the test CA (`extendedKeyUsage = clientAuth`), for mutual TLS |
//! | `other-ca.pem`, `other-ca.key` | a second, unrelated CA |
//! | `other-server.pem`, `other-server.key` | server certificate from the other CA, same SANs ("unknown CA") |
//! | `client-other.pem`, `client-other.key` | client certificate from the other CA (a server must refuse it) |
//! | `expired.pem`, `expired.key` | server certificate from the test CA, same SANs, valid 2020-01-01 to 2021-01-01 |
//! | `wrong-name.pem`, `wrong-name.key` | server certificate from the test CA with only `DNS:wrong.example` ("name mismatch") |
//! | `mismatched.key` | a valid key that belongs to no certificate (it does not match `client.pem`) |
//!
//! `openssl x509 -req` (3.0) cannot backdate a certificate, so `expired.pem` is signed with
//! `openssl ca -startdate … -enddate …` and a minimal CA database; every other certificate
//! comes from one `openssl req -x509 [-CA …]` call, and the calls run in parallel (two rounds:
//! CAs, then leaves), about 0.1 s in all.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::process::TempDir;

/// A generated PKI (see the module documentation for the files). Built by
/// [`TlsFiles::generate`] the directory is temporary and removed on drop.
#[derive(Debug)]
pub struct TlsFiles {
    dir: PathBuf,
    _temp: Option<TempDir>,
}

/// The `openssl` configuration: extension sections for each kind of certificate and the
/// minimal CA database `openssl ca` needs for the backdated one.
const OPENSSL_CNF: &str = "\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ wrong_name_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
commonName = supplied
";

/// Days the valid certificates last.
const VALID_DAYS: &str = "3650";

fn openssl_binary() -> String {
    std::env::var("SHARDIS_OPENSSL").unwrap_or_else(|_| "openssl".to_string())
}

/// `openssl <args>` with `cwd` as working directory and `OPENSSL_CONF` pointing at
/// [`OPENSSL_CNF`] (stdout and stderr kept for the failure message).
fn openssl(cwd: &Path, cnf: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(openssl_binary());
    cmd.args(args)
        .current_dir(cwd)
        .env("OPENSSL_CONF", cnf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Run `cmds` at the same time; panic with the output of the first that fails.
fn run_all(cmds: Vec<Command>) {
    let children: Vec<_> = cmds
        .into_iter()
        .map(|mut c| {
            let what = format!("{c:?}");
            let child = c
                .spawn()
                .unwrap_or_else(|e| panic!("{what}: {e} (is the openssl CLI installed?)"));
            (what, child)
        })
        .collect();
    for (what, child) in children {
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what}: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `openssl req -x509` making a new P-256 key `<name>.key` and certificate `<name>.pem`,
/// self-signed (`issuer` None) or signed by the CA `issuer` (`<issuer>.pem`/`.key`).
fn req_x509(
    dir: &Path,
    cnf: &Path,
    name: &str,
    subject: &str,
    ext: &str,
    issuer: Option<&str>,
) -> Command {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    let (ca_pem, ca_key) = issuer
        .map(|ca| (format!("{ca}.pem"), format!("{ca}.key")))
        .unwrap_or_default();
    let mut args = vec![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-noenc",
        "-keyout",
        &key,
        "-out",
        &pem,
        "-subj",
        subject,
        "-days",
        VALID_DAYS,
        "-extensions",
        ext,
    ];
    if issuer.is_some() {
        args.extend(["-CA", &ca_pem, "-CAkey", &ca_key]);
    }
    openssl(dir, cnf, &args)
}

impl TlsFiles {
    /// Generate a fresh PKI in a temporary directory removed when the value is dropped.
    pub fn generate() -> TlsFiles {
        let temp = TempDir::new("tls");
        let mut files = TlsFiles::generate_in(temp.path());
        files._temp = Some(temp);
        files
    }

    /// Generate a fresh PKI into `dir` (created if missing; existing files of the same names
    /// are replaced). The directory is left in place.
    pub fn generate_in(dir: &Path) -> TlsFiles {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let dir = dir
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        // Config, CSR and CA database live in a scratch directory removed at the end, so the
        // PKI directory holds exactly the files listed above.
        let scratch = dir.join(".scratch");
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch)
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", scratch.display()));
        let cnf = scratch.join("openssl.cnf");
        let write = |path: PathBuf, text: &str| {
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        };
        write(cnf.clone(), OPENSSL_CNF);
        write(scratch.join("index.txt"), "");
        write(scratch.join("serial"), "1000\n");
        let d = dir.as_path();
        // Round 1: the two CAs, the expired certificate's request, the stray key.
        run_all(vec![
            req_x509(d, &cnf, "ca", "/CN=shardis test CA", "ca_ext", None),
            req_x509(d, &cnf, "other-ca", "/CN=shardis other CA", "ca_ext", None),
            openssl(
                d,
                &cnf,
                &[
                    "req",
                    "-new",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-noenc",
                    "-keyout",
                    "expired.key",
                    "-out",
                    ".scratch/expired.csr",
                    "-subj",
                    "/CN=localhost",
                ],
            ),
            openssl(
                d,
                &cnf,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    "mismatched.key",
                ],
            ),
        ]);
        // Round 2: every leaf certificate.
        let ca = Some("ca");
        let other = Some("other-ca");
        let cnf_arg = cnf.to_string_lossy().into_owned();
        run_all(vec![
            req_x509(d, &cnf, "server", "/CN=localhost", "server_ext", ca),
            req_x509(
                d,
                &cnf,
                "client",
                "/CN=shardis test client",
                "client_ext",
                ca,
            ),
            req_x509(
                d,
                &cnf,
                "wrong-name",
                "/CN=wrong.example",
                "wrong_name_ext",
                ca,
            ),
            req_x509(
                d,
                &cnf,
                "other-server",
                "/CN=localhost",
                "server_ext",
                other,
            ),
            req_x509(
                d,
                &cnf,
                "client-other",
                "/CN=shardis other client",
                "client_ext",
                other,
            ),
            // `openssl ca` resolves the database paths against its working directory.
            openssl(
                &scratch,
                &cnf,
                &[
                    "ca",
                    "-config",
                    &cnf_arg,
                    "-batch",
                    "-notext",
                    "-cert",
                    "../ca.pem",
                    "-keyfile",
                    "../ca.key",
                    "-in",
                    "expired.csr",
                    "-out",
                    "../expired.pem",
                    "-startdate",
                    "20200101000000Z",
                    "-enddate",
                    "20210101000000Z",
                    "-extensions",
                    "server_ext",
                ],
            ),
        ]);
        let _ = std::fs::remove_dir_all(&scratch);
        TlsFiles { dir, _temp: None }
    }

    /// Use a PKI generated earlier into `dir` (by [`TlsFiles::generate_in`], e.g. through
    /// `shardis-fixture pki`). Panics when `dir` lacks one of the files.
    pub fn open(dir: &Path) -> TlsFiles {
        let dir = dir
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let files = TlsFiles { dir, _temp: None };
        for f in files.all() {
            assert!(f.is_file(), "{} missing", f.display());
        }
        files
    }

    /// One PKI shared by everyone who holds it: generated on the first call, reused while
    /// any [`Arc`] of it lives, removed (and generated again on the next call) after the
    /// last one is dropped.
    pub fn shared() -> Arc<TlsFiles> {
        static SHARED: Mutex<Weak<TlsFiles>> = Mutex::new(Weak::new());
        let mut guard = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(files) = guard.upgrade() {
            return files;
        }
        let files = Arc::new(TlsFiles::generate());
        *guard = Arc::downgrade(&files);
        files
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `dir/name`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Every file of the PKI.
    pub fn all(&self) -> Vec<PathBuf> {
        [
            "ca.pem",
            "ca.key",
            "server.pem",
            "server.key",
            "client.pem",
            "client.key",
            "other-ca.pem",
            "other-ca.key",
            "other-server.pem",
            "other-server.key",
            "client-other.pem",
            "client-other.key",
            "expired.pem",
            "expired.key",
            "wrong-name.pem",
            "wrong-name.key",
            "mismatched.key",
        ]
        .iter()
        .map(|f| self.file(f))
        .collect()
    }

    /// `ca.pem`: the test CA.
    pub fn ca(&self) -> PathBuf {
        self.file("ca.pem")
    }

    /// `ca.key`.
    pub fn ca_key(&self) -> PathBuf {
        self.file("ca.key")
    }

    /// `server.pem`: from the test CA, SANs `IP:127.0.0.1` and `DNS:localhost`.
    pub fn server_cert(&self) -> PathBuf {
        self.file("server.pem")
    }

    /// `server.key`.
    pub fn server_key(&self) -> PathBuf {
        self.file("server.key")
    }

    /// `client.pem`: client certificate from the test CA.
    pub fn client_cert(&self) -> PathBuf {
        self.file("client.pem")
    }

    /// `client.key`.
    pub fn client_key(&self) -> PathBuf {
        self.file("client.key")
    }

    /// `other-ca.pem`: a CA unrelated to the test CA.
    pub fn other_ca(&self) -> PathBuf {
        self.file("other-ca.pem")
    }

    /// `other-server.pem`: from the other CA, same SANs as `server.pem`.
    pub fn other_server_cert(&self) -> PathBuf {
        self.file("other-server.pem")
    }

    /// `other-server.key`.
    pub fn other_server_key(&self) -> PathBuf {
        self.file("other-server.key")
    }

    /// `client-other.pem`: client certificate from the other CA.
    pub fn client_other_cert(&self) -> PathBuf {
        self.file("client-other.pem")
    }

    /// `client-other.key`.
    pub fn client_other_key(&self) -> PathBuf {
        self.file("client-other.key")
    }

    /// `expired.pem`: from the test CA, same SANs, valid only during 2020.
    pub fn expired_cert(&self) -> PathBuf {
        self.file("expired.pem")
    }

    /// `expired.key`.
    pub fn expired_key(&self) -> PathBuf {
        self.file("expired.key")
    }

    /// `wrong-name.pem`: from the test CA, SAN only `DNS:wrong.example`.
    pub fn wrong_name_cert(&self) -> PathBuf {
        self.file("wrong-name.pem")
    }

    /// `wrong-name.key`.
    pub fn wrong_name_key(&self) -> PathBuf {
        self.file("wrong-name.key")
    }

    /// `mismatched.key`: a valid key matching no certificate (not `client.pem`).
    pub fn mismatched_key(&self) -> PathBuf {
        self.file("mismatched.key")
    }
}

/// How a `redis` crate connection to a TLS port on 127.0.0.1 authenticates the server and
/// itself.
#[derive(Debug, Clone)]
pub struct TlsClient {
    /// PEM file of the roots to trust.
    pub ca: PathBuf,
    /// Certificate and key to present (mutual TLS).
    pub identity: Option<(PathBuf, PathBuf)>,
    /// Accept any server certificate: only for the harness's own admin connections to
    /// servers that present a deliberately bad one (expired, wrong name).
    pub insecure: bool,
}

impl TlsClient {
    /// Trust the roots in `ca`, present no certificate.
    pub fn trusting(ca: &Path) -> TlsClient {
        TlsClient {
            ca: ca.to_path_buf(),
            identity: None,
            insecure: false,
        }
    }

    /// Also present `cert` with `key`.
    pub fn with_identity(mut self, cert: &Path, key: &Path) -> TlsClient {
        self.identity = Some((cert.to_path_buf(), key.to_path_buf()));
        self
    }

    /// A client for `127.0.0.1:port` with `settings` (password, db…). Errors when a PEM file
    /// cannot be read or parsed.
    pub fn client(
        &self,
        port: u16,
        settings: redis::RedisConnectionInfo,
    ) -> redis::RedisResult<redis::Client> {
        use redis::IntoConnectionInfo;
        install_crypto_provider();
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| {
                redis::RedisError::from(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", p.display()),
                ))
            })
        };
        let client_tls = match &self.identity {
            Some((cert, key)) => Some(redis::ClientTlsConfig {
                client_cert: read(cert)?,
                client_key: read(key)?,
            }),
            None => None,
        };
        let info = redis::ConnectionAddr::TcpTls {
            host: "127.0.0.1".to_string(),
            port,
            insecure: self.insecure,
            tls_params: None,
        }
        .into_connection_info()?
        .set_redis_settings(settings);
        redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls,
                root_cert: Some(read(&self.ca)?),
            },
        )
    }

    /// A connection to `127.0.0.1:port` (no password, no CLIENT SETINFO), the handshake
    /// bounded by `timeout`.
    pub fn connect(&self, port: u16, timeout: Duration) -> redis::RedisResult<redis::Connection> {
        let settings = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
        self.client(port, settings)?
            .get_connection_with_timeout(timeout)
    }
}

/// rustls needs a process-wide crypto provider; this crate compiles in `ring` only.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err: another part of the process installed one first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
