//! How a client command fails, and its stable exit code (docs/agent-friendly-cli.md):
//! 2 usage, 3 auth (401), 4 not found (404, or a workspace/channel name that does not
//! resolve), 5 forbidden (403), 10 network (connect/timeout), 11 anything else.

use std::fmt;

/// The stable exit codes of client mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Usage = 2,
    Auth = 3,
    NotFound = 4,
    Forbidden = 5,
    Network = 10,
    Unexpected = 11,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit code for a non-2xx HTTP status.
    pub fn for_status(status: u16) -> Exit {
        match status {
            401 => Exit::Auth,
            403 => Exit::Forbidden,
            404 => Exit::NotFound,
            _ => Exit::Unexpected,
        }
    }
}

/// A failed client command: the message for stderr (`error: <message>`) and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub exit: Exit,
    pub message: String,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The server's stable error `code`, when it sent one.
    pub code: Option<String>,
    /// The server's `epoch` (only on `resync_required`).
    pub epoch: Option<String>,
}

impl ClientError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            status: None,
            code: None,
            epoch: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }

    pub fn network(message: impl Into<String>) -> Self {
        Self::new(Exit::Network, message)
    }

    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::new(Exit::Unexpected, message)
    }

    /// An error answer from the server.
    pub fn http(status: u16, message: impl Into<String>, code: Option<String>) -> Self {
        Self {
            exit: Exit::for_status(status),
            message: message.into(),
            status: Some(status),
            code,
            epoch: None,
        }
    }

    pub fn is_status(&self, status: u16) -> bool {
        self.status == Some(status)
    }

    /// A 409 `resync_required`: the cursor belongs to another epoch of the event log.
    pub fn is_resync(&self) -> bool {
        self.status == Some(409) && self.code.as_deref() == Some("resync_required")
    }

    /// A 404 for a route the server does not have (an optional feature it lacks, or a
    /// non-ClickClack answer without an error code), as opposed to a missing resource.
    pub fn is_missing_route(&self) -> bool {
        self.status == Some(404) && (self.code.is_none() || self.message == "route not found")
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClientError {}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
