//! The postal voting form (formulaire de vote par correspondance, R225-76
//! and R225-77 of the Code de commerce) of a meeting, as PDF/A: for one
//! holder ([`postal_form_pdf`]), or one form per holder in one document
//! to print in bulk ([`postal_forms_pdf`]), each form starting on a new
//! page.
//!
//! A form names its holder (name and address from [`People`], their id,
//! their shares and votes from the roll once the vote is opened, blank
//! lines before), the meeting, every resolution with its full text and
//! three boxes (Pour, Contre, Abstention), the warning that an abstention
//! is not a vote cast (L225-96, L225-98 as amended in 2019, L225-107), the
//! charter's deadlines for a paper and an electronic form (Paris time),
//! the company to send it to, and a line for the date and signature.
//!
//! Also `Parts`, the typesetter of documents made of parts that each
//! start on a new page (these forms, and the convocation letters of
//! [`crate::convocation`]).

use windledger_domain::charter::PostalVoting;
use windledger_domain::types::HolderId;
use windledger_french::documents as words;
use windledger_projections::register::MeetingRecord;

use crate::pdf::{self, A4_PORTRAIT, Font, Page, Sheet};
use crate::register::{MARGIN, SMALL, TEXT};
use crate::{DocumentError, Drawn, People, name_and_address};

/// The size of a form's headings.
const HEADING: f32 = 11.0;

/// Pages made of parts that each start on a new page (a form, a letter),
/// every page under the same header, numbered within its part.
pub(crate) struct Parts<'a> {
    pub(crate) font: &'a Font,
    pub(crate) sheet: Sheet,
    /// Lines drawn at the top of every page: x, size, text.
    header: Vec<(f32, f32, String)>,
    /// Where the text of a page starts below its header, from the bottom.
    top: f32,
    pages: Vec<Page>,
    /// The index of the current part's first page.
    start: usize,
    /// The baseline of the last line written, from the bottom.
    pub(crate) y: f32,
}

impl<'a> Parts<'a> {
    /// Parts under `header` (x, size, text per line, from the top margin
    /// down), whose text starts at `top` points from the bottom on every
    /// page, or below the header if that is lower.
    pub(crate) fn new(
        font: &'a Font,
        sheet: Sheet,
        header: Vec<(f32, f32, String)>,
        top: Option<f32>,
    ) -> Self {
        let below_header =
            sheet.height - MARGIN - header.iter().map(|(_, size, _)| size + 3.0).sum::<f32>() - 8.0;
        Self {
            font,
            sheet,
            header,
            top: top.unwrap_or(below_header),
            pages: Vec::new(),
            start: 0,
            y: 0.0,
        }
    }

    /// The header of a document under `law`, as [`crate::register`]'s
    /// layout writes it: its title and company, where it is drawn from,
    /// the law it follows.
    pub(crate) fn header_under(
        font: &Font,
        sheet: Sheet,
        title: &str,
        drawn: &Drawn,
        law: &str,
    ) -> Vec<(f32, f32, String)> {
        let width = sheet.width - 2.0 * MARGIN;
        let mut header = vec![(MARGIN, 12.0, format!("{title} — {}", drawn.company))];
        for line in font.wrap(&drawn_from(drawn), SMALL, width) {
            header.push((MARGIN, SMALL, line));
        }
        for line in font.wrap(law, SMALL, width) {
            header.push((MARGIN, SMALL, line));
        }
        header
    }

    /// The width between the margins.
    pub(crate) fn width(&self) -> f32 {
        self.sheet.width - 2.0 * MARGIN
    }

    /// Starts a part on a new page; its page number in the document (from 1).
    pub(crate) fn begin(&mut self) -> usize {
        self.new_page();
        self.start = self.pages.len() - 1;
        self.pages.len()
    }

