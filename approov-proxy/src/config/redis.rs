//! The Redis the per-device limit is shared through: `REDIS_URL` (or
//! `redis_url` in the routes file) for one Redis, `REDIS_CLUSTER_URLS`
//! (`redis_cluster_urls`) for a Redis Cluster, `REDIS_TLS_CA_FILE`
//! (`redis_tls_ca_file`) for `rediss://` with a private CA,
//! `REDIS_TLS_CERT_FILE` and `REDIS_TLS_KEY_FILE` (`redis_tls_cert_file`,
//! `redis_tls_key_file`) for a client certificate, `REDIS_TIMEOUT_MS` and
//! `REDIS_UNAVAILABLE`.

use std::io::Read;
use std::time::Duration;

use redis::cluster::ClusterClientBuilder;
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::error::ProxyConfigError;
use crate::limit::shared::{ClientCert, RedisConfig, RedisTarget, RedisTls, WhenUnavailable};

/// How long one decision may wait for Redis when `REDIS_TIMEOUT_MS` is
/// unset: a request pays at most this much when Redis stops answering.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
/// The longest `REDIS_TIMEOUT_MS` accepted.
const MAX_TIMEOUT_MS: u64 = 10_000;
/// The most seed nodes in `REDIS_CLUSTER_URLS`: a cluster needs a few,
/// the client learns the rest from them.
const MAX_SEEDS: usize = 64;
/// The largest PEM file read (`REDIS_TLS_CA_FILE`, `REDIS_TLS_CERT_FILE`,
/// `REDIS_TLS_KEY_FILE`): a CA bundle is tens of KiB.
const MAX_PEM_FILE: u64 = 1024 * 1024;
/// Retries of one cluster command (after `MOVED`, `ASK`, a lost node):
/// enough to follow a resharding, and all inside the decision's timeout.
const CLUSTER_RETRIES: u32 = 2;
/// The cluster client's wait before a retry, in milliseconds.
const CLUSTER_RETRY_WAIT_MS: u64 = 10;

/// The Redis settings of the routes file, with empty values left out.
#[derive(Debug, Default)]
pub(crate) struct FileRedis {
    pub(crate) url: Option<String>,
    pub(crate) cluster_urls: Option<String>,
    pub(crate) tls_ca_file: Option<String>,
    pub(crate) tls_cert_file: Option<String>,
    pub(crate) tls_key_file: Option<String>,
}

/// How to fix two settings naming the Redis.
const ONE_PLACE: &str = "name the Redis in one place: keep one of them";

