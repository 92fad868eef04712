//! Sealing a person's data, and the commitment the ledger records.
//!
//! Two levels of keys, both XChaCha20-Poly1305 (24-byte random nonces, so
//! random nonces never collide in practice):
//! - each person (a [`Subject`]: a ledger and a holder id) has a
//!   [`SubjectKey`] of its own, which seals every version of their data;
//! - that key is stored wrapped (encrypted) by the [`MasterKey`], which is
//!   held outside the database (a key file, like the signing key).
//!
//! Erasing a person deletes their wrapped key and sealed versions: even a
//! copy of the database taken before holds only ciphertext whose key is gone
//! once the master key is also rotated away, and the database itself keeps
//! nothing readable (the store overwrites what it deletes).
//!
//! The associated data binds each ciphertext to its place: a wrapped key to
//! its subject, a sealed version to its subject and commitment, so that a
//! row moved to another person, or a commitment changed beside its
//! ciphertext, no longer opens.
//!
//! The [`Commitment`] of a version is SHA-256(salt ‖ canonical JSON (RFC
//! 8785) of the person's data), the salt 32 random bytes kept sealed with
//! the data: the ledger records the commitment only, and an auditor given
//! the data and the salt recomputes it.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::person::Person;

/// The length of every key, salt and commitment, in bytes.
pub const KEY_LEN: usize = 32;
/// The length of an XChaCha20 nonce, in bytes.
pub const NONCE_LEN: usize = 24;
/// How a master key file starts: `windledger-vault-key-v1 <64 hex digits>`.
pub const MASTER_KEY_PREFIX: &str = "windledger-vault-key-v1";

const WRAP_TAG: &[u8] = b"windledger/vault/wrapped-key/v1\n";
const SEAL_TAG: &[u8] = b"windledger/vault/sealed/v1\n";
const KEY_ID_TAG: &[u8] = b"windledger/vault/master-key-id/v1\n";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VaultError {
    #[error("the system's random number generator failed: {0}")]
    Random(String),
    #[error(
        "this is not a windledger vault key: expected one line \"{MASTER_KEY_PREFIX} <64 hexadecimal digits>\""
    )]
    NotAMasterKey,
    #[error(
        "the personal data of {holder} was sealed under the vault key {wrapped_by}, but the vault key given is {given}: use the vault key file this database was written with"
    )]
    WrongMasterKey {
        holder: String,
        wrapped_by: String,
        given: String,
    },
    #[error(
        "the {what} of {holder} does not open: the database row was altered or belongs to another person"
    )]
    Tampered { what: &'static str, holder: String },
    #[error("the sealed data of {holder} opened but is not a person's data: {reason}")]
    NotAPerson { holder: String, reason: String },
}

/// Whose data a ciphertext is: its ledger and holder id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject<'a> {
    pub ledger: &'a str,
    pub holder: &'a str,
}

impl Subject<'_> {
    /// `tag ‖ u32 length ‖ ledger ‖ u32 length ‖ holder ‖ extra`: lengths
    /// first, so that no two subjects give the same bytes.
    fn associated_data(&self, tag: &[u8], extra: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(tag.len() + 8 + self.ledger.len() + self.holder.len());
        aad.extend_from_slice(tag);
        for part in [self.ledger, self.holder] {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            aad.extend_from_slice(&len.to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad.extend_from_slice(extra);
        aad
    }
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(bytes)
}

fn cipher(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&(*key).into())
}

/// Encrypts `msg` under `key` with a fresh nonce.
fn encrypt(
    key: &[u8; KEY_LEN],
    msg: &[u8],
    aad: &[u8],
) -> Result<([u8; NONCE_LEN], Vec<u8>), VaultError> {
    let nonce = random::<NONCE_LEN>()?;
    let ciphertext = cipher(key)
        .encrypt(&XNonce::from(nonce), Payload { msg, aad })
        .map_err(|_| VaultError::Random("the cipher refused a message".into()))?;
    Ok((nonce, ciphertext))
}

fn decrypt(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    ciphertext: &[u8],
    aad: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    cipher(key)
        .decrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}

/// The key that wraps every person's key, held outside the database.
pub struct MasterKey {
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

impl MasterKey {
    pub fn generate() -> Result<Self, VaultError> {
        Ok(Self {
            key: Zeroizing::new(random()?),
        })
    }

    /// Reads the text of a key file ([`MasterKey::to_text`]).
    pub fn from_text(text: &str) -> Result<Self, VaultError> {
        let hex_key = text
            .trim()
            .strip_prefix(MASTER_KEY_PREFIX)
            .map(str::trim_start)
            .ok_or(VaultError::NotAMasterKey)?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(hex_key, key.as_mut_slice()).map_err(|_| VaultError::NotAMasterKey)?;
        Ok(Self { key })
    }

