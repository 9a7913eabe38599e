//! Workspace and channel resolution (reference §14.8).
//!
//! - Workspace: the wanted one by id, slug or name (case-insensitive) among
//!   `GET /api/workspaces`; none wanted → the first visible.
//! - Channel: a `chn_…` id is searched across the visible workspaces (only the wanted one
//!   when it was given explicitly); a name (leading `#` ignored) or id resolves the
//!   workspace first, then matches; none wanted → `general`, else the first.
//!
//! Explicit values that do not resolve are errors with exit 4; stored defaults that no
//! longer resolve fall back to the first choice with a warning on stderr.

use super::error::{ClientError, Result};
use super::output::{note, s};
use super::{Ctx, Wanted};
use serde_json::Value;

/// Every workspace the caller belongs to.
pub async fn workspaces(ctx: &Ctx) -> Result<Vec<Value>> {
    let answer = ctx.api.get(&["api", "workspaces"], &[]).await?;
    Ok(list(&answer, "workspaces"))
}

/// The channels of a workspace.
pub async fn channels(ctx: &Ctx, workspace_id: &str) -> Result<Vec<Value>> {
    let answer = ctx
        .api
        .get(&["api", "workspaces", workspace_id, "channels"], &[])
        .await?;
    Ok(list(&answer, "channels"))
}

/// `answer[key]` as a list (missing → empty).
pub fn list(answer: &Value, key: &str) -> Vec<Value> {
    answer
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The workspace matching `wanted` by id, slug or name (case-insensitive).
pub fn match_workspace<'a>(workspaces: &'a [Value], wanted: &str) -> Option<&'a Value> {
    let wanted = wanted.trim();
    workspaces
        .iter()
        .find(|w| s(w, "id") == wanted)
        .or_else(|| {
            workspaces
                .iter()
                .find(|w| s(w, "slug").eq_ignore_ascii_case(wanted))
        })
        .or_else(|| {
            workspaces
                .iter()
                .find(|w| s(w, "name").eq_ignore_ascii_case(wanted))
        })
}

/// The channel matching `wanted` by id or name (leading `#` ignored, case-insensitive).
pub fn match_channel<'a>(channels: &'a [Value], wanted: &str) -> Option<&'a Value> {
    let wanted = wanted.trim();
    let name = wanted.trim_start_matches('#');
    channels.iter().find(|c| s(c, "id") == wanted).or_else(|| {
        channels
            .iter()
            .find(|c| s(c, "name").eq_ignore_ascii_case(name))
    })
}

fn first_workspace(all: &[Value]) -> Result<Value> {
    all.first()
        .cloned()
        .ok_or_else(|| ClientError::not_found("no workspaces visible"))
}

/// Resolves a workspace by value among all visible ones.
pub async fn workspace_named(ctx: &Ctx, wanted: &str) -> Result<Value> {
    let all = workspaces(ctx).await?;
    if all.is_empty() {
        return Err(ClientError::not_found("no workspaces visible"));
    }
    match_workspace(&all, wanted)
        .cloned()
        .ok_or_else(|| ClientError::not_found(format!("workspace {wanted:?} not found")))
}

/// The workspace to act in (wanted, else the first visible).
pub async fn workspace(ctx: &Ctx) -> Result<Value> {
    let all = workspaces(ctx).await?;
    pick_workspace(&all, ctx.workspace.as_ref())
}

fn pick_workspace(all: &[Value], wanted: Option<&Wanted>) -> Result<Value> {
    let Some(wanted) = wanted else {
        return first_workspace(all);
    };
    if all.is_empty() {
        return Err(ClientError::not_found("no workspaces visible"));
    }
    match match_workspace(all, &wanted.value) {
        Some(w) => Ok(w.clone()),
        None if wanted.explicit => Err(ClientError::not_found(format!(
            "workspace {:?} not found",
            wanted.value
        ))),
        None => {
            note(&format!(
                "warning: stored workspace {:?} is not visible; using the first workspace",
                wanted.value
            ));
            first_workspace(all)
        }
    }
}

/// The default channel of a workspace's list: `general`, else the first.
fn default_channel(channels: &[Value]) -> Result<Value> {
    channels
        .iter()
        .find(|c| s(c, "name") == "general")
        .or_else(|| channels.first())
        .cloned()
        .ok_or_else(|| ClientError::not_found("no channels visible"))
}

