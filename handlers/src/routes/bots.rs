//! Bots (reference §21.12): management by workspace owners (and a bot's owning user),
//! token minting and revocation, and command menus.

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{delete, get, post, put};
use axum::Router;
use clickclack_runtime::chat::NewBot;
use clickclack_runtime::model::BotCommand;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/workspaces/{workspace_id}/bots",
            get(list).post(create),
        )
        .route("/api/workspaces/{workspace_id}/commands", get(commands))
        .route("/api/bots/self/commands", put(set_commands))
        .route("/api/bots/{bot_id}", delete(remove))
        .route("/api/bots/{bot_id}/tokens", get(tokens).post(mint))
        .route("/api/bot-tokens/{token_id}/revoke", post(revoke))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
) -> ApiResult {
    let bots = state.chat().list_bots(&caller.actor, &workspace_id).await?;
    Ok(ok(json!({"bots": bots})))
}

#[derive(Deserialize)]
struct CreateBot {
    #[serde(default)]
    name: String,
    #[serde(default)]
    handle: String,
    avatar_url: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    token_name: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
    Json(input): Json<CreateBot>,
) -> ApiResult {
    let bot = state
        .chat()
        .create_bot(
            &caller.actor,
            &workspace_id,
            NewBot {
                name: input.name,
                handle: input.handle,
                avatar_url: input.avatar_url,
                scopes: input.scopes,
                token_name: input.token_name,
                owner_user_id: None,
            },
        )
        .await?;
    Ok(created(bot))
}

async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(bot_id): Path<String>,
) -> ApiResult {
    let tokens = state.chat().list_bot_tokens(&caller.actor, &bot_id).await?;
    Ok(ok(json!({"bot_tokens": tokens})))
}

#[derive(Deserialize)]
struct MintToken {
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

async fn mint(
    State(state): State<AppState>,
    caller: Caller,
    Path(bot_id): Path<String>,
    Json(input): Json<MintToken>,
) -> ApiResult {
    let minted = state
        .chat()
        .create_bot_token(&caller.actor, &bot_id, input.name.as_deref(), &input.scopes)
        .await?;
    Ok(created(minted))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(token_id): Path<String>,
) -> ApiResult {
    let token = state
        .chat()
        .revoke_bot_token(&caller.actor, &token_id)
        .await?;
    Ok(ok(json!({"bot_token": token})))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(bot_id): Path<String>,
) -> ApiResult {
    let bot = state.chat().delete_bot(&caller.actor, &bot_id).await?;
    Ok(ok(json!({"bot": bot, "deleted": true})))
}

#[derive(Deserialize)]
struct CommandInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    usage: Option<String>,
}

#[derive(Deserialize)]
struct SetCommands {
    commands: Vec<CommandInput>,
}

async fn set_commands(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<SetCommands>,
) -> ApiResult {
    let commands = input
        .commands
        .into_iter()
        .map(|c| BotCommand {
            name: c.name,
            description: c.description,
            usage: c.usage.unwrap_or_default(),
        })
        .collect();
    let commands = state
        .chat()
        .set_bot_commands(&caller.actor, commands)
        .await?;
    Ok(ok(json!({"commands": commands})))
}

async fn commands(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
) -> ApiResult {
    let menus = state
        .chat()
        .list_commands(&caller.actor, &workspace_id)
        .await?;
    Ok(ok(json!({"menus": menus})))
}
