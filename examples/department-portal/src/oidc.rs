//! The relying party: discovery, the authorization code flow with PKCE, ID token verification,
//! userinfo, refresh and RP-initiated logout, all through the `openidconnect` crate.

use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse, CoreSubjectIdentifierType,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AdditionalProviderMetadata, AuthType, AuthenticationContextClass,
    ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken, DiscoveryError, EmptyExtraTokenFields,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenClaims, IdTokenFields,
    IdTokenVerifier, IssuerUrl, JsonWebKeySetUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl, RefreshToken, Scope,
    SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, SubjectIdentifier, TokenResponse,
    UserInfoClaims, reqwest,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::callback::{self, CallbackParams, constant_time_eq};
use crate::claims::{CitizenName, ClaimRow, OtherClaims, claim_rows};
use crate::config::Config;
use crate::error::{PortalError, chain};

/// Discovery metadata beyond OpenID Connect Discovery 1.0 that the portal uses.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ExtraProviderMetadata {
    /// OpenID Connect RP-Initiated Logout 1.0.
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// RFC 9207: the provider adds `iss` to every authorization response.
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for ExtraProviderMetadata {}

pub type PortalProviderMetadata = ProviderMetadata<
    ExtraProviderMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;
pub type PortalIdToken =
    IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
pub type PortalIdTokenClaims = IdTokenClaims<OtherClaims, CoreGenderClaim>;
pub type PortalUserInfo = UserInfoClaims<OtherClaims, CoreGenderClaim>;
type PortalTokenResponse = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
type PortalClient<HasTokenUrl = EndpointSet, HasUserInfoUrl = EndpointSet> = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    PortalTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
    HasUserInfoUrl,
>;

/// ID token signature algorithms the portal accepts (never `none` or HMAC).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 3] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// What `/login` keeps server-side until `/callback`.
pub struct PendingLogin {
    state: CsrfToken,
    nonce: Nonce,
    pkce_verifier: PkceCodeVerifier,
}

/// The tokens the portal holds for a signed-in citizen.
pub struct Tokens {
    #[expect(
        dead_code,
        reason = "a department keeps it to call its own APIs for the citizen; this example calls none"
    )]
    pub access: AccessToken,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh: Option<RefreshToken>,
    pub scopes: Option<Vec<Scope>>,
}

