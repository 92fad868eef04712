//! The OCF export of a generated farm history: the cap table it describes is
//! the aggregate's, and the OCF validator (`tests/support/ocf_validator.rs`, on the
//! official OCF 1.2.0 schemas kept in `third_party/`) accepts the package, as
//! a folder and as a zip, as of every date of the histories; a package broken
//! on purpose fails it, with the fault named.
//!
//! The histories run `CompanyCommand`s through `Company::handle`, so every
//! history is valid by construction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use windledger_domain::charter::Charter;
use windledger_domain::company::{
    CancellationSource, Company, CompanyCommand, CompanyEvent, CompanyServices, HolderKind,
    Incorporation, Subscription,
};
use windledger_domain::money::Euros;
use windledger_domain::resolution::{AdoptedResolution, KnownResolutions, ResolutionPurpose};
use windledger_domain::types::{HolderId, ShareClassId};
use windledger_projections::ocf::{
    self, MANIFEST_FILE, OcfError, OcfPackage, STAKEHOLDERS_FILE, STOCK_CLASSES_FILE,
    TRANSACTIONS_FILE, TREASURY_STAKEHOLDER_ID,
};

use windledger_fixtures::farm::{
    self, CIT, COLL, CharterBuilder, HOLDER_AND_SHARE_EVENTS, IND, ORD, PREF, admission, citizens,
    class, college, commune, day, eur, holder, industrial_partner, local_authorities,
    ordinary_shares, preference_shares, ratio, res, shares,
};
use windledger_fixtures::rng::Rng;

use crate::ocf_validator;

// --- Values. ---

fn generated_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-05T09:30:00Z")
        .expect("a timestamp")
        .with_timezone(&Utc)
}

// --- The farm. ---

const LOCAL: [&str; 2] = ["42026", "42282"];
const ELSEWHERE: &str = "69123";

fn formed() -> NaiveDate {
    day(2015, 3, 2)
}

/// Resolutions the fake meeting stream knows, all adopted before use.
fn adopted_on() -> NaiveDate {
    day(2015, 6, 30)
}

/// Twenty holders of every kind: (id, kind, college).
fn founders() -> Vec<(String, HolderKind, &'static str)> {
    let mut holders = vec![
        ("h-ind".to_owned(), HolderKind::Company, IND),
        ("h-epci".to_owned(), HolderKind::LocalAuthority, COLL),
        ("h-commune".to_owned(), HolderKind::LocalAuthority, COLL),
        ("h-sem".to_owned(), HolderKind::Sem, COLL),
        ("h-coop".to_owned(), HolderKind::Cooperative, CIT),
        ("h-asso".to_owned(), HolderKind::Association, CIT),
        ("h-club".to_owned(), HolderKind::InvestmentClub, CIT),
    ];
    holders.extend((1..=13).map(|i| (format!("h-c{i:02}"), HolderKind::Individual, CIT)));
    holders
}

/// Admitted after the capital increase.
const NEWCOMER: &str = "h-new";

fn charter(preference_authorised: u64) -> Charter {
    CharterBuilder::new(vec![
        industrial_partner(ratio(3, 10)),
        local_authorities(ratio(3, 10)),
        citizens(ratio(2, 5)),
    ])
    .class(ordinary_shares(5_000))
    .class(preference_shares(preference_authorised))
    .newcomers_approved()
    .build()
}

fn initial_subscriptions() -> Vec<Subscription> {
    founders()
        .iter()
        .enumerate()
        .flat_map(|(i, (id, kind, _))| {
            let i = i as u64;
            let ordinary = match kind {
                HolderKind::Company => 1_200,
                HolderKind::LocalAuthority | HolderKind::Sem => 400 + 10 * i,
                _ => 20 + 7 * i,
            };
            let mut subscriptions = vec![Subscription {
                holder: holder(id),
                class: class(ORD),
                count: shares(ordinary),
                price_per_share: eur("100"),
            }];
            if i % 3 == 1 {
                subscriptions.push(Subscription {
                    holder: holder(id),
                    class: class(PREF),
                    count: shares(30 + i),
                    price_per_share: eur("50"),
                });
            }
            subscriptions
        })
        .collect()
}

