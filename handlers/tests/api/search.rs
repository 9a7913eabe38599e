use crate::{Person, TestApp};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;

/// `/api/search?…` with the workspace and the given extra parameters, percent-encoded.
fn path(app: &TestApp, params: &[(&str, &str)]) -> String {
    let mut all = vec![("workspace_id", app.workspace_id.as_str())];
    all.extend_from_slice(params);
    format!("/api/search?{}", serde_urlencoded::to_string(&all).unwrap())
}

async fn search(app: &TestApp, who: &Person, params: &[(&str, &str)]) -> Value {
    app.get(&path(app, params))
        .token(&who.token)
        .send()
        .await
        .expect(StatusCode::OK)
        .body
}

fn ids(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn id_set(body: &Value) -> HashSet<String> {
    ids(body).into_iter().collect()
}

fn id(message: &Value) -> String {
    message["id"].as_str().unwrap().to_string()
}

async fn post_to(app: &TestApp, who: &Person, channel_id: &str, body: &str) -> Value {
    app.post(&format!("/api/channels/{channel_id}/messages"))
        .token(&who.token)
        .json(json!({"body": body}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body["message"]
        .clone()
}

#[tokio::test]
async fn results_carry_snippet_highlights_and_thread_fields_but_no_body() {
    let app = TestApp::new().await;
    let root = app.send(&app.owner, "findable **lobster**").await;
    app.send(&app.owner, "nothing here").await;
    let reply = app
        .post(&format!("/api/messages/{}/thread/replies", id(&root)))
        .token(&app.member.token)
        .json(json!({"body": "lobsters everywhere"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body["message"]
        .clone();

    let body = search(&app, &app.member, &[("q", "lobster"), ("sort", "newest")]).await;
    assert_eq!(body["next_cursor"], Value::Null);
    assert_eq!(ids(&body), vec![id(&reply), id(&root)]);
    let r = &body["results"][1];
    assert_eq!(r["snippet"], "findable **lobster**");
    assert_eq!(r["highlights"], json!([{"start": 11, "end": 18}]));
    assert_eq!(r["channel_id"], app.general_id.as_str());
    assert_eq!(r["channel_name"], "general");
    assert_eq!(r["workspace_id"], app.workspace_id.as_str());
    assert_eq!(r["thread_root_id"], id(&root).as_str());
    assert_eq!(r["channel_seq"], 1);
    assert_eq!(r["reply_count"], 1);
    assert!(r["last_reply_at"].is_string());
    assert_eq!(r["author"]["display_name"], "Local Captain");
    assert!(r["created_at"].as_str().unwrap().ends_with('Z'));
    for absent in [
        "body",
        "rank",
        "message",
        "parent_message_id",
        "thread_seq",
        "direct_conversation_id",
        "edited_at",
    ] {
        assert!(r.get(absent).is_none(), "{absent} present: {r}");
    }
    let r = &body["results"][0];
    assert_eq!(r["parent_message_id"], id(&root).as_str());
    assert_eq!(r["thread_seq"], 1);
    assert_eq!(r["reply_count"], 0);
    assert_eq!(r["highlights"], json!([{"start": 0, "end": 8}]));
    assert!(r.get("channel_seq").is_none());

    // Blank or missing q: an empty page without touching the index.
    for params in [&[("q", "   ")][..], &[][..]] {
        let body = search(&app, &app.member, params).await;
        assert_eq!(body, json!({"results": [], "next_cursor": null}));
    }
}

#[tokio::test]
async fn credentials_and_membership_are_required() {
    let app = TestApp::new().await;
    app.send(&app.owner, "secret").await;
    let url = path(&app, &[("q", "secret")]);
    app.get(&url)
        .send()
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.get(&url)
        .token("not-a-token")
        .send()
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.get(&url)
        .token(&app.outsider.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/search?workspace_id=wsp_missing&q=secret")
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn bad_input_is_400_with_a_code() {
    let app = TestApp::new().await;
    let long = "q".repeat(501);
    let cases: Vec<(String, &str)> = vec![
        ("/api/search?q=x".to_string(), "workspace_id_required"),
        (
            "/api/search?workspace_id=&q=x".to_string(),
            "workspace_id_required",
        ),
        (
            path(
                &app,
                &[
                    ("q", "x"),
                    ("channel_id", &app.general_id),
                    ("direct_conversation_id", "dm_x"),
                ],
            ),
            "invalid_search_scope",
        ),
        (path(&app, &[("q", "x"), ("limit", "0")]), "invalid_limit"),
        (path(&app, &[("q", "x"), ("limit", "-1")]), "invalid_limit"),
        (path(&app, &[("q", "x"), ("limit", "ten")]), "invalid_query"),
        (path(&app, &[("q", &long)]), "query_too_long"),
        (
            path(&app, &[("q", "x"), ("sort", "oldest")]),
            "invalid_sort",
        ),
        (
            path(&app, &[("q", "x"), ("cursor", "nonsense")]),
            "invalid_cursor",
        ),
    ];
    for (url, code) in cases {
        app.get(&url)
            .token(&app.member.token)
            .send()
            .await
            .expect_error(StatusCode::BAD_REQUEST, code);
    }
    // 500 code points (multi-byte) are fine; limit above the maximum is clamped.
    search(&app, &app.member, &[("q", &"ß".repeat(500))]).await;
    search(&app, &app.member, &[("q", "x"), ("limit", "1000")]).await;
}

#[tokio::test]
async fn dm_results_are_private_to_conversation_members() {
    let app = TestApp::new().await;
    let cook = crate::dms::third_member(&app).await;
    let public = app.send(&app.owner, "quarterly numbers look fine").await;
    let dm = crate::dms::create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    let dm_id = dm["id"].as_str().unwrap().to_string();
    let private = app
        .post(&format!("/api/dms/{dm_id}/messages"))
        .token(&app.member.token)
        .json(json!({"body": "quarterly numbers are secret"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body["message"]
        .clone();

    // Without a scope nobody gets DM hits, members included.
    for who in [&app.owner, &app.member, &cook] {
        let body = search(&app, who, &[("q", "quarterly")]).await;
        assert_eq!(ids(&body), vec![id(&public)]);
    }
    for who in [&app.owner, &app.member] {
        let body = search(
            &app,
            who,
            &[("q", "quarterly"), ("direct_conversation_id", &dm_id)],
        )
        .await;
        assert_eq!(ids(&body), vec![id(&private)]);
        assert_eq!(body["results"][0]["direct_conversation_id"], dm_id.as_str());
        assert!(body["results"][0].get("channel_id").is_none());
    }
    app.get(&path(
        &app,
        &[("q", "quarterly"), ("direct_conversation_id", &dm_id)],
    ))
    .token(&cook.token)
    .send()
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&path(
        &app,
        &[("q", "quarterly"), ("direct_conversation_id", &dm_id)],
    ))
    .token(&app.outsider.token)
    .send()
    .await
    .expect(StatusCode::NOT_FOUND);
    app.get(&path(
        &app,
        &[("q", "quarterly"), ("channel_id", "chn_nope")],
    ))
    .token(&cook.token)
    .send()
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    let body = search(
        &app,
        &cook,
        &[("q", "quarterly"), ("channel_id", &app.general_id)],
    )
    .await;
    assert_eq!(ids(&body), vec![id(&public)]);
}

#[tokio::test]
async fn operators_work_over_http() {
    let app = TestApp::new().await;
    app.patch("/api/me")
        .token(&app.member.token)
        .json(json!({"handle": "mate"}))
        .send()
        .await
        .expect(StatusCode::OK);
    let random = app
        .post(&format!("/api/workspaces/{}/channels", app.workspace_id))
        .token(&app.owner.token)
        .json(json!({"name": "random"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body["channel"]
        .clone();
    let random_id = id(&random);
    let mine = app.send(&app.member, "harbor report from the mate").await;
    let link = app
        .send(&app.owner, "harbor map at https://example.com/map")
        .await;
    let elsewhere = post_to(&app, &app.owner, &random_id, "harbor lights in random").await;
    app.post(&format!("/api/messages/{}/reactions", id(&link)))
        .token(&app.member.token)
        .json(json!({"emoji": "⚓"}))
        .send()
        .await;

    let q = |q: &'static str| [("q", q)];
    assert_eq!(
        ids(&search(&app, &app.owner, &q("harbor from:@mate")).await),
        vec![id(&mine)]
    );
    assert_eq!(
        ids(&search(&app, &app.owner, &q("from:mate")).await),
        vec![id(&mine)]
    );
    assert!(ids(&search(&app, &app.owner, &q("harbor from:@ghost")).await).is_empty());
    assert_eq!(
        ids(&search(&app, &app.owner, &q("harbor has:link")).await),
        vec![id(&link)]
    );
    assert_eq!(
        ids(&search(&app, &app.owner, &q("has:reaction")).await),
        vec![id(&link)]
    );
    assert!(ids(&search(&app, &app.owner, &q("harbor has:file")).await).is_empty());
    assert!(ids(&search(&app, &app.owner, &q("harbor in:#nowhere")).await).is_empty());
    let general: HashSet<String> = [id(&mine), id(&link)].into();
    assert_eq!(
        id_set(&search(&app, &app.owner, &q("harbor in:#general")).await),
        general
    );
    assert_eq!(
        ids(&search(&app, &app.owner, &q("harbor in:random")).await),
        vec![id(&elsewhere)]
    );
    let body = search(&app, &app.owner, &q("harbor -lights")).await;
    assert_eq!(id_set(&body), general);
    let today = mine["created_at"].as_str().unwrap()[..10].to_string();
    let on = format!("harbor on:{today} -map");
    let body = search(&app, &app.owner, &[("q", on.as_str())]).await;
    assert!(ids(&body).contains(&id(&mine)) && !ids(&body).contains(&id(&link)));
    let before = format!("harbor before:{today}");
    assert!(ids(&search(&app, &app.owner, &[("q", before.as_str())]).await).is_empty());
    assert_eq!(
        ids(&search(&app, &app.owner, &q("\"report from the\"")).await),
        vec![id(&mine)]
    );
    assert_eq!(
        ids(&search(&app, &app.owner, &q("repo*")).await),
        vec![id(&mine)]
    );
}

#[tokio::test]
async fn deleted_messages_stop_matching() {
    let app = TestApp::new().await;
    let gone = app.send(&app.owner, "obsolete walrus").await;
    let kept = app.send(&app.owner, "current walrus").await;
    app.delete(&format!("/api/messages/{}", id(&gone)))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        ids(&search(&app, &app.member, &[("q", "walrus")]).await),
        vec![id(&kept)]
    );
    assert!(ids(&search(&app, &app.member, &[("q", "obsolete")]).await).is_empty());
}

#[tokio::test]
async fn cursor_pages_are_stable_and_bound_to_the_query() {
    let app = TestApp::new().await;
    let mut sent = HashSet::new();
    for i in 0..12 {
        let body = if i % 2 == 0 {
            format!("anchor chain {i}")
        } else {
            format!("anchor anchor {i} and a longer body to vary the score")
        };
        sent.insert(id(&app.send(&app.owner, &body).await));
    }
    for sort in ["relevance", "newest"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut params = vec![("q", "anchor"), ("sort", sort), ("limit", "5")];
            if let Some(c) = &cursor {
                params.push(("cursor", c.as_str()));
            }
            let body = search(&app, &app.member, &params).await;
            pages += 1;
            seen.extend(ids(&body));
            match body["next_cursor"].as_str() {
                Some(c) => {
                    assert!(
                        c.chars().all(|c| c.is_ascii_alphanumeric()),
                        "opaque and URL-safe"
                    );
                    cursor = Some(c.to_string());
                }
                None => break,
            }
        }
        assert_eq!(pages, 3, "{sort}");
        assert_eq!(seen.len(), 12, "{sort}: no duplicates");
        assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), sent, "{sort}");
    }
    let first = search(&app, &app.member, &[("q", "anchor"), ("limit", "5")]).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    for (who, q, sort) in [
        (&app.member, "chain", "relevance"),
        (&app.member, "anchor", "newest"),
        (&app.owner, "anchor", "relevance"),
    ] {
        app.get(&path(
            &app,
            &[
                ("q", q),
                ("sort", sort),
                ("limit", "5"),
                ("cursor", &cursor),
            ],
        ))
        .token(&who.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_cursor");
    }
    app.get(&path(
        &app,
        &[
            ("q", "anchor"),
            ("channel_id", &app.general_id),
            ("limit", "5"),
            ("cursor", &cursor),
        ],
    ))
    .token(&app.member.token)
    .send()
    .await
    .expect_error(StatusCode::BAD_REQUEST, "invalid_cursor");
}

#[tokio::test]
async fn nasty_queries_are_always_200() {
    let app = TestApp::new().await;
    app.send(&app.owner, "a b party NEAR body 日本語 'quoted' \"double\"")
        .await;
    let long_word = "y".repeat(500);
    let mut queries: Vec<&str> = vec![
        "\"",
        "\"\"",
        "\"unbalanced",
        "AND OR NOT",
        "NOT",
        "a OR",
        "*",
        "a*b",
        "(",
        ")",
        "(a OR b",
        ":",
        "body:a",
        "^",
        "^a",
        "NEAR(a b)",
        "NEAR(a b, 1)",
        "-",
        "-a",
        "\"\"*",
        "🎉",
        "🎉 party",
        "'; DROP TABLE messages; --",
        "\" OR \"\"=\"",
        "%",
        "_%_",
        "\\",
        "\u{0}",
        "a\u{0}b",
        "\u{feff}",
        "from:",
        "from:@",
        "in:#",
        "has:",
        "before:2026-99-99",
        "on:x",
        "{body}: a",
        "a + b",
        "日本語",
    ];
    queries.push(&long_word);
    let mut count = 0;
    for q in queries {
        for sort in ["relevance", "newest"] {
            let res = app
                .get(&path(&app, &[("q", q), ("sort", sort)]))
                .token(&app.member.token)
                .send()
                .await;
            assert_eq!(res.status, StatusCode::OK, "{q:?}: {}", res.text);
            assert!(res.body["results"].is_array(), "{q:?}");
            count += 1;
        }
    }
    assert!(count > 70);
    let body = search(&app, &app.member, &[("q", "\"double\" 'quoted'")]).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
}
