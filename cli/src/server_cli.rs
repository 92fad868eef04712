//! `windledger serve`, `windledger token issue|list|revoke` and
//! `windledger rebuild`: the command line over [`windledger_api`].

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use windledger_domain::budgeting::fund::TerritoryFund;
use windledger_domain::types::{HolderId, ResidentId};
use windledger_projections::cap_table::CapTable;
use windledger_projections::event::decode;
use windledger_projections::runner::{Fold, Projections};
use windledger_store::{
    CheckpointSigner, CheckpointVerifier, LedgerEventStore, LedgerId, Sealer, Store, StoreError,
    StoreOptions,
};

use windledger_api::auth::{self, ActsFor, Role};
use windledger_api::{AppState, ServeLimits};

use crate::options::{KeyOptions, LedgerOptions};
use crate::serve_within;
use windledger_app::services::{company_of, ledger_event, scan};

/// The default database: a SQLite file in the current folder.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://windledger.sqlite";

/// Where a command's database comes from, for the message when there is
/// none.
const DATABASE_SOURCES: &str = "give --database-url (or DATABASE_URL, or database_url in windledger.toml; `windledger demo` writes one)";

#[derive(clap::Args, Debug)]
pub struct ServeOptions {
    /// postgres://... or sqlite://path (a SQLite file is created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "WINDLEDGER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub keys: KeyOptions,
    /// Public keys the server used before a rotation, whose seals stay
    /// trusted (`<name>+<hex key id>+<base64 key>`; repeat, or separate
    /// with commas in the environment variable).
    #[arg(
        long = "earlier-public-key",
        env = "WINDLEDGER_EARLIER_PUBLIC_KEYS",
        value_delimiter = ','
    )]
    pub earlier_public_keys: Vec<String>,
    /// Log one JSON object per line instead of text.
    #[arg(long)]
    pub json_logs: bool,
    /// Serve reads only, from a PostgreSQL hot standby (or the primary):
    /// every write is refused, naming `--writer-url` (docs/deploy.md,
    /// "Read replicas"). Needs the writer's key files, to verify its seals.
    #[arg(long, env = "WINDLEDGER_READ_ONLY")]
    pub read_only: bool,
    #[command(flatten)]
    pub network: NetworkOptions,
}

/// How the server meets the network: its bounds, its proxies, who reads
/// its metrics.
#[derive(clap::Args, Debug, Clone)]
pub struct NetworkOptions {
    /// Connections served at once (default: 4,096, fewer if the open-file
    /// limit is lower: it keeps 256 files for the rest).
    #[arg(long, env = "WINDLEDGER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Connections at once from one client address (an IPv6 /64); a new
    /// one over it replaces the address's longest idle one.
    #[arg(
        long,
        env = "WINDLEDGER_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 64
    )]
    pub max_connections_per_address: usize,
    /// A reverse proxy in front of the server (repeat, or separate with
    /// commas): the client of a request it forwards is the last address of
    /// its X-Forwarded-For that is not a trusted proxy, for the limits per
    /// address; its connections have no bound of their own.
    #[arg(
        long = "trusted-proxy",
        env = "WINDLEDGER_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A secret /metrics then requires as a bearer token, from every
    /// caller; without it, /metrics answers callers on this machine only.
    #[arg(long, env = "WINDLEDGER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Where the pages are reached from outside (https://parc.example.fr),
    /// which convocations link to; default: http:// and the listening
    /// address.
    #[arg(long, env = "WINDLEDGER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The SMTP relay convocations are e-mailed through
    /// (smtp://host:port, smtp://user:password@host:587?tls=required,
    /// smtps://...); without it, the secretary prints letters only.
    #[arg(long, env = "WINDLEDGER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The e-mails' sender: "Name <address>".
    #[arg(long, env = "WINDLEDGER_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// The memory the open ledgers' read models may hold, in MiB: past
    /// it, each opening releases the ledgers idle the longest, rebuilt on
    /// their next request (docs/deploy.md, "Many farms").
    #[arg(
        long,
        env = "WINDLEDGER_LEDGER_MEMORY_MIB",
        default_value_t = windledger_app::ledgers::DEFAULT_BUDGET_MIB
    )]
    pub ledger_memory_mib: u64,
    /// Where writes go (the writer's public address): named when a
    /// read-only server refuses one.
    #[arg(long, env = "WINDLEDGER_WRITER_URL")]
    pub writer_url: Option<String>,
    /// The longest a read sent with `Windledger-Read-After` waits for the
    /// database to replay that position, in milliseconds (then 503).
    #[arg(
        long,
        env = "WINDLEDGER_READ_AFTER_WAIT_MS",
        default_value_t = windledger_api::replicas::DEFAULT_READ_AFTER_WAIT_MS,
        value_parser = clap::value_parser!(u64).range(0..=60_000)
    )]
    pub read_after_wait_ms: u64,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            max_connections_per_address: ServeLimits::default().max_connections_per_address,
            trusted_proxies: Vec::new(),
            metrics_token: None,
            public_url: None,
            smtp_url: None,
            smtp_from: None,
            ledger_memory_mib: windledger_app::ledgers::DEFAULT_BUDGET_MIB,
            writer_url: None,
            read_after_wait_ms: windledger_api::replicas::DEFAULT_READ_AFTER_WAIT_MS,
        }
    }
}

