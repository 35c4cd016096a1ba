//! Shared application state.

use crate::auth::Caller;
use crate::key::RegistryKey;
use schema::DbPool;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

/// Everything a handler needs.
pub struct AppState {
    /// Database pool.
    pub pool: DbPool,
    /// The registry's signing key and certificate.
    pub key: RegistryKey,
    /// How long a trust bundle stays fresh.
    pub bundle_ttl: Duration,
    /// The last signed bundle, reused while the serial is unchanged.
    pub bundle_cache: RwLock<Option<crate::service::bundle::CachedBundle>>,
    /// Recently authenticated tokens (hash → caller), to spare a query per request.
    pub token_cache: TokenCache,
    /// Operational metrics (`/metrics`).
    pub metrics: crate::metrics::Metrics,
    /// The trust policy of the current serial, for re-verifying receipts.
    pub policies: crate::service::evidence::PolicyCache,
    /// Judge receipt evidence at this instant instead of the clock
    /// (`serve --pin-time`: reproductions and tests only).
    pub pin_time: Option<time::OffsetDateTime>,
    /// How many people each dangerous change needs (`serve --approvals`).
    pub approvals: crate::service::approvals::ApprovalPolicy,
    /// The author release SBOMs name (`serve --sbom-author "Name <e-mail>"`).
    pub sbom_author: Option<String>,
}

impl AppState {
    /// A state over `pool` with empty caches.
    pub fn new(pool: DbPool, key: RegistryKey, bundle_ttl: Duration) -> Self {
        AppState {
            pool,
            key,
            bundle_ttl,
            bundle_cache: Default::default(),
            token_cache: Default::default(),
            metrics: Default::default(),
            policies: Default::default(),
            pin_time: None,
            approvals: Default::default(),
            sbom_author: None,
        }
    }

    /// What receipt intake needs: the policy cache and the verification time.
    pub fn intake(&self) -> crate::service::receipts::Intake<'_> {
        crate::service::receipts::Intake {
            policies: &self.policies,
            time: self.pin_time.unwrap_or_else(time::OffsetDateTime::now_utc),
            bundle_ttl: self.bundle_ttl,
        }
    }
}

/// A short-lived cache of authenticated tokens. Entries live one second: a
/// token revoked through another replica (or the command line) stops
/// working everywhere within that second, while a station hammering the
/// registry still costs at most one token query per second per process.
/// The replica that revokes forgets its cache at once.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Caller, Instant)>>,
}

impl TokenCache {
    const TTL: Duration = Duration::from_secs(1);
    const CAPACITY: usize = 10_000;

    /// A cached caller for this token hash.
    pub fn get(&self, hash: &str) -> Option<Caller> {
        let map = self.entries.lock().ok()?;
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(c, _)| c.clone())
    }

    /// Forgets every cached token (after a revocation).
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }

    /// Remembers a caller.
    pub fn put(&self, hash: String, caller: Caller) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= Self::CAPACITY {
                map.clear();
            }
            map.insert(hash, (caller, Instant::now()));
        }
    }
}
