// Tollgate patch (see third_party/rustls-webpki/TOLLGATE-PATCH.md):
// directoryName and rfc822Name name constraints (RFC 5280 section 4.2.1.10),
// which upstream rejects outright (rustls/webpki#19).
//
// Permission to use, copy, modify, and/or distribute this software for any
// purpose with or without fee is hereby granted, provided that the above
// copyright notice and this permission notice appear in all copies.

use crate::der;
use crate::error::Error;

/// Whether the distinguished name `base` (a name constraint: the full Name
/// SEQUENCE) is a prefix of `presented` (the contents of a Name SEQUENCE,
/// as webpki keeps a certificate's subject), RDN by RDN, comparing
/// attribute values as RFC 5280 section 7.1 asks (string types compared
/// case-insensitively with white space folded; anything else byte for
/// byte). Without `alloc` every directoryName constraint fails closed, as
/// upstream does.
pub(super) fn directory_name_matches(
    presented: untrusted::Input<'_>,
    base: untrusted::Input<'_>,
) -> Result<bool, Error> {
    let base = base.read_all(Error::BadDer, |r| der::expect_tag(r, der::Tag::Sequence))?;
    // A directoryName from a subjectAltName is a whole Name (SEQUENCE TLV);
    // a certificate's subject is kept as the SEQUENCE's contents, which
    // start with a SET (0x31), never 0x30.
    let presented = match presented.as_slice_less_safe().first() {
        Some(0x30) => presented.read_all(Error::BadDer, |r| der::expect_tag(r, der::Tag::Sequence))?,
        _ => presented,
    };
    let mut presented = untrusted::Reader::new(presented);
    let mut base = untrusted::Reader::new(base);
    while !base.at_end() {
        let constraint_rdn = expect_set(&mut base)?;
        if presented.at_end() {
            return Ok(false);
        }
        let presented_rdn = expect_set(&mut presented)?;
        if !rdn_equal(presented_rdn, constraint_rdn)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether a subject name has no RDNs.
pub(super) fn is_empty_name(presented: untrusted::Input<'_>) -> bool {
    presented.is_empty()
}

/// The emailAddress attributes (PKCS #9, 1.2.840.113549.1.9.1) of a
/// subject name, to which rfc822Name constraints apply too (RFC 5280
/// section 4.2.1.10).
pub(super) fn subject_email_addresses<'a>(
    presented: untrusted::Input<'a>,
    mut each: impl FnMut(untrusted::Input<'a>) -> Option<Result<(), Error>>,
) -> Option<Result<(), Error>> {
    const EMAIL_ADDRESS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
    let mut reader = untrusted::Reader::new(presented);
    while !reader.at_end() {
        let rdn = match expect_set(&mut reader) {
            Ok(rdn) => rdn,
            Err(e) => return Some(Err(e)),
        };
        let mut avas = untrusted::Reader::new(rdn);
        while !avas.at_end() {
            let (oid, tag, value) = match read_ava(&mut avas) {
                Ok(ava) => ava,
                Err(e) => return Some(Err(e)),
            };
            if oid.as_slice_less_safe() == EMAIL_ADDRESS && tag == IA5_STRING {
                if let Some(result) = each(value) {
                    return Some(result);
                }
            }
        }
    }
    None
}

/// One RDN: a SET OF AttributeTypeAndValue.
fn expect_set<'a>(reader: &mut untrusted::Reader<'a>) -> Result<untrusted::Input<'a>, Error> {
    const SET: u8 = 0x31;
    let (tag, value) = der::read_tag_and_get_value(reader)?;
    if tag != SET {
        return Err(Error::BadDer);
    }
    Ok(value)
}

const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const TELETEX_STRING: u8 = 0x14;
const IA5_STRING: u8 = 0x16;
const UNIVERSAL_STRING: u8 = 0x1c;
const BMP_STRING: u8 = 0x1e;

type Ava<'a> = (untrusted::Input<'a>, u8, untrusted::Input<'a>);

fn read_ava<'a>(reader: &mut untrusted::Reader<'a>) -> Result<Ava<'a>, Error> {
    let ava = der::expect_tag(reader, der::Tag::Sequence)?;
    ava.read_all(Error::BadDer, |r| {
        let oid = der::expect_tag(r, der::Tag::OID)?;
        let (tag, value) = der::read_tag_and_get_value(r)?;
        Ok((oid, tag, value))
    })
}

