//! The store's integration tests, in one binary (each binary is one more
//! link): `conformance`, the suite both backends pass (`vault` for the
//! identity vault's rows), and `app_role`, what
//! the server's PostgreSQL role may and may not do.

mod app_role;
mod conformance;
mod vault;
