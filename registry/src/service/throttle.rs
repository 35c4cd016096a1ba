//! Sign-in throttling: per account and per address, in the database (so
//! every registry process over it applies the same limit). Five failures in
//! a row are free; after that each failure doubles the wait (1 s, 2 s,
//! 4 s, … at most 15 minutes). While a key waits, sign-in is refused
//! without looking at the password; once the wait is over the right
//! password works and clears the count. Each wait that starts is audited.

use super::audit;
use super::{Conn, ServiceResult};
use diesel::prelude::*;
use schema::schema::login_throttle;

/// Failures in a row before back-off starts.
pub const FREE_FAILURES: i64 = 5;
/// The longest wait, in seconds.
pub const MAX_WAIT: i64 = 15 * 60;

/// The keys of one sign-in attempt: the account (when a user name was
/// given) and the client address.
pub fn keys(username: &str, address: &str) -> Vec<String> {
    let mut k = vec![format!("addr:{address}")];
    let u = username.trim();
    if !u.is_empty() {
        k.push(format!("user:{}", u.to_lowercase()));
    }
    k
}

/// Milliseconds since the Unix epoch (the waits start at one second, so
/// whole seconds would round the first one away).
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
    )
    .unwrap_or(i64::MAX)
}

/// Whole seconds (rounded up) the attempt must still wait at `now_ms`
/// (0 when it may go ahead).
pub fn wait(c: &mut Conn, keys: &[String], now_ms: i64) -> ServiceResult<i64> {
    let until: Option<i64> = login_throttle::table
        .filter(login_throttle::key.eq_any(keys))
        .select(diesel::dsl::max(login_throttle::locked_until))
        .first(c)?;
    let left = until.map(|u| u - now_ms).unwrap_or(0);
    Ok(if left > 0 { (left + 999) / 1000 } else { 0 })
}

/// The wait after `failures` failures in a row.
pub fn backoff(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exp = u32::try_from(failures - FREE_FAILURES)
        .unwrap_or(u32::MAX)
        .min(20);
    (1i64 << exp).min(MAX_WAIT)
}

/// Counts a failed attempt on every key; audits a wait that starts.
/// `locked_until` is in milliseconds.
pub fn failed(c: &mut Conn, keys: &[String], now_ms: i64) -> ServiceResult<()> {
    super::transaction(c, |c| {
        for key in keys {
            let before: Option<i64> = login_throttle::table
                .find(key)
                .select(login_throttle::failures)
                .first(c)
                .optional()?;
            let failures = before.unwrap_or(0) + 1;
            let wait = backoff(failures);
            let row = (
                login_throttle::key.eq(key),
                login_throttle::failures.eq(failures),
                login_throttle::locked_until.eq(now_ms + wait * 1000),
            );
            if before.is_some() {
                diesel::update(login_throttle::table.find(key))
                    .set((
                        login_throttle::failures.eq(failures),
                        login_throttle::locked_until.eq(now_ms + wait * 1000),
                    ))
                    .execute(c)?;
            } else {
                diesel::insert_into(login_throttle::table)
                    .values(row)
                    .execute(c)?;
            }
            if wait > 0 {
                audit::begin_change(c, false)?;
                audit::record(
                    c,
                    "sign-in throttle",
                    "sign-in-throttled",
                    "login",
                    key,
                    None::<&()>,
                    Some(&serde_json::json!({"failures": failures, "wait_seconds": wait})),
                )?;
            }
        }
        Ok(())
    })
}

/// A successful sign-in clears its keys.
pub fn succeeded(c: &mut Conn, keys: &[String]) -> ServiceResult<()> {
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq_any(keys))).execute(c)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_the_wait_doubles_up_to_fifteen_minutes() {
        let waits: Vec<i64> = (1..=9).map(backoff).collect();
        assert_eq!(waits, [0, 0, 0, 0, 1, 2, 4, 8, 16]);
        assert_eq!(backoff(40), MAX_WAIT);
        assert_eq!(backoff(i64::MAX), MAX_WAIT);
    }
}
