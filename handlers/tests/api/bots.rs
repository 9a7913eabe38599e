//! Bots: management, `ccb_` bearer tokens, the scope matrix, workspace binding, command
//! menus, agent activity, mentions and `agent.progress` targeting.

use crate::{Person, TestApp};
use axum::http::{Method, StatusCode};
use clickclack_runtime::chat::NewBot;
use serde_json::{json, Value};

/// Creates a bot over HTTP as the owner; returns the 201 body `{bot, bot_token, token}`.
async fn create_bot(app: &TestApp, handle: &str, scopes: Value) -> Value {
    app.post(&format!("/api/workspaces/{}/bots", app.workspace_id))
        .token(&app.owner.token)
        .json(json!({"name": format!("Bot {handle}"), "handle": handle, "scopes": scopes}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body
}

/// Mints a token for `bot_id` with `scopes`; returns the raw token.
async fn mint(app: &TestApp, bot_id: &str, scopes: Value) -> String {
    let res = app
        .post(&format!("/api/bots/{bot_id}/tokens"))
        .token(&app.owner.token)
        .json(json!({"name": "t", "scopes": scopes}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    res.body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn owners_create_list_mint_revoke_and_delete_bots() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "Deployer", json!([])).await;
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ccb_"));
    let bot = &created["bot"];
    let bot_id = bot["id"].as_str().unwrap().to_string();
    assert_eq!(bot["kind"], "bot");
    assert_eq!(bot["handle"], "deployer");
    assert_eq!(bot["owner_user_id"], app.owner.id.as_str());
    assert_eq!(bot["workspace_id"], app.workspace_id.as_str());
    let bot_token = &created["bot_token"];
    assert_eq!(bot_token["name"], "default");
    assert_eq!(bot_token["bot_user_id"], bot_id.as_str());
    assert!(bot_token.get("token_hash").is_none());
    assert!(bot_token["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("messages:write")));
    assert!(!bot_token["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("channels:write")));

    // The bot is a workspace member with role `bot` and can call as itself.
    let me = app
        .get("/api/me")
        .token(&token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user"]["id"], bot_id.as_str());
    let members = app
        .get(&format!(
            "/api/workspaces/{}/members?role=bot",
            app.workspace_id
        ))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(members.body["members"][0]["user"]["id"], bot_id.as_str());

    let list = app
        .get(&format!("/api/workspaces/{}/bots", app.workspace_id))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(list.body["bots"].as_array().unwrap().len(), 1);

    // Validation: unknown scope, bad handle, taken handle.
    let bots_path = format!("/api/workspaces/{}/bots", app.workspace_id);
    app.post(&bots_path)
        .token(&app.owner.token)
        .json(json!({"name": "X", "handle": "xbot", "scopes": ["messages:delete"]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_scope");
    app.post(&bots_path)
        .token(&app.owner.token)
        .json(json!({"name": "X", "handle": "no spaces"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_handle");
    app.post(&bots_path)
        .token(&app.owner.token)
        .json(json!({"name": "X", "handle": "@DEPLOYER"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "handle_taken");

    // Tokens: mint (raw once), list (no raw), revoke → 401.
    let second = mint(&app, &bot_id, json!(["bot:read"])).await;
    app.get("/api/me")
        .token(&second)
        .send()
        .await
        .expect(StatusCode::OK);
    let tokens = app
        .get(&format!("/api/bots/{bot_id}/tokens"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let tokens = tokens.body["bot_tokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|t| t.get("token").is_none()));
    let first_id = created["bot_token"]["id"].as_str().unwrap();
    let used = tokens.iter().find(|t| t["id"] == first_id).unwrap();
    assert!(used["last_used_at"].is_string(), "use is recorded");
    let revoked = app
        .post(&format!("/api/bot-tokens/{first_id}/revoke"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(revoked.body["bot_token"]["revoked_at"].is_string());
    app.get("/api/me")
        .token(&token)
        .send()
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.get("/api/me")
        .token(&second)
        .send()
        .await
        .expect(StatusCode::OK);
    app.get("/api/me")
        .token("ccb_notatoken")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);

    // Delete: every token revoked, membership gone, no longer listed.
    app.delete(&format!("/api/bots/{bot_id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    app.get("/api/me")
        .token(&second)
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let list = app
        .get(&bots_path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(list.body["bots"], json!([]));
    app.delete(&format!("/api/bots/{bot_id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bot_management_is_for_owners_only() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "ops", json!(["bot:admin"])).await;
    let bot_id = created["bot"]["id"].as_str().unwrap();
    let token_id = created["bot_token"]["id"].as_str().unwrap();
    let bot_token = created["token"].as_str().unwrap();
    let bots_path = format!("/api/workspaces/{}/bots", app.workspace_id);
    let calls = |who: &str| {
        vec![
            app.get(&bots_path).token(who),
            app.post(&bots_path)
                .token(who)
                .json(json!({"name": "M", "handle": "mbot"})),
            app.get(&format!("/api/bots/{bot_id}/tokens")).token(who),
            app.post(&format!("/api/bots/{bot_id}/tokens"))
                .token(who)
                .json(json!({})),
            app.post(&format!("/api/bot-tokens/{token_id}/revoke"))
                .token(who),
            app.delete(&format!("/api/bots/{bot_id}")).token(who),
        ]
    };
    for req in calls(&app.member.token) {
        req.send().await.expect(StatusCode::FORBIDDEN);
    }
    // Even a bot:admin token cannot manage bots.
    for req in calls(bot_token) {
        req.send()
            .await
            .expect_error(StatusCode::FORBIDDEN, "bot_forbidden");
    }
    // Outsiders do not see the workspace or the bot.
    for req in calls(&app.outsider.token) {
        req.send().await.expect(StatusCode::NOT_FOUND);
    }
    // Bots cannot change their profile.
    app.patch("/api/me")
        .token(bot_token)
        .json(json!({"display_name": "Renamed"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "bot_forbidden");
}

/// One representative route per scope.
struct Route {
    scope: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
}

#[tokio::test]
async fn each_scope_opens_exactly_its_routes() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "matrix", json!(["bot:admin"])).await;
    let bot_id = created["bot"]["id"].as_str().unwrap().to_string();
    let root = app.send(&app.owner, "root for the matrix").await;
    let root_id = root["id"].as_str().unwrap();
    let ws = &app.workspace_id;
    let route = |scope, method, path: String, body: Option<Value>| Route {
        scope,
        method,
        path,
        body,
    };
    let routes = vec![
        route(
            "workspaces:read",
            Method::GET,
            format!("/api/workspaces/{ws}"),
            None,
        ),
        route(
            "channels:read",
            Method::GET,
            format!("/api/workspaces/{ws}/channels"),
            None,
        ),
        route(
            "channels:write",
            Method::POST,
            format!("/api/workspaces/{ws}/channels"),
            Some(json!({"name": "bot-made"})),
        ),
        route(
            "messages:read",
            Method::GET,
            format!("/api/channels/{}/messages", app.general_id),
            None,
        ),
        route(
            "messages:write",
            Method::POST,
            format!("/api/channels/{}/messages", app.general_id),
            Some(json!({"body": "beep"})),
        ),
        route(
            "threads:read",
            Method::GET,
            format!("/api/messages/{root_id}/thread"),
            None,
        ),
        route(
            "threads:write",
            Method::POST,
            format!("/api/messages/{root_id}/thread/replies"),
            Some(json!({"body": "boop"})),
        ),
        route(
            "dms:read",
            Method::GET,
            format!("/api/dms?workspace_id={ws}"),
            None,
        ),
        route(
            "dms:write",
            Method::POST,
            "/api/dms".to_string(),
            Some(json!({"workspace_id": ws, "member_ids": [app.owner.id]})),
        ),
        route(
            "realtime:read",
            Method::GET,
            format!("/api/realtime/events?workspace_id={ws}"),
            None,
        ),
        route(
            "uploads:write",
            Method::GET,
            format!("/api/uploads/by-nonce?workspace_id={ws}&nonce=n1"),
            None,
        ),
        route("profile:read", Method::GET, "/api/me".to_string(), None),
        route(
            "agent_activity:write",
            Method::POST,
            "/api/realtime/ephemeral".to_string(),
            Some(
                json!({"workspace_id": ws, "type": "agent.progress", "target_user_id": app.owner.id, "payload": {"step": 1}}),
            ),
        ),
        route(
            "commands:write",
            Method::PUT,
            "/api/bots/self/commands".to_string(),
            Some(json!({"commands": [{"name": "ping", "description": "Pong"}]})),
        ),
    ];
    assert_eq!(routes.len(), clickclack_runtime::chat::scopes::ALL.len());
    let mut n = 0;
    for scope in clickclack_runtime::chat::scopes::ALL {
        let token = mint(&app, &bot_id, json!([scope])).await;
        for r in &routes {
            let mut req = app.req(r.method.clone(), &r.path).token(&token);
            if let Some(body) = &r.body {
                req = req.json(body.clone());
            }
            let res = req.send().await;
            if r.scope == *scope {
                assert!(
                    res.status != StatusCode::FORBIDDEN && res.status != StatusCode::UNAUTHORIZED,
                    "{scope} should open {} {}: {} {}",
                    r.method,
                    r.path,
                    res.status,
                    res.text
                );
                assert!(res.status.as_u16() < 500, "{}", res.text);
            } else {
                let res = res.expect_error(StatusCode::FORBIDDEN, "missing_scope");
                assert_eq!(
                    res.body["error"],
                    format!("bot token is missing scope {}", r.scope),
                    "{scope} token on {} {}",
                    r.method,
                    r.path
                );
            }
            n += 1;
        }
    }
    assert_eq!(n, 14 * 14);
}

#[tokio::test]
async fn dm_messages_need_dm_scopes_and_bots_cannot_close_dms() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "dmbot", json!(["bot:admin"])).await;
    let bot_id = created["bot"]["id"].as_str().unwrap().to_string();
    let full = created["token"].as_str().unwrap().to_string();
    let dm = app
        .post("/api/dms")
        .token(&app.owner.token)
        .json(json!({"workspace_id": app.workspace_id, "member_ids": [bot_id]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let dm_id = dm.body["conversation"]["id"].as_str().unwrap().to_string();
    let sent = app
        .post(&format!("/api/dms/{dm_id}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "hi bot"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let dm_msg = sent.body["message"]["id"].as_str().unwrap().to_string();

    let generic = mint(
        &app,
        &bot_id,
        json!([
            "messages:read",
            "messages:write",
            "threads:read",
            "threads:write"
        ]),
    )
    .await;
    app.get(&format!("/api/messages/{dm_msg}"))
        .token(&generic)
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "missing_scope");
    app.get(&format!("/api/messages/{dm_msg}/thread"))
        .token(&generic)
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "missing_scope");
    app.post(&format!("/api/messages/{dm_msg}/thread/replies"))
        .token(&generic)
        .json(json!({"body": "nope"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "missing_scope");
    app.post(&format!("/api/messages/{dm_msg}/reactions"))
        .token(&generic)
        .json(json!({"emoji": "👍"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "missing_scope");
    app.get(&format!("/api/messages/{dm_msg}"))
        .token(&full)
        .send()
        .await
        .expect(StatusCode::OK);
    app.post(&format!("/api/messages/{dm_msg}/thread/replies"))
        .token(&full)
        .json(json!({"body": "in the dm thread"}))
        .send()
        .await
        .expect(StatusCode::CREATED);

    app.delete(&format!("/api/dms/{dm_id}"))
        .token(&full)
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "bot_forbidden");
    app.post(&format!("/api/dms/{dm_id}/open"))
        .token(&full)
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "bot_forbidden");
}

#[tokio::test]
async fn a_token_is_bound_to_its_workspace() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "homebody", json!(["bot:admin"])).await;
    let token = created["token"].as_str().unwrap().to_string();
    // Workspace B, owned by the same owner, with a channel and a message.
    let other = app
        .post("/api/workspaces")
        .token(&app.owner.token)
        .json(json!({"name": "Other", "slug": "other"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let b = other.body["workspace"]["id"].as_str().unwrap().to_string();
    let channel = app
        .post(&format!("/api/workspaces/{b}/channels"))
        .token(&app.owner.token)
        .json(json!({"name": "elsewhere"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let channel_b = channel.body["channel"]["id"].as_str().unwrap().to_string();
    let msg = app
        .post(&format!("/api/channels/{channel_b}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "in b"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let msg_b = msg.body["message"]["id"].as_str().unwrap().to_string();

    let forbidden = [
        app.get(&format!("/api/workspaces/{b}")),
        app.get(&format!("/api/workspaces/{b}/channels")),
        app.get(&format!("/api/workspaces/{b}/members")),
        app.get(&format!("/api/workspaces/{b}/commands")),
        app.get(&format!("/api/realtime/events?workspace_id={b}")),
        app.get(&format!("/api/search?workspace_id={b}&q=in")),
        app.get(&format!("/api/dms?workspace_id={b}")),
        app.get(&format!("/api/channels/{channel_b}/messages")),
        app.get(&format!("/api/messages/{msg_b}")),
        app.get(&format!("/api/messages/{msg_b}/thread")),
        app.post(&format!("/api/channels/{channel_b}/messages"))
            .json(json!({"body": "x"})),
        app.post(&format!("/api/messages/{msg_b}/thread/replies"))
            .json(json!({"body": "x"})),
        app.post(&format!("/api/messages/{msg_b}/reactions"))
            .json(json!({"emoji": "👍"})),
        app.post(&format!("/api/channels/{channel_b}/read"))
            .json(json!({"seq": 1})),
        app.post("/api/realtime/ephemeral")
            .json(json!({"workspace_id": b, "type": "typing.started"})),
    ];
    for req in forbidden {
        let res = req.token(&token).send().await;
        let res = res.expect_error(StatusCode::FORBIDDEN, "bot_workspace_forbidden");
        assert_eq!(res.body["error"], "bot token cannot access this workspace");
    }
    let list = app
        .get("/api/workspaces")
        .token(&token)
        .send()
        .await
        .expect(StatusCode::OK);
    let ids: Vec<&str> = list.body["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![app.workspace_id.as_str()]);
    app.post("/api/workspaces")
        .token(&token)
        .json(json!({"name": "Bot land"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "bot_forbidden");
}

#[tokio::test]
async fn command_menus_are_replaced_whole_and_listed_for_members() {
    let app = TestApp::new().await;
    let a = create_bot(&app, "alpha", json!(["bot:write"])).await;
    let b = create_bot(&app, "beta", json!(["bot:read"])).await;
    let a_token = a["token"].as_str().unwrap();
    let b_token = b["token"].as_str().unwrap();
    let put = |token: &str, body: Value| {
        app.req(Method::PUT, "/api/bots/self/commands")
            .token(token)
            .json(body)
    };
    let res = put(
        a_token,
        json!({"commands": [
            {"name": "/Deploy", "description": "Ship it", "usage": "/deploy <env>"},
            {"name": "status", "description": "Show status"}
        ]}),
    )
    .send()
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        res.body["commands"],
        json!([
            {"name": "deploy", "description": "Ship it", "usage": "/deploy <env>"},
            {"name": "status", "description": "Show status"}
        ])
    );
    // Replaced whole.
    put(
        a_token,
        json!({"commands": [{"name": "status", "description": "Show status"}]}),
    )
    .send()
    .await
    .expect(StatusCode::OK);
    for bad in [
        json!({"commands": [{"name": "bad name", "description": "x"}]}),
        json!({"commands": [{"name": "ok", "description": ""}]}),
        json!({"commands": [{"name": "a", "description": "x"}, {"name": "A", "description": "y"}]}),
    ] {
        put(a_token, bad)
            .send()
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_command");
    }
    put(a_token, json!({}))
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    put(b_token, json!({"commands": []}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "missing_scope");
    put(&app.owner.token, json!({"commands": []}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "bot_token_required");

    let path = format!("/api/workspaces/{}/commands", app.workspace_id);
    let menus = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        menus.body["menus"],
        json!([{
            "bot": a["bot"].as_object().map(|o| {
                let mut o = o.clone();
                o.remove("owner_user_id");
                o.remove("workspace_id");
                o
            }).unwrap(),
            "commands": [{"name": "status", "description": "Show status"}]
        }])
    );
    app.get(&path)
        .token(&app.outsider.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn agent_activity_needs_its_scope_and_stays_out_of_unread_and_search() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "agent", json!(["bot:write"])).await;
    let bot_id = created["bot"]["id"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap().to_string();
    let plain = mint(&app, &bot_id, json!(["messages:write"])).await;
    let post = |token: &str, body: Value| {
        app.post(&format!("/api/channels/{}/messages", app.general_id))
            .token(token)
            .json(body)
    };
    post(
        &plain,
        json!({"body": "thinking zebra", "kind": "agent_commentary", "turn_id": "t1"}),
    )
    .send()
    .await
    .expect_error(StatusCode::FORBIDDEN, "missing_scope");
    let commentary = post(
        &token,
        json!({"body": "thinking zebra", "kind": "agent_commentary", "turn_id": "t1"}),
    )
    .send()
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(commentary.body["message"]["kind"], "agent_commentary");
    assert_eq!(commentary.body["message"]["turn_id"], "t1");
    post(
        &token,
        json!({"body": "tool zebra output", "kind": "agent_tool", "turn_id": "t1"}),
    )
    .send()
    .await
    .expect(StatusCode::CREATED);

    let unread = |app: &TestApp| {
        app.get(&format!("/api/workspaces/{}/channels", app.workspace_id))
            .token(&app.member.token)
            .send()
    };
    let channels = unread(&app).await.expect(StatusCode::OK);
    let general = |body: &Value| {
        body["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "general")
            .unwrap()["unread_count"]
            .clone()
    };
    assert_eq!(
        general(&channels.body),
        json!(0),
        "agent activity is not unread"
    );
    let search = format!("/api/search?workspace_id={}&q=zebra", app.workspace_id);
    let found = app
        .get(&search)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.body["results"], json!([]));

    post(&token, json!({"body": "final zebra answer"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let channels = unread(&app).await.expect(StatusCode::OK);
    assert_eq!(general(&channels.body), json!(1));
    let found = app
        .get(&search)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.body["results"].as_array().unwrap().len(), 1);
}

async fn set_handle(app: &TestApp, who: &Person, handle: &str) {
    app.patch("/api/me")
        .token(&who.token)
        .json(json!({"handle": handle}))
        .send()
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn mentions_resolve_to_member_ids_on_events() {
    let app = TestApp::new().await;
    set_handle(&app, &app.member, "mate").await;
    set_handle(&app, &app.outsider, "stranger").await;
    let bot = create_bot(&app, "helper", json!(["bot:write"])).await;
    let bot_id = bot["bot"]["id"].as_str().unwrap().to_string();

    let res = app
        .post(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .json(json!({"body": "hey @Mate and @helper, not @stranger or me@mate.io or @nobody"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        res.body["event"]["payload"]["mentioned_user_ids"],
        json!([app.member.id, bot_id])
    );
    let root_id = res.body["message"]["id"].as_str().unwrap().to_string();

    let plain = app.send(&app.owner, "nobody mentioned").await;
    let edited = app
        .patch(&format!("/api/messages/{}", plain["id"].as_str().unwrap()))
        .token(&app.owner.token)
        .json(json!({"body": "now @mate"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(edited.body["event"]["type"], "message.updated");
    assert_eq!(
        edited.body["event"]["payload"]["mentioned_user_ids"],
        json!([app.member.id])
    );

    let reply = app
        .post(&format!("/api/messages/{root_id}/thread/replies"))
        .token(&app.member.token)
        .json(json!({"body": "@helper do it, @mate is me"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(reply.body["events"][0]["type"], "thread.reply_created");
    assert_eq!(
        reply.body["events"][0]["payload"]["mentioned_user_ids"],
        json!([bot_id]),
        "the author is not mentioned"
    );

    // No mentions: the payload shape is unchanged.
    let none = app
        .post(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .json(json!({"body": "plain"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert!(none.body["event"]["payload"]
        .get("mentioned_user_ids")
        .is_none());

    // DMs resolve only conversation members.
    let dm = app
        .post("/api/dms")
        .token(&app.owner.token)
        .json(json!({"workspace_id": app.workspace_id, "member_ids": [bot_id]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let dm_id = dm.body["conversation"]["id"].as_str().unwrap();
    let sent = app
        .post(&format!("/api/dms/{dm_id}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "@helper ping, @mate is not here"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        sent.body["event"]["payload"]["mentioned_user_ids"],
        json!([bot_id])
    );
}

#[tokio::test]
async fn agent_progress_reaches_only_its_target() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "progress", json!(["bot:write"])).await;
    let token = created["token"].as_str().unwrap().to_string();
    let res = app
        .post("/api/realtime/ephemeral")
        .token(&token)
        .json(json!({
            "workspace_id": app.workspace_id,
            "type": "agent.progress",
            "target_user_id": app.member.id,
            "payload": {"turn_id": "t9", "status": "reading files"}
        }))
        .send()
        .await
        .expect(StatusCode::ACCEPTED);
    let id = res.body["event"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/realtime/events?workspace_id={}", app.workspace_id);
    let seen = |who: &Person| {
        let req = app.get(&path).token(&who.token);
        let id = id.clone();
        async move {
            let res = req.send().await.expect(StatusCode::OK);
            res.body["ephemeral"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["id"] == id.as_str() && e["payload"]["status"] == "reading files")
        }
    };
    assert!(seen(&app.member).await, "the target sees the progress");
    assert!(!seen(&app.owner).await, "other members do not");

    // Exactly one target, who must be a member.
    app.post("/api/realtime/ephemeral")
        .token(&token)
        .json(json!({"workspace_id": app.workspace_id, "type": "agent.progress"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "target_required");
    app.post("/api/realtime/ephemeral")
        .token(&token)
        .json(json!({"workspace_id": app.workspace_id, "type": "agent.progress", "target_user_id": app.outsider.id}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_create_bot_checks_the_creator_and_owner() {
    let app = TestApp::new().await;
    let new = |owner: Option<&str>| NewBot {
        name: "Cli Bot".into(),
        handle: "clibot".into(),
        owner_user_id: owner.map(str::to_string),
        ..Default::default()
    };
    let err = app
        .chat
        .admin_create_bot(&app.member.id, &app.workspace_id, new(None))
        .await
        .unwrap_err();
    assert_eq!(err.code, "owner_required");
    let err = app
        .chat
        .admin_create_bot(
            &app.owner.id,
            &app.workspace_id,
            new(Some(&app.outsider.id)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "not_a_member");
    let service = app
        .chat
        .admin_create_bot(&app.owner.id, &app.workspace_id, new(None))
        .await
        .unwrap();
    assert!(service.bot.owner_user_id.is_none());
    assert_eq!(service.bot_token.created_by, app.owner.id);
    let me = app
        .get("/api/me")
        .token(&service.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user"]["handle"], "clibot");
}

#[tokio::test]
async fn dm_events_reach_a_bot_on_the_log_only_with_dms_read() {
    let app = TestApp::new().await;
    let created = create_bot(&app, "listener", json!(["bot:read"])).await;
    let bot_id = created["bot"]["id"].as_str().unwrap().to_string();
    let with_dms = created["token"].as_str().unwrap().to_string();
    let without_dms = mint(&app, &bot_id, json!(["realtime:read", "messages:read"])).await;
    let dm = app
        .post("/api/dms")
        .token(&app.owner.token)
        .json(json!({"workspace_id": app.workspace_id, "member_ids": [bot_id]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let dm_id = dm.body["conversation"]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/dms/{dm_id}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "for the bot's eyes"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let public = app
        .post(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .json(json!({"body": "for everyone"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let public_id = public.body["message"]["id"].as_str().unwrap().to_string();
    let path = format!(
        "/api/realtime/events?workspace_id={}&include_tail=true",
        app.workspace_id
    );
    let created_events = |body: &Value| -> Vec<(String, Value)> {
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "message.created")
            .map(|e| {
                (
                    e["cursor"].as_str().unwrap().to_string(),
                    e["payload"].clone(),
                )
            })
            .collect()
    };
    let full = app
        .get(&path)
        .token(&with_dms)
        .send()
        .await
        .expect(StatusCode::OK);
    let seen = created_events(&full.body);
    assert!(
        seen.iter()
            .any(|(_, p)| p["direct_conversation_id"] == dm_id.as_str()),
        "dms:read sees the DM it belongs to: {seen:?}"
    );
    let narrow = app
        .get(&path)
        .token(&without_dms)
        .send()
        .await
        .expect(StatusCode::OK);
    let seen = created_events(&narrow.body);
    assert!(
        seen.iter()
            .all(|(_, p)| p.get("direct_conversation_id").is_none()),
        "without dms:read no DM event: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(_, p)| p["message_id"] == public_id.as_str()),
        "the channel message is there: {seen:?}"
    );
    // Its tail never points at an event it cannot read.
    let last = seen.last().unwrap().0.clone();
    assert_eq!(narrow.body["tail_cursor"], last.as_str());
}
