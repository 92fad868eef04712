//! The OpenAPI 3.1 document, generated from the route table (so it lists
//! exactly the routes served, with their access rules), and a small
//! self-contained reference page that can call them.
//!
//! Every schema is derived (schemars) from the serde type it describes:
//! request bodies and query strings from the types the handlers decode them
//! into (the domain's command enums, with the domain's `json-schema`
//! feature, and the query types of `reads.rs`), answers from the types the
//! handlers answer (`answers.rs`, and the projections' views with the
//! projections' `json-schema` feature), errors from [`Problem`], whose
//! `type` is one of those of its status.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use windledger_domain::types::{AdvanceId, HolderId, MeetingId};

use crate::AppState;
use crate::answers::Recorded;
use crate::auth::Role;
use crate::problem::{Kind, Problem};
use crate::routes::{Access, Answer, CommandSpec, RouteSpec, by_path, path_params, routes};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/docs", get(docs))
}

async fn openapi_json() -> Response {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    let body = BODY.get_or_init(|| serde_json::to_vec(&document()).unwrap_or_default());
    let mut response = body.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

const DOCS: &str = include_str!("docs.html");

/// The reference page, with a policy that lets only its own inline script
/// and style run (by their SHA-256), fetch only from this server, and be
/// framed by no one.
async fn docs() -> Response {
    static POLICY: OnceLock<HeaderValue> = OnceLock::new();
    let policy = POLICY.get_or_init(|| {
        HeaderValue::from_str(&docs_policy(DOCS))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
    });
    let headers = [
        (header::CONTENT_SECURITY_POLICY, policy.clone()),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (headers, Html(DOCS)).into_response()
}

/// The Content-Security-Policy of a page whose scripts and styles are all
/// inline: each allowed by its hash.
fn docs_policy(page: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let hashes = |tag: &str| -> String {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut out = String::new();
        let mut rest = page;
        while let Some(start) = rest.find(&open) {
            let body = &rest[start + open.len()..];
            let Some(end) = body.find(&close) else { break };
            let digest = sha2::Sha256::digest(&body.as_bytes()[..end]);
            out.push_str(&format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
            rest = &body[end..];
        }
        out
    };
    format!(
        "default-src 'none'; script-src{}; style-src{}; connect-src 'self'; \
         form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        hashes("script"),
        hashes("style")
    )
}

/// Where the document keeps its schemas, and where the derived schemas'
/// references point.
const COMPONENTS: &str = "#/components/schemas/";

/// The generator of the derived schemas: JSON Schema 2020-12 (the dialect
/// of OpenAPI 3.1), definitions under `components/schemas`, describing what
/// the server accepts (serde's deserialize side). Answers are described by
/// the same generator, so that a value of the domain has one schema in the
/// document whichever way it travels: a field that may be left out of a
/// body (`null` or a default) is not required in an answer either, which
/// always has it.
pub fn schema_generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .for_deserialize()
        .into_generator()
}

fn who(access: Access) -> String {
    let names = |roles: &[Role]| {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match access {
        Access::Public => "Public: no token needed.".to_owned(),
        Access::Roles(r) => format!("Roles: {}.", names(r)),
        Access::RolesOrSelf(r) => format!(
            "Roles: {}, or a shareholder token acting for this holder.",
            names(r)
        ),
        Access::RolesOrOwnHolder(r) => format!(
            "Roles: {}, or a shareholder or municipality token acting for its own holder.",
            names(r)
        ),
        Access::RolesOrOwnResident(r) => format!(
            "Roles: {}, or a resident token acting for itself.",
            names(r)
        ),
        Access::RolesOrSelfResident(r) => format!(
            "Roles: {}, or a resident token acting for this resident.",
            names(r)
        ),
    }
}

/// The statuses of the problems an operation may answer, with why.
fn problem_statuses(spec: &RouteSpec) -> Vec<(u16, &'static str)> {
    let mut statuses = vec![
        (
            401,
            if spec.access == Access::Public {
                "The token sent is not valid (expired, revoked, forged or malformed): a public route needs no token, but refuses a bad one."
            } else {
                "No token, or a token that is not valid (expired, revoked, forged or malformed)."
            },
        ),
        (
            403,
            if spec.access == Access::Public {
                "The token belongs to another ledger."
            } else {
                "The token's role (or holder, or ledger) may not do this."
            },
        ),
        (404, "No such ledger, or no such resource in it."),
    ];
    // A body is read the same way for a domain command and for the other
    // writes (an identity): the same refusals.
    if spec.command.is_some() || spec.body.is_some() {
        statuses.extend([
            (
                409,
                "Another command changed the aggregate at the same moment: send it again.",
            ),
            (413, "The body is larger than 1 MiB."),
            (415, "The body is not sent as application/json."),
            (
                422,
                "Not a valid command (not JSON, wrong types, unknown fields, bad ids or dates, a bad Idempotency-Key), refused by the ledger's rules (`rule` names the rule), or an Idempotency-Key reused with another request.",
            ),
        ]);
    } else {
        statuses.push((
            422,
            "Bad parameters (a bad id, date or count, an unknown query parameter), or figures recorded before windledger bounded them that do not add up (figures-out-of-range).",
        ));
    }
    statuses.push((
        429,
        "Too many tokens that are not valid were sent from this address lately: no token from it is checked until Retry-After.",
    ));
    statuses.push((
        503,
        "The database is unreachable, or the projections are catching up with the ledger: try again (Retry-After).",
    ));
    statuses
}

/// A problem answer: the problem's `status` is this one and its `type` one
/// of the kinds with this status.
fn problem_response(status: u16, description: &str, generator: &mut SchemaGenerator) -> Value {
    let types: Vec<String> = Kind::ALL
        .iter()
        .filter(|k| k.status().as_u16() == status)
        .map(|k| k.uri())
        .collect();
    let mut response = json!({
        "description": description,
        "content": { "application/problem+json": { "schema": {
            "allOf": [
                generator.subschema_for::<Problem>(),
                { "properties": { "status": { "const": status }, "type": { "enum": types } } }
            ]
        } } }
    });
    if status == 429 || status == 503 {
        response["headers"] = json!({
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": { "type": "integer", "minimum": 0 }
            }
        });
    }
    response
}

/// A path parameter: its schema is that of the id it names.
fn path_parameter(name: &str, generator: &mut SchemaGenerator) -> Value {
    // The examples are the reference farm's (`windledger demo`).
    let (schema, description, example): (Value, &str, Value) = match name {
        "ledger" => (
            json!({ "type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$" }),
            "The ledger: one farm's register.",
            json!("ailes-de-taillard"),
        ),
        "holder" => (
            generator.subschema_for::<HolderId>().into(),
            "A holder.",
            json!("cit-001"),
        ),
        "resident" => (
            generator
                .subschema_for::<windledger_domain::types::ResidentId>()
                .into(),
            "A resident of the territory, by its pseudonymous id.",
            json!("hab-001"),
        ),
        "meeting" => (
            generator.subschema_for::<MeetingId>().into(),
            "A meeting.",
            json!("ago-2025"),
        ),
        "advance" => (
            generator.subschema_for::<AdvanceId>().into(),
            "A current-account advance.",
            json!("cca-partenaire-2020"),
        ),
        "year" => (
            json!({ "type": "integer", "format": "int32" }),
            "A financial year: the year it ends in.",
            json!(2025),
        ),
        "position" => (
            json!({ "type": "integer", "format": "int64", "minimum": 1 }),
            "An event's position in the ledger, from 1.",
            json!(7),
        ),
        "path" => (
            json!({ "type": "string", "minLength": 1 }),
            "A C2SP tile path below tile/: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, N in groups of three digits (`x001/234`).",
            json!("0/000"),
        ),
        _ => (json!({ "type": "string", "minLength": 1 }), "", Value::Null),
    };
    let mut parameter = json!({
        "name": name, "in": "path", "required": true,
        "description": description,
        "schema": schema,
    });
    if !example.is_null() {
        parameter["example"] = example;
    }
    parameter
}

/// The query parameters of a derived query type: one per property.
fn query_parameters(schema: &Value) -> Vec<Value> {
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = not_null(property.clone());
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"))
                .unwrap_or_else(|| Value::from(""));
            json!({
                "name": name, "in": "query",
                "required": required.contains(name.as_str()),
                "description": description,
                "schema": property,
            })
        })
        .collect()
}

