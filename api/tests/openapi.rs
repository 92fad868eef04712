//! The OpenAPI document against the server it describes: it is valid
//! (every schema a JSON Schema 2020-12, every reference resolved), every
//! command route has a typed body that the reference farm's own commands
//! match, and the reads and a command of a server holding the reference
//! farm answer exactly as documented. `.ci/schemathesis` then fuzzes the
//! same document against a running server.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use windledger_api::auth::{self, Role};
use windledger_api::openapi::document;
use windledger_api::routes::{Answer, routes};
use windledger_api::{AppState, router};
use windledger_app::import::import_reference_ledger;
use windledger_store::testing::TestDatabase;

use windledger_fixtures::reference::LEDGER;
const REFERENCE_FARM: &str = include_str!("../../fixtures/ailes-de-taillard.jsonl");

/// A validator for `schema`, its `#/components/...` references resolved in
/// the document; formats (dates, times, UUIDs) are checked.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{schema} compiles: {e}"))
}

fn assert_valid(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let validator = validator(doc, schema);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\n{instance}",
        errors.join("\n")
    );
}

/// Every value under `key` anywhere in `value`.
fn collect<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v);
                }
                collect(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, key, out)),
        _ => {}
    }
}

fn operation<'a>(doc: &'a Value, method: &Method, path: &str) -> &'a Value {
    &doc["paths"][path.replace("{*", "{")][method.as_str().to_lowercase()]
}

#[test]
fn the_document_is_openapi_3_1_with_valid_schemas_and_no_dangling_reference() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = doc["components"]["schemas"]
        .as_object()
        .expect("component schemas");
    for (name, schema) in schemas {
        jsonschema::draft202012::meta::validate(schema)
            .unwrap_or_else(|e| panic!("components/schemas/{name} is a JSON Schema: {e}"));
        validator(&doc, schema);
    }
    let mut references = Vec::new();
    collect(&doc, "$ref", &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let name = reference
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("{reference} points into the components"));
        assert!(schemas.contains_key(name), "{reference} resolves");
    }
    for spec in routes() {
        let op = operation(&doc, &spec.method, spec.path);
        for (status, response) in op["responses"].as_object().expect("responses") {
            for (media_type, content) in response["content"].as_object().expect("content") {
                if let Some(schema) = content.get("schema") {
                    jsonschema::draft202012::meta::validate(schema).unwrap_or_else(|e| {
                        panic!("{} {} {status} {media_type}: {e}", spec.method, spec.path)
                    });
                    validator(&doc, schema);
                }
                if status.starts_with('2') {
                    continue;
                }
                assert_eq!(
                    media_type, "application/problem+json",
                    "{} {} {status}: errors are RFC 9457 problems",
                    spec.method, spec.path
                );
            }
        }
        for parameter in op["parameters"].as_array().expect("parameters") {
            jsonschema::draft202012::meta::validate(&parameter["schema"])
                .unwrap_or_else(|e| panic!("{} {}: {parameter}: {e}", spec.method, spec.path));
        }
    }
}