fn incorporation(capital: Euros) -> Incorporation {
    farm::sas(
        "Éoliennes du Plateau SAS",
        formed(),
        capital,
        LOCAL.iter().map(commune).collect(),
        vec![farm::turbine("T01", LOCAL[0], 3_000, day(2019, 11, 15))],
    )
}

fn services() -> CompanyServices {
    let adopted = |id: &str, kind: &str, purpose| AdoptedResolution {
        id: res(id),
        decision_kind: farm::kind(kind),
        purpose,
        adopted_on: adopted_on(),
    };
    let mut known = vec![
        adopted(
            "r-increase",
            "extraordinary",
            ResolutionPurpose::CAPITAL_INCREASE,
        ),
        adopted(
            "r-reduction",
            "extraordinary",
            ResolutionPurpose::CAPITAL_REDUCTION,
        ),
        adopted(
            "r-amend",
            "extraordinary",
            ResolutionPurpose::CharterAmendment,
        ),
    ];
    let everyone = founders()
        .into_iter()
        .map(|(id, _, _)| id)
        .chain([NEWCOMER.to_owned()]);
    known.extend(everyone.map(|id| {
        adopted(
            &format!("r-approve-{id}"),
            "ordinary",
            ResolutionPurpose::approval_of(holder(&id)),
        )
    }));
    CompanyServices::new(
        windledger_fixtures::farm::history_clock(),
        KnownResolutions::new(known),
    )
}

/// A company stream being written: commands go through the aggregate and
/// the events get ledger positions (with gaps, as other streams share the
/// ledger).
struct Farm {
    services: CompanyServices,
    company: Company,
    events: Vec<(u64, CompanyEvent)>,
    position: u64,
    on: NaiveDate,
    rng: Rng,
}

impl Farm {
    fn new(seed: u64) -> Self {
        Self {
            services: services(),
            company: Company::default(),
            events: Vec::new(),
            position: 0,
            on: formed(),
            rng: Rng::splitmix(seed),
        }
    }

    fn run(&mut self, command: CompanyCommand) {
        let described = format!("{command:?}");
        let events = farm::run(&mut self.company, command, &self.services)
            .unwrap_or_else(|e| panic!("the fixture's command is refused: {e}\n{described}"));
        for event in events {
            self.position += 1 + self.rng.below(3);
            self.events.push((self.position, event));
        }
    }

    /// The next effective date, a few days on.
    fn later(&mut self) -> NaiveDate {
        self.on = self.on + Days::new(1 + self.rng.below(20));
        self.on
    }

    /// The company buys back `count` ordinary shares of `holder` at
    /// `price` EUR each, under the capital reduction, a few days on.
    fn repurchase(&mut self, holder: &HolderId, count: u64, price: &str) {
        let effective_date = self.later();
        self.run(CompanyCommand::RepurchaseShares {
            holder: holder.clone(),
            class: class(ORD),
            count: shares(count),
            price_per_share: eur(price),
            resolution: res("r-reduction"),
            effective_date,
        });
    }

    /// `count` ordinary shares of `source` cancelled under the capital
    /// reduction, a few days on.
    fn cancel(&mut self, source: CancellationSource, count: u64) {
        let effective_date = self.later();
        self.run(CompanyCommand::CancelShares {
            source,
            class: class(ORD),
            count: shares(count),
            resolution: res("r-reduction"),
            effective_date,
        });
    }

    fn active(&self) -> Vec<HolderId> {
        self.company
            .register()
            .filter(|(_, entry)| entry.exited_on.is_none())
            .map(|(h, _)| h.clone())
            .collect()
    }

    fn transfer(&mut self, from: &HolderId, to: &HolderId, class_id: &ShareClassId, count: u64) {
        let approval = self
            .company
            .holdings()
            .all(|(h, _, _)| h != to)
            .then(|| res(format!("r-approve-{to}")));
        let price =
            (self.rng.below(4) != 0).then(|| eur(&format!("{}.50", 100 + self.rng.below(30))));
        let effective_date = self.later();
        self.run(CompanyCommand::TransferShares {
            from: from.clone(),
            to: to.clone(),
            class: class_id.clone(),
            count: shares(count),
            price_per_share: price,
            approval,
            effective_date,
            exemption: None,
        });
    }

