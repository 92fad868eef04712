//! Exact fractions: quorums, majorities, college weights, ownership caps.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::newtype::text_conversions;
use crate::types::ParseError;

/// A non-negative fraction of integers, kept in lowest terms so that equal
/// values are equal structurally (`2/4 == 1/2`). Serialised as `"n/d"`.
///
/// No floating point: 1/3 of the votes is exactly 1/3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("pattern" = "^[0-9]+/[0-9]+$"))
)]
pub struct Ratio {
    num: u64,
    den: u64,
}

impl Ratio {
    pub const ZERO: Self = Self { num: 0, den: 1 };
    pub const ONE: Self = Self { num: 1, den: 1 };

    /// `None` when `den` is zero.
    pub fn new(num: u64, den: u64) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Self {
            num: num / g,
            den: den / g,
        })
    }

    /// `p` per cent, e.g. `Ratio::percent(25)` is 1/4.
    pub fn percent(p: u64) -> Self {
        Self::new(p, 100).unwrap_or(Self::ZERO)
    }

    pub fn numerator(self) -> u64 {
        self.num
    }

    pub fn denominator(self) -> u64 {
        self.den
    }

    /// A share of a whole: between 0 and 1 inclusive.
    pub fn is_proportion(self) -> bool {
        self.num <= self.den
    }

    /// `None` if the exact sum does not fit in 64-bit terms.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let num = u128::from(self.num) * u128::from(other.den)
            + u128::from(other.num) * u128::from(self.den);
        let den = u128::from(self.den) * u128::from(other.den);
        let g = gcd128(num, den);
        Self::new(u64::try_from(num / g).ok()?, u64::try_from(den / g).ok()?)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

fn gcd128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (u128::from(self.num) * u128::from(other.den))
            .cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

impl FromStr for Ratio {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseError::Ratio {
            value: s.to_owned(),
        };
        let (num, den) = s.split_once('/').ok_or_else(invalid)?;
        let num = num.trim().parse().map_err(|_| invalid())?;
        let den = den.trim().parse().map_err(|_| invalid())?;
        Self::new(num, den).ok_or_else(invalid)
    }
}

text_conversions!(Ratio);

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: u64, d: u64) -> Ratio {
        Ratio::new(n, d).expect("non-zero denominator")
    }

    #[test]
    fn equal_fractions_are_equal_and_ordered_exactly() {
        assert_eq!(r(2, 4), r(1, 2));
        assert_eq!(Ratio::percent(25), r(1, 4));
        assert!(r(1, 3) < r(334, 1000));
        assert!(r(2, 3) > r(666_666, 1_000_000));
        assert_eq!(Ratio::new(1, 0), None);
    }

    #[test]
    fn sums_are_exact() {
        let total = [r(1, 2), r(1, 4), r(1, 4)]
            .into_iter()
            .try_fold(Ratio::ZERO, Ratio::checked_add);
        assert_eq!(total, Some(Ratio::ONE));
        assert_eq!(r(1, 3).checked_add(r(1, 6)), Some(r(1, 2)));
    }

    #[test]
    fn serialised_as_n_over_d() {
        assert_eq!(
            serde_json::to_string(&r(1, 5)).ok().as_deref(),
            Some("\"1/5\"")
        );
        assert_eq!(
            serde_json::from_str::<Ratio>("\"2/10\"").ok(),
            Some(r(1, 5))
        );
        assert!(serde_json::from_str::<Ratio>("\"1/0\"").is_err());
        assert!(serde_json::from_str::<Ratio>("\"0.2\"").is_err());
    }
}