/// Fails when a route that takes a body documents a generic one: each
/// command's body is its domain command's fields, closed to others.
#[test]
fn every_route_that_takes_a_body_has_a_typed_one() {
    let doc = document();
    for spec in routes() {
        let op = operation(&doc, &spec.method, spec.path);
        let Some(command) = spec.command else {
            let what = format!("{} {}", spec.method, spec.path);
            match spec.body {
                // A write beside the commands (an identity's): its body is
                // a type of its own, closed to other fields.
                Some(_) => {
                    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                    let name = schema["$ref"]
                        .as_str()
                        .and_then(|r| r.rsplit('/').next())
                        .unwrap_or_else(|| panic!("{what}: a named body"));
                    let definition = &doc["components"]["schemas"][name];
                    assert_eq!(definition["type"], "object", "{what}");
                    assert_eq!(definition["additionalProperties"], false, "{what}");
                }
                None => assert!(op.get("requestBody").is_none(), "{what} takes no body"),
            }
            continue;
        };
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        let what = format!("{} {} ({})", spec.method, spec.path, command.tag());
        assert!(matches!(spec.answer, Answer::Recorded), "{what}");
        assert_eq!(schema["type"], "object", "{what}");
        assert_eq!(
            schema["additionalProperties"], false,
            "{what}: unknown fields are refused"
        );
        let properties = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{what} lists its fields"));
        // Opening and closing a meeting take nothing but the moment, which
        // is the server's.
        assert!(
            !properties.is_empty() || command.server_time_field().is_some(),
            "{what} has fields"
        );
        if let Some(field) = command.server_time_field() {
            assert!(
                !properties.contains_key(field),
                "{what}: the server's clock gives {field}"
            );
        }
        assert!(
            !properties.contains_key("command"),
            "{what}: the URL names the command"
        );
        for field in schema["required"].as_array().into_iter().flatten() {
            let field = field.as_str().expect("a field name");
            assert!(properties.contains_key(field), "{what} defines {field}");
        }
        for optional in [command.injected_field(), command.own_field()]
            .into_iter()
            .flatten()
        {
            assert!(properties.contains_key(optional), "{what} has {optional}");
            assert!(
                !schema["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|f| f == optional)),
                "{what}: {optional} may be left out"
            );
        }
    }
    assert!(
        !doc.to_string().contains("\"number\""),
        "decimals are strings: serde refuses JSON numbers for them"
    );
}

/// The body a route takes for an import line's command: its fields
/// without `command`.
fn body_of(command: &Value) -> (String, Value) {
    let mut fields = command.as_object().expect("a command object").clone();
    let tag = fields
        .remove("command")
        .and_then(|t| t.as_str().map(str::to_owned))
        .expect("a command name");
    (tag, Value::Object(fields))
}

#[test]
fn the_reference_farms_commands_match_the_bodies_documented() {
    let doc = document();
    let routes = routes();
    let mut validators = std::collections::HashMap::new();
    let mut checked = 0;
    for line in REFERENCE_FARM.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed: Value = serde_json::from_str(line).expect("an import line");
        let (tag, mut body) = body_of(&parsed["command"]);
        let spec = routes
            .iter()
            .find(|r| r.command.is_some_and(|c| c.tag() == tag))
            .unwrap_or_else(|| panic!("a route runs {tag}"));
        // The API's admission takes the holder's identity, which history
        // written before the vault does not carry.
        if spec.command.is_some_and(|c| c.takes_person())
            && let Some(fields) = body.as_object_mut()
        {
            fields.insert("person".into(), person());
        }
        // History carries the instants the server's clock gives a live
        // command: the API body leaves them out.
        if let Some(field) = spec.command.and_then(|c| c.server_time_field())
            && let Some(fields) = body.as_object_mut()
        {
            fields.remove(field);
        }
        let validator = validators.entry(tag.clone()).or_insert_with(|| {
            validator(
                &doc,
                &operation(&doc, &spec.method, spec.path)["requestBody"]["content"]
                    ["application/json"]["schema"],
            )
        });
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{tag} of {}: {errors:?}", parsed["id"]);
        checked += 1;
    }
    assert!(checked > 1_000, "{checked} commands checked");

    let ballot = operation(
        &doc,
        &Method::POST,
        "/api/v1/ledgers/{ledger}/meetings/{meeting}/ballots",
    );
    let schema = &ballot["requestBody"]["content"]["application/json"]["schema"];
    let body = json!({ "voter": "cit-001", "choices": { "ago-2025.1": "for" } });
    assert!(validator(&doc, schema).is_valid(&body));
    let mut dated = body.clone();
    dated["at"] = json!("2025-06-18T07:53:00Z");
    assert!(
        !validator(&doc, schema).is_valid(&dated),
        "the server's clock dates a ballot, not the body"
    );
    let mut unknown = body.clone();
    unknown["weight"] = json!(10);
    assert!(!validator(&doc, schema).is_valid(&unknown), "unknown field");
    let mut decimal = json!({ "report": "p-1", "turbine": "T01", "month": "2025-01",
        "mwh": "512.125", "availability": "98.5", "corrects": null });
    let production = operation(
        &doc,
        &Method::POST,
        "/api/v1/ledgers/{ledger}/financial-years/{year}/production-reports",
    );
    let schema = &production["requestBody"]["content"]["application/json"]["schema"];
    assert!(validator(&doc, schema).is_valid(&decimal));
    decimal["mwh"] = json!(512.125);
    assert!(
        !validator(&doc, schema).is_valid(&decimal),
        "a decimal as a JSON number is refused, as serde refuses it"
    );
}