/// Two RDNs are equal when they hold the same attributes (as sets).
fn rdn_equal(a: untrusted::Input<'_>, b: untrusted::Input<'_>) -> Result<bool, Error> {
    let count = |rdn: untrusted::Input<'_>| -> Result<usize, Error> {
        let mut r = untrusted::Reader::new(rdn);
        let mut n = 0usize;
        while !r.at_end() {
            read_ava(&mut r)?;
            n += 1;
        }
        Ok(n)
    };
    if count(a)? != count(b)? {
        return Ok(false);
    }
    let mut ra = untrusted::Reader::new(a);
    while !ra.at_end() {
        let x = read_ava(&mut ra)?;
        let mut rb = untrusted::Reader::new(b);
        let mut found = false;
        while !rb.at_end() {
            let y = read_ava(&mut rb)?;
            if x.0.as_slice_less_safe() == y.0.as_slice_less_safe() && value_equal(&x, &y) {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

fn is_string(tag: u8) -> bool {
    matches!(
        tag,
        UTF8_STRING | PRINTABLE_STRING | TELETEX_STRING | IA5_STRING | UNIVERSAL_STRING | BMP_STRING
    )
}

fn value_equal(a: &Ava<'_>, b: &Ava<'_>) -> bool {
    if is_string(a.1) && is_string(b.1) {
        #[cfg(feature = "alloc")]
        {
            match (normalized(a.1, a.2), normalized(b.1, b.2)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            }
        }
        #[cfg(not(feature = "alloc"))]
        {
            false
        }
    } else {
        a.1 == b.1 && a.2.as_slice_less_safe() == b.2.as_slice_less_safe()
    }
}

/// A string attribute value decoded, trimmed, with inner white space folded
/// to one space and case folded (a simplification of RFC 4518's
/// preparation that never makes two different ASCII names equal).
#[cfg(feature = "alloc")]
fn normalized(tag: u8, value: untrusted::Input<'_>) -> Option<alloc::string::String> {
    use alloc::string::String;
    let bytes = value.as_slice_less_safe();
    let decoded: String = match tag {
        UTF8_STRING => core::str::from_utf8(bytes).ok()?.into(),
        PRINTABLE_STRING | IA5_STRING | TELETEX_STRING => {
            if !bytes.is_ascii() {
                return None;
            }
            core::str::from_utf8(bytes).ok()?.into()
        }
        BMP_STRING => {
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<String, _>>().ok()?
        }
        UNIVERSAL_STRING => {
            if bytes.len() % 4 != 0 {
                return None;
            }
            bytes
                .chunks(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect::<Option<String>>()?
        }
        _ => return None,
    };
    let mut out = String::new();
    for word in decoded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    Some(out)
}

/// rfc822Name constraint matching (RFC 5280 section 4.2.1.10): a
/// constraint with `@` names one mailbox; one starting with `.` names every
/// host below that domain; anything else names all mailboxes on one host.
/// Host parts compare case-insensitively, local parts exactly. A presented
/// name that is not `local@host` with one `@` is malformed and fails closed.
pub(super) fn rfc822_name_matches(
    presented: untrusted::Input<'_>,
    base: untrusted::Input<'_>,
) -> Result<bool, Error> {
    let presented = core::str::from_utf8(presented.as_slice_less_safe())
        .map_err(|_| Error::NameConstraintViolation)?;
    let base = core::str::from_utf8(base.as_slice_less_safe())
        .map_err(|_| Error::MalformedNameConstraint)?;
    if !presented.is_ascii() || !base.is_ascii() {
        return Err(Error::NameConstraintViolation);
    }
    // Exactly one '@': a local part with an '@' is not a valid unquoted
    // addr-spec (RFC 5322 section 3.4.1); quoted local parts are refused too.
    let (local, host) = presented
        .split_once('@')
        .ok_or(Error::NameConstraintViolation)?;
    if local.is_empty() || host.is_empty() || host.contains('@') || local.contains('"') {
        return Err(Error::NameConstraintViolation);
    }
    if let Some((base_local, base_host)) = base.rsplit_once('@') {
        return Ok(local == base_local && host.eq_ignore_ascii_case(base_host));
    }
    if base.starts_with('.') {
        let host = host.as_bytes();
        let base = base.as_bytes();
        return Ok(host.len() > base.len()
            && host[host.len() - base.len()..].eq_ignore_ascii_case(base));
    }
    Ok(host.eq_ignore_ascii_case(base))
}
