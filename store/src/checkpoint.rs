//! Signed checkpoints: (ledger, size, head hash, time) signed with Ed25519,
//! as a C2SP signed note whose text follows the C2SP tlog-checkpoint layout:
//!
//! ```text
//! windledger/<ledger>
//! <size>
//! <base64 head hash>
//! time <RFC 3339 UTC>
//!
//! — <key name> <base64(key id || signature)>
//! ```
//!
//! The key id is the first 4 bytes of SHA-256(key name || "\n" || 0x01 ||
//! public key); the signature covers the text (every line before the blank
//! one, each with its newline). A verifier key is written
//! `<name>+<hex key id>+<base64(0x01 || public key)>`, the same as Go's
//! `golang.org/x/mod/sumdb/note`, so existing tools can check our notes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::chain::timestamp;
use crate::types::{Hash, Head, LedgerId};

const ALG_ED25519: u8 = 0x01;
const ORIGIN_PREFIX: &str = "windledger/";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a windledger checkpoint: {0}")]
    Malformed(String),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("the checkpoint carries no signature by key {0}")]
    NotSignedBy(String),
    #[error("the signature by key {0} does not match the checkpoint: it was altered or forged")]
    BadSignature(String),
}

/// A ledger's state at a moment: how many events, and the last one's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub ledger: LedgerId,
    pub size: u64,
    pub head: Hash,
    pub time: DateTime<Utc>,
}

impl Checkpoint {
    pub fn new(ledger: LedgerId, head: Head, time: DateTime<Utc>) -> Self {
        let time = DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time);
        Self {
            ledger,
            size: head.size,
            head: head.hash,
            time,
        }
    }

    pub fn time_rfc3339(&self) -> String {
        self.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// The text that is signed.
    pub fn text(&self) -> String {
        format!(
            "{ORIGIN_PREFIX}{}\n{}\n{}\ntime {}\n",
            self.ledger,
            self.size,
            B64.encode(self.head.0),
            self.time_rfc3339()
        )
    }

    fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let malformed = |why: &str| CheckpointError::Malformed(why.to_string());
        let mut lines = text.lines();
        let origin = lines.next().ok_or_else(|| malformed("it is empty"))?;
        let ledger = origin
            .strip_prefix(ORIGIN_PREFIX)
            .ok_or_else(|| malformed("the first line must be windledger/<ledger>"))?;
        let ledger =
            LedgerId::parse(ledger).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let size = lines
            .next()
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or_else(|| malformed("the second line must be the ledger's size"))?;
        let head = lines
            .next()
            .and_then(|l| B64.decode(l).ok())
            .and_then(|b| Hash::from_slice(&b).ok())
            .ok_or_else(|| malformed("the third line must be the base64 head hash"))?;
        let time = lines
            .next()
            .and_then(|l| l.strip_prefix("time "))
            .and_then(|t| timestamp::parse(t).ok())
            .ok_or_else(|| malformed("the fourth line must be 'time <RFC 3339>'"))?;
        let parsed = Self {
            ledger,
            size,
            head,
            time,
        };
        // Only the canonical text is accepted, so one state has one text.
        if parsed.text() != text {
            return Err(malformed("unexpected or non-canonical lines"));
        }
        Ok(parsed)
    }
}

fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        Err(CheckpointError::InvalidKey(format!(
            "key name {name:?} must be non-empty, without spaces or '+'"
        )))
    } else {
        Ok(())
    }
}

/// A named Ed25519 signing key for checkpoints.
pub struct CheckpointSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointSigner({})", self.verifier())
    }
}

impl CheckpointSigner {
    /// A new random key.
    pub fn generate(name: &str) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| CheckpointError::InvalidKey(format!("no randomness available: {e}")))?;
        Ok(Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&secret),
        })
    }

    /// Reads `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || secret)>`.
    pub fn from_secret_key(s: &str) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError::InvalidKey(why.to_string());
        let rest = s
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("a signing key starts with PRIVATE+KEY+"))?;
        let (name, id, secret) = split_key(rest)?;
        let signer = Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&secret),
        };
        if signer.verifier().id != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(signer)
    }

    /// The Ed25519 key itself, for sealing (see [`crate::Sealer`]).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn to_secret_key(&self) -> String {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        let id = key_id(&self.name, &self.key.verifying_key());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(id),
            B64.encode(bytes)
        )
    }

    pub fn verifier(&self) -> CheckpointVerifier {
        let key = self.key.verifying_key();
        CheckpointVerifier {
            id: key_id(&self.name, &key),
            name: self.name.clone(),
            key,
        }
    }

    /// The signed note of a checkpoint.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        self.sign_note(&checkpoint.text())
    }

    /// The C2SP signed note of `text` (lines each ending with a newline):
    /// the text, a blank line, and this key's signature line.
    pub fn sign_note(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut blob = key_id(&self.name, &self.key.verifying_key()).to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{text}\n\u{2014} {} {}\n", self.name, B64.encode(blob))
    }
}