/// An identity, as the admission and the identity routes take it.
fn person() -> Value {
    json!({ "identity": { "person": "natural", "family_name": "Martin",
                          "given_names": "Anne", "birth": null },
            "address": { "lines": ["1 rue Haute"], "postal_code": "42026",
                         "city": "Taillard", "country": "FR" },
            "email": null, "tax_residence": "FR", "bank_account": null })
}

/// A server on the reference farm, in process, and a token per role;
/// `cit-001` (the document's example holder) has an identity in the vault.
struct Farm {
    app: axum::Router,
    tokens: Vec<(Role, String)>,
    _db: TestDatabase,
}

impl Farm {
    async fn new() -> Self {
        let db = TestDatabase::sqlite();
        let store = db.store().await;
        let (ledger, _) = import_reference_ledger(store.clone())
            .await
            .expect("the reference farm imports");
        let mut tokens = Vec::new();
        for (role, holder) in [
            (Role::Secretary, None),
            (Role::Municipality, Some("ccmp")),
            (Role::Operator, None),
            (Role::Shareholder, Some("cit-001")),
            (Role::Resident, Some("hab-001")),
        ] {
            let holder = holder.map(|h| auth::ActsFor::parse(role, h).expect("whom it acts for"));
            let issued = auth::issue(&store, &ledger, role, holder, "openapi test", None)
                .await
                .expect("a token");
            tokens.push((role, issued.token));
        }
        let signer = db.checkpoint_signer();
        Self {
            app: {
                let state = AppState::new(store, signer);
                let vault = windledger_app::people::Vault::new(
                    windledger_vault::MasterKey::generate().expect("randomness for a vault key"),
                );
                state.hold_vault(vault.clone());
                let runtime = state.open(&ledger).await.expect("the ledger opens");
                vault
                    .record(
                        &runtime,
                        &windledger_domain::types::HolderId::new("cit-001").expect("an id"),
                        serde_json::from_value(person()).expect("a person"),
                        // After the reference farm, before the admission
                        // the tests send.
                        Some(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date")),
                        std::collections::HashMap::new(),
                    )
                    .await
                    .expect("an identity recorded");
                // The example meeting's bureau and minutes, entered after
                // its close, so that its minutes can be read.
                for command in [
                    serde_json::json!({"command": "constitute_bureau", "chair": "ccmp",
                        "scrutineers": ["cit-001"], "secretary": "greffe",
                        "at": chrono::Utc::now()}),
                    serde_json::json!({"command": "record_minutes",
                        "debates": "Présentation des comptes ; aucune question.",
                        "documents_presented": ["Comptes annuels"], "at": chrono::Utc::now()}),
                ] {
                    let command = serde_json::from_value(command).expect("a meeting command");
                    runtime
                        .execute(
                            "ago-2025",
                            windledger_app::command::Command::Meeting(command),
                            std::collections::HashMap::new(),
                        )
                        .await
                        .expect("the example meeting's minutes are recorded");
                }
                router(state, axum::Router::new())
            },
            tokens,
            _db: db,
        }
    }

    fn token(&self, role: Role) -> &str {
        self.tokens
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, t)| t.as_str())
            .expect("a token of each role")
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> (StatusCode, String, Value) {
        self.call(Method::GET, uri, token, None).await
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, String, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(b) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("a request");
        let response = self.app.clone().oneshot(request).await.expect("an answer");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        let body = if content_type.contains("json") {
            serde_json::from_slice(&bytes).expect("a JSON body")
        } else {
            Value::Null
        };
        (status, content_type, body)
    }
}