/// A citizen signed in to the portal: what the department received from Tessera.
pub struct SignedIn {
    pub name: CitizenName,
    pub subject: SubjectIdentifier,
    pub id_token: PortalIdToken,
    pub nonce: Nonce,
    pub id_claims: Vec<ClaimRow>,
    pub userinfo: Vec<ClaimRow>,
    pub tokens: Tokens,
    pub signed_in_at: DateTime<Utc>,
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// The result of a refresh_token grant, to be applied to the session.
pub struct Refreshed {
    tokens: Tokens,
    id_token: Option<(PortalIdToken, Vec<ClaimRow>)>,
    at: DateTime<Utc>,
}

impl SignedIn {
    pub fn apply(&mut self, refreshed: Refreshed) {
        let Refreshed { mut tokens, id_token, at } = refreshed;
        if tokens.refresh.is_none() {
            tokens.refresh = self.tokens.refresh.take(); // not rotated: keep the old one
        }
        self.tokens = tokens;
        if let Some((id_token, rows)) = id_token {
            self.id_token = id_token;
            self.id_claims = rows;
        }
        self.refreshed_at = Some(at);
    }
}

pub struct RelyingParty {
    client: PortalClient,
    http: reqwest::Client,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    jwks_uri: JsonWebKeySetUrl,
    jwks: RwLock<CoreJsonWebKeySet>,
    end_session: Option<EndSessionUrl>,
    iss_param_required: bool,
    scopes: Vec<Scope>,
    acr_values: Vec<AuthenticationContextClass>,
    post_logout_redirect: PostLogoutRedirectUrl,
}

impl RelyingParty {
    /// Discovers Tessera (retrying while it is not up, for `config.discovery_wait`) and builds the client.
    pub async fn discover(config: &Config) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // openidconnect requires this: following redirects would open the client to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        let metadata = discover_with_retry(&config.issuer, &http, config.discovery_wait).await?;
        let issuer = config.issuer.as_str();
        let token_url = metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("{issuer} advertises no token_endpoint"))?;
        let userinfo_url = metadata
            .userinfo_endpoint()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("{issuer} advertises no userinfo_endpoint"))?;
        let extra = metadata.additional_metadata().clone();
        let jwks_uri = metadata.jwks_uri().clone();
        let jwks = metadata.jwks().clone();
        tracing::info!(
            issuer,
            authorization_endpoint = %metadata.authorization_endpoint().as_str(),
            token_endpoint = %token_url.as_str(),
            end_session_endpoint = extra.end_session_endpoint.as_ref().map(|u| u.as_str()),
            keys = jwks.keys().len(),
            "discovered the identity provider"
        );
        let client = PortalClient::<EndpointMaybeSet, EndpointMaybeSet>::from_provider_metadata(
            metadata,
            config.client_id.clone(),
            Some(config.client_secret.clone()),
        )
        .set_redirect_uri(RedirectUrl::new(config.base_url.redirect_uri())?)
        .set_auth_type(AuthType::BasicAuth)
        .set_token_uri(token_url)
        .set_user_info_url(userinfo_url);
        Ok(Self {
            client,
            http,
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            jwks_uri,
            jwks: RwLock::new(jwks),
            end_session: extra.end_session_endpoint,
            iss_param_required: extra.authorization_response_iss_parameter_supported == Some(true),
            scopes: config.scopes.clone(),
            acr_values: config.acr_values.clone(),
            post_logout_redirect: PostLogoutRedirectUrl::new(config.base_url.post_logout_redirect_uri())?,
        })
    }

    /// The authorization request URL (code flow, PKCE S256, random state and nonce) and what to keep.
    pub fn begin_login(&self) -> (Url, PendingLogin) {
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(pkce_challenge);
        for acr in &self.acr_values {
            request = request.add_auth_context_value(acr.clone());
        }
        let (url, state, nonce) = request.url();
        (url, PendingLogin { state, nonce, pkce_verifier })
    }

    /// Checks the authorization response, exchanges the code, verifies the ID token and reads userinfo.
    pub async fn finish_login(
        &self,
        pending: PendingLogin,
        params: CallbackParams,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, PortalError> {
        let code = callback::check(params, &pending.state, &self.issuer, self.iss_param_required)?;
        let response = self
            .client
            .exchange_code(code)
            .set_pkce_verifier(pending.pkce_verifier)
            .request_async(&self.http)
            .await
            .map_err(|err| PortalError::TokenExchange(token_error(&err)))?;
        let id_token =
            response.id_token().cloned().ok_or(PortalError::IdToken("no id_token in the response".into()))?;
        let nonce = pending.nonce;
        let claims = self
            .verify_id_token(&id_token, response.access_token(), || {
                let nonce = nonce.clone();
                move |got: Option<&Nonce>| match got {
                    Some(got) if constant_time_eq(got.secret().as_bytes(), nonce.secret().as_bytes()) => Ok(()),
                    Some(_) => Err("nonce mismatch".to_owned()),
                    None => Err("missing nonce".to_owned()),
                }
            })
            .await?;
        self.check_acr(&claims)?;
        let subject = claims.subject().clone();
        let userinfo: PortalUserInfo = self
            .client
            .user_info(response.access_token().clone(), Some(subject.clone()))
            .request_async(&self.http)
            .await
            .map_err(|err| PortalError::UserInfo(chain(&err)))?;
        let name = CitizenName::from_claim(userinfo.name()).or(CitizenName::from_claim(claims.name()));
        tracing::info!(
            acr = claims.auth_context_ref().map(|acr| acr.as_str()),
            refresh_token = response.refresh_token().is_some(),
            "citizen signed in"
        );
        Ok(SignedIn {
            name,
            subject,
            id_claims: claim_rows(&claims),
            userinfo: claim_rows(&userinfo),
            id_token,
            nonce,
            tokens: tokens_of(&response, now),
            signed_in_at: now,
            refreshed_at: None,
        })
    }

    /// Runs the refresh_token grant; a new ID token, if any, must be for the same citizen.
    pub async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        subject: &SubjectIdentifier,
        nonce: &Nonce,
        now: DateTime<Utc>,
    ) -> Result<Refreshed, PortalError> {
        let response = self
            .client
            .exchange_refresh_token(refresh_token)
            .request_async(&self.http)
            .await
            .map_err(|err| PortalError::Refresh(token_error(&err)))?;
        let id_token = match response.id_token() {
            // OIDC Core 12.2: same iss, sub and aud; a nonce, if present, is the original one.
            Some(id_token) => {
                let claims = self
                    .verify_id_token(id_token, response.access_token(), || {
                        let nonce = nonce.clone();
                        move |got: Option<&Nonce>| match got {
                            Some(got) if !constant_time_eq(got.secret().as_bytes(), nonce.secret().as_bytes()) => {
                                Err("nonce differs from the original".to_owned())
                            }
                            _ => Ok(()),
                        }
                    })
                    .await?;
                if claims.subject() != subject {
                    return Err(PortalError::IdToken("refreshed ID token is for another subject".into()));
                }
                Some((id_token.clone(), claim_rows(&claims)))
            }
            None => None,
        };
        tracing::info!(
            new_id_token = id_token.is_some(),
            rotated = response.refresh_token().is_some(),
            "tokens refreshed"
        );
        Ok(Refreshed { tokens: tokens_of(&response, now), id_token, at: now })
    }

    /// Tessera's end-session URL for `id_token`, with a fresh `state`; `None` if Tessera has no
    /// end_session_endpoint.
    pub fn logout_url(&self, id_token: &PortalIdToken) -> Option<(Url, CsrfToken)> {
        let state = CsrfToken::new_random();
        let url = LogoutRequest::from(self.end_session.clone()?)
            .set_id_token_hint(id_token)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.post_logout_redirect.clone())
            .set_state(state.clone())
            .http_get_url();
        Some((url, state))
    }

    /// Verifies signature (reloading the JWKS once if no key matches, for key rotation), issuer,
    /// audience, expiry and nonce; then `at_hash` if present.
    async fn verify_id_token<N>(
        &self,
        id_token: &PortalIdToken,
        access_token: &AccessToken,
        nonce_check: impl Fn() -> N,
    ) -> Result<PortalIdTokenClaims, PortalError>
    where
        N: FnOnce(Option<&Nonce>) -> Result<(), String>,
    {
        match self.verify_with_current_keys(id_token, access_token, nonce_check()) {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                tracing::info!("no matching signing key; reloading the JWKS");
                let jwks = CoreJsonWebKeySet::fetch_async(&self.jwks_uri, &self.http)
                    .await
                    .map_err(|err| PortalError::IdToken(format!("reloading the JWKS: {}", chain(&err))))?;
                *self.jwks.write().unwrap_or_else(PoisonError::into_inner) = jwks;
                self.verify_with_current_keys(id_token, access_token, nonce_check())
            }
            other => other,
        }
        .map_err(|err| PortalError::IdToken(chain(&err)))
    }

    fn verify_with_current_keys<N>(
        &self,
        id_token: &PortalIdToken,
        access_token: &AccessToken,
        nonce_check: N,
    ) -> Result<PortalIdTokenClaims, ClaimsVerificationError>
    where
        N: FnOnce(Option<&Nonce>) -> Result<(), String>,
    {
        let jwks = self.jwks.read().unwrap_or_else(PoisonError::into_inner).clone();
        let verifier: IdTokenVerifier<'_, CoreJsonWebKey> = IdTokenVerifier::new_confidential_client(
            self.client_id.clone(),
            self.client_secret.clone(),
            self.issuer.clone(),
            jwks,
        )
        .set_allowed_algs(ALLOWED_ALGS);
        let claims = id_token.claims(&verifier, nonce_check)?.clone();
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(ClaimsVerificationError::SignatureVerification)?;
            let key = id_token.signing_key(&verifier).map_err(ClaimsVerificationError::SignatureVerification)?;
            let actual = AccessTokenHash::from_token(access_token, alg, key)
                .map_err(|err| ClaimsVerificationError::Other(err.to_string()))?;
            if actual != *expected {
                return Err(ClaimsVerificationError::Other("at_hash does not match the access token".into()));
            }
        }
        Ok(claims)
    }

    /// With `PORTAL_ACR_VALUES` set, the ID token's `acr` must be one of them.
    fn check_acr(&self, claims: &PortalIdTokenClaims) -> Result<(), PortalError> {
        if self.acr_values.is_empty() {
            return Ok(());
        }
        match claims.auth_context_ref() {
            Some(acr) if self.acr_values.iter().any(|wanted| wanted.as_str() == acr.as_str()) => Ok(()),
            Some(acr) => Err(PortalError::AcrNotMet(acr.as_str().to_owned())),
            None => Err(PortalError::AcrNotMet("(none)".to_owned())),
        }
    }
}

