//! For tests: a file checked against the ISO 20022 schemas of
//! `third_party/iso20022` with Debian's `xmllint`, and ([`bank`]) a bank
//! statement written as a bank would write it.

pub mod bank;

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// The schemas a file is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// `pain.001.001.09`, EPC SCT customer-to-PSP (2023).
    Pain001,
    /// `camt.053.001.08`.
    Camt053,
}

impl Schema {
    /// The schema file in the repository.
    pub fn path(self) -> PathBuf {
        let name = match self {
            Self::Pain001 => "pain.001.001.09.xsd",
            Self::Camt053 => "camt.053.001.08.xsd",
        };
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../third_party/iso20022")
            .join(name)
    }
}

/// Whether `xmllint` can run here; when it cannot and
/// `WINDLEDGER_REQUIRE_XMLLINT=1` (CI), panics with how to install it.
pub fn xmllint_available() -> bool {
    let found = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("WINDLEDGER_REQUIRE_XMLLINT").as_deref() == Ok("1") {
        panic!("xmllint is required (WINDLEDGER_REQUIRE_XMLLINT=1): apt-get install libxml2-utils");
    }
    found
}

/// `Ok(true)` when `xml` is valid against `schema`, `Ok(false)` when
/// xmllint is not installed (and not required), `Err` with xmllint's
/// words when the file is not valid.
pub fn validate(xml: &str, schema: Schema) -> Result<bool, String> {
    if !xmllint_available() {
        return Ok(false);
    }
    let mut file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    file.write_all(xml.as_bytes()).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema.path())
        .arg(file.path())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(true)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
