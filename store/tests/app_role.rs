//! On PostgreSQL, the server can run as a role that may append and read
//! but can neither change nor remove an event, nor switch the triggers off
//! (docs/deploy.md gives the grants). Checked by connecting as such a role.

use serde_json::json;
use sqlx::{Connection, Executor};
use uuid::Uuid;
use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{
    ExpectedVersion, LedgerId, Metadata, NewEvent, Store, StoreOptions, StreamAppend, StreamId,
};

/// The grants of docs/deploy.md, for `role` on `database`.
fn grants(role: &str, database: &str) -> String {
    format!(
        "CREATE ROLE {role} LOGIN;
         GRANT CONNECT ON DATABASE {database} TO {role};
         GRANT USAGE ON SCHEMA public TO {role};
         GRANT SELECT ON _sqlx_migrations TO {role};
         GRANT SELECT, INSERT ON events TO {role};
         GRANT SELECT, INSERT, UPDATE ON ledgers TO {role};
         GRANT SELECT, INSERT, UPDATE ON access_tokens TO {role};"
    )
}

fn as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let rest = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{rest}")
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "ShareIssued".into(),
        schema_version: 1,
        payload: json!({"holder": format!("h-{n}"), "shares": n}),
        metadata: Metadata::default(),
    }
}

#[tokio::test]
async fn the_servers_role_cannot_rewrite_history() {
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    // The owner applies the migrations.
    let owner = db.store().await;
    let ledger = LedgerId::parse("farm").expect("a ledger id");
    owner.create_ledger(&ledger).await.expect("a ledger");
    drop(owner);

    let role = format!("wl_app_{}", Uuid::new_v4().simple());
    let database = db
        .url
        .rsplit('/')
        .next()
        .expect("a database")
        .split('?')
        .next()
        .expect("a name")
        .to_owned();
    db.execute_raw(&grants(&role, &database))
        .await
        .expect("the grants apply");
    let url = as_role(&db.url, &role);

    let outcome = async {
        // The server's store, as that role: it connects and appends.
        let store = Store::connect(StoreOptions::new(&url))
            .await
            .map_err(|e| format!("the app role cannot open the store: {e}"))?;
        let stream = StreamId::parse("company/farm").expect("a stream id");
        for n in 1..=3 {
            store
                .append(
                    &ledger,
                    vec![StreamAppend {
                        stream_id: stream.clone(),
                        expected: ExpectedVersion::Any,
                        events: vec![event(n)],
                    }],
                )
                .await
                .map_err(|e| format!("the app role cannot append: {e}"))?;
        }
        drop(store);

        let mut c = sqlx::PgConnection::connect(&url)
            .await
            .map_err(|e| e.to_string())?;
        for attempt in [
            "UPDATE events SET event_type = 'Forged' WHERE position = 1",
            "DELETE FROM events WHERE position = 3",
            "TRUNCATE events",
            "ALTER TABLE events DISABLE TRIGGER ALL",
            "SET session_replication_role = replica",
        ] {
            match c.execute(attempt).await {
                Ok(_) => return Err(format!("the app role could run: {attempt}")),
                Err(e) => {
                    let text = e.to_string();
                    if !(text.contains("permission denied") || text.contains("must be owner")) {
                        return Err(format!(
                            "{attempt}: refused, but not for want of rights: {text}"
                        ));
                    }
                }
            }
        }
        c.close().await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    }
    .await;

    // Whatever happened, the role goes (it is the cluster's, not the
    // test database's).
    db.execute_raw(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await
        .expect("the role is dropped");
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let owner = db.store().await;
    assert_eq!(owner.head(&ledger).await.expect("the head").size, 3);
}
