//! Every route of the API, in one table: its method, path, who may call it
//! and what it does. The router, the OpenAPI document and the authorization
//! test are all built from [`routes`], so a route cannot exist without an
//! access rule.

use std::collections::{BTreeMap, HashMap};

use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use windledger_domain::budgeting::fund::TerritoryFund;
use windledger_domain::types::{HolderId, ResidentId};
use windledger_projections::cap_table::CapTableView;
use windledger_projections::local_returns::LocalReturns;
use windledger_projections::register::MeetingRecord;
use windledger_projections::statement::Statement;

use crate::AppState;
use crate::answers;
use crate::auth::roles::{AUDITORS, MEMBERS, MUNICIPALITY, OPERATOR, SECRETARY};
use crate::auth::{Caller, Role};
pub use crate::commands::CommandSpec;
use crate::commands::{Aggregate, IdFrom};
use crate::documents::{self, CertificateQuery, DocumentQuery};
use crate::identity;
use crate::papers;
use crate::payments;
use crate::problem::{Kind, Problem};
use crate::reads::{self, AsOfQuery, EventsQuery, YearQuery};
use crate::tlog;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token: no personal data.
    Public,
    /// A token of one of these roles.
    Roles(&'static [Role]),
    /// These roles, or a shareholder whose token acts for the `{holder}` of
    /// the path.
    RolesOrSelf(&'static [Role]),
    /// These roles, or a shareholder or the municipality acting for the
    /// holder its token names (the handler checks the body's holder).
    RolesOrOwnHolder(&'static [Role]),
    /// These roles, or a resident acting for the resident its token names
    /// (the handler fills in, or checks, the body's resident).
    RolesOrOwnResident(&'static [Role]),
    /// These roles, or a resident whose token acts for the `{resident}` of
    /// the path.
    RolesOrSelfResident(&'static [Role]),
}

impl Access {
    /// Whether this caller may call the route; `path` holds the path's
    /// parameters (`{holder}`, `{resident}`).
    pub fn allows(self, caller: &Caller, path: &HashMap<String, String>) -> Result<(), Problem> {
        let path_holder = path.get("holder").map(String::as_str);
        let principal = match (self, caller) {
            (Access::Public, _) => return Ok(()),
            (_, Caller::Anonymous) => {
                return Err(Problem::new(
                    Kind::Unauthenticated,
                    "this needs a token: send Authorization: Bearer <token>",
                ));
            }
            (_, Caller::Token(p)) => p,
        };
        let allowed = match self {
            Access::Public => true,
            Access::Roles(roles) => roles.contains(&principal.role),
            Access::RolesOrSelf(roles) => {
                roles.contains(&principal.role)
                    || (principal.role == Role::Shareholder
                        && principal.holder.as_ref().map(HolderId::as_str) == path_holder)
            }
            Access::RolesOrOwnHolder(roles) => {
                roles.contains(&principal.role)
                    || (matches!(principal.role, Role::Shareholder | Role::Municipality)
                        && principal.holder.is_some())
            }
            Access::RolesOrOwnResident(roles) => {
                roles.contains(&principal.role)
                    || (principal.role == Role::Resident && principal.resident.is_some())
            }
            Access::RolesOrSelfResident(roles) => {
                roles.contains(&principal.role)
                    || (principal.role == Role::Resident
                        && principal.resident.as_ref().map(ResidentId::as_str)
                            == path.get("resident").map(String::as_str))
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "{} token may not do this",
                principal.role.with_article()
            )))
        }
    }
}

/// One route.
pub struct RouteSpec {
    pub method: Method,
    /// The axum path, `{param}` for parameters.
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    /// For a command: the domain command it runs (and so its body's schema).
    pub command: Option<CommandSpec>,
    /// What a success answers, for the OpenAPI document.
    pub answer: Answer,
    /// For a read: the JSON Schema of its query string (the type its handler
    /// decodes the query into).
    pub query: Option<fn(&mut SchemaGenerator) -> Schema>,
    /// For a write that is not a domain command's route: its body's schema.
    pub body: Option<fn(&mut SchemaGenerator) -> Schema>,
    pub handler: MethodRouter<AppState>,
}

/// What a route answers when it succeeds.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// 200 with a JSON body: the schema of the type the handler answers
    /// (`schema_of`).
    Json(fn(&mut SchemaGenerator) -> Schema),
    /// 200 with a file of this media type.
    File(&'static str),
    /// 201 with the receipts of the events recorded (a command).
    Recorded,
}

/// The schema of an answer of type `T`: a reference into the generator's
/// definitions (inline for a list).
fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// `/api/v1/ledgers/{ledger}` + suffix, as a static string.
macro_rules! at {
    ($suffix:literal) => {
        concat!("/api/v1/ledgers/{ledger}", $suffix)
    };
}

/// Every route of the API.
pub fn routes() -> Vec<RouteSpec> {
    let read = |path, access, summary, answer, query, handler| RouteSpec {
        method: Method::GET,
        path,
        access,
        summary,
        command: None,
        answer,
        query,
        body: None,
        handler,
    };
    let command = |path, access, summary, spec: CommandSpec| RouteSpec {
        method: Method::POST,
        path,
        access,
        summary,
        command: Some(spec),
        answer: Answer::Recorded,
        query: None,
        body: None,
        handler: spec.handler(),
    };
    let write = |path, access, summary, body, handler| RouteSpec {
        method: Method::POST,
        path,
        access,
        summary,
        command: None,
        answer: Answer::Recorded,
        query: None,
        body: Some(body),
        handler,
    };
    use Aggregate::*;
    use IdFrom::*;
    vec![
        // Reads.
        read(
            "/api/v1/ledgers",
            Access::Public,
            "The farms this server serves",
            Answer::Json(schema_of::<Vec<answers::Farm>>),
            None,
            get(reads::farms),
        ),
        read(
            at!("/company"),
            Access::Public,
            "The company, its charter and turbines",
            Answer::Json(schema_of::<answers::Company>),
            None,
            get(reads::company),
        ),
        read(
            at!("/parties"),
            Access::Public,
            "Each college's share of capital and votes",
            Answer::Json(schema_of::<answers::Parties>),
            Some(AsOfQuery::json_schema),
            get(reads::parties),
        ),
        read(
            at!("/cap-table"),
            Access::Roles(MEMBERS),
            "The cap table as of a date or position",
            Answer::Json(schema_of::<CapTableView>),
            Some(AsOfQuery::json_schema),
            get(reads::cap_table),
        ),
        read(
            at!("/holders"),
            Access::Roles(AUDITORS),
            "Every holder with their register history",
            Answer::Json(schema_of::<Vec<answers::Holder>>),
            None,
            get(reads::holders),
        ),
        read(
            at!("/holders/{holder}"),
            Access::RolesOrSelf(AUDITORS),
            "One holder's register history and movements",
            Answer::Json(schema_of::<answers::Holder>),
            None,
            get(reads::holder),
        ),
        read(
            at!("/holders/{holder}/statement"),
            Access::RolesOrSelf(AUDITORS),
            "A holder's statement: holdings, ballots with receipts, dividends",
            Answer::Json(schema_of::<Statement>),
            None,
            get(reads::holder_statement),
        ),
        read(
            at!("/meetings"),
            Access::Public,
            "Meetings convened, with their status",
            Answer::Json(schema_of::<Vec<answers::MeetingSummary>>),
            None,
            get(reads::meetings),
        ),
        read(
            at!("/meetings/{meeting}"),
            Access::Roles(MEMBERS),
            "A meeting's register entry: agenda, roll, proxies, ballots, tally",
            Answer::Json(schema_of::<MeetingRecord>),
            None,
            get(reads::meeting),
        ),
        read(
            at!("/decisions"),
            Access::Public,
            "Resolutions decided, with their counts and outcome",
            Answer::Json(schema_of::<Vec<answers::Decision>>),
            None,
            get(reads::decisions),
        ),
        read(
            at!("/decisions-register"),
            Access::Roles(AUDITORS),
            "The decisions register: every meeting in full",
            Answer::Json(schema_of::<Vec<answers::RegisterEntry>>),
            None,
            get(reads::decisions_register),
        ),
        read(
            at!("/production"),
            Access::Public,
            "Production and revenue per month (corrections applied)",
            Answer::Json(schema_of::<Vec<answers::YearProduction>>),
            Some(YearQuery::json_schema),
            get(reads::production),
        ),
        read(
            at!("/local-returns"),
            Access::Public,
            "Local economic returns of a year",
            Answer::Json(schema_of::<Vec<LocalReturns>>),
            Some(YearQuery::json_schema),
            get(reads::local_returns_of),
        ),
        read(
            at!("/events"),
            Access::Roles(AUDITORS),
            "The event log by position",
            Answer::Json(schema_of::<answers::EventsPage>),
            Some(EventsQuery::json_schema),
            get(reads::events),
        ),
        read(
            at!("/checkpoint"),
            Access::Public,
            "A signed checkpoint of the ledger's head",
            Answer::Json(schema_of::<answers::SignedHead>),
            None,
            get(reads::checkpoint),
        ),
        // The ledger as a transparency log (docs/transparency.md): public,
        // it holds each event's position and hash, never a payload.
        read(
            at!("/tlog/checkpoint"),
            Access::Public,
            "The transparency log's checkpoint: a C2SP signed note of the Merkle tree over the ledger's events (origin, size, root), signed with the server's key and, when the charter names witnesses, co-signed by them (C2SP tlog-cosignature; 503 while too few have co-signed)",
            Answer::File("text/plain; charset=utf-8"),
            None,
            get(tlog::checkpoint),
        ),
        read(
            at!("/tlog/witnesses"),
            Access::Public,
            "The witnesses the charter names and what each answered last: the size it co-signed, or why it refused (a rolled-back or forked ledger)",
            Answer::Json(schema_of::<Vec<crate::witnessing::WitnessStatus>>),
            None,
            get(tlog::witnesses),
        ),
        read(
            at!("/tlog/tile/{*path}"),
            Access::Public,
            "A C2SP tlog-tiles file of the log: a hash tile (`<L>/<N>[.p/<W>]`) or an entry bundle (`entries/<N>[.p/<W>]`, each event's position and hash); immutable, cached for a year; 404 beyond the tree",
            Answer::File("application/octet-stream"),
            None,
            get(tlog::tile),
        ),
        read(
            at!("/proofs/inclusion"),
            Access::Public,
            "The RFC 6962 inclusion proof of the event at a position in the tree of a size (a checkpoint's)",
            Answer::Json(schema_of::<tlog::InclusionProof>),
            Some(tlog::InclusionQuery::json_schema),
            get(tlog::inclusion),
        ),
        read(
            at!("/receipts/{position}"),
            Access::Public,
            "The receipt of the event at a position: its hash, a checkpoint of the log (signed now, or the latest the charter's witnesses co-signed) and the inclusion proof against it, to keep and check offline (`windledger verify-receipt`)",
            Answer::Json(schema_of::<windledger_tlog::Receipt>),
            None,
            get(tlog::receipt),
        ),
        read(
            at!("/proofs/consistency"),
            Access::Public,
            "The RFC 6962 consistency proof that the tree of one size extends the tree of a smaller one",
            Answer::Json(schema_of::<tlog::ConsistencyProof>),
            Some(tlog::ConsistencyQuery::json_schema),
            get(tlog::consistency),
        ),
        read(
            at!("/ocf"),
            Access::Roles(AUDITORS),
            "Open Cap Format 1.2.0 export (.ocf.zip) as of a date",
            Answer::File("application/zip"),
            Some(AsOfQuery::json_schema),
            get(reads::ocf),
        ),
        read(
            at!("/share-register.pdf"),
            Access::Roles(AUDITORS),
            "The register of share movements (R228-8) as PDF/A, as of a date",
            Answer::File("application/pdf"),
            Some(DocumentQuery::json_schema),
            get(documents::register::<false>),
        ),
        read(
            at!("/meetings/{meeting}/attendance.pdf"),
            Access::Roles(AUDITORS),
            "A meeting's attendance sheet (R225-95) as PDF/A, once its voting is open: who took part, online, by proxy or by post, their shares and votes, the totals by college, the proxies annexed",
            Answer::File("application/pdf"),
            None,
            get(documents::attendance),
        ),
        read(
            at!("/meetings/{meeting}/minutes.pdf"),
            Access::Roles(AUDITORS),
            "A meeting's minutes (R225-106) as PDF/A once their words are recorded, drawn at that event's position (the SHA-256 the officers sign is in Document-Sha256)",
            Answer::File("application/pdf"),
            None,
            get(papers::minutes),
        ),
        read(
            at!("/meetings/{meeting}/postal-forms.pdf"),
            Access::Roles(SECRETARY),
            "The postal voting forms (R225-76) of every holder the meeting convenes, one per page run, to print",
            Answer::File("application/pdf"),
            None,
            get(papers::postal_forms),
        ),
        read(
            at!("/meetings/{meeting}/holders/{holder}/postal-form.pdf"),
            Access::RolesOrSelf(SECRETARY),
            "One holder's postal voting form (R225-76), with the charter's deadlines",
            Answer::File("application/pdf"),
            None,
            get(papers::postal_form),
        ),
        read(
            at!("/meetings/{meeting}/convocations/letters.pdf"),
            Access::Roles(SECRETARY),
            "The letters of convocation of the holders still to convene by post (no consent to e-mail), ready to print",
            Answer::File("application/pdf"),
            None,
            get(papers::letters_as_pdf),
        ),
        read(
            at!("/meetings/{meeting}/convocations/letters.csv"),
            Access::Roles(SECRETARY),
            "The same letters as CSV for a mailing service (`;`, UTF-8): addresses, first page, SHA-256",
            Answer::File("text/csv; charset=utf-8"),
            None,
            get(papers::letters_as_csv),
        ),
        read(
            at!("/share-register.csv"),
            Access::Roles(AUDITORS),
            "The register of share movements as CSV (`;`, UTF-8), as of a date",
            Answer::File("text/csv; charset=utf-8"),
            Some(DocumentQuery::json_schema),
            get(documents::register::<true>),
        ),
        read(
            at!("/holders/{holder}/account.pdf"),
            Access::RolesOrSelf(SECRETARY),
            "A holder's individual account (compte individuel) as PDF/A",
            Answer::File("application/pdf"),
            Some(DocumentQuery::json_schema),
            get(documents::account),
        ),
        read(
            at!("/holders/{holder}/certificate.pdf"),
            Access::RolesOrSelf(SECRETARY),
            "A certificate of holding at a date as PDF/A",
            Answer::File("application/pdf"),
            Some(CertificateQuery::json_schema),
            get(documents::certificate),
        ),
        // The company.
        command(
            at!("/company"),
            Access::Roles(SECRETARY),
            "Incorporate the company",
            CommandSpec::new(Company, "incorporate", CompanyStream),
        ),
        command(
            at!("/charter-amendments"),
            Access::Roles(SECRETARY),
            "Amend the charter",
            CommandSpec::new(Company, "amend_charter", CompanyStream),
        ),
        command(
            at!("/shareholders"),
            Access::Roles(SECRETARY),
            "Admit a shareholder with their identity (`person`, sealed in the vault; the ledger records its commitment)",
            CommandSpec::new(Company, "admit_shareholder", CompanyStream).with_person(),
        ),
        // Identities (the vault beside the ledger): the secretary's, and
        // each shareholder's own.
        read(
            at!("/holders/{holder}/identity"),
            Access::RolesOrSelf(SECRETARY),
            "A holder's identity in force (each read is logged: who, when, whose)",
            Answer::Json(schema_of::<windledger_app::people::InForce>),
            None,
            get(identity::read),
        ),
        read(
            at!("/holders/{holder}/identity/export"),
            Access::RolesOrSelf(SECRETARY),
            "Everything kept about a holder (GDPR access request): every version with its salt, and every read",
            Answer::Json(schema_of::<windledger_app::people::PersonalDataExport>),
            None,
            get(identity::export),
        ),
        write(
            at!("/holders/{holder}/identity"),
            Access::RolesOrSelf(SECRETARY),
            "Correct a holder's identity (a new version; the ledger records its commitment)",
            schema_of::<identity::Correction>,
            post(identity::record),
        ),
        write(
            at!("/holders/{holder}/identity/erasure"),
            Access::Roles(SECRETARY),
            "Erase a holder's identity once the law allows (exited, 10 years after the exit)",
            schema_of::<identity::Erasure>,
            post(identity::erase),
        ),
        command(
            at!("/shareholders/{holder}/college-changes"),
            Access::Roles(SECRETARY),
            "Move a holder to another college",
            CommandSpec::new(Company, "change_college", CompanyStream).holder_from_path(),
        ),
        command(
            at!("/shareholders/{holder}/residence-changes"),
            Access::Roles(SECRETARY),
            "Record a holder's new commune",
            CommandSpec::new(Company, "change_residence", CompanyStream).holder_from_path(),
        ),
        command(
            at!("/shareholders/{holder}/club-members"),
            Access::Roles(SECRETARY),
            "Record an investment club's number of members",
            CommandSpec::new(Company, "change_club_members", CompanyStream).holder_from_path(),
        ),
        command(
            at!("/shareholders/{holder}/exit"),
            Access::Roles(SECRETARY),
            "Record a holder's exit",
            CommandSpec::new(Company, "record_exit", CompanyStream).holder_from_path(),
        ),
        command(
            at!("/share-issuances"),
            Access::Roles(SECRETARY),
            "Issue shares",
            CommandSpec::new(Company, "issue_shares", CompanyStream),
        ),
        command(
            at!("/share-transfers"),
            Access::Roles(SECRETARY),
            "Transfer shares",
            CommandSpec::new(Company, "transfer_shares", CompanyStream),
        ),
        command(
            at!("/share-repurchases"),
            Access::Roles(SECRETARY),
            "Repurchase shares",
            CommandSpec::new(Company, "repurchase_shares", CompanyStream),
        ),
        command(
            at!("/share-cancellations"),
            Access::Roles(SECRETARY),
            "Cancel shares",
            CommandSpec::new(Company, "cancel_shares", CompanyStream),
        ),
        command(
            at!("/turbines"),
            Access::Roles(SECRETARY),
            "Add a turbine to the farm, by resolution",
            CommandSpec::new(Company, "add_turbine", CompanyStream),
        ),
        command(
            at!("/turbine-commissionings"),
            Access::Roles(SECRETARY),
            "Record a turbine's commissioning",
            CommandSpec::new(Company, "commission_turbine", CompanyStream),
        ),
        command(
            at!("/turbine-repowerings"),
            Access::Roles(SECRETARY),
            "Repower a turbine, by resolution",
            CommandSpec::new(Company, "repower_turbine", CompanyStream),
        ),
        command(
            at!("/turbine-decommissionings"),
            Access::Roles(SECRETARY),
            "Decommission a turbine, by resolution",
            CommandSpec::new(Company, "decommission_turbine", CompanyStream),
        ),
        command(
            at!("/place-names"),
            Access::Roles(SECRETARY),
            "Record the names of the territory's communes, EPCIs and départements",
            CommandSpec::new(Company, "name_places", CompanyStream),
        ),
        // Meetings.
        command(
            at!("/meetings"),
            Access::Roles(SECRETARY),
            "Convene a meeting",
            CommandSpec::new(Meeting, "convene", Body("meeting")),
        ),
        command(
            at!("/meetings/{meeting}/voting"),
            Access::Roles(SECRETARY),
            "Open the voting (freezes the roll)",
            CommandSpec::new(Meeting, "open_voting", Path).at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/proxies"),
            Access::RolesOrOwnHolder(SECRETARY),
            "Give a proxy",
            CommandSpec::new(Meeting, "grant_proxy", Path)
                .own("grantor")
                .at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/proxy-revocations"),
            Access::RolesOrOwnHolder(SECRETARY),
            "Revoke a proxy",
            CommandSpec::new(Meeting, "revoke_proxy", Path)
                .own("grantor")
                .at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/ballots"),
            Access::RolesOrOwnHolder(SECRETARY),
            "Cast a ballot, for oneself or as a proxy",
            CommandSpec::new(Meeting, "cast_ballot", Path)
                .own("cast_by")
                .at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/postal-ballots"),
            Access::Roles(SECRETARY),
            "Enter a postal voting form received by the company (vote par correspondance)",
            CommandSpec::new(Meeting, "record_postal_ballot", Path),
        ),
        command(
            at!("/meetings/{meeting}/paper-proxies"),
            Access::Roles(SECRETARY),
            "Enter a proxy on paper received by the company, with its date of receipt",
            CommandSpec::new(Meeting, "record_paper_proxy", Path),
        ),
        command(
            at!("/meetings/{meeting}/convocations"),
            Access::Roles(SECRETARY),
            "Record convocations sent by a channel on a day, each with its message's SHA-256 (what the sending routes record themselves)",
            CommandSpec::new(Meeting, "record_convocations", Path),
        ),
        RouteSpec {
            method: Method::POST,
            path: at!("/meetings/{meeting}/convocations/emails"),
            access: Access::Roles(SECRETARY),
            summary: "Send the convocations of the holders who consented to e-mail through the server's SMTP relay, and record those sent",
            command: None,
            answer: Answer::Json(schema_of::<papers::Convened>),
            query: None,
            body: Some(schema_of::<papers::Emailing>),
            handler: post(papers::send_emails),
        },
        RouteSpec {
            method: Method::POST,
            path: at!("/meetings/{meeting}/convocations/letters-posted"),
            access: Access::Roles(SECRETARY),
            summary: "Record the letters of convocation still to send as handed to the post on a day",
            command: None,
            answer: Answer::Json(schema_of::<papers::Convened>),
            query: None,
            body: Some(schema_of::<papers::Posted>),
            handler: post(papers::letters_posted),
        },
        command(
            at!("/meetings/{meeting}/minutes"),
            Access::Roles(SECRETARY),
            "Record the minutes' own words once the meeting is closed: the summary of the debates and the documents presented",
            CommandSpec::new(Meeting, "record_minutes", Path).at_server_time("at"),
        ),
        write(
            at!("/meetings/{meeting}/minutes/signatures"),
            Access::RolesOrOwnHolder(SECRETARY),
            "An officer's signature of the minutes (Ed25519 over the minutes' SHA-256, or a handwritten one the secretary attests)",
            schema_of::<papers::Signing>,
            post(papers::sign_minutes),
        ),
        command(
            at!("/meetings/{meeting}/bureau"),
            Access::Roles(SECRETARY),
            "Record the meeting's bureau: its chair and one or two scrutineers (voters on the roll) and its secretary, by id",
            CommandSpec::new(Meeting, "constitute_bureau", Path).at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/close"),
            Access::Roles(SECRETARY),
            "Close the meeting and record the tally",
            CommandSpec::new(Meeting, "close", Path).at_server_time("at"),
        ),
        // Financial years.
        command(
            at!("/financial-years"),
            Access::Roles(SECRETARY),
            "Open a financial year",
            CommandSpec::new(Year, "open_year", Body("year")),
        ),
        command(
            at!("/financial-years/{year}/production-reports"),
            Access::Roles(OPERATOR),
            "Report a turbine's production of a month",
            CommandSpec::new(Year, "report_production", Path),
        ),
        command(
            at!("/financial-years/{year}/revenue"),
            Access::Roles(OPERATOR),
            "Record revenue of a month",
            CommandSpec::new(Year, "record_revenue", Path),
        ),
        command(
            at!("/financial-years/{year}/costs"),
            Access::Roles(OPERATOR),
            "Record a cost",
            CommandSpec::new(Year, "record_cost", Path),
        ),
        command(
            at!("/financial-years/{year}/ifer"),
            Access::Roles(OPERATOR),
            "Assess the IFER",
            CommandSpec::new(Year, "assess_ifer", Path),
        ),
        command(
            at!("/financial-years/{year}/local-taxes"),
            Access::Roles(OPERATOR),
            "Record a local tax (CFE, property tax)",
            CommandSpec::new(Year, "record_local_tax", Path),
        ),
        command(
            at!("/financial-years/{year}/accounts-approval"),
            Access::Roles(SECRETARY),
            "Record the approval of the accounts",
            CommandSpec::new(Year, "approve_accounts", Path),
        ),
        command(
            at!("/financial-years/{year}/result-appropriation"),
            Access::Roles(SECRETARY),
            "Record the appropriation of the result",
            CommandSpec::new(Year, "appropriate_result", Path),
        ),
        command(
            at!("/financial-years/{year}/dividends"),
            Access::Roles(SECRETARY),
            "Declare the dividend",
            CommandSpec::new(Year, "declare_dividend", Path),
        ),
        command(
            at!("/financial-years/{year}/withholding-decisions"),
            Access::Roles(SECRETARY),
            "Record what is withheld from a non-resident's dividend (the tax treaty's rate), before it is paid",
            CommandSpec::new(Year, "decide_withholding", Path),
        ),
        command(
            at!("/financial-years/{year}/dividend-payments"),
            Access::Roles(SECRETARY),
            "Record a dividend payment",
            CommandSpec::new(Year, "record_dividend_payment", Path),
        ),
        read(
            at!("/financial-years/{year}/dividend/payments"),
            Access::Roles(SECRETARY),
            "Each holder's dividend of the year: paid (on the bank's booking date), to pay, owed with no bank account in the vault, or nothing to pay; with its transfer's end-to-end id",
            Answer::Json(schema_of::<payments::DividendPayments>),
            None,
            get(payments::dividend_payments),
        ),
        read(
            at!("/financial-years/{year}/dividend/credit-transfers.xml"),
            Access::Roles(SECRETARY),
            "The SEPA credit transfer file (ISO 20022 pain.001.001.09, EPC rules) of the holders still to pay, each their net to the IBAN in the vault; Transfer-Count, Control-Sum and Without-Bank-Account in the headers",
            Answer::File("application/xml"),
            Some(payments::TransfersQuery::json_schema),
            get(payments::year_transfers::<false>),
        ),
        read(
            at!("/tax/withholding-returns.csv"),
            Access::Roles(SECRETARY),
            "The monthly returns of the withholding on the dividends and current-account interest paid in a calendar year (form 2777) as CSV (`;`, UTF-8): per month of payment and kind of income, the bases, the income-tax withholding and the social contributions, the due date (the 15th of the month after)",
            Answer::File("text/csv; charset=utf-8"),
            Some(payments::TaxYearQuery::json_schema),
            get(payments::withholding_returns_csv),
        ),
        read(
            at!("/tax/withholding-returns.pdf"),
            Access::Roles(SECRETARY),
            "The same returns as a PDF/A summary, with the year's totals",
            Answer::File("application/pdf"),
            Some(payments::TaxYearQuery::json_schema),
            get(payments::withholding_returns_pdf),
        ),
        read(
            at!("/tax/ifu.csv"),
            Access::Roles(SECRETARY),
            "The IFU (form 2561) of a calendar year as CSV for the accountant: per beneficiary, named from the vault, the dividends eligible for the 40 % allowance or not, the current-account interest, what was withheld",
            Answer::File("text/csv; charset=utf-8"),
            Some(payments::TaxYearQuery::json_schema),
            get(payments::ifu_csv),
        ),
        read(
            at!("/tax/ifu.pdf"),
            Access::Roles(SECRETARY),
            "Every beneficiary's IFU of a calendar year as PDF/A, one after the other",
            Answer::File("application/pdf"),
            Some(payments::TaxYearQuery::json_schema),
            get(payments::ifu_pdf),
        ),
        read(
            at!("/holders/{holder}/ifu.pdf"),
            Access::RolesOrSelf(SECRETARY),
            "A holder's IFU of a calendar year as PDF/A",
            Answer::File("application/pdf"),
            Some(payments::TaxYearQuery::json_schema),
            get(payments::holder_ifu_pdf),
        ),
        RouteSpec {
            method: Method::POST,
            path: at!("/financial-years/{year}/dividend/bank-statements"),
            access: Access::Roles(SECRETARY),
            summary: "Import the bank's statement (camt.053 or CSV): each of the dividend's transfers it booked is recorded as paid on its booking date; returned, pending, unknown or mismatched lines are listed and nothing is recorded for them",
            command: None,
            answer: Answer::Json(schema_of::<windledger_papers::payments::Settlement>),
            query: None,
            body: Some(schema_of::<payments::BankStatement>),
            handler: post(payments::import_statement),
        },
        // Current-account advances.
        command(
            at!("/advances"),
            Access::Roles(SECRETARY),
            "Record a current-account advance",
            CommandSpec::new(Advance, "grant", Body("advance")),
        ),
        command(
            at!("/advances/{advance}/repayments"),
            Access::Roles(SECRETARY),
            "Record a repayment",
            CommandSpec::new(Advance, "repay", Path),
        ),
        command(
            at!("/advances/{advance}/interest"),
            Access::Roles(SECRETARY),
            "Record a year's interest, with what is withheld from it when paid (the lender's status from the identity vault)",
            CommandSpec::new(Advance, "accrue_interest", Path),
        ),
        command(
            at!("/advances/{advance}/withholding-decisions"),
            Access::Roles(SECRETARY),
            "Record what is withheld from a non-resident lender's interest of a year (the tax treaty's rate), before it is paid",
            CommandSpec::new(Advance, "decide_withholding", Path),
        ),
        command(
            at!("/advances/{advance}/interest-payments"),
            Access::Roles(SECRETARY),
            "Record a year's interest paid (its net)",
            CommandSpec::new(Advance, "pay_interest", Path),
        ),
        // The territory fund and its budgeting rounds (docs/territory.md).
        read(
            at!("/territory-fund"),
            Access::Public,
            "The territory fund, reconciled: feeds, grants, commitments and payments, by year and in all; the residents by commune (never named)",
            Answer::Json(schema_of::<windledger_projections::territory::FundView>),
            None,
            get(reads::territory_fund),
        ),
        read(
            at!("/budgeting-rounds/{round}"),
            Access::Public,
            "A budgeting round: its proposals (proposers never named), their review, votes and why each was or was not funded",
            Answer::Json(schema_of::<windledger_projections::territory::Round>),
            None,
            get(reads::budgeting_round),
        ),
        command(
            at!("/territory-fund/residents"),
            Access::Roles(MUNICIPALITY),
            "Register a resident of the territory (the municipality's approval), with their commune and, in `person`, their identity, sealed in the vault (the ledger keeps its commitment only)",
            CommandSpec::new(Fund, "register_resident", Fixed(TerritoryFund::ID))
                .with_optional_person(),
        ),
        read(
            at!("/territory-fund/residents/{resident}/identity"),
            Access::RolesOrSelfResident(MUNICIPALITY),
            "A registered resident's identity in force, from the vault (each read is logged: who, when, whose)",
            Answer::Json(schema_of::<windledger_app::people::ResidentIdentity>),
            None,
            get(identity::read_resident),
        ),
        read(
            at!("/territory-fund/residents/{resident}/identity/export"),
            Access::RolesOrSelfResident(MUNICIPALITY),
            "Everything kept about a resident (GDPR access request): every version with its salt, and every read",
            Answer::Json(schema_of::<windledger_app::people::PersonalDataExport>),
            None,
            get(identity::export_resident),
        ),
        write(
            at!("/territory-fund/residents/{resident}/identity"),
            Access::Roles(MUNICIPALITY),
            "Correct a resident's identity (a new version; the fund records its commitment)",
            schema_of::<identity::ResidentCorrection>,
            post(identity::record_resident),
        ),
        command(
            at!("/territory-fund/resident-moves"),
            Access::Roles(MUNICIPALITY),
            "Record that a registered resident lives in another commune",
            CommandSpec::new(Fund, "move_resident", Fixed(TerritoryFund::ID)),
        ),
        command(
            at!("/territory-fund/resident-removals"),
            Access::Roles(MUNICIPALITY),
            "Remove a resident from the roll",
            CommandSpec::new(Fund, "remove_resident", Fixed(TerritoryFund::ID)),
        ),
        command(
            at!("/territory-fund/feeds"),
            Access::Roles(SECRETARY),
            "Feed the fund from a financial year whose accounts are approved, by the charter's rule",
            CommandSpec::new(Fund, "feed", Fixed(TerritoryFund::ID)),
        ),
        command(
            at!("/territory-fund/grants"),
            Access::Roles(SECRETARY),
            "Record a grant received by the fund",
            CommandSpec::new(Fund, "receive_grant", Fixed(TerritoryFund::ID)),
        ),
        command(
            at!("/territory-fund/commitments"),
            Access::Roles(MUNICIPALITY),
            "Commit the fund to the projects a tallied round funded",
            CommandSpec::new(Fund, "commit", Fixed(TerritoryFund::ID)),
        ),
        command(
            at!("/territory-fund/payments"),
            Access::Roles(SECRETARY),
            "Record a payment to a committed project",
            CommandSpec::new(Fund, "pay", Fixed(TerritoryFund::ID)),
        ),
        command(
            at!("/budgeting-rounds"),
            Access::Roles(MUNICIPALITY),
            "Convene a budgeting round: method, budget, communes, submission and voting windows",
            CommandSpec::new(Round, "convene", Body("round")),
        ),
        command(
            at!("/budgeting-rounds/{round}/proposals"),
            Access::RolesOrOwnResident(MUNICIPALITY),
            "Submit a proposal in the submission window (the server's clock): a resident its own, the municipality one it received",
            CommandSpec::new(Round, "submit", Path)
                .own_resident("resident")
                .at_server_time("submitted_at"),
        ),
        command(
            at!("/budgeting-rounds/{round}/reviews"),
            Access::Roles(MUNICIPALITY),
            "Find a proposal eligible, or not with a reason, until voting opens",
            CommandSpec::new(Round, "review", Path).at_server_time("reviewed_at"),
        ),
        command(
            at!("/budgeting-rounds/{round}/ballots"),
            Access::RolesOrOwnResident(MUNICIPALITY),
            "Cast a ballot in the voting window (the server's clock): a resident its own, the municipality one it received",
            CommandSpec::new(Round, "vote", Path)
                .own_resident("resident")
                .at_server_time("cast_at"),
        ),
        command(
            at!("/budgeting-rounds/{round}/tally"),
            Access::Roles(MUNICIPALITY),
            "Count the round once voting has closed, by its method",
            CommandSpec::new(Round, "tally", Path).at_server_time("tallied_at"),
        ),
        read(
            at!("/advance-interest/{year}/credit-transfers.xml"),
            Access::Roles(SECRETARY),
            "The SEPA credit transfer file (pain.001.001.09) of the current-account interest of a year still to pay, each lender's net to the IBAN in the vault; Transfer-Count, Control-Sum and Without-Bank-Account in the headers",
            Answer::File("application/xml"),
            Some(payments::TransfersQuery::json_schema),
            get(payments::year_transfers::<true>),
        ),
        RouteSpec {
            method: Method::POST,
            path: at!("/advance-repayments/credit-transfers.xml"),
            access: Access::Roles(SECRETARY),
            summary: "The SEPA credit transfer file (pain.001.001.09) of the repayments asked for, one an advance, each at most the principal still owed; nothing is recorded until the bank's statement shows them booked (POST /bank-statements)",
            command: None,
            answer: Answer::File("application/xml"),
            query: None,
            body: Some(schema_of::<payments::RepaymentTransfers>),
            handler: post(payments::repayment_transfers),
        },
        RouteSpec {
            method: Method::POST,
            path: at!("/bank-statements"),
            access: Access::Roles(SECRETARY),
            summary: "Import the bank's statement (camt.053 or CSV): each of the ledger's transfers it booked (a dividend, interest, a repayment) is recorded as paid on its booking date; returned, pending, unknown or mismatched lines are listed and nothing is recorded for them",
            command: None,
            answer: Answer::Json(schema_of::<windledger_papers::payments::Settlement>),
            query: None,
            body: Some(schema_of::<payments::BankStatement>),
            handler: post(payments::import_any_statement),
        },
    ]
}

/// The names of a route's path parameters, in order.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|s| s.trim_start_matches('*'))
        .collect()
}

/// For the OpenAPI document: the routes grouped by path.
pub fn by_path(routes: &[RouteSpec]) -> BTreeMap<&'static str, Vec<&RouteSpec>> {
    let mut out: BTreeMap<&'static str, Vec<&RouteSpec>> = BTreeMap::new();
    for r in routes {
        out.entry(r.path).or_default().push(r);
    }
    out
}
