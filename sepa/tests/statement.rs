//! Bank statements read back (`windledger_sepa::statement`): camt.053 as
//! the test bank writes it (checked against the ISO 20022 schema) and as
//! other banks might, the CSV, the errors, and arbitrary bytes.

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use windledger_sepa::statement::{MAX_LINES, StatementError, read, read_camt053, read_csv};
use windledger_sepa::testing::{Schema, bank::*, validate};
use windledger_sepa::{Direction, LineStatus, StatementLine};

const IBAN: &str = "FR7630006000011234567890189";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn created() -> NaiveDateTime {
    date(2025, 6, 5).and_hms_opt(8, 30, 0).expect("a time")
}

fn line(
    id: Option<&str>,
    amount: u64,
    direction: Direction,
    booking_date: Option<NaiveDate>,
    status: LineStatus,
    place: &str,
) -> StatementLine {
    StatementLine {
        end_to_end_id: id.map(str::to_owned),
        amount,
        currency: "EUR".to_owned(),
        direction,
        booking_date,
        status,
        place: place.to_owned(),
    }
}

fn returned(reason: Option<&str>) -> LineStatus {
    LineStatus::Returned {
        reason: reason.map(str::to_owned),
    }
}

fn bank_lines() -> Vec<BankLine> {
    vec![
        BankLine {
            end_to_end_id: "DIV-2025-00001".to_owned(),
            amount: 12_345,
            booking_date: date(2025, 6, 2),
            outcome: Outcome::Booked,
        },
        BankLine {
            end_to_end_id: "DIV-2025-00002".to_owned(),
            amount: 8_000,
            booking_date: date(2025, 6, 3),
            outcome: Outcome::Pending,
        },
        BankLine {
            end_to_end_id: "DIV-2025-00003".to_owned(),
            amount: 1_510,
            booking_date: date(2025, 6, 2),
            outcome: Outcome::Returned {
                reason: "AC04".to_owned(),
            },
        },
        BankLine {
            end_to_end_id: "DIV-2025-00004".to_owned(),
            amount: 7,
            booking_date: date(2025, 6, 4),
            outcome: Outcome::Booked,
        },
    ]
}

#[test]
fn a_bank_statement_is_valid_camt053_and_reads_back() {
    let xml = bank_statement(IBAN, &bank_lines(), created());
    let validation = validate(&xml, Schema::Camt053);
    assert!(
        validation.is_ok(),
        "not valid against camt.053.001.08: {validation:?}\n{xml}"
    );

    let expected = vec![
        line(
            Some("DIV-2025-00001"),
            12_345,
            Direction::Debit,
            Some(date(2025, 6, 2)),
            LineStatus::Booked,
            "entry 1, transaction 1",
        ),
        line(
            Some("DIV-2025-00002"),
            8_000,
            Direction::Debit,
            Some(date(2025, 6, 3)),
            LineStatus::Pending,
            "entry 2, transaction 1",
        ),
        line(
            Some("DIV-2025-00003"),
            1_510,
            Direction::Debit,
            Some(date(2025, 6, 2)),
            LineStatus::Booked,
            "entry 3, transaction 1",
        ),
        line(
            Some("DIV-2025-00003"),
            1_510,
            Direction::Credit,
            Some(date(2025, 6, 2)),
            returned(Some("AC04")),
            "entry 4, transaction 1",
        ),
        line(
            Some("DIV-2025-00004"),
            7,
            Direction::Debit,
            Some(date(2025, 6, 4)),
            LineStatus::Booked,
            "entry 5, transaction 1",
        ),
    ];
    assert_eq!(read_camt053(xml.as_bytes()), Ok(expected.clone()));
    assert_eq!(read(xml.as_bytes()), Ok(expected));
}

