//! The web pages in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) with fantoccini. A shareholder signs in, votes
//! on an open meeting and reads the receipt; the operator uploads a CSV
//! file with one bad line, sees the error, and the ledger is unchanged;
//! the municipality and the secretary read the register and verify the
//! chain; the secretary keeps a meeting's paperwork, from its convocation
//! to its minutes. Every page visited, as every role and at 1,280 and
//! 390 px, is saved as a screenshot under `<target>/screenshots/`
//! (`$CARGO_TARGET_DIR`, else the workspace's `target/`; or
//! `$WINDLEDGER_SCREENSHOTS`), must not stick out of the window, and is
//! audited by axe-core (WCAG 2.x A and AA, and best practices): every
//! violation is listed, and fails the test.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages
//! `chromium` and `chromium-driver`), and axe-core's `axe.min.js`
//! (`$WINDLEDGER_AXE`, else `.ci/axe/`, where `.ci/run` installs it):
//! without the browser the test is skipped, without axe-core the audit is,
//! and either fails when `WINDLEDGER_REQUIRE_BROWSER=1` (as in CI).

use crate::web;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::server::{LEDGER, Server};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use windledger_api::auth::Role;
use windledger_store::LedgerId;
use windledger_store::testing::TestDatabase;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser is here; if it must be and is not, a clear failure.
fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "the browser tests need {}: install the Debian packages chromium and chromium-driver \
         (apt-get install -y --no-install-recommends chromium chromium-driver)",
        missing.join(" and ")
    );
    if std::env::var("WINDLEDGER_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("WINDLEDGER_REQUIRE_BROWSER=1 but {message}");
    }
    eprintln!("skipped: {message}");
    false
}

/// chromedriver, ended when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port} within 10 s");
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1600", "--lang=fr-FR", "--hide-scrollbars"
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

fn screenshot_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("WINDLEDGER_SCREENSHOTS") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("screenshots")
}

/// The widths every page is checked at: a desktop and a phone.
const WIDTHS: [(u32, &str); 2] = [(1280, ""), (390, "-telephone")];

/// What the checks of every page found wrong, reported together at the end.
struct Checks {
    /// axe-core's script, when it is here.
    axe: Option<String>,
    problems: Vec<String>,
}

impl Checks {
    fn new() -> Self {
        Self {
            axe: axe_script(),
            problems: Vec::new(),
        }
    }

    /// The page shown now, at both widths: a screenshot named `name` (with
    /// `-telephone` at 390 px), axe-core's audit, and no table wider than
    /// the page or hidden in a scroll box.
    async fn page(&mut self, client: &Client, name: &str) {
        for (width, suffix) in WIDTHS {
            full_page(client, width).await;
            save_screenshot(client, &format!("{name}{suffix}")).await;
            // What folded `<details>` hide is checked too, then folded again.
            fold(client, true).await;
            full_page(client, width).await;
            for problem in overflow(client).await {
                self.problems
                    .push(format!("{name} at {width} px: {problem}"));
            }
            if let Some(axe) = &self.axe {
                for violation in axe_violations(client, axe).await {
                    self.problems
                        .push(format!("{name} at {width} px: {violation}"));
                }
            }
            fold(client, false).await;
        }
        client
            .set_window_size(1280, 1600)
            .await
            .expect("the window resizes");
    }

    fn assert_none(&self) {
        assert!(
            self.problems.is_empty(),
            "{} problems on the pages:\n{}",
            self.problems.len(),
            self.problems.join("\n")
        );
    }
}

/// axe-core's `axe.min.js`: `$WINDLEDGER_AXE`, else what `.ci/run` installs
/// (`npm install --prefix .ci/axe axe-core@4.10.3`). Without it the pages are
/// not audited (said on stderr), or the test fails when
/// `WINDLEDGER_REQUIRE_BROWSER=1`.
fn axe_script() -> Option<String> {
    let path = std::env::var("WINDLEDGER_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../.ci/axe/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(script) => Some(script),
        Err(e) => {
            let message = format!(
                "axe-core is not at {} ({e}): install it with \
                 `npm install --no-save --prefix .ci/axe axe-core@4.10.3` or set WINDLEDGER_AXE",
                path.display()
            );
            if std::env::var("WINDLEDGER_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("WINDLEDGER_REQUIRE_BROWSER=1 but {message}");
            }
            eprintln!("accessibility audit skipped: {message}");
            None
        }
    }
}