impl RedisConfig {
    /// Reads `REDIS_URL`, `REDIS_CLUSTER_URLS`, `REDIS_TLS_CA_FILE`,
    /// `REDIS_TLS_CERT_FILE`, `REDIS_TLS_KEY_FILE`, `REDIS_TIMEOUT_MS` and
    /// `REDIS_UNAVAILABLE`; `file` is the routes file's settings with the
    /// file's path. Two settings naming the Redis (or one of the files) are
    /// a conflict; the others without a URL are refused as a likely
    /// mistake.
    pub(crate) fn from_vars(
        var: &impl Fn(&str) -> Option<String>,
        file: Option<(FileRedis, &str)>,
    ) -> Result<Option<Self>, ProxyConfigError> {
        let (file, path) = file.unwrap_or_default();
        let in_file = |name: &str| format!("{name} in {path}");
        let mut named = Vec::new();
        if let Some(url) = var("REDIS_URL") {
            named.push((url, "REDIS_URL".to_owned(), false));
        }
        if let Some(urls) = var("REDIS_CLUSTER_URLS") {
            named.push((urls, "REDIS_CLUSTER_URLS".to_owned(), true));
        }
        if let Some(url) = file.url {
            named.push((url, in_file("redis_url"), false));
        }
        if let Some(urls) = file.cluster_urls {
            named.push((urls, in_file("redis_cluster_urls"), true));
        }
        // A file's path and the setting that named it.
        let one_place =
            |variable: &str, key: &str, in_routes: Option<String>| match (var(variable), in_routes)
            {
                (Some(_), Some(_)) => Err(ProxyConfigError::conflict(
                    variable,
                    in_file(key),
                    "name the file in one place: keep one of them",
                )),
                (Some(path), None) => Ok(Some((path, variable.to_owned()))),
                (None, Some(path)) => Ok(Some((path, in_file(key)))),
                (None, None) => Ok(None),
            };
        let ca_file = one_place("REDIS_TLS_CA_FILE", "redis_tls_ca_file", file.tls_ca_file)?;
        let cert_file = one_place(
            "REDIS_TLS_CERT_FILE",
            "redis_tls_cert_file",
            file.tls_cert_file,
        )?;
        let key_file = one_place(
            "REDIS_TLS_KEY_FILE",
            "redis_tls_key_file",
            file.tls_key_file,
        )?;
        let tls_files = [&ca_file, &cert_file, &key_file];
        let (value, setting, cluster) = match named.len() {
            0 => {
                let others = [
                    ("REDIS_TIMEOUT_MS", var("REDIS_TIMEOUT_MS").is_some()),
                    ("REDIS_UNAVAILABLE", var("REDIS_UNAVAILABLE").is_some()),
                ];
                let files = tls_files
                    .into_iter()
                    .flatten()
                    .map(|(_, name)| (name.as_str(), true));
                if let Some((name, _)) = others.into_iter().chain(files).find(|(_, set)| *set) {
                    return Err(ProxyConfigError::invalid(
                        name,
                        "it applies only to a shared rate limit: set REDIS_URL or \
                         REDIS_CLUSTER_URLS (or redis_url / redis_cluster_urls in the routes \
                         file), or unset it",
                    ));
                }
                return Ok(None);
            }
            1 => named.remove(0),
            _ => {
                return Err(ProxyConfigError::conflict(
                    named[0].1.clone(),
                    named[1].1.clone(),
                    ONE_PLACE,
                ));
            }
        };
        let timeout = match var("REDIS_TIMEOUT_MS") {
            None => DEFAULT_TIMEOUT,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms @ 1..=MAX_TIMEOUT_MS) => Duration::from_millis(ms),
                _ => {
                    return Err(ProxyConfigError::invalid(
                        "REDIS_TIMEOUT_MS",
                        format!(
                            "it must be a whole number of milliseconds from 1 to \
                             {MAX_TIMEOUT_MS}, e.g. 100"
                        ),
                    ));
                }
            },
        };
        let (target, tls_urls) = if cluster {
            cluster_target(&value, &setting, timeout)?
        } else {
            let info = url_info(value.trim(), &setting)?;
            let tls = matches!(info.addr(), ConnectionAddr::TcpTls { .. });
            (RedisTarget::Single(info), tls)
        };
        if !tls_urls && let Some((_, name)) = tls_files.into_iter().flatten().next() {
            return Err(ProxyConfigError::invalid(
                name,
                format!("it applies only to Redis over TLS: make {setting} rediss://, or unset it"),
            ));
        }
        let client = match (cert_file, key_file) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some((cert, key)),
            (Some((_, name)), None) => {
                return Err(ProxyConfigError::invalid(
                    name,
                    "a client certificate needs its private key too: set REDIS_TLS_KEY_FILE \
                     (or redis_tls_key_file in the routes file)",
                ));
            }
            (None, Some((_, name))) => {
                return Err(ProxyConfigError::invalid(
                    name,
                    "a private key needs its client certificate too: set REDIS_TLS_CERT_FILE \
                     (or redis_tls_cert_file in the routes file)",
                ));
            }
        };
        let tls = if tls_urls {
            Some(tls(ca_file, client, &setting)?)
        } else {
            None
        };
        let when_unavailable = match var("REDIS_UNAVAILABLE") {
            None => WhenUnavailable::Local,
            Some(v) if v.trim().eq_ignore_ascii_case("local") => WhenUnavailable::Local,
            Some(v) if v.trim().eq_ignore_ascii_case("refuse") => WhenUnavailable::Refuse,
            Some(_) => {
                return Err(ProxyConfigError::invalid(
                    "REDIS_UNAVAILABLE",
                    "it must be local (each proxy limits on its own while Redis is \
                     unavailable) or refuse (answer 503)",
                ));
            }
        };
        Ok(Some(Self {
            target,
            tls,
            timeout,
            when_unavailable,
        }))
    }
}

