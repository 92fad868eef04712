//! What a command may carry (`windledger_domain::input`): every amount and
//! quantity within its bound, free text without control characters or
//! bidirectional formatting. Commands are read from JSON, as the API and
//! the import files give them.

use proptest::prelude::*;
use serde_json::{Value, json};
use windledger_domain::company::CompanyCommand;
use windledger_domain::finance::{AdvanceCommand, FinancialYearCommand};
use windledger_domain::input;
use windledger_domain::meeting::MeetingCommand;
use windledger_domain::types::ParseError;

fn year_command(value: Value) -> FinancialYearCommand {
    serde_json::from_value(value).expect("a financial-year command")
}

fn refused_field(result: Result<(), ParseError>) -> String {
    match result {
        Err(ParseError::OutOfBounds { what, .. })
        | Err(ParseError::ControlCharacter { what, .. }) => what,
        other => panic!("expected a refusal naming a field, got {other:?}"),
    }
}

fn revenue(volume: &str, price: &str) -> FinancialYearCommand {
    year_command(json!({
        "command": "record_revenue", "report": "r-1", "month": "2025-03",
        "kind": "market_sales", "volume_mwh": volume, "price_per_mwh": price,
        "corrects": null
    }))
}

#[test]
fn a_revenue_line_of_seventy_thousand_billion_billion_mwh_is_refused() {
    let huge = revenue("70000000000000000000000000000", "1");
    assert_eq!(refused_field(huge.check_input()), "volume_mwh");
    let message = revenue("70000000000000000000000000000", "1")
        .check_input()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("volume_mwh") && message.contains("10000000 MWh"),
        "{message}"
    );
}

#[test]
fn the_bounds_are_inclusive() {
    assert_eq!(revenue("10000000", "100000").check_input(), Ok(()));
    assert_eq!(revenue("10000000", "-100000").check_input(), Ok(()));
    assert_eq!(
        refused_field(revenue("10000000.001", "1").check_input()),
        "volume_mwh"
    );
    assert_eq!(
        refused_field(revenue("1", "-100000.01").check_input()),
        "price_per_mwh"
    );
    let cost = |amount: &str| {
        year_command(json!({
            "command": "record_cost", "report": "c-1", "month": "2025-03",
            "category": "maintenance", "amount": amount, "beneficiary": null, "corrects": null
        }))
        .check_input()
    };
    assert_eq!(cost("1000000000000"), Ok(()));
    assert_eq!(refused_field(cost("1000000000000.01")), "amount");
}

/// One command per amount or quantity of the financial year and the
/// advances, past its bound: refused, naming the field.
#[test]
fn every_amount_of_the_money_side_is_bounded() {
    let big = "1000000000001";
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"command": "open_year", "year": 2025, "starts_on": "2025-01-01",
                   "ends_on": "2025-12-31", "opening_balances": {"legal_reserve": "0",
                   "statutory_reserves": "0", "retained_earnings": format!("-{big}")}}),
            "opening_balances.retained_earnings",
        ),
        (
            json!({"command": "open_year", "year": 10000, "starts_on": "2025-01-01",
                   "ends_on": "2025-12-31", "opening_balances": null}),
            "year",
        ),
        (
            json!({"command": "report_production", "report": "p-1", "turbine": "T01",
                   "month": "2025-03", "mwh": "10000001", "availability": "99", "corrects": null}),
            "mwh",
        ),
        (
            json!({"command": "assess_ifer", "report": "i-1", "tax_year": 2025,
                   "rate_per_kw": "10000.01", "epci": "732829320",
                   "epci_single_business_tax": true, "corrects": null}),
            "rate_per_kw",
        ),
        (
            json!({"command": "record_local_tax", "report": "t-1", "tax": "cfe",
                   "beneficiary": {"beneficiary": "commune", "commune": "42026"},
                   "amount": big, "corrects": null}),
            "amount",
        ),
        (
            json!({"command": "record_local_tax", "report": "t-1", "tax": "cfe",
                   "beneficiary": {"beneficiary": "departement", "code": "42\u{0}"},
                   "amount": "1", "corrects": null}),
            "beneficiary.code",
        ),
        (
            json!({"command": "approve_accounts", "resolution": "ago.1",
                   "net_result": format!("-{big}")}),
            "net_result",
        ),
        (
            json!({"command": "appropriate_result", "resolution": "ago.2",
                   "statutory_reserves": "0", "dividend": big}),
            "dividend",
        ),
        (
            json!({"command": "declare_dividend", "resolution": "ago.2",
                   "amount": {"basis": "per_share", "amount": big},
                   "record_date": "2025-06-10", "payment_date": "2025-07-01", "withholding": null}),
            "amount.amount",
        ),
    ];
    for (command, field) in cases {
        assert_eq!(
            refused_field(year_command(command.clone()).check_input()),
            field,
            "{command}"
        );
    }
    let advance = |value: Value| -> AdvanceCommand {
        serde_json::from_value(value).expect("an advance command")
    };
    let grant = advance(
        json!({"command": "grant", "advance": "a-1", "holder": "h-1",
                               "amount": big, "annual_rate": "3", "granted_on": "2025-01-01"}),
    );
    assert_eq!(refused_field(grant.check_input()), "amount");
    let accrue = advance(json!({"command": "accrue_interest", "year": 2147483647,
                                "rate_ceiling": "3", "accrued_on": "2025-01-01"}));
    assert_eq!(refused_field(accrue.check_input()), "year");
}

