//! Integers as words: cardinals, ordinals, digit by digit, and years.
//!
//! Every rule that reads a number ends up here, so each reading ("twenty
//! twenty-four", "one hundred twelfth", "zero one four seven") is decided
//! once. No rule of its own: these are the words, the other files decide
//! when a number is a count, an identifier or a year.

/// Spell out an integer in words ("one hundred twenty-three").
///
/// American style without "and"; negative numbers get "minus". Supports the
/// whole `i64` range (the dialog only needs 0..=999_999_999_999).
pub fn number_words(n: i64) -> String {
    if n < 0 { format!("minus {}", words_u64(n.unsigned_abs())) } else { words_u64(n.unsigned_abs()) }
}

/// Ordinal words: 1 -> "first", 23 -> "twenty-third", 100 -> "one hundredth".
pub fn ordinal_words(n: u64) -> String {
    let cardinal = words_u64(n);
    match cardinal.rfind([' ', '-']) {
        Some(pos) => {
            let (head, last) = cardinal.split_at(pos + 1);
            format!("{head}{}", ordinal_of_word(last))
        }
        None => ordinal_of_word(&cardinal),
    }
}

pub(super) const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];

const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/// Largest integer [`speakable`](super::speakable) reads as words; longer ones are read digit
/// by digit, which is easier to follow on the phone than "quadrillion".
pub(super) const MAX_WORDS: u64 = 999_999_999_999;

pub(super) fn below_100(n: u64) -> String {
    let n = n % 100;
    if n < 20 {
        return ONES[n as usize].to_string();
    }
    let tens = TENS[(n / 10) as usize];
    match n % 10 {
        0 => tens.to_string(),
        unit => format!("{tens}-{}", ONES[unit as usize]),
    }
}

fn below_1000(n: u64) -> String {
    let n = n % 1000;
    let (hundreds, rest) = (n / 100, n % 100);
    match (hundreds, rest) {
        (0, _) => below_100(rest),
        (_, 0) => format!("{} hundred", ONES[hundreds as usize]),
        _ => format!("{} hundred {}", ONES[hundreds as usize], below_100(rest)),
    }
}

pub(super) fn words_u64(n: u64) -> String {
    const SCALES: [(u64, &str); 6] = [
        (1_000_000_000_000_000_000, "quintillion"),
        (1_000_000_000_000_000, "quadrillion"),
        (1_000_000_000_000, "trillion"),
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ];
    if n == 0 {
        return "zero".to_string();
    }
    let mut parts = Vec::new();
    let mut rest = n;
    for (scale, name) in SCALES {
        if rest >= scale {
            parts.push(format!("{} {name}", below_1000(rest / scale)));
            rest %= scale;
        }
    }
    if rest > 0 {
        parts.push(below_1000(rest));
    }
    parts.join(" ")
}

fn ordinal_of_word(word: &str) -> String {
    match word {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

/// "twenty" -> "twenties", "six" -> "sixes", "nineteen ninety" -> "nineteen
/// nineties" (for "the 1990s", "in your 20s").
pub(super) fn pluralize_words(words: &str) -> String {
    if let Some(stem) = words.strip_suffix('y') {
        format!("{stem}ies")
    } else if words.ends_with('x') {
        format!("{words}es")
    } else {
        format!("{words}s")
    }
}

/// Each digit as a word, "zero" for 0. Non-digits are ignored.
pub(super) fn digit_words(digits: &str) -> String {
    digits.chars().filter_map(|c| c.to_digit(10)).map(|d| ONES[d as usize]).collect::<Vec<_>>().join(" ")
}

/// Integer words for a digit string, digit by digit when it is too long.
pub(super) fn count_words(digits: &str) -> String {
    match digits.parse::<u64>() {
        Ok(v) if v <= MAX_WORDS => words_u64(v),
        _ => digit_words(digits),
    }
}

/// Years as people say them: 1952 -> "nineteen fifty-two", 1905 ->
/// "nineteen oh five", 1900 -> "nineteen hundred", 2000 -> "two thousand",
/// 2005 -> "two thousand five", 2024 -> "twenty twenty-four".
pub(super) fn year_words(year: u64) -> String {
    if !(1000..=9999).contains(&year) || year.is_multiple_of(1000) || (2000..2010).contains(&year) {
        return words_u64(year);
    }
    let (high, low) = (year / 100, year % 100);
    match low {
        0 => format!("{} hundred", below_100(high)),
        1..=9 => format!("{} oh {}", below_100(high), ONES[low as usize]),
        _ => format!("{} {}", below_100(high), below_100(low)),
    }
}

/// Two-digit years ("4/3/52"): "fifty-two", "oh five", "two thousand".
pub(super) fn short_year_words(yy: u64) -> String {
    match yy {
        0 => "two thousand".to_string(),
        1..=9 => format!("oh {}", ONES[yy as usize]),
        _ => below_100(yy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_words_basics() {
        assert_eq!(number_words(0), "zero");
        assert_eq!(number_words(7), "seven");
        assert_eq!(number_words(13), "thirteen");
        assert_eq!(number_words(20), "twenty");
        assert_eq!(number_words(45), "forty-five");
        assert_eq!(number_words(100), "one hundred");
        assert_eq!(number_words(123), "one hundred twenty-three");
        assert_eq!(number_words(1_250), "one thousand two hundred fifty");
        assert_eq!(number_words(10_000), "ten thousand");
        assert_eq!(number_words(1_000_001), "one million one");
        assert_eq!(
            number_words(999_999_999_999),
            "nine hundred ninety-nine billion nine hundred ninety-nine million \
             nine hundred ninety-nine thousand nine hundred ninety-nine"
        );
    }

    #[test]
    fn number_words_negative_and_extremes() {
        assert_eq!(number_words(-5), "minus five");
        assert_eq!(number_words(-1_250), "minus one thousand two hundred fifty");
        assert!(number_words(i64::MIN).starts_with("minus nine quintillion"));
        assert!(number_words(i64::MAX).starts_with("nine quintillion"));
    }

    #[test]
    fn ordinal_words_basics() {
        assert_eq!(ordinal_words(0), "zeroth");
        assert_eq!(ordinal_words(1), "first");
        assert_eq!(ordinal_words(2), "second");
        assert_eq!(ordinal_words(3), "third");
        assert_eq!(ordinal_words(4), "fourth");
        assert_eq!(ordinal_words(5), "fifth");
        assert_eq!(ordinal_words(8), "eighth");
        assert_eq!(ordinal_words(9), "ninth");
        assert_eq!(ordinal_words(12), "twelfth");
        assert_eq!(ordinal_words(20), "twentieth");
        assert_eq!(ordinal_words(21), "twenty-first");
        assert_eq!(ordinal_words(23), "twenty-third");
        assert_eq!(ordinal_words(100), "one hundredth");
        assert_eq!(ordinal_words(112), "one hundred twelfth");
        assert_eq!(ordinal_words(1_000), "one thousandth");
        assert!(ordinal_words(u64::MAX).ends_with("fifteenth"));
    }

    #[test]
    fn year_readings() {
        assert_eq!(year_words(1952), "nineteen fifty-two");
        assert_eq!(year_words(2000), "two thousand");
        assert_eq!(year_words(2005), "two thousand five");
        assert_eq!(year_words(2024), "twenty twenty-four");
        assert_eq!(year_words(1900), "nineteen hundred");
        assert_eq!(year_words(1905), "nineteen oh five");
        assert_eq!(year_words(2010), "twenty ten");
        assert_eq!(year_words(2100), "twenty-one hundred");
    }
}
