//! The CLI definition itself, parsed in-process.

use clap::{CommandFactory, Parser};
use clickclack::cli::{AdminCommand, Cli, Command, UserCommand};
use std::path::PathBuf;

#[test]
fn cli_definition_is_valid() {
    Cli::command().debug_assert();
}

fn serve_dev_bootstrap(args: &[&str]) -> Option<bool> {
    let mut argv = vec!["clickclack", "serve"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv).unwrap().command {
        Some(Command::Serve(s)) => s.dev_bootstrap,
        other => panic!("expected serve, got {other:?}"),
    }
}

#[test]
fn dev_bootstrap_accepts_go_style_booleans() {
    assert_eq!(serve_dev_bootstrap(&["--dev-bootstrap=false"]), Some(false));
    assert_eq!(serve_dev_bootstrap(&["--dev-bootstrap=true"]), Some(true));
    assert_eq!(serve_dev_bootstrap(&["--dev-bootstrap"]), Some(true));
    assert_eq!(serve_dev_bootstrap(&["--dev-bootstrap=0"]), Some(false));
    assert!(Cli::try_parse_from(["clickclack", "serve", "--dev-bootstrap=maybe"]).is_err());
}

#[test]
fn store_flags_come_after_every_subcommand() {
    let cli = Cli::try_parse_from([
        "clickclack",
        "admin",
        "user",
        "create",
        "--email",
        "a@example.com",
        "--data",
        "/tmp/d",
        "--db",
        "sqlite:///tmp/d/x.db",
    ])
    .unwrap();
    let Some(Command::Admin(admin)) = cli.command else {
        panic!("expected admin")
    };
    let Some(AdminCommand::User {
        command: UserCommand::Create(create),
    }) = admin.command
    else {
        panic!("expected user create")
    };
    assert_eq!(create.name, "Local User");
    assert_eq!(create.store.data, Some(PathBuf::from("/tmp/d")));
    assert_eq!(create.store.db.as_deref(), Some("sqlite:///tmp/d/x.db"));

    for argv in [
        vec!["clickclack", "migrate", "--data", "d", "--db", "x.db"],
        vec!["clickclack", "backup", "--out", "b.db", "--data", "d"],
        vec!["clickclack", "export", "--data", "d", "--db", "file:x.db"],
        vec!["clickclack", "admin", "bootstrap", "--data", "d"],
        vec![
            "clickclack",
            "admin",
            "invite",
            "create",
            "--workspace",
            "wsp_x",
            "--db",
            "x.db",
        ],
        vec![
            "clickclack",
            "admin",
            "magic-link",
            "create",
            "--email",
            "a@b.c",
            "--data",
            "d",
        ],
        vec![
            "clickclack",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data",
            "d",
            "--sync",
            "normal",
        ],
    ] {
        assert!(Cli::try_parse_from(&argv).is_ok(), "{argv:?}");
    }
    assert!(
        Cli::try_parse_from(["clickclack", "backup"]).is_err(),
        "--out is required"
    );
}