/// One Redis URL. Errors never hold the value: it may hold a password.
/// `rediss://` is read here, not by the `redis` crate (whose TLS features
/// this build leaves out: the proxy makes the TLS connection itself).
fn url_info(url: &str, setting: &str) -> Result<ConnectionInfo, ProxyConfigError> {
    let unusable = || {
        ProxyConfigError::invalid(
            setting,
            "it must be a URL like redis://[user:password@]host[:port][/db], \
             rediss://… for TLS, or unix:///path/to/redis.sock",
        )
    };
    let tls = url
        .split_once("://")
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("rediss"));
    if !tls {
        return url.into_connection_info().map_err(|_| unusable());
    }
    if url.contains('#') {
        return Err(ProxyConfigError::invalid(
            setting,
            "a rediss:// URL takes no #fragment: #insecure would turn off the check of \
             Redis's certificate, letting anyone on the path read and change the shared \
             limit; trust a private CA with REDIS_TLS_CA_FILE instead",
        ));
    }
    let plain = format!("redis{}", &url["rediss".len()..]);
    let info = plain
        .as_str()
        .into_connection_info()
        .map_err(|_| unusable())?;
    let ConnectionAddr::Tcp(host, port) = info.addr().clone() else {
        return Err(unusable());
    };
    Ok(info.set_addr(ConnectionAddr::TcpTls {
        host,
        port,
        insecure: false,
        tls_params: None,
    }))
}

/// `REDIS_CLUSTER_URLS`: the seed nodes, all `redis://` or all `rediss://`.
fn cluster_target(
    urls: &str,
    setting: &str,
    timeout: Duration,
) -> Result<(RedisTarget, bool), ProxyConfigError> {
    let urls: Vec<&str> = urls.split(',').map(str::trim).collect();
    if urls.len() > MAX_SEEDS {
        return Err(ProxyConfigError::invalid(
            setting,
            format!("it names more than {MAX_SEEDS} seed nodes: a few are enough"),
        ));
    }
    let mut infos = Vec::with_capacity(urls.len());
    for url in urls {
        if url.is_empty() {
            return Err(ProxyConfigError::invalid(
                setting,
                "it must be seed node URLs separated by commas, with none empty, e.g. \
                 redis://10.0.0.1:6379,redis://10.0.0.2:6379",
            ));
        }
        let info = url_info(url, setting)?;
        if matches!(info.addr(), ConnectionAddr::Unix(_)) {
            return Err(ProxyConfigError::invalid(
                setting,
                "a cluster's nodes are reached over TCP: use redis:// or rediss:// URLs, \
                 not unix://",
            ));
        }
        infos.push(info);
    }
    let tls = matches!(infos[0].addr(), ConnectionAddr::TcpTls { .. });
    if infos
        .iter()
        .any(|i| matches!(i.addr(), ConnectionAddr::TcpTls { .. }) != tls)
    {
        return Err(ProxyConfigError::invalid(
            setting,
            "its nodes must all be redis:// or all rediss://",
        ));
    }
    let seeds = infos.iter().map(|i| i.addr().clone()).collect();
    let client = ClusterClientBuilder::new(infos)
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(CLUSTER_RETRIES)
        .min_retry_wait(CLUSTER_RETRY_WAIT_MS)
        .max_retry_wait(CLUSTER_RETRY_WAIT_MS)
        .build()
        .map_err(|_| {
            ProxyConfigError::invalid(
                setting,
                "its nodes must share one user, password, database and protocol",
            )
        })?;
    Ok((
        RedisTarget::Cluster {
            client: Box::new(client),
            seeds,
        },
        tls,
    ))
}

/// A file's path and the setting that named it.
type Named = (String, String);

/// TLS with the webpki roots, or with only the certificates of the CA file,
/// and with a client certificate when `client` names its files; every file
/// read and checked now. `url_setting` names the URL for errors of neither.
fn tls(
    ca_file: Option<Named>,
    client: Option<(Named, Named)>,
    url_setting: &str,
) -> Result<RedisTls, ProxyConfigError> {
    let (certificates, ca_from) = match ca_file {
        None => (None, None),
        Some((path, setting)) => (
            Some(read_certificates(path.trim(), &setting, "CA certificates")?),
            Some(setting),
        ),
    };
    let client = match client {
        None => None,
        Some(((cert_path, cert_setting), (key_path, key_setting))) => Some(ClientCert {
            chain: read_certificates(cert_path.trim(), &cert_setting, "client certificates")?,
            key: read_key(key_path.trim(), &key_setting)?,
            from: cert_setting,
            key_from: key_setting,
        }),
    };
    RedisTls::new(certificates, ca_from, client, url_setting)
        .map_err(|(name, problem)| ProxyConfigError::invalid(name, problem))
}

