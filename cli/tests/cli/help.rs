//! Every subcommand and option says what it is.

use clap::CommandFactory;
use windledger::cli::Cli;

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
