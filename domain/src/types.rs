//! Identifiers and quantities shared by every stream.
//!
//! Each is parsed once at the edge (API, CLI, import) and trusted inside: a
//! value of these types is valid by construction. Deserialising goes through
//! the same parsing, so a payload read back from the log is checked the same
//! way as a command.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::newtype::{checked_conversions, display_as_str, str_serde};

/// Why a value given at the edge is not a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error(
        "{kind} {value:?} is not valid: use 1 to 64 characters among letters, digits, '-', '_' and '.'"
    )]
    Identifier { kind: &'static str, value: String },
    #[error(
        "{value:?} is not an INSEE commune code: expected 5 characters, digits or 2A/2B then 3 digits"
    )]
    CommuneCode { value: String },
    #[error("{value:?} is not a SIREN number: expected 9 digits with a valid check digit")]
    Siren { value: String },
    #[error(
        "{value:?} is not an identity commitment: expected 64 lowercase hexadecimal digits (a SHA-256)"
    )]
    Commitment { value: String },
    #[error("a legal name must not be empty and must be at most 200 characters")]
    LegalName,
    #[error("a rated power must be at least 1 kW")]
    ZeroPower,
    #[error("{value} shares is above the largest count a JSON number carries exactly (2^53 - 1)")]
    ShareCountTooLarge { value: u64 },
    #[error("an amount in euros must not be negative, got {value}")]
    NegativeAmount { value: rust_decimal::Decimal },
    #[error("{value:?} is not a fraction: expected \"n/d\" with integers and d > 0")]
    Ratio { value: String },
    /// A figure a command carries beyond what any wind farm reaches (see
    /// [`crate::input`]).
    #[error("{what} is {value}: {bound}")]
    OutOfBounds {
        /// The field, as the command's JSON names it (`volume_mwh`,
        /// `agenda[2].text`).
        what: String,
        value: String,
        bound: &'static str,
    },
    /// Free text with a character that hides or reorders what it says.
    #[error(
        "{what} contains {character} at character {index}: control characters and bidirectional formatting characters are not allowed in text (line breaks are \\n, tabs \\t)"
    )]
    ControlCharacter {
        what: String,
        /// `U+0000`.
        character: String,
        /// From 1, in characters.
        index: usize,
    },
}

/// Identifiers are short ASCII slugs. Refusing '@', spaces and accents keeps
/// names and e-mails out of ids, hence out of the log (DESIGN.md 2.2).
macro_rules! slug_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(
            feature = "json-schema",
            derive(schemars::JsonSchema),
            schemars(extend("pattern" = "^[A-Za-z0-9._-]{1,64}$"))
        )]
        pub struct $name(
            #[cfg_attr(feature = "json-schema", schemars(with = "String"))]
            compact_str::CompactString,
        );

        impl $name {
            /// Checks `value`; an id of up to 24 bytes is then held inline,
            /// with no allocation of its own.
            pub fn new(value: impl AsRef<str>) -> Result<Self, ParseError> {
                Self::parse(value.as_ref())
            }

            fn parse(value: &str) -> Result<Self, ParseError> {
                let valid = (1..=64).contains(&value.len())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
                if valid {
                    Ok(Self(compact_str::CompactString::new(value)))
                } else {
                    Err(ParseError::Identifier {
                        kind: $kind,
                        value: value.to_owned(),
                    })
                }
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        display_as_str!($name);
        checked_conversions!($name, String);
        str_serde!($name);

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

slug_id!(
    /// Pseudonymous id of a shareholder (associé). The person behind it lives
    /// in the erasable personal-data table, never in the log.
    HolderId,
    "holder id"
);
slug_id!(
    /// Collège: a group of shareholders that votes together (e.g. `citoyens`).
    CollegeId,
    "college id"
);
slug_id!(
    /// Catégorie d'actions: a class of shares (e.g. `ordinaires`).
    ShareClassId,
    "share class id"
);
slug_id!(
    /// A kind of decision of the charter (e.g. `ordinary`, `extraordinary`).
    DecisionKindId,
    "decision kind id"
);
slug_id!(
    /// Résolution: one item voted in a meeting.
    ResolutionId,
    "resolution id"
);
slug_id!(
    /// Assemblée or committee meeting: the id of its `meeting` stream. Its
    /// resolutions are numbered `<meeting>.<n>`, so keep it to 60 characters.
    MeetingId,
    "meeting id"
);
slug_id!(
    /// One report of the financial year (production, revenue, cost, tax),
    /// chosen by whoever reports it; a correction names the report it
    /// corrects by this id.
    ReportId,
    "report id"
);
slug_id!(
    /// Avance en compte courant d'associé: the id of its stream.
    AdvanceId,
    "advance id"
);
slug_id!(
    /// Pseudonymous id of a person or body outside the register (a
    /// landowner, say), kept in the personal-data table like a holder's.
    PartyId,
    "party id"
);
slug_id!(
    /// Éolienne: one wind turbine of the farm (e.g. `T01`).
    TurbineId,
    "turbine id"
);
slug_id!(
    /// Pseudonymous id of a resident of the territory registered to take
    /// part in the territory fund's budgeting rounds; the person behind it
    /// lives in the identity vault, never in the log.
    ResidentId,
    "resident id"
);
slug_id!(
    /// A budgeting round of the territory fund: the id of its stream.
    RoundId,
    "round id"
);
slug_id!(
    /// A project proposed in a budgeting round, unique in the round.
    ProposalId,
    "proposal id"
);

/// Code officiel géographique (INSEE) of a commune, e.g. `42026`. Postal codes
/// are not used: several communes share one and they do not map to taxes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("pattern" = "^([0-9]{2}|2[AB])[0-9]{3}$"))
)]
pub struct CommuneCode(
    #[cfg_attr(feature = "json-schema", schemars(with = "String"))] compact_str::CompactString,
);