/// The rules axe runs: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and
/// Deque's best practices.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    resultTypes: ["violations"]
}).then(
    r => done(r.passes.length === 0 ? ["axe-core checked nothing on the page"]
        : r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " — "
            + v.nodes.map(n => JSON.stringify(n.target)).join(", "))),
    e => done(["axe-core failed: " + e])
);
"#;

/// axe-core's violations on the page shown now, one line each: rule,
/// impact, what it asks, and the selectors of the elements at fault.
async fn axe_violations(client: &Client, axe: &str) -> Vec<String> {
    let loaded = client
        .execute("return typeof window.axe === 'object'", vec![])
        .await
        .expect("a script runs");
    if loaded != json!(true) {
        client
            .execute(axe, vec![])
            .await
            .expect("axe-core is injected");
    }
    let found = client
        .execute_async(AXE_RUN, vec![])
        .await
        .expect("axe-core runs");
    serde_json::from_value(found).expect("axe's violations as lines")
}

/// What sticks out at this width: the page wider than the window, a table
/// past the window's edge, or a scroll box hiding part of what it holds.
const OVERFLOW: &str = r##"
const width = document.documentElement.clientWidth;
const found = [];
if (document.documentElement.scrollWidth > width) {
    found.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + width + " px window");
}
const describe = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (e.querySelector("caption") ? " \"" + e.querySelector("caption").textContent.trim() + "\"" : "");
for (const t of document.querySelectorAll("table")) {
    const r = t.getBoundingClientRect();
    if (r.width > 0 && (r.left < 0 || r.right > width + 1)) {
        found.push(describe(t) + " spans " + Math.round(r.left) + " to " + Math.round(r.right) + " px");
    }
}
for (const e of document.querySelectorAll("body *")) {
    const o = getComputedStyle(e).overflowX;
    if ((o === "auto" || o === "scroll") && e.scrollWidth > e.clientWidth + 1) {
        found.push(describe(e) + " hides " + (e.scrollWidth - e.clientWidth) + " px of its content");
    }
}
return found;
"##;

async fn overflow(client: &Client) -> Vec<String> {
    let found = client
        .execute(OVERFLOW, vec![])
        .await
        .expect("the layout is measured");
    serde_json::from_value(found).expect("the layout's problems as lines")
}

/// Opens every folded `<details>` of the page (`open`), or folds again
/// those it opened.
async fn fold(client: &Client, open: bool) {
    let script = if open {
        "for (const d of document.querySelectorAll('details:not([open])')) { d.open = true; d.dataset.unfolded = ''; }"
    } else {
        "for (const d of document.querySelectorAll('details[data-unfolded]')) { d.open = false; delete d.dataset.unfolded; }"
    };
    client
        .execute(script, vec![])
        .await
        .expect("the details fold or unfold");
}

/// The window at this width and as tall as the page (at most 9,000 px).
async fn full_page(client: &Client, width: u32) {
    client
        .set_window_size(width, 900)
        .await
        .expect("the window resizes");
    let height = client
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(1600)
        .clamp(600, 9000) as u32;
    client
        .set_window_size(width, height)
        .await
        .expect("the window resizes");
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is saved");
}

async fn source(client: &Client) -> String {
    client.source().await.expect("the page's source")
}

/// Waits for an `<h1>` with this text: the page has loaded.
async fn wait_title(client: &Client, text: &str) {
    let xpath = format!("//h1[contains(., \"{text}\")]");
    wait_for(client, &xpath, &format!("no page titled {text:?}")).await;
}

/// Waits up to 15 s for an element found by `xpath`; else fails, saying
/// `missing` and what the page shows.
async fn wait_for(client: &Client, xpath: &str, missing: &str) {
    if let Err(e) = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(xpath))
        .await
    {
        let page = source(client).await;
        panic!("{missing} ({e}): {}", web::excerpt(&page));
    }
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css} does not click: {e}"));
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    open_page(client, &format!("{base}/connexion"), "Se connecter").await;
    type_in(client, "#jeton", token).await;
    click(client, "form.card button[type=submit]").await;
    wait_title(client, "Mon espace").await;
}

