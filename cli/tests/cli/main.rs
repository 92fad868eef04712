//! The `windledger` binary's tests, in one test binary (each binary is
//! linked on its own, which costs more than the tests on a small machine).

mod backup;
#[cfg(unix)]
mod crash;
mod defaults;
mod demo;
mod export;
mod help;
mod identity;
mod payments;
mod publish;
mod support;
mod token;
mod verify;
mod witness;
