//! The register of share movements, an individual account and a
//! certificate of holding as PDF/A, and the register as CSV.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use windledger_domain::types::{HolderId, ShareClassId};
use windledger_french::documents as words;
use windledger_french::format;
use windledger_projections::share_register::{Account, RegisterEntry, SupportingAct};

use crate::pdf::{self, A4_LANDSCAPE, A4_PORTRAIT, Font, Page, Sheet};
use crate::{DocumentError, Drawn, People, Person, name_and_address};

pub(crate) const MARGIN: f32 = 32.0;
pub(crate) const TEXT: f32 = 9.0;
pub(crate) const SMALL: f32 = 7.0;
pub(crate) const TABLE: f32 = 7.0;
pub(crate) const ROW: f32 = 10.0;

/// A column of a table: its width in points and whether figures align
/// right.
pub(crate) struct Column {
    width: f32,
    right: bool,
}

pub(crate) const fn col(width: f32, right: bool) -> Column {
    Column { width, right }
}

/// The register's columns on A4 landscape (782 points between margins).
const REGISTER: [Column; 11] = [
    col(24.0, true),
    col(46.0, false),
    col(110.0, false),
    col(50.0, false),
    col(44.0, true),
    col(96.0, false),
    col(96.0, false),
    col(52.0, true),
    col(62.0, true),
    col(128.0, false),
    col(74.0, false),
];

/// An account's columns on A4 portrait (531 points between margins).
const ACCOUNT: [Column; 8] = [
    col(24.0, true),
    col(48.0, false),
    col(100.0, false),
    col(48.0, false),
    col(85.0, false),
    col(48.0, true),
    col(44.0, true),
    col(134.0, false),
];

/// Pages being filled: a header on each, a table's head repeated, page
/// numbers added at the end.
pub(crate) struct Layout<'a> {
    font: &'a Font,
    sheet: Sheet,
    header: Vec<(f32, String)>,
    columns: Option<(&'a [Column], &'a [&'a str])>,
    pages: Vec<Page>,
    y: f32,
}

impl<'a> Layout<'a> {
    pub(crate) fn new(font: &'a Font, sheet: Sheet, title: &str, drawn: &Drawn) -> Self {
        Self::under(font, sheet, title, drawn, words::REGISTER_LAW)
    }

    /// A document under `law` (the articles it follows, in its header).
    pub(crate) fn under(
        font: &'a Font,
        sheet: Sheet,
        title: &str,
        drawn: &Drawn,
        law: &str,
    ) -> Self {
        let width = sheet.width - 2.0 * MARGIN;
        let mut header = vec![(12.0, format!("{title} — {}", drawn.company))];
        for line in font.wrap(
            &words::drawn_from(
                &drawn.ledger,
                drawn.position,
                &drawn.head.to_hex(),
                drawn.date,
            ),
            SMALL,
            width,
        ) {
            header.push((SMALL, line));
        }
        for line in font.wrap(law, SMALL, width) {
            header.push((SMALL, line));
        }
        let mut layout = Self {
            font,
            sheet,
            header,
            columns: None,
            pages: Vec::new(),
            y: 0.0,
        };
        layout.new_page();
        layout
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = self.sheet.height - MARGIN;
        for (size, line) in self.header.clone() {
            self.y -= size + 3.0;
            let y = self.y;
            self.page().text(MARGIN, y, size, line);
        }
        self.y -= 8.0;
        if let Some((columns, titles)) = self.columns {
            self.row(columns, titles);
            let (x1, x2, y) = (MARGIN, self.sheet.width - MARGIN, self.y - 3.0);
            self.page().rule(x1, x2, y);
            self.y -= 4.0;
        }
    }

    /// Room for `height` more points, on a new page if need be.
    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN + 14.0 {
            self.new_page();
        }
    }

    pub(crate) fn paragraph(&mut self, size: f32, text: &str) {
        let width = self.sheet.width - 2.0 * MARGIN;
        for line in self.font.wrap(text, size, width) {
            self.room(size + 4.0);
            self.y -= size + 4.0;
            let y = self.y;
            self.page().text(MARGIN, y, size, line);
        }
    }

    pub(crate) fn gap(&mut self, height: f32) {
        self.y -= height;
    }

    /// Starts a table: its head now and on every later page.
    pub(crate) fn table(&mut self, columns: &'a [Column], titles: &'a [&'a str]) {
        self.columns = Some((columns, titles));
        self.room(3.0 * ROW);
        self.row(columns, titles);
        let (x1, x2, y) = (MARGIN, self.sheet.width - MARGIN, self.y - 3.0);
        self.page().rule(x1, x2, y);
        self.y -= 4.0;
    }

    /// A row of the table: each cell broken into as many lines as its
    /// column needs (a name is never cut short), the row as tall as its
    /// tallest cell.
    pub(crate) fn row<S: AsRef<str>>(&mut self, columns: &[Column], cells: &[S]) {
        let font = self.font;
        let wrapped: Vec<Vec<String>> = columns
            .iter()
            .zip(cells)
            .map(|(column, cell)| font.wrap(cell.as_ref(), TABLE, column.width - 4.0))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height = ROW * lines as f32;
        self.room(height);
        let top = self.y - ROW;
        self.y -= height;
        let mut x = MARGIN;
        let mut marks = Vec::with_capacity(cells.len());
        for (column, cell) in columns.iter().zip(wrapped) {
            for (i, text) in cell.into_iter().enumerate() {
                let left = if column.right {
                    x + column.width - 4.0 - font.width(&text, TABLE)
                } else {
                    x
                };
                marks.push((left, top - ROW * i as f32, text));
            }
            x += column.width;
        }
        for (left, y, text) in marks {
            self.page().text(left, y, TABLE, text);
        }
    }

    pub(crate) fn end_table(&mut self) {
        self.columns = None;
        let (x1, x2, y) = (MARGIN, self.sheet.width - MARGIN, self.y - 3.0);
        self.page().rule(x1, x2, y);
        self.y -= 6.0;
    }

    pub(crate) fn finish(mut self, title: &str) -> Result<Vec<u8>, DocumentError> {
        let n = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let text = words::page(i + 1, n);
            let x = self.sheet.width - MARGIN - self.font.width(&text, SMALL);
            page.text(x, MARGIN - 12.0, SMALL, text);
        }
        pdf::write(self.font, self.sheet, title, &self.pages)
    }
}

