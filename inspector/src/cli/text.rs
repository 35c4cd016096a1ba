//! Human-readable rendering of reports.

use inspector::report::{Check, Outcome, Report, Verdict};
use std::fmt::Write;

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::Skip => "skip",
    }
}

fn check_line(out: &mut String, c: &Check) {
    let _ = writeln!(
        out,
        "    [{}] {:<17} {}",
        mark(c.outcome),
        c.id.name(),
        c.reason
    );
}

/// Renders one report.
pub fn report(r: &Report) -> String {
    let mut out = String::new();
    let verdict = match r.verdict {
        Verdict::Accept => "ACCEPT",
        Verdict::Reject => "REJECT",
    };
    let _ = writeln!(
        out,
        "{verdict} {} (vendor {}, component {}, version {})",
        r.blob.path.as_deref().unwrap_or("blob"),
        r.vendor,
        r.component,
        r.version
    );
    let _ = writeln!(out, "  {}", r.summary);
    if let (Some(sha), Some(size)) = (&r.blob.sha256, r.blob.size) {
        let _ = writeln!(out, "  blob sha256 {sha} ({size} bytes)");
    }
    let _ = writeln!(out, "  verified at {}", r.verification_time);
    let _ = writeln!(out, "  checks:");
    for c in &r.checks {
        check_line(&mut out, c);
    }
    for s in &r.signers {
        let who = s
            .certificate
            .as_ref()
            .map(|c| c.subject.as_str())
            .unwrap_or("(signer certificate not found)");
        let _ = writeln!(
            out,
            "  signer {}: {who} [{}]",
            s.index + 1,
            if s.accepted { "accepted" } else { "rejected" }
        );
        if let Some(t) = &s.signing_time {
            let source = match t.source {
                inspector::report::TimeSource::Timestamp => "trusted timestamp",
                inspector::report::TimeSource::VerificationTime => {
                    "verification time, no trusted timestamp"
                }
            };
            let _ = writeln!(out, "    signing time {} ({source})", t.time);
        }
        for c in &s.checks {
            check_line(&mut out, c);
        }
    }
    out
}