    fn new_page(&mut self) {
        let mut page = Page::default();
        let mut y = self.sheet.height - MARGIN;
        for (x, size, line) in &self.header {
            y -= size + 3.0;
            page.text(*x, y, *size, line.clone());
        }
        self.pages.push(page);
        self.y = self.top;
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.new_page();
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The height one page of this part holds below its header.
    fn page_height(&self) -> f32 {
        self.top - MARGIN - 14.0
    }

    /// Room for `height` more points, on a new page of the part if need
    /// be (and if the new page would hold it: what is taller breaks).
    pub(crate) fn room(&mut self, height: f32) {
        if self.y - height < MARGIN + 14.0 && height <= self.page_height() {
            self.new_page();
        }
    }

    /// The lines `text` takes at `size` within `width`: each of its lines
    /// (a line feed starts one) wrapped.
    pub(crate) fn lines(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        text_lines(text)
            .flat_map(|line| self.font.wrap(&line, size, width))
            .collect()
    }

    /// The height of `lines` lines at `size`.
    pub(crate) fn height(lines: usize, size: f32) -> f32 {
        lines as f32 * (size + 4.0)
    }

    /// A paragraph from the left margin, wrapped, broken across pages.
    pub(crate) fn paragraph(&mut self, size: f32, text: &str) {
        self.paragraph_at(0.0, size, text);
    }

    /// A paragraph indented by `indent` points.
    pub(crate) fn paragraph_at(&mut self, indent: f32, size: f32, text: &str) {
        let width = self.width() - indent;
        for line in self.lines(text, size, width) {
            self.room(size + 4.0);
            self.y -= size + 4.0;
            let y = self.y;
            self.page().text(MARGIN + indent, y, size, line);
        }
    }

    /// Text at a place of the current page, `size` points high, its
    /// baseline at `y` from the bottom.
    pub(crate) fn text_at(&mut self, x: f32, y: f32, size: f32, text: impl Into<String>) {
        self.page().text(x, y, size, text);
    }

    pub(crate) fn gap(&mut self, height: f32) {
        self.y -= height;
    }

    /// A rule across the page below the last line.
    pub(crate) fn rule(&mut self) {
        self.room(6.0);
        let (x1, x2, y) = (MARGIN, self.sheet.width - MARGIN, self.y - 4.0);
        self.page().rule(x1, x2, y);
        self.y -= 8.0;
    }

    /// Ends the current part: each of its pages numbered within it, with
    /// `footer` on the left.
    pub(crate) fn end(&mut self, footer: Option<&str>) {
        let start = self.start.min(self.pages.len());
        let pages = &mut self.pages[start..];
        let n = pages.len();
        for (i, page) in pages.iter_mut().enumerate() {
            let text = words::page(i + 1, n);
            let x = self.sheet.width - MARGIN - self.font.width(&text, SMALL);
            page.text(x, MARGIN - 12.0, SMALL, text);
            if let Some(footer) = footer {
                page.text(MARGIN, MARGIN - 12.0, SMALL, footer);
            }
        }
    }

    pub(crate) fn finish(self, title: &str) -> Result<Vec<u8>, DocumentError> {
        pdf::write(self.font, self.sheet, title, &self.pages)
    }
}

/// Where a document is drawn from, in words.
pub(crate) fn drawn_from(drawn: &Drawn) -> String {
    words::drawn_from(
        &drawn.ledger,
        drawn.position,
        &drawn.head.to_hex(),
        drawn.date,
    )
}

/// The lines of a free text (a resolution's, the debates'), a line feed
/// starting each (a carriage return before it dropped), tabs as spaces.
pub(crate) fn text_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('\n').map(|line| {
        line.strip_suffix('\r')
            .unwrap_or(line)
            .replace('\t', "    ")
    })
}

/// The form of `holder` for the meeting `record`, its deadlines from the
/// charter's `deadlines` (the charter in force on the convening date, as
/// the domain reads it).
pub fn postal_form_pdf(
    drawn: &Drawn,
    record: &MeetingRecord,
    holder: &HolderId,
    deadlines: &PostalVoting,
    people: &dyn People,
) -> Result<Vec<u8>, DocumentError> {
    postal_forms_pdf(
        drawn,
        record,
        std::slice::from_ref(holder),
        deadlines,
        people,
    )
}

