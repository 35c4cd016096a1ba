//! The dashboard chart: inspections per day by verdict, as inline SVG drawn
//! on the server (no script, no external resource).

use std::fmt::Write;

/// One day's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Day {
    /// Accepted blobs.
    pub accepted: i64,
    /// Rejected blobs.
    pub rejected: i64,
}

/// Draws stacked bars for `days` (oldest first) labelled by `labels`.
pub fn inspections_svg(days: &[Day], labels: &[String]) -> String {
    let n = days.len().max(1);
    let (w, h, left, bottom, top) = (720.0_f64, 220.0_f64, 36.0_f64, 24.0_f64, 10.0_f64);
    let max = days
        .iter()
        .map(|d| d.accepted + d.rejected)
        .max()
        .unwrap_or(0)
        .max(1);
    // A round axis maximum.
    let step = nice_step(max);
    let axis_max = ((max + step - 1) / step) * step;
    let plot_h = h - bottom - top;
    let slot = (w - left) / n as f64;
    let bar = (slot * 0.7).max(1.0);
    let y = |v: i64| top + plot_h - (v as f64 / axis_max as f64) * plot_h;
    let mut s = String::new();
    let total: i64 = days.iter().map(|d| d.accepted + d.rejected).sum();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="Inspections per day over the last {n} days: {total} in all"><title>Inspections per day, last {n} days</title>"#
    );
    let mut tick = 0;
    while tick <= axis_max {
        let ty = y(tick);
        let _ = write!(
            s,
            r#"<line x1="{left}" x2="{w}" y1="{ty:.1}" y2="{ty:.1}"/><text x="{}" y="{:.1}" text-anchor="end">{tick}</text>"#,
            left - 4.0,
            ty + 3.0
        );
        tick += step;
    }
    for (i, d) in days.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar) / 2.0;
        let acc_top = y(d.accepted);
        let rej_top = y(d.accepted + d.rejected);
        let label = labels.get(i).map(String::as_str).unwrap_or("");
        if d.accepted > 0 {
            let _ = write!(
                s,
                r#"<rect class="accept" x="{x:.1}" y="{acc_top:.1}" width="{bar:.1}" height="{:.1}"><title>{label}: {} accepted</title></rect>"#,
                y(0) - acc_top,
                d.accepted
            );
        }
        if d.rejected > 0 {
            let _ = write!(
                s,
                r#"<rect class="reject" x="{x:.1}" y="{rej_top:.1}" width="{bar:.1}" height="{:.1}"><title>{label}: {} rejected</title></rect>"#,
                acc_top - rej_top,
                d.rejected
            );
        }
        if i % 5 == 0 || i + 1 == days.len() {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{label}</text>"#,
                x + bar / 2.0,
                h - 8.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn nice_step(max: i64) -> i64 {
    let raw = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powi(raw.log10().floor() as i32);
    let n = raw / mag;
    let nice = if n <= 1.0 {
        1.0
    } else if n <= 2.0 {
        2.0
    } else if n <= 5.0 {
        5.0
    } else {
        10.0
    };
    ((nice * mag) as i64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_day_and_labels_are_escaped_by_construction() {
        let days = vec![
            Day {
                accepted: 3,
                rejected: 1,
            },
            Day::default(),
            Day {
                accepted: 0,
                rejected: 8,
            },
        ];
        let labels = vec![
            "11-01".to_string(),
            "11-02".to_string(),
            "11-03".to_string(),
        ];
        let svg = inspections_svg(&days, &labels);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"accept\"").count(), 1);
        assert_eq!(svg.matches("class=\"reject\"").count(), 2);
        assert!(svg.contains("12 in all"));
        assert!(svg.contains("11-03: 8 rejected"));
        assert_eq!(nice_step(8), 2);
        assert_eq!(nice_step(1000), 500);
        assert_eq!(nice_step(1), 1);
        let empty = inspections_svg(&[], &[]);
        assert!(empty.contains("0 in all"));
    }
}
