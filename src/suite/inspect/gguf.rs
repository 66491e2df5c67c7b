//! GGUF (llama.cpp): the magic `GGUF`, a version, the tensor and key–value counts, the key–value
//! metadata, the tensor infos (name, dims, type, offset), then the tensor data.
//!
//! Hand-written: no maintained crate reads a GGUF header alone with bounds on what it allocates
//! (the readers that exist load every metadata array, or come inside a tensor library). This one
//! checks every count and length against what is left of the file before reading, skips the
//! arrays (the tokenizer's vocabulary) by seeking, and stops after the tensor infos.

use std::io::{Read, Seek};

use super::source::{Bad, Res, Source, bytes_in_words};
use super::{Facts, MAX_STRING, MAX_TENSORS, Recognised, dominant_precision, element_count, put_metadata};

/// Most bytes of metadata (key–value pairs) walked.
const MAX_METADATA_BYTES: u64 = 64 << 20;
/// Longest key: the specification limits keys to 65535 bytes.
const MAX_KEY: u64 = 65_535;
/// Most dimensions a tensor may have (ggml has 4).
const MAX_DIMS: u32 = 8;
/// How deep arrays of arrays may nest.
const MAX_NESTING: u32 = 4;

/// Keys kept in the facts' metadata as they are.
pub(super) const KEPT: &[&str] = &[
    "general.quantization_version",
    "general.basename",
    "general.size_label",
    "general.finetune",
    "general.version",
    "general.organization",
    "general.license",
    "general.type",
    "general.alignment",
    "tokenizer.ggml.model",
    "tokenizer.ggml.pre",
    "tokenizer.ggml.tokens",
];

/// Keys kept when they follow `{architecture}.`.
pub(super) const KEPT_FOR_ARCHITECTURE: &[&str] = &[
    "context_length",
    "embedding_length",
    "block_count",
    "feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "expert_count",
    "expert_used_count",
    "vocab_size",
];

