//! Test-fixture helper used only by `tests/fixtures/cms/gen.sh`.
//!
//! OpenSSL cannot copy a signer's signature value out of a CMS file or add an
//! RFC 3161 token as an unsigned attribute (what a timestamping signer does
//! after signing), so this does those two edits with the `cms` crate. It also
//! makes a CMS file whose signature value has one byte flipped. It never signs
//! anything itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::attr::Attribute;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_AA_TIMESTAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

fn read_signed_data(path: &str) -> SignedData {
    let bytes = std::fs::read(path).expect("read CMS file");
    let ci = ContentInfo::from_der(&bytes).expect("CMS ContentInfo (DER)");
    assert_eq!(ci.content_type, ID_SIGNED_DATA);
    ci.content.decode_as::<SignedData>().expect("SignedData")
}

fn write_signed_data(sd: &SignedData, path: &str) {
    let ci = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(sd).expect("encode SignedData"),
    };
    std::fs::write(path, ci.to_der().expect("encode ContentInfo")).expect("write CMS file");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("extract-signature") => {
            let sd = read_signed_data(&args[2]);
            let si = sd.signer_infos.0.iter().next().expect("one signer");
            std::fs::write(&args[3], si.signature.as_bytes()).expect("write");
        }
        Some("attach-token") => {
            let mut sd = read_signed_data(&args[2]);
            let token = std::fs::read(&args[3]).expect("read token");
            let token = Any::from_der(&token).expect("token is DER");
            let mut infos: Vec<_> = sd.signer_infos.0.into_vec();
            let mut values = SetOfVec::new();
            values.insert(token).expect("one value");
            let attr = Attribute {
                oid: ID_AA_TIMESTAMP_TOKEN,
                values,
            };
            let mut attrs = infos[0].unsigned_attrs.take().unwrap_or_default();
            attrs.insert(attr).expect("insert attribute");
            infos[0].unsigned_attrs = Some(attrs);
            sd.signer_infos = infos.try_into().expect("signer infos");
            write_signed_data(&sd, &args[4]);
        }
        Some("corrupt-signature") => {
            let sd = read_signed_data(&args[2]);
            let mut infos: Vec<_> = sd.signer_infos.0.clone().into_vec();
            let mut sig = infos[0].signature.as_bytes().to_vec();
            let last = sig.len() - 1;
            sig[last] ^= 0x01;
            infos[0].signature = OctetString::new(sig).expect("octets");
            let mut sd = sd;
            sd.signer_infos = infos.try_into().expect("signer infos");
            write_signed_data(&sd, &args[3]);
        }
        _ => {
            eprintln!(
                "usage: fixture-tool extract-signature CMS OUT | attach-token CMS TOKEN OUT | corrupt-signature CMS OUT"
            );
            std::process::exit(2);
        }
    }
}
