//! `tollgate-inspect`: verify vendor firmware blobs against a trust policy.
//!
//! Exit codes: 0 accepted / valid, 1 rejected / invalid, 2 usage, I/O or
//! policy-file error.

mod cli;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Verify vendor firmware blobs (CMS / PKCS #7 signatures) against a Tollgate
/// trust policy, before they go into assembly.
///
/// Every verdict names each check with its outcome and a reason a person can
/// act on. Nothing here uses the network.
///
/// Exit codes: 0 = accepted (or valid), 1 = rejected (or invalid),
/// 2 = usage error, unreadable file, or malformed trust policy.
#[derive(Parser, Debug)]
#[command(name = "tollgate-inspect", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// The versioned JSON report (docs/report-format.md).
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Verify one blob's CMS signature for a vendor, component and version.
    ///
    /// Example:
    ///   tollgate-inspect verify --trust trust.json --vendor acme \
    ///       --component acme-wifi-fw --version 1.5.2 fw.bin
    ///
    /// The signature is read from --signature, or else from BLOB.p7s,
    /// BLOB.sig or BLOB.cms (the first that exists). DER, PEM and BER
    /// (openssl cms -stream) are accepted, detached or attached.
    Verify(VerifyArgs),
    /// Verify a lot of blobs listed in a manifest, on all cores.
    ///
    /// The manifest is CSV with a header row
    /// (blob,signature,vendor,component,version) or JSON lines with the same
    /// keys; signature may be empty. Paths are relative to the manifest.
    /// Exits 1 if any blob is rejected.
    ///
    /// Example:
    ///   tollgate-inspect verify-lot --trust trust.json --report lot-42.json lot-42.csv
    VerifyLot(LotArgs),
    /// Check a certificate's path to given anchors (before registering it).
    ///
    /// Example:
    ///   tollgate-inspect chain --anchors acme-root.pem \
    ///       --intermediates acme-int.pem --eku codeSigning signer.pem
    Chain(ChainArgs),
    /// Trust-bundle tools for offline stations.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// This station's signing key.
    #[command(subcommand)]
    Station(StationCommand),
    /// Signed receipts written offline.
    #[command(subcommand)]
    Receipts(ReceiptsCommand),
    /// Vendor-signed SBOMs: hand one delivered with firmware to the
    /// registry, which verifies its signature and binds the versions it
    /// lists.
    #[command(subcommand)]
    Sbom(SbomCommand),
}

