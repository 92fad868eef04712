//! `windledger demo`: the reference farm (Les Ailes de Taillard, invented
//! figures) on a local ledger, served with one token per role.
//!
//! The first run imports `fixtures/ailes-de-taillard.jsonl` (built into the
//! binary) into an empty ledger through the domain; every run then verifies
//! the chain (against the checkpoint the previous run signed, if any), signs
//! a checkpoint of the head, exports the ledger and checks the export
//! against that checkpoint, issues a token per role (printed once) and
//! serves the API until Ctrl-C (`--no-serve` stops before serving). The
//! import never writes to a ledger that already holds events.
//!
//! Next to a SQLite database `x.sqlite` it keeps `x.key` (the checkpoint
//! signing key, mode 0600), `x.checkpoint` (the last signed checkpoint) and
//! `x.jsonl` (the export); for PostgreSQL, `windledger-demo.*` in the
//! current folder. In the current folder it writes `windledger.toml`
//! ([`crate::config`]), naming the database, the ledger and the key, so
//! that the other commands run there work on the demo's ledger without
//! options (a `windledger.toml` the demo did not write is left alone).
//! With `--no-serve` it prints the command that serves what it set up.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use windledger_api::auth::{self, Role};
use windledger_app::import::import_reference_farm;
use windledger_domain::types::HolderId;
use windledger_store::{
    Checkpoint, CheckpointSigner, CheckpointVerifier, Head, LedgerId, Store, Verification,
    verify_jsonl,
};

use crate::config::{self, Defaults};
use crate::server_cli::{connect_sealed, redacted, signing_key};

/// The holders the demo's shareholder and municipality tokens act for.
const DEMO_SHAREHOLDER: &str = "cit-001";
const DEMO_MUNICIPALITY: &str = "ccmp";
const KEY_NAME: &str = "windledger-demo";
/// The label of the demo's tokens: each run revokes the earlier ones.
const TOKEN_LABEL: &str = "demo";
/// How long a demo token lasts.
const TOKEN_DAYS: i64 = 30;
const DEFAULT_STEM: &str = "windledger-demo";

#[derive(clap::Args, Debug)]
pub struct DemoOptions {
    /// postgres://... or sqlite://path (a SQLite file is created if missing).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://windledger-demo.sqlite"
    )]
    pub database_url: String,
    /// Address to serve on (and, with --no-serve, for the command printed
    /// to serve later).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Stop after the set-up (import, verification, tokens): serve nothing.
    #[arg(long)]
    pub no_serve: bool,
}

/// The files the demo keeps besides the database.
struct Files {
    key: PathBuf,
    vault_key: PathBuf,
    checkpoint: PathBuf,
    export: PathBuf,
}

impl Files {
    /// Next to a SQLite file, named after it; in the current folder otherwise.
    fn for_database(url: &str) -> Self {
        let sqlite_path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or(rest))
            .filter(|path| !path.is_empty() && *path != ":memory:")
            .map(Path::new);
        let (dir, stem) = match sqlite_path {
            Some(path) => (
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
                path.file_stem()
                    .map_or(DEFAULT_STEM.into(), |s| s.to_string_lossy().into_owned()),
            ),
            None => (PathBuf::new(), DEFAULT_STEM.to_owned()),
        };
        Self {
            key: dir.join(format!("{stem}.key")),
            vault_key: dir.join(format!("{stem}-vault.key")),
            checkpoint: dir.join(format!("{stem}.checkpoint")),
            export: dir.join(format!("{stem}.jsonl")),
        }
    }
}

