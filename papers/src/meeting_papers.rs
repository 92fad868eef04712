//! A meeting's paperwork (issue: general meetings as the law runs them):
//! the convocations, each holder convened by the channel they consented
//! to (R225-63) with what was sent recorded as events without personal
//! data, the letters to post, the postal voting forms and the minutes,
//! drawn from the register of the meeting and the identity vault.
//!
//! - [`MeetingPapers`]: what a meeting's documents are drawn from, copied
//!   out of the projections.
//! - [`plan`]: who is convened by e-mail and who by letter, with the text
//!   each receives; [`send_emails`] and [`record_posted`] send and record.
//! - [`minutes`]: the minutes as the officers sign them, with their hash.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Days, NaiveDate};
use windledger_documents::convocation::{ConvocationText, Links, convocation_text};
use windledger_documents::{Drawn, Person};
use windledger_domain::charter::PostalVoting;
use windledger_domain::meeting::{
    ConvocationChannel, MAX_CONVOCATIONS_PER_EVENT, MeetingCommand, SentConvocation,
};
use windledger_domain::types::HolderId;
use windledger_mail::{Mail, Mailer, Outcome};
use windledger_projections::cap_table::AsOf;
use windledger_projections::register::MeetingRecord;
use windledger_projections::runner::Projections;

use windledger_app::Error;
use windledger_app::command::Command;
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::{Reader, Vault};

/// How long before the convocation a holder's consent to be convened by
/// e-mail must have been given for it to be used. R225-63 sets 35 days
/// for the other direction (a holder who consented asks to be convened
/// by post again); we require the same of a new consent, and honour a
/// withdrawal at once: a letter is always a valid convocation.
pub const CONSENT_DAYS: u64 = 35;

/// Holders whose identities the plan reads from the vault at once.
const PLAN_SLICE: usize = 2_000;

/// What a meeting's documents are drawn from.
#[derive(Debug, Clone)]
pub struct MeetingPapers {
    /// The farm, position and head the documents state (dated on the
    /// day the vote closes).
    pub drawn: Drawn,
    pub record: MeetingRecord,
    /// The charter's postal deadlines on the convening date.
    pub deadlines: PostalVoting,
    /// Who the meeting convenes: the holders of a share on the convening
    /// date (a general meeting) or the members (a board), by id.
    pub convenable: Vec<HolderId>,
}

impl MeetingPapers {
    /// The papers of `meeting` in `projections`; `None` when the ledger has
    /// no company or no such meeting.
    pub fn of(projections: &Projections, ledger: &str, meeting: &str) -> Option<Self> {
        let record = projections.register.fold().meeting(meeting)?.clone();
        let drawn = meeting_drawn(projections, ledger, &record)?;
        let convened_on = record.convocation.convened_on;
        let cap_table = projections.cap_table.fold();
        let deadlines = cap_table
            .charter(AsOf::Date { date: convened_on })
            .map(|c| c.postal_voting)
            .unwrap_or_default();
        let convenable = if record.convocation.kind.is_general_meeting() {
            cap_table
                .snapshot(AsOf::Date { date: convened_on }, convened_on)
                .map(|s| s.holders.into_iter().map(|h| h.holder).collect())
                .unwrap_or_default()
        } else {
            record
                .convocation
                .members
                .iter()
                .map(|m| m.member.clone())
                .collect()
        };
        Some(Self {
            drawn,
            record,
            deadlines,
            convenable,
        })
    }

    /// The minutes' own document state: the position of the event that
    /// recorded their words, dated that day, so that the PDF the officers
    /// sign is the same whatever was recorded since.
    pub fn minutes_drawn(&self) -> Option<Drawn> {
        windledger_documents::minutes::minutes_drawn(
            &self.drawn.ledger,
            &self.drawn.company,
            &self.record,
        )
    }
}

/// The state a meeting's documents state: the ledger's head, dated on the
/// Paris day the meeting's vote closes; `None` when the ledger has no
/// company.
pub fn meeting_drawn(
    projections: &Projections,
    ledger: &str,
    record: &MeetingRecord,
) -> Option<Drawn> {
    let mut drawn = Drawn::of(projections, ledger, None)?;
    drawn.date = windledger_domain::paris::paris_date(record.convocation.closes_at);
    Some(drawn)
}

/// One holder to convene, with what they receive.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub holder: HolderId,
    /// Name and postal address; `None` when the vault has none.
    pub person: Option<Person>,
    /// The address of a holder convened by e-mail.
    pub email: Option<String>,
    pub text: ConvocationText,
}

