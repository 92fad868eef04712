//! Tokens and roles. A token is `wl_<id>_<secret>`: the id finds it, the
//! secret proves it. Only a SHA-256 of the secret is stored, and the check
//! compares digests in constant time. A token belongs to one ledger, has a
//! role, may act for one holder, may expire and may be revoked.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use windledger_domain::types::{HolderId, ResidentId};
use windledger_store::{LedgerId, Store, StoreError, StoredToken};

/// The groups of roles the access rules name, for the API's route table
/// and the pages alike.
pub mod roles {
    use super::Role;

    pub const SECRETARY: &[Role] = &[Role::Secretary];
    pub const OPERATOR: &[Role] = &[Role::Operator];
    /// The municipality alone: the territory's residents and its budgeting
    /// rounds.
    pub const MUNICIPALITY: &[Role] = &[Role::Municipality];
    /// Those who audit: every holder's data, the register, the log.
    pub const AUDITORS: &[Role] = &[Role::Secretary, Role::Municipality];
    /// Those who hold or keep shares: the cap table, the meetings.
    pub const MEMBERS: &[Role] = &[Role::Secretary, Role::Municipality, Role::Shareholder];
    /// Those who vote their own holdings.
    pub const VOTERS: &[Role] = &[Role::Municipality, Role::Shareholder];
    /// A resident of the territory, acting for itself.
    pub const RESIDENT: &[Role] = &[Role::Resident];
    pub const ALL_ROLES: &[Role] = &Role::ALL;
}

/// Who may do what (see the route table in `routes.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Keeps the register: holders, movements, meetings, accounts.
    Secretary,
    /// Reads everything, votes its own holdings.
    Municipality,
    /// Publishes production, revenue, costs and taxes.
    Operator,
    /// Reads its own statement, votes for itself or as a proxy.
    Shareholder,
    /// A resident of the territory the municipality registered: submits
    /// proposals to the territory fund's budgeting rounds and votes in
    /// them, for itself alone.
    Resident,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Secretary,
        Role::Municipality,
        Role::Operator,
        Role::Shareholder,
        Role::Resident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Secretary => "secretary",
            Role::Municipality => "municipality",
            Role::Operator => "operator",
            Role::Shareholder => "shareholder",
            Role::Resident => "resident",
        }
    }

    /// The role with its English article: "a secretary", "an operator".
    pub fn with_article(self) -> String {
        let article = if self.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {self}")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}: the roles are secretary, municipality, operator, shareholder, resident")
            })
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub ledger: LedgerId,
    pub role: Role,
    /// The holder this token acts for (always set for a shareholder).
    pub holder: Option<HolderId>,
    /// The resident this token acts for (always set for a resident, never
    /// for another role).
    pub resident: Option<ResidentId>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Whoever made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Token(Principal),
}

impl Caller {
    pub fn role_name(&self) -> &'static str {
        match self {
            Caller::Anonymous => "anonymous",
            Caller::Token(p) => p.role.as_str(),
        }
    }

    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Caller::Anonymous => None,
            Caller::Token(p) => Some(p),
        }
    }
}

/// A token just issued: the secret text is shown once and never again.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub stored: StoredToken,
}

pub use windledger_edge::throttle::Rejected;

