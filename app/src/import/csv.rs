//! The operator's CSV file of monthly production and revenue, read into
//! the financial year's commands: an input format, like the command file
//! of the importer, whose errors are said in French (the pages show them,
//! line by line, to the operator who sent the file). [`check`] reads every
//! line, collecting every error with its line and column, and decides every
//! line that reads against the year's aggregate (each after the good lines
//! before it), so that one upload lists every bad line; the caller writes
//! the commands only when there is none.
//!
//! The first line names the columns (any order): `type` (`production` or
//! `revenue`), `month` (`YYYY-MM`), `report` (optional: made up when
//! empty), `corrects` (optional), and for production `turbine`, `mwh`,
//! `availability`, for revenue `kind`, `volume_mwh`, `price_per_mwh`.
//! Separators: `,` or `;` (then a decimal comma is read too, as French
//! spreadsheets write it). Blank lines and lines starting with `#` are
//! skipped. A cell holding a control character or a bidirectional
//! formatting character is refused, and so is a figure beyond the input
//! bounds (`windledger_domain::input`), each at its column: the file is
//! all or nothing, so nothing is refused only once some lines are written.

use std::collections::{BTreeSet, HashMap};

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use rust_decimal::Decimal;
use windledger_domain::finance::{
    FinancialYear, FinancialYearCommand, FinancialYearError, FinancialYearServices, RevenueKind,
    YearMonth,
};
use windledger_domain::types::{ParseError, ReportId, TurbineId};

/// The columns a file may have.
pub const COLUMNS: [&str; 10] = [
    "type",
    "report",
    "month",
    "turbine",
    "mwh",
    "availability",
    "kind",
    "volume_mwh",
    "price_per_mwh",
    "corrects",
];

/// Most data lines in one file.
pub const MAX_LINES: usize = 5_000;

/// The revenue kinds with their names in commands and CSV files.
pub const REVENUE_KINDS: [(RevenueKind, &str); 4] = [
    (RevenueKind::MarketSales, "market_sales"),
    (
        RevenueKind::ComplementDeRemuneration,
        "complement_de_remuneration",
    ),
    (RevenueKind::FeedInTariff, "feed_in_tariff"),
    (RevenueKind::Other, "other"),
];

/// Reads a decimal as people type it: `1234.5`, `1 234,5`.
pub fn parse_decimal(value: &str) -> Option<Decimal> {
    let cleaned: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    if cleaned.is_empty() || cleaned.starts_with('+') {
        return None;
    }
    cleaned.parse::<Decimal>().ok()
}

/// A value beyond the input bounds (`windledger_domain::input`), in
/// French: what a line's error says (the domain's sentence, with the field,
/// the value and the bound, is its detail).
pub fn input_message(e: &ParseError) -> String {
    match e {
        ParseError::ControlCharacter { character, .. } => format!(
            "Ce texte contient un caractère de contrôle ou de mise en forme bidirectionnelle \
             ({character}), qui masque ou réordonne ce qu'il dit : écrivez du texte simple \
             (les retours à la ligne sont permis)."
        ),
        ParseError::OutOfBounds { what, .. } if what.ends_with("price_per_mwh") => {
            "Un prix est d'au plus 100 000 € par MWh, en valeur absolue.".to_owned()
        }
        ParseError::OutOfBounds { what, .. } if what.ends_with("mwh") => {
            "Une déclaration compte au plus 10 000 000 MWh.".to_owned()
        }
        _ => "Cette valeur dépasse ce qu'un parc éolien peut atteindre : vérifiez-la.".to_owned(),
    }
}

/// One line read into a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub command: FinancialYearCommand,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
    /// The rule's own words, when the domain refused the line.
    pub detail: Option<String>,
}

impl LineError {
    fn new(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            line,
            column: column.map(str::to_owned),
            message: message.into(),
            detail: None,
        }
    }
}

/// A report id not taken yet: `base`, else `base-2`, `base-3`...
pub fn fresh_id(base: &str, taken: &BTreeSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or_else(|| base.to_owned())
}

/// The name of a revenue kind in files and commands.
pub fn revenue_kind(name: &str) -> Option<RevenueKind> {
    REVENUE_KINDS
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(k, _)| *k)
}

pub fn revenue_kind_name(kind: RevenueKind) -> &'static str {
    REVENUE_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("other", |(_, n)| n)
}