/// The convocations still to send.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub meeting: String,
    pub by_email: Vec<Recipient>,
    pub by_post: Vec<Recipient>,
    /// Holders already convened (by either channel), left out.
    pub already_convened: usize,
}

impl Plan {
    /// The letters to post, as the letters' PDF and CSV take them.
    pub fn letters(&self) -> Vec<windledger_documents::convocation::Letter> {
        self.by_post
            .iter()
            .map(|r| (r.holder.clone(), r.person.clone(), r.text.clone()))
            .collect()
    }
}

/// The absolute addresses of a holder's pages the convocation links to.
pub fn links(public_url: &str, ledger: &str, meeting: &str) -> Links {
    let base = public_url.trim_end_matches('/');
    Links {
        vote: format!("{base}/parcs/{ledger}/assemblees/{meeting}"),
        postal_form: format!("{base}/parcs/{ledger}/assemblees/{meeting}/formulaire.pdf"),
    }
}

/// How `person` is convened to a meeting convened on `convened_on`: by
/// e-mail when they have an address and their consent was given at least
/// [`CONSENT_DAYS`] before and still stands; by letter otherwise.
pub fn channel(person: &windledger_vault::Person, convened_on: NaiveDate) -> ConvocationChannel {
    let consent_by = convened_on.checked_sub_days(Days::new(CONSENT_DAYS));
    let consented = person
        .consents
        .electronic_convocation
        .as_ref()
        .zip(consent_by)
        .is_some_and(|(c, by)| c.given_on <= by && c.stands_on(convened_on));
    if consented && person.email.is_some() {
        ConvocationChannel::Email
    } else {
        ConvocationChannel::Post
    }
}

/// Who is still to be convened to the meeting and how, each holder's data
/// read from the vault (each read logged under `reader`). Without a vault
/// every holder is convened by letter, addressed by id.
pub async fn plan(
    vault: Option<&Vault>,
    runtime: &LedgerRuntime,
    papers: &MeetingPapers,
    public_url: &str,
    reader: &Reader,
) -> Result<Plan, Error> {
    let record = &papers.record;
    let meeting = record.convocation.meeting.as_str();
    let links = links(public_url, &papers.drawn.ledger, meeting);
    let done: BTreeSet<&HolderId> = record.convocations.iter().map(|c| &c.holder).collect();
    let mut plan = Plan {
        meeting: meeting.to_owned(),
        ..Plan::default()
    };
    let to_convene: Vec<&HolderId> = papers
        .convenable
        .iter()
        .filter(|h| !done.contains(h))
        .collect();
    plan.already_convened = papers.convenable.len() - to_convene.len();
    // Read from the vault a slice at a time: a meeting of 20,000 holders
    // never holds every identity at once besides the plan.
    let mut people = BTreeMap::new();
    for (i, holder) in to_convene.iter().copied().enumerate() {
        if i % PLAN_SLICE == 0
            && let Some(v) = vault
        {
            let slice = to_convene.iter().copied().skip(i).take(PLAN_SLICE);
            people = v.read_many(runtime, slice, reader).await?;
        }
        let in_force = people.remove(holder);
        let person = in_force
            .as_ref()
            .map(|f| crate::persons::printed(&f.person));
        let text = convocation_text(
            &papers.drawn.company,
            record,
            holder,
            person.as_ref(),
            &links,
            &papers.deadlines,
        );
        let by = in_force.as_ref().map_or(ConvocationChannel::Post, |f| {
            channel(&f.person, record.convocation.convened_on)
        });
        let recipient = Recipient {
            holder: holder.clone(),
            email: in_force
                .as_ref()
                .and_then(|f| f.person.email.as_ref())
                .map(ToString::to_string),
            person,
            text,
        };
        match by {
            ConvocationChannel::Email => plan.by_email.push(recipient),
            ConvocationChannel::Post => plan.by_post.push(recipient),
        }
    }
    Ok(plan)
}

/// What sending the e-mails did.
#[derive(Debug, Clone, Default)]
pub struct Emailed {
    /// Recorded as convened by e-mail.
    pub sent: usize,
    /// Not sent, with the reason: not recorded, to send again or by post.
    pub failed: Vec<(HolderId, String)>,
}

