//! Given/when/then tests of the company stream: every command, every refusal.

use std::collections::BTreeSet;
use windledger_domain::resolution::Unbacked;

use crate::common::*;
use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use cqrs_es::test::TestFramework;
use windledger_domain::charter::{
    Charter, CharterError, DecisionKind, LockUpExemption, Majority, OwnershipCap, ReservedDecisions,
};
use windledger_domain::company::{
    CancellationSource, Company, CompanyCommand, CompanyError, CompanyEvent, CompanyServices,
    HolderKind, ShareTransfer, Subscription,
};
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{LookupError, ResolutionPurpose};
use windledger_domain::types::{ShareCount, TurbineId};

fn incorporate(charter: Charter) -> CompanyCommand {
    CompanyCommand::Incorporate {
        company: incorporation(),
        charter,
    }
}

fn transfer(from: &str, to: &str, count: u64, approval: Option<&str>) -> CompanyCommand {
    CompanyCommand::TransferShares {
        from: holder(from),
        to: holder(to),
        class: class(ORD),
        count: shares(count),
        price_per_share: Some(eur("120")),
        approval: approval.map(res),
        effective_date: later(),
        exemption: None,
    }
}

fn transferred(from: &str, to: &str, count: u64, approval: Option<&str>) -> CompanyEvent {
    CompanyEvent::SharesTransferred(ShareTransfer {
        from: holder(from),
        to: holder(to),
        class: class(ORD),
        count: shares(count),
        price_per_share: Some(eur("120")),
        approval: approval.map(resolution),
        effective_date: later(),
        exemption: None,
    })
}

fn increase(subscriptions: Vec<Subscription>) -> CompanyCommand {
    issue(subscriptions, Some("r-increase"), later())
}

fn issue(
    subscriptions: Vec<Subscription>,
    resolution_id: Option<&str>,
    effective_date: NaiveDate,
) -> CompanyCommand {
    CompanyCommand::IssueShares {
        subscriptions,
        resolution: resolution_id.map(res),
        effective_date,
    }
}

fn repurchase(from: &str, count: u64, resolution_id: &str) -> CompanyCommand {
    CompanyCommand::RepurchaseShares {
        holder: holder(from),
        class: class(ORD),
        count: shares(count),
        price_per_share: eur("110"),
        resolution: res(resolution_id),
        effective_date: later(),
    }
}

fn repurchased(from: &str, count: u64) -> CompanyEvent {
    CompanyEvent::SharesRepurchased {
        holder: holder(from),
        class: class(ORD),
        count: shares(count),
        price_per_share: eur("110"),
        resolution: resolution("r-reduction"),
        effective_date: later(),
    }
}

fn cancel(source: CancellationSource, count: u64, resolution_id: &str) -> CompanyCommand {
    CompanyCommand::CancelShares {
        source,
        class: class(ORD),
        count: shares(count),
        resolution: res(resolution_id),
        effective_date: later(),
    }
}

fn cancelled(source: CancellationSource, count: u64) -> CompanyEvent {
    CompanyEvent::SharesCancelled {
        source,
        class: class(ORD),
        count: shares(count),
        resolution: resolution("r-reduction"),
        effective_date: later(),
    }
}

fn exited(id: &str) -> CompanyEvent {
    CompanyEvent::ShareholderExited {
        holder: holder(id),
        effective_date: later(),
    }
}

fn amend(charter: Charter, resolution_id: &str) -> CompanyCommand {
    CompanyCommand::AmendCharter {
        charter,
        resolution: res(resolution_id),
        effective_date: later(),
    }
}

fn refused(given: Vec<CompanyEvent>, command: CompanyCommand, error: CompanyError) {
    framework()
        .given(given)
        .when(command)
        .then_expect_error(error);
}

fn accepted(given: Vec<CompanyEvent>, command: CompanyCommand, expected: Vec<CompanyEvent>) {
    framework()
        .given(given)
        .when(command)
        .then_expect_events(expected);
}

/// Refused: `resolution` was adopted for `found`, not for `expected`.
fn purpose_mismatch(
    resolution: &str,
    expected: ResolutionPurpose,
    found: ResolutionPurpose,
) -> CompanyError {
    CompanyError::Unbacked(Unbacked::PurposeMismatch {
        resolution: res(resolution),
        expected: Box::new(expected),
        found: Box::new(found),
    })
}

/// Refused by the charter's transfer cap number `i`.
fn cap_breached(i: usize) -> CompanyError {
    CompanyError::CapBreached(charter().transfers.caps[i].clone())
}

/// h-c2 holds 160 ordinary shares: 161 is one too many.
fn one_share_more_than_h_c2_holds() -> CompanyError {
    CompanyError::InsufficientShares {
        holder: holder("h-c2"),
        class: class(ORD),
        held: shares(160),
        requested: shares(161),
    }
}

// --- Incorporation -------------------------------------------------------

#[test]
fn incorporating_a_farm_records_its_identity_territory_turbines_and_charter() {
    accepted(
        vec![],
        incorporate(charter()),
        vec![CompanyEvent::Incorporated {
            company: incorporation(),
            charter: charter(),
        }],
    );
}

#[test]
fn a_company_is_incorporated_only_once() {
    refused(
        incorporated(),
        incorporate(charter()),
        CompanyError::AlreadyIncorporated,
    );
}

#[test]
fn nothing_but_incorporation_is_recorded_before_it() {
    let command = admission("h-c1", HolderKind::Individual, CIT, LOCAL_A, formed());
    refused(vec![], command, CompanyError::NotIncorporated);
}