#[test]
fn a_bank_statement_states_its_account_ids_and_balances() {
    let xml = bank_statement(IBAN, &bank_lines(), created());
    assert!(xml.contains("<MsgId>STMT-20250605083000</MsgId>"), "{xml}");
    assert!(
        xml.contains("<CreDtTm>2025-06-05T08:30:00</CreDtTm>"),
        "{xml}"
    );
    assert!(xml.contains(&format!("<IBAN>{IBAN}</IBAN>")), "{xml}");
    // Booked: 123.45 and 0.07 paid; the returned 15.10 paid and given back.
    let compact: String = xml.lines().map(str::trim).collect();
    let closing = "<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">123.52</Amt>\
                   <CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2025-06-05</Dt></Dt>";
    assert!(compact.contains(closing), "{xml}");
    let opening = "<Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt>\
                   <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-06-02</Dt></Dt>";
    assert!(compact.contains(opening), "{xml}");
    assert!(xml.contains("<SubFmlyCd>RRTN</SubFmlyCd>"), "{xml}");
}

#[test]
fn an_empty_bank_statement_is_valid_and_reads_as_no_line() {
    let xml = bank_statement(IBAN, &[], created());
    let validation = validate(&xml, Schema::Camt053);
    assert!(validation.is_ok(), "{validation:?}\n{xml}");
    assert_eq!(read(xml.as_bytes()), Ok(vec![]));
}

/// A version 02 statement with a namespace prefix, as another bank
/// might write it.
const PREFIXED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand -->
<c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <c:BkToCstmrStmt>
    <c:GrpHdr><c:MsgId>M1</c:MsgId><c:CreDtTm>2025-06-05T08:00:00</c:CreDtTm></c:GrpHdr>
    <c:Stmt>
      <c:Id>S1</c:Id>
      <c:Acct><c:Id><c:IBAN>FR7630006000011234567890189</c:IBAN></c:Id></c:Acct>
      <c:Bal>
        <c:Tp><c:CdOrPrtry><c:Cd>OPBD</c:Cd></c:CdOrPrtry></c:Tp>
        <c:Amt Ccy="EUR">99999.99</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd>
        <c:Dt><c:Dt>2025-06-01</c:Dt></c:Dt>
      </c:Bal>
      <c:Ntry>
        <c:Amt Ccy="EUR">1334.50</c:Amt>
        <c:CdtDbtInd>DBIT</c:CdtDbtInd>
        <c:Sts>BOOK</c:Sts>
        <c:BookgDt><c:DtTm>2025-06-02T23:30:00+02:00</c:DtTm></c:BookgDt>
        <c:BkTxCd/>
        <c:NtryDtls>
          <c:Btch><c:NbOfTxs>3</c:NbOfTxs></c:Btch>
          <c:TxDtls>
            <c:Refs><c:EndToEndId> DIV-2025-00042 </c:EndToEndId></c:Refs>
            <c:AmtDtls><c:TxAmt><c:Amt Ccy="EUR">1234.5</c:Amt></c:TxAmt></c:AmtDtls>
          </c:TxDtls>
          <c:TxDtls>
            <c:Refs><c:EndToEndId>DIV&#45;2025&#x2D;00043</c:EndToEndId></c:Refs>
            <c:Amt Ccy="EUR">100</c:Amt>
          </c:TxDtls>
          <c:TxDtls>
            <c:Refs><c:EndToEndId>NOTPROVIDED</c:EndToEndId></c:Refs>
            <c:Amt Ccy="EUR">0.00</c:Amt>
            <c:CdtDbtInd>CRDT</c:CdtDbtInd>
          </c:TxDtls>
        </c:NtryDtls>
      </c:Ntry>
      <c:Ntry>
        <c:Amt Ccy="EUR">15.10</c:Amt>
        <c:CdtDbtInd>CRDT</c:CdtDbtInd>
        <c:RvslInd>true</c:RvslInd>
        <c:Sts><c:Cd>BOOK</c:Cd></c:Sts>
        <c:BookgDt><c:Dt>2025-06-04</c:Dt></c:BookgDt>
        <c:NtryDtls><c:TxDtls>
          <c:Refs><c:EndToEndId>A&amp;B<![CDATA[<C>]]></c:EndToEndId></c:Refs>
        </c:TxDtls></c:NtryDtls>
      </c:Ntry>
      <c:Ntry>
        <c:Amt Ccy="EUR">12</c:Amt>
        <c:CdtDbtInd>DBIT</c:CdtDbtInd>
        <c:Sts><c:Cd>PDNG</c:Cd></c:Sts>
      </c:Ntry>
      <c:Ntry>
        <c:Amt Ccy="EUR">80.00</c:Amt>
        <c:CdtDbtInd>CRDT</c:CdtDbtInd>
        <c:Sts><c:Cd>INFO</c:Cd></c:Sts>
        <c:BookgDt><c:Dt>2025-06-05</c:Dt></c:BookgDt>
        <c:NtryDtls><c:TxDtls>
          <c:Refs><c:InstrId>I1</c:InstrId><c:EndToEndId>DIV-2025-00044</c:EndToEndId></c:Refs>
          <c:RtrInf>
            <c:Rsn><c:Prtry>Compte clos</c:Prtry></c:Rsn>
            <c:AddtlInf>first</c:AddtlInf>
          </c:RtrInf>
        </c:TxDtls></c:NtryDtls>
      </c:Ntry>
    </c:Stmt>
  </c:BkToCstmrStmt>
