//! GitHub OAuth against a real local fake GitHub (an axum server on 127.0.0.1:0).

use crate::{Res, TestApp};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use clickclack_handlers::{GithubConfig, HttpConfig};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "gho_fake_token";

/// What the fake answers; tests change it between calls.
#[derive(Clone)]
struct Behaviour {
    token: (u16, Value),
    user: (u16, Value),
    emails: (u16, Value),
    membership: (u16, Value),
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            token: (200, json!({"access_token": TOKEN, "token_type": "bearer"})),
            user: (
                200,
                json!({"id": 4242, "login": "octo", "name": "Octo Cat", "email": null,
                       "avatar_url": "https://avatars.example.com/u/4242"}),
            ),
            emails: (
                200,
                json!([{"email": "other@example.com", "primary": false, "verified": true},
                       {"email": "Octo@Example.com", "primary": true, "verified": true}]),
            ),
            membership: (
                200,
                json!({"state": "active", "role": "member", "organization": {"login": "acme"}}),
            ),
        }
    }
}

#[derive(Default)]
struct Seen {
    token_forms: Vec<HashMap<String, String>>,
    accept_json: bool,
    emails_calls: usize,
    membership_orgs: Vec<String>,
}

#[derive(Clone, Default)]
struct Fake {
    behaviour: Arc<Mutex<Behaviour>>,
    seen: Arc<Mutex<Seen>>,
}

fn answer((status, body): (u16, Value)) -> (StatusCode, Json<Value>) {
    (StatusCode::from_u16(status).unwrap(), Json(body))
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer gho_fake_token")
}

async fn token(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let mut seen = fake.seen.lock().unwrap();
    seen.accept_json =
        headers.get("accept").and_then(|v| v.to_str().ok()) == Some("application/json");
    seen.token_forms.push(form);
    answer(fake.behaviour.lock().unwrap().token.clone())
}

async fn user(State(fake): State<Fake>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return answer((401, json!({"message": "Bad credentials"})));
    }
    answer(fake.behaviour.lock().unwrap().user.clone())
}

async fn emails(State(fake): State<Fake>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return answer((401, json!({"message": "Bad credentials"})));
    }
    fake.seen.lock().unwrap().emails_calls += 1;
    answer(fake.behaviour.lock().unwrap().emails.clone())
}

async fn membership(
    State(fake): State<Fake>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return answer((401, json!({"message": "Bad credentials"})));
    }
    fake.seen.lock().unwrap().membership_orgs.push(org);
    answer(fake.behaviour.lock().unwrap().membership.clone())
}

impl Fake {
    /// Starts the fake on a free port; returns it with its base URL.
    async fn start() -> (Fake, String) {
        let fake = Fake::default();
        let router = Router::new()
            .route("/login/oauth/access_token", post(token))
            .route("/user", get(user))
            .route("/user/emails", get(emails))
            .route("/user/memberships/orgs/{org}", get(membership))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (fake, base)
    }
    fn set(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.behaviour.lock().unwrap());
    }
}

async fn app_with(base: &str, org: Option<&str>, public_url: Option<&str>) -> TestApp {
    TestApp::with_config(HttpConfig {
        public_url: public_url.map(str::to_string),
        github: Some(
            GithubConfig::new("cid", "csecret", org.map(str::to_string)).with_base_urls(base, base),
        ),
        ..HttpConfig::default()
    })
    .await
}

