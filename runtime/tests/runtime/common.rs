use clickclack_runtime::chat::{Actor, Chat, ChatConfig};
use clickclack_runtime::model::{Channel, Workspace};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use tempfile::TempDir;

/// A chat on a fresh temp database with a bootstrapped owner, workspace and `#general`.
pub struct World {
    pub chat: Chat,
    pub owner: Actor,
    pub workspace: Workspace,
    pub general: Channel,
    pub dir: TempDir,
}

pub async fn open_store(dir: &TempDir) -> Store {
    let location = DbLocation::parse(dir.path().join("test.db").to_str().unwrap()).unwrap();
    Store::open(StoreOptions::new(location)).await.unwrap()
}

impl World {
    pub async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir).await;
        let chat = Chat::new(store, ChatConfig::default());
        let boot = chat
            .bootstrap("Local Captain", "local@clickclack.chat")
            .await
            .unwrap();
        World {
            owner: Actor::new(boot.user),
            workspace: boot.workspace.unwrap(),
            general: boot.channel.unwrap(),
            chat,
            dir,
        }
    }

    /// A new user who is a member of the workspace.
    pub async fn member(&self, name: &str) -> Actor {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let user = self
            .chat
            .admin_create_user(name, &email, Some(&self.workspace.id))
            .await
            .unwrap();
        Actor::new(user)
    }

    /// A new user who belongs to no workspace.
    pub async fn outsider(&self, name: &str) -> Actor {
        let email = format!("{}@elsewhere.com", name.to_lowercase().replace(' ', "."));
        Actor::new(
            self.chat
                .admin_create_user(name, &email, None)
                .await
                .unwrap(),
        )
    }
}