/// Reads a file. `taken` holds the report ids the year already has (ids
/// made up for lines without one avoid them and each other).
pub fn parse(text: &str, taken: &BTreeSet<String>) -> (Vec<Row>, Vec<LineError>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if first.is_empty() {
        errors.push(LineError::new(
            1,
            None,
            "Le fichier est vide : la première ligne doit nommer les colonnes.",
        ));
        return (rows, errors);
    }
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    // The reader counts records, not lines: a record's line is found from
    // its byte offset (blank and comment lines count as lines).
    let starts: Vec<u64> = std::iter::once(0)
        .chain(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i as u64 + 1),
        )
        .collect();
    let physical: Vec<&str> = text.split('\n').collect();
    let line_of = |byte: u64| {
        // The reader's offset is where it started looking: skip the blank
        // and comment lines it passed over.
        let mut line = starts.partition_point(|s| *s <= byte);
        while physical
            .get(line - 1)
            .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            && line < physical.len()
        {
            line += 1;
        }
        line as u64
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    // The header.
    let header = loop {
        match records.next() {
            None => {
                errors.push(LineError::new(
                    1,
                    None,
                    "Le fichier n'a pas de ligne d'en-tête.",
                ));
                return (rows, errors);
            }
            Some(Err(e)) => {
                let line = e.position().map_or(1, |p| line_of(p.byte()));
                errors.push(LineError::new(
                    line,
                    None,
                    "Cette ligne n'a pas pu être lue.",
                ));
                return (rows, errors);
            }
            Some(Ok(r)) if r.iter().all(str::is_empty) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let header_line = header.position().map_or(1, |p| line_of(p.byte()));
    let names: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !COLUMNS.contains(n))
        .collect();
    if !unknown.is_empty() {
        errors.push(LineError::new(
            header_line,
            None,
            format!(
                "Colonnes inconnues : {}. Les colonnes possibles sont : {}.",
                unknown.join(", "),
                COLUMNS.join(", ")
            ),
        ));
    }
    for required in ["type", "month"] {
        if !names.iter().any(|n| n == required) {
            errors.push(LineError::new(
                header_line,
                Some(required),
                format!("La colonne « {required} » manque à l'en-tête."),
            ));
        }
    }
    let mut seen_columns = BTreeSet::new();
    for n in &names {
        if !seen_columns.insert(n.as_str()) {
            errors.push(LineError::new(
                header_line,
                Some(n),
                format!("La colonne « {n} » apparaît deux fois."),
            ));
        }
    }
    if !errors.is_empty() {
        return (rows, errors);
    }
    let column: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut taken = taken.clone();
    let mut lines = 0usize;
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_of(p.byte()));
                errors.push(LineError::new(
                    line,
                    None,
                    "Cette ligne n'a pas pu être lue (caractères invalides ?).",
                ));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        lines += 1;
        if lines > MAX_LINES {
            errors.push(LineError::new(
                line,
                None,
                format!("Un fichier compte au plus {MAX_LINES} lignes : découpez-le."),
            ));
            break;
        }
        if record.len() > names.len() {
            errors.push(LineError::new(
                line,
                None,
                format!(
                    "Cette ligne a {} valeurs pour {} colonnes.",
                    record.len(),
                    names.len()
                ),
            ));
            continue;
        }
        let values: HashMap<&str, &str> = column
            .iter()
            .map(|(name, i)| (*name, record.get(*i).unwrap_or("")))
            .collect();
        let controls = control_characters(line, &values);
        if !controls.is_empty() {
            errors.extend(controls);
            continue;
        }
        match read_line(line, &values, &mut taken) {
            Ok(row) => rows.push(row),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(LineError::new(
            header_line,
            None,
            "Le fichier n'a aucune ligne de données.",
        ));
    }
    (rows, errors)
}

/// Checks a whole file against a financial year: every line read
/// ([`parse`]), then every line that reads decided in order on `year` (a
/// copy of the year as the ledger holds it; nothing is written). A refused
/// line leaves the year as it was and an accepted one applies its event, so
/// each line is judged against the state the good lines before it produce
/// (an unknown turbine, a month reported twice, a correction of a report
/// that does not exist). `say` words a refusal for the one who sent the
/// file. The rows, when no line is wrong; else every error, by line.
pub async fn check(
    text: &str,
    taken: &BTreeSet<String>,
    mut year: FinancialYear,
    services: &FinancialYearServices,
    say: impl Fn(&FinancialYearError) -> String,
) -> Result<Vec<Row>, Vec<LineError>> {
    let (rows, mut errors) = parse(text, taken);
    for row in &rows {
        let sink = EventSink::default();
        if let Err(e) = year.handle(row.command.clone(), services, &sink).await {
            errors.push(LineError {
                detail: Some(e.to_string()),
                ..LineError::new(row.line, None, say(&e))
            });
        }
    }
    if errors.is_empty() {
        return Ok(rows);
    }
    // Stable: a line's errors keep their order.
    errors.sort_by_key(|e| e.line);
    Err(errors)
}