#[test]
fn a_turbine_outside_the_territory_is_refused() {
    let mut company = incorporation();
    company.turbines[1].commune = commune(ELSEWHERE);
    let command = CompanyCommand::Incorporate {
        company,
        charter: charter(),
    };
    let error = CompanyError::TurbineOutsideTerritory {
        turbine: TurbineId::new("T02").expect("id"),
        commune: commune(ELSEWHERE),
    };
    refused(vec![], command, error);
}

#[test]
fn a_turbine_listed_twice_is_refused() {
    let mut company = incorporation();
    company.turbines.push(windledger_fixtures::farm::turbine(
        "T01",
        LOCAL_B,
        2_000,
        day(2020, 1, 1),
    ));
    let command = CompanyCommand::Incorporate {
        company,
        charter: charter(),
    };
    refused(
        vec![],
        command,
        CompanyError::DuplicateTurbine(TurbineId::new("T01").expect("id")),
    );
}

#[test]
fn french_defaults_are_ordinary_one_fifth_then_none_and_extraordinary_a_quarter_then_a_fifth() {
    let ordinary = DecisionKind::french_ordinary();
    assert_eq!(ordinary.quorum_first_call, ratio(1, 5));
    assert_eq!(ordinary.quorum_second_call, Ratio::ZERO);
    assert_eq!(ordinary.majority, Majority::MoreThan(ratio(1, 2)));
    let extraordinary = DecisionKind::french_extraordinary();
    assert_eq!(extraordinary.quorum_first_call, ratio(1, 4));
    assert_eq!(extraordinary.quorum_second_call, ratio(1, 5));
    assert_eq!(extraordinary.majority, Majority::AtLeast(ratio(2, 3)));
    let reserved = ReservedDecisions::french_default();
    assert_eq!(reserved.charter_amendment, kind("extraordinary"));
    assert_eq!(reserved.capital_increase, kind("extraordinary"));
    assert_eq!(reserved.capital_reduction, kind("extraordinary"));
}

/// Each case: a charter broken in one way, and the refusal it earns.
fn broken_charters() -> Vec<(&'static str, Charter, CharterError)> {
    let broken = |edit: &dyn Fn(&mut Charter)| {
        let mut c = charter();
        edit(&mut c);
        c
    };
    vec![
        (
            "a college weight above 50 %",
            broken(&|c| {
                c.colleges[0].weight = Some(ratio(3, 5));
                c.colleges[1].weight = Some(ratio(1, 5));
                c.colleges[2].weight = Some(ratio(1, 5));
            }),
            CharterError::CollegeWeightOutOfBounds {
                college: college(IND),
                weight: ratio(3, 5),
            },
        ),
        (
            "a college weight below 10 %",
            broken(&|c| {
                c.colleges[1].weight = Some(ratio(1, 20));
                c.colleges[2].weight = Some(ratio(9, 20));
            }),
            CharterError::CollegeWeightOutOfBounds {
                college: college(COLL),
                weight: ratio(1, 20),
            },
        ),
        (
            "weights that do not sum to 100 %",
            broken(&|c| c.colleges[2].weight = Some(ratio(1, 5))),
            CharterError::CollegeWeightsDoNotSumToOne {
                total: ratio(19, 20),
            },
        ),
        (
            "one college without weight among weighted ones",
            broken(&|c| c.colleges[2].weight = None),
            CharterError::MixedCollegeWeights {
                college: college(CIT),
            },
        ),
        (
            "no college",
            broken(&|c| {
                c.colleges.clear();
                c.transfers.caps.clear();
            }),
            CharterError::NoCollege,
        ),
        (
            "a college defined twice",
            broken(&|c| c.colleges.push(c.colleges[0].clone())),
            CharterError::DuplicateCollege(college(IND)),
        ),
        (
            "no share class",
            broken(&|c| c.share_classes.clear()),
            CharterError::NoShareClass,
        ),
        (
            "a share class defined twice",
            broken(&|c| c.share_classes.push(c.share_classes[1].clone())),
            CharterError::DuplicateShareClass(class(PREF)),
        ),
        (
            "a nominal value of zero",
            broken(&|c| c.share_classes[0].nominal_value = eur("0")),
            CharterError::ZeroNominalValue(class(ORD)),
        ),
        (
            "a decision kind defined twice",
            broken(&|c| c.decision_kinds.push(DecisionKind::french_ordinary())),
            CharterError::DuplicateDecisionKind(kind("ordinary")),
        ),
        (
            "a reserved matter pointing at an undefined decision kind",
            broken(&|c| c.reserved.charter_amendment = kind("unanimous")),
            CharterError::UndefinedDecisionKind(kind("unanimous")),
        ),
        (
            "approval by an undefined decision kind",
            broken(&|c| c.transfers.approval_of_new_holders = Some(kind("board"))),
            CharterError::UndefinedDecisionKind(kind("board")),
        ),
        (
            "a veto by an undefined college",
            broken(&|c| {
                c.decision_kinds[1]
                    .college_majorities_required
                    .insert(college("salaries"));
            }),
            CharterError::UndefinedCollege(college("salaries")),
        ),
        (
            "a cap on an undefined college",
            broken(&|c| {
                c.transfers.caps.push(OwnershipCap::HolderAtMost {
                    college: Some(college("salaries")),
                    limit: ratio(1, 10),
                });
            }),
            CharterError::UndefinedCollege(college("salaries")),
        ),
        (
            "a quorum above 100 %",
            broken(&|c| c.decision_kinds[0].quorum_first_call = ratio(6, 5)),
            CharterError::NotAProportion {
                what: "the first-call quorum of ordinary".to_owned(),
                value: ratio(6, 5),
            },
        ),
        (
            "a cap above 100 %",
            broken(&|c| {
                c.transfers.caps = vec![OwnershipCap::HolderAtMost {
                    college: None,
                    limit: ratio(3, 2),
                }];
            }),
            CharterError::NotAProportion {
                what: "the limit of \"each holder at most 3/2 of the capital\"".to_owned(),
                value: ratio(3, 2),
            },
        ),
        (
            "a majority of more than 100 %",
            broken(&|c| c.decision_kinds[1].majority = Majority::MoreThan(Ratio::ONE)),
            CharterError::UnreachableMajority(kind("extraordinary")),
        ),
        (
            "a notice of more than a year",
            broken(&|c| c.notice.second_call_days = 367),
            CharterError::NoticeTooLong { max: 366 },
        ),
        (
            "a witness quorum above the witnesses' number",
            broken(&|c| c.witnesses = witnesses(3, 4)),
            CharterError::WitnessQuorumOutOfRange { quorum: 4, count: 3 },
        ),
        (
            "a witness quorum of 0",
            broken(&|c| c.witnesses = witnesses(2, 0)),
            CharterError::WitnessQuorumOutOfRange { quorum: 0, count: 2 },
        ),
        (
            "a witness key whose id is not its own",
            broken(&|c| {
                c.witnesses = witnesses(2, 1);
                let key = &mut c.witnesses.witnesses[1].key;
                let id_at = key.find('+').expect("a name") + 1;
                let flipped = if key.as_bytes()[id_at] == b'0' { "1" } else { "0" };
                key.replace_range(id_at..=id_at, flipped);
            }),
            CharterError::InvalidWitness {
                party: "témoin 1".to_owned(),
                why: "its key must be <name>+<hex key id>+<base64 key>, an Ed25519 witness key as `windledger witness` prints it".to_owned(),
            },
        ),
        (
            "a witness named twice",
            broken(&|c| {
                c.witnesses = witnesses(2, 1);
                c.witnesses.witnesses[1].key = c.witnesses.witnesses[0].key.clone();
            }),
            CharterError::DuplicateWitness("témoin 1".to_owned()),
        ),
        (
            "a witness at an address that is not http(s)",
            broken(&|c| {
                c.witnesses = witnesses(1, 1);
                c.witnesses.witnesses[0].url = "ftp://temoin.example".to_owned();
            }),
            CharterError::InvalidWitness {
                party: "témoin 0".to_owned(),
                why: "its address must be an http:// or https:// URL".to_owned(),
            },
        ),
    ]
}

