//! The OpenAPI 3.1 document, generated from the route table (so it lists
//! exactly the routes served, with their access rules), and a small
//! self-contained reference page that can call them.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::AppState;
use super::auth::Role;
use super::problem::Kind;
use super::routes::{Access, RouteSpec, by_path, path_params, routes};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/docs", get(docs))
}

async fn openapi_json() -> Response {
    let mut response = axum::Json(document()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
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
    }
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn operation(spec: &RouteSpec) -> Value {
    let mut parameters: Vec<Value> = path_params(spec.path)
        .into_iter()
        .map(|name| {
            json!({
                "name": name, "in": "path", "required": true,
                "schema": { "type": "string", "minLength": 1, "maxLength": 200 }
            })
        })
        .collect();
    let mut responses = Map::new();
    if spec.command.is_some() {
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "The same key and body return the first response and write nothing more; the same key with another body is a 422.",
            "schema": { "type": "string", "minLength": 1, "maxLength": 200 }
        }));
        responses.insert(
            "201".into(),
            json!({
                "description": "Recorded: the new events' positions and hashes (receipts).",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Recorded" } } }
            }),
        );
        responses.insert(
            "409".into(),
            problem_response("Another command changed the aggregate first: retry."),
        );
        responses.insert("413".into(), problem_response("The body is too large."));
        responses.insert("415".into(), problem_response("The body is not JSON."));
        responses.insert("422".into(), problem_response("Not a valid command, refused by the ledger's rules, or an Idempotency-Key reused with another body."));
    } else {
        responses.insert(
            "200".into(),
            json!({ "description": "OK", "content": { "application/json": { "schema": {} } } }),
        );
        responses.insert("422".into(), problem_response("Bad query parameters."));
    }
    if spec.access != Access::Public {
        responses.insert("401".into(), problem_response("No valid token."));
        responses.insert(
            "403".into(),
            problem_response("The token's role may not do this."),
        );
    }
    responses.insert(
        "404".into(),
        problem_response("No such ledger or resource."),
    );
    responses.insert(
        "503".into(),
        problem_response("The database is unreachable or the projections are catching up."),
    );
    let mut op = json!({
        "operationId": operation_id(spec),
        "summary": spec.summary,
        "description": who(spec.access),
        "parameters": parameters,
        "responses": responses,
        "tags": [tag(spec.path)],
    });
    if let Some(command) = spec.command {
        op["requestBody"] = json!({
            "required": true,
            "description": format!("The fields of the domain command `{command}` (see the domain's commands); the path's ids are filled in."),
            "content": { "application/json": { "schema": { "type": "object" } } }
        });
    }
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
    let routes = routes();
    let mut paths = Map::new();
    for (path, specs) in by_path(&routes) {
        let mut item = Map::new();
        for spec in specs {
            item.insert(spec.method.as_str().to_lowercase(), operation(spec));
        }
        paths.insert(path.to_owned(), Value::Object(item));
    }
    let problem_types: Vec<String> = Kind::ALL.iter().map(|k| k.uri()).collect();
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
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": { "type": "string", "enum": problem_types },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                        "rule": { "type": "string", "description": "For a refused command: the rule that refused it." }
                    }
                },
                "Recorded": {
                    "type": "object",
                    "required": ["stream", "receipts"],
                    "properties": {
                        "stream": { "type": "string" },
                        "receipts": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["position", "hash", "stream", "event_type"],
                                "properties": {
                                    "position": { "type": "integer", "minimum": 1 },
                                    "hash": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                                    "stream": { "type": "string" },
                                    "event_type": { "type": "string" }
                                }
                            }
                        }
                    }
                }
            }
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
            let op = &doc["paths"][spec.path][spec.method.as_str().to_lowercase()];
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
            assert!(responses.contains_key("404"));
            assert_eq!(spec.access != Access::Public, responses.contains_key("403"));
            assert_eq!(spec.command.is_some(), op["requestBody"].is_object());
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
