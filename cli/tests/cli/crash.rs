//! The server killed with SIGKILL while 16 clients append commands, round
//! after round at random moments, on both backends: after every restart,
//! each command the server acknowledged is in the ledger exactly once with
//! the receipts it was answered with, no command is half-written, a client
//! that sends an unanswered command again with its `Idempotency-Key` sees
//! one effect, the chain verifies against a checkpoint signed at every
//! start, and the projections of a server that applied events live equal
//! those of a server that rebuilt them from zero.
//!
//! The real binary runs as a child process (`windledger serve`), so that
//! it can be killed (`Child::kill` is SIGKILL on Unix). The moments are
//! drawn from a seeded PRNG: the seed is printed, and
//! `WINDLEDGER_CRASH_SEED=<seed>` replays the same kill delays and commands
//! (the interleaving of 16 clients remains the scheduler's).
//! `WINDLEDGER_CRASH_ROUNDS` changes the number of kills (default 24).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use windledger_fixtures::rng::Rng;

use super::support::success;
use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{
    Checkpoint, CheckpointVerifier, LedgerId, Store, StoreOptions, Verification,
};

const BIN: &str = env!("CARGO_BIN_EXE_windledger");
use windledger_fixtures::reference::LEDGER;
const CLIENTS: usize = 16;
const DEFAULT_ROUNDS: u32 = 24;
/// The meetings convened for the test: ballots go to them all along.
const MEETINGS: [&str; 3] = ["crash-1", "crash-2", "crash-3"];
/// Acknowledged commands sent again after each restart.
const RESENT_PER_ROUND: usize = 12;
/// New commands of the last, uninterrupted burst.
const FINAL_BURST: usize = 600;
/// How long one request may take before it counts as a hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to start and to be ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One PostgreSQL and one SQLite campaign at a time: both share 2 cores
/// with the compiler, and the kills should land among appends, not among
/// the other campaign's.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commands_survive_sigkill_exactly_once_on_sqlite() {
    let _serial = ONE_AT_A_TIME.lock().await;
    campaign(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commands_survive_sigkill_exactly_once_on_postgres() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    campaign(db).await;
}

// ---------------------------------------------------------------- the story

/// A number from the environment, if set.
fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
    )
}

async fn campaign(db: TestDatabase) {
    let seed = env_number("WINDLEDGER_CRASH_SEED").unwrap_or_else(|| {
        let mut bytes = [0; 8];
        getrandom::fill(&mut bytes).expect("random bytes for the seed");
        u64::from_le_bytes(bytes)
    });
    let rounds = env_number("WINDLEDGER_CRASH_ROUNDS").unwrap_or(DEFAULT_ROUNDS);
    let backend = match db.backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    };
    eprintln!(
        "crash test on {backend}: seed {seed}, {rounds} kills (replay with WINDLEDGER_CRASH_SEED={seed})"
    );
    let began = Instant::now();
    let mut c = Campaign::prepare(db, backend, seed).await;
    eprintln!(
        "  [{backend}] reference farm imported, tokens issued in {:.1} s",
        began.elapsed().as_secs_f64()
    );

    for round in 1..=rounds {
        c.round = round;
        let server = c.start().await;
        if round == 1 {
            c.set_up_meetings(&server);
        }
        let (kill_after, during_retries) = if c.kills.below(5) == 0 {
            (Duration::from_millis(c.kills.below(150)), true)
        } else {
            (Duration::from_millis(150 + c.kills.below(1_350)), false)
        };
        let queue = c.retries_and_resends(RESENT_PER_ROUND);
        let retried = queue.len();
        let observed =
            tokio::task::block_in_place(|| c.traffic(&server, queue, None, Some(kill_after)));
        server.kill_checked(&mut c);
        let sent = observed.len();
        c.absorb(observed, true);
        c.check_ledger(false).await;
        c.fail_if_any();
        eprintln!(
            "  [{backend}] round {round:>2}: SIGKILL after {:>4} ms{}, {sent} requests ({retried} resent), {} unanswered",
            kill_after.as_millis(),
            if during_retries { " (early)" } else { "" },
            c.pending().len(),
        );
    }

    // The last server is not killed: every unanswered command is sent again
    // (with some acknowledged ones), then a burst of new ones is applied
    // live, so that its projections are not only the rebuild at its start.
    c.round = rounds + 1;
    let live = c.start().await;
    let queue = c.retries_and_resends(40);
    let observed = tokio::task::block_in_place(|| c.traffic(&live, queue, None, None));
    c.absorb(observed, false);
    let observed =
        tokio::task::block_in_place(|| c.traffic(&live, VecDeque::new(), Some(FINAL_BURST), None));
    c.absorb(observed, false);
    c.check_ledger(true).await;
    c.fail_if_any();

    // The live server's projections against a rebuild from zero.
    let live_reads = tokio::task::block_in_place(|| c.snapshot(&live));
    live.kill_checked(&mut c);
    let fresh = c.start().await;
    let fresh_reads = tokio::task::block_in_place(|| c.snapshot(&fresh));
    drop(fresh);
    assert_eq!(
        live_reads.keys().collect::<Vec<_>>(),
        fresh_reads.keys().collect::<Vec<_>>()
    );
    for (route, live_value) in &live_reads {
        let fresh_value = &fresh_reads[route];
        if let Some(difference) = first_difference(live_value, fresh_value, "") {
            c.problem(format!(
                "GET {route}: the live projections differ from a rebuild from zero at {difference}"
            ));
        }
    }
    c.fail_if_any();
    c.audit_offline();
    c.fail_if_any();

    let t = &c.tally;
    eprintln!(
        "  [{backend}] done in {:.1} s: {} kills, {} server starts, {} requests; {} commands acknowledged \
         ({} events), {} refused by the rules {:?}; {} unanswered (of which {} never connected) -> \
         on resend {} replayed, {} applied, {} refused; {} acknowledged resent and replayed; \
         {} transient errors {:?}; {} routes equal live and rebuilt",
        began.elapsed().as_secs_f64(),
        rounds,
        c.starts,
        t.sent,
        c.records
            .values()
            .filter(|r| matches!(r.fate, Fate::Acked { .. }))
            .count(),
        t.events,
        c.records
            .values()
            .filter(|r| matches!(r.fate, Fate::Refused(_)))
            .count(),
        t.refusals,
        t.no_answer,
        t.never_connected,
        t.unknown_replayed,
        t.unknown_applied,
        t.unknown_refused,
        t.acked_replayed,
        t.transient.values().sum::<usize>(),
        t.transient,
        live_reads.len(),
    );
}

