//! HTTPS of the server's own (rustls): the certificate and key are read from PEM files and read
//! again, without a restart, when the files change or on SIGHUP; a pair that does not load or
//! does not match leaves the one in use serving. And a local certificate authority for trying
//! the app on real phones on a LAN, where no public authority can issue a certificate.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// How often the certificate files are looked at.
const WATCH_EVERY: Duration = Duration::from_secs(2);

fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("cannot read {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM certificate chain: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{} holds no PEM private key: {e}", key.display()))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key_der).map_err(|e| format!("{}: {e}", key.display()))?;
    let certified = CertifiedKey::new(chain, signer);
    certified.keys_match().map_err(|e| format!("{} and {} do not belong together: {e}", cert.display(), key.display()))?;
    Ok(certified)
}

/// The certificate in use, swapped when its files change.
#[derive(Debug)]
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' modification times when last read (or tried).
    seen: RwLock<(Option<SystemTime>, Option<SystemTime>)>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Certificates {
    pub fn open(cert: &Path, key: &Path) -> Result<Arc<Self>, String> {
        let seen = (modified(cert), modified(key));
        let current = load(cert, key)?;
        Ok(Arc::new(Self { cert: cert.to_owned(), key: key.to_owned(), current: RwLock::new(Arc::new(current)), seen: RwLock::new(seen) }))
    }

    /// Reads the files again. On failure the certificate in use stays.
    pub fn reload(&self) -> Result<(), String> {
        *self.seen.write().unwrap_or_else(|e| e.into_inner()) = (modified(&self.cert), modified(&self.key));
        let fresh = load(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    fn changed(&self) -> bool {
        *self.seen.read().unwrap_or_else(|e| e.into_inner()) != (modified(&self.cert), modified(&self.key))
    }

    /// The TLS settings that serve whatever certificate is current (HTTP/1.1 only: the
    /// WebSocket upgrade needs it).
    pub fn acceptor(self: &Arc<Self>) -> tokio_rustls::TlsAcceptor {
        // ring, not aws-lc-rs: no CMake or Go toolchain to build. Its provider lacks the
        // post-quantum key exchange, which is what the deprecation says.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    /// Reads the files again whenever they change (looked at every two seconds) and on SIGHUP.
    pub fn watch(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            loop {
                #[cfg(unix)]
                let asked = async {
                    match hangup.as_mut() {
                        Some(h) => h.recv().await.is_some(),
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let asked = std::future::pending::<bool>();
                let signalled = tokio::select! {
                    _ = tokio::time::sleep(WATCH_EVERY) => false,
                    s = asked => s,
                };
                if !signalled && !me.changed() {
                    continue;
                }
                match me.reload() {
                    Ok(()) => tracing::info!("serving the certificate in {} anew", me.cert.display()),
                    // A half-written pair is read again on its next change.
                    Err(e) => tracing::warn!("certificate not replaced, the one in use stays: {e}"),
                }
            }
        });
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// The local certificate authority of a data directory (`tls/` in it): made once, then reused,
/// so a phone that trusts it keeps trusting the server's certificates.
pub struct LocalAuthority {
    pub dir: PathBuf,
}

/// What the local authority issued.
pub struct Issued {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The names and addresses the certificate is for.
    pub names: Vec<String>,
}

fn ca_params() -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, "先锋台账 本地证书颁发机构");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "先锋台账");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign, rcgen::KeyUsagePurpose::DigitalSignature];
    params
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

impl LocalAuthority {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self { dir: data_dir.join("tls") }
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The authority's key and certificate, made on first use.
    fn authority(&self) -> Result<(rcgen::KeyPair, rcgen::Certificate), String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let key_path = self.dir.join("ca.key");
        let key = match std::fs::read_to_string(&key_path) {
            Ok(pem) => rcgen::KeyPair::from_pem(&pem).map_err(|e| format!("{}: {e}", key_path.display()))?,
            Err(_) => {
                let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
                write_private(&key_path, &key.serialize_pem())?;
                key
            }
        };
        let mut params = ca_params();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let ca = params.self_signed(&key).map_err(|e| e.to_string())?;
        // The certificate phones install is written once: the same key and name make every
        // later certificate chain to it.
        if !self.ca_path().exists() {
            std::fs::write(self.ca_path(), ca.pem()).map_err(|e| format!("cannot write {}: {e}", self.ca_path().display()))?;
        }
        Ok((key, ca))
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid 397 days (the most
    /// Apple's devices accept), signed by the authority.
    pub fn issue(&self, names: &[String]) -> Result<Issued, String> {
        let (ca_key, ca) = self.authority()?;
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(|e| format!("a certificate cannot name {names:?}: {e}"))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, names.first().cloned().unwrap_or_default());
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(397);
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &ca, &ca_key).map_err(|e| e.to_string())?;
        let issued = Issued { ca: self.ca_path(), cert: self.dir.join("server.crt"), key: self.dir.join("server.key"), names: names.to_vec() };
        write_private(&issued.key, &key.serialize_pem())?;
        std::fs::write(&issued.cert, cert.pem()).map_err(|e| format!("cannot write {}: {e}", issued.cert.display()))?;
        Ok(issued)
    }
}

/// The names a LAN certificate is for: this machine's non-loopback IPv4 addresses, its host
/// name, `localhost`, and any given.
pub fn lan_names(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = extra.to_vec();
    if let Ok(interfaces) = local_ip_address::list_afinet_netifas() {
        for (_, ip) in interfaces {
            if let IpAddr::V4(v4) = ip {
                if !v4.is_loopback() && !v4.is_link_local() {
                    names.push(v4.to_string());
                }
            }
        }
    }
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            names.push(host.to_owned());
            if !host.contains('.') {
                names.push(format!("{host}.local"));
            }
        }
    }
    names.push("localhost".into());
    names.push("127.0.0.1".into());
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}
