//! A real server on a random port against a test database, with the
//! reference farm imported, and tokens for each role.
#![allow(dead_code)]

use std::net::SocketAddr;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use windledger::serve_within;
use windledger_api::auth::{self, Role};
use windledger_api::{AppState, ServeLimits};
use windledger_store::testing::TestDatabase;
use windledger_store::{CheckpointSigner, LedgerId, RecordedEvent, Store};

pub use windledger_fixtures::reference::LEDGER;
/// The reference farm's command file, imported by every server here.
pub const REFERENCE_FARM: &str = windledger_fixtures::reference::IMPORT_FILE;

pub struct Server {
    pub db: TestDatabase,
    pub store: Store,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub signer: CheckpointSigner,
    /// The server's state, to look inside it.
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub struct Response {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Server {
    /// Starts a server on `db` with the reference farm imported.
    pub async fn with_reference_farm(db: TestDatabase) -> Self {
        Self::with_reference_farm_within(db, ServeLimits::default()).await
    }

    /// [`Server::with_reference_farm`] within these connection limits.
    pub async fn with_reference_farm_within(mut db: TestDatabase, limits: ServeLimits) -> Self {
        copy_reference_farm(&mut db).await;
        let store = db.store().await;
        Self::start_within(db, store, limits).await
    }

    pub async fn start(db: TestDatabase, store: Store) -> Self {
        Self::start_within(db, store, ServeLimits::default()).await
    }

    /// [`Server::start`] within these connection limits.
    pub async fn start_within(db: TestDatabase, store: Store, limits: ServeLimits) -> Self {
        // The key the store seals with (the test database's), as in
        // production, where one key seals and signs checkpoints.
        let signer = db.checkpoint_signer();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        let state = AppState::new(
            store.clone(),
            CheckpointSigner::from_secret_key(&signer.to_secret_key()).expect("the same key"),
        );
        state.hold_vault(vault_of(&signer));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_within(listener, state.clone(), limits, async move {
            let _ = rx.await;
        }));
        Self {
            db,
            store,
            addr,
            client: reqwest::Client::new(),
            signer,
            state,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops this server and starts another on the same database.
    pub async fn restart(mut self) -> Self {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server task").expect("the server");
        }
        let db = std::mem::replace(
            &mut self.db,
            windledger_store::testing::TestDatabase::sqlite(),
        );
        let store = db.store().await;
        Self::start(db, store).await
    }

    /// Stops the server, waiting for the requests in flight.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server task").expect("the server");
        }
    }

    pub async fn token(&self, ledger: &str, role: Role, holder: Option<&str>) -> String {
        auth::issue(
            &self.store,
            &LedgerId::parse(ledger).expect("a ledger id"),
            role,
            holder.map(|h| auth::ActsFor::parse(role, h).expect("whom it acts for")),
            "test",
            None,
        )
        .await
        .expect("a token")
        .token
    }