impl NetworkOptions {
    pub fn limits(&self) -> anyhow::Result<ServeLimits> {
        let defaults = ServeLimits::default();
        let limits = ServeLimits {
            max_connections: self.max_connections.unwrap_or(defaults.max_connections),
            max_connections_per_address: self.max_connections_per_address,
            ..defaults
        };
        if limits.max_connections == 0 || limits.max_connections_per_address == 0 {
            bail!("--max-connections and --max-connections-per-address must be at least 1");
        }
        Ok(limits)
    }
}

#[derive(clap::Args, Debug)]
pub struct TokenOptions {
    #[command(subcommand)]
    pub command: TokenCommand,
    /// The database holding the ledgers and their tokens: postgres://... or
    /// sqlite://path.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a token; its secret is printed once and stored only hashed.
    Issue {
        /// The ledger the token opens, one the database holds (a ledger is
        /// created by importing its history: `windledger import`).
        #[arg(long, env = "WINDLEDGER_LEDGER")]
        ledger: String,
        /// secretary, municipality, operator, shareholder or resident.
        #[arg(long)]
        role: String,
        /// The holder a shareholder's (or the municipality's) token acts
        /// for: one the ledger's company has registered.
        #[arg(long, conflicts_with = "resident")]
        holder: Option<String>,
        /// The resident a resident's token acts for: one the municipality
        /// has registered in the territory fund.
        #[arg(long)]
        resident: Option<String>,
        /// A note to recognise the token by in `token list`.
        #[arg(long, default_value = "")]
        label: String,
        /// Days until the token expires (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List {
        /// Only the tokens of this ledger [default: every ledger's].
        #[arg(long)]
        ledger: Option<String>,
    },
    /// Revoke a token: it stops opening anything within seconds, on running
    /// servers too.
    Revoke {
        /// The token's id, as `token list` shows it: the part of the token
        /// after `wl_`, before the second `_`.
        token_id: String,
    },
}

/// The ledger whose projections to rebuild from position 0.
#[derive(clap::Args, Debug)]
pub struct RebuildOptions {
    #[command(flatten)]
    pub source: LedgerOptions,
}

/// The file of a `sqlite:` URL (none for another database, or in memory).
pub(crate) fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    (!in_memory).then(|| PathBuf::from(path))
}

/// A SQLite database holds the access tokens' hashes: its file is made
/// readable and writable by its owner only, created so if it is missing
/// (SQLite gives its `-wal` and `-shm` files the database file's mode),
/// and taken away from group and others if it exists, with its `-wal`
/// and `-shm`. Nothing to do for PostgreSQL.
fn private_sqlite_file(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let cannot = |p: &Path| format!("cannot make {} private to its owner", p.display());
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            // A folder that does not exist: the database's own error says it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| cannot(&path)),
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
                    .with_context(|| cannot(&file))?;
            }
        }
    }
    Ok(())
}

/// A store that reads, verifies and keeps tokens, and appends no event.
/// A SQLite file that is not there is refused rather than created: a
/// mistyped path would otherwise answer for an empty database.
pub(crate) async fn connect(url: &str) -> anyhow::Result<Store> {
    if let Some(path) = sqlite_file(url)
        && !path.exists()
    {
        bail!(
            "there is no SQLite database at {}: {DATABASE_SOURCES}",
            path.display()
        );
    }
    open(StoreOptions::new(url), url).await
}

/// A store on `url`, created if it is a SQLite file that does not exist
/// yet: what a restoration writes into.
pub(crate) async fn create(url: &str) -> anyhow::Result<Store> {
    open(StoreOptions::new(url), url).await
}