pub async fn run(options: &DemoOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let url = options.database_url.as_str();
    let files = Files::for_database(url);
    writeln!(
        out,
        "windledger demo: an illustrative scenario with invented figures.\n\
         The company, its charter, the holders, the amounts and the dates are made up\n\
         to show how the ledger works; holders appear by pseudonymous id only.\n\
         This is not the register of any real company.\n"
    )?;

    let signer = signing_key(&files.key, KEY_NAME, out)?;
    let vault =
        windledger_app::people::Vault::new(crate::server_cli::vault_key(&files.vault_key, out)?);
    let verifier = signer.verifier();
    let store = connect_sealed(url, &signer).await?;
    let ledger = windledger_app::import::reference_ledger();
    store
        .create_ledger(&ledger)
        .await
        .with_context(|| format!("cannot create the ledger {ledger}"))?;
    writeln!(
        out,
        "Database: {} ({})\nLedger:   {ledger}\n",
        redacted(url),
        store.backend_name()
    )?;

    let size = store.head(&ledger).await?.size;
    if size == 0 {
        writeln!(
            out,
            "Importing the reference farm (fixtures/ailes-de-taillard.jsonl) through the domain..."
        )?;
        let imported = import_reference_farm(store.clone(), ledger.clone())
            .await
            .context("the reference farm was not imported")?;
        writeln!(
            out,
            "Imported {} commands: {} events.\n",
            imported.executed, imported.events
        )?;
    } else {
        writeln!(
            out,
            "The ledger already holds {size} events: the reference farm is not imported again.\n"
        )?;
    }
    print_events(&store, &ledger, out).await?;

    let previous = previous_checkpoint(&files.checkpoint, &verifier)?;
    let head = match store
        .verify(
            &ledger,
            std::slice::from_ref(&verifier),
            previous.as_slice(),
            |_, _| {},
        )
        .await?
    {
        Verification::Intact { head, .. } => head,
        Verification::Broken(broken) => bail!("the ledger does not verify: {broken}"),
    };
    writeln!(
        out,
        "Chain verified from the database: intact, {} events, every one sealed, head {}{}.\n",
        head.size,
        head.hash,
        match &previous {
            Some(cp) => format!(
                ", and consistent with the checkpoint of {} events signed at {}",
                cp.size,
                cp.time_rfc3339()
            ),
            None => String::new(),
        }
    )?;

    let note = sign(&signer, &ledger, head, &files.checkpoint)?;
    writeln!(
        out,
        "Signed checkpoint of the head (also in {}):\n\n{note}\n\
         Verifier key (publish it, so that anyone can check the checkpoint):\n  {verifier}\n",
        files.checkpoint.display()
    )?;

    let exported = export(&store, &ledger, &files.export).await?;
    writeln!(
        out,
        "Exported {} events to {}.",
        exported.size,
        files.export.display()
    )?;
    check_export(&files.export, &verifier, &note, out)?;

    let (tokens, revoked) = issue_tokens(&store, &ledger).await?;
    let base = format!("http://{}", options.listen);
    writeln!(
        out,
        "\nOne token per role, valid {TOKEN_DAYS} days (shown once; `windledger token list` shows them, `token revoke` ends them):"
    )?;
    if revoked > 0 {
        writeln!(
            out,
            "  (the {revoked} tokens of earlier demo runs are revoked)"
        )?;
    }
    for (role, holder, token) in &tokens {
        let acting = holder.map_or(String::new(), |h| format!(", acting for {h}"));
        writeln!(out, "  {role}{acting}:\n    {token}")?;
    }

    let defaults = Defaults {
        database_url: Some(url.to_owned()),
        ledger: Some(ledger.to_string()),
        key_file: Some(files.key.clone()),
        vault_key_file: Some(files.vault_key.clone()),
    };
    if defaults.write_as_demo(Path::new(config::FILE))? {
        writeln!(
            out,
            "\n{} now names this database, the ledger {ledger} and the signing key: `windledger \
             export`, `token`, `rebuild`, `import` and `serve` run in this folder use them \
             unless given other options.",
            config::FILE
        )?;
    } else {
        writeln!(
            out,
            "\n{} in this folder was not written by the demo: left as it is (the commands run \
             here follow it, not the demo).",
            config::FILE
        )?;
    }
    if options.no_serve {
        writeln!(
            out,
            "\nNothing is served (--no-serve). To serve this ledger with the tokens above, run \
             in this folder:\n  {}",
            serve_command(url, &files.key, options.listen)
        )?;
        writeln!(
            out,
            "then open {base}/ (the pages, in French; sign in with a token above) and \
             {base}/api/v1/docs (the API)."
        )?;
        return Ok(());
    }
    let token_of = |role: Role| {
        tokens
            .iter()
            .find(|(r, _, _)| *r == role)
            .map_or("", |(_, _, t)| t.as_str())
    };
    let api = format!("{base}/api/v1/ledgers/{ledger}");
    writeln!(
        out,
        "\nTry:\n  curl {api}/parties\n  curl {api}/decisions\n  curl {api}/local-returns?year=2024\n  \
         curl -H 'Authorization: Bearer {}' {api}/holders/{DEMO_SHAREHOLDER}/statement\n  \
         curl -H 'Authorization: Bearer {}' {api}/decisions-register\n  \
         curl {api}/checkpoint\n  open {base}/api/v1/docs\n\
         Pages (French): {base}/ (sign in at {base}/connexion with a token above)",
        token_of(Role::Shareholder),
        token_of(Role::Municipality),
    )?;
    writeln!(out)?;
    crate::server_cli::serve_store(
        store,
        signer,
        Vec::new(),
        vault,
        options.listen,
        &crate::server_cli::NetworkOptions::default(),
        out,
    )
    .await
}