/// Resolves a channel by value: `chn_…` across workspaces, else a name in the workspace.
pub async fn channel_named(ctx: &Ctx, wanted: &Wanted) -> Result<(Value, Value)> {
    let all = workspaces(ctx).await?;
    if all.is_empty() {
        return Err(ClientError::not_found("no workspaces visible"));
    }
    let value = wanted.value.trim();
    if value.starts_with("chn_") {
        // The wanted workspace first (only it when explicit), then the others.
        let mut order: Vec<Value> = Vec::new();
        if let Some(w) = &ctx.workspace {
            match match_workspace(&all, &w.value) {
                Some(ws) => order.push(ws.clone()),
                None if w.explicit => {
                    return Err(ClientError::not_found(format!(
                        "workspace {:?} not found",
                        w.value
                    )))
                }
                None => {}
            }
        }
        let only_wanted = ctx.workspace.as_ref().is_some_and(|w| w.explicit);
        if !only_wanted {
            for ws in &all {
                if !order.iter().any(|o| s(o, "id") == s(ws, "id")) {
                    order.push(ws.clone());
                }
            }
        }
        for ws in order {
            let list = channels(ctx, s(&ws, "id")).await?;
            if let Some(channel) = list.iter().find(|c| s(c, "id") == value) {
                return Ok((ws, channel.clone()));
            }
        }
        return Err(ClientError::not_found(format!(
            "channel {value:?} not found"
        )));
    }
    let ws = pick_workspace(&all, ctx.workspace.as_ref())?;
    let list = channels(ctx, s(&ws, "id")).await?;
    if list.is_empty() {
        return Err(ClientError::not_found("no channels visible"));
    }
    match match_channel(&list, value) {
        Some(channel) => Ok((ws, channel.clone())),
        None => Err(ClientError::not_found(format!(
            "channel {value:?} not found"
        ))),
    }
}

/// The workspace and channel to act in.
pub async fn channel(ctx: &Ctx) -> Result<(Value, Value)> {
    match &ctx.channel {
        Some(wanted) => match channel_named(ctx, wanted).await {
            Err(e) if !wanted.explicit && e.exit == super::error::Exit::NotFound => {
                note(&format!(
                    "warning: stored channel {:?} is not visible; using the default channel",
                    wanted.value
                ));
                default_in_workspace(ctx).await
            }
            other => other,
        },
        None => default_in_workspace(ctx).await,
    }
}

async fn default_in_workspace(ctx: &Ctx) -> Result<(Value, Value)> {
    let ws = workspace(ctx).await?;
    let list = channels(ctx, s(&ws, "id")).await?;
    let channel = default_channel(&list)?;
    Ok((ws, channel))
}

/// Like [`channel`], but `None` instead of an error when nothing was asked for and
/// nothing is visible (for `status`).
pub async fn channel_if_any(ctx: &Ctx) -> Result<(Option<Value>, Option<Value>)> {
    if ctx.channel.as_ref().is_some_and(|c| c.explicit) {
        let (ws, ch) = channel(ctx).await?;
        return Ok((Some(ws), Some(ch)));
    }
    let all = workspaces(ctx).await?;
    if all.is_empty() {
        if ctx.workspace.as_ref().is_some_and(|w| w.explicit) {
            return Err(ClientError::not_found("no workspaces visible"));
        }
        return Ok((None, None));
    }
    match channel(ctx).await {
        Ok((ws, ch)) => Ok((Some(ws), Some(ch))),
        Err(e) if e.message == "no channels visible" => {
            Ok((Some(pick_workspace(&all, ctx.workspace.as_ref())?), None))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workspaces_match_by_id_slug_or_name() {
        let all = vec![
            json!({"id": "wsp_1", "slug": "clickclack", "name": "ClickClack"}),
            json!({"id": "wsp_2", "slug": "ops", "name": "Ops Team"}),
        ];
        assert_eq!(s(match_workspace(&all, "wsp_2").unwrap(), "id"), "wsp_2");
        assert_eq!(s(match_workspace(&all, "OPS").unwrap(), "id"), "wsp_2");
        assert_eq!(s(match_workspace(&all, "ops team").unwrap(), "id"), "wsp_2");
        assert!(match_workspace(&all, "nope").is_none());
        let wanted = Wanted {
            value: "gone".into(),
            explicit: false,
        };
        assert_eq!(
            s(&pick_workspace(&all, Some(&wanted)).unwrap(), "id"),
            "wsp_1"
        );
        let explicit = Wanted {
            value: "gone".into(),
            explicit: true,
        };
        assert_eq!(
            pick_workspace(&all, Some(&explicit)).unwrap_err().exit,
            super::super::error::Exit::NotFound
        );
    }

    #[test]
    fn channels_match_by_id_or_name() {
        let all = vec![
            json!({"id": "chn_1", "name": "general"}),
            json!({"id": "chn_2", "name": "random"}),
        ];
        assert_eq!(s(match_channel(&all, "#random").unwrap(), "id"), "chn_2");
        assert_eq!(s(match_channel(&all, "Random").unwrap(), "id"), "chn_2");
        assert_eq!(s(match_channel(&all, "chn_1").unwrap(), "id"), "chn_1");
        assert_eq!(s(&default_channel(&all).unwrap(), "id"), "chn_1");
        assert!(default_channel(&[]).is_err());
    }
}
