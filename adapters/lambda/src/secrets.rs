//! Secrets read once per cold start through the AWS Parameters and Secrets Lambda
//! Extension: a local HTTP endpoint (`localhost:2773` by default) that fetches from
//! Secrets Manager with the function's role and caches. No AWS SDK in this binary: one
//! GET with the session token as the extension requires.

use crate::StartupError;
use serde::Deserialize;
use std::time::Duration;

/// Where the extension listens and how to authenticate to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsExtension {
    /// `http://localhost:<PARAMETERS_SECRETS_EXTENSION_HTTP_PORT or 2773>`.
    pub endpoint: String,
    /// `AWS_SESSION_TOKEN`, sent as `X-Aws-Parameters-Secrets-Token`.
    pub session_token: String,
}

impl SecretsExtension {
    /// The extension as the Lambda environment describes it.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> SecretsExtension {
        let port = get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "2773".to_string());
        SecretsExtension {
            endpoint: format!("http://localhost:{port}"),
            session_token: get("AWS_SESSION_TOKEN").unwrap_or_default(),
        }
    }

    /// The `SecretString` of `secret_id` (a name or ARN). A secret stored as JSON with a
    /// `token` (or `auth_token`) field gives that field; any other string is the token.
    pub async fn secret_string(&self, secret_id: &str) -> Result<String, StartupError> {
        let fail = |why: String| {
            StartupError(format!(
                "cannot read secret {secret_id:?} through the Parameters and Secrets Lambda \
                 Extension at {}: {why} (is the extension layer attached and the role allowed \
                 secretsmanager:GetSecretValue?)",
                self.endpoint
            ))
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let response = client
            .get(format!("{}/secretsmanager/get", self.endpoint))
            .query(&[("secretId", secret_id)])
            .header("X-Aws-Parameters-Secrets-Token", &self.session_token)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(fail(format!("HTTP {status}: {}", body.trim())));
        }
        #[derive(Deserialize)]
        struct Secret {
            #[serde(rename = "SecretString")]
            secret_string: Option<String>,
        }
        let secret: Secret = response
            .json()
            .await
            .map_err(|e| fail(format!("unexpected response: {e}")))?;
        let raw = secret
            .secret_string
            .ok_or_else(|| fail("the secret has no SecretString".to_string()))?;
        Ok(token_from(&raw))
    }
}

/// A plain string, or the `token`/`auth_token` field of a JSON object.
fn token_from(raw: &str) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(raw) {
        for key in ["token", "auth_token"] {
            if let Some(serde_json::Value::String(t)) = map.get(key) {
                return t.trim().to_string();
            }
        }
    }
    raw.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_or_json_secret_strings() {
        assert_eq!(token_from(" abc \n"), "abc");
        assert_eq!(token_from(r#"{"token":"t1"}"#), "t1");
        assert_eq!(token_from(r#"{"auth_token":"t2","x":1}"#), "t2");
        assert_eq!(token_from(r#"{"other":"x"}"#), r#"{"other":"x"}"#);
    }

    #[test]
    fn endpoint_from_environment() {
        let ext = SecretsExtension::from_lookup(|k| match k {
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" => Some("9999".into()),
            "AWS_SESSION_TOKEN" => Some("sess".into()),
            _ => None,
        });
        assert_eq!(ext.endpoint, "http://localhost:9999");
        assert_eq!(ext.session_token, "sess");
        assert_eq!(
            SecretsExtension::from_lookup(|_| None).endpoint,
            "http://localhost:2773"
        );
    }
}
