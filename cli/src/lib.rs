//! The `windledger` command line: `demo`, `serve`, `import`, `export`,
//! `register`, `verify`, `token`, `rebuild`, `backup` and `restore`, over the application layer
//! ([`windledger_app`]), the JSON API ([`windledger_api`]) and the pages
//! ([`windledger_web`]), which [`router`] serves together.

pub mod backup;
pub mod cli;
pub mod config;
pub mod convocations;
pub mod demo;
pub mod export;
pub mod identity;
pub mod import;
pub mod options;
pub mod payments;
pub mod publish;
pub mod register;
pub mod server_cli;
pub mod verify;
pub mod verify_receipt;
pub mod witness;

use windledger_api::{AppState, ServeLimits};

/// The whole application: the API and the pages on one router.
pub fn router(state: AppState) -> axum::Router {
    windledger_api::router(state.clone(), windledger_web::router(state))
}

/// Serves the API and the pages on `listener` within `limits` until
/// `shutdown` resolves (see [`windledger_api::serve_within`]).
pub async fn serve_within(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pages = windledger_web::router(state.clone());
    windledger_api::serve_within(listener, state, pages, limits, shutdown).await
}

/// [`serve_within`] the default limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_within(listener, state, ServeLimits::default(), shutdown).await
}
