//! Amounts in minor units of an ISO 4217 currency, and each currency's exponent: how many
//! minor units make a major one (JPY has none, EUR two, KWD three).

use crate::DomainError;

/// Currencies with no minor unit (as Stripe counts them).
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies with three decimals.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Currencies with two decimals that Roster accepts.
const TWO_DECIMAL: &[&str] = &[
    "AED", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "COP", "CZK", "DKK", "EGP", "EUR", "GBP",
    "HKD", "HUF", "IDR", "ILS", "INR", "MAD", "MXN", "MYR", "NGN", "NOK", "NZD", "PEN", "PHP",
    "PKR", "PLN", "QAR", "RON", "RSD", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH", "USD",
    "ZAR",
];

/// The largest amount Roster takes in one payment, in minor units.
pub const MAX_AMOUNT: u64 = 99_999_999_999;

/// The number of decimals of `code` (upper case ISO 4217), or `None` for a currency Roster
/// does not take.
pub fn currency_exponent(code: &str) -> Option<u8> {
    if ZERO_DECIMAL.contains(&code) {
        Some(0)
    } else if THREE_DECIMAL.contains(&code) {
        Some(3)
    } else if TWO_DECIMAL.contains(&code) {
        Some(2)
    } else {
        None
    }
}

/// A currency code as given (any case), checked and upper-cased.
pub fn parse_currency(code: &str) -> Result<String, DomainError> {
    let code = code.trim().to_ascii_uppercase();
    match currency_exponent(&code) {
        Some(_) => Ok(code),
        None => Err(DomainError::invalid(
            "currency",
            format!("{code:?} is not an ISO 4217 currency Roster takes"),
        )),
    }
}

/// An amount in minor units: more than zero, at most [`MAX_AMOUNT`].
pub fn check_amount(field: &str, amount: u64) -> Result<(), DomainError> {
    match amount {
        0 => Err(DomainError::invalid(field, "must be more than zero")),
        a if a > MAX_AMOUNT => Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_AMOUNT} minor units"),
        )),
        _ => Ok(()),
    }
}

/// `amount` minor units written in major units: `1050` EUR is `"10.50"`, `1050` JPY `"1050"`.
pub fn format_minor(amount: u64, exponent: u8) -> String {
    if exponent == 0 {
        return amount.to_string();
    }
    let scale = 10u64.pow(u32::from(exponent));
    format!(
        "{}.{:0width$}",
        amount / scale,
        amount % scale,
        width = usize::from(exponent)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_the_currency() {
        assert_eq!(currency_exponent("JPY"), Some(0));
        assert_eq!(currency_exponent("EUR"), Some(2));
        assert_eq!(currency_exponent("KWD"), Some(3));
        assert_eq!(currency_exponent("XXX"), None);
        assert_eq!(parse_currency(" eur ").unwrap(), "EUR");
        assert!(parse_currency("euro").is_err());
    }

    #[test]
    fn minor_units_read_as_major_ones() {
        assert_eq!(format_minor(1050, 2), "10.50");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(1050, 0), "1050");
        assert_eq!(format_minor(1_234, 3), "1.234");
    }
}