const PREFIX: &str = "wl_";

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Io(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares two digests in time independent of where they differ.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Whom a token acts for, besides its role: a holder (a shareholder's, or
/// the municipality's own holding) or a resident of the territory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActsFor {
    Holder(HolderId),
    Resident(ResidentId),
}

impl ActsFor {
    /// `id` as whom `role` acts for: a resident's id for a resident, a
    /// holder's for the others.
    pub fn parse(role: Role, id: &str) -> Result<Self, String> {
        if role == Role::Resident {
            ResidentId::new(id)
                .map(ActsFor::Resident)
                .map_err(|e| e.to_string())
        } else {
            HolderId::new(id)
                .map(ActsFor::Holder)
                .map_err(|e| e.to_string())
        }
    }

    fn as_str(&self) -> &str {
        match self {
            ActsFor::Holder(h) => h.as_str(),
            ActsFor::Resident(r) => r.as_str(),
        }
    }
}

impl From<HolderId> for ActsFor {
    fn from(holder: HolderId) -> Self {
        ActsFor::Holder(holder)
    }
}

/// Issues a token (creating the ledger if it does not exist yet). A
/// shareholder's names the holder it acts for, a resident's the resident;
/// the municipality's may name its own holding; the secretary's and the
/// operator's act for no one.
pub async fn issue(
    store: &Store,
    ledger: &LedgerId,
    role: Role,
    acts_for: Option<ActsFor>,
    label: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<IssuedToken, IssueError> {
    match (role, &acts_for) {
        (Role::Shareholder, Some(ActsFor::Holder(_)))
        | (Role::Municipality, None | Some(ActsFor::Holder(_)))
        | (Role::Resident, Some(ActsFor::Resident(_)))
        | (Role::Secretary | Role::Operator, None) => {}
        (Role::Shareholder, _) => {
            return Err(IssueError::Invalid(
                "a shareholder's token must name the holder it acts for (--holder)".into(),
            ));
        }
        (Role::Resident, _) => {
            return Err(IssueError::Invalid(
                "a resident's token must name the resident it acts for (--resident)".into(),
            ));
        }
        (Role::Municipality, Some(ActsFor::Resident(_))) => {
            return Err(IssueError::Invalid(
                "a municipality's token acts for no resident: leave out --resident".into(),
            ));
        }
        (Role::Secretary | Role::Operator, Some(_)) => {
            return Err(IssueError::Invalid(format!(
                "{}'s token acts for no one: leave out --holder and --resident",
                role.with_article()
            )));
        }
    }
    let now = Utc::now();
    if expires_at.is_some_and(|e| e <= now) {
        return Err(IssueError::Invalid("the expiry is in the past".into()));
    }
    store.create_ledger(ledger).await?;
    let token_id = random_hex(6)?;
    let secret = random_hex(32)?;
    let stored = StoredToken {
        token_id: token_id.clone(),
        secret_hash: digest(&secret),
        ledger: ledger.to_string(),
        role: role.as_str().to_owned(),
        holder: acts_for.as_ref().map(|a| a.as_str().to_owned()),
        label: label.to_owned(),
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    store.insert_token(&stored).await?;
    Ok(IssuedToken {
        token: format!("{PREFIX}{token_id}_{secret}"),
        stored,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a bearer token against the store.
pub async fn authenticate(
    store: &Store,
    token: &str,
) -> Result<Result<Principal, Rejected>, StoreError> {
    let Some((id, secret)) = token
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('_'))
    else {
        return Ok(Err(Rejected::Malformed));
    };
    if id.len() != 12 || secret.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Err(Rejected::Malformed));
    }
    let Some(stored) = store.token(id).await? else {
        return Ok(Err(Rejected::Unknown));
    };
    if !same_digest(&digest(secret), &stored.secret_hash) {
        return Ok(Err(Rejected::WrongSecret));
    }
    if stored.revoked_at.is_some() {
        return Ok(Err(Rejected::Revoked));
    }
    if stored.expires_at.is_some_and(|e| e <= Utc::now()) {
        return Ok(Err(Rejected::Expired));
    }
    let corrupt = |what: String| StoreError::Corrupt(format!("token {id}: {what}"));
    let role: Role = stored.role.parse().map_err(corrupt)?;
    // The token's `holder` column names whom it acts for: a resident for a
    // resident's token, a holder for the others.
    let acts_for = stored
        .holder
        .as_deref()
        .map(|a| ActsFor::parse(role, a))
        .transpose()
        .map_err(corrupt)?;
    let (holder, resident) = match acts_for {
        Some(ActsFor::Holder(h)) => (Some(h), None),
        Some(ActsFor::Resident(r)) => (None, Some(r)),
        None => (None, None),
    };
    if role == Role::Resident && resident.is_none() {
        return Err(corrupt("a resident's token names no resident".into()));
    }
    Ok(Ok(Principal {
        token_id: stored.token_id,
        ledger: LedgerId::parse(&stored.ledger).map_err(|e| corrupt(e.to_string()))?,
        role,
        holder,
        resident,
        expires_at: stored.expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_compare_equal_only_when_equal() {
        let a = digest("one");
        let mut b = a;
        assert!(same_digest(&a, &b));
        b[31] ^= 1;
        assert!(!same_digest(&a, &b));
        b = a;
        b[0] ^= 0x80;
        assert!(!same_digest(&a, &b));
    }

    #[test]
    fn a_role_takes_the_article_its_sound_needs() {
        assert_eq!(Role::Operator.with_article(), "an operator");
        assert_eq!(Role::Secretary.with_article(), "a secretary");
        assert_eq!(Role::Municipality.with_article(), "a municipality");
        assert_eq!(Role::Shareholder.with_article(), "a shareholder");
        assert_eq!(Role::Resident.with_article(), "a resident");
    }

    #[test]
    fn roles_read_back_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
