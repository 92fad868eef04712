//! The binary as a user runs it: in a folder of its own, with nothing
//! from the environment that chooses a database, a ledger, a key or an
//! address.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use windledger_store::{CheckpointSigner, Head, Store};

pub const BIN: &str = env!("CARGO_BIN_EXE_windledger");

/// The reference farm's command file, and the ledger it is imported into.
pub const REFERENCE: &str = windledger_fixtures::reference::IMPORT_FILE;
pub use windledger_fixtures::reference::LEDGER;
/// The events the reference farm's import writes.
pub const REFERENCE_EVENTS: u64 = 2_444;

/// The variables that would choose for the commands.
const CHOOSING: [&str; 6] = [
    "DATABASE_URL",
    "WINDLEDGER_BACKUP_KEY",
    "WINDLEDGER_LEDGER",
    "WINDLEDGER_KEY_FILE",
    "WINDLEDGER_LISTEN",
    "RUST_LOG",
];

/// The public key of a key generated now, `name`d so, that sealed nothing
/// the tests wrote.
pub fn stranger_key(name: &str) -> String {
    CheckpointSigner::generate(name)
        .expect("a key")
        .verifier()
        .to_string()
}

/// GET `path` from the server at `address`: the whole response, as sent.
pub fn http_get(address: &str, path: &str, token: Option<&str>) -> String {
    let mut stream = TcpStream::connect(address).expect("the server accepts");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("a request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    response
}

/// The names of the files in `folder`, in the order the system lists them.
pub fn file_names(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .expect("the folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Imports the reference farm into `store`, as ledger [`LEDGER`]: its head.
pub async fn import_reference_farm(store: Store) -> Head {
    windledger_app::import::import_reference_ledger(store)
        .await
        .unwrap_or_else(|e| panic!("the reference farm is refused: {e}"))
        .1
        .head
}

/// `windledger ARGS` in `folder`, not yet run.
pub fn command(folder: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(folder);
    for name in CHOOSING {
        command.env_remove(name);
    }
    command
}

/// `windledger ARGS` in `folder`, run to its end.
pub fn windledger(folder: &Path, args: &[&str]) -> Output {
    command(folder, args)
        .output()
        .expect("the windledger binary runs")
}

/// Its standard output, once it succeeded.
pub fn success(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// Its error, one line at the end of standard error, once it failed with
/// exit code 1.
pub fn failure(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{what} should fail: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    let error = stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("error: "), "{what}: {stderr}");
    error.to_owned()
}

/// `windledger demo --no-serve ARGS` in `folder`: its output.
pub fn demo(folder: &Path, args: &[&str]) -> String {
    let mut all = vec!["demo", "--no-serve", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    success(&windledger(folder, &all), "the demo")
}

/// The verifier key the demo printed.
pub fn printed_verifier_key(demo_output: &str) -> String {
    let mut lines = demo_output.lines();
    lines
        .by_ref()
        .find(|l| l.starts_with("Verifier key"))
        .expect("the demo prints its verifier key");
    lines.next().expect("the key").trim().to_owned()
}

/// A server started by `command`, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Child,
    pub address: String,
    /// What it printed before serving.
    pub said: String,
}

impl Server {
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut said = String::new();
        let mut address = None;
        for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
            let line = line.expect("a line");
            if let Some(rest) = line.strip_prefix("Serving on http://") {
                address = rest.split_whitespace().next().map(str::to_owned);
                break;
            }
            said.push_str(&line);
            said.push('\n');
        }
        let Some(address) = address else {
            let _ = child.kill();
            panic!("the server did not start: {said}");
        };
        Self {
            child,
            address,
            said,
        }
    }

    /// GET `path`: the status line and the body.
    pub fn get(&self, path: &str, token: Option<&str>) -> (String, String) {
        let response = http_get(&self.address, path, token);
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.lines().next().unwrap_or_default().to_owned();
        (status, body.to_owned())
    }

    /// The signed checkpoint of `ledger` it answers: the note and the key
    /// it names.
    pub fn checkpoint(&self, ledger: &str) -> (String, String) {
        let (status, body) = self.get(&format!("/api/v1/ledgers/{ledger}/checkpoint"), None);
        assert!(status.contains(" 200 "), "{status}: {body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let field = |name: &str| answer[name].as_str().expect(name).to_owned();
        (field("checkpoint"), field("public_key"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM where there is one: a clean stop.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