/// The `name=value` of a `Set-Cookie` header for `name`, with its attributes.
fn set_cookie(res: &Res, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn cookie_value(header: &str) -> String {
    header
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

/// `start`, then the callback with the state cookie and `code`; returns (start, callback).
async fn sign_in(t: &TestApp, code: &str) -> (Res, Res) {
    let start = t
        .get("/api/auth/github/start")
        .send()
        .await
        .expect(StatusCode::FOUND);
    let state = cookie_value(&set_cookie(&start, "cc_github_state").unwrap());
    let callback = t
        .get(&format!(
            "/api/auth/github/callback?code={code}&state={state}"
        ))
        .header("cookie", &format!("cc_github_state={state}"))
        .send()
        .await;
    (start, callback)
}

async fn me(t: &TestApp, callback: &Res) -> Value {
    let session = cookie_value(&set_cookie(callback, "cc_session").unwrap());
    t.get("/api/me")
        .header("cookie", &format!("cc_session={session}"))
        .send()
        .await
        .expect(StatusCode::OK)
        .body["user"]
        .clone()
}

#[tokio::test]
async fn unconfigured_github_is_501_and_not_advertised() {
    let t = TestApp::new().await;
    for path in [
        "/api/auth/github/start",
        "/api/auth/github/callback?code=x&state=y",
    ] {
        t.get(path)
            .send()
            .await
            .expect_error(StatusCode::NOT_IMPLEMENTED, "github_unconfigured");
    }
    let caps = t
        .get("/api/capabilities")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(caps.body["github_oauth"], false);
}

#[tokio::test]
async fn start_redirects_to_github_with_a_state_cookie() {
    let (_fake, base) = Fake::start().await;
    let t = app_with(&base, None, None).await;
    let caps = t
        .get("/api/capabilities")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(caps.body["github_oauth"], true);
    let res = t
        .get("/api/auth/github/start")
        .send()
        .await
        .expect(StatusCode::FOUND);
    let location = res.headers["location"].to_str().unwrap().to_string();
    let cookie = set_cookie(&res, "cc_github_state").unwrap();
    let state = cookie_value(&cookie);
    assert_eq!(state.len(), 32);
    assert!(state.chars().all(|c| c.is_ascii_hexdigit()), "{state}");
    for attribute in ["Path=/", "Max-Age=600", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(
        location.starts_with(&format!("{base}/login/oauth/authorize?")),
        "{location}"
    );
    assert!(location.contains("client_id=cid"), "{location}");
    assert!(
        location.contains(
            "redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fapi%2Fauth%2Fgithub%2Fcallback"
        ),
        "{location}"
    );
    assert!(
        location.contains("scope=read%3Auser+user%3Aemail&"),
        "{location}"
    );
    assert!(location.contains(&format!("state={state}")), "{location}");
    assert!(!location.contains("csecret"));
}

#[tokio::test]
async fn callback_signs_in_joins_the_default_workspace_and_reuses_the_user() {
    let (fake, base) = Fake::start().await;
    let t = app_with(&base, None, Some("https://chat.example.com")).await;
    let (start, callback) = sign_in(&t, "abc").await;
    assert!(set_cookie(&start, "cc_github_state")
        .unwrap()
        .contains("Secure"));
    let callback = callback.expect(StatusCode::FOUND);
    assert_eq!(callback.headers["location"], "/app");
    let session = set_cookie(&callback, "cc_session").unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(
        session.contains("Secure") && session.contains("Expires="),
        "{session}"
    );
    let cleared = set_cookie(&callback, "cc_github_state").unwrap();
    assert!(cleared.starts_with("cc_github_state=;") && cleared.contains("Max-Age=0"));
    {
        let seen = fake.seen.lock().unwrap();
        let form = &seen.token_forms[0];
        assert_eq!(form["client_id"], "cid");
        assert_eq!(form["client_secret"], "csecret");
        assert_eq!(form["code"], "abc");
        assert_eq!(
            form["redirect_uri"],
            "https://chat.example.com/api/auth/github/callback"
        );
        assert!(seen.accept_json);
        assert_eq!(seen.emails_calls, 1, "profile email was empty");
        assert!(seen.membership_orgs.is_empty(), "no org gate configured");
    }

    let user = me(&t, &callback).await;
    assert_eq!(user["display_name"], "Octo Cat");
    assert_eq!(user["avatar_url"], "https://avatars.example.com/u/4242");
    let id = user["id"].as_str().unwrap().to_string();
    let workspaces = t
        .get("/api/workspaces")
        .token(&cookie_value(&session))
        .send()
        .await
        .expect(StatusCode::OK);
    let joined = &workspaces.body["workspaces"][0];
    assert_eq!(joined["id"], t.workspace_id.as_str());
    assert_eq!(joined["role"], "member");

    // A second sign-in (new name, new email) reuses the account and leaves it unchanged.
    fake.set(|b| {
        b.user.1["name"] = json!("Renamed");
        b.user.1["email"] = json!("new@example.com");
    });
    let (_, again) = sign_in(&t, "def").await;
    let again = again.expect(StatusCode::FOUND);
    let user = me(&t, &again).await;
    assert_eq!(user["id"], id.as_str());
    assert_eq!(user["display_name"], "Octo Cat");
}

#[tokio::test]
async fn accounts_match_by_github_id_never_by_email() {
    let (fake, base) = Fake::start().await;
    let t = app_with(&base, None, None).await;
    // Same email as an existing magic-link user, different GitHub ids.
    fake.set(|b| {
        b.user.1 = json!({"id": 1, "login": "first", "email": "mate@example.com"});
    });
    let (_, first) = sign_in(&t, "a").await;
    let first = me(&t, &first.expect(StatusCode::FOUND)).await;
    assert_ne!(first["id"], t.member.id.as_str());
    assert_eq!(first["display_name"], "first", "login when name is empty");
    fake.set(|b| b.user.1 = json!({"id": 2, "login": "", "email": "mate@example.com"}));
    let (_, second) = sign_in(&t, "b").await;
    let second = me(&t, &second.expect(StatusCode::FOUND)).await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["display_name"], "mate@example.com");
    fake.set(|b| {
        b.user.1 = json!({"id": 3});
        b.emails.1 = json!([]);
    });
    let (_, third) = sign_in(&t, "c").await;
    let third = me(&t, &third.expect(StatusCode::FOUND)).await;
    assert_eq!(third["display_name"], "github:3");
}

#[tokio::test]
async fn callback_rejects_bad_state_and_missing_code() {
    let (fake, base) = Fake::start().await;
    let t = app_with(&base, None, None).await;
    t.get("/api/auth/github/callback?code=x&state=abc")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_oauth_state");
    t.get("/api/auth/github/callback?code=x&state=abc")
        .header("cookie", "cc_github_state=other")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_oauth_state");
    t.get("/api/auth/github/callback?code=x&state=")
        .header("cookie", "cc_github_state=")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_oauth_state");
    t.get("/api/auth/github/callback?code=&state=abc")
        .header("cookie", "cc_github_state=abc")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "oauth_code_required");
    assert!(fake.seen.lock().unwrap().token_forms.is_empty());
}

#[tokio::test]
async fn upstream_failures_are_502() {
    let (fake, base) = Fake::start().await;
    let t = app_with(&base, None, None).await;
    type Case = Box<dyn Fn(&mut Behaviour)>;
    let cases: Vec<Case> = vec![
        Box::new(|b| b.token = (500, json!({}))),
        Box::new(|b| b.token = (200, json!({"error": "bad_verification_code"}))),
        Box::new(|b| b.token = (200, json!({"token_type": "bearer"}))),
        Box::new(|b| b.user = (500, json!({}))),
        Box::new(|b| b.user = (200, json!({"login": "no-id"}))),
        Box::new(|b| b.user = (200, json!({"id": 0, "login": "zero"}))),
    ];
    for (i, case) in cases.iter().enumerate() {
        fake.set(|b| {
            *b = Behaviour::default();
            case(b);
        });
        let (_, res) = sign_in(&t, "code").await;
        assert!(set_cookie(&res, "cc_session").is_none(), "case {i}");
        let res = res.expect_error(StatusCode::BAD_GATEWAY, "github_upstream");
        assert!(
            !res.text.contains("bad_verification_code"),
            "case {i}: {}",
            res.text
        );
    }
}

#[tokio::test]
async fn the_org_gate_admits_only_active_members() {
    let (fake, base) = Fake::start().await;
    let t = app_with(&base, Some("acme"), None).await;
    let start = t
        .get("/api/auth/github/start")
        .send()
        .await
        .expect(StatusCode::FOUND);
    let location = start.headers["location"].to_str().unwrap();
    assert!(
        location.contains("scope=read%3Auser+user%3Aemail+read%3Aorg"),
        "{location}"
    );

    let (_, ok) = sign_in(&t, "a").await;
    ok.expect(StatusCode::FOUND);
    assert_eq!(fake.seen.lock().unwrap().membership_orgs, ["acme"]);

    let refused: Vec<(u16, Value)> = vec![
        (404, json!({"message": "Not Found"})),
        (403, json!({"message": "Forbidden"})),
        (
            200,
            json!({"state": "pending", "organization": {"login": "acme"}}),
        ),
        (
            200,
            json!({"state": "active", "organization": {"login": "other"}}),
        ),
    ];
    for membership in refused {
        fake.set(|b| b.membership = membership.clone());
        let (_, res) = sign_in(&t, "b").await;
        assert!(set_cookie(&res, "cc_session").is_none());
        let res = res.expect_error(StatusCode::FORBIDDEN, "github_org_required");
        assert_eq!(
            res.body["error"],
            "github account is not a member of the allowed organization"
        );
    }
    fake.set(|b| b.membership = (500, json!({})));
    let (_, res) = sign_in(&t, "c").await;
    res.expect_error(StatusCode::BAD_GATEWAY, "github_upstream");
}
