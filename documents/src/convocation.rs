//! The convocation of a meeting (R225-66 to R225-69 of the Code de
//! commerce, as the statutes take them up): its words, one text shared by
//! the e-mail and the letter ([`convocation_text`], whose SHA-256 the
//! ledger records for either channel), the letters as one PDF/A ready to
//! print for windowed envelopes ([`letters_pdf`]), and the file a mailing
//! service reads alongside it ([`letters_csv`]).
//!
//! Deterministic: no clock, the same record, names and links give the same
//! words, bytes and hashes.

use sha2::{Digest, Sha256};
use windledger_domain::charter::PostalVoting;
use windledger_domain::types::HolderId;
use windledger_french::documents as words;
use windledger_projections::register::MeetingRecord;

use crate::pdf::{A4_PORTRAIT, Font};
use crate::postal_form::{Parts, drawn_from, text_lines};
use crate::register::{MARGIN, SMALL};
use crate::{DocumentError, Drawn, Person, name_and_address};

/// The absolute URLs a convocation gives its holder, built by the caller:
/// their voting page, and their postal voting form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub vote: String,
    pub postal_form: String,
}

/// A convocation's words: the subject of the e-mail (the object of the
/// letter) and its plain-text body, lines separated by a line feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvocationText {
    pub subject: String,
    pub body: String,
}

impl ConvocationText {
    /// The SHA-256, as 64 lowercase hexadecimal digits, of the UTF-8 bytes
    /// of `subject`, a line feed (0x0A), then `body`. The ledger records it
    /// for each holder convened (`ConvocationsSent`), by e-mail or by
    /// letter alike: the words sent, kept outside the ledger, can be shown
    /// to be those.
    pub fn sha256(&self) -> String {
        let mut digest = Sha256::new();
        digest.update(self.subject.as_bytes());
        digest.update(b"\n");
        digest.update(self.body.as_bytes());
        hex(&digest.finalize())
    }
}

/// Bytes as lowercase hexadecimal digits.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The convocation of `holder` (`person`: who they are, if known) to the
/// meeting `record` of `company`: the meeting, its voting window (Paris
/// time), the call, the record date, the agenda with every resolution's
/// full text, and how to take part (online at `links.vote`, by proxy, by
/// post with the form at `links.postal_form`, before the deadlines the
/// charter's `deadlines` set).
pub fn convocation_text(
    company: &str,
    record: &MeetingRecord,
    holder: &HolderId,
    person: Option<&Person>,
    links: &Links,
    deadlines: &PostalVoting,
) -> ConvocationText {
    let c = &record.convocation;
    let mut body: Vec<String> = vec![
        words::salutation(person.map(|p| p.name.as_str())),
        String::new(),
        words::convenes(company, c.kind, c.meeting.as_str(), &c.call),
        String::new(),
        words::convocation_window(c.opens_at, c.closes_at),
    ];
    if c.kind.is_general_meeting() {
        body.push(words::convocation_record_date(c.record_date));
    }
    body.push(String::new());
    body.push(words::CONVOCATION_AGENDA.to_owned());
    for (i, item) in c.agenda.iter().enumerate() {
        let mut lines = text_lines(&item.text);
        let first = lines.next().unwrap_or_default();
        body.push(words::convocation_item(
            i + 1,
            item.decision_kind.as_str(),
            &first,
        ));
        // The resolution's further lines, indented under its number.
        body.extend(lines.map(|line| format!("   {line}")));
    }
    body.push(String::new());
    body.push(words::CONVOCATION_HOW.to_owned());
    body.push(words::convocation_online(&links.vote));
    body.push(words::CONVOCATION_PROXY.to_owned());
    body.push(words::convocation_postal(
        &links.postal_form,
        deadlines.deadline(c.opens_at, false),
        deadlines.deadline(c.opens_at, true),
    ));
    body.push(String::new());
    body.push(words::CONVOCATION_ABSTENTION.to_owned());
    body.push(words::convocation_holder(holder.as_str()));
    body.push(String::new());
    body.push(words::CONVOCATION_CLOSING.to_owned());
    body.push(String::new());
    body.push(company.to_owned());
    let mut body = body.join("\n");
    body.push('\n');
    ConvocationText {
        subject: words::convocation_subject(c.kind, c.meeting.as_str(), company),
        body,
    }
}

/// One letter: the recipient, who they are if known, and its words.
pub type Letter = (HolderId, Option<Person>, ConvocationText);