// ---------------------------------------------------------------- state

/// Who sends a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Secretary,
    Operator,
}

struct Token {
    secret: String,
    /// The `<id>` of `wl_<id>_<secret>`: command ids are `api:<id>:<key>`.
    id: String,
}

/// A command as a client sends it, every time with the same key and body.
#[derive(Clone, Debug)]
struct Job {
    key: String,
    who: Who,
    path: String,
    body: String,
    /// Events the command records when applied.
    events: usize,
}

/// Where an event landed, as a receipt or as the ledger holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Receipt {
    position: u64,
    hash: String,
    stream: String,
    event_type: String,
}

/// What the clients know of a command.
#[derive(Clone, Debug)]
enum Fate {
    /// Never answered: it may or may not be in the ledger.
    Unknown,
    /// Answered 201 with these receipts, in this round.
    Acked { receipts: Vec<Receipt>, round: u32 },
    /// Refused by the ledger's rules (this rule).
    Refused(String),
}

struct Record {
    job: Job,
    command_id: String,
    fate: Fate,
    /// Round of the first send.
    first_round: u32,
}

/// One answer (or its absence) as a client saw it.
enum Outcome {
    Acked {
        receipts: Vec<Receipt>,
        replayed: bool,
    },
    Refused {
        rule: String,
    },
    /// No answer: the connection failed (`connected`: the request may
    /// have reached the server).
    NoAnswer {
        connected: bool,
        error: String,
    },
    /// Any other status.
    Status {
        status: u16,
        body: String,
    },
}

struct Observed {
    job: Job,
    outcome: Outcome,
}

#[derive(Default)]
struct Tally {
    sent: usize,
    events: usize,
    no_answer: usize,
    never_connected: usize,
    unknown_replayed: usize,
    unknown_applied: usize,
    unknown_refused: usize,
    acked_replayed: usize,
    refusals: BTreeMap<String, usize>,
    transient: BTreeMap<u16, usize>,
}

struct Campaign {
    backend: &'static str,
    seed: u64,
    /// The kill delays: drawn from a stream of their own, so that a seed
    /// replays them whatever the clients did.
    kills: Rng,
    /// Which acknowledged commands are sent again.
    picks: Rng,
    db: TestDatabase,
    store: Store,
    ledger: LedgerId,
    folder: tempfile::TempDir,
    secretary: Token,
    operator: Token,
    /// Position of the last event imported: everything after it is the test's.
    base: u64,
    round: u32,
    starts: u32,
    /// By key.
    records: BTreeMap<String, Record>,
    /// Command id -> key.
    command_ids: HashMap<String, String>,
    /// The head each server start signed.
    checkpoints: Vec<Checkpoint>,
    verifier: Option<CheckpointVerifier>,
    commands: Commands,
    tally: Tally,
    problems: Vec<String>,
}

impl Campaign {
    async fn prepare(db: TestDatabase, backend: &'static str, seed: u64) -> Self {
        let folder = tempfile::tempdir().expect("a folder for the server");
        let farm =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ailes-de-taillard.jsonl");
        let farm = farm.to_str().expect("a UTF-8 path");
        // Sealed with the key the server will use (Server::start).
        success(
            &windledger(
                folder.path(),
                &[
                    "import",
                    "--database-url",
                    &db.url,
                    "--key-file",
                    "signing.key",
                    farm,
                ],
            ),
            "import the reference farm",
        );
        let token = |role: &str| {
            let out = success(
                &windledger(
                    folder.path(),
                    &[
                        "token",
                        "issue",
                        "--ledger",
                        LEDGER,
                        "--role",
                        role,
                        "--database-url",
                        &db.url,
                    ],
                ),
                "issue a token",
            );
            let secret = out.trim().to_owned();
            let id = secret
                .strip_prefix("wl_")
                .and_then(|s| s.split_once('_'))
                .map(|(id, _)| id.to_owned())
                .unwrap_or_else(|| panic!("a token wl_<id>_<secret>, not {secret:?}"));
            Token { secret, id }
        };
        let secretary = token("secretary");
        let operator = token("operator");
        let store = Store::connect(StoreOptions::new(&db.url))
            .await
            .expect("the test's database opens");
        let ledger = LedgerId::parse(LEDGER).expect("a ledger id");
        let base = store.head(&ledger).await.expect("the imported ledger").size;
        Self {
            backend,
            seed,
            kills: Rng::xoshiro(seed),
            picks: Rng::xoshiro(seed.rotate_left(21)),
            db,
            store,
            ledger,
            folder,
            secretary,
            operator,
            base,
            round: 0,
            starts: 0,
            records: BTreeMap::new(),
            command_ids: HashMap::new(),
            checkpoints: Vec::new(),
            verifier: None,
            commands: Commands {
                rng: Rng::xoshiro(!seed),
                round: 0,
                made: 0,
                voters: Vec::new(),
                citizens: Vec::new(),
                lenders: Vec::new(),
            },
            tally: Tally::default(),
            problems: Vec::new(),
        }
    }

