//! Pabulib's `.pb` format (pabulib.org/format): a budgeting election as
//! text, in three sections of `;`-separated rows: `META` (`key;value`),
//! `PROJECTS` (`project_id;cost;…`) and `VOTES` (`voter_id;vote;…`, the
//! vote a `,`-separated list of project ids). Only approval elections
//! (`vote_type;approval`, and `choose-1`, approval of one project) are
//! read; approval elections are written.
//!
//! [`write`] gives what `windledger export pabulib` prints, which
//! `pabutools` and Pabulib's own tools read; [`parse`] reads files from
//! Pabulib, so that an election held elsewhere can be counted here.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use rust_decimal::Decimal;
use thiserror::Error;

use super::{Decision, Election, ElectionError, Method, Outcome, Project};
use crate::money::Euros;

/// What the `META` section says beyond what the election holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    pub description: String,
    pub country: String,
    /// Who holds the budgeting (Pabulib's `unit`).
    pub unit: String,
    /// Which edition (Pabulib's `instance`).
    pub instance: String,
    /// The voting window, as `dd.mm.yyyy` (Pabulib's dates), if known.
    pub date_begin: Option<String>,
    pub date_end: Option<String>,
}

/// The `rule` Pabulib names a method by.
pub fn rule(method: Method) -> &'static str {
    match method {
        Method::GreedyApproval => "greedy",
        Method::EqualShares => "equalshares",
    }
}

/// The election as a `.pb` file: `names[i]` is project `i`'s name (may be
/// empty), `voters[v]` ballot `v`'s pseudonymous id. With an outcome, each
/// project says whether it was `selected`.
pub fn write(
    meta: &Meta,
    method: Method,
    election: &Election,
    names: &[String],
    voters: &[String],
    outcome: Option<&Outcome>,
) -> String {
    let mut out = String::new();
    let mut meta_row = |key: &str, value: &str| {
        let _ = writeln!(out, "{key};{}", field(value));
    };
    meta_row("key", "value");
    meta_row("description", &meta.description);
    meta_row("country", &meta.country);
    meta_row("unit", &meta.unit);
    meta_row("instance", &meta.instance);
    meta_row("num_projects", &election.projects.len().to_string());
    meta_row("num_votes", &election.ballots.len().to_string());
    meta_row("budget", &amount(election.budget));
    meta_row("vote_type", "approval");
    meta_row("rule", rule(method));
    meta_row("currency", "EUR");
    if let Some(date) = &meta.date_begin {
        meta_row("date_begin", date);
    }
    if let Some(date) = &meta.date_end {
        meta_row("date_end", date);
    }
    let votes = election.votes();
    out.insert_str(0, "META\n");
    out.push_str("PROJECTS\n");
    out.push_str(if outcome.is_some() {
        "project_id;cost;votes;name;selected\n"
    } else {
        "project_id;cost;votes;name\n"
    });
    for (index, project) in election.projects.iter().enumerate() {
        let name = names.get(index).map(String::as_str).unwrap_or("");
        let _ = write!(
            out,
            "{};{};{};{}",
            field(&project.id),
            amount(project.cost),
            votes[index],
            field(name)
        );
        if let Some(outcome) = outcome {
            let selected = matches!(
                outcome.projects.get(index).map(|p| &p.decision),
                Some(Decision::Funded { .. })
            );
            let _ = write!(out, ";{}", u8::from(selected));
        }
        out.push('\n');
    }
    out.push_str("VOTES\nvoter_id;vote\n");
    for (index, ballot) in election.ballots.iter().enumerate() {
        let voter = voters
            .get(index)
            .cloned()
            .unwrap_or_else(|| (index + 1).to_string());
        let vote: Vec<&str> = ballot
            .iter()
            .map(|&p| election.projects[p as usize].id.as_str())
            .collect();
        let _ = writeln!(out, "{};{}", field(&voter), vote.join(","));
    }
    out
}

/// An amount as Pabulib writes costs: euros, with cents only when there
/// are some.
fn amount(euros: Euros) -> String {
    euros.amount().normalize().to_string()
}

