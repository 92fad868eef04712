//! Where mail is sent from and through: the SMTP server, given as a URL,
//! and the sender.

use std::fmt;
use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
use lettre::transport::smtp::extension::ClientId;
use thiserror::Error;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::crypto::{self, CryptoProvider};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use url::{Host, Url};

/// Why SMTP settings were refused. The messages never repeat the password.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("the SMTP URL is not a URL such as smtps://user:password@host:465 ({0})")]
    NotAUrl(String),
    #[error(
        "the SMTP URL's scheme is `{0}`: expected smtp (plain, or STARTTLS with ?tls=required) or smtps (TLS)"
    )]
    Scheme(String),
    #[error("the SMTP URL names no host")]
    MissingHost,
    #[error("the SMTP URL's host name is not ASCII: write it in punycode (xn--…)")]
    HostNotAscii,
    #[error("the SMTP URL gives a user name but no password (smtps://user:password@host)")]
    UserWithoutPassword,
    #[error("the SMTP URL's user name or password is not valid percent-encoded UTF-8")]
    BadCredentials,
    #[error(
        "the SMTP URL's `tls={0}` is not accepted: only tls=required (STARTTLS, with smtp://) is"
    )]
    TlsMode(String),
    #[error(
        "the SMTP URL has a password but no TLS: use smtps:// or smtp://…?tls=required so that it is not sent in clear"
    )]
    PasswordWithoutTls,
    #[error("the SMTP URL's TLS settings were refused: {0}")]
    Tls(String),
    #[error("the sender `{from}` is not an address such as `Name <address@example.org>`: {reason}")]
    From { from: String, reason: String },
}

/// How the connection is protected.
#[derive(Clone)]
pub(crate) enum Security {
    /// `smtp://`: none (a relay on the same machine or network).
    Plain,
    /// `smtp://…?tls=required`: STARTTLS, by lettre, required.
    StartTls(TlsParameters),
    /// `smtps://`: TLS from the first byte.
    Tls(TlsConnector, ServerName<'static>),
}

/// The SMTP server and the sender, checked. Three forms of URL:
///
/// - `smtp://host:port`: no TLS and no password, for a relay on the same
///   machine or network (port 25 unless given);
/// - `smtp://user:password@host:587?tls=required`: STARTTLS, required
///   (port 587 unless given);
/// - `smtps://user:password@host:465`: TLS from the start (port 465
///   unless given).
///
/// The user name and password are percent-encoded; a path
/// (`smtps://…/mail.example.org`) is the name given in `EHLO`. The
/// server's certificate is checked against Mozilla's roots
/// (`webpki-roots`).
#[derive(Clone)]
pub struct SmtpSettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) security: Security,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) hello: ClientId,
    pub(crate) from: Mailbox,
    /// The URL with its password hidden, for logs.
    shown: String,
}

impl SmtpSettings {
    /// Parses the server's URL and the sender (`Name <address>`).
    pub fn parse(url: &str, from: &str) -> Result<Self, SettingsError> {
        let url = Url::parse(url.trim()).map_err(|e| SettingsError::NotAUrl(e.to_string()))?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(SettingsError::Scheme(url.scheme().into()));
        }
        let host = match url.host() {
            None => return Err(SettingsError::MissingHost),
            Some(Host::Domain(name)) if name.contains('%') => {
                return Err(SettingsError::HostNotAscii);
            }
            Some(Host::Domain(name)) => name.to_string(),
            Some(Host::Ipv4(address)) => address.to_string(),
            Some(Host::Ipv6(address)) => address.to_string(),
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (_, None) => return Err(SettingsError::UserWithoutPassword),
            (user, Some(password)) => Some(Credentials::new(decode(user)?, decode(password)?)),
        };
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v);
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, 25),
            ("smtp", Some("required")) => {
                let parameters = TlsParameters::new(host.clone())
                    .map_err(|e| SettingsError::Tls(e.to_string()))?;
                (Security::StartTls(parameters), 587)
            }
            ("smtps", None | Some("required")) => {
                let name = ServerName::try_from(host.clone())
                    .map_err(|e| SettingsError::Tls(e.to_string()))?;
                (Security::Tls(tls_connector()?, name), 465)
            }
            ("smtp" | "smtps", Some(other)) => return Err(SettingsError::TlsMode(other.into())),
            (other, _) => return Err(SettingsError::Scheme(other.into())),
        };
        if credentials.is_some() && matches!(security, Security::Plain) {
            return Err(SettingsError::PasswordWithoutTls);
        }
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        let refused = |reason: String| SettingsError::From {
            from: from.to_string(),
            reason,
        };
        if from.trim().chars().any(char::is_control) {
            return Err(refused(
                "it has a line break or another control character".into(),
            ));
        }
        let from = from
            .trim()
            .parse::<Mailbox>()
            .map_err(|e| refused(e.to_string()))?;
        let mut shown = url.clone();
        if credentials.is_some() {
            let _ = shown.set_password(Some("***"));
        }
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            credentials,
            hello,
            from,
            shown: shown.to_string(),
        })
    }

    /// The sender, as given.
    pub fn from(&self) -> String {
        self.from.to_string()
    }
}

