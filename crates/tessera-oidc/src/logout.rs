//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): `/end_session`. A
//! department may send the citizen here to sign out of Tessera. Tessera redirects back
//! only to a `post_logout_redirect_uri` registered, exactly, for the client the verified
//! `id_token_hint` was issued to; otherwise the citizen confirms on a page and stays on
//! Tessera. Never an open redirect.

use crate::service::{Oidc, ServiceError};
use tessera_domain::{Client, ClientId, UnixTime};
use tessera_store::clients;
use url::Url;

/// What the browser sees after a logout request.
#[derive(Debug)]
pub enum Logout {
    /// Signed out; 303 to the client's registered post-logout URI (with `state`).
    Redirect(String),
    /// Ask the citizen to confirm (the request could not be verified).
    Confirm { client: Option<Box<Client>>, post_logout_redirect_uri: String, state: String, client_id: String },
    /// Signed out; show the signed-out page.
    SignedOut,
}

/// The parameters of a logout request.
#[derive(Debug, Default, Clone)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

impl Oidc {
    /// `/end_session` (GET or POST from a department).
    pub async fn end_session(
        &self,
        request: LogoutRequest,
        sso_token: Option<&str>,
        now: UnixTime,
    ) -> Result<Logout, ServiceError> {
        let client = self.client_of(request.client_id.as_deref()).await?;
        let verified = match (&request.id_token_hint, &client) {
            (Some(hint), Some(client)) => {
                self.id_token_hint_subject(hint, client, now).await.map(|sub| (client.clone(), sub))
            }
            (Some(hint), None) => self.hint_client(hint, now).await?,
            _ => None,
        };
        let Some((client, sub)) = verified else {
            return Ok(Logout::Confirm {
                client: client.map(Box::new),
                post_logout_redirect_uri: request.post_logout_redirect_uri.unwrap_or_default(),
                state: request.state.unwrap_or_default(),
                client_id: request.client_id.unwrap_or_default(),
            });
        };
        // The hint must name the citizen of this browser's session (or there is none).
        if let Some(token) = sso_token
            && let Some(session) = self.sso.find(token, now).await?
        {
            if self.subject(&client, session.citizen_id) != sub {
                return Ok(Logout::Confirm {
                    client: Some(Box::new(client)),
                    post_logout_redirect_uri: request.post_logout_redirect_uri.unwrap_or_default(),
                    state: request.state.unwrap_or_default(),
                    client_id: request.client_id.unwrap_or_default(),
                });
            }
            if let Some(ended) = self.sso.end(token).await? {
                self.end_session_grants(&ended.sid, now).await?;
            }
        }
        Ok(self.after_logout(&client, request.post_logout_redirect_uri.as_deref(), request.state.as_deref()))
    }

    /// The citizen confirmed signing out on Tessera's page.
    pub async fn confirm_end_session(
        &self,
        request: LogoutRequest,
        sso_token: Option<&str>,
        now: UnixTime,
    ) -> Result<Logout, ServiceError> {
        if let Some(token) = sso_token
            && let Some(ended) = self.sso.end(token).await?
        {
            self.end_session_grants(&ended.sid, now).await?;
        }
        match self.client_of(request.client_id.as_deref()).await? {
            Some(client) => {
                Ok(self.after_logout(&client, request.post_logout_redirect_uri.as_deref(), request.state.as_deref()))
            }
            None => Ok(Logout::SignedOut),
        }
    }

    fn after_logout(&self, client: &Client, uri: Option<&str>, state: Option<&str>) -> Logout {
        match uri {
            Some(uri) if client.post_logout_redirect_uris.iter().any(|r| r == uri) => {
                let Ok(mut url) = Url::parse(uri) else { return Logout::SignedOut };
                if let Some(state) = state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                Logout::Redirect(url.to_string())
            }
            _ => Logout::SignedOut,
        }
    }

    async fn client_of(&self, client_id: Option<&str>) -> Result<Option<Client>, ServiceError> {
        let Some(Ok(id)) = client_id.map(ClientId::parse) else { return Ok(None) };
        Ok(self.db.run(move |conn| clients::by_id(conn, &id)).await?.filter(|c| c.enabled))
    }

    /// The client an ID token hint was issued to, and its subject, when the hint verifies.
    async fn hint_client(&self, hint: &str, now: UnixTime) -> Result<Option<(Client, String)>, ServiceError> {
        let Ok(payload) = self.jwt.verify(hint, None, now).await else { return Ok(None) };
        let aud = match &payload["aud"] {
            serde_json::Value::String(a) => Some(a.clone()),
            serde_json::Value::Array(list) => list.first().and_then(|a| a.as_str()).map(str::to_owned),
            _ => None,
        };
        let Some(client) = self.client_of(aud.as_deref()).await? else { return Ok(None) };
        Ok(self.id_token_hint_subject(hint, &client, now).await.map(|sub| (client, sub)))
    }
}