#[test]
fn a_charter_that_breaks_a_rule_is_refused_at_incorporation_with_the_rule_it_breaks() {
    for (case, charter, expected) in broken_charters() {
        let result = framework()
            .given_no_previous_events()
            .when(incorporate(charter))
            .inspect_result();
        assert_eq!(
            result,
            Err(CompanyError::InvalidCharter(expected)),
            "{case}"
        );
    }
}

/// `count` witnesses with valid keys (C2SP cosignature keys, type 0x04),
/// `quorum` of them needed.
fn witnesses(count: u8, quorum: u32) -> windledger_domain::charter::Witnesses {
    use base64::Engine;
    use sha2::Digest;
    let witnesses = (0..count)
        .map(|i| {
            let name = format!("temoin-{i}.example");
            let public = ed25519_dalek::SigningKey::from_bytes(&[i + 1; 32]).verifying_key();
            let id = sha2::Sha256::new()
                .chain_update(name.as_bytes())
                .chain_update(b"\n")
                .chain_update([0x04])
                .chain_update(public.as_bytes())
                .finalize();
            let mut bytes = vec![0x04];
            bytes.extend_from_slice(public.as_bytes());
            windledger_domain::charter::Witness {
                party: format!("témoin {i}"),
                key: format!(
                    "{name}+{}+{}",
                    hex::encode(&id[..4]),
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                ),
                url: format!("https://temoin-{i}.example"),
            }
        })
        .collect();
    windledger_domain::charter::Witnesses { quorum, witnesses }
}

#[test]
fn a_charter_naming_witnesses_with_valid_keys_and_a_quorum_is_accepted() {
    let mut c = charter();
    c.witnesses = witnesses(3, 2);
    assert_eq!(c.check(), Ok(()));
    assert!(windledger_domain::charter::witness_key_is_valid(
        &c.witnesses.witnesses[0].key
    ));
    for bad in [
        "",
        "a+b+c",
        "name+00000000+",
        "name+0000+AAAA",
        "name with space+00000000+BA==",
    ] {
        assert!(
            !windledger_domain::charter::witness_key_is_valid(bad),
            "{bad}"
        );
    }
}

#[test]
fn colleges_without_fixed_weights_are_accepted() {
    let mut unweighted = charter();
    for college in &mut unweighted.colleges {
        college.weight = None;
    }
    assert_eq!(unweighted.check(), Ok(()));
}

// --- Charter amendment ---------------------------------------------------

fn amended_charter() -> Charter {
    let mut c = charter();
    c.transfers.locked_until = None;
    c
}

#[test]
fn an_adopted_extraordinary_resolution_amends_the_charter_and_is_recorded() {
    accepted(
        capitalised(),
        amend(amended_charter(), "r-amend"),
        vec![CompanyEvent::CharterAmended {
            charter: amended_charter(),
            resolution: resolution("r-amend"),
            effective_date: later(),
        }],
    );
}

