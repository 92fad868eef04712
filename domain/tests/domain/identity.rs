//! Identities on the company stream: only a commitment enters the ledger,
//! an admission may carry one, and erasure waits for the exit and the
//! retention period after it.

use crate::common::*;
use cqrs_es::DomainEvent;
use windledger_domain::company::{
    CompanyCommand, CompanyError, CompanyEvent, HolderKind, RETENTION_AFTER_EXIT_YEARS,
};
use windledger_domain::types::IdentityCommitment;

fn commitment(digit: char) -> IdentityCommitment {
    IdentityCommitment::new(digit.to_string().repeat(64)).expect("64 hex digits")
}

fn recorded(id: &str, digit: char, on: chrono::NaiveDate) -> CompanyEvent {
    CompanyEvent::IdentityRecorded {
        holder: holder(id),
        commitment: commitment(digit),
        effective_date: on,
    }
}

fn exited(id: &str, on: chrono::NaiveDate) -> CompanyEvent {
    CompanyEvent::ShareholderExited {
        holder: holder(id),
        effective_date: on,
    }
}

fn erase(id: &str, on: chrono::NaiveDate) -> CompanyCommand {
    CompanyCommand::EraseIdentity {
        holder: holder(id),
        effective_date: on,
    }
}

#[test]
fn an_admission_with_an_identity_records_the_admission_then_the_commitment() {
    framework()
        .given(capitalised())
        .when(CompanyCommand::AdmitShareholder {
            holder: holder("h-asso"),
            kind: HolderKind::Association,
            college: college(CIT),
            commune: commune(LOCAL_B),
            effective_date: later(),
            identity: Some(commitment('a')),
            members: None,
        })
        .then_expect_events(vec![
            association_admitted(later()),
            recorded("h-asso", 'a', later()),
        ]);
}

#[test]
fn an_admission_without_an_identity_is_written_as_before_the_vault() {
    let command = CompanyCommand::AdmitShareholder {
        holder: holder("h-asso"),
        kind: HolderKind::Association,
        college: college(CIT),
        commune: commune(LOCAL_B),
        effective_date: later(),
        identity: None,
        members: None,
    };
    let json = serde_json::to_string(&command).expect("serialises");
    assert!(!json.contains("identity"), "{json}");
    let read: CompanyCommand = serde_json::from_str(&json).expect("reads back");
    assert_eq!(read, command);
}

#[test]
fn an_identity_is_recorded_for_a_registered_holder_only() {
    framework()
        .given(capitalised())
        .when(CompanyCommand::RecordIdentity {
            holder: holder(NEWCOMER),
            commitment: commitment('b'),
            effective_date: later(),
        })
        .then_expect_events(vec![recorded(NEWCOMER, 'b', later())]);
    framework()
        .given(capitalised())
        .when(CompanyCommand::RecordIdentity {
            holder: holder("h-nobody"),
            commitment: commitment('b'),
            effective_date: later(),
        })
        .then_expect_error(CompanyError::UnknownHolder(holder("h-nobody")));
}

#[test]
fn the_recorded_event_carries_a_commitment_and_no_personal_data() {
    let event = recorded(NEWCOMER, 'c', later());
    assert_eq!(event.event_type(), "IdentityRecorded");
    let json = serde_json::to_value(&event).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({"IdentityRecorded": {
            "holder": NEWCOMER, "commitment": "c".repeat(64), "effective_date": "2016-07-01"
        }})
    );
    assert!(IdentityCommitment::new("C".repeat(64)).is_err());
    assert!(IdentityCommitment::new("c".repeat(63)).is_err());
}

#[test]
fn erasure_is_refused_while_the_holder_holds_shares_or_has_not_exited() {
    let with_identities = with(
        capitalised(),
        [
            recorded("h-c1", 'a', later()),
            recorded(NEWCOMER, 'b', later()),
        ],
    );
    let result = framework()
        .given(with_identities.clone())
        .when(erase("h-c1", later()))
        .inspect_result();
    assert!(
        matches!(result, Err(CompanyError::StillHoldsShares { .. })),
        "{result:?}"
    );
    framework()
        .given(with_identities)
        .when(erase(NEWCOMER, later()))
        .then_expect_error(CompanyError::NotExited(holder(NEWCOMER)));
    framework()
        .given(capitalised())
        .when(erase(NEWCOMER, later()))
        .then_expect_error(CompanyError::NoIdentity(holder(NEWCOMER)));
}

#[test]
fn erasure_waits_ten_years_after_the_exit_then_is_recorded_and_final() {
    assert_eq!(RETENTION_AFTER_EXIT_YEARS, 10);
    let history = with(
        capitalised(),
        [recorded(NEWCOMER, 'b', later()), exited(NEWCOMER, later())],
    );
    framework()
        .given(history.clone())
        .when(erase(NEWCOMER, day(2026, 6, 30)))
        .then_expect_error(CompanyError::RetentionRunning {
            holder: holder(NEWCOMER),
            exited_on: later(),
            until: day(2026, 7, 1),
        });
    let erased = CompanyEvent::IdentityErased {
        holder: holder(NEWCOMER),
        effective_date: day(2026, 7, 1),
    };
    framework()
        .given(history.clone())
        .when(erase(NEWCOMER, day(2026, 7, 1)))
        .then_expect_events(vec![erased.clone()]);
    let after = with(history, [erased]);
    framework()
        .given(after.clone())
        .when(erase(NEWCOMER, day(2026, 7, 2)))
        .then_expect_error(CompanyError::IdentityErased(holder(NEWCOMER)));
    framework()
        .given(after.clone())
        .when(CompanyCommand::RecordIdentity {
            holder: holder(NEWCOMER),
            commitment: commitment('d'),
            effective_date: day(2026, 7, 2),
        })
        .then_expect_error(CompanyError::IdentityErased(holder(NEWCOMER)));
    // Admitted again, they are a new entry of the register.
    let result = framework()
        .given(after)
        .when(CompanyCommand::AdmitShareholder {
            holder: holder(NEWCOMER),
            kind: HolderKind::Individual,
            college: college(CIT),
            commune: commune(LOCAL_B),
            effective_date: day(2026, 7, 2),
            identity: Some(commitment('e')),
            members: None,
        })
        .inspect_result();
    assert!(matches!(
        result.as_deref(),
        Ok([
            CompanyEvent::ShareholderAdmitted { .. },
            CompanyEvent::IdentityRecorded { .. }
        ])
    ));
}

#[test]
fn the_command_read_back_from_each_event_decides_it_again() {
    for event in [
        recorded(NEWCOMER, 'b', later()),
        CompanyEvent::IdentityErased {
            holder: holder(NEWCOMER),
            effective_date: day(2026, 7, 1),
        },
    ] {
        let given = with(
            capitalised(),
            [recorded(NEWCOMER, 'a', later()), exited(NEWCOMER, later())],
        );
        framework()
            .given(given)
            .when(CompanyCommand::from(&event))
            .then_expect_events(vec![event]);
    }
}