impl CommuneCode {
    pub fn new(value: impl AsRef<str>) -> Result<Self, ParseError> {
        Self::parse(value.as_ref())
    }

    fn parse(value: &str) -> Result<Self, ParseError> {
        let b = value.as_bytes();
        let department_ok = match b.get(..2) {
            Some([b'2', b'A' | b'B']) => true,
            Some([x, y]) => x.is_ascii_digit() && y.is_ascii_digit(),
            _ => false,
        };
        if b.len() == 5 && department_ok && b[2..].iter().all(u8::is_ascii_digit) {
            Ok(Self(compact_str::CompactString::new(value)))
        } else {
            Err(ParseError::CommuneCode {
                value: value.to_owned(),
            })
        }
    }

    /// The département the commune is in: the code's first two characters
    /// (`42`, `2A`), or three overseas (`974`).
    pub fn departement(&self) -> &str {
        let len = if self.0.starts_with("97") { 3 } else { 2 };
        &self.0[..len]
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

display_as_str!(CommuneCode);
checked_conversions!(CommuneCode, String);
str_serde!(CommuneCode);

/// Numéro SIREN: the company's registration number (9 digits, Luhn check).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("pattern" = "^[0-9]{9}$"))
)]
pub struct Siren(String);

impl Siren {
    pub fn new(value: impl Into<String>) -> Result<Self, ParseError> {
        let value = value.into();
        let digits: Option<Vec<u32>> = value.chars().map(|c| c.to_digit(10)).collect();
        let valid = match digits {
            Some(d) if d.len() == 9 => luhn_sum(&d).is_multiple_of(10),
            _ => false,
        };
        if valid {
            Ok(Self(value))
        } else {
            Err(ParseError::Siren { value })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn_sum(digits: &[u32]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2, d * 2) {
            (0, _) => d,
            (_, doubled) if doubled > 9 => doubled - 9,
            (_, doubled) => doubled,
        })
        .sum()
}

checked_conversions!(Siren, String);

display_as_str!(Siren);

/// The salted commitment of a holder's identity (SHA-256 of a random salt
/// and the canonical JSON of their data, as `windledger-vault` computes
/// it), in 64 lowercase hex digits. The data and the salt stay in the
/// vault: the ledger records this only, so that personal data never enters
/// an event and an auditor given both can check a document against it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("pattern" = "^[0-9a-f]{64}$"))
)]
pub struct IdentityCommitment(String);

impl IdentityCommitment {
    pub fn new(value: impl Into<String>) -> Result<Self, ParseError> {
        let value = value.into();
        if value.len() == 64
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(value))
        } else {
            Err(ParseError::Commitment { value })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

checked_conversions!(IdentityCommitment, String);

display_as_str!(IdentityCommitment);

/// Dénomination sociale. A company's name is public, not personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("minLength" = 1, "maxLength" = 200, "pattern" = "\\S"))
)]
pub struct LegalName(String);