/// A query parameter is absent rather than null: an optional field's schema
/// without its `null`.
fn not_null(mut schema: Value) -> Value {
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = match kept.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(kept),
        };
    }
    if let Some(any_of) = schema.get("anyOf").and_then(Value::as_array) {
        let kept: Vec<Value> = any_of
            .iter()
            .filter(|s| s.get("type") != Some(&Value::from("null")))
            .cloned()
            .collect();
        if let [one] = kept.as_slice() {
            return one.clone();
        }
    }
    schema
}

/// A command's body: the variant of its command enum tagged with the
/// command's name, without the `command` field (the URL names the command);
/// a field the path fills in, or that a holder's token may leave out, is not
/// required. `None` if the enum has no such variant (a bug of the table,
/// which the tests catch).
fn command_body(
    command: &CommandSpec,
    generator: &mut SchemaGenerator,
    enums: &mut BTreeSet<String>,
) -> Option<Value> {
    let reference = command.command_schema(generator);
    let name = reference
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(COMPONENTS))?
        .to_owned();
    let variant = generator.definitions().get(&name)?["oneOf"]
        .as_array()?
        .iter()
        .find(|v| v["properties"]["command"]["const"] == command.tag())?
        .clone();
    enums.insert(name);
    let mut body = variant;
    let object = body.as_object_mut()?;
    object
        .get_mut("properties")?
        .as_object_mut()?
        .remove("command");
    let optional: Vec<(&str, &str)> = [
        command.injected_field().map(|f| {
            (
                f,
                "Filled in from the path; if given, it must equal the path's.",
            )
        }),
        command.own_field().map(|f| {
            (
                f,
                "Required with a secretary's token; a shareholder or municipality token may leave it out (it is then the token's own holder) and may give no other holder.",
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let server_time = command.server_time_field();
    if let Some(field) = server_time {
        object.get_mut("properties")?.as_object_mut()?.remove(field);
    }
    if let Some(required) = object.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| {
            r != "command" && !optional.iter().any(|(f, _)| r == f) && server_time != r.as_str()
        });
    }
    if command.takes_person() {
        let person = generator
            .subschema_for::<windledger_vault::Person>()
            .to_value();
        let properties = object.get_mut("properties")?.as_object_mut()?;
        properties.remove("identity");
        properties.insert("person".into(), person);
        if command.requires_person()
            && let Some(required) = object.get_mut("required").and_then(Value::as_array_mut)
        {
            required.push(Value::from("person"));
        }
    }
    for (field, note) in optional {
        if let Some(property) = object
            .get_mut("properties")
            .and_then(|p| p.get_mut(field))
            .and_then(Value::as_object_mut)
        {
            property.insert("description".into(), Value::from(note));
        }
    }
    Some(body)
}

fn operation(
    spec: &RouteSpec,
    generator: &mut SchemaGenerator,
    enums: &mut BTreeSet<String>,
) -> Value {
    let mut parameters: Vec<Value> = path_params(spec.path)
        .into_iter()
        .map(|name| path_parameter(name, generator))
        .collect();
    if let Some(query) = spec.query {
        parameters.extend(query_parameters(&query(generator).to_value()));
    }
    let mut responses = Map::new();
    match spec.answer {
        Answer::Json(schema) => {
            responses.insert(
                "200".into(),
                json!({
                    "description": "OK",
                    "content": { "application/json": { "schema": schema(generator) } }
                }),
            );
        }
        Answer::File(media_type) => {
            let mut content = Map::new();
            content.insert(media_type.into(), json!({}));
            responses.insert(
                "200".into(),
                json!({ "description": "The file.", "content": content }),
            );
        }
        Answer::Recorded => {
            responses.insert(
                "201".into(),
                json!({
                    "description": "Recorded: the new events' positions and hashes (receipts). A retry with the same Idempotency-Key and request answers the first response again.",
                    "headers": { "Idempotent-Replayed": {
                        "description": "`true` when this answers an earlier request with the same Idempotency-Key.",
                        "schema": { "type": "string", "const": "true" }
                    } },
                    "content": { "application/json": { "schema": generator.subschema_for::<Recorded>() } }
                }),
            );
        }
    }
    for (status, description) in problem_statuses(spec) {
        responses.insert(
            status.to_string(),
            problem_response(status, description, generator),
        );
    }
    let mut op = json!({
        "operationId": operation_id(spec),
        "summary": spec.summary,
        "description": who(spec.access),
        "responses": responses,
        "tags": [tag(spec.path)],
    });
    if let Some(command) = spec.command {
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "The same key and request return the first response and write nothing more; the same key with another request is a 422.",
            "schema": { "type": "string", "pattern": "^[!-~]{1,200}$" }
        }));
        let schema = command_body(&command, generator, enums)
            .unwrap_or_else(|| json!({ "not": {}, "description": "no schema: a bug" }));
        op["requestBody"] = json!({
            "required": true,
            "description": format!("The fields of the domain command `{}`, as in an import file without its `command` field.", command.tag()),
            "content": { "application/json": { "schema": schema } }
        });
    }
    if let Some(body) = spec.body {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": body(generator) } }
        });
    }
    op["parameters"] = Value::Array(parameters);
    if spec.access == Access::Public {
        op["security"] = json!([{}, { "bearer": [] }]);
    } else {
        op["security"] = json!([{ "bearer": [] }]);
    }
    op
}