#[test]
fn an_amendment_citing_an_unknown_resolution_is_refused() {
    refused(
        capitalised(),
        amend(amended_charter(), "r-nowhere"),
        CompanyError::Unbacked(Unbacked::NotAdopted(res("r-nowhere"))),
    );
}

#[test]
fn an_amendment_citing_a_capital_increase_is_refused() {
    refused(
        capitalised(),
        amend(amended_charter(), "r-increase"),
        purpose_mismatch(
            "r-increase",
            ResolutionPurpose::CharterAmendment,
            ResolutionPurpose::CAPITAL_INCREASE,
        ),
    );
}

#[test]
fn an_amendment_adopted_as_an_ordinary_decision_is_refused() {
    refused(
        capitalised(),
        amend(amended_charter(), "r-amend-ord"),
        CompanyError::Unbacked(Unbacked::WrongDecisionKind {
            resolution: res("r-amend-ord"),
            required: kind("extraordinary"),
            found: kind("ordinary"),
        }),
    );
}

#[test]
fn an_amendment_taking_effect_before_its_resolution_was_adopted_is_refused() {
    let command = CompanyCommand::AmendCharter {
        charter: amended_charter(),
        resolution: res("r-amend"),
        effective_date: day(2016, 6, 1),
    };
    refused(
        capitalised(),
        command,
        CompanyError::ResolutionAdoptedAfterEffectiveDate {
            resolution: res("r-amend"),
            adopted_on: day(2016, 6, 30),
            effective_date: day(2016, 6, 1),
        },
    );
}

#[test]
fn an_amended_charter_that_breaks_a_rule_is_refused() {
    let mut c = charter();
    c.colleges[0].weight = Some(ratio(3, 5));
    refused(
        capitalised(),
        amend(c, "r-amend"),
        CompanyError::InvalidCharter(CharterError::CollegeWeightOutOfBounds {
            college: college(IND),
            weight: ratio(3, 5),
        }),
    );
}

#[test]
fn an_amendment_removing_a_college_that_has_members_is_refused() {
    let mut c = charter();
    c.colleges.retain(|college| college.id.as_str() != CIT);
    for college in &mut c.colleges {
        college.weight = None;
    }
    c.transfers.caps.clear();
    refused(
        capitalised(),
        amend(c, "r-amend"),
        CompanyError::CollegeStillInUse(college(CIT)),
    );
}

#[test]
fn an_amendment_removing_a_class_with_shares_outstanding_is_refused() {
    let mut c = charter();
    c.share_classes.retain(|class| class.id.as_str() != ORD);
    refused(
        capitalised(),
        amend(c, "r-amend"),
        CompanyError::ShareClassStillInUse(class(ORD)),
    );
}

#[test]
fn an_amendment_authorising_fewer_shares_than_outstanding_is_refused() {
    let mut c = charter();
    c.share_classes[0].authorised = shares(1_500);
    let error = CompanyError::AuthorisedSharesExceeded {
        class: class(ORD),
        authorised: shares(1_500),
        outstanding: shares(2_000),
    };
    refused(capitalised(), amend(c, "r-amend"), error);
}

#[test]
fn an_amendment_adding_a_cap_the_register_already_breaches_is_refused() {
    let mut c = charter();
    let cap = OwnershipCap::HolderAtMost {
        college: None,
        limit: ratio(1, 4),
    };
    c.transfers.caps.push(cap.clone());
    refused(
        capitalised(),
        amend(c, "r-amend"),
        CompanyError::CapBreached(cap),
    );
}

#[test]
fn a_failed_resolution_lookup_refuses_the_command_so_it_can_be_retried() {
    TestFramework::<Company>::with(CompanyServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        UnreachableMeetings,
    ))
    .given(capitalised())
    .when(amend(amended_charter(), "r-amend"))
    .then_expect_error(CompanyError::ResolutionLookup(LookupError(
        "the meeting stream is unreachable".to_owned(),
    )));
}

// --- Register ------------------------------------------------------------

fn admit(id: &str, college_id: &str) -> CompanyCommand {
    admission(id, HolderKind::Association, college_id, LOCAL_B, later())
}

#[test]
fn admitting_a_shareholder_records_a_pseudonymous_id_kind_college_and_commune_only() {
    accepted(
        capitalised(),
        admit("h-asso", CIT),
        vec![association_admitted(later())],
    );
}

#[test]
fn a_holder_already_in_the_register_is_not_admitted_twice() {
    refused(
        capitalised(),
        admit("h-c1", CIT),
        CompanyError::HolderAlreadyRegistered(holder("h-c1")),
    );
}

#[test]
fn a_shareholder_is_admitted_only_into_a_college_of_the_charter() {
    refused(
        capitalised(),
        admit("h-asso", "salaries"),
        CompanyError::UnknownCollege(college("salaries")),
    );
}

#[test]
fn a_holder_who_exited_may_be_admitted_again() {
    let exit = exited(NEWCOMER);
    let result = framework()
        .given(with(capitalised(), [exit]))
        .when(admit(NEWCOMER, CIT))
        .inspect_result();
    assert!(matches!(
        result.as_deref(),
        Ok([CompanyEvent::ShareholderAdmitted { .. }])
    ));
}

