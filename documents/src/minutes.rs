//! The minutes of a meeting (procès-verbal des délibérations, R225-106 of
//! the Code de commerce) as PDF/A, from the meeting's record in the
//! register once it is closed and its minutes' own words recorded.
//!
//! What R225-106 asks, each under its heading, in its order: the company
//! and the meeting, held at a distance over its voting window; how and
//! when it was convened (the convening date, first or second call, the
//! record date, the convocations sent by channel, the window); the agenda;
//! the bureau; who took part and the quorum; the documents presented; the
//! summary of the debates; each resolution's text and result, college by
//! college, with the rule that decided it; the postal forms received late,
//! kept and not counted; and the officers' lines to sign.
//!
//! The officers sign the SHA-256 of exactly this document
//! ([`document_sha256`]): it never shows the signatures recorded since, so
//! it is the same file before and after them, drawn at the minutes' own
//! position ([`minutes_drawn`]).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use windledger_domain::charter::VoteBasis;
use windledger_domain::meeting::{
    AgendaItem, ConvocationChannel, ResolutionResult, Roll, RollCollege,
};
use windledger_domain::types::CollegeId;
use windledger_french::documents as words;
use windledger_french::format;
use windledger_projections::register::MeetingRecord;

use crate::convocation::hex;
use crate::meeting::{CollegeTotals, Participant, participants};
use crate::pdf::{A4_PORTRAIT, Font};
use crate::postal_form::text_lines;
use crate::register::{Column, Layout, TEXT, col, shown};
use crate::{DocumentError, Drawn, People};

/// The size of a heading.
const HEADING: f32 = 11.0;
/// The size of a resolution's title.
const SUBHEADING: f32 = 10.0;

/// Who took part, by college, on A4 portrait (531 points between margins).
const PARTICIPATION: [Column; 8] = [
    col(111.0, false),
    col(55.0, true),
    col(65.0, true),
    col(60.0, true),
    col(70.0, true),
    col(60.0, true),
    col(50.0, true),
    col(60.0, true),
];

/// A resolution's count by college.
const RESULT: [Column; 9] = [
    col(75.0, false),
    col(55.0, true),
    col(58.0, true),
    col(50.0, true),
    col(50.0, true),
    col(58.0, true),
    col(55.0, true),
    col(60.0, true),
    col(70.0, false),
];

/// The SHA-256 of a document's bytes, as 64 lowercase hexadecimal digits:
/// what the officers sign (`SignMinutes`'s `document_sha256`).
pub fn document_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Where the minutes of `record` are drawn from: the event that recorded
/// their words (its position and hash), the date of that event in Paris,
/// in `ledger` of `company`. `None` before the minutes are recorded. The
/// minutes drawn at any later position would be another file, which the
/// officers have not signed.
pub fn minutes_drawn(ledger: &str, company: &str, record: &MeetingRecord) -> Option<Drawn> {
    let minutes = record.minutes.as_ref()?;
    Some(Drawn {
        ledger: ledger.to_owned(),
        company: company.to_owned(),
        position: minutes.at.position,
        head: minutes.at.hash,
        date: format::to_paris(minutes.minutes.at).date(),
    })
}

