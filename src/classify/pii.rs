//! Validators for personal data found by raw-text patterns: NHS numbers (with
//! the modulus-11 check digit), UK phone numbers and dates of birth; plus
//! masking of personal data for display.

use chrono::{Datelike, NaiveDate};

/// True if `s` holds exactly ten digits (spaces and dashes allowed between)
/// whose last digit is the NHS modulus-11 check digit.
///
/// Weights 10..=2 multiply the first nine digits; `11 - (sum mod 11)` is the
/// check digit, where 11 means 0 and 10 means the number is invalid.
pub fn is_valid_nhs_number(s: &str) -> bool {
    let digits: Vec<u32> = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if digits.len() != 10 {
        return false;
    }
    // All-same numbers pass the arithmetic but are never issued.
    if digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    let check = match 11 - (sum % 11) {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == digits[9]
}

/// True for a personal UK phone number: `0` then 9–10 digits, or `+44`/`0044`
/// then 9–10 digits (optionally with the trunk `(0)`), spaces, dashes and
/// brackets allowed; geographic (01, 02) and mobile (07) ranges only, since
/// 03, 08 and 09 numbers belong to organisations and premium-rate services.
pub fn is_uk_phone(s: &str) -> bool {
    let compact: String = s
        .replace("(0)", "")
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let national = if let Some(rest) = compact.strip_prefix("+44") {
        rest
    } else if let Some(rest) = compact.strip_prefix("0044") {
        rest
    } else if let Some(rest) = compact.strip_prefix('0') {
        rest
    } else {
        return false;
    };
    let national = national.strip_prefix('0').unwrap_or(national);
    (9..=10).contains(&national.len())
        && national.bytes().all(|b| b.is_ascii_digit())
        && matches!(national.as_bytes()[0], b'1' | b'2' | b'7')
}

/// True for a plausible date of birth: a real date between 1900 and 2030 in
/// `dd/mm/yyyy`, `dd-mm-yyyy` or `dd.mm.yyyy` form (day first, as in the UK).
pub fn is_date_of_birth(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    if parts.len() != 3 {
        return false;
    }
    let (Ok(d), Ok(m), Ok(y)) = (
        parts[0].trim().parse::<u32>(),
        parts[1].trim().parse::<u32>(),
        parts[2].trim().parse::<i32>(),
    ) else {
        return false;
    };
    let y = if parts[2].trim().len() == 2 {
        1900 + y
    } else {
        y
    };
    NaiveDate::from_ymd_opt(y, m, d).is_some_and(|date| (1900..=2030).contains(&date.year()))
}

/// Replace every digit and letter in `s` except the first and last two
/// characters with `•`, keeping the shape readable for the team.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < 1 || i + 2 >= n || !c.is_alphanumeric() {
                c
            } else {
                '•'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_number_check_digit() {
        // Published example numbers that pass modulus 11.
        assert!(is_valid_nhs_number("9434765919"));
        assert!(is_valid_nhs_number("943 476 5919"));
        assert!(is_valid_nhs_number("943-476-5919"));
        assert!(is_valid_nhs_number("4010232137"));
        // Wrong check digit.
        assert!(!is_valid_nhs_number("9434765918"));
        // Remainder 1 → check value 10 → never valid.
        assert!(!is_valid_nhs_number("1000000010"));
        // Wrong length, letters, repeated digits.
        assert!(!is_valid_nhs_number("943476591"));
        assert!(!is_valid_nhs_number("94347659190"));
        assert!(!is_valid_nhs_number("94347a5919"));
        assert!(!is_valid_nhs_number("0000000000"));
    }

    #[test]
    fn check_digit_zero_when_remainder_is_zero() {
        // Find a body whose weighted sum is divisible by 11; its check digit is 0.
        let body = [1u32, 2, 3, 4, 5, 6, 7, 8, 9];
        let sum: u32 = body.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            c => c,
        };
        if check < 10 {
            let s: String = body
                .iter()
                .map(|d| char::from_digit(*d, 10).unwrap())
                .collect();
            assert!(is_valid_nhs_number(&format!("{s}{check}")));
        }
    }

    #[test]
    fn uk_phone_numbers() {
        assert!(is_uk_phone("07700 900123"));
        assert!(is_uk_phone("020 7946 0958"));
        assert!(is_uk_phone("+44 7700 900123"));
        assert!(is_uk_phone("+44 (0)20 7946 0958"));
        assert!(is_uk_phone("01632 960001"));
        assert!(!is_uk_phone("12345"));
        assert!(!is_uk_phone("999"));
        assert!(!is_uk_phone("0900 123"));
        assert!(!is_uk_phone("08715203652"), "premium rate is not personal");
        assert!(!is_uk_phone("0800 542 0578"), "freephone is not personal");
    }

    #[test]
    fn dates_of_birth() {
        assert!(is_date_of_birth("12/03/1985"));
        assert!(is_date_of_birth("1.2.2001"));
        assert!(!is_date_of_birth("31/02/1985"));
        assert!(!is_date_of_birth("12/13/1985"));
    }

    #[test]
    fn masking_keeps_shape() {
        assert_eq!(mask("07700 900123"), "0•••• ••••23");
        assert_eq!(mask("jo@nhs.net"), "j•@•••.•et");
    }
}