#[test]
fn a_fact_dated_before_the_latest_recorded_one_is_refused() {
    let admitted_late = association_admitted(day(2017, 1, 1));
    refused(
        with(capitalised(), [admitted_late]),
        admit("h-asso2", CIT),
        CompanyError::EffectiveDateTooEarly {
            effective_date: later(),
            latest: day(2017, 1, 1),
        },
    );
}

#[test]
fn nothing_takes_effect_before_the_formation_date() {
    let command = admission(
        "h-asso",
        HolderKind::Association,
        CIT,
        LOCAL_B,
        day(2013, 1, 1),
    );
    refused(
        incorporated(),
        command,
        CompanyError::EffectiveDateTooEarly {
            effective_date: day(2013, 1, 1),
            latest: formed(),
        },
    );
}

fn change_college(id: &str, to: &str) -> CompanyCommand {
    CompanyCommand::ChangeCollege {
        holder: holder(id),
        college: college(to),
        effective_date: later(),
    }
}

#[test]
fn changing_college_records_the_old_and_the_new_college() {
    accepted(
        capitalised(),
        change_college("h-club", COLL),
        vec![CompanyEvent::ShareholderCollegeChanged {
            holder: holder("h-club"),
            from: college(CIT),
            to: college(COLL),
            effective_date: later(),
        }],
    );
}

#[test]
fn changing_the_college_of_an_unknown_holder_is_refused() {
    refused(
        capitalised(),
        change_college("h-ghost", COLL),
        CompanyError::UnknownHolder(holder("h-ghost")),
    );
}

#[test]
fn changing_to_a_college_outside_the_charter_is_refused() {
    refused(
        capitalised(),
        change_college("h-club", "salaries"),
        CompanyError::UnknownCollege(college("salaries")),
    );
}

#[test]
fn changing_to_the_same_college_records_nothing() {
    refused(
        capitalised(),
        change_college("h-club", CIT),
        CompanyError::NothingChanges(holder("h-club")),
    );
}

#[test]
fn moving_the_sem_into_the_industrial_college_is_refused_by_the_half_capital_cap() {
    refused(capitalised(), change_college("h-sem", IND), cap_breached(0));
}

fn change_residence(id: &str, to: &str) -> CompanyCommand {
    CompanyCommand::ChangeResidence {
        holder: holder(id),
        commune: commune(to),
        effective_date: later(),
    }
}

#[test]
fn a_move_records_the_new_commune_of_residence() {
    accepted(
        capitalised(),
        change_residence("h-c2", LOCAL_A),
        vec![CompanyEvent::ShareholderResidenceChanged {
            holder: holder("h-c2"),
            commune: commune(LOCAL_A),
            effective_date: later(),
        }],
    );
}

#[test]
fn a_move_to_the_same_commune_records_nothing() {
    refused(
        capitalised(),
        change_residence("h-c2", ELSEWHERE),
        CompanyError::NothingChanges(holder("h-c2")),
    );
}

#[test]
fn an_exited_holder_cannot_move() {
    let exit = exited(NEWCOMER);
    refused(
        with(capitalised(), [exit]),
        change_residence(NEWCOMER, LOCAL_A),
        CompanyError::HolderHasExited {
            holder: holder(NEWCOMER),
            exited_on: later(),
        },
    );
}

fn exit(id: &str) -> CompanyCommand {
    CompanyCommand::RecordExit {
        holder: holder(id),
        effective_date: later(),
    }
}

#[test]
fn a_holder_without_shares_exits() {
    accepted(capitalised(), exit(NEWCOMER), vec![exited(NEWCOMER)]);
}

#[test]
fn a_holder_still_holding_shares_cannot_exit() {
    refused(
        capitalised(),
        exit("h-c2"),
        CompanyError::StillHoldsShares {
            holder: holder("h-c2"),
            count: shares(160),
        },
    );
}

// --- Issuance ------------------------------------------------------------

#[test]
fn the_initial_subscription_needs_no_resolution_when_it_matches_the_declared_capital() {
    accepted(
        incorporated(),
        issue(initial_subscriptions(), None, formed()),
        vec![CompanyEvent::SharesIssued {
            subscriptions: initial_subscriptions(),
            resolution: None,
            effective_date: formed(),
        }],
    );
}

#[test]
fn an_initial_subscription_short_of_the_declared_capital_is_refused() {
    let mut subscriptions = initial_subscriptions();
    subscriptions[0].count = shares(999);
    refused(
        incorporated(),
        issue(subscriptions, None, formed()),
        CompanyError::InitialSubscriptionDoesNotMatchCapital {
            declared: eur("200000"),
            subscribed: eur("199900"),
        },
    );
}

#[test]
fn issuing_after_the_initial_subscription_without_a_resolution_is_refused() {
    refused(
        capitalised(),
        issue(vec![subscription("h-c1", PREF, 10, "50")], None, later()),
        CompanyError::ResolutionRequired,
    );
}

#[test]
fn a_capital_increase_issues_shares_and_records_the_resolution_and_prices() {
    let subscriptions = vec![
        subscription("h-ind", ORD, 100, "130"),
        subscription("h-sem", ORD, 50, "130"),
        subscription(NEWCOMER, ORD, 50, "130"),
        subscription("h-c2", PREF, 20, "50"),
    ];
    accepted(
        capitalised(),
        increase(subscriptions.clone()),
        vec![CompanyEvent::SharesIssued {
            subscriptions,
            resolution: Some(resolution("r-increase")),
            effective_date: later(),
        }],
    );
}