fn company(value: Value) -> CompanyCommand {
    serde_json::from_value(value).expect("a company command")
}

fn charter_with(class: Value, college_name: &str) -> Value {
    json!({
        "colleges": [{"id": "associes", "name": college_name, "weight": null, "vote_basis": "per_share"}],
        "share_classes": [class],
        "decision_kinds": [{"id": "ordinary", "quorum_first_call": "1/5", "quorum_second_call": "0/1",
                            "majority": {"more_than": "1/2"}, "college_majorities_required": []}],
        "reserved": {"charter_amendment": "ordinary", "capital_increase": "ordinary",
                     "capital_reduction": "ordinary"},
        "transfers": {"approval_of_new_holders": null, "locked_until": null, "caps": []}
    })
}

fn class(nominal: &str, votes: u32, rights: &str, authorised: u64) -> Value {
    json!({"id": "ordinaires", "name": "Actions ordinaires", "nominal_value": nominal,
           "votes_per_share": votes, "dividend_rights": rights, "authorised": authorised})
}

fn amendment(charter: Value) -> CompanyCommand {
    company(
        json!({"command": "amend_charter", "charter": charter, "resolution": "age.1",
                   "effective_date": "2025-06-30"}),
    )
}

#[test]
fn a_charter_is_bounded_in_every_figure_and_name() {
    let ok = amendment(charter_with(class("100", 1, "6/5", 10_000), "Associés"));
    assert_eq!(ok.check_input(), Ok(()));
    let cases = [
        (
            charter_with(class("1000000000001", 1, "1/1", 10_000), "Associés"),
            "charter.share_classes[0].nominal_value",
        ),
        (
            charter_with(class("100", 101, "1/1", 10_000), "Associés"),
            "charter.share_classes[0].votes_per_share",
        ),
        (
            charter_with(class("100", 1, "1/1000001", 10_000), "Associés"),
            "charter.share_classes[0].dividend_rights",
        ),
        (
            charter_with(class("100", 1, "1/1", 1_000_000_000_001), "Associés"),
            "charter.share_classes[0].authorised",
        ),
        (
            charter_with(class("100", 1, "1/1", 10_000), "Associés\ncitoyens"),
            "charter.colleges[0].name",
        ),
        (
            charter_with(class("100", 1, "1/1", 10_000), &"x".repeat(201)),
            "charter.colleges[0].name",
        ),
    ];
    for (charter, field) in cases {
        assert_eq!(refused_field(amendment(charter).check_input()), field);
    }
}

