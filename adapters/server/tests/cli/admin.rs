//! `migrate` and `admin …` against a database no server is using.

use super::common::{clickclack, command, run};
use std::path::Path;

#[test]
fn admin_bootstrap_is_idempotent_and_honours_env() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let first = clickclack(
        dir.path(),
        &[
            "admin",
            "bootstrap",
            "--email",
            "owner@example.com",
            "--data",
            data,
        ],
    );
    let id = first.ok().to_string();
    assert!(id.starts_with("usr_"), "{id}");
    assert!(Path::new(data).join("clickclack.db").is_file());
    assert!(Path::new(data).join("uploads").is_dir());

    let mut again = command(
        dir.path(),
        &["admin", "bootstrap", "--name", "Someone Else"],
    );
    again.env("CLICKCLACK_DATA", data);
    assert_eq!(run(again).ok(), id);
}

#[test]
fn admin_user_create_rejects_a_duplicate_email() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/users.db", dir.path().display());
    let created = clickclack(
        dir.path(),
        &[
            "admin",
            "user",
            "create",
            "--name",
            "Mate",
            "--email",
            "mate@example.com",
            "--db",
            &db,
        ],
    );
    assert!(created.ok().starts_with("usr_"));
    let duplicate = clickclack(
        dir.path(),
        &[
            "admin",
            "user",
            "create",
            "--email",
            "MATE@example.com",
            "--db",
            &db,
        ],
    );
    assert_eq!(duplicate.code, 1, "{duplicate:?}");
    assert!(duplicate.stdout.is_empty());
    assert!(
        duplicate.stderr.contains("already exists"),
        "{}",
        duplicate.stderr
    );

    let missing = clickclack(
        dir.path(),
        &["admin", "user", "create", "--email", " ", "--db", &db],
    );
    assert_eq!(missing.code, 2);
    assert!(missing
        .stderr
        .contains("usage: clickclack admin user create"));
}

#[test]
fn admin_without_a_subcommand_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let bare = clickclack(dir.path(), &["admin"]);
    assert_eq!(bare.code, 2);
    assert!(
        bare.stderr.contains("admin requires a subcommand"),
        "{}",
        bare.stderr
    );
    let unknown = clickclack(dir.path(), &["admin", "frobnicate"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("frobnicate"));
    let bad_flag = clickclack(dir.path(), &["migrate", "--nope"]);
    assert_eq!(bad_flag.code, 2);
}

#[test]
fn admin_invite_needs_an_existing_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    clickclack(dir.path(), &["admin", "bootstrap", "--data", data]).ok();
    let bad = clickclack(
        dir.path(),
        &[
            "admin",
            "invite",
            "create",
            "--workspace",
            "wsp_nope",
            "--data",
            data,
        ],
    );
    assert_eq!(bad.code, 1, "{bad:?}");
}

#[test]
fn migrate_prints_applied_migrations_and_honours_db_env() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("elsewhere").join("x.db");
    let mut cmd = command(dir.path(), &["migrate"]);
    cmd.env("CLICKCLACK_DB", &db).env("CLICKCLACK_DATA", ""); // empty = unset
    let out = run(cmd);
    let first = out.ok().lines().next().unwrap().to_string();
    let (name, applied_at) = first.split_once('\t').unwrap();
    assert!(
        name.starts_with("0001_") && name.ends_with(".sql"),
        "{name}"
    );
    assert!(applied_at.ends_with('Z'), "{applied_at}");
    assert!(db.is_file());
    assert!(dir.path().join("data").join("uploads").is_dir());
    // Running again applies nothing new and prints the same state.
    let mut again = command(dir.path(), &["migrate", "--db", db.to_str().unwrap()]);
    again.env("CLICKCLACK_DB", "/nonexistent/ignored.db");
    assert_eq!(run(again).ok().lines().next().unwrap(), first);
}

