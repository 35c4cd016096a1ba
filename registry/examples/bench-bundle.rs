//! Benchmark: build and sign the trust bundle for a registry holding 1,000
//! vendors and 10,000 certificates (docs/benchmarks.md).
//!
//! Usage: cargo run --release -p registry --example bench-bundle -- DATABASE_URL [VENDORS] [CERTS_PER_VENDOR]
//! The database must be empty (a fresh SQLite path, or an empty PostgreSQL database).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use diesel::prelude::*;
use registry::key::RegistryKey;
use registry::state::AppState;
use schema::models::{NewCertificate, Vendor};
use schema::schema::{certificates, components, vendors};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = &args[1];
    let n_vendors: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(1000);
    let per_vendor: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(10);
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cms/certs");
    // Ten distinct real CA certificates, reused across vendors (each vendor
    // holds each once): the bundle's size and encoding work are realistic.
    let names = [
        "acme-root",
        "acme-int",
        "acme-int2",
        "globex-root",
        "globex-int",
        "rogue-root",
        "rogue-int",
        "tsa-root",
        "evil-tsa-root",
        "acme-root",
    ];
    let ders: Vec<Vec<u8>> = names
        .iter()
        .take(per_vendor.min(9))
        .map(|n| {
            pem::parse(std::fs::read(fixtures.join(format!("{n}.pem"))).unwrap())
                .unwrap()
                .into_contents()
        })
        .collect();
    let pool = schema::connect(url, 4).unwrap();
    let mut conn = pool.get().unwrap();
    let t = Instant::now();
    conn.transaction::<_, diesel::result::Error, _>(|c| {
        for v in 0..n_vendors {
            let id = format!("vendor-{v:04}");
            diesel::insert_into(vendors::table)
                .values(Vendor {
                    id: id.clone(),
                    name: format!("Vendor {v}"),
                    contract_ref: format!("C-{v}"),
                    contract_expires: None,
                    security_contact: "psirt@example.com".into(),
                    digests: "sha256,sha384,sha512".into(),
                    min_rsa_bits: 2048,
                    require_timestamp: false,
                    row_version: 1,
                    created_at: 0,
                    updated_at: 0,
                    support_ends: None,
                    key_algorithms: String::new(),
                    key_protection: String::new(),
                    key_protection_attestation: String::new(),
                    revocation_procedure: String::new(),
                    revocation_deadline_hours: None,
                    require_signed_sbom: false,
                })
                .execute(c)?;
            for k in 0..per_vendor {
                let der = &ders[k % ders.len()];
                diesel::insert_into(certificates::table)
                    .values(NewCertificate {
                        vendor_id: id.clone(),
                        role: if k == 0 {
                            "anchor".into()
                        } else {
                            "intermediate".into()
                        },
                        der: der.clone(),
                        sha256: format!("{k:02}{v:062}"),
                        subject: "CN=bench".into(),
                        issuer: "CN=bench".into(),
                        serial: "01".into(),
                        not_before: 0,
                        not_after: 2_000_000_000,
                        key_algorithm: "ECDSA P-256".into(),
                        created_at: 0,
                    })
                    .execute(c)?;
            }
            diesel::insert_into(components::table)
                .values((
                    components::name.eq(format!("{id}-fw")),
                    components::vendor_id.eq(&id),
                    components::min_version.eq(Some("1.0.0")),
                    components::row_version.eq(1),
                    components::updated_at.eq(0i64),
                ))
                .execute(c)?;
        }
        Ok(())
    })
    .unwrap();
    eprintln!(
        "seeded {n_vendors} vendors, {} certificates in {:.1} s",
        n_vendors * per_vendor,
        t.elapsed().as_secs_f64()
    );
    drop(conn);

    let dir = std::env::temp_dir().join(format!("tollgate-bench-key-{}", std::process::id()));
    let (key, _) = RegistryKey::load_or_create(&dir).unwrap();
    let state = AppState::new(pool, key, std::time::Duration::from_secs(3600));
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..11 {
        // Drop the cache so every run builds, serialises and signs in full.
        *state.bundle_cache.write().unwrap() = None;
        let t = Instant::now();
        let b =
            registry::service::bundle::current(&state, &registry::service::Actor::local("bench"))
                .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        size = b.body.len();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "bundle build ({n_vendors} vendors, {} certificates, {:.1} MiB signed): median {:.1} ms, min {:.1} ms, max {:.1} ms",
        n_vendors * per_vendor,
        size as f64 / 1048576.0,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    let _ = std::fs::remove_dir_all(dir);
}