async fn sign_out(client: &Client) {
    click(client, "header.site form button[type=submit]").await;
    wait_title(client, "Parcs éoliens citoyens").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shareholder_votes_and_the_operator_sees_a_bad_line_in_chromium() {
    if !browser_available() {
        return;
    }
    let mut checks = Checks::new();
    let server = Server::with_reference_farm(TestDatabase::sqlite()).await;
    web::open_meeting(&server, "ago-navigateur").await;
    let shareholder = server
        .token(LEDGER, Role::Shareholder, Some("cit-001"))
        .await;
    let operator = server.token(LEDGER, Role::Operator, None).await;
    let municipality = server.token(LEDGER, Role::Municipality, Some("ccmp")).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let base = format!("http://{}", server.addr);
    let farm = format!("{base}/parcs/{LEDGER}");

    let driver = start_driver().await;
    let client = browser(&driver).await;

    // The public pages, a page that does not exist, and the sign-in page.
    let home = format!("{base}/");
    visit(
        &client,
        &mut checks,
        &home,
        "Parcs éoliens citoyens",
        "00-accueil",
    )
    .await;
    visit(
        &client,
        &mut checks,
        &farm,
        "Les Ailes de Taillard",
        "01-page-publique",
    )
    .await;
    let public = source(&client).await;
    assert!(public.contains("Production mensuelle"));
    assert!(!public.contains("cit-001"), "no holder on the public page");
    for (path, title, name) in [
        (
            "/retombees",
            "Retombées économiques locales",
            "02-retombees",
        ),
        ("/fonds-de-territoire", "Fonds de territoire", "02-fonds"),
        ("/page-inconnue", "Page introuvable", "02-page-introuvable"),
    ] {
        visit(&client, &mut checks, &format!("{farm}{path}"), title, name).await;
    }

    // A shareholder signs in (the Secure, SameSite=Strict cookie holds on
    // http://127.0.0.1), votes, and reads the receipt.
    let sign_in_page = format!("{base}/connexion");
    visit(
        &client,
        &mut checks,
        &sign_in_page,
        "Se connecter",
        "03-connexion",
    )
    .await;
    sign_in(&client, &base, &shareholder).await;
    let space = source(&client).await;
    assert!(
        space.contains("Mes actions et mes voix"),
        "{}",
        web::excerpt(&space)
    );
    assert!(space.contains("ago-navigateur"));
    checks.page(&client, "04-espace-associe").await;
    click(&client, "a[href$=\"/assemblees/ago-navigateur\"]").await;
    wait_title(&client, "ago-navigateur").await;
    checks.page(&client, "05-assemblee").await;
    click(&client, "input[name=\"choix-1\"][value=\"pour\"]").await;
    // The second choice by keyboard: focus the first radio of the group,
    // then the arrow key moves to "contre" and checks it.
    type_in(
        &client,
        "input[name=\"choix-2\"][value=\"pour\"]",
        &fantoccini::key::Key::Right.to_string(),
    )
    .await;
    checks.page(&client, "06-bulletin-rempli").await;
    let head = server.head().await;
    send_form(&client, "/vote").await;
    wait_title(&client, "Reçu de vote").await;
    assert_eq!(server.head().await, head + 1, "one ballot written");
    let receipt_url = client.current_url().await.expect("a URL");
    let position: u64 = receipt_url
        .path()
        .rsplit('/')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the receipt's position in its URL");
    let shown_hash = client
        .find(Locator::Css("#empreinte"))
        .await
        .expect("the hash")
        .text()
        .await
        .expect("its text");
    let event = server
        .store
        .read_ledger(&LedgerId::parse(LEDGER).expect("an id"), position - 1, 1)
        .await
        .expect("the ballot's event")
        .remove(0);
    assert_eq!(event.event_type, "BallotCast");
    assert_eq!(
        shown_hash.trim(),
        event.hash.to_hex(),
        "the receipt is the event's hash"
    );
    let receipt = source(&client).await;
    assert!(receipt.contains("Votre vote est enregistré"));
    assert!(receipt.contains("<strong>Pour</strong> — ago-navigateur.1"));
    assert!(
        receipt.contains("<strong>Contre</strong> — ago-navigateur.2"),
        "the keyboard chose Contre: {}",
        web::excerpt(&receipt)
    );
    checks.page(&client, "07-recu-de-vote").await;
    // The same receipt checked by the browser itself, with the key typed
    // in (the one page with a script); then an altered one.
    let kept: serde_json::Value = server
        .get(&format!("/receipts/{position}"), None)
        .await
        .expect(200)
        .body;
    let files = tempfile::tempdir().expect("a folder");
    let verify_in_browser = async |receipt: &serde_json::Value,
                                   name: &str,
                                   witnesses: &[String],
                                   quorum: &str,
                                   expected: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, receipt.to_string()).expect("written");
        open_page(
            &client,
            &format!("{base}/verifier-recu"),
            "Vérifier un reçu",
        )
        .await;
        type_in(&client, "#recu", path.to_str().expect("a path")).await;
        type_in(&client, "#cle", &server.signer.verifier().to_string()).await;
        if !witnesses.is_empty() {
            type_in(&client, "#temoins", &witnesses.join("\n")).await;
            type_in(&client, "#quorum", quorum).await;
        }
        click(&client, "#verifier button[type=submit]").await;
        wait_for(
            &client,
            &format!("//span[@id='resultat'][starts-with(., \"{expected}\")]"),
            &format!("the browser's check does not say {expected:?}"),
        )
        .await;
    };
    verify_in_browser(&kept, "recu.json", &[], "", "Reçu vérifié : l'événement n°").await;
    checks.page(&client, "07-verifier-recu").await;
    let mut altered = kept.clone();
    let hash = kept["hash"].as_str().expect("a hash");
    let flipped = if hash.starts_with('0') { "1" } else { "0" };
    altered["hash"] = serde_json::json!(format!("{flipped}{}", &hash[1..]));
    verify_in_browser(
        &altered,
        "recu-altere.json",
        &[],
        "",
        "Reçu non vérifié : la preuve ne mène pas",
    )
    .await;
    // Co-signed by two witnesses of three (C2SP co-signatures made here):
    // accepted under 2, refused under 3.
    let note = kept["checkpoint"].as_str().expect("a note").to_owned();
    let text = server
        .signer
        .verifier()
        .open(&note)
        .expect("signed")
        .to_owned();
    let witnesses: Vec<windledger_store::CheckpointSigner> =
        ["mairie.example", "citoyens.example", "partenaire.example"]
            .iter()
            .map(|n| windledger_store::CheckpointSigner::generate(n).expect("a key"))
            .collect();
    let keys: Vec<String> = witnesses.iter().map(|w| w.cosigner().to_string()).collect();
    let mut cosigned = kept.clone();
    cosigned["checkpoint"] = serde_json::json!(format!(
        "{note}{}{}",
        witnesses[0].cosign(&text, 1_800_000_000),
        witnesses[2].cosign(&text, 1_800_000_001)
    ));
    verify_in_browser(
        &cosigned,
        "recu-cosigne.json",
        &keys,
        "2",
        "Reçu vérifié : l'événement n°",
    )
    .await;
    let said = source(&client).await;
    assert!(
        said.contains("cosigné par mairie.example, partenaire.example"),
        "{}",
        web::excerpt(&said)
    );
    verify_in_browser(
        &cosigned,
        "recu-cosigne-3.json",
        &keys,
        "3",
        "Reçu non vérifié : le point de contrôle n'est cosigné que par 2",
    )
    .await;
    // Their identity, from their space: none recorded in the reference
    // farm; typed in and recorded.
    client
        .goto(&format!("{farm}/espace"))
        .await
        .expect("the space");
    click(&client, "a[href$=\"/associes/cit-001/identite\"]").await;
    wait_title(&client, "Mon identité").await;
    checks.page(&client, "07-mon-identite").await;
    for (field, value) in [
        ("family_name", "Martin"),
        ("given_names", "Léa"),
        ("address_line_1", "3 chemin des Ailes"),
        ("postal_code", "42220"),
        ("city", "Taillard"),
    ] {
        type_in(
            &client,
            &format!("#identite-{}", field.replace('_', "-")),
            value,
        )
        .await;
    }
    let head = server.head().await;
    send_form(&client, "/identite").await;
    // The form's page has the same title: wait for the page after it.
    wait_flash(&client, "La nouvelle version est enregistrée").await;
    wait_title(&client, "Mon identité").await;
    assert_eq!(server.head().await, head + 1, "the identity's commitment");
    let recorded = source(&client).await;
    assert!(
        recorded.contains("Martin") && recorded.contains("3 chemin des Ailes"),
        "{}",
        web::excerpt(&recorded)
    );
    checks.page(&client, "07-mon-identite-enregistree").await;
    refused(
        &client,
        &mut checks,
        &farm,
        "/registre",
        "07-acces-refuse-associe",
    )
    .await;

    // The operator uploads a file with one bad line: the error, nothing
    // written.
    sign_in(&client, &base, &operator).await;
    checks.page(&client, "08-espace-exploitant").await;
    visit(
        &client,
        &mut checks,
        &format!("{farm}/exploitation"),
        "Production et recettes",
        "08-exploitation",
    )
    .await;
    let folder = tempfile_dir();
    let file = folder.join("production-novembre.csv");
    std::fs::write(
        &file,
        "type,month,turbine,mwh,availability,kind,volume_mwh,price_per_mwh,corrects\n\
         production,2025-11,T01,701.250,97.1,,,,p-2025-11-T01\n\
         production,2025-11,T11,655.000,96.0,,,,\n\
         revenue,2025-11,,,,market_sales,1356.25,58.40,\n",
    )
    .expect("the CSV file");
    let head = server.head().await;
    type_in(&client, "#import-fichier", &file.display().to_string()).await;
    submit(&client, "/exploitation/import", "#erreurs", 15).await;
    let page = source(&client).await;
    assert!(
        page.contains("contient 1 erreur : rien n'a été enregistré"),
        "{}",
        web::excerpt(&page)
    );
    assert!(page.contains("Cette éolienne n'est pas une éolienne du parc."));
    assert!(
        page.contains("<td class=\"num\">3</td>"),
        "the bad line is line 3"
    );
    assert_eq!(
        server.head().await,
        head,
        "nothing written from a file with an error"
    );
    checks.page(&client, "09-exploitation-erreur").await;
    refused(
        &client,
        &mut checks,
        &farm,
        "/secretariat",
        "09-acces-refuse-exploitant",
    )
    .await;

    // The pages the municipality and the secretary both read: the meeting,
    // the receipt, the register and a meeting's record, the journal, the
    // verification.
    let reading = [
        (
            format!("{farm}/assemblees/ago-navigateur"),
            "ago-navigateur",
            "10-assemblee",
        ),
        (receipt_url.to_string(), "Reçu de vote", "10-recu"),
        (
            format!("{farm}/registre"),
            "Registre des décisions",
            "10-registre",
        ),
        (
            format!("{farm}/registre/ago-2025"),
            "ago-2025",
            "11-registre-assemblee",
        ),
        (
            format!("{farm}/journal?position=2400"),
            "Journal des événements",
            "12-journal",
        ),
        (
            format!("{farm}/verification"),
            "Vérifier la chaîne",
            "13-verification",
        ),
    ];

    // The municipality's pages: its space, those pages, the verification
    // run.
    sign_in(&client, &base, &municipality).await;
    checks.page(&client, "10-espace-collectivite").await;
    for (url, title, name) in &reading {
        visit(&client, &mut checks, url, title, name).await;
    }
    verify_chain(&client).await;
    checks.page(&client, "14-verification-resultat").await;
    refused(
        &client,
        &mut checks,
        &farm,
        "/secretariat",
        "14-acces-refuse-collectivite",
    )
    .await;

    // The secretary's pages: the secretariat, and the pages it shares with
    // the municipality.
    sign_in(&client, &base, &secretary).await;
    checks.page(&client, "15-espace-secretariat").await;
    for (path, title, name) in [
        ("/secretariat", "Secrétariat", "15-secretariat"),
        (
            "/secretariat/dividendes/2024",
            "Versement du dividende",
            "15-dividende",
        ),
        (
            "/secretariat/avances",
            "Avances en compte courant",
            "15-avances",
        ),
    ] {
        visit(&client, &mut checks, &format!("{farm}{path}"), title, name).await;
    }
    for (url, title, name) in &reading {
        visit(
            &client,
            &mut checks,
            url,
            title,
            &format!("{name}-secretariat"),
        )
        .await;
    }
    let unknown = format!("{base}/page-inconnue");
    visit(
        &client,
        &mut checks,
        &unknown,
        "Page introuvable",
        "16-page-introuvable-connecte",
    )
    .await;
    refused(
        &client,
        &mut checks,
        &farm,
        "/exploitation",
        "16-acces-refuse-secretariat",
    )
    .await;

    let _ = std::fs::remove_dir_all(&folder);
    client.close().await.expect("the browser closes");
    drop(driver);
    server.stop().await;
    eprintln!("screenshots saved in {}", screenshot_dir().display());
    checks.assert_none();
}