#[test]
fn a_capital_increase_adopted_as_an_ordinary_decision_is_refused() {
    refused(
        capitalised(),
        issue(
            vec![subscription("h-c2", PREF, 20, "50")],
            Some("r-increase-ord"),
            later(),
        ),
        CompanyError::Unbacked(Unbacked::WrongDecisionKind {
            resolution: res("r-increase-ord"),
            required: kind("extraordinary"),
            found: kind("ordinary"),
        }),
    );
}

#[test]
fn an_issuance_before_the_capital_increase_was_adopted_is_refused() {
    refused(
        capitalised(),
        issue(
            vec![subscription("h-c2", PREF, 20, "50")],
            Some("r-increase-2030"),
            later(),
        ),
        CompanyError::ResolutionAdoptedAfterEffectiveDate {
            resolution: res("r-increase-2030"),
            adopted_on: day(2030, 1, 1),
            effective_date: later(),
        },
    );
}

#[test]
fn shares_are_never_issued_below_their_nominal_value() {
    refused(
        capitalised(),
        increase(vec![subscription("h-c2", ORD, 10, "99.99")]),
        CompanyError::PriceBelowNominal {
            class: class(ORD),
            price: eur("99.99"),
            nominal: eur("100"),
        },
    );
}

#[test]
fn issuing_beyond_the_authorised_shares_is_refused() {
    refused(
        capitalised(),
        increase(vec![
            subscription("h-ind", ORD, 500, "100"),
            subscription("h-sem", ORD, 501, "100"),
        ]),
        CompanyError::AuthorisedSharesExceeded {
            class: class(ORD),
            authorised: shares(3_000),
            outstanding: shares(3_001),
        },
    );
}

#[test]
fn issuing_new_shares_only_to_the_industrial_partner_is_refused_by_its_cap() {
    refused(
        capitalised(),
        increase(vec![subscription("h-ind", ORD, 10, "100")]),
        cap_breached(0),
    );
}

#[test]
fn issuing_shares_of_a_class_outside_the_charter_is_refused() {
    refused(
        capitalised(),
        increase(vec![subscription("h-c2", "founders", 10, "100")]),
        CompanyError::UnknownShareClass(class("founders")),
    );
}

#[test]
fn an_issuance_of_no_share_is_refused() {
    refused(capitalised(), increase(vec![]), CompanyError::NoShares);
    refused(
        capitalised(),
        increase(vec![subscription("h-c2", PREF, 0, "50")]),
        CompanyError::NoShares,
    );
}

#[test]
fn shares_are_issued_only_to_registered_holders() {
    refused(
        capitalised(),
        increase(vec![subscription("h-ghost", PREF, 10, "50")]),
        CompanyError::UnknownHolder(holder("h-ghost")),
    );
}

#[test]
fn a_count_beyond_exact_arithmetic_is_refused_rather_than_wrapped() {
    let mut huge = charter();
    huge.share_classes[1].authorised = ShareCount::MAX;
    huge.transfers.caps.clear();
    let mut given = incorporated();
    given[0] = CompanyEvent::Incorporated {
        company: incorporation(),
        charter: huge,
    };
    given.push(CompanyEvent::SharesIssued {
        subscriptions: vec![Subscription {
            count: ShareCount::MAX,
            ..subscription("h-c1", PREF, 1, "50")
        }],
        resolution: None,
        effective_date: formed(),
    });
    refused(
        given,
        increase(vec![subscription("h-c2", PREF, 1, "50")]),
        CompanyError::Overflow,
    );
}

// --- Transfers -----------------------------------------------------------

#[test]
fn a_transfer_between_shareholders_after_the_lock_up_needs_no_approval() {
    accepted(
        capitalised(),
        transfer("h-c1", "h-c2", 40, None),
        vec![transferred("h-c1", "h-c2", 40, None)],
    );
}

#[test]
fn a_transfer_to_a_non_shareholder_without_approval_is_refused() {
    refused(
        capitalised(),
        transfer("h-c1", NEWCOMER, 40, None),
        CompanyError::ApprovalRequired {
            transferee: holder(NEWCOMER),
        },
    );
}

#[test]
fn a_transfer_to_a_non_shareholder_with_an_approval_naming_them_is_recorded_with_it() {
    accepted(
        capitalised(),
        transfer("h-c1", NEWCOMER, 40, Some("r-approve-new")),
        vec![transferred("h-c1", NEWCOMER, 40, Some("r-approve-new"))],
    );
}

#[test]
fn an_approval_naming_someone_else_does_not_approve_the_transferee() {
    let given = with(
        capitalised(),
        [admitted("h-other", HolderKind::Individual, CIT, LOCAL_A)],
    );
    refused(
        given,
        transfer("h-c1", "h-other", 40, Some("r-approve-new")),
        purpose_mismatch(
            "r-approve-new",
            ResolutionPurpose::approval_of(holder("h-other")),
            ResolutionPurpose::approval_of(holder(NEWCOMER)),
        ),
    );
}

#[test]
fn without_an_approval_clause_a_newcomer_receives_shares_freely() {
    let mut free = charter();
    free.transfers.approval_of_new_holders = None;
    let mut given = capitalised();
    given[0] = CompanyEvent::Incorporated {
        company: incorporation(),
        charter: free,
    };
    accepted(
        given,
        transfer("h-c1", NEWCOMER, 40, None),
        vec![transferred("h-c1", NEWCOMER, 40, None)],
    );
}

#[test]
fn a_holder_cannot_transfer_more_shares_than_they_hold() {
    refused(
        capitalised(),
        transfer("h-c2", "h-c1", 161, None),
        one_share_more_than_h_c2_holds(),
    );
}

