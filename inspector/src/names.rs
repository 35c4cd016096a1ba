//! Distinguished names as RFC 4514 strings, fast.

use const_oid::ObjectIdentifier;

/// A name as an RFC 4514 string, exactly as `x509-cert`'s `Display` writes
/// it, without its cost: that `Display` looks each attribute type up by a
/// linear search of the whole OID database, which in a lot of 2,000
/// distinct signers was a tenth of the run. Here the short names of the
/// usual attribute types are looked up once (in the same database) and
/// kept; any other type, or a value of another string type, is written by
/// the library itself. The unit test below checks the two agree.
pub fn name_string(name: &x509_cert::name::Name) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.into_iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            match (short_name(&atv.oid), attribute_str(atv)) {
                (Some(key), Some(val)) => {
                    out.push_str(key);
                    out.push('=');
                    let mut chars = val.char_indices().peekable();
                    while let Some((k, c)) = chars.next() {
                        match c {
                            '#' if k == 0 => out.push_str("\\#"),
                            ' ' if k == 0 || chars.peek().is_none() => out.push_str("\\ "),
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            '\x00'..='\x1f' | '\x7f' => {
                                let _ = write!(out, "\\{:02x}", c as u8);
                            }
                            _ => out.push(c),
                        }
                    }
                }
                _ => {
                    let _ = write!(out, "{atv}");
                }
            }
        }
    }
    out
}

/// The value of an attribute as the library's `Display` reads it.
fn attribute_str(atv: &x509_cert::attr::AttributeTypeAndValue) -> Option<&str> {
    use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
    match der::Tagged::tag(&atv.value) {
        der::Tag::PrintableString => PrintableStringRef::try_from(&atv.value)
            .ok()
            .map(|s| s.as_str()),
        der::Tag::Utf8String => Utf8StringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
        der::Tag::Ia5String => Ia5StringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
        der::Tag::TeletexString => TeletexStringRef::try_from(&atv.value)
            .ok()
            .map(|s| s.as_str()),
        _ => None,
    }
}

/// The upper-case short name the OID database gives the usual attribute
/// types, looked up once; `None` for any other type.
fn short_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    use const_oid::db::rfc4519 as a;
    static TABLE: std::sync::OnceLock<Vec<(ObjectIdentifier, String)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        [
            a::CN,
            a::O,
            a::OU,
            a::C,
            a::ST,
            a::L,
            a::STREET,
            a::DC,
            a::UID,
            a::SERIAL_NUMBER,
            a::TITLE,
            a::GIVEN_NAME,
            a::SN,
            a::INITIALS,
            a::GENERATION_QUALIFIER,
            a::DN_QUALIFIER,
            a::POSTAL_CODE,
            a::BUSINESS_CATEGORY,
            const_oid::db::rfc3280::EMAIL_ADDRESS,
            const_oid::db::rfc3280::PSEUDONYM,
        ]
        .into_iter()
        .filter_map(|oid| {
            // The shortest of the database's names, the first on a tie: the
            // library's rule.
            let mut best: Option<&str> = None;
            for n in const_oid::db::DB.find_names_for_oid(oid) {
                if best.is_none_or(|b| n.len() < b.len()) {
                    best = Some(n);
                }
            }
            best.map(|n| (oid, n.to_ascii_uppercase()))
        })
        .collect()
    });
    table
        .iter()
        .find(|(o, _)| o == oid)
        .map(|(_, n)| n.as_str())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]
mod tests {
    use super::name_string;
    use crate::cert::certificates_from_bytes;

    #[test]
    fn names_are_written_exactly_as_the_library_writes_them() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cms/certs");
        let mut seen = 0;
        for entry in std::fs::read_dir(fixtures).unwrap() {
            let path = entry.unwrap().path();
            let Ok(certs) = certificates_from_bytes(&std::fs::read(&path).unwrap()) else {
                continue;
            };
            for c in certs {
                let tbs = c.cert.tbs_certificate();
                assert_eq!(
                    name_string(tbs.subject()),
                    tbs.subject().to_string(),
                    "{path:?}"
                );
                assert_eq!(
                    name_string(tbs.issuer()),
                    tbs.issuer().to_string(),
                    "{path:?}"
                );
                seen += 1;
            }
        }
        assert!(seen > 20, "{seen} certificates");
        // Escapes, several attributes in one RDN, an emailAddress, a type
        // the table does not know and a non-string value.
        for dn in [
            "CN=\\#lead\\, comma\\;x,O=a+OU=b",
            "CN=\\ spaced \\ ,EMAILADDRESS=x@example.com,C=DE",
            "CN=x,1.2.3.4=#0c0161,SERIALNUMBER=42",
            "UID=u1,DC=example,DC=com",
        ] {
            let name: x509_cert::name::Name = dn.parse().unwrap_or_else(|e| panic!("{dn}: {e:?}"));
            assert_eq!(name_string(&name), name.to_string(), "{dn}");
        }
    }
}
