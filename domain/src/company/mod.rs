//! The `company` stream (DESIGN.md 2.2): incorporation, charter and its
//! amendments, the register of shareholders and the share movements.
//!
//! The rules the issue left open are on [`Company`].

mod aggregate;
mod commands;
mod error;
mod events;
mod fleet;
mod places;
mod types;

pub use aggregate::{Company, CompanyServices, RETENTION_AFTER_EXIT_YEARS, RegisterEntry};
pub use commands::CompanyCommand;
pub use error::CompanyError;
pub use events::{COMPANY_EVENT_VERSION, CompanyEvent, ShareTransfer};
pub use fleet::Fleet;
pub use places::PlaceNames;
pub use types::{
    CancellationSource, HolderKind, Incorporation, LegalForm, PlannedTurbine, Subscription, Turbine,
};
