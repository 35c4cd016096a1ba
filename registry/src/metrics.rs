//! Operational metrics in the Prometheus/OpenMetrics text format, served at
//! `/metrics` (any valid token): HTTP requests by route pattern, method and
//! status with latency histograms, receipts ingested, the trust-bundle
//! serial and build time, and the database pool (connections, idle, and
//! how long requests waited for a connection). Kept with
//! `prometheus-client`, the Prometheus project's own Rust client.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of one request series.
type Labels = Vec<(&'static str, String)>;

/// The registry's metrics (one set per process).
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram>,
    /// Receipts stored.
    pub receipts: Counter,
    /// The trust-bundle serial last built.
    pub bundle_serial: Gauge,
    /// Seconds to build and sign the trust bundle.
    pub bundle_build: Histogram,
    /// Seconds a request waited for a database connection.
    pub pool_wait: Histogram,
    pool_connections: Gauge,
    pool_idle: Gauge,
    /// Station verdicts the registry's own re-verification disagreed with.
    pub disagreements: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tollgate");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let receipts = Counter::default();
        let bundle_serial = Gauge::default();
        let bundle_build = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        let pool_wait = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let pool_connections = Gauge::default();
        let pool_idle = Gauge::default();
        let disagreements = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and method",
            latency.clone(),
        );
        registry.register(
            "receipts_ingested",
            "Inspection receipts stored",
            receipts.clone(),
        );
        registry.register(
            "bundle_serial",
            "Trust-bundle serial last built",
            bundle_serial.clone(),
        );
        registry.register(
            "bundle_build_seconds",
            "Time to build and sign the trust bundle",
            bundle_build.clone(),
        );
        registry.register(
            "db_pool_wait_seconds",
            "Time a request waited for a database connection",
            pool_wait.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle",
            "Database connections idle",
            pool_idle.clone(),
        );
        registry.register(
            "verdict_disagreements",
            "Station verdicts the registry's re-verification disagreed with",
            disagreements.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            receipts,
            bundle_serial,
            bundle_build,
            pool_wait,
            pool_connections,
            pool_idle,
            disagreements,
        }
    }
}

impl Metrics {
    /// Records one answered request. `route` is the matched route pattern
    /// (`/api/v1/vendors/{id}`), never the raw path, so the number of series
    /// stays bounded whatever clients send.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let route = route.to_string();
        let method = method.to_string();
        self.requests
            .get_or_create(&vec![
                ("route", route.clone()),
                ("method", method.clone()),
                ("status", status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![("route", route), ("method", method)])
            .observe(seconds);
    }

    /// The exposition text, with the pool's current state.
    pub fn render(&self, pool: &schema::DbPool) -> String {
        let s = pool.state();
        self.pool_connections.set(i64::from(s.connections));
        self.pool_idle.set(i64::from(s.idle_connections));
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