/// The cells holding a control character or a bidirectional formatting
/// character (a NUL, a right-to-left override...): refused, each named.
fn control_characters(line: u64, values: &HashMap<&str, &str>) -> Vec<LineError> {
    let mut found: Vec<LineError> = values
        .iter()
        .filter_map(|(column, value)| {
            let e = windledger_domain::input::line(column, value).err()?;
            Some(LineError {
                line,
                column: Some((*column).to_owned()),
                message: input_message(&e),
                detail: Some(e.to_string()),
            })
        })
        .collect();
    found.sort_by(|a, b| a.column.cmp(&b.column));
    found
}

struct Errors {
    line: u64,
    list: Vec<LineError>,
}

impl Errors {
    fn add(&mut self, column: &str, message: String) {
        self.list
            .push(LineError::new(self.line, Some(column), message));
    }

    fn id(&mut self, column: &str, value: &str) -> Option<ReportId> {
        if value.is_empty() {
            return None;
        }
        match ReportId::new(value) {
            Ok(id) => Some(id),
            Err(_) => {
                self.add(
                    column,
                    format!(
                        "« {value} » n'est pas un identifiant valide (lettres, chiffres, - _ . ; 64 caractères au plus)."
                    ),
                );
                None
            }
        }
    }

    fn number(&mut self, column: &str, value: &str, what: &str) -> Option<Decimal> {
        match value {
            "" => {
                self.add(column, format!("{what} manque."));
                None
            }
            v => parse_decimal(v).or_else(|| {
                self.add(column, format!("« {v} » n'est pas un nombre."));
                None
            }),
        }
    }

    /// The given id, or one made up from `base`.
    fn report(
        &mut self,
        given: Option<ReportId>,
        base: String,
        taken: &BTreeSet<String>,
    ) -> Option<ReportId> {
        if given.is_some() {
            return given;
        }
        ReportId::new(fresh_id(&base, taken))
            .map_err(|_| {
                self.add(
                    "report",
                    "Donnez un identifiant de rapport : celui qui serait formé est trop long."
                        .into(),
                )
            })
            .ok()
    }
}

