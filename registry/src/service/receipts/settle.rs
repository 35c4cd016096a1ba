//! Settling station-asserted evidence with the blob itself.

use super::*;

/// Most bytes of a blob uploaded to settle a station-asserted receipt: what
/// the inspector keeps in memory for a signature over the content itself
/// (Ed25519 without signed attributes).
pub fn max_blob_upload() -> usize {
    inspector::Limits::default().max_unhashed_content_bytes
}

/// Settles a station-asserted receipt with the blob itself: the blob must
/// be the one the receipt claims (SHA-256 and size), and the registry then
/// verifies the evidence over it, as at the time it first received the
/// receipt. The registry's verdict, report and path replace "asserted";
/// audited. The blob is not kept.
pub fn verify_blob(
    c: &mut Conn,
    actor: &Actor,
    intake: &Intake<'_>,
    id: i64,
    blob: &[u8],
) -> ServiceResult<ReceiptView> {
    actor.require(INSPECTION, "upload blobs for receipts")?;
    let (row, _) = get_full(c, id)?;
    if row.registry_verdict != evidence::ASSERTED {
        return Err(ServiceError::Conflict(format!(
            "receipt {id} is not station-asserted (the registry's verdict is '{}'): there is nothing to settle",
            row.registry_verdict
        )));
    }
    let signature: Vec<u8> = receipt_evidence::table
        .find(id)
        .select(receipt_evidence::signature)
        .first(c)
        .optional()?
        .ok_or_else(|| {
            ServiceError::Conflict(format!(
                "receipt {id} carries no signature material: a blob alone proves nothing"
            ))
        })?;
    let sha = inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(blob));
    if sha != row.blob_sha256 || i64::try_from(blob.len()).ok() != Some(row.blob_size) {
        return Err(ServiceError::Invalid(format!(
            "blob: the upload ({} bytes, SHA-256 {sha}) is not the receipt's blob ({} bytes, SHA-256 {})",
            blob.len(),
            row.blob_size,
            row.blob_sha256
        )));
    }
    let at = OffsetDateTime::from_unix_timestamp(if row.verified_at > 0 {
        row.verified_at
    } else {
        intake.time.unix_timestamp()
    })
    .map_err(ServiceError::internal)?;
    crate::service::transaction(c, |c| {
        // The audit write lock first: the one lock order (see `store`).
        crate::service::audit::begin_change(c, false)?;
        let (serial, policy) = evidence::policy_now(c)?;
        let claims = evidence::Claims {
            vendor: row.vendor.clone(),
            component: row.component.clone(),
            version: row.version.clone(),
            sha256: row.blob_sha256.clone(),
            sha384: None,
            sha512: None,
            size: u64::try_from(row.blob_size).unwrap_or(0),
        };
        let mut reader = blob;
        let v = evidence::verify_artifact(
            &policy,
            None,
            &claims,
            &signature,
            at,
            inspector::Artifact::Reader(&mut reader),
        );
        let disagreement = v.verdict != row.verdict;
        diesel::update(receipts::table.find(id))
            .set((
                receipts::registry_verdict.eq(v.verdict),
                receipts::registry_summary.eq(v.summary.chars().take(2000).collect::<String>()),
                receipts::verified_serial.eq(serial),
                receipts::ever_accepted.eq(v.verdict == evidence::ACCEPT),
                receipts::disagreement.eq(disagreement),
            ))
            .execute(c)?;
        let report = v
            .report
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(ServiceError::internal)?
            .unwrap_or_default();
        diesel::update(receipt_evidence::table.find(id))
            .set(receipt_evidence::registry_report.eq(report))
            .execute(c)?;
        if v.verdict == evidence::ACCEPT {
            for r in v.path_certs(id) {
                diesel::insert_into(receipt_certs::table)
                    .values(&r)
                    .execute(c)?;
            }
        }
        crate::service::audit::record(
            c,
            &actor.label(),
            "verify-blob",
            "receipt",
            &id.to_string(),
            Some(&serde_json::json!({"registry_verdict": evidence::ASSERTED})),
            Some(
                &serde_json::json!({"registry_verdict": v.verdict, "why": v.summary, "sha256": sha}),
            ),
        )?;
        Ok(())
    })?;
    evidence_view(c, id)
}