#[test]
fn a_holder_cannot_transfer_to_themselves() {
    refused(
        capitalised(),
        transfer("h-c1", "h-c1", 1, None),
        CompanyError::TransferToSelf(holder("h-c1")),
    );
}

#[test]
fn a_transfer_that_takes_a_citizen_above_a_tenth_of_the_capital_is_refused() {
    refused(
        capitalised(),
        transfer("h-c2", "h-c1", 11, None),
        cap_breached(2),
    );
}

#[test]
fn a_transfer_from_the_local_side_to_the_industrial_partner_is_refused_by_its_cap() {
    refused(
        capitalised(),
        transfer("h-sem", "h-ind", 1, None),
        cap_breached(0),
    );
}

#[test]
fn a_transfer_of_no_share_or_of_an_unknown_class_is_refused() {
    refused(
        capitalised(),
        transfer("h-c1", "h-c2", 0, None),
        CompanyError::NoShares,
    );
    let command = CompanyCommand::TransferShares {
        from: holder("h-c1"),
        to: holder("h-c2"),
        class: class("founders"),
        count: shares(1),
        price_per_share: None,
        approval: None,
        effective_date: later(),
        exemption: None,
    };
    refused(
        capitalised(),
        command,
        CompanyError::UnknownShareClass(class("founders")),
    );
}

#[test]
fn a_transfer_to_someone_outside_the_register_is_refused() {
    refused(
        capitalised(),
        transfer("h-c1", "h-ghost", 1, None),
        CompanyError::UnknownHolder(holder("h-ghost")),
    );
}

// --- Repurchase and cancellation -----------------------------------------

#[test]
fn a_repurchase_after_a_capital_reduction_moves_shares_to_treasury() {
    accepted(
        capitalised(),
        repurchase("h-ind", 10, "r-reduction"),
        vec![repurchased("h-ind", 10)],
    );
    let company = fold(with(capitalised(), [repurchased("h-ind", 10)]));
    assert_eq!(company.holding(&holder("h-ind"), &class(ORD)), shares(990));
    assert_eq!(company.treasury(&class(ORD)), shares(10));
    assert_eq!(company.outstanding(&class(ORD)), shares(2_000));
}

#[test]
fn a_repurchase_citing_a_capital_increase_is_refused() {
    refused(
        capitalised(),
        repurchase("h-ind", 10, "r-increase"),
        purpose_mismatch(
            "r-increase",
            ResolutionPurpose::CAPITAL_REDUCTION,
            ResolutionPurpose::CAPITAL_INCREASE,
        ),
    );
}

#[test]
fn the_company_cannot_repurchase_more_than_the_holder_holds() {
    refused(
        capitalised(),
        repurchase("h-c2", 161, "r-reduction"),
        one_share_more_than_h_c2_holds(),
    );
}

#[test]
fn a_repurchase_leaving_the_local_side_below_half_the_capital_is_refused() {
    refused(
        capitalised(),
        repurchase("h-c1", 10, "r-reduction"),
        cap_breached(1),
    );
}

#[test]
fn cancelling_treasury_shares_reduces_the_shares_outstanding() {
    let from_treasury = cancelled(CancellationSource::Treasury, 10);
    accepted(
        with(capitalised(), [repurchased("h-ind", 10)]),
        cancel(CancellationSource::Treasury, 10, "r-reduction"),
        vec![from_treasury.clone()],
    );
    let company = fold(with(
        capitalised(),
        [repurchased("h-ind", 10), from_treasury],
    ));
    assert_eq!(company.treasury(&class(ORD)), ShareCount::ZERO);
    assert_eq!(company.outstanding(&class(ORD)), shares(1_990));
}

#[test]
fn cancelling_more_than_the_treasury_holds_is_refused() {
    refused(
        with(capitalised(), [repurchased("h-ind", 10)]),
        cancel(CancellationSource::Treasury, 11, "r-reduction"),
        CompanyError::InsufficientTreasuryShares {
            class: class(ORD),
            held: shares(10),
            requested: shares(11),
        },
    );
}

#[test]
fn cancelling_a_holders_shares_records_the_reimbursement() {
    let source = CancellationSource::Holder {
        holder: holder("h-ind"),
        reimbursement_per_share: Some(eur("100")),
    };
    accepted(
        capitalised(),
        cancel(source.clone(), 10, "r-reduction"),
        vec![cancelled(source, 10)],
    );
}

#[test]
fn cancelling_more_shares_than_a_holder_holds_is_refused() {
    let source = CancellationSource::Holder {
        holder: holder("h-c2"),
        reimbursement_per_share: None,
    };
    refused(
        capitalised(),
        cancel(source, 161, "r-reduction"),
        one_share_more_than_h_c2_holds(),
    );
}

#[test]
fn a_cancellation_without_an_adopted_resolution_is_refused() {
    refused(
        with(capitalised(), [repurchased("h-ind", 10)]),
        cancel(CancellationSource::Treasury, 10, "r-pending"),
        CompanyError::Unbacked(Unbacked::NotAdopted(res("r-pending"))),
    );
}

// --- Events as stored ----------------------------------------------------