/// A free-text value made safe for a `;`-separated row: separators, quotes
/// and line breaks become spaces (Pabulib's readers split on `;` alone).
fn field(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            ';' | '"' | '\n' | '\r' => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A `.pb` file read: its `META`, the election (projects in the file's
/// order), each project's other columns and each ballot's voter id.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub meta: BTreeMap<String, String>,
    pub election: Election,
    pub voters: Vec<String>,
}

/// Why a `.pb` file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PabulibError {
    #[error("line {line}: {what}")]
    Line { line: usize, what: String },
    #[error("the file has no {section} section")]
    MissingSection { section: &'static str },
    #[error("META has no {key}")]
    MissingMeta { key: &'static str },
    #[error("only approval elections are read, not vote_type {vote_type}")]
    VoteType { vote_type: String },
    #[error(transparent)]
    Election(#[from] ElectionError),
}

/// Reads a `.pb` file (quoted fields allowed, decimal commas in amounts
/// as Pabulib's readers accept them).
pub fn parse(text: &str) -> Result<Parsed, PabulibError> {
    #[derive(PartialEq)]
    enum Section {
        None,
        Meta,
        Projects,
        Votes,
    }
    let mut section = Section::None;
    let mut header: Option<Vec<String>> = None;
    let mut meta = BTreeMap::new();
    let mut projects = Vec::new();
    let mut ids = HashMap::new();
    let mut raw_ballots: Vec<(usize, String)> = Vec::new();
    let mut voters = Vec::new();
    let mut seen = [false; 3];
    for (number, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line_number = number + 1;
        let at = |what: String| PabulibError::Line {
            line: line_number,
            what,
        };
        let row = split(line).map_err(|what| at(what.to_owned()))?;
        if row.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let first = row[0].trim().to_ascii_lowercase();
        let next = match first.as_str() {
            "meta" => Some((Section::Meta, 0)),
            "projects" => Some((Section::Projects, 1)),
            "votes" => Some((Section::Votes, 2)),
            _ => None,
        };
        if let Some((next, index)) = next {
            section = next;
            seen[index] = true;
            header = None;
            continue;
        }
        let Some(columns) = &header else {
            header = Some(row.iter().map(|c| c.trim().to_owned()).collect());
            continue;
        };
        let cell = |name: &str| -> Option<&str> {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| row.get(i))
                .map(|c| c.trim())
        };
        match section {
            Section::None => return Err(at("a row before any section".to_owned())),
            Section::Meta => {
                let value = row.get(1).map(|v| v.trim()).unwrap_or("");
                meta.insert(row[0].trim().to_owned(), value.to_owned());
            }
            Section::Projects => {
                let id = row[0].trim().to_owned();
                let cost = cell("cost").ok_or_else(|| at("a project without a cost".into()))?;
                let cost = cost
                    .replace(',', ".")
                    .parse::<Decimal>()
                    .ok()
                    .and_then(|c| Euros::new(c).ok())
                    .ok_or_else(|| at(format!("project {id}: cost {cost} is not an amount")))?;
                ids.insert(id.clone(), projects.len());
                projects.push(Project { id, cost });
            }
            Section::Votes => {
                let vote = cell("vote").ok_or_else(|| at("a ballot without a vote".into()))?;
                raw_ballots.push((line_number, vote.to_owned()));
                voters.push(row[0].trim().to_owned());
            }
        }
    }
    for (index, section) in ["META", "PROJECTS", "VOTES"].into_iter().enumerate() {
        if !seen[index] {
            return Err(PabulibError::MissingSection { section });
        }
    }
    let vote_type = meta
        .get("vote_type")
        .ok_or(PabulibError::MissingMeta { key: "vote_type" })?;
    // choose-1: an approval ballot of one project.
    if vote_type != "approval" && vote_type != "choose-1" {
        return Err(PabulibError::VoteType {
            vote_type: vote_type.clone(),
        });
    }
    let budget = meta
        .get("budget")
        .ok_or(PabulibError::MissingMeta { key: "budget" })?;
    let budget = budget
        .replace(',', ".")
        .parse::<Decimal>()
        .ok()
        .and_then(|b| Euros::new(b).ok())
        .ok_or_else(|| PabulibError::Line {
            line: 0,
            what: format!("budget {budget} is not an amount"),
        })?;
    let ballots = raw_ballots
        .into_iter()
        .map(|(line, vote)| {
            vote.split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(|id| {
                    ids.get(id).copied().ok_or_else(|| PabulibError::Line {
                        line,
                        what: format!("a vote for project {id}, which is not in PROJECTS"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parsed {
        meta,
        election: Election::new(budget, projects, ballots)?,
        voters,
    })
}

/// One `;`-separated row, with `"…"` quoting (`""` inside for a quote).
fn split(line: &str) -> Result<Vec<String>, &'static str> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        let cell = cells.last_mut().expect("never empty");
        match (c, quoted) {
            ('"', false) if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', true) => quoted = false,
            (';', false) => cells.push(String::new()),
            (c, _) => cell.push(c),
        }
    }
    if quoted {
        Err("a quote is not closed")
    } else {
        Ok(cells)
    }
}