fn tokens_of(response: &PortalTokenResponse, now: DateTime<Utc>) -> Tokens {
    Tokens {
        access: response.access_token().clone(),
        expires_at: response
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .and_then(|d| now.checked_add_signed(d)),
        refresh: response.refresh_token().cloned(),
        scopes: response.scopes().cloned(),
    }
}

/// A token endpoint error for the log: the server's error code, or what went wrong, never a body.
fn token_error<RE: std::error::Error + 'static>(
    err: &openidconnect::RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match err {
        openidconnect::RequestTokenError::Parse(parse, _body) => {
            format!("unparsable token response at `{}`", parse.path())
        }
        other => chain(other),
    }
}

async fn discover_with_retry(
    issuer: &IssuerUrl,
    http: &reqwest::Client,
    wait: Duration,
) -> anyhow::Result<PortalProviderMetadata> {
    let deadline = Instant::now() + wait;
    let mut announced = false;
    loop {
        let err = match PortalProviderMetadata::discover_async(issuer.clone(), http).await {
            Ok(metadata) => return Ok(metadata),
            Err(err) => err,
        };
        let transient = match &err {
            DiscoveryError::Request(_) => true,
            DiscoveryError::Response(status, ..) => status.is_server_error(),
            _ => false,
        };
        if !transient || Instant::now() >= deadline {
            anyhow::bail!("OpenID Connect discovery from {} failed: {}", issuer.as_str(), chain(&err));
        }
        if !announced {
            tracing::info!(
                issuer = issuer.as_str(),
                wait_secs = wait.as_secs(),
                error = %chain(&err),
                "identity provider not reachable yet; retrying discovery"
            );
            announced = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