</c:Document>
"#;

#[test]
fn a_prefixed_version_02_statement_reads_entry_by_entry() {
    let june = |d| Some(date(2025, 6, d));
    assert_eq!(
        read(PREFIXED.as_bytes()),
        Ok(vec![
            line(
                Some("DIV-2025-00042"),
                123_450,
                Direction::Debit,
                june(2),
                LineStatus::Booked,
                "entry 1, transaction 1",
            ),
            line(
                Some("DIV-2025-00043"),
                10_000,
                Direction::Debit,
                june(2),
                LineStatus::Booked,
                "entry 1, transaction 2",
            ),
            line(
                None,
                0,
                Direction::Credit,
                june(2),
                LineStatus::Booked,
                "entry 1, transaction 3",
            ),
            line(
                Some("A&B<C>"),
                1_510,
                Direction::Credit,
                june(4),
                returned(None),
                "entry 2, transaction 1",
            ),
            line(
                None,
                1_200,
                Direction::Debit,
                None,
                LineStatus::Pending,
                "entry 3",
            ),
            line(
                Some("DIV-2025-00044"),
                8_000,
                Direction::Credit,
                june(5),
                returned(Some("Compte clos")),
                "entry 4, transaction 1",
            ),
        ])
    );
}

#[test]
fn a_return_reason_is_its_code_then_its_text_then_its_information() {
    let entry = |return_info: &str| {
        one_entry(&format!(
            "<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
             <NtryDtls><TxDtls><RtrInf>{return_info}</RtrInf></TxDtls></NtryDtls>"
        ))
    };
    let reason = |return_info: &str| {
        read(entry(return_info).as_bytes()).map(|lines| lines[0].status.clone())
    };
    assert_eq!(
        reason("<Rsn><Cd>AC04</Cd></Rsn><AddtlInf>closed</AddtlInf>"),
        Ok(returned(Some("AC04")))
    );
    assert_eq!(
        reason("<Rsn><Prtry>Clos</Prtry></Rsn><AddtlInf>closed</AddtlInf>"),
        Ok(returned(Some("Clos")))
    );
    assert_eq!(
        reason("<AddtlInf> closed </AddtlInf><AddtlInf>again</AddtlInf>"),
        Ok(returned(Some("closed")))
    );
    assert_eq!(reason(""), Ok(returned(None)));
}

/// A version 08 statement of one entry whose contents are `entry`.
fn one_entry(entry: &str) -> String {
    format!(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>M</MsgId><CreDtTm>2025-06-05T08:00:00</CreDtTm></GrpHdr>\
         <Stmt><Id>S</Id><Ntry>{entry}</Ntry></Stmt></BkToCstmrStmt></Document>"
    )
}

/// An entry of one transaction whose amount is `amount`.
fn with_amount(amount: &str) -> String {
    one_entry(&format!(
        "<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
         <BookgDt><Dt>2025-06-02</Dt></BookgDt>\
         <NtryDtls><TxDtls><Refs><EndToEndId>DIV-1</EndToEndId></Refs>\
         <Amt Ccy=\"EUR\">{amount}</Amt></TxDtls></NtryDtls>"
    ))
}