    /// A transfer between random holders: all of a holding or part of it.
    fn random_transfer(&mut self) {
        let held: Vec<(HolderId, ShareClassId, u64)> = self
            .company
            .holdings()
            .map(|(h, c, n)| (h.clone(), c.clone(), n.get()))
            .collect();
        let (from, class_id, n) = self.rng.pick(&held).clone();
        let to: Vec<HolderId> = self.active().into_iter().filter(|h| h != &from).collect();
        let to = self.rng.pick(&to).clone();
        let count = if self.rng.below(4) == 0 {
            n
        } else {
            1 + self.rng.below(n.div_ceil(2))
        };
        self.transfer(&from, &to, &class_id, count);
    }

    fn held(&self, h: &HolderId, c: &str) -> u64 {
        self.company.holding(h, &class(c)).get()
    }
}

/// Incorporation, twenty holders, the initial subscription, transfers (whole
/// and partial), a repurchase to treasury, part of it cancelled, a holder's
/// shares cancelled, a charter amendment raising authorised shares, a capital
/// increase with a newcomer, changes of college and residence, an exit.
/// Returns the history and the date in its middle (treasury shares held,
/// not yet cancelled).
fn history(seed: u64) -> (Vec<(u64, CompanyEvent)>, NaiveDate) {
    let mut farm = Farm::new(seed);
    let subscriptions = initial_subscriptions();
    let capital = subscriptions.iter().fold(Decimal::ZERO, |sum, s| {
        let nominal = if s.class.as_str() == ORD { 100 } else { 50 };
        sum + Decimal::from(nominal * s.count.get())
    });
    farm.run(CompanyCommand::Incorporate {
        company: incorporation(Euros::new(capital).expect("a capital")),
        charter: charter(2_000),
    });
    for (i, (id, kind, college_id)) in founders().into_iter().enumerate() {
        let at = if i % 4 == 3 { ELSEWHERE } else { LOCAL[i % 2] };
        farm.run(admission(&id, kind, college_id, at, formed()));
    }
    farm.run(CompanyCommand::IssueShares {
        subscriptions,
        resolution: None,
        effective_date: formed(),
    });
    farm.on = day(2015, 7, 1);
    for _ in 0..15 {
        farm.random_transfer();
    }

    // Repurchases to treasury: nearly all of the largest holding, which a
    // transfer in has just split (several securities closed at once), then
    // part of another holding.
    let (largest, _) = largest_ordinary_holding(&farm, None);
    let (giver, _) = largest_ordinary_holding(&farm, Some(&largest));
    farm.transfer(&giver, &largest, &class(ORD), 10);
    let first = farm.held(&largest, ORD) - 1;
    farm.repurchase(&largest, first, "112.40");
    for _ in 0..10 {
        farm.random_transfer();
    }
    let (other, n) = largest_ordinary_holding(&farm, Some(&largest));
    let second = n.div_ceil(3);
    farm.repurchase(&other, second, "98");
    let middle = farm.later();

    // Treasury shares cancelled (the first repurchase and part of the
    // second), then a holder's shares.
    farm.cancel(CancellationSource::Treasury, first + second.div_ceil(2));
    let (withdrawing, n) = largest_ordinary_holding(&farm, Some(&other));
    farm.cancel(
        CancellationSource::Holder {
            holder: withdrawing.clone(),
            reimbursement_per_share: Some(eur("100")),
        },
        n.div_ceil(2),
    );

    // More preference shares may be issued, then are.
    let effective_date = farm.later();
    farm.run(CompanyCommand::AmendCharter {
        charter: charter(3_000),
        resolution: res("r-amend"),
        effective_date,
    });
    let effective_date = farm.later();
    farm.run(admission(
        NEWCOMER,
        HolderKind::Individual,
        CIT,
        LOCAL[1],
        effective_date,
    ));
    let effective_date = farm.later();
    farm.run(CompanyCommand::IssueShares {
        subscriptions: vec![
            Subscription {
                holder: holder(NEWCOMER),
                class: class(ORD),
                count: shares(25),
                price_per_share: eur("130"),
            },
            Subscription {
                holder: holder("h-epci"),
                class: class(PREF),
                count: shares(1_200),
                price_per_share: eur("50"),
            },
            Subscription {
                holder: holder("h-c05"),
                class: class(ORD),
                count: shares(10),
                price_per_share: eur("130"),
            },
        ],
        resolution: Some(res("r-increase")),
        effective_date,
    });

    // The register moves too: a college, a commune, and a holder who sells
    // everything and leaves.
    let effective_date = farm.later();
    farm.run(CompanyCommand::ChangeCollege {
        holder: holder("h-sem"),
        college: college(CIT),
        effective_date,
    });
    let effective_date = farm.later();
    farm.run(CompanyCommand::ChangeResidence {
        holder: holder("h-c02"),
        commune: commune(ELSEWHERE),
        effective_date,
    });
    let leaving = holder("h-c07");
    let heir = holder("h-c08");
    for c in [ORD, PREF] {
        let n = farm.held(&leaving, c);
        if n > 0 {
            farm.transfer(&leaving, &heir, &class(c), n);
        }
    }
    let effective_date = farm.later();
    farm.run(CompanyCommand::RecordExit {
        holder: leaving,
        effective_date,
    });
    for _ in 0..10 {
        farm.random_transfer();
    }
    (farm.events, middle)
}

