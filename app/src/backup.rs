//! The continuity plan (Code monétaire et financier R211-9-7: periodic
//! copies kept outside): an encrypted, verifiable copy of every ledger of a
//! database, and its restoration into a new database.
//!
//! A backup is a folder: `manifest.json`, in clear (when, which ledgers, each
//! one's head and the SHA-256 of its file), and one file per ledger,
//! `<ledger>.wlbackup`, encrypted with XChaCha20-Poly1305 under the backup
//! key (32 random bytes, kept in a file of its own, away from the copies).
//! The encrypted content is the ledger's export (the JSON Lines that
//! `verify` audits offline, seals included), its signed checkpoints and its
//! identity vault as stored: each person's wrapped key and sealed versions
//! (still sealed: reading them takes the vault's master key too) and the
//! log of reads. A person erased before the backup is not in it. The
//! ledger id and head are the cipher's associated data, so a file renamed or
//! moved to another manifest does not open.
//!
//! Restoring opens each file, audits its events offline (chain, and seals
//! with the keys given) against the manifest's head, writes them row for
//! row into a database that does not have the ledger, and audits the
//! database again: the restored ledger has the same head hash.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use windledger_store::{
    CheckpointVerifier, Hash, Head, LedgerId, RecordedEvent, Restored, Seal, SealedVersion,
    SignedCheckpoint, Store, StoreError, VaultKey, VaultRead, Verification, verify_jsonl,
};

/// The manifest's name in a backup folder.
pub const MANIFEST: &str = "manifest.json";
/// The format this code writes and reads.
const FORMAT: u32 = 1;
const NONCE_LEN: usize = 24;

/// Why a backup or a restoration failed, in a sentence.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(String),
    #[error("the backup key {path} {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the backup at {folder} {reason}")]
    Unreadable { folder: PathBuf, reason: String },
    #[error(
        "the backup of ledger {ledger} does not open: it was altered, or the key is not the one it was made with"
    )]
    Altered { ledger: LedgerId },
    #[error("the backup of ledger {ledger} does not verify: {reason}")]
    DoesNotVerify { ledger: LedgerId, reason: String },
}

