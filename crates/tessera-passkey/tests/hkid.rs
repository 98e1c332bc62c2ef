//! Parsing and sealing Hong Kong identity card numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_crypto::{MasterKey, Purpose};
use tessera_domain::CitizenId;
use tessera_passkey::hkid::{HKID_CHECK_DIGIT_REASON, HKID_SHAPE_REASON};
use tessera_passkey::{Hkid, OpenHkidError};

#[test]
fn valid_numbers_are_normalised() {
    // Check digits computed by hand with the mod-11 rule (one-letter prefixes weigh a
    // leading space as 36): e.g. A123456 -> 36*9 + 10*8 + 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2
    // = 481 = 43*11 + 8, so the check digit is 11 - 8 = 3.
    let cases = [
        ("A123456(3)", "A123456(3)"),
        ("A1234563", "A123456(3)"),
        ("a123456(3)", "A123456(3)"),
        ("  A123456(3) ", "A123456(3)"),
        ("A 123456 (3)", "A123456(3)"),
        ("AB987654(3)", "AB987654(3)"),
        ("ab9876543", "AB987654(3)"),
        ("C668668(9)", "C668668(9)"),
        ("Y000001(7)", "Y000001(7)"),
        ("XA000000(8)", "XA000000(8)"),
        // 11 - (sum mod 11) = 10 is written A ...
        ("G123456(A)", "G123456(A)"),
        ("g123456a", "G123456(A)"),
        ("D000001(A)", "D000001(A)"),
        // ... and 11 is written 0.
        ("K000000(0)", "K000000(0)"),
        ("B000003(0)", "B000003(0)"),
    ];
    for (input, normal) in cases {
        assert_eq!(Hkid::parse(input).unwrap().as_str(), normal, "{input:?}");
    }
}

#[test]
fn a_wrong_check_digit_is_refused_as_such() {
    for bad in ["A123456(4)", "A123456(0)", "A123456(A)", "AB987654(2)", "G123456(0)", "K000000(A)", "B1234563"] {
        let err = Hkid::parse(bad).unwrap_err();
        assert_eq!((err.what, err.reason), ("HKID", HKID_CHECK_DIGIT_REASON), "{bad:?}");
    }
}

#[test]
fn malformed_numbers_are_refused() {
    for bad in [
        "",
        "   ",
        "123456(3)",
        "ABC123456(3)",
        "A12345(3)",
        "A1234567(3)",
        "A123456",
        "A123456()",
        "A123456(3",
        "A1234563)",
        "A123456((3))",
        "A123456(B)",
        "A12345X(3)",
        "1A23456(3)",
        "A123456-3",
        "Ａ123456(3)",
        "A123456(３)",
        &"A123456(3)".repeat(4),
    ] {
        let err = Hkid::parse(bad).unwrap_err();
        assert_eq!((err.what, err.reason), ("HKID", HKID_SHAPE_REASON), "{bad:?}");
        assert!(!err.to_string().contains("123456"));
    }
}

#[test]
fn debug_hides_the_number_and_masked_shows_a_prefix() {
    let one = Hkid::parse("A123456(3)").unwrap();
    assert_eq!(format!("{one:?}"), "Hkid(<redacted>)");
    assert_eq!(one.masked(), "A123***(*)");
    let two = Hkid::parse("AB987654(3)").unwrap();
    assert_eq!(two.masked(), "AB987***(*)");
    assert!(!format!("{two:?}").contains("987"));
}

#[test]
fn sealed_numbers_open_only_for_their_citizen() {
    let cipher = MasterKey::generate().unwrap().cipher(Purpose::PersonalData).unwrap();
    let hkid = Hkid::parse("A123456(3)").unwrap();
    let (owner, other) = (CitizenId::generate(), CitizenId::generate());
    let sealed = hkid.seal(&cipher, owner).unwrap();
    assert!(!sealed.windows(6).any(|w| w == b"123456"));
    assert_eq!(Hkid::open(&cipher, owner, &sealed).unwrap(), hkid);
    assert!(matches!(Hkid::open(&cipher, other, &sealed), Err(OpenHkidError::Crypto(_))));
    let signing = MasterKey::generate().unwrap().cipher(Purpose::SigningKey).unwrap();
    assert!(Hkid::open(&signing, owner, &sealed).is_err());
    // Something sealed correctly that is not an HKID.
    let junk = cipher.seal(b"not an hkid", owner.to_string().as_bytes()).unwrap();
    assert!(matches!(Hkid::open(&cipher, owner, &junk), Err(OpenHkidError::NotAnHkid)));
}
