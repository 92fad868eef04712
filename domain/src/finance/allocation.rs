//! Sharing a sum of cents exactly: the largest remainder method.

/// Shares `total` cents among `weights` in proportion: each part is first
/// rounded down, then the cents left over go one each to the parts with the
/// largest remainders, ties to the earlier entry (callers list entries in
/// their tie-break order, e.g. by holder id). The parts sum to `total`
/// exactly and each differs from its exact share by less than one cent.
///
/// `None` when the weights sum to zero or the arithmetic would overflow.
pub fn largest_remainder<K: Clone>(total: u64, weights: &[(K, u128)]) -> Option<Vec<(K, u64)>> {
    let sum = weights
        .iter()
        .try_fold(0u128, |acc, (_, w)| acc.checked_add(*w))?;
    if sum == 0 {
        return None;
    }
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given = 0u128;
    for (i, (_, w)) in weights.iter().enumerate() {
        let product = u128::from(total).checked_mul(*w)?;
        let part = product / sum;
        given += part;
        parts.push(part);
        remainders.push((product % sum, i));
    }
    let left = u128::from(total) - given;
    // Largest remainder first; on equal remainders, the earlier entry.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take(usize::try_from(left).ok()?) {
        parts[i] += 1;
    }
    weights
        .iter()
        .zip(parts)
        .map(|((k, _), part)| Some((k.clone(), u64::try_from(part).ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirds_of_a_euro_go_to_the_earliest_on_a_tie() {
        let parts = largest_remainder(100, &[("a", 1), ("b", 1), ("c", 1)]);
        assert_eq!(parts, Some(vec![("a", 34), ("b", 33), ("c", 33)]));
    }

    #[test]
    fn the_largest_remainders_get_the_cents() {
        // 10 cents over 1:2:4 = 1.43, 2.86, 5.71: floors 1, 2, 5; the two
        // cents left go to 2.86 and 5.71.
        let parts = largest_remainder(10, &[("a", 1), ("b", 2), ("c", 4)]);
        assert_eq!(parts, Some(vec![("a", 1), ("b", 3), ("c", 6)]));
    }

    #[test]
    fn no_weight_no_allocation() {
        assert_eq!(largest_remainder(10, &[("a", 0)]), None);
        assert_eq!(largest_remainder::<&str>(10, &[]), None);
    }
}