/// Reads a GGUF file's header.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>, facts: &mut Facts) -> Res<()> {
    if src.bytes(4, 4, "the magic number")? != b"GGUF" {
        return Err(Bad::new("no GGUF magic number"));
    }
    let version = src.u32_le()?;
    if (1..=3).contains(&version.swap_bytes()) {
        return Err(Bad::new("a big-endian GGUF file, which this reader does not read"));
    }
    if !(1..=3).contains(&version) {
        return Err(Bad::new(format!("GGUF version {version}, which this reader does not know")));
    }
    let mut r = Reader { src, wide: version >= 2 };
    let tensor_count = r.count()?;
    let kv_count = r.count()?;
    facts.recognised = Recognised::Content;
    facts.format_version = Some(version.to_string());

    // Each pair takes at least a key length, a type and one byte of value.
    let min_pair = r.len_size() + 4 + 1;
    if kv_count > r.src.remaining() / min_pair {
        return Err(Bad::new(format!(
            "the header claims {kv_count} key-value pairs, more than the {}-byte file can hold",
            r.src.len()
        )));
    }
    let start = r.src.pos();
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut file_type = None;
    let mut alignment = 32u64;
    for _ in 0..kv_count {
        if r.src.pos() - start > MAX_METADATA_BYTES {
            return Err(Bad::new(format!(
                "metadata larger than {}: the rest not read",
                bytes_in_words(MAX_METADATA_BYTES)
            )));
        }
        let key = r.string(MAX_KEY, "a metadata key")?;
        let ty = r.src.u32_le()?;
        let wanted = wanted(&key);
        let value = r.value(ty, wanted, 0)?;
        let Some(value) = value.filter(|_| wanted) else { continue };
        match key.as_str() {
            "general.architecture" => facts.architecture = Some(value),
            "general.name" => facts.name = Some(value),
            "general.file_type" => file_type = value.parse::<u64>().ok(),
            _ => {
                if key == "general.alignment" {
                    alignment = value.parse::<u64>().ok().filter(|a| *a > 0).unwrap_or(32);
                }
                kept.push((key, value));
            }
        }
    }
    let arch = facts.architecture.clone().unwrap_or_default();
    for (key, value) in &kept {
        let for_arch = key
            .strip_prefix(arch.as_str())
            .and_then(|k| k.strip_prefix('.'))
            .is_some_and(|k| KEPT_FOR_ARCHITECTURE.contains(&k));
        if KEPT.contains(&key.as_str()) || (!arch.is_empty() && for_arch) {
            put_metadata(facts, key, value);
        }
    }
    if let Some(ft) = file_type {
        // A vocabulary-only file (llama.cpp's ggml-vocab-*.gguf) has no tensors, so no weights
        // whose precision general.file_type could describe: the number is kept, the precision
        // stays unknown.
        if tensor_count > 0 {
            facts.precision = file_type_name(ft).map(str::to_string);
        }
        put_metadata(facts, "general.file_type", &ft.to_string());
    }

    // Each tensor info takes at least a name length, n_dims, a type and an offset.
    let min_info = r.len_size() + 4 + 4 + 8;
    if tensor_count > MAX_TENSORS || tensor_count > r.src.remaining() / min_info {
        return Err(Bad::new(format!("the header claims {tensor_count} tensors, more than the file can hold")));
    }
    facts.tensors = Some(tensor_count);
    let mut params = 0u64;
    let mut last_offset = 0u64;
    for _ in 0..tensor_count {
        let name_len = r.len()?;
        if name_len > MAX_KEY {
            return Err(Bad::new(format!("a tensor name of {name_len} bytes")));
        }
        r.src.skip(name_len, "a tensor name")?;
        let n_dims = r.src.u32_le()?;
        if n_dims > MAX_DIMS {
            return Err(Bad::new(format!("a tensor with {n_dims} dimensions")));
        }
        let mut dims = [0u64; MAX_DIMS as usize];
        for d in dims.iter_mut().take(n_dims as usize) {
            *d = r.src.u64_le()?;
        }
        let ty = r.src.u32_le()?;
        let offset = r.src.u64_le()?;
        let n = element_count(dims.into_iter().take(n_dims as usize));
        params = params.saturating_add(n);
        let count = facts.dtypes.entry(ggml_type_name(ty)).or_default();
        *count = count.saturating_add(n);
        last_offset = last_offset.max(offset);
    }
    facts.params = Some(params);
    if facts.precision.is_none() {
        facts.precision = dominant_precision(&facts.dtypes);
    }
    let data_start = r.src.pos().div_ceil(alignment).saturating_mul(alignment);
    if tensor_count > 0 && data_start.saturating_add(last_offset) >= r.src.len() {
        facts.warnings.push(format!(
            "tensor data starts past the end of the {}-byte file: truncated, or the data is elsewhere",
            r.src.len()
        ));
    }
    Ok(())
}

/// Whether a key's value is worth reading (the rest are skipped).
fn wanted(key: &str) -> bool {
    matches!(key, "general.architecture" | "general.name" | "general.file_type")
        || KEPT.contains(&key)
        || KEPT_FOR_ARCHITECTURE.iter().any(|k| key.strip_suffix(k).is_some_and(|p| p.ends_with('.')))
}

struct Reader<'s, R> {
    src: &'s mut Source<R>,
    /// Version 2 and later use 64-bit counts and lengths; version 1 used 32-bit ones.
    wide: bool,
}

