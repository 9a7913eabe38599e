//! GitHub OAuth sign-in (reference §5.4, §21.1): `GET /api/auth/github/start` redirects to
//! GitHub with a random state in `cc_github_state`; `GET /api/auth/github/callback`
//! checks the state, exchanges the code, reads the profile (and primary email), applies
//! the optional org gate, signs the user in by (provider `github`, numeric id) — never by
//! email — and redirects to `/app` with `cc_session` set.

use super::auth::session_cookie;
use super::ApiResult;
use crate::extract::cookie;
use crate::{AppState, GithubConfig};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clickclack_runtime::{ids, Error};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

/// Name of the OAuth state cookie.
pub const STATE_COOKIE: &str = "cc_github_state";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/github/start", get(start))
        .route("/api/auth/github/callback", get(callback))
}

fn unconfigured() -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        axum::Json(
            json!({"error": "github oauth is not configured", "code": "github_unconfigured"}),
        ),
    )
        .into_response()
}

/// A finished error response from a GitHub step (boxed: responses are large).
type Refusal = Box<Response>;

/// A GitHub call failed: 502 `github_upstream`; the detail goes to the log only.
fn upstream(what: &str, detail: impl std::fmt::Display) -> Refusal {
    tracing::warn!(error = %detail, "github oauth: {what}");
    (
        StatusCode::BAD_GATEWAY,
        axum::Json(json!({"error": format!("github {what}"), "code": "github_upstream"})),
    )
        .into_response()
        .into()
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(concat!("clickclack/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// Whether cookies should carry `Secure` (an https public URL).
fn secure(state: &AppState) -> bool {
    state
        .http()
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

/// `<public_url>/api/auth/github/callback`, else from the request `Host` (https when a
/// proxy says the request arrived over TLS).
fn redirect_uri(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.http().public_url {
        return format!("{}/api/auth/github/callback", base.trim_end_matches('/'));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{host}/api/auth/github/callback")
}

fn state_cookie(value: &str, max_age: u32, secure: bool) -> HeaderValue {
    let mut cookie =
        format!("{STATE_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn start(State(state): State<AppState>, request: Request) -> ApiResult {
    let Some(github) = &state.http().github else {
        return Ok(unconfigured());
    };
    // 16 random bytes as hex: half of a SHA-256 over a fresh 130-bit secret.
    let oauth_state = ids::hash_secret(&ids::new_secret("gst"))[..32].to_string();
    let scope = if github.allowed_org.is_some() {
        "read:user user:email read:org"
    } else {
        "read:user user:email"
    };
    let query = serde_urlencoded::to_string([
        ("client_id", github.client_id.as_str()),
        ("redirect_uri", &redirect_uri(&state, request.headers())),
        ("scope", scope),
        ("state", &oauth_state),
    ])
    .map_err(|e| Error::internal(format!("github authorize url: {e}")))?;
    let mut response = redirect(&format!("{}?{query}", github.authorize_url));
    response.headers_mut().append(
        header::SET_COOKIE,
        state_cookie(&oauth_state, 600, secure(&state)),
    );
    Ok(response)
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
}

/// A GitHub profile as far as sign-in needs it.
struct Profile {
    id: i64,
    login: String,
    name: String,
    email: String,
    avatar_url: String,
}

async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    request: Request,
) -> ApiResult {
    let Some(github) = state.http().github.clone() else {
        return Ok(unconfigured());
    };
    let (parts, _) = request.into_parts();
    let expected = cookie(&parts, STATE_COOKIE).unwrap_or_default();
    if expected.is_empty() || expected != query.state.trim() {
        return Err(Error::invalid("invalid_oauth_state", "invalid github oauth state").into());
    }
    let code = query.code.trim();
    if code.is_empty() {
        return Err(Error::invalid("oauth_code_required", "github oauth code is required").into());
    }
    let redirect_uri = redirect_uri(&state, &parts.headers);
    let token = match exchange_code(&github, code, &redirect_uri).await {
        Ok(token) => token,
        Err(response) => return Ok(*response),
    };
    let profile = match fetch_profile(&github, &token).await {
        Ok(profile) => profile,
        Err(response) => return Ok(*response),
    };
    if let Some(org) = &github.allowed_org {
        if let Err(response) = check_org(&github, &token, org).await {
            return Ok(*response);
        }
    }
    let display_name = [&profile.name, &profile.login]
        .into_iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_string();
    let (user, session) = state
        .chat()
        .sign_in_external(
            "github",
            &profile.id.to_string(),
            &profile.email,
            &display_name,
            &profile.avatar_url,
        )
        .await?;
    tracing::info!(user_id = %user.id, github_id = profile.id, "github sign-in");
    let mut response = redirect("/app");
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session_cookie(&state, &session.token, &session.expires_at),
    );
    headers.append(header::SET_COOKIE, state_cookie("", 0, secure(&state)));
    Ok(response)
}

/// POSTs the code to the token endpoint; the access token, or a 502 response.
async fn exchange_code(
    github: &GithubConfig,
    code: &str,
    redirect_uri: &str,
) -> Result<String, Refusal> {
    let sent = client()
        .post(&github.token_url)
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("client_id", github.client_id.as_str()),
            ("client_secret", github.client_secret.as_str()),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .map_err(|e| upstream("token exchange failed", e))?;
    let status = sent.status();
    if status.as_u16() >= 300 {
        return Err(upstream("token exchange failed", status));
    }
    let body: Value = sent
        .json()
        .await
        .map_err(|e| upstream("token exchange failed", e))?;
    if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
        return Err(upstream("token exchange failed", error));
    }
    body.get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| upstream("token exchange failed", "no access_token in the response"))
}

async fn get_json(url: &str, token: &str) -> Result<(u16, Value), reqwest::Error> {
    let response = client()
        .get(url)
        .header(header::ACCEPT, "application/vnd.github+json")
        .bearer_auth(token)
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = if status < 300 {
        response.json().await?
    } else {
        Value::Null
    };
    Ok((status, body))
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

async fn fetch_profile(github: &GithubConfig, token: &str) -> Result<Profile, Refusal> {
    let (status, user) = get_json(&github.user_url, token)
        .await
        .map_err(|e| upstream("profile request failed", e))?;
    if status >= 300 {
        return Err(upstream("profile request failed", status));
    }
    let id = user.get("id").and_then(Value::as_i64).unwrap_or(0);
    if id <= 0 {
        return Err(upstream("profile id missing", "no numeric id in /user"));
    }
    let mut profile = Profile {
        id,
        login: text(&user, "login"),
        name: text(&user, "name"),
        email: text(&user, "email"),
        avatar_url: text(&user, "avatar_url"),
    };
    if profile.email.trim().is_empty() {
        // Best effort: without a primary verified email the identity has none.
        match get_json(&github.emails_url, token).await {
            Ok((status, Value::Array(emails))) if status < 300 => {
                profile.email = emails
                    .iter()
                    .find(|e| {
                        e.get("primary").and_then(Value::as_bool) == Some(true)
                            && e.get("verified").and_then(Value::as_bool) != Some(false)
                    })
                    .map(|e| text(e, "email"))
                    .unwrap_or_default();
            }
            Ok((status, _)) => tracing::warn!(status, "github oauth: emails request failed"),
            Err(e) => tracing::warn!(error = %e, "github oauth: emails request failed"),
        }
    }
    Ok(profile)
}

/// The org gate: an `active` membership of `org`, else 403 (404/403/inactive) or 502.
async fn check_org(github: &GithubConfig, token: &str, org: &str) -> Result<(), Refusal> {
    let url = format!(
        "{}/{}",
        github.org_membership_url.trim_end_matches('/'),
        org
    );
    let (status, body) = get_json(&url, token)
        .await
        .map_err(|e| upstream("organization membership request failed", e))?;
    let refused = || -> Refusal {
        Box::new(
            crate::ApiError(Error::forbidden(
                "github_org_required",
                "github account is not a member of the allowed organization",
            ))
            .into_response(),
        )
    };
    match status {
        403 | 404 => return Err(refused()),
        s if s >= 300 => return Err(upstream("organization membership request failed", s)),
        _ => {}
    }
    let active = body.get("state").and_then(Value::as_str) == Some("active");
    let org_login = body
        .get("organization")
        .and_then(|o| o.get("login"))
        .and_then(Value::as_str);
    if !active || org_login.is_some_and(|l| !l.eq_ignore_ascii_case(org)) {
        return Err(refused());
    }
    Ok(())
}
