//! The portable diesel schema, shared by SQLite and PostgreSQL.
#![allow(missing_docs)]

diesel::table! {
    vendors (id) {
        id -> Text,
        name -> Text,
        contract_ref -> Text,
        contract_expires -> Nullable<BigInt>,
        security_contact -> Text,
        digests -> Text,
        min_rsa_bits -> Integer,
        require_timestamp -> Bool,
        row_version -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
        support_ends -> Nullable<BigInt>,
        key_algorithms -> Text,
        key_protection -> Text,
        key_protection_attestation -> Text,
        revocation_procedure -> Text,
        revocation_deadline_hours -> Nullable<Integer>,
        require_signed_sbom -> Bool,
    }
}

diesel::table! {
    certificates (id) {
        id -> BigInt,
        vendor_id -> Text,
        role -> Text,
        der -> Binary,
        sha256 -> Text,
        subject -> Text,
        issuer -> Text,
        serial -> Text,
        not_before -> BigInt,
        not_after -> BigInt,
        key_algorithm -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        retired_reason -> Nullable<Text>,
        retired_by -> Nullable<Text>,
    }
}

diesel::table! {
    components (name) {
        name -> Text,
        vendor_id -> Text,
        min_version -> Nullable<Text>,
        row_version -> Integer,
        updated_at -> BigInt,
        allowed_signers -> Text,
        retired_at -> Nullable<BigInt>,
        retired_reason -> Nullable<Text>,
        retired_by -> Nullable<Text>,
        support_ends -> Nullable<BigInt>,
        firmware_package_oid -> Nullable<Text>,
        vendor_floor -> Nullable<Text>,
    }
}

diesel::table! {
    tsa_anchors (id) {
        id -> BigInt,
        der -> Binary,
        sha256 -> Text,
        subject -> Text,
        not_after -> BigInt,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        retired_reason -> Nullable<Text>,
        retired_by -> Nullable<Text>,
    }
}