/// A holder as a document shows them: their name and id, or their id.
pub(crate) fn shown(people: &dyn People, holder: &HolderId) -> String {
    match people.person(holder) {
        Some(Person { name, .. }) => format!("{name} ({holder})"),
        None => words::pseudonym(holder.as_str()),
    }
}

fn party(people: &dyn People, holder: Option<&HolderId>) -> String {
    holder.map_or_else(|| words::THE_COMPANY.to_owned(), |h| shown(people, h))
}

fn money(amount: Option<Decimal>) -> String {
    amount.map(format::euros).unwrap_or_default()
}

fn event(entry: &RegisterEntry) -> String {
    format!(
        "{} · {}",
        entry.at.position,
        format::short_hash(&entry.at.hash.to_hex())
    )
}

/// The register of share movements as of `drawn`'s date: one line per
/// entry of `entries` (the register's, up to that date).
pub fn register_pdf(
    drawn: &Drawn,
    entries: &[RegisterEntry],
    people: &dyn People,
) -> Result<Vec<u8>, DocumentError> {
    let font = Font::load()?;
    let mut layout = Layout::new(&font, A4_LANDSCAPE, words::REGISTER_TITLE, drawn);
    layout.table(&REGISTER, &words::REGISTER_COLUMNS);
    for e in entries {
        let cells = [
            e.number.to_string(),
            words::numeric_date(e.date),
            words::nature(e.nature).to_owned(),
            e.class.to_string(),
            format::int(e.count),
            party(people, e.transferor.as_ref()),
            party(people, e.transferee.as_ref()),
            money(e.price_per_share.map(|p| p.amount())),
            money(e.total()),
            words::act(&e.act),
            event(e),
        ];
        layout.row(&REGISTER, &cells);
    }
    layout.end_table();
    if entries.is_empty() {
        layout.paragraph(TEXT, words::NO_MOVEMENT);
    }
    layout.finish(words::REGISTER_TITLE)
}