/// Chromium for another module's story, on the reference farm of
/// `server`: every page visited is checked as the pages here are, and the
/// problems found fail [`Browser::close`].
pub(crate) struct Browser {
    // Dropped after the client: chromedriver ends with it.
    _driver: Driver,
    pub client: Client,
    checks: Checks,
    base: String,
}

impl Browser {
    /// The browser, or `None` without it (a failure if it must be here).
    pub(crate) async fn open(server: &Server) -> Option<Browser> {
        if !browser_available() {
            return None;
        }
        let driver = start_driver().await;
        let client = browser(&driver).await;
        Some(Browser {
            _driver: driver,
            client,
            checks: Checks::new(),
            base: format!("http://{}", server.addr),
        })
    }

    /// Signs in with `token`: "Mon espace" is shown.
    pub(crate) async fn sign_in(&self, token: &str) {
        sign_in(&self.client, &self.base, token).await;
    }

    /// Signs out, from any page.
    pub(crate) async fn sign_out(&self) {
        sign_out(&self.client).await;
    }

    /// The farm's page at `path`, titled `title`, checked and saved as
    /// `name`.
    pub(crate) async fn visit(&mut self, path: &str, title: &str, name: &str) {
        let url = format!("{}/parcs/{LEDGER}{path}", self.base);
        visit(&self.client, &mut self.checks, &url, title, name).await;
    }

