//! `budgeting`: a budgeting round's outcome under Equal Shares and under
//! greedy approval, for WINDLEDGER_BENCH_VOTERS (10,000) voters and
//! WINDLEDGER_BENCH_PROJECTS (100) projects drawn from a seed
//! (`windledger_fixtures::budgeting`): each project approved by 1 % to 40 %
//! of the voters, costs from 1 to 150,000 euros. Each method runs
//! WINDLEDGER_BENCH_ROUNDS (5) times; the median and the slowest are printed.

use std::time::{Duration, Instant};

use windledger_domain::budgeting::Method;
use windledger_fixtures::budgeting::{Shape, election};
use windledger_fixtures::rng::Rng;

use crate::env_size;

pub(crate) fn bench() -> anyhow::Result<()> {
    let voters = env_size("WINDLEDGER_BENCH_VOTERS", 10_000)?;
    let projects = env_size("WINDLEDGER_BENCH_PROJECTS", 100)?;
    let rounds = env_size("WINDLEDGER_BENCH_ROUNDS", 5)?.max(1);
    let election = election(
        &mut Rng::xoshiro(2027),
        Shape {
            voters,
            projects,
            ties: false,
        },
    );
    let approvals: usize = election.ballots().iter().map(Vec::len).sum();
    eprintln!(
        "budgeting: {voters} voters, {projects} projects, {approvals} approvals, budget {}",
        election.budget()
    );
    println!("budgeting_voters {voters} voters");
    println!("budgeting_projects {projects} projects");
    println!("budgeting_approvals {approvals} approvals");
    for (method, name) in [
        (Method::EqualShares, "equal_shares"),
        (Method::GreedyApproval, "greedy_approval"),
    ] {
        let mut times = Vec::with_capacity(rounds);
        let mut funded = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let outcome = election.outcome(method);
            times.push(started.elapsed());
            funded = outcome.funded.len();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("{name}_ms {:.1} ms", ms(times[times.len() / 2]));
        println!("{name}_max_ms {:.1} ms", ms(times[times.len() - 1]));
        println!("{name}_funded {funded} projects");
    }
    Ok(())
}