/// The command line that serves the demo's database with its key on
/// `listen`: this program as it was called, every value given, so that
/// neither the environment nor a configuration changes what it serves. A
/// URL that may hold a password is left to `$DATABASE_URL`, and said so.
fn serve_command(url: &str, key: &Path, listen: std::net::SocketAddr) -> String {
    let program = std::env::args()
        .next()
        .unwrap_or_else(|| "windledger".into());
    let shown = redacted(url) == url;
    let command = format!(
        "{} serve --database-url {} --key-file {} --listen {listen}",
        shell_word(&program),
        if shown {
            shell_word(url)
        } else {
            "\"$DATABASE_URL\"".into()
        },
        shell_word(&key.display().to_string())
    );
    if shown {
        command
    } else {
        format!(
            "{command}\nwith DATABASE_URL set to the database URL given to the demo (not shown: \
             it may hold a password)"
        )
    }
}

/// `word` as a POSIX shell reads it back: as it is if it holds nothing the
/// shell would interpret, in single quotes otherwise.
fn shell_word(word: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// A fresh token per role on the demo ledger, for [`TOKEN_DAYS`] days; the
/// tokens of earlier runs are revoked, so that runs do not pile up tokens
/// that never end. Returns them and how many earlier ones were revoked.
async fn issue_tokens(
    store: &Store,
    ledger: &LedgerId,
) -> anyhow::Result<(Vec<(Role, Option<&'static str>, String)>, usize)> {
    let now = chrono::Utc::now();
    let mut revoked = 0;
    for earlier in store.tokens(Some(ledger.as_str())).await? {
        if earlier.label == TOKEN_LABEL
            && earlier.revoked_at.is_none()
            && store.revoke_token(&earlier.token_id, now).await?
        {
            revoked += 1;
        }
    }
    let expires = now + chrono::Duration::days(TOKEN_DAYS);
    let mut tokens = Vec::new();
    for (role, holder) in [
        (Role::Secretary, None),
        (Role::Municipality, Some(DEMO_MUNICIPALITY)),
        (Role::Operator, None),
        (Role::Shareholder, Some(DEMO_SHAREHOLDER)),
    ] {
        let issued = auth::issue(
            store,
            ledger,
            role,
            holder
                .map(HolderId::new)
                .transpose()?
                .map(auth::ActsFor::from),
            TOKEN_LABEL,
            Some(expires),
        )
        .await?;
        tokens.push((role, holder, issued.token));
    }
    Ok((tokens, revoked))
}

/// The ledger in a few lines: events per type, and the last ones.
async fn print_events(store: &Store, ledger: &LedgerId, out: &mut dyn Write) -> anyhow::Result<()> {
    const PAGE: u32 = 5_000;
    const LAST: usize = 5;
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    let mut last = std::collections::VecDeque::with_capacity(LAST);
    let mut after = 0;
    loop {
        let page = store.read_ledger(ledger, after, PAGE).await?;
        for e in &page {
            *counts.entry(e.event_type.clone()).or_default() += 1;
            if last.len() == LAST {
                last.pop_front();
            }
            let hash = e.hash.to_hex();
            last.push_back(format!(
                "  {:>8}  {:<24}  {:<22}  {}",
                e.position,
                e.stream_id.as_str(),
                e.event_type,
                hash.get(..12).unwrap_or(&hash)
            ));
        }
        match page.last() {
            Some(l) if page.len() == PAGE as usize => after = l.position,
            _ => break,
        }
    }
    writeln!(out, "Events in the ledger, by type:")?;
    for (event_type, n) in &counts {
        writeln!(out, "  {n:>6}  {event_type}")?;
    }
    writeln!(
        out,
        "The last ones:\n  {:>8}  {:<24}  {:<22}  hash",
        "position", "stream", "type"
    )?;
    for line in &last {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// The checkpoint an earlier run signed, checked against the key.
fn previous_checkpoint(
    path: &Path,
    verifier: &CheckpointVerifier,
) -> anyhow::Result<Option<Checkpoint>> {
    let note = match std::fs::read_to_string(path) {
        Ok(note) => note,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", path.display()));
        }
    };
    let checkpoint = verifier.verify(&note).with_context(|| {
        format!(
            "the checkpoint in {} does not verify with the demo's key",
            path.display()
        )
    })?;
    Ok(Some(checkpoint))
}

/// Signs a checkpoint of `head` and keeps the note for the next run.
fn sign(
    signer: &CheckpointSigner,
    ledger: &LedgerId,
    head: Head,
    path: &Path,
) -> anyhow::Result<String> {
    let checkpoint = Checkpoint::new(ledger.clone(), head, chrono::Utc::now());
    let note = signer.sign(&checkpoint);
    std::fs::write(path, &note)
        .with_context(|| format!("cannot write the checkpoint to {}", path.display()))?;
    Ok(note)
}

async fn export(store: &Store, ledger: &LedgerId, path: &Path) -> anyhow::Result<Head> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    let head = store
        .export_jsonl(ledger, &mut writer, |_, _| {})
        .await
        .with_context(|| format!("cannot export the ledger to {}", path.display()))?;
    writer
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(head)
}

/// What an auditor does with the export, the note and the published key,
/// without the database.
fn check_export(
    path: &Path,
    verifier_key: &CheckpointVerifier,
    note: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let verifier = CheckpointVerifier::parse(&verifier_key.to_string())?;
    let checkpoint = verifier
        .verify(note)
        .context("the checkpoint just signed does not verify")?;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    match verify_jsonl(
        BufReader::new(file),
        std::slice::from_ref(&verifier),
        &[checkpoint],
        |_| {},
    )? {
        Verification::Intact {
            head,
            checkpoints_checked,
        } => writeln!(
            out,
            "Offline check of {} against the signed checkpoint and the public key: intact, \
             every event sealed, {} events, {checkpoints_checked} checkpoint checked, head {}.",
            path.display(),
            head.size,
            head.hash
        )?,
        Verification::Broken(broken) => {
            bail!("the export {} does not verify: {broken}", path.display())
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_files_sit_next_to_a_sqlite_database() {
        let files = Files::for_database("sqlite:///srv/farm/ledger.sqlite?mode=rwc");
        assert_eq!(files.key, Path::new("/srv/farm/ledger.key"));
        assert_eq!(files.checkpoint, Path::new("/srv/farm/ledger.checkpoint"));
        assert_eq!(files.export, Path::new("/srv/farm/ledger.jsonl"));
        let files = Files::for_database("sqlite://windledger-demo.sqlite");
        assert_eq!(files.key, Path::new("windledger-demo.key"));
        let files = Files::for_database("postgres://u:p@db/farm");
        assert_eq!(files.export, Path::new("windledger-demo.jsonl"));
    }

    #[test]
    fn the_serve_command_reads_back_as_given() {
        assert_eq!(
            shell_word("sqlite://windledger-demo.sqlite"),
            "sqlite://windledger-demo.sqlite"
        );
        assert_eq!(shell_word("/tmp/my farm/x.key"), "'/tmp/my farm/x.key'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        let listen = "127.0.0.1:8080".parse().expect("an address");
        let command = serve_command("postgres://u:secret@db/farm", Path::new("k.key"), listen);
        assert!(command.contains(
            r#" serve --database-url "$DATABASE_URL" --key-file k.key --listen 127.0.0.1:8080"#
        ));
        assert!(!command.contains("secret"));
    }

    #[test]
    fn messages_never_show_credentials() {
        assert_eq!(
            redacted("postgres://user:secret@db.example:5432/farm?password=x"),
            "postgres://db.example:5432/farm"
        );
        assert_eq!(
            redacted("sqlite://windledger-demo.sqlite"),
            "sqlite://windledger-demo.sqlite"
        );
    }
}
