use crate::World;
use clickclack_runtime::chat::{Actor, NewPost, SearchPage, SearchQuery};
use clickclack_runtime::model::Message;
use clickclack_runtime::ErrorKind;
use std::collections::HashSet;

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.into(),
        ..Default::default()
    }
}

fn query(world: &World, q: &str) -> SearchQuery {
    SearchQuery {
        workspace_id: world.workspace.id.clone(),
        q: q.into(),
        ..Default::default()
    }
}

async fn send(world: &World, who: &Actor, channel_id: &str, body: &str) -> Message {
    world
        .chat
        .post_channel_message(who, channel_id, post(body))
        .await
        .unwrap()
        .message
}

async fn search(world: &World, who: &Actor, q: &str) -> SearchPage {
    world.chat.search(who, &query(world, q)).await.unwrap()
}

/// Ids of the results, in order.
async fn hits(world: &World, who: &Actor, q: &str) -> Vec<String> {
    search(world, who, q)
        .await
        .results
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn set(ids: &[&Message]) -> HashSet<String> {
    ids.iter().map(|m| m.id.clone()).collect()
}

fn as_set(ids: Vec<String>) -> HashSet<String> {
    ids.into_iter().collect()
}

/// Runs raw SQL on the world's database (fixtures the use cases do not offer).
async fn sql(world: &World, statement: &str, params: Vec<String>) {
    let conn = world.chat.store().connect().unwrap();
    conn.execute(statement, params).await.unwrap();
}

async fn with_handle(world: &World, name: &str, handle: &str) -> Actor {
    let actor = world.member(name).await;
    let user = world
        .chat
        .update_profile(&actor, None, Some(handle), None)
        .await
        .unwrap();
    Actor::new(user)
}

#[tokio::test]
async fn finds_roots_and_replies_with_snippet_and_highlights() {
    let world = World::new().await;
    let root = send(
        &world,
        &world.owner,
        &world.general.id,
        "findable **lobster**",
    )
    .await;
    send(&world, &world.owner, &world.general.id, "nothing to see").await;
    let reply = world
        .chat
        .post_thread_reply(&world.owner, &root.id, post("Lobsters love the deep sea"))
        .await
        .unwrap()
        .message;

    let page = search(&world, &world.owner, "lobster").await;
    assert_eq!(page.results.len(), 2);
    assert_eq!(page.next_cursor, None);
    let r = page.results.iter().find(|r| r.id == root.id).unwrap();
    assert_eq!(r.snippet, "findable **lobster**");
    assert_eq!((r.highlights[0].start, r.highlights[0].end), (11, 18));
    assert_eq!(r.channel_id.as_deref(), Some(world.general.id.as_str()));
    assert_eq!(r.channel_name.as_deref(), Some("general"));
    assert_eq!(r.thread_root_id, root.id);
    assert_eq!(r.channel_seq, Some(1));
    assert_eq!(r.reply_count, 1);
    assert!(r.last_reply_at.is_some());
    assert_eq!(r.author.id, world.owner.id());
    let json = serde_json::to_value(r).unwrap();
    assert!(json.get("body").is_none() && json.get("rank").is_none());
    assert!(json.get("parent_message_id").is_none() && json.get("thread_seq").is_none());

    let r = page.results.iter().find(|r| r.id == reply.id).unwrap();
    assert_eq!(r.parent_message_id.as_deref(), Some(root.id.as_str()));
    assert_eq!(r.thread_root_id, root.id);
    assert_eq!(r.thread_seq, Some(1));
    assert_eq!(r.channel_seq, None);
    assert_eq!(r.reply_count, 0);
    let marked: String = r
        .snippet
        .chars()
        .skip(r.highlights[0].start)
        .take(r.highlights[0].end - r.highlights[0].start)
        .collect();
    assert_eq!(marked, "Lobsters", "stemmed match is highlighted");
}

#[tokio::test]
async fn phrases_prefixes_and_exclusions() {
    let world = World::new().await;
    let g = world.general.id.clone();
    let a = send(&world, &world.owner, &g, "the release train leaves at noon").await;
    let b = send(&world, &world.owner, &g, "train the release managers").await;
    let c = send(&world, &world.owner, &g, "deployment finished").await;
    let d = send(&world, &world.owner, &g, "release notes drafted").await;

    assert_eq!(
        hits(&world, &world.owner, "\"release train\"").await,
        vec![a.id.clone()]
    );
    assert_eq!(
        as_set(hits(&world, &world.owner, "release train").await),
        set(&[&a, &b])
    );
    assert_eq!(
        hits(&world, &world.owner, "deploy*").await,
        vec![c.id.clone()]
    );
    assert_eq!(
        as_set(hits(&world, &world.owner, "release -train").await),
        set(&[&d])
    );
    assert_eq!(
        as_set(hits(&world, &world.owner, "release -\"release train\"").await),
        set(&[&b, &d])
    );
    // Only exclusions: everything else in scope.
    assert_eq!(
        as_set(hits(&world, &world.owner, "-release").await),
        set(&[&c])
    );
    assert_eq!(
        as_set(hits(&world, &world.owner, "-train -deploy*").await),
        set(&[&d])
    );
    // Unclosed quote: phrase to the end.
    assert_eq!(
        hits(&world, &world.owner, "\"notes drafted").await,
        vec![d.id.clone()]
    );
}

#[tokio::test]
async fn prefixes_match_every_form_of_the_word() {
    let world = World::new().await;
    let g = world.general.id.clone();
    let forms = [
        send(&world, &world.owner, &g, "Deploy now").await,
        send(&world, &world.owner, &g, "it deployed fine").await,
        send(&world, &world.owner, &g, "deployments pending").await,
        send(&world, &world.owner, &g, "the deployer is running").await,
    ];
    send(&world, &world.owner, &g, "I deplore this").await;
    send(&world, &world.owner, &g, "they ran away").await;
    let all: Vec<&Message> = forms.iter().collect();
    assert_eq!(
        as_set(hits(&world, &world.owner, "deploy*").await),
        set(&all)
    );
    assert_eq!(
        as_set(hits(&world, &world.owner, "DEPLOY*").await),
        set(&all)
    );
    assert_eq!(as_set(hits(&world, &world.owner, "depl*").await).len(), 5);
    assert_eq!(
        hits(&world, &world.owner, "run*").await,
        vec![forms[3].id.clone()]
    );
    // The typed prefix must appear: `deployer*` (stem `deploy`) is not `deployments`.
    assert_eq!(
        hits(&world, &world.owner, "deployer*").await,
        vec![forms[3].id.clone()]
    );
    let page = search(&world, &world.owner, "deploy*").await;
    for r in &page.results {
        let marked: String = r
            .snippet
            .chars()
            .skip(r.highlights[0].start)
            .take(r.highlights[0].end - r.highlights[0].start)
            .collect();
        assert!(marked.to_lowercase().starts_with("deploy"), "{marked}");
    }
    // A phrase can end in a prefix.
    assert_eq!(
        hits(&world, &world.owner, "\"the deploy\"*").await,
        vec![forms[3].id.clone()]
    );
}

#[tokio::test]
async fn operators_filter_by_author_channel_files_links_reactions_and_days() {
    let world = World::new().await;
    let alice = with_handle(&world, "Alice", "alice").await;
    let bob = with_handle(&world, "Bob", "bob").await;
    let (random, _) = world
        .chat
        .create_channel(&world.owner, &world.workspace.id, "random", "public")
        .await
        .unwrap();
    let g = world.general.id.clone();
    let a1 = send(&world, &alice, &g, "status update one").await;
    let a2 = send(
        &world,
        &alice,
        &random.id,
        "status update two https://example.com/x",
    )
    .await;
    let b1 = send(&world, &bob, &g, "status update three").await;
    let b2 = send(&world, &bob, &random.id, "status update four").await;

    let owner = &world.owner;
    assert_eq!(
        as_set(hits(&world, owner, "status from:@alice").await),
        set(&[&a1, &a2])
    );
    assert_eq!(
        as_set(hits(&world, owner, "status FROM:bob").await),
        set(&[&b1, &b2])
    );
    assert_eq!(
        as_set(hits(&world, owner, "from:alice from:bob in:#random").await),
        set(&[&a2, &b2])
    );
    assert!(hits(&world, owner, "status from:@nobody").await.is_empty());
    assert!(hits(&world, owner, "status in:#nowhere").await.is_empty());
    assert_eq!(
        as_set(hits(&world, owner, "in:general").await),
        set(&[&a1, &b1])
    );
    assert_eq!(
        hits(&world, owner, "status has:link").await,
        vec![a2.id.clone()]
    );

    // has:file — attach an upload directly.
    sql(
        &world,
        "INSERT INTO uploads (id, workspace_id, owner_id, filename, content_type, byte_size, storage_path, created_at)
         VALUES ('upl_search', ?1, ?2, 'a.txt', 'text/plain', 1, 'x', '2026-01-01T00:00:00Z')",
        vec![world.workspace.id.clone(), bob.id().to_string()],
    )
    .await;
    sql(
        &world,
        "INSERT INTO message_attachments (message_id, upload_id, created_at) VALUES (?1, 'upl_search', '2026-01-01T00:00:00Z')",
        vec![b1.id.clone()],
    )
    .await;
    assert_eq!(hits(&world, owner, "has:file").await, vec![b1.id.clone()]);

    world.chat.add_reaction(&alice, &b2.id, "👍").await.unwrap();
    assert_eq!(
        hits(&world, owner, "status has:reaction").await,
        vec![b2.id.clone()]
    );
    assert!(hits(&world, owner, "has:reaction has:file")
        .await
        .is_empty());

    // Days are UTC calendar days on created_at.
    for (m, at) in [
        (&a1, "2025-03-09T23:59:59.5Z"),
        (&a2, "2025-03-10T00:00:00Z"),
        (&b1, "2025-03-10T18:30:00Z"),
        (&b2, "2025-03-11T00:00:01Z"),
    ] {
        sql(
            &world,
            "UPDATE messages SET created_at = ?2 WHERE id = ?1",
            vec![m.id.clone(), at.to_string()],
        )
        .await;
    }
    assert_eq!(
        as_set(hits(&world, owner, "status on:2025-03-10").await),
        set(&[&a2, &b1])
    );
    assert_eq!(
        as_set(hits(&world, owner, "status before:2025-03-10").await),
        set(&[&a1])
    );
    assert_eq!(
        as_set(hits(&world, owner, "status after:2025-03-10").await),
        set(&[&b2])
    );
    assert_eq!(
        as_set(hits(&world, owner, "after:2025-03-09 before:2025-03-11").await),
        set(&[&a2, &b1])
    );
    assert!(hits(&world, owner, "after:2025-03-11 before:2025-03-11")
        .await
        .is_empty());
    // An invalid date is just words.
    let odd = send(&world, owner, &g, "deadline before:2025-02-30 maybe").await;
    assert_eq!(
        hits(&world, owner, "before:2025-02-30").await,
        vec![odd.id.clone()]
    );
}

#[tokio::test]
async fn scopes_and_dm_privacy() {
    let world = World::new().await;
    let alice = world.member("Alice").await;
    let carol = world.member("Carol").await;
    let (random, _) = world
        .chat
        .create_channel(&world.owner, &world.workspace.id, "random", "public")
        .await
        .unwrap();
    let in_general = send(&world, &world.owner, &world.general.id, "secret plans here").await;
    let in_random = send(&world, &alice, &random.id, "secret plans there").await;
    let dm = world
        .chat
        .create_direct_conversation(&world.owner, &world.workspace.id, &[alice.id().to_string()])
        .await
        .unwrap()
        .conversation;
    let dm_msg = world
        .chat
        .post_direct_message(&alice, &dm.id, post("secret plans in private"))
        .await
        .unwrap()
        .message;

    // Without a scope: channel messages only, never DMs — even for DM members.
    for who in [&world.owner, &alice, &carol] {
        assert_eq!(
            as_set(hits(&world, who, "secret").await),
            set(&[&in_general, &in_random])
        );
    }
    let scoped = |channel: Option<&str>, dm: Option<&str>| SearchQuery {
        channel_id: channel.map(str::to_string),
        direct_conversation_id: dm.map(str::to_string),
        ..query(&world, "secret")
    };
    let page = world
        .chat
        .search(&carol, &scoped(Some(&random.id), None))
        .await
        .unwrap();
    assert_eq!(page.results.len(), 1);
    assert_eq!(page.results[0].id, in_random.id);

    for who in [&world.owner, &alice] {
        let page = world
            .chat
            .search(who, &scoped(None, Some(&dm.id)))
            .await
            .unwrap();
        assert_eq!(page.results.len(), 1);
        let r = &page.results[0];
        assert_eq!(r.id, dm_msg.id);
        assert_eq!(r.direct_conversation_id.as_deref(), Some(dm.id.as_str()));
        assert_eq!(r.channel_id, None);
        assert_eq!(r.channel_name, None);
    }
    // A workspace member outside the conversation: 404, never a hit.
    let err = world
        .chat
        .search(&carol, &scoped(None, Some(&dm.id)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = world
        .chat
        .search(&carol, &scoped(Some("chn_missing"), None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = world
        .chat
        .search(&world.owner, &scoped(Some(&random.id), Some(&dm.id)))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Invalid, "invalid_search_scope")
    );

    // A channel of another workspace is not found through this workspace.
    let other_ws = world
        .chat
        .create_workspace(&world.owner, "Elsewhere", None)
        .await
        .unwrap();
    let err = world
        .chat
        .search(
            &world.owner,
            &SearchQuery {
                workspace_id: other_ws.id.clone(),
                ..scoped(Some(&random.id), None)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    // An outsider of the workspace: 404.
    let outsider = world.outsider("Stranger").await;
    let err = world
        .chat
        .search(&outsider, &query(&world, "secret"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn deleted_messages_and_agent_activity_never_match() {
    let world = World::new().await;
    let g = world.general.id.clone();
    let gone = send(&world, &world.owner, &g, "ephemeral walrus").await;
    let kept = send(&world, &world.owner, &g, "durable walrus").await;
    world
        .chat
        .post_channel_message(
            &world.owner,
            &g,
            NewPost {
                kind: Some("agent_tool".into()),
                ..post("tool walrus output")
            },
        )
        .await
        .unwrap();
    world
        .chat
        .delete_message(&world.owner, &gone.id)
        .await
        .unwrap();
    assert_eq!(
        hits(&world, &world.owner, "walrus").await,
        vec![kept.id.clone()]
    );
    assert!(hits(&world, &world.owner, "ephemeral").await.is_empty());
    // Filter-only and exclusion-only searches skip them too.
    assert_eq!(
        hits(&world, &world.owner, "in:general").await,
        vec![kept.id.clone()]
    );
    assert_eq!(
        hits(&world, &world.owner, "-nothing").await,
        vec![kept.id.clone()]
    );
    // Edits re-index.
    world
        .chat
        .edit_message(&world.owner, &kept.id, "durable narwhal")
        .await
        .unwrap();
    assert!(hits(&world, &world.owner, "walrus").await.is_empty());
    let page = search(&world, &world.owner, "narwhal").await;
    assert!(page.results[0].edited_at.is_some());
}

async fn all_pages(world: &World, q: SearchQuery) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor = None;
    loop {
        let page = world
            .chat
            .search(
                &world.owner,
                &SearchQuery {
                    cursor,
                    ..q.clone()
                },
            )
            .await
            .unwrap();
        pages += 1;
        assert!(page.results.len() <= q.limit.unwrap() as usize);
        seen.extend(page.results.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return (seen, pages),
        }
    }
}

#[tokio::test]
async fn pagination_is_stable_and_never_repeats() {
    let world = World::new().await;
    let g = world.general.id.clone();
    let mut expected = HashSet::new();
    for i in 0..23 {
        // Varying lengths and repetitions give varied (and tied) bm25 scores.
        let body = match i % 3 {
            0 => format!("kraken sighting number {i}"),
            1 => format!("kraken kraken again {i} with a much longer tail of words here"),
            _ => format!("kraken {i}"),
        };
        expected.insert(send(&world, &world.owner, &g, &body).await.id);
    }
    send(&world, &world.owner, &g, "unrelated").await;

    for sort in ["relevance", "newest"] {
        let q = SearchQuery {
            sort: Some(sort.into()),
            limit: Some(5),
            ..query(&world, "kraken")
        };
        let (seen, pages) = all_pages(&world, q.clone()).await;
        assert_eq!(pages, 5, "{sort}");
        assert_eq!(seen.len(), 23, "{sort}: no duplicates, nothing lost");
        assert_eq!(as_set(seen.clone()), expected, "{sort}");
        // The single big page agrees with the concatenated pages.
        let whole = world
            .chat
            .search(
                &world.owner,
                &SearchQuery {
                    limit: Some(100),
                    ..q
                },
            )
            .await
            .unwrap();
        assert_eq!(
            whole.results.into_iter().map(|r| r.id).collect::<Vec<_>>(),
            seen,
            "{sort}"
        );
        if sort == "newest" {
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.reverse();
            assert_eq!(seen, sorted, "ULIDs follow creation order");
        }
    }
    // Filter-only searches page too.
    let (seen, _) = all_pages(
        &world,
        SearchQuery {
            limit: Some(7),
            ..query(&world, "in:#general")
        },
    )
    .await;
    assert_eq!(seen.len(), 24);
    assert_eq!(as_set(seen.clone()).len(), 24);
}

#[tokio::test]
async fn cursors_are_bound_to_the_search() {
    let world = World::new().await;
    for i in 0..3 {
        send(
            &world,
            &world.owner,
            &world.general.id,
            &format!("squid {i}"),
        )
        .await;
    }
    let q = SearchQuery {
        limit: Some(1),
        ..query(&world, "squid")
    };
    let cursor = world
        .chat
        .search(&world.owner, &q)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    let member = world.member("Mate").await;
    let bad = [
        (world.owner.clone(), "octopus", None),
        (world.owner.clone(), "squid", Some("newest")),
        (member, "squid", None),
    ];
    for (who, text, sort) in bad {
        let err = world
            .chat
            .search(
                &who,
                &SearchQuery {
                    q: text.into(),
                    sort: sort.map(str::to_string),
                    cursor: Some(cursor.clone()),
                    ..q.clone()
                },
            )
            .await
            .unwrap_err();
        assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "invalid_cursor"));
    }
    for garbage in ["zz", "00", "7b7d"] {
        let err = world
            .chat
            .search(
                &world.owner,
                &SearchQuery {
                    cursor: Some(garbage.into()),
                    ..q.clone()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code, "invalid_cursor");
    }
}

#[tokio::test]
async fn validation_errors_and_blank_queries() {
    let world = World::new().await;
    send(&world, &world.owner, &world.general.id, "something").await;
    let cases: Vec<(SearchQuery, &str)> = vec![
        (
            SearchQuery {
                workspace_id: "  ".into(),
                ..query(&world, "x")
            },
            "workspace_id_required",
        ),
        (
            SearchQuery {
                limit: Some(0),
                ..query(&world, "x")
            },
            "invalid_limit",
        ),
        (
            SearchQuery {
                limit: Some(-3),
                ..query(&world, "x")
            },
            "invalid_limit",
        ),
        (query(&world, &"é".repeat(501)), "query_too_long"),
        (
            SearchQuery {
                sort: Some("oldest".into()),
                ..query(&world, "x")
            },
            "invalid_sort",
        ),
    ];
    for (q, code) in cases {
        let err = world.chat.search(&world.owner, &q).await.unwrap_err();
        assert_eq!((err.kind, err.code), (ErrorKind::Invalid, code));
    }
    // 500 code points is fine; a large limit is clamped.
    world
        .chat
        .search(&world.owner, &query(&world, &"é".repeat(500)))
        .await
        .unwrap();
    world
        .chat
        .search(
            &world.owner,
            &SearchQuery {
                limit: Some(1000),
                ..query(&world, "something")
            },
        )
        .await
        .unwrap();
    for blank in ["", "   ", "\t\n", "🎉", "* ( ) -"] {
        let page = search(&world, &world.owner, blank).await;
        assert!(
            page.results.is_empty() && page.next_cursor.is_none(),
            "{blank:?}"
        );
    }
}

/// Strings that would be FTS5 syntax errors (or worse) if passed through raw.
pub const NASTY: &[&str] = &[
    "\"",
    "\"\"",
    "\"\"\"",
    "\"unbalanced",
    "unbalanced\"",
    "a\"b\"c\"",
    "AND",
    "OR",
    "NOT",
    "AND OR NOT",
    "a AND",
    "OR b",
    "NOT x",
    "a NOT",
    "*",
    "**",
    "a*b*",
    "*a",
    "(",
    ")",
    "(a",
    "a)",
    "((a) OR b",
    ":",
    "body:",
    "body:x",
    "message_id:x",
    "workspace_id:x",
    "{body}: x",
    "^",
    "^a",
    "a^",
    "NEAR(a b)",
    "NEAR(a b, 2)",
    "NEAR(",
    "NEAR",
    "-",
    "--",
    "-\"",
    "- -a",
    "+a",
    "a + b",
    "🎉",
    "🎉🎉 party 🎉",
    "👨‍👩‍👧‍👦",
    "\u{0301}",
    "a\u{0301}",
    "\u{200b}",
    "\u{0}",
    "a\u{0}b",
    "'; DROP TABLE messages; --",
    "\" OR 1=1 --",
    "%",
    "_",
    "\\",
    "\\\"",
    "?1",
    "from:",
    "from:@",
    "in:",
    "in:#",
    "has:",
    "has:nothing",
    "before:",
    "on:9999-99-99",
    "after:0000-00-00",
    "before:2026-01-01T00:00:00Z",
    "-from:alice",
    "-has:link",
    "\"a\"*",
    "\"\"*",
    "-\"\"*",
    "-*",
    "日本語のテキスト",
    "Ωμέγα ΣΊΣΥΦΟΣ",
    "مرحبا",
];

#[tokio::test]
async fn nasty_queries_never_fail() {
    let world = World::new().await;
    send(
        &world,
        &world.owner,
        &world.general.id,
        "a b party NEAR body 日本語",
    )
    .await;
    let long_word = "x".repeat(499);
    let mut queries: Vec<String> = NASTY.iter().map(|s| s.to_string()).collect();
    queries.push(long_word.clone());
    queries.push(format!("{long_word}*"));
    queries.push("\"".repeat(500));
    queries.push("a ".repeat(250));
    queries.push("-a ".repeat(166));
    queries.push("(".repeat(500));
    for q in &queries {
        for sort in ["relevance", "newest"] {
            let result = world
                .chat
                .search(
                    &world.owner,
                    &SearchQuery {
                        sort: Some(sort.into()),
                        ..query(&world, q)
                    },
                )
                .await;
            assert!(result.is_ok(), "{q:?} ({sort}) failed: {:?}", result.err());
        }
    }
    // Operators inside quotes are words, and a quoted NOT is a word.
    let hit = send(&world, &world.owner, &world.general.id, "do NOT panic").await;
    assert_eq!(
        hits(&world, &world.owner, "NOT panic").await,
        vec![hit.id.clone()]
    );
}

/// FTS5's own check that the index matches `messages` (external content).
async fn index_is_consistent(conn: &libsql::Connection) {
    conn.execute(
        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
        (),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_index_follows_edits_deletes_rebuilds_and_backups() {
    let world = World::new().await;
    let g = world.general.id.clone();
    let mut kept = Vec::new();
    for i in 0..30 {
        let m = send(&world, &world.owner, &g, &format!("manatee number {i}")).await;
        match i % 5 {
            0 => {
                world
                    .chat
                    .delete_message(&world.owner, &m.id)
                    .await
                    .unwrap();
            }
            1 => {
                world
                    .chat
                    .edit_message(&world.owner, &m.id, &format!("dugong number {i}"))
                    .await
                    .unwrap();
            }
            _ => kept.push(m),
        }
    }
    // Hard deletes leave rowid gaps that a copy must keep.
    let conn = world.chat.store().connect().unwrap();
    conn.execute(
        "DELETE FROM messages WHERE id = ?1",
        [kept.remove(0).id.clone()],
    )
    .await
    .unwrap();
    index_is_consistent(&conn).await;
    let expected: HashSet<String> = kept.iter().map(|m| m.id.clone()).collect();
    let q = SearchQuery {
        limit: Some(100),
        ..query(&world, "manatee")
    };
    assert_eq!(
        as_set(
            world
                .chat
                .search(&world.owner, &q)
                .await
                .unwrap()
                .results
                .into_iter()
                .map(|r| r.id)
                .collect()
        ),
        expected
    );
    assert_eq!(hits(&world, &world.owner, "dugong").await.len(), 6);

    conn.execute(
        "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
        (),
    )
    .await
    .unwrap();
    index_is_consistent(&conn).await;
    assert_eq!(
        as_set(hits(&world, &world.owner, "manatee").await),
        expected
    );

    // A backup (VACUUM INTO) keeps rowids, so the copy's index still points at the right rows.
    let out = world.dir.path().join("copy.db");
    clickclack_runtime::store::backup::backup(world.chat.store().location(), &out)
        .await
        .unwrap();
    let copy =
        clickclack_runtime::store::Store::open(clickclack_runtime::store::StoreOptions::new(
            clickclack_runtime::store::DbLocation::parse(out.to_str().unwrap()).unwrap(),
        ))
        .await
        .unwrap();
    index_is_consistent(&copy.connect().unwrap()).await;
    let chat = clickclack_runtime::chat::Chat::new(copy, Default::default());
    let page = chat.search(&world.owner, &q).await.unwrap();
    assert_eq!(
        as_set(page.results.into_iter().map(|r| r.id).collect()),
        expected
    );
}
