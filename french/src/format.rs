//! French formatting: numbers with a narrow no-break space between
//! thousands and a decimal comma, euros, per cents, dates and times in
//! Paris time, and the labels of the domain's enums.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use windledger_domain::company::{HolderKind, PlaceNames};
use windledger_domain::finance::{RevenueKind, YearMonth};
use windledger_domain::meeting::{Choice, MeetingKind};
use windledger_domain::types::CommuneCode;
use windledger_projections::cap_table::MovementKind;
use windledger_projections::local_returns::{Leaving, LocalBeneficiary, ReturnKind};
use windledger_projections::register::MeetingRecord;

/// Between groups of thousands (U+202F, as the Imprimerie nationale sets
/// them).
const THOUSANDS: char = '\u{202f}';
/// Before a unit (U+00A0).
pub const NBSP: char = '\u{a0}';

/// Digits grouped by thousands: `1 234 567`.
fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(THOUSANDS);
        }
        out.push(c);
    }
    out
}

/// An integer: `12 345`.
pub fn int(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    if n < 0 {
        format!("−{}", group(&digits))
    } else {
        group(&digits)
    }
}

/// A decimal rounded (half away from zero) to `places`: `1 234,50`.
pub fn decimal(d: Decimal, places: u32) -> String {
    let rounded = d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    // Written without a precision and padded here: rust_decimal's `{:.N}`
    // panics for the largest decimals (its buffer is too short for them).
    let text = rounded.abs().to_string();
    let (units, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let fraction = format!("{fraction:0<width$}", width = places as usize);
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "−"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{}", group(units))
    } else {
        format!("{sign}{},{fraction}", group(units))
    }
}

/// Euros to the cent: `1 234,50 €`.
pub fn euros(d: impl Into<Decimal>) -> String {
    format!("{}{NBSP}€", decimal(d.into(), 2))
}

/// A per cent given as a number of per cent: `25,00 %`.
pub fn percent(d: Decimal, places: u32) -> String {
    format!("{}{NBSP}%", decimal(d, places))
}

/// Megawatt-hours, to the kWh or less: `1 234,5 MWh`.
pub fn mwh(d: Decimal, places: u32) -> String {
    format!("{}{NBSP}MWh", decimal(d, places))
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const SHORT_MONTHS: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

fn month_name(month: u32) -> &'static str {
    MONTHS
        .get(month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("?")
}

/// `1er mai 2013`, `22 juin 2020`.
pub fn date(d: NaiveDate) -> String {
    let day = if d.day() == 1 {
        "1er".to_owned()
    } else {
        d.day().to_string()
    };
    format!("{day} {} {}", month_name(d.month()), d.year())
}

/// `janvier 2025`.
pub fn month(m: YearMonth) -> String {
    format!("{} {}", month_name(m.month()), m.year())
}

/// `janv.`
pub fn short_month(m: YearMonth) -> &'static str {
    SHORT_MONTHS
        .get(m.month().saturating_sub(1) as usize)
        .copied()
        .unwrap_or("?")
}

pub use windledger_domain::paris::{from_paris, paris_offset, to_paris};

/// `22 juin 2020 à 20 h 00` (Paris time).
pub fn datetime(at: DateTime<Utc>) -> String {
    let local = to_paris(at);
    format!(
        "{} à {} h {:02}",
        date(local.date()),
        local.hour(),
        local.minute()
    )
}

/// Reads an `<input type="datetime-local">` value (Paris time).
pub fn parse_datetime_input(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .map(from_paris)
}

pub fn meeting_kind(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::OrdinaryGeneralMeeting => "Assemblée générale ordinaire",
        MeetingKind::ExtraordinaryGeneralMeeting => "Assemblée générale extraordinaire",
        MeetingKind::Board => "Conseil d'administration",
        MeetingKind::StrategicCommittee => "Comité stratégique",
    }
}

/// A decision kind's id in words, for the usual ids of a charter.
pub fn decision_kind(id: &str) -> String {
    match id {
        "ordinary" => "ordinaire".to_owned(),
        "extraordinary" => "extraordinaire".to_owned(),
        "reserved" => "réservée".to_owned(),
        "unanimous" => "à l'unanimité".to_owned(),
        other => other.to_owned(),
    }
}

pub fn holder_kind(kind: HolderKind) -> &'static str {
    match kind {
        HolderKind::Individual => "Personne physique",
        HolderKind::Association => "Association",
        HolderKind::InvestmentClub => "Club d'investisseurs",
        HolderKind::LocalAuthority => "Collectivité territoriale",
        HolderKind::Commune => "Commune",
        HolderKind::Epci => "Intercommunalité (EPCI)",
        HolderKind::Sem => "Société d'économie mixte",
        HolderKind::Company => "Société",
        HolderKind::Cooperative => "Coopérative",
        HolderKind::Fund => "Fonds d'investissement",
    }
}

