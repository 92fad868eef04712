//! A read replica and a failover (docs/deploy.md, "Read replicas" and
//! "Failover"), on a primary and a hot standby of the test's own, with
//! synchronous replication:
//! - a read-only server on the standby answers reads, refuses writes
//!   (problem+json on the API, French on the pages, naming the writer) and
//!   reads that would record themselves, and follows the writer's commits;
//! - a client that wrote reads its write there at once by sending back the
//!   log position the writer gave it (`Windledger-Read-After`), and gets a
//!   503 within the bound when the replica cannot show it;
//! - the primary crashes under writers, the standby is promoted, and the
//!   writer, given both hosts, goes on on the new primary: every write
//!   acknowledged is there once, and the chain verifies.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use windledger_api::AppState;
use windledger_api::auth::Role;
use windledger_api::replicas::{LSN_HEADER, READ_AFTER_HEADER, Replication};
use windledger_store::testing::TestDatabase;
use windledger_store::{CheckpointSigner, Store, StoreOptions};

use crate::server::{self, LEDGER, Response, Server, admission, admit_keyed, vault_of};
use windledger_store::testing::cluster::Cluster;

/// How long the replica lets a read wait for a position.
const READ_AFTER_WAIT: Duration = Duration::from_millis(500);
const WRITERS: usize = 3;