fn largest_ordinary_holding(farm: &Farm, except: Option<&HolderId>) -> (HolderId, u64) {
    farm.company
        .holdings()
        .filter(|(h, c, _)| Some(*h) != except && c.as_str() == ORD)
        .map(|(h, _, n)| (h.clone(), n.get()))
        .max_by_key(|(_, n)| *n)
        .expect("someone holds ordinary shares")
}

// --- Reading the export back. ---

fn items<'a>(package: &'a OcfPackage, name: &str) -> &'a [Value] {
    package
        .file(name)
        .and_then(|f| f.json()["items"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("{name} has items"))
}

/// The item of `items` with this id.
fn by_id<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("an item {id}"))
}

fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string in {value}"))
        .to_owned()
}

/// Shares per (stakeholder id, stock class id) in the securities the
/// transactions leave open: issued and not closed by a later transaction.
fn open_positions(package: &OcfPackage) -> BTreeMap<(String, String), u64> {
    let transactions = items(package, TRANSACTIONS_FILE);
    let closed: BTreeSet<String> = transactions
        .iter()
        .filter(|t| t["object_type"] != "TX_STOCK_ISSUANCE")
        .filter_map(|t| t["security_id"].as_str().map(str::to_owned))
        .collect();
    let mut open = BTreeMap::new();
    for t in transactions
        .iter()
        .filter(|t| t["object_type"] == "TX_STOCK_ISSUANCE")
        .filter(|t| !closed.contains(&text(t, "security_id")))
    {
        let n: u64 = text(t, "quantity").parse().expect("a whole quantity");
        *open
            .entry((text(t, "stakeholder_id"), text(t, "stock_class_id")))
            .or_default() += n;
    }
    open
}

/// The aggregate's cap table as of `as_of`, in OCF ids, treasury included.
fn expected_positions(
    events: &[(u64, CompanyEvent)],
    as_of: NaiveDate,
) -> BTreeMap<(String, String), u64> {
    let company = Company::as_of(events.iter().map(|(_, e)| e.clone()), as_of);
    let mut expected: BTreeMap<(String, String), u64> = company
        .holdings()
        .map(|(h, c, n)| ((ocf::stakeholder_id(h), ocf::stock_class_id(c)), n.get()))
        .collect();
    for c in [ORD, PREF] {
        let n = company.treasury(&class(c)).get();
        if n > 0 {
            expected.insert(
                (
                    TREASURY_STAKEHOLDER_ID.to_owned(),
                    ocf::stock_class_id(&class(c)),
                ),
                n,
            );
        }
    }
    expected
}

/// The effective date of the history's last event.
fn last_date(events: &[(u64, CompanyEvent)]) -> NaiveDate {
    events
        .last()
        .map(|(_, e)| e.effective_date())
        .expect("events")
}

fn export(events: &[(u64, CompanyEvent)], as_of: NaiveDate) -> OcfPackage {
    ocf::export(events, as_of, generated_at())
        .unwrap_or_else(|e| panic!("the history exports as of {as_of}: {e}"))
}