    /// The page shown now, checked and saved as `name`.
    pub(crate) async fn check(&mut self, name: &str) {
        self.checks.page(&self.client, name).await;
    }

    pub(crate) async fn click(&self, css: &str) {
        click(&self.client, css).await;
    }

    /// Waits for an element whose own text contains `text`: after a form
    /// sent back to the page it came from, the title alone is no sign
    /// that the answer has loaded (the page sending it has that title).
    pub(crate) async fn wait_text(&self, text: &str) {
        let xpath = format!("//*[contains(text(), \"{text}\")]");
        wait_for(&self.client, &xpath, &format!("no {text:?} shown")).await;
    }

    pub(crate) async fn source(&self) -> String {
        source(&self.client).await
    }

    /// Closes the browser; fails with every problem the pages had.
    pub(crate) async fn close(self) {
        self.client.close().await.expect("the browser closes");
        self.checks.assert_none();
    }
}

/// Opens the page at `url`, waits for its title and checks it.
async fn visit(client: &Client, checks: &mut Checks, url: &str, title: &str, name: &str) {
    open_page(client, url, title).await;
    checks.page(client, name).await;
}

/// Opens the page at `url` and waits for its title.
async fn open_page(client: &Client, url: &str, title: &str) {
    client
        .goto(url)
        .await
        .unwrap_or_else(|e| panic!("{url} does not open: {e}"));
    wait_title(client, title).await;
}