/// Splits `<name>+<hex key id>+<base64(0x01 || key)>` into the name, the
/// key id and the 32 bytes of the Ed25519 key.
fn split_key(s: &str) -> Result<(&str, [u8; 4], [u8; 32]), CheckpointError> {
    let bad = |why: &str| CheckpointError::InvalidKey(why.to_string());
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("a key is <name>+<hex key id>+<base64 key>"));
    };
    check_key_name(name)?;
    let id: [u8; 4] = hex::decode(id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("the key id must be 8 hexadecimal digits"))?;
    let bytes = B64.decode(key).map_err(|_| bad("the key is not base64"))?;
    let key: [u8; 32] = match bytes.as_slice() {
        [ALG_ED25519, key @ ..] => key
            .try_into()
            .map_err(|_| bad("the key must be 32 bytes"))?,
        _ => return Err(bad("only Ed25519 keys (algorithm 1) are supported")),
    };
    Ok((name, id, key))
}

/// The public half: checks signed checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl CheckpointVerifier {
    /// Reads `<name>+<hex key id>+<base64(0x01 || public key)>`.
    pub fn parse(s: &str) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError::InvalidKey(why.to_string());
        let (name, id, public) = split_key(s.trim())?;
        let key =
            VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 public key"))?;
        if key_id(name, &key) != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(Self {
            name: name.to_string(),
            id,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's 4-byte id, which seals and signature lines carry.
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    pub(crate) fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks the note's signature by this key and returns the checkpoint.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::parse_text(self.open(note)?)
    }

    /// Checks a C2SP signed note's signature by this key and returns its
    /// text (each line with its newline).
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, CheckpointError> {
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| CheckpointError::Malformed("no signature block".into()))?;
        let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(CheckpointError::Malformed(format!(
                    "{line:?} is not a signature line"
                )));
            };
            let Some((name, blob)) = rest.split_once(' ') else {
                return Err(CheckpointError::Malformed(format!(
                    "{line:?} is not a signature line"
                )));
            };
            if name != self.name {
                continue;
            }
            let blob = B64
                .decode(blob)
                .map_err(|_| CheckpointError::Malformed("a signature is not base64".into()))?;
            if blob.len() != 68 || blob[..4] != self.id {
                continue;
            }
            let signature = Signature::from_slice(&blob[4..])
                .map_err(|_| CheckpointError::BadSignature(self.name.clone()))?;
            self.key
                .verify(text.as_bytes(), &signature)
                .map_err(|_| CheckpointError::BadSignature(self.name.clone()))?;
            return Ok(text);
        }
        Err(CheckpointError::NotSignedBy(self.name.clone()))
    }
}

impl std::fmt::Display for CheckpointVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(bytes)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint::new(
            LedgerId::parse("ailes-de-taillard").unwrap(),
            Head {
                size: 42,
                hash: Hash([7; 32]),
            },
            DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        )
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_round_trips() {
        let signer = CheckpointSigner::generate("mairie-burdignes").unwrap();
        let note = signer.sign(&checkpoint());
        let verifier = CheckpointVerifier::parse(&signer.verifier().to_string()).unwrap();
        assert_eq!(verifier.verify(&note).unwrap(), checkpoint());
        let again = CheckpointSigner::from_secret_key(&signer.to_secret_key()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
    }

    #[test]
    fn a_tampered_checkpoint_fails() {
        let signer = CheckpointSigner::generate("farm").unwrap();
        let note = signer.sign(&checkpoint());
        let tampered = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            signer.verifier().verify(&tampered),
            Err(CheckpointError::BadSignature("farm".into()))
        );
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_is_refused() {
        let signer = CheckpointSigner::generate("farm").unwrap();
        let impostor = CheckpointSigner::generate("farm").unwrap();
        let note = impostor.sign(&checkpoint());
        assert_eq!(
            signer.verifier().verify(&note),
            Err(CheckpointError::NotSignedBy("farm".into()))
        );
    }
}