/// Exports the history of `seed` as of each date one of its events takes
/// effect, and gives `check` each package with the history and its date.
fn every_export(seed: u64, mut check: impl FnMut(&[(u64, CompanyEvent)], NaiveDate, OcfPackage)) {
    let (events, _) = history(seed);
    let dates: BTreeSet<NaiveDate> = events.iter().map(|(_, e)| e.effective_date()).collect();
    for as_of in dates {
        check(&events, as_of, export(&events, as_of));
    }
}

// --- The tests. ---

#[test]
fn the_open_securities_of_every_stakeholder_are_the_cap_table_on_every_date() {
    for seed in 1..=12 {
        every_export(seed, |events, as_of, package| {
            assert_eq!(
                open_positions(&package),
                expected_positions(events, as_of),
                "seed {seed}, as of {as_of}"
            );
        });
    }
}

#[test]
fn the_history_covers_every_movement_and_its_export_every_transaction_type() {
    let (events, middle) = history(7);
    let names: BTreeSet<&str> = events.iter().map(|(_, e)| e.name()).collect();
    let company = ["CompanyIncorporated", "CharterAmended"];
    for name in company.into_iter().chain(HOLDER_AND_SHARE_EVENTS) {
        assert!(names.contains(name), "the history has a {name}");
    }
    let end = last_date(&events);
    let package = export(&events, end);
    let types: BTreeSet<String> = items(&package, TRANSACTIONS_FILE)
        .iter()
        .map(|t| text(t, "object_type"))
        .collect();
    for ty in [
        "TX_STOCK_ISSUANCE",
        "TX_STOCK_TRANSFER",
        "TX_STOCK_REPURCHASE",
        "TX_STOCK_CANCELLATION",
        "TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT",
    ] {
        assert!(types.contains(ty), "the export has a {ty}");
    }
    let transactions = items(&package, TRANSACTIONS_FILE);
    for ty in [
        "TX_STOCK_TRANSFER",
        "TX_STOCK_REPURCHASE",
        "TX_STOCK_CANCELLATION",
    ] {
        let of_type = || transactions.iter().filter(|t| t["object_type"] == ty);
        assert!(
            of_type().any(|t| t.get("balance_security_id").is_some()),
            "some {ty} leaves a balance"
        );
        // Ids are tx-<position>-<n>: one event closing several securities.
        let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
        for t in of_type() {
            let id = text(t, "id");
            let position = id.split('-').nth(1).expect("a position").to_owned();
            *per_event.entry(position).or_default() += 1;
        }
        assert!(
            per_event.values().any(|&n| n > 1),
            "some event closes several securities by {ty}"
        );
    }
    let company = Company::as_of(events.iter().map(|(_, e)| e.clone()), end);
    let charter = company.charter().expect("a charter");
    let capital = format!(
        "windledger:share_capital={} EUR",
        company.share_capital(charter).amount()
    );
    let manifest = package.manifest().expect("a manifest").json();
    assert!(
        manifest["issuer"]["comments"]
            .as_array()
            .expect("comments")
            .contains(&Value::from(capital.as_str())),
        "{capital} in {manifest}"
    );
    // In the middle, treasury shares are held and none cancelled yet.
    let expected = expected_positions(&events, middle);
    assert!(expected.keys().any(|(sh, _)| sh == TREASURY_STAKEHOLDER_ID));
}