/// A store whose appends are sealed with `signer`'s key.
pub async fn connect_sealed(url: &str, signer: &CheckpointSigner) -> anyhow::Result<Store> {
    open(StoreOptions::new(url).sealed_by(Sealer::new(signer)), url).await
}

/// The store `options` open at `url` (private to its owner if a SQLite
/// file), or an error naming the database without its password.
async fn open(options: StoreOptions, url: &str) -> anyhow::Result<Store> {
    private_sqlite_file(url)?;
    let shown = redacted(url);
    Store::connect(options).await.map_err(|e| match e {
        // The store's sentence quotes the URL whole.
        StoreError::UnsupportedUrl(_) => anyhow::anyhow!(
            "cannot open the database {shown}: it is neither postgres://... nor sqlite://..."
        ),
        other => anyhow::Error::new(other).context(format!("cannot open the database {shown}")),
    })
}

/// Parses public keys given on the command line.
pub fn public_keys(keys: &[String], option: &str) -> anyhow::Result<Vec<CheckpointVerifier>> {
    keys.iter()
        .map(|k| {
            CheckpointVerifier::parse(k).with_context(|| {
                format!("{option} {k:?} is not a public key (<name>+<hex key id>+<base64 key>)")
            })
        })
        .collect()
}

/// The URL without credentials or parameters, fit for messages.
pub fn redacted(url: &str) -> String {
    let url = url.split('?').next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// The signing key in `path` (it signs checkpoints and seals commits), or a
/// new one named `name` written there (readable by its owner only) if the
/// file does not exist.
pub fn signing_key(
    path: &Path,
    name: &str,
    out: &mut dyn Write,
) -> anyhow::Result<CheckpointSigner> {
    key_file(
        path,
        "Checkpoint signing key",
        |text| Ok(CheckpointSigner::from_secret_key(text)?),
        || {
            let signer = CheckpointSigner::generate(name)?;
            let text = signer.to_secret_key();
            Ok((signer, text))
        },
        out,
    )
}

/// The identity vault's master key in `path` (it wraps each person's key;
/// the database never holds it), or a new one written there (readable by
/// its owner only) if the file does not exist.
pub fn vault_key(path: &Path, out: &mut dyn Write) -> anyhow::Result<windledger_vault::MasterKey> {
    use windledger_vault::MasterKey;
    key_file(
        path,
        "Identity vault key",
        |text| Ok(MasterKey::from_text(text)?),
        || {
            let key = MasterKey::generate()?;
            let text = key.to_text().to_string();
            Ok((key, text))
        },
        out,
    )
}

/// A key read from `path` (its text, trimmed), or one `generate`d and
/// written there with mode 0600 if there is no such file.
fn key_file<K>(
    path: &Path,
    what: &str,
    read: impl Fn(&str) -> anyhow::Result<K>,
    generate: impl Fn() -> anyhow::Result<(K, String)>,
    out: &mut dyn Write,
) -> anyhow::Result<K> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = read(text.trim()).with_context(|| {
                format!(
                    "{} does not hold a {}; move it away to have a new one created",
                    path.display(),
                    what.to_lowercase()
                )
            })?;
            writeln!(out, "{what}: {} (reused).", path.display())?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, text) = generate()?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let cannot = || {
                format!(
                    "cannot write the {} to {}",
                    what.to_lowercase(),
                    path.display()
                )
            };
            let mut file = options.open(path).with_context(cannot)?;
            writeln!(file, "{text}").with_context(cannot)?;
            file.sync_all().with_context(cannot)?;
            writeln!(
                out,
                "{what}: {} (created, readable by you only).",
                path.display()
            )?;
            Ok(key)
        }
        Err(e) => Err(e)
            .with_context(|| format!("cannot read the {} {}", what.to_lowercase(), path.display())),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Serves `store` on `listen` until SIGINT or SIGTERM.