/// The schema of an operation's answer with this status and media type.
fn answer_schema<'a>(op: &'a Value, status: StatusCode, media_type: &str) -> &'a Value {
    let response = &op["responses"][status.as_str()];
    assert!(response.is_object(), "{status} is documented");
    assert!(
        response["content"][media_type].is_object(),
        "{status} is documented as {media_type}"
    );
    &response["content"][media_type]["schema"]
}

/// The route's path with each parameter set to the document's example.
fn example_uri(op: &Value, path: &str) -> String {
    let mut uri = path.replace("{*", "{");
    for parameter in op["parameters"].as_array().expect("parameters") {
        if parameter["in"] == "path" {
            let example = match &parameter["example"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            uri = uri.replace(
                &format!("{{{}}}", parameter["name"].as_str().expect("a name")),
                &example,
            );
        }
    }
    uri
}

#[tokio::test]
async fn every_read_of_the_reference_farm_answers_as_documented() {
    let doc = document();
    let farm = Farm::new().await;
    for spec in routes() {
        if matches!(spec.answer, Answer::Recorded) || spec.method != Method::GET {
            continue;
        }
        let op = operation(&doc, &spec.method, spec.path);
        let mut uri = example_uri(op, spec.path);
        if spec.path.contains("/dividend/") {
            // The example year's dividend is declared the year after: the
            // reference farm's last declared dividend is 2024's.
            uri = uri.replace("/financial-years/2025/", "/financial-years/2024/");
        }
        // The proofs' required questions.
        if spec.path.ends_with("/proofs/inclusion") {
            uri.push_str("?position=7&size=1000");
        }
        if spec.path.ends_with("/proofs/consistency") {
            uri.push_str("?from=500&to=1000");
        }
        if spec.path.contains("/advance-interest/") {
            // The partner's advance is accrued up to 2024.
            uri = uri.replace("/advance-interest/2025/", "/advance-interest/2024/");
        }
        if spec.path.ends_with("/credit-transfers.xml") {
            // Every dividend of the reference farm is paid, and no holder
            // has a bank account in the vault: nothing to transfer,
            // refused as documented (tests/tests/end_to_end/
            // payments_http.rs shows the files).
            let uri = format!(
                "{uri}?debtor_iban=FR7630006000011234567890189&execution_date={}",
                chrono::Utc::now().date_naive().succ_opt().expect("a date")
            );
            let (status, content_type, body) =
                farm.get(&uri, Some(farm.token(Role::Secretary))).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "GET {uri}: {body}"
            );
            assert_eq!(body["rule"], "NothingToTransfer", "GET {uri}: {body}");
            let schema = answer_schema(op, status, &content_type);
            assert_valid(&doc, schema, &body, &format!("GET {uri}"));
            continue;
        }
        if spec.path.contains("{resident}") {
            // The reference farm registers no resident (tests/tests/
            // end_to_end/territory_fund.rs reads one's identity): not
            // found, as documented.
            let (status, content_type, body) =
                farm.get(&uri, Some(farm.token(Role::Municipality))).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "GET {uri}: {body}");
            let schema = answer_schema(op, status, &content_type);
            assert_valid(&doc, schema, &body, &format!("GET {uri}"));
            continue;
        }
        if spec.path.contains("{round}") {
            // The reference farm holds no budgeting round (tests/tests/
            // end_to_end/territory_fund.rs reads one): not found, as
            // documented.
            let (status, content_type, body) =
                farm.get(&uri, Some(farm.token(Role::Secretary))).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "GET {uri}: {body}");
            let schema = answer_schema(op, status, &content_type);
            assert_valid(&doc, schema, &body, &format!("GET {uri}"));
            continue;
        }
        let (status, content_type, body) = farm.get(&uri, Some(farm.token(Role::Secretary))).await;
        assert_eq!(status, StatusCode::OK, "GET {uri}: {body}");
        match spec.answer {
            Answer::Json(_) => {
                assert_eq!(content_type, "application/json", "GET {uri}");
                let schema = answer_schema(op, status, "application/json");
                assert_valid(&doc, schema, &body, &format!("GET {uri}"));
                assert!(
                    !validator(&doc, schema).is_valid(&json!({ "unexpected": true })),
                    "GET {uri}: the schema is not a blank cheque"
                );
            }
            Answer::File(media_type) => assert_eq!(content_type, media_type, "GET {uri}"),
            Answer::Recorded => unreachable!("a read"),
        }
    }
}

