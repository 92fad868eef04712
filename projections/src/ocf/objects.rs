//! The OCF 1.2.0 objects the export writes, as plain serde structs: field
//! order is the order written, optional fields are left out when empty, and
//! every number is a string (OCF `Numeric`), as the schemas require.

use chrono::NaiveDate;
use serde::Serialize;

/// OCF `Monetary`; the amount is a fixed-point string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Monetary {
    pub amount: String,
    pub currency: &'static str,
}

/// OCF `Name`: only `legal_name`, which carries the pseudonymous holder id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Name {
    pub legal_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct TaxId {
    pub tax_id: String,
    pub country: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Issuer {
    pub object_type: &'static str,
    pub id: String,
    pub legal_name: String,
    pub formation_date: NaiveDate,
    pub country_of_formation: &'static str,
    pub tax_ids: Vec<TaxId>,
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Stakeholder {
    pub object_type: &'static str,
    pub id: String,
    pub name: Name,
    pub stakeholder_type: &'static str,
    pub issuer_assigned_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_relationship: Option<&'static str>,
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct StockClass {
    pub object_type: &'static str,
    pub id: String,
    pub name: String,
    pub class_type: &'static str,
    pub default_id_prefix: String,
    pub initial_shares_authorized: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stockholder_approval_date: Option<NaiveDate>,
    pub votes_per_share: String,
    pub par_value: Monetary,
    pub seniority: String,
    pub comments: Vec<String>,
}

/// An item of the transactions file; the tag is OCF's `object_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object_type")]
pub(super) enum Transaction {
    #[serde(rename = "TX_STOCK_ISSUANCE")]
    Issuance(StockIssuance),
    #[serde(rename = "TX_STOCK_TRANSFER")]
    Transfer(StockTransfer),
    #[serde(rename = "TX_STOCK_REPURCHASE")]
    Repurchase(StockRepurchase),
    #[serde(rename = "TX_STOCK_CANCELLATION")]
    Cancellation(StockCancellation),
    #[serde(rename = "TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT")]
    AuthorizedSharesAdjustment(AuthorizedSharesAdjustment),
}

/// OCF `SecurityExemption`; none are recorded, so the list is always empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct SecurityExemption {
    pub description: String,
    pub jurisdiction: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct StockIssuance {
    pub id: String,
    pub date: NaiveDate,
    pub security_id: String,
    pub custom_id: String,
    pub stakeholder_id: String,
    pub stock_class_id: String,
    pub quantity: String,
    pub share_price: Monetary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stockholder_approval_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consideration_text: Option<String>,
    pub security_law_exemptions: Vec<SecurityExemption>,
    pub stock_legend_ids: Vec<String>,
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct StockTransfer {
    pub id: String,
    pub date: NaiveDate,
    pub security_id: String,
    pub quantity: String,
    pub resulting_security_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_security_id: Option<String>,
    pub consideration_text: String,
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct StockRepurchase {
    pub id: String,
    pub date: NaiveDate,
    pub security_id: String,
    pub quantity: String,
    pub price: Monetary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_security_id: Option<String>,
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct StockCancellation {
    pub id: String,
    pub date: NaiveDate,
    pub security_id: String,
    pub quantity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_security_id: Option<String>,
    pub reason_text: String,
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct AuthorizedSharesAdjustment {
    pub id: String,
    pub date: NaiveDate,
    pub stock_class_id: String,
    pub new_shares_authorized: String,
    pub stockholder_approval_date: NaiveDate,
    pub comments: Vec<String>,
}

/// OCF `File` as the manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct FileRef {
    pub filepath: String,
    pub md5: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Manifest {
    pub ocf_version: &'static str,
    pub file_type: &'static str,
    pub issuer: Issuer,
    pub as_of: NaiveDate,
    pub generated_at: String,
    pub comments: Vec<String>,
    pub stakeholders_files: Vec<FileRef>,
    pub stock_classes_files: Vec<FileRef>,
    pub transactions_files: Vec<FileRef>,
    pub stock_plans_files: Vec<FileRef>,
    pub stock_legend_templates_files: Vec<FileRef>,
    pub vesting_terms_files: Vec<FileRef>,
    pub valuations_files: Vec<FileRef>,
}

/// A file of items (stakeholders, stock classes, transactions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct ItemsFile<'a, T> {
    pub file_type: &'static str,
    pub items: &'a [T],
}