pub const HOLDER_KINDS: [(HolderKind, &str); 10] = [
    (HolderKind::Individual, "individual"),
    (HolderKind::Association, "association"),
    (HolderKind::InvestmentClub, "investment_club"),
    (HolderKind::LocalAuthority, "local_authority"),
    (HolderKind::Commune, "commune"),
    (HolderKind::Epci, "epci"),
    (HolderKind::Sem, "sem"),
    (HolderKind::Company, "company"),
    (HolderKind::Cooperative, "cooperative"),
    (HolderKind::Fund, "fund"),
];

pub fn choice(c: Choice) -> &'static str {
    match c {
        Choice::For => "Pour",
        Choice::Against => "Contre",
        Choice::Abstain => "Abstention",
    }
}

pub fn revenue_kind(kind: RevenueKind) -> &'static str {
    match kind {
        RevenueKind::MarketSales => "Ventes sur le marché",
        RevenueKind::ComplementDeRemuneration => "Complément de rémunération",
        RevenueKind::FeedInTariff => "Obligation d'achat",
        RevenueKind::Other => "Autre recette",
    }
}

/// A share movement as the holder reads it in their history.
pub fn movement(kind: &MovementKind) -> String {
    match kind {
        MovementKind::Issued => "Souscription d'actions nouvelles".to_owned(),
        MovementKind::TransferredIn { from } => format!("Cession reçue de {from}"),
        MovementKind::TransferredOut { to } => format!("Cession à {to}"),
        MovementKind::Repurchased => "Rachat par la société".to_owned(),
        MovementKind::Cancelled => "Annulation".to_owned(),
    }
}

pub fn return_kind(kind: ReturnKind) -> &'static str {
    match kind {
        ReturnKind::Ifer => "IFER",
        ReturnKind::Cfe => "CFE",
        ReturnKind::PropertyTax => "Taxe foncière",
        ReturnKind::LandRent => "Loyers",
        ReturnKind::CommunityFund => "Fonds de territoire",
        ReturnKind::OtherPayments => "Autres paiements",
        ReturnKind::Dividends => "Dividendes",
        ReturnKind::CurrentAccountInterest => "Intérêts de comptes courants",
    }
}

/// A local beneficiary as the public sees it: landowners are not named
/// (their ids are pseudonyms of people), only counted by commune.
/// A beneficiary of local returns, its place named as `places` last
/// recorded it ("Burdignes"), or by its code when no name is recorded
/// ("Commune 42026").
pub fn local_beneficiary(b: &LocalBeneficiary, places: &PlaceNames) -> String {
    match b {
        LocalBeneficiary::Commune { commune: c } => commune(c, places),
        LocalBeneficiary::Epci { siren } => match places.epci(siren) {
            Some(name) => name.to_owned(),
            None => format!("Intercommunalité (SIREN {siren})"),
        },
        LocalBeneficiary::Departement { code } => match places.departement(code) {
            Some(name) => name.to_owned(),
            None => format!("Département {code}"),
        },
        LocalBeneficiary::Landowner { commune, .. } => {
            let place = places
                .commune(commune)
                .map_or(commune.to_string(), str::to_owned);
            format!("Propriétaires fonciers ({place})")
        }
        LocalBeneficiary::CommunityFund => "Fonds de territoire".to_owned(),
        LocalBeneficiary::LocalHolders => "Associés du territoire".to_owned(),
        LocalBeneficiary::PublicHolders => "Collectivités et SEM associées".to_owned(),
    }
}

/// A commune by its recorded name ("Burdignes"), or "Commune 42026" when
/// none is recorded.
pub fn commune(code: &CommuneCode, places: &PlaceNames) -> String {
    match places.commune(code) {
        Some(name) => name.to_owned(),
        None => format!("Commune {code}"),
    }
}

pub fn leaving(l: &Leaving) -> &'static str {
    match l {
        Leaving::NonLocalHolders => "Associés hors du territoire",
        Leaving::NonLocalCompanies => "Sociétés hors du territoire (dont le partenaire industriel)",
        Leaving::NonLocalFunds => "Fonds d'investissement hors du territoire",
        Leaving::NonLocalLandowners => "Propriétaires fonciers hors du territoire",
    }
}

/// A short hash for tables: its first 12 hex digits.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The plural's "s" for `n` things: French puts 0 and 1 in the singular.
pub fn plural(n: usize) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// "en tant que secrétariat", "en tant qu'associé": French elides before a vowel.
pub fn in_the_role_of(role: &str) -> String {
    // "habitant" takes the elision too (its h is mute).
    let que = if role.starts_with(['a', 'e', 'é', 'i', 'o', 'u', 'h']) {
        "qu'"
    } else {
        "que "
    };
    format!("en tant {que}{role}")
}

