//! The web pages in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) with fantoccini. A shareholder signs in, votes
//! on an open meeting and reads the receipt; the operator uploads a CSV
//! file with one bad line, sees the error, and the ledger is unchanged.
//! A screenshot of every page is saved under `<target>/screenshots/`
//! (`$CARGO_TARGET_DIR`, else the workspace's `target/`; or
//! `$WINDLEDGER_SCREENSHOTS`), at desktop width and a few at phone width.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages
//! `chromium` and `chromium-driver`): without them the test is skipped,
//! or fails when `WINDLEDGER_REQUIRE_BROWSER=1` (as in CI).

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
use windledger_store::testing::{Backend, TestDatabase};

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

/// A screenshot of the whole page at this width.
async fn shoot(client: &Client, name: &str, width: u32) {
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
    let png = client.screenshot().await.expect("a screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is saved");
    client
        .set_window_size(1280, 1600)
        .await
        .expect("the window resizes");
}

async fn source(client: &Client) -> String {
    client.source().await.expect("the page's source")
}

/// Waits for an `<h1>` with this text: the page has loaded.
async fn wait_title(client: &Client, text: &str) {
    let xpath = format!("//h1[contains(., \"{text}\")]");
    if let Err(e) = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(&xpath))
        .await
    {
        let page = source(client).await;
        panic!("no page titled {text:?} ({e}): {}", web::excerpt(&page));
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
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("the sign-in page");
    wait_title(client, "Se connecter").await;
    client
        .find(Locator::Css("#jeton"))
        .await
        .expect("the token field")
        .send_keys(token)
        .await
        .expect("typed");
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
    let db = TestDatabase::new(Backend::Sqlite)
        .await
        .expect("SQLite is always available");
    let server = Server::with_reference_farm(db).await;
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

    // The public page, on a desktop and on a phone.
    client.goto(&format!("{base}/")).await.expect("home");
    wait_title(&client, "Parcs éoliens citoyens").await;
    shoot(&client, "00-accueil", 1280).await;
    client.goto(&farm).await.expect("the public page");
    wait_title(&client, "Les Ailes de Taillard").await;
    let public = source(&client).await;
    assert!(public.contains("Production mensuelle"));
    assert!(!public.contains("cit-001"), "no holder on the public page");
    shoot(&client, "01-page-publique", 1280).await;
    shoot(&client, "01-page-publique-telephone", 390).await;
    client
        .goto(&format!("{farm}/retombees"))
        .await
        .expect("local returns");
    wait_title(&client, "Retombées économiques locales").await;
    shoot(&client, "02-retombees", 1280).await;

    // A shareholder signs in (the Secure, SameSite=Strict cookie holds on
    // http://127.0.0.1), votes, and reads the receipt.
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("sign-in");
    wait_title(&client, "Se connecter").await;
    shoot(&client, "03-connexion", 1280).await;
    sign_in(&client, &base, &shareholder).await;
    let space = source(&client).await;
    assert!(
        space.contains("Mes actions et mes voix"),
        "{}",
        web::excerpt(&space)
    );
    assert!(space.contains("ago-navigateur"));
    shoot(&client, "04-espace-associe", 1280).await;
    shoot(&client, "04-espace-associe-telephone", 390).await;
    click(&client, "a[href$=\"/assemblees/ago-navigateur\"]").await;
    wait_title(&client, "ago-navigateur").await;
    shoot(&client, "05-assemblee", 1280).await;
    click(&client, "input[name=\"choix-1\"][value=\"pour\"]").await;
    // The second choice by keyboard: focus the first radio of the group,
    // then the arrow key moves to "contre" and checks it.
    client
        .find(Locator::Css("input[name=\"choix-2\"][value=\"pour\"]"))
        .await
        .expect("a radio")
        .send_keys(&fantoccini::key::Key::Right.to_string())
        .await
        .expect("keys");
    shoot(&client, "06-bulletin-rempli", 1280).await;
    shoot(&client, "06-bulletin-rempli-telephone", 390).await;
    let head = server.head().await;
    click(&client, "form[action$=\"/vote\"] button[type=submit]").await;
    wait_title(&client, "Reçu de vote").await;
    assert_eq!(server.head().await, head + 1, "one ballot written");
    let url = client.current_url().await.expect("a URL");
    let position: u64 = url
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
    shoot(&client, "07-recu-de-vote", 1280).await;
    shoot(&client, "07-recu-de-vote-telephone", 390).await;
    sign_out(&client).await;

    // The operator uploads a file with one bad line: the error, nothing
    // written.
    sign_in(&client, &base, &operator).await;
    client
        .goto(&format!("{farm}/exploitation"))
        .await
        .expect("the operator's page");
    wait_title(&client, "Production et recettes").await;
    shoot(&client, "08-exploitation", 1280).await;
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
    client
        .find(Locator::Css("#import-fichier"))
        .await
        .expect("the file field")
        .send_keys(&file.display().to_string())
        .await
        .expect("the file is chosen");
    click(
        &client,
        "form[action$=\"/exploitation/import\"] button[type=submit]",
    )
    .await;
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#erreurs"))
        .await
        .expect("the errors are shown");
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
    shoot(&client, "09-exploitation-erreur", 1280).await;
    shoot(&client, "09-exploitation-erreur-telephone", 390).await;
    sign_out(&client).await;

    // The municipality's pages.
    sign_in(&client, &base, &municipality).await;
    for (path, title, name) in [
        ("/registre", "Registre des décisions", "10-registre"),
        ("/registre/ago-2025", "ago-2025", "11-registre-assemblee"),
        (
            "/journal?position=2400",
            "Journal des événements",
            "12-journal",
        ),
        ("/verification", "Vérifier la chaîne", "13-verification"),
    ] {
        client
            .goto(&format!("{farm}{path}"))
            .await
            .expect("a municipality page");
        wait_title(&client, title).await;
        shoot(&client, name, 1280).await;
    }
    click(
        &client,
        "form[action$=\"/verification\"] button[type=submit]",
    )
    .await;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#resultat"))
        .await
        .expect("the verification's result");
    assert!(source(&client).await.contains("Chaîne intacte"));
    shoot(&client, "14-verification-resultat", 1280).await;
    sign_out(&client).await;

    // The secretary's page.
    sign_in(&client, &base, &secretary).await;
    client
        .goto(&format!("{farm}/secretariat"))
        .await
        .expect("the secretary's page");
    wait_title(&client, "Secrétariat").await;
    shoot(&client, "15-secretariat", 1280).await;
    sign_out(&client).await;

    let _ = std::fs::remove_dir_all(&folder);
    client.close().await.expect("the browser closes");
    drop(driver);
    server.stop().await;
    eprintln!("screenshots saved in {}", screenshot_dir().display());
}

/// A folder for the uploaded file, kept for the test's run.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("windledger-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}