pub async fn serve_store(
    store: Store,
    signer: CheckpointSigner,
    earlier_keys: Vec<CheckpointVerifier>,
    vault: windledger_app::people::Vault,
    listen: SocketAddr,
    network: &NetworkOptions,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let limits = network.limits()?;
    if network
        .metrics_token
        .as_ref()
        .is_some_and(|t| t.trim().len() < 16)
    {
        bail!("--metrics-token must be at least 16 characters: use a long random value");
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let state = AppState::with_earlier_keys(store.clone(), signer, earlier_keys);
    state.hold_vault(vault);
    if let Some(secret) = &network.metrics_token {
        state.require_metrics_token(secret.trim());
    }
    state.trust_proxies(network.trusted_proxies.clone());
    state
        .ledgers
        .set_budget(network.ledger_memory_mib.saturating_mul(1024 * 1024));
    state.replicate(windledger_api::replicas::Replication {
        writer_url: network.writer_url.clone(),
        read_after_wait: std::time::Duration::from_millis(network.read_after_wait_ms),
    });
    match &network.public_url {
        Some(url) => state.publish_at(url),
        None => state.publish_at(&format!("http://{}", listener.local_addr()?)),
    }
    if let Some(url) = &network.smtp_url {
        let from = network
            .smtp_from
            .as_deref()
            .context("give --smtp-from, the sender of the e-mails, with --smtp-url")?;
        state.hold_mailer(windledger_mail::Mailer::new(
            &windledger_mail::SmtpSettings::parse(url, from)?,
        ));
    }
    // The ledgers the budget holds are opened meanwhile, so that their
    // first requests find them built; the rest open on first use (the
    // start does not wait on how many farms there are).
    let warming = state.clone();
    tokio::spawn(async move {
        match warming
            .ledgers
            .warm(&warming.store, &warming.trusted_keys)
            .await
        {
            Ok(opened) => tracing::info!(opened, "ledgers opened ahead of their requests"),
            Err(e) => tracing::warn!(error = %e, "cannot open the ledgers ahead of their requests"),
        }
    });
    writeln!(
        out,
        "Serving on http://{} (API reference at /api/v1/docs). Ctrl-C stops.",
        listener.local_addr()?
    )?;
    out.flush()?;
    serve_within(listener, state, limits, shutdown_signal()).await?;
    Ok(())
}

pub async fn run_serve(options: &ServeOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let earlier = public_keys(&options.earlier_public_keys, "--earlier-public-key")?;
    if options.read_only {
        // A reader's keys are the writer's: it never makes one of its own.
        options.keys.require_files()?;
    }
    let (signer, master) = options.keys.load(out)?;
    let vault = windledger_app::people::Vault::new(master);
    let (store, role) = if options.read_only {
        let reading = StoreOptions::new(&options.database_url).reading_only();
        let store = open(reading, &options.database_url).await?;
        (store, "read only: writes are refused; seals verified with")
    } else {
        let store = connect_sealed(&options.database_url, &signer).await?;
        (store, "commits sealed and checkpoints signed with")
    };
    writeln!(
        out,
        "Database: {} ({}); {role} {}",
        redacted(&options.database_url),
        store.backend_name(),
        signer.verifier()
    )?;
    serve_store(
        store,
        signer,
        earlier,
        vault,
        options.listen,
        &options.network,
        out,
    )
    .await
}

/// The sentence refusing `ledger` if the database does not hold it, naming
/// (the first few of) the ledgers it does hold.
pub(crate) async fn missing_ledger(
    store: &Store,
    ledger: &LedgerId,
    url: &str,
) -> anyhow::Result<Option<String>> {
    let ledgers = store.ledgers().await?;
    if ledgers.contains(ledger) {
        return Ok(None);
    }
    const NAMED: usize = 10;
    let mut held = ledgers
        .iter()
        .take(NAMED)
        .map(LedgerId::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match ledgers.len() {
        0 => held = "none".to_owned(),
        n if n > NAMED => held.push_str(&format!(" and {} more", n - NAMED)),
        _ => {}
    }
    Ok(Some(format!(
        "there is no ledger {ledger} in the database {} (its ledgers: {held})",
        redacted(url)
    )))
}

/// Whether the ledger's company has ever registered `holder`: the cap
/// table folded from the company's events, as the projections fold it.
async fn is_registered(
    store: &Store,
    ledger: &LedgerId,
    holder: &HolderId,
) -> anyhow::Result<bool> {
    let mut cap_table = CapTable::default();
    let stopped = scan(store, ledger, u64::MAX, |e| {
        if company_of(&e).is_none() {
            return ControlFlow::Continue(());
        }
        let event = ledger_event(e);
        match decode(&event).and_then(|decoded| cap_table.apply(&event, &decoded)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(reason) => ControlFlow::Break(format!("position {}: {reason}", event.position)),
        }
    })
    .await?;
    if let Some(stop) = stopped {
        bail!(
            "the holders of {ledger} cannot be read (the cap table stops at {stop}); check the ledger with windledger verify"
        );
    }
    Ok(cap_table.holder(holder).is_some())
}

pub async fn run_token(options: &TokenOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let url = options.database_url.as_str();
    let store = connect(url).await?;
    match &options.command {
        TokenCommand::Issue {
            ledger,
            role,
            holder,
            resident,
            label,
            expires_in_days,
        } => {
            let ledger = LedgerId::parse(ledger.as_str())?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let holder = holder
                .as_deref()
                .map(HolderId::new)
                .transpose()
                .context("bad --holder")?;
            let resident = resident
                .as_deref()
                .map(ResidentId::new)
                .transpose()
                .context("bad --resident")?;
            // A token opens what exists: a typo must not create a ledger
            // served as an empty farm, nor a space for no one.
            if let Some(missing) = missing_ledger(&store, &ledger, url).await? {
                bail!(
                    "{missing}: a ledger is created by importing its history \
                     (`windledger import FILE --ledger {ledger}`), not by issuing a token"
                );
            }
            if let Some(holder) = &holder
                && !is_registered(&store, &ledger, holder).await?
            {
                bail!(
                    "{holder} is not a holder of the ledger {ledger}: a token acts for a holder \
                     its company has registered (see `windledger export cap-table-csv --ledger {ledger}`)"
                );
            }
            if let Some(resident) = &resident {
                let fund = LedgerEventStore::<TerritoryFund>::new(store.clone(), ledger.clone())
                    .load_committed(TerritoryFund::ID)
                    .await?;
                if fund.commune_of(resident).is_none() {
                    bail!(
                        "{resident} is not a registered resident of the ledger {ledger}'s territory: \
                         the municipality registers residents first (POST /territory-fund/residents)"
                    );
                }
            }
            let acts_for = match (holder, resident) {
                (Some(h), _) => Some(ActsFor::Holder(h)),
                (None, Some(r)) => Some(ActsFor::Resident(r)),
                (None, None) => None,
            };
            let expires_at = expires_in_days.map(|d| Utc::now() + Duration::days(i64::from(d)));
            let issued = auth::issue(&store, &ledger, role, acts_for, label, expires_at).await?;
            writeln!(out, "{}", issued.token)?;
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "Token {} ({role} on {ledger}) issued. It is shown once: keep it now.",
                    issued.stored.token_id
                );
            }
        }
        TokenCommand::List { ledger } => {
            writeln!(
                out,
                "id\tledger\trole\tholder\tlabel\tcreated\texpires\trevoked"
            )?;
            for t in store.tokens(ledger.as_deref()).await? {
                let date = |d: Option<chrono::DateTime<Utc>>| {
                    d.map_or("-".to_owned(), |d| d.format("%Y-%m-%d %H:%M").to_string())
                };
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.token_id,
                    t.ledger,
                    t.role,
                    t.holder.as_deref().unwrap_or("-"),
                    t.label,
                    date(Some(t.created_at)),
                    date(t.expires_at),
                    date(t.revoked_at),
                )?;
            }
        }
        TokenCommand::Revoke { token_id } => {
            if !store.revoke_token(token_id, Utc::now()).await? {
                bail!("no token {token_id} to revoke (unknown, or already revoked)");
            }
            writeln!(out, "Token {token_id} revoked.")?;
        }
    }
    Ok(())
}

pub async fn run_rebuild(options: &RebuildOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let (store, ledger) = options.source.open(None).await?;
    let head = store.head(&ledger).await?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(head.size);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} events ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let mut projections = Projections::default();
    let mut events = std::pin::pin!(
        store
            .subscribe(ledger.clone(), 0)
            .take(usize::try_from(head.size)?)
    );
    while let Some(e) = events.next().await {
        projections.apply(&ledger_event(e?));
        bar.set_position(projections.position());
        if let Some(f) = projections.failure() {
            bar.abandon();
            bail!("{f}");
        }
    }
    bar.finish_and_clear();
    let elapsed = start.elapsed();
    writeln!(
        out,
        "Rebuilt every projection of {ledger} from position 0 to {} in {:.1} s ({:.0} events/s).",
        projections.position(),
        elapsed.as_secs_f64(),
        head.size as f64 / elapsed.as_secs_f64().max(1e-9)
    )?;
    for status in projections.status() {
        writeln!(out, "  {}: position {}", status.projection, status.position)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file() {
        assert_eq!(
            sqlite_file("sqlite:///srv/farm.sqlite?mode=rwc"),
            Some(PathBuf::from("/srv/farm.sqlite"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://db/farm"), None);
    }
}
