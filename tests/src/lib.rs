//! End-to-end tests of windledger, on both store backends, in `tests/`: the
//! test binary `end_to_end` (a module per story: the aggregates through
//! cqrs-es on the real store, the import, the projections, the server's API
//! and pages), and `http_hostile` and `http_database_restart`, each a binary
//! of its own for its time limits. The farms come from
//! `windledger_fixtures`. The store's own conformance suite lives in
//! `store/tests`.

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
