//! A small browser for the web pages' tests: keeps the cookies the server
//! sets (it does not follow redirects, so a test sees each 303), posts
//! forms with the hidden fields a page gave, and reads pages as text.
#![allow(dead_code)]

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;
use windledger_api::auth::Role;

use super::server::{LEDGER, Server};

/// Holder ids of the reference farm that must never appear on a public
/// page (and more: the tests also check every id the register holds).
pub const HOLDERS: [&str; 4] = ["cit-001", "cit-002", "ccmp", "partenaire-industriel"];

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status,
            status,
            "expected {status}, got {} (location {:?}): {}",
            self.status,
            self.location,
            excerpt(&self.body)
        );
        self
    }

    /// A 303 to `to` (a prefix of the location).
    #[track_caller]
    pub fn redirects_to(self, to: &str) -> Self {
        assert_eq!(
            self.status,
            303,
            "expected a redirect: {}",
            excerpt(&self.body)
        );
        let location = self.location.clone().unwrap_or_default();
        assert!(
            location.starts_with(to),
            "redirected to {location}, expected {to}"
        );
        self
    }

    #[track_caller]
    pub fn contains(self, text: &str) -> Self {
        assert!(
            self.body.contains(text),
            "the page should contain {text:?}: {}",
            excerpt(&self.body)
        );
        self
    }

    #[track_caller]
    pub fn lacks(self, text: &str) -> Self {
        assert!(
            !self.body.contains(text),
            "the page should not contain {text:?}"
        );
        self
    }

    /// The hidden fields of the form posting to `action`.
    #[track_caller]
    pub fn form(&self, action: &str) -> Vec<(String, String)> {
        form_hidden(&self.body, action)
            .unwrap_or_else(|| panic!("no form posting to {action}: {}", excerpt(&self.body)))
    }
}

/// The main content of a page, for assertion messages.
pub fn excerpt(body: &str) -> String {
    let start = body.find("<main").unwrap_or(0);
    body[start..].chars().take(3_000).collect()
}

/// The value of attribute `name` in a tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

/// The hidden inputs of the first form whose action is `action`.
pub fn form_hidden(body: &str, action: &str) -> Option<Vec<(String, String)>> {
    let at = body.find(&format!("action=\"{action}\""))?;
    let end = body[at..].find("</form>").map_or(body.len(), |e| at + e);
    let form = &body[at..end];
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if attribute(tag, "type").as_deref() == Some("hidden")
            && let (Some(n), Some(v)) = (attribute(tag, "name"), attribute(tag, "value"))
        {
            fields.push((n, v));
        }
        rest = &rest[tag_end..];
    }
    Some(fields)
}

/// Every value of `name=...` radio or select choices offered in a form.
pub fn has_input(body: &str, name: &str) -> bool {
    body.contains(&format!("name=\"{name}\""))
}