/// Sends the plan's e-mails through `mailer`, then records those the
/// server accepted as convened on `sent_on` (in events of at most
/// [`MAX_CONVOCATIONS_PER_EVENT`] holders, each with the hash of its
/// text). A failed message is reported, not recorded: sending again
/// later picks up the holders not yet convened.
pub async fn send_emails(
    runtime: &LedgerRuntime,
    plan: &Plan,
    mailer: &Mailer,
    sent_on: NaiveDate,
    metadata: &HashMap<String, String>,
    on_progress: impl FnMut(usize, usize),
) -> Result<Emailed, Error> {
    let mails: Vec<Mail> = plan
        .by_email
        .iter()
        .map(|r| Mail {
            to_name: r
                .person
                .as_ref()
                .map_or_else(|| r.holder.to_string(), |p| p.name.clone()),
            to_address: r.email.clone().unwrap_or_default(),
            subject: r.text.subject.clone(),
            text: r.text.body.clone(),
            reply_to: None,
        })
        .collect();
    let outcomes = mailer.send_all(&mails, on_progress).await;
    let mut emailed = Emailed::default();
    let mut sent = Vec::new();
    for (recipient, outcome) in plan.by_email.iter().zip(outcomes) {
        match outcome {
            Outcome::Sent { .. } => sent.push(recipient),
            Outcome::Failed { reason } => emailed.failed.push((recipient.holder.clone(), reason)),
        }
    }
    emailed.sent = record(
        runtime,
        &plan.meeting,
        ConvocationChannel::Email,
        sent_on,
        &sent,
        metadata,
    )
    .await?;
    Ok(emailed)
}

/// Records the plan's letters as posted on `sent_on` (the secretary, or
/// the mailing service, handed them to the post).
pub async fn record_posted(
    runtime: &LedgerRuntime,
    plan: &Plan,
    sent_on: NaiveDate,
    metadata: &HashMap<String, String>,
) -> Result<usize, Error> {
    let letters: Vec<&Recipient> = plan.by_post.iter().collect();
    record(
        runtime,
        &plan.meeting,
        ConvocationChannel::Post,
        sent_on,
        &letters,
        metadata,
    )
    .await
}

async fn record(
    runtime: &LedgerRuntime,
    meeting: &str,
    channel: ConvocationChannel,
    sent_on: NaiveDate,
    recipients: &[&Recipient],
    metadata: &HashMap<String, String>,
) -> Result<usize, Error> {
    // Each batch is its own command: no caller's command id applies to all.
    let mut metadata = metadata.clone();
    metadata.remove("command_id");
    for batch in recipients.chunks(MAX_CONVOCATIONS_PER_EVENT) {
        let command = Command::Meeting(MeetingCommand::RecordConvocations {
            channel,
            sent_on,
            convocations: batch
                .iter()
                .map(|r| SentConvocation {
                    holder: r.holder.clone(),
                    sha256: r.text.sha256(),
                })
                .collect(),
        });
        runtime.execute(meeting, command, metadata.clone()).await?;
    }
    Ok(recipients.len())
}

/// The minutes as the officers sign them, and the SHA-256 they sign.
#[derive(Debug, Clone)]
pub struct SignableMinutes {
    pub drawn: Drawn,
    pub pdf: Vec<u8>,
    pub sha256: String,
}

/// The people a meeting's minutes name: the bureau's officers and the
/// holders whose late forms they list.
pub fn named_in_minutes(record: &MeetingRecord) -> Vec<HolderId> {
    let mut holders: Vec<HolderId> = record
        .bureau
        .iter()
        .flat_map(|b| {
            let bureau = &b.bureau;
            std::iter::once(bureau.chair.clone())
                .chain(bureau.scrutineers.iter().cloned())
                .chain(std::iter::once(bureau.secretary.clone()))
        })
        .chain(record.late_forms.iter().map(|f| f.voter.clone()))
        .collect();
    holders.sort();
    holders.dedup();
    holders
}

/// The minutes of the meeting, once its words are recorded: drawn at the
/// position of that event, the officers named from the vault (reads
/// logged under `reader`), so that the same bytes come back whenever they
/// are asked for and whatever was recorded since, as long as no officer's
/// name was corrected.
pub async fn minutes(
    vault: Option<&Vault>,
    runtime: &LedgerRuntime,
    papers: &MeetingPapers,
    reader: &Reader,
) -> Result<Option<SignableMinutes>, Error> {
    let Some(drawn) = papers.minutes_drawn() else {
        return Ok(None);
    };
    let names = match vault {
        Some(v) => {
            crate::persons::names(v, runtime, named_in_minutes(&papers.record), reader).await?
        }
        None => Default::default(),
    };
    let record = papers.record.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        windledger_documents::minutes::minutes_pdf(&drawn, &record, &names)
            .map(|pdf| pdf.map(|pdf| (drawn, pdf)))
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)?;
    Ok(rendered.map(|(drawn, pdf)| SignableMinutes {
        sha256: windledger_documents::minutes::document_sha256(&pdf),
        drawn,
        pdf,
    }))
}
