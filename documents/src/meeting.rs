//! The documents of a meeting: its attendance sheet (feuille de présence,
//! R225-95) as PDF/A, from the meeting's record in the register: every
//! voter with a ballot in force (online, by proxy or by post), with their
//! domicile, shares and votes, the totals by college, the proxies annexed
//! (a paper proxy with when it was received), the postal forms received
//! late (kept, not counted), and the lines the meeting's officers sign.

use std::collections::BTreeMap;

use windledger_domain::types::{CollegeId, HolderId};
use windledger_french::documents as words;
use windledger_french::format;
use windledger_projections::register::MeetingRecord;

use crate::pdf::{A4_LANDSCAPE, Font};
use crate::register::{Layout, TEXT, col, shown};
use crate::{DocumentError, Drawn, People};

/// The sheet's columns on A4 landscape (782 points between margins).
const ATTENDANCE: [crate::register::Column; 7] = [
    col(150.0, false),
    col(190.0, false),
    col(80.0, false),
    col(60.0, true),
    col(60.0, true),
    col(150.0, false),
    col(92.0, false),
];

/// One participant: a voter on the roll with a ballot in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub holder: HolderId,
    pub college: CollegeId,
    pub shares: u64,
    pub votes: u64,
    pub postal: bool,
    /// The proxy who cast the ballot, when not the voter.
    pub represented_by: Option<HolderId>,
    /// When the ballot was cast (or the postal form received).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A college's totals: participants and their shares and votes, against
/// the roll's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollegeTotals {
    pub participants: usize,
    pub on_the_roll: usize,
    pub shares: u64,
    pub votes: u64,
    pub roll_votes: u64,
}

/// Who took part in a meeting whose voting was opened: `None` before.
pub fn participants(
    record: &MeetingRecord,
) -> Option<(Vec<Participant>, BTreeMap<CollegeId, CollegeTotals>)> {
    let roll = &record.roll.as_ref()?.roll;
    let mut totals: BTreeMap<CollegeId, CollegeTotals> = BTreeMap::new();
    for voter in &roll.voters {
        let t = totals.entry(voter.college.clone()).or_default();
        t.on_the_roll += 1;
        t.roll_votes = t.roll_votes.saturating_add(voter.weight);
    }
    let mut participants = Vec::new();
    for ballot in record.ballots.iter().filter(|b| b.in_force) {
        let Some(voter) = roll.voters.iter().find(|v| v.holder == ballot.voter) else {
            continue;
        };
        let t = totals.entry(voter.college.clone()).or_default();
        t.participants += 1;
        t.shares = t.shares.saturating_add(voter.shares);
        t.votes = t.votes.saturating_add(voter.weight);
        participants.push(Participant {
            holder: voter.holder.clone(),
            college: voter.college.clone(),
            shares: voter.shares,
            votes: voter.weight,
            postal: ballot.postal,
            represented_by: (ballot.cast_by != ballot.voter).then(|| ballot.cast_by.clone()),
            at: ballot.cast_at,
        });
    }
    participants.sort_by(|a, b| (&a.college, &a.holder).cmp(&(&b.college, &b.holder)));
    Some((participants, totals))
}

/// The holders an attendance sheet names, once each: the participants and
/// who represented them, the proxies' grantors and holders, the officers.
pub fn named_on_sheet(record: &MeetingRecord) -> Vec<HolderId> {
    let Some((list, _)) = participants(record) else {
        return Vec::new();
    };
    let mut named: Vec<HolderId> = list
        .iter()
        .flat_map(|p| [Some(p.holder.clone()), p.represented_by.clone()])
        .flatten()
        .chain(
            record
                .proxies
                .iter()
                .flat_map(|p| [p.grantor.clone(), p.proxy.clone()]),
        )
        .chain(record.bureau.iter().flat_map(|b| {
            let b = &b.bureau;
            [b.chair.clone(), b.secretary.clone()]
                .into_iter()
                .chain(b.scrutineers.iter().cloned())
        }))
        .collect();
    named.sort();
    named.dedup();
    named
}