/// A read-only server on the standby, as `serve --read-only` runs it.
struct Reader {
    addr: SocketAddr,
    client: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Reader {
    async fn start(store: Store, signer: &CheckpointSigner, writer_url: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        let state = AppState::new(
            store,
            CheckpointSigner::from_secret_key(&signer.to_secret_key()).expect("the same key"),
        );
        state.hold_vault(vault_of(signer));
        state.replicate(Replication {
            writer_url: Some(writer_url.to_owned()),
            read_after_wait: READ_AFTER_WAIT,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(windledger::serve_within(
            listener,
            state,
            windledger_api::ServeLimits::default(),
            async move {
                let _ = rx.await;
            },
        ));
        Self {
            addr,
            client: reqwest::Client::new(),
            _shutdown: tx,
        }
    }

    fn api(&self, suffix: &str) -> String {
        format!("http://{}/api/v1/ledgers/{LEDGER}{suffix}", self.addr)
    }

    /// `GET suffix` with `token`, after `lsn` if given.
    async fn get(&self, suffix: &str, token: &str, lsn: Option<&str>) -> Response {
        let mut request = self.client.get(self.api(suffix)).bearer_auth(token);
        if let Some(lsn) = lsn {
            request = request.header(READ_AFTER_HEADER, lsn);
        }
        Server::read(request.send().await.expect("the replica answers")).await
    }
}

/// The database name of a test database's URL.
fn database_of(db: &TestDatabase) -> String {
    let path = db.url.rsplit('/').next().expect("a path");
    path.split('?').next().expect("a name").to_owned()
}

fn lsn_of(response: &Response) -> String {
    response
        .headers
        .get(LSN_HEADER)
        .unwrap_or_else(|| panic!("a write answered without {LSN_HEADER}"))
        .to_str()
        .expect("ASCII")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_follows_the_writer_and_the_writer_outlives_its_primary() {
    let Some((primary, db)) = Cluster::with_database().await else {
        return;
    };
    server::import_reference_farm(&db.store().await).await;
    let standby = Cluster::standby_of(&primary);
    // Acknowledged means on both: a commit waits for the standby's flush.
    primary.sql("ALTER SYSTEM SET synchronous_standby_names = '*'");
    primary.sql("SELECT pg_reload_conf()");

    // The writer is given both hosts, primary first; the reader the standby.
    let database = database_of(&db);
    let both = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{database}",
        primary.port(),
        standby.port()
    );
    let writer_store = Store::connect(StoreOptions::new(&both).sealed_by(db.sealer()))
        .await
        .expect("the writer finds the primary");
    let writer = Server::start(db, writer_store).await;
    let reader_store = Store::connect(
        StoreOptions::new(format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            standby.port()
        ))
        .reading_only(),
    )
    .await
    .expect("a read-only store on the standby");
    let reader = Reader::start(reader_store, &writer.signer, &writer.url("")).await;
    let secretary = writer.token(LEDGER, Role::Secretary, None).await;
    let municipality = writer.token(LEDGER, Role::Municipality, Some("ccmp")).await;

    // A write, read back on the replica at once with its position.
    let first = admit_keyed(&writer, &secretary, "rep-1")
        .await
        .expect("the writer answers")
        .expect(201);
    let lsn = lsn_of(&first);
    let holders = reader.get("/holders", &municipality, Some(&lsn)).await;
    let holders = holders.expect(200);
    assert!(
        holders.body.to_string().contains("rep-1"),
        "{}",
        holders.body
    );

    // Without a position, the replica shows the writer's commits shortly.
    admit_keyed(&writer, &secretary, "rep-2")
        .await
        .expect("the writer answers")
        .expect(201);
    let start = Instant::now();
    loop {
        let seen = reader
            .get("/holders", &municipality, None)
            .await
            .expect(200);
        if seen.body.to_string().contains("rep-2") {
            eprintln!("the replica showed a write {:?} after it", start.elapsed());
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the replica did not follow the writer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Writes are refused, naming the writer: the API's, and the pages'.
    let refused = Server::read(
        reader
            .client
            .post(reader.api("/shareholders"))
            .bearer_auth(&secretary)
            .header("Idempotency-Key", "rep-3")
            .json(&admission("rep-3"))
            .send()
            .await
            .expect("an answer"),
    )
    .await
    .problem(405, "read-only")
    .detail_contains(&writer.url(""));
    assert_eq!(refused.headers["allow"], "GET, HEAD");
    let page = reader
        .client
        .post(format!(
            "http://{}/parcs/{LEDGER}/secretariat/associes",
            reader.addr
        ))
        .form(&[("holder", "rep-3")])
        .send()
        .await
        .expect("an answer");
    assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
    let page = page.text().await.expect("a page");
    assert!(page.contains("lecture seule"), "{page}");
    // A read that records itself (personal data) is a write too.
    reader
        .get("/holders/rep-1/identity", &secretary, None)
        .await
        .problem(405, "read-only");

    // A position the replica cannot reach in time: 503 within the bound;
    // one that is not a position: 422.
    let start = Instant::now();
    reader
        .get("/holders", &municipality, Some("FFFFFFFF/FFFFFFFF"))
        .await
        .problem(503, "unavailable")
        .detail_contains("FFFFFFFF/FFFFFFFF");
    let took = start.elapsed();
    assert!(
        took >= READ_AFTER_WAIT && took < READ_AFTER_WAIT * 4,
        "the bound is {READ_AFTER_WAIT:?}, the refusal took {took:?}"
    );
    reader
        .get("/holders", &municipality, Some("the latest"))
        .await
        .problem(422, "validation");
    // Many such reads at once all end at the bound (they share one reading
    // of the replayed position), and a read of a position reached still
    // answers at once meanwhile.
    let start = Instant::now();
    let hopeless = futures::future::join_all(
        (0..32).map(|_| reader.get("/holders", &municipality, Some("FFFFFFFF/FFFFFFFF"))),
    );
    let (hopeless, reached) = tokio::join!(hopeless, async {
        tokio::time::sleep(READ_AFTER_WAIT / 4).await;
        let asked = Instant::now();
        let answer = reader.get("/holders", &municipality, Some(&lsn)).await;
        (answer, asked.elapsed())
    });
    for refused in hopeless {
        refused.problem(503, "unavailable");
    }
    assert!(
        start.elapsed() < READ_AFTER_WAIT * 4,
        "{:?}",
        start.elapsed()
    );
    let (answer, took) = reached;
    answer.expect(200);
    assert!(took < READ_AFTER_WAIT / 2, "a reachable read took {took:?}");

    // The replica shows the checkpoint the writer signed.
    let signed = writer.get("/checkpoint", None).await.expect(200);
    let start = Instant::now();
    loop {
        let shown = reader.get("/checkpoint", &municipality, None).await;
        if shown.status == StatusCode::OK && shown.body["checkpoint"] == signed.body["checkpoint"] {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the replica does not show the writer's checkpoint: {}",
            shown.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Failover: writers admit without pause; the primary crashes, the
    // standby is promoted.
    let writer = Arc::new(writer);
    let acknowledged = Arc::new(Mutex::new(BTreeMap::<String, Value>::new()));
    let pending = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (writer, acknowledged, pending, stop, token) = (
            writer.clone(),
            acknowledged.clone(),
            pending.clone(),
            stop.clone(),
            secretary.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let holder = format!("fo-{w}-{n}");
                let response = admit_keyed(&writer, &token, &holder)
                    .await
                    .expect("the writer answers");
                if response.status == StatusCode::CREATED {
                    // (Its position may be missing: the database went
                    // away right after the commit, before it was asked.)
                    acknowledged
                        .lock()
                        .unwrap()
                        .insert(holder, response.body["receipts"][0].clone());
                } else {
                    assert!(
                        [StatusCode::SERVICE_UNAVAILABLE, StatusCode::CONFLICT]
                            .contains(&response.status),
                        "{}: {}",
                        response.status,
                        response.body
                    );
                    pending.lock().unwrap().insert(holder);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = acknowledged.lock().unwrap().len();
    assert!(before > 0, "nothing was written before the crash");
    primary.crash();
    let crashed = Instant::now();
    standby.promote();
    eprintln!("promoted {:?} after the crash", crashed.elapsed());
    // The writer finds the new primary by itself.
    loop {
        if acknowledged.lock().unwrap().len() > before + WRITERS {
            break;
        }
        assert!(
            crashed.elapsed() < Duration::from_secs(60),
            "the writer did not write again after the failover"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("writing again {:?} after the crash", crashed.elapsed());
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("a writer task");
    }

    // Every write refused meanwhile is sent again with its key: one effect.
    let acknowledged = acknowledged.lock().unwrap().clone();
    let mut all = acknowledged.clone();
    let pending = pending.lock().unwrap().clone();
    for holder in &pending {
        if !all.contains_key(holder) {
            let response = admit_keyed(&writer, &secretary, holder)
                .await
                .expect("the writer answers")
                .expect(201);
            all.insert(holder.clone(), response.body["receipts"][0].clone());
        }
    }

    // On the new primary: each holder admitted once, at its receipt, and
    // nothing no client was told of; the chain verifies.
    let (admitted, _) = server::admissions(&writer.store, "fo-").await;
    for (holder, receipt) in &all {
        let positions = admitted.get(holder).cloned().unwrap_or_default();
        assert_eq!(
            positions,
            [receipt["position"].as_u64().expect("a position")],
            "{holder}"
        );
    }
    assert_eq!(
        admitted.len(),
        all.len(),
        "holders admitted that no client was told of"
    );
    server::assert_intact(&writer.store).await;

    // The replica, on the promoted standby, shows a new write at once.
    let last = admit_keyed(&writer, &secretary, "fo-last")
        .await
        .expect("the writer answers")
        .expect(201);
    let holders = reader
        .get("/holders", &municipality, Some(&lsn_of(&last)))
        .await
        .expect(200);
    assert!(holders.body.to_string().contains("fo-last"));
    eprintln!(
        "{} admissions acknowledged, {} sent again after a refusal, across the failover",
        acknowledged.len(),
        all.len() - acknowledged.len()
    );
}