pub struct Browser<'a> {
    pub server: &'a Server,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a Server) -> Self {
        Self::from_address(server, std::net::Ipv4Addr::LOCALHOST.into())
    }

    /// A browser whose connections come from `address` (one of
    /// 127.0.0.0/8, for the limits per address).
    pub fn from_address(server: &'a Server, address: std::net::IpAddr) -> Self {
        Self {
            server,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(address)
                .build()
                .expect("a client"),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() {
            request
        } else {
            request.header(reqwest::header::COOKIE, self.cookie_header())
        };
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap_or_default();
        Page {
            status,
            location,
            set_cookies,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let url = self.server.url(path);
        let request = self.client.get(url);
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let url = self.server.url(path);
        let request = self.client.post(url).form(fields);
        self.send(request).await
    }

    /// A multipart form with one file field `fichier`.
    pub async fn post_file(
        &mut self,
        path: &str,
        fields: &[(String, String)],
        file_name: &str,
        content: &str,
    ) -> Page {
        let boundary = "----windledger-test-boundary";
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
        ));
        let url = self.server.url(path);
        let request = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(request).await
    }

    /// Signs in with a token through the form; the answer is the 303.
    pub async fn sign_in(&mut self, token: &str) -> Page {
        let form = self.get("/connexion").await.expect(200);
        let mut fields = form.form("/connexion");
        fields.push(("jeton".into(), token.into()));
        self.post("/connexion", &fields).await
    }

    /// A browser signed in with `token`, a token of the test farm: the
    /// sign-in is answered by a 303 to the farm's space.
    pub async fn signed_in(server: &'a Server, token: &str) -> Self {
        let mut b = Self::new(server);
        b.sign_in(token).await.redirects_to(&farm("/espace"));
        b
    }

    /// A browser signed in as `role` of the test farm, acting for
    /// `acts_for` (see [`Browser::signed_in`]).
    pub async fn signed_in_as(server: &'a Server, role: Role, acts_for: Option<&str>) -> Self {
        let token = server.token(LEDGER, role, acts_for).await;
        Self::signed_in(server, &token).await
    }

    /// Sends the form posting to `action` of the page at `page` (a 200),
    /// as shown now, with its hidden fields and `fields`.
    pub async fn send_form(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let hidden = self.get(page).await.expect(200).form(action);
        self.post(action, &with(&hidden, fields)).await
    }
}

/// A number as the pages write it: `2 443`.
pub fn fr(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// `/parcs/<LEDGER>` + suffix.
pub fn farm(suffix: &str) -> String {
    format!("/parcs/{LEDGER}{suffix}")
}

/// Form fields: the hidden ones a page gave, and more.
pub fn with(hidden: &[(String, String)], more: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = hidden.to_vec();
    out.extend(more.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())));
    out
}

/// Replaces (or removes, with `None`) one field.
pub fn set(fields: &[(String, String)], name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        fields.iter().filter(|(n, _)| n != name).cloned().collect();
    if let Some(v) = value {
        out.push((name.to_owned(), v.to_owned()));
    }
    out
}

/// Convenes `meeting` through the JSON API with its voting open now (two
/// resolutions), as the secretary.
pub async fn open_meeting(server: &Server, meeting: &str) {
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let now = Utc::now();
    let today = now.date_naive();
    let record_date = today - Duration::days(1);
    convene_and_open(
        server,
        &secretary,
        meeting,
        Convening {
            record_date,
            opens_at: today.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
            closes_at: now + Duration::days(7),
            convened_on: record_date - Duration::days(20),
            resolutions: [
                "Adhésion du parc à une coopérative d'achat d'électricité locale",
                "Création d'un fonds de rénovation énergétique pour les écoles",
            ],
        },
    )
    .await;
}

/// An ordinary general meeting's dates, and the texts of its two general
/// resolutions, as [`convene_and_open`] convenes it.
pub struct Convening<'a> {
    pub record_date: NaiveDate,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub convened_on: NaiveDate,
    pub resolutions: [&'a str; 2],
}

/// Convenes `meeting` through the JSON API as `secretary` (first call, no
/// members), then opens its voting.
pub async fn convene_and_open(
    server: &Server,
    secretary: &str,
    meeting: &str,
    convening: Convening<'_>,
) {
    let Convening {
        record_date,
        opens_at,
        closes_at,
        convened_on,
        resolutions: [first, second],
    } = convening;
    server
        .post(
            "/meetings",
            secretary,
            json!({
                "meeting": meeting, "kind": "ordinary_general_meeting",
                "call": {"call": "first"}, "record_date": record_date,
                "opens_at": opens_at, "closes_at": closes_at,
                "agenda": [
                    {"decision_kind": "ordinary", "purpose": {"purpose": "general"},
                     "text": first},
                    {"decision_kind": "ordinary", "purpose": {"purpose": "general"},
                     "text": second}
                ],
                "members": [], "convened_on": convened_on
            }),
        )
        .await
        .expect(201);
    server
        .post(&format!("/meetings/{meeting}/voting"), secretary, json!({}))
        .await
        .expect(201);
}
