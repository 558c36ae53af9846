//! Dollar amounts: "$45.50" -> "forty-five dollars and fifty cents".
//!
//! Ahead of plain numbers in the rule order, so that the "$" decides how
//! the decimals are read (cents, not "point five zero").

use super::numbers::{NumLit, Style, parse_num};
use super::numerals::{below_100, count_words};
use super::tokens::{Tok, dash_after, is_space, is_sym, num, skip_space, word};
use super::{Hit, hit};

fn cents_of(lit: &NumLit) -> Option<u64> {
    match lit.frac.as_deref() {
        None => Some(0),
        Some(f) if f.len() == 1 => f.parse::<u64>().ok().map(|c| c * 10),
        Some(f) if f.len() == 2 => f.parse().ok(),
        Some(_) => None,
    }
}

/// "forty-five dollars and fifty cents", "one dollar", "ninety-nine cents".
fn money_words(lit: &NumLit) -> String {
    let Some(cents) = cents_of(lit) else {
        return format!("{} dollars", lit.say(Style::Quantity));
    };
    let dollars = lit.int.parse::<u64>().ok();
    let dollar_text = format!("{} {}", count_words(&lit.int), if dollars == Some(1) { "dollar" } else { "dollars" });
    let cent_text = format!("{} {}", below_100(cents), if cents == 1 { "cent" } else { "cents" });
    match (dollars, cents) {
        (_, 0) => dollar_text,
        (Some(0), _) => cent_text,
        _ => format!("{dollar_text} and {cent_text}"),
    }
}

/// "$45", "$45.50", "$1,250", "$0.99", "$.50", "$1.5 million", "$5-$10".
pub(super) fn rule_money(t: &[Tok], i: usize) -> Option<Hit> {
    if !is_sym(t, i, '$') {
        return None;
    }
    let amount = money_amount(t, skip_space(t, i + 1))?;
    if is_space(t, amount.end)
        && let Some(scale) = word(t, amount.end + 1)
        && matches!(scale, "thousand" | "million" | "billion" | "trillion")
    {
        return hit(amount.end + 2, format!("{} {scale} dollars", amount.say(Style::Quantity)));
    }
    if let Some(k) = dash_after(t, amount.end)
        && let Some(upper) = money_amount(t, if is_sym(t, k, '$') { k + 1 } else { k })
    {
        let text = if cents_of(&amount) == Some(0) && cents_of(&upper) == Some(0) {
            format!("{} to {}", count_words(&amount.int), money_words(&upper))
        } else {
            format!("{} to {}", money_words(&amount), money_words(&upper))
        };
        return hit(upper.end, text);
    }
    hit(amount.end, money_words(&amount))
}

fn money_amount(t: &[Tok], j: usize) -> Option<NumLit> {
    if is_sym(t, j, '.')
        && let Some(c) = num(t, j + 1)
        && c.len() <= 2
    {
        return Some(NumLit { int: "0".to_string(), frac: Some(c.to_string()), grouped: false, end: j + 2 });
    }
    parse_num(t, j)
}

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

    #[test]
    fn money_whole_dollars() {
        check("$45", "forty-five dollars");
        check("$1", "one dollar");
        check("$0", "zero dollars");
        check("$45.00", "forty-five dollars");
    }

    #[test]
    fn money_with_cents() {
        check("$45.50", "forty-five dollars and fifty cents");
        check("$45.5", "forty-five dollars and fifty cents");
        check("$1.01", "one dollar and one cent");
    }

    #[test]
    fn money_cents_only() {
        check("$0.99", "ninety-nine cents");
        check("$.50", "fifty cents");
    }

    #[test]
    fn money_grouped() {
        check("$1,250", "one thousand two hundred fifty dollars");
        check("$1,250.75", "one thousand two hundred fifty dollars and seventy-five cents");
    }

    #[test]
    fn money_other_forms() {
        check("$1.5 million", "one point five million dollars");
        check("$5-$10", "five to ten dollars");
        check("$5-10", "five to ten dollars");
        check("$1.999", "one point nine nine nine dollars");
        check("The copay is $25.", "The copay is twenty-five dollars.");
        check("The fee is $ 20.", "The fee is twenty dollars.");
    }
}