    /// A shareholder's token for `holder` on [`LEDGER`].
    pub async fn shareholder_token(&self, holder: &str) -> String {
        self.token(LEDGER, Role::Shareholder, Some(holder)).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A GET of `path` outside the JSON API (`/metrics`, `/api/v1/docs`),
    /// the response as it came.
    pub async fn fetch(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the server answers")
    }

    /// The text `/metrics` answers.
    pub async fn metrics(&self) -> String {
        self.fetch("/metrics").await.text().await.expect("a text")
    }

    /// `/api/v1/ledgers/<LEDGER>` + `suffix`.
    pub fn api(&self, suffix: &str) -> String {
        self.url(&format!("/api/v1/ledgers/{LEDGER}{suffix}"))
    }

    pub async fn call(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Response {
        let mut request = self.client.request(method, url);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        if let Some(k) = key {
            request = request.header("Idempotency-Key", k);
        }
        let response = request.send().await.expect("the server answers");
        Self::read(response).await
    }

    pub async fn raw(&self, request: reqwest::RequestBuilder) -> Response {
        Self::read(request.send().await.expect("the server answers")).await
    }

    pub async fn read(response: reqwest::Response) -> Response {
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub async fn get(&self, suffix: &str, token: Option<&str>) -> Response {
        self.call(Method::GET, &self.api(suffix), token, None, None)
            .await
    }

    /// `GET path` of a route outside every ledger (`/api/v1/ledgers`).
    pub async fn get_outside(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::GET, &self.url(path), token, None, None)
            .await
    }

    /// The body of `GET suffix`, which must answer 200.
    pub async fn get_text(&self, suffix: &str, token: &str) -> String {
        let response = self
            .client
            .get(self.api(suffix))
            .bearer_auth(token)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 200, "GET {suffix}");
        response.text().await.expect("a body")
    }

    pub async fn post(&self, suffix: &str, token: &str, body: Value) -> Response {
        self.call(
            Method::POST,
            &self.api(suffix),
            Some(token),
            Some(&body),
            None,
        )
        .await
    }

    /// The ledger's event at `position`.
    pub async fn event_at(&self, position: u64) -> RecordedEvent {
        self.store
            .read_ledger(&windledger_app::import::reference_ledger(), position - 1, 1)
            .await
            .expect("the event")
            .remove(0)
    }

    pub async fn head(&self) -> u64 {
        self.store
            .head(&windledger_app::import::reference_ledger())
            .await
            .expect("the head")
            .size
    }
}

/// The body of a `POST /shareholders` admitting `holder`, a citizen of the
/// territory, on 2026-02-01.
/// The vault key of a test server: derived from its signing key, so that
/// a server restarted on the same database opens what it sealed (as a
/// server keeps its key file).
pub fn vault_of(signer: &CheckpointSigner) -> windledger_app::people::Vault {
    use sha2::Digest;
    let secret = sha2::Sha256::digest(signer.to_secret_key().as_bytes());
    let text = format!(
        "{} {}",
        windledger_vault::seal::MASTER_KEY_PREFIX,
        hex::encode(secret)
    );
    windledger_app::people::Vault::new(
        windledger_vault::MasterKey::from_text(&text).expect("a vault key"),
    )
}

pub fn admission(holder: &str) -> Value {
    serde_json::json!({"holder": holder, "kind": "individual", "college": "citoyens",
                       "commune": "42026", "effective_date": "2026-02-01",
                       "person": person(holder)})
}

/// An identity for `holder` (invented), as the admission and the identity
/// routes take it.
pub fn person(holder: &str) -> Value {
    serde_json::json!({
        "identity": {"person": "natural", "family_name": format!("Nom-{holder}"),
                     "given_names": "Camille", "birth": null},
        "address": {"lines": ["1 place de la Mairie"], "postal_code": "42026",
                    "city": "Taillard", "country": "FR"},
        "email": format!("{holder}@example.org"),
        "tax_residence": "FR",
        "bank_account": null
    })
}

/// Makes `db` (new, unopened) hold the reference farm as ledger
/// [`LEDGER`], sealed with its key: a copy of the farm this test process
/// imported once, on this backend and server (an import takes seconds in
/// a debug build; a copy, milliseconds).
pub async fn copy_reference_farm(db: &mut TestDatabase) -> LedgerId {
    db.copy_prepared("reference-farm", |store| async move {
        import_reference_farm(&store).await;
    })
    .await;
    windledger_app::import::reference_ledger()
}

/// Imports the reference farm into the ledger [`LEDGER`] of `store`.
pub async fn import_reference_farm(store: &Store) -> LedgerId {
    windledger_app::import::import_reference_ledger(store.clone())
        .await
        .expect("the reference farm imports")
        .0
}

impl Response {
    /// Asserts the status, showing the body otherwise.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.body
        );
        self
    }

    /// Asserts a problem+json of this status and type slug.
    #[track_caller]
    pub fn problem(self, status: u16, slug: &str) -> Self {
        let response = self.expect(status);
        assert_eq!(response.content_type, "application/problem+json");
        assert_eq!(
            response.body["type"],
            format!("https://windledger.org/problems/{slug}"),
            "{}",
            response.body
        );
        assert_eq!(response.body["status"], status);
        response
    }

    /// Asserts that the problem's `detail` contains `text`.
    #[track_caller]
    pub fn detail_contains(self, text: &str) -> Self {
        assert!(
            self.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains(text)),
            "{text:?} in {}",
            self.body
        );
        self
    }
}

/// The positions at which the ledger admits each holder whose id starts
/// with `prefix` (each should be admitted once), and the ledger's events.
pub async fn admissions(
    store: &Store,
    prefix: &str,
) -> (
    std::collections::BTreeMap<String, Vec<u64>>,
    Vec<RecordedEvent>,
) {
    let ledger = windledger_app::import::reference_ledger();
    let events = store
        .read_ledger(&ledger, 0, 1_000_000)
        .await
        .expect("the ledger reads");
    let mut admitted: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for e in &events {
        let payload: Value = serde_json::from_str(e.payload.get()).expect("a JSON payload");
        if let Some(holder) = payload["ShareholderAdmitted"]["holder"].as_str()
            && holder.starts_with(prefix)
        {
            admitted
                .entry(holder.to_owned())
                .or_default()
                .push(e.position);
        }
    }
    (admitted, events)
}

/// Panics unless [`LEDGER`]'s chain verifies under the store's keys.
pub async fn assert_intact(store: &Store) {
    let ledger = windledger_app::import::reference_ledger();
    match store
        .verify(
            &ledger,
            &windledger_store::testing::keys_of(store),
            &[],
            |_, _| {},
        )
        .await
        .expect("verify runs")
    {
        windledger_store::Verification::Intact { .. } => {}
        other => panic!("the chain does not verify: {other:?}"),
    }
}

/// Admits `holder` with the holder as its `Idempotency-Key` (each sent again
/// takes effect once), within 30 s.
pub async fn admit_keyed(
    server: &Server,
    token: &str,
    holder: &str,
) -> Result<Response, reqwest::Error> {
    let request = server
        .client
        .post(server.api("/shareholders"))
        .bearer_auth(token)
        .header("Idempotency-Key", holder)
        .json(&admission(holder))
        .timeout(std::time::Duration::from_secs(30));
    Ok(Server::read(request.send().await?).await)
}