/// The minutes of the meeting `record`, names from `people`: `None`
/// unless the meeting is closed and its minutes recorded.
///
/// `drawn` must be the minutes' own event ([`minutes_drawn`]), not the
/// ledger's head: the officers sign the SHA-256 of these bytes, and the
/// signatures recorded after the minutes are deliberately not shown, so
/// that the same record gives the same file before and after each
/// signature.
pub fn minutes_pdf(
    drawn: &Drawn,
    record: &MeetingRecord,
    people: &dyn People,
) -> Result<Option<Vec<u8>>, DocumentError> {
    let (Some(closed), Some(minutes)) = (&record.closed, &record.minutes) else {
        return Ok(None);
    };
    let minutes = &minutes.minutes;
    let c = &record.convocation;
    let font = Font::load()?;
    let mut layout = Layout::under(
        &font,
        A4_PORTRAIT,
        words::MINUTES_TITLE,
        drawn,
        words::MINUTES_LAW,
    );

    heading(&mut layout, words::MINUTES_MEETING);
    layout.paragraph(TEXT, &words::minutes_company(&drawn.company));
    layout.paragraph(TEXT, &words::minutes_meeting(c.kind, c.meeting.as_str()));
    layout.paragraph(
        TEXT,
        &words::minutes_held(c.kind, c.opens_at, c.closes_at, closed.closed_at),
    );

    heading(&mut layout, words::MINUTES_CONVENING);
    layout.paragraph(TEXT, &words::minutes_convened(c.convened_on, &c.call));
    if c.kind.is_general_meeting() {
        layout.paragraph(TEXT, &words::minutes_record_date(c.record_date));
    }
    convocations(&mut layout, record);
    layout.paragraph(TEXT, &words::voting_window(c.opens_at, c.closes_at));

    heading(&mut layout, words::MINUTES_AGENDA);
    for (i, item) in c.agenda.iter().enumerate() {
        resolution_text(&mut layout, i + 1, item);
    }

    heading(&mut layout, words::MINUTES_BUREAU);
    match &record.bureau {
        Some(b) => {
            let b = &b.bureau;
            layout.paragraph(TEXT, &words::bureau_chair(&shown(people, &b.chair)));
            let scrutineers: Vec<String> = b.scrutineers.iter().map(|s| shown(people, s)).collect();
            layout.paragraph(TEXT, &words::bureau_scrutineers(&scrutineers));
            layout.paragraph(TEXT, &words::bureau_secretary(&shown(people, &b.secretary)));
        }
        None => layout.paragraph(TEXT, words::NO_BUREAU),
    }

    heading(&mut layout, words::MINUTES_QUORUM);
    participation(&mut layout, record);
    let mut kinds_said = Vec::new();
    for r in &closed.results {
        if kinds_said.contains(&&r.decision_kind) {
            continue;
        }
        kinds_said.push(&r.decision_kind);
        layout.paragraph(TEXT, &words::quorum_line(&c.call, r));
    }

    heading(&mut layout, words::MINUTES_DOCUMENTS);
    for document in &minutes.documents_presented {
        layout.paragraph(TEXT, &format!("– {document}"));
    }
    if minutes.documents_presented.is_empty() {
        layout.paragraph(TEXT, words::NO_DOCUMENT_PRESENTED);
    }

    heading(&mut layout, words::MINUTES_DEBATES);
    for line in text_lines(&minutes.debates) {
        layout.paragraph(TEXT, &line);
    }

    heading(&mut layout, words::MINUTES_RESULTS);
    let roll = record.roll.as_ref().map(|r| &r.roll);
    for (i, item) in c.agenda.iter().enumerate() {
        layout.gap(4.0);
        resolution_text(&mut layout, i + 1, item);
        match closed
            .results
            .iter()
            .find(|r| r.resolution == item.resolution)
        {
            Some(result) => resolution_result(&mut layout, result, roll),
            None => layout.paragraph(TEXT, words::NO_RESULT),
        }
    }

    heading(&mut layout, words::MINUTES_LATE_FORMS);
    if record.late_forms.is_empty() {
        layout.paragraph(TEXT, words::NO_LATE_FORM);
    } else {
        layout.paragraph(TEXT, words::LATE_FORMS_KEPT);
        crate::meeting::late_forms(&mut layout, record, people);
    }

    heading(&mut layout, words::MINUTES_SIGNATURES);
    layout.paragraph(TEXT, &words::minutes_signed(minutes.at));
    crate::meeting::officers_to_sign(&mut layout, record, people, 12.0);
    layout.finish(words::MINUTES_TITLE).map(Some)
}

fn heading(layout: &mut Layout<'_>, text: &str) {
    layout.gap(8.0);
    layout.paragraph(HEADING, text);
    layout.gap(2.0);
}

/// A resolution's number, kind and full text.
fn resolution_text(layout: &mut Layout<'_>, number: usize, item: &AgendaItem) {
    layout.paragraph(
        SUBHEADING,
        &words::resolution_heading(number, item.decision_kind.as_str()),
    );
    for line in text_lines(&item.text) {
        layout.paragraph(TEXT, &line);
    }
}

/// The convocations sent, by channel: how many, from when to when.
fn convocations(layout: &mut Layout<'_>, record: &MeetingRecord) {
    let mut by_channel: BTreeMap<
        ConvocationChannel,
        (usize, chrono::NaiveDate, chrono::NaiveDate),
    > = BTreeMap::new();
    for sent in &record.convocations {
        let e = by_channel
            .entry(sent.channel)
            .or_insert((0, sent.sent_on, sent.sent_on));
        e.0 += 1;
        e.1 = e.1.min(sent.sent_on);
        e.2 = e.2.max(sent.sent_on);
    }
    if by_channel.is_empty() {
        layout.paragraph(TEXT, words::NO_CONVOCATION_SENT);
    }
    for (channel, (count, first, last)) in by_channel {
        layout.paragraph(TEXT, &words::convocations_sent(channel, count, first, last));
    }
}