#[derive(Subcommand, Debug)]
enum SbomCommand {
    /// Upload a vendor-signed CycloneDX SBOM (JSON 1.5/1.6) and its
    /// detached signature (CMS, or a Sigstore bundle). The registry
    /// verifies the signature under the vendor's trust; the versions it
    /// lists are then bound (an image claimed at another version is
    /// rejected). Exit 0: recorded; 1: the registry refused it (the
    /// reason is printed); 2: usage or connection error.
    ///
    /// Example:
    ///   tollgate-inspect sbom push --registry http://registry:8080 --token $TOKEN \
    ///       --vendor acme --signature fw-1.5.0.cdx.json.p7s fw-1.5.0.cdx.json
    Push {
        /// Registry URL.
        #[arg(long, value_name = "URL")]
        registry: String,
        /// Registry bearer token (an inspector, procurement or admin token).
        #[arg(
            long,
            env = "TOLLGATE_TOKEN",
            value_name = "TOKEN",
            hide_env_values = true
        )]
        token: String,
        /// The vendor that signed it.
        #[arg(long)]
        vendor: String,
        /// The detached signature file.
        #[arg(long, value_name = "FILE")]
        signature: PathBuf,
        /// The SBOM file, exactly as signed.
        sbom: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum StationCommand {
    /// Make the station's P-256 signing key (PKCS #8 PEM, mode 0600) and
    /// its public key (KEY.pub). An admin registers the public key for
    /// this station's inspector token; receipts signed with it then carry
    /// the station's signature.
    ///
    /// Example:
    ///   tollgate-inspect station init --key /etc/tollgate/station.key
    ///   tollgate-registry station add --name line-3 --token-id 7 --public-key station.key.pub
    Init {
        /// Where to write the private key (KEY.pub gets the public key).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ReceiptsCommand {
    /// Upload signed receipts written by `verify-lot --report FILE
    /// --station-key KEY` (FILE.receipts.json). The registry records each
    /// envelope once, so a push that failed half-way can simply be run again.
    ///
    /// Example:
    ///   tollgate-inspect receipts push --registry http://registry:8080 \
    ///       --token $TOKEN lot-42.json.receipts.json
    Push {
        /// Registry URL.
        #[arg(long, value_name = "URL")]
        registry: String,
        /// Registry bearer token (the station's inspector token).
        #[arg(
            long,
            env = "TOLLGATE_TOKEN",
            value_name = "TOKEN",
            hide_env_values = true
        )]
        token: String,
        /// Signed-receipt files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum TrustCommand {
    /// Fetch the registry's signed trust bundle, verify it against the
    /// pinned registry certificate, and save it for offline use.
    ///
    /// Example:
    ///   tollgate-inspect trust pull --registry http://registry:8080 \
    ///       --token $TOKEN --registry-cert registry.pem --out trust-bundle.json
    ///   tollgate-inspect verify --trust trust-bundle.json --registry-cert registry.pem ...
    Pull {
        #[command(flatten)]
        source: TrustArgs,
        /// Where to save the bundle.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Where trust comes from: a file, or the registry.
#[derive(clap::Args, Debug, Clone)]
struct TrustArgs {
    /// Trust-policy file (JSON, docs/trust-policy.md), or a signed bundle
    /// saved by `trust pull` (then --registry-cert is required).
    #[arg(long, value_name = "FILE")]
    trust: Option<PathBuf>,
    /// Registry URL: fetch the signed trust bundle live.
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
    /// Registry bearer token.
    #[arg(
        long,
        env = "TOLLGATE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// The pinned registry certificate that signs trust bundles.
    #[arg(long, value_name = "FILE")]
    registry_cert: Option<PathBuf>,
    /// Folder keeping the highest bundle serial accepted (rollback
    /// protection). Default: $XDG_STATE_HOME/tollgate or ~/.local/state/tollgate.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// A new station (or one whose state was lost): no record of earlier
    /// bundles is needed; this bundle's serial becomes the starting point,
    /// and the output says so. Without it a missing record is an error, so
    /// deleting the state folder cannot silently disable rollback protection.
    #[arg(long)]
    trust_on_first_use: bool,
    /// With --registry-cert, also accept a plain (unsigned) policy file for
    /// --trust. Dangerous: nothing then proves the policy comes from the
    /// registry; a warning is printed.
    #[arg(long)]
    danger_trust_unsigned_policy: bool,
}

impl TrustArgs {
    fn source(&self) -> cli::registry::TrustSource {
        cli::registry::TrustSource {
            trust: self.trust.clone(),
            registry: self.registry.clone(),
            token: self.token.clone(),
            registry_cert: self.registry_cert.clone(),
            state_dir: self.state_dir.clone(),
            danger_unsigned: self.danger_trust_unsigned_policy,
            first_use: self.trust_on_first_use,
        }
    }
}

/// Posting receipts to the registry.
#[derive(clap::Args, Debug, Clone)]
struct RecordArgs {
    /// Post each verdict as a receipt to the registry (needs --registry and --token).
    #[arg(long)]
    record: bool,
    /// Station name for receipts (default: the host name).
    #[arg(long, value_name = "NAME")]
    station: Option<String>,
    /// Lot identifier for receipts.
    #[arg(long, value_name = "ID", default_value = "")]
    lot: String,
    /// Sign each receipt with this station key (from `station init`): an
    /// in-toto Statement with a SLSA verification summary, in a DSSE
    /// envelope. With verify-lot --report FILE the signed receipts are also
    /// written to FILE.receipts.json, for `receipts push` from an offline
    /// station.
    #[arg(long, value_name = "KEY", env = "TOLLGATE_STATION_KEY")]
    station_key: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    #[command(flatten)]
    source: TrustArgs,
    #[command(flatten)]
    record: RecordArgs,
    /// Vendor id the blob claims to come from.
    #[arg(long, value_name = "ID")]
    vendor: String,
    /// Component name the blob claims to be.
    #[arg(long, value_name = "NAME")]
    component: String,
    /// Component version (semantic version, checked against the rollback floor).
    #[arg(long, value_name = "VER")]
    version: String,
    /// Signature file: CMS, or a Sigstore bundle (recognised by content).
    /// Default: BLOB.p7s, BLOB.sig, BLOB.cms, BLOB.sigstore.json, BLOB.sigstore.
    #[arg(long, value_name = "SIG")]
    signature: Option<PathBuf>,
    /// Sigstore bundle (v0.1, v0.2, v0.3; default BLOB.sigstore.json, then BLOB.sigstore).
    #[arg(long, value_name = "FILE", conflicts_with = "signature")]
    bundle: Option<PathBuf>,
    /// Verify a Sigstore bundle against this digest instead of a BLOB
    /// (sha256:HEX or sha512:HEX), for images hashed elsewhere.
    #[arg(long, value_name = "ALG:HEX")]
    digest: Option<String>,
    /// Verification time (RFC 3339, e.g. 2026-10-01T00:00:00Z); default: now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also check that the boot stage of this product (from the trust
    /// policy) that loads the component can verify the signer key.
    #[arg(long, value_name = "ID")]
    product: Option<String>,
    /// The firmware blob (a regular file). Omit it with --digest.
    blob: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct LotArgs {
    #[command(flatten)]
    source: TrustArgs,
    #[command(flatten)]
    record: RecordArgs,
    /// Verification time (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Write the full JSON lot report here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Output format for standard output.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also check every blob against this product's boot stages.
    #[arg(long, value_name = "ID")]
    product: Option<String>,
    /// Manifest file (.csv, or JSON lines).
    manifest: PathBuf,
}

#[derive(clap::Args, Debug)]
struct ChainArgs {
    /// Trust anchors (PEM, several allowed, or one DER certificate).
    #[arg(long, value_name = "FILE")]
    anchors: PathBuf,
    /// Intermediate certificates that may help build the path.
    #[arg(long, value_name = "FILE")]
    intermediates: Option<PathBuf>,
    /// Certificate revocation list (DER or PEM); may be repeated.
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// Evaluation time (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Required extended key usage: codeSigning, timeStamping, serverAuth,
    /// clientAuth, any, or a dotted OID.
    #[arg(long, default_value = "codeSigning")]
    eku: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The certificate to check (PEM or DER).
    cert: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(a) => cli::verify::run(cli::verify::Options {
            source: a.source.source(),
            record: a.record.record,
            station: a.record.station,
            station_key: a.record.station_key,
            lot: a.record.lot,
            vendor: a.vendor,
            component: a.component,
            version: a.version,
            signature: a.signature,
            at: a.at,
            format: a.format,
            blob: a.blob,
            bundle: a.bundle,
            digest: a.digest,
            product: a.product,
        }),
        Command::VerifyLot(a) => cli::lot::run(cli::lot::Options {
            source: a.source.source(),
            record: a.record.record,
            station: a.record.station,
            station_key: a.record.station_key,
            lot_id: a.record.lot,
            at: a.at,
            report: a.report,
            jobs: a.jobs,
            format: a.format,
            manifest: a.manifest,
            product: a.product,
        }),
        Command::Chain(a) => cli::chain::run(cli::chain::Options {
            anchors: a.anchors,
            intermediates: a.intermediates,
            crls: a.crl,
            at: a.at,
            eku: a.eku,
            format: a.format,
            cert: a.cert,
        }),
        Command::Trust(TrustCommand::Pull { source, out }) => {
            let src = source.source();
            cli::registry::pull(&src, &out, time::OffsetDateTime::now_utc()).and_then(|serial| {
                cli::io::out(&format!(
                    "saved trust bundle serial {serial} to {}\n",
                    out.display()
                ))
                .map(|()| true)
            })
        }
        Command::Station(StationCommand::Init { key, force }) => cli::station::init(&key, force)
            .and_then(|keyid| {
                cli::io::out(&format!(
                    "station key written to {} (public key {}); key id {keyid}\n",
                    key.display(),
                    cli::station::public_path(&key).display()
                ))
                .map(|()| true)
            }),
        Command::Sbom(SbomCommand::Push {
            registry,
            token,
            vendor,
            signature,
            sbom,
        }) => cli::registry::push_sbom(&registry, &token, &vendor, &sbom, &signature)
            .and_then(|(ok, message)| cli::io::out(&format!("{message}\n")).map(|()| ok)),
        Command::Receipts(ReceiptsCommand::Push {
            registry,
            token,
            files,
        }) => cli::station::push(&registry, &token, &files).and_then(|(new, already)| {
            cli::io::out(&format!(
                "{new} receipts recorded, {already} were already recorded\n"
            ))
            .map(|()| true)
        }),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tollgate-inspect: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