#[test]
fn share_movements_are_bounded() {
    let transfer = |count: u64, price: &str| {
        company(json!({"command": "transfer_shares", "from": "a", "to": "b",
                       "class": "ordinaires", "count": count, "price_per_share": price,
                       "approval": null, "effective_date": "2025-06-30"}))
        .check_input()
    };
    assert_eq!(transfer(1_000_000_000_000, "1000000000000"), Ok(()));
    assert_eq!(refused_field(transfer(1_000_000_000_001, "1")), "count");
    assert_eq!(
        refused_field(transfer(1, "1000000000000.01")),
        "price_per_share"
    );
    let issue = company(json!({"command": "issue_shares", "resolution": null,
        "effective_date": "2025-06-30", "subscriptions": [
            {"holder": "a", "class": "ordinaires", "count": 10, "price_per_share": "100"},
            {"holder": "b", "class": "ordinaires", "count": 10, "price_per_share": "1e13"}]}));
    assert_eq!(
        refused_field(issue.check_input()),
        "subscriptions[1].price_per_share"
    );
    let far = company(json!({"command": "record_exit", "holder": "a",
                             "effective_date": "+10000-01-01"}));
    assert_eq!(refused_field(far.check_input()), "effective_date");
}

fn convene(text: &str) -> MeetingCommand {
    serde_json::from_value(json!({
        "command": "convene", "meeting": "ago-2026", "kind": "ordinary_general_meeting",
        "call": {"call": "first"}, "record_date": "2026-06-10",
        "opens_at": "2026-06-15T08:00:00Z", "closes_at": "2026-06-25T18:00:00Z",
        "agenda": [
            {"decision_kind": "ordinary", "purpose": {"purpose": "general"}, "text": "Approbation"},
            {"decision_kind": "ordinary", "purpose": {"purpose": "general"}, "text": text}
        ],
        "convened_on": "2026-05-20"
    }))
    .expect("a meeting command")
}

#[test]
fn an_agenda_text_with_a_nul_byte_or_a_bidi_override_is_refused_where_it_is() {
    let refused = |text: &str| convene(text).check_input();
    assert_eq!(
        refused("Budget\u{0} 2026"),
        Err(ParseError::ControlCharacter {
            what: "agenda[1].text".to_owned(),
            character: "U+0000".to_owned(),
            index: 7,
        })
    );
    for c in [
        '\u{1}', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{202a}', '\u{202b}', '\u{202c}',
        '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}',
        '\u{200f}', '\u{61c}',
    ] {
        let text = format!("Vote {c}pour");
        assert!(
            matches!(
                refused(&text),
                Err(ParseError::ControlCharacter { index: 6, .. })
            ),
            "U+{:04X} should be refused",
            u32::from(c)
        );
    }
    let message = refused("a\u{202e}b")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("U+202E"), "{message}");
}

#[test]
fn line_breaks_tabs_and_any_language_are_fine_in_a_text() {
    let text = "Article 1 :\n\tle parc « Ailes de Taillard » adhère à l'Enercoop — 25 % ;\n\
                Ελληνικά, العربية, 日本語, emoji 🌬️ (with its zero-width joiner \u{200d}).";
    assert_eq!(convene(text).check_input(), Ok(()));
}

#[test]
fn meeting_instants_are_within_the_years_bound() {
    let ballot: MeetingCommand = serde_json::from_value(json!({
        "command": "cast_ballot", "voter": "a", "cast_by": "a", "choices": {},
        "at": "+20000-01-01T00:00:00Z"
    }))
    .expect("a ballot");
    assert_eq!(refused_field(ballot.check_input()), "at");
}

proptest! {
    /// A text is refused exactly when it holds a refused character, and
    /// the refusal points at the first one.
    #[test]
    fn a_text_is_refused_exactly_at_its_first_refused_character(text in any::<String>()) {
        let first = text.chars().position(input::refused_in_text);
        match (input::text("text", &text), first) {
            (Ok(()), None) => {}
            (Err(ParseError::ControlCharacter { index, .. }), Some(i)) => prop_assert_eq!(index, i + 1),
            (other, first) => prop_assert!(false, "{:?} for a first refused character at {:?}", other, first),
        }
    }
}