    /// The text of a key file: one line, the prefix and the key in hex.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{MASTER_KEY_PREFIX} {}",
            hex::encode(self.key.as_slice())
        ))
    }

    /// A public name of the key (16 hex digits of a hash of it), stored
    /// with each wrapped key so that opening with another key says so.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(KEY_ID_TAG)
            .chain_update(self.key.as_slice())
            .finalize();
        hex::encode(&digest[..8])
    }

    pub fn wrap(&self, key: &SubjectKey, subject: Subject<'_>) -> Result<WrappedKey, VaultError> {
        let (nonce, ciphertext) = encrypt(
            &self.key,
            key.key.as_slice(),
            &subject.associated_data(WRAP_TAG, &[]),
        )?;
        Ok(WrappedKey {
            master_key_id: self.id(),
            nonce,
            ciphertext,
        })
    }

    pub fn unwrap(
        &self,
        wrapped: &WrappedKey,
        subject: Subject<'_>,
    ) -> Result<SubjectKey, VaultError> {
        let given = self.id();
        if wrapped.master_key_id != given {
            return Err(VaultError::WrongMasterKey {
                holder: subject.holder.to_owned(),
                wrapped_by: wrapped.master_key_id.clone(),
                given,
            });
        }
        let tampered = || VaultError::Tampered {
            what: "vault key",
            holder: subject.holder.to_owned(),
        };
        let plain = decrypt(
            &self.key,
            &wrapped.nonce,
            &wrapped.ciphertext,
            &subject.associated_data(WRAP_TAG, &[]),
        )
        .ok_or_else(tampered)?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if plain.len() != KEY_LEN {
            return Err(tampered());
        }
        key.copy_from_slice(&plain);
        Ok(SubjectKey { key })
    }
}

/// A person's key, as stored: encrypted by the master key named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub master_key_id: String,
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
}

/// The key of one person's data.
pub struct SubjectKey {
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

impl SubjectKey {
    pub fn generate() -> Result<Self, VaultError> {
        Ok(Self {
            key: Zeroizing::new(random()?),
        })
    }

    /// Seals a version of the person's data with its salt.
    pub fn seal(&self, record: &Record, subject: Subject<'_>) -> Result<Sealed, VaultError> {
        let plain =
            Zeroizing::new(
                serde_json::to_vec(record).map_err(|e| VaultError::NotAPerson {
                    holder: subject.holder.to_owned(),
                    reason: e.to_string(),
                })?,
            );
        let commitment = record.commitment();
        let (nonce, ciphertext) = encrypt(
            &self.key,
            &plain,
            &subject.associated_data(SEAL_TAG, &commitment.0),
        )?;
        Ok(Sealed {
            commitment,
            nonce,
            ciphertext,
        })
    }

    /// Opens a sealed version; refused if anything of it (the commitment
    /// beside it included) was changed, or it is another person's.
    pub fn open(&self, sealed: &Sealed, subject: Subject<'_>) -> Result<Record, VaultError> {
        let plain = decrypt(
            &self.key,
            &sealed.nonce,
            &sealed.ciphertext,
            &subject.associated_data(SEAL_TAG, &sealed.commitment.0),
        )
        .ok_or_else(|| VaultError::Tampered {
            what: "sealed personal data",
            holder: subject.holder.to_owned(),
        })?;
        let record: Record =
            serde_json::from_slice(&plain).map_err(|e| VaultError::NotAPerson {
                holder: subject.holder.to_owned(),
                reason: e.to_string(),
            })?;
        if record.commitment() != sealed.commitment {
            return Err(VaultError::Tampered {
                what: "commitment",
                holder: subject.holder.to_owned(),
            });
        }
        Ok(record)
    }
}

/// One version of a person's data as stored: its commitment (in clear, as
/// in the ledger), the nonce and the ciphertext of the [`Record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub commitment: Commitment,
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
}

/// What a sealed version holds: the data and the salt of its commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub person: Person,
    pub salt: Salt,
}

impl Record {
    /// A new version of `person`'s data with a fresh salt.
    pub fn new(person: Person) -> Result<Self, VaultError> {
        Ok(Self {
            person,
            salt: Salt(random()?),
        })
    }

    pub fn commitment(&self) -> Commitment {
        Commitment::of(&self.person, &self.salt)
    }
}

/// 32 random bytes, hex in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Salt(pub [u8; KEY_LEN]);

/// SHA-256(salt ‖ canonical JSON of the person's data), hex in JSON and in
/// the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Commitment(pub [u8; KEY_LEN]);

impl Commitment {
    pub fn of(person: &Person, salt: &Salt) -> Self {
        let json = Zeroizing::new(
            serde_json_canonicalizer::to_vec(person)
                .expect("a person's data has no number beyond what canonical JSON carries"),
        );
        Self(
            Sha256::new()
                .chain_update(salt.0)
                .chain_update(json.as_slice())
                .finalize()
                .into(),
        )
    }

    /// The 64 hex digits the ledger records.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; KEY_LEN];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

macro_rules! hex_text {
    ($name:ident, $what:literal) => {
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                let mut bytes = [0u8; KEY_LEN];
                hex::decode_to_slice(&text, &mut bytes).map_err(|_| {
                    format!("{text:?} is not {}: expected 64 hexadecimal digits", $what)
                })?;
                Ok(Self(bytes))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                hex::encode(value.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }
    };
}

hex_text!(Salt, "a salt");
hex_text!(Commitment, "a commitment");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::person::Identity;