/// A page of `farm` the signed-in role may not see, the last it tries:
/// "Accès refusé", checked too; then back to "Mon espace" (the 403 page
/// offers no sign-out), and signed out.
async fn refused(client: &Client, checks: &mut Checks, farm: &str, path: &str, name: &str) {
    visit(
        client,
        checks,
        &format!("{farm}{path}"),
        "Accès refusé",
        name,
    )
    .await;
    open_page(client, &format!("{farm}/espace"), "Mon espace").await;
    sign_out(client).await;
}

/// "Vérifier la chaîne" run on the page shown: the chain holds.
async fn verify_chain(client: &Client) {
    submit(client, "/verification", "#resultat", 30).await;
    assert!(source(client).await.contains("Chaîne intacte"));
}

/// Sends the form of the page shown whose action ends with `action`.
async fn send_form(client: &Client, action: &str) {
    click(
        client,
        &format!("form[action$=\"{action}\"] button[type=submit]"),
    )
    .await;
}

/// Sends the form of the page shown whose action ends with `action`, and
/// waits up to `seconds` for the element `shown` (a CSS selector).
async fn submit(client: &Client, action: &str, shown: &str, seconds: u64) {
    send_form(client, action).await;
    if let Err(e) = client
        .wait()
        .at_most(Duration::from_secs(seconds))
        .for_element(Locator::Css(shown))
        .await
    {
        let page = source(client).await;
        panic!(
            "no {shown} after sending {action} ({e}): {}",
            web::excerpt(&page)
        );
    }
}

