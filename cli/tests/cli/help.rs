//! Every subcommand and option says what it is, and an error about a
//! database names it (without its password).

use clap::CommandFactory;
use windledger::cli::Cli;

use crate::support::{failure, windledger};

/// The arguments and subcommands without a help text, by their path.
fn without_help(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let name = format!("{path} {}", arg.get_id());
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            missing.push(name.clone());
        }
        for value in arg.get_possible_values() {
            if value.get_help().is_none() {
                missing.push(format!("{name}={}", value.get_name()));
            }
        }
    }
    for sub in command.get_subcommands() {
        let name = format!("{path} {}", sub.get_name());
        if sub.get_about().is_none() && sub.get_long_about().is_none() {
            missing.push(name.clone());
        }
        without_help(sub, &name, &mut *missing);
    }
}

#[test]
fn every_subcommand_and_option_has_a_help_text() {
    let mut command = Cli::command();
    // Built, as when parsing: global options copied down, --help added.
    command.build();
    let mut missing = Vec::new();
    without_help(&command, "windledger", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:?}");
}

#[test]
fn an_error_about_a_database_names_it_without_its_password() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let url = "mysql://someone:secret@localhost/farm";
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["import", "--synthetic"],
        &["export", "events", "--ledger", "mon-parc"],
        &["rebuild", "--ledger", "mon-parc"],
        &["token", "list"],
        &[
            "token",
            "issue",
            "--ledger",
            "mon-parc",
            "--role",
            "secretary",
        ],
    ] {
        let mut all = args.to_vec();
        all.extend(["--database-url", url]);
        let message = failure(&windledger(folder.path(), &all), &args.join(" "));
        assert!(
            message.contains("cannot open the database mysql://localhost/farm"),
            "{}: {message}",
            args.join(" ")
        );
        assert!(!message.contains("secret"), "{message}");
    }
}