fn io(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> BackupError {
    move |e| BackupError::Io(format!("{what}: {e}"))
}

/// The key backups are encrypted with: 32 random bytes, written as hex in a
/// file readable by its owner only.
pub struct BackupKey([u8; 32]);

impl BackupKey {
    /// Reads the key at `path`.
    pub fn read(path: &Path) -> Result<Self, BackupError> {
        let bad = |reason: &str| BackupError::Key {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(&format!("cannot be read: {e}")))?;
        let bytes = hex::decode(text.trim()).map_err(|_| bad("is not 64 hexadecimal digits"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("is not 64 hexadecimal digits"))?;
        Ok(Self(bytes))
    }

    /// Reads the key at `path`, or creates it (mode 0600) if there is no
    /// file there; true when it was created.
    pub fn read_or_create(path: &Path) -> Result<(Self, bool), BackupError> {
        if path.exists() {
            return Ok((Self::read(path)?, false));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| BackupError::Key {
            path: path.to_owned(),
            reason: format!("cannot be drawn: {e}"),
        })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(io(format!("cannot create {}", path.display())))?;
        writeln!(file, "{}", hex::encode(bytes))
            .map_err(io(format!("cannot write {}", path.display())))?;
        Ok((Self(bytes), true))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

/// What a backup folder holds, in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    pub ledgers: Vec<LedgerCopy>,
}

/// One ledger's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCopy {
    pub ledger: LedgerId,
    pub events: u64,
    pub head: Hash,
    pub signed_checkpoints: usize,
    /// People whose (sealed) data the copy holds.
    pub identities: usize,
    pub file: String,
    /// SHA-256 of the file, as written.
    pub sha256: String,
}

/// What is encrypted.
#[derive(Serialize, Deserialize)]
struct Content {
    /// The export: one event a line, each commit's seal on its last event.
    events: String,
    checkpoints: Vec<CheckpointCopy>,
    vault: Vec<PersonCopy>,
    reads: Vec<ReadCopy>,
}

/// One person's vault rows, as stored (bytes as hex).
#[derive(Serialize, Deserialize)]
struct PersonCopy {
    holder: String,
    master_key_id: String,
    key_nonce: String,
    wrapped_key: String,
    created_at: DateTime<Utc>,
    versions: Vec<VersionCopy>,
}

#[derive(Serialize, Deserialize)]
struct VersionCopy {
    recorded_at: DateTime<Utc>,
    commitment: String,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct ReadCopy {
    holder: String,
    reader: String,
    purpose: String,
    read_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct CheckpointCopy {
    size: u64,
    head: Hash,
    note: String,
    recorded_at: DateTime<Utc>,
}

fn associated_data(ledger: &LedgerId, head: &Head) -> Vec<u8> {
    format!(
        "windledger backup {FORMAT}\n{ledger}\n{}\n{}",
        head.size, head.hash
    )
    .into_bytes()
}

/// Copies every ledger of `store` into `folder` (created if missing; it
/// must not hold a backup already). `progress` is told each ledger copied.
pub async fn back_up(
    store: &Store,
    folder: &Path,
    key: &BackupKey,
    mut progress: impl FnMut(&LedgerCopy),
) -> Result<Manifest, BackupError> {
    std::fs::create_dir_all(folder).map_err(io(format!("cannot create {}", folder.display())))?;
    if folder.join(MANIFEST).exists() {
        return Err(BackupError::Unreadable {
            folder: folder.to_owned(),
            reason: "already holds a backup: give an empty or new folder".to_owned(),
        });
    }
    let mut ledgers = Vec::new();
    for ledger in store.ledgers().await? {
        let mut events = Vec::new();
        let head = store.export_jsonl(&ledger, &mut events, |_, _| {}).await?;
        let checkpoints = store
            .signed_checkpoints(&ledger)
            .await?
            .into_iter()
            .filter(|(c, _)| c.size <= head.size)
            .map(|(c, recorded_at)| CheckpointCopy {
                size: c.size,
                head: c.head,
                note: c.note,
                recorded_at,
            })
            .collect::<Vec<_>>();
        let content = Content {
            events: String::from_utf8(events)
                .map_err(|e| BackupError::Io(format!("the export is not UTF-8: {e}")))?,
            checkpoints,
            vault: vault_of(store, &ledger).await?,
            reads: store
                .vault_reads(ledger.as_str(), None)
                .await?
                .into_iter()
                .map(|r| ReadCopy {
                    holder: r.holder,
                    reader: r.reader,
                    purpose: r.purpose,
                    read_at: r.read_at,
                })
                .collect(),
        };
        let plain = serde_json::to_vec(&content)
            .map_err(|e| BackupError::Io(format!("cannot encode the copy: {e}")))?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| BackupError::Io(format!("no randomness for a nonce: {e}")))?;
        let aad = associated_data(&ledger, &head);
        let sealed = key
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| BackupError::Io("cannot encrypt the copy".to_owned()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        let file = format!("{ledger}.wlbackup");
        std::fs::write(folder.join(&file), &bytes)
            .map_err(io(format!("cannot write {}", folder.join(&file).display())))?;
        let copy = LedgerCopy {
            ledger,
            events: head.size,
            head: head.hash,
            signed_checkpoints: content.checkpoints.len(),
            identities: content.vault.len(),
            file,
            sha256: hex::encode(Sha256::digest(&bytes)),
        };
        progress(&copy);
        ledgers.push(copy);
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at: Utc::now(),
        ledgers,
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BackupError::Io(format!("cannot encode the manifest: {e}")))?;
    // The manifest last: a folder without one holds no finished backup.
    std::fs::write(folder.join(MANIFEST), text).map_err(io(format!(
        "cannot write {}",
        folder.join(MANIFEST).display()
    )))?;
    Ok(manifest)
}

/// A ledger's vault rows, as stored.
async fn vault_of(store: &Store, ledger: &LedgerId) -> Result<Vec<PersonCopy>, BackupError> {
    let mut people = Vec::new();
    for holder in store.vault_holders(ledger.as_str()).await? {
        let Some(key) = store.vault_key(ledger.as_str(), &holder).await? else {
            continue;
        };
        let versions = store
            .vault_versions(ledger.as_str(), &holder)
            .await?
            .into_iter()
            .map(|v| VersionCopy {
                recorded_at: v.sealed.recorded_at,
                commitment: v.sealed.commitment,
                nonce: hex::encode(v.sealed.nonce),
                ciphertext: hex::encode(v.sealed.ciphertext),
            })
            .collect();
        people.push(PersonCopy {
            holder,
            master_key_id: key.master_key_id,
            key_nonce: hex::encode(key.nonce),
            wrapped_key: hex::encode(key.wrapped_key),
            created_at: key.created_at,
            versions,
        });
    }
    Ok(people)
}

/// Writes a ledger's vault rows back, in their order.
async fn restore_vault(
    store: &Store,
    ledger: &LedgerId,
    people: &[PersonCopy],
    reads: &[ReadCopy],
) -> Result<(), BackupError> {
    let bytes = |text: &str| {
        hex::decode(text).map_err(|_| BackupError::DoesNotVerify {
            ledger: ledger.clone(),
            reason: "its vault holds bytes that are not hexadecimal".to_owned(),
        })
    };
    for person in people {
        let key = VaultKey {
            ledger: ledger.to_string(),
            holder: person.holder.clone(),
            master_key_id: person.master_key_id.clone(),
            nonce: bytes(&person.key_nonce)?,
            wrapped_key: bytes(&person.wrapped_key)?,
            created_at: person.created_at,
        };
        store.insert_vault_key(&key).await?;
        for v in &person.versions {
            let sealed = SealedVersion {
                recorded_at: v.recorded_at,
                commitment: v.commitment.clone(),
                nonce: bytes(&v.nonce)?,
                ciphertext: bytes(&v.ciphertext)?,
            };
            store
                .insert_vault_version(ledger.as_str(), &person.holder, &sealed)
                .await?;
        }
    }
    for r in reads {
        let read = VaultRead {
            ledger: ledger.to_string(),
            holder: r.holder.clone(),
            reader: r.reader.clone(),
            purpose: r.purpose.clone(),
            read_at: r.read_at,
        };
        store.log_vault_read(&read).await?;
    }
    Ok(())
}

/// Reads a backup's manifest.
pub fn manifest(folder: &Path) -> Result<Manifest, BackupError> {
    let unreadable = |reason: String| BackupError::Unreadable {
        folder: folder.to_owned(),
        reason,
    };
    let text = std::fs::read(folder.join(MANIFEST))
        .map_err(|e| unreadable(format!("has no readable {MANIFEST}: {e}")))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| unreadable(format!("has a {MANIFEST} that does not read: {e}")))?;
    if manifest.format != FORMAT {
        return Err(unreadable(format!(
            "is in format {}, and this windledger reads format {FORMAT}",
            manifest.format
        )));
    }
    Ok(manifest)
}

/// One ledger's copy, opened and audited offline.
pub struct OpenedCopy {
    pub head: Head,
    events: Vec<RecordedEvent>,
    seals: Vec<Seal>,
    checkpoints: Vec<(SignedCheckpoint, DateTime<Utc>)>,
    vault: Vec<PersonCopy>,
    reads: Vec<ReadCopy>,
}

/// Opens and audits one ledger's copy: the file is the one the manifest
/// names (SHA-256), it decrypts with `key`, its events form an unbroken
/// chain to the manifest's head, every commit is sealed by one of `keys`
/// (the public keys of the server's signing keys: at least one) and every
/// signed checkpoint is signed by one of them and a prefix of it.
pub fn open_copy(
    folder: &Path,
    copy: &LedgerCopy,
    key: &BackupKey,
    keys: &[CheckpointVerifier],
) -> Result<OpenedCopy, BackupError> {
    let ledger = &copy.ledger;
    let fails = |reason: String| BackupError::DoesNotVerify {
        ledger: ledger.clone(),
        reason,
    };
    if keys.is_empty() {
        return Err(fails(
            "cannot be checked without the server's key: its seals are checked with it".to_owned(),
        ));
    }
    if copy.file.contains(['/', '\\']) || copy.file.starts_with('.') {
        return Err(fails(format!(
            "names the file {:?}, outside its folder",
            copy.file
        )));
    }
    let path = folder.join(&copy.file);
    let bytes = std::fs::read(&path).map_err(io(format!("cannot read {}", path.display())))?;
    if hex::encode(Sha256::digest(&bytes)) != copy.sha256 {
        return Err(fails(format!(
            "{} is not the file the manifest names",
            copy.file
        )));
    }
    let head = Head {
        size: copy.events,
        hash: copy.head,
    };
    if bytes.len() < NONCE_LEN {
        return Err(BackupError::Altered {
            ledger: ledger.clone(),
        });
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| BackupError::Altered {
        ledger: ledger.clone(),
    })?;
    let plain = key
        .cipher()
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: sealed,
                aad: &associated_data(ledger, &head),
            },
        )
        .map_err(|_| BackupError::Altered {
            ledger: ledger.clone(),
        })?;
    let content: Content = serde_json::from_slice(&plain)
        .map_err(|e| fails(format!("its content does not read: {e}")))?;
    let checkpoints: Vec<(SignedCheckpoint, DateTime<Utc>)> = content
        .checkpoints
        .into_iter()
        .map(|c| {
            let signed = SignedCheckpoint {
                ledger: ledger.clone(),
                size: c.size,
                head: c.head,
                note: c.note,
            };
            (signed, c.recorded_at)
        })
        .collect();
    let mut signed = Vec::new();
    for (c, _) in &checkpoints {
        let checked = keys.iter().find_map(|k| k.verify(&c.note).ok());
        match checked {
            Some(checkpoint) if checkpoint.size == c.size && checkpoint.head == c.head => {
                signed.push(checkpoint)
            }
            Some(_) => {
                return Err(fails(format!(
                    "the checkpoint at {} says another head",
                    c.size
                )));
            }
            None => {
                return Err(fails(format!(
                    "the checkpoint at {} is not signed by the key given",
                    c.size
                )));
            }
        }
    }
    match verify_jsonl(content.events.as_bytes(), keys, &signed, |_| {})? {
        Verification::Intact { head: found, .. } if found == head => {}
        Verification::Intact { head: found, .. } => {
            return Err(fails(format!(
                "its events end at {} ({}), not at the manifest's head {} ({})",
                found.size, found.hash, head.size, head.hash
            )));
        }
        Verification::Broken(broken) => return Err(fails(broken.to_string())),
    }
    let mut events = Vec::with_capacity(usize::try_from(head.size).unwrap_or(0));
    let mut seals = Vec::new();
    for line in content.events.lines().filter(|l| !l.trim().is_empty()) {
        let mut event: RecordedEvent = serde_json::from_str(line)
            .map_err(|e| fails(format!("an event does not read: {e}")))?;
        if let Some(seal) = event.seal.take() {
            seals.push(Seal::from_event(ledger.clone(), event.position, &seal));
        }
        events.push(event);
    }
    Ok(OpenedCopy {
        head,
        events,
        seals,
        checkpoints,
        vault: content.vault,
        reads: content.reads,
    })
}

/// Restores every ledger of the backup in `folder` into `store`, which
/// must have none of them: each copy is opened and audited (see
/// [`open_copy`]) before anything is written, each ledger written in one
/// transaction, then audited again from the database. Returns the heads.
pub async fn restore(
    store: &Store,
    folder: &Path,
    key: &BackupKey,
    keys: &[CheckpointVerifier],
    mut progress: impl FnMut(&LedgerId, &Head),
) -> Result<Vec<(LedgerId, Head)>, BackupError> {
    let manifest = manifest(folder)?;
    let present = store.ledgers().await?;
    let mut opened = Vec::new();
    for copy in &manifest.ledgers {
        if present.contains(&copy.ledger) {
            return Err(StoreError::LedgerExists(copy.ledger.clone()).into());
        }
        opened.push((copy, open_copy(folder, copy, key, keys)?));
    }
    let mut heads = Vec::new();
    for (copy, ledger_copy) in opened {
        let head = store
            .restore_ledger(Restored {
                ledger: &copy.ledger,
                head: ledger_copy.head,
                events: &ledger_copy.events,
                seals: &ledger_copy.seals,
                checkpoints: &ledger_copy.checkpoints,
            })
            .await?;
        restore_vault(store, &copy.ledger, &ledger_copy.vault, &ledger_copy.reads).await?;
        let audited = store.verify(&copy.ledger, keys, &[], |_, _| {}).await?;
        match audited {
            Verification::Intact { head: found, .. } if found == head => {}
            other => {
                return Err(BackupError::DoesNotVerify {
                    ledger: copy.ledger.clone(),
                    reason: format!("once restored, the database's audit says: {other:?}"),
                });
            }
        }
        progress(&copy.ledger, &head);
        heads.push((copy.ledger.clone(), head));
    }
    Ok(heads)
}
