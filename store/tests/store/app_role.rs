//! On PostgreSQL, the server can run as a role that may append and read
//! but can neither change nor remove an event or a seal, nor switch the
//! triggers off, nor issue a token or change one other than by revoking it
//! (docs/deploy.md gives the grants). What that role can still do, append
//! a well-chained event with no seal, `verify` reports at its position.
//! Checked by connecting as such a role.

use serde_json::json;
use sqlx::{Connection, Executor};
use uuid::Uuid;
use windledger_store::testing::{Backend, TestDatabase, forge_event_at};
use windledger_store::{
    ExpectedVersion, LedgerId, Metadata, NewEvent, Store, StoreOptions, StoredToken, StreamAppend,
    StreamId, Verification,
};

/// The grants of docs/deploy.md, for `role` on `database`.
fn grants(role: &str, database: &str) -> String {
    format!(
        "CREATE ROLE {role} LOGIN;
         GRANT CONNECT ON DATABASE {database} TO {role};
         GRANT USAGE ON SCHEMA public TO {role};
         GRANT SELECT ON _sqlx_migrations TO {role};
         GRANT SELECT, INSERT ON events TO {role};
         GRANT SELECT, INSERT ON seals TO {role};
         GRANT SELECT, INSERT ON signed_checkpoints TO {role};
         GRANT SELECT, INSERT, UPDATE ON ledgers TO {role};
         GRANT SELECT ON access_tokens TO {role};
         GRANT UPDATE (revoked_at) ON access_tokens TO {role};"
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
    // Issued by the owner (the admin connection: `windledger token issue`).
    let token = |id: &str, role: &str| StoredToken {
        token_id: id.into(),
        secret_hash: [7; 32],
        ledger: "farm".into(),
        role: role.into(),
        holder: Some("cit-001".into()).filter(|_| role == "shareholder"),
        label: String::new(),
        created_at: chrono::Utc::now(),
        expires_at: None,
        revoked_at: None,
    };
    owner
        .insert_token(&token("holder1", "shareholder"))
        .await
        .expect("the owner issues a token");
    owner
        .insert_token(&token("holder2", "shareholder"))
        .await
        .expect("the owner issues a token");
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
        let store = Store::connect(StoreOptions::new(&url).sealed_by(db.sealer()))
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

        // It revokes a token (what the running server does), and the
        // revocation is polled back.
        let before = chrono::Utc::now() - chrono::TimeDelta::seconds(10);
        if !store
            .revoke_token("holder1", chrono::Utc::now())
            .await
            .map_err(|e| format!("the app role cannot revoke a token: {e}"))?
        {
            return Err("the revocation changed nothing".into());
        }
        let revoked = store
            .tokens_revoked_since(before)
            .await
            .map_err(|e| e.to_string())?;
        if revoked != ["holder1"] {
            return Err(format!("revoked tokens polled: {revoked:?}"));
        }
        // It issues none.
        match store.insert_token(&token("forged", "secretary")).await {
            Ok(()) => return Err("the app role issued a secretary's token".into()),
            Err(e) if e.to_string().contains("permission denied") => {}
            Err(e) => return Err(format!("insert refused, but not for want of rights: {e}")),
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
            "UPDATE seals SET first_position = 1",
            "DELETE FROM seals",
            "TRUNCATE seals",
            "ALTER TABLE seals DISABLE TRIGGER ALL",
            "DELETE FROM signed_checkpoints",
            "INSERT INTO access_tokens (token_id, secret_hash, ledger_id, role, created_at) \
             VALUES ('forged', decode(repeat('00', 32), 'hex'), 'farm', 'secretary', now())",
            "UPDATE access_tokens SET role = 'secretary' WHERE token_id = 'holder2'",
            "UPDATE access_tokens SET holder_id = 'cit-002' WHERE token_id = 'holder2'",
            "UPDATE access_tokens SET expires_at = NULL, ledger_id = 'other' WHERE token_id = 'holder2'",
            "DELETE FROM access_tokens",
            "ALTER TABLE access_tokens DISABLE TRIGGER ALL",
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
        // Revoking is its only change to a token, and a revocation stays.
        for attempt in [
            "UPDATE access_tokens SET revoked_at = NULL WHERE token_id = 'holder1'",
            "UPDATE access_tokens SET revoked_at = now() + interval '1 day' WHERE token_id = 'holder1'",
        ] {
            match c.execute(attempt).await {
                Ok(_) => return Err(format!("the app role could run: {attempt}")),
                Err(e) if e.to_string().contains("stays revoked") => {}
                Err(e) => return Err(format!("{attempt}: refused, but not by the trigger: {e}")),
            }
        }
        c.execute("UPDATE access_tokens SET revoked_at = now() WHERE token_id = 'holder2'")
            .await
            .map_err(|e| format!("the app role cannot revoke with SQL: {e}"))?;
        c.close().await.map_err(|e| e.to_string())?;

        // What the role can still do: append a well-chained event (its hash
        // computed with the store's chain code) and move the head. The
        // database takes it; it has no seal.
        let forged = forge_event_at(Backend::Postgres, &url, &ledger, "company/farm", 4).await?;
        if forged.size != 4 {
            return Err(format!("the forged event landed at {forged:?}"));
        }
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
    assert_eq!(owner.head(&ledger).await.expect("the head").size, 4);
    // The chain holds, but the forged event is unsealed, at its position.
    match owner
        .verify(&ledger, &db.keys(), &[], |_, _| {})
        .await
        .expect("verify runs")
    {
        Verification::Broken(b) if b.is_unsealed() && b.position == 4 => {}
        other => panic!("the forged event was not reported unsealed at 4: {other:?}"),
    }
    // Its tokens: the forged one is not there, and the others kept their role.
    assert_eq!(owner.token("forged").await.expect("a read"), None);
    let holder2 = owner
        .token("holder2")
        .await
        .expect("a read")
        .expect("the token");
    assert_eq!(holder2.role, "shareholder");
    assert_eq!(holder2.holder.as_deref(), Some("cit-001"));
    assert!(holder2.revoked_at.is_some());
}