impl<R: Read + Seek> Reader<'_, R> {
    fn len_size(&self) -> u64 {
        if self.wide { 8 } else { 4 }
    }

    fn count(&mut self) -> Res<u64> {
        if self.wide { self.src.u64_le() } else { self.src.u32_le().map(u64::from) }
    }

    fn len(&mut self) -> Res<u64> {
        self.count()
    }

    fn string(&mut self, cap: u64, what: &str) -> Res<String> {
        let n = self.len()?;
        self.src.string(n, cap, what)
    }

    /// Reads (when `keep`) or skips a value of type `ty`; kept values come back in words, an
    /// array as its length.
    fn value(&mut self, ty: u32, keep: bool, depth: u32) -> Res<Option<String>> {
        let v = match ty {
            0 => self.src.u8()?.to_string(),
            1 => (self.src.u8()? as i8).to_string(),
            2 => self.src.u16_le()?.to_string(),
            3 => (self.src.u16_le()? as i16).to_string(),
            4 => self.src.u32_le()?.to_string(),
            5 => self.src.i32_le()?.to_string(),
            6 => self.src.f32_le()?.to_string(),
            7 => (self.src.u8()? != 0).to_string(),
            10 => self.src.u64_le()?.to_string(),
            11 => self.src.i64_le()?.to_string(),
            12 => self.src.f64_le()?.to_string(),
            8 => {
                let n = self.len()?;
                if !keep {
                    self.src.skip(n, "a string value")?;
                    return Ok(None);
                }
                self.src.string(n, MAX_STRING, "a string value")?
            }
            9 => {
                if depth >= MAX_NESTING {
                    return Err(Bad::new(format!("arrays nested more than {MAX_NESTING} deep")));
                }
                let elem = self.src.u32_le()?;
                let count = self.count()?;
                let size = fixed_size(elem);
                let min = match (size, elem) {
                    (Some(size), _) => size,
                    (None, 8) => self.len_size(),
                    (None, 9) => 4 + self.len_size(),
                    (None, t) => return Err(Bad::new(format!("an array of unknown value type {t}"))),
                };
                if count > self.src.remaining() / min {
                    return Err(Bad::new(format!(
                        "an array claims {count} elements, more than the rest of the file can hold"
                    )));
                }
                match size {
                    Some(size) => self.src.skip(count * size, "an array")?,
                    None => {
                        for _ in 0..count {
                            self.value(elem, false, depth + 1)?;
                        }
                    }
                }
                format!("{count} entries")
            }
            t => return Err(Bad::new(format!("a metadata value of unknown type {t}"))),
        };
        Ok(Some(v))
    }
}

