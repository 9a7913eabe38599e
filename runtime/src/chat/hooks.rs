//! Mattermost-shaped integrations: the incoming webhook and the slash command callback.
//! Both post a normal channel root message authored by the caller.

use super::{Actor, Chat, NewPost, Posted};
use crate::{Error, Result};

impl Chat {
    /// Incoming webhook: posts `text` to the channel.
    pub async fn post_webhook_message(
        &self,
        actor: &Actor,
        channel_id: &str,
        text: &str,
    ) -> Result<Posted> {
        self.post_channel_message(
            actor,
            channel_id,
            NewPost {
                body: text.to_string(),
                ..Default::default()
            },
        )
        .await
    }

    /// Slash command: posts `trim(command + " " + text)`; both empty is 400.
    pub async fn post_slash_command(
        &self,
        actor: &Actor,
        channel_id: &str,
        command: &str,
        text: &str,
    ) -> Result<Posted> {
        let body = slash_body(command, text)?;
        self.post_channel_message(
            actor,
            channel_id,
            NewPost {
                body,
                ..Default::default()
            },
        )
        .await
    }
}

fn slash_body(command: &str, text: &str) -> Result<String> {
    let (command, text) = (command.trim(), text.trim());
    if command.is_empty() && text.is_empty() {
        return Err(Error::invalid(
            "slash_text_required",
            "slash command text is required",
        ));
    }
    Ok(format!("{command} {text}").trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::slash_body;

    #[test]
    fn slash_bodies_join_command_and_text() {
        assert_eq!(
            slash_body(" /clack ", " from slash ").unwrap(),
            "/clack from slash"
        );
        assert_eq!(slash_body("/deploy", "").unwrap(), "/deploy");
        assert_eq!(slash_body("", " hi ").unwrap(), "hi");
        assert_eq!(
            slash_body(" ", "\t").unwrap_err().code,
            "slash_text_required"
        );
    }
}
