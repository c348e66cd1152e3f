//! A local HTTPS server for the related-origins tests: a test CA and a server certificate made
//! here with `x509-cert` (the crate fauxkey's attestation lab uses), served by rustls on a thread
//! over 127.0.0.1. The server answers each request from a handler, counts the requests per
//! `Host` and path, and keeps their header names.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use p256::pkcs8::EncodePrivateKey as _;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::der::asn1::Ia5String;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::Encode as _;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

/// id-kp-serverAuth (RFC 5280 §4.2.1.12).
const ID_KP_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

enum Profile {
    Root { subject: Name },
    Server { issuer: Name, hosts: Vec<String> },
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        match self {
            Profile::Root { .. } => subject.clone(),
            Profile::Server { issuer, .. } => issuer.clone(),
        }
    }

    fn get_subject(&self) -> Name {
        match self {
            Profile::Root { subject } => subject.clone(),
            Profile::Server { hosts, .. } => Name::from_str(&format!("CN={}", hosts[0])).unwrap(),
        }
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut ext: Vec<Extension> = Vec::new();
        let e = SubjectKeyIdentifier::try_from(spk)?.to_extension(subject, &ext)?;
        ext.push(e);
        let ca = matches!(self, Profile::Root { .. });
        if !ca {
            let e = AuthorityKeyIdentifier::try_from(issuer_spk)?.to_extension(subject, &ext)?;
            ext.push(e);
        }
        let e = BasicConstraints {
            ca,
            path_len_constraint: None,
        }
        .to_extension(subject, &ext)?;
        ext.push(e);
        let usage = if ca {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature.into()
        };
        let e = KeyUsage(usage).to_extension(subject, &ext)?;
        ext.push(e);
        if let Profile::Server { hosts, .. } = self {
            let e = ExtendedKeyUsage(vec![ID_KP_SERVER_AUTH]).to_extension(subject, &ext)?;
            ext.push(e);
            let names = hosts
                .iter()
                .map(|h| GeneralName::DnsName(Ia5String::new(h).unwrap()))
                .collect();
            let e = SubjectAltName(names).to_extension(subject, &ext)?;
            ext.push(e);
        }
        Ok(ext)
    }
}

fn validity() -> Validity {
    // 2024-01-01 to 2049-12-31, as the attestation lab's certificates.
    let at = |secs| {
        Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(secs)).expect("valid time")
    };
    Validity::new(at(1_704_067_200), at(2_524_607_999))
}

fn key(seed: u8) -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn build(
    profile: Profile,
    serial: u8,
    subject_key: &p256::ecdsa::SigningKey,
    signer: &p256::ecdsa::SigningKey,
) -> Vec<u8> {
    let spki = SubjectPublicKeyInfoOwned::from_key(subject_key.verifying_key()).unwrap();
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::new(&[serial]).unwrap(),
        validity(),
        spki,
    )
    .unwrap();
    builder
        .build::<_, p256::ecdsa::DerSignature>(signer)
        .unwrap()
        .to_der()
        .unwrap()
}

/// A test CA (ES256, deterministic: the key comes from `seed`).
pub struct TestCa {
    /// The root certificate, DER: the trust anchor a client adds.
    pub root_der: Vec<u8>,
    key: p256::ecdsa::SigningKey,
    subject: Name,
}

impl TestCa {
    pub fn new(seed: u8) -> Self {
        let key = key(seed);
        let subject = Name::from_str(&format!(
            "CN=fauxkey related-origins test CA {seed},O=fauxkey,C=ZZ"
        ))
        .unwrap();
        let root_der = build(
            Profile::Root {
                subject: subject.clone(),
            },
            1,
            &key,
            &key,
        );
        Self {
            root_der,
            key,
            subject,
        }
    }

    /// A server certificate for `hosts` (subjectAltName dNSNames, EKU serverAuth) and its
    /// private key as PKCS#8 DER.
    pub fn server_cert(&self, hosts: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let server_key = key(0x42);
        let der = build(
            Profile::Server {
                issuer: self.subject.clone(),
                hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            },
            2,
            &server_key,
            &self.key,
        );
        let secret = p256::SecretKey::from_slice(&[0x42; 32]).unwrap();
        let pkcs8 = secret.to_pkcs8_der().unwrap().as_bytes().to_vec();
        (der, pkcs8)
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub host: String,
    pub path: String,
    /// Header names, lowercase.
    pub headers: Vec<String>,
}

/// What the handler answers.
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            content_type: Some("application/json".into()),
            location: None,
            body: body.into(),
        }
    }
}

/// A running HTTPS server; it lives until the test process ends.
pub struct HttpsServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl HttpsServer {
    /// Serves `handler` with the certificate `cert_der` (key `key_der`, PKCS#8).
    pub fn start(
        cert_der: Vec<u8>,
        key_der: Vec<u8>,
        handler: impl Fn(&Seen) -> Reply + Send + 'static,
    ) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![rustls::pki_types::CertificateDer::from(cert_der)],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into()),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                // A client that stalls cannot hold the server forever.
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
                let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                // A failed handshake (an untrusting client) just ends this connection.
                let _ = serve_one(&mut tls, &handler, &log);
            }
        });
        HttpsServer { addr, seen }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests asked for `path` on `host`.
    pub fn hits(&self, host: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.host == host && s.path == path)
            .count()
    }

    /// Requests per host.
    pub fn hits_by_host(&self) -> BTreeMap<String, usize> {
        let mut map = BTreeMap::new();
        for s in self.seen() {
            *map.entry(s.host).or_insert(0) += 1;
        }
        map
    }
}

fn serve_one(
    tls: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
    handler: &impl Fn(&Seen) -> Reply,
    log: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tls.read(&mut byte)? == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let mut host = String::new();
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "host" {
                host = value.trim().to_owned();
            }
            headers.push(name);
        }
    }
    let seen = Seen {
        method,
        host,
        path,
        headers,
    };
    // Logged before the answer is written, so a client that has its answer sees the count.
    log.lock().unwrap().push(seen.clone());
    let reply = handler(&seen);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    if let Some(ct) = &reply.content_type {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(location) = &reply.location {
        out.push_str(&format!("Location: {location}\r\n"));
    }
    out.push_str("\r\n");
    tls.write_all(out.as_bytes())?;
    tls.write_all(&reply.body)?;
    tls.conn.send_close_notify();
    tls.flush()
}