#[tokio::test]
async fn a_command_and_its_refusals_answer_as_documented() {
    let doc = document();
    let farm = Farm::new().await;
    let path = "/api/v1/ledgers/{ledger}/shareholders";
    let op = operation(&doc, &Method::POST, path);
    let uri = example_uri(op, path);
    let admit = json!({ "holder": "cit-openapi", "kind": "individual", "college": "citoyens",
        "commune": "42026", "effective_date": "2026-06-01", "person": person() });
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    assert_valid(&doc, schema, &admit, "the admission");

    let secretary = Some(farm.token(Role::Secretary));
    let answers = [
        (secretary, admit.clone(), StatusCode::CREATED),
        // Admitted already: the ledger's rules refuse it.
        (secretary, admit.clone(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            secretary,
            json!({ "holder": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (None, admit.clone(), StatusCode::UNAUTHORIZED),
        (
            Some(farm.token(Role::Operator)),
            admit.clone(),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (token, body, expected) in answers {
        let (status, content_type, answer) =
            farm.call(Method::POST, &uri, token, Some(&body)).await;
        assert_eq!(status, expected, "{answer}");
        let media_type = if status.is_success() {
            "application/json"
        } else {
            "application/problem+json"
        };
        assert_eq!(content_type, media_type);
        let schema = answer_schema(op, status, media_type);
        assert_valid(&doc, schema, &answer, &format!("POST {uri} ({status})"));
    }

    let read = operation(
        &doc,
        &Method::GET,
        "/api/v1/ledgers/{ledger}/holders/{holder}",
    );
    let (status, _, answer) = farm
        .get(
            &format!("/api/v1/ledgers/{LEDGER}/holders/nobody"),
            secretary,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_valid(
        &doc,
        answer_schema(read, status, "application/problem+json"),
        &answer,
        "a holder not found",
    );
}

/// A cap table as of a position the ledger has not reached is an error, not
/// the latest table under another name; and the classes' shares of the votes
/// add up to the whole (they were 0, as if classes carried no votes).
#[tokio::test]
async fn the_cap_table_refuses_a_position_past_the_head_and_gives_each_class_its_votes() {
    let farm = Farm::new().await;
    let secretary = Some(farm.token(Role::Secretary));
    let base = format!("/api/v1/ledgers/{LEDGER}");
    let (status, _, body) = farm
        .get(&format!("{base}/cap-table?position=999999"), secretary)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("beyond the ledger's last event")),
        "{body}"
    );
    for path in ["cap-table", "parties"] {
        let (status, _, table) = farm
            .get(&format!("{base}/{path}?position=100"), secretary)
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {table}");
        let (status, _, table) = farm.get(&format!("{base}/{path}"), secretary).await;
        assert_eq!(status, StatusCode::OK, "{path}: {table}");
        let by_class = table["by_class"].as_object().expect("totals by class");
        let votes: Vec<f64> = by_class
            .values()
            .map(|t| {
                t["votes_pct"]
                    .as_str()
                    .expect("a decimal")
                    .parse()
                    .expect("a number")
            })
            .collect();
        let sum: f64 = votes.iter().sum();
        assert!(
            (sum - 100.0).abs() < 0.01,
            "{path}: the classes' votes add up to {sum}, not 100: {by_class:?}"
        );
        assert!(votes.iter().any(|v| *v > 0.0), "{path}: {by_class:?}");
    }
}
