//! `license:` is an SPDX licence expression (`Apache-2.0`, `MIT OR Apache-2.0`,
//! `LicenseRef-Sample`), read by the `spdx` crate against the SPDX licence list.
//!
//! Identifiers are matched whatever their case, as the SPDX specification asks (annex B): the
//! Hugging Face card's lower-case `apache-2.0` is `Apache-2.0`. Deprecated identifiers
//! (`GPL-3.0`) are still identifiers. A mistake gets a did-you-mean: the `spdx` crate's lax
//! reading (`Apache 2.0`, `apache2`, `GPL v3`), else the nearest identifier by a letter or two
//! (`MTI` → `MIT`), else `LicenseRef-NAME`, the SPDX way to name a licence it does not list.
//! `other` (the Hugging Face card's word for "see license_name") names no licence: a warning.

use spdx::{Expression, ParseMode};

/// What [`judge`] says of a `license:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A valid SPDX expression.
    Valid,
    /// `other`: allowed, but it says nothing a reader can check.
    Other,
    /// Not an SPDX expression: why, and what to write instead.
    Invalid {
        /// What is wrong, e.g. `unknown licence "MTI"`.
        why: String,
        /// The did-you-mean, or where the identifiers are listed.
        hint: String,
    },
}

/// Strict SPDX, less its refusal of deprecated identifiers.
const MODE: ParseMode = ParseMode { allow_deprecated: true, ..ParseMode::STRICT };

/// Judges one `license:` value.
///
/// ```
/// use zoo_oci::suite::license::{Verdict, judge};
/// assert_eq!(judge("Apache-2.0 OR MIT"), Verdict::Valid);
/// assert_eq!(judge("apache-2.0"), Verdict::Valid);
/// assert_eq!(judge("LicenseRef-Sample"), Verdict::Valid);
/// let hint = |text| match judge(text) { Verdict::Invalid { hint, .. } => hint, v => panic!("{v:?}") };
/// assert!(hint("Apache 2.0").starts_with("did you mean \"Apache-2.0\"?"));
/// assert!(hint("MTI").starts_with("did you mean \"MIT\"?"));
/// ```
pub fn judge(text: &str) -> Verdict {
    let text = text.trim();
    if text.eq_ignore_ascii_case("other") {
        return Verdict::Other;
    }
    let cased = with_listed_case(text);
    let error = match Expression::parse_mode(&cased, MODE) {
        Ok(_) => return Verdict::Valid,
        Err(e) => e,
    };
    let term = cased.get(error.span.clone()).unwrap_or_default().to_string();
    use spdx::error::Reason;
    let what = match &error.reason {
        Reason::UnknownTerm | Reason::UnknownLicense => format!("{term:?} is no SPDX licence identifier"),
        Reason::UnknownException => format!("{term:?} is no SPDX exception identifier"),
        Reason::UnclosedParens => "a ( is not closed".into(),
        Reason::UnopenedParens => "a ) closes nothing".into(),
        Reason::Empty => "it names no licence".into(),
        Reason::Unexpected(expected) if term.is_empty() => {
            format!("it ends where {} was expected", expected.join(" or "))
        }
        Reason::Unexpected(expected) => format!("{term:?} stands where {} was expected", expected.join(" or ")),
        _ => format!("{term:?} is out of place"),
    };
    let why = format!("{text:?} is not an SPDX licence expression: {what}");
    let suggestion = lax_reading(text).or_else(|| {
        let unknown = matches!(error.reason, Reason::UnknownTerm | Reason::UnknownLicense);
        let near = if unknown { nearest_identifier(&term) } else { None };
        near.map(|id| format!("{}{id}{}", &cased[..error.span.start], &cased[error.span.end..]))
            .filter(|fixed| Expression::parse_mode(fixed, MODE).is_ok())
    });
    let hint = match suggestion {
        Some(fixed) => format!("did you mean {fixed:?}? The identifiers are listed at https://spdx.org/licenses/"),
        None if is_idstring(&term) && !term.is_empty() => format!(
            "use an identifier of https://spdx.org/licenses/, or LicenseRef-{term} for a licence SPDX does not list \
             (ship its text with license_file)"
        ),
        None => "write an SPDX expression such as Apache-2.0 or (MIT OR Apache-2.0); LicenseRef-NAME names a \
                 licence SPDX does not list"
            .into(),
    };
    Verdict::Invalid { why, hint }
}