fn read_line(
    line: u64,
    values: &HashMap<&str, &str>,
    taken: &mut BTreeSet<String>,
) -> Result<Row, Vec<LineError>> {
    let get = |name: &str| -> &str { values.get(name).copied().unwrap_or("") };
    let mut e = Errors {
        line,
        list: Vec::new(),
    };
    let month = match get("month") {
        "" => {
            e.add("month", "Le mois manque (format AAAA-MM).".into());
            None
        }
        m => m
            .parse::<YearMonth>()
            .map_err(|_| {
                e.add(
                    "month",
                    format!("« {m} » n'est pas un mois au format AAAA-MM (par exemple 2026-01)."),
                )
            })
            .ok(),
    };
    let report = e.id("report", get("report"));
    let corrects = e.id("corrects", get("corrects"));
    let kind = get("type").to_ascii_lowercase();
    let command = match kind.as_str() {
        "production" => {
            let turbine = match get("turbine") {
                "" => {
                    e.add("turbine", "L'éolienne manque.".into());
                    None
                }
                t => TurbineId::new(t)
                    .map_err(|_| {
                        e.add(
                            "turbine",
                            format!("« {t} » n'est pas un identifiant d'éolienne."),
                        )
                    })
                    .ok(),
            };
            let mwh = e.number("mwh", get("mwh"), "La production (MWh)");
            let availability =
                e.number("availability", get("availability"), "La disponibilité (%)");
            match (month, turbine, mwh, availability) {
                (Some(month), Some(turbine), Some(mwh), Some(availability)) => e
                    .report(report, format!("p-{month}-{turbine}"), taken)
                    .map(|report| FinancialYearCommand::ReportProduction {
                        report,
                        turbine,
                        month,
                        mwh,
                        availability,
                        corrects,
                    }),
                _ => None,
            }
        }
        "revenue" | "recette" => {
            let revenue = match get("kind") {
                "" => {
                    e.add(
                        "kind",
                        format!("La nature de la recette manque ({}).", revenue_kinds_list()),
                    );
                    None
                }
                k => revenue_kind(k).or_else(|| {
                    e.add(
                        "kind",
                        format!(
                            "« {k} » n'est pas une nature de recette ({}).",
                            revenue_kinds_list()
                        ),
                    );
                    None
                }),
            };
            let volume = e.number("volume_mwh", get("volume_mwh"), "Le volume (MWh)");
            let price = e.number("price_per_mwh", get("price_per_mwh"), "Le prix (€/MWh)");
            match (month, revenue, volume, price) {
                (Some(month), Some(revenue), Some(volume_mwh), Some(price_per_mwh)) => e
                    .report(
                        report,
                        format!("r-{month}-{}", revenue_kind_name(revenue)),
                        taken,
                    )
                    .map(|report| FinancialYearCommand::RecordRevenue {
                        report,
                        month,
                        kind: revenue,
                        volume_mwh,
                        price_per_mwh,
                        corrects,
                    }),
                _ => None,
            }
        }
        "" => {
            e.add(
                "type",
                "Le type de ligne manque (production ou revenue).".into(),
            );
            None
        }
        other => {
            e.add(
                "type",
                format!("« {other} » n'est pas un type de ligne : production ou revenue."),
            );
            None
        }
    };
    // The input bounds, at the column of the field that breaks them (the
    // columns are named as the command's fields).
    if let Some(Err(bound)) = command.as_ref().map(FinancialYearCommand::check_input) {
        let column = match &bound {
            ParseError::OutOfBounds { what, .. } if COLUMNS.contains(&what.as_str()) => {
                Some(what.as_str())
            }
            _ => None,
        };
        e.list.push(LineError {
            detail: Some(bound.to_string()),
            ..LineError::new(line, column, input_message(&bound))
        });
    }
    match command {
        Some(command) if e.list.is_empty() => {
            if let Some(id) = report_id(&command) {
                taken.insert(id);
            }
            Ok(Row { line, command })
        }
        _ => Err(e.list),
    }
}

