//! Naming what differs between a recorded event and its recomputation: the
//! first JSON path where they part, with both values.

use std::fmt;

use serde_json::Value;

/// Keys that identify an element of a list better than its index: a
/// resolution's result, a holder's allocation, a college's count, a voter.
const LABELS: [&str; 4] = ["resolution", "holder", "college", "report"];

/// Most characters of a value shown in a message.
const MAX_SHOWN: usize = 120;

/// Where two JSON values first differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `results[ag-2016.1].votes_for`, `allocations[h-017].gross`...;
    /// empty for the whole value.
    pub path: String,
    /// `None`: absent on that side.
    pub recorded: Option<String>,
    pub recomputed: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.path.is_empty() {
            "the event"
        } else {
            self.path.as_str()
        };
        let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "absent".to_owned());
        write!(
            f,
            "{what} is {} in the ledger but {} when recomputed",
            side(&self.recorded),
            side(&self.recomputed)
        )
    }
}

/// The first difference, depth first in the recorded value's order; `None`
/// when the two are equal.
pub fn first_difference(recorded: &Value, recomputed: &Value) -> Option<Difference> {
    // An event is `{"<Type>": {...}}`: the type is in the message already.
    if let (Value::Object(a), Value::Object(b)) = (recorded, recomputed)
        && a.len() == 1
        && b.len() == 1
        && let (Some((ka, va)), Some((kb, vb))) = (a.iter().next(), b.iter().next())
        && ka == kb
        && ka.starts_with(char::is_uppercase)
    {
        return walk(va, vb, String::new());
    }
    walk(recorded, recomputed, String::new())
}

fn walk(a: &Value, b: &Value, path: String) -> Option<Difference> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                let here = join(&path, key);
                match y.get(key) {
                    Some(vb) => {
                        if let Some(d) = walk(va, vb, here) {
                            return Some(d);
                        }
                    }
                    None => return Some(differ(here, Some(va), None)),
                }
            }
            y.iter()
                .find(|(key, _)| !x.contains_key(*key))
                .map(|(key, vb)| differ(join(&path, key), None, Some(vb)))
        }
        (Value::Array(x), Value::Array(y)) => match (labels(x), labels(y)) {
            (Some(lx), Some(ly)) => {
                for (label, va) in lx.iter().zip(x) {
                    let here = format!("{path}[{label}]");
                    match ly.iter().position(|l| l == label) {
                        Some(i) => {
                            if let Some(d) = walk(va, &y[i], here) {
                                return Some(d);
                            }
                        }
                        None => return Some(differ(here, Some(va), None)),
                    }
                }
                for (label, vb) in ly.iter().zip(y) {
                    if !lx.contains(label) {
                        return Some(differ(format!("{path}[{label}]"), None, Some(vb)));
                    }
                }
                // Same elements in another order.
                Some(differ(format!("{path} (order)"), Some(a), Some(b)))
            }
            _ => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    if let Some(d) = walk(va, vb, format!("{path}[{i}]")) {
                        return Some(d);
                    }
                }
                let n = x.len().min(y.len());
                Some(differ(
                    format!("{path}[{n}]"),
                    x.get(n).map(|v| v as &Value),
                    y.get(n),
                ))
            }
        },
        _ => Some(differ(path, Some(a), Some(b))),
    }
}

/// Each element's label, when every element is an object with one of the
/// [`LABELS`] keys as a string (the first such key of the first element).
fn labels(items: &[Value]) -> Option<Vec<String>> {
    let first = items.first()?.as_object()?;
    let key = LABELS
        .iter()
        .find(|k| first.get(**k).is_some_and(Value::is_string))?;
    items
        .iter()
        .map(|v| v.get(*key).and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn differ(path: String, recorded: Option<&Value>, recomputed: Option<&Value>) -> Difference {
    Difference {
        path,
        recorded: recorded.map(shown),
        recomputed: recomputed.map(shown),
    }
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_SHOWN {
        return text;
    }
    let cut: String = text.chars().take(MAX_SHOWN).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_path_names_the_resolution_and_the_field() {
        let recorded = json!({"MeetingClosed": {"results": [
            {"resolution": "ag.1", "votes_for": 10},
            {"resolution": "ag.2", "votes_for": 7}
        ], "at": "t"}});
        let mut recomputed = recorded.clone();
        recomputed["MeetingClosed"]["results"][1]["votes_for"] = json!(6);
        let d = first_difference(&recorded, &recomputed).expect("a difference");
        assert_eq!(d.path, "results[ag.2].votes_for");
        assert_eq!(
            d.to_string(),
            "results[ag.2].votes_for is 7 in the ledger but 6 when recomputed"
        );
        assert_eq!(first_difference(&recorded, &recorded), None);
    }

    #[test]
    fn a_missing_holder_is_named_not_shifted() {
        let recorded = json!({"allocations": [
            {"holder": "h1", "gross": "1.00"},
            {"holder": "h2", "gross": "2.00"},
            {"holder": "h3", "gross": "3.00"}
        ]});
        let recomputed = json!({"allocations": [
            {"holder": "h1", "gross": "1.00"},
            {"holder": "h3", "gross": "3.00"}
        ]});
        let d = first_difference(&recorded, &recomputed).expect("a difference");
        assert_eq!(d.path, "allocations[h2]");
        assert_eq!(d.recomputed, None);
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(500);
        let d = first_difference(&json!({"text": long}), &json!({"text": "y"})).expect("differs");
        assert!(d.recorded.expect("recorded").ends_with("..."));
    }
}
