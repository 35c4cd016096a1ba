//! `tollgate-registry`: serve the registry, manage tokens, verify the audit log.

use actix_web::{HttpServer, web};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use registry::key::RegistryKey;
use registry::service::{self, Role};
use registry::state::AppState;
use std::path::PathBuf;
use std::process::ExitCode;

/// The Tollgate registry: vendors, certificates, contract terms, floors,
/// revocations, receipts and the signed trust bundle.
///
/// The database is `DATABASE_URL`: a SQLite file path (default
/// `tollgate.db` in the working directory) or `postgres://…`.
#[derive(Parser)]
#[command(name = "tollgate-registry", version)]
struct Cli {
    /// Database URL (SQLite path, or postgres://user@host/db).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "tollgate.db",
        global = true
    )]
    database_url: String,
    /// Log format on standard error: `text` for people, `json` (one JSON
    /// object per line, with the request id of every request) for log
    /// collectors. The level comes from RUST_LOG (default info).
    #[arg(long, value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
    /// How many people each dangerous change needs: `default` (2 to lower
    /// a floor, revoke, un-retire, register an anchor, record a shared CA
    /// or change a role; 1 for the rest; proposals expire after 72 h),
    /// `single` (every change applies at once: one operator), or a list
    /// over the defaults, e.g. `revoke=3,lower-floor=2,ttl-hours=48`.
    /// Actions: lower-floor, raise-floor, revoke, unretire, register-anchor,
    /// register-intermediate, shared-ca, change-role.
    #[arg(
        long,
        env = "TOLLGATE_APPROVALS",
        default_value = "default",
        global = true,
        value_parser = parse_approvals
    )]
    approvals: registry::service::approvals::ApprovalPolicy,
    /// The author release SBOMs name (BSI TR-03183-2 asks for the SBOM
    /// author's e-mail or URL): `"Example GmbH <psirt@example.com>"`.
    /// Unset: the registry names itself.
    #[arg(long, env = "TOLLGATE_SBOM_AUTHOR", global = true)]
    sbom_author: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (creates the database, the registry key and a first
    /// admin token on first start).
    ///
    /// Example: tollgate-registry serve --bind 127.0.0.1:8080
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Folder holding the registry key and certificate (back it up).
        #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = ".")]
        data_dir: PathBuf,
        /// How long a trust bundle stays fresh, in hours.
        #[arg(long, default_value_t = 168)]
        bundle_ttl_hours: u64,
        /// Worker threads (default: one per core).
        #[arg(long)]
        workers: Option<usize>,
        /// Judge receipt evidence at this instant (RFC 3339) instead of the
        /// clock. For reproducing a past decision and for tests only: a
        /// production registry judges at the time it receives evidence.
        #[arg(long, value_parser = parse_pin_time)]
        pin_time: Option<time::OffsetDateTime>,
    },
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspection-station keys (signed receipts).
    #[command(subcommand)]
    Station(StationCommand),
    /// Audit-log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Web-page users (sign-in with a user name and password).
    #[command(subcommand)]
    User(UserCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Revoke a certificate (an anchor, an intermediate or a leaf signer),
    /// through the same service function as the API and the pages: audited
    /// as the local operator, the brick check included.
    ///
    /// Example: tollgate-registry revoke --certificate old-signer.pem --reason keyCompromise --invalidity-date 2026-08-16T00:00:00Z
    Revoke {
        /// The certificate (PEM or DER file).
        #[arg(long)]
        certificate: PathBuf,
        /// RFC 5280 reason (keyCompromise, cACompromise, superseded, …).
        #[arg(long)]
        reason: String,
        /// From when the key is untrustworthy (RFC 3339); signatures with a
        /// trusted timestamp before it stay valid. Absent: for all time.
        #[arg(long)]
        invalidity_date: Option<String>,
        /// Apply even if a product would be left without a bootable key or image.
        #[arg(long)]
        confirm_brick: bool,
    },
    /// Import a CRL (PEM or DER file) signed by a registered CA, through the
    /// same service function as the API and the pages (brick check included).
    ///
    /// Example: tollgate-registry import-crl --crl acme-int.crl.pem
    ImportCrl {
        /// The CRL file.
        #[arg(long)]
        crl: PathBuf,
        /// Apply even if a product would be left without a bootable key or image.
        #[arg(long)]
        confirm_brick: bool,
    },
    /// Export a product's allowlist (signed) without the service running.
    ///
    /// Example: tollgate-registry export --product gw-100 --format efi-db --out db.esl
    /// writes db.esl and db.esl.sig (DER ECDSA P-256/SHA-256 by the registry key).
    Export {
        /// Product id.
        #[arg(long)]
        product: String,
        /// json, efi-db, efi-dbx, c-header or diff.
        #[arg(long, default_value = "json")]
        format: String,
        /// Output file (its signature goes to FILE.sig).
        #[arg(long)]
        out: PathBuf,
        /// Folder holding the registry key.
        #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = ".")]
        data_dir: PathBuf,
    },
    /// Check a product release under the current trust state: every
    /// component present, each image proven by registry-verified evidence,
    /// floors met, in its stage's allowlist, signed by a key the stage
    /// trusts; prints every problem (exit 1), or signs the release
    /// attestation (exit 0). Audited as the local operator.
    ///
    /// Example: tollgate-registry release-check --product gw-1 --release 2026.12.0
    ReleaseCheck {
        /// Product id.
        #[arg(long)]
        product: String,
        /// Release version.
        #[arg(long)]
        release: String,
        /// Folder holding the registry key.
        #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = ".")]
        data_dir: PathBuf,
    },
    /// Write the CRA evidence pack of a release (a ZIP: SBOM, release
    /// attestation, update-integrity description, allowlists, vendors'
    /// PSIRT contacts and support periods, receipts, history, a printable
    /// summary, a signed manifest) and its detached signature (FILE.sig).
    ///
    /// Example: tollgate-registry evidence --product gw-1 --release 2026.12.0 --out gw-1-2026.12.0.zip
    Evidence {
        /// Product id.
        #[arg(long)]
        product: String,
        /// Release version (its check must have passed).
        #[arg(long)]
        release: String,
        /// Output file (its signature goes to FILE.sig).
        #[arg(long)]
        out: PathBuf,
        /// Folder holding the registry key.
        #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = ".")]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (shown once).
    ///
    /// Example: tollgate-registry token create --role inspector --name station-7
    Create {
        /// Role: admin, procurement, security, inspector, auditor.
        #[arg(long, value_enum)]
        role: Role,
        /// A name people recognise.
        #[arg(long)]
        name: String,
    },
    /// List tokens: id, name, role, created, state (never the secrets).
    List,
    /// Revoke a token by id (see `token list`). Audited as the local operator;
    /// a running registry stops accepting it within one second (at once when
    /// revoked through the API). The last working admin token is kept.
    ///
    /// Example: tollgate-registry token revoke 7
    Revoke {
        /// Token id.
        id: i64,
    },
}

#[derive(Subcommand)]
enum StationCommand {
    /// Register a station's public key (from `tollgate-inspect station
    /// init`) and bind it to the station's inspector token (see `token
    /// list`). Receipts signed with the key are then accepted from that
    /// token only. Audited as the local operator.
    ///
    /// Example: tollgate-registry station add --name line-3 --token-id 7 --public-key station.key.pub
    Add {
        /// Station name (its signed receipts must name it).
        #[arg(long)]
        name: String,
        /// Id of the station's inspector token.
        #[arg(long)]
        token_id: i64,
        /// The public key file (PEM).
        #[arg(long)]
        public_key: PathBuf,
    },
    /// List station keys: id, name, token, key id, state.
    List,
    /// Retire a station key by id: its envelopes are refused from now on.
    ///
    /// Example: tollgate-registry station retire 3 --reason "station decommissioned"
    Retire {
        /// Station key id.
        id: i64,
        /// Why (audited).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from TOLLGATE_PASSWORD, or else
    /// the first line of standard input (at least 12 characters); it is
    /// stored as an Argon2id hash.
    ///
    /// Example: printf '%s\n' "$PASSWORD" | tollgate-registry user create --username ana --role procurement
    Create {
        /// User name.
        #[arg(long)]
        username: String,
        /// Role: admin, procurement, security, inspector, auditor.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// List users: name, role, created, active/disabled (never the password hash).
    List,
    /// Refuse a user's sign-in from now on and end their open sessions
    /// (someone left, a password leaked). Audited; undo with `user enable`.
    ///
    /// Example: tollgate-registry user disable ana
    Disable {
        /// User name.
        username: String,
    },
    /// Let a disabled user sign in again. Audited.
    Enable {
        /// User name.
        username: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chains (the audit log and the receipt chain);
    /// exit 1 and name the rows if one is broken. With --checkpoint, also
    /// prove that both still extend the checkpoint signed into an earlier
    /// trust bundle (one a station or auditor kept): a history rewritten
    /// since, even with every hash recomputed, is detected.
    ///
    /// Example: tollgate-registry audit verify --checkpoint bundle-2026-11.json --registry-cert registry.pem
    Verify {
        /// A signed trust bundle saved earlier (`tollgate-inspect trust
        /// pull`, or `GET /api/v1/trust-bundle`).
        #[arg(long, value_name = "FILE", requires = "registry_cert")]
        checkpoint: Option<PathBuf>,
        /// The registry certificate the bundle must be signed with (the one
        /// stations pin).
        #[arg(long, value_name = "FILE")]
        registry_cert: Option<PathBuf>,
    },
}

fn parse_approvals(s: &str) -> Result<registry::service::approvals::ApprovalPolicy, String> {
    registry::service::approvals::ApprovalPolicy::parse(s)
}

fn parse_pin_time(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("'{s}' is not an RFC 3339 time: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).init(),
    }
    let json_logs = matches!(cli.log_format, LogFormat::Json);
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if json_logs => {
            tracing::error!(error = %format!("{e:#}"), "tollgate-registry stopped");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("tollgate-registry: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::ReleaseCheck {
            product,
            release,
            data_dir,
        } => {
            let mut conn = open_db(&cli.database_url)?;
            anyhow::ensure!(
                data_dir.join(registry::key::KEY_FILE).exists(),
                "no registry key in {} (start the service once, or give --data-dir)",
                data_dir.display()
            );
            let (key, _) = RegistryKey::load_or_create(&data_dir)?;
            let outcome = service::releases::check(&mut conn, &local(), &key, &product, &release)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if outcome.ok {
                println!(
                    "PASS release {release} of {product}: {} components proven, attestation signed",
                    outcome.components.len()
                );
                for c in &outcome.components {
                    println!(
                        "  {}/{} {} {} signed by {}",
                        c.stage, c.component, c.version, c.sha256, c.signer
                    );
                }
            } else {
                println!("BLOCKED release {release} of {product}:");
                for p in &outcome.problems {
                    println!("  - {p}");
                }
            }
            Ok(outcome.ok)
        }
        Command::Evidence {
            product,
            release,
            out,
            data_dir,
        } => {
            let mut conn = open_db(&cli.database_url)?;
            anyhow::ensure!(
                data_dir.join(registry::key::KEY_FILE).exists(),
                "no registry key in {} (start the service once, or give --data-dir)",
                data_dir.display()
            );
            let (key, _) = RegistryKey::load_or_create(&data_dir)?;
            let (body, _) = service::cra::evidence_pack(
                &mut conn,
                &local(),
                &key,
                &product,
                &release,
                cli.sbom_author.as_deref(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&out, &body)
                .with_context(|| format!("cannot write '{}'", out.display()))?;
            let mut sig_path = out.as_os_str().to_owned();
            sig_path.push(".sig");
            std::fs::write(&sig_path, key.sign(&body)).context("cannot write the signature")?;
            println!(
                "wrote {} ({} bytes) and its signature",
                out.display(),
                body.len()
            );
            Ok(true)
        }
        Command::Export {
            product,
            format,
            out,
            data_dir,
        } => {
            let mut conn = open_db(&cli.database_url)?;
            let key_file = data_dir.join(registry::key::KEY_FILE);
            anyhow::ensure!(
                key_file.exists(),
                "no registry key in {} (start the service once, or give --data-dir)",
                data_dir.display()
            );
            let (key, _) = RegistryKey::load_or_create(&data_dir)?;
            let format = service::products::ExportFormat::parse(Some(&format))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (body, _) = service::products::export(&mut conn, &local(), &product, format, None)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&out, &body)
                .with_context(|| format!("cannot write '{}'", out.display()))?;
            let mut sig_path = out.as_os_str().to_owned();
            sig_path.push(".sig");
            std::fs::write(&sig_path, key.sign(&body)).context("cannot write the signature")?;
            println!(
                "wrote {} ({} bytes) and its signature",
                out.display(),
                body.len()
            );
            Ok(true)
        }
        Command::Revoke {
            certificate,
            reason,
            invalidity_date,
            confirm_brick,
        } => {
            let bytes = read_bounded(&certificate, 1024 * 1024)?;
            let der = service::certificates::one_certificate(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", certificate.display()))?
                .der
                .clone();
            let body = service::revocations::RevocationRequest {
                pem: None,
                der_base64: Some(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    der,
                )),
                reason,
                invalidity_date,
                confirm_brick,
            };
            let mut conn = open_db(&cli.database_url)?;
            // The operator's command line is held to the same approvals as
            // the API: with the defaults this records a proposal.
            let change = service::approvals::Change::RevokeCertificate { request: body };
            match service::approvals::submit(&mut conn, &local(), &cli.approvals, change)
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                service::approvals::Submitted::Applied(a) => {
                    let field = |k: &str| {
                        a.view
                            .get(k)
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                            .to_string()
                    };
                    println!("revoked: {} ({})", field("subject"), field("reason"));
                }
                service::approvals::Submitted::Pending(p) => {
                    println!(
                        "proposal {} recorded: {} (needs {} approvals; approve at /proposals or POST /api/v1/proposals/{}/approve)",
                        p.id, p.summary, p.approvals_required, p.id
                    );
                }
            }
            Ok(true)
        }
        Command::ImportCrl { crl, confirm_brick } => {
            let bytes = read_bounded(&crl, 64 * 1024 * 1024)?;
            let b64 = base64::engine::general_purpose::STANDARD;
            let der = match std::str::from_utf8(&bytes)
                .ok()
                .filter(|t| t.contains("-----BEGIN"))
            {
                Some(pem) => service::revocations::crl_der(Some(pem), None)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", crl.display()))?,
                None => bytes,
            };
            let body = service::revocations::CrlImport {
                pem: None,
                der_base64: Some(base64::Engine::encode(&b64, der)),
                confirm_brick,
            };
            let mut conn = open_db(&cli.database_url)?;
            let r = service::revocations::import_crl(&mut conn, &local(), body)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "CRL of {} imported: {} new revocations, {} already present",
                r.issuer, r.imported, r.already_present
            );
            Ok(true)
        }
        Command::Openapi => {
            println!("{}", registry::openapi().to_pretty_json()?);
            Ok(true)
        }
        Command::Token(TokenCommand::Create { role, name }) => {
            let mut conn = open_db(&cli.database_url)?;
            let body = service::tokens::TokenRequest { name, role };
            let created = service::tokens::create(&mut conn, &local(), body)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", created.token);
            Ok(true)
        }
        Command::Token(TokenCommand::List) => {
            let mut conn = open_db(&cli.database_url)?;
            let rows =
                service::tokens::list(&mut conn, &local()).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{:>5}  {:<12} {:<21} {:<8} name",
                "id", "role", "created", "state"
            );
            for t in rows {
                let state = if t.revoked { "revoked" } else { "active" };
                println!(
                    "{:>5}  {:<12} {:<21} {:<8} {}",
                    t.id, t.role, t.created_at, state, t.name
                );
            }
            Ok(true)
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let mut conn = open_db(&cli.database_url)?;
            let t = service::tokens::revoke(&mut conn, &local(), id)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("token {} '{}' ({}) is revoked", t.id, t.name, t.role);
            Ok(true)
        }
        Command::Station(StationCommand::Add {
            name,
            token_id,
            public_key,
        }) => {
            let mut conn = open_db(&cli.database_url)?;
            let pem = std::fs::read_to_string(&public_key)
                .with_context(|| format!("cannot read '{}'", public_key.display()))?;
            let body = service::stations::StationKeyRequest {
                name,
                token_id,
                public_key_pem: pem,
            };
            let k = service::stations::register(&mut conn, &local(), body)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "station '{}' registered (key id {}), bound to token {}",
                k.name, k.keyid, k.token_id
            );
            Ok(true)
        }
        Command::Station(StationCommand::List) => {
            let mut conn = open_db(&cli.database_url)?;
            let rows =
                service::stations::list(&mut conn, &local()).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{:>5}  {:>6}  {:<8} {:<64}  name",
                "id", "token", "state", "key id"
            );
            for k in rows {
                let state = if k.retired_at.is_some() {
                    "retired"
                } else {
                    "active"
                };
                println!(
                    "{:>5}  {:>6}  {:<8} {:<64}  {}",
                    k.id, k.token_id, state, k.keyid, k.name
                );
            }
            Ok(true)
        }
        Command::Station(StationCommand::Retire { id, reason }) => {
            let mut conn = open_db(&cli.database_url)?;
            let k = service::stations::retire(
                &mut conn,
                &local(),
                id,
                service::stations::RetireRequest { reason },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("station key '{}' ({}) is retired", k.name, k.keyid);
            Ok(true)
        }
        Command::User(UserCommand::List) => {
            let mut conn = open_db(&cli.database_url)?;
            let users =
                service::users::list(&mut conn, &local()).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{:<12} {:<21} {:<9} user", "role", "created", "state");
            for u in users {
                let state = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<12} {:<21} {:<9} {}",
                    u.role, u.created_at, state, u.username
                );
            }
            Ok(true)
        }
        Command::User(UserCommand::Disable { username }) => {
            set_user_disabled(&cli.database_url, &username, true)
        }
        Command::User(UserCommand::Enable { username }) => {
            set_user_disabled(&cli.database_url, &username, false)
        }
        Command::User(UserCommand::Create { username, role }) => {
            let password = match std::env::var("TOLLGATE_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("cannot read the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let mut conn = open_db(&cli.database_url)?;
            service::users::create(&mut conn, &local(), &username, &password, role)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("user '{username}' created with role {}", role.as_str());
            Ok(true)
        }
        Command::Audit(AuditCommand::Verify {
            checkpoint,
            registry_cert,
        }) => {
            let mut conn = open_db(&cli.database_url)?;
            let v =
                service::audit::verify(&mut conn, &local()).map_err(|e| anyhow::anyhow!("{e}"))?;
            if v.intact {
                println!(
                    "audit log intact: {} rows, {} chained receipts, hash chains verified",
                    v.rows, v.receipts
                );
            } else {
                println!(
                    "audit log BROKEN ({} rows, {} receipts checked):",
                    v.rows, v.receipts
                );
                for p in &v.problems {
                    println!("  row {}: {}", p.id, p.problem);
                }
            }
            let (Some(file), Some(cert)) = (checkpoint, registry_cert) else {
                return Ok(v.intact);
            };
            let bytes = std::fs::read(&file)
                .with_context(|| format!("cannot read '{}'", file.display()))?;
            let cert_bytes = std::fs::read(&cert)
                .with_context(|| format!("cannot read '{}'", cert.display()))?;
            let pinned = inspector::cert::certificates_from_bytes(&cert_bytes)
                .map_err(|e| anyhow::anyhow!("'{}': {e}", cert.display()))?
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("no certificate in '{}'", cert.display()))?;
            let payload =
                inspector::bundle::verify_bundle_signature(&bytes, &pinned).map_err(|e| {
                    anyhow::anyhow!(
                        "'{}' is not a bundle signed by this registry: {e}",
                        file.display()
                    )
                })?;
            let doc: inspector::policy::PolicyDocument = serde_json::from_slice(&payload)
                .with_context(|| format!("'{}': the bundle's payload", file.display()))?;
            let cp = doc.checkpoint.ok_or_else(|| {
                anyhow::anyhow!(
                    "'{}' carries no audit checkpoint (a bundle from before checkpoints)",
                    file.display()
                )
            })?;
            let r = service::audit::verify_checkpoint(&mut conn, &local(), &cp)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if r.extends {
                println!(
                    "the registry's history extends the checkpoint of bundle serial {} ({} audit entries, {} receipts then; {} and {} now)",
                    doc.serial.unwrap_or(0),
                    cp.audit_entries,
                    cp.receipt_entries,
                    r.audit_entries,
                    r.receipt_entries
                );
            } else {
                println!(
                    "the registry's history does NOT extend the checkpoint of bundle serial {}:",
                    doc.serial.unwrap_or(0)
                );
                for p in &r.problems {
                    println!("  {p}");
                }
            }
            Ok(v.intact && r.extends)
        }
        Command::Serve {
            bind,
            data_dir,
            bundle_ttl_hours,
            workers,
            pin_time,
        } => {
            let workers = workers.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            });
            let pool = schema::connect(&cli.database_url, u32::try_from(workers * 4).unwrap_or(16))
                .context("cannot open the database")?;
            let (key, created) = RegistryKey::load_or_create(&data_dir)?;
            if created {
                tracing::warn!(
                    data_dir = %data_dir.display(),
                    "created the registry signing key (back up {} and {})",
                    registry::key::KEY_FILE,
                    registry::key::CERT_FILE
                );
            }
            {
                let mut conn = pool.get().context("cannot open the database")?;
                if !service::tokens::any(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))? {
                    let token = service::tokens::bootstrap(&mut conn, "first-admin", Role::Admin)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("first start: admin token (shown once, keep it safe):\n{token}");
                }
            }
            let mut state = AppState::new(
                pool,
                key,
                std::time::Duration::from_secs(bundle_ttl_hours * 3600),
            );
            state.pin_time = pin_time;
            state.approvals = cli.approvals.clone();
            state.sbom_author = cli.sbom_author.clone();
            let state = web::Data::new(state);
            let backend =
                if schema::Backend::from_url(&cli.database_url) == schema::Backend::Postgres {
                    "PostgreSQL"
                } else {
                    "SQLite"
                };
            let server = HttpServer::new(move || registry::app(state.clone()))
                .workers(workers)
                .bind(&bind)
                .with_context(|| format!("cannot listen on {bind}"))?;
            for addr in server.addrs() {
                println!(
                    "Tollgate registry listening on http://{addr}/ ({backend}); API docs at http://{addr}/api/docs/"
                );
            }
            actix_web::rt::System::new().block_on(server.run())?;
            Ok(true)
        }
    }
}

/// The operating-system user, for audit entries made from the command line.
fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// The command line's actor: the local operator, with full authority.
fn local() -> service::Actor {
    service::Actor::local(&whoami())
}

/// `user disable` / `user enable`.
fn set_user_disabled(database_url: &str, username: &str, disable: bool) -> anyhow::Result<bool> {
    let mut conn = open_db(database_url)?;
    let u = service::users::set_disabled(&mut conn, &local(), username, disable)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = if u.disabled {
        "disabled (open sessions ended)"
    } else {
        "active"
    };
    println!("user '{}' ({}) is {state}", u.username, u.role);
    Ok(true)
}

/// Reads a file of at most `limit` bytes.
fn read_bounded(path: &std::path::Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let f =
        std::fs::File::open(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let mut bytes = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    anyhow::ensure!(
        bytes.len() as u64 <= limit,
        "'{}' is larger than {limit} bytes",
        path.display()
    );
    Ok(bytes)
}

/// One database connection for a command-line task (migrations run on connect).
fn open_db(database_url: &str) -> Result<schema::PooledConn> {
    let pool = schema::connect(database_url, 1).context("cannot open the database")?;
    pool.get().context("cannot open the database")
}