/// Where a meeting stands, at `now`.
pub fn meeting_status(m: &MeetingRecord, now: DateTime<Utc>) -> &'static str {
    if m.closed.is_some() {
        "clôturée"
    } else if m.roll.is_none() {
        "convoquée, vote pas encore ouvert"
    } else if now < m.convocation.opens_at {
        "liste d'émargement arrêtée, vote bientôt ouvert"
    } else if now < m.convocation.closes_at {
        "vote ouvert"
    } else {
        "vote terminé, clôture à venir"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn a_place_is_called_by_its_recorded_name_or_else_by_its_code() {
        let code = CommuneCode::new("42026").expect("a commune code");
        let siren = windledger_domain::types::Siren::new("244200770").expect("a SIREN");
        let commune = LocalBeneficiary::Commune {
            commune: code.clone(),
        };
        let epci = LocalBeneficiary::Epci {
            siren: siren.clone(),
        };
        let departement = LocalBeneficiary::Departement { code: "42".into() };
        let unnamed = PlaceNames::default();
        assert_eq!(local_beneficiary(&commune, &unnamed), "Commune 42026");
        assert_eq!(
            local_beneficiary(&epci, &unnamed),
            "Intercommunalité (SIREN 244200770)"
        );
        assert_eq!(local_beneficiary(&departement, &unnamed), "Département 42");
        let mut named = PlaceNames::default();
        named.communes.insert(code, "Burdignes".into());
        named
            .epcis
            .insert(siren, "Communauté de communes des Monts du Pilat".into());
        named
            .departements
            .insert("42".into(), "Département de la Loire".into());
        assert_eq!(local_beneficiary(&commune, &named), "Burdignes");
        assert_eq!(
            local_beneficiary(&epci, &named),
            "Communauté de communes des Monts du Pilat"
        );
        assert_eq!(
            local_beneficiary(&departement, &named),
            "Département de la Loire"
        );
        let landowner = |at: &str| LocalBeneficiary::Landowner {
            party: windledger_domain::types::PartyId::new("forest").expect("a party id"),
            commune: CommuneCode::new(at).expect("a commune code"),
        };
        assert_eq!(
            local_beneficiary(&landowner("42026"), &named),
            "Propriétaires fonciers (Burdignes)"
        );
        assert_eq!(
            local_beneficiary(&landowner("42282"), &named),
            "Propriétaires fonciers (42282)"
        );
    }

    #[test]
    fn one_is_singular_and_a_role_starting_with_a_vowel_is_elided() {
        assert_eq!(format!("1 rejetée{}", plural(1)), "1 rejetée");
        assert_eq!(format!("0 rejetée{}", plural(0)), "0 rejetée");
        assert_eq!(format!("2 rejetée{}", plural(2)), "2 rejetées");
        assert_eq!(in_the_role_of("associé"), "en tant qu'associé");
        assert_eq!(in_the_role_of("exploitant"), "en tant qu'exploitant");
        assert_eq!(in_the_role_of("secrétariat"), "en tant que secrétariat");
        assert_eq!(in_the_role_of("habitant"), "en tant qu'habitant");
    }

    #[test]
    fn numbers_are_written_the_french_way() {
        assert_eq!(int(0u32), "0");
        assert_eq!(int(1_234_567u64), "1\u{202f}234\u{202f}567");
        assert_eq!(int(-1234i64), "−1\u{202f}234");
        assert_eq!(decimal(Decimal::new(123_456, 2), 2), "1\u{202f}234,56");
        assert_eq!(decimal(Decimal::new(-5, 1), 0), "−1");
        assert_eq!(euros(Decimal::new(1050, 2)), "10,50\u{a0}€");
        assert_eq!(percent(Decimal::new(25, 0), 2), "25,00\u{a0}%");
        // The largest decimals are written too (`{:.3}` panicked on them).
        assert_eq!(
            mwh(Decimal::MAX, 3),
            "79\u{202f}228\u{202f}162\u{202f}514\u{202f}264\u{202f}337\u{202f}593\u{202f}543\u{202f}950\u{202f}335,000\u{a0}MWh"
        );
        assert_eq!(decimal(Decimal::new(5, 0), 2), "5,00");
    }

    #[test]
    fn dates_are_written_in_french() {
        let d = NaiveDate::from_ymd_opt(2013, 5, 1).expect("a date");
        assert_eq!(date(d), "1er mai 2013");
        assert_eq!(
            month(YearMonth::new(2025, 2).expect("a month")),
            "février 2025"
        );
    }

    #[test]
    fn paris_time_follows_summer_time() {
        let winter = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 10, 12, 0, 0).unwrap();
        assert_eq!(paris_offset(winter), Duration::hours(1));
        assert_eq!(paris_offset(summer), Duration::hours(2));
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
        assert_eq!(paris_offset(before), Duration::hours(1));
        assert_eq!(paris_offset(after), Duration::hours(2));
        for at in [winter, summer, before, after] {
            assert_eq!(from_paris(to_paris(at)), at);
        }
        assert_eq!(datetime(summer), "10 juillet 2026 à 14 h 00");
        assert_eq!(
            parse_datetime_input("2026-07-10T14:00"),
            Some(summer),
            "the input is Paris time"
        );
    }
}
