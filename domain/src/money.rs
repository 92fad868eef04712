//! Amounts of money.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::types::ParseError;

/// An amount in euros, never negative: prices, nominal values, share capital.
///
/// Exact decimal, serialised as a string ("100.00") so that no JSON reader
/// turns it into a float. Signed amounts (a loss, a correction) will get their
/// own type when the financial year needs them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Euros(Decimal);

impl Euros {
    pub const ZERO: Self = Self(Decimal::ZERO);

    pub fn new(amount: Decimal) -> Result<Self, ParseError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            Err(ParseError::NegativeAmount { value: amount })
        } else {
            Ok(Self(amount))
        }
    }

    pub fn amount(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Euros {
    type Error = ParseError;
    fn try_from(amount: Decimal) -> Result<Self, Self::Error> {
        Self::new(amount)
    }
}

impl From<Euros> for Decimal {
    fn from(euros: Euros) -> Decimal {
        euros.0
    }
}

impl fmt::Display for Euros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} €", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_strings_in_json_and_never_negative() {
        let e = Euros::new(Decimal::new(10050, 2)).expect("positive");
        assert_eq!(
            serde_json::to_string(&e).ok().as_deref(),
            Some("\"100.50\"")
        );
        assert_eq!(serde_json::from_str::<Euros>("\"100.50\"").ok(), Some(e));
        assert!(serde_json::from_str::<Euros>("\"-1\"").is_err());
        assert!(Euros::new(Decimal::new(-1, 2)).is_err());
    }
}