#[test]
fn amounts_are_exact_cents() {
    let amount = |text| read(with_amount(text).as_bytes()).map(|lines| lines[0].amount);
    assert_eq!(amount("1234.5"), Ok(123_450));
    assert_eq!(amount("0.01"), Ok(1));
    assert_eq!(amount(" 7 "), Ok(700));
    assert_eq!(amount("12.340"), Ok(1_234));
    for text in [
        "12.345",
        "-1.00",
        "1e3",
        "+1.00",
        "",
        "1,00",
        "1 000.00",
        "99999999999999999999",
    ] {
        assert_eq!(
            amount(text),
            Err(StatementError::Amount {
                place: "entry 1, transaction 1".to_owned(),
                text: text.trim().to_owned(),
            }),
            "{text:?}"
        );
    }
    let error = amount("12.345").expect_err("3 decimals");
    assert_eq!(
        error.to_string(),
        "entry 1, transaction 1: the amount `12.345` is not a decimal number with at most \
         2 decimals, without sign or exponent (such as 1234.56)"
    );
}

#[test]
fn a_batch_entry_needs_each_transaction_s_amount() {
    let xml = one_entry(
        "<Amt Ccy=\"EUR\">3.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
         <NtryDtls><TxDtls><Amt Ccy=\"EUR\">1.00</Amt></TxDtls><TxDtls/></NtryDtls>",
    );
    assert_eq!(
        read(xml.as_bytes()),
        Err(StatementError::MissingAmount {
            place: "entry 1, transaction 2".to_owned()
        })
    );
}

#[test]
fn a_statement_s_mistakes_are_said() {
    let no_currency = one_entry("<Amt>1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>");
    assert_eq!(
        read(no_currency.as_bytes()),
        Err(StatementError::MissingCurrency {
            place: "entry 1".to_owned()
        })
    );
    let no_direction = one_entry("<Amt Ccy=\"EUR\">1.00</Amt>");
    assert_eq!(
        read(no_direction.as_bytes()),
        Err(StatementError::MissingCreditDebit {
            place: "entry 1".to_owned()
        })
    );
    let bad_direction = one_entry("<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>OUT</CdtDbtInd>");
    assert_eq!(
        read(bad_direction.as_bytes()),
        Err(StatementError::CreditDebit {
            place: "entry 1".to_owned(),
            text: "OUT".to_owned()
        })
    );
    let bad_date = one_entry(
        "<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>\
         <BookgDt><Dt>02/06/2025</Dt></BookgDt>",
    );
    let error = read(bad_date.as_bytes()).expect_err("a French date in camt");
    assert_eq!(
        error.to_string(),
        "entry 1: the date `02/06/2025` is not a date written YYYY-MM-DD"
    );
    let bad_currency = one_entry("<Amt Ccy=\"E1\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>");
    assert_eq!(
        read(bad_currency.as_bytes()),
        Err(StatementError::Currency {
            place: "entry 1".to_owned(),
            text: "E1".to_owned()
        })
    );
}

