//! End-to-end tests of windledger, on both store backends, in `tests/`:
//! `company_through_cqrs`, `meeting_through_cqrs` and `finance_through_cqrs`
//! run the aggregates through cqrs-es on the real store. The tests against a
//! running server arrive with the HTTP API (issue 8). The store's own
//! conformance suite lives in `store/tests`.

/// Runs each listed `async fn(TestDatabase)` of the calling test file on
/// PostgreSQL (skipped, or failed with `WINDLEDGER_REQUIRE_POSTGRES=1`, when
/// the server cannot be reached) and on SQLite.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            use windledger_store::testing::{Backend, TestDatabase};
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(db) = TestDatabase::new(Backend::Postgres).await else { return };
                    super::$test(db).await;
                }
            )*
        }
        mod sqlite {
            use windledger_store::testing::{Backend, TestDatabase};
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let db = TestDatabase::new(Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$test(db).await;
                }
            )*
        }
    };
}