    fn token(&self, who: Who) -> &Token {
        match who {
            Who::Secretary => &self.secretary,
            Who::Operator => &self.operator,
        }
    }

    fn problem(&mut self, what: String) {
        self.problems.push(what);
    }

    /// Fails the test with every problem found, and how to replay it.
    fn fail_if_any(&self) {
        if self.problems.is_empty() {
            return;
        }
        let shown: Vec<&str> = self.problems.iter().take(40).map(String::as_str).collect();
        panic!(
            "{} problem(s) on {} (seed {}, round {}; replay with WINDLEDGER_CRASH_SEED={}):\n  {}{}",
            self.problems.len(),
            self.backend,
            self.seed,
            self.round,
            self.seed,
            shown.join("\n  "),
            if self.problems.len() > shown.len() {
                "\n  ..."
            } else {
                ""
            }
        );
    }

    /// Starts a server on the database (after a crash: on what the crash
    /// left), waits until it is ready and has it sign its head.
    async fn start(&mut self) -> Server {
        let head = self.store.head(&self.ledger).await.expect("the head");
        self.starts += 1;
        let log = self
            .folder
            .path()
            .join(format!("server-{}.log", self.starts));
        let round = self.round;
        let server = tokio::task::block_in_place(|| {
            Server::start(self.folder.path(), &self.db.url, log, round)
        });
        // The server sees exactly what the database holds: sign it. It
        // may still be verifying the chain it started on (a loaded machine
        // takes longer than the five seconds a checkpoint waits for it):
        // 503 says to try again.
        let deadline = Instant::now() + Duration::from_secs(60);
        let answer = loop {
            let answer = request(server.addr, "GET", &api("/checkpoint"), None, None, None)
                .unwrap_or_else(|e| panic!("GET /checkpoint after start {}: {e}", self.starts));
            if answer.status != 503 || Instant::now() >= deadline {
                break answer;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let body = answer.json();
        let verifier = self.verifier.get_or_insert_with(|| {
            CheckpointVerifier::parse(body["public_key"].as_str().unwrap_or_default())
                .expect("the server's public key")
        });
        let checkpoint = verifier
            .verify(body["checkpoint"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| {
                panic!("a checkpoint signed by the server's key, not {body} ({e:?})")
            });
        if checkpoint.size != head.size || checkpoint.head != head.hash {
            self.problem(format!(
                "round {round}: the restarted server signed size {} while the database holds {}",
                checkpoint.size, head.size
            ));
        }
        self.checkpoints.push(checkpoint);
        server
    }

    /// Convenes the meetings the ballots go to and reads who is on their
    /// rolls and who holds shares.
    fn set_up_meetings(&mut self, server: &Server) {
        for meeting in MEETINGS {
            let convene = Job {
                key: format!("setup-convene-{meeting}"),
                who: Who::Secretary,
                path: api("/meetings"),
                body: json!({
                    "meeting": meeting, "kind": "ordinary_general_meeting",
                    "call": {"call": "first"}, "record_date": "2025-12-31",
                    // Ballots are decided on the server's clock: the
                    // window is open for the whole test.
                    "opens_at": chrono::Utc::now() - chrono::Duration::hours(1),
                    "closes_at": chrono::Utc::now() + chrono::Duration::days(30),
                    "agenda": [{"decision_kind": "ordinary", "purpose": {"purpose": "general"},
                                "text": "Avis consultatif sur le repowering"}],
                    "members": [], "convened_on": "2025-12-15"
                })
                .to_string(),
                events: 1,
            };
            let open = Job {
                key: format!("setup-open-{meeting}"),
                who: Who::Secretary,
                path: api(&format!("/meetings/{meeting}/voting")),
                body: json!({}).to_string(),
                events: 1,
            };
            for job in [convene, open] {
                let outcome = send(server.addr, self.token(job.who), &job);
                assert!(
                    matches!(outcome, Outcome::Acked { .. }),
                    "setting up {meeting}: {}",
                    describe(&outcome)
                );
                self.absorb(vec![Observed { job, outcome }], false);
            }
        }
        let token = self.secretary.secret.clone();
        let read = |path: &str| {
            let answer = request(server.addr, "GET", &api(path), Some(&token), None, None)
                .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            assert_eq!(answer.status, 200, "GET {path}: {}", answer.text());
            answer.json()
        };
        for meeting in MEETINGS {
            let register = read(&format!("/meetings/{meeting}"));
            let voters: Vec<String> = register["roll"]["roll"]["voters"]
                .as_array()
                .expect("the roll's voters")
                .iter()
                .filter_map(|v| v["holder"].as_str().map(str::to_owned))
                .collect();
            assert!(voters.len() > 100, "{meeting}'s roll: {voters:?}");
            self.commands.voters.push((meeting.to_owned(), voters));
        }
        let rows = read("/cap-table");
        for row in rows["rows"].as_array().expect("cap-table rows") {
            let holder = row["holder"].as_str().expect("a holder").to_owned();
            if row["college"] == "citoyens"
                && row["kind"] == "individual"
                && row["shares"].as_u64().unwrap_or(0) >= 10
            {
                self.commands.citizens.push(holder.clone());
            }
            self.commands.lenders.push(holder);
        }
        let citizens = &self.commands.citizens;
        assert!(citizens.len() > 50, "citizens: {citizens:?}");
    }

    /// The commands still unanswered.
    fn pending(&self) -> Vec<&Record> {
        self.records
            .values()
            .filter(|r| matches!(r.fate, Fate::Unknown))
            .collect()
    }

    /// Every unanswered command, then up to `resend` acknowledged ones at
    /// random, each with its key and body.
    fn retries_and_resends(&mut self, resend: usize) -> VecDeque<Job> {
        let mut queue: VecDeque<Job> = self.pending().iter().map(|r| r.job.clone()).collect();
        let acked: Vec<Job> = self
            .records
            .values()
            .filter(|r| matches!(r.fate, Fate::Acked { .. }))
            .map(|r| r.job.clone())
            .collect();
        for _ in 0..resend.min(acked.len()) {
            let job = self.picks.pick(&acked);
            if !queue.iter().any(|j| j.key == job.key) {
                queue.push_back(job.clone());
            }
        }
        queue
    }

    /// 16 clients send `queue`, then new commands (`new` of them if given,
    /// else until the kill) to `server`; `kill`: a SIGKILL after this delay
    /// while they do. Returns what each request got.
    fn traffic(
        &mut self,
        server: &Server,
        queue: VecDeque<Job>,
        new: Option<usize>,
        kill: Option<Duration>,
    ) -> Vec<Observed> {
        let stop = AtomicBool::new(false);
        // Without a kill to end it, only what was asked.
        let limit = match (new, kill) {
            (Some(n), _) => n,
            (None, Some(_)) => usize::MAX,
            (None, None) => 0,
        };
        let work = Mutex::new((queue, limit));
        self.commands.round = self.round;
        let commands = Mutex::new(&mut self.commands);
        let (secretary, operator) = (&self.secretary.secret, &self.operator.secret);
        let next = || -> Option<Job> {
            let mut work = work.lock().expect("the queue");
            if let Some(job) = work.0.pop_front() {
                return Some(job);
            }
            if work.1 == 0 {
                return None;
            }
            work.1 -= 1;
            Some(commands.lock().expect("the commands").new_job())
        };
        let addr = server.addr;
        std::thread::scope(|scope| {
            let clients: Vec<_> = (0..CLIENTS)
                .map(|_| {
                    scope.spawn(|| {
                        let mut seen = Vec::new();
                        let mut http = Http::new(addr);
                        while !stop.load(Ordering::SeqCst) {
                            let Some(job) = next() else { break };
                            let token = match job.who {
                                Who::Secretary => secretary,
                                Who::Operator => operator,
                            };
                            let outcome = http.send(token, &job);
                            let lost = matches!(outcome, Outcome::NoAnswer { .. });
                            seen.push(Observed { job, outcome });
                            if lost {
                                // The server is being killed: do not spin.
                                std::thread::sleep(Duration::from_millis(10));
                            }
                        }
                        seen
                    })
                })
                .collect();
            if let Some(after) = kill {
                std::thread::sleep(after);
                server.sigkill();
                stop.store(true, Ordering::SeqCst);
            }
            clients
                .into_iter()
                .flat_map(|c| c.join().expect("a client thread"))
                .collect()
        })
    }

    /// Records what the clients saw, checking each answer against what
    /// was answered before for the same key. `killed`: the server was
    /// killed meanwhile (else every request must have had an answer).
    fn absorb(&mut self, observed: Vec<Observed>, killed: bool) {
        let round = self.round;
        let head_at_start = self.checkpoints.last().map_or(self.base, |c| c.size);
        for Observed { job, outcome } in observed {
            self.tally.sent += 1;
            let key = job.key.clone();
            if !self.records.contains_key(&key) {
                let command_id = format!("api:{}:{}", self.token(job.who).id, key);
                self.command_ids.insert(command_id.clone(), key.clone());
                self.records.insert(
                    key.clone(),
                    Record {
                        job,
                        command_id,
                        fate: Fate::Unknown,
                        first_round: round,
                    },
                );
            }
            let record = self.records.get_mut(&key).expect("just inserted");
            let first_round = record.first_round;
            let mut problem = None;
            match (&record.fate, outcome) {
                (_, Outcome::NoAnswer { connected, error }) => {
                    self.tally.no_answer += 1;
                    if !connected {
                        self.tally.never_connected += 1;
                    }
                    if !killed {
                        problem = Some(format!(
                            "round {round}: key {key} got no answer from a server nobody killed: {error}"
                        ));
                    }
                }
                (Fate::Unknown, Outcome::Acked { receipts, replayed }) => {
                    let sent_before = first_round < round;
                    // A replayed answer is of a commit before this server
                    // started; an applied one, after.
                    let before = receipts.iter().all(|r| r.position <= head_at_start);
                    let after = receipts.iter().all(|r| r.position > head_at_start);
                    if replayed && !before {
                        problem = Some(format!(
                            "round {round}: key {key} (first sent in round {first_round}) was answered \
                             Idempotent-Replayed with positions {:?} not recorded before this server \
                             started (head {head_at_start})",
                            positions(&receipts)
                        ));
                    } else if !replayed && !after {
                        problem = Some(format!(
                            "round {round}: key {key} (first sent in round {first_round}) was answered as \
                             newly applied with positions {:?} recorded before this server started \
                             (head {head_at_start}): its key was not recognised",
                            positions(&receipts)
                        ));
                    }
                    if receipts.len() != record.job.events {
                        problem = Some(format!(
                            "round {round}: key {key} was acknowledged with {} receipts, expected {}",
                            receipts.len(),
                            record.job.events
                        ));
                    }
                    if sent_before {
                        if replayed {
                            self.tally.unknown_replayed += 1;
                        } else {
                            self.tally.unknown_applied += 1;
                        }
                    }
                    self.tally.events += receipts.len();
                    record.fate = Fate::Acked { receipts, round };
                }
                (Fate::Unknown, Outcome::Refused { rule }) => {
                    if first_round < round {
                        self.tally.unknown_refused += 1;
                    }
                    *self.tally.refusals.entry(rule.clone()).or_default() += 1;
                    record.fate = Fate::Refused(rule);
                }
                (
                    Fate::Acked {
                        receipts: before,
                        round: acked_in,
                    },
                    Outcome::Acked { receipts, replayed },
                ) => {
                    if !replayed || &receipts != before {
                        problem = Some(format!(
                            "round {round}: acknowledged key {key} (round {acked_in}) sent again got \
                             {} {:?} instead of a replay of {:?}",
                            if replayed {
                                "a replay of"
                            } else {
                                "a new application with"
                            },
                            positions(&receipts),
                            positions(before)
                        ));
                    } else {
                        self.tally.acked_replayed += 1;
                    }
                }
                (
                    Fate::Acked {
                        round: acked_in, ..
                    },
                    Outcome::Refused { rule },
                ) => {
                    problem = Some(format!(
                        "round {round}: acknowledged key {key} (round {acked_in}) sent again was refused ({rule})"
                    ));
                }
                (Fate::Refused(_), _) => {
                    problem = Some(format!(
                        "round {round}: key {key} was sent again after a refusal (a test bug)"
                    ));
                }
                (_, Outcome::Status { status, body }) => {
                    if matches!(status, 409 | 503) {
                        *self.tally.transient.entry(status).or_default() += 1;
                    } else {
                        problem = Some(format!(
                            "round {round}: key {key} ({} {}) got {status}: {body}",
                            record.job.path, record.job.body
                        ));
                    }
                }
            }
            if let Some(p) = problem {
                self.problem(p);
            }
        }
    }

    /// Reads the ledger after the import and checks it against what the
    /// clients know: every acknowledged command once with its receipts,
    /// nothing refused, nothing half-written, nothing nobody sent; and the
    /// chain, against every checkpoint signed so far. `last`: nothing may
    /// be left unanswered.
    async fn check_ledger(&mut self, last: bool) {
        let round = self.round;
        let mut by_command: HashMap<String, Vec<Receipt>> = HashMap::new();
        let mut after = self.base;
        loop {
            let page = self
                .store
                .read_ledger(&self.ledger, after, 5_000)
                .await
                .expect("the ledger reads");
            let Some(last_event) = page.last() else { break };
            after = last_event.position;
            for e in page {
                let receipt = Receipt {
                    position: e.position,
                    hash: e.hash.to_hex(),
                    stream: e.stream_id.to_string(),
                    event_type: e.event_type.clone(),
                };
                match e.metadata.command_id {
                    Some(id) if self.command_ids.contains_key(&id) => {
                        by_command.entry(id).or_default().push(receipt);
                    }
                    other => self.problems.push(format!(
                        "round {round}: the event at position {} ({} on {}) carries command id {other:?}, \
                         which no client sent",
                        e.position, e.event_type, e.stream_id
                    )),
                }
            }
        }
        let mut problems = Vec::new();
        for (key, record) in &self.records {
            let recorded = by_command
                .get(&record.command_id)
                .map_or(&[][..], Vec::as_slice);
            match &record.fate {
                Fate::Acked {
                    receipts,
                    round: acked_in,
                } => {
                    if recorded != receipts.as_slice() {
                        let what = if recorded.is_empty() {
                            "LOST"
                        } else if recorded.len() > receipts.len() {
                            "DUPLICATED"
                        } else {
                            "CHANGED"
                        };
                        problems.push(format!(
                            "round {round}: acknowledged key {key} (acked in round {acked_in}, first sent in \
                             round {}) is {what}: receipts {:?}, ledger {:?}",
                            record.first_round,
                            positions(receipts),
                            positions(recorded)
                        ));
                    }
                }
                Fate::Refused(rule) => {
                    if !recorded.is_empty() {
                        problems.push(format!(
                            "round {round}: key {key} was refused ({rule}) yet the ledger holds it at {:?}",
                            positions(recorded)
                        ));
                    }
                }
                Fate::Unknown => {
                    if !recorded.is_empty() && recorded.len() != record.job.events {
                        problems.push(format!(
                            "round {round}: unanswered key {key} (first sent in round {}) is {}: \
                             {} of {} events, at {:?}",
                            record.first_round,
                            if recorded.len() < record.job.events {
                                "HALF-WRITTEN"
                            } else {
                                "DUPLICATED"
                            },
                            recorded.len(),
                            record.job.events,
                            positions(recorded)
                        ));
                    }
                    if last {
                        problems.push(format!(
                            "key {key} (first sent in round {}) is still unanswered at the end",
                            record.first_round
                        ));
                    }
                }
            }
        }
        self.problems.extend(problems);
        let keys: Vec<CheckpointVerifier> = self.verifier.iter().cloned().collect();
        match self
            .store
            .verify(&self.ledger, &keys, &self.checkpoints, |_, _| {})
            .await
        {
            Ok(Verification::Intact {
                checkpoints_checked,
                ..
            }) if checkpoints_checked == self.checkpoints.len() => {}
            other => self.problem(format!(
                "round {round}: the chain does not verify against the {} checkpoints signed at each start: {other:?}",
                self.checkpoints.len()
            )),
        }
    }

    /// The read routes whose answers come from the projections, as
    /// parsed JSON, including every holder's statement.
    fn snapshot(&self, server: &Server) -> BTreeMap<String, Value> {
        let token = &self.secretary.secret;
        let read = |path: &str| -> Value {
            let answer = request(server.addr, "GET", &api(path), Some(token), None, None)
                .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            assert_eq!(answer.status, 200, "GET {path}: {}", answer.text());
            answer.json()
        };
        let mut routes: Vec<String> = [
            "/company",
            "/parties",
            "/cap-table",
            "/cap-table?as_of=2026-01-12",
            "/holders",
            "/meetings",
            "/decisions",
            "/decisions-register",
            "/production?year=2025",
            "/local-returns?year=2025",
            "/local-returns",
        ]
        .map(str::to_owned)
        .to_vec();
        routes.extend(MEETINGS.map(|m| format!("/meetings/{m}")));
        let mut out: BTreeMap<String, Value> =
            routes.iter().map(|r| (r.clone(), read(r))).collect();
        let holders: Vec<String> = out["/holders"]
            .as_array()
            .expect("holders")
            .iter()
            .filter_map(|h| h["holder"].as_str().map(str::to_owned))
            .collect();
        for holder in holders {
            let route = format!("/holders/{holder}/statement");
            out.insert(route.clone(), read(&route));
        }
        out
    }

    /// `windledger export events` then `windledger verify`: the chain, the
    /// signed checkpoint of the last start and every tally recomputed, as
    /// an auditor would.
    fn audit_offline(&mut self) {
        let export = self.folder.path().join("ledger.jsonl");
        let export = export.to_str().expect("a UTF-8 path");
        success(
            &windledger(
                self.folder.path(),
                &[
                    "export",
                    "events",
                    "--ledger",
                    LEDGER,
                    "--database-url",
                    &self.db.url,
                    "-o",
                    export,
                ],
            ),
            "export the ledger",
        );
        let key = self
            .verifier
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let verified = windledger(
            self.folder.path(),
            &["verify", export, "--public-key", &key],
        );
        if !verified.status.success() {
            self.problem(format!(
                "windledger verify of the export failed: {}{}",
                String::from_utf8_lossy(&verified.stdout),
                String::from_utf8_lossy(&verified.stderr)
            ));
        }
    }
}

/// Makes the commands the clients send, from a seeded PRNG.
struct Commands {
    rng: Rng,
    /// The round the keys are made in.
    round: u32,
    made: u64,
    /// Meeting -> its voters.
    voters: Vec<(String, Vec<String>)>,
    /// Citizens holding shares, between whom shares move.
    citizens: Vec<String>,
    /// Holders of shares on the advances' date.
    lenders: Vec<String>,
}

impl Commands {
    /// A command nobody sent yet: a ballot (recast at will), a cost or a
    /// revenue line of 2025 (ids of their own), a transfer of one share
    /// between citizens, a new current-account advance (a stream of its
    /// own), or a ballot for a holder on no roll. Each records one event if accepted.
    fn new_job(&mut self) -> Job {
        self.made += 1;
        let key = format!("r{}-{}", self.round, self.made);
        let month = format!("2025-{:02}", 1 + self.rng.below(12));
        let rng = &mut self.rng;
        let (who, path, body) = match rng.below(100) {
            0..38 => {
                let (meeting, voters) = rng.pick(&self.voters);
                let voter = rng.pick(voters);
                let choice = *rng.pick(&["for", "against", "abstain"]);
                (
                    Who::Secretary,
                    api(&format!("/meetings/{meeting}/ballots")),
                    json!({"voter": voter, "cast_by": voter,
                           "choices": {format!("{meeting}.1"): choice}}),
                )
            }
            38..53 => (
                Who::Operator,
                api("/financial-years/2025/costs"),
                json!({"report": format!("c-{key}"), "month": month,
                       "category": *rng.pick(&["maintenance", "insurance", "grid", "management"]),
                       "amount": format!("{}.{:02}", 100 + rng.below(5_000), rng.below(100)),
                       "beneficiary": null, "corrects": null}),
            ),
            53..68 => (
                Who::Operator,
                api("/financial-years/2025/revenue"),
                json!({"report": format!("v-{key}"), "month": month, "kind": "market_sales",
                       "volume_mwh": format!("{}.{:03}", 1 + rng.below(900), rng.below(1_000)),
                       "price_per_mwh": format!("{}.{:02}", 40 + rng.below(80), rng.below(100)),
                       "corrects": null}),
            ),
            68..88 => {
                let from = rng.pick(&self.citizens).clone();
                let mut to = rng.pick(&self.citizens).clone();
                while to == from {
                    to = rng.pick(&self.citizens).clone();
                }
                (
                    Who::Secretary,
                    api("/share-transfers"),
                    json!({"from": from, "to": to, "class": "ordinaires", "count": 1,
                           "price_per_share": "100.00", "approval": null,
                           "effective_date": "2026-01-15"}),
                )
            }
            88..95 => (
                Who::Secretary,
                api("/advances"),
                json!({"advance": format!("cca-{key}"), "holder": rng.pick(&self.lenders),
                       "amount": format!("{}.00", 500 + rng.below(20_000)),
                       "annual_rate": "2.5", "granted_on": "2026-01-10"}),
            ),
            // A ballot for a holder on no roll: the rules refuse it, and a
            // refusal records nothing, key included.
            _ => {
                let (meeting, _) = rng.pick(&self.voters);
                (
                    Who::Secretary,
                    api(&format!("/meetings/{meeting}/ballots")),
                    json!({"voter": "cit-not-on-the-roll", "cast_by": "cit-not-on-the-roll",
                           "choices": {format!("{meeting}.1"): "for"}}),
                )
            }
        };
        Job {
            key,
            who,
            path,
            body: body.to_string(),
            events: 1,
        }
    }
}

// ---------------------------------------------------------------- the server

/// A `windledger serve` child process.
struct Server {
    child: Mutex<Child>,
    /// How it ended, once it has.
    died: Mutex<Option<Ended>>,
    addr: SocketAddr,
    log: PathBuf,
    round: u32,
}

#[derive(Clone, Copy)]
enum Ended {
    Killed,
    /// Before the kill: a crash of its own.
    ByItself(ExitStatus),
}

impl Server {
    fn start(folder: &Path, url: &str, log: PathBuf, round: u32) -> Self {
        let key = folder.join("signing.key");
        let mut child = Command::new(BIN)
            .args(["serve", "--database-url", url, "--listen", "127.0.0.1:0"])
            .arg("--key-file")
            .arg(&key)
            .current_dir(folder)
            .env_remove("DATABASE_URL")
            .env_remove("WINDLEDGER_LISTEN")
            .env_remove("WINDLEDGER_KEY_FILE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("the server's log file"))
            .spawn()
            .expect("windledger serve starts");
        let stdout = child.stdout.take().expect("the server's stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("Serving on http://") {
                    let _ = tx.send(rest.split_whitespace().next().map(str::to_owned));
                }
            }
        });
        let mut server = Self {
            child: Mutex::new(child),
            died: Mutex::new(None),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            round,
        };
        let started = Instant::now();
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(addr)) => server.addr = addr.parse().expect("a socket address"),
            _ => panic!(
                "round {round}: the server did not start within {START_TIMEOUT:?}:\n{}",
                server.log_tail()
            ),
        }
        loop {
            if let Ok(answer) = request(server.addr, "GET", "/readyz", None, None, None)
                && answer.status == 200
            {
                break;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "round {round}: the server was not ready within {START_TIMEOUT:?}:\n{}",
                server.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// SIGKILL, and wait for the process to be gone (noting whether it
    /// was gone already).
    fn sigkill(&self) {
        let mut child = self.child.lock().expect("the child");
        let mut died = self.died.lock().expect("the exit status");
        if died.is_some() {
            return;
        }
        let before = child.try_wait().ok().flatten();
        let _ = child.kill();
        *died = Some(match (before, child.wait()) {
            (Some(status), _) => Ended::ByItself(status),
            (None, _) => Ended::Killed,
        });
    }

    /// SIGKILL, and a problem if the server had died by itself.
    fn kill_checked(&self, campaign: &mut Campaign) {
        self.sigkill();
        if let Some(Ended::ByItself(status)) = *self.died.lock().expect("the exit status") {
            campaign.problem(format!(
                "round {}: the server died by itself before the kill ({status}):\n{}",
                self.round,
                self.log_tail()
            ));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.sigkill();
    }
}

// ---------------------------------------------------------------- HTTP

/// `/api/v1/ledgers/<LEDGER>` + suffix.
fn api(suffix: &str) -> String {
    format!("/api/v1/ledgers/{LEDGER}{suffix}")
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("a JSON body ({e}): {}", self.text()))
    }
}

/// A failed exchange: whether the connection was made, and why.
struct Lost {
    connected: bool,
    error: String,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({})",
            self.error,
            if self.connected {
                "connected"
            } else {
                "no connection"
            }
        )
    }
}