#[test]
fn only_a_camt053_document_is_read() {
    let pain = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>"#;
    let error = read(pain.as_bytes()).expect_err("a payment file");
    assert_eq!(
        error,
        StatementError::NotCamt053 {
            found: "a root element `Document` in the namespace \
                    `urn:iso:std:iso:20022:tech:xsd:pain.001.001.09`"
                .to_owned()
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("not a camt.053 bank statement: expected a `Document` element"),
        "{error}"
    );
    let wrong_root = r#"<x:Statement xmlns:x="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>"#;
    assert_eq!(
        read(wrong_root.as_bytes()),
        Err(StatementError::NotCamt053 {
            found: "a root element `x:Statement` in the namespace \
                    `urn:iso:std:iso:20022:tech:xsd:camt.053.001.08`"
                .to_owned()
        })
    );
    assert_eq!(
        read(b"<Document><BkToCstmrStmt/></Document>"),
        Err(StatementError::NotCamt053 {
            found: "a root element `Document` in no namespace".to_owned()
        })
    );
    let camt054 = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn/></Document>"#;
    assert!(matches!(
        read(camt054.as_bytes()),
        Err(StatementError::NotCamt053 { .. })
    ));
    let other_child = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrAcctRpt/></Document>"#;
    assert_eq!(
        read(other_child.as_bytes()),
        Err(StatementError::NotCamt053 {
            found: "a `Document` whose first element is `BkToCstmrAcctRpt`".to_owned()
        })
    );
    let empty = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>"#;
    assert_eq!(
        read(empty.as_bytes()),
        Err(StatementError::NotCamt053 {
            found: "a `Document` without `BkToCstmrStmt`".to_owned()
        })
    );
}

#[test]
fn a_document_type_is_refused() {
    let doctype = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [<!ENTITY e \"DIV-1\">]>\n{}",
        with_amount("1.00")
    );
    assert_eq!(read(doctype.as_bytes()), Err(StatementError::DocType));
    assert_eq!(
        StatementError::DocType.to_string(),
        "the statement declares a document type (<!DOCTYPE ...>), which no bank statement \
         has: refused"
    );
}

#[test]
fn what_is_not_xml_is_said() {
    let truncated = with_amount("1.00");
    let truncated = &truncated[..truncated.len() - 20];
    assert!(
        matches!(read(truncated.as_bytes()), Err(StatementError::Xml { .. })),
        "{:?}",
        read(truncated.as_bytes())
    );
    let mismatched = with_amount("1.00").replace("</Stmt>", "</Stmnt>");
    assert!(matches!(
        read(mismatched.as_bytes()),
        Err(StatementError::Xml { .. })
    ));
    let unknown_entity = with_amount("1.00").replace("DIV-1", "DIV&nbsp;1");
    let error = read(unknown_entity.as_bytes()).expect_err("an undeclared entity");
    assert!(
        matches!(&error, StatementError::Xml { message, .. } if message == "unknown entity `&nbsp;`"),
        "{error:?}"
    );
    let two_roots = format!("{}<Document/>", with_amount("1.00"));
    assert!(matches!(
        read(two_roots.as_bytes()),
        Err(StatementError::Xml { .. })
    ));
    assert_eq!(read(b"<\xff>"), Err(StatementError::NotUtf8 { offset: 1 }));
    assert_eq!(read(b"\xEF\xBB\xBF  \n"), Err(StatementError::EmptyCsv));
}

#[test]
fn a_byte_order_mark_and_blanks_before_the_xml_are_allowed() {
    let xml = format!("\u{feff}\n  {}", with_amount("2.50"));
    let lines = read(xml.as_bytes()).expect("a statement");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].amount, 250);
    assert_eq!(lines[0].end_to_end_id.as_deref(), Some("DIV-1"));
}

// --------------------------------------------------------------------- CSV

#[test]
fn a_french_csv_reads_with_semicolons_commas_and_french_dates() {
    let csv = "\u{feff}end_to_end_id;amount;booking_date;status;reason\r\n\
               DIV-2025-00042;123,45;02/06/2025;comptabilisé;\r\n\
               DIV-2025-00043;80;;En attente;\r\n\
               DIV-2025-00044;15,1;2025-06-03;REJETÉ;AC04\r\n\
               \r\n\
               DIV-2025-00045;0,07;04/06/2025;Comptabilise;ignored\r\n\
               NOTPROVIDED;1;;rejete;\r\n";
    assert_eq!(
        read(csv.as_bytes()),
        Ok(vec![
            line(
                Some("DIV-2025-00042"),
                12_345,
                Direction::Debit,
                Some(date(2025, 6, 2)),
                LineStatus::Booked,
                "line 2",
            ),
            line(
                Some("DIV-2025-00043"),
                8_000,
                Direction::Debit,
                None,
                LineStatus::Pending,
                "line 3",
            ),
            line(
                Some("DIV-2025-00044"),
                1_510,
                Direction::Debit,
                Some(date(2025, 6, 3)),
                returned(Some("AC04")),
                "line 4",
            ),
            line(
                Some("DIV-2025-00045"),
                7,
                Direction::Debit,
                Some(date(2025, 6, 4)),
                LineStatus::Booked,
                "line 6",
            ),
            line(None, 100, Direction::Debit, None, returned(None), "line 7"),
        ])
    );
}

