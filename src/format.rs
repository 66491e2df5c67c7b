//! How numbers, sizes, digests and foreign text are written for people: one implementation each,
//! at the bottom of the module graph, for every renderer and message above it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `1.2 MB`: decimal units, as registries show sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// `1 layer`, `3 layers`: a count with its noun in the right number.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// A parameter count as people write it: `22.7M`, `1.2B`, `850`.
pub fn param_size(params: u64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")];
    for (scale, unit) in UNITS {
        if params as f64 >= scale {
            let v = params as f64 / scale;
            return if v >= 100.0 { format!("{v:.0}{unit}") } else { format!("{v:.1}{unit}") };
        }
    }
    params.to_string()
}

/// `sha256:0123456789ab`: a digest as tables and messages show it. A digest read from a layout
/// or a manifest is any text until it is checked, so the cut falls on a character boundary
/// (slicing at byte 19 panicked on `sha256:ééé…`).
pub fn short_digest(digest: &str) -> &str {
    let mut end = digest.len().min(19);
    while !digest.is_char_boundary(end) {
        end -= 1;
    }
    &digest[..end]
}

/// Text from an artifact, a registry or a model file made safe to print on a terminal: every
/// control character but newline and tab (C0, DEL, C1) is shown as a visible escape (`^[` for
/// ESC, `^G` for BEL, `^?` for DEL, `\u{9b}` for C1's CSI), so no README, annotation or
/// registry error can clear the screen, retitle the window, set the clipboard (OSC 52) or
/// rewrite a line already printed (`\r`). JSON output does not go through this: it stays exact.
///
/// ```
/// use zoo_oci::format::printable;
/// assert_eq!(printable("a\u{1b}]52;c;aGk=\u{7}b\n\tc"), "a^[]52;c;aGk=^Gb\n\tc");
/// assert_eq!(printable("\r\u{7f}\u{9b}2J"), "^M^?\\u{9b}2J");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            _ if !unsafe_char(c) => out.push(c),
            n @ 0..=0x1f => {
                out.push('^');
                out.push(char::from(b'@' + n as u8));
            }
            0x7f => out.push_str("^?"),
            n => {
                let _ = write!(out, "\\u{{{n:x}}}");
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_digests_cut_on_a_character_boundary() {
        assert_eq!(short_digest("sha256:0123456789abcdef"), "sha256:0123456789ab");
        assert_eq!(short_digest("sha256:aééééééé"), "sha256:aééééé");
        assert_eq!(short_digest("é"), "é");
    }

    #[test]
    fn counts_sizes_and_parameters_read_as_people_write_them() {
        assert_eq!(count(1, "layer", "layers"), "1 layer");
        assert_eq!(count(0, "layer", "layers"), "0 layers");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
    }
    #[test]
    fn param_sizes_read_like_papers() {
        assert_eq!(param_size(1_235_496), "1.2M");
        assert_eq!(param_size(22_700_000), "22.7M");
        assert_eq!(param_size(7_000_000_000), "7.0B");
        assert_eq!(param_size(850), "850");
        assert_eq!(param_size(175_000_000_000), "175B");
    }
}