diesel::table! {
    revocations (id) {
        id -> BigInt,
        certificate_der -> Nullable<Binary>,
        issuer_der -> Nullable<Binary>,
        serial -> Nullable<Text>,
        subject -> Text,
        reason -> Text,
        invalidity_date -> Nullable<BigInt>,
        source -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    receipts (id) {
        id -> BigInt,
        received_at -> BigInt,
        station -> Text,
        lot -> Text,
        vendor -> Text,
        component -> Text,
        version -> Text,
        verdict -> Text,
        blob_sha256 -> Text,
        blob_size -> BigInt,
        bundle_serial -> BigInt,
        report -> Text,
        recorded_by -> Text,
        uid -> Text,
        summary -> Text,
        blob_sha384 -> Nullable<Text>,
        blob_sha512 -> Nullable<Text>,
        registry_verdict -> Text,
        registry_summary -> Text,
        verified_at -> BigInt,
        verified_serial -> BigInt,
        ever_accepted -> Bool,
        disagreement -> Bool,
        reevaluated_at -> Nullable<BigInt>,
        station_key -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
        late -> Bool,
        station_time -> Nullable<BigInt>,
    }
}

diesel::table! {
    sigstore_revocations (id) {
        id -> BigInt,
        vendor_id -> Text,
        issuer -> Nullable<Text>,
        san -> Nullable<Text>,
        key_spki_sha256 -> Nullable<Text>,
        reason -> Text,
        revoked_from -> Nullable<BigInt>,
        created_at -> BigInt,
        created_by -> Text,
    }
}

diesel::table! {
    /// Vendor-signed SBOMs (issue 14).
    vendor_sboms (id) {
        id -> BigInt,
        vendor_id -> Text,
        serial -> Text,
        sha256 -> Text,
        component -> Text,
        version -> Text,
        sbom -> Binary,
        signature -> Binary,
        uploaded_at -> BigInt,
        uploaded_by -> Text,
    }
}

diesel::table! {
    /// The images vendor-signed SBOMs list.
    sbom_bindings (id) {
        id -> BigInt,
        sbom_id -> BigInt,
        vendor_id -> Text,
        component -> Text,
        version -> Text,
        sha256 -> Nullable<Text>,
        sha384 -> Nullable<Text>,
        sha512 -> Nullable<Text>,
    }
}

diesel::table! {
    /// Product releases (issue 14).
    releases (id) {
        id -> BigInt,
        product_id -> Text,
        version -> Text,
        images -> Text,
        status -> Text,
        created_at -> BigInt,
        created_by -> Text,
        checked_at -> Nullable<BigInt>,
        problems -> Text,
        attestation -> Nullable<Text>,
    }
}

diesel::table! {
    /// Dangerous changes waiting for approval (issue 11, item 6).
    proposals (id) {
        id -> BigInt,
        action -> Text,
        summary -> Text,
        payload -> Text,
        required_roles -> Text,
        approvals_required -> Integer,
        proposed_by -> Text,
        proposed_by_label -> Text,
        status -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        decided_at -> Nullable<BigInt>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    /// Approvals and rejections of proposals.
    proposal_votes (proposal_id, voter) {
        proposal_id -> BigInt,
        voter -> Text,
        voter_label -> Text,
        decision -> Text,
        reason -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    shared_cas (id) {
        id -> BigInt,
        spki_sha256 -> Text,
        subject -> Text,
        vendors -> Text,
        reason -> Text,
        created_at -> BigInt,
        created_by -> Text,
    }
}

diesel::table! {
    bundle_serials (serial) {
        serial -> BigInt,
        issued_at -> BigInt,
    }
}

diesel::table! {
    receipt_evidence (receipt_id) {
        receipt_id -> BigInt,
        signature -> Binary,
        registry_report -> Text,
        envelope -> Nullable<Text>,
    }
}

diesel::table! {
    station_keys (id) {
        id -> BigInt,
        name -> Text,
        token_id -> BigInt,
        spki_der -> Binary,
        keyid -> Text,
        created_at -> BigInt,
        created_by -> Text,
        retired_at -> Nullable<BigInt>,
        retired_by -> Nullable<Text>,
        retired_reason -> Nullable<Text>,
    }
}

diesel::table! {
    receipt_certs (receipt_id, position) {
        receipt_id -> BigInt,
        position -> Integer,
        sha256 -> Text,
        issuer -> Text,
        serial -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        revoked -> Bool,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    registry_state (key) {
        key -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    sigstore_identities (id) {
        id -> BigInt,
        vendor_id -> Text,
        issuer -> Text,
        san -> Nullable<Text>,
        san_regex -> Nullable<Text>,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        retired_reason -> Nullable<Text>,
        retired_by -> Nullable<Text>,
    }
}

diesel::table! {
    sigstore_keys (id) {
        id -> BigInt,
        vendor_id -> Text,
        pem -> Text,
        sha256 -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        retired_reason -> Nullable<Text>,
        retired_by -> Nullable<Text>,
    }
}

diesel::table! {
    sigstore_trusted_roots (name) {
        name -> Text,
        trusted_root -> Text,
        sha256 -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        retired_reason -> Nullable<Text>,
        retired_by -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> BigInt,
        disabled -> Bool,
    }
}

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        principal -> Text,
        role -> Text,
        csrf -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        name -> Text,
        stages -> Text,
        row_version -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
        hardware_ids -> Text,
    }
}

diesel::table! {
    product_exports (id) {
        id -> BigInt,
        product_id -> Text,
        sha256 -> Text,
        allowlist -> Text,
        created_at -> BigInt,
        bundle_serial -> BigInt,
        published_at -> Nullable<BigInt>,
        published_by -> Nullable<Text>,
    }
}

diesel::joinable!(certificates -> vendors (vendor_id));
diesel::joinable!(sbom_bindings -> vendor_sboms (sbom_id));
diesel::joinable!(sigstore_identities -> vendors (vendor_id));
diesel::joinable!(sigstore_keys -> vendors (vendor_id));
diesel::joinable!(components -> vendors (vendor_id));
diesel::joinable!(receipt_evidence -> receipts (receipt_id));
diesel::joinable!(receipt_certs -> receipts (receipt_id));
diesel::joinable!(station_keys -> api_tokens (token_id));

diesel::table! {
    /// Failed sign-ins per account and per address, for exponential back-off.
    login_throttle (key) {
        key -> Text,
        failures -> BigInt,
        locked_until -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    vendors,
    certificates,
    components,
    tsa_anchors,
    revocations,
    receipts,
    receipt_evidence,
    receipt_certs,
    station_keys,
    bundle_serials,
    sigstore_revocations,
    shared_cas,
    proposals,
    proposal_votes,
    releases,
    vendor_sboms,
    sbom_bindings,
    api_tokens,
    audit_log,
    registry_state,
    sigstore_identities,
    sigstore_keys,
    sigstore_trusted_roots,
    users,
    web_sessions,
    products,
    product_exports,
    login_throttle,
);