#[test]
fn an_english_csv_reads_with_commas_in_any_column_order() {
    let csv = "Status,Currency,Amount,End_To_End_Id,Booking_Date,Memo\n\
               booked,eur,1234.56,DIV-2025-00001,2025-06-02,x\n\
               pending,,\"12,5\",DIV-2025-00002,,y\n\
               rejected,EUR,3,DIV-2025-00003,03/06/2025,z\n";
    assert_eq!(
        read_csv(csv.as_bytes()),
        Ok(vec![
            line(
                Some("DIV-2025-00001"),
                123_456,
                Direction::Debit,
                Some(date(2025, 6, 2)),
                LineStatus::Booked,
                "line 2",
            ),
            line(
                Some("DIV-2025-00002"),
                1_250,
                Direction::Debit,
                None,
                LineStatus::Pending,
                "line 3",
            ),
            line(
                Some("DIV-2025-00003"),
                300,
                Direction::Debit,
                Some(date(2025, 6, 3)),
                returned(None),
                "line 4",
            ),
        ])
    );
}

#[test]
fn a_csv_without_a_required_column_is_refused_naming_it() {
    for (header, column) in [
        ("amount;booking_date;status", "end_to_end_id"),
        ("end_to_end_id;booking_date;status", "amount"),
        ("end_to_end_id;amount;status", "booking_date"),
        ("end_to_end_id;amount;booking_date;reason", "status"),
    ] {
        let csv = format!("{header}\nDIV-1;1;2025-06-02;booked\n");
        let error = read(csv.as_bytes()).expect_err("a column missing");
        assert_eq!(error, StatementError::MissingColumn { column }, "{header}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("the CSV statement has no `{column}` column")),
            "{error}"
        );
    }
}

#[test]
fn a_csv_s_mistakes_name_their_line() {
    let csv = |rows: &str| format!("end_to_end_id;amount;booking_date;status\n{rows}");
    let bad_status = csv("DIV-1;1;2025-06-02;booked\nDIV-2;1;2025-06-02;paid\n");
    let error = read(bad_status.as_bytes()).expect_err("an unknown status");
    assert_eq!(
        error,
        StatementError::Status {
            place: "line 3".to_owned(),
            text: "paid".to_owned()
        }
    );
    assert_eq!(
        error.to_string(),
        "line 3: the status `paid` is not booked, pending or rejected \
         (nor comptabilisé, en attente or rejeté)"
    );
    assert_eq!(
        read(csv("DIV-1;1;;booked\n").as_bytes()),
        Err(StatementError::MissingBookingDate {
            place: "line 2".to_owned()
        })
    );
    assert_eq!(
        read(csv("DIV-1;1;2/6/2025;booked\n").as_bytes()),
        Err(StatementError::Date {
            place: "line 2".to_owned(),
            text: "2/6/2025".to_owned(),
            expected: "YYYY-MM-DD or DD/MM/YYYY"
        })
    );
    for amount in ["1.234,56", "-5", "1,005", "12 €", ""] {
        assert_eq!(
            read(csv(&format!("DIV-1;{amount};2025-06-02;booked\n")).as_bytes()),
            Err(StatementError::Amount {
                place: "line 2".to_owned(),
                text: amount.to_owned()
            }),
            "{amount:?}"
        );
    }
    let short_row = read(csv("DIV-1;1;2025-06-02;booked\nDIV-2;1\n").as_bytes());
    assert!(
        matches!(&short_row, Err(StatementError::Csv { place, .. }) if place == "line 3"),
        "{short_row:?}"
    );
    let with_currency =
        "end_to_end_id;amount;booking_date;status;currency\nDIV-1;1;;pending;EURO\n";
    assert_eq!(
        read(with_currency.as_bytes()),
        Err(StatementError::Currency {
            place: "line 2".to_owned(),
            text: "EURO".to_owned()
        })
    );
    assert_eq!(read(b""), Err(StatementError::EmptyCsv));
    assert_eq!(
        read(b"end_to_end_id,amount,booking_date,status\n"),
        Ok(vec![])
    );
}

#[test]
fn at_most_max_lines_are_read() {
    let mut csv = String::from("end_to_end_id;amount;booking_date;status\n");
    for _ in 0..MAX_LINES {
        csv.push_str("x;1;;pending\n");
    }
    assert_eq!(read(csv.as_bytes()).map(|lines| lines.len()), Ok(MAX_LINES));
    csv.push_str("x;1;;pending\n");
    assert_eq!(
        read(csv.as_bytes()),
        Err(StatementError::TooManyLines { max: MAX_LINES })
    );
}