/// A folder for the uploaded file, kept for the test's run.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("windledger-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// A meeting's paperwork in the browser: the secretary convenes a meeting
/// through the form, opens its vote, records a postal voting form on the
/// paperwork page (first with a choice missing, said beside it), closes
/// it, constitutes the bureau, records the minutes, and downloads the
/// attendance sheet and the minutes from the page and from the register.
/// Every page is checked as the other test's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secretary_keeps_a_meetings_paperwork_in_chromium() {
    if !browser_available() {
        return;
    }
    let mut checks = Checks::new();
    let server = Server::with_reference_farm(TestDatabase::sqlite()).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let base = format!("http://{}", server.addr);
    let farm = format!("{base}/parcs/{LEDGER}");
    let meeting = "ag-formalites";
    let paperwork = format!("{farm}/secretariat/assemblees/{meeting}");
    let driver = start_driver().await;
    let client = browser(&driver).await;
    sign_in(&client, &base, &secretary).await;

    // Convened 40 days before its vote, which opened two minutes ago and
    // closes in 20 seconds (the form takes seconds as an entry may).
    open_page(&client, &format!("{farm}/secretariat"), "Secrétariat").await;
    let now = chrono::Utc::now();
    let opens_at = now - chrono::Duration::minutes(2);
    let closes_at = now + chrono::Duration::seconds(20);
    let convened_on = opens_at.date_naive() - chrono::Days::new(40);
    let paris = |at, format| {
        windledger_french::format::to_paris(at)
            .format(format)
            .to_string()
    };
    for (field, value) in [
        ("#convocation-date-convocation", convened_on.to_string()),
        (
            "#convocation-date-enregistrement",
            (opens_at.date_naive() - chrono::Days::new(2)).to_string(),
        ),
        ("#convocation-ouverture", paris(opens_at, "%Y-%m-%dT%H:%M")),
        (
            "#convocation-cloture",
            paris(closes_at, "%Y-%m-%dT%H:%M:%S"),
        ),
    ] {
        set_value(&client, field, &value).await;
    }
    for (field, text) in [
        ("#convocation-assemblee", meeting),
        (
            "#convocation-r1-texte",
            "Remplacement des pales de l'éolienne T03",
        ),
        (
            "#convocation-r2-texte",
            "Adhésion à une coopérative locale d'électricité",
        ),
    ] {
        type_in(&client, field, text).await;
    }
    send_form(&client, "/secretariat/assemblees").await;
    wait_flash(&client, "est convoquée").await;
    send_form(&client, &format!("/assemblees/{meeting}/ouverture")).await;
    wait_flash(&client, "Le vote est ouvert").await;
    checks.page(&client, "20-secretariat-vote-ouvert").await;

    // The paperwork page, from the meetings' table.
    click(
        &client,
        &format!("a[href$=\"/secretariat/assemblees/{meeting}\"]"),
    )
    .await;
    wait_title(&client, "Documents et formalités").await;
    checks.page(&client, "21-formalites").await;

    // A postal voting form received in time: a choice forgotten first.
    let received = paris(convened_on_noon(convened_on), "%Y-%m-%dT%H:%M");
    type_in(&client, "#correspondance-votant", "cit-001").await;
    set_value(&client, "#correspondance-recu-le", &received).await;
    click(&client, "input[name=\"r1\"][value=\"pour\"]").await;
    // The browser checks the required choice before sending: the server's
    // own check is seen with the form sent as it is.
    client
        .execute(
            "document.querySelector('form[action$=\"/correspondance\"]').noValidate = true",
            vec![],
        )
        .await
        .expect("a script runs");
    submit(&client, "/correspondance", "#erreurs", 15).await;
    let page = source(&client).await;
    assert!(
        page.contains("Cochez pour, contre ou abstention"),
        "{}",
        web::excerpt(&page)
    );
    checks.page(&client, "22-formalites-erreur").await;
    click(&client, "input[name=\"r2\"][value=\"contre\"]").await;
    let head = server.head().await;
    send_form(&client, "/correspondance").await;
    wait_flash(
        &client,
        "Le formulaire de vote par correspondance est enregistré",
    )
    .await;
    assert_eq!(server.head().await, head + 1, "one postal form written");
    checks
        .page(&client, "23-formalites-formulaire-enregistre")
        .await;

    // The close, once the window is over.
    let wait = (closes_at - chrono::Utc::now()).num_milliseconds() + 500;
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    open_page(&client, &format!("{farm}/secretariat"), "Secrétariat").await;
    send_form(&client, &format!("/assemblees/{meeting}/cloture")).await;
    wait_flash(&client, "L'assemblée est close").await;

    // The bureau, then the minutes.
    open_page(&client, &paperwork, "Documents et formalités").await;
    for (field, id) in [
        ("#bureau-president", "ccmp"),
        ("#bureau-scrutateur1", "cit-001"),
        ("#bureau-secretaire", "greffe-1"),
    ] {
        type_in(&client, field, id).await;
    }
    send_form(&client, "/bureau").await;
    wait_flash(&client, "Le bureau de l'assemblée est constitué").await;
    checks.page(&client, "24-formalites-bureau").await;
    type_in(
        &client,
        "#proces-verbal-debats",
        "Le président présente le devis.\nLes associés posent leurs questions.",
    )
    .await;
    type_in(&client, "#proces-verbal-documents", "Devis du fabricant").await;
    send_form(&client, "/proces-verbal").await;
    wait_flash(&client, "Le procès-verbal est enregistré").await;
    checks.page(&client, "25-formalites-proces-verbal").await;
    for document in ["feuille-de-presence.pdf", "proces-verbal.pdf"] {
        download(
            &client,
            &base,
            &format!("a[href$=\"/{meeting}/{document}\"]"),
        )
        .await;
    }

    // The same documents from the register's page of the meeting.
    visit(
        &client,
        &mut checks,
        &format!("{farm}/registre/{meeting}"),
        meeting,
        "26-registre-documents",
    )
    .await;
    for document in ["feuille-de-presence.pdf", "proces-verbal.pdf"] {
        download(
            &client,
            &base,
            &format!("a[href$=\"/registre/{meeting}/{document}\"]"),
        )
        .await;
    }
    sign_out(&client).await;

    client.close().await.expect("the browser closes");
    drop(driver);
    server.stop().await;
    checks.assert_none();
}