/// `text` with each identifier spelled as the SPDX list spells it, when it is there in another
/// case (`apache-2.0`, `mit`).
fn with_listed_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let (base, plus) = match word.strip_suffix('+') {
            Some(base) => (base, "+"),
            None => (word.as_str(), ""),
        };
        let listed = spdx::identifiers::LICENSES
            .iter()
            .map(|l| l.name)
            .chain(spdx::identifiers::EXCEPTIONS.iter().map(|e| e.name))
            .find(|name| name.eq_ignore_ascii_case(base));
        match listed {
            Some(name) => {
                out.push_str(name);
                out.push_str(plus);
            }
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || c == '(' || c == ')' {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The `spdx` crate's lax reading of `text` (`Apache 2.0` → `Apache-2.0`, `GPL v3` →
/// `GPL-3.0-only`, `a/b` → `a OR b`), when it reads as a valid expression.
fn lax_reading(text: &str) -> Option<String> {
    let fixed = Expression::canonicalize(text).ok()??;
    let fixed = with_listed_case(&fixed);
    (Expression::parse_mode(&fixed, MODE).is_ok() && fixed != text).then_some(fixed)
}

/// The SPDX licence identifier within a typo of `term` (one edit for up to 5 letters, two
/// beyond; a swap of neighbours is one).
fn nearest_identifier(term: &str) -> Option<&'static str> {
    let lower = term.to_ascii_lowercase();
    let allowed = if term.chars().count() <= 5 { 1 } else { 2 };
    spdx::identifiers::LICENSES
        .iter()
        .filter(|l| !l.name.ends_with('+'))
        .map(|l| (strsim::damerau_levenshtein(&lower, &l.name.to_ascii_lowercase()), l.name))
        .filter(|(d, _)| *d <= allowed)
        .min()
        .map(|(_, name)| name)
}

/// Letters, digits, `-` and `.`: what may follow `LicenseRef-`.
fn is_idstring(term: &str) -> bool {
    term.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(text: &str) -> String {
        match judge(text) {
            Verdict::Invalid { hint, .. } => hint,
            v => panic!("{text:?}: {v:?}"),
        }
    }

    #[test]
    fn spdx_expressions_are_valid_in_any_case() {
        for valid in [
            "MIT",
            "Apache-2.0",
            "Apache-2.0 OR MIT",
            "(MIT OR Apache-2.0) AND BSD-2-Clause",
            "MIT AND Apache-2.0",
            "Apache-2.0 WITH LLVM-exception",
            "apache-2.0",
            "cc-by-nc-4.0",
            "mit or apache-2.0",
            "GPL-3.0",
            "GPL-2.0-or-later",
            "LicenseRef-Sample",
            "LicenseRef-my-licence.1 OR MIT",
        ] {
            assert_eq!(judge(valid), Verdict::Valid, "{valid}");
        }
        assert_eq!(judge("other"), Verdict::Other);
    }

    #[test]
    fn mistakes_get_the_identifier_meant() {
        assert!(hint("Apache 2.0").starts_with("did you mean \"Apache-2.0\"?"), "{}", hint("Apache 2.0"));
        assert!(hint("MTI").starts_with("did you mean \"MIT\"?"), "{}", hint("MTI"));
        assert!(
            hint("MIT OR Apache-20").starts_with("did you mean \"MIT OR Apache-2.0\"?"),
            "{}",
            hint("MIT OR Apache-20")
        );
        assert!(hint("MIT/Apache-2.0").starts_with("did you mean \"MIT OR Apache-2.0\"?"));
    }

    #[test]
    fn a_licence_spdx_does_not_list_is_named_with_licenseref() {
        assert!(hint("openrail").contains("LicenseRef-openrail"), "{}", hint("openrail"));
        assert!(hint("llama3.1").contains("LicenseRef-llama3.1"));
        assert!(matches!(judge("MIT AND"), Verdict::Invalid { .. }));
        assert!(matches!(judge("(MIT"), Verdict::Invalid { .. }));
    }
}