/// The size of a letter's words.
const LETTER: f32 = 10.0;
/// One millimetre, in points.
const MM: f32 = 72.0 / 25.4;
/// The recipient's block, placed for a DL envelope (110 × 220 mm) with a
/// window on the right, the A4 sheet folded in three: La Poste's zone for
/// the address (NF Z10-011) starts 100 mm from the left edge and 50 mm from
/// the top edge, 90 mm wide. The block's first line has its top there; six
/// lines of 12 points end about 76 mm from the top, inside a window of
/// 45 × 100 mm set from 45 to 90 mm.
const ADDRESS_LEFT: f32 = 100.0 * MM;
const ADDRESS_TOP: f32 = 50.0 * MM;
const ADDRESS_WIDTH: f32 = 90.0 * MM;
const ADDRESS_LEADING: f32 = 12.0;
/// The object of the letter starts below the window, 105 mm from the top.
const OBJECT_TOP: f32 = 105.0 * MM;
/// On a letter's next pages the words start 60 mm from the top, below the
/// header, whatever the header holds: so the pages a letter takes depend
/// on its words alone, and [`letters_csv`] counts them without the
/// position the PDF is drawn at.
const NEXT_PAGE_TOP: f32 = 60.0 * MM;
/// The letters to print: one after the other, each from a new page with
/// the recipient's name and address where the envelope's window shows
/// them, then the object and the words. Every page carries the company
/// and where the document is drawn from; its footer, the recipient's id,
/// the SHA-256 of the words ([`ConvocationText::sha256`]) and the page
/// within the letter.
pub fn letters_pdf(drawn: &Drawn, letters: &[Letter]) -> Result<Vec<u8>, DocumentError> {
    let font = Font::load()?;
    // The sender (the company) and where the document is drawn from head
    // every page across its width, above the window: two or three lines
    // of 7 points under the company's name end about 25 mm from the top.
    let mut header = vec![(MARGIN, 11.0, drawn.company.clone())];
    for line in font.wrap(&drawn_from(drawn), SMALL, A4_PORTRAIT.width - 2.0 * MARGIN) {
        header.push((MARGIN, SMALL, line));
    }
    let (mut parts, _) = typeset(&font, header, letters);
    if letters.is_empty() {
        parts.begin();
        parts.end(None);
    }
    parts.finish(words::LETTERS_TITLE)
}

/// The letters laid out under `header`, and the page each starts on
/// (from 1). Where the words break does not depend on the header.
fn typeset<'a>(
    font: &'a Font,
    header: Vec<(f32, f32, String)>,
    letters: &[Letter],
) -> (Parts<'a>, Vec<usize>) {
    let sheet = A4_PORTRAIT;
    let mut parts = Parts::new(font, sheet, header, Some(sheet.height - NEXT_PAGE_TOP));
    let mut starts = Vec::with_capacity(letters.len());
    for (holder, person, text) in letters {
        starts.push(parts.begin());
        let mut y = sheet.height - ADDRESS_TOP - LETTER;
        for line in name_and_address(holder, person.as_ref()) {
            for piece in font.wrap(&line, LETTER, ADDRESS_WIDTH) {
                parts.text_at(ADDRESS_LEFT, y, LETTER, piece);
                y -= ADDRESS_LEADING;
            }
        }
        parts.y = (sheet.height - OBJECT_TOP).min(y);
        parts.paragraph(LETTER, &words::letter_subject(&text.subject));
        parts.gap(LETTER);
        parts.paragraph(LETTER, &text.body);
        let footer = words::letter_footer(holder.as_str(), &text.sha256());
        parts.end(Some(&footer));
    }
    (parts, starts)
}

/// The file a mailing service reads with [`letters_pdf`]'s document:
/// `;`-separated, UTF-8, a header line then a line per letter in the same
/// order: the holder's id, the name (or the id as the letter shows it),
/// four address lines (empty when absent; a fifth line and more joined to
/// the fourth), the page of the PDF the letter starts on, and the SHA-256
/// of its words.
///
/// The pages are counted with the embedded font, as the PDF lays them out;
/// were it unreadable (it is compiled in), the page cells would be empty,
/// and [`letters_pdf`] would fail.
pub fn letters_csv(letters: &[Letter]) -> Vec<u8> {
    let starts: Vec<String> = match Font::load() {
        Ok(font) => typeset(&font, Vec::new(), letters)
            .1
            .iter()
            .map(ToString::to_string)
            .collect(),
        Err(_) => vec![String::new(); letters.len()],
    };
    let mut out = Vec::with_capacity(200 * (letters.len() + 1));
    crate::csv::row(&mut out, &words::LETTERS_CSV_COLUMNS, ';');
    for ((holder, person, text), start) in letters.iter().zip(starts) {
        let block = name_and_address(holder, person.as_ref());
        let name = block.first().cloned().unwrap_or_default();
        let mut address: Vec<String> = person
            .as_ref()
            .map(|p| p.address.clone())
            .unwrap_or_default();
        if address.len() > 4 {
            let rest = address.split_off(3).join(", ");
            address.push(rest);
        }
        address.resize(4, String::new());
        let sha = text.sha256();
        let mut fields = vec![holder.as_str(), name.as_str()];
        fields.extend(address.iter().map(String::as_str));
        fields.push(&start);
        fields.push(&sha);
        crate::csv::row(&mut out, &fields, ';');
    }
    out
}