/// A percent-encoded user name or password, decoded (as lettre does).
fn decode(text: &str) -> Result<String, SettingsError> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| SettingsError::BadCredentials)
}

/// rustls with Mozilla's roots and the process's crypto provider, else
/// ring: what lettre does for STARTTLS with the features this workspace
/// gives it. (rustls 0.23.48 deprecates ring for want of post-quantum key
/// exchange; aws-lc-rs has it, at the cost of building AWS-LC.) The
/// server's HTTPS client (to witnesses) uses it too.
pub fn tls_connector() -> Result<TlsConnector, SettingsError> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    #[allow(deprecated)]
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(crypto::ring::default_provider()));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SettingsError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The URL with its password as `***`, and the sender.
impl fmt::Display for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.shown, self.from)
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &self.shown)
            .field("from", &self.from.to_string())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "Les Ailes de Taillard <gerance@ailes.example>";

    fn error(url: &str) -> SettingsError {
        match SmtpSettings::parse(url, FROM) {
            Ok(settings) => panic!("{url} was accepted: {settings}"),
            Err(e) => e,
        }
    }

    #[test]
    fn reads_the_three_forms_and_hides_the_password() {
        let plain = SmtpSettings::parse("smtp://127.0.0.1:2525", FROM).unwrap();
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 2525));
        assert!(matches!(plain.security, Security::Plain) && plain.credentials.is_none());

        let starttls =
            SmtpSettings::parse("smtp://user:s%40cret@mail.example?tls=required", FROM).unwrap();
        assert_eq!(
            (starttls.host.as_str(), starttls.port),
            ("mail.example", 587)
        );
        assert!(matches!(starttls.security, Security::StartTls(_)));
        assert_eq!(
            starttls.credentials,
            Some(Credentials::new("user".into(), "s@cret".into()))
        );

        let tls = SmtpSettings::parse("smtps://user:s%40cret@[::1]/relay.example", FROM).unwrap();
        assert_eq!((tls.host.as_str(), tls.port), ("::1", 465));
        assert!(matches!(tls.security, Security::Tls(..)));
        assert_eq!(tls.hello, ClientId::Domain("relay.example".into()));

        for settings in [&starttls, &tls] {
            let shown = format!("{settings} {settings:?}");
            assert!(!shown.contains("cret"), "{shown}");
        }
        assert_eq!(
            starttls.to_string(),
            "smtp://user:***@mail.example?tls=required \
             (from Les Ailes de Taillard <gerance@ailes.example>)"
        );
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(matches!(error("127.0.0.1:25"), SettingsError::NotAUrl(_)));
        assert!(
            matches!(error("smtp://mail.example:99999"), SettingsError::NotAUrl(reason) if reason == "invalid port number")
        );
        assert_eq!(
            error("http://mail.example"),
            SettingsError::Scheme("http".into())
        );
        assert_eq!(error("smtp://"), SettingsError::MissingHost);
        assert_eq!(error("smtp://smtp.éolien.fr"), SettingsError::HostNotAscii);
        assert_eq!(
            error("smtps://user@mail.example"),
            SettingsError::UserWithoutPassword
        );
        assert_eq!(
            error("smtps://user:%FF@mail.example"),
            SettingsError::BadCredentials
        );
        assert_eq!(
            error("smtp://mail.example?tls=opportunistic"),
            SettingsError::TlsMode("opportunistic".into())
        );
        assert_eq!(
            error("smtp://u:p@mail.example"),
            SettingsError::PasswordWithoutTls
        );
        for from in ["gérance sans adresse", "G\r\nBcc: x@y.fr <g@b.fr>"] {
            assert!(matches!(
                SmtpSettings::parse("smtp://127.0.0.1:2525", from),
                Err(SettingsError::From { .. })
            ));
        }
        // Plain English, naming the problem, never the password.
        let message = error("smtp://u:secret@mail.example").to_string();
        assert!(
            message.contains("no TLS") && !message.contains("secret"),
            "{message}"
        );
        let message = error("smtps://u:secret@mail.example?tls=no").to_string();
        assert!(
            message.contains("tls=no") && !message.contains("secret"),
            "{message}"
        );
    }
}