/// The attendance sheet of the meeting `record` (whose voting was opened),
/// names and domiciles from `people`.
pub fn attendance_pdf(
    drawn: &Drawn,
    record: &MeetingRecord,
    people: &dyn People,
) -> Result<Option<Vec<u8>>, DocumentError> {
    let Some((participants, totals)) = participants(record) else {
        return Ok(None);
    };
    let font = Font::load()?;
    let mut layout = Layout::under(
        &font,
        A4_LANDSCAPE,
        words::ATTENDANCE_TITLE,
        drawn,
        words::ATTENDANCE_LAW,
    );
    let c = &record.convocation;
    layout.paragraph(
        TEXT,
        &words::attendance_of(
            format::meeting_kind(c.kind),
            c.meeting.as_str(),
            &format::datetime(c.opens_at),
            &format::datetime(c.closes_at),
        ),
    );
    layout.gap(4.0);
    layout.table(&ATTENDANCE, &words::ATTENDANCE_COLUMNS);
    for p in &participants {
        let domicile = people
            .person(&p.holder)
            .map(|person| person.address.join(", "))
            .unwrap_or_default();
        let proxy = p.represented_by.as_ref().map(|h| shown(people, h));
        let cells = [
            shown(people, &p.holder),
            domicile,
            p.college.to_string(),
            format::int(p.shares),
            format::int(p.votes),
            words::participation(p.postal, proxy.as_deref()),
            format::datetime(p.at),
        ];
        layout.row(&ATTENDANCE, &cells);
    }
    layout.end_table();
    if participants.is_empty() {
        layout.paragraph(TEXT, words::ATTENDANCE_NOBODY);
    }
    for (college, t) in &totals {
        layout.paragraph(
            TEXT,
            &words::attendance_total(
                college.as_str(),
                t.participants,
                t.on_the_roll,
                t.shares,
                t.votes,
                t.roll_votes,
            ),
        );
    }
    layout.gap(6.0);
    layout.paragraph(TEXT, words::ATTENDANCE_PROXIES);
    let in_force: Vec<_> = record
        .proxies
        .iter()
        .filter(|p| p.revoked.is_none())
        .collect();
    if in_force.is_empty() {
        layout.paragraph(TEXT, words::ATTENDANCE_NO_PROXY);
    }
    for p in in_force {
        let line = words::proxy_line(&shown(people, &p.grantor), &shown(people, &p.proxy));
        let line = if p.paper {
            // Within the sentence: "... à B (pouvoir papier reçu le ...)."
            let sentence = line.strip_suffix('.').unwrap_or(&line);
            format!("{sentence} {}.", words::paper_proxy(p.given_at))
        } else {
            line
        };
        layout.paragraph(TEXT, &format!("– {line}"));
    }
    if !record.late_forms.is_empty() {
        layout.gap(6.0);
        layout.paragraph(TEXT, words::ATTENDANCE_LATE_FORMS);
        late_forms(&mut layout, record, people);
    }
    layout.gap(10.0);
    layout.paragraph(TEXT, words::ATTENDANCE_CERTIFIED);
    officers_to_sign(&mut layout, record, people, 10.0);
    layout.finish(words::ATTENDANCE_TITLE).map(Some)
}

/// The postal forms received late, kept and not counted, one line each.
pub(crate) fn late_forms(layout: &mut Layout<'_>, record: &MeetingRecord, people: &dyn People) {
    for form in &record.late_forms {
        let line = words::late_form(
            &shown(people, &form.voter),
            form.received_at,
            form.electronic,
            form.deadline,
        );
        layout.paragraph(TEXT, &format!("– {line}"));
    }
}

/// The lines the meeting's officers sign, `gap` points apart: each named
/// once the bureau is recorded, else by office.
pub(crate) fn officers_to_sign(
    layout: &mut Layout<'_>,
    record: &MeetingRecord,
    people: &dyn People,
    gap: f32,
) {
    let lines = match &record.bureau {
        Some(b) => {
            let b = &b.bureau;
            let scrutineers: Vec<String> = b.scrutineers.iter().map(|s| shown(people, s)).collect();
            words::attendance_bureau(
                &shown(people, &b.chair),
                &scrutineers,
                &shown(people, &b.secretary),
            )
        }
        None => words::ATTENDANCE_OFFICERS.map(str::to_owned).to_vec(),
    };
    for line in lines {
        layout.gap(gap);
        layout.paragraph(TEXT, &line);
    }
}