fn tag(path: &str) -> String {
    path.trim_start_matches("/api/v1/ledgers/{ledger}/")
        .split('/')
        .next()
        .unwrap_or("ledger")
        .to_owned()
}

fn operation_id(spec: &RouteSpec) -> String {
    let words: Vec<String> = spec
        .path
        .trim_start_matches("/api/v1/ledgers/{ledger}/")
        .split('/')
        .map(|s| s.trim_matches(|c| c == '{' || c == '}').replace('-', "_"))
        .collect();
    format!(
        "{}_{}",
        spec.method.as_str().to_lowercase(),
        words.join("_")
    )
}

/// The document.
pub fn document() -> Value {
    let mut generator = schema_generator();
    let mut enums = BTreeSet::new();
    let routes = routes();
    let mut paths = Map::new();
    for (path, specs) in by_path(&routes) {
        let mut item = Map::new();
        for spec in specs {
            item.insert(
                spec.method.as_str().to_lowercase(),
                operation(spec, &mut generator, &mut enums),
            );
        }
        // A wildcard (`{*path}`, the rest of the path) is documented as a
        // parameter like any other.
        paths.insert(path.replace("{*", "{"), Value::Object(item));
    }
    let mut schemas = generator.take_definitions(true);
    // The command enums' variants are inlined as bodies, without their tag.
    for name in &enums {
        schemas.remove(name);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "windledger",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The governance ledger of a citizen-owned wind farm: reads from its projections, commands through its rules. Every error is RFC 9457 problem+json.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "A token issued by `windledger token issue`." }
            },
            "schemas": schemas,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_with_its_rule_and_problems() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let routes = routes();
        let mut operations = 0;
        for spec in &routes {
            let op =
                &doc["paths"][spec.path.replace("{*", "{")][spec.method.as_str().to_lowercase()];
            assert!(
                op.is_object(),
                "{} {} is documented",
                spec.method,
                spec.path
            );
            assert_eq!(op["description"], who(spec.access));
            for name in path_params(spec.path) {
                assert!(
                    op["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name)),
                    "{} documents {name}",
                    spec.path
                );
            }
            let responses = op["responses"].as_object().expect("responses");
            for status in ["401", "403", "404", "422", "429", "503"] {
                assert!(responses.contains_key(status), "{} {status}", spec.path);
            }
            assert_eq!(
                spec.command.is_some() || spec.body.is_some(),
                op["requestBody"].is_object()
            );
            operations += 1;
        }
        let documented: usize = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().map_or(0, |m| m.len()))
            .sum();
        assert_eq!(
            documented, operations,
            "nothing documented that is not served"
        );
        let ids: std::collections::BTreeSet<String> = routes.iter().map(operation_id).collect();
        assert_eq!(ids.len(), routes.len(), "operation ids are unique");
    }
}