/// How each college took part, against its roll: present (online), by
/// proxy, by post; shares and votes.
fn participation(layout: &mut Layout<'_>, record: &MeetingRecord) {
    let (Some((people, totals)), Some(roll)) =
        (participants(record), record.roll.as_ref().map(|r| &r.roll))
    else {
        layout.paragraph(TEXT, words::ATTENDANCE_NOBODY);
        return;
    };
    layout.table(&PARTICIPATION, &words::PARTICIPATION_COLUMNS);
    let mut shares = 0u64;
    let (mut taking_part, mut on_the_roll) = (0usize, 0usize);
    for (college, t) in colleges(roll, &totals) {
        let of = |p: &&Participant| &p.college == college;
        let postal = people.iter().filter(of).filter(|p| p.postal).count();
        let represented = people
            .iter()
            .filter(of)
            .filter(|p| !p.postal && p.represented_by.is_some())
            .count();
        let present = t.participants.saturating_sub(postal + represented);
        let cells = [
            college_name(roll, college),
            format::int(t.on_the_roll as u64),
            format::int(present as u64),
            format::int(represented as u64),
            format::int(postal as u64),
            format::int(t.shares),
            format::int(t.votes),
            format::int(t.roll_votes),
        ];
        layout.row(&PARTICIPATION, &cells);
        shares = shares.saturating_add(t.shares);
        taking_part += t.participants;
        on_the_roll += t.on_the_roll;
    }
    layout.end_table();
    layout.paragraph(
        TEXT,
        &words::shares_participating(shares, taking_part, on_the_roll),
    );
}

/// The colleges of the roll in charter order, then any other the totals
/// hold, each with its totals.
fn colleges<'a>(
    roll: &'a Roll,
    totals: &'a BTreeMap<CollegeId, CollegeTotals>,
) -> Vec<(&'a CollegeId, CollegeTotals)> {
    let mut out: Vec<(&CollegeId, CollegeTotals)> = roll
        .colleges
        .iter()
        .map(|c| (&c.id, totals.get(&c.id).cloned().unwrap_or_default()))
        .collect();
    for (id, t) in totals {
        if roll.college(id).is_none() {
            out.push((id, t.clone()));
        }
    }
    out
}

/// A college's id, with its unit when it counts members.
fn college_name(roll: &Roll, college: &CollegeId) -> String {
    let per_member = roll
        .college(college)
        .is_some_and(|c| c.vote_basis == VoteBasis::PerMember);
    words::college_with_unit(college.as_str(), per_member)
}

/// A resolution's result: the outcome and the rules that decided it, the
/// quorum, the majority, and the count of every college.
fn resolution_result(layout: &mut Layout<'_>, r: &ResolutionResult, roll: Option<&Roll>) {
    layout.paragraph(SUBHEADING, &words::result(&r.outcome));
    layout.paragraph(TEXT, &words::result_quorum(r));
    layout.paragraph(
        TEXT,
        &words::result_majority(
            r.majority,
            r.weighted,
            r.share_for.as_ref(),
            r.majority_reached,
        ),
    );
    let colleges: Vec<RollCollege> = roll.map(|r| r.colleges.clone()).unwrap_or_default();
    if windledger_french::votes::totals_add_up(&colleges) {
        layout.paragraph(
            TEXT,
            &words::result_totals(r.votes_for, r.votes_against, r.abstentions),
        );
    } else {
        layout.paragraph(TEXT, words::UNITS_DIFFER);
    }
    layout.table(&RESULT, &words::RESULT_COLUMNS);
    for t in &r.colleges {
        let name = match roll {
            Some(roll) => college_name(roll, &t.college),
            None => t.college.to_string(),
        };
        let cells = [
            name,
            format::int(t.roll_total),
            format::int(t.present),
            format::int(t.votes_for),
            format::int(t.votes_against),
            format::int(t.abstentions),
            words::weight(t.weight),
            words::applied_weight(t.applied_weight.as_ref()),
            words::college_majority(t.majority_for, t.majority_required),
        ];
        layout.row(&RESULT, &cells);
    }
    layout.end_table();
    for t in r.colleges.iter().filter(|t| t.majority_required) {
        layout.paragraph(
            TEXT,
            &words::college_veto(t.college.as_str(), t.majority_for),
        );
    }
    if !r.weight_shared_from.is_empty() {
        let silent: Vec<String> = r
            .weight_shared_from
            .iter()
            .map(ToString::to_string)
            .collect();
        layout.paragraph(TEXT, &words::weight_shared(&silent));
    }
}
