//! windledger's outgoing e-mail: plain-text mails in French, sent over SMTP.
//!
//! - [`Mail`]: one mail to one person, and [`Mail::content_sha256`], the
//!   hash of what it says that the ledger records as proof of what was sent.
//! - [`SmtpSettings`]: the server (`smtp://`, `smtp://…?tls=required` or
//!   `smtps://`) and the sender, parsed and checked at the edge.
//! - [`Mailer`]: sends a batch over a few connections at once and tells,
//!   mail by mail, whether it was sent ([`Outcome`]); `connection.rs` opens
//!   those connections (with Nagle off: lettre's own transport leaves it
//!   on and waits 40 ms a mail).
//! - `testing` (feature `testing`): a real SMTP server for tests (Debian's
//!   aiosmtpd) and the mails it received, parsed.
//!
//! Pure of the rest of the workspace: it knows mails, not holders, meetings
//! or the ledger.

mod connection;
mod mail;
mod mailer;
mod settings;
#[cfg(feature = "testing")]
pub mod testing;

pub use mail::Mail;
pub use mailer::{CONCURRENCY, Mailer, Outcome, TIMEOUT};
pub use settings::{SettingsError, SmtpSettings, tls_connector};