#[test]
fn stakeholders_carry_the_pseudonymous_id_kind_and_college_and_nothing_personal() {
    let (events, _) = history(3);
    let end = last_date(&events);
    let package = export(&events, end);
    let company = Company::as_of(events.iter().map(|(_, e)| e.clone()), end);
    let stakeholders = items(&package, ocf::STAKEHOLDERS_FILE);
    // Every holder ever registered, and the treasury.
    assert_eq!(stakeholders.len(), company.register().count() + 1);
    for (h, entry) in company.register() {
        let sh = by_id(stakeholders, &ocf::stakeholder_id(h));
        assert_eq!(sh["name"], serde_json::json!({ "legal_name": h.as_str() }));
        assert_eq!(sh["issuer_assigned_id"], h.as_str());
        let individual = entry.kind == HolderKind::Individual;
        assert_eq!(
            sh["stakeholder_type"],
            if individual {
                "INDIVIDUAL"
            } else {
                "INSTITUTION"
            }
        );
        let comments: Vec<&str> = sh["comments"]
            .as_array()
            .expect("comments")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(comments.contains(&format!("windledger:college={}", entry.college).as_str()));
        assert!(comments.contains(&format!("windledger:commune={}", entry.commune).as_str()));
        match entry.exited_on {
            Some(on) => {
                assert!(sh.get("current_relationship").is_none());
                assert!(comments.contains(&format!("windledger:exited_on={on}").as_str()));
            }
            None => assert_eq!(sh["current_relationship"], "INVESTOR"),
        }
    }
    let sem = by_id(stakeholders, "sh-h-sem");
    assert!(
        sem["comments"]
            .as_array()
            .expect("comments")
            .contains(&Value::from("windledger:college=citoyens")),
        "the college as of the date: {sem}"
    );
    let classes = items(&package, ocf::STOCK_CLASSES_FILE);
    let pref = by_id(classes, "sc-preference");
    assert_eq!(pref["class_type"], "PREFERRED");
    assert_eq!(pref["votes_per_share"], "0");
    assert_eq!(pref["initial_shares_authorized"], "2000");
    assert_eq!(
        pref["par_value"],
        serde_json::json!({ "amount": "50", "currency": "EUR" })
    );
    let ord = by_id(classes, "sc-ordinaires");
    assert_eq!(ord["class_type"], "COMMON");
    assert_eq!(ord["votes_per_share"], "1");
}

#[test]
fn an_export_is_deterministic_and_a_later_one_extends_an_earlier_one() {
    let (events, middle) = history(5);
    let end = last_date(&events);
    let first = export(&events, end);
    let again = export(&events, end);
    assert_eq!(first, again);
    assert_eq!(
        first.to_zip().expect("a zip"),
        again.to_zip().expect("a zip")
    );
    // Ids come from ledger positions: the earlier export's transactions are
    // the first of the later one's, unchanged.
    let earlier = items(&export(&events, middle), TRANSACTIONS_FILE).to_vec();
    let later = items(&first, TRANSACTIONS_FILE);
    assert!(earlier.len() < later.len());
    assert_eq!(earlier.as_slice(), &later[..earlier.len()]);
    // The manifest's MD5 sums are those of the files' bytes.
    let manifest = first.manifest().expect("a manifest").json();
    for list in [
        "stakeholders_files",
        "stock_classes_files",
        "transactions_files",
    ] {
        for entry in manifest[list].as_array().expect("a list") {
            let file = first.file(&text(entry, "filepath")).expect("a named file");
            assert_eq!(text(entry, "md5"), file.md5());
        }
    }
    assert_eq!(manifest["as_of"], end.to_string());
    assert_eq!(manifest["generated_at"], "2026-01-05T09:30:00Z");
    assert_eq!(manifest["issuer"]["tax_ids"][0]["tax_id"], "732829320");
}

#[test]
fn what_cannot_be_exported_is_refused_with_the_position_at_fault() {
    let (events, _) = history(2);
    assert_eq!(
        ocf::export(&events, day(2015, 3, 1), generated_at()),
        Err(OcfError::NotIncorporated {
            as_of: day(2015, 3, 1)
        })
    );
    let mut swapped = events.clone();
    swapped.swap(3, 4);
    assert!(matches!(
        ocf::export(&swapped, day(2030, 1, 1), generated_at()),
        Err(OcfError::OutOfOrder { .. })
    ));
    // A transfer whose shares were never issued does not follow.
    let mut missing: Vec<(u64, CompanyEvent)> = events
        .iter()
        .filter(|(_, e)| e.name() != "SharesIssued")
        .cloned()
        .collect();
    missing.truncate(40);
    assert!(matches!(
        ocf::export(&missing, day(2030, 1, 1), generated_at()),
        Err(OcfError::Inconsistent { .. })
    ));
}

// --- The OCF validator (the official schemas, in the repository). ---

/// The files of a package, as JSON, by name.
fn files_of(package: &OcfPackage) -> BTreeMap<String, Value> {
    package
        .files
        .iter()
        .map(|f| (f.name().to_owned(), f.json().clone()))
        .collect()
}

