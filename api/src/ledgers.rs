//! The ledgers this server holds, as the API asks for them: opened on
//! first use and released over the memory budget by
//! [`windledger_app::ledgers`] (docs/deploy.md, "Many farms"), a missing
//! one answered 404, the directory of farms answered as [`Farm`]s.

use std::sync::Arc;

use windledger_app::ledger::LedgerRuntime;
use windledger_store::LedgerId;

use crate::AppState;
use crate::answers::Farm;
use crate::problem::Problem;

impl AppState {
    /// The farms this server serves, by ledger id (see
    /// [`windledger_app::ledgers::Ledgers::directory`]).
    pub async fn directory(&self) -> Result<Vec<Farm>, Problem> {
        let farms = self.ledgers.directory(&self.store).await?;
        Ok(farms
            .iter()
            .map(|(id, farm)| Farm {
                ledger: id.to_string(),
                legal_name: farm.legal_name.clone(),
                turbines: farm.turbines,
                rated_kw: farm.rated_kw,
            })
            .collect())
    }

    /// The runtime of the ledger a path names, opened on first use; 404 if
    /// the name is not a ledger's or the ledger does not exist.
    pub async fn runtime_of(&self, name: String) -> Result<Arc<LedgerRuntime>, Problem> {
        let id = LedgerId::parse(name).map_err(|e| Problem::not_found(e.to_string()))?;
        self.open(&id).await
    }

    /// Opens a ledger that exists, or finds it open (see
    /// [`windledger_app::ledgers::Ledgers::open`]); 404 if it does not exist.
    pub async fn open(&self, id: &LedgerId) -> Result<Arc<LedgerRuntime>, Problem> {
        self.ledgers
            .open(&self.store, id, &self.trusted_keys)
            .await
            .map_err(|e| Problem::store(&e))?
            .ok_or_else(|| Problem::not_found(format!("no ledger {id}")))
    }
}