#[test]
fn admin_events_prune_removes_old_events_and_needs_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    clickclack(dir.path(), &["admin", "bootstrap", "--data", data]).ok();
    let db = Path::new(data).join("clickclack.db");
    // Bootstrap wrote one `channel.created`; date it 2019 and add four later events.
    let workspace = super::common::stock_sqlite(
        &db,
        r#"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ws = db.execute("SELECT id FROM workspaces").fetchone()[0]
epoch, pos = db.execute("SELECT epoch, position FROM event_log_state").fetchone()
db.execute("UPDATE events SET created_at = '2019-12-31T00:00:00Z'")
for i, day in enumerate(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"]):
    pos += 1
    db.execute(
        "INSERT INTO events (id, cursor, position, workspace_id, type, payload_json, created_at)"
        " VALUES (?, ?, ?, ?, 'message.created', '{}', ?)",
        ("evt_old%d" % i, "cur_%s_%016d" % (epoch, pos), pos, ws, day + "T00:00:00.5Z"))
db.execute("UPDATE event_log_state SET position = ?", (pos,))
db.commit()
print(json.dumps(ws))
"#,
    );
    let workspace = workspace.as_str().unwrap().to_string();
    let prune = |extra: &[&str]| {
        let mut args = vec!["admin", "events", "prune", "--data", data];
        args.extend_from_slice(extra);
        clickclack(dir.path(), &args)
    };
    let none = prune(&["--workspace", &workspace]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(
        none.stderr.contains("at least one bound"),
        "{}",
        none.stderr
    );
    let bad = prune(&["--workspace", &workspace, "--before", "yesterday"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    let missing = prune(&["--workspace", "wsp_nope", "--keep-latest", "1"]);
    assert_ne!(missing.code, 0, "{missing:?}");

    // Before Jan 3 → channel.created and the Jan 1 and Jan 2 events.
    let out = prune(&[
        "--workspace",
        &workspace,
        "--before",
        "2020-01-03T00:00:00Z",
    ]);
    assert_eq!(out.ok(), "3");
    // Both bounds must hold: older than a year, but keep the newest 1 → only Jan 3.
    let out = prune(&[
        "--workspace",
        &workspace,
        "--older-than-days",
        "365",
        "--keep-latest",
        "1",
    ]);
    assert_eq!(out.ok(), "1");
    let out = prune(&["--workspace", &workspace, "--keep-latest", "5"]);
    assert_eq!(out.ok(), "0");
    let left = super::common::stock_sqlite(
        &db,
        "import json, sqlite3, sys\nprint(json.dumps([r[0] for r in sqlite3.connect(sys.argv[1]).execute('SELECT type FROM events ORDER BY position')]))",
    );
    assert_eq!(left, serde_json::json!(["message.created"]));
}

#[test]
fn admin_bot_create_prints_the_token_once_and_checks_the_creator() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let owner = clickclack(dir.path(), &["admin", "bootstrap", "--data", data])
        .ok()
        .to_string();
    let db = Path::new(data).join("clickclack.db");
    let workspace = super::common::stock_sqlite(
        &db,
        "import json, sqlite3, sys\nprint(json.dumps(sqlite3.connect(sys.argv[1]).execute('SELECT id FROM workspaces').fetchone()[0]))",
    );
    let workspace = workspace.as_str().unwrap().to_string();
    let member = clickclack(
        dir.path(),
        &[
            "admin",
            "user",
            "create",
            "--email",
            "m@example.com",
            "--workspace",
            &workspace,
            "--data",
            data,
        ],
    )
    .ok()
    .to_string();
    let create = |extra: &[&str]| {
        let mut args = vec![
            "admin",
            "bot",
            "create",
            "--workspace",
            &workspace,
            "--data",
            data,
        ];
        args.extend_from_slice(extra);
        clickclack(dir.path(), &args)
    };

    let json = create(&[
        "--created-by",
        &owner,
        "--owner",
        &member,
        "--name",
        "Deploy Bot",
        "--handle",
        "@Deployer",
        "--json",
    ]);
    let created: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert!(created["token"].as_str().unwrap().starts_with("ccb_"));
    assert_eq!(created["bot"]["kind"], "bot");
    assert_eq!(created["bot"]["handle"], "deployer");
    assert_eq!(created["bot"]["owner_user_id"], member.as_str());
    assert_eq!(created["bot_token"]["name"], "default");
    assert_eq!(created["bot_token"]["created_by"], owner.as_str());
    assert!(created["bot_token"]["scopes"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("messages:write")));

    let plain = create(&[
        "--created-by",
        &owner,
        "--name",
        "Reader",
        "--handle",
        "reader",
        "--scopes",
        "bot:read",
        "--token-name",
        "ci",
        "--plain",
    ]);
    let token = plain.ok().to_string();
    assert!(token.starts_with("ccb_") && !token.contains(' '), "{token}");
    let stored = super::common::stock_sqlite(
        &db,
        "import json, sqlite3, sys\nprint(json.dumps(sqlite3.connect(sys.argv[1]).execute(\"SELECT name, scopes_json, owner_user_id, length(token_hash) FROM bot_tokens WHERE name = 'ci'\").fetchone()))",
    );
    assert_eq!(stored[0], "ci");
    assert!(stored[1].as_str().unwrap().contains("messages:read"));
    assert!(!stored[1].as_str().unwrap().contains("messages:write"));
    assert!(stored[2].is_null(), "a service bot has no owner");
    assert_eq!(stored[3], 64, "only the SHA-256 hash is stored");

    let not_owner = create(&["--created-by", &member, "--name", "X", "--handle", "xbot"]);
    assert_eq!(not_owner.code, 1, "{not_owner:?}");
    assert!(not_owner.stdout.is_empty());
    assert!(not_owner.stderr.contains("owner"), "{}", not_owner.stderr);
    let bad_scope = create(&[
        "--created-by",
        &owner,
        "--name",
        "X",
        "--handle",
        "xbot",
        "--scopes",
        "nope",
    ]);
    assert_ne!(bad_scope.code, 0);
    assert!(bad_scope.stderr.contains("scope"), "{}", bad_scope.stderr);
}