/// One form per holder of `holders`, in that order, each starting on a
/// new page, in one document to print.
pub fn postal_forms_pdf(
    drawn: &Drawn,
    record: &MeetingRecord,
    holders: &[HolderId],
    deadlines: &PostalVoting,
    people: &dyn People,
) -> Result<Vec<u8>, DocumentError> {
    let font = Font::load()?;
    let header = Parts::header_under(
        &font,
        A4_PORTRAIT,
        words::POSTAL_TITLE,
        drawn,
        words::POSTAL_LAW,
    );
    let mut parts = Parts::new(&font, A4_PORTRAIT, header, None);
    for holder in holders {
        parts.begin();
        form(&mut parts, drawn, record, holder, deadlines, people);
        parts.end(Some(holder.as_str()));
    }
    if holders.is_empty() {
        // A document has a page: an empty form, no one named.
        parts.begin();
        parts.end(None);
    }
    parts.finish(words::POSTAL_TITLE)
}

/// One holder's form, from the top of a new page.
fn form(
    parts: &mut Parts<'_>,
    drawn: &Drawn,
    record: &MeetingRecord,
    holder: &HolderId,
    deadlines: &PostalVoting,
    people: &dyn People,
) {
    let c = &record.convocation;
    parts.paragraph(
        TEXT,
        &words::postal_meeting(c.kind, c.meeting.as_str(), &c.call, c.opens_at, c.closes_at),
    );
    parts.gap(6.0);

    // The voter.
    parts.paragraph(HEADING, words::POSTAL_VOTER);
    for line in name_and_address(holder, people.person(holder).as_ref()) {
        parts.paragraph(TEXT, &line);
    }
    parts.paragraph(TEXT, &format!("{} : {holder}", words::HOLDER_ID));
    let voter = record
        .roll
        .as_ref()
        .and_then(|r| r.roll.voters.iter().find(|v| &v.holder == holder));
    match (voter, &record.roll) {
        (Some(v), Some(roll)) => parts.paragraph(
            TEXT,
            &words::postal_holding(
                v.shares,
                v.weight,
                v.college.as_str(),
                roll.roll.record_date,
            ),
        ),
        _ => {
            parts.gap(6.0);
            parts.paragraph(TEXT, words::POSTAL_HOLDING_BLANK);
        }
    }
    parts.gap(6.0);

    // The warning, before the boxes, as R225-76 wants it: very apparent.
    parts.paragraph(10.0, words::POSTAL_ABSTENTION);
    parts.paragraph(TEXT, words::POSTAL_NO_DIRECTION);
    parts.gap(6.0);

    parts.paragraph(HEADING, words::POSTAL_RESOLUTIONS);
    parts.paragraph(TEXT, words::POSTAL_HOW);
    parts.rule();
    let boxes = words::postal_boxes();
    for (i, item) in c.agenda.iter().enumerate() {
        let heading = words::resolution_heading(i + 1, item.decision_kind.as_str());
        let width = parts.width();
        let text = parts.lines(&item.text, TEXT, width);
        // A resolution with its boxes on one page when it fits.
        parts.room(Parts::height(text.len() + 2, TEXT) + 14.0);
        parts.paragraph(10.0, &heading);
        for line in text {
            parts.paragraph(TEXT, &line);
        }
        parts.gap(4.0);
        parts.paragraph_at(20.0, 11.0, &boxes);
        parts.rule();
    }
    parts.gap(4.0);

    parts.room(Parts::height(8, TEXT) + 30.0);
    parts.paragraph(HEADING, words::POSTAL_DEADLINES);
    parts.paragraph(
        TEXT,
        &words::postal_paper_deadline(deadlines.deadline(c.opens_at, false)),
    );
    parts.paragraph(
        TEXT,
        &words::postal_electronic_deadline(deadlines.deadline(c.opens_at, true)),
    );
    parts.paragraph(TEXT, words::POSTAL_LATE);
    parts.gap(6.0);
    parts.paragraph(TEXT, &words::postal_send_to(&drawn.company));
    parts.gap(14.0);
    parts.paragraph(TEXT, words::POSTAL_SIGNATURE);
}
