//! The relying party: a department's web app as the `openidconnect` crate builds it,
//! from Tessera's discovery document.

use crate::fixtures::{REDIRECT_URI, TestClient};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};

pub type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

pub struct Rp {
    pub client: Client,
    pub http: openidconnect::reqwest::Client,
}

/// One authorization request in flight, with the secrets the RP keeps.
pub struct AuthRequest {
    pub url: url::Url,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: Option<PkceCodeVerifier>,
}

impl Rp {
    pub async fn discover(issuer: &str, client: &TestClient) -> Rp {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let metadata =
            CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into()).unwrap(), &http).await.unwrap();
        let oidc = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client.id().into()),
            client.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap());
        Rp { client: oidc, http }
    }

    /// An authorization request with PKCE for `openid` plus `scopes`.
    pub fn request(&self, scopes: &[&str]) -> AuthRequest {
        self.request_with(scopes, |r| r)
    }

    pub fn request_with(
        &self,
        scopes: &[&str],
        extra: impl FnOnce(
            openidconnect::AuthorizationRequest<
                '_,
                openidconnect::core::CoreAuthDisplay,
                openidconnect::core::CoreAuthPrompt,
                openidconnect::core::CoreResponseType,
            >,
        ) -> openidconnect::AuthorizationRequest<
            '_,
            openidconnect::core::CoreAuthDisplay,
            openidconnect::core::CoreAuthPrompt,
            openidconnect::core::CoreResponseType,
        >,
    ) -> AuthRequest {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in scopes {
            request = request.add_scope(Scope::new((*scope).into()));
        }
        let (url, state, nonce) = extra(request).url();
        AuthRequest { url, state, nonce, verifier: Some(verifier) }
    }

    pub async fn exchange(
        &self,
        code: &str,
        verifier: PkceCodeVerifier,
    ) -> Result<openidconnect::core::CoreTokenResponse, String> {
        self.client
            .exchange_code(AuthorizationCode::new(code.into()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| format!("{e:?}"))
    }
}
