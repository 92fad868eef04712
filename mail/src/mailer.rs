//! Sending a batch of mails over SMTP, a few connections at once, and what
//! became of each.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use lettre::Address;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message};
use lettre::transport::smtp::client::AsyncSmtpConnection;

use crate::connection::{self, OpenError};
use crate::{Mail, SmtpSettings};

/// How many mails are sent at once, each on a connection of its own, kept
/// open for the next mail.
pub const CONCURRENCY: usize = 4;

/// How long opening a connection (TCP, TLS, greeting, EHLO, STARTTLS,
/// AUTH), and sending one mail on it, may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What became of one mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted it; `sha256` is [`Mail::content_sha256`].
    Sent { sha256: [u8; 32] },
    /// It was not sent, and why (in English, from lettre or the server).
    Failed { reason: String },
}

impl Outcome {
    pub fn is_sent(&self) -> bool {
        matches!(self, Self::Sent { .. })
    }
}

/// Sends mails with the given settings. Building it does no IO; each
/// [`Mailer::send_all`] opens its own connections and closes them at its
/// end.
#[derive(Clone, Debug)]
pub struct Mailer {
    settings: SmtpSettings,
}

/// One batch's open connections, and the failure that ended it, if any.
struct Batch {
    idle: Mutex<Vec<AsyncSmtpConnection>>,
    server_down: OnceLock<String>,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Self {
        Self {
            settings: settings.clone(),
        }
    }

    /// Sends `mails`, [`CONCURRENCY`] at a time, and returns the outcome of
    /// each at its index; `on_progress(done, total)` is called after each.
    ///
    /// A mail that fails (an invalid address, a recipient the server
    /// refuses, a connection lost while sending it) does not stop the
    /// others. But once a connection cannot be opened for another reason
    /// than a `4xx` reply (the server unreachable within [`TIMEOUT`], TLS
    /// or authentication refused), or a mail is not taken within
    /// [`TIMEOUT`], the mails not yet tried fail at once with that reason
    /// rather than each waiting for it. Needs a tokio runtime.
    pub async fn send_all(
        &self,
        mails: &[Mail],
        mut on_progress: impl FnMut(usize, usize),
    ) -> Vec<Outcome> {
        let batch = Batch {
            idle: Mutex::new(Vec::new()),
            server_down: OnceLock::new(),
        };
        let mut outcomes = vec![None; mails.len()];
        // Indices, not `&Mail`s, go through the stream: a closure taking a
        // reference makes the future `Send` for one lifetime only, which
        // `tokio::spawn` and web handlers refuse ("FnOnce is not general
        // enough").
        let batch = &batch;
        let mut sending = futures::stream::iter(0..mails.len())
            .map(|index| async move { (index, self.send_one(batch, &mails[index]).await) })
            .buffer_unordered(CONCURRENCY);
        let mut done = 0;
        while let Some((index, outcome)) = sending.next().await {
            outcomes[index] = Some(outcome);
            done += 1;
            on_progress(done, mails.len());
        }
        drop(sending);
        let idle = std::mem::take(&mut *batch.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for mut connection in idle {
            let _ = tokio::time::timeout(TIMEOUT, connection.quit()).await;
        }
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| Outcome::Failed {
                    reason: "not sent (lost track of this mail)".into(),
                })
            })
            .collect()
    }

    async fn send_one(&self, batch: &Batch, mail: &Mail) -> Outcome {
        let failed = |reason| Outcome::Failed { reason };
        let message = match self.message(mail) {
            Ok(message) => message,
            Err(reason) => return failed(reason),
        };
        let mut connection = match self.connection(batch).await {
            Ok(connection) => connection,
            Err(reason) => return failed(reason),
        };
        let sent = tokio::time::timeout(
            TIMEOUT,
            connection.send(message.envelope(), &message.formatted()),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {
                batch
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(connection);
                Outcome::Sent {
                    sha256: mail.content_sha256(),
                }
            }
            // lettre closes the connection on an error from the server;
            // the next mail opens another.
            Ok(Err(e)) => {
                if !connection.has_broken() {
                    batch
                        .idle
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(connection);
                }
                failed(e.to_string())
            }
            // A server that stops answering would make every mail wait.
            Err(_) => {
                let reason = format!(
                    "the server did not take the mail within {} s (it may still deliver it)",
                    TIMEOUT.as_secs()
                );
                let _ = batch.server_down.set(reason.clone());
                failed(reason)
            }
        }
    }

    /// An idle connection that still answers, or a new one.
    async fn connection(&self, batch: &Batch) -> Result<AsyncSmtpConnection, String> {
        loop {
            if let Some(reason) = batch.server_down.get() {
                return Err(format!("not tried, the server having failed: {reason}"));
            }
            let idle = batch
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(mut connection) = idle else { break };
            let alive = tokio::time::timeout(TIMEOUT, connection.test_connected()).await;
            if alive == Ok(true) {
                return Ok(connection);
            }
        }
        connection::open(&self.settings)
            .await
            .map_err(|OpenError { reason, transient }| {
                if !transient {
                    let _ = batch.server_down.set(reason.clone());
                }
                reason
            })
    }

    /// The message for `mail`, or why it cannot be written.
    fn message(&self, mail: &Mail) -> Result<Message, String> {
        // lettre panics on a header with a line break in it: none may get
        // there.
        for (what, value) in [
            ("name", mail.to_name.as_str()),
            ("subject", &mail.subject),
            ("reply-to", mail.reply_to.as_deref().unwrap_or_default()),
        ] {
            if value.chars().any(char::is_control) {
                return Err(format!(
                    "the {what} {value:?} has a line break or another control character"
                ));
            }
        }
        let address = mail
            .to_address
            .trim()
            .parse::<Address>()
            .map_err(|e| format!("invalid address `{}`: {e}", mail.to_address))?;
        let name = Some(mail.to_name.trim())
            .filter(|name| !name.is_empty())
            .map(str::to_string);
        let mut builder = Message::builder()
            .from(self.settings.from.clone())
            .to(Mailbox::new(name, address))
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .message_id(self.message_id());
        if let Some(reply_to) = &mail.reply_to {
            let reply_to = reply_to
                .trim()
                .parse::<Mailbox>()
                .map_err(|e| format!("invalid reply-to `{reply_to}`: {e}"))?;
            builder = builder.reply_to(reply_to);
        }
        // Quoted-printable always, so that line ends come out as given
        // whatever the text; without the last line's end, which lettre
        // adds before the final `.`.
        let text = mail.canonical_text();
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let body =
            Body::new_with_encoding(text.to_string(), ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| "cannot encode the text as quoted-printable".to_string())?;
        builder
            .body(body)
            .map_err(|e| format!("cannot write the mail: {e}"))
    }

    /// `<128 random bits in hex@the sender's domain>`; lettre's own (at
    /// `localhost`) if the system has no random numbers to give.
    fn message_id(&self) -> Option<String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).ok()?;
        Some(format!(
            "<{}@{}>",
            hex::encode(bytes),
            self.settings.from.email.domain()
        ))
    }
}