/// The size of a fixed-size value type, `None` for strings and arrays.
fn fixed_size(ty: u32) -> Option<u64> {
    match ty {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// `general.file_type` (llama.cpp's `llama_ftype`) as a precision word.
fn file_type_name(ft: u64) -> Option<&'static str> {
    Some(match ft {
        0 => "fp32",
        1 => "fp16",
        2 => "q4_0",
        3 => "q4_1",
        7 => "q8_0",
        8 => "q5_0",
        9 => "q5_1",
        10 => "q2_k",
        11 => "q3_k_s",
        12 => "q3_k_m",
        13 => "q3_k_l",
        14 => "q4_k_s",
        15 => "q4_k_m",
        16 => "q5_k_s",
        17 => "q5_k_m",
        18 => "q6_k",
        19 => "iq2_xxs",
        20 => "iq2_xs",
        21 => "q2_k_s",
        22 => "iq3_xs",
        23 => "iq3_xxs",
        24 => "iq1_s",
        25 => "iq4_nl",
        26 => "iq3_s",
        27 => "iq3_m",
        28 => "iq2_s",
        29 => "iq2_m",
        30 => "iq4_xs",
        31 => "iq1_m",
        32 => "bf16",
        36 => "tq1_0",
        37 => "tq2_0",
        38 => "mxfp4_moe",
        _ => return None,
    })
}

/// A tensor's `ggml_type` in words: zoo.yaml's for plain types, llama.cpp's for quantised ones.
fn ggml_type_name(ty: u32) -> String {
    match ty {
        0 => "float32",
        1 => "float16",
        2 => "q4_0",
        3 => "q4_1",
        6 => "q5_0",
        7 => "q5_1",
        8 => "q8_0",
        9 => "q8_1",
        10 => "q2_k",
        11 => "q3_k",
        12 => "q4_k",
        13 => "q5_k",
        14 => "q6_k",
        15 => "q8_k",
        16 => "iq2_xxs",
        17 => "iq2_xs",
        18 => "iq3_xxs",
        19 => "iq1_s",
        20 => "iq4_nl",
        21 => "iq3_s",
        22 => "iq2_s",
        23 => "iq4_xs",
        24 => "int8",
        25 => "int16",
        26 => "int32",
        27 => "int64",
        28 => "float64",
        29 => "iq1_m",
        30 => "bfloat16",
        34 => "tq1_0",
        35 => "tq2_0",
        39 => "mxfp4",
        other => return format!("ggml_type{other}"),
    }
    .into()
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::suite::inspect::read_from;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    /// A version-3 file: architecture, name, file type Q4_K_M, a context length, a tokenizer
    /// array to skip, and one Q4_K tensor of 4096 × 32 whose data follows.
    pub(in crate::suite::inspect) fn file_bytes() -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&6u64.to_le_bytes());
        string(&mut b, "general.architecture");
        b.extend_from_slice(&8u32.to_le_bytes());
        string(&mut b, "llama");
        string(&mut b, "general.name");
        b.extend_from_slice(&8u32.to_le_bytes());
        string(&mut b, "Tiny Llama");
        string(&mut b, "general.file_type");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&15u32.to_le_bytes());
        string(&mut b, "llama.context_length");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&2048u32.to_le_bytes());
        string(&mut b, "tokenizer.ggml.tokens");
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&3u64.to_le_bytes());
        for t in ["<s>", "</s>", "hello"] {
            string(&mut b, t);
        }
        string(&mut b, "tokenizer.ggml.scores");
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&6u32.to_le_bytes());
        b.extend_from_slice(&3u64.to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        string(&mut b, "blk.0.attn_q.weight");
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&4096u64.to_le_bytes());
        b.extend_from_slice(&32u64.to_le_bytes());
        b.extend_from_slice(&12u32.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.resize(b.len().div_ceil(32) * 32 + 64, 0);
        b
    }

    fn facts_of(bytes: &[u8]) -> Facts {
        read_from(Cursor::new(bytes.to_vec()), bytes.len() as u64, "gguf", None)
    }

    #[test]
    fn the_header_gives_architecture_name_precision_and_tensors() {
        let f = facts_of(&file_bytes());
        assert_eq!(f.recognised, Recognised::Content);
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert_eq!(f.format_version.as_deref(), Some("3"));
        assert_eq!(f.architecture.as_deref(), Some("llama"));
        assert_eq!(f.name.as_deref(), Some("Tiny Llama"));
        assert_eq!(f.precision.as_deref(), Some("q4_k_m"));
        assert_eq!(f.tensors, Some(1));
        assert_eq!(f.params, Some(4096 * 32));
        assert_eq!(f.dtypes.get("q4_k"), Some(&(4096 * 32)));
        assert_eq!(f.metadata.get("llama.context_length").map(String::as_str), Some("2048"));
        assert_eq!(f.metadata.get("tokenizer.ggml.tokens").map(String::as_str), Some("3 entries"));
        assert!(!f.metadata.contains_key("tokenizer.ggml.scores"));
    }

    #[test]
    fn a_header_claiming_2_to_the_40_pairs_is_a_warning() {
        let mut b = b"GGUF".to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&(1u64 << 40).to_le_bytes());
        b.extend_from_slice(&[0; 64]);
        let f = facts_of(&b);
        assert_eq!(f.format_version.as_deref(), Some("3"));
        assert!(f.warnings.iter().any(|w| w.contains("1099511627776 key-value pairs")), "{:?}", f.warnings);
    }

    #[test]
    fn an_array_claiming_more_than_the_file_is_a_warning() {
        let mut b = b"GGUF".to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        string(&mut b, "tokenizer.ggml.tokens");
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        let f = facts_of(&b);
        assert!(f.warnings.iter().any(|w| w.contains("array claims")), "{:?}", f.warnings);
    }

    /// The vocabulary-only files llama.cpp ships in `models/` (in the llama-cpp-python sdist),
    /// fetched by scripts/fetch-fixtures.sh.
    #[test]
    fn real_vocab_files() {
        let dir = crate::suite::inspect::tests::fixtures().join("gguf");
        let f = crate::suite::inspect::read(&dir.join("ggml-vocab-llama-spm.gguf"));
        assert_eq!(f.recognised, Recognised::Content, "{f:?}");
        assert_eq!(f.format_version.as_deref(), Some("3"));
        assert_eq!(f.architecture.as_deref(), Some("llama"));
        assert_eq!(f.tensors, Some(0));
        assert_eq!(f.metadata.get("tokenizer.ggml.model").map(String::as_str), Some("llama"));
        assert_eq!(f.metadata.get("tokenizer.ggml.tokens").map(String::as_str), Some("32000 entries"));
    }
}