/// Noon (UTC) two days after the convocation: a postal form in time.
fn convened_on_noon(convened_on: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    (convened_on + chrono::Days::new(2))
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc()
}

/// Types `text` into the field `css`.
async fn type_in(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("{css} takes no keys: {e}"));
}

/// Sets a date or time field as its picker would (typing into one depends
/// on the browser's locale); a value with seconds gets a step of one.
async fn set_value(client: &Client, css: &str, value: &str) {
    client
        .execute(
            "const e = document.querySelector(arguments[0]);
             if (arguments[1].length > 16) { e.step = '1'; }
             e.value = arguments[1];
             return e.value;",
            vec![json!(css), json!(value)],
        )
        .await
        .map(|set| {
            // A browser writes a time whose seconds are zero without them
            // ("03:45:00" reads back "03:45"): one run in sixty.
            let shown = match value.strip_suffix(":00") {
                Some(minutes) if value.len() > 16 => minutes,
                _ => value,
            };
            assert_eq!(set, json!(shown), "{css} takes {value}")
        })
        .unwrap_or_else(|e| panic!("{css} is not set: {e}"));
}

/// Waits for the message a form leaves on the next page.
async fn wait_flash(client: &Client, text: &str) {
    let xpath = format!("//div[contains(@class, 'flash')][contains(., \"{text}\")]");
    wait_for(client, &xpath, &format!("no message {text:?}")).await;
}

/// Downloads the file the link `css` of the page shown points to, in the
/// browser's session: a PDF.
async fn download(client: &Client, base: &str, css: &str) {
    let href = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no link {css}: {e}"))
        .attr("href")
        .await
        .expect("its address")
        .expect("an href");
    let cookies: Vec<String> = client
        .get_all_cookies()
        .await
        .expect("the session's cookies")
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    let response = reqwest::Client::new()
        .get(format!("{base}{href}"))
        .header("cookie", cookies.join("; "))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 200, "{href}");
    assert_eq!(
        response.headers()["content-type"],
        "application/pdf",
        "{href}"
    );
    let bytes = response.bytes().await.expect("a body");
    assert!(bytes.starts_with(b"%PDF"), "{href}");
}