/// A package of these files, the manifest's MD5 sums made to match them, so
/// that what a test broke is the only fault.
fn sealed(mut files: BTreeMap<String, Value>) -> ocf_validator::Package {
    let mut manifest = files.remove(MANIFEST_FILE).expect("a manifest");
    let bytes: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(name, json)| {
            let bytes = serde_json::to_vec_pretty(json).expect("serialisable");
            (name.clone(), bytes)
        })
        .collect();
    for list in manifest
        .as_object_mut()
        .expect("an object")
        .values_mut()
        .filter_map(Value::as_array_mut)
    {
        for entry in list.iter_mut().filter(|e| e["filepath"].is_string()) {
            let file = &bytes[entry["filepath"].as_str().expect("a path")];
            entry["md5"] = Value::String(ocf_validator::md5_hex(file));
        }
    }
    let manifest = serde_json::to_vec_pretty(&manifest).expect("serialisable");
    ocf_validator::Package::from_files(
        bytes
            .into_iter()
            .chain([(MANIFEST_FILE.to_owned(), manifest)]),
    )
}

fn failures(package: &ocf_validator::Package) -> Vec<String> {
    ocf_validator::validate(package, ocf_validator::schemas())
        .unwrap_or_else(|e| panic!("the package reads: {e}"))
        .failures()
}

/// The transactions of a package's files, to break.
fn transactions_mut(files: &mut BTreeMap<String, Value>) -> &mut Vec<Value> {
    files
        .get_mut(TRANSACTIONS_FILE)
        .and_then(|f| f["items"].as_array_mut())
        .expect("transactions")
}

/// The label the validator gives the `index`th transaction.
fn transaction_label(files: &BTreeMap<String, Value>, index: usize) -> String {
    let t = &files[TRANSACTIONS_FILE]["items"][index];
    format!(
        "{TRANSACTIONS_FILE} item[{index}] {} id={}",
        text(t, "object_type"),
        t["id"]
    )
}

#[test]
fn the_validator_accepts_the_export_in_the_middle_and_at_the_end_as_folder_and_zip() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for seed in [11, 4] {
        let (events, middle) = history(seed);
        let end = last_date(&events);
        for (label, as_of) in [("middle", middle), ("end", end)] {
            let package = export(&events, as_of);
            // Every item was checked: the manifest, three files, their items.
            let checked = 4 + [STAKEHOLDERS_FILE, STOCK_CLASSES_FILE, TRANSACTIONS_FILE]
                .iter()
                .map(|f| items(&package, f).len())
                .sum::<usize>();
            let folder = dir.path().join(format!("{seed}-{label}"));
            package.write_dir(&folder).expect("the folder is written");
            assert!(folder.join(MANIFEST_FILE).is_file());
            let report = ocf_validator::assert_valid(&folder);
            assert_eq!(report.passed(), checked, "seed {seed}, {label}");
            let zip = dir.path().join(format!("{seed}-{label}.ocf.zip"));
            package.write_zip(&zip).expect("the zip is written");
            let report = ocf_validator::assert_valid(&zip);
            assert_eq!(report.passed(), checked, "seed {seed}, {label}");
            // The manifest file itself names its folder.
            ocf_validator::assert_valid(&folder.join(MANIFEST_FILE));
        }
    }
}

#[test]
fn the_validator_accepts_the_export_of_six_histories_on_every_date() {
    for seed in 1..=6 {
        every_export(seed, |_, as_of, package| {
            let files = package
                .files
                .iter()
                .map(|f| (f.name().to_owned(), f.bytes().to_vec()));
            let report = ocf_validator::validate(
                &ocf_validator::Package::from_files(files),
                ocf_validator::schemas(),
            )
            .expect("the package reads");
            assert_eq!(report.failed(), 0, "seed {seed}, as of {as_of}:\n{report}");
        });
    }
}

