//! What surrounds the vote of a meeting and is the law's paperwork: the
//! convocations sent (R225-63, R225-68), a postal voting form received
//! after the charter's deadline (kept, not counted: R225-77), a proxy on
//! paper, the minutes' own words and the officers' signatures (R225-106).
//! A child of the aggregate: it decides on the meeting's state.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::{Signature, VerifyingKey};

use super::{Meeting, on_roll};
use crate::cap_table::CapTableSnapshot;
use crate::meeting::error::MeetingError;
use crate::meeting::events::MeetingEvent;
use crate::meeting::types::{
    Choice, ConvocationChannel, Minutes, OfficerSignature, SentConvocation, is_sha256_hex,
    minutes_signing_message,
};
use crate::types::{HolderId, ResolutionId};

/// Most convocations one event records (a batch of the sending).
pub const MAX_CONVOCATIONS_PER_EVENT: usize = 1_000;
/// Most characters in the minutes' summary of the debates.
pub const MAX_DEBATES: usize = 100_000;
/// Most documents the minutes list as presented, and most characters each.
pub const MAX_DOCUMENTS_PRESENTED: usize = 100;
pub const MAX_DOCUMENT_TITLE: usize = 500;

impl Meeting {
    /// Convocations sent on `sent_on` by `channel`: to holders of a share on
    /// the convening date (a general meeting) or to the members (a board),
    /// once each per event, between the convening and the opening.
    pub(super) fn decide_convocations(
        &self,
        channel: ConvocationChannel,
        sent_on: NaiveDate,
        convocations: Vec<SentConvocation>,
        snapshot: Option<CapTableSnapshot>,
    ) -> Result<MeetingEvent, MeetingError> {
        let convened = self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
        if let Some(closed) = &self.closed {
            return Err(MeetingError::Closed(closed.at));
        }
        let opens_on = crate::paris::paris_date(convened.opens_at);
        if sent_on < convened.convened_on || sent_on > opens_on {
            return Err(MeetingError::ConvocationOutsideTime {
                sent_on,
                convened_on: convened.convened_on,
                opens_on,
            });
        }
        if convocations.is_empty() || convocations.len() > MAX_CONVOCATIONS_PER_EVENT {
            return Err(MeetingError::ConvocationCount {
                count: convocations.len(),
                max: MAX_CONVOCATIONS_PER_EVENT,
            });
        }
        let convenable: BTreeSet<&HolderId> = match &snapshot {
            Some(s) => s.holders.iter().map(|h| &h.holder).collect(),
            None => convened.members.iter().map(|m| &m.member).collect(),
        };
        let mut seen = BTreeSet::new();
        for c in &convocations {
            if !is_sha256_hex(&c.sha256) {
                return Err(MeetingError::NotASha256(c.sha256.clone()));
            }
            if !seen.insert(&c.holder) {
                return Err(MeetingError::ConvenedTwice(c.holder.clone()));
            }
            if !convenable.contains(&c.holder) {
                return Err(MeetingError::NotConvenable {
                    holder: c.holder.clone(),
                    convened_on: convened.convened_on,
                });
            }
        }
        Ok(MeetingEvent::ConvocationsSent {
            channel,
            sent_on,
            convocations,
        })
    }

    /// A postal form received after `deadline`: kept with its choices, which
    /// the tally never reads. It must still be a form this meeting could
    /// have counted (a voter on the roll, a choice for every resolution).
    pub(super) fn decide_late_form(
        &self,
        voter: HolderId,
        choices: BTreeMap<ResolutionId, Choice>,
        received_at: DateTime<Utc>,
        electronic: bool,
        deadline: DateTime<Utc>,
    ) -> Result<MeetingEvent, MeetingError> {
        let (convened, open) = self.voting()?;
        on_roll(open, &voter)?;
        super::check_choices(convened, &choices)?;
        Ok(MeetingEvent::PostalFormKeptLate {
            voter,
            choices,
            received_at,
            electronic,
            deadline,
        })
    }

    /// The minutes' own words, once: after the close, with the bureau.
    pub(super) fn decide_minutes(
        &self,
        debates: String,
        documents_presented: Vec<String>,
        at: DateTime<Utc>,
    ) -> Result<MeetingEvent, MeetingError> {
        self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
        let closed = self
            .closed
            .as_ref()
            .ok_or(MeetingError::MinutesBeforeClose)?;
        if self.bureau.is_none() {
            return Err(MeetingError::MinutesWithoutBureau);
        }
        if self.minutes.is_some() {
            return Err(MeetingError::MinutesAlreadyRecorded);
        }
        if at < closed.at {
            return Err(MeetingError::MinutesBeforeClose);
        }
        if debates.trim().is_empty() || debates.chars().count() > MAX_DEBATES {
            return Err(MeetingError::InvalidDebates { max: MAX_DEBATES });
        }
        if documents_presented.len() > MAX_DOCUMENTS_PRESENTED
            || documents_presented
                .iter()
                .any(|d| d.trim().is_empty() || d.chars().count() > MAX_DOCUMENT_TITLE)
        {
            return Err(MeetingError::InvalidDocumentsPresented {
                max: MAX_DOCUMENTS_PRESENTED,
                max_chars: MAX_DOCUMENT_TITLE,
            });
        }
        Ok(MeetingEvent::MinutesRecorded(Minutes {
            debates,
            documents_presented,
            at,
        }))
    }

    /// An officer signs the minutes once; every signature is over the same
    /// document; an Ed25519 signature must verify.
    pub(super) fn decide_signature(
        &self,
        officer: HolderId,
        document_sha256: String,
        signature: OfficerSignature,
        at: DateTime<Utc>,
    ) -> Result<MeetingEvent, MeetingError> {
        let convened = self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
        let minutes = self.minutes.as_ref().ok_or(MeetingError::NoMinutes)?;
        if at < minutes.at {
            return Err(MeetingError::NoMinutes);
        }
        let bureau = self
            .bureau
            .as_ref()
            .ok_or(MeetingError::MinutesWithoutBureau)?;
        let is_officer = bureau.chair == officer
            || bureau.secretary == officer
            || bureau.scrutineers.contains(&officer);
        if !is_officer {
            return Err(MeetingError::NotAnOfficer(officer));
        }
        if !is_sha256_hex(&document_sha256) {
            return Err(MeetingError::NotASha256(document_sha256));
        }
        if let Some(signed) = self.signed_document.as_ref()
            && signed != &document_sha256
        {
            return Err(MeetingError::OtherDocumentSigned {
                signed: signed.clone(),
            });
        }
        if self.signatures.contains(&officer) {
            return Err(MeetingError::AlreadySigned(officer));
        }
        if let OfficerSignature::Ed25519 {
            public_key,
            signature,
        } = &signature
        {
            let message = minutes_signing_message(&convened.meeting, &document_sha256);
            if !ed25519_verifies(public_key, signature, &message) {
                return Err(MeetingError::BadSignature(officer));
            }
        }
        Ok(MeetingEvent::MinutesSigned {
            officer,
            document_sha256,
            signature,
            at,
        })
    }
}

/// Whether `signature` (hex, 64 bytes) by `public_key` (hex, 32 bytes)
/// verifies over `message` (strictly: no malleable or small-order keys).
fn ed25519_verifies(public_key: &str, signature: &str, message: &[u8]) -> bool {
    let (Some(key), Some(sig)) = (hex_array::<32>(public_key), hex_array::<64>(signature)) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&key) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&sig))
        .is_ok()
}

fn hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}
