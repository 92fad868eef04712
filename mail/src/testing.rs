//! A real SMTP server for tests: Debian's aiosmtpd (`python3-aiosmtpd`),
//! run by `/usr/bin/python3` on 127.0.0.1 with its `Mailbox` handler, which
//! writes each mail it accepts to a maildir in a temporary directory with
//! the envelope added as headers (`X-Peer`, `X-MailFrom`, `X-RcptTo`), and
//! the mails read back from there with `mail-parser`.
//!
//! Where aiosmtpd is not installed the tests that need it skip with a
//! message, unless `WINDLEDGER_REQUIRE_SMTP=1` (as in CI), where they fail.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_parser::{Address, MessageParser};

/// Debian's python, which has Debian's aiosmtpd (the `python3` on `PATH`
/// may be another).
const PYTHON: &str = "/usr/bin/python3";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether SMTP tests must fail rather than skip when aiosmtpd is missing.
pub fn smtp_required() -> bool {
    std::env::var("WINDLEDGER_REQUIRE_SMTP").is_ok_and(|v| v == "1")
}

/// A mail as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope's recipients (`RCPT TO`).
    pub envelope_to: Vec<String>,
    /// The envelope's sender (`MAIL FROM`).
    pub envelope_from: String,
    /// `From`, `To` and `Reply-To` as `Name <address>` (or the bare
    /// address where there is no name), decoded; addresses joined by `, `.
    pub from: String,
    pub to: String,
    pub reply_to: Option<String>,
    /// `Subject`, decoded.
    pub subject: String,
    /// The body's text, decoded, its line ends made LF again: what
    /// [`Mail::canonical_text`](crate::Mail::canonical_text) gives for
    /// the mail sent.
    pub text: String,
    /// The message as the server stored it, envelope headers included
    /// (Python's maildir writes LF line ends).
    pub raw: Vec<u8>,
}

/// A running aiosmtpd, killed on drop.
pub struct SmtpSink {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts a server on a free port of 127.0.0.1 and waits until it
    /// accepts connections. `None` (with a line saying the test is
    /// skipped) where aiosmtpd is not installed; panics instead with
    /// `WINDLEDGER_REQUIRE_SMTP=1`, or if it is installed but does not
    /// start.
    pub fn start() -> Option<Self> {
        let installed = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            let message =
                format!("{PYTHON} cannot import aiosmtpd (apt-get install python3-aiosmtpd)");
            if smtp_required() {
                panic!("WINDLEDGER_REQUIRE_SMTP=1 but {message}");
            }
            eprintln!("skipping a test that needs an SMTP server: {message}");
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory for the maildir");
        let maildir = dir.path().join("maildir");
        let log = dir.path().join("aiosmtpd.log");
        let mut last_error = String::new();
        // A free port may be taken between our look and aiosmtpd's bind:
        // try a few.
        for _ in 0..3 {
            let port = free_port();
            let child = spawn(port, &maildir, &log);
            match wait_until_listening(child, port) {
                Ok(child) => {
                    return Some(Self {
                        child,
                        port,
                        maildir,
                        _dir: dir,
                    });
                }
                Err(error) => {
                    let output = fs::read_to_string(&log).unwrap_or_default();
                    last_error = format!("{error}; its output:\n{output}");
                }
            }
        }
        panic!("aiosmtpd did not start: {last_error}");
    }

    /// `smtp://127.0.0.1:PORT`, for [`SmtpSettings::parse`](crate::SmtpSettings::parse).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The mails received so far, sorted by recipients, then subject.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut mails: Vec<ReceivedMail> = self
            .files()
            .iter()
            .map(|path| {
                let raw = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                parse(raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            })
            .collect();
        mails.sort_by(|a, b| (&a.envelope_to, &a.subject).cmp(&(&b.envelope_to, &b.subject)));
        mails
    }

    /// Waits until at least `n` mails were received, then returns them all;
    /// panics if they have not after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let count = self.files().len();
            if count >= n {
                return self.messages();
            }
            if Instant::now() > deadline {
                panic!("expected {n} mails within {timeout:?}, received {count}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The files of the maildir's `new/`, where `Mailbox` delivers (each is
    /// written in `tmp/` first, then moved: a file there is whole).
    fn files(&self) -> Vec<PathBuf> {
        match fs::read_dir(self.maildir.join("new")) {
            Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn spawn(port: u16, maildir: &Path, log: &Path) -> Child {
    let output = fs::File::create(log).expect("aiosmtpd's log file");
    let errors = output.try_clone().expect("aiosmtpd's log file");
    Command::new(PYTHON)
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .spawn()
        .expect("starting aiosmtpd")
}

/// `child` once `port` accepts connections, or why not (the child killed).
fn wait_until_listening(mut child: Child, port: u16) -> Result<Child, String> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("aiosmtpd exited ({status})"));
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("port {port} not open after {START_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn parse(raw: Vec<u8>) -> Result<ReceivedMail, String> {
    let message = MessageParser::default()
        .parse(&raw)
        .ok_or("not a mail mail-parser can read")?;
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_string());
    let envelope_to = header("X-RcptTo")
        .ok_or("no X-RcptTo header")?
        .split(',')
        .map(|a| a.trim().to_string())
        .collect();
    let received = ReceivedMail {
        envelope_to,
        envelope_from: header("X-MailFrom").ok_or("no X-MailFrom header")?,
        from: message.from().map(addresses).unwrap_or_default(),
        to: message.to().map(addresses).unwrap_or_default(),
        reply_to: message.reply_to().map(addresses),
        subject: message.subject().unwrap_or_default().to_string(),
        text: message
            .body_text(0)
            .map(|text| text.replace("\r\n", "\n"))
            .unwrap_or_default(),
        raw: Vec::new(),
    };
    Ok(ReceivedMail { raw, ..received })
}

fn addresses(address: &Address) -> String {
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