fn one_of_each_event() -> Vec<CompanyEvent> {
    with(
        capitalised(),
        [
            CompanyEvent::CharterAmended {
                charter: amended_charter(),
                resolution: resolution("r-amend"),
                effective_date: later(),
            },
            CompanyEvent::ShareholderCollegeChanged {
                holder: holder("h-club"),
                from: college(CIT),
                to: college(COLL),
                effective_date: later(),
            },
            CompanyEvent::ShareholderResidenceChanged {
                holder: holder("h-c2"),
                commune: commune(LOCAL_A),
                effective_date: later(),
            },
            transferred("h-c1", NEWCOMER, 40, Some("r-approve-new")),
            repurchased("h-ind", 10),
            cancelled(CancellationSource::Treasury, 10),
            exited("h-c2"),
        ],
    )
}

#[test]
fn every_event_reads_back_from_its_json_named_by_its_type_and_an_integer_version() {
    let events = one_of_each_event();
    let names: BTreeSet<String> = events.iter().map(DomainEvent::event_type).collect();
    assert_eq!(names.len(), 10, "one event of each type: {names:?}");
    for event in events {
        let json = serde_json::to_value(&event).expect("an event serialises");
        let fields = json.as_object().expect("an event is an object");
        let keys: Vec<&String> = fields.keys().collect();
        assert_eq!(keys, [&event.event_type()], "its only key is its type");
        assert!(event.event_version().parse::<u32>().is_ok());
        let back: CompanyEvent = serde_json::from_value(json).expect("and reads back");
        assert_eq!(back, event);
    }
}

/// A transfer's fields are a struct of their own, in a newtype variant:
/// the payload is written as when they were the variant's, in their order,
/// the exemption left out when there is none.
#[test]
fn a_transfer_is_written_as_its_fields_under_its_type() {
    let plain = transferred("h-c1", NEWCOMER, 40, None);
    assert_eq!(
        serde_json::to_string(&plain).expect("JSON"),
        r#"{"SharesTransferred":{"from":"h-c1","to":"h-new","class":"ordinaires","count":40,"price_per_share":"120","approval":null,"effective_date":"2016-07-01"}}"#
    );
    let mut approved = transferred("h-c1", NEWCOMER, 40, Some("r-approve-new"));
    if let CompanyEvent::SharesTransferred(t) = &mut approved {
        t.exemption = Some(LockUpExemption::Succession);
    }
    assert_eq!(
        serde_json::to_string(&approved).expect("JSON"),
        r#"{"SharesTransferred":{"from":"h-c1","to":"h-new","class":"ordinaires","count":40,"price_per_share":"120","approval":{"id":"r-approve-new","decision_kind":"ordinary","purpose":{"purpose":"transfer_approval","transferee":"h-new"},"adopted_on":"2016-06-30"},"effective_date":"2016-07-01","exemption":"succession"}}"#
    );
}

#[test]
fn money_is_a_string_and_no_event_carries_a_float() {
    fn no_float(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) => n.is_u64(),
            serde_json::Value::Array(items) => items.iter().all(no_float),
            serde_json::Value::Object(fields) => fields.values().all(no_float),
            _ => true,
        }
    }
    for event in one_of_each_event() {
        let json = serde_json::to_value(&event).expect("an event serialises");
        assert!(no_float(&json), "{json}");
    }
    let json = serde_json::to_value(repurchased("h-ind", 10)).expect("serialises");
    assert_eq!(json["SharesRepurchased"]["price_per_share"], "110");
}

#[test]
fn the_state_snapshot_reads_back_equal() {
    let company = fold(one_of_each_event());
    let json = serde_json::to_string(&company).expect("the state serialises");
    let back: Company = serde_json::from_str(&json).expect("and reads back");
    assert_eq!(back, company);
}

#[test]
fn the_reserved_matters_follow_the_charter_in_force() {
    // A farm whose charter lets an ordinary decision raise capital.
    let mut lenient = charter();
    lenient.reserved.capital_increase = kind("ordinary");
    let mut given = capitalised();
    given[0] = CompanyEvent::Incorporated {
        company: incorporation(),
        charter: lenient,
    };
    let subscriptions = vec![subscription("h-c2", PREF, 20, "50")];
    accepted(
        given,
        issue(subscriptions.clone(), Some("r-increase-ord"), later()),
        vec![CompanyEvent::SharesIssued {
            subscriptions,
            resolution: Some(resolution("r-increase-ord")),
            effective_date: later(),
        }],
    );
}

// --- Time is the server's clock (issue 16). ---

/// The company as the server decides it on `today`.
fn company_on(today: chrono::NaiveDate) -> TestFramework<Company> {
    let now = today.and_hms_opt(12, 0, 0).expect("noon").and_utc();
    TestFramework::<Company>::with(CompanyServices::new(
        now,
        windledger_domain::resolution::KnownResolutions::new(resolutions()),
    ))
}

#[test]
fn a_transfer_dated_after_today_is_refused_and_one_signed_last_week_is_recorded() {
    let today = later() + chrono::Days::new(7);
    company_on(today)
        .given(capitalised())
        .when(transfer("h-c1", "h-c2", 10, None))
        .then_expect_events(vec![transferred("h-c1", "h-c2", 10, None)]);
    let yesterday = later() - chrono::Days::new(1);
    company_on(yesterday)
        .given(capitalised())
        .when(transfer("h-c1", "h-c2", 10, None))
        .then_expect_error(CompanyError::DatedInTheFuture {
            effective_date: later(),
            today: yesterday,
        });
}

#[test]
fn an_incorporation_dated_after_today_is_refused() {
    let today = formed() - chrono::Days::new(1);
    company_on(today)
        .given_no_previous_events()
        .when(incorporate(charter()))
        .then_expect_error(CompanyError::DatedInTheFuture {
            effective_date: formed(),
            today,
        });
}