/// The register as CSV: `;`-separated, UTF-8, a header line then a line
/// per entry; amounts with a decimal comma, dates as ISO 8601, the ids and
/// the names side by side.
pub fn register_csv(entries: &[RegisterEntry], people: &dyn People) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 * (entries.len() + 1));
    crate::csv::row(&mut out, &words::REGISTER_CSV_COLUMNS, ';');
    let decimal = |d: Option<Decimal>| {
        d.map(|d| d.normalize().to_string().replace('.', ","))
            .unwrap_or_default()
    };
    for e in entries {
        let id = |h: Option<&HolderId>| h.map(ToString::to_string).unwrap_or_default();
        let (resolution, kind, adopted_on) = match &e.act {
            SupportingAct::Resolution(r) => (
                r.id.to_string(),
                r.decision_kind.to_string(),
                r.adopted_on.to_string(),
            ),
            _ => Default::default(),
        };
        let fields = [
            e.number.to_string(),
            e.date.to_string(),
            words::nature(e.nature).to_owned(),
            e.class.to_string(),
            e.count.to_string(),
            id(e.transferor.as_ref()),
            party(people, e.transferor.as_ref()),
            id(e.transferee.as_ref()),
            party(people, e.transferee.as_ref()),
            decimal(e.price_per_share.map(|p| p.amount())),
            decimal(e.total()),
            words::act(&e.act),
            resolution,
            kind,
            adopted_on,
            e.at.position.to_string(),
            e.at.hash.to_hex(),
        ];
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        crate::csv::row(&mut out, &fields, ';');
    }
    out
}

/// The holder's identity block: name, address, id.
fn identity(layout: &mut Layout<'_>, people: &dyn People, holder: &HolderId) {
    for line in name_and_address(holder, people.person(holder).as_ref()) {
        layout.paragraph(TEXT, &line);
    }
    layout.paragraph(SMALL, &format!("{} : {holder}", words::HOLDER_ID));
    layout.gap(6.0);
}

/// A holder's individual account as of `drawn`'s date: every movement
/// with the class's balance after it, then the balances.
pub fn account_pdf(
    drawn: &Drawn,
    account: &Account<'_>,
    people: &dyn People,
) -> Result<Vec<u8>, DocumentError> {
    let font = Font::load()?;
    let mut layout = Layout::new(&font, A4_PORTRAIT, words::ACCOUNT_TITLE, drawn);
    identity(&mut layout, people, &account.holder);
    layout.table(&ACCOUNT, &words::ACCOUNT_COLUMNS);
    for line in &account.lines {
        let e = line.entry;
        // The other side of the movement.
        let other = if e.transferor.as_ref() == Some(&account.holder) {
            e.transferee.as_ref()
        } else {
            e.transferor.as_ref()
        };
        let delta = if line.delta > 0 {
            format!("+{}", format::int(line.delta))
        } else {
            format::int(line.delta)
        };
        let cells = [
            e.number.to_string(),
            words::numeric_date(e.date),
            words::nature(e.nature).to_owned(),
            e.class.to_string(),
            party(people, other),
            delta,
            format::int(line.balance),
            words::act(&e.act),
        ];
        layout.row(&ACCOUNT, &cells);
    }
    layout.end_table();
    if account.lines.is_empty() {
        layout.paragraph(TEXT, words::NO_MOVEMENT);
    }
    layout.paragraph(TEXT, words::ACCOUNT_BALANCE);
    for (class, n) in &account.balances {
        let n = u64::try_from(*n).unwrap_or(0);
        layout.paragraph(TEXT, &words::shares_of_class(n, class.as_str()));
    }
    layout.finish(words::ACCOUNT_TITLE)
}

/// A certificate that `holder` held `holdings` at the end of `drawn`'s
/// date (attestation d'inscription en compte).
pub fn certificate_pdf(
    drawn: &Drawn,
    holder: &HolderId,
    holdings: &BTreeMap<ShareClassId, u64>,
    people: &dyn People,
) -> Result<Vec<u8>, DocumentError> {
    let font = Font::load()?;
    let mut layout = Layout::new(&font, A4_PORTRAIT, words::CERTIFICATE_TITLE, drawn);
    identity(&mut layout, people, holder);
    let name = match people.person(holder) {
        Some(p) => p.name,
        None => words::pseudonym(holder.as_str()),
    };
    layout.paragraph(
        TEXT,
        &words::certifies(&drawn.company, &name, drawn.date, !holdings.is_empty()),
    );
    for (class, n) in holdings {
        layout.paragraph(
            TEXT,
            &format!("– {}", words::shares_of_class(*n, class.as_str())),
        );
    }
    layout.finish(words::CERTIFICATE_TITLE)
}