    fn person(family_name: &str) -> Person {
        serde_json::from_value(serde_json::json!({
            "identity": {"person": "natural", "family_name": family_name, "given_names": "Anne",
                         "birth": null},
            "address": {"lines": ["3 rue des Ailes"], "postal_code": "44460",
                        "city": "Avessac", "country": "FR"},
            "email": "anne@example.org",
            "tax_residence": "FR",
            "bank_account": null
        }))
        .expect("a valid person")
    }

    const ANNE: Subject<'static> = Subject {
        ledger: "farm",
        holder: "h-1",
    };

    fn sealed() -> (MasterKey, WrappedKey, Record, Sealed) {
        let master = MasterKey::generate().expect("random");
        let key = SubjectKey::generate().expect("random");
        let wrapped = master.wrap(&key, ANNE).expect("wraps");
        let record = Record::new(person("Martin")).expect("random");
        let sealed = key.seal(&record, ANNE).expect("seals");
        (master, wrapped, record, sealed)
    }

    #[test]
    fn a_sealed_version_opens_with_the_unwrapped_key_and_hides_the_data() {
        let (master, wrapped, record, sealed) = sealed();
        assert!(
            !sealed
                .ciphertext
                .windows(6)
                .any(|w| w == b"Martin" || w == b"exampl")
        );
        let key = master.unwrap(&wrapped, ANNE).expect("unwraps");
        assert_eq!(key.open(&sealed, ANNE).expect("opens"), record);
    }

    #[test]
    fn a_changed_byte_a_changed_commitment_or_another_subject_is_refused() {
        let (master, wrapped, _, sealed) = sealed();
        let key = master.unwrap(&wrapped, ANNE).expect("unwraps");
        let mut flipped = sealed.clone();
        flipped.ciphertext[3] ^= 1;
        let e = key.open(&flipped, ANNE).expect_err("refused");
        assert!(e.to_string().contains("was altered"), "{e}");
        let mut recommitted = sealed.clone();
        recommitted.commitment.0[0] ^= 1;
        assert!(key.open(&recommitted, ANNE).is_err());
        let other = Subject {
            ledger: "farm",
            holder: "h-2",
        };
        assert!(key.open(&sealed, other).is_err());
        assert!(master.unwrap(&wrapped, other).is_err());
        let mut bad_wrap = wrapped.clone();
        bad_wrap.ciphertext[0] ^= 1;
        assert!(matches!(
            master.unwrap(&bad_wrap, ANNE),
            Err(VaultError::Tampered { .. })
        ));
    }

    #[test]
    fn the_wrong_master_key_is_named_in_a_clear_error() {
        let (_, wrapped, _, _) = sealed();
        let other = MasterKey::generate().expect("random");
        let e = other.unwrap(&wrapped, ANNE).expect_err("refused");
        assert!(matches!(e, VaultError::WrongMasterKey { .. }));
        assert!(
            e.to_string().contains(&other.id()) && e.to_string().contains(&wrapped.master_key_id),
            "{e}"
        );
        // A key file changed under the same id cannot happen but by a hash
        // collision; a forged id still fails to open.
        let forged = WrappedKey {
            master_key_id: other.id(),
            ..wrapped
        };
        assert!(matches!(
            other.unwrap(&forged, ANNE),
            Err(VaultError::Tampered { .. })
        ));
    }

    #[test]
    fn a_master_key_file_round_trips_and_anything_else_is_refused() {
        let key = MasterKey::generate().expect("random");
        let again = MasterKey::from_text(&format!("{}\n", key.to_text().as_str())).expect("reads");
        assert_eq!(again.id(), key.id());
        assert!(MasterKey::from_text("windledger-vault-key-v1 00").is_err());
        assert!(MasterKey::from_text(&"0".repeat(64)).is_err());
        assert!(format!("{key:?}").len() < 40, "Debug shows the id only");
    }

    #[test]
    fn the_commitment_is_sha256_of_the_salt_and_the_canonical_json() {
        let p = person("Martin");
        let salt = Salt([7; KEY_LEN]);
        let mut expected = Sha256::new();
        expected.update([7; KEY_LEN]);
        expected.update(serde_json_canonicalizer::to_string(&p).expect("canonical"));
        assert_eq!(
            Commitment::of(&p, &salt).0,
            <[u8; 32]>::from(expected.finalize())
        );
        assert_ne!(
            Commitment::of(&p, &salt),
            Commitment::of(&person("Martins"), &salt)
        );
        assert_ne!(
            Commitment::of(&p, &salt),
            Commitment::of(&p, &Salt([8; KEY_LEN]))
        );
        let c = Commitment::of(&p, &salt);
        assert_eq!(Commitment::from_hex(&c.to_hex()), Some(c));
        assert!(matches!(p.identity, Identity::Natural { .. }));
    }
}
