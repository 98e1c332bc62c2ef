//! Hand-written table definitions, valid for both backends. They mirror
//! `migrations/{sqlite,postgres}/*/up.sql`; the storage tests catch any drift.

diesel::table! {
    citizens (id) {
        id -> Text,
        username -> Text,
        status -> Text,
        roles -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    citizen_profiles (citizen_id) {
        citizen_id -> Text,
        name_en -> Text,
        name_zh -> Nullable<Text>,
        birthdate -> Nullable<Text>,
        gender -> Text,
        email -> Nullable<Text>,
        email_verified -> Bool,
        phone -> Nullable<Text>,
        phone_verified -> Bool,
        residential_address -> Nullable<Text>,
        postal_address -> Nullable<Text>,
        hkid_sealed -> Nullable<Binary>,
    }
}

diesel::table! {
    password_credentials (citizen_id) {
        citizen_id -> Text,
        phc -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        citizen_id -> Text,
        credential_id -> Binary,
        passkey_json -> Text,
        name -> Text,
        sign_count -> BigInt,
        backup_eligible -> Bool,
        backup_state -> Bool,
        transports -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        department_en -> Text,
        department_zh -> Text,
        name -> Text,
        name_zh -> Text,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        allowed_scopes -> Text,
        token_endpoint_auth_method -> Text,
        secret_digest -> Nullable<Binary>,
        subject_type -> Text,
        sector_identifier -> Text,
        require_pkce -> Bool,
        id_token_alg -> Text,
        enabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    consents (id) {
        id -> Text,
        citizen_id -> Text,
        client_id -> Text,
        scopes -> Text,
        claims -> Text,
        granted_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        last_shared_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        digest -> Binary,
        family_id -> Text,
        client_id -> Text,
        citizen_id -> Nullable<Text>,
        scope -> Text,
        session_id -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        issued_at -> BigInt,
        expires_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        acr -> Nullable<Text>,
        amr -> Text,
        claims -> Text,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        state -> Text,
        private_key_sealed -> Binary,
        public_jwk -> Text,
        created_at -> BigInt,
        activated_at -> Nullable<BigInt>,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> BigInt,
        kind -> Text,
        actor -> Nullable<Text>,
        client_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        outcome -> Text,
        detail -> Text,
    }
}

diesel::table! {
    client_changes (id) {
        id -> Text,
        client_id -> Text,
        kind -> Text,
        proposal -> Text,
        previous -> Text,
        proposed_by -> Text,
        proposed_at -> BigInt,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    client_logos (client_id) {
        client_id -> Text,
        content_type -> Text,
        bytes -> Binary,
        updated_at -> BigInt,
    }
}

diesel::table! {
    enrolments (digest) {
        digest -> Binary,
        username -> Text,
        name_en -> Text,
        role -> Text,
        created_by -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        citizen_id -> Nullable<Text>,
    }
}

diesel::joinable!(citizen_profiles -> citizens (citizen_id));
diesel::joinable!(password_credentials -> citizens (citizen_id));
diesel::joinable!(passkeys -> citizens (citizen_id));
diesel::joinable!(consents -> citizens (citizen_id));
diesel::joinable!(consents -> clients (client_id));

diesel::allow_tables_to_appear_in_same_query!(
    client_logos,
    client_changes,
    enrolments,
    citizens,
    citizen_profiles,
    password_credentials,
    passkeys,
    clients,
    consents,
    refresh_tokens,
    signing_keys,
    audit_events,
);
