//! Tests on PostgreSQL clusters of their own
//! (`windledger_store::testing::cluster`): the database
//! stopped and started under the server, and a hot standby serving a
//! read-only server, then promoted when its primary fails. One binary of
//! their own, so that their time limits never share the cores with other
//! tests.

#[path = "../support/server.rs"]
mod server;

mod database_restart;
mod replicas;