/// The validator can fail: each fault put into a valid export is found and
/// named, and is the only problem reported.
#[test]
fn the_validator_names_what_is_wrong_in_a_broken_package() {
    let (events, _) = history(7);
    let end = last_date(&events);
    let package = export(&events, end);
    let files = files_of(&package);
    assert_eq!(failures(&sealed(files.clone())), Vec::<String>::new());
    let transactions = files[TRANSACTIONS_FILE]["items"]
        .as_array()
        .expect("transactions")
        .clone();
    let position = |what: &dyn Fn(&Value) -> bool| {
        transactions
            .iter()
            .position(what)
            .expect("such a transaction")
    };

    // A file changed after the export: its MD5 is not the manifest's.
    let mut bytes: Vec<(String, Vec<u8>)> = package
        .files
        .iter()
        .map(|f| (f.name().to_owned(), f.bytes().to_vec()))
        .collect();
    let stakeholders = bytes
        .iter_mut()
        .find(|(name, _)| name == STAKEHOLDERS_FILE)
        .expect("the stakeholders file");
    stakeholders.1.insert(0, b' ');
    let found = failures(&ocf_validator::Package::from_files(bytes));
    let md5 = package
        .file(STAKEHOLDERS_FILE)
        .expect("the stakeholders file")
        .md5();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(&format!("file {STAKEHOLDERS_FILE}: md5 is "))
            && found[0].ends_with(&format!("but the manifest says {md5}")),
        "{found:#?}"
    );

    // An issuance without its quantity: the object schema requires it.
    let mut broken = files.clone();
    let i = position(&|t| t["object_type"] == "TX_STOCK_ISSUANCE");
    transactions_mut(&mut broken)[i]
        .as_object_mut()
        .expect("an object")
        .remove("quantity");
    let found = failures(&sealed(broken.clone()));
    assert_eq!(found.len(), 1, "{found:#?}");
    let label = transaction_label(&broken, i);
    assert!(
        found[0].starts_with(&format!("{label}: at $: ")) && found[0].contains("\"quantity\""),
        "{found:#?}"
    );

    // An issuance to a stakeholder the package does not have (one whose
    // security nothing else names, so that no other rule is concerned).
    let mut broken = files.clone();
    let named_elsewhere = |security: &str| {
        transactions.iter().any(|t| {
            t["object_type"] != "TX_STOCK_ISSUANCE"
                && (t["security_id"] == security
                    || t["balance_security_id"] == security
                    || t["resulting_security_ids"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|s| s == security)))
        })
    };
    let i = position(&|t| {
        t["object_type"] == "TX_STOCK_ISSUANCE" && !named_elsewhere(&text(t, "security_id"))
    });
    transactions_mut(&mut broken)[i]["stakeholder_id"] = Value::from("sh-nobody");
    let found = failures(&sealed(broken.clone()));
    assert_eq!(
        found,
        [format!(
            "{}: at $.stakeholder_id: \"sh-nobody\" is not the id of any STAKEHOLDER in this package",
            transaction_label(&broken, i)
        )]
    );

    // A transfer that moves one share fewer than its securities add up to.
    let mut broken = files.clone();
    let i = position(&|t| {
        t["object_type"] == "TX_STOCK_TRANSFER"
            && text(t, "quantity").parse::<u64>().expect("a count") > 1
    });
    let moved: u64 = text(&transactions[i], "quantity").parse().expect("a count");
    transactions_mut(&mut broken)[i]["quantity"] = Value::from((moved - 1).to_string());
    let found = failures(&sealed(broken.clone()));
    let label = transaction_label(&broken, i);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|f| f.starts_with(&format!("{label}: "))),
        "{found:#?}"
    );
    assert!(
        found.contains(&format!(
            "{label}: resulting securities hold {moved} shares in all, but the transfer moves {}",
            moved - 1
        )),
        "{found:#?}"
    );

    // A security closed twice: a second transaction on a security a
    // transfer already closed.
    let mut broken = files.clone();
    let first = position(&|t| t["object_type"] == "TX_STOCK_TRANSFER");
    let closed = text(&transactions[first], "security_id");
    let second = transactions
        .iter()
        .enumerate()
        .position(|(j, t)| {
            j > first
                && [
                    "TX_STOCK_REPURCHASE",
                    "TX_STOCK_CANCELLATION",
                    "TX_STOCK_TRANSFER",
                ]
                .contains(&t["object_type"].as_str().unwrap_or_default())
                && t["security_id"] != closed.as_str()
        })
        .expect("a later disposal");
    transactions_mut(&mut broken)[second]["security_id"] = Value::from(closed.clone());
    let found = failures(&sealed(broken.clone()));
    let label = transaction_label(&broken, second);
    assert!(
        found.contains(&format!(
            "{label}: security \"{closed}\" was already closed by {}; act on its balance_security_id instead",
            transaction_label(&broken, first)
        )),
        "{found:#?}"
    );
}
