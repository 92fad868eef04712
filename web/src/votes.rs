//! A resolution's count by college, each in its own unit (the words are
//! [`windledger_french::votes`]'s).

use std::collections::HashMap;

use maud::{Markup, html};
use windledger_domain::meeting::{ResolutionResult, RollCollege};
use windledger_domain::types::CollegeId;

pub use windledger_french::votes::*;

use crate::format;

/// Each college's count of one resolution, in its own unit.
pub fn by_college(
    r: &ResolutionResult,
    colleges: &[RollCollege],
    names: &HashMap<CollegeId, String>,
) -> Markup {
    html! {
        ul.counts {
            @for (c, t) in colleges.iter().filter_map(|c| Some((c, r.colleges.iter().find(|t| t.college == c.id)?))) {
                li {
                    strong { (name(&c.id, names)) } " : "
                    (count(c.vote_basis, t.votes_for)) " pour, "
                    (format::int(t.votes_against)) " contre, "
                    (format::int(t.abstentions)) " abstention" (format::plural(t.abstentions as usize))
                }
            }
        }
    }
}