/// The bytes of the file at `path` (`setting` names it), at most
/// [`MAX_PEM_FILE`] of them, wiped from memory when dropped (a private
/// key's file).
fn read_pem(path: &str, setting: &str, what: &str) -> Result<Zeroizing<Vec<u8>>, ProxyConfigError> {
    let mut pem = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_PEM_FILE + 1).read_to_end(&mut pem))
        .map_err(|e| {
            ProxyConfigError::invalid(
                setting,
                format!("it must name a readable file of PEM {what} ({e})"),
            )
        })?;
    if pem.len() as u64 > MAX_PEM_FILE {
        return Err(ProxyConfigError::invalid(
            setting,
            format!("the file is larger than {MAX_PEM_FILE} bytes: it must hold PEM {what}"),
        ));
    }
    Ok(pem)
}

/// The certificates of a PEM file: at least one.
fn read_certificates(
    path: &str,
    setting: &str,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, ProxyConfigError> {
    let pem = read_pem(path, setting, what)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            ProxyConfigError::invalid(
                setting,
                "the file is not PEM: it must hold -----BEGIN CERTIFICATE----- blocks",
            )
        })?;
    if certificates.is_empty() {
        return Err(ProxyConfigError::invalid(
            setting,
            "the file holds no -----BEGIN CERTIFICATE----- block",
        ));
    }
    Ok(certificates)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