fn revenue_kinds_list() -> String {
    REVENUE_KINDS
        .iter()
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The id of a report command.
pub fn report_id(command: &FinancialYearCommand) -> Option<String> {
    match command {
        FinancialYearCommand::ReportProduction { report, .. }
        | FinancialYearCommand::RecordRevenue { report, .. } => Some(report.to_string()),
        _ => None,
    }
}

/// The decimal a line gave, for tests.
#[cfg(test)]
fn mwh_of(row: &Row) -> Option<Decimal> {
    match &row.command {
        FinancialYearCommand::ReportProduction { mwh, .. } => Some(*mwh),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_as_people_type_them() {
        let d = |s: &str| Decimal::from_str_exact(s).unwrap();
        assert_eq!(parse_decimal("1234.5"), Some(d("1234.5")));
        assert_eq!(parse_decimal(" 1 234,5 "), Some(d("1234.5")));
        assert_eq!(parse_decimal("1\u{202f}234,50"), Some(d("1234.50")));
        assert_eq!(parse_decimal("-3,2"), Some(d("-3.2")));
        assert_eq!(parse_decimal("+3"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("1,2,3"), None);
        assert_eq!(parse_decimal("douze"), None);
    }

    /// The error's detail says `what`.
    fn assert_detail(error: &LineError, what: &str) {
        assert!(
            error.detail.as_deref().is_some_and(|d| d.contains(what)),
            "{error:?} does not say {what:?}"
        );
    }

    #[test]
    fn a_good_file_reads_into_commands_with_made_up_ids() {
        let text = "type,month,turbine,mwh,availability,kind,volume_mwh,price_per_mwh\n\
                    production,2026-01,T01,512.3,97.5,,,\n\
                    \n\
                    # a comment\n\
                    production,2026-01,T02,498,96,,,\n\
                    revenue,2026-01,,,,market_sales,1010.3,61.20\n";
        let taken = BTreeSet::from(["p-2026-01-T01".to_owned()]);
        let (rows, errors) = parse(text, &taken);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 2);
        assert_eq!(
            report_id(&rows[0].command).as_deref(),
            Some("p-2026-01-T01-2")
        );
        assert_eq!(
            report_id(&rows[1].command).as_deref(),
            Some("p-2026-01-T02")
        );
        assert_eq!(rows[1].line, 5);
        assert_eq!(
            report_id(&rows[2].command).as_deref(),
            Some("r-2026-01-market_sales")
        );
    }

    #[test]
    fn french_spreadsheets_use_semicolons_and_decimal_commas() {
        let text = "type;month;turbine;mwh;availability\nproduction;2026-02;T03;1 234,5;99,1\n";
        let (rows, errors) = parse(text, &BTreeSet::new());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(mwh_of(&rows[0]), Some(Decimal::new(12345, 1)));
    }

    /// Where each error stands: its line and its column.
    fn places(errors: &[LineError]) -> Vec<(u64, Option<&str>)> {
        errors
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect()
    }

    #[test]
    fn every_bad_line_is_reported_with_its_column() {
        let text = "type,month,turbine,mwh,availability\n\
                    production,2026-01,T01,abc,97\n\
                    production,2026-13,T02,12,97\n\
                    wind,2026-01,T02,12,97\n\
                    production,2026-01,,12,\n";
        let (rows, errors) = parse(text, &BTreeSet::new());
        assert!(rows.is_empty());
        let found = places(&errors);
        assert_eq!(
            found,
            vec![
                (2, Some("mwh")),
                (3, Some("month")),
                (4, Some("type")),
                (5, Some("turbine")),
                (5, Some("availability")),
            ]
        );
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_refused_at_their_cell() {
        let text = "type,month,turbine,mwh,availability,report\n\
                    production,2026-01,T01,512,97,p-1\u{0}\n\
                    production,2026-01,T02,498,96,\u{202e}p-2\n\
                    production,2026-01,T03,498,96,p-3\n";
        let (rows, errors) = parse(text, &BTreeSet::new());
        assert_eq!(rows.len(), 1, "{errors:?}");
        let found = places(&errors);
        assert_eq!(found, vec![(2, Some("report")), (3, Some("report"))]);
        assert!(errors[0].message.contains("caractère de contrôle"));
        assert_detail(&errors[1], "U+202E");
    }

    #[test]
    fn a_figure_beyond_the_bounds_is_refused_at_its_column() {
        let text = "type,month,kind,volume_mwh,price_per_mwh\n\
                    revenue,2026-01,market_sales,70000000000000000000000000000,1\n\
                    revenue,2026-01,market_sales,1000,100001\n\
                    revenue,2026-01,market_sales,10000000,-100000\n";
        let (rows, errors) = parse(text, &BTreeSet::new());
        assert_eq!(rows.len(), 1, "{errors:?}");
        let found = places(&errors);
        assert_eq!(
            found,
            vec![(2, Some("volume_mwh")), (3, Some("price_per_mwh"))]
        );
        assert!(errors[0].message.contains("10 000 000 MWh"));
    }

    /// Year 2025 of the small farm (T01, T02), with T01's October
    /// reported as `p-2025-10-T01`, decided on 5 December 2025.
    fn year_2025() -> (FinancialYear, FinancialYearServices, BTreeSet<String>) {
        use windledger_domain::cap_table::KnownCapTables;
        use windledger_domain::finance::{FinancialYearEvent, KnownClosings};
        use windledger_domain::resolution::KnownResolutions;
        use windledger_fixtures::farm::{at, day};
        let mut year = FinancialYear::default();
        year.apply(FinancialYearEvent::YearOpened {
            year: 2025,
            starts_on: day(2025, 1, 1),
            ends_on: day(2025, 12, 31),
            turbines: windledger_fixtures::small_farm::incorporation().turbines,
            opening_balances: None,
        });
        let october = "p-2025-10-T01";
        year.apply(FinancialYearEvent::ProductionReported {
            report: ReportId::new(october).expect("a report id"),
            turbine: TurbineId::new("T01").expect("a turbine id"),
            month: YearMonth::new(2025, 10).expect("a month"),
            mwh: Decimal::new(600, 0),
            availability: Decimal::new(97, 0),
            corrects: None,
        });
        // The company, for its turbines: the small farm as incorporated.
        let formed = windledger_fixtures::small_farm::formed();
        let company = windledger_domain::company::Company::as_of(
            [windledger_domain::company::CompanyEvent::Incorporated {
                company: windledger_fixtures::small_farm::incorporation(),
                charter: windledger_fixtures::small_farm::charter().build(),
            }],
            formed,
        );
        let services = FinancialYearServices::new(
            at(2025, 12, 5, 9),
            KnownResolutions::default(),
            KnownCapTables::new(company.cap_table(formed)),
            KnownClosings::default(),
        );
        (year, services, BTreeSet::from([october.to_owned()]))
    }

    /// Every error of a file checked against [`year_2025`]: line, column,
    /// and the rule that refused (or the French message of a line that
    /// does not read).
    fn errors_of(text: &str) -> Vec<(u64, Option<String>, String)> {
        use windledger_domain::Rule;
        let (year, services, taken) = year_2025();
        let checked =
            windledger_fixtures::farm::block_on(check(text, &taken, year, &services, |e| {
                e.rule().to_owned()
            }));
        checked
            .expect_err("the file has bad lines")
            .into_iter()
            .map(|e| (e.line, e.column, e.message))
            .collect()
    }

    #[test]
    fn two_bad_lines_are_both_reported_whether_they_do_not_read_or_the_year_refuses_them() {
        // A figure that does not read and a turbine the farm does not have:
        // the second used to wait until the first was fixed.
        let text = "type,month,turbine,mwh,availability\n\
                    production,2025-11,T01,abc,97\n\
                    production,2025-11,T02,700,97\n\
                    production,2025-11,T99,700,97\n";
        let found = errors_of(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0, found[0].1.as_deref()), (2, Some("mwh")));
        assert_eq!(
            (found[1].0, found[1].1.as_deref(), found[1].2.as_str()),
            (4, None, "UnknownTurbine")
        );
    }

    #[test]
    fn three_lines_the_year_refuses_are_all_reported_each_after_the_good_lines_before_it() {
        let text = "type,month,turbine,mwh,availability,report,corrects\n\
                    production,2025-11,T99,700,97,,\n\
                    production,2025-11,T01,700,97,,\n\
                    production,2025-11,T01,701,97,p-again,\n\
                    production,2025-10,T01,610,97,,p-2025-10-T01\n\
                    production,2025-09,T02,500,97,,p-never\n";
        let found: Vec<(u64, String)> = errors_of(text)
            .into_iter()
            .map(|(line, _, rule)| (line, rule))
            .collect();
        assert_eq!(
            found,
            vec![
                (2, "UnknownTurbine".to_owned()),
                (4, "ProductionAlreadyReported".to_owned()),
                (6, "UnknownReport".to_owned()),
            ]
        );
        // With one line that does not read as well: four errors, in line
        // order.
        let text = format!("{text}production,2025-12,T02,,97,,\n");
        let found = errors_of(&text);
        assert_eq!(
            found.iter().map(|e| e.0).collect::<Vec<_>>(),
            vec![2, 4, 6, 7]
        );
        assert_eq!(found[3].1.as_deref(), Some("mwh"));
    }

    #[test]
    fn a_file_without_a_bad_line_gives_its_rows_and_a_month_not_over_is_a_bad_line() {
        use windledger_domain::Rule;
        let (year, services, taken) = year_2025();
        let good = "type,month,turbine,mwh,availability\n\
                    production,2025-11,T01,700,97\n\
                    production,2025-11,T02,690,96\n";
        let rows = windledger_fixtures::farm::block_on(check(
            good,
            &taken,
            year.clone(),
            &services,
            |e| e.rule().to_owned(),
        ))
        .expect("every line holds");
        assert_eq!(rows.len(), 2);
        let early = "type,month,turbine,mwh,availability\n\
                     production,2025-12,T01,700,97\n";
        let errors =
            windledger_fixtures::farm::block_on(check(early, &taken, year, &services, |e| {
                e.rule().to_owned()
            }))
            .expect_err("December is not over on the 5th");
        assert_eq!(errors[0].message, "MonthNotOver");
        assert_detail(&errors[0], "from 2026-01-01");
    }

    #[test]
    fn a_bad_header_stops_the_reading() {
        let (rows, errors) = parse("type,mois\nproduction,2026-01\n", &BTreeSet::new());
        assert!(rows.is_empty());
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].message.contains("mois"));
        let (_, errors) = parse("", &BTreeSet::new());
        assert_eq!(errors.len(), 1);
        let (_, errors) = parse("type,month\n", &BTreeSet::new());
        assert!(errors[0].message.contains("aucune ligne"));
    }
}