#[test]
fn at_most_max_lines_are_read_from_camt053() {
    let transaction = "<TxDtls><Amt Ccy=\"EUR\">1</Amt></TxDtls>";
    let entry = |transactions: usize| {
        one_entry(&format!(
            "<Amt Ccy=\"EUR\">1</Amt><CdtDbtInd>DBIT</CdtDbtInd><NtryDtls>{}</NtryDtls>",
            transaction.repeat(transactions)
        ))
    };
    let lines = read(entry(3).as_bytes()).expect("three lines");
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2].place, "entry 1, transaction 3");
    assert_eq!(
        read(entry(MAX_LINES + 1).as_bytes()),
        Err(StatementError::TooManyLines { max: MAX_LINES })
    );
}

// ---------------------------------------------------------------- proptest

/// A change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Flip(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), 1..=255u8).prop_map(|(i, b)| Mutation::Flip(i, b)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    match mutation {
        Mutation::Insert(i, b) => {
            let at = i.index(bytes.len() + 1);
            bytes.insert(at, *b);
        }
        Mutation::Delete(i) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes.remove(at);
        }
        Mutation::Flip(i, b) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes[at] ^= b;
        }
        Mutation::Delete(_) | Mutation::Flip(..) => {}
    }
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Booked),
        Just(Outcome::Pending),
        "[A-Z]{2}[0-9]{2}".prop_map(|reason| Outcome::Returned { reason }),
    ]
}

fn bank_line() -> impl Strategy<Value = BankLine> {
    (
        "[A-Za-z0-9/?:().,'+ -]{1,35}",
        0..=99_999_999_999u64,
        0..3650u64,
        outcome(),
    )
        .prop_map(|(id, amount, days, outcome)| BankLine {
            end_to_end_id: id,
            amount,
            booking_date: date(2020, 1, 1) + chrono::Days::new(days),
            outcome,
        })
}

/// What [`read`] gives back of the bank's `lines`.
fn expected(lines: &[BankLine]) -> Vec<StatementLine> {
    let mut expected = Vec::new();
    for line in lines {
        let id = line.end_to_end_id.trim();
        let id = (!id.is_empty() && id != "NOTPROVIDED").then_some(id);
        let mut push = |direction, status| {
            let place = format!("entry {}, transaction 1", expected.len() + 1);
            expected.push(self::line(
                id,
                line.amount,
                direction,
                Some(line.booking_date),
                status,
                &place,
            ));
        };
        match &line.outcome {
            Outcome::Booked => push(Direction::Debit, LineStatus::Booked),
            Outcome::Pending => push(Direction::Debit, LineStatus::Pending),
            Outcome::Returned { reason } => {
                push(Direction::Debit, LineStatus::Booked);
                push(Direction::Credit, returned(Some(reason)));
            }
        }
    }
    expected
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read(&bytes);
    }

    #[test]
    fn xml_like_text_never_panics(text in "[<>/a-zA-Z:=\"'&;#!?\\[\\]. 0-9\n-]{0,400}") {
        let _ = read(text.as_bytes());
        let _ = read(format!("<{text}").as_bytes());
    }

    #[test]
    fn a_mutated_statement_never_panics(
        mutations in proptest::collection::vec(mutation(), 1..8),
        lines in proptest::collection::vec(bank_line(), 0..4),
    ) {
        let mut bytes = bank_statement(IBAN, &lines, created()).into_bytes();
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        let _ = read(&bytes);
    }

    #[test]
    fn a_mutated_csv_never_panics(mutations in proptest::collection::vec(mutation(), 1..8)) {
        let mut bytes = "end_to_end_id;amount;booking_date;status;reason\n\
                         DIV-1;1,50;02/06/2025;rejeté;AC04\n"
            .as_bytes()
            .to_vec();
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        let _ = read(&bytes);
    }

    #[test]
    fn any_bank_statement_reads_back(lines in proptest::collection::vec(bank_line(), 0..6)) {
        let xml = bank_statement(IBAN, &lines, created());
        prop_assert_eq!(read(xml.as_bytes()), Ok(expected(&lines)));
    }
}