fn read_key(path: &str, setting: &str) -> Result<PrivateKeyDer<'static>, ProxyConfigError> {
    let pem = read_pem(path, setting, "private key")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        let problem = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "the file holds no private key: it must hold a -----BEGIN PRIVATE KEY----- \
                 (or RSA / EC PRIVATE KEY) block"
            }
            _ => "the file is not PEM: it must hold a -----BEGIN PRIVATE KEY----- block",
        };
        ProxyConfigError::invalid(setting, problem)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(vars: &[(&str, &str)], file: Option<&str>) -> Result<Option<RedisConfig>, String> {
        let file = file.map(|url| FileRedis {
            url: Some(url.to_owned()),
            ..FileRedis::default()
        });
        read_file(vars, file)
    }

    fn read_file(
        vars: &[(&str, &str)],
        file: Option<FileRedis>,
    ) -> Result<Option<RedisConfig>, String> {
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        RedisConfig::from_vars(&var, file.map(|f| (f, "f.toml"))).map_err(|e| e.to_string())
    }

    /// A file in a fresh temporary directory, holding `contents`.
    fn temp_file(name: &str, contents: &[u8]) -> String {
        let dir =
            std::env::temp_dir().join(format!("approov-proxy-redis-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn tls_and_cluster_settings_are_read() {
        let c = read(
            &[("REDIS_URL", "rediss://:s3cret@redis.example.com:6380")],
            None,
        )
        .unwrap()
        .unwrap();
        let tls = c.tls.as_ref().unwrap();
        assert!(tls.ca_from.is_none());
        assert!(!format!("{c:?}").contains("s3cret"));
        let ca = temp_file("ca.pem", ca_pem().as_bytes());
        let c = read(
            &[
                ("REDIS_URL", "rediss://127.0.0.1:6380"),
                ("REDIS_TLS_CA_FILE", &ca),
            ],
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.tls.unwrap().ca_from.as_deref(), Some("REDIS_TLS_CA_FILE"));
        let c = read(
            &[(
                "REDIS_CLUSTER_URLS",
                "redis://:s3cret@127.0.0.1:7000, redis://:s3cret@127.0.0.1:7001",
            )],
            None,
        )
        .unwrap()
        .unwrap();
        assert!(c.tls.is_none());
        assert_eq!(c.addresses(), "127.0.0.1:7000, 127.0.0.1:7001");
        let debug = format!("{c:?}");
        assert!(debug.contains("cluster 127.0.0.1:7000"), "{debug}");
        assert!(!debug.contains("s3cret"), "{debug}");
        let c = read_file(
            &[],
            Some(FileRedis {
                cluster_urls: Some("rediss://10.0.0.1:6379".to_owned()),
                tls_ca_file: Some(ca),
                ..FileRedis::default()
            }),
        )
        .unwrap()
        .unwrap();
        assert!(matches!(c.target, RedisTarget::Cluster { .. }));
        assert_eq!(
            c.tls.unwrap().ca_from.as_deref(),
            Some("redis_tls_ca_file in f.toml")
        );
    }

    /// A client certificate and its key as PEM files (the key's file
    /// named `key_name`), from a fresh key pair.
    fn client_files(key_name: &str) -> (String, String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["approov-proxy".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap().pem();
        let key_pem = key.serialize_pem();
        (
            temp_file(&format!("{key_name}.crt"), cert.as_bytes()),
            temp_file(key_name, key_pem.as_bytes()),
            key_pem,
        )
    }

    #[test]
    fn a_client_certificate_is_read_and_checked() {
        let (cert, key, _) = client_files("client.key");
        let c = read(
            &[
                ("REDIS_URL", "rediss://127.0.0.1:6380"),
                ("REDIS_TLS_CERT_FILE", &cert),
                ("REDIS_TLS_KEY_FILE", &key),
            ],
            None,
        )
        .unwrap()
        .unwrap();
        let tls = c.tls.as_ref().unwrap();
        assert_eq!(tls.client_from.as_deref(), Some("REDIS_TLS_CERT_FILE"));
        assert!(tls.config.client_auth_cert_resolver.has_certs());
        let c = read_file(
            &[],
            Some(FileRedis {
                cluster_urls: Some("rediss://10.0.0.1:6379".to_owned()),
                tls_cert_file: Some(cert.clone()),
                tls_key_file: Some(key.clone()),
                ..FileRedis::default()
            }),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            c.tls.unwrap().client_from.as_deref(),
            Some("redis_tls_cert_file in f.toml")
        );
        // Without one, no certificate is offered.
        let c = read(&[("REDIS_URL", "rediss://127.0.0.1:6380")], None)
            .unwrap()
            .unwrap();
        assert!(!c.tls.unwrap().config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn bad_client_certificate_settings_name_the_setting_and_never_the_key() {
        let (cert, key, key_pem) = client_files("mine.key");
        let (_, other_key, _) = client_files("other.key");
        let secret_line = key_pem.lines().nth(1).unwrap().to_owned();
        let tls = ("REDIS_URL", "rediss://:s3cret@h");
        // The variables, the setting the error names, and what it says.
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![tls, ("REDIS_TLS_CERT_FILE", &cert)],
                "REDIS_TLS_CERT_FILE",
                "REDIS_TLS_KEY_FILE",
            ),
            (
                vec![tls, ("REDIS_TLS_KEY_FILE", &key)],
                "REDIS_TLS_KEY_FILE",
                "REDIS_TLS_CERT_FILE",
            ),
            (
                vec![
                    ("REDIS_URL", "redis://h"),
                    ("REDIS_TLS_CERT_FILE", &cert),
                    ("REDIS_TLS_KEY_FILE", &key),
                ],
                "REDIS_TLS_CERT_FILE",
                "rediss://",
            ),
            (
                vec![("REDIS_TLS_KEY_FILE", &key)],
                "REDIS_TLS_KEY_FILE",
                "REDIS_URL",
            ),
            (
                vec![
                    tls,
                    ("REDIS_TLS_CERT_FILE", &cert),
                    ("REDIS_TLS_KEY_FILE", &other_key),
                ],
                "REDIS_TLS_KEY_FILE",
                "not the one of the certificate in REDIS_TLS_CERT_FILE",
            ),
            (
                vec![
                    tls,
                    ("REDIS_TLS_CERT_FILE", &key),
                    ("REDIS_TLS_KEY_FILE", &key),
                ],
                "REDIS_TLS_CERT_FILE",
                "no -----BEGIN CERTIFICATE-----",
            ),
            (
                vec![
                    tls,
                    ("REDIS_TLS_CERT_FILE", &cert),
                    ("REDIS_TLS_KEY_FILE", &cert),
                ],
                "REDIS_TLS_KEY_FILE",
                "holds no private key",
            ),
            (
                vec![
                    tls,
                    ("REDIS_TLS_CERT_FILE", &cert),
                    ("REDIS_TLS_KEY_FILE", "/nonexistent/k"),
                ],
                "REDIS_TLS_KEY_FILE",
                "readable",
            ),
        ];
        for (vars, setting, says) in cases {
            let err = read(&vars, None).unwrap_err();
            assert!(
                err.starts_with(&format!("{setting} is not usable")),
                "{err}"
            );
            assert!(err.contains(says), "{says}: {err}");
            assert!(
                !err.contains("s3cret") && !err.contains(&secret_line),
                "{err}"
            );
        }
        let large = temp_file("large.key", &vec![b'a'; 1024 * 1024 + 1]);
        let err = read(
            &[
                tls,
                ("REDIS_TLS_CERT_FILE", &cert),
                ("REDIS_TLS_KEY_FILE", &large),
            ],
            None,
        )
        .unwrap_err();
        assert!(err.contains("larger than"), "{err}");
        let err = read_file(
            &[("REDIS_TLS_KEY_FILE", &key)],
            Some(FileRedis {
                url: Some("rediss://h".to_owned()),
                tls_key_file: Some(key.clone()),
                ..FileRedis::default()
            }),
        )
        .unwrap_err();
        assert!(
            err.starts_with("REDIS_TLS_KEY_FILE and redis_tls_key_file in f.toml are both set"),
            "{err}"
        );
    }

    #[test]
    fn bad_tls_and_cluster_settings_name_the_setting_and_never_the_value() {
        let cluster = |urls: &str| read(&[("REDIS_CLUSTER_URLS", urls)], None).unwrap_err();
        for urls in [
            "redis://:s3cret@127.0.0.1:7000,",
            "redis://:s3cret@127.0.0.1:7000,,redis://127.0.0.1:7001",
            "redis://:s3cret@127.0.0.1:7000,rediss://:s3cret@127.0.0.1:7001",
            "unix:///tmp/s3cret.sock",
            "redis://:s3cret@127.0.0.1:7000,redis://:other@127.0.0.1:7001",
            "rediss://:s3cret@127.0.0.1:7000/#insecure",
            "s3cret",
        ] {
            let err = cluster(urls);
            assert!(err.starts_with("REDIS_CLUSTER_URLS is not usable"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
        let many = vec!["redis://127.0.0.1:7000"; MAX_SEEDS + 1].join(",");
        assert!(cluster(&many).contains("more than 64 seed nodes"));
        let err = read(&[("REDIS_URL", "rediss://:s3cret@h/#insecure")], None).unwrap_err();
        assert!(err.starts_with("REDIS_URL is not usable"), "{err}");
        assert!(err.contains("#insecure"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        // Two places naming the Redis.
        let both = read(
            &[
                ("REDIS_URL", "redis://a"),
                ("REDIS_CLUSTER_URLS", "redis://b:1"),
            ],
            None,
        )
        .unwrap_err();
        assert!(
            both.starts_with("REDIS_URL and REDIS_CLUSTER_URLS are both set"),
            "{both}"
        );
        let both = read_file(
            &[("REDIS_CLUSTER_URLS", "redis://b:1")],
            Some(FileRedis {
                url: Some("redis://a".to_owned()),
                ..FileRedis::default()
            }),
        )
        .unwrap_err();
        assert!(
            both.starts_with("REDIS_CLUSTER_URLS and redis_url in f.toml are both set"),
            "{both}"
        );
        let both = read_file(
            &[],
            Some(FileRedis {
                url: Some("redis://a".to_owned()),
                cluster_urls: Some("redis://b:1".to_owned()),
                ..FileRedis::default()
            }),
        )
        .unwrap_err();
        assert!(
            both.starts_with("redis_url in f.toml and redis_cluster_urls in f.toml are both set"),
            "{both}"
        );
        // The CA file: without TLS, without a URL, twice, unreadable, not
        // PEM, no certificate, too large.
        let ca = temp_file("ca2.pem", ca_pem().as_bytes());
        let err = read(
            &[("REDIS_URL", "redis://h"), ("REDIS_TLS_CA_FILE", &ca)],
            None,
        )
        .unwrap_err();
        assert!(err.starts_with("REDIS_TLS_CA_FILE is not usable"), "{err}");
        assert!(err.contains("rediss://"), "{err}");
        let err = read(&[("REDIS_TLS_CA_FILE", &ca)], None).unwrap_err();
        assert!(err.starts_with("REDIS_TLS_CA_FILE is not usable"), "{err}");
        assert!(err.contains("REDIS_URL"), "{err}");
        let err = read_file(
            &[("REDIS_TLS_CA_FILE", &ca)],
            Some(FileRedis {
                url: Some("rediss://h".to_owned()),
                tls_ca_file: Some(ca.clone()),
                ..FileRedis::default()
            }),
        )
        .unwrap_err();
        assert!(
            err.starts_with("REDIS_TLS_CA_FILE and redis_tls_ca_file in f.toml are both set"),
            "{err}"
        );
        let not_pem = temp_file("not.pem", b"-----BEGIN CERTIFICATE-----\nnot base64!\n");
        let empty = temp_file("empty.pem", b"just text, no blocks\n");
        let large = temp_file("large.pem", &vec![b'a'; 1024 * 1024 + 1]);
        let missing = format!("{ca}.missing");
        for (path, says) in [
            (missing.as_str(), "readable"),
            (not_pem.as_str(), "not PEM"),
            (empty.as_str(), "no -----BEGIN CERTIFICATE-----"),
            (large.as_str(), "larger than"),
        ] {
            let err = read(
                &[
                    ("REDIS_URL", "rediss://:s3cret@h"),
                    ("REDIS_TLS_CA_FILE", path),
                ],
                None,
            )
            .unwrap_err();
            assert!(err.starts_with("REDIS_TLS_CA_FILE is not usable"), "{err}");
            assert!(err.contains(says), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn settings_are_read() {
        assert!(read(&[], None).unwrap().is_none());
        let c = read(&[("REDIS_URL", "redis://:s3cret@127.0.0.1:6390/2")], None)
            .unwrap()
            .unwrap();
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.when_unavailable, WhenUnavailable::Local);
        let debug = format!("{c:?}");
        assert!(debug.contains("127.0.0.1:6390"), "{debug}");
        assert!(!debug.contains("s3cret"), "{debug}");
        let c = read(
            &[
                ("REDIS_TIMEOUT_MS", "250"),
                ("REDIS_UNAVAILABLE", " Refuse "),
            ],
            Some("redis://127.0.0.1"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.timeout, Duration::from_millis(250));
        assert_eq!(c.when_unavailable, WhenUnavailable::Refuse);
    }

    #[test]
    fn bad_settings_name_the_setting_and_never_the_url() {
        for url in [
            "http://:s3cret@example.com",
            "redis://:s3cret@[::1",
            "s3cret",
            "rediss://:s3cret@example.com/#insecure",
        ] {
            let err = read(&[("REDIS_URL", url)], None).unwrap_err();
            assert!(err.starts_with("REDIS_URL is not usable"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
            let err = read(&[], Some(url)).unwrap_err();
            assert!(
                err.starts_with("redis_url in f.toml is not usable"),
                "{err}"
            );
            assert!(!err.contains("s3cret"), "{err}");
        }
        let err = read(&[("REDIS_URL", "redis://a")], Some("redis://b")).unwrap_err();
        assert!(
            err.starts_with("REDIS_URL and redis_url in f.toml are both set"),
            "{err}"
        );
        for (name, value) in [
            ("REDIS_TIMEOUT_MS", "0"),
            ("REDIS_TIMEOUT_MS", "10001"),
            ("REDIS_TIMEOUT_MS", "fast"),
            ("REDIS_UNAVAILABLE", "ignore"),
        ] {
            let err = read(&[("REDIS_URL", "redis://127.0.0.1"), (name, value)], None).unwrap_err();
            assert!(err.starts_with(&format!("{name} is not usable")), "{err}");
            let err = read(&[(name, "100")], None).unwrap_err();
            assert!(err.starts_with(&format!("{name} is not usable")), "{err}");
            assert!(err.contains("REDIS_URL"), "{err}");
        }
    }
}