impl LegalName {
    pub fn new(value: impl Into<String>) -> Result<Self, ParseError> {
        let value = value.into().trim().to_owned();
        if value.is_empty() || value.chars().count() > 200 {
            Err(ParseError::LegalName)
        } else {
            Ok(Self(value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

checked_conversions!(LegalName, String);

/// Puissance nominale in kW. Integer: rated powers are whole kilowatts, and
/// IFER is charged per kW.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("minimum" = 1))
)]
pub struct Kilowatts(u32);

impl Kilowatts {
    pub fn new(kw: u32) -> Result<Self, ParseError> {
        if kw == 0 {
            Err(ParseError::ZeroPower)
        } else {
            Ok(Self(kw))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

checked_conversions!(Kilowatts, u32);

/// A number of shares (actions). Bounded by 2^53 - 1 so that it survives
/// canonical JSON (RFC 8785 numbers are doubles) exactly, which the chain's
/// hash depends on.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "u64", into = "u64")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("maximum" = 9_007_199_254_740_991_u64))
)]
pub struct ShareCount(u64);

impl ShareCount {
    pub const ZERO: Self = Self(0);
    pub const MAX: Self = Self((1 << 53) - 1);

    pub fn new(count: u64) -> Result<Self, ParseError> {
        if count > Self::MAX.0 {
            Err(ParseError::ShareCountTooLarge { value: count })
        } else {
            Ok(Self(count))
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `None` when the sum would leave the exact range.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).and_then(|n| Self::new(n).ok())
    }

    /// `None` when `other` is more than `self`: a holding never goes negative.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// For folding events already accepted, where the checks were made when
    /// the command was decided.
    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0).min(Self::MAX.0))
    }

    pub fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

checked_conversions!(ShareCount, u64);

impl fmt::Display for ShareCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_what_looks_like_personal_data() {
        assert!(HolderId::new("h-0042").is_ok());
        assert!(HolderId::new("jeanne.dupont@example.fr").is_err());
        assert!(HolderId::new("Jeanne Dupont").is_err());
        assert!(HolderId::new("").is_err());
        assert!(HolderId::new("x".repeat(65)).is_err());
    }

    #[test]
    fn ids_are_read_from_json_text_as_they_are_parsed() {
        use std::collections::BTreeMap;
        // Read as a value, as a map's key, and from an escaped string (which
        // the parser unescapes into a buffer of its own): the same check.
        let id: HolderId = serde_json::from_str(r#""h-0042""#).unwrap();
        assert_eq!(id, HolderId::new("h-0042").unwrap());
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""h-0042""#);
        let escaped: HolderId = serde_json::from_str(r#""h\u002d0042""#).unwrap();
        assert_eq!(escaped, id);
        let map: BTreeMap<CommuneCode, u8> = serde_json::from_str(r#"{"2A004": 1}"#).unwrap();
        assert_eq!(map.keys().next().map(CommuneCode::as_str), Some("2A004"));
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"2A004":1}"#);
        let long = "x".repeat(40);
        let held: ResolutionId = serde_json::from_value(serde_json::json!(long)).unwrap();
        assert_eq!(held.as_str(), long);
        // Refused with the constructor's error, and a value of another type
        // as a string would be.
        let refused = serde_json::from_str::<HolderId>(r#""jeanne dupont""#).unwrap_err();
        let expected = HolderId::new("jeanne dupont").unwrap_err().to_string();
        assert!(refused.to_string().starts_with(&expected), "{refused}");
        let refused = serde_json::from_str::<CommuneCode>("42026").unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("invalid type: integer `42026`, expected a string"),
            "{refused}"
        );
        assert!(serde_json::from_str::<CommuneCode>(r#""4202""#).is_err());
    }

    #[test]
    fn commune_codes_follow_insee() {
        assert!(CommuneCode::new("42026").is_ok());
        assert!(CommuneCode::new("2A004").is_ok());
        assert!(CommuneCode::new("2C004").is_err());
        assert!(CommuneCode::new("4202").is_err());
        assert!(CommuneCode::new("42O26").is_err());
    }

    #[test]
    fn siren_check_digit_is_verified() {
        assert!(Siren::new("732829320").is_ok());
        assert!(Siren::new("732829321").is_err());
        assert!(Siren::new("73282932").is_err());
    }

    #[test]
    fn share_counts_stay_exact_in_json() {
        assert!(ShareCount::new(1 << 53).is_err());
        assert_eq!(ShareCount::MAX.checked_add(ShareCount(1)), None);
        assert_eq!(ShareCount(3).checked_sub(ShareCount(4)), None);
        assert!(serde_json::from_str::<ShareCount>("9007199254740992").is_err());
    }
}
