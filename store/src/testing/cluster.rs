//! PostgreSQL clusters of a test's or a benchmark's own (initdb and pg_ctl from the
//! machine's PostgreSQL, on free ports), so that stopping, promoting or
//! replicating one touches no other test. Where those programs are missing
//! a test skips, unless `WINDLEDGER_REQUIRE_POSTGRES=1`, where it fails.

use std::path::PathBuf;
use std::process::Command;

use super::postgres_required;

/// A PostgreSQL cluster of the test's own, stopped and removed on drop.
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// Run the programs as `postgres` (initdb refuses root).
    as_postgres: bool,
}

impl Cluster {
    /// A new cluster, initialised and started.
    pub fn start() -> Option<Self> {
        let cluster = Self::unstarted()?;
        cluster.pg(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.up();
        Some(cluster)
    }

    /// A new cluster and a test database of its own on it.
    pub async fn with_database() -> Option<(Self, super::TestDatabase)> {
        let cluster = Self::start()?;
        let db = super::TestDatabase::postgres_on(cluster.url())
            .await
            .expect("a database on the test's own cluster");
        Some((cluster, db))
    }

    /// A hot standby of `primary`: a base backup of it, set to follow it by
    /// streaming replication (`pg_basebackup -R`), started.
    pub fn standby_of(primary: &Cluster) -> Self {
        let standby = Self::unstarted().expect("the programs the primary was made with");
        standby.pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-D",
                &standby.data(),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
        );
        standby.up();
        standby
    }

    /// A folder and a free port, the programs found; nothing started.
    fn unstarted() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(Result::ok)
                    .map(|v| v.path().join("bin"))
                    .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
                    .max()
            });
        let Some(bin) = bin else {
            let why = "initdb and pg_ctl were not found under /usr/lib/postgresql/*/bin";
            assert!(!postgres_required(), "PostgreSQL is required but {why}");
            eprintln!("skipping: {why}");
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Some(Self {
            bin,
            dir,
            port,
            as_postgres,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs one SQL statement as `postgres` (psql).
    pub fn sql(&self, statement: &str) {
        self.pg(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ],
        );
    }

    /// Makes a standby the primary (`pg_ctl promote`), waiting until it is.
    pub fn promote(&self) {
        self.pg("pg_ctl", &["-D", &self.data(), "-w", "promote"]);
    }

    /// Stops at once, as a crash would (`-m immediate`: no checkpoint, the
    /// clients cut off).
    pub fn crash(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    pub fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn pg(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        run(command.args(args).current_dir(self.dir.path()));
    }

    pub fn up(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    pub fn down(&self) {
        self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        // Already stopped is fine: nothing to report from a drop.
        let _ = command
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .output();
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

pub fn run(command: &mut Command) {
    let output = command.output().expect("the program runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