/// A client's keep-alive connection: HTTP/1.1 by hand, so that a
/// connection cut by the kill is seen as exactly that.
struct Http {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl Http {
    fn new(addr: SocketAddr) -> Self {
        Self { addr, conn: None }
    }

    fn send(&mut self, token: &str, job: &Job) -> Outcome {
        match self.exchange(
            "POST",
            &job.path,
            Some(token),
            Some(&job.key),
            Some(&job.body),
        ) {
            Ok(answer) => classify(&answer),
            Err(lost) => Outcome::NoAnswer {
                connected: lost.connected,
                error: lost.error,
            },
        }
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<&str>,
    ) -> Result<Answer, Lost> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => {
                let stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
                    .map_err(|e| Lost {
                        connected: false,
                        error: format!("connect: {e}"),
                    })?;
                let _ = stream.set_nodelay(true);
                let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
                let _ = stream.set_write_timeout(Some(REQUEST_TIMEOUT));
                BufReader::new(stream)
            }
        };
        let mut conn = conn;
        let lost = |error: String| Lost {
            connected: true,
            error,
        };
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(t) = token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(k) = key {
            head.push_str(&format!("Idempotency-Key: {k}\r\n"));
        }
        let body = body.unwrap_or_default();
        if method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        conn.get_mut()
            .write_all(head.as_bytes())
            .map_err(|e| lost(format!("write: {e}")))?;
        let mut line = String::new();
        let read_line = |conn: &mut BufReader<TcpStream>, line: &mut String| -> Result<(), Lost> {
            line.clear();
            match conn.read_line(line) {
                Ok(0) => Err(lost("the connection closed".to_owned())),
                Ok(_) => Ok(()),
                Err(e) => Err(lost(format!("read: {e}"))),
            }
        };
        read_line(&mut conn, &mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| lost(format!("not a status line: {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            read_line(&mut conn, &mut line)?;
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                read_line(&mut conn, &mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|e| lost(format!("a chunk size {line:?}: {e}")))?;
                let mut chunk = vec![0; size + 2];
                conn.read_exact(&mut chunk)
                    .map_err(|e| lost(format!("read: {e}")))?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(length) = header("content-length") {
            let length: usize = length
                .parse()
                .map_err(|e| lost(format!("a content length: {e}")))?;
            body.resize(length, 0);
            conn.read_exact(&mut body)
                .map_err(|e| lost(format!("read: {e}")))?;
        } else {
            conn.read_to_end(&mut body)
                .map_err(|e| lost(format!("read: {e}")))?;
        }
        if !header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            self.conn = Some(conn);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// One request on a connection of its own.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<&str>,
) -> Result<Answer, Lost> {
    Http::new(addr).exchange(method, path, token, key, body)
}

/// One command on a connection of its own.
fn send(addr: SocketAddr, token: &Token, job: &Job) -> Outcome {
    Http::new(addr).send(&token.secret, job)
}

fn classify(answer: &Answer) -> Outcome {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match answer.status {
        201 => {
            let receipts = body["receipts"]
                .as_array()
                .map(|rs| {
                    rs.iter()
                        .map(|r| Receipt {
                            position: r["position"].as_u64().unwrap_or(0),
                            hash: r["hash"].as_str().unwrap_or("").to_owned(),
                            stream: r["stream"].as_str().unwrap_or("").to_owned(),
                            event_type: r["event_type"].as_str().unwrap_or("").to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Outcome::Acked {
                receipts,
                replayed: answer.header("idempotent-replayed") == Some("true"),
            }
        }
        422 if body["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/refused")) =>
        {
            Outcome::Refused {
                rule: body["rule"].as_str().unwrap_or("?").to_owned(),
            }
        }
        status => Outcome::Status {
            status,
            body: answer.text(),
        },
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Acked { receipts, replayed } => {
            format!("201 {:?} replayed={replayed}", positions(receipts))
        }
        Outcome::Refused { rule } => format!("refused: {rule}"),
        Outcome::NoAnswer { connected, error } => {
            format!("no answer ({error}, connected: {connected})")
        }
        Outcome::Status { status, body } => format!("{status}: {body}"),
    }
}

fn positions(receipts: &[Receipt]) -> Vec<(u64, &str)> {
    receipts
        .iter()
        .map(|r| (r.position, r.hash.get(..12).unwrap_or(&r.hash)))
        .collect()
}

/// Where two JSON values first differ, as a JSON pointer with both sides.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let here = format!("{at}/{key}");
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &here) {
                            return Some(d);
                        }
                    }
                    (p, q) => return Some(format!("{here}: live {p:?}, rebuilt {q:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(p, q, &format!("{at}/{i}")) {
                    return Some(d);
                }
            }
            (x.len() != y.len())
                .then(|| format!("{at}: live {} items, rebuilt {}", x.len(), y.len()))
        }
        _ => (a != b).then(|| format!("{at}: live {a}, rebuilt {b}")),
    }
}

// ---------------------------------------------------------------- helpers

/// The binary, in `folder`, with nothing from the environment.
fn windledger(folder: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(folder)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("the windledger binary runs")
}
